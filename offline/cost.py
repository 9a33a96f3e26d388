"""`make cost`: what each example stack costs a month, itemised, from the same mock graph `make preview` prints.

Every resource the program declares is priced by a rule here (:data:`RULES`) or named free with the
reason (:data:`FREE`); a resource type with neither fails tests/test_cost.py, so a resource added
later is priced or explained before it lands. Figures come from the pinned price table
offline/prices.json (On-Demand, USD, each entry with its source and date; entries with no sourced
figure for a region say so and what they use instead, and the lines that rely on them are marked).
Usage-driven figures (storage, I/O, requests, traffic) come from :class:`Assumptions`, printed with
the estimate and settable from a YAML file (`--assumptions FILE`).

    python -m offline.cost              # the three example stacks, a table each, and the standby's share;
                                        # then the secondary in each standby posture beside its RTO budget,
                                        # and reports/cost-postures.svg (cost against RTO budget)
    python -m offline.cost --json       # the same, as JSON (CI)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.posture import POSTURES, describe
from components.readiness import READINESS_ENTRY_POINT
from handlers.readiness import CHECKS as READINESS_CHECKS

from .runner import Resource, StackGraph, posture_overrides, run_database_standby, run_pair, run_stack

PRICE_TABLE = Path(__file__).with_name("prices.json")
HOURS_PER_MONTH = 730  # AWS's own monthly figure (8,760 hours / 12)


class MissingPrice(KeyError):
    """The price table has no entry for a key in a region: the message names both and the file to extend."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Assumptions:
    """Usage a graph cannot tell (monthly, per region unless said otherwise); defaults for a mid-size shop."""

    db_storage_gb: float = 100.0
    db_io_million: float = 200.0  # I/O requests on the writer's cluster
    db_replicated_write_io_million: float = 50.0  # billed in each secondary region
    media_storage_gb: float = 200.0
    media_written_gb: float = 20.0  # new/changed media, replicated to the peer with RTC
    media_put_thousands: float = 100.0
    release_storage_gb: float = 10.0
    release_written_gb: float = 2.0
    alb_log_storage_gb: float = 30.0
    shop_egress_gb: float = 500.0  # pages from the writer region's ALB to shoppers
    cdn_egress_gb: float = 1000.0
    cdn_requests_10k: float = 5000.0
    alb_lcu_active: float = 2.0  # average LCUs of the region serving the shop
    alb_lcu_standby: float = 0.1
    nat_gb: float = 50.0
    endpoint_gb: float = 5.0
    logs_gb_per_group: float = 1.0
    cache_replicated_gb: float = 30.0
    lambda_evaluations_per_month: float = 43_800.0  # the one-minute schedule
    writer_gate_seconds: float = 0.1  # its region's DescribeGlobalClusters, and in the writer's region the peer's too (across the ocean)
    readiness_seconds: float = 3.0  # one readiness evaluation: some 25 read-only calls, most in the region
    custom_metrics_per_function: float = 12.0  # the function's MagentoDR metrics (writer, decisions by action, durations, lease)
    sns_publishes_million: float = 0.0  # within the free tier unless an incident storms

    @classmethod
    def load(cls, path: Path | None) -> Assumptions:
        if path is None:
            return cls()
        raw = yaml.safe_load(path.read_text()) or {}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"{path}: {unknown[0]} is not an assumption; use one of {', '.join(sorted(known))}")
        return cls(**{k: float(v) for k, v in raw.items()})


@dataclass(frozen=True)
class Price:
    key: str
    region: str
    usd: float
    unit: str
    source: str
    estimate: str = ""


class PriceTable:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.as_of = str(document.get("as_of", ""))
        self.sources: Mapping[str, Any] = document.get("sources", {})
        self._prices = {
            (p["key"], p["region"]): Price(p["key"], p["region"], float(p["usd"]), p["unit"], p["source"], p.get("estimate", ""))
            for p in document["prices"]
        }

    @classmethod
    def load(cls, path: Path = PRICE_TABLE) -> PriceTable:
        return cls(json.loads(path.read_text()))

    def get(self, key: str, region: str) -> Price:
        found = self._prices.get((key, region)) or self._prices.get((key, "global"))
        if found is None:
            raise MissingPrice(
                f"offline/prices.json has no price {key!r} for {region}: add it with its source (AWS pricing page or Price List offer file) and date"
            )
        return found


@dataclass
class LineItem:
    stack: str
    category: str
    item: str
    monthly_usd: float
    basis: str
    estimated: bool = False
    prices: list[str] = field(default_factory=list)


@dataclass
class Context:
    graph: StackGraph
    prices: PriceTable
    assume: Assumptions
    items: list[LineItem] = field(default_factory=list)

    @property
    def region(self) -> str:
        return str(self.graph.exports["region"])

    @property
    def serves_shop(self) -> bool:
        return self.graph.exports.get("scope", "shop") == "shop"

    @property
    def is_primary(self) -> bool:
        return self.graph.exports.get("role") == "primary"

    def add(self, category: str, item: str, quantity: float, key: str, basis: str, region: str | None = None) -> None:
        price = self.prices.get(key, region or self.region)
        self.items.append(
            LineItem(
                self.graph.stack,
                category,
                item,
                round(quantity * price.usd, 2),
                f"{basis} x ${price.usd:g} {price.unit}",
                estimated=bool(price.estimate),
                prices=[f"{price.key} {price.region}"],
            )
        )


def _num(value: Any, default: float = 0.0) -> float:
    return default if value is None else float(value)


# ------------------------------------------------------------------------------------------ pricing rules
def _asg(ctx: Context, r: Resource) -> None:
    template = next((lt for lt in ctx.graph.of_type("aws:ec2/launchTemplate:LaunchTemplate")), None)
    if template is None:
        raise MissingPrice(f"{r.name}: no launch template in the graph to read the instance type from")
    instance_type = str(template.inputs["instanceType"])
    count = _num(r.inputs.get("desiredCapacity"), _num(r.inputs.get("minSize")))
    ctx.add("compute", f"web instances ({instance_type})", count * HOURS_PER_MONTH, f"ec2:{instance_type}", f"{count:g} x {HOURS_PER_MONTH} h")
    gb = sum(_num((m.get("ebs") or {}).get("volumeSize")) for m in template.inputs.get("blockDeviceMappings") or [])
    ctx.add("compute", "web instances' root volumes (gp3)", count * gb, "ebs:gp3", f"{count:g} x {gb:g} GB")


def _db_instance(ctx: Context, r: Resource) -> None:
    cls = str(r.inputs["instanceClass"])
    ctx.add("database", f"Aurora instance {r.name} ({cls})", HOURS_PER_MONTH, f"rds:{cls}", f"{HOURS_PER_MONTH} h")


def _db_cluster(ctx: Context, r: Resource) -> None:
    a = ctx.assume
    # Each region's cluster has its own storage volume; the writer's I/O is billed where it runs, and
    # every secondary pays the replicated write I/O it receives.
    ctx.add("database", "Aurora storage", a.db_storage_gb, "rds:storage", f"{a.db_storage_gb:g} GB")
    if ctx.is_primary:
        ctx.add("database", "Aurora I/O (writer)", a.db_io_million, "rds:io", f"{a.db_io_million:g} M requests")
    else:
        ctx.add("database", "Aurora Global Database replicated write I/O", a.db_replicated_write_io_million, "rds:replicated-write-io",
                f"{a.db_replicated_write_io_million:g} M writes")


def _cache(ctx: Context, r: Resource) -> None:
    nodes = _num(r.inputs.get("numCacheClusters"), 1)
    # A Global Datastore member inherits its node type and engine from the primary: read the stack's config.
    cache_config = ctx.graph.config.get("magento-dr:cache") or {}
    node_type = str(r.inputs.get("nodeType") or cache_config.get("nodeType", "cache.r7g.large"))
    engine = str(r.inputs.get("engine") or cache_config.get("engine", "valkey"))
    ctx.add("cache", f"{engine} nodes ({node_type})", nodes * HOURS_PER_MONTH, f"elasticache:{engine}:{node_type}", f"{nodes:g} x {HOURS_PER_MONTH} h")


def _datastore(ctx: Context, r: Resource) -> None:
    gb = ctx.assume.cache_replicated_gb
    ctx.add("cache", "Global Datastore cross-region replication", gb, "elasticache:global-transfer", f"{gb:g} GB")


def _search(ctx: Context, r: Resource) -> None:
    cluster = r.inputs.get("clusterConfig") or {}
    count = _num(cluster.get("instanceCount"), 1)
    instance_type = str(cluster.get("instanceType"))
    ctx.add("search", f"OpenSearch nodes ({instance_type})", count * HOURS_PER_MONTH, f"opensearch:{instance_type}", f"{count:g} x {HOURS_PER_MONTH} h")
    gb = _num((r.inputs.get("ebsOptions") or {}).get("volumeSize"))
    ctx.add("search", "OpenSearch storage (gp3)", count * gb, "opensearch:gp3", f"{count:g} x {gb:g} GB")


def _nat(ctx: Context, r: Resource) -> None:
    ctx.add("network", f"NAT gateway {r.name}", HOURS_PER_MONTH, "vpc:nat-hour", f"{HOURS_PER_MONTH} h")
    ctx.add("network", f"NAT gateway {r.name} data processed", ctx.assume.nat_gb, "vpc:nat-gb", f"{ctx.assume.nat_gb:g} GB")


def _eip(ctx: Context, r: Resource) -> None:
    ctx.add("network", f"public IPv4 address {r.name}", HOURS_PER_MONTH, "vpc:ipv4-hour", f"{HOURS_PER_MONTH} h")


def _endpoint(ctx: Context, r: Resource) -> None:
    if r.inputs.get("vpcEndpointType") != "Interface":
        return  # gateway endpoints (S3) are free
    azs = len(r.inputs.get("subnetIds") or [])
    service = r.inputs.get("serviceName", r.name)
    ctx.add("network", f"interface endpoint {service}", azs * HOURS_PER_MONTH, "vpc:endpoint-az-hour", f"{azs} AZ x {HOURS_PER_MONTH} h")
    ctx.add("network", f"interface endpoint {service} data", ctx.assume.endpoint_gb, "vpc:endpoint-gb", f"{ctx.assume.endpoint_gb:g} GB")


def _alb(ctx: Context, r: Resource) -> None:
    lcu = ctx.assume.alb_lcu_active if ctx.is_primary else ctx.assume.alb_lcu_standby
    ctx.add("load balancer", "Application Load Balancer", HOURS_PER_MONTH, "elb:alb-hour", f"{HOURS_PER_MONTH} h")
    ctx.add("load balancer", "ALB capacity units", lcu * HOURS_PER_MONTH, "elb:alb-lcu-hour", f"{lcu:g} LCU x {HOURS_PER_MONTH} h")
    if ctx.is_primary:
        ctx.add("data transfer", "shop pages to the internet", ctx.assume.shop_egress_gb, "transfer:internet-gb", f"{ctx.assume.shop_egress_gb:g} GB")


def _health_check(ctx: Context, r: Resource) -> None:
    kind = r.inputs.get("type")
    if kind == "CALCULATED":
        ctx.add("DNS", f"Route 53 calculated check {r.name}", 1, "route53:check-calculated", "1 check")
    elif kind == "CLOUDWATCH_METRIC":
        ctx.add("DNS", f"Route 53 CloudWatch-alarm check {r.name}", 1, "route53:check-cloudwatch", "1 check")
    else:
        ctx.add("DNS", f"Route 53 health check {r.name}", 1, "route53:check-aws", "1 check (an AWS endpoint: the ALB)")
        if kind in ("HTTPS", "HTTPS_STR_MATCH"):
            ctx.add("DNS", f"Route 53 health check {r.name}: HTTPS", 1, "route53:option-https", "1 option")
        if _num(r.inputs.get("requestInterval"), 30) <= 10:
            ctx.add("DNS", f"Route 53 health check {r.name}: 10 s interval", 1, "route53:option-fast", "1 option")


def _kms_key(ctx: Context, r: Resource) -> None:
    ctx.add("keys and secrets", f"KMS key {r.name}", 1, "kms:key", "1 key")


def _secret(ctx: Context, r: Resource) -> None:
    ctx.add("keys and secrets", f"secret {r.name}", 1, "secretsmanager:secret", "1 secret")
    replicas = len(r.inputs.get("replicas") or [])
    if replicas:
        ctx.add("keys and secrets", f"secret {r.name} replicas", replicas, "secretsmanager:replica", f"{replicas} replica(s)")


def _alarm(ctx: Context, r: Resource) -> None:
    # Alarms are billed per metric they watch; metric math counts each metric it reads.
    metrics = len([q for q in r.inputs.get("metricQueries") or [] if q.get("metric")]) or 1
    ctx.add("monitoring", f"alarm {r.name}", metrics, "cloudwatch:alarm-metric", f"{metrics} metric(s)")


def _log_group(ctx: Context, r: Resource) -> None:
    gb = ctx.assume.logs_gb_per_group
    ctx.add("monitoring", f"log ingestion {r.name}", gb, "cloudwatch:logs-gb", f"{gb:g} GB")


def _writer_gate(ctx: Context, r: Resource) -> None:
    """The accelerator's writer gate: invoked by the ALB's health checks, from each of the ALB's nodes (one per
    subnet) every interval (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html)."""
    group = next(t for t in ctx.graph.of_type("aws:lb/targetGroup:TargetGroup") if t.inputs.get("targetType") == "lambda")
    interval = _num((group.inputs.get("healthCheck") or {}).get("interval"), 35)
    alb = next(iter(ctx.graph.of_type("aws:lb/loadBalancer:LoadBalancer")))
    nodes = len(alb.inputs.get("subnets") or []) or 1
    checks = nodes * HOURS_PER_MONTH * 3600 / interval
    gb_seconds = checks * ctx.assume.writer_gate_seconds * _num(r.inputs.get("memorySize"), 128) / 1024
    ctx.add("front door", f"Lambda {r.name} requests (ALB health checks)", checks / 1e6, "lambda:requests-1m", f"{nodes} ALB nodes x every {interval:g} s")
    basis = f"{checks:,.0f} checks x {ctx.assume.writer_gate_seconds:g} s"
    ctx.add("front door", f"Lambda {r.name} duration (arm64)", gb_seconds, "lambda:gb-second-arm64", basis)


def _readiness(ctx: Context, r: Resource) -> None:
    """The readiness function: one run per its schedule's period; it publishes Ready and one metric per check."""
    expression = next(str(s.inputs.get("scheduleExpression")) for s in ctx.graph.of_type("aws:scheduler/schedule:Schedule") if "readiness" in s.name)
    minutes = float(expression.removeprefix("rate(").split()[0])
    runs = HOURS_PER_MONTH * 60 / minutes
    memory = _num(r.inputs.get("memorySize"), 128)
    seconds = ctx.assume.readiness_seconds
    ctx.add("automation", f"Lambda {r.name} duration (arm64)", runs * seconds * memory / 1024, "lambda:gb-second-arm64",
            f"{runs:,.0f} runs ({expression}) x {seconds:g} s x {memory:g} MB")
    ctx.add("automation", f"Lambda {r.name} requests", runs / 1e6, "lambda:requests-1m", f"{runs:,.0f} requests")
    metrics = 1 + len(READINESS_CHECKS)
    ctx.add("monitoring", f"custom metrics of {r.name}", metrics, "cloudwatch:custom-metric", f"Ready + {len(READINESS_CHECKS)} checks")


def _dashboard(ctx: Context, r: Resource) -> None:
    # The account's first three dashboards are free; priced as if this one were not (the account has others).
    ctx.add("monitoring", f"dashboard {r.name}", 1, "cloudwatch:dashboard", "1 dashboard")


def _function(ctx: Context, r: Resource) -> None:
    handler = str(r.inputs.get("handler", ""))
    if handler.startswith("handlers.writer_gate."):
        _writer_gate(ctx, r)
        return
    if handler == READINESS_ENTRY_POINT:
        _readiness(ctx, r)
        return
    env = (r.inputs.get("environment") or {}).get("variables") or {}
    probes = _num(env.get("MDR_PROBES_PER_INVOCATION"), 1)
    interval = _num(env.get("MDR_PROBE_INTERVAL_SECONDS"), 0)
    # A healthy evaluation probes for the whole schedule period: (probes - 1) gaps plus the last probe.
    seconds = (probes - 1) * interval + _num(env.get("MDR_PROBE_TIMEOUT_SECONDS"), 2) if interval else 1.0
    gb_seconds = ctx.assume.lambda_evaluations_per_month * seconds * _num(r.inputs.get("memorySize"), 128) / 1024
    ctx.add("automation", f"Lambda {r.name} duration (arm64)", gb_seconds, "lambda:gb-second-arm64",
            f"{ctx.assume.lambda_evaluations_per_month:g} runs x {seconds:g} s x {_num(r.inputs.get('memorySize'), 128):g} MB")
    ctx.add("automation", f"Lambda {r.name} requests", ctx.assume.lambda_evaluations_per_month / 1e6, "lambda:requests-1m",
            f"{ctx.assume.lambda_evaluations_per_month:g} requests")
    metrics = ctx.assume.custom_metrics_per_function
    ctx.add("monitoring", f"custom metrics of {r.name}", metrics, "cloudwatch:custom-metric", f"{metrics:g} metrics")


def _bucket(ctx: Context, r: Resource) -> None:
    name = str(r.inputs.get("bucket") or r.name)
    a = ctx.assume
    if "-media-" in name:
        gb, puts = a.media_storage_gb, a.media_put_thousands
    elif "-releases-" in name:
        gb, puts = a.release_storage_gb, 1.0
    else:
        gb, puts = a.alb_log_storage_gb, 10.0
    ctx.add("storage", f"S3 {name} storage", gb, "s3:storage-gb", f"{gb:g} GB")
    ctx.add("storage", f"S3 {name} writes", puts, "s3:put-1k", f"{puts:g} thousand PUTs")


def _replication(ctx: Context, r: Resource) -> None:
    # The rule replicates *from* the bucket it is attached to; the secondary owns both directions, so
    # the rule's own region (through the peer provider) is where the transfer is billed.
    source_region = r.region or ctx.region
    name = str(r.inputs.get("bucket", r.name))
    gb = ctx.assume.media_written_gb if "-media-" in name else ctx.assume.release_written_gb
    ctx.add("storage", f"S3 replication out of {name} (RTC)", gb, "s3:rtc-gb", f"{gb:g} GB")
    ctx.add("data transfer", f"S3 replication out of {name}", gb, "transfer:inter-region-gb", f"{gb:g} GB", region=source_region)


def _distribution(ctx: Context, r: Resource) -> None:
    ctx.add("CDN", "CloudFront data out", ctx.assume.cdn_egress_gb, "cloudfront:gb", f"{ctx.assume.cdn_egress_gb:g} GB")
    ctx.add("CDN", "CloudFront HTTPS requests", ctx.assume.cdn_requests_10k, "cloudfront:https-10k", f"{ctx.assume.cdn_requests_10k:g} x 10,000")


def _topic(ctx: Context, r: Resource) -> None:
    if ctx.assume.sns_publishes_million:
        ctx.add("automation", f"SNS {r.name} publishes", ctx.assume.sns_publishes_million, "sns:publish-1m", "publishes", region="us-east-1")


def _accelerator(ctx: Context, r: Resource) -> None:
    ctx.add("front door", "Global Accelerator fixed fee", HOURS_PER_MONTH, "globalaccelerator:hour", f"{HOURS_PER_MONTH} h")
    ctx.add("front door", "Global Accelerator DT-Premium", ctx.assume.shop_egress_gb, "globalaccelerator:premium-gb", f"{ctx.assume.shop_egress_gb:g} GB")


RULES: dict[str, Callable[[Context, Resource], None]] = {
    "aws:autoscaling/group:Group": _asg,
    "aws:rds/clusterInstance:ClusterInstance": _db_instance,
    "aws:rds/cluster:Cluster": _db_cluster,
    "aws:elasticache/replicationGroup:ReplicationGroup": _cache,
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": _datastore,
    "aws:opensearch/domain:Domain": _search,
    "aws:ec2/natGateway:NatGateway": _nat,
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _endpoint,
    "aws:lb/loadBalancer:LoadBalancer": _alb,
    "aws:route53/healthCheck:HealthCheck": _health_check,
    "aws:kms/key:Key": _kms_key,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:lambda/function:Function": _function,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": _replication,
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:sns/topic:Topic": _topic,
    "aws:globalaccelerator/accelerator:Accelerator": _accelerator,
}

# Resource types that cost nothing themselves (or whose cost a priced rule above carries), with why.
FREE: dict[str, str] = {
    "aws:acm/certificate:Certificate": "public ACM certificates are free",
    "aws:acm/certificateValidation:CertificateValidation": "a wait, not a resource",
    "aws:autoscaling/policy:Policy": "scaling policies are free",
    "aws:cloudfront/originAccessControl:OriginAccessControl": "free",
    "aws:cloudwatch/eventRule:EventRule": "rules for AWS service events on the default bus are free",
    "aws:cloudwatch/eventTarget:EventTarget": "part of its rule",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "security groups are free",
    "aws:ec2/flowLog:FlowLog": "billed as log ingestion of its log group",
    "aws:ec2/internetGateway:InternetGateway": "free (data transfer is priced where it leaves)",
    "aws:ec2/launchTemplate:LaunchTemplate": "priced through the Auto Scaling group that runs it",
    "aws:ec2/routeTable:RouteTable": "free",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "free",
    "aws:ec2/securityGroup:SecurityGroup": "free",
    "aws:ec2/subnet:Subnet": "free",
    "aws:ec2/vpc:Vpc": "free",
    "aws:elasticache/subnetGroup:SubnetGroup": "free",
    "aws:iam/instanceProfile:InstanceProfile": "IAM is free",
    "aws:iam/role:Role": "IAM is free",
    "aws:iam/rolePolicy:RolePolicy": "IAM is free",
    "aws:kms/alias:Alias": "free",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": "free",
    "aws:lambda/permission:Permission": "free",
    "aws:lb/listener:Listener": "in the load balancer's capacity units",
    "aws:lb/targetGroup:TargetGroup": "in the load balancer's capacity units",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "free",
    "aws:rds/globalCluster:GlobalCluster": "the global cluster itself is free; its members and replicated I/O are priced",
    "aws:rds/parameterGroup:ParameterGroup": "free",
    "aws:rds/subnetGroup:SubnetGroup": "free",
    "aws:route53/record:Record": "alias queries to AWS resources are free; the hosted zone exists before the program",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "free",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "free",
    "aws:s3/bucketPolicy:BucketPolicy": "free",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "free",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "free (Bucket Keys keep KMS requests low)",
    "aws:s3/bucketVersioning:BucketVersioning": "free (noncurrent versions are in the storage assumption)",
    "aws:scheduler/schedule:Schedule": (
        "the failover schedule's 43,800 invocations a month and the readiness schedule's 8,760, within EventBridge Scheduler's 14 million free"
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": "in its secret",
    "aws:sns/topicPolicy:TopicPolicy": "free",
    "aws:sns/topicSubscription:TopicSubscription": "email deliveries within the free tier",
    "aws:sqs/queue:Queue": "dead letters only: within the free tier",
    "aws:sqs/queuePolicy:QueuePolicy": "free",
    "aws:ssm/document:Document": "Run Command and documents are free",
    "aws:ssm/parameter:Parameter": "standard parameters are free",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "free",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "free",
    "aws:globalaccelerator/listener:Listener": "in the accelerator's fixed fee",
    "aws:globalaccelerator/endpointGroup:EndpointGroup": "in the accelerator's fixed fee",
    "aws:lb/listenerRule:ListenerRule": "in the load balancer's capacity units",
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": "free",
    "aws:arcregionswitch/plan:Plan": "AWS publishes no price we could source for Region switch plans (offline/prices.json notes it)",
    "random:index/randomPassword:RandomPassword": "not an AWS resource",
    "pulumi:pulumi:StackReference": "not an AWS resource",
}


def unpriced_types(graph: StackGraph) -> list[str]:
    """Resource types in the graph with neither a pricing rule nor a reason to be free."""
    return sorted({r.type for r in graph.resources if r.custom and not r.is_provider} - set(RULES) - set(FREE))


def estimate(graph: StackGraph, prices: PriceTable, assume: Assumptions) -> list[LineItem]:
    missing = unpriced_types(graph)
    if missing:
        raise MissingPrice(f"stack {graph.stack}: no pricing rule or free reason for {', '.join(missing)}: add one to offline/cost.py")
    ctx = Context(graph, prices, assume)
    for resource in graph.resources:
        rule = RULES.get(resource.type)
        if rule is not None:
            rule(ctx, resource)
    return ctx.items


def total(items: Iterable[LineItem]) -> float:
    return round(sum(i.monthly_usd for i in items), 2)


def by_category(items: Iterable[LineItem]) -> dict[str, float]:
    out: dict[str, float] = {}
    for i in items:
        out[i.category] = round(out.get(i.category, 0.0) + i.monthly_usd, 2)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


# ------------------------------------------------------------------------------------------ report
@dataclass
class StackEstimate:
    stack: str
    region: str
    items: list[LineItem]

    @property
    def total(self) -> float:
        return total(self.items)


def estimates(graphs: Sequence[StackGraph], prices: PriceTable, assume: Assumptions) -> list[StackEstimate]:
    return [StackEstimate(g.stack, str(g.exports["region"]), estimate(g, prices, assume)) for g in graphs]


@dataclass
class PostureEstimate:
    """The secondary stack in one standby posture (components/posture.py), priced, beside its RTO budget."""

    posture: str
    estimate: StackEstimate
    rto_budget: Mapping[str, Any]
    """The graph's own `rtoBudget` export (components/rto.py): what the stack promises for that posture."""

    @property
    def takes_orders_seconds(self) -> int:
        return int(self.rto_budget["with_typical_promotion_seconds"])

    @property
    def full_capacity_seconds(self) -> int:
        return int(self.rto_budget["full_capacity_seconds"])


def posture_secondaries(primary: StackGraph) -> dict[str, StackGraph]:
    """The example secondary's mock graph in each posture (offline.runner.posture_overrides)."""
    return {posture: run_stack("secondary", overrides=posture_overrides(posture), peer_exports=primary.exports) for posture in POSTURES}


def posture_estimates(
    primary: StackGraph, prices: PriceTable, assume: Assumptions, secondaries: Mapping[str, StackGraph] | None = None
) -> list[PostureEstimate]:
    """The example secondary in each posture, from its own mock graph (`secondaries`: already built, by posture)."""
    graphs = posture_secondaries(primary) if secondaries is None else secondaries
    out = []
    for posture in POSTURES:
        graph = graphs[posture]
        budget = graph.exports["rtoBudget"]
        if budget.get("posture") != posture:
            raise ValueError(f"the {posture} secondary exports an rtoBudget for {budget.get('posture')!r}")
        out.append(PostureEstimate(posture, estimates([graph], prices, assume)[0], budget))
    return out


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def render_postures(postures: Sequence[PostureEstimate], primary: StackEstimate) -> str:
    """Each posture's itemised standby, then one comparison table: cost against the RTO each buys."""
    lines = ["", "Standby postures (magento-dr:standby.posture): the example secondary in each, priced from its own graph"]
    for p in postures:
        lines.append("")
        lines.append(f"{p.posture} ({p.estimate.region}): ${p.estimate.total:,.2f} / month — {describe(p.posture)}")  # type: ignore[arg-type]
        for category, usd in by_category(p.estimate.items).items():
            lines.append(f"  {category:<18} ${usd:>10,.2f}")
        lines.append("  items:")
        for i in sorted(p.estimate.items, key=lambda i: -i.monthly_usd):
            mark = "*" if i.estimated else " "
            lines.append(f"   {mark} ${i.monthly_usd:>9,.2f}  {i.item}  ({i.basis})")
    lines.append("")
    header = f"  {'posture':<12} {'standby / month':>16} {'of primary':>11} {'takes orders':>13} {'full capacity':>14}"
    lines += [header, "  " + "-" * (len(header) - 2)]
    for p in postures:
        share = p.estimate.total / primary.total if primary.total else 0.0
        lines.append(
            f"  {p.posture:<12} ${p.estimate.total:>15,.2f} {share:>11.0%} {_minutes(p.takes_orders_seconds):>13} {_minutes(p.full_capacity_seconds):>14}"
        )
    lines.append(
        "  (takes orders / full capacity: each graph's rtoBudget, worst case from the primary going dark, with AWS's typical "
        "Aurora promotion; a pilot light adds its DB instance, an estimate AWS does not publish)"
    )
    return "\n".join(lines)


def postures_svg(postures: Sequence[PostureEstimate], primary: StackEstimate) -> str:
    """Cost against RTO budget, one point per posture, the primary's cost as a reference line."""
    left, top, width, height = 80, 40, 560, 300
    max_usd = max([primary.total, *(p.estimate.total for p in postures)]) * 1.15 or 1.0
    max_s = max(p.takes_orders_seconds for p in postures) * 1.2 or 1.0
    x = lambda s: left + width * s / max_s  # noqa: E731 - local scale
    y = lambda usd: top + height - height * usd / max_usd  # noqa: E731 - local scale
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 40}" height="{top + height + 70}" font-family="sans-serif" font-size="12">',
        "<title>magento-dr: standby cost against RTO budget, per posture</title>",
        '<text x="10" y="20" font-size="15" font-weight="bold">Standby cost a month against the RTO it buys (make cost)</text>',
        f'<line x1="{left}" y1="{top + height}" x2="{left + width}" y2="{top + height}" stroke="#000"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + height}" stroke="#000"/>',
        f'<line x1="{left}" y1="{y(primary.total):.1f}" x2="{left + width}" y2="{y(primary.total):.1f}" stroke="#999" stroke-dasharray="4,3"/>',
        f'<text x="{left + width - 4}" y="{y(primary.total) - 5:.1f}" text-anchor="end" fill="#555">primary ${primary.total:,.0f}</text>',
    ]
    for step in range(0, int(max_s) + 1, 300):
        out.append(f'<text x="{x(step):.1f}" y="{top + height + 16}" text-anchor="middle">{step // 60}m</text>')
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        usd = max_usd * frac
        out.append(f'<text x="{left - 6}" y="{y(usd) + 4:.1f}" text-anchor="end">${usd:,.0f}</text>')
    for p in postures:
        cx, cy = x(p.takes_orders_seconds), y(p.estimate.total)
        out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="#2b6cb0"><title>{p.posture}: ${p.estimate.total:,.2f}/month, '
                   f"takes orders within {_minutes(p.takes_orders_seconds)}</title></circle>")
        out.append(f'<text x="{cx + 9:.1f}" y="{cy - 8:.1f}">{p.posture}: ${p.estimate.total:,.0f}, {_minutes(p.takes_orders_seconds)}</text>')
    axis = "RTO budget: primary dark → shop takes orders (worst case, typical promotion)"
    out.append(f'<text x="{left + width / 2:.0f}" y="{top + height + 36}" text-anchor="middle">{axis}</text>')
    out.append(f'<text x="{left}" y="{top + height + 56}" fill="#555">standby = the secondary stack; monthly On-Demand USD from offline/prices.json</text>')
    out.append("</svg>")
    return "\n".join(out)


def render(results: Sequence[StackEstimate], prices: PriceTable, assume: Assumptions) -> str:
    lines = [f"Monthly estimate, On-Demand USD, prices as of {prices.as_of} (offline/prices.json); * = estimated price (see the table)"]
    for r in results:
        lines.append("")
        lines.append(f"{r.stack} ({r.region}): ${r.total:,.2f} / month")
        for category, usd in by_category(r.items).items():
            lines.append(f"  {category:<18} ${usd:>10,.2f}")
        lines.append("  items:")
        for i in sorted(r.items, key=lambda i: -i.monthly_usd):
            mark = "*" if i.estimated else " "
            lines.append(f"   {mark} ${i.monthly_usd:>9,.2f}  {i.item}  ({i.basis})")
    primary = next((r for r in results if r.stack == "primary"), None)
    if primary and primary.total:
        lines.append("")
        for r in results:
            if r is not primary:
                lines.append(f"{r.stack}: {r.total / primary.total:.0%} of the primary's cost")
    lines.append("")
    lines.append("assumptions (monthly; --assumptions FILE to change): " + ", ".join(f"{k}={v:g}" for k, v in dataclasses.asdict(assume).items()))
    return "\n".join(lines)


def postures_json(postures: Sequence[PostureEstimate], primary: StackEstimate) -> list[dict[str, Any]]:
    return [
        {
            "posture": p.posture,
            "monthly_usd": p.estimate.total,
            "share_of_primary": round(p.estimate.total / primary.total, 4) if primary.total else None,
            "takes_orders_seconds": p.takes_orders_seconds,
            "full_capacity_seconds": p.full_capacity_seconds,
            "rto_budget": dict(p.rto_budget),
            "by_category": by_category(p.estimate.items),
            "items": [dataclasses.asdict(i) for i in p.estimate.items],
        }
        for p in postures
    ]


def as_json(results: Sequence[StackEstimate], prices: PriceTable, assume: Assumptions) -> dict[str, Any]:
    primary = next((r for r in results if r.stack == "primary"), None)
    return {
        "prices_as_of": prices.as_of,
        "currency": "USD",
        "assumptions": dataclasses.asdict(assume),
        "stacks": [
            {
                "stack": r.stack,
                "region": r.region,
                "monthly_usd": r.total,
                "share_of_primary": None if not primary or not primary.total else round(r.total / primary.total, 4),
                "by_category": by_category(r.items),
                "items": [dataclasses.asdict(i) for i in r.items],
            }
            for r in results
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON (for CI) instead of the tables")
    parser.add_argument("--assumptions", type=Path, help="YAML file overriding usage assumptions (names as printed)")
    parser.add_argument("--chart", type=Path, default=Path("reports/cost-postures.svg"), help="where to write the cost/RTO chart")
    args = parser.parse_args(argv)
    assume = Assumptions.load(args.assumptions)
    prices = PriceTable.load()
    primary, secondary = run_pair()
    results = estimates([primary, secondary, run_database_standby(primary)], prices, assume)
    postures = posture_estimates(primary, prices, assume)
    args.chart.parent.mkdir(parents=True, exist_ok=True)
    args.chart.write_text(postures_svg(postures, results[0]) + "\n")
    if args.json:
        json.dump({**as_json(results, prices, assume), "postures": postures_json(postures, results[0]), "chart": str(args.chart)}, sys.stdout, indent=1)
        print()
    else:
        print(render(results, prices, assume) + render_postures(postures, results[0]))
        print(f"\nchart: {args.chart}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
