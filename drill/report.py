"""The drill's outputs: the summary table, the JSON report (with its schema) and an SVG timeline chart."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from components.rto import ALIAS_TTL_SECONDS

from .scenario import DrillResult, StandbyRecord

# 2: the variant (drill/variants.py) and its expected outcome; settings without replication_lag_ms (the emulator plays the lag).
# 3: the front door (route53 | accelerator), the timeline's "accelerator" source, the traffic grace the invariants used.
# 4: readiness — every scheduled evaluation of each region, its API calls, and the not-ready alarm as declared.
# 5: the standby posture (pilot-light | warm | hot), the failover's capacity figures (first DB instance the function
#    added available, the new writer's writer instance, first web instance in service, the shop takes orders), the
#    timings of capacity that comes up (settings) and what AWS answered a headless promotion.
SCHEMA_VERSION = 5

_NUM_OR_NULL = {"type": ["number", "null"]}

# A database standby as the topology declares it (drill/topology.py StandbyTopology.summary).
_STANDBY_DECLARED = {
    "type": "object",
    "required": ["stack", "region", "role", "scope", "cluster_id", "cluster_arn", "engine_version"],
    "properties": {"role": {"const": "secondary"}, "scope": {"const": "database"}},
}

#: JSON Schema (draft 2020-12) of reports/drill-<UTC>.json. Times `t` are seconds of emulator time since the drill started.
DRILL_REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "magento-dr drill report",
    "type": "object",
    "required": [
        "schema_version",
        "ok",
        "target",
        "scenario",
        "variant",
        "posture",
        "started_at",
        "finished_at",
        "wall_seconds",
        "emulated_seconds",
        "settings",
        "topology",
        "phases",
        "steps",
        "invariants",
        "measurements",
        "rto_budget",
        "api_calls",
        "invocations",
        "timeline",
        "substitutions",
        "notes",
        "readiness",
    ],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "ok": {"type": "boolean"},
        "target": {"enum": ["emulator"]},
        "scenario": {"enum": ["full", "flap"]},
        # Where the shop's name led in this run; the invariants held that front door (Route 53's answers are modelled either way).
        "front_door": {"enum": ["route53", "accelerator"]},
        # How the secondary stood by (magento-dr:standby.posture): pilot light adds DB instances and web capacity before it promotes.
        "posture": {"enum": ["pilot-light", "warm", "hot"]},
        # What AWS leaves open, played one way (drill/variants.py), and the outcome expected of it.
        "variant": {
            "type": "object",
            "required": ["name", "description", "expect_failover", "lag_during_outage", "lag_before_outage_ms", "rpo_lag_published"],
            "properties": {"name": {"type": "string"}, "expect_failover": {"type": "boolean"}},
        },
        "started_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": "string", "format": "date-time"},
        "wall_seconds": {"type": "number", "minimum": 0},
        "emulated_seconds": {"type": "number", "minimum": 0},
        "settings": {
            "type": "object",
            "required": [
                "speed",
                "promotion_seconds",
                "pending_seconds",
                "resync_seconds",
                "cache_failover_seconds",
                "db_instance_create_seconds",
                "web_instance_ready_seconds",
                "headless_promotion",
                "grace_seconds",
                "grace_derivation",
            ],
            "properties": {
                "grace_seconds": {"type": "number", "minimum": 0},
                "grace_derivation": {"type": "string"},
                "traffic_grace_seconds": {"type": "number", "minimum": 0},
                "traffic_grace_derivation": {"type": "string"},
            },
        },
        "topology": {
            "type": "object",
            "required": ["global_cluster_id", "regions"],
            "properties": {"database_standbys": {"type": "array", "items": _STANDBY_DECLARED}},
        },
        "phases": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "start", "end", "expected_promotions", "promotions"],
                "properties": {
                    "name": {"type": "string"},
                    "start": {"type": "number"},
                    "end": {"type": "number"},
                    "expected_promotions": {"type": "array", "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}},
                    "promotions": {"type": "array", "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}},
                },
            },
        },
        "steps": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["phase", "name", "ok", "detail", "t"],
                "properties": {"ok": {"type": "boolean"}, "t": {"type": "number"}},
            },
        },
        "invariants": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "description", "ok", "violations"],
                "properties": {
                    "ok": {"type": "boolean"},
                    "violations": {
                        "type": "array",
                        "items": {"type": "object", "required": ["t", "phase", "detail"]},
                    },
                },
            },
        },
        "measurements": {
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": _NUM_OR_NULL},
        },
        "rto_budget": {"type": "object", "required": ["total_seconds", "writes_seconds", "traffic_seconds", "objective_seconds"]},
        "api_calls": {
            "type": "object",
            "required": ["total", "by_function", "by_operation", "handler_counted"],
            "properties": {
                "total": {"type": "integer", "minimum": 0},
                "by_function": {"type": "object", "additionalProperties": {"type": "integer"}},
                "by_operation": {"type": "object", "additionalProperties": {"type": "integer"}},
                "handler_counted": {"type": "object", "additionalProperties": {"type": "integer"}},
                # function (stack) -> region -> calls; added with database standbys (optional in older reports)
                "by_region": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}}},
            },
        },
        "invocations": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["region", "trigger", "start", "end", "ok", "action", "reason"],
            },
        },
        "timeline": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["t", "at", "phase", "region", "source", "text"],
                "properties": {"source": {"enum": ["drill", "function", "readiness", "aws", "route53", "accelerator", "invariant"]}},
            },
        },
        "substitutions": {
            "type": "array",
            "items": {"type": "object", "required": ["variable", "graph", "drill", "why"]},
        },
        "notes": {"type": "array", "items": {"type": "string"}},
        # Each region's readiness function on its schedule (handlers/readiness.py), apart from the failover functions.
        "readiness": {
            "type": "object",
            "required": ["runs", "api_calls", "not_ready_alarm"],
            "properties": {
                "runs": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["region", "phase", "start", "end", "ok", "ready", "failing", "warn", "api_calls"],
                        "properties": {
                            "ready": {"type": "boolean"},
                            "failing": {"type": "array", "items": {"type": "string"}},
                            "warn": {"type": "array", "items": {"type": "string"}},
                            "api_calls": {"type": "integer", "minimum": 0},
                        },
                    },
                },
                "api_calls": {
                    "type": "object",
                    "required": ["total", "by_function", "by_operation"],
                    "properties": {"total": {"type": "integer", "minimum": 0}},
                },
                # region -> the states the not-ready alarm (as the stack declares it) would take, over the Ready datapoints
                "not_ready_alarm": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "array",
                        "items": {"type": "object", "required": ["t", "state"], "properties": {"state": {"enum": ["OK", "ALARM"]}}},
                    },
                },
            },
        },
        # What the drill saw of each database standby (scope: database); [] when the drill ran without one.
        # Optional: reports written before database standbys existed lack it.
        "database_standbys": {
            "type": "array",
            "items": {
                "allOf": [
                    _STANDBY_DECLARED,
                    {
                        "type": "object",
                        "required": ["end", "synchronization_changes", "not_connected", "promotions", "failover_function_calls"],
                        "properties": {
                            "end": {
                                "type": "object",
                                "required": ["member", "is_writer", "synchronization_status"],
                                "properties": {
                                    "member": {"type": "boolean"},
                                    "is_writer": {"type": "boolean"},
                                    "synchronization_status": {"type": "string"},
                                },
                            },
                            "synchronization_changes": {
                                "type": "array",
                                "items": {"type": "object", "required": ["t", "phase", "status"], "properties": {"t": {"type": "number"}}},
                            },
                            "not_connected": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["from", "to", "seconds"],
                                    "properties": {"from": {"type": "number"}, "to": _NUM_OR_NULL, "seconds": _NUM_OR_NULL},
                                },
                            },
                            "promotions": {"type": "array", "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}},
                            "failover_function_calls": {"type": "object", "additionalProperties": {"type": "integer"}},
                        },
                    },
                ]
            },
        },
    },
}


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def to_json(result: DrillResult) -> dict[str, Any]:
    t0 = result.t0
    by_op: dict[str, int] = {}
    by_fn: dict[str, int] = {}
    for owner, counter in result.api_calls.items():
        by_fn[owner] = sum(counter.values())
        for op, n in counter.items():
            by_op[op] = by_op.get(op, 0) + n
    o = result.options
    return {
        "schema_version": SCHEMA_VERSION,
        "ok": result.ok,
        "target": "emulator",
        "scenario": o.scenario,
        "front_door": result.front_door,
        "posture": result.topology.secondary.posture,
        "variant": asdict(result.variant),
        "started_at": _iso(t0),
        "finished_at": _iso(result.t_end),
        "wall_seconds": result.wall_seconds,
        "emulated_seconds": round(result.t_end - t0, 3),
        "settings": {
            "speed": o.speed,
            "promotion_seconds": o.promotion_seconds,
            "pending_seconds": o.pending_seconds,
            "resync_seconds": o.resync_seconds,
            "cache_failover_seconds": o.cache_failover_seconds,
            "db_instance_create_seconds": result.db_instance_create_seconds,
            "web_instance_ready_seconds": result.web_instance_ready_seconds,
            "headless_promotion": result.variant.headless_promotion,
            "late_writer_datapoint": o.late_writer_datapoint,
            "grace_seconds": result.grace_seconds,
            "grace_derivation": result.grace_derivation,
            "traffic_grace_seconds": result.traffic_grace_seconds,
            "traffic_grace_derivation": result.traffic_grace_derivation,
        },
        "topology": result.topology.summary(),
        "phases": [
            {
                "name": ph.name,
                "start": round(ph.started_at - t0, 3),
                "end": round((ph.ended_at or result.t_end) - t0, 3),
                "expected_promotions": [list(x) for x in ph.expected_promotions],
                "promotions": [list(x) for x in ph.promotions],
            }
            for ph in result.phases
        ],
        "steps": [{"phase": s.phase, "name": s.name, "ok": s.ok, "detail": s.detail, "t": round(s.t - t0, 3)} for s in result.steps],
        "invariants": [{"name": i.name, "description": i.description, "ok": i.ok, "violations": i.violations} for i in result.invariants],
        "measurements": result.measurements,
        "rto_budget": dict(result.topology.secondary.rto_budget),
        "api_calls": {
            "total": sum(by_fn.values()),
            "by_function": by_fn,
            "by_operation": dict(sorted(by_op.items())),
            "handler_counted": dict(result.handler_counted_calls),
            "by_region": {owner: dict(sorted(c.items())) for owner, c in sorted(result.function_calls_by_region.items())},
        },
        "invocations": [
            {
                "region": i.region,
                "trigger": i.trigger,
                "phase": i.phase,
                "start": round(i.started_at - t0, 3),
                "end": round(i.ended_at - t0, 3),
                "ok": bool(i.outcome.get("ok")),
                "action": str(i.outcome.get("action", "")),
                "reason": str(i.outcome.get("reason", "")),
                "api_calls": int(i.outcome.get("api_calls", 0) or 0),
            }
            for i in result.invocations
        ],
        "timeline": [e.to_dict(t0) for e in result.events],
        "substitutions": result.substitutions,
        "notes": result.notes,
        "database_standbys": [_standby_json(rec, t0) for rec in result.standbys],
        "readiness": _readiness_json(result),
    }


def _readiness_json(result: DrillResult) -> dict[str, Any]:
    t0 = result.t0
    by_op: dict[str, int] = {}
    for counter in result.readiness_calls.values():
        for op, n in counter.items():
            by_op[op] = by_op.get(op, 0) + n
    return {
        "runs": [
            {"region": x.region, "phase": x.phase, "start": round(x.started_at - t0, 3), "end": round(x.ended_at - t0, 3), "ok": x.ok,
             "ready": x.ready, "failing": x.failing, "warn": x.unknown, "api_calls": x.api_calls, "reasons": x.reasons}
            for x in result.readiness_runs
        ],
        "api_calls": {
            "total": sum(by_op.values()),
            "by_function": {owner: sum(c.values()) for owner, c in sorted(result.readiness_calls.items())},
            "by_operation": dict(sorted(by_op.items())),
        },
        "not_ready_alarm": {region: [{"t": round(t - t0, 3), "state": state} for t, state in changes] for region, changes in result.readiness_alarm.items()},
    }


def readiness_lines(result: DrillResult) -> list[str]:
    """The summary's readiness block: each region's red stretches, the not-ready alarm, the API calls per evaluation."""
    runs = result.readiness_runs
    if not runs:
        return []
    t0 = result.t0
    calls = sum(x.api_calls for x in runs)
    lines = ["", f"  readiness: {len(runs)} scheduled evaluations, {calls / len(runs):.1f} API calls each on average"]
    for region in [r.region for r in result.topology.regions]:
        mine = [x for x in runs if x.region == region]
        red = [x for x in mine if not x.ready]
        if not red:
            lines.append(f"    {region:<10} ready at every evaluation ({len(mine)})")
        else:
            failing = sorted({c for x in red for c in x.failing})
            span = f"T+{red[0].started_at - t0:.0f}s … T+{red[-1].started_at - t0:.0f}s"
            lines.append(f"    {region:<10} not ready at {len(red)} of {len(mine)}: {span} ({', '.join(failing)})")
        changes = result.readiness_alarm.get(region, [])
        alarm = ", ".join(f"{state} T+{t - t0:.0f}s" for t, state in changes) or "no notification (never not ready for the alarm's whole window)"
        lines.append(f"    {'':<10} not-ready alarm: {alarm}")
    return lines


def _standby_json(rec: StandbyRecord, t0: float) -> dict[str, Any]:
    return {
        **rec.standby.summary(),
        "end": dict(rec.end),
        "synchronization_changes": [{"t": round(t - t0, 3), "phase": phase, "status": status} for t, phase, status in rec.sync_changes],
        "not_connected": [
            {"from": round(a - t0, 3), "to": None if b is None else round(b - t0, 3), "seconds": None if b is None else round(b - a, 3)}
            for a, b in rec.not_connected()
        ],
        "promotions": [list(x) for x in rec.promotions],
        "failover_function_calls": dict(rec.function_calls),
    }


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:7.1f}s"


def summary_table(result: DrillResult) -> str:
    """The terminal summary: measured figures beside the stack's exported RTO budget."""
    b = result.topology.secondary.rto_budget
    m = result.measurements.get("failover", {})
    fb = result.measurements.get("failback", {})
    variant = result.variant
    posture = result.topology.secondary.posture
    lines = ["", "Summary (emulator time)", "", f"  variant: {variant.name} — {variant.description}", f"  standby posture: {posture}", ""]
    if m and not variant.expect_failover:
        lines.append(f"  {'outage (the evidence says no failover)':<52} {'measured':>9}")
        lines.append(f"  {'detection (dark → first failed probe)':<52} {_fmt(m.get('detection_seconds')):>9}")
        lines.append(f"  {'operator told (dark → the one notification)':<52} {_fmt(m.get('notified_seconds')):>9}")
    elif m and result.front_door == "accelerator":
        lines += _accelerator_rows(result, m, b)
    elif m:
        rows = [
            ("detection (dark → first failed probe)", m.get("detection_seconds"), None),
            ("decision (dark → decision to promote)", m.get("decision_seconds"), b.get("decision_seconds", b.get("writes_seconds"))),
            ("  evidence (first failed probe → decision)", m.get("evidence_seconds"), None),
            *_preparation_rows(m, b),
            ("promotion (dark → writer in the secondary)", m.get("promotion_seconds"), None),
            ("  of which Aurora promotion", m.get("aurora_promotion_duration_seconds"), b.get("aurora_promotion_typical_seconds")),
            ("post-failover steps done", m.get("post_steps_done_seconds"), None),
            ("traffic shift (dark → Route 53 answers secondary)", m.get("traffic_shift_seconds"), _traffic_checks(b)),
            ("  + alias TTL (resolvers follow)", m.get("dns_ttl_seconds"), _term(b, "dns_ttl")),
            ("total (later of: resolvers follow, writer promoted)", m.get("total_seconds"), b.get("with_typical_promotion_seconds")),
            ("first web instance in service (dark →)", m.get("first_web_in_service_seconds"), b.get("capacity_seconds") or None),
            ("shop takes orders (total, writer instance, web instance)", m.get("takes_orders_seconds"), b.get("with_typical_promotion_seconds")),
            ("RTO objective", None, b.get("objective_seconds")),
        ]
        lines.append(f"  {'failover':<52} {'measured':>9}   {'budget':>9}")
        for name, got, budget in rows:
            lines.append(f"  {name:<52} {_fmt(got):>9}   {_fmt(budget):>9}")
        lines.append("  (budget: the stack's exported rtoBudget; 'total' beside with_typical_promotion_seconds)")
    if fb:
        lines.append("")
        lines.append(f"  {'failback (planned switchover)':<52} {'measured':>9}")
        for name, key in (
            ("writer back in the primary", "promotion_seconds"),
            ("  of which Aurora switchover", "aurora_promotion_duration_seconds"),
            ("post-failback steps done", "post_steps_done_seconds"),
            ("traffic back on the primary", "accelerator_shift_seconds" if result.front_door == "accelerator" else "traffic_shift_seconds"),
        ):
            lines.append(f"  {name:<52} {_fmt(fb.get(key)):>9}")
        if result.front_door == "accelerator":
            lines.append(f"  {'  (Route 53 path, beside: answers the primary)':<52} {_fmt(fb.get('traffic_shift_seconds')):>9}")
    total = sum(sum(c.values()) for c in result.api_calls.values())
    for rec in result.standbys:
        lines += _standby_lines(rec, result.t0, total)
    lines.append("")
    lines.append(
        f"  API calls made by the failover functions: {total} (" + ", ".join(f"{k}: {sum(v.values())}" for k, v in sorted(result.api_calls.items())) + ")"
    )
    merged: dict[str, int] = {}
    for c in result.api_calls.values():
        for op, n in c.items():
            merged[op] = merged.get(op, 0) + n
    for op, n in sorted(merged.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"    {n:5d}  {op}")
    lines += readiness_lines(result)
    lines.append("")
    lines.append(f"  traffic grace: {result.traffic_grace_derivation or result.grace_derivation}")
    lines.append("  invariants:")
    for inv in result.invariants:
        lines.append(f"    {'✔' if inv.ok else '✘'} {inv.name:<26} {inv.description}")
        for v in inv.violations[:3]:
            lines.append(f"        T+{v['t']:.0f}s {v['detail']}")
    failed = [s for s in result.steps if not s.ok]
    lines.append(f"  steps: {len(result.steps) - len(failed)}/{len(result.steps)} ok")
    for s in failed:
        lines.append(f"    ✘ [{s.phase}] {s.name}: {s.detail}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    lines.append("")
    lines.append(f"  DRILL {'PASSED' if result.ok else 'FAILED'} — {result.wall_seconds:.1f}s wall, {result.t_end - result.t0:.0f}s emulator time")
    return "\n".join(lines)


def _preparation_rows(m: dict[str, float | None], b: Any) -> list[tuple[str, float | None, float | None]]:
    """A standby the function prepared (pilot light): the instance it added, and the web tier from zero, beside their terms."""
    available, decision, web = m.get("db_instance_available_seconds"), m.get("decision_seconds"), m.get("first_web_in_service_seconds")
    if available is None:
        return []
    web_ready = sum(float(t["seconds"]) for t in (b.get("breakdown") or {}).get("web_ready") or []) or None
    preparation = _terms(b, "db_instance", "db_instance_seen")
    return [
        ("DB instance added, available (dark →)", available, b.get("writes_seconds")),
        ("  preparation (decision → instance available)", None if decision is None else round(available - decision, 3), preparation),
        ("  web tier from zero (decision → first in service)", None if decision is None or web is None else round(web - decision, 3), web_ready),
    ]


def _accelerator_rows(result: DrillResult, m: dict[str, float | None], b: Any) -> list[str]:
    """The failover with the accelerator as the front door, and the Route 53 path beside it (the same run)."""
    https = result.topology.secondary.https_check
    route53_checks = float(https.interval_seconds * https.failure_threshold)
    rows = [
        ("detection (dark → first failed probe)", m.get("detection_seconds"), None),
        ("decision (dark → decision to promote)", m.get("decision_seconds"), b.get("writes_seconds")),
        ("  evidence (first failed probe → decision)", m.get("evidence_seconds"), None),
        ("promotion (dark → writer in the secondary)", m.get("promotion_seconds"), None),
        ("  of which Aurora promotion", m.get("aurora_promotion_duration_seconds"), b.get("aurora_promotion_typical_seconds")),
        ("post-failover steps done", m.get("post_steps_done_seconds"), None),
        ("accelerator (dark → every shopper on the secondary)", m.get("accelerator_shift_seconds"), b.get("total_seconds")),
        ("  of which after the promotion request", m.get("accelerator_after_request_seconds"), b.get("traffic_seconds")),
        ("  no DNS TTL: the name keeps the accelerator's addresses", None, None),
        ("Route 53 path, beside (dark → answers secondary)", m.get("traffic_shift_seconds"), route53_checks),
        ("  + alias TTL (resolvers follow)", m.get("dns_ttl_seconds"), float(ALIAS_TTL_SECONDS)),
        ("total (later of: every shopper moved, writer promoted)", m.get("total_seconds"), b.get("with_typical_promotion_seconds")),
        ("RTO objective", None, b.get("objective_seconds")),
    ]
    out = ["  front door: the accelerator (Route 53's records alias it; their own decision is shown beside)", ""]
    out.append(f"  {'failover':<52} {'measured':>9}   {'budget':>9}")
    for name, got, budget in rows:
        note = got is None and budget is None  # a line of text, no figures
        out.append(f"  {name:<52} {'' if note else _fmt(got):>9}   {'' if note else _fmt(budget):>9}")
    out.append("  (budget: the stack's exported rtoBudget with the accelerator; the Route 53 figures: its checks and the alias TTL)")
    return out


def _standby_lines(rec: StandbyRecord, t0: float, function_calls: int) -> list[str]:
    sb = rec.standby
    end = rec.end
    if not end:
        state = "not read"
    elif not end["member"]:
        state = "NOT A MEMBER"
    else:
        state = f"{'WRITER' if end['is_writer'] else 'reader'}, {end['synchronization_status']}"
    lines = ["", f"  database standby {sb.stack}: {sb.cluster_id} in {sb.region} (scope: database, no failover function)"]
    lines.append(f"    {'at the end':<50} {state}")
    for a, b in rec.not_connected():
        if b is None:
            lines.append(f"    {'not connected since':<50} T+{a - t0:.0f}s (never connected again)")
        else:
            lines.append(f"    {'rebuilt (not connected → connected)':<50} {_fmt(b - a):>9}   T+{a - t0:.0f}s → T+{b - t0:.0f}s")
    if not rec.sync_changes:
        lines.append(f"    {'SynchronizationStatus':<50} connected throughout")
    lines.append(f"    {'global failovers/switchovers targeting it':<50} {len(rec.promotions)}")
    calls = sum(rec.function_calls.values())
    lines.append(f"    {f'failover-function API calls to {sb.region}':<50} {calls} (of {function_calls})")
    return lines


def _traffic_checks(budget: Any) -> float | None:
    t = budget.get("traffic_seconds")
    ttl = _term(budget, "dns_ttl")
    return None if t is None or ttl is None else float(t) - ttl


def _terms(budget: Any, *names: str) -> float | None:
    """The sum of the budget's terms of these names (None: it has none of them)."""
    found = [t for t in (_term(budget, n) for n in names) if t is not None]
    return sum(found) if found else None


def _term(budget: Any, name: str) -> float | None:
    for terms in (budget.get("breakdown") or {}).values():
        for term in terms:
            if term.get("name") == name:
                return float(term["seconds"])
    return None


_COLOURS = {
    "dark": "#444444",
    "writer": "#2e7d32",
    "running": "#1565c0",
    "answer": "#ef6c00",
    "healthy": "#81c784",
    "ready": "#66bb6a",
    "notready": "#c62828",
}


def to_svg(result: DrillResult) -> str:
    """A horizontal timeline: per region its darkness, writer, function runs, Route 53 health and DNS answer."""
    span = max(1.0, result.t_end - result.t0)
    left, width, row_h = 230, 900, 22
    regions = [r.region for r in result.topology.regions]
    rows: list[tuple[str, str, str]] = []  # (label, interval key, colour key)
    for region in regions:
        rows += [
            (f"{region} dark", f"dark:{region}", "dark"),
            (f"{region} holds writer", f"writer:{region}", "writer"),
            (f"{region} function running", f"function:{region}", "running"),
            (f"{region} Route 53 check healthy", f"check:{region}", "healthy"),
            (f"DNS answers {region}", f"dns:{region}", "answer"),
            (f"{region} readiness: ready", f"ready:{region}", "ready"),
            (f"{region} readiness: NOT ready", f"notready:{region}", "notready"),
        ]
        if result.front_door == "accelerator":
            rows += [
                (f"{region} accelerator endpoint healthy", f"ga-endpoint:{region}", "healthy"),
                (f"accelerator: all shoppers to {region}", f"ga:{region}", "answer"),
            ]
    top = 50
    height = top + len(rows) * row_h + 80
    x = lambda t: left + width * max(0.0, min(t, span)) / span  # noqa: E731 - local scale
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 30}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f"<title>magento-dr drill ({escape(result.options.scenario)}, {escape(result.variant.name)}, {escape(result.front_door)}) — "
        f"{'passed' if result.ok else 'FAILED'}</title>",
        f'<text x="10" y="20" font-size="15" font-weight="bold">'
        f"magento-dr drill: {escape(result.options.scenario)}, variant {escape(result.variant.name)}, front door {escape(result.front_door)} — "
        f"{'passed' if result.ok else 'FAILED'}</text>",
    ]
    for ph in result.phases:
        x0, x1 = x(ph.started_at - result.t0), x((ph.ended_at or result.t_end) - result.t0)
        out.append(
            f'<rect x="{x0:.1f}" y="{top - 18}" width="{max(1.0, x1 - x0):.1f}" height="{len(rows) * row_h + 18}" '
            'fill="none" stroke="#bbbbbb" stroke-dasharray="3,3"/>'
        )
        out.append(f'<text x="{x0 + 3:.1f}" y="{top - 5}" fill="#555555">{escape(ph.name)}</text>')
    for i, (label, key, colour) in enumerate(rows):
        y = top + i * row_h
        out.append(f'<text x="10" y="{y + 15}">{escape(label)}</text>')
        out.append(f'<rect x="{left}" y="{y + 3}" width="{width}" height="{row_h - 6}" fill="#f4f4f4"/>')
        for start, end, _label in result.intervals.get(key, []):
            out.append(
                f'<rect x="{x(start):.1f}" y="{y + 3}" width="{max(1.0, x(end) - x(start)):.1f}" height="{row_h - 6}" fill="{_COLOURS[colour]}">'
                f"<title>{escape(label)}: T+{start:.0f}s … T+{end:.0f}s</title></rect>"
            )
    axis_y = top + len(rows) * row_h + 10
    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + width}" y2="{axis_y}" stroke="#000000"/>')
    step = 60 if span <= 1800 else 300
    t = 0.0
    while t <= span:
        out.append(f'<line x1="{x(t):.1f}" y1="{axis_y}" x2="{x(t):.1f}" y2="{axis_y + 5}" stroke="#000000"/>')
        if int(t) % (step * (1 if span <= 900 else 5)) == 0:
            out.append(f'<text x="{x(t):.1f}" y="{axis_y + 18}" text-anchor="middle">{int(t // 60)}m</text>')
        t += step
    out.append(
        f'<text x="{left}" y="{axis_y + 40}" fill="#555555">emulator time since the drill started; failed invariants: '
        f"{escape(', '.join(i.name for i in result.invariants if not i.ok) or 'none')}</text>"
    )
    out.append("</svg>")
    return "\n".join(out)


def write_reports(result: DrillResult, reports_dir: Path) -> tuple[Path, Path]:
    """Write reports/drill-<UTC timestamp>.json and .svg; returns both paths."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    posture = result.topology.secondary.posture
    base = reports_dir / (
        f"drill-{stamp}-{result.variant.name}{'-accelerator' if result.front_door == 'accelerator' else ''}{'' if posture == 'warm' else '-' + posture}"
    )
    json_path, svg_path = base.with_suffix(".json"), base.with_suffix(".svg")
    json_path.write_text(json.dumps(to_json(result), indent=2, default=str) + "\n")
    svg_path.write_text(to_svg(result) + "\n")
    return json_path, svg_path
