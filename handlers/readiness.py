"""Pure readiness core: would a failover work right now? A snapshot of this region's view in, verdicts out.

One code path for both callers: the readiness function (handlers/readiness_runner.py, every few
minutes in each shop region) and `make drill TARGET=aws` (drill/readiness.py) evaluate the same
checks over the same snapshot (handlers/readiness_aws.py gathers it). No I/O, no clock reads.

Every check is judged from the stack's own region. What only the peer region or us-east-1 could
answer (the peer's release and parameter digest, Route 53's API) arrives as :class:`Unread` when
they are dark, and the check says "warn: unknown" instead of failing or blocking the others. A check that is not
applicable in this region (the replication lag where the writer is) passes and says why.

Verdicts: ``pass`` (ready), ``warn`` (could not be judged, or costs money but not readiness),
``fail`` (a failover would not work as designed, or this region is not where it should be).
The region is Ready when no check fails.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .activation import activation_parameter
from .decide import LagReading

#: The readiness metrics (namespace MDR_METRIC_NAMESPACE; components/contracts.py keeps the same names):
#: Ready (1/0) per region, and ReadinessCheck per check (1 pass, 0.5 warn, 0 fail) with a Check dimension.
READY_METRIC = "Ready"
CHECK_METRIC = "ReadinessCheck"
CHECK_DIMENSION = "Check"
STATUS_VALUES = {"pass": 1.0, "warn": 0.5, "fail": 0.0}

#: The checks, in the order they are reported (the Check dimension's values).
CHECKS: tuple[str, ...] = (
    "writer",
    "activation",
    "members",
    "replication-lag",
    "engine-version",
    "parameters",
    "credentials",
    "capacity",
    "cache",
    "search",
    "media-replication",
    "release",
    "failover-function",
    "post-failover",
    "peer",
    "health-checks",
    "backups",
)

#: SSM standard-tier parameters hold at most 4 KB: "Standard tier parameters support a maximum parameter
#: value of 4096 characters" (PutParameter's ValidationException; the limit table:
#: https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html).
#: The stored result is ASCII JSON (characters = bytes) cut to fit.
SSM_STANDARD_VALUE_LIMIT = 4096

#: Lambda keeps at least this many executions unreserved: "You can reserve up to the Unreserved account
#: concurrency value minus 100" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
MIN_UNRESERVED_CONCURRENCY = 100

#: How recent the failover function's last reported evaluation must be (components/failover_automation.py
#: HEARTBEAT_MINUTES; tests/test_contracts.py keeps them equal).
HEARTBEAT_MINUTES = 10
#: The window the metric-based checks read (search health, replication failures and latency, the heartbeat).
METRIC_WINDOW_SECONDS = 600
#: The lag is judged over the last minutes only, as long as the RPO guard's look-back (MDR_LAG_LOOKBACK_SECONDS): what a
#: failover now would lose. Older datapoints (the growing lag of an outage since ended) say nothing about now.
LAG_WINDOW_SECONDS = 300
#: S3 Replication Time Control replicates "99.99 percent of new objects ... within 15 minutes"
#: (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html).
RTC_THRESHOLD_SECONDS = 15 * 60
#: The release parameter's value before any release is published (components/magento_runtime.py NO_RELEASE).
NO_RELEASE = "none"
#: Where each shop region's readiness function stores its parameter digest (DigestRecord): named by the global cluster,
#: the same in both regions, so each reads the peer's without knowing the peer's stack name (as the release parameter;
#: components/contracts.py keeps the same name for the role).
DIGEST_PARAMETER = "/magento-dr/global-cluster/{global_cluster_id}/parameter-digest"
#: A peer's digest older than this says nothing about now: twice the longest readiness schedule (readiness.scheduleMinutes
#: is at most 60, components/config.py). Its own not-ready alarm already fires when its function stops reporting.
PEER_DIGEST_MAX_AGE_SECONDS = 2 * 60 * 60
#: Aurora's point-in-time restore is "typically within 5 minutes of the current time"
#: (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-pitr.html); judged with room.
RESTORABLE_LAG_SECONDS = 15 * 60


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict: a one-line reason and, unless it passed, the fix."""

    name: str
    status: Status
    reason: str
    fix: str = ""


@dataclass(frozen=True)
class Unread:
    """A read that did not answer (the API's error, or "timeout" for a dark region)."""

    what: str
    error: str

    def warn(self, check: str, fix: str = "") -> CheckResult:
        return CheckResult(check, Status.WARN, f"unknown: could not read {self.what} ({self.error})", fix or "retried at the next evaluation")


# ---------------------------------------------------------------- what the snapshot holds
@dataclass(frozen=True)
class Member:
    arn: str
    is_writer: bool
    sync: str  # "" when AWS shows no status

    @property
    def region(self) -> str:
        return region_of(self.arn)


@dataclass(frozen=True)
class GlobalView:
    members: tuple[Member, ...]
    engine_version: str = ""
    failover_status: str = ""  # FailoverState.Status, "" when no operation is under way


@dataclass(frozen=True)
class ClusterView:
    status: str
    engine_version: str
    parameter_group: str
    #: (instance id, DBClusterParameterGroupStatus) of each member instance.
    instance_parameter_status: tuple[tuple[str, str], ...] = ()
    backup_retention_days: int = 0
    latest_restorable_time: float | None = None


@dataclass(frozen=True)
class StateView:
    """The failover function's own records under {prefix}/ (read, never written, by readiness)."""

    active_flag: bool | None
    probes: Mapping[str, Any] = field(default_factory=dict)
    operation: Mapping[str, Any] = field(default_factory=dict)
    #: This region's activation record (handlers/activation.py): (the cluster ARN it names, when it was written by SSM's
    #: clock); None when the region was never activated.
    activation: tuple[str, float] | None = None


@dataclass(frozen=True)
class SecretView:
    primary_region: str = ""
    deleted: bool = False
    #: region -> (Status, StatusMessage) of each replica (on the owning region's secret only).
    replicas: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupView:
    min_size: int
    desired: int
    max_size: int
    in_service: int


@dataclass(frozen=True)
class CacheView:
    status: str
    #: (replication group id, region, role, member status) of each member.
    members: tuple[tuple[str, str, str, str], ...]
    local_group_status: str = ""
    at_rest_encryption: bool = False
    transit_encryption: bool = False
    auth_token: bool = False


@dataclass(frozen=True)
class SearchView:
    processing: bool
    deleted: bool
    #: Maxima of ClusterStatus.red / .yellow over the window (None: no datapoint).
    red: float | None = None
    yellow: float | None = None


@dataclass(frozen=True)
class MediaView:
    #: rule id -> (Status, Replication Time Control status) of the local bucket's replication rules.
    rules: Mapping[str, tuple[str, str]]
    #: OperationsFailedReplication sum of what this bucket sends (None: no datapoint).
    failed_operations: float | None = None
    #: ReplicationLatency maximum of what this bucket receives, seconds (None: no datapoint).
    latency_seconds: float | None = None


@dataclass(frozen=True)
class FunctionView:
    schedule_state: str | Unread
    reserved: int | Unread | None  # None: no reservation
    account_settings: Mapping[str, Any] | Unread
    #: Writer-metric samples the failover function published in the last HEARTBEAT_MINUTES.
    heartbeat_samples: float | Unread | None


@dataclass(frozen=True)
class DigestRecord:
    """A region's parameter digest as its readiness function last stored it (DIGEST_PARAMETER in that region)."""

    digest: str
    at: float
    stack: str = ""


@dataclass(frozen=True)
class HealthCheckView:
    kind: str  # https | writer | calculated | inverted ...
    health_check_id: str
    found: bool
    disabled: bool = False
    #: GetHealthCheckStatus: (successes, observations) of an endpoint check; None for kinds not read.
    observations: tuple[int, int] | None = None


@dataclass(frozen=True)
class Snapshot:
    """This region's view, as read from this region (and, best effort, the peer and Route 53)."""

    now: float
    global_cluster: GlobalView | Unread | None
    local_cluster: ClusterView | Unread | None
    cluster_parameters: Mapping[str, str] | Unread
    instance_parameters: Mapping[str, str] | Unread
    lag: LagReading | Unread | None  # None: not read (this region holds the writer)
    state: StateView | Unread
    secret: SecretView | Unread | None  # None: the secret is not there
    group: GroupView | Unread | None
    cache: CacheView | Unread | None  # None: no datastore configured
    search: SearchView | Unread | None  # None: no domain configured
    media: MediaView | Unread | None  # None: no bucket configured
    release_local: str | Unread | None
    release_peer: str | Unread | None
    peer_digest: DigestRecord | Unread | None  # None: the peer has stored none (yet)
    function: FunctionView
    peer_answered: bool | None  # None: not probed (this region is the reader: the failover function probes)
    health_checks: tuple[HealthCheckView, ...] | Unread
    #: The peer region's activation record, read with its digest (None: it holds none).
    peer_activation: tuple[str, float] | Unread | None = None


# ---------------------------------------------------------------- what the stacks declared
@dataclass(frozen=True)
class Posture:
    """How the standby region stands by (magento-dr:standby.posture; docs/readiness.md)."""

    name: str
    description: str
    #: Standby: fewest web instances in service, given (the configured standby capacity, production desired).
    min_in_service: Callable[[int, int], int]
    #: Whether the standby's database cluster runs instances: pilot light keeps it headless (the failover function adds
    #: them before it promotes); warm and hot need at least one, so a promotion needs none added.
    headless: bool = False


POSTURES: dict[str, Posture] = {
    "pilot-light": Posture(
        "pilot-light",
        "the standby runs no web instance and a headless database cluster; the failover function adds DB instances and "
        "scales the web tier from zero before it promotes (minutes more, far less cost)",
        lambda standby_capacity, desired: 0,
        headless=True,
    ),
    "warm": Posture(
        "warm",
        "the standby runs web.standbyCapacity instances and at least one DB instance, ready to scale to production",
        lambda standby_capacity, desired: standby_capacity,
    ),
    "hot": Posture(
        "hot",
        "the standby runs at production capacity, web and database",
        lambda standby_capacity, desired: desired,
    ),
}
#: How the failover function names the DB instances it adds (handlers/settings.py Settings.failover_instance_ids).
FAILOVER_INSTANCE_INFIX = "-failover-"


def posture_commands(region: str, instance_ids: list[str], asg_name: str, capacity: tuple[int, ...] | None) -> list[str]:
    """The exact commands that return a standby to its posture after a failback or a stopped preparation: delete the DB
    instances the failover function added, and (when known) set the web tier back to its standby min/desired/max."""
    commands = [f"aws rds delete-db-instance --region {region} --db-instance-identifier {i}" for i in instance_ids]
    if capacity is not None:
        low, desired, high = capacity
        commands.append(
            f"aws autoscaling update-auto-scaling-group --region {region} --auto-scaling-group-name {asg_name} "
            f"--min-size {low} --desired-capacity {desired} --max-size {high}"
        )
    return commands


@dataclass(frozen=True)
class Expectations:
    stack: str
    region: str
    peer_region: str
    home_region: str  # where the writer belongs (the primary stack's region)
    global_cluster_id: str
    local_cluster_arn: str
    ssm_prefix: str
    rpo_seconds: float
    consecutive_failures: int
    posture: str
    standby_capacity: int
    production: tuple[int, int, int]  # min, desired, max
    cluster_parameter_group: str
    cluster_parameters: Mapping[str, str]
    instance_parameters: Mapping[str, str]
    backup_retention_days: int
    credentials_source: str  # owner (the primary's secret, replicated) | replica | copy
    reserved_concurrency: int
    failover_function: str
    cache_replication_group_id: str = ""
    media_bucket: str = ""
    release_parameter: str = ""
    https_check_kind: str = "https"
    asg_name: str = ""


def region_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 else ""


def replication_rule_id(destination_region: str) -> str:
    """The media replication rule writing into `destination_region` (components/media_bucket.py; contract-tested)."""
    return f"media-to-{destination_region}"


def parameter_digest(engine_version: str, cluster: Mapping[str, str], instance: Mapping[str, str]) -> str:
    """components/global_database.parameter_digest, recomputed from what AWS reports (contract-tested equal)."""
    document = json.dumps({"engine": engine_version, "cluster": dict(cluster), "instance": dict(instance)}, sort_keys=True)
    return hashlib.sha256(document.encode()).hexdigest()[:16]


def local_parameter_digest(snap: Snapshot) -> str:
    """This region's digest of what AWS reports: the engine version and every value its parameter groups set ("" when
    any of them could not be read). Computed whatever the verdict, so the peer sees a drift as a different digest."""
    cluster = snap.local_cluster
    if not isinstance(cluster, ClusterView) or isinstance(snap.cluster_parameters, Unread) or isinstance(snap.instance_parameters, Unread):
        return ""
    return parameter_digest(cluster.engine_version, snap.cluster_parameters, snap.instance_parameters)


def digest_parameter_name(global_cluster_id: str) -> str:
    return DIGEST_PARAMETER.format(global_cluster_id=global_cluster_id)


def encode_digest(digest: str, stack: str, at: float) -> str:
    """The DigestRecord as stored: {"v": 1, "digest", "stack", "at"}."""
    return json.dumps({"v": 1, "digest": digest, "stack": stack, "at": round(at, 3)}, separators=(",", ":"), ensure_ascii=True)


def decode_digest(text: str | None) -> DigestRecord | None:
    """The stored DigestRecord, or None when absent or unreadable."""
    try:
        data = json.loads(text or "")
        return DigestRecord(str(data["digest"]), float(data["at"]), str(data.get("stack", ""))) if data.get("v") == 1 and data["digest"] else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def concurrency_problem(account_settings: Mapping[str, Any], already_reserved: int, wanted: int) -> str | None:
    """Why reserving `wanted` for the failover function (which holds `already_reserved` now) fails, or None.

    `account_settings` is Lambda's GetAccountSettings response; only the increase counts against the
    unreserved pool (a re-deploy of an existing reservation takes nothing new).
    """
    limit = account_settings.get("AccountLimit", {})
    total = int(limit.get("ConcurrentExecutions", 0))
    unreserved = int(limit.get("UnreservedConcurrentExecutions", 0))
    needed = max(0, wanted - already_reserved)
    left = unreserved - needed
    if left >= MIN_UNRESERVED_CONCURRENCY:
        return None
    increase_to = total + (MIN_UNRESERVED_CONCURRENCY - left)
    return (
        f"reserving {wanted} concurrent execution(s) for the failover function would leave {left} unreserved "
        f"(account limit {total}, {unreserved} unreserved now); Lambda keeps at least {MIN_UNRESERVED_CONCURRENCY} "
        f"unreserved, so the deploy would fail at the function. Request a Service Quotas increase of Lambda "
        f"'Concurrent executions' in this region to at least {increase_to} (AWS's default is 1,000), or release "
        f"reservations held by other functions, then deploy"
    )


# ---------------------------------------------------------------- the checks
def _ok(name: str, reason: str) -> CheckResult:
    return CheckResult(name, Status.PASS, reason)


def _warn(name: str, reason: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.WARN, reason, fix)


def _fail(name: str, reason: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.FAIL, reason, fix)


def _short(arn: str) -> str:
    return f"{arn.rsplit(':', 1)[-1]} ({region_of(arn)})"


def _writer(snap: Snapshot) -> Member | None:
    if not isinstance(snap.global_cluster, GlobalView):
        return None
    return next((m for m in snap.global_cluster.members if m.is_writer), None)


def holds_writer(snap: Snapshot, x: Expectations) -> bool | None:
    """Whether this region's cluster holds the writer (None: the global cluster could not be read)."""
    if not isinstance(snap.global_cluster, GlobalView):
        return None
    writer = _writer(snap)
    return writer is not None and writer.arn == x.local_cluster_arn


def check_writer(snap: Snapshot, x: Expectations) -> CheckResult:
    """The writer is in its home region, and this region's active flag agrees with where the writer is."""
    name = "writer"
    gc = snap.global_cluster
    if isinstance(gc, Unread):
        return gc.warn(name, "check this region's RDS API")
    if gc is None:
        return _fail(name, f"global cluster {x.global_cluster_id} not found", "pulumi up the primary stack (it owns the global cluster)")
    writer = _writer(snap)
    if writer is None:
        return _fail(name, "no member of the global cluster is the writer", "describe-global-clusters; RUNBOOK §2")
    if gc.failover_status:
        return _warn(name, f"a global switchover/failover is under way ({gc.failover_status}), writer {_short(writer.arn)}", "wait for it; RUNBOOK §1")
    here = writer.arn == x.local_cluster_arn
    known = isinstance(snap.state, StateView)
    flag = snap.state.active_flag if isinstance(snap.state, StateView) else None
    if known and here and flag is not True:
        return _fail(
            name,
            f"this region holds the writer but {x.ssm_prefix}/active is {flag}",
            "the failover function adopts the writer within a minute; if not, RUNBOOK §6",
        )
    if known and not here and flag is True:
        return _fail(
            name,
            f"{x.ssm_prefix}/active is true but the writer is {_short(writer.arn)}",
            "the failover function fences this region within a minute; if not, RUNBOOK §5 (mark the region inactive)",
        )
    if writer.region != x.home_region:
        return _fail(
            name,
            f"the writer is {_short(writer.arn)}, away from its home region {x.home_region}",
            f"fail back once {x.home_region} is healthy and every member is connected: RUNBOOK §4",
        )
    return _ok(name, f"writer {_short(writer.arn)}, its home; active flag {flag if known else 'unread'}")


def check_activation(snap: Snapshot, x: Expectations) -> CheckResult:
    """Where the writer is, the region's activation record outranks the peer's: a peer back from an outage whose RDS API
    still names its own cluster the writer (docs/aws-assumptions.md G6) is then judged stale by its writer gate and its
    failover function, instead of opening its gate and voting writer. Not needed while the writer has never left home."""
    name = "activation"
    here = holds_writer(snap, x)
    if here is None:
        gc = snap.global_cluster
        return gc.warn(name) if isinstance(gc, Unread) else _warn(name, "unknown: the global cluster was not found", "see the writer check")
    if not here:
        return _ok(name, "not applicable here: the writer's region judges its own record")
    if isinstance(snap.state, Unread):
        return snap.state.warn(name)
    if isinstance(snap.peer_activation, Unread):
        return snap.peer_activation.warn(name)
    own, peer = snap.state.activation, snap.peer_activation
    record = activation_parameter(x.global_cluster_id)
    fix = (
        f"the failover function records it when it activates the region and retries a failed step (RUNBOOK §6); by hand "
        f"(RUNBOOK §5): aws ssm put-parameter --region {x.region} --name {record} --value {x.local_cluster_arn} --type String --overwrite"
    )
    if own is None and peer is None and x.region == x.home_region:
        return _ok(name, "the writer has never left its home region (no region was activated): no stale claim to outrank")
    op = snap.state.operation
    steps_pending = bool(op) and str(op.get("status", "")) in ("promoting", "promoted") and "activate_region" not in (op.get("steps_done") or [])
    why = ""
    if own is None:
        why = f"this region holds the writer but has no activation record ({record})"
    elif own[0] != x.local_cluster_arn:
        why = f"this region's activation record names {_short(own[0])}, not its cluster"
    elif peer is not None and peer[1] >= own[1]:
        why = f"{x.peer_region}'s activation record ({_iso(peer[1])}) is not older than this region's ({_iso(own[1])})"
    if not why:
        after = f", after {x.peer_region}'s ({_iso(peer[1])})" if peer is not None else f"; {x.peer_region} holds none"
        return _ok(name, f"activated {_iso(own[1])}{after}" if own is not None else "activated")
    risk = f"{why}: a returning {x.peer_region} whose RDS API still names its cluster the writer would keep its claim"
    if steps_pending:
        return _warn(name, f"{risk} (the {op.get('kind', 'operation')} under way records it in its activate_region step)", "wait for the step")
    return _fail(name, risk, fix)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def check_members(snap: Snapshot, x: Expectations) -> CheckResult:
    """Every member of the global cluster is connected (a switchover needs them all), this cluster among them."""
    name = "members"
    gc = snap.global_cluster
    if isinstance(gc, Unread):
        return gc.warn(name)
    if gc is None:
        return _fail(name, f"global cluster {x.global_cluster_id} not found", "pulumi up the primary stack")
    if not any(m.arn == x.local_cluster_arn for m in gc.members):
        return _fail(name, f"{_short(x.local_cluster_arn)} is not a member of {x.global_cluster_id}", "pulumi up this stack (it joins the cluster)")
    behind = [f"{_short(m.arn)} {m.sync or 'no status'}" for m in gc.members if not m.is_writer and m.sync != "connected"]
    if behind:
        return _fail(
            name,
            f"not connected: {', '.join(behind)}",
            "AWS rebuilds a member after a failover (minutes to hours); a switchover or failback is refused until then",
        )
    return _ok(name, f"{len(gc.members)} members, every reader connected")


def check_replication_lag(snap: Snapshot, x: Expectations) -> CheckResult:
    """The lag the failover function would judge (RPO lag first, any dimension set) is within the RPO."""
    name = "replication-lag"
    if snap.lag is None:
        return _ok(name, "not applicable here: this region holds the writer (the standby's region reports its lag)")
    if isinstance(snap.lag, Unread):
        return snap.lag.warn(name)
    lag = snap.lag
    if lag.seconds is None:
        return _fail(
            name,
            f"no AuroraGlobalDBRPOLag/AuroraGlobalDBReplicationLag datapoint in {LAG_WINDOW_SECONDS // 60} min: "
            "an automatic failover would stop at lag-unknown",
            "check the metrics for this cluster in CloudWatch (docs/aws-assumptions.md A5)",
        )
    if lag.seconds > x.rpo_seconds:
        return _fail(
            name,
            f"{lag.metric} {lag.seconds:.1f}s > RPO {x.rpo_seconds:g}s: an automatic failover now would stop at rpo-exceeded",
            "find what slows replication (write load, instance class); RUNBOOK §2",
        )
    return _ok(name, f"{lag.metric} max {lag.seconds:.1f}s in {LAG_WINDOW_SECONDS // 60} min ≤ RPO {x.rpo_seconds:g}s")


def check_engine_version(snap: Snapshot, x: Expectations) -> CheckResult:
    """This cluster runs the global cluster's engine version (a switchover needs them equal)."""
    name = "engine-version"
    gc, cluster = snap.global_cluster, snap.local_cluster
    for read in (gc, cluster):
        if isinstance(read, Unread):
            return read.warn(name)
    if not isinstance(gc, GlobalView) or not isinstance(cluster, ClusterView):
        return _fail(name, "the global cluster or this region's cluster is missing", "pulumi up this stack")
    if gc.engine_version and cluster.engine_version != gc.engine_version:
        return _fail(
            name,
            f"this cluster runs {cluster.engine_version}, the global cluster {gc.engine_version}",
            "upgrade the members to one version (magento-dr:database.engineVersion in both stacks, then pulumi up)",
        )
    return _ok(name, f"{cluster.engine_version}, as the global cluster")


def _diff(declared: Mapping[str, str], actual: Mapping[str, str]) -> list[str]:
    out = []
    for key in sorted(set(declared) | set(actual)):
        want, got = declared.get(key), actual.get(key)
        if want != got:
            out.append(f"{key}={got if got is not None else '(default)'} (declared {want if want is not None else '(default)'})")
    return out


def check_parameters(snap: Snapshot, x: Expectations) -> CheckResult:
    """This cluster runs the parameters both stacks declare (one digest, checked equal at deploy), applied; and the peer
    region's stored digest of what AWS reports there is this region's (a drift on either side, or a stack deployed
    from another commit, shows as two digests)."""
    name = "parameters"
    cluster = snap.local_cluster
    for read in (cluster, snap.cluster_parameters, snap.instance_parameters):
        if isinstance(read, Unread):
            return read.warn(name)
    assert not isinstance(snap.cluster_parameters, Unread) and not isinstance(snap.instance_parameters, Unread)
    if not isinstance(cluster, ClusterView):
        return _fail(name, "this region's cluster is missing", "pulumi up this stack")
    fix = "pulumi up this stack (the parameter groups are declared in components/global_database.py); never edit them in the console"
    if cluster.parameter_group != x.cluster_parameter_group:
        return _fail(name, f"the cluster uses parameter group {cluster.parameter_group}, not {x.cluster_parameter_group}", fix)
    drift = _diff(x.cluster_parameters, snap.cluster_parameters) + _diff(x.instance_parameters, snap.instance_parameters)
    if drift:
        return _fail(name, f"parameters differ from the stacks: {'; '.join(drift)}", fix)
    pending = [f"{i} {s}" for i, s in cluster.instance_parameter_status if s not in ("in-sync", "")]
    if pending:
        return _fail(name, f"not applied: {', '.join(pending)}", "reboot the instances in a maintenance window")
    digest = local_parameter_digest(snap)
    here = f"as declared, applied on every instance; digest {digest}"
    peer, record = snap.peer_digest, f"{digest_parameter_name(x.global_cluster_id)} in {x.peer_region}"
    if isinstance(peer, Unread):
        return _warn(name, f"{here}; {x.peer_region}'s unknown ({peer.error})", "retried at the next evaluation")
    if peer is None:
        return _warn(name, f"{here}; {x.peer_region} has stored none yet", f"its readiness function stores one every run ({record})")
    age = snap.now - peer.at
    if age > PEER_DIGEST_MAX_AGE_SECONDS:
        return _warn(name, f"{here}; {x.peer_region}'s ({peer.digest}) is {age / 3600:.1f} h old",
                     f"the readiness function in {x.peer_region} has not run since: its not-ready alarm says why ({record})")
    if peer.digest != digest:
        return _fail(
            name,
            f"digest {digest} in {x.region}, {peer.digest} in {x.peer_region} ({peer.stack or 'peer'}, {age / 60:.0f} min ago): "
            "the regions run different database parameters or engine versions",
            "`python -m handlers.failover readiness` in each region: its parameters and engine-version checks name its own drift; "
            "none: pulumi up both stacks from the same commit (the deploy checks the declared digests equal)",
        )
    return _ok(name, f"{here}, as {x.peer_region}'s ({age / 60:.0f} min ago)")


def check_credentials(snap: Snapshot, x: Expectations) -> CheckResult:
    """The database credentials a promoted region reads are there (the primary's secret replicated to the peer)."""
    name = "credentials"
    secret = snap.secret
    if isinstance(secret, Unread):
        return secret.warn(name)
    if secret is None or secret.deleted:
        return _fail(name, "the database credentials secret is missing or scheduled for deletion", "pulumi up the stack that owns it (README, Ownership)")
    if x.credentials_source == "owner":
        status, message = secret.replicas.get(x.peer_region, ("", ""))
        if status == "InSync":
            return _ok(name, f"replicated to {x.peer_region} (InSync)")
        if status in ("", "Failed"):
            return _fail(
                name,
                f"no replica in {x.peer_region}" if not status else f"replica in {x.peer_region} Failed: {message}",
                f"aws secretsmanager replicate-secret-to-regions --region {x.region} --secret-id <dbSecretArn> "
                f"--add-replica-regions Region={x.peer_region},KmsKeyId=<its key> --force-overwrite-replica-secret (RUNBOOK §11)",
            )
        return _warn(name, f"replica in {x.peer_region} is {status}", "retried at the next evaluation")
    if x.credentials_source == "replica" and secret.primary_region and secret.primary_region == x.region:
        return _fail(name, "this region's copy is a standalone secret, not the primary's replica", "pulumi up the primary stack")
    return _ok(name, f"this region's {'replica' if x.credentials_source == 'replica' else 'copy'} is present")


def check_capacity(snap: Snapshot, x: Expectations) -> CheckResult:
    """The web tier stands as the posture requires: the standby ready to scale, the writer's region at production."""
    name = "capacity"
    group = snap.group
    if isinstance(group, Unread):
        return group.warn(name)
    if group is None:
        return _fail(name, "the web Auto Scaling group is missing", "pulumi up this stack")
    low, desired, high = x.production
    writer_here = holds_writer(snap, x)
    if writer_here:
        if group.in_service < low:
            return _fail(
                name,
                f"serving the shop with {group.in_service} instance(s) in service, production minimum {low}",
                f"aws autoscaling update-auto-scaling-group --region {x.region} --min-size {low} --desired-capacity {desired} --max-size {high}",
            )
        return _ok(name, f"{group.in_service} in service (production {low}/{desired}/{high})")
    posture = POSTURES[x.posture]
    need = posture.min_in_service(x.standby_capacity, desired)
    if group.max_size < desired:
        return _fail(name, f"MaxSize {group.max_size} cannot reach production desired {desired}", "pulumi up this stack (web.maxSize)")
    if group.in_service < need:
        return _fail(
            name,
            f"{posture.name} standby: {group.in_service} instance(s) in service, the posture needs {need}",
            "see the group's activity history (launch failures, quotas); RUNBOOK §5",
        )
    cluster = snap.local_cluster
    instances = [i for i, _ in cluster.instance_parameter_status] if isinstance(cluster, ClusterView) else None
    cluster_id = x.local_cluster_arn.rsplit(":", 1)[-1]
    added = [i for i in instances or [] if i.startswith(f"{cluster_id}{FAILOVER_INSTANCE_INFIX}")]
    if instances is not None and not posture.headless and not instances:
        return _fail(
            name,
            f"{posture.name} standby: its database cluster has no DB instance; a failover would first add one (about twenty minutes)",
            "pulumi up this stack (it declares the standby's instances, database.instanceCount)",
        )
    standby = (x.standby_capacity, x.standby_capacity, high)
    extra_web = group.desired > max(x.standby_capacity, need)
    extra_db = added if not posture.headless else instances or []
    if extra_web or extra_db:
        what = ([f"{group.desired} web instance(s) (posture: {x.standby_capacity})"] if extra_web else []) + (
            [f"DB instance(s) {', '.join(extra_db)}" + (" the failover function added" if set(extra_db) <= set(added) else "")]
            if extra_db else []
        )
        ours = [i for i in extra_db if i in added]
        fix = "; ".join(posture_commands(x.region, ours, x.asg_name or "<the web Auto Scaling group>", standby if extra_web else None))
        if set(extra_db) - set(ours):
            fix += ("; " if fix else "") + "the other DB instances were not added by the failover function: pulumi up this stack, "
            fix += "or delete them by hand"
        return _warn(name, f"{posture.name} standby runs {' and '.join(what)}: ready, at cost", f"after a failback: {fix} (RUNBOOK §4 step 5)")
    db = "" if instances is None else f"; {len(instances)} DB instance(s)"
    return _ok(name, f"{posture.name} standby: {group.in_service} web instance(s) in service, can scale to {desired} (max {group.max_size}){db}")


def check_cache(snap: Snapshot, x: Expectations) -> CheckResult:
    """The sessions' Global Datastore: available, this region a member, its primary where the writer is."""
    name = "cache"
    cache = snap.cache
    if cache is None:
        return _ok(name, "not applicable: no Global Datastore configured")
    if isinstance(cache, Unread):
        return cache.warn(name)
    local = next((m for m in cache.members if m[0] == x.cache_replication_group_id and m[1] == x.region), None)
    if local is None:
        return _fail(name, f"{x.cache_replication_group_id} is not a member of the Global Datastore", "pulumi up this stack; RUNBOOK §5")
    wrong = [w for w, ok in (("not encrypted at rest", cache.at_rest_encryption), ("not encrypted in transit", cache.transit_encryption),
                              ("no AUTH token", cache.auth_token)) if not ok]
    if cache.local_group_status != "available" or wrong:
        return _fail(name, f"{x.cache_replication_group_id} {cache.local_group_status or 'status unknown'}{'; ' if wrong else ''}{'; '.join(wrong)}",
                     "pulumi up this stack")
    if cache.status != "available":
        return _warn(name, f"the Global Datastore is {cache.status}", "retried at the next evaluation")
    writer_here = holds_writer(snap, x)
    primary_here = local[2].lower() == "primary"
    if writer_here is not None and primary_here != writer_here:
        return _fail(
            name,
            f"the cache primary is {'here' if primary_here else 'elsewhere'} but the database writer is {'here' if writer_here else 'elsewhere'}",
            "the failover function moves it after a promotion; by hand: RUNBOOK §5 (move the cache primary)",
        )
    return _ok(name, f"datastore available, {x.cache_replication_group_id} {local[2].lower()}, follows the writer")


def check_search(snap: Snapshot, x: Expectations) -> CheckResult:
    """This region's OpenSearch domain exists and its cluster is not red (yellow warns)."""
    name = "search"
    search = snap.search
    if search is None:
        return _ok(name, "not applicable: no search domain configured")
    if isinstance(search, Unread):
        return search.warn(name)
    if search.deleted:
        return _fail(name, "the search domain is being deleted", "pulumi up this stack")
    if search.red:
        return _fail(name, "ClusterStatus.red: some primary shards are unassigned", "OpenSearch console, cluster health; Magento's catalog search fails")
    if search.red is None and search.yellow is None:
        return _warn(name, f"no ClusterStatus datapoint in {METRIC_WINDOW_SECONDS // 60} min", "check the domain in the OpenSearch console")
    if search.yellow:
        return _warn(name, "ClusterStatus.yellow: replica shards unassigned", "usually transient (a node replaced); watch it")
    return _ok(name, f"domain green{' (a change is being applied)' if search.processing else ''}")


def check_media_replication(snap: Snapshot, x: Expectations) -> CheckResult:
    """The media bucket replicates to the peer with RTC; nothing failed and nothing arrived late."""
    name = "media-replication"
    media = snap.media
    if media is None:
        return _ok(name, "not applicable: no media bucket configured")
    if isinstance(media, Unread):
        return media.warn(name, "S3 bucket settings may be served from us-east-1 (docs/aws-assumptions.md O4); retried at the next evaluation")
    rule = replication_rule_id(x.peer_region)
    status, rtc = media.rules.get(rule, ("", ""))
    if status != "Enabled" or rtc != "Enabled":
        return _fail(
            name,
            f"rule {rule} on {x.media_bucket} is {status or 'missing'} (RTC {rtc or 'off'})",
            "pulumi up the secondary stack (it owns both replication rules)",
        )
    if media.failed_operations:
        return _fail(name, f"{media.failed_operations:g} object(s) failed to replicate to {x.peer_region} in {METRIC_WINDOW_SECONDS // 60} min",
                     "check the replication roles and keys (docs/media.md)")
    if media.latency_seconds is not None and media.latency_seconds > RTC_THRESHOLD_SECONDS:
        return _fail(name, f"media from {x.peer_region} arrives {media.latency_seconds:.0f}s late (RTC threshold {RTC_THRESHOLD_SECONDS}s)",
                     "check the peer's replication rule and S3 health")
    return _ok(name, f"{rule} enabled with RTC; no failures, latency {'—' if media.latency_seconds is None else f'{media.latency_seconds:.0f}s'}")


def check_release(snap: Snapshot, x: Expectations) -> CheckResult:
    """Both regions run the same Magento release (a promotion must not change the shop's code)."""
    name = "release"
    if not x.release_parameter:
        return _ok(name, "not applicable: no release parameter configured")
    local, peer = snap.release_local, snap.release_peer
    if isinstance(local, Unread):
        return local.warn(name)
    if not local:
        return _fail(name, f"no release in {x.region} ({x.release_parameter} unset)", "publish the release here (docs/release.md)")
    if isinstance(peer, Unread):
        return _warn(name, f"{x.region} runs {local}; {x.peer_region} unknown ({peer.error})", "retried at the next evaluation")
    if peer != local:
        return _fail(name, f"{x.region} runs {local}, {x.peer_region} runs {peer or 'nothing'}", "publish the same release to both regions (docs/release.md)")
    if local == NO_RELEASE:
        return _warn(name, "no release published yet in either region", "publish one (docs/release.md): both regions get the same build")
    return _ok(name, f"both regions run {local}")


def check_failover_function(snap: Snapshot, x: Expectations) -> CheckResult:
    """The failover function will run: its schedule enabled, its reservation held and admitted, its heartbeat recent."""
    name = "failover-function"
    f = snap.function
    problems: list[tuple[str, str]] = []
    unknown: list[str] = []
    if isinstance(f.schedule_state, Unread):
        unknown.append(f"schedule ({f.schedule_state.error})")
    elif f.schedule_state != "ENABLED":
        problems.append((f"its schedule is {f.schedule_state or 'missing'}", "pulumi up this stack (the schedule must be ENABLED)"))
    reserved = 0
    if isinstance(f.reserved, Unread):
        unknown.append(f"reservation ({f.reserved.error})")
    else:
        reserved = f.reserved or 0
        if reserved != x.reserved_concurrency:
            problems.append((f"it reserves {reserved} (wants {x.reserved_concurrency})",
                             f"aws lambda put-function-concurrency --region {x.region} --function-name {x.failover_function} "
                             f"--reserved-concurrent-executions {x.reserved_concurrency} (RUNBOOK §5 sets 0 to stop it)"))
    if isinstance(f.account_settings, Unread):
        unknown.append(f"account settings ({f.account_settings.error})")
    elif not isinstance(f.reserved, Unread):
        problem = concurrency_problem(f.account_settings, reserved, x.reserved_concurrency)
        if problem:
            problems.append((problem, "raise Lambda 'Concurrent executions' in Service Quotas"))
    if isinstance(f.heartbeat_samples, Unread):
        unknown.append(f"heartbeat ({f.heartbeat_samples.error})")
    elif not f.heartbeat_samples:
        problems.append((f"no evaluation reported in {HEARTBEAT_MINUTES} min", f"aws logs tail /aws/lambda/{x.failover_function} --region {x.region}"))
    if problems:
        return _fail(name, "; ".join(p for p, _ in problems), problems[0][1])
    if unknown:
        return _warn(name, f"unknown: {', '.join(unknown)}", "retried at the next evaluation")
    return _ok(name, f"schedule enabled, reserves {reserved}, reported {f.heartbeat_samples:g} time(s) in {HEARTBEAT_MINUTES} min")


def check_post_failover(snap: Snapshot, x: Expectations) -> CheckResult:
    """The last promotion's steps all finished (the function's operation record)."""
    name = "post-failover"
    if isinstance(snap.state, Unread):
        return snap.state.warn(name)
    op = snap.state.operation
    if not op:
        return _ok(name, "no operation recorded in this region")
    status, failed = str(op.get("status", "")), dict(op.get("failed_steps") or {})
    label = f"{op.get('kind', '')} {op.get('op_id', '')}".strip()
    if failed:
        return _fail(
            name, f"{label}: failed step(s) {', '.join(sorted(failed))}", "the next evaluation retries them; by hand: RUNBOOK §6 (status shows the commands)"
        )
    if status in ("promoting", "promoted"):
        return _warn(name, f"{label} is {status}; steps done: {', '.join(op.get('steps_done') or []) or 'none'}", "wait; if it stays, RUNBOOK §6")
    return _ok(name, f"last operation {label} {status or 'recorded'}")


def check_peer(snap: Snapshot, x: Expectations) -> CheckResult:
    """The other region is there to fail over to (or from): the failover function's probes, or one probe from the writer."""
    name = "peer"
    if snap.peer_answered is not None:
        if snap.peer_answered:
            return _ok(name, f"{x.peer_region}'s RDS API answered")
        return _fail(
            name,
            f"{x.peer_region}'s RDS API did not answer: no standby to fail over to",
            "AWS Health Dashboard for the region; the shop runs here. RUNBOOK §9 if both regions are at risk",
        )
    if isinstance(snap.state, Unread):
        return snap.state.warn(name)
    probes = snap.state.probes
    failures = int(probes.get("consecutive_failures", 0) or 0)
    if failures >= x.consecutive_failures:
        return _fail(name, f"{x.peer_region} lost: {failures} consecutive failed probes", "the failover function decides (RUNBOOK §1); no standby meanwhile")
    if failures:
        return _warn(name, f"{x.peer_region} failed {failures} probe(s) in a row", "the failover function keeps probing")
    return _ok(name, f"{x.peer_region} answered the failover function's last probe")


def check_health_checks(snap: Snapshot, x: Expectations) -> CheckResult:
    """Route 53's checks of this region exist and are enabled; where the writer is, its endpoint check is healthy."""
    name = "health-checks"
    checks = snap.health_checks
    if isinstance(checks, Unread):
        return checks.warn(name, "Route 53's API lives in us-east-1 (docs/aws-assumptions.md R1); DNS answers and the checks keep working")
    if not checks:
        return _fail(name, "no health check ids configured", "pulumi up this stack")
    broken = [f"{c.kind} {c.health_check_id} {'missing' if not c.found else 'disabled'}" for c in checks if not c.found or c.disabled]
    if broken:
        return _fail(name, "; ".join(broken), "pulumi up this stack (components/traffic.py declares them)")
    https = next((c for c in checks if c.kind == x.https_check_kind), None)
    if holds_writer(snap, x) and https is not None and https.observations is not None:
        ok, total = https.observations
        if total and ok * 2 <= total:
            return _fail(name, f"Route 53 sees this region's shop failing ({ok}/{total} checkers succeed) while it holds the writer",
                         "the web tier's /health_check.php; RUNBOOK §5")
        return _ok(name, f"{len(checks)} checks enabled; {ok}/{total} checkers see this region's shop healthy")
    return _ok(name, f"{len(checks)} checks enabled (this region's shop is red by design until it holds the writer)")


def check_backups(snap: Snapshot, x: Expectations) -> CheckResult:
    """Automated backups keep the declared retention; where the writer is, point-in-time restore is current."""
    name = "backups"
    cluster = snap.local_cluster
    if isinstance(cluster, Unread):
        return cluster.warn(name)
    if cluster is None:
        return _fail(name, "this region's cluster is missing", "pulumi up this stack")
    if cluster.backup_retention_days < x.backup_retention_days:
        return _fail(name, f"retention {cluster.backup_retention_days} days, declared {x.backup_retention_days}", "pulumi up this stack")
    if holds_writer(snap, x):
        restorable = cluster.latest_restorable_time
        if restorable is None or snap.now - restorable > RESTORABLE_LAG_SECONDS:
            age = "never" if restorable is None else f"{(snap.now - restorable) / 60:.0f} min ago"
            return _fail(
                name, f"latest restorable time {age} (expected within {RESTORABLE_LAG_SECONDS // 60} min)", "check the cluster's backups in the RDS console"
            )
        return _ok(name, f"retention {cluster.backup_retention_days} days, restorable to {(snap.now - restorable):.0f}s ago")
    return _ok(name, f"retention {cluster.backup_retention_days} days (backups are judged where the writer is)")


CHECK_FUNCTIONS: dict[str, Callable[[Snapshot, Expectations], CheckResult]] = {
    "writer": check_writer,
    "members": check_members,
    "replication-lag": check_replication_lag,
    "engine-version": check_engine_version,
    "parameters": check_parameters,
    "credentials": check_credentials,
    "capacity": check_capacity,
    "cache": check_cache,
    "search": check_search,
    "media-replication": check_media_replication,
    "release": check_release,
    "failover-function": check_failover_function,
    "post-failover": check_post_failover,
    "peer": check_peer,
    "health-checks": check_health_checks,
    "backups": check_backups,
    "activation": check_activation,
}


# ---------------------------------------------------------------- the result
@dataclass(frozen=True)
class Result:
    stack: str
    region: str
    at: float
    checks: tuple[CheckResult, ...]
    api_calls: int = 0
    duration_ms: float = 0.0
    #: local_parameter_digest of the snapshot judged ("" when unread): what the peer compares with its own.
    parameter_digest: str = ""

    @property
    def ready(self) -> bool:
        return all(c.status != Status.FAIL for c in self.checks)

    def by_name(self) -> dict[str, CheckResult]:
        return {c.name: c for c in self.checks}

    def failing(self) -> list[str]:
        return [c.name for c in self.checks if c.status == Status.FAIL]

    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for c in self.checks if c.status == s) for s in Status}


def evaluate(snap: Snapshot, x: Expectations) -> tuple[CheckResult, ...]:
    """Every check, in CHECKS order. A check that raises on an unexpected shape warns instead of hiding the others."""
    out = []
    for name in CHECKS:
        try:
            out.append(CHECK_FUNCTIONS[name](snap, x))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            out.append(_warn(name, f"could not judge: {type(exc).__name__}: {exc}", "a bug: report it with the readiness log line"))
    return tuple(out)


def metric_data(result: Result) -> list[tuple[str, float, dict[str, str]]]:
    """(metric name, value, extra dimensions) for Ready and each check (dimensions Stack, Region are added by the caller)."""
    data: list[tuple[str, float, dict[str, str]]] = [(READY_METRIC, 1.0 if result.ready else 0.0, {})]
    data += [(CHECK_METRIC, STATUS_VALUES[c.status.value], {CHECK_DIMENSION: c.name}) for c in result.checks]
    return data


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def encode(result: Result, limit: int = SSM_STANDARD_VALUE_LIMIT) -> str:
    """The latest result as compact ASCII JSON of at most `limit` characters (an SSM standard parameter).

    Shape: {"v": 1, "stack", "region", "at", "ready", "counts", "digest"?, "checks": [[name, status, reason, fix?], ...]}
    ("digest": the parameter digest, when read). Reasons and fixes are shortened, passing checks' first, until it fits;
    names, verdicts and the digest always stay.
    """
    for reason_pass, reason_other, fix in ((300, 300, 300), (80, 300, 300), (60, 200, 200), (40, 140, 120), (30, 100, 80), (20, 60, 40), (0, 30, 0), (0, 0, 0)):
        rows = []
        for c in result.checks:
            reason = _cut(c.reason, reason_pass if c.status == Status.PASS else reason_other)
            row = [c.name, c.status.value, reason]
            if c.fix and c.status != Status.PASS and fix:
                row.append(_cut(c.fix, fix))
            rows.append(row)
        doc = {
            "v": 1,
            "stack": result.stack,
            "region": result.region,
            "at": round(result.at, 3),
            "ready": result.ready,
            "counts": result.counts(),
            **({"digest": result.parameter_digest} if result.parameter_digest else {}),
            "checks": rows,
        }
        text = json.dumps(doc, separators=(",", ":"), ensure_ascii=True)
        if len(text) <= limit:
            return text
    raise ValueError(f"{len(result.checks)} checks do not fit in {limit} characters even without reasons")


def decode(text: str | None) -> dict[str, Any] | None:
    """The stored result (encode's shape), or None when absent or unreadable."""
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("v") == 1 else None


def summary(stored: Mapping[str, Any] | None, now: float | None = None) -> dict[str, Any]:
    """What `status` shows of the latest stored result: ready, when, and the checks that did not pass."""
    if not stored:
        return {"readiness": None}
    at = float(stored.get("at", 0) or 0)
    not_passed = {row[0]: row[1] for row in stored.get("checks", []) if isinstance(row, list) and len(row) >= 2 and row[1] != "pass"}
    return {
        "readiness": {
            "ready": bool(stored.get("ready")),
            "at": at,
            "age_seconds": None if now is None else round(max(0.0, now - at), 1),
            "parameter_digest": stored.get("digest"),
            "not_passing": not_passed,
        }
    }


def render(stored: Mapping[str, Any], now: float | None = None) -> str:
    """The stored (or a fresh) result for a terminal: one line per check, the fix under each that did not pass."""
    at = float(stored.get("at", 0) or 0)
    age = "" if now is None else f", {max(0.0, now - at) / 60:.1f} min ago"
    counts = stored.get("counts") or {}
    head = (
        f"{'READY' if stored.get('ready') else 'NOT READY'}: {stored.get('stack')} ({stored.get('region')}) "
        f"{counts.get('pass', 0)} pass, {counts.get('warn', 0)} warn, {counts.get('fail', 0)} fail{age}"
    )
    lines = [head]
    if stored.get("digest"):
        lines.append(f"  parameter digest {stored['digest']} (the peer region's must be the same)")
    marks = {"pass": "✔", "warn": "!", "fail": "✘"}
    for row in stored.get("checks", []):
        name, status, reason = [*list(row), "", "", ""][:3]
        lines.append(f"  {marks.get(status, '?')} {name:<18} {reason}")
        if len(row) > 3 and row[3]:
            lines.append(f"    fix: {row[3]}")
    return "\n".join(lines)


def result_dict(result: Result) -> dict[str, Any]:
    """The full result (logs, the CLI's --json): every reason and fix, uncut."""
    return {
        "v": 1,
        "stack": result.stack,
        "region": result.region,
        "at": round(result.at, 3),
        "ready": result.ready,
        "counts": result.counts(),
        "api_calls": result.api_calls,
        "duration_ms": round(result.duration_ms, 1),
        **({"digest": result.parameter_digest} if result.parameter_digest else {}),
        "checks": [[c.name, c.status.value, c.reason, *([c.fix] if c.fix and c.status != Status.PASS else [])] for c in result.checks],
    }


def metric_window(now: float, seconds: float = METRIC_WINDOW_SECONDS) -> tuple[float, float]:
    """[start, end) in whole minutes, the minute now is in included (CloudWatch's EndTime is exclusive)."""
    end = float(math.floor(now / 60) + 1) * 60
    return end - seconds, end


__all__ = (
    "CHECKS",
    "CHECK_FUNCTIONS",
    "POSTURES",
    "CheckResult",
    "DigestRecord",
    "Expectations",
    "Result",
    "Snapshot",
    "Status",
    "Unread",
    "concurrency_problem",
    "decode",
    "decode_digest",
    "digest_parameter_name",
    "encode",
    "encode_digest",
    "evaluate",
    "local_parameter_digest",
    "metric_data",
    "posture_commands",
    "render",
    "summary",
)
