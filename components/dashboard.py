"""DrDashboard: the CloudWatch dashboard an on-call engineer opens first, one per shop region.

The body is built by a pure function (:func:`dashboard_body`) from plain names, so a test can check
every metric it graphs against what the program publishes or AWS publishes for the stack's resources.
Each widget names its region: the stack's own (where the failover and readiness functions report),
the peer's (who holds the writer there; empty while it is dark) and us-east-1 for Route 53's
health-check metrics, the only region Route 53 publishes them in.

AWS: "All dashboards in your account are global, not region-specific"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudwatch-dashboard.html),
so dashboard names carry the stack. Whether the console serves dashboards while us-east-1 is dark is
not documented (docs/aws-assumptions.md R3): the readiness result is also in SSM in the region, and
the CLI prints it (RUNBOOK, "Where to look first").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .contracts import (
    DECISION_ACTIONS,
    LAG_METRICS,
    LAG_NAMESPACE,
    LEASE_BLOCKED_METRIC,
    METRIC_NAMESPACE,
    READINESS_CHECK_METRIC,
    READINESS_CHECKS,
    READY_METRIC,
    WRITER_METRIC,
)
from .naming import physical_name

# Route 53 publishes health-check metrics in US East (N. Virginia) only ("you must select US East
# (N. Virginia) as the region", https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-check-status.html).
ROUTE53_METRICS_REGION = "us-east-1"
# OpenSearch Service domain health, per domain: dimensions DomainName and ClientId (the account id).
# https://docs.aws.amazon.com/opensearch-service/latest/developerguide/managedomains-cloudwatchmetrics.html
SEARCH_NAMESPACE = "AWS/ES"
SEARCH_HEALTH_METRICS = ("ClusterStatus.red", "ClusterStatus.yellow", "ClusterStatus.green")
WIDTH = 24  # the dashboard grid is 24 columns wide


@dataclass(frozen=True)
class DashboardScope:
    """Everything the body names, as plain strings."""

    stack: str
    region: str
    peer_region: str
    account_id: str
    cluster_id: str
    rpo_seconds: int
    failover_function: str
    readiness_function: str
    readiness_parameter: str
    schedule_minutes: int
    health_check_ids: Mapping[str, str]
    alarm_arns: Sequence[str]
    search_domain: str = ""
    media_bucket: str = ""
    media_peer_bucket: str = ""
    media_rule_out: str = ""
    media_rule_in: str = ""
    namespace: str = METRIC_NAMESPACE


def _ours(s: DashboardScope, metric: str, **extra: str) -> list[Any]:
    dims: list[Any] = []
    for key, value in {"Region": s.region, "Stack": s.stack, **extra}.items():  # the order the functions publish them in
        dims += [key, value]
    return [s.namespace, metric, *dims]


def _metric(title: str, region: str, metrics: list[list[Any]], *, stat: str = "Maximum", period: int = 60, **props: Any) -> dict[str, Any]:
    return {"type": "metric", "properties": {"title": title, "region": region, "view": "timeSeries", "stat": stat, "period": period,
                                             "metrics": metrics, **props}}


def _layout(rows: list[list[tuple[int, int, dict[str, Any]]]]) -> list[dict[str, Any]]:
    """Place (width, height, widget) rows on the 24-column grid, left to right, top to bottom."""
    out, y = [], 0
    for row in rows:
        x = 0
        for width, height, widget in row:
            out.append({**widget, "x": x, "y": y, "width": width, "height": height})
            x += width
        if x > WIDTH:
            raise ValueError(f"a dashboard row is {x} columns wide (the grid has {WIDTH})")
        y += max(h for _, h, _ in row)
    return out


def dashboard_body(s: DashboardScope) -> dict[str, Any]:
    """The dashboard's body (DashboardBody JSON as a dict)."""
    period = s.schedule_minutes * 60
    header = (
        f"## magento-dr {s.stack} · {s.region} — disaster recovery\n"
        f"**Ready** below is this region's answer, every {s.schedule_minutes} min, to *would a failover work now?* "
        f"The latest full result (each check's reason and fix): `python -m handlers.failover readiness` with the environment of "
        f"`{s.readiness_function}` (RUNBOOK, *Where to look first*), or SSM `{s.readiness_parameter}` in {s.region}. "
        f"What the failover function sees: `python -m handlers.failover status` (environment of `{s.failover_function}`). "
        f"Widgets marked {s.peer_region} or {ROUTE53_METRICS_REGION} stay empty while that region is dark."
    )
    lag = [
        [LAG_NAMESPACE, metric, *dims, {"label": f"{metric} ({'cluster' if len(dims) == 2 else 'cluster, source'})"}]
        for metric in LAG_METRICS
        for dims in (["DBClusterIdentifier", s.cluster_id], ["DBClusterIdentifier", s.cluster_id, "SourceRegion", s.peer_region])
    ]
    health = [["AWS/Route53", "HealthCheckStatus", "HealthCheckId", hc_id, {"label": kind}] for kind, hc_id in sorted(s.health_check_ids.items())]
    functions = [
        ["AWS/Lambda", metric, "FunctionName", fn, {"stat": "Sum", "label": f"{label} {metric}"}]
        for fn, label in ((s.failover_function, "failover"), (s.readiness_function, "readiness"))
        for metric in ("Invocations", "Errors", "Throttles")
    ]
    cache_search: list[list[Any]] = [
        [*_ours(s, READINESS_CHECK_METRIC, Check=check), {"label": f"readiness: {check}"}] for check in ("cache", "search")
    ]
    if s.search_domain:
        cache_search += [[SEARCH_NAMESPACE, m, "DomainName", s.search_domain, "ClientId", s.account_id, {"yAxis": "right"}] for m in SEARCH_HEALTH_METRICS]
    rows: list[list[tuple[int, int, dict[str, Any]]]] = [
        [(WIDTH, 3, {"type": "text", "properties": {"markdown": header}})],
        [
            (6, 6, _metric(f"Ready ({s.region})", s.region, [[*_ours(s, READY_METRIC), {"label": "Ready (1 = a failover would work)"}]],
                           stat="Minimum", period=period, view="singleValue", sparkline=True)),
            (12, 6, _metric("Readiness checks (1 pass, ½ unknown, 0 fail)", s.region,
                            [[*_ours(s, READINESS_CHECK_METRIC, Check=c), {"label": c}] for c in READINESS_CHECKS],
                            stat="Minimum", period=period, yAxis={"left": {"min": 0, "max": 1}})),
            (6, 6, {"type": "alarm", "properties": {"title": "Alarms (not ready first)", "alarms": list(s.alarm_arns)}}),
        ],
        [
            (5, 6, _metric(f"{s.region} holds the writer (1)", s.region, [[*_ours(s, WRITER_METRIC), {"label": s.region}]],
                           yAxis={"left": {"min": 0, "max": 1}})),
            # The peer's own metric, from its region (its stack name is not this stack's to know: a search by region).
            (5, 6, _metric(f"{s.peer_region} holds the writer (1; empty while it is dark)", s.peer_region,
                           [[{"expression": f"SEARCH('{{{s.namespace},Region,Stack}} MetricName=\"{WRITER_METRIC}\" Region=\"{s.peer_region}\"', "
                                            f"'Maximum', 60)", "id": "peer", "label": s.peer_region}]],
                           yAxis={"left": {"min": 0, "max": 1}})),
            (7, 6, _metric(f"Replication / RPO lag into {s.region} (ms)", s.region, lag,
                           annotations={"horizontal": [{"label": f"RPO {s.rpo_seconds}s", "value": s.rpo_seconds * 1000}]})),
            (7, 6, _metric(f"Route 53 health checks of {s.region} ({ROUTE53_METRICS_REGION})", ROUTE53_METRICS_REGION, health, stat="Minimum")),
        ],
        [
            (8, 6, _metric("Function runs", s.region, functions, stat="Sum")),
            (8, 6, _metric("Failover decisions", s.region, [[*_ours(s, "Decision", Action=a), {"label": a}] for a in DECISION_ACTIONS], stat="Sum")),
            (8, 6, _metric("Probes and post-failover steps", s.region, [
                [*_ours(s, "PeerConsecutiveFailures"), {"label": "consecutive failed probes of the peer"}],
                [*_ours(s, "StepFailed"), {"stat": "Sum", "label": "failed actions / steps"}],
                [*_ours(s, LEASE_BLOCKED_METRIC), {"stat": "Sum", "label": "blocked by the failover lease"}],
                [*_ours(s, "PromotionDuration"), {"label": "promotion (s)", "yAxis": "right"}],
                [*_ours(s, "DetectionToPromotion"), {"label": "first failed probe → writer (s)", "yAxis": "right"}],
            ])),
        ],
        [
            (12, 6, _metric("Cache and search", s.region, cache_search, period=period)),
            (6, 6, _metric("Release versions equal (1) in both regions", s.region,
                           [[*_ours(s, READINESS_CHECK_METRIC, Check="release"), {"label": "readiness: release"}]], stat="Minimum", period=period)),
        ],
    ]
    if s.media_bucket and s.media_peer_bucket:
        rows[-1].append((6, 6, _metric("Media replication", s.region, [
            ["AWS/S3", "OperationsFailedReplication", "SourceBucket", s.media_bucket, "DestinationBucket", s.media_peer_bucket, "RuleId", s.media_rule_out,
             {"stat": "Sum", "label": f"failed → {s.peer_region}"}],
            ["AWS/S3", "ReplicationLatency", "SourceBucket", s.media_peer_bucket, "DestinationBucket", s.media_bucket, "RuleId", s.media_rule_in,
             {"label": f"latency from {s.peer_region} (s)", "yAxis": "right"}],
        ])))
    return {"start": "-PT6H", "periodOverride": "inherit", "widgets": _layout(rows)}


@dataclass(frozen=True)
class DrDashboardArgs:
    stack: str
    region: str
    peer_region: str
    rpo_seconds: int
    schedule_minutes: int
    readiness_parameter: str
    cluster_id: pulumi.Input[str]
    failover_function: pulumi.Input[str]
    readiness_function: pulumi.Input[str]
    health_check_ids: pulumi.Input[Mapping[str, pulumi.Input[str]]]
    alarm_names: pulumi.Input[Sequence[str]]
    """The not-ready alarm first, then the failover function's (all in this region)."""
    search_domain: pulumi.Input[str] | None = None
    media_bucket: pulumi.Input[str] | None = None
    media_peer_bucket: pulumi.Input[str] | None = None
    media_rule_out: str = ""
    media_rule_in: str = ""


class DrDashboard(pulumi.ComponentResource):
    """One CloudWatch dashboard for this region's disaster recovery."""

    dashboard_name: str
    """The dashboard (CloudWatch console → Dashboards; names are global, so it carries the stack)."""

    def __init__(self, name: str, args: DrDashboardArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:DrDashboard", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        dashboard_name = physical_name(args.stack, args.region, "dr")
        body = pulumi.Output.all(
            account_id=caller.account_id,
            partition=partition.partition,
            cluster_id=args.cluster_id,
            failover_function=args.failover_function,
            readiness_function=args.readiness_function,
            health_check_ids=args.health_check_ids,
            alarm_names=args.alarm_names,
            search_domain=args.search_domain or "",
            media_bucket=args.media_bucket or "",
            media_peer_bucket=args.media_peer_bucket or "",
        ).apply(
            lambda v: json.dumps(
                dashboard_body(
                    DashboardScope(
                        stack=args.stack,
                        region=args.region,
                        peer_region=args.peer_region,
                        rpo_seconds=args.rpo_seconds,
                        readiness_parameter=args.readiness_parameter,
                        schedule_minutes=args.schedule_minutes,
                        media_rule_out=args.media_rule_out,
                        media_rule_in=args.media_rule_in,
                        account_id=v["account_id"],
                        cluster_id=v["cluster_id"],
                        failover_function=v["failover_function"],
                        readiness_function=v["readiness_function"],
                        health_check_ids=dict(v["health_check_ids"]),
                        alarm_arns=tuple(f"arn:{v['partition']}:cloudwatch:{args.region}:{v['account_id']}:alarm:{n}" for n in v["alarm_names"]),
                        search_domain=v["search_domain"],
                        media_bucket=v["media_bucket"],
                        media_peer_bucket=v["media_peer_bucket"],
                    )
                ),
                separators=(",", ":"),
            )
        )
        aws.cloudwatch.Dashboard(f"{name}-dashboard", dashboard_name=dashboard_name, dashboard_body=body, opts=pulumi.ResourceOptions(parent=self))
        self.dashboard_name = dashboard_name
        self.register_outputs({"dashboard_name": dashboard_name})
