"""The README documents what the program really reads and exports."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest

from components.config import TOP_LEVEL_KEYS, ConfigError, parse_settings
from offline.runner import StackGraph, load_stack_config

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _section_keys(section: str) -> list[str]:
    """Ask the parser itself which keys a section accepts (its 'valid keys' message)."""
    raw = {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in load_stack_config("primary").items() if k.startswith("magento-dr:")}
    raw[section] = {"zz-probe": 1}
    with pytest.raises(ConfigError) as error:
        parse_settings("primary", raw)
    listed = re.search(r"valid keys under magento-dr:\S+ are: (.*)$", str(error.value))
    assert listed, str(error.value)
    return [k.strip() for k in listed.group(1).split(",")]


@pytest.mark.parametrize("key", sorted(TOP_LEVEL_KEYS))
def test_every_top_level_key_is_in_the_reference_table(key: str) -> None:
    assert f"`{key}`" in README or f"`{key}." in README, f"README config reference lacks magento-dr:{key}"


@pytest.mark.parametrize("section", sorted(k for k, is_object in TOP_LEVEL_KEYS.items() if is_object and k != "tags"))
def test_every_nested_key_is_in_the_reference_table(section: str) -> None:
    missing = [key for key in _section_keys(section) if f"`{section}.{key}`" not in README]
    assert not missing, f"README config reference lacks: {', '.join(f'{section}.{k}' for k in missing)}"


def test_every_export_is_documented(primary: StackGraph, secondary: StackGraph) -> None:
    missing = sorted(name for name in {*primary.exports, *secondary.exports} if f"`{name}`" not in README)
    assert not missing, f"README 'Stack outputs' lacks: {', '.join(missing)}"


def test_readme_names_the_two_commands() -> None:
    assert "make test" in README and "make drill" in README and "make preview" in README


def test_docs_name_the_runtime_the_function_is_deployed_with() -> None:
    """A reader sizing the Lambda runtime (or its boto3) reads it from the docs; they must not drift."""
    from components.failover_automation import RUNTIME

    root = Path(__file__).resolve().parent.parent
    for doc in (root / "README.md", root / "handlers" / "README.md", root / "docs" / "failover-automation.md"):
        named = set(re.findall(r"python3\.\d+", doc.read_text()))
        assert named <= {RUNTIME}, f"{doc.name} names {sorted(named)}; the function runs {RUNTIME}"


def test_every_reference_to_an_assumption_names_a_row_of_the_table() -> None:
    """A row id after a mention of docs/aws-assumptions.md is the reader's way to the page behind a claim: it must lead somewhere."""
    root = Path(__file__).resolve().parent.parent
    rows = set(re.findall(r"^\| ([A-Z]\d+) \|", (root / "docs" / "aws-assumptions.md").read_text(), flags=re.MULTILINE))
    dangling = [
        f"{path.relative_to(root)}: {ref}"
        for path in _project_files(root, (".py", ".md"))
        for match in re.finditer(r"aws-assumptions\.md\)?[\s,;:]*([A-Z]\d+)(?:[\u2013-]([A-Z]\d+))?", path.read_text())
        for ref in match.groups()
        if ref and ref not in rows
    ]
    assert rows and not dangling, dangling


def _project_files(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """The project's own files: virtualenvs (the program's, the policy pack's), caches and VCS data are not walked."""
    skip = {".venv", "venv", ".git", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "reports"}
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip]
        found += [Path(folder) / f for f in files if f.endswith(suffixes)]
    return sorted(found)
