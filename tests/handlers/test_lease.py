"""Exactly once when the operator and the schedule meet, and a crashed run never holds the shop for long.

* A scheduled run decides before it probes; the operator's CLI may promote meanwhile. The run
  decides again on fresh AWS state once it holds the lease.
* The lease is short and renewed while its holder works, so a holder that dies (Lambda timeout,
  out of memory) keeps the next runs out for about two minutes, not fifteen.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest

import emulator
from handlers import failover, runner
from handlers import lease as leases
from handlers.failover import adapter_for
from handlers.settings import Settings

from .conftest import PRIMARY, SCHEDULED, FakeClock, World

LEASE = "/magento-dr/secondary/failover/lease"


class InterleavingClock(FakeClock):
    """Runs `hook` once, during the scheduled run's first pause between probes."""

    def __init__(self, hook: Callable[[], None]) -> None:
        super().__init__()
        self.hook: Callable[[], None] | None = hook

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()


def _completion_reports(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if " complete: " in (m["subject"] or "")]


def test_the_operators_failover_during_a_scheduled_runs_probes_is_not_repeated(world: World) -> None:
    emulator.set_promotion_time(5, pending_seconds=1, cache_failover_seconds=2)
    emulator.set_dark(PRIMARY)
    cli: dict[str, Any] = {}

    def operator_runs_failover() -> None:
        # RUNBOOK "How to talk to the failover function", A: the CLI, with the function's environment.
        cli.update(world.run({"action": "failover", "requested_by": "cli"}))

    world.clock = InterleavingClock(operator_runs_failover)
    scheduled = world.run(SCHEDULED)
    assert cli["ok"] and cli["operation"]["status"] == "complete", cli
    # The scheduled run reached its threshold on a snapshot from before the operator's promotion;
    # holding the lease it read AWS again and found the writer here, the work done.
    assert scheduled["ok"] and scheduled["action"] == "noop" and scheduled["reason"] == "this region holds the writer", scheduled
    assert len(world.promotions()) == 1
    assert emulator.STATE.count_calls("FailoverGlobalCluster") == 1
    assert emulator.STATE.count_calls("SendCommand") == 1  # Magento's post-failover commands ran once
    assert len(_completion_reports(world.messages())) == 1


def test_the_operators_failover_finishing_its_steps_leaves_the_scheduled_run_only_the_rest(world: World) -> None:
    # The operator's run dies after promoting (no steps); the scheduled run that was probing
    # meanwhile finds the writer here and that open record, and finishes it: no second promotion.
    emulator.set_promotion_time(5, pending_seconds=1, cache_failover_seconds=2)
    emulator.set_dark(PRIMARY)

    class Died(BaseException):
        pass

    def operator_run_dies_after_promoting() -> None:
        with pytest.MonkeyPatch.context() as m:
            m.setattr(runner.Runner, "_post_steps", lambda self, op: (_ for _ in ()).throw(Died()))
            with pytest.raises(Died):
                world.run({"action": "failover", "requested_by": "cli"})

    world.clock = InterleavingClock(operator_run_dies_after_promoting)
    scheduled = world.run(SCHEDULED)
    assert scheduled["ok"] and scheduled["action"] == "finish-steps", scheduled
    assert scheduled["operation"]["status"] == "complete" and scheduled["operation"]["kind"] == "failover"
    assert len(world.promotions()) == 1 and emulator.STATE.count_calls("SendCommand") == 1
    assert len(_completion_reports(world.messages())) == 1


class Crash(BaseException):
    """The Lambda runtime killing the invocation: no `finally`, no lease release, nothing flushed."""


def test_a_run_that_dies_after_promoting_is_resumed_within_about_two_minutes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator.set_dark(PRIMARY)
    with monkeypatch.context() as m:
        m.setattr(runner.Runner, "_post_steps", lambda self, op: (_ for _ in ()).throw(Crash()))
        m.setattr(runner.Runner, "_release_lease", lambda self: None)
        with pytest.raises(Crash):
            world.run(SCHEDULED)
    crashed_at = emulator.STATE.now()
    assert world.writer() == world.secondary_arn and world.capacity() == (1, 1, 2)
    assert world.param(LEASE) is not None  # the dead run's lease is still there
    runs: list[tuple[float, dict[str, Any]]] = []
    while not runs or runs[-1][1]["action"] != "finish-steps":
        emulator.advance(60)  # the schedule: one evaluation a minute
        runs.append((emulator.STATE.now() - crashed_at, world.run(SCHEDULED)))
        assert len(runs) < 6, runs
    blocked = [r for _t, r in runs[:-1]]
    assert all(r["action"] == "noop" and "holds the failover lease" in r["reason"] for r in blocked), blocked
    waited, resumed = runs[-1]
    assert waited <= leases.LEASE_TTL_SECONDS + 60, waited  # within ~2 minutes of the crash, plus one schedule period
    assert resumed["ok"] and resumed["operation"]["status"] == "complete", resumed
    assert world.capacity() == (2, 2, 4) and world.param("/magento-dr/secondary/active") == "true"
    # Every blocked run said so in a metric the stack alarms on.
    stats = world.client("cloudwatch").get_metric_statistics(
        Namespace="MagentoDR", MetricName="FailoverLeaseBlocked",
        Dimensions=[{"Name": "Region", "Value": "us-west-2"}, {"Name": "Stack", "Value": "secondary"}],
        StartTime="2000-01-01T00:00:00Z", EndTime="2100-01-01T00:00:00Z", Period=86400 * 365, Statistics=["Sum"],
    )["Datapoints"]
    assert sum(d["Sum"] for d in stats) == len(blocked) >= 1


def test_a_lease_lasts_by_ssms_clock_not_by_what_its_holder_wrote(world: World) -> None:
    # A holder whose clock runs an hour ahead (or a lease in the old 15-minute format) cannot keep
    # the shop waiting longer than a TTL after its last write.
    far = emulator.STATE.now() + 3600
    world.client("ssm").put_parameter(Name=LEASE, Type="String", Value=json.dumps({"owner": "laptop", "acquired_at": far, "expires_at": far + 900}))
    emulator.set_dark(PRIMARY)
    blocked = world.run(SCHEDULED)
    assert blocked["action"] == "noop" and "holds the failover lease" in blocked["reason"], blocked
    emulator.advance(leases.LEASE_TTL_SECONDS + 1)
    taken = world.run(SCHEDULED)
    assert taken["ok"] and taken["operation"]["status"] == "complete", taken


def test_a_holder_that_lost_its_lease_stops_acting(world: World) -> None:
    settings = Settings.from_env(world.env)
    r = runner.Runner(settings, adapter_for(settings), world.clock)
    r.owner = "me"
    r._lease_renewed = world.clock.now()
    world.client("ssm").put_parameter(Name=LEASE, Type="String", Value=leases.Lease("someone-else", 0.0, 0.0, "cli").encode())
    with pytest.raises(runner.LeaseLost, match="taken over"):
        r._keepalive(force=True)
    assert r._lease_renewed is None
    r._release_lease()  # not ours: left alone
    assert json.loads(world.param(LEASE) or "{}")["owner"] == "someone-else"


def test_a_long_wait_renews_the_lease_and_keeps_the_writer_signal_going(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator.set_promotion_time(200, pending_seconds=2, cache_failover_seconds=100)
    emulator.set_dark(PRIMARY)
    renewals: list[float] = []
    real_renew = runner.Runner._renew_lease

    def spy(self: runner.Runner, now: float) -> None:
        real_renew(self, now)
        renewals.append(now)

    real_acquire = runner.Runner._acquire_lease

    def acquired(self: runner.Runner, out: Any, metrics: Any) -> bool:
        renewals.append(emulator.STATE.now())
        return real_acquire(self, out, metrics)

    monkeypatch.setattr(runner.Runner, "_renew_lease", spy)
    monkeypatch.setattr(runner.Runner, "_acquire_lease", acquired)
    result = world.run(SCHEDULED)
    assert result["ok"], result
    ended = emulator.STATE.now()
    assert ended - renewals[0] > 300  # a promotion of 200 s and a cache failover of 100 s
    marks = renewals
    poll = float(world.env["MDR_POLL_SECONDS"])
    assert max(b - a for a, b in itertools.pairwise(marks)) <= leases.LEASE_RENEW_SECONDS + poll
    assert ended - renewals[-1] <= leases.LEASE_RENEW_SECONDS + poll  # never near the TTL while alive
    points = world.client("cloudwatch").get_metric_statistics(
        Namespace="MagentoDR", MetricName="RegionHoldsWriter",
        Dimensions=[{"Name": "Region", "Value": "us-west-2"}, {"Name": "Stack", "Value": "secondary"}],
        StartTime="2000-01-01T00:00:00Z", EndTime="2100-01-01T00:00:00Z", Period=60, Statistics=["SampleCount"],
    )["Datapoints"]
    minutes = sorted(p["Timestamp"] for p in points)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(minutes)]
    assert gaps and max(gaps) <= 60, gaps  # no empty alarm period during a five-minute invocation


def test_a_reader_whose_clock_runs_fast_does_not_take_over_a_live_lease(world: World) -> None:
    """An operator's workstation five minutes ahead: by its own clock the holder's lease lapsed long ago. SSM's clock
    (LastModifiedDate, and the Date header of the same answer) says it was renewed a moment ago: it stays blocked."""

    class FastClock(FakeClock):
        def now(self) -> float:
            return super().now() + 300

    world.client("ssm").put_parameter(Name=LEASE, Type="String", Value=leases.Lease("lambda", 0.0, 0.0, "evaluation").encode())
    emulator.set_dark(PRIMARY)
    blocked = failover.handle({"action": "failover", "dry_run": False, "force": False}, world.env, FastClock())
    assert "holds the failover lease" in str(blocked.get("reason")), blocked
    assert world.promotions() == [] and json.loads(world.param(LEASE) or "{}")["owner"] == "lambda"
    emulator.advance(leases.LEASE_TTL_SECONDS + 1)  # the holder died: SSM's clock says so, the lease is taken over
    taken = failover.handle({"action": "failover", "dry_run": False, "force": False}, world.env, FastClock())
    assert taken["action"] != "noop" and world.promotions(), taken
