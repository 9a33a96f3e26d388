"""The drill's variants and the runs that stop early: each answer AWS leaves open, with the outcome an SRE expects.

Split from test_drill.py so that the two test workers (make unit: -n auto --dist loadfile) share the drills.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from drill.report import DRILL_REPORT_SCHEMA
from drill.run import run_emulator_drill
from drill.scenario import DrillOptions
from drill.topology import Topology

from ._common import EVIDENCE_STEP, FAST, invariant_ok


def test_short_outage_after_a_fast_failover_does_not_flap_back(pair_topology: Topology, tmp_path: Path) -> None:
    # Also the drill without a database standby (--no-database-standby): no standby invariants, none in the report.
    options = DrillOptions(scenario="full", **{**FAST, "outage_min_seconds": 0.0, "recovery_periods": 2})  # type: ignore[arg-type]
    run = run_emulator_drill(options, tmp_path, io.StringIO(), pair_topology)
    assert invariant_ok(run, "no-flap-back"), [i.violations for i in run.result.invariants if i.name == "no-flap-back"]
    assert not [i.name for i in run.result.invariants if i.name.startswith("db-standby")] and run.result.standbys == []
    report = json.loads(run.json_path.read_text())
    jsonschema.validate(report, DRILL_REPORT_SCHEMA)
    assert report["database_standbys"] == [] and report["topology"]["database_standbys"] == []
    # FAST runs moto in the drill's process: no endpoint URL, and the report says so.
    (endpoint,) = [s for s in report["substitutions"] if s["variable"] == "AWS_ENDPOINT_URL"]
    assert endpoint["drill"] == "(unset)" and "in the drill's process" in endpoint["why"]


# ---------------------------------------------------------------- what AWS leaves open: every variant, its expected outcome
VARIANT_STEPS = {
    "lag-stops": [EVIDENCE_STEP],
    "lag-above-rpo": ["no failover", "one notification naming the guard", "traffic back on the primary", "primary still the writer"],
    "rpo-lag-unpublished": [EVIDENCE_STEP],
    "sync-flips": [EVIDENCE_STEP, "a synchronization status that changed during the outage is reported, not judged"],
    "promotion-refused": [EVIDENCE_STEP, "promotion refused for longer than the look-back, then accepted on the same evidence"],
    "crash": [EVIDENCE_STEP, "a killed run is resumed within about two minutes"],
    "route53-lookback": [EVIDENCE_STEP, "writer vote kept through a missing minute", "traffic on the secondary"],
    "lag-by-source-region": [EVIDENCE_STEP],
}


@pytest.mark.parametrize("variant", sorted(VARIANT_STEPS))
def test_each_variant_ends_with_the_outcome_an_sre_expects(pair_topology: Topology, tmp_path: Path, variant: str) -> None:
    from drill.variants import VARIANTS

    v = VARIANTS[variant]
    out = io.StringIO()
    # The outage is what a variant changes: the drill ends with its outcome (the default run goes on to the failback).
    quick = {**FAST, "stop_after_outage": v.expect_failover, "late_writer_datapoint": v.route53_reading != "strict"}
    run = run_emulator_drill(DrillOptions(scenario="full", variant=variant, **quick), tmp_path, out, pair_topology)  # type: ignore[arg-type]
    text = out.getvalue()
    assert run.result.ok, text[-4000:]
    outage = next(p for p in run.result.phases if p.name == "outage")
    assert outage.promotions == ([("eu-west-1", "failover")] if v.expect_failover else [])
    steps = {s.name: s for s in run.result.steps}
    for name in VARIANT_STEPS[variant]:
        assert name in steps and steps[name].ok, (name, steps.get(name))
    report = json.loads(run.json_path.read_text())
    jsonschema.validate(report, DRILL_REPORT_SCHEMA)
    assert report["variant"]["name"] == variant and report["variant"]["expect_failover"] is v.expect_failover
    assert f"variant: {variant} — " in text and run.json_path.name.endswith(f"-{variant}.json")
    if v.expect_failover:
        assert f"{v.lag_metric} 0.8s" in steps[EVIDENCE_STEP].detail  # the function reported the figure Aurora published before
    else:
        assert [p.name for p in run.result.phases] == ["steady", "outage", "recovery"]
        assert run.result.measurements["failover"]["notified_seconds"] is not None


def test_a_single_period_writer_alarm_loses_the_writer_its_vote_on_one_late_datapoint(pair_topology: Topology, tmp_path: Path) -> None:
    """The writer alarm as it was (1 period): the drill's late writer datapoint costs the primary its vote."""
    from dataclasses import replace

    p = pair_topology.primary
    single = replace(p.writer_alarm, evaluation_periods=1, datapoints_to_alarm=1)
    checks = {k: (replace(c, alarm=replace(c.alarm, evaluation_periods=1, datapoints_to_alarm=1)) if c.alarm else c) for k, c in p.health_checks.items()}
    old = replace(pair_topology, primary=replace(p, writer_alarm=single, health_checks=checks))
    options = DrillOptions(scenario="flap", **FAST)  # type: ignore[arg-type]
    run = run_emulator_drill(options, tmp_path, io.StringIO(), old)
    vote = next(i for i in run.result.invariants if i.name == "writer-vote-steady")
    assert not vote.ok and "us-east-1 holds the writer but its Route 53 writer check is unhealthy" in vote.violations[0]["detail"]
    assert not next(s for s in run.result.steps if s.name == "writer vote kept through a missing minute").ok


# ---------------------------------------------------------------- the returning old primary's own view (G6)
def test_a_stale_view_of_the_writer_in_the_returning_old_primary_costs_no_traffic_and_no_vote(pair_topology: Topology, tmp_path: Path) -> None:
    """Its region's API names its own cluster the writer for 120 s after it returns (stale-writer-view): through Route 53
    it takes no shoppers (its deep check cannot reach the writer) and its function publishes no writer vote."""
    out = io.StringIO()
    run = run_emulator_drill(DrillOptions(scenario="full", variant="stale-writer-view", **FAST), tmp_path, out, pair_topology)  # type: ignore[arg-type]
    text = out.getvalue()
    assert run.result.ok, text[-4000:]
    assert all(invariant_ok(run, name) for name in ("no-flap-back", "traffic-follows-writer", "single-writer", "writer-vote-steady"))
    steps = {s.name: s for s in run.result.steps}
    vote = steps["old primary claimed no writer vote"]
    assert vote.ok and "none of them 1" in vote.detail
    report = json.loads(run.json_path.read_text())
    assert report["variant"]["stale_view_seconds"] == 120.0
    # The old primary's function saw its stale view, claimed nothing and fenced its region (cron and consumers stopped).
    primary_decisions = [i for i in run.result.invocations if i.region == "us-east-1" and i.phase == "recovery"]
    assert any(i.outcome.get("guard") == "stale-writer-view" and i.outcome.get("fenced") for i in primary_decisions)
