"""Pure decision core: a snapshot of the world + a trigger -> the next action.

No I/O, no clock reads (``Snapshot.now`` is supplied by the shell), no boto3.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from .events import Evaluate, OperatorCommand, Trigger

#: Post-promotion steps, in order. Each is idempotent and recorded. What the shop needs to
#: take orders comes first (capacity, then the active flag), so a slow or failing cache
#: failover can never hold it back; a failed step does not stop the later ones and is
#: retried by the next invocation (the operation stays open until every step is done).
STEPS: tuple[str, ...] = ("scale_asg", "activate_region", "cache_failover", "run_commands", "notify")
#: `preparing`: this region's cluster had no available DB instance, so before the promotion is requested the function
#: adds instances (and scales the web tier) and waits for the first to be available, over as many invocations as it takes.
OPEN_STATUSES = frozenset({"preparing", "promoting", "promoted"})
#: What AWS reports for a DB instance that can serve (DescribeDBInstances DBInstanceStatus).
#: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html#Overview.DBInstance.Status
INSTANCE_AVAILABLE = "available"
#: After calling FailoverGlobalCluster, how long we tolerate not yet seeing FailoverState.
PROMOTION_VISIBILITY_GRACE_SECONDS = 120.0

#: The metrics that say how far this secondary is behind, in the order the RPO guard prefers them.
#: AWS, "Using switchover or failover in Amazon Aurora Global Database"
#: (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html):
#: "for Aurora MySQL-based global databases starting with engine versions 3.04.0 and higher or 2.12.0
#: and higher, use Amazon CloudWatch to view the AuroraGlobalDBRPOLag metric for all secondary DB
#: clusters. For lower minor versions of Aurora MySQL-based global databases, view the
#: AuroraGlobalDBReplicationLag metric instead. These metrics show you how far behind (in
#: milliseconds) replication to a secondary cluster is to the primary DB cluster."
RPO_LAG_METRIC = "AuroraGlobalDBRPOLag"
REPLICATION_LAG_METRIC = "AuroraGlobalDBReplicationLag"
LAG_METRICS: tuple[str, ...] = (RPO_LAG_METRIC, REPLICATION_LAG_METRIC)
#: Aurora publishes these metrics once a minute; the RPO window is whole minutes of them.
LAG_PERIOD_SECONDS = 60
#: Allowance for the wall clock when checking the span of the failed probes (the handler keeps the
#: cadence with sleeps; wall-clock slew over a minute is milliseconds).
CLOCK_TOLERANCE_SECONDS = 1.0


class Act(StrEnum):
    NOOP = "noop"
    INCONCLUSIVE = "inconclusive"
    REPORT_STATUS = "report-status"
    REFUSE = "refuse"
    NOTIFY_OPERATOR = "notify-operator"
    PREPARE = "prepare"
    PROMOTE = "promote"
    WAIT_PROMOTION = "wait-promotion"
    FINISH_STEPS = "finish-steps"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Policy:
    mode: str  # "automatic" | "notify"
    rpo_seconds: float
    consecutive_failures: int
    #: A failed probe further than this from the previous failed one starts a new count:
    #: failures only add up while they are consecutive in time, not merely in sequence.
    max_probe_gap_seconds: float
    #: The failed probes must span at least this long (first failed probe's start to the last
    #: one's start): (consecutive_failures - 1) probe intervals. The count alone could be met
    #: sooner when two evaluations' probes come closer than the cadence.
    min_evidence_seconds: float = 0.0
    #: DB instances the function adds to this region's cluster when it has none available before a promotion
    #: (MDR_DB_INSTANCES_TO_ADD); 0: it never adds any (no MDR_DB_INSTANCE_CLASS) and refuses to promote instead.
    db_instances_to_add: int = 1


@dataclass(frozen=True)
class FailoverView:
    status: str
    from_arn: str
    to_arn: str
    data_loss: bool


@dataclass(frozen=True)
class LagReading:
    """How far behind this region was, read from CloudWatch over one window.

    ``metric`` is the metric the figure comes from ("" when neither had a datapoint), ``seconds``
    the maximum over the window (None: no datapoint), ``window_start``/``window_end`` the window
    (epoch seconds, whole minutes, the end exclusive).
    """

    metric: str
    seconds: float | None
    window_start: float
    window_end: float
    datapoints: int = 0

    @property
    def known(self) -> bool:
        return self.seconds is not None


@dataclass(frozen=True)
class ProbeState:
    consecutive_failures: int = 0
    #: Start of the first failed probe of the current count.
    first_failure_at: float | None = None
    #: Start of the last probe (while the count is non-zero: the last failed one).
    last_probe_at: float | None = None
    operator_notified: bool = False
    #: Start of the first failed probe since the peer last answered: the loss of contact. Unlike
    #: ``first_failure_at`` it survives a restart of the count after a gap in probing (the peer has
    #: not been seen answering since), unless the gap is too long to say (``max_contact_gap``).
    contact_lost_at: float | None = None
    #: This cluster's SynchronizationStatus as last read while the peer answered (kept across
    #: successes; frozen once contact is lost, so it is the status *before* the outage).
    sync_in_contact: str = ""
    #: The lag in the window before the loss of contact, read at the first failed probe.
    lag_at_contact_loss: LagReading | None = None


@dataclass(frozen=True)
class OperationView:
    op_id: str
    kind: str  # failover | switchover | failback | adopt
    status: str  # preparing | promoting | promoted | complete | failed | cancelled
    started_at: float
    steps_done: tuple[str, ...] = ()
    #: Started by a scheduled evaluation (an automatic failover), not by an operator's command.
    automatic: bool = False
    #: When the promotion was requested (None: not yet; a preparation comes first).
    requested_at: float | None = None


@dataclass(frozen=True)
class Snapshot:
    now: float
    local_arn: str
    rds_reachable: bool = True
    global_found: bool = True
    local_is_member: bool = True
    local_is_writer: bool = False
    #: Why this region's view that its cluster holds the writer is stale ("" when the claim stands): the peer's API names
    #: another writer and the peer was activated later (handlers/activation.py; a region back from an outage, G6).
    stale_view: str = ""
    writer_arn: str = ""
    #: The writer's region when it is neither this region nor the configured peer (an operator
    #: promoted a database standby, `scope: database`); "" otherwise. Probing the peer then says
    #: nothing about the writer, so nothing is judged from it.
    writer_outside_pair: str = ""
    #: Other secondaries (neither this cluster nor the writer) not `connected`, e.g. being rebuilt
    #: after a failover. A switchover synchronizes every secondary first, so AWS would refuse it.
    secondaries_behind: tuple[str, ...] = ()
    local_status: str = "available"
    local_sync: str = "connected"
    failover: FailoverView | None = None
    active_flag: bool | None = None
    #: The current lag (last MDR_LAG_LOOKBACK_SECONDS), for `status` only: never judged.
    lag_seconds: float | None = None
    #: What the RPO guard judges: the lag in the window that ends at the loss of contact.
    rpo_evidence: LagReading | None = None
    probes: ProbeState = ProbeState()
    peer_reachable_now: bool | None = None
    #: Whether any probe of this evaluation found the peer answering (a preparation for an automatic failover then stops).
    peer_answered: bool = False
    operation: OperationView | None = None
    #: This region's cluster's DB instances, (identifier, DBInstanceStatus); None: not read in this snapshot.
    db_instances: tuple[tuple[str, str], ...] | None = None

    @property
    def holds_writer(self) -> bool:
        """The writer signal (RegionHoldsWriter): this region's view names its cluster the writer and nothing says the
        view is stale."""
        return self.local_is_writer and not self.stale_view


@dataclass(frozen=True)
class Decision:
    action: Act
    reason: str
    kind: str = ""
    guard: str = ""
    fence: bool = False
    command_hint: str = ""
    writer: int | None = None
    abandon_operation: bool = False


def last_failure_at(state: ProbeState) -> float | None:
    """When the last failed probe of a non-zero count happened (None: no count, or unknown).

    ``last_probe_at`` is the last failure whenever the count is non-zero (a success resets
    the count); records without it fall back to ``first_failure_at``, which is never later.
    """
    if state.consecutive_failures <= 0:
        return None
    return state.last_probe_at if state.last_probe_at is not None else state.first_failure_at


def is_stale(state: ProbeState, now: float, max_gap_seconds: float) -> bool:
    """A non-zero count whose last failure is older than ``max_gap_seconds`` (or of unknown age)."""
    if state.consecutive_failures <= 0:
        return False
    last = last_failure_at(state)
    return last is None or now - last > max_gap_seconds


def next_probe_state(
    prev: ProbeState, peer_ok: bool, now: float, max_gap_seconds: float, max_contact_gap_seconds: float = math.inf
) -> ProbeState:
    """Fold one probe result (``now``: when the probe started) into the persistent counter.

    A failure more than ``max_gap_seconds`` after the previous failure (a count left over
    from an earlier incident, or probes missed for a while) restarts the count at this probe:
    stale failures never add up to a data-loss failover. The loss of contact it belongs to is
    kept, with its evidence, when the gap is at most ``max_contact_gap_seconds`` (as long as our
    own promotion attempt can keep us from probing): the peer has not answered since, so the
    lag before *that* loss is still what a failover would lose. After a longer gap the peer may
    have come back unseen, and this failure is a new loss of contact.
    A success resets everything but ``sync_in_contact``.
    """
    if peer_ok:
        return ProbeState(last_probe_at=now, sync_in_contact=prev.sync_in_contact)
    contact = prev.contact_lost_at
    if contact is None and prev.consecutive_failures > 0:
        contact = prev.first_failure_at  # records written before contact_lost_at existed
    if is_stale(prev, now, max_gap_seconds):
        last = last_failure_at(prev)
        keep = contact is not None and last is not None and now - last <= max_contact_gap_seconds
        return ProbeState(
            consecutive_failures=1,
            first_failure_at=now,
            last_probe_at=now,
            contact_lost_at=contact if keep else now,
            sync_in_contact=prev.sync_in_contact,
            lag_at_contact_loss=prev.lag_at_contact_loss if keep else None,
        )
    return replace(
        prev,
        consecutive_failures=prev.consecutive_failures + 1,
        first_failure_at=prev.first_failure_at if prev.first_failure_at is not None else now,
        last_probe_at=now,
        contact_lost_at=contact if contact is not None else now,
    )


def evidence_seconds(state: ProbeState) -> float:
    """How long the current count of failed probes spans (first failed probe's start to the last one's)."""
    if state.consecutive_failures <= 0 or state.first_failure_at is None or state.last_probe_at is None:
        return 0.0
    return max(0.0, state.last_probe_at - state.first_failure_at)


def peer_lost(state: ProbeState, policy: Policy) -> bool:
    """Enough consecutive failed probes, spanning at least the policy's evidence time."""
    return (
        state.consecutive_failures >= policy.consecutive_failures
        and evidence_seconds(state) >= policy.min_evidence_seconds - CLOCK_TOLERANCE_SECONDS
    )


def rpo_window(contact_lost_at: float, lookback_seconds: float, period: int = LAG_PERIOD_SECONDS) -> tuple[float, float]:
    """The lag window the RPO guard judges: whole metric periods ending at or before the loss of contact.

    Data a data-loss failover drops is what had not replicated when the primary was lost, so the
    evidence is the lag *before* contact was lost; datapoints published during the outage (a lag
    that keeps growing, or none at all) say nothing about it. The period that contains the loss of
    contact is left out: its maximum could include outage samples. The window is fixed, so a
    failover decided minutes later (a refused first attempt, an operator who waits) judges the same
    figures.
    """
    end = math.floor(contact_lost_at / period) * period
    return end - lookback_seconds, end


def pick_lag(values: Mapping[str, list[float]], window_start: float, window_end: float) -> LagReading:
    """The reading of the first metric in LAG_METRICS with datapoints (values in seconds): its maximum."""
    for metric in LAG_METRICS:
        found = values.get(metric) or []
        if found:
            return LagReading(metric, max(found), window_start, window_end, len(found))
    return LagReading("", None, window_start, window_end, 0)


def merge_lag(recorded: LagReading | None, fresh: LagReading | None) -> LagReading | None:
    """One window read twice: at the loss of contact and at the decision (late datapoints arrive
    in between). A reading of the preferred metric wins; for the same metric the larger figure
    (more datapoints can only raise a maximum). A failed read (None) leaves the other."""
    readings = [r for r in (recorded, fresh) if r is not None]
    if fresh is not None and recorded is not None and (recorded.window_start, recorded.window_end) != (fresh.window_start, fresh.window_end):
        readings = [fresh]
    known = [r for r in readings if r.known]
    if not known:
        return fresh if fresh is not None else recorded
    best_metric = min(known, key=lambda r: LAG_METRICS.index(r.metric) if r.metric in LAG_METRICS else len(LAG_METRICS)).metric
    same = [r for r in known if r.metric == best_metric]
    return max(same, key=lambda r: (r.seconds or 0.0, r.datapoints))


def sync_for_failover(snap: Snapshot) -> tuple[str, str]:
    """(status, where it was read) of this cluster's SynchronizationStatus that a data-loss failover judges.

    AWS documents the values (connected, pending-resync) but not what a secondary shows while the
    primary's region is unreachable. What matters is whether this copy was complete before the
    outage: a status that changed after contact was lost is a consequence of the outage, not
    evidence of an incomplete copy, so once contact is lost the status last read while the peer
    answered is judged; the one read now is reported beside it.
    """
    if snap.probes.contact_lost_at is not None and snap.probes.sync_in_contact:
        return snap.probes.sync_in_contact, "read while the peer last answered"
    return snap.local_sync, "read now"


def needs_rpo_evidence(snap: Snapshot, trigger: Trigger, policy: Policy) -> bool:
    """Whether the decision may judge the RPO (the shell then reads the lag window). `status` shows
    it too, in a region that could be promoted: what a failover now would be judged on."""
    if isinstance(trigger, OperatorCommand):
        return trigger.action == "failover" or (trigger.action == "status" and snap.local_is_member and not snap.local_is_writer)
    return peer_lost(snap.probes, policy)


def release_report(local: str | None, peer: str | None) -> dict[str, str | bool | None]:
    """Both regions' release versions. A mismatch is reported, never a reason to refuse a
    failover: a lost region's code cannot be fixed first. ``release_versions_match`` is None
    when either side is unknown (no parameter configured, or the peer did not answer)."""
    return {
        "release_version": local,
        "peer_release_version": peer,
        "release_versions_match": None if local is None or peer is None else local == peer,
    }


def op_is_open(op: OperationView | None) -> bool:
    return op is not None and op.status in OPEN_STATUSES


def is_preparing(op: OperationView | None) -> bool:
    return op is not None and op.status == "preparing"


def instance_ready(snap: Snapshot) -> bool:
    """This region's cluster has an available DB instance (unknown counts as not: it is read before acting)."""
    return snap.db_instances is not None and any(status == INSTANCE_AVAILABLE for _, status in snap.db_instances)


def preparation_cancellable(snap: Snapshot) -> bool:
    """An automatic failover still preparing, whose peer answered again: the loss it was decided on is over."""
    op = snap.operation
    automatic_failover = is_preparing(op) and op is not None and op.automatic and op.kind == "failover"
    return automatic_failover and (snap.peer_answered or bool(snap.writer_outside_pair))


def remaining_steps(op: OperationView | None) -> tuple[str, ...]:
    done = set(op.steps_done) if op is not None else set()
    return tuple(s for s in STEPS if s not in done)


def should_probe(snap: Snapshot, trigger: Trigger) -> bool:
    """Probe the peer only when the answer can matter (this region is a reader, nothing under way)."""
    if not (snap.rds_reachable and snap.global_found and snap.local_is_member):
        return False
    if snap.writer_outside_pair:
        return False
    if snap.local_is_writer or snap.failover is not None:
        return False
    # While an automatic failover prepares, the peer is still watched: if it answers, the failover stops.
    op = snap.operation
    return not op_is_open(op) or (is_preparing(op) and op is not None and op.automatic)


def describe_window(reading: LagReading) -> str:
    """The window of a lag reading in words, for refusals and reports."""
    span = reading.window_end - reading.window_start

    def hm(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).strftime("%H:%M")

    return f"the {span / 60:g} min before {hm(reading.window_end)} UTC ({hm(reading.window_start)}-{hm(reading.window_end)})"


def _guard(snap: Snapshot, policy: Policy, *, force: bool, check_lag: bool) -> tuple[str, str, bool]:
    """Return (guard, reason, forceable) of the first failing guard, or ('', '', True).

    ``check_lag``: a data-loss failover (judged on the evidence from before the loss of contact);
    otherwise a switchover (judged on the cluster's state now: AWS synchronizes first).
    """
    if snap.local_status != "available":
        return "local-not-available", f"this region's cluster is {snap.local_status or 'unknown'}", False
    sync, where = sync_for_failover(snap) if check_lag else (snap.local_sync, "read now")
    if sync not in ("", "connected") and not force:
        now = f"; now {snap.local_sync or 'not reported'}" if where != "read now" else ""
        return "local-not-in-sync", f"this region's cluster synchronization was {sync} ({where}{now})", True
    if check_lag and not force:
        evidence = snap.rpo_evidence
        if evidence is None or not evidence.known:
            window = describe_window(evidence) if evidence is not None else "the window before contact was lost"
            return (
                "lag-unknown",
                f"replication lag unknown: no {RPO_LAG_METRIC} or {REPLICATION_LAG_METRIC} datapoints in {window}",
                True,
            )
        assert evidence.seconds is not None
        if evidence.seconds > policy.rpo_seconds:
            return (
                "rpo-exceeded",
                f"{evidence.metric} was {evidence.seconds:.1f}s in {describe_window(evidence)}, above the RPO of "
                f"{policy.rpo_seconds:g}s: a failover would lose up to that much",
                True,
            )
    return "", "", True


def _hint(action: str, force: bool = False) -> str:
    flag = " --force" if force else ""
    payload = json.dumps({"action": action, "force": True} if force else {"action": action})
    return f"python -m handlers.failover {action}{flag}   (or invoke the function with {payload})"


def _cluster_id(arn: str) -> tuple[str, str]:
    """(region, cluster identifier) of a cluster ARN."""
    parts = arn.split(":")
    return (parts[3], parts[-1]) if len(parts) > 6 else ("", arn)


def _needs_instance(d: Decision, snap: Snapshot, trigger: Trigger, policy: Policy) -> Decision:
    """Never request a promotion of (nor run the steps in) a cluster without an available DB instance: AWS requires one
    ("Before you can perform a switchover or failover to a headless secondary Aurora DB cluster, you must add a DB instance
    to it", aurora-global-database-disaster-recovery.html), and Magento cannot write without one. Prepare instead."""
    if d.action not in (Act.PROMOTE, Act.FINISH_STEPS) or instance_ready(snap):
        return d
    if policy.db_instances_to_add <= 0:
        region, cluster = _cluster_id(snap.local_arn)
        tell = isinstance(trigger, Evaluate) and not snap.probes.operator_notified
        return replace(
            d,
            action=Act.NOTIFY_OPERATOR if tell else Act.REFUSE,
            guard="no-db-instance",
            reason=f"{d.reason}; blocked: this region's cluster has no available DB instance and this function adds none "
            f"(MDR_DB_INSTANCE_CLASS unset)",
            command_hint=f"aws rds create-db-instance --region {region} --db-cluster-identifier {cluster} "
            f"--db-instance-identifier {cluster}-failover-1 --engine aurora-mysql --db-instance-class <database.instanceClass>; "
            f"then {_hint(d.kind if d.kind in ('failover', 'switchover', 'failback') else 'failover')}",
        )
    return replace(d, action=Act.PREPARE, reason=f"{d.reason}; this region's cluster has no available DB instance: preparing first")


def decide(snap: Snapshot, trigger: Trigger, policy: Policy) -> Decision:
    return _needs_instance(_decide(snap, trigger, policy), snap, trigger, policy)


def _decide(snap: Snapshot, trigger: Trigger, policy: Policy) -> Decision:
    if not snap.rds_reachable:
        return Decision(Act.INCONCLUSIVE, "this region's RDS API did not answer; nothing judged")
    if not snap.global_found:
        return Decision(Act.REFUSE, "global cluster not found", guard="no-global-cluster")
    if not snap.local_is_member:
        return Decision(Act.REFUSE, "this region's cluster is not a member of the global cluster", guard="not-member")

    writer = 1 if snap.holds_writer else 0
    fence = (not snap.local_is_writer) and snap.active_flag is True
    command = trigger if isinstance(trigger, OperatorCommand) else None
    base = Decision(Act.NOOP, "", fence=fence, writer=writer)

    if command is not None and command.action == "status":
        return replace(base, action=Act.REPORT_STATUS, reason="status requested", fence=False)

    if snap.local_is_writer and snap.stale_view:
        # This region is not the writer, whatever its own API says for now: it claims no vote and stops its cron and
        # consumers (fence), and acts on nothing until its view agrees with the peer's.
        stale = replace(base, guard="stale-writer-view", fence=snap.active_flag is True,
                        reason=f"{snap.stale_view}; this region claims nothing until its RDS API agrees")
        if command is None:
            return stale
        return replace(stale, action=Act.REFUSE, command_hint="wait until `status` shows no stale_writer_view, then run the command again")

    op = snap.operation
    fs = snap.failover
    if fs is not None:
        if fs.to_arn == snap.local_arn:
            if op_is_open(op):
                assert op is not None
                return replace(base, action=Act.WAIT_PROMOTION, kind=op.kind, reason=f"promotion under way ({fs.status})")
            if command is not None and command.action in ("failover", "switchover", "failback"):
                return replace(base, action=Act.WAIT_PROMOTION, kind="adopt", reason=f"promotion to this region already under way ({fs.status})")
            return replace(base, reason=f"promotion to this region under way outside this handler ({fs.status})")
        return replace(
            base,
            action=Act.REFUSE,
            guard="operation-in-progress",
            reason=f"a {'failover' if fs.data_loss else 'switchover'} to another cluster is under way ({fs.status})",
        )

    if snap.local_is_writer:
        if op_is_open(op):
            assert op is not None
            return replace(base, action=Act.FINISH_STEPS, kind=op.kind, reason="writer promoted; finishing remaining steps")
        if snap.active_flag is not True:
            if command is not None or policy.mode == "automatic":
                return replace(base, action=Act.FINISH_STEPS, kind="adopt", reason="this region holds the writer but is not marked active")
            if snap.probes.operator_notified:
                return replace(base, reason="writer here but region inactive; operator already notified")
            return replace(
                base,
                action=Act.NOTIFY_OPERATOR,
                guard="writer-not-active",
                reason="this region holds the writer but is not marked active",
                command_hint=_hint("failover"),
            )
        return replace(base, reason="this region holds the writer")

    # This region is a reader and nothing is under way.
    if is_preparing(op) and command is None:
        assert op is not None
        if preparation_cancellable(snap):
            return replace(base, action=Act.CANCEL, kind=op.kind, reason="the automatic failover stops while it was still preparing "
                           "(nothing was promoted): " + ("the peer answers again" if snap.peer_answered
                                                         else f"the writer is in {snap.writer_outside_pair}, outside this pair"))
        if snap.local_status != "available":
            return replace(base, action=Act.REFUSE, guard="local-not-available", kind=op.kind,
                           reason=f"preparing a {op.kind}, but this region's cluster is {snap.local_status or 'unknown'}")
        return replace(base, action=Act.PROMOTE, kind=op.kind, reason=f"resuming the {op.kind} under preparation")
    if op_is_open(op) and not is_preparing(op):
        assert op is not None
        requested = op.requested_at if op.requested_at is not None else op.started_at
        if snap.now - requested <= PROMOTION_VISIBILITY_GRACE_SECONDS and op.status == "promoting":
            return replace(base, action=Act.WAIT_PROMOTION, kind=op.kind, reason="promotion requested; waiting for AWS to report it")
        base = replace(base, abandon_operation=True)

    if command is not None:
        force = command.force
        if command.action in ("switchover", "failback"):
            if snap.peer_reachable_now is False and not force:
                return replace(base, action=Act.REFUSE, guard="peer-unreachable",
                               reason="peer region unreachable: a switchover needs a healthy primary; use failover",
                               command_hint=_hint("failover"))
            guard, reason, _ = _guard(snap, policy, force=False, check_lag=False)
            if guard:
                return replace(base, action=Act.REFUSE, guard=guard, reason=reason)
            if snap.secondaries_behind:
                return replace(base, action=Act.REFUSE, guard="secondaries-not-in-sync",
                               reason=f"secondary {snap.secondaries_behind[0]} is not connected (a switchover synchronizes "
                                      f"every secondary first): wait until `status` shows it connected, or fail over (data loss)",
                               command_hint=_hint("failover", force=True))
            return replace(base, action=Act.PROMOTE, kind=command.action, reason=f"operator requested {command.action}")
        # failover
        if snap.writer_outside_pair and not force:
            return replace(base, action=Act.REFUSE, guard="writer-outside-pair",
                           reason=f"the writer is in {snap.writer_outside_pair}, a database standby outside this pair; "
                                  f"a failover would drop its writes: switch over (no data loss), or --force if it is lost",
                           command_hint=_hint("switchover"))
        if snap.peer_reachable_now is True and not force:
            return replace(base, action=Act.REFUSE, guard="peer-healthy",
                           reason="peer region answers: use switchover (no data loss), or --force",
                           command_hint=_hint("switchover"))
        guard, reason, forceable = _guard(snap, policy, force=force, check_lag=True)
        if guard:
            return replace(base, action=Act.REFUSE, guard=guard, reason=reason,
                           command_hint=_hint("failover", force=True) if forceable else "")
        return replace(base, action=Act.PROMOTE, kind="failover", reason="operator requested failover")

    assert isinstance(trigger, Evaluate)
    if snap.writer_outside_pair:
        # Only an operator puts the writer there (RUNBOOK "Database standby"); the peer's health
        # says nothing about it, and automation must not take the writer back on its own.
        return replace(base, reason=f"the writer is in {snap.writer_outside_pair}, outside this pair; not judged")
    needed = policy.consecutive_failures
    failures = snap.probes.consecutive_failures
    if failures < needed:
        why = "peer healthy" if failures == 0 else f"peer failing {failures}/{needed} consecutive probes"
        return replace(base, reason=why)
    span = evidence_seconds(snap.probes)
    if not peer_lost(snap.probes, policy):
        return replace(base, reason=f"peer failing {failures} consecutive probes over {span:.0f}s; "
                                    f"waiting for {policy.min_evidence_seconds:g}s of evidence")
    lost = f"peer lost ({failures} consecutive failed probes over {span:.0f}s)"
    guard, reason, forceable = _guard(snap, policy, force=False, check_lag=True)
    if guard:
        if snap.probes.operator_notified:
            return replace(base, action=Act.REFUSE, guard=guard, reason=f"{lost}; blocked: {reason}; operator already notified")
        return replace(base, action=Act.NOTIFY_OPERATOR, guard=guard, reason=f"{lost}; blocked: {reason}",
                       command_hint=_hint("failover", force=True) if forceable else "")
    if policy.mode != "automatic":
        if snap.probes.operator_notified:
            return replace(base, reason=f"{lost}; mode notify; operator already notified")
        return replace(base, action=Act.NOTIFY_OPERATOR, guard="mode-notify", reason=f"{lost}; mode notify",
                       command_hint=_hint("failover"))
    return replace(base, action=Act.PROMOTE, kind="failover", reason=lost)
