"""The failover RTO budget as pure arithmetic: worst case from "primary goes dark" to traffic and writes in the secondary.

Traffic follows the writer (components/traffic.py): the secondary's Route 53
record turns healthy only once this region holds the Aurora writer, so the two
stages run one after the other:

1. **detection and decision** — this region's failover function notices
   (scheduled probes, a consecutive-failure threshold) and asks Aurora to
   promote this region's cluster;
2. *Aurora's promotion* — excluded, stated separately with AWS's typical figure;
3. **traffic** — the writer metric flips, the writer alarm leaves ALARM, the
   HTTPS deep check sees a working database again, Route 53 answers with this
   region, and resolvers follow within the alias record's TTL.

Nothing in the dark region or in us-east-1's control planes takes part.
`reference_design_budget` applies the same arithmetic to the blog post's settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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

# Period of the writer alarm behind Route 53's CLOUDWATCH_METRIC check
# (components/traffic.py WRITER_ALARM_PERIOD_SECONDS; Route 53 accepts only
# standard-resolution metrics, so 60 s is also the shortest possible). The
# alarm leaves ALARM at the first evaluation after a good datapoint.
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_AlarmIdentifier.html
WRITER_ALARM_PERIOD_SECONDS = 60

# Our settings for the handler's probe (MDR_PROBE_TIMEOUT_SECONDS). A probe asks
# two independent signals in turn — the peer's health URL, then the peer's RDS
# API — and a dark region costs each one connect timeout.
PROBE_TIMEOUT_SECONDS = 2
SIGNALS_PER_PROBE = 2

# Our estimates (not AWS figures), kept visible in the breakdown:
# scheduler delivery + cold start + the snapshot reads before the first probe
# (DescribeGlobalClusters, DescribeDBClusters, GetParameters, GetMetricData);
INVOCATION_START_SECONDS = 3
# and, after the last failed probe, the pure decision, the SSM lease and the
# FailoverGlobalCluster request — all calls to this region's endpoints.
DECISION_SECONDS = 2


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
    """The worst case as two consecutive stages around Aurora's (excluded) promotion."""

    writes: tuple[Term, ...]
    """From the primary going dark to the promotion request (for the reference design: to its Lambda running)."""
    traffic: tuple[Term, ...]
    """From this region holding the writer to clients resolving the shop to it."""

    @property
    def writes_seconds(self) -> int:
        return sum(t.seconds for t in self.writes)

    @property
    def traffic_seconds(self) -> int:
        return sum(t.seconds for t in self.traffic)

    @property
    def total_seconds(self) -> int:
        return self.writes_seconds + self.traffic_seconds

    def explain(self) -> str:
        """One line a ConfigError or the README can show."""
        writes = " + ".join(f"{t.name} {t.seconds}s" for t in self.writes)
        traffic = " + ".join(f"{t.name} {t.seconds}s" for t in self.traffic)
        return (
            f"writes {writes} = {self.writes_seconds}s, then traffic {traffic} = {self.traffic_seconds}s; "
            f"total {self.total_seconds}s plus Aurora's promotion (typically {AURORA_PROMOTION_TYPICAL_SECONDS}s)"
        )

    def as_export(self, objective_seconds: int) -> dict[str, Any]:
        """The `rtoBudget` stack output."""
        return {
            "total_seconds": self.total_seconds,
            "objective_seconds": objective_seconds,
            "writes_seconds": self.writes_seconds,
            "traffic_seconds": self.traffic_seconds,
            "breakdown": {
                "writes": [{"name": t.name, "seconds": t.seconds, "how": t.how} for t in self.writes],
                "traffic": [{"name": t.name, "seconds": t.seconds, "how": t.how} for t in self.traffic],
            },
            "excludes": "Aurora global database promotion (between the two stages)",
            "aurora_promotion_typical_seconds": AURORA_PROMOTION_TYPICAL_SECONDS,
            "aurora_promotion_source": AURORA_PROMOTION_SOURCE,
            "with_typical_promotion_seconds": self.total_seconds + AURORA_PROMOTION_TYPICAL_SECONDS,
        }


def failed_probe_seconds(probe_timeout_seconds: int = PROBE_TIMEOUT_SECONDS) -> int:
    """How long one probe of a dark peer takes: every signal runs into its connect timeout."""
    return SIGNALS_PER_PROBE * probe_timeout_seconds


def probes_per_invocation(
    *,
    consecutive_failures: int,
    probe_interval_seconds: int,
    probe_timeout_seconds: int = PROBE_TIMEOUT_SECONDS,
    schedule_period_seconds: int = SCHEDULE_PERIOD_SECONDS,
) -> int:
    """How many probes one evaluation may make (MDR_PROBES_PER_INVOCATION).

    As many as the failure threshold needs, but never so many that failing
    probes and their pauses outlast the schedule period: with reserved
    concurrency 1 the next tick would be throttled instead of probing.
    """
    budget = schedule_period_seconds - INVOCATION_START_SECONDS
    per_probe = failed_probe_seconds(probe_timeout_seconds)
    fits = (budget + probe_interval_seconds) // (per_probe + probe_interval_seconds)
    if fits < 1:
        raise RtoError(
            f"one failed probe ({per_probe}s) does not fit in the {schedule_period_seconds}s schedule period"
        )
    return int(min(consecutive_failures, fits))


def failover_budget(
    *,
    probe_interval_seconds: int,
    consecutive_failures: int,
    health_check_interval_seconds: int,
    health_check_failure_threshold: int,
    probe_timeout_seconds: int = PROBE_TIMEOUT_SECONDS,
    schedule_period_seconds: int = SCHEDULE_PERIOD_SECONDS,
    writer_alarm_period_seconds: int = WRITER_ALARM_PERIOD_SECONDS,
    record_ttl_seconds: int = ALIAS_TTL_SECONDS,
) -> RtoBudget:
    """Worst case for our design.

    Detection: while the peer is healthy each scheduled evaluation probes once
    and stops at the first success, so the worst moment for the peer to go dark
    is just after a successful probe — the next probe comes one schedule period
    later. From then on the evaluation keeps probing every
    `probe_interval_seconds` (up to `probes_per_invocation`), and the failure
    count persists across evaluations until it reaches `consecutive_failures`.

    Traffic: once the writer is here, two Route 53 children of the calculated
    check must turn healthy — the writer alarm (one period) and the HTTPS deep
    check, which fails while the global writer endpoint points at the dark
    region and needs `threshold` passing checks — then the TTL runs out.
    """
    if consecutive_failures < 1 or probe_interval_seconds < 0:
        raise RtoError("consecutive_failures must be >= 1 and probe_interval_seconds >= 0")
    per_invocation = probes_per_invocation(
        consecutive_failures=consecutive_failures,
        probe_interval_seconds=probe_interval_seconds,
        probe_timeout_seconds=probe_timeout_seconds,
        schedule_period_seconds=schedule_period_seconds,
    )
    evaluations = math.ceil(consecutive_failures / per_invocation)
    in_last = consecutive_failures - (evaluations - 1) * per_invocation
    per_probe = failed_probe_seconds(probe_timeout_seconds)
    writes = (
        Term(
            "schedule",
            evaluations * schedule_period_seconds,
            f"{evaluations} evaluation(s) x {schedule_period_seconds}s: the peer goes dark just after a successful probe",
        ),
        Term("invocation_start", INVOCATION_START_SECONDS, "scheduler delivery, cold start and snapshot reads (estimate)"),
        Term(
            "probe_pauses",
            (in_last - 1) * probe_interval_seconds,
            f"{in_last - 1} pause(s) x {probe_interval_seconds}s between failed probes in the last evaluation",
        ),
        Term(
            "failed_probes",
            in_last * per_probe,
            f"{in_last} failed probe(s) x {SIGNALS_PER_PROBE} signals x {probe_timeout_seconds}s connect timeout",
        ),
        Term("decision", DECISION_SECONDS, "decide, take the SSM lease, request FailoverGlobalCluster (estimate)"),
    )
    https_recovery = health_check_interval_seconds * health_check_failure_threshold
    traffic = (
        Term(
            "health_checks",
            max(writer_alarm_period_seconds, https_recovery),
            f"the later of the writer alarm ({writer_alarm_period_seconds}s period) and the HTTPS check "
            f"({health_check_interval_seconds}s x {health_check_failure_threshold} passing checks)",
        ),
        Term("dns_ttl", record_ttl_seconds, f"resolvers keep the old answer up to the {record_ttl_seconds}s alias TTL"),
    )
    return RtoBudget(writes=writes, traffic=traffic)


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
    record. The health-check metric and the record change both live in
    us-east-1, so the chain also stops when us-east-1 is the lost region.
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
    return RtoBudget(writes=writes, traffic=traffic)
