"""`make preview`: the example stacks' component/resource trees, offline, for pull-request review.

Runs the real program under the same mocks as the tests — no AWS account, no
Pulumi CLI — and prints each stack as a tree (type, name, region) with counts
per type: the primary, its paired standby, and the example database standby
(examples/Pulumi.bunker.yaml). What a reviewer reads when no cloud credentials are at hand.
"""

from __future__ import annotations

import sys
from collections import Counter

from .runner import ProgramFailed, Resource, StackGraph, run_database_standby, run_pair


def _label(resource: Resource) -> str:
    flags = []
    if resource.region:
        flags.append(resource.region)
    if resource.protect:
        flags.append("protected")
    suffix = f"  [{', '.join(flags)}]" if flags else ""
    return f"{resource.type}  {resource.name}{suffix}"


def render(graph: StackGraph) -> str:
    scope = graph.exports.get("scope", "shop")
    lines = [f"Stack {graph.stack} ({graph.exports.get('role', '?')}, {scope}, {graph.exports.get('region', '?')})"]
    def ordered(nodes: list[Resource]) -> list[Resource]:
        return sorted(nodes, key=lambda r: (r.custom, r.type, r.name))  # components first; stable for diffs

    roots = ordered([r for r in graph.resources if r.parent is None or r.parent.endswith(f"::magento-dr-{graph.stack}")])

    def walk(node: Resource, prefix: str, last: bool) -> None:
        lines.append(f"{prefix}{'└─ ' if last else '├─ '}{_label(node)}")
        kids = ordered(graph.children(node))
        for i, kid in enumerate(kids):
            walk(kid, prefix + ("   " if last else "│  "), i == len(kids) - 1)

    for i, root in enumerate(roots):
        walk(root, "", i == len(roots) - 1)
    counts = Counter(r.type for r in graph.resources)
    lines.append("")
    lines.append(f"  {len(graph.resources)} resources; by type:")
    for token, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"    {n:4d}  {token}")
    lines.append("")
    lines.append("  exports: " + ", ".join(sorted(graph.exports)))
    return "\n".join(lines)


def main() -> int:
    try:
        primary, secondary = run_pair()
        bunker = run_database_standby(primary)
    except ProgramFailed as exc:
        print(f"preview failed: {exc.cause}", file=sys.stderr)
        return 1
    for graph in (primary, secondary, bunker):
        print(render(graph))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
