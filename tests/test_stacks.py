"""offline.stacks: which root stack files CI deploys and previews as database standbys."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from offline.stacks import PROJECT_ROOT, StackFileError, list_stacks, main, read_stack, render

EXAMPLE = PROJECT_ROOT / "examples" / "Pulumi.bunker.yaml"


def _write(root: Path, stack: str, body: str) -> Path:
    path = root / f"Pulumi.{stack}.yaml"
    path.write_text(body)
    return path


def _standby(region: str = "us-west-2", role: str = "secondary") -> str:
    return f"config:\n  magento-dr:role: {role}\n  magento-dr:scope: database\n  magento-dr:region: {region}\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A repository root with the shop pair (copied from the real one) and Pulumi.yaml."""
    for name in ("Pulumi.yaml", "Pulumi.primary.yaml", "Pulumi.secondary.yaml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    return tmp_path


def test_the_pair_alone_lists_no_standby(root: Path) -> None:
    assert list_stacks(root, "database") == []
    assert [(e.stack, e.region) for e in list_stacks(root, "shop")] == [("primary", "us-east-1"), ("secondary", "eu-west-1")]


def test_the_example_copied_to_the_root_is_listed(root: Path) -> None:
    shutil.copy(EXAMPLE, root / "Pulumi.bunker.yaml")
    assert [(e.stack, e.region) for e in list_stacks(root, "database")] == [("bunker", "us-west-2")]


def test_standbys_are_sorted_and_the_shop_stays_out(root: Path) -> None:
    _write(root, "vault", _standby("ap-southeast-2"))
    _write(root, "bunker", _standby("us-west-2"))
    assert render(list_stacks(root, "database"), "github-matrix") == (
        '{"include":[{"stack":"bunker","region":"us-west-2"},{"stack":"vault","region":"ap-southeast-2"}]}'
    )


def test_examples_and_subdirectories_are_not_scanned(root: Path) -> None:
    (root / "examples").mkdir()
    shutil.copy(EXAMPLE, root / "examples" / "Pulumi.bunker.yaml")
    assert list_stacks(root, "database") == []


def test_the_real_root_lists_no_database_standby_today() -> None:
    """The example standby lives in examples/, which is not scanned; the root holds only the pair, so nothing is listed.

    Asserted as "the root's stack files beyond the pair, and nothing else" (today: none) so that a
    deployment that copies the example to the root (README, "Deploying for real") keeps passing.
    """
    listed = [entry.stack for entry in list_stacks(PROJECT_ROOT, "database")]
    files = sorted(p.name for p in PROJECT_ROOT.glob("Pulumi.*.yaml"))
    beyond_the_pair = [name[len("Pulumi.") : -len(".yaml")] for name in files if name not in ("Pulumi.primary.yaml", "Pulumi.secondary.yaml")]
    assert listed == beyond_the_pair
    assert "bunker" not in listed or "Pulumi.bunker.yaml" in files


def test_github_output_gates_an_empty_matrix(root: Path) -> None:
    assert render([], "github-output") == 'matrix={"include":[]}\nany=false'
    _write(root, "bunker", _standby())
    lines = render(list_stacks(root, "database"), "github-output").splitlines()
    assert lines[1] == "any=true"
    assert json.loads(lines[0].removeprefix("matrix=")) == {"include": [{"stack": "bunker", "region": "us-west-2"}]}


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("config:\n  magento-dr:role: secondary\n  magento-dr:scope: datbase\n  magento-dr:region: us-west-2\n", "magento-dr:scope is 'datbase'"),
        ("config:\n  magento-dr:role: secondary\n  magento-dr:scope: database\n", "magento-dr:region is None"),
        ("config:\n  magento-dr:role: secondary\n  magento-dr:scope: database\n  magento-dr:region: mars-1\n", "magento-dr:region is 'mars-1'"),
        (_standby(role="primary"), "magento-dr:role is 'primary'"),
        ("config:\n  magento-dr:scope: database\n  magento-dr:region: us-west-2\n", "magento-dr:role is None"),
        ("config: [magento-dr:scope, database]\n", "`config` must be a mapping"),
        ("- config\n", "expected a mapping"),
        ("config:\n  magento-dr:scope: database\n   magento-dr:region: us-west-2\n", "not valid YAML"),
    ],
)
def test_a_malformed_file_names_the_file_and_the_key(root: Path, body: str, needle: str) -> None:
    _write(root, "bunker", body)
    with pytest.raises(StackFileError) as error:
        list_stacks(root, "database")
    assert str(error.value).startswith("Pulumi.bunker.yaml: ")
    assert needle in str(error.value)


def test_a_malformed_shop_file_is_an_error_too(root: Path) -> None:
    """A file whose scope cannot be read might be a standby: it is never silently left out of CI."""
    _write(root, "bunker", "config:\n  magento-dr:scope: {secure: AAAA}\n  magento-dr:region: us-west-2\n")
    with pytest.raises(StackFileError, match=r"^Pulumi\.bunker\.yaml: magento-dr:scope is"):
        list_stacks(root, "database")


def test_a_pair_stack_cannot_be_a_database_standby(root: Path) -> None:
    path = _write(root, "secondary", _standby("eu-west-1"))
    with pytest.raises(StackFileError, match="one of the shop pair's stacks"):
        read_stack(path)


@pytest.mark.parametrize("stack", ["bun ker", "-bunker", "b" * 41])
def test_an_unusable_stack_name_is_rejected(root: Path, stack: str) -> None:
    _write(root, stack, _standby())
    with pytest.raises(StackFileError) as error:
        list_stacks(root, "database")
    assert str(error.value).startswith(f"Pulumi.{stack}.yaml: stack name {stack!r} is not usable")


def test_a_forty_character_stack_name_is_fine(root: Path) -> None:
    _write(root, "b" * 40, _standby())
    assert [e.stack for e in list_stacks(root, "database")] == ["b" * 40]


def test_an_empty_file_is_a_shop_stack_without_region(root: Path) -> None:
    _write(root, "blank", "")
    with pytest.raises(StackFileError, match=r"^Pulumi\.blank\.yaml: magento-dr:region is None"):
        list_stacks(root)


def test_cli_prints_the_matrix_and_fails_clearly(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(root, "bunker", _standby())
    assert main(["--scope", "database", "--format", "github-output", "--root", str(root)]) == 0
    assert capsys.readouterr().out == 'matrix={"include":[{"stack":"bunker","region":"us-west-2"}]}\nany=true\n'

    _write(root, "vault", _standby(role="primary"))
    assert main(["--scope", "database", "--root", str(root)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Pulumi.vault.yaml: magento-dr:role is 'primary'" in captured.err


def test_runs_as_a_module_without_pulumi(root: Path) -> None:
    """CI's listing job installs PyYAML only: the module must not pull in pulumi (or the program)."""
    code = (
        "import sys, offline.stacks as s; "
        "assert not any(m == 'pulumi' or m.startswith(('pulumi.', 'components')) for m in sys.modules), sorted(sys.modules); "
        f"sys.exit(s.main(['--scope', 'database', '--root', {str(root)!r}]))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{"include":[]}\n'
