"""The failover RTO budget as pure arithmetic: worst case from "primary goes dark" to traffic and writes in the secondary.

Two paths run in parallel (components/traffic.py, docs/frontend.md):

* **traffic** — Route 53 marks the primary's deep check unhealthy and, at the
  same moment, the secondary's inverted check of the primary healthy, so DNS
  answers with the secondary; resolvers follow within the alias record's TTL.
* **writes** — this region's failover function notices (probes at a fixed
  cadence through every scheduled evaluation, a consecutive-failure threshold)
  and asks Aurora to promote this region's cluster. Aurora's promotion itself
  is excluded and stated separately with AWS's typical figure.

The budget is the later of the two. Whatever follows Aurora's promotion before the
shop's pages flow (with Varnish, its probe seeing the deep check turn green) is
counted after the writes path. With the optional accelerator
(`failover.globalAccelerator`, components/front_door.py) the traffic path starts
at the promotion request instead: the new writer's gate opens when Aurora names
its cluster, and the accelerator follows; no DNS TTL. It then runs beside
Aurora's promotion. Nothing in the dark region or in
us-east-1's control planes takes part. `reference_design_budget` applies the
same kind of arithmetic to the blog post's settings, where the stages run one
after the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .front_door import ENDPOINT_REACTION_SECONDS, GATE_HEALTHY_THRESHOLD, GATE_INTERVAL_SECONDS
from .magento_runtime import WEB_TARGET_HEALTH_INTERVAL_SECONDS, WEB_TARGET_HEALTHY_THRESHOLD
from .posture import DEFAULT_POSTURE, POSTURES, PostureName
from .varnish import FULL_PAGE_CACHES, MAGENTO_PROBE

FrontDoor = Literal["route53", "accelerator"]
FRONT_DOORS: tuple[FrontDoor, ...] = ("route53", "accelerator")

# EventBridge Scheduler's finest rate expression is one minute.
# https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#rate-based
SCHEDULE_PERIOD_SECONDS = 60

# Alias records to an ELB load balancer carry a fixed 60 s TTL ("...use Alias
# records which have fixed TTL of 60 seconds"). https://aws.amazon.com/route53/faqs/
ALIAS_TTL_SECONDS = 60

# AWS's published typical figure for promoting a secondary Region of an Aurora
# global database; the user guide adds that RTO "can be in the order of minutes".
AURORA_PROMOTION_TYPICAL_SECONDS = 60
AURORA_PROMOTION_SOURCE = (
    "https://aws.amazon.com/rds/aurora/global-database/ (promote a secondary Region to read/write in "
    "typically less than a minute); "
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html"
)

# Period of the writer alarm behind the primary record's CLOUDWATCH_METRIC check
# (components/traffic.py WRITER_ALARM_PERIOD_SECONDS). It keeps a recovered old
# primary out of traffic but is not on the failover path: a dark primary's deep
# check fails first. https://docs.aws.amazon.com/Route53/latest/APIReference/API_AlarmIdentifier.html
WRITER_ALARM_PERIOD_SECONDS = 60

# Our settings for the handler's probe (MDR_PROBE_TIMEOUT_SECONDS). A probe asks
# two independent signals in turn — the peer's health URL, then the peer's RDS
# API — and a dark region costs each one connect timeout.
PROBE_TIMEOUT_SECONDS = 2
SIGNALS_PER_PROBE = 2

# Our estimates (not AWS figures), kept visible in the breakdown:
# scheduler delivery + cold start + the snapshot reads and the writer metric
# before the first probe (DescribeGlobalClusters, DescribeDBClusters,
# GetParameters, GetMetricData, PutMetricData);
INVOCATION_START_SECONDS = 3
# and, after the last failed probe, the pure decision, the SSM lease and the
# FailoverGlobalCluster request — all calls to this region's endpoints.
DECISION_SECONDS = 2

# The posture's terms (components/posture.py). Neither figure is documented by AWS; both are our
# estimates, stated in the budget, and the drill's emulator plays faster and slower ones
# (docs/aws-assumptions.md P1, P2):
# CreateDBInstance into the headless standby cluster until the instance is `available`. AWS publishes no
# figure for Aurora; its own lab puts adding a region with one reader at "about 15-20 minutes" and the
# DocumentDB guide a new instance at 10-15: the upper end.
DB_INSTANCE_CREATE_SECONDS = 1200
# Per scheduled evaluation, how long a preparation waits for that instance (components/failover_automation.py
# DB_INSTANCE_WAIT_SECONDS, MDR_DB_INSTANCE_TIMEOUT_SECONDS): the wait ends before the next evaluation is due, so an
# instance that turns available between two evaluations is seen at most a schedule period minus the wait later.
PREPARATION_WAIT_SECONDS = 40
# and a web instance from RunInstances to nginx serving the liveness file: EC2 launch, Amazon Linux boot,
# user data (the release, Magento's config, Varnish when on) — before the target group's health checks.
WEB_BOOT_SECONDS = 180


class RtoError(ValueError):
    """The settings cannot produce a budget (e.g. the probes cannot fit in the schedule)."""


@dataclass(frozen=True)
class Term:
    """One line of the arithmetic."""

    name: str
    seconds: int
    how: str


@dataclass(frozen=True)
class RtoBudget:
    """The worst case along two paths around Aurora's (excluded) promotion.

    `sequential=False` (our design): traffic moves in parallel with detection
    and promotion, so the budget is the later path. `sequential=True` (the
    reference design): traffic moves only after the promotion, so the paths add.
    """

    writes: tuple[Term, ...]
    """From the primary going dark to the promotion request (for the reference design: to its Lambda running)."""
    traffic: tuple[Term, ...]
    """Ours: from the primary going dark to clients resolving the shop to this region. Reference: from the promotion on.
    Accelerator: from the promotion request to the accelerator sending new connections to this region."""
    sequential: bool = False
    traffic_from_request: bool = False
    """The accelerator: the traffic path starts at the promotion request and runs beside Aurora's promotion."""
    posture: PostureName = DEFAULT_POSTURE
    prepare: tuple[Term, ...] = ()
    """Pilot light: after the decision and before the promotion request (the DB instance), on the writes path."""
    web_ready: tuple[Term, ...] = ()
    """A web instance from launch to in service. Pilot light: started at the decision, beside `prepare`, and the
    shop cannot take orders before it; warm: after the promotion, for full capacity only; hot: none."""
    after_promotion: tuple[Term, ...] = ()
    """After Aurora's promotion (excluded) and before the region's pages flow, beside the traffic path where that
    starts at the promotion or later: with Varnish, its probe seeing the deep check turn green."""

    @property
    def decision_seconds(self) -> int:
        """From dark to the decision to promote (detection, decision): where the posture's work starts."""
        return sum(t.seconds for t in self.writes)

    @property
    def writes_seconds(self) -> int:
        return self.decision_seconds + sum(t.seconds for t in self.prepare)

    @property
    def after_promotion_seconds(self) -> int:
        return sum(t.seconds for t in self.after_promotion)

    @property
    def web_ready_seconds(self) -> int:
        return sum(t.seconds for t in self.web_ready)

    @property
    def capacity_seconds(self) -> int:
        """From dark until the new region has a web instance in service (0: it always has one)."""
        return self.decision_seconds + self.web_ready_seconds if self.posture == "pilot-light" else 0

    @property
    def full_capacity_seconds(self) -> int:
        """From dark until production capacity is in service, with AWS's typical promotion (hot: when orders flow)."""
        if self.posture == "warm":
            return max(self.with_typical_promotion_seconds, self.writes_seconds + AURORA_PROMOTION_TYPICAL_SECONDS + self.web_ready_seconds)
        return self.with_typical_promotion_seconds

    @property
    def traffic_seconds(self) -> int:
        return sum(t.seconds for t in self.traffic)

    @property
    def front_door(self) -> FrontDoor:
        return "accelerator" if self.traffic_from_request else "route53"

    @property
    def total_seconds(self) -> int:
        """The budget, Aurora's promotion excluded."""
        if self.sequential or self.traffic_from_request:
            return max(self.writes_seconds + max(self.traffic_seconds, self.after_promotion_seconds), self.capacity_seconds)
        return max(self.writes_seconds + self.after_promotion_seconds, self.traffic_seconds, self.capacity_seconds)

    @property
    def with_typical_promotion_seconds(self) -> int:
        """The budget with AWS's typical promotion time on the writes path."""
        promoted = self.writes_seconds + AURORA_PROMOTION_TYPICAL_SECONDS
        after = self.after_promotion_seconds
        if self.sequential:
            return promoted + max(self.traffic_seconds, after)
        if self.traffic_from_request:
            return max(self.writes_seconds + max(self.traffic_seconds, AURORA_PROMOTION_TYPICAL_SECONDS + after), self.capacity_seconds)
        return max(self.traffic_seconds, promoted + after, self.capacity_seconds)

    @property
    def combined_as(self) -> str:
        if self.sequential:
            return "writes + promotion + traffic"
        return "writes + traffic (traffic beside the promotion)" if self.traffic_from_request else "max(traffic, writes)"

    def explain(self) -> str:
        """One line a ConfigError or the README can show."""
        writes = " + ".join(f"{t.name} {t.seconds}s" for t in (*self.writes, *self.prepare))
        traffic = " + ".join(f"{t.name} {t.seconds}s" for t in self.traffic)
        after = self.after_promotion_seconds
        writes_line = f"{writes} = {self.writes_seconds}s"
        if self.after_promotion:
            terms = " + ".join(f"{t.name} {t.seconds}s" for t in self.after_promotion)
            writes_line += f"; after Aurora's promotion {terms} = {after}s"
        capacity = ""
        if self.capacity_seconds:
            web = " + ".join(f"{t.name} {t.seconds}s" for t in self.web_ready)
            capacity = f"; web capacity decision {self.decision_seconds}s + {web} = {self.capacity_seconds}s"
        if self.sequential or self.traffic_from_request:
            later = f"max({self.traffic_seconds}s, {after}s)" if after else f"{self.traffic_seconds}s"
            combined = f"total {self.writes_seconds}s + {later} = {self.writes_seconds + max(self.traffic_seconds, after)}s"
            if self.capacity_seconds:
                combined = f"budget max({combined.removeprefix('total ')}, {self.capacity_seconds}s) = {self.total_seconds}s"
        else:
            writes_path = f"{self.writes_seconds}s + {after}s" if after else f"{self.writes_seconds}s"
            paths = [f"{self.traffic_seconds}s", writes_path] + ([f"{self.capacity_seconds}s"] if self.capacity_seconds else [])
            combined = f"budget max({', '.join(paths)}) = {self.total_seconds}s"
        return (
            f"{self.posture} standby: traffic {traffic} = {self.traffic_seconds}s; writes {writes_line}{capacity}; {combined} "
            f"excluding Aurora's promotion (typically {AURORA_PROMOTION_TYPICAL_SECONDS}s: "
            f"{self.with_typical_promotion_seconds}s with it)"
        )

    def as_export(self, objective_seconds: int) -> dict[str, Any]:
        """The `rtoBudget` stack output."""
        return {
            "scenario": "the primary region goes dark; traffic and writes move to the secondary",
            "front_door": self.front_door,
            "posture": self.posture,
            "total_seconds": self.total_seconds,
            "objective_seconds": objective_seconds,
            "combined_as": self.combined_as,
            "traffic_seconds": self.traffic_seconds,
            "writes_seconds": self.writes_seconds,
            "decision_seconds": self.decision_seconds,
            "after_promotion_seconds": self.after_promotion_seconds,
            "capacity_seconds": self.capacity_seconds,
            "full_capacity_seconds": self.full_capacity_seconds,
            "breakdown": {
                "traffic": [{"name": t.name, "seconds": t.seconds, "how": t.how} for t in self.traffic],
                "writes": [{"name": t.name, "seconds": t.seconds, "how": t.how} for t in (*self.writes, *self.prepare)],
                "web_ready": [{"name": t.name, "seconds": t.seconds, "how": t.how} for t in self.web_ready],
                "after_promotion": [{"name": t.name, "seconds": t.seconds, "how": t.how} for t in self.after_promotion],
            },
            "excludes": "Aurora global database promotion (on the writes path; traffic does not wait for it)"
            if not self.traffic_from_request
            else "Aurora global database promotion (the traffic path runs beside it, from the promotion request)",
            "aurora_promotion_typical_seconds": AURORA_PROMOTION_TYPICAL_SECONDS,
            "aurora_promotion_source": AURORA_PROMOTION_SOURCE,
            "with_typical_promotion_seconds": self.with_typical_promotion_seconds,
        }


def failed_probe_seconds(probe_timeout_seconds: int = PROBE_TIMEOUT_SECONDS) -> int:
    """How long one probe of a dark peer takes: every signal runs into its connect timeout."""
    return SIGNALS_PER_PROBE * probe_timeout_seconds


def probes_per_invocation(
    *,
    probe_interval_seconds: int,
    probe_timeout_seconds: int = PROBE_TIMEOUT_SECONDS,
    schedule_period_seconds: int = SCHEDULE_PERIOD_SECONDS,
) -> int:
    """How many probes one evaluation makes (MDR_PROBES_PER_INVOCATION): as many as fill the schedule period.

    The handler probes every `probe_interval_seconds` from its start, healthy
    peer or not, so the probes cover the whole minute; the last one — even a
    failing one — still ends inside the period, because with reserved
    concurrency 1 an evaluation that ran into the next tick would get that
    tick throttled. n = floor((P - start - failed probe) / interval) + 1.
    """
    per_probe = failed_probe_seconds(probe_timeout_seconds)
    room = schedule_period_seconds - INVOCATION_START_SECONDS - per_probe
    if room < 0:
        raise RtoError(
            f"one failed probe ({per_probe}s) after the invocation start ({INVOCATION_START_SECONDS}s) does not fit "
            f"in the {schedule_period_seconds}s schedule period"
        )
    if probe_interval_seconds < per_probe:
        raise RtoError(
            f"probe interval {probe_interval_seconds}s is shorter than one failed probe ({per_probe}s); "
            f"the handler could not keep the cadence"
        )
    return room // probe_interval_seconds + 1


def _worst_detection_terms(
    *, consecutive_failures: int, probe_interval_seconds: int, probe_timeout_seconds: int, schedule_period_seconds: int
) -> tuple[Term, ...]:
    """From "dark" to the last of `consecutive_failures` failed probes ending.

    Probes start `probe_interval_seconds` apart inside an evaluation; from an
    evaluation's last probe to the next evaluation's first the gap is
    P - (n - 1) x interval, plus up to the start allowance when the next
    evaluation starts later in its tick than the previous one did. The peer
    goes dark just after a good probe, so the failures take `consecutive_failures`
    gaps (the failure count persists across evaluations). A window of c gaps
    crosses floor(c/n) or ceil(c/n) tick boundaries; take the worse.
    """
    per_invocation = probes_per_invocation(
        probe_interval_seconds=probe_interval_seconds,
        probe_timeout_seconds=probe_timeout_seconds,
        schedule_period_seconds=schedule_period_seconds,
    )
    boundary_gap = schedule_period_seconds - (per_invocation - 1) * probe_interval_seconds

    def window(boundaries: int) -> tuple[int, int, int]:
        jitter = INVOCATION_START_SECONDS if boundaries else 0
        cadence = (consecutive_failures - boundaries) * probe_interval_seconds
        return cadence + boundaries * boundary_gap + jitter, cadence, jitter

    low = consecutive_failures // per_invocation
    high = -(-consecutive_failures // per_invocation)
    boundaries = max((low, high), key=lambda b: window(b)[0])
    _, cadence, jitter = window(boundaries)
    per_probe = failed_probe_seconds(probe_timeout_seconds)
    where = f"{per_invocation} probes {probe_interval_seconds}s apart per {schedule_period_seconds}s evaluation"
    return (
        Term(
            "probe_cadence",
            cadence,
            f"{consecutive_failures - boundaries} gap(s) x {probe_interval_seconds}s between probes inside an evaluation ({where})",
        ),
        Term(
            "evaluation_boundary",
            boundaries * boundary_gap,
            f"{boundaries} gap(s) x {boundary_gap}s from an evaluation's last probe to the next one's first",
        ),
        Term(
            "start_jitter",
            jitter,
            f"the next evaluation may start up to {INVOCATION_START_SECONDS}s later in its tick "
            "(delivery, cold start, snapshot reads; estimate)"
            if boundaries
            else "no evaluation boundary in the worst window",
        ),
        Term(
            "failed_probe",
            per_probe,
            f"the last failed probe: {SIGNALS_PER_PROBE} signals x {probe_timeout_seconds}s connect timeout",
        ),
    )


def failover_budget(
    *,
    probe_interval_seconds: int,
    consecutive_failures: int,
    health_check_interval_seconds: int,
    health_check_failure_threshold: int,
    probe_timeout_seconds: int = PROBE_TIMEOUT_SECONDS,
    schedule_period_seconds: int = SCHEDULE_PERIOD_SECONDS,
    record_ttl_seconds: int = ALIAS_TTL_SECONDS,
    front_door: FrontDoor = "route53",
    posture: PostureName = DEFAULT_POSTURE,
    full_page_cache: str = "redis",
) -> RtoBudget:
    """Worst case for our design: the later of the traffic path and the writes path.

    Traffic: the primary's deep HTTPS check turns unhealthy after `threshold`
    failed checks `interval` apart; the secondary's inverted check of the same
    URL turns healthy at the same moment, so Route 53 answers with the
    secondary; resolvers follow within the TTL. It does not wait for Aurora.
    With the accelerator (`front_door="accelerator"`) the traffic path starts at
    the promotion request (`accelerator_traffic_terms`): writes + traffic.

    Writes: detection (see `_worst_detection_terms`), then the decision and the
    promotion request. Aurora's promotion follows (excluded), then what the
    region's full-page cache needs before pages flow (`full_page_cache_terms`).
    """
    if front_door not in FRONT_DOORS:
        raise RtoError(f"front door {front_door!r}: one of {', '.join(FRONT_DOORS)}")
    if posture not in POSTURES:
        raise RtoError(f"posture {posture!r}: one of {', '.join(POSTURES)}")
    after_promotion = full_page_cache_terms(full_page_cache)
    if consecutive_failures < 1:
        raise RtoError(f"consecutive_failures must be >= 1, got {consecutive_failures}")
    writes = (
        *_worst_detection_terms(
            consecutive_failures=consecutive_failures,
            probe_interval_seconds=probe_interval_seconds,
            probe_timeout_seconds=probe_timeout_seconds,
            schedule_period_seconds=schedule_period_seconds,
        ),
        Term("decision", DECISION_SECONDS, "decide, take the SSM lease, request FailoverGlobalCluster (estimate)"),
    )
    traffic = (
        Term(
            "health_checks",
            health_check_interval_seconds * health_check_failure_threshold,
            f"{health_check_failure_threshold} failed checks x {health_check_interval_seconds}s: the primary's deep "
            "check turns unhealthy and the secondary's inverted check of it healthy",
        ),
        Term("dns_ttl", record_ttl_seconds, f"resolvers keep the old answer up to the {record_ttl_seconds}s alias TTL"),
    )
    prepare, web_ready = posture_terms(posture)
    if front_door == "accelerator":
        return RtoBudget(
            writes=writes, traffic=accelerator_traffic_terms(), traffic_from_request=True, posture=posture, prepare=prepare, web_ready=web_ready,
            after_promotion=after_promotion,
        )  # fmt: skip
    return RtoBudget(writes=writes, traffic=traffic, posture=posture, prepare=prepare, web_ready=web_ready, after_promotion=after_promotion)


def full_page_cache_terms(full_page_cache: str) -> tuple[Term, ...]:
    """After the promotion, before pages flow: nothing for Magento's built-in cache (Magento answers as soon as it
    reaches the writer); with Varnish, its probe of the deep check.

    A standby's Varnish has seen its deep check fail since it started (no writer in reach), so Varnish's shift
    register holds only failures: `.initial` counts only when the VCL loads (components/varnish.py BackendProbe),
    and no setting of it shortens this. Once the deep check turns green, Varnish passes pages after `threshold`
    good probes, the first up to one interval later. Meanwhile it answers 503 (its cache is empty: a standby
    keeps it so). The liveness file does not wait: it has a backend of its own.
    """
    if full_page_cache not in FULL_PAGE_CACHES:
        raise RtoError(f"full-page cache {full_page_cache!r}: one of {', '.join(FULL_PAGE_CACHES)}")
    if full_page_cache != "varnish":
        return ()
    probe = MAGENTO_PROBE
    return (
        Term(
            "varnish_probe",
            probe.healthy_after_seconds,
            f"the deep check turns green with the promotion; Varnish passes pages after {probe.threshold} good probes "
            f"{probe.interval_seconds}s apart (Magento's probe; its window held only failures)",
        ),
    )


def web_ready_terms() -> tuple[Term, ...]:
    """A web instance from launch to in service: boot (estimate), then the target group's passing checks."""
    checks = WEB_TARGET_HEALTHY_THRESHOLD * WEB_TARGET_HEALTH_INTERVAL_SECONDS
    return (
        Term("web_boot", WEB_BOOT_SECONDS, "EC2 launch, Amazon Linux boot and user data until nginx serves the liveness file (estimate)"),
        Term(
            "web_target_health",
            checks,
            f"{WEB_TARGET_HEALTHY_THRESHOLD} passing checks x {WEB_TARGET_HEALTH_INTERVAL_SECONDS}s of the web target group",
        ),
    )


def posture_terms(posture: PostureName) -> tuple[tuple[Term, ...], tuple[Term, ...]]:
    """(prepare, web_ready) for a posture (components/posture.py).

    Pilot light: the failover function adds the DB instance(s) to the headless cluster before it requests the
    promotion, and starts production web capacity at the same moment (both from the decision); the shop takes
    orders once the writer is promoted *and* a web instance is in service. Warm: one web instance already
    serves; the rest of production capacity boots after the promotion. Hot: nothing to start.
    """
    if posture == "pilot-light":
        prepare = (
            Term(
                "db_instance",
                DB_INSTANCE_CREATE_SECONDS,
                "CreateDBInstance into the headless standby cluster until it is available (estimate; AWS documents no figure)",
            ),
            Term(
                "db_instance_seen",
                SCHEDULE_PERIOD_SECONDS - PREPARATION_WAIT_SECONDS,
                f"an instance available between two evaluations is seen by the next: schedule {SCHEDULE_PERIOD_SECONDS}s minus "
                f"the {PREPARATION_WAIT_SECONDS}s each one waits for it",
            ),
        )
        return prepare, web_ready_terms()
    if posture == "warm":
        return (), web_ready_terms()
    return (), ()


def accelerator_traffic_terms() -> tuple[Term, ...]:
    """From the promotion request to the accelerator sending new connections to the new writer's region.

    The new writer's gate answers 200 as soon as Aurora's FailoverState names its cluster; the ALB
    needs `healthy threshold` passing checks `interval` apart (ELB's minimums, 2 x 5 s) before the
    gate target group, and with it the ALB, is healthy; the accelerator acts within its own reaction
    time (not configurable for load balancer endpoints; AWS states up to 30 s; unverified for this
    transition, docs/aws-assumptions.md G4). No DNS: the shop's name resolves to the accelerator's
    static addresses throughout.
    """
    checks = GATE_HEALTHY_THRESHOLD * GATE_INTERVAL_SECONDS
    return (
        Term(
            "gate_checks",
            checks,
            f"{GATE_HEALTHY_THRESHOLD} passing checks x {GATE_INTERVAL_SECONDS}s: the new writer's gate target "
            "group turns healthy once Aurora names its cluster (ELB's minimum interval and threshold)",
        ),
        Term(
            "accelerator",
            ENDPOINT_REACTION_SECONDS,
            f"the accelerator sends new connections to the healthy endpoint within up to {ENDPOINT_REACTION_SECONDS}s "
            "(AWS's figure; not configurable for ALB endpoints)",
        ),
    )


# The blog post's settings (/work/shared/reference-design.txt).
REFERENCE_HEALTH_CHECK_INTERVAL_SECONDS = 30
REFERENCE_HEALTH_CHECK_FAILURE_THRESHOLD = 3
REFERENCE_ALARM_PERIOD_SECONDS = 60
REFERENCE_ALARM_EVALUATION_PERIODS = 2
REFERENCE_RECORD_TTL_SECONDS = 300


def reference_design_budget() -> RtoBudget:
    """The same arithmetic for the reference design.

    Route 53 marks the primary unhealthy (30 s x 3), a CloudWatch alarm on the
    health check's metric needs two 60 s periods before the Lambda runs, the
    Lambda promotes Aurora (excluded) and only then rewrites a 300 s-TTL
    record: the stages add up. The health-check metric and the record change
    both live in us-east-1, so the chain also stops when us-east-1 is the lost region.
    """
    writes = (
        Term(
            "health_checks",
            REFERENCE_HEALTH_CHECK_INTERVAL_SECONDS * REFERENCE_HEALTH_CHECK_FAILURE_THRESHOLD,
            f"Route 53 health checks {REFERENCE_HEALTH_CHECK_INTERVAL_SECONDS}s x {REFERENCE_HEALTH_CHECK_FAILURE_THRESHOLD} failures",
        ),
        Term(
            "alarm",
            REFERENCE_ALARM_PERIOD_SECONDS * REFERENCE_ALARM_EVALUATION_PERIODS,
            f"CloudWatch alarm {REFERENCE_ALARM_EVALUATION_PERIODS} x {REFERENCE_ALARM_PERIOD_SECONDS}s periods before the Lambda runs",
        ),
    )
    traffic = (
        Term(
            "dns_ttl",
            REFERENCE_RECORD_TTL_SECONDS,
            f"the record is rewritten after promotion; resolvers keep the old answer up to {REFERENCE_RECORD_TTL_SECONDS}s",
        ),
    )
    return RtoBudget(writes=writes, traffic=traffic, sequential=True)
