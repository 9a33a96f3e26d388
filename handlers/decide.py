"""Pure decision core: a snapshot of the world + a trigger -> the next action.

No I/O, no clock reads (``Snapshot.now`` is supplied by the shell), no boto3.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import StrEnum

from .events import Evaluate, OperatorCommand, Trigger

#: Post-promotion steps, in order. Each is idempotent and recorded. What the shop needs to
#: take orders comes first (capacity, then the active flag), so a slow or failing cache
#: failover can never hold it back; a failed step does not stop the later ones and is
#: retried by the next invocation (the operation stays open until every step is done).
STEPS: tuple[str, ...] = ("scale_asg", "activate_region", "cache_failover", "run_commands", "notify")
OPEN_STATUSES = frozenset({"promoting", "promoted"})
#: After calling FailoverGlobalCluster, how long we tolerate not yet seeing FailoverState.
PROMOTION_VISIBILITY_GRACE_SECONDS = 120.0


class Act(StrEnum):
    NOOP = "noop"
    INCONCLUSIVE = "inconclusive"
    REPORT_STATUS = "report-status"
    REFUSE = "refuse"
    NOTIFY_OPERATOR = "notify-operator"
    PROMOTE = "promote"
    WAIT_PROMOTION = "wait-promotion"
    FINISH_STEPS = "finish-steps"


@dataclass(frozen=True)
class Policy:
    mode: str  # "automatic" | "notify"
    rpo_seconds: float
    consecutive_failures: int
    #: A failed probe further than this from the previous failed one starts a new count:
    #: failures only add up while they are consecutive in time, not merely in sequence.
    max_probe_gap_seconds: float


@dataclass(frozen=True)
class FailoverView:
    status: str
    from_arn: str
    to_arn: str
    data_loss: bool


@dataclass(frozen=True)
class ProbeState:
    consecutive_failures: int = 0
    first_failure_at: float | None = None
    last_probe_at: float | None = None
    operator_notified: bool = False


@dataclass(frozen=True)
class OperationView:
    op_id: str
    kind: str  # failover | switchover | failback | adopt
    status: str  # promoting | promoted | complete | failed
    started_at: float
    steps_done: tuple[str, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    now: float
    local_arn: str
    rds_reachable: bool = True
    global_found: bool = True
    local_is_member: bool = True
    local_is_writer: bool = False
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
    lag_seconds: float | None = None
    probes: ProbeState = ProbeState()
    peer_reachable_now: bool | None = None
    operation: OperationView | None = None


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


def next_probe_state(prev: ProbeState, peer_ok: bool, now: float, max_gap_seconds: float) -> ProbeState:
    """Fold one probe result into the persistent consecutive-failure counter.

    A failure more than ``max_gap_seconds`` after the previous failure (a count left over
    from an earlier incident, or probes missed for a while) restarts the count at this probe,
    as a new incident: stale failures never add up to a data-loss failover.
    """
    if peer_ok:
        return ProbeState(consecutive_failures=0, first_failure_at=None, last_probe_at=now, operator_notified=False)
    if is_stale(prev, now, max_gap_seconds):
        return ProbeState(consecutive_failures=1, first_failure_at=now, last_probe_at=now, operator_notified=False)
    return replace(
        prev,
        consecutive_failures=prev.consecutive_failures + 1,
        first_failure_at=prev.first_failure_at if prev.first_failure_at is not None else now,
        last_probe_at=now,
    )


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


def remaining_steps(op: OperationView | None) -> tuple[str, ...]:
    done = set(op.steps_done) if op is not None else set()
    return tuple(s for s in STEPS if s not in done)


def should_probe(snap: Snapshot, trigger: Trigger) -> bool:
    """Probe the peer only when the answer can matter (this region is a reader, nothing under way)."""
    if not (snap.rds_reachable and snap.global_found and snap.local_is_member):
        return False
    if snap.writer_outside_pair:
        return False
    return not (snap.local_is_writer or snap.failover is not None or op_is_open(snap.operation))


def _guard(snap: Snapshot, policy: Policy, *, force: bool, check_lag: bool) -> tuple[str, str, bool]:
    """Return (guard, reason, forceable) of the first failing guard, or ('', '', True)."""
    if snap.local_status != "available":
        return "local-not-available", f"this region's cluster is {snap.local_status or 'unknown'}", False
    if snap.local_sync not in ("", "connected") and not force:
        return "local-not-in-sync", f"this region's cluster synchronization is {snap.local_sync}", True
    if check_lag and not force:
        if snap.lag_seconds is None:
            return "lag-unknown", "replication lag unknown (no AuroraGlobalDBReplicationLag datapoints)", True
        if snap.lag_seconds > policy.rpo_seconds:
            return (
                "rpo-exceeded",
                f"replication lag {snap.lag_seconds:.1f}s exceeds RPO {policy.rpo_seconds:g}s",
                True,
            )
    return "", "", True


def _hint(action: str, force: bool = False) -> str:
    flag = " --force" if force else ""
    payload = json.dumps({"action": action, "force": True} if force else {"action": action})
    return f"python -m handlers.failover {action}{flag}   (or invoke the function with {payload})"


def decide(snap: Snapshot, trigger: Trigger, policy: Policy) -> Decision:
    if not snap.rds_reachable:
        return Decision(Act.INCONCLUSIVE, "this region's RDS API did not answer; nothing judged")
    if not snap.global_found:
        return Decision(Act.REFUSE, "global cluster not found", guard="no-global-cluster")
    if not snap.local_is_member:
        return Decision(Act.REFUSE, "this region's cluster is not a member of the global cluster", guard="not-member")

    writer = 1 if snap.local_is_writer else 0
    fence = (not snap.local_is_writer) and snap.active_flag is True
    command = trigger if isinstance(trigger, OperatorCommand) else None
    base = Decision(Act.NOOP, "", fence=fence, writer=writer)

    if command is not None and command.action == "status":
        return replace(base, action=Act.REPORT_STATUS, reason="status requested", fence=False)

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
    if op_is_open(op):
        assert op is not None
        if snap.now - op.started_at <= PROMOTION_VISIBILITY_GRACE_SECONDS and op.status == "promoting":
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
    lost = f"peer lost ({failures} consecutive failed probes)"
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
