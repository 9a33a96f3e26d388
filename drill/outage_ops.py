"""The drill's outage-operations step: change the surviving stack while the other region is dark.

`python -m drill --outage-operations` (and `make drill`, after the failover scenario) computes, with
offline/outage.py, the emergency `pulumi up` of each surviving stack for typical emergency changes —
the secondary while us-east-1 is dark, the primary while the standby's region is, the database
standby while us-east-1 is — and checks the invariants RUNBOOK.md ("Changing infrastructure during
an outage") promises. Offline: the program under mocks, no emulator, no AWS.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from components.outage import regions_needed
from offline.outage import FOLLOWS, OutageRun, compute, engine_urns, resource_region, same_inputs
from offline.runner import StackGraph, run_database_standby, run_pair


@dataclass(frozen=True)
class EmergencyChange:
    """One change an on-call engineer makes to a surviving stack during an outage."""

    stack: str
    dark: tuple[str, ...]
    what: str
    changes: tuple[tuple[str, Any], ...] = ()
    replace: tuple[str, ...] = ()
    refused: bool = False
    """The helper must refuse it: it would change something the dark region serves."""

    def label(self) -> str:
        how = [f"{k}={v}" for k, v in self.changes] + [f"replace {n}" for n in self.replace]
        return f"{self.what} ({', '.join(how)})"


CHANGES: tuple[EmergencyChange, ...] = (
    EmergencyChange("secondary", ("us-east-1",), "raise the web tier's ceiling", (("web.maxSize", 12),)),
    EmergencyChange("secondary", ("us-east-1",), "larger web instances", (("web.instanceType", "m7g.xlarge"),)),
    EmergencyChange("secondary", ("us-east-1",), "cache node type (inherited here)", (("cache.nodeType", "cache.r7g.xlarge"),)),
    EmergencyChange("secondary", ("us-east-1",), "an incident tag on every resource", (("tags.incident", "INC-42"),), refused=True),
    EmergencyChange("primary", ("eu-west-1",), "cache node type", (("cache.nodeType", "cache.r7g.xlarge"),)),
    EmergencyChange("primary", ("eu-west-1",), "rotate the database secret", replace=("database-master-password",)),
    EmergencyChange("bunker", ("us-east-1",), "larger database standby instance", (("database.instanceClass", "db.r7g.xlarge"),)),
)

INVARIANTS = {
    "no-delete": "every resource declared before is declared in outage mode; the update deletes nothing",
    "dark-inputs-unchanged": "no resource an unavailable region serves changes its inputs",
    "targets-available": "every --target is served by available regions only (provider region and control plane)",
    "no-dark-lookup": "the program looks nothing up through an unavailable region",
    "leaves-cleanly": "leaving outage mode afterwards changes nothing the update did not mean (targeted or deferred)",
    "refused-when-it-must": "a change that would alter an unavailable region is refused, never planned",
}


def findings(change: EmergencyChange, run: OutageRun) -> dict[str, list[str]]:
    """Invariant name -> what breaks it in this run (empty lists: all hold)."""
    found: dict[str, list[str]] = {name: [] for name in INVARIANTS}
    plan = run.plan
    if change.refused:
        if plan.ok:
            found["refused-when-it-must"].append(f"{change.label()} was planned: {len(plan.targets)} targets")
        return found
    if not plan.ok:
        found["refused-when-it-must"].append(f"{change.label()} was refused: {'; '.join(plan.refusals)}")
    dark = set(change.dark)
    before = {r.urn: r for r in run.before.resources}
    after = {r.urn: r for r in run.outage.resources}
    found["no-delete"] += [f"{urn} is no longer declared" for urn in sorted(set(before) - set(after))] + plan.removed
    for urn, resource in after.items():
        serves = resource.custom and dark & regions_needed(resource.type, resource_region(resource))
        if urn in before and serves and not same_inputs(before[urn], resource):
            found["dark-inputs-unchanged"].append(f"{resource.type} {resource.name}")
    urns = engine_urns(run.outage)
    by_engine_urn = {urns[r.urn]: r for r in run.outage.resources}
    for urn in [*plan.replace, *(t.urn for t in plan.targets)]:
        resource = by_engine_urn[urn]
        if dark & regions_needed(resource.type, resource_region(resource)):
            found["targets-available"].append(urn)
    found["no-dark-lookup"] += plan.dark_lookups
    found["leaves-cleanly"] += run.after_return
    return found


@dataclass
class OutageOperationsResult:
    rows: list[tuple[EmergencyChange, OutageRun, dict[str, list[str]]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(not problems for _, _, found in self.rows for problems in found.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "invariants": INVARIANTS,
            "changes": [
                {"change": change.label(), "expectRefusal": change.refused, "findings": found, "plan": run.to_dict()}
                for change, run, found in self.rows
            ],
        }


def run_outage_operations(
    out: TextIO | None = None,
    reports_dir: Path | None = None,
    graphs: tuple[StackGraph, StackGraph, StackGraph] | None = None,
    changes: Sequence[EmergencyChange] = CHANGES,
) -> OutageOperationsResult:
    """Compute and check every emergency change; `graphs` (primary, secondary, bunker) as deployed."""
    out = out or sys.stdout
    if graphs is None:
        print("Outage operations: running the stacks as deployed under Pulumi mocks …", file=out, flush=True)
        primary, secondary = run_pair()
        graphs = (primary, secondary, run_database_standby(primary))
    primary = graphs[0]
    deployed = {g.stack: g for g in graphs}
    result = OutageOperationsResult()
    for change in changes:
        run = compute(
            change.stack,
            change.dark,
            change.changes,
            change.replace,
            before=deployed[change.stack],
            primary=primary,
            check_return=not change.refused,
        )
        result.rows.append((change, run, findings(change, run)))
    print(summary(result), file=out, flush=True)
    if reports_dir is not None:
        reports_dir.mkdir(parents=True, exist_ok=True)
        path = reports_dir / f"outage-operations-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}.json"
        path.write_text(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
        print(f"\n  report (every change's plan and exact commands): {path}", file=out, flush=True)
    return result


def summary(result: OutageOperationsResult) -> str:
    """One row per change: targets as changing+reading (those that read what changes, expected 'same')."""
    lines = [
        "",
        "  outage operations: the surviving stack's emergency `pulumi up` (--refresh=false, one --target per resource)",
        f"  {'stack':<10} {'dark':<10} {'targets':>7} {'deferred':>8}  {'verdict':<22} change",
    ]
    for change, run, found in result.rows:
        plan = run.plan
        broken = [name for name, problems in found.items() if problems]
        mark = "✘ " + ", ".join(broken) if broken else "✔"
        if change.refused:
            verdict, targets, deferred = ("refused, as it must" if not plan.ok else "PLANNED, must refuse"), "—", "—"
        else:
            reading = sum(1 for t in plan.targets if t.why == FOLLOWS)
            changing = len(plan.targets) + len(plan.replace) - reading
            verdict = "nothing to update" if plan.ok and not changing and not reading else "planned" if plan.ok else "REFUSED"
            targets, deferred = f"{changing}+{reading}", str(len(plan.deferred))
        lines.append(f"  {change.stack:<10} {','.join(change.dark):<10} {targets:>7} {deferred:>8}  {verdict + ' ' + mark:<22} {change.label()}")
        for name in broken:
            lines += [f"      {name}: {problem}" for problem in found[name]]
    lines.append("  (targets: changing+reading what changes; deferred: served by a dark region, read what changes, kept as recorded)")
    held = [name for name in INVARIANTS if all(not found[name] for _, _, found in result.rows)]
    lines.append("  " + " · ".join(f"{name} {'✔' if name in held else '✘'}" for name in INVARIANTS))
    lines.append(f"  all {len(INVARIANTS)} invariants ✔ · OUTAGE OPERATIONS PASSED" if result.ok else "  OUTAGE OPERATIONS FAILED")
    return "\n".join(lines)
