"""The drill end to end on the embedded emulator, with short timings (the full drill over HTTP to moto's server, as `make drill`)."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from drill.__main__ import main
from drill.report import DRILL_REPORT_SCHEMA
from drill.run import DrillRun, run_emulator_drill
from drill.scenario import DrillOptions, StandbyRecord, standby_end_findings, standby_member_findings
from drill.topology import StandbyTopology, Topology

from ._common import EVIDENCE_STEP, FAST, invariant_ok

# Module-scoped fixtures: under `make unit` (pytest-xdist --dist loadgroup) these tests share one worker.
pytestmark = pytest.mark.xdist_group("test_drill")


@pytest.fixture(scope="module")
def full(topology: Topology, tmp_path_factory: pytest.TempPathFactory) -> tuple[DrillRun, str]:
    out = io.StringIO()
    # What `make drill` runs: every call real HTTP to moto's server (the other drills run moto in-process, FAST).
    options = DrillOptions(scenario="full", **{**FAST, "transport": "server"})  # type: ignore[arg-type]
    run = run_emulator_drill(options, tmp_path_factory.mktemp("reports"), out, topology)
    return run, out.getvalue()


@pytest.fixture(scope="module")
def flap(topology: Topology, tmp_path_factory: pytest.TempPathFactory) -> tuple[DrillRun, str]:
    out = io.StringIO()
    run = run_emulator_drill(DrillOptions(scenario="flap", **FAST), tmp_path_factory.mktemp("reports"), out, topology)  # type: ignore[arg-type]
    return run, out.getvalue()


def test_full_scenario_runs_every_phase_in_order(full: tuple[DrillRun, str]) -> None:
    run, _ = full
    assert [p.name for p in run.result.phases] == ["steady", "outage", "recovery", "failback"]
    promotions = {p.name: p.promotions for p in run.result.phases}
    assert promotions == {"steady": [], "outage": [("eu-west-1", "failover")], "recovery": [], "failback": [("us-east-1", "switchover")]}


@pytest.mark.parametrize("name", ["single-writer", "rpo-guard", "steps-once", "one-promotion-per-phase", "db-standby-never-promoted", "db-standby-reconnected"])
def test_full_scenario_database_invariants_hold(full: tuple[DrillRun, str], name: str) -> None:
    assert invariant_ok(full[0], name), [i.violations for i in full[0].result.invariants if i.name == name]


def test_failover_figures_are_positive_and_consistent(full: tuple[DrillRun, str]) -> None:
    m = full[0].result.measurements["failover"]
    detection, decision, promoted, steps = (m["detection_seconds"], m["decision_seconds"], m["promotion_seconds"], m["post_steps_done_seconds"])
    assert detection is not None and decision is not None and promoted is not None and steps is not None
    assert 0 < detection <= decision < promoted <= steps
    assert m["aurora_promotion_duration_seconds"] is not None and m["aurora_promotion_duration_seconds"] >= FAST["promotion_seconds"]
    # Detection waits at most one schedule period plus the probe pauses.
    assert decision <= 60 + 2 * 10 + 5


def test_every_post_failover_step_ran_once_per_promotion(full: tuple[DrillRun, str]) -> None:
    steps = [e.text for e in full[0].result.events if e.source == "function" and e.phase == "outage"]
    for step in ("cache_failover", "scale_asg", "activate_region", "run_commands", "notify"):
        assert sum(1 for t in steps if t.startswith(f"✔ {step}:")) == 1, step


def test_full_drill_passes(full: tuple[DrillRun, str]) -> None:
    run, text = full
    assert [s.name for s in run.result.steps if not s.ok] == [], text[-3000:]
    assert all(i.ok for i in run.result.invariants), text[-3000:]
    assert run.result.ok
    m = run.result.measurements["failover"]
    assert m["traffic_shift_seconds"] is not None and m["promotion_seconds"] is not None
    assert m["traffic_shift_seconds"] < m["total_seconds"] and m["promotion_seconds"] <= m["total_seconds"]  # type: ignore[operator]
    # It ran over HTTP, as `make drill` does: the report names the loopback server the SDK was pointed at.
    (endpoint,) = [s for s in run.result.substitutions if s["variable"] == "AWS_ENDPOINT_URL"]
    assert endpoint["drill"].startswith("http://127.0.0.1:"), endpoint


def test_full_scenario_database_standby_is_rebuilt_never_promoted_and_ends_a_connected_reader(full: tuple[DrillRun, str]) -> None:
    run, text = full
    (rec,) = run.result.standbys
    sb = rec.standby
    assert (sb.stack, sb.region) == ("bunker", "us-west-2")
    assert rec.end == {"member": True, "is_writer": False, "synchronization_status": "connected"}
    assert rec.promotions == [] and not rec.function_calls
    # The data-loss failover rebuilt it from the new primary (the invariants were exercised, not idle); the
    # planned switchover of the failback kept the topology: no change in that phase.
    assert [status for _t, _phase, status in rec.sync_changes] == ["pending-resync", "connected"]
    assert rec.sync_changes[0][1] == "outage" and rec.sync_changes[1][1] != "failback"
    ((start, end),) = rec.not_connected()
    tick = DrillOptions().tick_seconds
    assert end is not None and FAST["resync_seconds"] - tick <= end - start <= FAST["resync_seconds"] + tick
    failover_at = next(e.t for e in run.result.events if e.source == "aws" and "Aurora writer is now" in e.text and e.phase == "outage")
    assert failover_at <= start <= failover_at + tick
    # The functions' calls are counted per region, and none went to the standby's region.
    by_region = run.result.function_calls_by_region
    assert by_region["secondary"]["eu-west-1"] > 0 and by_region["primary"]["us-east-1"] > 0
    assert all(sb.region not in regions for regions in by_region.values()), by_region
    standby_lines = [e.text for e in run.result.events if e.region == sb.region and e.source == "aws"]
    assert standby_lines == [
        f"database standby {sb.cluster_id}: SynchronizationStatus connected → pending-resync",
        f"database standby {sb.cluster_id}: SynchronizationStatus pending-resync → connected",
    ]
    assert f"database standby bunker: {sb.cluster_id} in us-west-2" in text
    assert [line.split()[-2:] for line in text.splitlines() if line.strip().startswith("at the end")] == [["reader,", "connected"]]
    report = json.loads(run.json_path.read_text())
    (entry,) = report["database_standbys"]
    assert entry["cluster_arn"] == sb.cluster_arn and entry["end"]["synchronization_status"] == "connected" and entry["end"]["is_writer"] is False
    assert [c["status"] for c in entry["synchronization_changes"]] == ["pending-resync", "connected"] and entry["promotions"] == []
    assert report["topology"]["database_standbys"][0]["cluster_arn"] == sb.cluster_arn
    assert "us-west-2" not in {region for regions in report["api_calls"]["by_region"].values() for region in regions}


SB = StandbyTopology("bunker", "us-west-2", "bunker-db", "arn:aws:rds:us-west-2:123456789012:cluster:bunker-db", "aurora-mysql", "8.0.mysql_aurora.3.10.0")


def _member(is_writer: bool = False, sync: str = "connected") -> dict[str, object]:
    return {"DBClusterArn": SB.cluster_arn, "IsWriter": is_writer, "SynchronizationStatus": sync}


def test_standby_findings_name_what_is_wrong() -> None:
    assert standby_member_findings(SB, _member()) == [] and standby_member_findings(SB, _member(sync="pending-resync")) == []
    assert standby_member_findings(SB, None) == ["bunker-db (us-west-2) is no longer a member of the global cluster"]
    assert standby_member_findings(SB, _member(is_writer=True)) == ["bunker-db (us-west-2) is the writer of the global cluster"]
    assert standby_end_findings(SB, _member()) == []
    assert standby_end_findings(SB, _member(sync="pending-resync")) == [
        "bunker-db (us-west-2) ends with SynchronizationStatus 'pending-resync', not 'connected'"
    ]
    assert standby_end_findings(SB, None) == ["bunker-db (us-west-2) is no longer a member of the global cluster"]


def test_standby_not_connected_stretches() -> None:
    rec = StandbyRecord(SB, sync_changes=[(10.0, "outage", "pending-resync"), (70.0, "recovery", "connected"), (90.0, "failback", "pending-resync")])
    assert rec.not_connected() == [(10.0, 70.0), (90.0, None)]
    assert StandbyRecord(SB).not_connected() == []


def test_report_matches_its_schema_and_chart_is_svg(full: tuple[DrillRun, str]) -> None:
    run, text = full
    report = json.loads(run.json_path.read_text())
    jsonschema.validate(report, DRILL_REPORT_SCHEMA)
    assert report["ok"] is run.result.ok and report["scenario"] == "full"
    assert report["api_calls"]["by_operation"]["rds:FailoverGlobalCluster"] == 1
    assert report["api_calls"]["by_operation"]["rds:SwitchoverGlobalCluster"] == 1
    assert {s["variable"] for s in report["substitutions"]} >= {"AWS_ENDPOINT_URL"}
    root = ET.fromstring(run.svg_path.read_text())  # noqa: S314 - our own file
    assert root.tag.endswith("svg")
    assert run.json_path.name.startswith("drill-") and run.json_path.parent == run.svg_path.parent
    assert "Summary (emulator time)" in text and "DRILL " in text


def test_flap_ends_with_no_failover(flap: tuple[DrillRun, str]) -> None:
    run, text = flap
    assert [p.name for p in run.result.phases] == ["steady", "outage"]
    assert all(p.promotions == [] for p in run.result.phases)
    assert not [i for i in run.result.invocations if i.outcome.get("action") in ("promote", "notify_operator")]
    assert "primary region back during confirmation" in text
    steps = {s.name: s.ok for s in run.result.steps}
    assert steps["primary back during confirmation"] and steps["no failover"] and steps["traffic stayed on the primary"]
    for name in ("single-writer", "one-promotion-per-phase", "traffic-follows-writer", "steps-once", "db-standby-never-promoted", "db-standby-reconnected"):
        assert invariant_ok(run, name), name
    # No failover: the database standby was never rebuilt and ends as it began.
    (rec,) = run.result.standbys
    assert rec.sync_changes == [] and rec.end == {"member": True, "is_writer": False, "synchronization_status": "connected"}
    assert "connected throughout" in text
    jsonschema.validate(json.loads(run.json_path.read_text()), DRILL_REPORT_SCHEMA)


def test_cli_refuses_execute_without_aws(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--execute"])
    assert info.value.code == 2 and "--target aws" in capsys.readouterr().err


def test_cli_refuses_no_database_standby_with_aws(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--target", "aws", "--no-database-standby", "--outputs-primary", "p.json", "--outputs-secondary", "s.json", "--reports", str(tmp_path)])
    assert info.value.code == 2 and "only applies to the emulator drill" in capsys.readouterr().err


def test_cli_aws_needs_outputs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--target", "aws", "--reports", str(tmp_path)])
    assert "--outputs-primary" in capsys.readouterr().err


def test_the_default_run_shows_the_evidence_the_writer_vote_and_a_minute_of_failed_probes(full: tuple[DrillRun, str]) -> None:
    run, text = full
    steps = {s.name: s for s in run.result.steps}
    assert steps[EVIDENCE_STEP].ok and "AuroraGlobalDBRPOLag 0.8s" in steps[EVIDENCE_STEP].detail
    assert steps["writer vote kept through a missing minute"].ok
    assert run.result.variant.name == "default" and run.result.variant.lag_during_outage == "grows"
    # The README's promise: a full minute from the first failed probe to the decision.
    assert run.result.measurements["failover"]["evidence_seconds"] >= 60  # type: ignore[operator]
    assert "evidence (first failed probe → decision)" in text


def test_cli_lists_the_variants_and_refuses_one_with_flap(capsys: pytest.CaptureFixture[str]) -> None:
    from drill.variants import VARIANTS

    with pytest.raises(SystemExit):
        main(["--help"])
    helptext = capsys.readouterr().out
    assert all(name in helptext for name in VARIANTS) and "--variant" in helptext
    with pytest.raises(SystemExit) as info:
        main(["--scenario", "flap", "--variant", "crash"])
    assert info.value.code == 2 and "--variant applies to --scenario full" in capsys.readouterr().err


def test_readiness_runs_in_both_regions_goes_red_in_the_outage_and_green_after_the_failback(full: tuple[DrillRun, str]) -> None:
    run, text = full
    steps = {s.name: s for s in run.result.steps}
    for name in ("readiness: as the world is before the outage", "readiness: the standby not ready during the outage",
                 "readiness: both regions ready again after the failback"):
        assert steps[name].ok, steps[name].detail
    assert invariant_ok(run, "readiness-reports")
    runs = run.result.readiness_runs
    assert {x.region for x in runs} == {"us-east-1", "eu-west-1"} and all(x.ok for x in runs)
    phases = {p.name: p for p in run.result.phases}
    dark, back = phases["outage"].started_at, phases["recovery"].started_at
    # While us-east-1 is dark only the standby evaluates, and it says why a failover would not work now.
    in_outage = [x for x in runs if dark <= x.started_at < back]
    assert in_outage and {x.region for x in in_outage} == {"eu-west-1"}
    red = [x for x in in_outage if not x.ready]
    assert red and "peer" in red[-1].failing and "us-east-1" in red[-1].reasons["peer"]
    # What only us-east-1 answers (Route 53's API, the peer's release) is unknown, never a failure or a hang.
    assert {"health-checks", "release"} <= set(red[-1].unknown)
    assert all(x.ended_at - x.started_at <= 60 for x in runs)
    # The last evaluation of each region is ready; the standby still warns that it runs at production size.
    last = {x.region: x for x in runs}
    assert last["us-east-1"].ready and last["eu-west-1"].ready and "capacity" in last["eu-west-1"].unknown
    # Readiness calls are counted apart from the failover functions', and never reach the database standby's region.
    assert set(run.result.readiness_calls) == {"primary readiness", "secondary readiness"}
    assert "us-west-2" not in str(run.result.function_calls_by_region)
    report = json.loads(run.json_path.read_text())
    assert len(report["readiness"]["runs"]) == len(runs) and report["readiness"]["api_calls"]["total"] == sum(x.api_calls for x in runs)
    assert "readiness:" in text and "not-ready alarm:" in text


def test_the_not_ready_alarm_as_declared_notifies_once_after_its_window_and_on_recovery() -> None:
    from drill.scenario import alarm_transitions

    # Ready at 0 and 300, not ready from 600 to 1500, ready again at 1800 (evaluations every 300 s, 3 of 3 periods).
    points = [(t + 5.0, 0.0 if 600 <= t <= 1500 else 1.0) for t in range(0, 2400, 300)]
    changes = alarm_transitions(points, 0.0, 2400.0, period=300, evaluation_periods=3, datapoints_to_alarm=3, treat_missing="breaching")
    assert changes == [(1500.0, "ALARM"), (2100.0, "OK")]
    # A missing evaluation counts as not ready (silence is not readiness); one ready period in three is not enough to alarm.
    gap = [(5.0, 1.0), (905.0, 1.0)]
    assert alarm_transitions(gap, 0.0, 1200.0, period=300, evaluation_periods=3, datapoints_to_alarm=3, treat_missing="breaching") == []
    assert alarm_transitions([(5.0, 1.0)], 0.0, 1200.0, period=300, evaluation_periods=3, datapoints_to_alarm=3,
                             treat_missing="breaching") == [(1200.0, "ALARM")]
