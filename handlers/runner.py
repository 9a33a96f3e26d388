"""The imperative shell: read a snapshot, probe, decide, act, record.

Every side effect goes through :class:`~handlers.aws.AwsAdapter`; time goes
through an injectable :class:`Clock` (tests and drills run fast).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from . import lease as leases
from .activation import PeerView, stale_claim, views_disagree
from .decide import (
    INSTANCE_AVAILABLE,
    OPEN_STATUSES,
    STEPS,
    Act,
    Decision,
    FailoverView,
    LagReading,
    OperationView,
    Policy,
    ProbeState,
    Snapshot,
    decide,
    describe_window,
    is_preparing,
    merge_lag,
    needs_rpo_evidence,
    next_probe_state,
    peer_lost,
    release_report,
    remaining_steps,
    rpo_window,
    should_probe,
    sync_for_failover,
)
from .events import Evaluate, OperatorCommand, Trigger
from .obs import LEASE_BLOCKED_METRIC, WRITER_METRIC, Metrics, get_logger
from .settings import Settings

if TYPE_CHECKING:
    from .aws import AwsAdapter


class Clock(Protocol):
    def now(self) -> float: ...  # wall clock, epoch seconds
    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class StepFailed(RuntimeError):
    pass


class LeaseLost(RuntimeError):
    """This invocation's lease was taken over (it stalled past the TTL): it stops acting."""


#: How often a preparation reads its cluster's instances: one takes ~20 minutes (components/rto.py), so this adds at
#: most a few seconds to the failover and a fraction of the calls of MDR_POLL_SECONDS.
PREPARATION_POLL_SECONDS = 15.0

#: Decisions that change AWS state and need the lease.
LEASED_ACTIONS = frozenset({Act.PREPARE, Act.PROMOTE, Act.WAIT_PROMOTION, Act.FINISH_STEPS, Act.CANCEL})


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


@dataclass
class Operation:
    """Persistent record of one promotion + its post steps (SSM ``{prefix}/failover/operation``)."""

    op_id: str
    kind: str
    status: str
    started_at: float
    first_failure_at: float | None = None
    promoted_at: float | None = None
    steps_done: list[str] = field(default_factory=list)
    command_id: str = ""
    instance_id: str = ""
    timeline: list[dict[str, Any]] = field(default_factory=list)
    #: Steps whose last attempt failed -> reason (cleared when the step succeeds on a retry).
    failed_steps: dict[str, str] = field(default_factory=dict)
    #: What a data-loss failover was judged on (the lag before the loss of contact, which metric,
    #: the window, the synchronization status); reported in the completion message.
    rpo_evidence: dict[str, Any] | None = None
    #: Started by a scheduled evaluation (an automatic failover), not an operator's command.
    automatic: bool = False
    #: When the promotion was requested (after a preparation, later than started_at).
    requested_at: float | None = None
    #: The DB instances the preparation added (or found already added), and the web tier's min/desired/max before it
    #: scaled it: what returning to the standby posture undoes.
    db_instances_added: list[str] = field(default_factory=list)
    capacity_before: list[int] | None = None

    def view(self) -> OperationView:
        return OperationView(
            self.op_id, self.kind, self.status, self.started_at, tuple(self.steps_done), self.automatic, self.requested_at
        )

    @classmethod
    def load(cls, raw: str | None) -> Operation | None:
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (ValueError, TypeError):
            return None


@dataclass
class Outcome:
    ok: bool
    action: str
    reason: str
    kind: str = ""
    guard: str = ""
    command_hint: str = ""
    dry_run: bool = False
    fenced: bool = False
    writer: int | None = None
    probes: list[bool] = field(default_factory=list)
    operation: dict[str, Any] | None = None
    status: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    api_calls: int = 0
    cpu_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Runner:
    def __init__(self, settings: Settings, aws: AwsAdapter, clock: Clock | None = None) -> None:
        self.s = settings
        self.aws = aws
        self.clock: Clock = clock or SystemClock()
        self.log = get_logger(settings.log_level)
        self.policy = Policy(
            settings.mode,
            settings.rpo_seconds,
            settings.consecutive_failures,
            settings.max_probe_gap_seconds,
            settings.min_evidence_seconds,
            settings.db_instances_added_before_promotion,
        )
        self.p_probes = f"{settings.state_prefix}/probes"
        self.p_op = f"{settings.state_prefix}/operation"
        self.p_lease = f"{settings.state_prefix}/lease"
        self.owner = ""
        self.holder = ""
        #: Set while this invocation holds the lease: when it last renewed it (this clock).
        self._lease_renewed: float | None = None
        #: The writer signal as this invocation knows it (published again while it waits).
        self._writer_value: int | None = None
        self._writer_published = 0.0
        self._trigger: Trigger | None = None

    # ---------------------------------------------------------------- snapshot
    def read_snapshot(self, current_lag: bool = False, instances: bool = False) -> tuple[Snapshot, Operation | None, str]:
        """AWS's state and ours. ``current_lag``: also read the lag of the last MDR_LAG_LOOKBACK_SECONDS
        (for `status` and operator commands; never judged, see :meth:`rpo_evidence`). ``instances``: also read this
        cluster's DB instances (before acting, and for operators: a promotion needs an available one)."""
        now = self.clock.now()
        from .aws import AwsError

        try:
            gc = self.aws.describe_global()
            cluster = self.aws.describe_local_cluster()
        except AwsError as exc:
            self.log.warning("local RDS API unavailable", extra={"error": str(exc)})
            return Snapshot(now=now, local_arn=self.s.local_cluster_arn, rds_reachable=False), None, ""
        params: dict[str, str] = {}
        try:
            params = self.aws.get_params([self.s.active_param, self.p_probes, self.p_op])
        except AwsError as exc:
            self.log.warning("SSM state unavailable", extra={"error": str(exc)})
        probes = _load_probes(params.get(self.p_probes))
        op = Operation.load(params.get(self.p_op))
        active_raw = params.get(self.s.active_param)
        active = None if active_raw is None else active_raw.strip().lower() == "true"
        if gc is None:
            return Snapshot(now=now, local_arn=self.s.local_cluster_arn, global_found=False), op, ""
        members = gc.get("GlobalClusterMembers", [])
        local = next((m for m in members if m.get("DBClusterArn") == self.s.local_cluster_arn), None)
        writer_arn = next((m.get("DBClusterArn", "") for m in members if m.get("IsWriter")), "")
        writer_region = writer_arn.split(":")[3] if writer_arn.count(":") >= 5 else ""
        fs_raw = gc.get("FailoverState") or {}
        failover = None
        if fs_raw.get("Status") or fs_raw.get("ToDbClusterArn"):
            failover = FailoverView(
                status=str(fs_raw.get("Status", "")),
                from_arn=str(fs_raw.get("FromDbClusterArn", "")),
                to_arn=str(fs_raw.get("ToDbClusterArn", "")),
                data_loss=bool(fs_raw.get("IsDataLossAllowed", False)),
            )
        lag: float | None = None
        is_writer = bool(local and local.get("IsWriter"))
        stale = self._stale_claim() if is_writer and cluster is not None else ""
        if current_lag and local is not None and not is_writer:
            end = float(int(now // 60 + 1) * 60)  # EndTime is exclusive: the minute now is in counts
            try:
                lag = self.aws.lag_reading(end - self.s.lag_lookback_seconds - 60, end).seconds
            except AwsError as exc:
                self.log.warning("replication lag unavailable", extra={"error": str(exc)})
        db_instances = self._read_instances() if instances else None
        snap = Snapshot(
            now=now,
            local_arn=self.s.local_cluster_arn,
            db_instances=None if db_instances is None else tuple(db_instances),
            local_is_member=local is not None,
            local_is_writer=is_writer and cluster is not None,
            stale_view=stale,
            writer_arn=writer_arn,
            writer_outside_pair=writer_region if writer_region not in ("", self.s.region, self.s.peer_region) else "",
            secondaries_behind=tuple(
                str(m.get("DBClusterArn", ""))
                for m in members
                if m is not local and not m.get("IsWriter") and str(m.get("SynchronizationStatus", "")) not in ("", "connected")
            ),
            local_status=str(cluster.get("Status", "")) if cluster else "missing",
            local_sync=str(local.get("SynchronizationStatus", "")) if local else "",
            failover=failover,
            active_flag=active,
            lag_seconds=lag,
            probes=probes,
            operation=op.view() if op else None,
        )
        return snap, op, writer_arn

    def _stale_claim(self) -> str:
        """While this region's view names its cluster the writer: is that view stale? The peer's view, and when the two
        disagree both activation records, decide (handlers/activation.py); "" when the claim stands. This region's own
        record unreadable: not judged (a view that may be stale weighs less than fencing the writer by mistake)."""
        from .aws import AwsError

        peer = PeerView(self.s.peer_region, self.aws.peer_writer())
        if not views_disagree(self.s.local_cluster_arn, peer):
            return ""
        try:
            own = self.aws.get_param_written(self.s.activation_param)
        except AwsError as exc:
            self.log.warning("activation record unreadable; the writer claim is not judged", extra={"error": str(exc)})
            return ""
        stale = stale_claim(self.s.local_cluster_arn, own[1] if own else None, replace(peer, activated_at=self.aws.peer_activated_at()))
        if stale:
            self.log.warning("this region's view of the writer is stale", extra={"reason": stale})
        return stale

    def _read_instances(self) -> list[tuple[str, str]] | None:
        from .aws import AwsError

        try:
            return self.aws.db_instances()
        except AwsError as exc:
            self.log.warning("DB instances unreadable", extra={"error": str(exc)})
            return None

    # ---------------------------------------------------------------- probes
    def probe_once(self, peer_writer_arn: str) -> bool:
        """True when the peer answers on *either* independent signal (shop health or its RDS API)."""
        if self.aws.probe_http(self.s.peer_health_url):
            return True
        return self.aws.probe_peer_rds(peer_writer_arn)

    def probe_loop(self, snap: Snapshot, writer_arn: str, trigger: Trigger, persist: bool) -> tuple[Snapshot, list[bool]]:
        """Probe the peer at a fixed cadence for the whole evaluation.

        A scheduled evaluation keeps probing every `probe_interval_seconds` for
        `probes_per_invocation` rounds even while the peer answers, so the gap
        between two probes never exceeds about one interval (the stack sizes the
        rounds to fill the one-minute schedule). It stops early once the peer is
        judged lost (`decide.peer_lost`). The cadence also holds across evaluations:
        while a count is running, the first probe waits until one interval after the
        previous failed probe started, so N failed probes always span (N - 1)
        intervals. The counter is persisted only when it changes, so a healthy
        minute costs no SSM writes.

        Two pieces of evidence are kept with the counter: this cluster's
        SynchronizationStatus while the peer answers (the snapshot was read before a
        probe that then succeeded), and, at the loss of contact, the lag in the window
        before it (`decide.rpo_window`).
        """
        scheduled = isinstance(trigger, Evaluate)
        # While a failover prepares the loss is established: one probe says whether the peer is back.
        rounds = self.s.probes_per_invocation if scheduled and not is_preparing(snap.operation) else 1
        interval = self.s.probe_interval_seconds
        state = snap.probes
        results: list[bool] = []
        next_start: float | None = None
        if scheduled and state.consecutive_failures > 0 and state.last_probe_at is not None:
            next_start = state.last_probe_at + interval
        for _ in range(rounds):
            if next_start is not None:
                wait = min(interval, next_start - self.clock.now())
                if wait > 0:
                    self.clock.sleep(wait)
            started = self.clock.now()
            ok = self.probe_once(writer_arn)
            results.append(ok)
            previous = state
            state = next_probe_state(state, ok, started, self.policy.max_probe_gap_seconds, self.s.max_contact_gap_seconds)
            if ok and snap.local_sync and state.sync_in_contact != snap.local_sync:
                state = replace(state, sync_in_contact=snap.local_sync)
            if state.contact_lost_at is not None and state.contact_lost_at != previous.contact_lost_at:
                state = replace(state, lag_at_contact_loss=self._read_lag_window(state.contact_lost_at))
            if persist and _persisted(state) != _persisted(previous):
                self._save_probes(state)
            if peer_lost(state, self.policy):
                break
            next_start = started + interval
        return replace(snap, probes=state, peer_reachable_now=results[-1] if results else None, peer_answered=any(results)), results

    def _read_lag_window(self, contact_lost_at: float) -> LagReading | None:
        """The lag in the RPO window before ``contact_lost_at`` (None when CloudWatch did not answer)."""
        from .aws import AwsError

        start, end = rpo_window(contact_lost_at, self.s.lag_lookback_seconds)
        try:
            return self.aws.lag_reading(start, end)
        except AwsError as exc:
            self.log.warning("replication lag unavailable", extra={"error": str(exc)})
            return None

    def rpo_evidence(self, snap: Snapshot) -> Snapshot:
        """The lag the RPO guard judges: the window before the loss of contact, read again now (late
        datapoints) and merged with the reading taken at the loss of contact. Without a loss of
        contact (an operator's failover while the peer answers) the window ends now."""
        probes = snap.probes
        anchor = probes.contact_lost_at if probes.contact_lost_at is not None else snap.now
        fresh = self._read_lag_window(anchor)
        return replace(snap, rpo_evidence=merge_lag(probes.lag_at_contact_loss, fresh))

    def _save_probes(self, state: ProbeState) -> None:
        from .aws import AwsError

        try:
            self.aws.put_param(self.p_probes, json.dumps(asdict(state)))
        except AwsError as exc:
            self.log.warning("could not persist probe state", extra={"error": str(exc)})

    # ---------------------------------------------------------------- main entry
    def run(self, trigger: Trigger) -> Outcome:
        cpu0 = time.process_time()
        calls0 = self.aws.api_calls
        t0 = self.clock.monotonic()
        read_only = isinstance(trigger, OperatorCommand) and (trigger.dry_run or trigger.action == "status")
        metrics = Metrics({"Region": self.s.region, "Stack": self.s.stack})
        self.owner = uuid.uuid4().hex
        self.holder = (
            f"{trigger.requested_by or 'operator'} ({trigger.action})" if isinstance(trigger, OperatorCommand) else f"evaluation ({trigger.source})"
        )
        self._trigger = trigger
        operator = isinstance(trigger, OperatorCommand)
        snap, op, writer_arn = self.read_snapshot(current_lag=operator, instances=operator)
        if not read_only and snap.rds_reachable and snap.global_found and snap.local_is_member:
            # Publish the writer signal now, from the snapshot: the probes below
            # can take most of a minute and the alarm must not wait for them.
            self._writer_value = 1 if snap.holds_writer else 0
            self._publish_writer()
        probes: list[bool] = []
        if should_probe(snap, trigger):
            snap, probes = self.probe_loop(snap, writer_arn, trigger, persist=not read_only)
        if needs_rpo_evidence(snap, trigger, self.policy):
            snap = self.rpo_evidence(snap)
        decision = decide(snap, trigger, self.policy)
        outcome = Outcome(
            ok=decision.action != Act.INCONCLUSIVE and (decision.action != Act.REFUSE or isinstance(trigger, Evaluate)),
            action=decision.action.value,
            reason=decision.reason,
            kind=decision.kind,
            guard=decision.guard,
            command_hint=decision.command_hint,
            dry_run=read_only,
            writer=decision.writer,
            probes=probes,
            status=_status(snap, writer_arn),
        )
        if isinstance(trigger, OperatorCommand):
            # Operators (and the drill's readiness check) see whether both regions run one release.
            outcome.status.update(self.release_status())
            if trigger.action == "status":
                outcome.status.update(self.readiness_status())
        self.log.info(
            "decision",
            extra={"trigger": asdict(trigger), "decision": asdict(decision), "probes": probes, "snapshot": outcome.status},
        )
        if not read_only:
            if snap.probes.consecutive_failures:
                metrics.add("PeerConsecutiveFailures", snap.probes.consecutive_failures, "Count")
            try:
                decision = self._act(decision, snap, op, outcome, metrics)
            except Exception as exc:  # reported, logged, exit non-zero
                outcome.ok = False
                outcome.error = f"{type(exc).__name__}: {exc}"
                metrics.add("StepFailed", 1, "Count")
                self.log.error("action failed", extra={"error": outcome.error}, exc_info=True)
            metrics.add("Decision", 1, "Count", Action=decision.action.value)
            # The writer signal again, at the end of the evaluation: with one at the
            # start (and one at every lease renewal while it waits), every 60 s alarm
            # period gets a datapoint even when invocations drift or run long.
            # A promotion confirmed in this run makes this region the writer.
            # (Also when a post-promotion step failed: the writer is here all the same.)
            promoted = decision.action in LEASED_ACTIONS and (
                outcome.operation is not None and outcome.operation.get("status") in ("promoted", "complete")
            )
            final_writer = 1 if promoted else decision.writer
            if final_writer is not None:
                metrics.add(WRITER_METRIC, final_writer, "None")
            metrics.add("EvaluationDuration", (self.clock.monotonic() - t0) * 1000.0, "Milliseconds")
            self._flush(metrics)
        outcome.api_calls = self.aws.api_calls - calls0
        outcome.cpu_seconds = time.process_time() - cpu0
        return outcome

    def _publish_writer(self) -> None:
        if self._writer_value is None:
            return
        signal = Metrics({"Region": self.s.region, "Stack": self.s.stack})
        signal.add(WRITER_METRIC, self._writer_value, "None")
        self._flush(signal)
        self._writer_published = self.clock.now()

    def _flush(self, metrics: Metrics) -> None:
        from .aws import AwsError

        try:
            self.aws.put_metrics(metrics.data)
        except AwsError as exc:
            self.log.warning("metrics not published", extra={"error": str(exc)})

    # ---------------------------------------------------------------- actions
    def _act(self, d: Decision, snap: Snapshot, op: Operation | None, out: Outcome, metrics: Metrics) -> Decision:
        """Carry out ``d``; returns the decision actually carried out.

        A decision with side effects was taken on a snapshot read before the probes, up to a
        minute ago; an operator (the CLI, an ARC plan, the console) may have promoted this
        region meanwhile. So before acting the global cluster, the operation record and the
        active flag are read again and the decision is taken again, with the probe results and
        the RPO evidence already gathered (no new probes). A promotion, its wait and its steps
        are decided again once more after the lease is taken: only the lease holder acts, and it
        acts on what AWS and the record say once it holds it.
        """
        leased = d.action in LEASED_ACTIONS
        if not leased and (d.fence or d.abandon_operation or d.action == Act.NOTIFY_OPERATOR):
            d, snap, op = self._decide_again(snap, out)
            leased = d.action in LEASED_ACTIONS
        if leased:
            if not self._acquire_lease(out, metrics):
                return replace(d, action=Act.NOOP, fence=False, abandon_operation=False)
            try:
                d, snap, op = self._decide_again(snap, out)
                self._apply(d, snap, op, out, metrics)
            finally:
                self._release_lease()
        else:
            self._apply(d, snap, op, out, metrics)
        return d

    def _decide_again(self, snap: Snapshot, out: Outcome, probe: bool = False) -> tuple[Decision, Snapshot, Operation | None]:
        """Decide again on AWS's state now (this cluster's instances included), with the probes already made;
        ``probe``: one more probe first (before a data-loss promotion that waited for its instances)."""
        assert self._trigger is not None
        fresh, op, writer_arn = self.read_snapshot(instances=True)
        if not (fresh.rds_reachable and fresh.global_found):
            fresh = replace(snap, now=fresh.now, db_instances=None)  # keep the earlier view rather than act on none
        else:
            answered = snap.peer_answered
            now_reachable = snap.peer_reachable_now
            if probe:
                now_reachable = self.probe_once(writer_arn)
                answered = answered or now_reachable
            fresh = replace(
                fresh,
                probes=snap.probes,
                peer_reachable_now=now_reachable,
                peer_answered=answered,
                rpo_evidence=snap.rpo_evidence,
                lag_seconds=snap.lag_seconds,
            )
        d = decide(fresh, self._trigger, self.policy)
        if (d.action.value, d.reason) != (out.action, out.reason):
            self.log.info("decided again on fresh state", extra={"before": out.action, "decision": asdict(d)})
        out.action, out.reason, out.kind, out.guard, out.command_hint, out.writer = (
            d.action.value, d.reason, d.kind, d.guard, d.command_hint, d.writer,
        )
        out.ok = d.action != Act.INCONCLUSIVE and (d.action != Act.REFUSE or isinstance(self._trigger, Evaluate))
        out.status = {**out.status, **_status(fresh, writer_arn)}
        return d, fresh, op

    def _apply(self, d: Decision, snap: Snapshot, op: Operation | None, out: Outcome, metrics: Metrics) -> None:
        if d.fence:
            self.aws.put_param(self.s.active_param, "false")
            out.fenced = True
            self.log.warning("fenced: this region does not hold the writer; active flag set false")
        if d.abandon_operation and op is not None:
            op.status = "failed"
            self._event(op, "promotion", "abandoned", "AWS shows no operation and this region is not the writer")
            self._save_op(op)
            self._notify_operator("promotion abandoned", snap, d, op)
        if d.action == Act.NOTIFY_OPERATOR:
            self._notify_operator(d.reason, snap, d, None)
            self._save_probes(replace(snap.probes, operator_notified=True))
            return
        if d.action not in LEASED_ACTIONS:
            return
        if d.action == Act.CANCEL:
            assert op is not None
            self._cancel(op, d.reason)
            out.operation = asdict(op)
            return
        try:
            op = self._open_operation(d, snap, op)
            out.operation = asdict(op)
            if d.action == Act.PREPARE:
                if not self._prepare(op):
                    out.reason = f"{d.reason}; {self._preparing_summary(op)}"
                    return
                # Instances are up: decide again on AWS's state now, and (for an automatic failover) on one more probe.
                automatic_failover = op.automatic and op.kind == "failover" and op.status == "preparing"
                d, snap, _ = self._decide_again(snap, out, probe=automatic_failover)
                if d.action == Act.CANCEL:
                    self._cancel(op, d.reason)
                    return
                if d.action not in (Act.PROMOTE, Act.WAIT_PROMOTION, Act.FINISH_STEPS):
                    return
                if d.action != Act.PROMOTE and op.status == "preparing":
                    op.status = "promoting"  # promoted while it prepared, requested outside this function; confirmed below
            if d.action == Act.PROMOTE and op.status == "preparing" and not self._prepare(op):
                # The instance came up between evaluations (the decision saw it): _prepare records when. Not up after all:
                # the preparation goes on.
                out.reason = f"{d.reason}; {self._preparing_summary(op)}"
                return
            if d.action == Act.PROMOTE:
                self._promote(op, d.kind)
            if op.status == "promoting":
                self._wait_promotion(op, metrics)
            if d.action == Act.WAIT_PROMOTION and not self._prepare(op):
                return  # promoted (by someone) into a cluster without an available instance: preparing, resumed next run
            self._writer_value = 1
            self._post_steps(op)
        finally:
            if op is not None:
                out.operation = asdict(op)

    def _open_operation(self, d: Decision, snap: Snapshot, op: Operation | None) -> Operation:
        """The operation record this decision acts on: a new one, or the open one resumed."""
        operator = isinstance(self._trigger, OperatorCommand)
        if op is None or op.status not in OPEN_STATUSES:
            status = {Act.FINISH_STEPS: "promoted", Act.PREPARE: "preparing"}.get(d.action, "promoting")
            if snap.local_is_writer:
                status = "promoted"
            op = Operation(
                op_id=f"{self.s.stack}-{int(self.clock.now())}-{self.owner[:8]}",
                kind=d.kind,
                status=status,
                started_at=self.clock.now(),
                first_failure_at=snap.probes.first_failure_at,
                rpo_evidence=_evidence_report(snap) if d.kind == "failover" else None,
                automatic=not operator,
            )
            if status == "promoted":
                op.promoted_at = self.clock.now()
            self._event(op, "decision", "ok", d.reason)
            self._save_op(op)
            return op
        self._event(op, "resume", "ok", d.reason)
        if operator and op.automatic:
            # An operator's command takes over the automatic failover under preparation: from now on it is theirs,
            # and the peer answering again no longer stops it.
            op.automatic = False
            if d.kind in ("failover", "switchover", "failback") and d.kind != op.kind:
                op.kind = d.kind
                op.rpo_evidence = _evidence_report(snap) if d.kind == "failover" else None
        if op.status == "preparing" and (snap.local_is_writer or d.action == Act.WAIT_PROMOTION):
            op.status = "promoting"  # promoted while it prepared, requested outside this function; confirmed below
        self._save_op(op)
        return op

    def _promote(self, op: Operation, kind: str) -> None:
        from .aws import AwsError, error_code

        data_loss = kind == "failover"
        prepared = op.status == "preparing"
        op.status = "promoting"
        op.requested_at = self.clock.now()
        try:
            self.aws.failover_global(allow_data_loss=data_loss)
            self._event(op, "promotion-requested", "ok", "FailoverGlobalCluster AllowDataLoss=True" if data_loss else "SwitchoverGlobalCluster")
        except AwsError as exc:
            # The request may have been accepted (timeout after processing) or already be under way.
            gc = self._try(self.aws.describe_global)
            fs = (gc or {}).get("FailoverState") or {}
            members = (gc or {}).get("GlobalClusterMembers", [])
            mine = any(m.get("DBClusterArn") == self.s.local_cluster_arn and m.get("IsWriter") for m in members)
            if fs.get("ToDbClusterArn") == self.s.local_cluster_arn or mine:
                self._event(op, "promotion-requested", "ok", f"{error_code(exc)}; AWS shows promotion to this region")
                return
            # Refused: a prepared operation keeps its preparation (the next evaluation asks again); any other is over.
            op.status, op.requested_at = ("preparing", None) if prepared else ("failed", op.requested_at)
            self._event(op, "promotion-requested", "failed", f"{error_code(exc)}: {exc}")
            self._save_op(op)
            raise
        self._save_op(op)

    def _wait_promotion(self, op: Operation, metrics: Metrics) -> None:
        deadline = self.clock.monotonic() + self.s.promotion_timeout_seconds
        t0 = self.clock.monotonic()
        seen_state = False
        while True:
            gc = self._try(self.aws.describe_global)
            cluster = self._try(self.aws.describe_local_cluster)
            if gc is not None:
                fs = gc.get("FailoverState") or {}
                seen_state = seen_state or bool(fs)
                writer = any(
                    m.get("DBClusterArn") == self.s.local_cluster_arn and m.get("IsWriter")
                    for m in gc.get("GlobalClusterMembers", [])
                )
                status = (cluster or {}).get("Status")
                if writer and not fs and status == "available":
                    break
                if not writer and not fs and seen_state:
                    op.status = "failed"
                    self._event(op, "promotion", "failed", "operation ended without this region becoming the writer (cancelled?)")
                    self._save_op(op)
                    raise StepFailed("promotion cancelled or failed")
            if self.clock.monotonic() >= deadline:
                self._event(op, "promotion", "failed", f"not writer after {self.s.promotion_timeout_seconds:g}s")
                self._save_op(op)
                raise StepFailed("promotion deadline exceeded")
            self._keepalive()
            self.clock.sleep(self.s.poll_seconds)
        op.status = "promoted"
        op.promoted_at = self.clock.now()
        waited = self.clock.monotonic() - t0
        detail = f"writer confirmed after {waited:.1f}s"
        if op.first_failure_at is not None:
            detection = op.promoted_at - op.first_failure_at
            detail += f"; {detection:.1f}s from first failed probe"
            metrics.add("DetectionToPromotion", detection, "Seconds")
        metrics.add("PromotionDuration", waited, "Seconds")
        self._event(op, "writer-promoted", "ok", detail)
        self._save_op(op)

    # ---------------------------------------------------------------- preparation
    def _prepare(self, op: Operation) -> bool:
        """Make this region's cluster promotable: it needs an available DB instance (AWS requires one for a
        switchover or failover; Magento needs one to write). Returns True when it has one.

        Otherwise, once per operation: the web tier to production first (the `scale_asg` step, recorded done:
        web instances take minutes to serve, so they start now, beside the database's), then
        MDR_DB_INSTANCES_TO_ADD instances `{cluster}-failover-N` (an identifier that exists already counts as
        added). Then it waits, renewing the lease, at most MDR_DB_INSTANCE_TIMEOUT_SECONDS per invocation; a
        later invocation resumes. An instance takes ~20 minutes, far more than one invocation's budget
        beside the promotion and the steps (handlers/README.md, "Time budget").
        """
        instances = self._read_instances() or []
        ready = _available(instances)
        if not ready:
            if "scale_asg" not in op.steps_done:
                self._run_step(op, "scale_asg")
            if not op.db_instances_added:
                self._add_instances(op, instances)
            deadline = self.clock.monotonic() + self.s.db_instance_timeout_seconds
            while not ready:
                if self.clock.monotonic() >= deadline:
                    self._save_op(op)
                    return False
                self._keepalive()
                self.clock.sleep(min(max(self.s.poll_seconds, PREPARATION_POLL_SECONDS), max(0.0, deadline - self.clock.monotonic())))
                ready = _available(self._read_instances() or [])
        if op.db_instances_added and not any(e.get("step") == "db-instance-available" for e in op.timeline):
            waited = self.clock.now() - op.started_at
            self._event(op, "db-instance-available", "ok", f"{ready[0]} available, {waited:.0f}s after the decision")
            self._save_op(op)
        return True

    def _add_instances(self, op: Operation, existing: list[tuple[str, str]]) -> None:
        """CreateDBInstance for each `{cluster}-failover-N` (the first the writer-to-be: promotion tier 0), spread over
        the cluster's Availability Zones; the operator is told once what is being prepared and how long it takes."""
        from .aws import AwsError, error_code

        zones: list[str] = []
        try:
            zones = [str(z) for z in (self.aws.describe_local_cluster() or {}).get("AvailabilityZones", [])]
        except AwsError as exc:
            self.log.warning("the cluster's Availability Zones are unreadable; RDS places the instances", extra={"error": str(exc)})
        added: list[str] = []
        problems: list[str] = []
        for n, identifier in enumerate(self.s.failover_instance_ids()):
            try:
                self.aws.create_failover_instance(identifier, 0 if n == 0 else 1, zones[n % len(zones)] if zones else "")
            except AwsError as exc:
                problems.append(f"{identifier}: {error_code(exc)}: {exc}")
                continue
            added.append(identifier)
        op.db_instances_added = added
        present = ", ".join(f"{i} {status}" for i, status in existing) or "none"
        detail = f"{self.s.db_instance_class} x{len(added)}: {', '.join(added) or 'none'} (instances before: {present})"
        self._event(op, "db-instances-requested", "ok" if added else "failed", detail + (f"; refused: {'; '.join(problems)}" if problems else ""))
        self._save_op(op)
        if not added:
            raise StepFailed(f"no DB instance could be added to {self.s.local_cluster_id} ({'; '.join(problems)}); the next invocation retries")
        message = {
            "summary": f"magento-dr {self.s.region} ({self.s.stack}): {op.kind} decided; preparing this region first "
            f"({self.s.standby_posture} standby): {len(added)} DB instance(s) are being created and the web tier scaled to production. "
            f"The promotion is requested once the first instance is available (AWS publishes no figure; the RTO budget assumes about twenty minutes).",
            "operation": op.op_id,
            "db_instances": added,
            "web_capacity": {"before": op.capacity_before, "now": [self.s.scale_min, self.s.scale_desired, self.s.scale_max]},
            "follow_it": "python -m handlers.failover status   (with this region's failover function environment)",
            "problems": problems,
            "timeline": op.timeline,
        }
        self._publish_best_effort(f"magento-dr {op.kind} preparing: {self.s.region}", message)

    def _preparing_summary(self, op: Operation) -> str:
        instances = self._read_instances()
        found = ", ".join(f"{i} {status}" for i, status in instances or []) or "none"
        return (f"preparing: this cluster's DB instances {found}; no promotion requested yet; the next evaluation resumes "
                f"(waited up to {self.s.db_instance_timeout_seconds:g}s in this one)")

    def _cancel(self, op: Operation, reason: str) -> None:
        """An automatic failover stops while it prepared: nothing was promoted and nothing is deleted (a new loss of the
        peer would need it all again); the operator gets what was prepared and the commands to return to the posture."""
        from .readiness import posture_commands

        op.status = "cancelled"
        self._event(op, "cancelled", "ok", reason)
        self._save_op(op)
        instances = self._read_instances()
        commands = posture_commands(self.s.region, op.db_instances_added, self.s.asg_name, tuple(op.capacity_before) if op.capacity_before else None)
        message = {
            "summary": f"magento-dr {self.s.region} ({self.s.stack}): the automatic failover stopped while preparing; nothing "
            f"was promoted. What it prepared stays (running, at cost) until you return this region to its "
            f"{self.s.standby_posture} posture.",
            "reason": reason,
            "operation": op.op_id,
            "prepared": {
                "db_instances": [f"{i} {status}" for i, status in instances or [] if i in op.db_instances_added],
                "web_capacity": {"before": op.capacity_before, "now": [self.s.scale_min, self.s.scale_desired, self.s.scale_max]}
                if "scale_asg" in op.steps_done else None,
            },
            "return_to_posture": commands,
            "timeline": op.timeline,
        }
        self._publish_best_effort(f"magento-dr: failover preparation cancelled in {self.s.region}", message)

    def _publish_best_effort(self, subject: str, message: dict[str, Any]) -> None:
        """A notice the operation does not wait for (the record and `status` say the same): logged when SNS refuses it."""
        from .aws import AwsError

        try:
            self.aws.publish(subject, message)
        except AwsError as exc:
            self.log.warning("notice not sent", extra={"subject": subject, "error": str(exc)})

    # ---------------------------------------------------------------- post steps
    def _post_steps(self, op: Operation) -> None:
        """Run every remaining step in order, each at most once per invocation.

        A failing step is recorded (timeline + ``failed_steps`` with the reason) and does
        not stop the later steps: the shop's capacity and active flag never wait for the
        cache, and the final notification always goes out (once) naming what failed.
        The operation stays ``promoted`` (open) until every step is done, so the next
        invocation retries only the failed steps. Saving the record is not a step: if
        that fails, the invocation stops here and the next one resumes from the record.
        """
        failed = [step for step in remaining_steps(op.view()) if not self._run_step(op, step)]
        if failed:
            raise StepFailed(
                f"post-promotion step(s) failed: {', '.join(f'{s} ({op.failed_steps[s]})' for s in failed)}; "
                "the next invocation retries them"
            )
        op.status = "complete"
        self._save_op(op)
        self._save_probes(ProbeState())

    def _run_step(self, op: Operation, step: str) -> bool:
        """Run one step: recorded (timeline, steps_done or failed_steps with the reason) and saved. False if it failed."""
        self._keepalive(force=True)  # never start a step on a lease that may have lapsed
        try:
            detail = getattr(self, f"_step_{step}")(op)
        except LeaseLost:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of one step is recorded; the later steps still run
            reason = f"{type(exc).__name__}: {exc}"
            op.failed_steps[step] = reason
            self._event(op, step, "failed", reason)
            self._save_op(op)
            self.log.error("post-promotion step failed", extra={"step": step, "error": reason})
            return False
        op.failed_steps.pop(step, None)
        op.steps_done.append(step)
        self._event(op, step, "ok", detail)
        self._save_op(op)
        return True

    def operator_command(self, step: str) -> str:
        """The exact command an operator runs to do ``step`` by hand (in this region)."""
        s, r = self.s, self.s.region
        if step == "cache_failover":
            gid, rg = s.cache_global_datastore_id, s.cache_replication_group_id
            return (
                f"aws elasticache failover-global-replication-group --region {r} --global-replication-group-id {gid} "
                f"--primary-region {r} --primary-replication-group-id {rg}   "
                f"# if the old primary region is lost and that is refused, detach this region's group as a standalone primary: "
                f"aws elasticache disassociate-global-replication-group --region {r} --global-replication-group-id {gid} "
                f"--replication-group-id {rg} --replication-group-region {r}"
            )
        if step == "scale_asg":
            return (
                f"aws autoscaling update-auto-scaling-group --region {r} --auto-scaling-group-name {s.asg_name} "
                f"--min-size {s.scale_min} --desired-capacity {s.scale_desired} --max-size {s.scale_max}"
            )
        if step == "activate_region":
            return (
                f"aws ssm put-parameter --region {r} --name {s.active_param} --value true --type String --overwrite && "
                f"aws ssm put-parameter --region {r} --name {s.activation_param} --value {s.local_cluster_arn} --type String --overwrite"
            )
        if step == "run_commands":
            # Once, on one running instance (the document flushes the caches and rebuilds the search
            # index; every instance would repeat that), as the step itself does.
            one_instance = (
                f"$(aws ec2 describe-instances --region {r} --filters Name=tag:{s.instance_tag_key},Values={s.instance_tag_value} "
                "Name=instance-state-name,Values=running --query 'Reservations[0].Instances[0].InstanceId' --output text)"
            )
            return f"aws ssm send-command --region {r} --document-name {s.run_command_document} --instance-ids {one_instance}"
        return ""

    def _step_cache_failover(self, op: Operation) -> str:
        if not self.s.cache_global_datastore_id:
            return "skipped (no global datastore configured)"
        from .aws import AwsError, error_code

        budget = self.s.cache_failover_timeout_seconds
        deadline = self.clock.monotonic() + budget
        requested = False
        last = ""
        while True:
            status, role = self.aws.cache_member_role()
            if role == "primary":
                return "already primary" if not requested else "this region's replication group is primary"
            if role == "":
                # An operator may have disassociated it (the datastore could not fail over while its
                # primary region was lost): a standalone, available group is a writable primary.
                if self.aws.cache_group_standalone_available():
                    return "standalone: disassociated from the global datastore, this region's group is a writable primary"
                raise StepFailed("this region's replication group is not a member of the global datastore")
            if status == "available" and not requested:
                try:
                    self.aws.cache_failover()
                    requested = True
                except AwsError as exc:
                    # wire code per the service model (shape InvalidGlobalReplicationGroupStateFault)
                    if error_code(exc) not in ("InvalidGlobalReplicationGroupState", "InvalidGlobalReplicationGroupStateFault"):
                        raise
                    last = f"; last refusal {error_code(exc)}: {exc}"
            if self.clock.monotonic() >= deadline:
                raise StepFailed(
                    f"this region's replication group not primary within {budget:g}s "
                    f"(datastore {status or 'unknown'}, role {role}{', failover requested' if requested else ''}{last})"
                )
            self._keepalive()
            self.clock.sleep(min(self.s.poll_seconds, max(0.0, deadline - self.clock.monotonic())))

    def _step_scale_asg(self, op: Operation) -> str:
        want = (self.s.scale_min, self.s.scale_desired, self.s.scale_max)
        have = self.aws.asg_capacity()
        if have is None:
            raise StepFailed(f"auto scaling group {self.s.asg_name} not found")
        if have == want:
            return f"already min/desired/max={want}"
        if op.capacity_before is None:
            op.capacity_before = list(have)
        self.aws.scale_asg()
        return f"min/desired/max {have} -> {want}"

    def _step_activate_region(self, op: Operation) -> str:
        self.aws.put_param(self.s.active_param, "true")
        # When: the peer's writer gate and function read it if this region ever comes back with a stale view.
        self.aws.put_param(self.s.activation_param, self.s.local_cluster_arn)
        return f"{self.s.active_param}=true; {self.s.activation_param} recorded; {self.aws.put_peer_inactive_best_effort()}"

    def _step_run_commands(self, op: Operation) -> str:
        if not self.s.run_command_document:
            return "skipped (no command document configured)"
        budget = self.s.run_command_timeout_seconds
        deadline = self.clock.monotonic() + budget
        if not op.command_id:
            instance = self.aws.pick_instance()
            while instance is None:
                if self.clock.monotonic() >= deadline:
                    raise StepFailed(f"no running instance to run the Magento commands on within {budget:g}s")
                self._keepalive()
                self.clock.sleep(self.s.poll_seconds)
                instance = self.aws.pick_instance()
            op.instance_id = instance
            op.command_id = self.aws.send_command(instance, f"magento-dr {op.op_id}")
            self._save_op(op)  # never send twice for one operation
        while True:
            status = self.aws.command_status(op.command_id, op.instance_id)
            if status == "Success":
                return f"{self.s.run_command_document} on {op.instance_id} (command {op.command_id})"
            if status in ("Failed", "Cancelled", "TimedOut", "Cancelling"):
                op.command_id = ""  # a resume sends a fresh command
                raise StepFailed(f"run command {status}")
            if self.clock.monotonic() >= deadline:
                # The command keeps running on the instance; a resume polls the same command id.
                raise StepFailed(f"run command {op.command_id} not finished within {budget:g}s (status {status})")
            self._keepalive()
            self.clock.sleep(self.s.poll_seconds)

    def release_status(self) -> dict[str, Any]:
        """This region's and (best effort) the peer's release versions; a mismatch only warns."""
        report = release_report(self.aws.release_version(), self.aws.release_version(peer=True))
        if report["release_versions_match"] is False:
            self.log.warning("release versions differ between the regions", extra=report)
        return report

    def readiness_status(self) -> dict[str, Any]:
        """The latest result the readiness function stored in this region ({prefix}/failover/readiness), for `status`."""
        from .aws import AwsError
        from .readiness import decode, summary

        name = f"{self.s.state_prefix}/readiness"
        try:
            raw = self.aws.get_params([name]).get(name)
        except AwsError as exc:
            return {"readiness": f"unreadable: {exc}"}
        return summary(decode(raw), self.clock.now())

    def _step_notify(self, op: Operation) -> str:
        detection = None
        if op.first_failure_at is not None and op.promoted_at is not None:
            detection = round(op.promoted_at - op.first_failure_at, 3)
        failed = [
            {"step": step, "reason": reason, "run_this": self.operator_command(step)}
            for step, reason in op.failed_steps.items()
            if step != "notify"  # this message is the notification
        ]
        summary = f"magento-dr: {self.s.region} ({self.s.stack}) is now the active region ({op.kind})"
        if failed:
            summary += (
                f"; FAILED steps: {', '.join(f['step'] for f in failed)} "
                "(retried by the next invocation; see failed_steps for the reason and the command to do it by hand)"
            )
        message = {
            "summary": summary,
            "failed_steps": failed,
            "steps_done": list(op.steps_done),
            "operation": op.op_id,
            "kind": op.kind,
            "region": self.s.region,
            "first_failed_probe_at": iso(op.first_failure_at),
            "writer_promoted_at": iso(op.promoted_at),
            "seconds_first_failed_probe_to_writer_promoted": detection,
            "rpo_evidence": op.rpo_evidence,
            "release": self.release_status(),
            "timeline": op.timeline,
        }
        subject = (
            f"magento-dr {op.kind} INCOMPLETE, {len(failed)} step(s) failed: {self.s.region}"
            if failed
            else f"magento-dr {op.kind} complete: {self.s.region}"
        )
        msg_id = self.aws.publish(subject, message)
        return f"SNS message {msg_id}"

    # ---------------------------------------------------------------- helpers
    def _notify_operator(self, reason: str, snap: Snapshot, d: Decision, op: Operation | None) -> None:
        message = {
            "summary": f"magento-dr {self.s.region} ({self.s.stack}): {reason}",
            "mode": self.s.mode,
            "guard": d.guard,
            "run_this_to_act": d.command_hint,
            "rpo_evidence": _evidence_report(snap),
            "status": _status(snap, ""),
            "operation": asdict(op) if op else None,
        }
        self.aws.publish(f"magento-dr: action needed in {self.s.region}", message)

    def _event(self, op: Operation, step: str, result: str, detail: str) -> None:
        """Add to the operation's timeline. What repeats (a resumed run, a step that failed again) moves to the end with its
        count instead of adding an entry each time: a preparation resumed every minute keeps the record small."""
        entry: dict[str, Any] = {"at": iso(self.clock.now()), "step": step, "result": result, "detail": detail}
        self.log.info("step", extra={"operation": op.op_id, **entry})
        if step == "resume" or result == "failed":
            earlier = next((e for e in op.timeline if (e.get("step"), e.get("result")) == (step, result)), None)
            if earlier is not None:
                op.timeline.remove(earlier)
                entry["times"] = int(earlier.get("times", 1)) + 1
        op.timeline.append(entry)

    def _save_op(self, op: Operation) -> None:
        self.aws.put_param(self.p_op, fit_record(asdict(op)))

    def _try(self, fn: Any) -> Any:
        from .aws import AwsError

        try:
            return fn()
        except AwsError as exc:
            self.log.warning("poll failed", extra={"error": str(exc)})
            return None

    def _acquire_lease(self, out: Outcome, metrics: Metrics) -> bool:
        """Take the lease (atomic create). A lease that stopped counting (its holder stopped renewing
        it LEASE_TTL_SECONDS ago, by SSM's clock) is taken over. When another holder's live lease
        blocks this run, it says so: the outcome, a log line and the LeaseBlocked metric, which a
        stack alarm watches for runs blocked longer than any legitimate holder works."""
        now = self.clock.now()
        value = leases.Lease(self.owner, now, now, self.holder).encode()
        if self.aws.create_param(self.p_lease, value):
            self._lease_renewed = now
            return True
        found = self.aws.get_param_written(self.p_lease)
        current = leases.decode(found[0]) if found else None
        written = found[1] if found else None
        # Judged by SSM's clock at both ends (its LastModifiedDate and its Date header): a reader whose own clock runs
        # fast (an operator's workstation) must not take over a live holder's lease. Without a Date header, our clock.
        ssm_now = found[2] if found is not None and found[2] is not None else now
        if found is not None and leases.is_live(current, written, ssm_now):
            assert current is not None and written is not None
            held = max(0.0, now - current.acquired_at)
            out.action = Act.NOOP.value
            out.reason = (
                f"another invocation holds the failover lease ({current.holder or current.owner[:8]}, "
                f"renewed {ssm_now - written:.0f}s ago, lapses in {leases.expires_at(written) - ssm_now:.0f}s)"
            )
            out.status["lease"] = {"holder": current.holder, "owner": current.owner, "acquired_at": iso(current.acquired_at),
                                   "renewed_at": iso(written), "expires_at": iso(leases.expires_at(written))}
            metrics.add(LEASE_BLOCKED_METRIC, 1, "Count")
            self.log.warning("blocked by the failover lease", extra={"lease": out.status["lease"], "held_seconds": held})
            return False
        # Absent by now, unreadable, or lapsed: its holder died. Take over.
        self.log.warning("taking over a lapsed failover lease", extra={"lease": found[0] if found else None})
        self.aws.delete_param(self.p_lease)
        if self.aws.create_param(self.p_lease, value):
            self._lease_renewed = now
            return True
        out.action, out.reason = Act.NOOP.value, "another invocation took the failover lease first"
        return False

    def _keepalive(self, force: bool = False) -> None:
        """While holding the lease: renew it every LEASE_RENEW_SECONDS (every step when ``force``),
        and publish the writer signal with it, so no alarm period of a long wait stays empty."""
        if self._lease_renewed is None:
            return
        now = self.clock.now()
        if force or leases.renewal_due(self._lease_renewed, now):
            self._renew_lease(now)
        if now - self._writer_published >= leases.LEASE_RENEW_SECONDS:
            self._publish_writer()

    def _renew_lease(self, now: float) -> None:
        found = self.aws.get_param_written(self.p_lease)
        current = leases.decode(found[0]) if found else None
        if current is None or current.owner != self.owner:
            self._lease_renewed = None
            taken = f"now held by {current.holder or current.owner[:8]}" if current else "gone"
            raise LeaseLost(f"the failover lease was taken over ({taken}); this invocation stopped acting")
        self.aws.put_param(self.p_lease, replace(current, renewed_at=now).encode())
        self._lease_renewed = now

    def _release_lease(self) -> None:
        from .aws import AwsError

        if self._lease_renewed is None:
            return
        self._lease_renewed = None
        try:
            found = self.aws.get_param_written(self.p_lease)
            current = leases.decode(found[0]) if found else None
            if current is not None and current.owner == self.owner:
                self.aws.delete_param(self.p_lease)
        except AwsError as exc:
            self.log.warning("lease not released", extra={"error": str(exc)})


#: The operation record is a standard SSM parameter: "Standard tier parameters support a maximum parameter value of 4096
#: characters" (handlers/readiness.py SSM_STANDARD_VALUE_LIMIT, where the page is cited).
OPERATION_RECORD_LIMIT = 4096


def fit_record(record: dict[str, Any], limit: int = OPERATION_RECORD_LIMIT) -> str:
    """The operation record as compact ASCII JSON within `limit`: the timeline's details are shortened, step by step,
    until it fits, so saving the record never fails for its size (the full details are in the function's logs)."""
    text = json.dumps(record, separators=(",", ":"), ensure_ascii=True)
    for width in (200, 100, 40, 0):
        if len(text) <= limit:
            return text
        timeline = [dict(e, detail=_cut(str(e.get("detail", "")), width)) for e in record.get("timeline", [])]
        record = {**record, "timeline": timeline}
        text = json.dumps(record, separators=(",", ":"), ensure_ascii=True)
    return text


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else (text[: max(0, width - 1)] + "…" if width else "")


def _available(instances: list[tuple[str, str]]) -> list[str]:
    return [identifier for identifier, status in instances if status == INSTANCE_AVAILABLE]


def _persisted(state: ProbeState) -> tuple[Any, ...]:
    """The part of the probe state worth persisting: the count and, while it is non-zero,
    the time of the last (failed) probe, which the staleness rule needs across invocations,
    plus the evidence kept with it. A success after a success changes nothing here, so a
    healthy minute writes nothing."""
    last = state.last_probe_at if state.consecutive_failures else None
    return (
        state.consecutive_failures,
        state.first_failure_at,
        state.operator_notified,
        last,
        state.contact_lost_at,
        state.sync_in_contact,
        state.lag_at_contact_loss,
    )


def _load_lag(data: Any) -> LagReading | None:
    if not isinstance(data, dict):
        return None
    try:
        seconds = data.get("seconds")
        return LagReading(
            metric=str(data.get("metric", "")),
            seconds=None if seconds is None else float(seconds),
            window_start=float(data["window_start"]),
            window_end=float(data["window_end"]),
            datapoints=int(data.get("datapoints", 0)),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _load_probes(raw: str | None) -> ProbeState:
    if not raw:
        return ProbeState()
    try:
        data = json.loads(raw)
        return ProbeState(
            consecutive_failures=int(data.get("consecutive_failures", 0)),
            first_failure_at=data.get("first_failure_at"),
            last_probe_at=data.get("last_probe_at"),
            operator_notified=bool(data.get("operator_notified", False)),
            contact_lost_at=data.get("contact_lost_at"),
            sync_in_contact=str(data.get("sync_in_contact", "") or ""),
            lag_at_contact_loss=_load_lag(data.get("lag_at_contact_loss")),
        )
    except (ValueError, TypeError, AttributeError):
        return ProbeState()


def _evidence_report(snap: Snapshot) -> dict[str, Any]:
    """What a data-loss failover is (or would be) judged on, for operators: the figure, the metric, the window."""
    lag = snap.rpo_evidence
    sync, where = sync_for_failover(snap)
    return {
        "contact_lost_at": iso(snap.probes.contact_lost_at),
        "lag_seconds": None if lag is None else lag.seconds,
        "lag_metric": None if lag is None else (lag.metric or None),
        "lag_window": None if lag is None else describe_window(lag),
        "lag_window_start": None if lag is None else iso(lag.window_start),
        "lag_window_end": None if lag is None else iso(lag.window_end),
        "lag_datapoints": None if lag is None else lag.datapoints,
        "synchronization_status": sync,
        "synchronization_status_read": where,
        "synchronization_status_now": snap.local_sync,
    }


def _status(snap: Snapshot, writer_arn: str) -> dict[str, Any]:
    return {
        "writer_here": snap.local_is_writer,
        "stale_writer_view": snap.stale_view,
        "writer_arn": writer_arn or snap.writer_arn,
        "writer_outside_pair": snap.writer_outside_pair,
        "secondaries_behind": list(snap.secondaries_behind),
        "local_status": snap.local_status,
        "local_sync": snap.local_sync,
        "failover_state": asdict(snap.failover) if snap.failover else None,
        "active_flag": snap.active_flag,
        "lag_seconds": snap.lag_seconds,
        "consecutive_failures": snap.probes.consecutive_failures,
        "contact_lost_at": iso(snap.probes.contact_lost_at),
        "sync_in_contact": snap.probes.sync_in_contact,
        "rpo_evidence": _evidence_report(snap) if snap.rpo_evidence is not None else None,
        "peer_reachable_now": snap.peer_reachable_now,
        "operation": asdict(snap.operation) if snap.operation else None,
        "db_instances": None if snap.db_instances is None else [f"{i} {status}" for i, status in snap.db_instances],
        "rds_reachable": snap.rds_reachable,
    }


__all__ = ["STEPS", "Clock", "LeaseLost", "Operation", "Outcome", "Runner", "StepFailed", "SystemClock"]
