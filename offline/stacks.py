"""List the stacks configured at the repository root, for CI's job matrices.

The shop pair (`primary`, `secondary`) has its own jobs; every further root `Pulumi.<name>.yaml`
with `magento-dr:scope: database` is a database standby (examples/Pulumi.bunker.yaml, copied to
the root) that the deploy and pull-request workflows must reach too. This module reads the stack
files with PyYAML alone (CI runs it before installing Pulumi) and prints

    python -m offline.stacks --scope database                          # {"include":[{"stack":"bunker","region":"us-west-2"}]}
    python -m offline.stacks --scope database --format github-output   # matrix=<that JSON> and any=true|false

GitHub rejects a matrix whose `include` is empty, so a workflow gates the matrix job on `any`.
Only what the matrix needs is checked here (the scope, the role, the region, a usable stack
name); the program itself validates the whole config at preview.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "magento-dr"
SHOP_PAIR = ("primary", "secondary")

Scope = Literal["shop", "database"]
SCOPES: tuple[Scope, ...] = ("shop", "database")

# A Pulumi stack name (alphanumerics, '-', '_', '.'); it also ends up in a GitHub environment
# name (production-<stack>) and an STS role-session-name (deploy-<stack>-<run id>, at most 64
# characters), both of which accept these characters; hence at most 40 of them.
_STACK_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
# Loose on purpose: the program checks the region properly; this only keeps junk out of the matrix.
_REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d{1,2}$")


class StackFileError(ValueError):
    """A root stack file CI cannot classify; the message names the file and the key."""


@dataclass(frozen=True)
class StackEntry:
    stack: str
    region: str
    scope: Scope

    def matrix_row(self) -> dict[str, str]:
        return {"stack": self.stack, "region": self.region}


def _key(name: str) -> str:
    return f"{NAMESPACE}:{name}"


def _read_config(path: Path) -> Mapping[str, Any]:
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise StackFileError(f"{path.name}: not valid YAML ({exc})") from None
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise StackFileError(f"{path.name}: expected a mapping with a `config:` key, got {type(document).__name__}")
    config = document.get("config")
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise StackFileError(f"{path.name}: `config` must be a mapping of {NAMESPACE}:<key> settings, got {config!r}")
    return config


def read_stack(path: Path) -> StackEntry:
    """Classify one `Pulumi.<stack>.yaml`; raise StackFileError naming the file and key if CI cannot."""
    match = re.fullmatch(r"Pulumi\.(.+)\.yaml", path.name)
    if not match:
        raise StackFileError(f"{path.name}: not a stack file name (expected Pulumi.<stack>.yaml)")
    stack = match.group(1)
    if not _STACK_NAME_RE.match(stack):
        raise StackFileError(
            f"{path.name}: stack name {stack!r} is not usable; use letters, digits, '-', '_' or '.', "
            f"starting with a letter or digit, at most 40 (it also names the GitHub environment production-{stack})"
        )
    config = _read_config(path)

    scope = config.get(_key("scope"), "shop")
    if scope not in SCOPES:
        raise StackFileError(f"{path.name}: {_key('scope')} is {scope!r}; set it to shop or database")

    region = config.get(_key("region"))
    if not isinstance(region, str) or not _REGION_RE.match(region):
        raise StackFileError(f"{path.name}: {_key('region')} is {region!r}; set the AWS region of this stack, e.g. us-west-2")

    if scope == "database":
        role = config.get(_key("role"))
        if role != "secondary":
            raise StackFileError(f"{path.name}: {_key('role')} is {role!r}; a database standby ({_key('scope')} database) must be role secondary")
        if stack in SHOP_PAIR:
            raise StackFileError(
                f"{path.name}: {_key('scope')} is database, but {stack} is one of the shop pair's stacks; "
                f"give the database standby its own file, Pulumi.<name>.yaml (examples/Pulumi.bunker.yaml)"
            )
    return StackEntry(stack=stack, region=region, scope=scope)


def list_stacks(root: Path = PROJECT_ROOT, scope: Scope | None = None) -> list[StackEntry]:
    """Every `Pulumi.<stack>.yaml` directly in `root` (never examples/), sorted by name; only `scope` if given.

    Every file is classified, not only those of the wanted scope: a file whose scope cannot be
    read might be a standby, and silently leaving it out of CI is what this module exists to stop.
    """
    entries = [read_stack(path) for path in sorted(root.glob("Pulumi.*.yaml")) if path.is_file()]
    return [entry for entry in entries if scope is None or entry.scope == scope]


def github_matrix(entries: Sequence[StackEntry]) -> dict[str, list[dict[str, str]]]:
    return {"include": [entry.matrix_row() for entry in entries]}


def render(entries: Sequence[StackEntry], output_format: str) -> str:
    matrix = json.dumps(github_matrix(entries), separators=(",", ":"))
    if output_format == "github-matrix":
        return matrix
    if output_format == "github-output":
        # Lines for $GITHUB_OUTPUT; gate the matrix job on `any` (an empty `include` fails the run).
        return f"matrix={matrix}\nany={'true' if entries else 'false'}"
    raise ValueError(f"unknown format {output_format!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.stacks", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scope", choices=SCOPES, help="only stacks of this magento-dr:scope (default: all)")
    parser.add_argument(
        "--format",
        dest="output_format",
        choices=("github-matrix", "github-output"),
        default="github-matrix",
        help="github-matrix: the matrix JSON; github-output: matrix=<JSON> and any=true|false lines for $GITHUB_OUTPUT",
    )
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="directory holding the Pulumi.<stack>.yaml files")
    args = parser.parse_args(argv)
    try:
        entries = list_stacks(args.root, args.scope)
    except (StackFileError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render(entries, args.output_format))
    return 0


if __name__ == "__main__":
    sys.exit(main())
