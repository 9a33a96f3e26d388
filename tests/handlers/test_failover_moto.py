"""Adapter + runner against moto with the emulator extension (guards, exactly-once, faults, resume)."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

import pytest
from moto.rds.models import rds_backends

import emulator
from handlers import failover, runner
from handlers.decide import STEPS
from handlers.settings import Settings

from .conftest import PRIMARY, SCHEDULED, SECONDARY, World

ALARM = {
    "version": "0",
    "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
    "detail-type": "CloudWatch Alarm State Change",
    "source": "aws.cloudwatch",
    "account": "123456789012",
    "time": "2019-10-02T17:04:40Z",
    "region": SECONDARY,
    "resources": [f"arn:aws:cloudwatch:{SECONDARY}:123456789012:alarm:peer-health"],
    "detail": {
        "alarmName": "peer-health",
        "state": {"value": "ALARM", "reason": "Threshold Crossed", "timestamp": "2019-10-02T17:04:40.985+0000"},
        "previousState": {"value": "OK", "reason": "ok", "timestamp": "2019-10-02T17:00:40.985+0000"},
        "configuration": {"description": "peer health", "metrics": []},
    },
}


def _completed(world: World) -> None:
    assert world.writer() == world.secondary_arn
    assert world.capacity() == (2, 2, 4)
    assert world.param("/magento-dr/secondary/active") == "true"
    assert world.cache_roles() == {PRIMARY: "secondary", SECONDARY: "primary"}


def test_steady_state_noop_publishes_writer_metric(world: World) -> None:
    result = world.run(SCHEDULED)
    assert result["ok"] and result["action"] == "noop" and result["reason"] == "peer healthy"
    assert result["writer"] == 0 and world.promotions() == []
    stats = world.client("cloudwatch").list_metrics(Namespace="MagentoDR", MetricName="RegionHoldsWriter")["Metrics"]
    assert {d["Name"]: d["Value"] for d in stats[0]["Dimensions"]} == {"Region": SECONDARY, "Stack": "secondary"}


def test_one_alarm_alone_never_fails_over(world: World) -> None:
    result = world.run(ALARM)
    assert result["action"] == "noop" and world.promotions() == []


def test_peer_lost_automatic_fails_over_once_with_full_timeline(world: World) -> None:
    emulator.set_dark(PRIMARY)
    result = world.run(SCHEDULED)
    assert result["ok"], result
    assert result["action"] == "promote" and result["probes"] == [False, False, False]
    assert world.promotions() == [("magento-gdb", world.secondary_arn, "failover")]
    _completed(world)
    op = result["operation"]
    assert op["status"] == "complete"
    steps = [e["step"] for e in op["timeline"]]
    assert steps == ["decision", "promotion-requested", "writer-promoted", "scale_asg", "activate_region",
                     "cache_failover", "run_commands", "notify"]
    msgs = world.messages()
    assert len(msgs) == 1
    body = msgs[0]["message"]
    assert "complete" in msgs[0]["subject"] and body["failed_steps"] == []
    assert body["seconds_first_failed_probe_to_writer_promoted"] >= 30
    assert [e["step"] for e in body["timeline"]][:3] == ["decision", "promotion-requested", "writer-promoted"]
    # Duplicate delivery afterwards: nothing more happens.
    again = world.run(SCHEDULED)
    assert again["action"] == "noop" and again["writer"] == 1
    assert len(world.promotions()) == 1 and world.messages() == []


def test_detection_accumulates_across_invocations(world: World) -> None:
    emulator.set_dark(PRIMARY)
    first = world.run(SCHEDULED, MDR_PROBES_PER_INVOCATION="1")
    second = world.run(SCHEDULED, MDR_PROBES_PER_INVOCATION="1")
    assert (first["action"], second["action"]) == ("noop", "noop")
    assert "2/3" in second["reason"]
    third = world.run(SCHEDULED, MDR_PROBES_PER_INVOCATION="1")
    assert third["action"] == "promote" and len(world.promotions()) == 1


def test_peer_recovering_resets_the_counter(world: World) -> None:
    emulator.set_dark(PRIMARY)
    world.run(SCHEDULED, MDR_PROBES_PER_INVOCATION="2")
    emulator.set_dark(PRIMARY, False)
    world.run(SCHEDULED, MDR_PROBES_PER_INVOCATION="1")
    emulator.set_dark(PRIMARY)
    result = world.run(SCHEDULED, MDR_PROBES_PER_INVOCATION="2")
    assert result["action"] == "noop" and world.promotions() == []


def test_shop_down_but_peer_rds_answers_is_not_a_regional_loss(world: World) -> None:
    world.health.set_healthy(PRIMARY, False)
    result = world.run(SCHEDULED)
    assert result["action"] == "noop" and result["probes"] == [True, True, True]  # keeps probing: one answer is not the whole minute


def test_notify_mode_reports_once_with_command(world: World) -> None:
    emulator.set_dark(PRIMARY)
    result = world.run(SCHEDULED, MDR_MODE="notify")
    assert result["action"] == "notify-operator" and world.promotions() == []
    assert "python -m handlers.failover failover" in result["command_hint"]
    msgs = world.messages()
    assert len(msgs) == 1 and "python -m handlers.failover failover" in msgs[0]["message"]["run_this_to_act"]
    again = world.run(SCHEDULED, MDR_MODE="notify")
    assert again["action"] == "noop" and world.messages() == []
    assert world.param("/magento-dr/secondary/active") == "false"


@pytest.mark.parametrize(
    ("setup", "guard"),
    [
        ("lag", "rpo-exceeded"),
        ("nolag", "lag-unknown"),
        ("unavailable", "local-not-available"),
    ],
)
def test_guards_block_automatic_failover(world: World, setup: str, guard: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if setup == "lag":
        world.set_lag_ms(120_000)
    elif setup == "nolag":
        monkeypatch.setitem(world.env, "MDR_LOCAL_CLUSTER_ID", "shop-secondary")
        monkeypatch.setitem(world.env, "MDR_LAG_LOOKBACK_SECONDS", "60")
        emulator.advance(3600)  # the only datapoint is now an hour old
    else:
        rds_backends["123456789012"][SECONDARY].clusters["shop-secondary"].status = "modifying"
    emulator.set_dark(PRIMARY)
    result = world.run(SCHEDULED)
    assert result["action"] == "notify-operator" and result["guard"] == guard, result
    assert world.promotions() == [] and world.capacity() == (1, 1, 2)


def test_operator_force_overrides_rpo(world: World) -> None:
    world.set_lag_ms(120_000)
    emulator.set_dark(PRIMARY)
    refused = world.run({"action": "failover"})
    assert not refused["ok"] and refused["guard"] == "rpo-exceeded" and "--force" in refused["command_hint"]
    forced = world.run({"action": "failover", "force": True})
    assert forced["ok"] and len(world.promotions()) == 1
    _completed(world)


def test_no_failover_when_operation_already_under_way(world: World) -> None:
    emulator.set_promotion_time(30, pending_seconds=2, auto_complete=False)
    world.client("rds").failover_global_cluster(
        GlobalClusterIdentifier="magento-gdb", TargetDbClusterIdentifier=world.secondary_arn, AllowDataLoss=True
    )
    emulator.set_dark(PRIMARY)
    result = world.run(SCHEDULED)
    # Promotion to *this* region started outside the handler: it does not start another.
    assert result["action"] == "noop" and "under way" in result["reason"]
    assert len(world.promotions()) == 1


def test_local_already_writer_is_noop(world: World) -> None:
    emulator.set_dark(PRIMARY)
    world.run(SCHEDULED)
    result = world.run({"action": "failover"})
    assert result["ok"] and result["action"] == "noop" and len(world.promotions()) == 1


def test_throttling_on_promotion_is_retried_once_promoted(world: World) -> None:
    fault = emulator.inject_fault("error", service="rds", operation="FailoverGlobalCluster", error_code="Throttling", remaining=1)
    emulator.set_dark(PRIMARY)
    result = world.run(SCHEDULED)
    assert result["ok"], result
    assert fault.hits == 1 and len(world.promotions()) == 1
    _completed(world)


def test_read_timeout_after_processing_does_not_promote_twice(world: World) -> None:
    emulator.inject_fault("read_timeout", service="rds", operation="FailoverGlobalCluster", after_processing=True, remaining=1)
    emulator.set_dark(PRIMARY)
    result = world.run(SCHEDULED)
    assert result["ok"], result
    assert len(world.promotions()) == 1
    _completed(world)


def test_invalid_global_cluster_state_leaves_nothing_half_done(world: World) -> None:
    emulator.inject_fault("error", service="rds", operation="FailoverGlobalCluster", error_code="InvalidGlobalClusterStateFault", remaining=1)
    emulator.set_dark(PRIMARY)
    result = world.run(SCHEDULED)
    assert not result["ok"] and "InvalidGlobalClusterStateFault" in result["error"]
    assert world.promotions() == [] and world.capacity() == (1, 1, 2)
    assert world.param("/magento-dr/secondary/active") == "false"
    assert world.param("/magento-dr/secondary/failover/lease") is None
    retry = world.run(SCHEDULED)
    assert retry["ok"] and len(world.promotions()) == 1
    _completed(world)


def test_resume_after_partial_failure(world: World) -> None:
    emulator.inject_fault("error", service="autoscaling", operation="UpdateAutoScalingGroup", error_code="ValidationError", remaining=1)
    emulator.set_dark(PRIMARY)
    first = world.run(SCHEDULED)
    assert not first["ok"] and "ValidationError" in first["error"]
    assert world.writer() == world.secondary_arn and world.capacity() == (1, 1, 2)
    # The other steps ran, and the operator heard at once what failed and how to do it by hand.
    assert world.param("/magento-dr/secondary/active") == "true"
    msgs = world.messages()
    assert len(msgs) == 1 and "INCOMPLETE" in msgs[0]["subject"]
    [failed] = msgs[0]["message"]["failed_steps"]
    assert failed["step"] == "scale_asg" and "ValidationError" in failed["reason"]
    assert "aws autoscaling update-auto-scaling-group" in failed["run_this"] and "--desired-capacity 2" in failed["run_this"]
    second = world.run(SCHEDULED)
    assert second["ok"] and second["action"] == "finish-steps", second
    _completed(world)
    assert len(world.promotions()) == 1
    steps = [(e["step"], e["result"]) for e in second["operation"]["timeline"]]
    assert ("scale_asg", "failed") in steps and steps[-2:] == [("resume", "ok"), ("scale_asg", "ok")]
    assert second["operation"]["status"] == "complete" and second["operation"]["failed_steps"] == {}
    assert world.messages() == []  # the notification went out once, with the failure


def test_concurrent_invocations_promote_exactly_once(world: World) -> None:
    emulator.set_dark(PRIMARY)
    world.client("ssm").put_parameter(
        Name="/magento-dr/secondary/failover/probes", Type="String", Overwrite=True,
        Value=json.dumps({"consecutive_failures": 2, "first_failure_at": world.clock.now()}),
    )
    results: list[dict[str, Any]] = []
    barrier = threading.Barrier(4)

    def go() -> None:
        barrier.wait()
        results.append(world.run(SCHEDULED))

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 4
    assert len(world.promotions()) == 1
    final = world.run(SCHEDULED)
    assert final["writer"] == 1
    if final["action"] == "finish-steps":  # a loser may have finished the steps itself
        assert final["ok"]
    _completed(world)
    assert len([m for m in world.messages() if "complete" in (m["subject"] or "")]) == 1


def test_local_region_api_unreachable_is_inconclusive_and_writes_nothing(world: World) -> None:
    emulator.set_dark(SECONDARY)
    result = world.run(SCHEDULED)
    assert not result["ok"] and result["action"] == "inconclusive"
    emulator.set_dark(SECONDARY, False)
    assert world.param("/magento-dr/secondary/failover/probes") is None


def _old_primary_env(world: World) -> dict[str, str]:
    """The primary's function environment (the world's function runs as the secondary)."""
    old = dict(world.env)
    old.update(
        MDR_STACK="primary", MDR_REGION=PRIMARY, MDR_PEER_REGION=SECONDARY, MDR_LOCAL_CLUSTER_ID="shop-primary",
        MDR_LOCAL_CLUSTER_ARN=world.primary_arn, MDR_PEER_HEALTH_URL=world.health.url(SECONDARY),
        MDR_SSM_PREFIX="/magento-dr/primary", MDR_PEER_SSM_PREFIX="/magento-dr/secondary",
        MDR_ASG_NAME="web-primary", MDR_CACHE_REPLICATION_GROUP_ID="cache-primary",
        MDR_TOPIC_ARN=world.env["MDR_TOPIC_ARN"].replace(SECONDARY, PRIMARY),
    )
    world.client("ssm", PRIMARY).put_parameter(Name="/magento-dr/primary/active", Value="true", Type="String", Overwrite=True)
    return old


def _writer_points(world: World, region: str, stack: str) -> list[float]:
    stats = world.client("cloudwatch", region).get_metric_statistics(
        Namespace="MagentoDR", MetricName="RegionHoldsWriter",
        Dimensions=[{"Name": "Region", "Value": region}, {"Name": "Stack", "Value": stack}],
        StartTime="2000-01-01T00:00:00Z", EndTime="2100-01-01T00:00:00Z", Period=60, Statistics=["Maximum"],
    )["Datapoints"]
    return [d["Maximum"] for d in stats]


def test_recovered_old_primary_fences_itself(world: World) -> None:
    emulator.set_dark(PRIMARY)
    world.run(SCHEDULED)
    emulator.set_dark(PRIMARY, False)
    result = failover.handle(SCHEDULED, _old_primary_env(world), world.clock)
    assert result["fenced"] and result["writer"] == 0 and result["action"] == "noop", result
    assert world.param("/magento-dr/primary/active", PRIMARY) == "false"


def test_activating_a_region_records_when_in_that_region_only(world: World) -> None:
    emulator.set_dark(PRIMARY)
    world.run(SCHEDULED)
    record = "/magento-dr/activation/magento-gdb"
    assert world.param(record) == world.secondary_arn  # its LastModifiedDate is when
    emulator.set_dark(PRIMARY, False)
    assert world.param(record, PRIMARY) is None


def test_recovered_old_primary_with_a_stale_view_claims_nothing_and_fences_itself(world: World) -> None:
    """Its region's API still names its own cluster the writer for a while (G6): the peer names another, activated since."""
    emulator.set_stale_view_after_outage(120)
    emulator.set_dark(PRIMARY)
    world.run(SCHEDULED)
    emulator.set_dark(PRIMARY, False)
    old = _old_primary_env(world)
    result = failover.handle(SCHEDULED, old, world.clock)
    assert (result["action"], result["guard"], result["writer"], result["fenced"]) == ("noop", "stale-writer-view", 0, True), result
    assert result["status"]["writer_here"] and "stale view" in result["status"]["stale_writer_view"]
    assert world.param("/magento-dr/primary/active", PRIMARY) == "false"
    assert _writer_points(world, PRIMARY, "primary") == [0.0]  # no vote, not even the one at the start of the evaluation
    # An operator in that region is refused rather than acting on the stale view.
    refused = failover.handle({"action": "failback"}, old, world.clock)
    assert not refused["ok"] and refused["guard"] == "stale-writer-view" and len(world.promotions()) == 1
    # The region that took over, facing the stale peer's disagreement, keeps its claim: it was activated last.
    mine = world.run(SCHEDULED)
    assert (mine["writer"], mine["status"]["stale_writer_view"]) == (1, ""), mine
    # Once its API agrees, the old primary is an ordinary fenced reader.
    emulator.advance(121)
    after = failover.handle(SCHEDULED, old, world.clock)
    assert after["writer"] == 0 and not after["status"]["stale_writer_view"] and not after["fenced"], after


def test_switchover_and_failback_are_planned(world: World) -> None:
    result = world.run({"action": "switchover"})
    assert result["ok"], result
    assert world.promotions() == [("magento-gdb", world.secondary_arn, "switchover")]
    _completed(world)


def test_switchover_refused_while_peer_dark(world: World) -> None:
    emulator.set_dark(PRIMARY)
    result = world.run({"action": "switchover"})
    assert not result["ok"] and result["guard"] == "peer-unreachable" and world.promotions() == []


def test_failover_refused_while_peer_healthy_unless_forced(world: World) -> None:
    result = world.run({"action": "failover"})
    assert not result["ok"] and result["guard"] == "peer-healthy" and world.promotions() == []


def test_dry_run_and_status_make_no_write_calls(world: World) -> None:
    emulator.set_dark(PRIMARY)
    emulator.STATE.calls.clear()
    for cmd in ({"action": "status"}, {"action": "failover", "dry_run": True}):
        result = world.run(cmd)
        assert result["dry_run"]
    writes = [op for (_s, op, _r) in emulator.STATE.calls if not op.startswith(("Describe", "Get", "List"))]
    assert writes == [] and world.promotions() == []


@pytest.mark.parametrize("event", [None, [], "ALARM", {"detail": {"state": "ALARM"}}, {"action": "reboot"}])
def test_rejected_events_make_no_aws_call(world: World, event: Any) -> None:
    emulator.STATE.client_calls.clear()
    result = world.run(event)
    assert result["action"] == "rejected" and result["reason"]
    assert emulator.STATE.client_calls == []


def test_cache_failover_already_in_progress_is_waited_for(world: World) -> None:
    ec = world.client("elasticache")
    ec.failover_global_replication_group(
        GlobalReplicationGroupId=world.env["MDR_CACHE_GLOBAL_DATASTORE_ID"], PrimaryRegion=SECONDARY, PrimaryReplicationGroupId="cache-secondary"
    )
    emulator.set_dark(PRIMARY)
    result = world.run(SCHEDULED)
    assert result["ok"], result
    _completed(world)


def _version(world: World, name: str) -> int | None:
    try:
        return int(world.client("ssm").get_parameter(Name=name)["Parameter"]["Version"])
    except Exception:  # noqa: BLE001 - absent
        return None


def test_healthy_minute_probes_at_a_fixed_cadence_without_ssm_writes(world: World) -> None:
    # The stack sizes the rounds to fill the one-minute schedule: a peer that goes
    # dark right after a successful probe is seen about one interval later.
    first = world.run(SCHEDULED, MDR_PROBES_PER_INVOCATION="1")
    assert first["action"] == "noop"
    # The first run records the synchronization status it saw while the peer answered (once).
    assert json.loads(world.param("/magento-dr/secondary/failover/probes") or "{}")["sync_in_contact"] == "connected"
    versions = {name: _version(world, name) for name in ("/magento-dr/secondary/active", "/magento-dr/secondary/failover/probes")}
    slept_before = world.clock.slept
    result = world.run(SCHEDULED, MDR_PROBES_PER_INVOCATION="6")
    assert result["action"] == "noop" and result["probes"] == [True] * 6
    assert world.clock.slept - slept_before == pytest.approx(50, abs=1.0)  # 5 gaps of ~10 s
    assert {name: _version(world, name) for name in versions} == versions  # nothing changed, nothing written


def test_a_dark_peer_is_confirmed_within_one_evaluation_and_probing_stops_there(world: World) -> None:
    world.run(SCHEDULED, MDR_PROBES_PER_INVOCATION="1")  # a healthy baseline
    emulator.set_dark(PRIMARY)
    result = world.run(SCHEDULED, MDR_PROBES_PER_INVOCATION="6")
    assert result["probes"] == [False, False, False]  # the threshold (3) is met: no further probes
    assert result["action"] == "promote"


def test_writer_signal_is_published_at_the_start_and_the_end_of_an_evaluation(world: World) -> None:
    # The Route 53 writer alarm breaches on one empty minute, so a ~55 s evaluation
    # must put a datapoint into every period: once from the snapshot, once at the end.
    world.run(SCHEDULED, MDR_PROBES_PER_INVOCATION="6")
    stats = world.client("cloudwatch").get_metric_statistics(
        Namespace="MagentoDR",
        MetricName="RegionHoldsWriter",
        Dimensions=[{"Name": "Region", "Value": SECONDARY}, {"Name": "Stack", "Value": "secondary"}],
        StartTime="2000-01-01T00:00:00Z",
        EndTime="2100-01-01T00:00:00Z",
        Period=86400 * 365,
        Statistics=["SampleCount", "Maximum"],
    )["Datapoints"]
    assert sum(d["SampleCount"] for d in stats) == 2 and max(d["Maximum"] for d in stats) == 0


def test_a_confirmed_promotion_ends_the_evaluation_as_the_writer(world: World) -> None:
    emulator.set_dark(PRIMARY)
    result = world.run(SCHEDULED)
    assert result["action"] == "promote" and result["ok"], result
    stats = world.client("cloudwatch").get_metric_statistics(
        Namespace="MagentoDR",
        MetricName="RegionHoldsWriter",
        Dimensions=[{"Name": "Region", "Value": SECONDARY}, {"Name": "Stack", "Value": "secondary"}],
        StartTime="2000-01-01T00:00:00Z",
        EndTime="2100-01-01T00:00:00Z",
        Period=86400 * 365,
        Statistics=["Maximum", "Minimum"],
    )["Datapoints"]
    assert stats[0]["Minimum"] == 0 and stats[0]["Maximum"] == 1  # 0 before promoting, 1 once confirmed


# ---------------------------------------------------------------- peer RDS signal = "the API answered"
@pytest.mark.parametrize("status", ["failing-over", "modifying", "maintenance", "upgrading", "backing-up", "rebooting"])
def test_peer_cluster_not_available_is_still_alive(world: World, status: str) -> None:
    # An in-region Aurora failover (or maintenance) of the live primary plus a slow shop:
    # the region is there, so this must never count towards a cross-region data-loss failover.
    world.health.set_healthy(PRIMARY, False)
    rds_backends["123456789012"][PRIMARY].clusters["shop-primary"].status = status
    result = world.run(SCHEDULED)
    assert result["action"] == "noop" and result["probes"] == [True, True, True], result
    assert world.promotions() == [] and json.loads(world.param("/magento-dr/secondary/failover/probes") or "{}")["consecutive_failures"] == 0


@pytest.mark.parametrize("code", ["Throttling", "AccessDenied", "DBClusterNotFoundFault", "InternalFailure"])
def test_peer_rds_service_error_is_still_alive(world: World, code: str) -> None:
    world.health.set_healthy(PRIMARY, False)
    fault = emulator.inject_fault("error", service="rds", operation="DescribeDBClusters", region=PRIMARY,
                                  error_code=code, status=500 if code == "InternalFailure" else 400, remaining=None)
    result = world.run(SCHEDULED)
    assert fault.hits == 3
    assert result["action"] == "noop" and result["probes"] == [True, True, True], result
    assert world.promotions() == []


@pytest.mark.parametrize("kind", ["connect", "connect_timeout", "read_timeout"])
def test_peer_rds_transport_failure_fails_the_signal(world: World, kind: str) -> None:
    world.health.set_healthy(PRIMARY, False)
    fault = emulator.inject_fault(kind, service="rds", operation="DescribeDBClusters", region=PRIMARY, remaining=None)
    result = world.run(SCHEDULED)
    assert fault.hits == 3 and result["probes"] == [False, False, False]
    assert result["action"] == "promote" and len(world.promotions()) == 1


def test_dark_peer_fails_the_rds_signal(world: World) -> None:
    adapter = failover.adapter_for(Settings.from_env(world.env))
    assert adapter.probe_peer_rds(world.primary_arn)
    emulator.set_dark(PRIMARY)
    assert not adapter.probe_peer_rds(world.primary_arn)


# ---------------------------------------------------------------- step order, budgets, retries
def _ok_steps(op: dict[str, Any]) -> list[str]:
    return [e["step"] for e in op["timeline"] if e["result"] == "ok" and e["step"] in STEPS]


def _writer_metric_max(world: World) -> float:
    stats = world.client("cloudwatch").get_metric_statistics(
        Namespace="MagentoDR", MetricName="RegionHoldsWriter",
        Dimensions=[{"Name": "Region", "Value": SECONDARY}, {"Name": "Stack", "Value": "secondary"}],
        StartTime="2000-01-01T00:00:00Z", EndTime="2100-01-01T00:00:00Z", Period=86400 * 365, Statistics=["Maximum"],
    )["Datapoints"]
    return max(d["Maximum"] for d in stats)


def test_failing_cache_failover_blocks_nothing_and_is_retried_alone(world: World) -> None:
    refusal = emulator.inject_fault("error", service="elasticache", operation="FailoverGlobalReplicationGroup",
                                    error_code="InvalidGlobalReplicationGroupStateFault", remaining=None)
    emulator.set_dark(PRIMARY)
    first = world.run(SCHEDULED)
    assert not first["ok"] and "cache_failover" in first["error"] and "InvalidGlobalReplicationGroupState" in first["error"]
    # What the shop needs to take orders happened; the Magento commands ran; the operator was told.
    assert world.writer() == world.secondary_arn and world.capacity() == (2, 2, 4)
    assert world.param("/magento-dr/secondary/active") == "true"
    assert emulator.STATE.count_calls("SendCommand") == 1
    op = first["operation"]
    assert op["status"] == "promoted" and set(op["failed_steps"]) == {"cache_failover"}
    assert [(e["step"], e["result"]) for e in op["timeline"]][3:] == [
        ("scale_asg", "ok"), ("activate_region", "ok"), ("cache_failover", "failed"), ("run_commands", "ok"), ("notify", "ok")]
    msgs = world.messages()
    assert len(msgs) == 1 and "INCOMPLETE" in msgs[0]["subject"] and "1 step(s) failed" in msgs[0]["subject"]
    body = msgs[0]["message"]
    assert "FAILED steps: cache_failover" in body["summary"]
    [failed] = body["failed_steps"]
    gid = world.env["MDR_CACHE_GLOBAL_DATASTORE_ID"]
    assert failed["step"] == "cache_failover" and "InvalidGlobalReplicationGroupState" in failed["reason"]
    assert f"aws elasticache failover-global-replication-group --region {SECONDARY} --global-replication-group-id {gid}" in failed["run_this"]
    assert (f"aws elasticache disassociate-global-replication-group --region {SECONDARY} --global-replication-group-id {gid} "
            f"--replication-group-id cache-secondary --replication-group-region {SECONDARY}") in failed["run_this"]
    assert world.cache_roles() == {PRIMARY: "primary", SECONDARY: "secondary"}
    # The evaluation ends publishing writer=1: the region is the writer, whatever the cache did.
    assert _writer_metric_max(world) == 1

    # Next invocation: only the cache step is retried; then the operation is complete.
    emulator.clear_faults()
    refusals = refusal.hits
    second = world.run(SCHEDULED)
    assert second["ok"] and second["action"] == "finish-steps", second
    _completed(world)
    op = second["operation"]
    assert op["status"] == "complete" and op["failed_steps"] == {}
    assert [(e["step"], e["result"]) for e in op["timeline"]][-2:] == [("resume", "ok"), ("cache_failover", "ok")]
    assert sorted(_ok_steps(op)) == sorted(STEPS)  # every step succeeded exactly once
    assert emulator.STATE.count_calls("UpdateAutoScalingGroup") == 1 and emulator.STATE.count_calls("SendCommand") == 1
    assert world.messages() == [] and len(world.promotions()) == 1 and refusal.hits == refusals
    third = world.run(SCHEDULED)
    assert third["ok"] and third["action"] == "noop" and world.messages() == []


def test_an_operator_disassociation_completes_the_cache_step(world: World) -> None:
    # AWS may refuse FailoverGlobalReplicationGroup while the datastore's primary region is lost;
    # the report tells the operator to disassociate this region's group, which leaves it a
    # standalone, writable primary. The next evaluation must accept that and finish.
    emulator.inject_fault("error", service="elasticache", operation="FailoverGlobalReplicationGroup",
                          error_code="InvalidGlobalReplicationGroupStateFault", remaining=None)
    emulator.set_dark(PRIMARY)
    first = world.run(SCHEDULED)
    assert not first["ok"] and set(first["operation"]["failed_steps"]) == {"cache_failover"}
    gid = world.env["MDR_CACHE_GLOBAL_DATASTORE_ID"]
    world.client("elasticache").disassociate_global_replication_group(  # what the report told the operator to run
        GlobalReplicationGroupId=gid, ReplicationGroupId="cache-secondary", ReplicationGroupRegion=SECONDARY
    )
    second = world.run(SCHEDULED)
    assert second["ok"], second
    op = second["operation"]
    assert op["status"] == "complete" and op["failed_steps"] == {}
    last = op["timeline"][-1]
    assert (last["step"], last["result"]) == ("cache_failover", "ok") and "standalone" in last["detail"]


def test_cache_failover_is_bounded_by_its_own_budget(world: World) -> None:
    emulator.set_promotion_time(30, pending_seconds=2, cache_failover_seconds=1000)
    emulator.set_dark(PRIMARY)
    marks: dict[str, float] = {}
    real_event = runner.Runner._event

    def spy(self: Any, op: Any, step: str, result: str, detail: str) -> None:
        marks[f"{step}:{result}"] = emulator.STATE.clock_offset
        real_event(self, op, step, result, detail)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner.Runner, "_event", spy)
        first = world.run(SCHEDULED)
    assert not first["ok"] and "not primary within 120s" in first["error"]
    assert 120 <= marks["cache_failover:failed"] - marks["activate_region:ok"] <= 125
    assert world.param("/magento-dr/secondary/active") == "true" and world.capacity() == (2, 2, 4)
    assert len(world.messages()) == 1
    emulator.advance(1000)  # the datastore finishes the failover requested above
    second = world.run(SCHEDULED)
    assert second["ok"] and second["operation"]["status"] == "complete", second
    _completed(world)
    assert emulator.STATE.count_calls("FailoverGlobalReplicationGroup") == 1  # requested once, then waited for


def test_run_command_is_bounded_by_its_own_budget(world: World) -> None:
    emulator.set_dark(PRIMARY)
    t0 = emulator.STATE.clock_offset
    first = world.run(SCHEDULED, MDR_INSTANCE_TAG_VALUE="no-such-group", MDR_RUN_COMMAND_TIMEOUT_SECONDS="60")
    assert not first["ok"] and "run_commands" in first["error"] and "within 60s" in first["error"]
    _completed(world)  # cache, capacity and active flag all done in the same invocation
    body = world.messages()[0]["message"]
    assert [f["step"] for f in body["failed_steps"]] == ["run_commands"]
    run_this = body["failed_steps"][0]["run_this"]
    # By hand as the step does it: once, on one running instance (never every instance by tag).
    assert "aws ssm send-command" in run_this and "--instance-ids $(aws ec2 describe-instances" in run_this and "--targets" not in run_this
    # probes (~20 s) + promotion (~30 s) + cache (~10 s) + the 60 s run-command budget
    assert emulator.STATE.clock_offset - t0 < 140
    second = world.run(SCHEDULED)
    assert second["ok"] and second["operation"]["status"] == "complete"
    assert [(e["step"], e["result"]) for e in second["operation"]["timeline"]][-1] == ("run_commands", "ok")
    assert emulator.STATE.count_calls("SendCommand") == 1


# ---------------------------------------------------------------- stale consecutive-failure counts
def test_a_stale_failure_count_does_not_add_up_across_a_long_gap(world: World) -> None:
    emulator.set_dark(PRIMARY)
    first = world.run(SCHEDULED, MDR_PROBES_PER_INVOCATION="2")
    assert first["action"] == "noop" and "2/3" in first["reason"]
    stored = json.loads(world.param("/magento-dr/secondary/failover/probes") or "{}")
    assert stored["consecutive_failures"] == 2 and stored["last_probe_at"] is not None
    emulator.advance(3 * 3600)  # hours later, still (or again) failing
    second = world.run(SCHEDULED, MDR_PROBES_PER_INVOCATION="1")
    assert second["action"] == "noop" and "1/3" in second["reason"], second
    assert world.promotions() == []
    stored = json.loads(world.param("/magento-dr/secondary/failover/probes") or "{}")
    assert stored["consecutive_failures"] == 1 and stored["first_failure_at"] == stored["last_probe_at"]
    # Within the gap, failures keep adding up across invocations.
    emulator.advance(40)
    third = world.run(SCHEDULED, MDR_PROBES_PER_INVOCATION="1")
    assert third["action"] == "noop" and "2/3" in third["reason"]


# ---------------------------------------------------------------- a full minute of evidence
def test_seven_failed_probes_span_a_full_minute_even_when_evaluations_come_early(world: World) -> None:
    # The stacks' settings: 7 consecutive failures, 6 probes a minute, 10 s apart. The next
    # evaluation starts only 3 s after the previous one's last probe (the previous one started late
    # in its tick): its first probe still waits for the cadence, so the 7 failed probes span 60 s.
    env = {"MDR_CONSECUTIVE_FAILURES": "7", "MDR_PROBES_PER_INVOCATION": "6"}
    emulator.set_dark(PRIMARY)
    first = world.run(SCHEDULED, **env)
    assert first["action"] == "noop" and first["probes"] == [False] * 6
    stored = json.loads(world.param("/magento-dr/secondary/failover/probes") or "{}")
    assert stored["last_probe_at"] - stored["first_failure_at"] == pytest.approx(50, abs=0.1)
    emulator.advance(3 - (emulator.STATE.now() - stored["last_probe_at"]))
    second = world.run(SCHEDULED, **env)
    assert second["action"] == "promote" and second["probes"] == [False], second
    assert "over 60s" in second["reason"]
    op = second["operation"]
    requested = next(e["at"] for e in op["timeline"] if e["step"] == "promotion-requested")
    assert datetime.fromisoformat(requested).timestamp() - op["first_failure_at"] >= 60
