"""Table tests of the pure decision core."""

from __future__ import annotations

from dataclasses import replace

import pytest

from handlers.decide import (
    STEPS,
    Act,
    FailoverView,
    OperationView,
    Policy,
    ProbeState,
    Snapshot,
    decide,
    is_stale,
    next_probe_state,
    remaining_steps,
    should_probe,
)
from handlers.events import Evaluate, OperatorCommand

LOCAL = "arn:aws:rds:us-west-2:1:cluster:local"
PEER = "arn:aws:rds:us-east-1:1:cluster:peer"
BUNKER = "arn:aws:rds:eu-central-1:1:cluster:bunker"  # a database standby outside the pair
AUTO = Policy(mode="automatic", rpo_seconds=60, consecutive_failures=3, max_probe_gap_seconds=90)
GAP = AUTO.max_probe_gap_seconds
NOTIFY = replace(AUTO, mode="notify")
TICK = Evaluate(source="schedule")
LOST = ProbeState(consecutive_failures=3, first_failure_at=0.0)
BASE = Snapshot(now=1000.0, local_arn=LOCAL, writer_arn=PEER, active_flag=False, lag_seconds=1.0)
OPEN = OperationView("op", "failover", "promoted", 900.0, ("cache_failover",))


def cmd(action: str, **kw: bool) -> OperatorCommand:
    return OperatorCommand(action=action, **kw)


CASES = [
    # (id, snapshot, trigger, policy, action, guard/kind)
    ("rds-unreachable", replace(BASE, rds_reachable=False), TICK, AUTO, Act.INCONCLUSIVE, ""),
    ("no-global", replace(BASE, global_found=False), TICK, AUTO, Act.REFUSE, "no-global-cluster"),
    ("not-member", replace(BASE, local_is_member=False), TICK, AUTO, Act.REFUSE, "not-member"),
    ("healthy", BASE, TICK, AUTO, Act.NOOP, ""),
    ("failing-2of3", replace(BASE, probes=ProbeState(2, 0.0)), TICK, AUTO, Act.NOOP, ""),
    ("lost-auto", replace(BASE, probes=LOST), TICK, AUTO, Act.PROMOTE, "failover"),
    ("lost-notify", replace(BASE, probes=LOST), TICK, NOTIFY, Act.NOTIFY_OPERATOR, "mode-notify"),
    ("lost-notify-again", replace(BASE, probes=replace(LOST, operator_notified=True)), TICK, NOTIFY, Act.NOOP, ""),
    ("lost-lag", replace(BASE, probes=LOST, lag_seconds=61), TICK, AUTO, Act.NOTIFY_OPERATOR, "rpo-exceeded"),
    ("lost-lag-unknown", replace(BASE, probes=LOST, lag_seconds=None), TICK, AUTO, Act.NOTIFY_OPERATOR, "lag-unknown"),
    ("lost-lag-notified", replace(BASE, probes=replace(LOST, operator_notified=True), lag_seconds=61),
     TICK, AUTO, Act.REFUSE, "rpo-exceeded"),
    ("lost-unavailable", replace(BASE, probes=LOST, local_status="modifying"), TICK, AUTO, Act.NOTIFY_OPERATOR, "local-not-available"),
    ("lost-unsynced", replace(BASE, probes=LOST, local_sync="pending-resync"), TICK, AUTO, Act.NOTIFY_OPERATOR, "local-not-in-sync"),
    ("writer-here", replace(BASE, local_is_writer=True, writer_arn=LOCAL, active_flag=True), TICK, AUTO, Act.NOOP, ""),
    ("writer-inactive-auto", replace(BASE, local_is_writer=True, writer_arn=LOCAL), TICK, AUTO, Act.FINISH_STEPS, "adopt"),
    ("writer-inactive-notify", replace(BASE, local_is_writer=True, writer_arn=LOCAL), TICK, NOTIFY, Act.NOTIFY_OPERATOR, "writer-not-active"),
    ("writer-open-op", replace(BASE, local_is_writer=True, writer_arn=LOCAL, operation=OPEN), TICK, NOTIFY, Act.FINISH_STEPS, "failover"),
    ("op-elsewhere", replace(BASE, probes=LOST, failover=FailoverView("failing-over", LOCAL, PEER, True)), TICK, AUTO, Act.REFUSE, "operation-in-progress"),
    ("op-to-us-external", replace(BASE, probes=LOST, failover=FailoverView("pending", PEER, LOCAL, True)), TICK, AUTO, Act.NOOP, ""),
    ("op-to-us-ours", replace(BASE, failover=FailoverView("failing-over", PEER, LOCAL, True), operation=replace(OPEN, status="promoting")),
     TICK, AUTO, Act.WAIT_PROMOTION, "failover"),
    ("op-requested-not-visible", replace(BASE, operation=replace(OPEN, status="promoting", started_at=990.0)), TICK, AUTO, Act.WAIT_PROMOTION, "failover"),
    ("status", replace(BASE, probes=LOST), cmd("status"), AUTO, Act.REPORT_STATUS, ""),
    ("cmd-failover-peer-healthy", replace(BASE, peer_reachable_now=True), cmd("failover"), NOTIFY, Act.REFUSE, "peer-healthy"),
    ("cmd-failover-peer-down", replace(BASE, peer_reachable_now=False), cmd("failover"), NOTIFY, Act.PROMOTE, "failover"),
    ("cmd-failover-forced", replace(BASE, peer_reachable_now=True, lag_seconds=999), cmd("failover", force=True), NOTIFY, Act.PROMOTE, "failover"),
    ("cmd-failover-lag", replace(BASE, peer_reachable_now=False, lag_seconds=999), cmd("failover"), AUTO, Act.REFUSE, "rpo-exceeded"),
    ("cmd-failover-unavailable-forced", replace(BASE, peer_reachable_now=False, local_status="stopped"), cmd("failover", force=True),
     AUTO, Act.REFUSE, "local-not-available"),
    ("cmd-switchover", replace(BASE, peer_reachable_now=True), cmd("switchover"), NOTIFY, Act.PROMOTE, "switchover"),
    ("cmd-failback", replace(BASE, peer_reachable_now=True), cmd("failback"), NOTIFY, Act.PROMOTE, "failback"),
    ("cmd-switchover-peer-down", replace(BASE, peer_reachable_now=False), cmd("switchover"), AUTO, Act.REFUSE, "peer-unreachable"),
    ("cmd-switchover-unsynced", replace(BASE, peer_reachable_now=True, local_sync="pending-resync"), cmd("switchover", force=True),
     AUTO, Act.REFUSE, "local-not-in-sync"),
    ("cmd-on-writer", replace(BASE, local_is_writer=True, writer_arn=LOCAL, active_flag=True), cmd("failover"), AUTO, Act.NOOP, ""),
    ("cmd-resume", replace(BASE, local_is_writer=True, writer_arn=LOCAL, operation=OPEN), cmd("failover"), AUTO, Act.FINISH_STEPS, "failover"),
    ("cmd-adopt-external", replace(BASE, failover=FailoverView("pending", PEER, LOCAL, True)), cmd("failover"), AUTO, Act.WAIT_PROMOTION, "adopt"),
    # The writer in a database standby (an operator put it there): nothing is judged from the peer.
    ("bunker-writer-lost-peer", replace(BASE, writer_arn=BUNKER, writer_outside_pair="eu-central-1", probes=LOST),
     TICK, AUTO, Act.NOOP, ""),
    ("bunker-writer-cmd-failover", replace(BASE, writer_arn=BUNKER, writer_outside_pair="eu-central-1", peer_reachable_now=False),
     cmd("failover"), AUTO, Act.REFUSE, "writer-outside-pair"),
    ("bunker-writer-cmd-failover-forced", replace(BASE, writer_arn=BUNKER, writer_outside_pair="eu-central-1"),
     cmd("failover", force=True), AUTO, Act.PROMOTE, "failover"),
    ("bunker-writer-cmd-switchover", replace(BASE, writer_arn=BUNKER, writer_outside_pair="eu-central-1"),
     cmd("switchover"), AUTO, Act.PROMOTE, "switchover"),
    # Another secondary still being rebuilt: AWS would refuse a switchover; a failover is still possible.
    ("bunker-rebuilding-cmd-failback", replace(BASE, peer_reachable_now=True, secondaries_behind=(BUNKER,)),
     cmd("failback"), AUTO, Act.REFUSE, "secondaries-not-in-sync"),
    ("bunker-rebuilding-cmd-switchover-forced", replace(BASE, peer_reachable_now=True, secondaries_behind=(BUNKER,)),
     cmd("switchover", force=True), AUTO, Act.REFUSE, "secondaries-not-in-sync"),
    ("bunker-rebuilding-lost-peer", replace(BASE, probes=LOST, secondaries_behind=(BUNKER,)), TICK, AUTO, Act.PROMOTE, "failover"),
]


@pytest.mark.parametrize(("name", "snap", "trigger", "policy", "action", "detail"), CASES, ids=[c[0] for c in CASES])
def test_decision_table(name: str, snap: Snapshot, trigger: Evaluate | OperatorCommand, policy: Policy, action: Act, detail: str) -> None:
    d = decide(snap, trigger, policy)
    assert d.action == action, d
    if action in (Act.PROMOTE, Act.FINISH_STEPS, Act.WAIT_PROMOTION):
        assert d.kind == detail
    else:
        assert d.guard == detail
    assert d.reason


@pytest.mark.parametrize("mode", ["automatic", "notify"])
@pytest.mark.parametrize("writer", [True, False])
@pytest.mark.parametrize("flag", [True, False, None])
def test_fence_whenever_reader_claims_active(mode: str, writer: bool, flag: bool | None) -> None:
    snap = replace(BASE, local_is_writer=writer, active_flag=flag)
    d = decide(snap, TICK, replace(AUTO, mode=mode))
    assert d.fence == (not writer and flag is True)
    assert d.writer == (1 if writer else 0)


def test_exhaustive_no_data_loss_promotion_without_confirmation() -> None:
    """Over a grid of worlds, an evaluation promotes only when confirmed lost, guards pass and mode is automatic."""
    for failures in range(0, 5):
        for lag in (None, 0.0, 60.0, 61.0):
            for status in ("available", "modifying"):
                for sync in ("connected", "pending-resync", ""):
                    for mode in ("automatic", "notify"):
                        for src in ("schedule", "alarm", "sns-alarm", "rds-event", "scheduler"):
                            snap = replace(BASE, probes=ProbeState(failures, 0.0), lag_seconds=lag, local_status=status, local_sync=sync)
                            d = decide(snap, Evaluate(source=src), replace(AUTO, mode=mode))
                            ok = failures >= 3 and lag is not None and lag <= 60 and status == "available" and sync in ("", "connected") and mode == "automatic"
                            assert (d.action == Act.PROMOTE) == ok, (failures, lag, status, sync, mode, d)
                            if d.action == Act.PROMOTE:
                                assert d.kind == "failover"


def test_abandons_stale_promoting_record() -> None:
    snap = replace(BASE, probes=LOST, operation=replace(OPEN, status="promoting", started_at=0.0))
    d = decide(snap, TICK, AUTO)
    assert d.abandon_operation and d.action == Act.PROMOTE


def test_probe_state_folding() -> None:
    s = next_probe_state(ProbeState(), False, 10.0, GAP)
    s = next_probe_state(s, False, 20.0, GAP)
    assert (s.consecutive_failures, s.first_failure_at, s.last_probe_at) == (2, 10.0, 20.0)
    assert next_probe_state(replace(s, operator_notified=True), True, 30.0, GAP) == ProbeState(0, None, 30.0, False)


STALENESS = [
    # (id, previous state, probe ok, now, expected (count, first_failure_at, last_probe_at, operator_notified))
    ("fresh-failure-adds", ProbeState(2, 100.0, 150.0), False, 150.0 + GAP, (3, 100.0, 150.0 + GAP, False)),
    ("just-over-gap-restarts", ProbeState(2, 100.0, 150.0), False, 150.0 + GAP + 0.001, (1, 150.0 + GAP + 0.001, 150.0 + GAP + 0.001, False)),
    ("hours-old-count-restarts", ProbeState(2, 0.0, 60.0), False, 3 * 3600.0, (1, 3 * 3600.0, 3 * 3600.0, False)),
    ("stale-clears-notified", ProbeState(5, 0.0, 60.0, True), False, 3600.0, (1, 3600.0, 3600.0, False)),
    ("notified-kept-while-fresh", ProbeState(5, 0.0, 60.0, True), False, 70.0, (6, 0.0, 70.0, True)),
    # Records without last_probe_at: first_failure_at bounds the last failure from below.
    ("legacy-first-recent", ProbeState(2, 100.0, None), False, 150.0, (3, 100.0, 150.0, False)),
    ("legacy-first-old", ProbeState(2, 100.0, None), False, 100.0 + GAP + 1, (1, 100.0 + GAP + 1, 100.0 + GAP + 1, False)),
    ("unknown-age-restarts", ProbeState(2, None, None), False, 50.0, (1, 50.0, 50.0, False)),
    ("zero-count-old-success", ProbeState(0, None, 0.0), False, 3600.0, (1, 3600.0, 3600.0, False)),
    ("success-after-stale-resets", ProbeState(2, 0.0, 60.0), True, 3600.0, (0, None, 3600.0, False)),
]


@pytest.mark.parametrize(("name", "prev", "ok", "now", "expected"), STALENESS, ids=[c[0] for c in STALENESS])
def test_consecutive_failures_go_stale(name: str, prev: ProbeState, ok: bool, now: float, expected: tuple[object, ...]) -> None:
    s = next_probe_state(prev, ok, now, GAP)
    assert (s.consecutive_failures, s.first_failure_at, s.last_probe_at, s.operator_notified) == expected


def test_old_failures_plus_one_new_failure_never_promote() -> None:
    """The reviewer's case: a count of 2 left from hours ago + one new failure is 1, not 3."""
    old = ProbeState(2, 0.0, 10.0)
    probes = next_probe_state(old, False, 4 * 3600.0, GAP)
    d = decide(replace(BASE, now=4 * 3600.0, probes=probes), TICK, AUTO)
    assert d.action == Act.NOOP and "1/3" in d.reason
    # ...whereas the same failure within the gap completes the count.
    recent = next_probe_state(old, False, 10.0 + GAP, GAP)
    assert decide(replace(BASE, probes=recent), TICK, AUTO).action == Act.PROMOTE


def test_is_stale() -> None:
    assert not is_stale(ProbeState(), 1e9, GAP)
    assert not is_stale(ProbeState(1, 0.0, 0.0), GAP, GAP)
    assert is_stale(ProbeState(1, 0.0, 0.0), GAP + 1, GAP)


def test_should_probe_only_as_idle_reader() -> None:
    assert should_probe(BASE, TICK)
    assert not should_probe(replace(BASE, local_is_writer=True), TICK)
    assert not should_probe(replace(BASE, failover=FailoverView("pending", PEER, LOCAL, True)), TICK)
    assert not should_probe(replace(BASE, operation=OPEN), TICK)
    assert not should_probe(replace(BASE, rds_reachable=False), TICK)
    assert not should_probe(replace(BASE, writer_arn=BUNKER, writer_outside_pair="eu-central-1"), TICK)


def test_remaining_steps_in_order() -> None:
    assert remaining_steps(None) == STEPS
    assert remaining_steps(replace(OPEN, steps_done=("scale_asg", "cache_failover"))) == ("activate_region", "run_commands", "notify")
    # Retrying a failed step after the later ones finished: only that step remains.
    assert remaining_steps(replace(OPEN, steps_done=("scale_asg", "activate_region", "run_commands", "notify"))) == ("cache_failover",)


def test_shop_steps_come_before_the_cache() -> None:
    """Capacity and the active flag never wait for the cache; the notification is last."""
    assert STEPS == ("scale_asg", "activate_region", "cache_failover", "run_commands", "notify")
