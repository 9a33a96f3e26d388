"""The drill's view of the two deployed stacks: what the emulator world is built from (pure).

`build_topology(primary, secondary)` reads two `StackGraph`s (offline/runner.py)
and returns names, ids and settings exactly as the stacks declare them: the
failover function's environment, the Aurora global database, the Auto Scaling
group, the SSM parameters, the topic, the cache datastore, the Route 53 health
checks, the writer alarm and the failover record pair, and the exported
`rtoBudget`. Nothing here is invented: a resource the drill needs but the graph
lacks raises `TopologyError` naming it.

Optionally, the graphs of database standbys (`magento-dr:scope: database`, e.g.
examples/Pulumi.bunker.yaml): a further secondary cluster of the same global
database in a third region, with no function, web tier or Route 53 records. The
drill seeds each one as a member of the global cluster and checks that it is
never promoted and ends connected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .accelerator import T_ENDPOINT_GROUP, AcceleratorTopology, accelerator_topology

# Type tokens of the resources the drill reads (one place).
T_FUNCTION = "aws:lambda/function:Function"
# The readiness function's entry point (components/readiness.py READINESS_ENTRY_POINT).
READINESS_HANDLER = "handlers.failover.readiness_handler"
T_SCHEDULE = "aws:scheduler/schedule:Schedule"
T_GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
T_CLUSTER = "aws:rds/cluster:Cluster"
T_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
T_ASG = "aws:autoscaling/group:Group"
T_SSM_PARAMETER = "aws:ssm/parameter:Parameter"
T_SSM_DOCUMENT = "aws:ssm/document:Document"
T_TOPIC = "aws:sns/topic:Topic"
T_REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
T_GLOBAL_DATASTORE = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
T_HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
T_RECORD = "aws:route53/record:Record"
T_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
T_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
T_CLUSTER_PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
T_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
T_SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 - a type token
T_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


class GraphLike(Protocol):
    """The parts of offline.runner.StackGraph the drill reads."""

    stack: str
    exports: dict[str, Any]

    def of_type(self, token: str) -> list[Any]: ...


class TopologyError(ValueError):
    """The stacks' graphs lack something the drill needs; the message names it."""


@dataclass(frozen=True)
class HttpsCheck:
    """Route 53 HTTPS health check of a regional hostname (`inverted`: reports healthy while it fails)."""

    health_check_id: str
    fqdn: str
    path: str
    interval_seconds: int
    failure_threshold: int
    inverted: bool = False
    target_region: str = ""


@dataclass(frozen=True)
class WriterAlarm:
    """The CloudWatch alarm behind the Route 53 CLOUDWATCH_METRIC (writer) check."""

    health_check_id: str
    name: str
    namespace: str
    metric_name: str
    dimensions: Mapping[str, str]
    statistic: str
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing_data: str
    insufficient_data_health: str


@dataclass(frozen=True)
class HealthCheckSpec:
    """One Route 53 health check as the stack declares it; `children` are keys of the same stack's checks."""

    key: str
    kind: str  # HTTPS | CLOUDWATCH_METRIC | CALCULATED
    https: HttpsCheck | None = None
    alarm: WriterAlarm | None = None
    children: tuple[str, ...] = ()
    child_health_threshold: int = 1


@dataclass(frozen=True)
class ReadinessSpec:
    """The region's readiness function, its schedule and its not-ready alarm, as the stack declares them."""

    function_name: str
    env: Mapping[str, str]
    schedule_arn: str
    schedule_period_seconds: int
    schedule_input: str
    timeout_seconds: int
    alarm_name: str
    alarm_period_seconds: int
    alarm_evaluation_periods: int
    alarm_datapoints_to_alarm: int
    alarm_treat_missing_data: str
    # What the world must hold for its checks to read, as the stack declares it (drill/world.py seeds it).
    cluster_parameter_group: tuple[str, str, tuple[tuple[str, str], ...]] = ("", "", ())  # name, family, parameters
    instance_parameter_group: tuple[str, str, tuple[tuple[str, str], ...]] = ("", "", ())
    backup_retention_days: int = 1
    owned_secret: tuple[str, tuple[str, ...]] = ("", ())  # the credentials secret this stack owns (name, replica regions)
    release_parameter: tuple[str, str] = ("", "")  # name, initial value
    failover_reserved_concurrency: int = 0
    failover_schedule_state: str = "ENABLED"


@dataclass(frozen=True)
class DbInstance:
    """One DB instance of a cluster, as the stack declares it (an aws:rds/clusterInstance:ClusterInstance)."""

    identifier: str
    instance_class: str
    promotion_tier: int
    availability_zone: str
    parameter_group: str
    parameter_group_family: str


@dataclass(frozen=True)
class FailoverRecord:
    """One half of the Route 53 failover pair for the shop hostname."""

    name: str
    set_identifier: str
    failover_type: str  # PRIMARY | SECONDARY
    calculated_check_id: str
    check_key: str
    alias_target: str


@dataclass(frozen=True)
class RegionTopology:
    stack: str
    role: str
    region: str
    function_name: str
    function_env: Mapping[str, str]
    schedule_name: str
    schedule_arn: str
    schedule_period_seconds: int
    schedule_input: str
    cluster_id: str
    cluster_arn: str
    engine: str
    engine_version: str
    asg_name: str
    asg_min: int
    asg_desired: int
    asg_max: int
    asg_tags: Mapping[str, str]
    instance_type: str
    ssm_prefix: str
    ssm_parameters: Mapping[str, str]
    run_command_document: str
    run_command_content: str
    topic_arn: str
    cache_replication_group_id: str
    cache_engine: str
    regional_hostname: str
    https_check: HttpsCheck
    writer_alarm: WriterAlarm
    record: FailoverRecord
    health_checks: Mapping[str, HealthCheckSpec]
    rto_budget: Mapping[str, Any]
    #: Magento's full-page cache in the region (export fullPageCache): with "varnish" the post-failover
    #: document must also empty every Varnish of the region.
    full_page_cache: str = "redis"
    readiness: ReadinessSpec | None = None
    #: healthCheckIds as exported (kind -> the graph's id) and the check each kind names (kind -> key of health_checks).
    health_check_ids: Mapping[str, str] = field(default_factory=dict)
    health_check_kinds: Mapping[str, str] = field(default_factory=dict)
    #: The DB instances the stack declares in its cluster (none: a headless, pilot-light cluster).
    db_instances: tuple[DbInstance, ...] = ()

    @property
    def posture(self) -> str:
        """How this region stands by while the peer serves (magento-dr:standby.posture, as the function is told)."""
        return self.function_env.get("MDR_STANDBY_POSTURE", "warm")

    @property
    def active_parameter(self) -> str:
        return f"{self.ssm_prefix}/active"

    @property
    def rpo_seconds(self) -> float:
        return float(self.function_env.get("MDR_RPO_SECONDS", "60"))


@dataclass(frozen=True)
class StandbyTopology:
    """A database standby stack (scope: database): one more Aurora secondary cluster, nothing else."""

    stack: str
    region: str
    cluster_id: str
    cluster_arn: str
    engine: str
    engine_version: str
    db_instances: tuple[DbInstance, ...] = ()

    def summary(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "region": self.region,
            "role": "secondary",
            "scope": "database",
            "cluster_id": self.cluster_id,
            "cluster_arn": self.cluster_arn,
            "engine_version": self.engine_version,
        }


@dataclass(frozen=True)
class Topology:
    global_cluster_id: str
    global_engine: str
    global_engine_version: str
    database_name: str
    cache_global_datastore_id: str
    cache_global_suffix: str
    zone_id: str
    shop_hostname: str
    primary: RegionTopology
    secondary: RegionTopology
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: Further members of the global database with no shop tier (scope: database); never promoted by the functions.
    database_standbys: tuple[StandbyTopology, ...] = ()
    #: The optional accelerator (failover.globalAccelerator) with both shop stacks joined, else None.
    accelerator: AcceleratorTopology | None = None
    #: Every S3 replication rule either stack declares: (source bucket, rule id, status, RTC status, destination bucket ARN).
    replication_rules: tuple[tuple[str, str, str, str, str], ...] = ()
    #: The cache datastore's primary group as declared: encrypted at rest, in transit, with an AUTH token (members inherit the
    #: encryption; each keeps its own token, docs/aws-assumptions.md C2), and whether the standby's member declares its token.
    cache_encryption: tuple[bool, bool, bool] = (False, False, False)
    cache_member_auth: bool = False

    @property
    def regions(self) -> tuple[RegionTopology, RegionTopology]:
        return (self.primary, self.secondary)

    def by_region(self, region: str) -> RegionTopology:
        for r in self.regions:
            if r.region == region:
                return r
        raise KeyError(region)

    def summary(self) -> dict[str, Any]:
        """What the report shows of the topology (no secrets: none are read)."""
        return {
            "global_cluster_id": self.global_cluster_id,
            "engine_version": self.global_engine_version,
            "cache_global_datastore_id": self.cache_global_datastore_id,
            "shop_hostname": self.shop_hostname,
            "regions": {
                r.region: {
                    "stack": r.stack,
                    "role": r.role,
                    "function": r.function_name,
                    "cluster_id": r.cluster_id,
                    "asg": r.asg_name,
                    "asg_min_desired_max": [r.asg_min, r.asg_desired, r.asg_max],
                    "ssm_prefix": r.ssm_prefix,
                    "topic_arn": r.topic_arn,
                    "cache_replication_group_id": r.cache_replication_group_id,
                    "failover_record": f"{r.record.name} {r.record.failover_type}",
                    "mode": r.function_env.get("MDR_MODE", "notify"),
                    "full_page_cache": r.full_page_cache,
                    "posture": r.posture,
                    "db_instances": [i.identifier for i in r.db_instances],
                }
                for r in self.regions
            },
            "database_standbys": [sb.summary() for sb in self.database_standbys],
            **({"accelerator": self.accelerator.summary()} if self.accelerator is not None else {}),
        }


# ---------------------------------------------------------------------------- helpers
def _one(graph: GraphLike, token: str, what: str) -> Any:
    found = graph.of_type(token)
    if len(found) != 1:
        raise TopologyError(f"stack {graph.stack}: expected exactly one {token} ({what}), found {len(found)}")
    return found[0]


def _value(resource: Any, key: str) -> Any:
    """A resource attribute: its declared input, else what the (mock) cloud computed."""
    if key in resource.inputs:
        return resource.inputs[key]
    if key in resource.outputs:
        return resource.outputs[key]
    raise TopologyError(f"{resource.type} {resource.name} has no {key!r}")


def _secret_free(value: Any) -> Any:
    # Pulumi secrets come back from the mock runner as {"<sig>": ..., "value": ...}.
    if isinstance(value, dict) and "value" in value and len(value) == 2:
        return value["value"]
    return value


def _named(graph: GraphLike, token: str, key: str, value: str, what: str) -> Any:
    """The resource of this type whose `key` attribute is `value` (how the function's environment names it)."""
    found = [r for r in graph.of_type(token) if str(r.inputs.get(key, r.outputs.get(key, ""))) == value]
    if len(found) != 1:
        raise TopologyError(f"stack {graph.stack}: expected one {token} with {key}={value!r} ({what}), found {len(found)}")
    return found[0]


def _exports(graph: GraphLike, *keys: str) -> dict[str, Any]:
    missing = [k for k in keys if k not in graph.exports]
    if missing:
        raise TopologyError(f"stack {graph.stack} does not export {', '.join(missing)}")
    return {k: graph.exports[k] for k in keys}


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours)\)$")


def schedule_period_seconds(expression: str) -> int:
    """Seconds between runs of an EventBridge Scheduler `rate(...)` expression."""
    m = _RATE.match(expression.strip())
    if not m:
        raise TopologyError(f"schedule expression {expression!r}: the drill understands rate(N minute[s]|hour[s]) only")
    n = int(m.group(1))
    return n * (60 if m.group(2).startswith("minute") else 3600)


def _db_instances(graph: GraphLike, cluster_id: str) -> tuple[DbInstance, ...]:
    """The cluster's instances as the stack declares them, with their parameter group's family (to seed it)."""
    families = {str(g.inputs.get("name", g.outputs.get("name", ""))): str(g.inputs.get("family", "")) for g in graph.of_type(T_PARAMETER_GROUP)}
    found = [i for i in graph.of_type(T_CLUSTER_INSTANCE) if str(i.inputs.get("clusterIdentifier", "")) == cluster_id]
    return tuple(
        DbInstance(
            identifier=str(_value(i, "identifier")),
            instance_class=str(_value(i, "instanceClass")),
            promotion_tier=int(float(i.inputs.get("promotionTier", 0) or 0)),
            availability_zone=str(i.inputs.get("availabilityZone", "") or ""),
            parameter_group=str(i.inputs.get("dbParameterGroupName", "") or ""),
            parameter_group_family=families.get(str(i.inputs.get("dbParameterGroupName", "") or ""), ""),
        )
        for i in sorted(found, key=lambda i: str(_value(i, "identifier")))
    )


def _writer_alarm(graph: GraphLike, health_checks: list[Any]) -> WriterAlarm:
    check = next((h for h in health_checks if h.inputs.get("type") == "CLOUDWATCH_METRIC"), None)
    if check is None:
        raise TopologyError(f"stack {graph.stack}: no CLOUDWATCH_METRIC (writer) Route 53 health check")
    return _alarm_of(graph, check)


def _alarm_of(graph: GraphLike, check: Any) -> WriterAlarm:
    alarm_name = check.inputs.get("cloudwatchAlarmName")
    alarm = next((a for a in graph.of_type(T_ALARM) if a.inputs.get("name") == alarm_name), None)
    if alarm is None:
        raise TopologyError(f"stack {graph.stack}: writer health check watches alarm {alarm_name!r}, which the stack lacks")
    ins = alarm.inputs
    evaluation = int(ins.get("evaluationPeriods", 1))
    return WriterAlarm(
        health_check_id="",
        name=str(alarm_name),
        namespace=str(ins["namespace"]),
        metric_name=str(ins["metricName"]),
        dimensions={str(k): str(v) for k, v in (ins.get("dimensions") or {}).items()},
        statistic=str(ins.get("statistic", "Maximum")),
        period_seconds=int(ins["period"]),
        evaluation_periods=evaluation,
        datapoints_to_alarm=int(ins.get("datapointsToAlarm", evaluation)),
        threshold=float(ins["threshold"]),
        comparison=str(ins["comparisonOperator"]),
        treat_missing_data=str(ins.get("treatMissingData", "missing")),
        insufficient_data_health=str(check.inputs.get("insufficientDataHealthStatus", "LastKnownStatus")),
    )


def _region(graph: GraphLike) -> RegionTopology:
    ex = _exports(
        graph,
        "role",
        "region",
        "ssmPrefix",
        "regionalHostname",
        "healthCheckIds",
        "rtoBudget",
        "notificationTopicArn",
        "cacheReplicationGroupId",
        "failoverFunctionName",
        "fullPageCache",
    )
    region = str(ex["region"])
    fn = _named(graph, T_FUNCTION, "name", str(ex["failoverFunctionName"]), "the failover function (failoverFunctionName)")
    env = {str(k): str(v) for k, v in ((fn.inputs.get("environment") or {}).get("variables") or {}).items()}
    if not env:
        raise TopologyError(f"stack {graph.stack}: the failover function declares no environment variables")
    schedule = _target_of(graph, fn, "the failover function's schedule")

    def env_name(variable: str) -> str:
        if not env.get(variable):
            raise TopologyError(f"{fn.name}: environment lacks {variable}")
        return env[variable]

    cluster = _named(graph, T_CLUSTER, "clusterIdentifier", env_name("MDR_LOCAL_CLUSTER_ID"), "MDR_LOCAL_CLUSTER_ID")
    asg = _named(graph, T_ASG, "name", env_name("MDR_ASG_NAME"), "MDR_ASG_NAME")
    template = _one(graph, T_LAUNCH_TEMPLATE, "the web launch template")
    document = _named(graph, T_SSM_DOCUMENT, "name", env_name("MDR_RUN_COMMAND_DOCUMENT"), "MDR_RUN_COMMAND_DOCUMENT")
    group = _named(graph, T_REPLICATION_GROUP, "replicationGroupId", env_name("MDR_CACHE_REPLICATION_GROUP_ID"), "MDR_CACHE_REPLICATION_GROUP_ID")
    checks = graph.of_type(T_HEALTH_CHECK)
    alarm = _writer_alarm(graph, checks)
    ids = {str(k): str(v) for k, v in ex["healthCheckIds"].items()}
    alarm = WriterAlarm(**{**alarm.__dict__, "health_check_id": ids.get("writer", alarm.health_check_id)})
    https = next(
        (h for h in checks if h.inputs.get("type") == "HTTPS" and h.inputs.get("fqdn") == ex["regionalHostname"] and not h.inputs.get("invertHealthcheck")),
        None,
    )
    if https is None:
        raise TopologyError(f"stack {graph.stack}: no HTTPS Route 53 health check of {ex['regionalHostname']}")
    records = [r for r in graph.of_type(T_RECORD) if r.inputs.get("failoverRoutingPolicies")]
    if len(records) != 1:
        raise TopologyError(f"stack {graph.stack}: expected one failover record, found {len(records)}")
    record = records[0]
    by_urn = {h.urn: h for h in checks}
    on_record = [by_urn[d] for d in record.dependencies if d in by_urn]
    if len(on_record) != 1:
        raise TopologyError(f"stack {graph.stack}: the failover record {record.name} should carry one health check, found {len(on_record)}")
    specs = {h.name: _check_spec(graph, h, by_urn) for h in checks}
    inverted = [h.name for h in checks if h.inputs.get("type") == "HTTPS" and h.inputs.get("invertHealthcheck")]
    metric = [h.name for h in checks if h.inputs.get("type") == "CLOUDWATCH_METRIC"]
    kinds = {"https": https.name, "writer": metric[0], "calculated": on_record[0].name, **({"peer_down": inverted[0]} if inverted else {})}
    if set(kinds) != set(ids):
        raise TopologyError(f"stack {graph.stack}: healthCheckIds exports {sorted(ids)}, the graph has checks for {sorted(kinds)}")
    aliases = record.inputs.get("aliases") or [{}]
    params = {
        str(p.inputs["name"]): str(_secret_free(p.inputs.get("insecureValue", p.inputs.get("value", ""))))
        for p in graph.of_type(T_SSM_PARAMETER)
        if str(p.inputs.get("name", "")).startswith(str(ex["ssmPrefix"]) + "/")
    }
    tags = {str(t["key"]): str(t["value"]) for t in asg.inputs.get("tags") or [] if t.get("propagateAtLaunch")}
    topic = _named(graph, T_TOPIC, "arn", env_name("MDR_TOPIC_ARN"), "MDR_TOPIC_ARN")
    return RegionTopology(
        stack=graph.stack,
        role=str(ex["role"]),
        region=region,
        function_name=str(_value(fn, "name")),
        function_env=env,
        schedule_name=str(_value(schedule, "name")),
        schedule_arn=str(schedule.outputs.get("arn", "")),
        schedule_period_seconds=schedule_period_seconds(str(_value(schedule, "scheduleExpression"))),
        schedule_input=str(schedule.inputs["target"]["input"]),
        cluster_id=str(_value(cluster, "clusterIdentifier")),
        cluster_arn=str(_value(cluster, "arn")),
        engine=str(_value(cluster, "engine")),
        engine_version=str(_value(cluster, "engineVersion")),
        asg_name=str(_value(asg, "name")),
        asg_min=int(_value(asg, "minSize")),
        asg_desired=int(_value(asg, "desiredCapacity")),
        asg_max=int(_value(asg, "maxSize")),
        asg_tags=tags,
        instance_type=str(template.inputs.get("instanceType", "t3.micro")),
        ssm_prefix=str(ex["ssmPrefix"]),
        ssm_parameters=params,
        run_command_document=str(_value(document, "name")),
        run_command_content=str(_value(document, "content")),
        topic_arn=str(_value(topic, "arn")),
        cache_replication_group_id=str(_value(group, "replicationGroupId")),
        cache_engine=str(group.inputs.get("engine", "redis")),
        regional_hostname=str(ex["regionalHostname"]),
        https_check=_https(https, ids.get("https", "")),
        writer_alarm=alarm,
        record=FailoverRecord(
            name=str(_value(record, "name")),
            set_identifier=str(record.inputs.get("setIdentifier", "")),
            failover_type=str(record.inputs["failoverRoutingPolicies"][0]["type"]),
            calculated_check_id=str(record.inputs.get("healthCheckId", "")),
            check_key=on_record[0].name,
            alias_target=str(aliases[0].get("name", "")),
        ),
        health_checks=specs,
        rto_budget=dict(ex["rtoBudget"]),
        full_page_cache=str(ex["fullPageCache"]),
        readiness=_readiness(graph),
        health_check_ids=ids,
        health_check_kinds=kinds,
        db_instances=_db_instances(graph, str(_value(cluster, "clusterIdentifier"))),
    )


def _target_of(graph: GraphLike, function: Any, what: str) -> Any:
    """The one schedule whose target is `function` (a stack has one per function: failover, readiness)."""
    arn = function.outputs.get("arn", "")
    found = [s for s in graph.of_type(T_SCHEDULE) if (s.inputs.get("target") or {}).get("arn") == arn]
    if len(found) != 1:
        raise TopologyError(f"stack {graph.stack}: expected one {T_SCHEDULE} targeting {function.name} ({what}), found {len(found)}")
    return found[0]


def _readiness(graph: GraphLike) -> ReadinessSpec | None:
    """The readiness function (handlers.failover.readiness_handler), its schedule and the not-ready alarm; None without one."""
    fns = [f for f in graph.of_type(T_FUNCTION) if f.inputs.get("handler") == READINESS_HANDLER]
    if not fns:
        return None
    fn = fns[0]
    schedule = _target_of(graph, fn, "the readiness schedule")
    env = {str(k): str(v) for k, v in ((fn.inputs.get("environment") or {}).get("variables") or {}).items()}
    alarms = [a for a in graph.of_type(T_ALARM) if a.inputs.get("metricName") == "Ready" and (a.inputs.get("dimensions") or {}).get("Stack") == graph.stack]
    if len(alarms) != 1:
        raise TopologyError(f"stack {graph.stack}: expected one not-ready alarm on the Ready metric, found {len(alarms)}")
    a = alarms[0].inputs
    evaluation = int(a.get("evaluationPeriods", 1))

    def group(token: str, env_name: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        pg = _named(graph, token, "name", env.get(env_name, ""), env_name)
        params = tuple(sorted((str(p["name"]), str(p["value"])) for p in pg.inputs.get("parameters") or []))
        return (str(_value(pg, "name")), str(pg.inputs.get("family", "")), params)

    cluster = _named(graph, T_CLUSTER, "clusterIdentifier", env.get("MDR_LOCAL_CLUSTER_ID", ""), "MDR_LOCAL_CLUSTER_ID")
    owned = [x for x in graph.of_type(T_SECRET) if str(x.outputs.get("arn", "")) == env.get("MDR_DB_SECRET_ARN")]
    release = [p for p in graph.of_type(T_SSM_PARAMETER) if p.inputs.get("name") == env.get("MDR_RELEASE_PARAMETER")]
    failover = [f for f in graph.of_type(T_FUNCTION) if f.inputs.get("name") == env.get("MDR_FAILOVER_FUNCTION")]
    failover_schedule = [x for x in graph.of_type(T_SCHEDULE) if x.inputs.get("name") == env.get("MDR_FAILOVER_SCHEDULE")]
    if len(failover) != 1 or len(failover_schedule) != 1:
        raise TopologyError(f"stack {graph.stack}: the readiness function names {env.get('MDR_FAILOVER_FUNCTION')!r} and "
                            f"{env.get('MDR_FAILOVER_SCHEDULE')!r}, which the stack does not declare once each")
    return ReadinessSpec(
        function_name=str(_value(fn, "name")),
        env=env,
        schedule_arn=str(schedule.outputs.get("arn", "")),
        schedule_period_seconds=schedule_period_seconds(str(_value(schedule, "scheduleExpression"))),
        schedule_input=str(schedule.inputs["target"]["input"]),
        timeout_seconds=int(float(fn.inputs.get("timeout", 3))),  # Lambda's default timeout is 3 s
        alarm_name=str(a.get("name", "")),
        alarm_period_seconds=int(a["period"]),
        alarm_evaluation_periods=evaluation,
        alarm_datapoints_to_alarm=int(a.get("datapointsToAlarm", evaluation)),
        alarm_treat_missing_data=str(a.get("treatMissingData", "missing")),
        cluster_parameter_group=group(T_CLUSTER_PARAMETER_GROUP, "MDR_DB_CLUSTER_PARAMETER_GROUP"),
        instance_parameter_group=group(T_PARAMETER_GROUP, "MDR_DB_INSTANCE_PARAMETER_GROUP"),
        backup_retention_days=int(float(cluster.inputs.get("backupRetentionPeriod", 1))),
        owned_secret=(str(owned[0].inputs["name"]), tuple(str(r["region"]) for r in owned[0].inputs.get("replicas") or [])) if owned else ("", ()),
        release_parameter=(str(release[0].inputs["name"]), str(_secret_free(release[0].inputs.get("insecureValue", "")))) if release else ("", ""),
        failover_reserved_concurrency=int(float(failover[0].inputs.get("reservedConcurrentExecutions", 0) or 0)),
        failover_schedule_state=str(failover_schedule[0].inputs.get("state") or "ENABLED"),  # the provider's default
    )


def _https(check: Any, health_check_id: str) -> HttpsCheck:
    fqdn = str(_value(check, "fqdn"))
    return HttpsCheck(
        health_check_id=health_check_id,
        fqdn=fqdn,
        path=str(check.inputs.get("resourcePath", "/")),
        interval_seconds=int(check.inputs.get("requestInterval", 30)),
        failure_threshold=int(check.inputs.get("failureThreshold", 3)),
        inverted=bool(check.inputs.get("invertHealthcheck", False)),
        target_region=fqdn.split(".", 1)[0],  # components/naming.py regional_hostname: <region>.<shop>
    )


def _check_spec(graph: GraphLike, check: Any, by_urn: Mapping[str, Any]) -> HealthCheckSpec:
    kind = str(check.inputs.get("type"))
    if kind == "HTTPS":
        return HealthCheckSpec(check.name, kind, https=_https(check, ""))
    if kind == "CLOUDWATCH_METRIC":
        return HealthCheckSpec(check.name, kind, alarm=_alarm_of(graph, check))
    if kind == "CALCULATED":
        children = tuple(by_urn[d].name for d in check.dependencies if d in by_urn)
        declared = check.inputs.get("childHealthchecks", [])
        if len(children) != len(declared):
            raise TopologyError(f"stack {graph.stack}: {check.name} has {len(declared)} children, {len(children)} of them in this stack")
        return HealthCheckSpec(check.name, kind, children=children, child_health_threshold=int(check.inputs.get("childHealthThreshold", 1)))
    raise TopologyError(f"stack {graph.stack}: health check {check.name} of type {kind} is not modelled by the drill")


def _database_standby(graph: GraphLike, global_cluster_id: str, global_engine: str) -> StandbyTopology:
    """A database standby's graph → its cluster, checked against the primary's global database."""
    ex = _exports(graph, "role", "scope", "region", "globalClusterId", "dbClusterId", "dbClusterArn")
    if ex["role"] != "secondary" or ex["scope"] != "database":
        raise TopologyError(
            f"stack {graph.stack} is not a database standby: it exports role {ex['role']!r}, scope {ex['scope']!r} "
            "(expected role 'secondary', scope 'database')"
        )
    region = str(ex["region"])
    if ex["globalClusterId"] != global_cluster_id:
        raise TopologyError(f"stack {graph.stack}: exports globalClusterId {ex['globalClusterId']!r}, not the primary's global cluster {global_cluster_id!r}")
    cluster = _named(graph, T_CLUSTER, "clusterIdentifier", str(ex["dbClusterId"]), "the dbClusterId export")
    joined = str(cluster.inputs.get("globalClusterIdentifier") or "")
    if joined != global_cluster_id:
        where = f"joins global cluster {joined!r}" if joined else "joins no global cluster (globalClusterIdentifier unset)"
        raise TopologyError(f"stack {graph.stack}: cluster {ex['dbClusterId']} {where}, not the primary's global cluster {global_cluster_id!r}")
    arn = str(_value(cluster, "arn"))
    if arn != str(ex["dbClusterArn"]):
        raise TopologyError(f"stack {graph.stack}: exports dbClusterArn {ex['dbClusterArn']!r}, its cluster's ARN is {arn!r}")
    arn_region = arn.split(":")[3] if arn.count(":") >= 5 else ""
    if arn_region != region:
        raise TopologyError(f"stack {graph.stack}: exports region {region!r}, its cluster {arn} is in {arn_region!r}")
    engine = str(_value(cluster, "engine"))
    if engine != global_engine:
        raise TopologyError(
            f"stack {graph.stack}: cluster {ex['dbClusterId']} runs {engine!r}, the global cluster {global_cluster_id!r} runs {global_engine!r}"
        )
    return StandbyTopology(
        stack=graph.stack,
        region=region,
        cluster_id=str(_value(cluster, "clusterIdentifier")),
        cluster_arn=arn,
        engine=engine,
        engine_version=str(_value(cluster, "engineVersion")),
        db_instances=_db_instances(graph, str(_value(cluster, "clusterIdentifier"))),
    )


def build_topology(primary: GraphLike, secondary: GraphLike, database_standbys: Sequence[GraphLike] = ()) -> Topology:
    """The stacks' graphs → the drill's topology; raises TopologyError naming what is missing.

    `database_standbys`: graphs of scope-database stacks (optional), each a further
    member of the primary's global cluster in a region of its own.
    """
    p, s = _region(primary), _region(secondary)
    if p.role != "primary" or s.role != "secondary":
        raise TopologyError(f"stack roles are {p.role}/{s.role}; pass the primary stack's graph first")
    gc = _one(primary, T_GLOBAL_CLUSTER, "the Aurora global database")
    gid = str(_value(gc, "globalClusterIdentifier"))
    for r in (p, s):
        if r.function_env.get("MDR_GLOBAL_CLUSTER_ID") != gid:
            raise TopologyError(f"{r.function_name}: MDR_GLOBAL_CLUSTER_ID is not the global cluster {gid}")
    ds = _one(primary, T_GLOBAL_DATASTORE, "the ElastiCache Global Datastore")
    zones = {str(rec.inputs.get("zoneId")) for g in (primary, secondary) for rec in g.of_type(T_RECORD) if rec.inputs.get("failoverRoutingPolicies")}
    if len(zones) != 1:
        raise TopologyError(f"the failover pair spans {len(zones)} hosted zones; expected one")
    if p.record.name != s.record.name:
        raise TopologyError(f"failover records name {p.record.name} and {s.record.name}; they must be one name")
    notes = []
    for r in (p, s):
        if "MDR_PEER_SSM_PREFIX" not in r.function_env:
            notes.append(f"{r.function_name}: MDR_PEER_SSM_PREFIX unset (the peer fences itself)")
    global_engine = str(_value(gc, "engine"))
    global_version = str(_value(gc, "engineVersion"))
    standbys: list[StandbyTopology] = []
    taken = {p.region: f"the primary stack ({p.stack})", s.region: f"the secondary stack ({s.stack})"}
    for graph in database_standbys:
        sb = _database_standby(graph, gid, global_engine)
        if sb.region in taken:
            raise TopologyError(f"database standby {sb.stack}: region {sb.region} is already used by {taken[sb.region]}; a standby needs a region of its own")
        taken[sb.region] = f"the database standby {sb.stack}"
        if sb.engine_version != global_version:
            notes.append(f"database standby {sb.stack}: engine version {sb.engine_version}, the global cluster declares {global_version}")
        standbys.append(sb)
    accelerator = None
    if secondary.of_type(T_ENDPOINT_GROUP) or not primary.of_type(T_ENDPOINT_GROUP):
        reaction = budget_term(s.rto_budget, "accelerator")
        accelerator = accelerator_topology(primary, secondary, reaction if reaction is not None else 0.0)
        if accelerator is not None and reaction is None:
            raise TopologyError(f"stack {secondary.stack} joins the accelerator but its rtoBudget has no 'accelerator' term")
    else:
        notes.append(f"{primary.stack} has the accelerator but {secondary.stack} has not joined it yet: the drill plays Route 53 alone")
    rules = tuple(
        (str(c.inputs.get("bucket", "")), str(rule.get("id", "")), str(rule.get("status", "")),
         str(((rule.get("destination") or {}).get("replicationTime") or {}).get("status", "")), str((rule.get("destination") or {}).get("bucket", "")))
        for g in (primary, secondary)
        for c in g.of_type(T_REPLICATION)
        for rule in c.inputs.get("rules") or []
    )
    group = _named(primary, T_REPLICATION_GROUP, "replicationGroupId", p.cache_replication_group_id, "the primary's cache group")
    member = _named(secondary, T_REPLICATION_GROUP, "replicationGroupId", s.cache_replication_group_id, "the standby's cache group")
    return Topology(
        cache_member_auth=bool(member.inputs.get("authToken")),
        replication_rules=rules,
        cache_encryption=(bool(group.inputs.get("atRestEncryptionEnabled")), bool(group.inputs.get("transitEncryptionEnabled")),
                          bool(group.inputs.get("authToken"))),
        global_cluster_id=gid,
        global_engine=global_engine,
        global_engine_version=global_version,
        database_name=str(gc.inputs.get("databaseName", "")),
        cache_global_datastore_id=str(_value(ds, "globalReplicationGroupId")),
        cache_global_suffix=str(_value(ds, "globalReplicationGroupIdSuffix")),
        zone_id=zones.pop(),
        shop_hostname=p.record.name.rstrip("."),
        primary=p,
        secondary=s,
        notes=tuple(notes),
        database_standbys=tuple(standbys),
        accelerator=accelerator,
    )


def budget_term(budget: Mapping[str, Any], name: str) -> float | None:
    """The seconds of one named term of an exported rtoBudget (None when it has no such term)."""
    for terms in (budget.get("breakdown") or {}).values():
        for term in terms:
            if term.get("name") == name:
                return float(term["seconds"])
    return None


def scheduler_event(region: RegionTopology, scheduled_time: str, execution_id: str, attempt: int = 1) -> dict[str, Any]:
    """The event EventBridge Scheduler delivers: the schedule's target input with its context attributes filled in."""
    raw = (
        region.schedule_input.replace("<aws.scheduler.schedule-arn>", region.schedule_arn)
        .replace("<aws.scheduler.scheduled-time>", scheduled_time)
        .replace("<aws.scheduler.execution-id>", execution_id)
        .replace("<aws.scheduler.attempt-number>", str(attempt))
    )
    event: dict[str, Any] = json.loads(raw)
    return event
