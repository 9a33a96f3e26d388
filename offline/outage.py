"""The emergency `pulumi up` for a surviving stack while another region is dark, computed offline.

    python -m offline.outage --stack secondary --unavailable us-east-1 --change web.maxSize=12
    python -m offline.outage --stack primary --unavailable eu-west-1 --replace database-master-password
    python -m offline.outage --stack bunker --unavailable us-east-1 --change database.instanceClass=db.r7g.xlarge

Runs the real program under mocks three times — as deployed, in outage mode with the change, and
with the change but without outage mode (the update after the region is back) — and compares
them: which resources the change touches, whether AWS can serve each of them while the region is
dark (components/outage.py: the provider's region, and the control plane of global services), and
which lookups the program would make. It prints the exact commands: outage mode, the change, and a
`pulumi preview`/`pulumi up` with `--refresh=false` and one `--target` per resource that may change.

Why `--target` (an allow-list) and not `--exclude` (a deny-list): a resource the program no longer
declares, which only the stack's state knows, is deleted by a whole-stack update with `--exclude`,
and the mock graph cannot name it to exclude it. With `--target`, nothing outside the list is
created, updated, replaced or deleted ("Other resources will not be updated", pulumi up --help;
Pulumi docs, "Targeted updates"). `--target-dependents` is not used either: it would pull in the
dark region's dependents; the direct readers of what changes that available regions serve are
listed instead (see `readers`).

It refuses (exit 1) when the change would alter anything AWS cannot serve now, declare fewer
resources than before, or make a lookup through an unavailable region; RUNBOOK.md, "Changing
infrastructure during an outage". Exit 2: usage errors.
"""

from __future__ import annotations

import argparse
import copy
import json
import shlex
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components.config import NAMESPACE
from components.outage import ROUTE53_CONTROL_PLANE_REGION, unreachable_because

from .runner import PROJECT_ROOT, ProgramFailed, Resource, StackGraph, load_stack_config, run_stack

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
FOLLOWS = "depends on what changes"


class UsageError(ValueError):
    """A flag the helper cannot act on; the message says what to pass instead."""


# ------------------------------------------------------------------------------------------ pure core
def engine_urns(graph: StackGraph) -> dict[str, str]:
    """Mock URN -> the URN the Pulumi engine gives the same resource.

    The engine qualifies a type with its parent's whole type chain and leaves the root stack's type
    out ("if parentType != "" && parentType != RootStackType", pulumi/pulumi sdk/go/common/resource/urn.go
    NewURN). The SDK's mock monitor prefixes a child of the root stack with the stack's type and keeps
    only the parent's last type below that. `--target` matches URNs character for character, so they
    are rebuilt from the parent links.
    """
    by_urn = {r.urn: r for r in graph.resources}
    chains: dict[str, str] = {}

    def chain(urn: str) -> str:
        if urn not in chains:
            resource = by_urn[urn]
            parent = by_urn.get(resource.parent or "")
            chains[urn] = resource.type if parent is None or parent.type == ROOT_STACK_TYPE else f"{chain(parent.urn)}${resource.type}"
        return chains[urn]

    out = {}
    for urn, resource in by_urn.items():
        stack, project = urn.split("::")[0], urn.split("::")[1]
        out[urn] = urn if resource.type == ROOT_STACK_TYPE else f"{stack}::{project}::{chain(urn)}::{resource.name}"
    return out


def resource_region(resource: Resource) -> str | None:
    """The region a resource's API calls go to (a provider's own `region` input for a provider)."""
    if resource.is_provider:
        region = resource.inputs.get("region")
        return str(region) if region else None
    return resource.region


def _comparable(value: Any) -> Any:
    """Assets and archives as the engine compares them (by what they hold), not as Python objects."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {k: _comparable(v) for k, v in value.assets.items()}}
    if isinstance(value, (pulumi.Asset, pulumi.Archive)):
        return {type(value).__name__: dict(vars(value))}  # FileAsset path, StringAsset text, RemoteAsset uri, ...
    return value


def _without(inputs: Mapping[str, Any], ignored: Iterable[str]) -> dict[str, Any]:
    """Inputs as the engine diffs them: `ignore_changes` paths (top-level or dotted) taken out."""
    result = _comparable(dict(inputs))
    for path in ignored:
        node: Any = result
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return result


def same_inputs(before: Resource, after: Resource) -> bool:
    """Every input equal, `ignore_changes` or not (assets compared by what they hold)."""
    return bool(_comparable(before.inputs) == _comparable(after.inputs))


def changed_keys(before: Resource, after: Resource) -> list[str]:
    """Top-level inputs that differ once the program's `ignore_changes` are applied."""
    old, new = _without(before.inputs, after.ignore_changes), _without(after.inputs, after.ignore_changes)
    return sorted(k for k in {*old, *new} if old.get(k) != new.get(k))


@dataclass(frozen=True)
class Touched:
    """One resource an emergency update concerns, and why."""

    urn: str  # as the engine names it
    type: str
    name: str
    region: str | None
    why: str

    def label(self) -> str:
        return f"{self.type} {self.name} [{self.region or 'no region'}]: {self.why}"


@dataclass
class OutagePlan:
    """What an update of `stack` may touch while `unavailable` regions are dark."""

    stack: str
    unavailable: tuple[str, ...]
    targets: list[Touched] = field(default_factory=list)
    """Reachable resources that change, are created or replaced, or depend on one that does: one --target each."""
    replace: list[str] = field(default_factory=list)
    """Engine URNs to replace (--target-replace)."""
    blocked: list[Touched] = field(default_factory=list)
    """Resources the change alters or creates that AWS cannot serve now: the plan is refused."""
    removed: list[str] = field(default_factory=list)
    """Declared before, not now: a whole-stack update would delete them. Refused."""
    deferred: list[Touched] = field(default_factory=list)
    """Unreachable resources that depend on what changes: kept as recorded until the region returns."""
    dark_lookups: list[str] = field(default_factory=list)
    """Lookups the program makes that an unavailable region would have to answer. Refused."""

    @property
    def refusals(self) -> list[str]:
        found = [f"removes {urn}" for urn in self.removed]
        found += [f"changes {t.type} {t.name}, which AWS cannot serve now: {t.why}" for t in self.blocked]
        found += [f"the program looks up {lookup}" for lookup in self.dark_lookups]
        return found

    @property
    def ok(self) -> bool:
        return not self.refusals


def _descendants(graph: StackGraph) -> dict[str, set[str]]:
    children: dict[str, set[str]] = {}
    for r in graph.resources:
        if r.parent:
            children.setdefault(r.parent, set()).add(r.urn)
    out: dict[str, set[str]] = {}

    def walk(urn: str) -> set[str]:
        if urn not in out:
            out[urn] = set()
            for child in children.get(urn, ()):
                out[urn] |= {child, *walk(child)}
        return out[urn]

    for r in graph.resources:
        walk(r.urn)
    return out


def readers(graph: StackGraph, roots: Collection[str]) -> dict[str, set[str]]:
    """root -> the resources that read it directly: depend on it (a dependency on a component counts
    as one on each of its descendants, as the engine treats it) or, for a provider, are managed by it.

    One level on purpose. A replaced resource's readers get new values; an updated one's may (an
    attribute such as a launch template's latest version). Their own outputs that others read (ids,
    names, ARNs, endpoints) do not change in an in-place update, and the whole-stack update after the
    region returns catches anything further.
    """
    below = _descendants(graph)
    reverse: dict[str, set[str]] = {}
    for r in graph.resources:
        for dep in r.dependencies:
            for source in {dep, *below.get(dep, ())}:
                reverse.setdefault(source, set()).add(r.urn)
        if r.provider:  # a provider's settings (default tags) reach every resource it manages
            reverse.setdefault(r.provider.rsplit("::", 1)[0], set()).add(r.urn)
    return {root: reverse.get(root, set()) - {root} for root in roots}


def _touched(resource: Resource, why: str, urns: Mapping[str, str]) -> Touched:
    return Touched(urns[resource.urn], resource.type, resource.name, resource_region(resource), why)


def _unreachable(resource: Resource, unavailable: Collection[str]) -> str:
    if resource.type == "pulumi:pulumi:StackReference" or not resource.custom:
        return ""  # the state backend, or a component (no API of its own)
    if resource.is_provider:
        region = resource_region(resource)
        return f"it is the provider for {region}" if region in unavailable else ""
    return unreachable_because(resource.type, resource_region(resource), unavailable)


def plan_update(before: StackGraph, after: StackGraph, unavailable: Collection[str], replace: Collection[str] = ()) -> OutagePlan:
    """The emergency update from `before` (as deployed) to `after` (outage mode and the change).

    `replace`: logical names of resources to recreate (e.g. a RandomPassword, to rotate it).
    """
    plan = OutagePlan(stack=after.stack, unavailable=tuple(unavailable))
    old = {r.urn: r for r in before.resources}
    new = {r.urn: r for r in after.resources}
    urns = {**engine_urns(before), **engine_urns(after)}
    plan.removed = sorted(urns[urn] for urn in old if urn not in new)

    affected: dict[str, str] = {}
    for urn, resource in new.items():
        if resource.type == "pulumi:pulumi:StackReference" or resource.type == ROOT_STACK_TYPE:
            continue
        if urn not in old:
            affected[urn] = "new"
        elif resource.custom and (keys := changed_keys(old[urn], resource)):
            affected[urn] = "changes " + ", ".join(keys)
    for name in replace:
        matches = [r for r in after.resources if r.name == name and r.custom]
        if len(matches) != 1:
            found = f"{name!r} names {len(matches)} resources" if matches else f"stack {after.stack} declares no resource named {name!r}"
            raise UsageError(f"--replace {name}: {found}; pass one logical name from `make preview`")
        affected[matches[0].urn] = "replaced"
        plan.replace.append(urns[matches[0].urn])

    for urn, why in sorted(affected.items()):
        resource = new[urn]
        reason = _unreachable(resource, unavailable)
        if reason:
            plan.blocked.append(_touched(resource, f"{why}; {reason}", urns))
        elif resource.custom or why == "new":
            plan.targets.append(_touched(resource, why, urns))
    replaced_urns = {urn for urn, why in affected.items() if why == "replaced"}
    reading: dict[str, bool] = {}  # reader urn -> reads a replaced resource (its inputs do change)
    for root, reader_urns in readers(after, affected).items():
        for urn in reader_urns - set(affected):
            reading[urn] = reading.get(urn, False) or root in replaced_urns
    for urn, reads_replaced in sorted(reading.items()):
        resource = new[urn]
        if not resource.custom or resource.type == "pulumi:pulumi:StackReference":
            continue
        reason = _unreachable(resource, unavailable)
        if reason and reads_replaced:
            plan.blocked.append(_touched(resource, f"reads what is replaced; {reason}", urns))
        elif reason:
            plan.deferred.append(_touched(resource, f"{FOLLOWS}; {reason}", urns))
        else:
            plan.targets.append(_touched(resource, "reads what is replaced" if reads_replaced else FOLLOWS, urns))
    replaced = set(plan.replace)
    plan.targets = [t for t in plan.targets if t.urn not in replaced]
    plan.dark_lookups = sorted(
        {f"{i.token} through {i.region} ({why})" for i in after.invokes if (why := unreachable_because(i.token, i.region, unavailable))}
    )
    return plan


def leaving_outage_mode(before: StackGraph, outage: StackGraph, normal: StackGraph, plan: OutagePlan) -> list[str]:
    """What the first update after the region returns (outage mode off, change kept) would do that
    the emergency update did not mean: empty when outage mode declared exactly what the normal
    program declares, and everything the change alters was targeted or deferred."""
    problems = []
    outage_by_urn = {r.urn: r for r in outage.resources}
    normal_by_urn = {r.urn: r for r in normal.resources}
    urns = {**engine_urns(outage), **engine_urns(normal)}
    for urn in sorted(set(outage_by_urn) ^ set(normal_by_urn)):
        problems.append(f"{urns[urn]} is declared {'only in outage mode' if urn in outage_by_urn else 'only outside outage mode'}")
    for urn in sorted(set(outage_by_urn) & set(normal_by_urn)):
        if outage_by_urn[urn].custom and (keys := changed_keys(outage_by_urn[urn], normal_by_urn[urn])):
            problems.append(f"{urns[urn]} differs outside outage mode ({', '.join(keys)})")
    meant = {t.urn for t in plan.targets} | {t.urn for t in plan.deferred} | set(plan.replace)
    after_return = plan_update(before, normal, ())
    problems += [f"{t.urn} changes after the region returns but was neither targeted nor deferred" for t in after_return.targets if t.urn not in meant]
    return problems


# ------------------------------------------------------------------------------------------ commands
def _config_path(path: str) -> str:
    return f"{NAMESPACE}:{path}"


def commands(
    plan: OutagePlan, changes: Sequence[tuple[str, Any]], *, zone_id_needed: bool, stack: str | None = None
) -> list[str]:
    """The exact shell lines, in order: outage mode, the change, preview, update, and leaving outage mode."""
    stack = stack or plan.stack
    s = f"--stack {shlex.quote(stack)}"
    lines = [f"# 1. outage mode: the program makes no lookup {', '.join(plan.unavailable)} would have to answer"]
    for i, region in enumerate(plan.unavailable):
        lines.append(f"pulumi config set {s} --path {shlex.quote(_config_path(f'outage.unavailableRegions[{i}]'))} {region}")
    if zone_id_needed:
        lines.append(f'pulumi config set {s} --path {_config_path("dns.zoneId")} "$(pulumi stack output {s} hostedZoneId)"')
    if changes:
        lines.append("# 2. the change")
        for key, value in changes:
            text = value if isinstance(value, str) else json.dumps(value)
            lines.append(f"pulumi config set {s} --path {shlex.quote(_config_path(key))} {shlex.quote(text)}")
    if not plan.targets and not plan.replace:
        lines.append("# 3. nothing to update: no resource of this stack changes")
    else:
        flags = [f"--target-replace {shlex.quote(urn)}" for urn in plan.replace] + [f"--target {shlex.quote(t.urn)}" for t in plan.targets]
        joined = " \\\n    ".join(flags)
        lines.append(f"# 3. read the preview (only these {len(plan.targets) + len(plan.replace)} resources, nothing refreshed), then apply it")
        lines.append(f"pulumi preview {s} --refresh=false --diff \\\n    {joined}")
        lines.append(f"pulumi up {s} --refresh=false \\\n    {joined}")
    lines.append(f"# 4. once {', '.join(plan.unavailable)} answers again: leave outage mode, then a whole-stack update catches up")
    lines.append(f"pulumi config rm {s} {_config_path('outage')}")
    lines.append(f"pulumi preview {s} --diff    # expect changes only to the deferred resources listed above")
    lines.append(f"pulumi up {s}")
    return lines


# ------------------------------------------------------------------------------------------ running the program
def parse_change(text: str) -> tuple[str, Any]:
    """`web.maxSize=12` -> ("web.maxSize", 12); the value is read as YAML, like a stack file's."""
    key, sep, value = text.partition("=")
    if not sep or not key or any(not part for part in key.split(".")):
        raise UsageError(f"--change {text!r}: write <key>=<value> with the key under {NAMESPACE}:, e.g. web.maxSize=12")
    return key, yaml.safe_load(value)


def with_changes(config: Mapping[str, Any], changes: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Stack config overrides that apply dotted-key changes (objects are copied, never mutated)."""
    overrides: dict[str, Any] = {}
    for key, value in changes:
        top, *rest = key.split(".")
        full = _config_path(top)
        if not rest:
            overrides[full] = value
            continue
        current = overrides.get(full, copy.deepcopy(config.get(full)) or {})
        node = current
        for part in rest[:-1]:
            node = node.setdefault(part, {})
        node[rest[-1]] = value
        overrides[full] = current
    return overrides


def stack_config(stack: str, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """Pulumi.<stack>.yaml at the root, else the example in examples/ (bunker)."""
    for folder in (root, root / "examples"):
        if (folder / f"Pulumi.{stack}.yaml").exists():
            return load_stack_config(stack, folder)
    raise UsageError(f"no Pulumi.{stack}.yaml at the repository root or in examples/")


def zone_id_needed(config: Mapping[str, Any], unavailable: Collection[str]) -> bool:
    """components/config.py requires dns.zoneId in outage mode when Route 53's API is unavailable (shop stacks)."""
    return ROUTE53_CONTROL_PLANE_REGION in unavailable and config.get(_config_path("scope"), "shop") == "shop"


@dataclass
class OutageRun:
    """The three graphs and the plan for one emergency change."""

    before: StackGraph
    outage: StackGraph
    normal: StackGraph | None
    """The program with the change and without outage mode (None: not run)."""
    plan: OutagePlan
    changes: list[tuple[str, Any]]
    zone_id_needed: bool
    after_return: list[str]
    """leaving_outage_mode's findings (empty: leaving outage mode changes nothing unmeant)."""

    def commands(self) -> list[str]:
        return commands(self.plan, self.changes, zone_id_needed=self.zone_id_needed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.plan.stack,
            "unavailable": list(self.plan.unavailable),
            "ok": self.plan.ok and not self.after_return,
            "refusals": self.plan.refusals,
            "targets": [asdict(t) for t in self.plan.targets],
            "replace": self.plan.replace,
            "deferred": [asdict(t) for t in self.plan.deferred],
            "afterReturn": self.after_return,
            "commands": self.commands(),
        }


def compute(
    stack: str,
    unavailable: Sequence[str],
    changes: Sequence[tuple[str, Any]] = (),
    replace: Sequence[str] = (),
    *,
    before: StackGraph | None = None,
    primary: StackGraph | None = None,
    root: Path = PROJECT_ROOT,
    check_return: bool = True,
) -> OutageRun:
    """Run the program as deployed (unless `before` is given), in outage mode with the change, and
    (`check_return`) with the change alone; `primary` answers a secondary's StackReference (run here
    if missing)."""
    config = stack_config(stack, root)
    peer_exports = None
    if config.get(_config_path("role")) == "secondary":
        if primary is None:
            primary_name = str(config.get(_config_path("primaryStack"), "primary")).rsplit("/", 1)[-1]
            primary = run_stack(primary_name, config=stack_config(primary_name, root), root=root)
        peer_exports = primary.exports

    def run(overrides: Mapping[str, Any]) -> StackGraph:
        return run_stack(stack, config=config, overrides=overrides, peer_exports=peer_exports, root=root)

    before = before or run({})
    needs_zone = zone_id_needed(config, unavailable)
    outage_config: dict[str, Any] = {_config_path("outage"): {"unavailableRegions": list(unavailable)}}
    if needs_zone:
        dns = dict(config.get(_config_path("dns")) or {})
        dns["zoneId"] = before.exports["hostedZoneId"]  # what `pulumi stack output hostedZoneId` answers
        outage_config[_config_path("dns")] = dns
    change_overrides = with_changes({**config, **outage_config}, changes)
    outage = run({**outage_config, **change_overrides})
    plan = plan_update(before, outage, unavailable, replace)
    normal = run(with_changes(config, changes)) if check_return else None
    after_return = leaving_outage_mode(before, outage, normal, plan) if normal is not None else []
    return OutageRun(before, outage, normal, plan, list(changes), needs_zone, after_return)


def report(run: OutageRun) -> str:
    """What the on-call engineer reads: the plan, what is deferred, and the commands."""
    plan = run.plan
    lines = [f"Emergency update of stack {plan.stack} while {', '.join(plan.unavailable)} is dark"]
    if not plan.ok:
        lines.append("REFUSED: this change cannot be made while the region is dark:")
        lines += [f"  - {r}" for r in plan.refusals]
        lines.append("Defer it until the region answers again, or narrow it (RUNBOOK: 'Changing infrastructure during an outage').")
        return "\n".join(lines)
    changing = [t for t in plan.targets if t.why != FOLLOWS]
    following = [t for t in plan.targets if t.why == FOLLOWS]
    count = len(plan.targets) + len(plan.replace)
    if count == 0:
        lines.append(f"  no resource of stack {plan.stack} changes with this setting: nothing to update")
    else:
        lines.append(f"  targets {count} resource{'s' if count != 1 else ''}, every one served by an available region:")
    lines += [f"    replaced: {urn}" for urn in plan.replace]
    lines += [f"    {t.label()}" for t in changing]
    if following:
        lines.append(f"    and {len(following)} that read what changes (targeted in case a value they read changes; expect 'same' in the preview):")
        lines += [f"      {t.type} {t.name} [{t.region or 'no region'}]" for t in following]
    if plan.deferred:
        lines.append(f"  kept as recorded until the region returns ({len(plan.deferred)}; they depend on what changes):")
        lines += [f"    {t.label()}" for t in plan.deferred]
    if run.after_return:
        lines.append("  LEAVING OUTAGE MODE WOULD CHANGE MORE than this update meant:")
        lines += [f"    {p}" for p in run.after_return]
    else:
        lines.append("  leaving outage mode afterwards changes nothing else (checked: the program without outage mode declares the same)")
    lines.append("")
    lines += run.commands()
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.outage", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--stack", required=True, help="the surviving stack: primary, secondary, or a database standby (bunker)")
    parser.add_argument("--unavailable", action="append", required=True, metavar="REGION", help="a dark region (repeat for several)")
    parser.add_argument("--change", action="append", default=[], metavar="KEY=VALUE", help="a config change under magento-dr:, e.g. web.maxSize=12")
    parser.add_argument("--replace", action="append", default=[], metavar="NAME", help="recreate this resource (logical name), e.g. database-master-password")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    args = parser.parse_args(argv)
    try:
        changes = [parse_change(c) for c in args.change]
        run = compute(args.stack, args.unavailable, changes, args.replace)
    except UsageError as exc:
        print(f"usage: {exc}", file=sys.stderr)
        return 2
    except ProgramFailed as exc:
        print(f"the program stops: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(run.to_dict(), indent=2) if args.json else report(run))
    return 0 if run.plan.ok and not run.after_return else 1


if __name__ == "__main__":
    raise SystemExit(main())
