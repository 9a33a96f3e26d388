"""Table tests of the pure decision core."""

from __future__ import annotations

from dataclasses import replace

import pytest

from handlers.decide import (
    REPLICATION_LAG_METRIC,
    RPO_LAG_METRIC,
    STEPS,
    Act,
    FailoverView,
    LagReading,
    OperationView,
    Policy,
    ProbeState,
    Snapshot,
    decide,
    evidence_seconds,
    is_stale,
    merge_lag,
    next_probe_state,
    peer_lost,
    pick_lag,
    remaining_steps,
    rpo_window,
    should_probe,
)
from handlers.events import Evaluate, OperatorCommand

LOCAL = "arn:aws:rds:us-west-2:1:cluster:local"
PEER = "arn:aws:rds:us-east-1:1:cluster:peer"
BUNKER = "arn:aws:rds:eu-central-1:1:cluster:bunker"  # a database standby outside the pair
AUTO = Policy(mode="automatic", rpo_seconds=60, consecutive_failures=3, max_probe_gap_seconds=90, min_evidence_seconds=20)
GAP = AUTO.max_probe_gap_seconds
NOTIFY = replace(AUTO, mode="notify")
TICK = Evaluate(source="schedule")
LOST = ProbeState(consecutive_failures=3, first_failure_at=0.0, last_probe_at=20.0, contact_lost_at=0.0, sync_in_contact="connected")


def lag(seconds: float | None, metric: str = RPO_LAG_METRIC) -> LagReading:
    """The RPO evidence: the lag in the window before the loss of contact (at 0.0)."""
    return LagReading(metric if seconds is not None else "", seconds, -300.0, 0.0, 5 if seconds is not None else 0)


BASE = Snapshot(now=1000.0, local_arn=LOCAL, writer_arn=PEER, active_flag=False, rpo_evidence=lag(1.0), db_instances=(("local-1", "available"),))
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
    ("lost-lag", replace(BASE, probes=LOST, rpo_evidence=lag(61)), TICK, AUTO, Act.NOTIFY_OPERATOR, "rpo-exceeded"),
    ("lost-lag-unknown", replace(BASE, probes=LOST, rpo_evidence=lag(None)), TICK, AUTO, Act.NOTIFY_OPERATOR, "lag-unknown"),
    ("lost-lag-not-read", replace(BASE, probes=LOST, rpo_evidence=None), TICK, AUTO, Act.NOTIFY_OPERATOR, "lag-unknown"),
    ("lost-lag-notified", replace(BASE, probes=replace(LOST, operator_notified=True), rpo_evidence=lag(61)),
     TICK, AUTO, Act.REFUSE, "rpo-exceeded"),
    # The current lag (status only) is never judged: a lag growing during the outage blocks nothing.
    ("lost-lag-growing-now", replace(BASE, probes=LOST, lag_seconds=900.0), TICK, AUTO, Act.PROMOTE, "failover"),
    ("lost-replication-lag-fallback", replace(BASE, probes=LOST, rpo_evidence=lag(30, REPLICATION_LAG_METRIC)), TICK, AUTO,
     Act.PROMOTE, "failover"),
    # Enough failed probes, but they span less than (3 - 1) x 10 s: wait for the evidence.
    ("lost-count-short-span", replace(BASE, probes=replace(LOST, last_probe_at=15.0)), TICK, AUTO, Act.NOOP, ""),
    ("lost-unavailable", replace(BASE, probes=LOST, local_status="modifying"), TICK, AUTO, Act.NOTIFY_OPERATOR, "local-not-available"),
    # SynchronizationStatus: judged as read while the peer last answered; a change during the outage is not.
    ("lost-unsynced-before", replace(BASE, probes=replace(LOST, sync_in_contact="pending-resync"), local_sync="pending-resync"),
     TICK, AUTO, Act.NOTIFY_OPERATOR, "local-not-in-sync"),
    ("lost-unsynced-only-now", replace(BASE, probes=LOST, local_sync="pending-resync"), TICK, AUTO, Act.PROMOTE, "failover"),
    ("lost-sync-absent-now", replace(BASE, probes=LOST, local_sync=""), TICK, AUTO, Act.PROMOTE, "failover"),
    ("lost-sync-never-seen-unsynced", replace(BASE, probes=replace(LOST, sync_in_contact=""), local_sync="pending-resync"),
     TICK, AUTO, Act.NOTIFY_OPERATOR, "local-not-in-sync"),
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
    ("cmd-failover-forced", replace(BASE, peer_reachable_now=True, rpo_evidence=lag(999)), cmd("failover", force=True), NOTIFY,
     Act.PROMOTE, "failover"),
    ("cmd-failover-lag", replace(BASE, peer_reachable_now=False, rpo_evidence=lag(999)), cmd("failover"), AUTO, Act.REFUSE, "rpo-exceeded"),
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


STALE = replace(BASE, local_is_writer=True, writer_arn=LOCAL, stale_view="stale view: us-east-1's RDS API names peer the writer")


@pytest.mark.parametrize(
    ("name", "snap", "trigger", "action", "fence"),
    [
        # Back from an outage, its own API still naming its cluster the writer, the peer activated since (G6): no vote,
        # cron and consumers stopped (fence), nothing adopted, not even with the flag down (which would otherwise finish
        # the steps and mark this region active).
        ("stale-active", replace(STALE, active_flag=True), TICK, Act.NOOP, True),
        ("stale-fenced", replace(STALE, active_flag=False), TICK, Act.NOOP, False),
        ("stale-open-operation", replace(STALE, active_flag=True, operation=OPEN), TICK, Act.NOOP, True),
        ("stale-operator-failback", STALE, cmd("failback"), Act.REFUSE, False),
        ("stale-operator-failover", STALE, cmd("failover", force=True), Act.REFUSE, False),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_stale_view_of_the_writer_claims_nothing(name: str, snap: Snapshot, trigger: Evaluate | OperatorCommand, action: Act, fence: bool) -> None:
    d = decide(snap, trigger, AUTO)
    assert (d.action, d.guard, d.writer, d.fence) == (action, "stale-writer-view", 0, fence), d
    assert "claims nothing" in d.reason and not snap.holds_writer
    assert not should_probe(snap, trigger)  # it holds no loss of the peer against the peer either
    # The same view, uncontradicted: the writer's own.
    assert decide(replace(snap, stale_view=""), TICK, AUTO).writer == 1


def test_status_reports_a_stale_view_without_acting() -> None:
    d = decide(replace(STALE, active_flag=True), cmd("status"), AUTO)
    assert d.action == Act.REPORT_STATUS and not d.fence


def test_exhaustive_no_data_loss_promotion_without_confirmation() -> None:
    """Over a grid of worlds, an evaluation promotes only when confirmed lost, guards pass and mode is automatic."""
    for failures in range(0, 5):
        for span in (10.0, 20.0):
            for seconds in (None, 0.0, 60.0, 61.0):
                for status in ("available", "modifying"):
                    for sync in ("connected", "pending-resync", ""):
                        for mode in ("automatic", "notify"):
                            for src in ("schedule", "alarm", "sns-alarm", "rds-event", "scheduler"):
                                probes = ProbeState(failures, 0.0, span, contact_lost_at=0.0, sync_in_contact=sync)
                                snap = replace(BASE, probes=probes, rpo_evidence=lag(seconds), local_status=status, local_sync="pending-resync")
                                d = decide(snap, Evaluate(source=src), replace(AUTO, mode=mode))
                                # The status judged is the one read while the peer answered; never seen: the one now.
                                judged = sync or snap.local_sync
                                ok = (failures >= 3 and span >= 20 and seconds is not None and seconds <= 60 and status == "available"
                                      and judged in ("", "connected") and mode == "automatic")
                                assert (d.action == Act.PROMOTE) == ok, (failures, span, seconds, status, sync, mode, d)
                            if d.action == Act.PROMOTE:
                                assert d.kind == "failover"


def test_abandons_stale_promoting_record() -> None:
    snap = replace(BASE, probes=LOST, operation=replace(OPEN, status="promoting", started_at=0.0))
    d = decide(snap, TICK, AUTO)
    assert d.abandon_operation and d.action == Act.PROMOTE


def test_probe_state_folding() -> None:
    s = next_probe_state(ProbeState(), False, 10.0, GAP)
    s = next_probe_state(s, False, 20.0, GAP)
    assert (s.consecutive_failures, s.first_failure_at, s.last_probe_at, s.contact_lost_at) == (2, 10.0, 20.0, 10.0)
    ok = next_probe_state(replace(s, operator_notified=True, sync_in_contact="connected"), True, 30.0, GAP)
    assert ok == ProbeState(0, None, 30.0, False, sync_in_contact="connected")  # the status seen in contact is kept


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


# ---------------------------------------------------------------- the evidence for a data-loss failover
CONTACT = [
    # (id, previous state, now, max contact gap, expected (count, first_failure_at, contact_lost_at, lag kept))
    ("first-failure-loses-contact", ProbeState(last_probe_at=0.0), 10.0, 600.0, (1, 10.0, 10.0, False)),
    ("fresh-failure-keeps-contact", ProbeState(2, 10.0, 20.0, contact_lost_at=10.0, lag_at_contact_loss=lag(1.0)), 30.0, 600.0,
     (3, 10.0, 10.0, True)),
    # Our own promotion attempt kept us from probing for 5 minutes: the count restarts, the loss of contact stays.
    ("stale-within-contact-gap", ProbeState(7, 10.0, 70.0, contact_lost_at=10.0, lag_at_contact_loss=lag(1.0)), 400.0, 600.0,
     (1, 400.0, 10.0, True)),
    # Hours without probing: the peer may have come back unseen; this is a new loss of contact.
    ("stale-beyond-contact-gap", ProbeState(7, 10.0, 70.0, contact_lost_at=10.0, lag_at_contact_loss=lag(1.0)), 3 * 3600.0, 600.0,
     (1, 3 * 3600.0, 3 * 3600.0, False)),
    ("legacy-record-contact-from-first-failure", ProbeState(2, 10.0, 20.0), 30.0, 600.0, (3, 10.0, 10.0, False)),
]


@pytest.mark.parametrize(("name", "prev", "now", "gap", "expected"), CONTACT, ids=[c[0] for c in CONTACT])
def test_the_loss_of_contact_outlives_a_restarted_count_only_within_the_contact_gap(
    name: str, prev: ProbeState, now: float, gap: float, expected: tuple[object, ...]
) -> None:
    s = next_probe_state(prev, False, now, GAP, gap)
    assert (s.consecutive_failures, s.first_failure_at, s.contact_lost_at, s.lag_at_contact_loss is not None) == expected


@pytest.mark.parametrize(
    ("contact", "window"),
    [
        (600.0, (300.0, 600.0)),  # exactly on a minute: the minute that starts then is outage time
        (659.9, (300.0, 600.0)),  # the minute that holds the loss of contact is left out
        (660.0, (360.0, 660.0)),
    ],
)
def test_the_rpo_window_is_whole_minutes_before_the_loss_of_contact(contact: float, window: tuple[float, float]) -> None:
    assert rpo_window(contact, 300) == window


def test_pick_lag_prefers_the_rpo_metric_and_falls_back() -> None:
    both = pick_lag({RPO_LAG_METRIC: [1.0, 3.0], REPLICATION_LAG_METRIC: [9.0]}, 0.0, 300.0)
    assert (both.metric, both.seconds, both.datapoints) == (RPO_LAG_METRIC, 3.0, 2)
    fallback = pick_lag({RPO_LAG_METRIC: [], REPLICATION_LAG_METRIC: [2.0, 4.0]}, 0.0, 300.0)
    assert (fallback.metric, fallback.seconds) == (REPLICATION_LAG_METRIC, 4.0)
    none = pick_lag({}, 0.0, 300.0)
    assert (none.metric, none.seconds, none.known) == ("", None, False)


@pytest.mark.parametrize(
    ("recorded", "fresh", "expected"),
    [
        (lag(1.0), None, lag(1.0)),  # CloudWatch did not answer at the decision: the reading from the loss of contact
        (None, lag(2.0), lag(2.0)),
        (lag(None), lag(2.0), lag(2.0)),  # late datapoints arrived after the loss of contact
        (lag(1.0), replace(lag(2.0), datapoints=6), replace(lag(2.0), datapoints=6)),  # more datapoints, larger maximum
        (lag(5.0, REPLICATION_LAG_METRIC), lag(1.0), lag(1.0)),  # the RPO metric wins over the replication lag
        (lag(None), lag(None), lag(None)),
        (replace(lag(1.0), window_end=60.0), lag(3.0), lag(3.0)),  # another window: only the fresh one counts
    ],
)
def test_merge_lag(recorded: LagReading | None, fresh: LagReading | None, expected: LagReading | None) -> None:
    assert merge_lag(recorded, fresh) == expected


@pytest.mark.parametrize(
    ("state", "lost"),
    [
        (ProbeState(3, 0.0, 20.0), True),
        (ProbeState(3, 0.0, 19.2), True),  # within the clock tolerance
        (ProbeState(3, 0.0, 18.0), False),  # two evaluations' probes came too close: one more probe
        (ProbeState(2, 0.0, 40.0), False),
        (ProbeState(3, 0.0, None), False),  # the span is unknown
    ],
)
def test_peer_lost_needs_the_count_and_the_span(state: ProbeState, lost: bool) -> None:
    assert peer_lost(state, AUTO) is lost
    assert evidence_seconds(ProbeState(7, 100.0, 160.0)) == 60.0


# ---------------------------------------------------------------- a cluster without an available DB instance (pilot light)
HEADLESS = replace(BASE, db_instances=())
CREATING = replace(BASE, db_instances=(("local-failover-1", "creating"),))
UNREAD = replace(BASE, db_instances=None)
WRITER_HERE = dict(local_is_writer=True, writer_arn=LOCAL)
NO_CLASS = replace(AUTO, db_instances_to_add=0)
PREPARING = OperationView("op", "failover", "preparing", 900.0, ("scale_asg",), automatic=True)
READY = (("local-failover-1", "available"),)

PREPARATION = [
    # (id, snapshot, trigger, policy, action, kind or guard)
    ("lost-headless", replace(HEADLESS, probes=LOST), TICK, AUTO, Act.PREPARE, "failover"),
    ("lost-only-creating", replace(CREATING, probes=LOST), TICK, AUTO, Act.PREPARE, "failover"),
    # Not read yet (the snapshot before the lease): never a promotion; the runner reads them before acting.
    ("lost-instances-unread", replace(UNREAD, probes=LOST), TICK, AUTO, Act.PREPARE, "failover"),
    ("lost-headless-cannot-add", replace(HEADLESS, probes=LOST), TICK, NO_CLASS, Act.NOTIFY_OPERATOR, "no-db-instance"),
    ("lost-headless-cannot-add-notified", replace(HEADLESS, probes=replace(LOST, operator_notified=True)), TICK, NO_CLASS,
     Act.REFUSE, "no-db-instance"),
    ("lost-headless-lag-first", replace(HEADLESS, probes=LOST, rpo_evidence=lag(61)), TICK, AUTO, Act.NOTIFY_OPERATOR, "rpo-exceeded"),
    ("cmd-switchover-headless", replace(HEADLESS, peer_reachable_now=True), cmd("switchover"), AUTO, Act.PREPARE, "switchover"),
    ("cmd-failover-headless-cannot-add", replace(HEADLESS, peer_reachable_now=False), cmd("failover"), NO_CLASS, Act.REFUSE,
     "no-db-instance"),
    # Someone promoted this headless cluster (AWS accepting it; the console, ARC): the steps wait for an instance.
    ("adopt-headless", replace(HEADLESS, **WRITER_HERE), TICK, AUTO, Act.PREPARE, "adopt"),
    ("steps-headless", replace(HEADLESS, operation=OPEN, **WRITER_HERE), TICK, AUTO, Act.PREPARE, "failover"),
    # An automatic failover under preparation.
    ("preparing-peer-still-lost", replace(HEADLESS, operation=PREPARING), TICK, AUTO, Act.PREPARE, "failover"),
    ("preparing-instance-up", replace(BASE, operation=PREPARING, db_instances=READY), TICK, AUTO, Act.PROMOTE, "failover"),
    ("preparing-peer-answers", replace(CREATING, operation=PREPARING, peer_answered=True), TICK, AUTO, Act.CANCEL, "failover"),
    ("preparing-peer-answers-instance-up", replace(BASE, operation=PREPARING, peer_answered=True, db_instances=READY), TICK, AUTO,
     Act.CANCEL, "failover"),
    ("preparing-writer-to-bunker", replace(CREATING, operation=PREPARING, writer_arn=BUNKER, writer_outside_pair="eu-central-1"),
     TICK, AUTO, Act.CANCEL, "failover"),
    ("preparing-cluster-unavailable", replace(CREATING, operation=PREPARING, local_status="modifying"), TICK, AUTO, Act.REFUSE,
     "local-not-available"),
    # The operator's own preparations (a planned switchover, a failover they asked for) are not stopped by the peer.
    ("preparing-switchover-peer-answers", replace(CREATING, peer_answered=True,
     operation=replace(PREPARING, kind="switchover", automatic=False)), TICK, AUTO, Act.PREPARE, "switchover"),
    ("preparing-operator-failover-peer-answers", replace(BASE, peer_answered=True, db_instances=READY,
     operation=replace(PREPARING, automatic=False)), TICK, AUTO, Act.PROMOTE, "failover"),
    # An operator's failover during an automatic preparation joins it; while the peer answers it is refused as ever.
    ("cmd-failover-while-preparing", replace(CREATING, operation=PREPARING, peer_reachable_now=False), cmd("failover"), AUTO,
     Act.PREPARE, "failover"),
    ("cmd-failover-while-preparing-peer-up", replace(CREATING, operation=PREPARING, peer_reachable_now=True), cmd("failover"), AUTO,
     Act.REFUSE, "peer-healthy"),
    # Promoted from outside while it prepared: wait for it, then (instances) the steps.
    ("preparing-promoted-elsewhere", replace(CREATING, operation=PREPARING, failover=FailoverView("failing-over", PEER, LOCAL, True)),
     TICK, AUTO, Act.WAIT_PROMOTION, "failover"),
]


@pytest.mark.parametrize(("name", "snap", "trigger", "policy", "action", "detail"), PREPARATION, ids=[c[0] for c in PREPARATION])
def test_preparation_table(name: str, snap: Snapshot, trigger: Evaluate | OperatorCommand, policy: Policy, action: Act, detail: str) -> None:
    d = decide(snap, trigger, policy)
    assert d.action == action, d
    if action in (Act.PROMOTE, Act.FINISH_STEPS, Act.WAIT_PROMOTION, Act.PREPARE, Act.CANCEL):
        assert d.kind == detail
    else:
        assert d.guard == detail
    assert d.reason


def test_the_refusal_for_a_cluster_it_cannot_prepare_names_the_command_to_add_an_instance() -> None:
    d = decide(replace(HEADLESS, probes=LOST), TICK, NO_CLASS)
    assert "create-db-instance --region us-west-2 --db-cluster-identifier local --db-instance-identifier local-failover-1" in d.command_hint
    assert "python -m handlers.failover failover" in d.command_hint


def test_exhaustive_never_promote_a_cluster_without_an_available_instance() -> None:
    """Whatever the trigger and the operation under way, a promotion (or the steps) needs an available DB instance."""
    operations = (None, OPEN, PREPARING, replace(PREPARING, automatic=False), replace(OPEN, status="promoting", started_at=990.0))
    triggers: tuple[Evaluate | OperatorCommand, ...] = (TICK, cmd("failover"), cmd("failover", force=True), cmd("switchover"),
                                                        cmd("failback"))
    for instances in ((), (("a", "creating"),), (("a", "deleting"), ("b", "modifying")), None, READY):
        for op in operations:
            for writer in (True, False):
                for peer in (True, False):
                    for trigger in triggers:
                        snap = replace(BASE, probes=LOST, db_instances=instances, operation=op, peer_reachable_now=peer, peer_answered=peer,
                                       local_is_writer=writer, writer_arn=LOCAL if writer else PEER)
                        d = decide(snap, trigger, AUTO)
                        if d.action in (Act.PROMOTE, Act.FINISH_STEPS):
                            assert instances == READY, (instances, op, writer, peer, trigger, d)


def test_should_probe_while_an_automatic_failover_prepares_only() -> None:
    assert should_probe(replace(CREATING, operation=PREPARING), TICK)
    assert not should_probe(replace(CREATING, operation=replace(PREPARING, automatic=False)), TICK)
    assert not should_probe(replace(CREATING, operation=replace(PREPARING, status="promoting")), TICK)


def test_a_promotion_requested_after_a_long_preparation_gets_its_grace_from_the_request() -> None:
    """A record that prepared for ten minutes and then asked AWS: not abandoned before AWS could show it."""
    promoting = replace(PREPARING, status="promoting", started_at=300.0, requested_at=990.0)
    d = decide(replace(BASE, operation=promoting), TICK, AUTO)
    assert d.action == Act.WAIT_PROMOTION and not d.abandon_operation
