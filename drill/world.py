"""Seed the embedded AWS emulator (moto server on loopback + emulator/) from a Topology.

Everything the failover handler touches is created with the stacks' own names,
ids and settings: the Aurora global database (writer in the primary region),
both clusters and any database standby's cluster (a further member in its own
region, nothing else there), the cache Global Datastore, launch templates and Auto Scaling
groups (whose instances carry the Run Command tag), the SSM runtime parameters
and post-failover document, the topics, the writer alarms and the Route 53 zone,
health checks and failover records. What the emulator cannot take from the
graph (moto assigns Route 53 ids; an AMI; a master password) is listed in
`World.substitutions` and printed in the report.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

import emulator
from emulator import sqs as emulator_sqs
from emulator.health import HealthEndpoints

from .topology import DbInstance, RegionTopology, Topology

ACCOUNT_ID = "123456789012"  # moto's default account; offline/mocks.py uses the same
MOTO_AMI = "ami-12c6146b"  # one of moto's built-in AMIs (the stacks resolve theirs at deploy time)
DRILL_INBOX = "magento-dr-drill-inbox"

# Process environment while the drill runs: every boto3 client (the handler's
# included) goes to the loopback emulator, never to a real account.
_SAFE_ENV = {
    "AWS_ACCESS_KEY_ID": "drill",
    "AWS_SECRET_ACCESS_KEY": "drill",
    "AWS_SESSION_TOKEN": "drill",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


#: The drill's own clients when moto runs in this process (World.client).
_IN_PROCESS_CLIENTS: dict[tuple[str, str], Any] = {}


class WorldError(RuntimeError):
    """The emulator did not accept the stacks' topology as declared; the message says what differs."""


@dataclass
class Substitution:
    variable: str
    graph: str
    drill: str
    why: str

    def to_dict(self) -> dict[str, str]:
        return {"variable": self.variable, "graph": self.graph, "drill": self.drill, "why": self.why}


@dataclass
class World:
    """A running emulator seeded from a Topology; `env(region)` is the function's environment in it."""

    topology: Topology
    #: The moto server's URL; None when moto runs in this process (`transport="in-process"`).
    endpoint_url: str | None
    health: HealthEndpoints
    server: Any
    inbox_urls: dict[str, str] = field(default_factory=dict)
    #: region -> how many messages had been sent to its inbox when the drill last emptied it (emulator/sqs.py).
    inbox_drained: dict[str, int] = field(default_factory=dict)
    route53_ids: dict[str, str] = field(default_factory=dict)
    #: The credentials secret's ARNs as the graph names them -> as moto made them (random suffixes differ).
    secret_arns: dict[str, str] = field(default_factory=dict)
    substitutions: list[Substitution] = field(default_factory=list)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    _session: Any = None

    def client(self, service: str, region: str) -> Any:
        """A drill-side client (the observer's own; the handler makes its own)."""
        key = (service, region)
        # In-process, moto answers a client whichever world is running: the drill's own clients serve every world (they
        # keep no state between calls: one attempt, no retry quota), sparing each drill their creation.
        clients = _IN_PROCESS_CLIENTS if self.endpoint_url is None else self._clients
        if key not in clients:
            cfg = Config(region_name=region, retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=10)
            if self._session is None:
                self._session = boto3.session.Session()  # one session: its loader parses each service model once
            clients[key] = self._session.client(service, endpoint_url=self.endpoint_url, config=cfg)
        return clients[key]

    def health_url(self, region: str) -> str:
        return self.health.url(region)

    def env(self, region: RegionTopology) -> dict[str, str]:
        """The graph's environment for this region's function, with only the allowed substitutions."""
        env = dict(region.function_env)
        for name in ("MDR_PEER_HEALTH_URL", "MDR_LOCAL_HEALTH_URL"):
            if env.get(name):
                env[name] = self._map_health_url(env[name])
        env.update(_SAFE_ENV)
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        env["AWS_DEFAULT_REGION"] = region.region
        return env

    def readiness_env(self, region: RegionTopology) -> dict[str, str]:
        """The graph's environment for this region's readiness function, with the emulator's ids substituted."""
        assert region.readiness is not None
        env = dict(region.readiness.env)
        env["MDR_DB_SECRET_ARN"] = self.secret_arns.get(env["MDR_DB_SECRET_ARN"], env["MDR_DB_SECRET_ARN"])
        ids = json.loads(env["MDR_HEALTH_CHECK_IDS"])
        env["MDR_HEALTH_CHECK_IDS"] = json.dumps({kind: self.route53_ids.get(i, i) for kind, i in ids.items()})
        env.update(_SAFE_ENV)
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        env["AWS_DEFAULT_REGION"] = region.region
        return env

    def _map_health_url(self, url: str) -> str:
        for r in self.topology.regions:
            if url == f"https://{r.regional_hostname}{r.https_check.path}":
                return self.health_url(r.region)
        raise WorldError(f"health URL {url} is not a regional hostname of either stack")

    def close(self) -> None:
        self.health.close()
        self.server.stop()


@contextlib.contextmanager
def process_env(endpoint_url: str | None) -> Iterator[None]:
    """Point this process's AWS SDK at the emulator (boto3 reads AWS_ENDPOINT_URL from os.environ); with no URL
    (moto in this process) no endpoint is set, and moto's mock answers the SDK's own AWS endpoints."""
    wanted = {**_SAFE_ENV, **({"AWS_ENDPOINT_URL": endpoint_url} if endpoint_url else {})}
    removed = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", *(() if endpoint_url else ("AWS_ENDPOINT_URL",)))
    saved = {k: os.environ.get(k) for k in (*wanted, *removed)}
    os.environ.update(wanted)
    for k in removed:
        os.environ.pop(k, None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def start(topology: Topology, transport: str = "server") -> World:
    """Start moto with the emulator extension, reset it, and seed the topology. `transport="server"` (what `make drill`
    runs): moto's server on loopback, every call real HTTP. `"in-process"`: moto's mock in this process (the same
    backends, emulator extension, faults and serialisation; no HTTP), what the test suite's many drills use."""
    if transport == "server":
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server, url = emulator.start_server()
    elif transport == "in-process":
        server, url = emulator.start_in_process(), None
    else:
        raise ValueError(f"transport {transport!r}: use 'server' or 'in-process'")
    health = HealthEndpoints()
    world = World(topology=topology, endpoint_url=url, health=health, server=server)
    try:
        with process_env(url):
            _reset(url)
            _seed(world)
    except BaseException:
        world.close()
        raise
    return world


def _reset(url: str | None) -> None:
    if url:
        req = urllib.request.Request(f"{url}/moto-api/reset", method="POST")  # noqa: S310 - loopback emulator
        with urllib.request.urlopen(req, timeout=10):  # noqa: S310 - loopback emulator
            pass
    emulator.reset()


def _check(what: str, declared: str, got: str) -> None:
    if declared != got:
        raise WorldError(f"{what}: the stack declares {declared!r}, the emulator made {got!r}")


def _seed(world: World) -> None:
    t = world.topology
    p, s = t.primary, t.secondary
    # ---- Aurora global database: writer in the primary region
    world.client("rds", p.region).create_global_cluster(
        GlobalClusterIdentifier=t.global_cluster_id,
        Engine=t.global_engine,
        EngineVersion=t.global_engine_version,
        StorageEncrypted=True,
    )
    for r in (p, s):
        kwargs: dict[str, Any] = {
            "DBClusterIdentifier": r.cluster_id,
            "Engine": r.engine,
            "EngineVersion": r.engine_version,
            "GlobalClusterIdentifier": t.global_cluster_id,
        }
        if r.readiness is not None:
            kwargs.update(DBClusterParameterGroupName=_seed_parameter_groups(world, r), BackupRetentionPeriod=r.readiness.backup_retention_days)
        if r is p:
            kwargs.update(MasterUsername="magento", MasterUserPassword="drill-password-1", DatabaseName=t.database_name or "magento")
        cluster = world.client("rds", r.region).create_db_cluster(**kwargs)["DBCluster"]
        _check(f"{r.stack} cluster ARN", r.cluster_arn, cluster["DBClusterArn"])
        _seed_db_instances(world, r.region, r.cluster_id, r.engine, r.db_instances)
    # ---- database standbys (scope: database): one more secondary cluster each, in its own region
    for sb in t.database_standbys:
        cluster = world.client("rds", sb.region).create_db_cluster(
            DBClusterIdentifier=sb.cluster_id,
            Engine=sb.engine,
            EngineVersion=sb.engine_version,
            GlobalClusterIdentifier=t.global_cluster_id,
        )["DBCluster"]
        _check(f"{sb.stack} (database standby) cluster ARN", sb.cluster_arn, cluster["DBClusterArn"])
        _seed_db_instances(world, sb.region, sb.cluster_id, sb.engine, sb.db_instances)
    _check_members(world)
    world.substitutions.append(Substitution("MasterUserPassword", "(Secrets Manager secret)", "drill-password-1", "the emulator never sees the stack's secret"))
    # ---- ElastiCache Global Datastore (primary member first, the secondary joins)
    ec_p = world.client("elasticache", p.region)
    at_rest, in_transit, auth = t.cache_encryption
    ec_p.create_replication_group(
        ReplicationGroupId=p.cache_replication_group_id,
        ReplicationGroupDescription=f"{p.stack} sessions",
        Engine=p.cache_engine,
        CacheNodeType="cache.r7g.large",
        NumCacheClusters=2,
        AtRestEncryptionEnabled=at_rest,
        TransitEncryptionEnabled=in_transit,
        **({"AuthToken": "drill-auth-token-0123456789abcdef"} if auth else {}),
    )
    ds = ec_p.create_global_replication_group(GlobalReplicationGroupIdSuffix=t.cache_global_suffix, PrimaryReplicationGroupId=p.cache_replication_group_id)[
        "GlobalReplicationGroup"
    ]
    _check("cache global datastore id", t.cache_global_datastore_id, ds["GlobalReplicationGroupId"])
    world.client("elasticache", s.region).create_replication_group(
        ReplicationGroupId=s.cache_replication_group_id,
        ReplicationGroupDescription=f"{s.stack} sessions",
        GlobalReplicationGroupId=t.cache_global_datastore_id,
        **({"AuthToken": "drill-auth-token-0123456789abcdef"} if t.cache_member_auth else {}),
    )
    for r in (p, s):
        _seed_region(world, r)
    _seed_route53(world)
    _seed_readiness(world)
    # The stacks have been running: their DB instances are available, their web instances in service.
    emulator.settle()


def _seed_db_instances(world: World, region: str, cluster_id: str, engine: str, instances: tuple[DbInstance, ...]) -> None:
    """The cluster's instances as the stack declares them (a pilot-light standby's: none)."""
    rds = world.client("rds", region)
    groups = {g["DBParameterGroupName"] for g in rds.describe_db_parameter_groups()["DBParameterGroups"]} if instances else set()
    for i in instances:
        if i.parameter_group and i.parameter_group not in groups:  # a database standby's (no readiness function seeded it)
            rds.create_db_parameter_group(DBParameterGroupName=i.parameter_group, DBParameterGroupFamily=i.parameter_group_family,
                                          Description=f"{cluster_id} instances")
            groups.add(i.parameter_group)
        made = rds.create_db_instance(
            DBInstanceIdentifier=i.identifier,
            DBClusterIdentifier=cluster_id,
            Engine=engine,
            DBInstanceClass=i.instance_class,
            PromotionTier=i.promotion_tier,
            **({"AvailabilityZone": i.availability_zone} if i.availability_zone else {}),
            **({"DBParameterGroupName": i.parameter_group} if i.parameter_group else {}),
        )["DBInstance"]
        _check(f"{cluster_id} instance", i.identifier, made["DBInstanceIdentifier"])


def _check_members(world: World) -> None:
    """The global cluster as seeded: the primary's cluster the writer, every other declared cluster a connected reader."""
    t = world.topology
    gc = world.client("rds", t.primary.region).describe_global_clusters(GlobalClusterIdentifier=t.global_cluster_id)["GlobalClusters"][0]
    got = {m["DBClusterArn"]: (bool(m.get("IsWriter")), str(m.get("SynchronizationStatus", ""))) for m in gc.get("GlobalClusterMembers", [])}
    want = {t.primary.cluster_arn: (True, "connected"), t.secondary.cluster_arn: (False, "connected")}
    want.update({sb.cluster_arn: (False, "connected") for sb in t.database_standbys})
    if got != want:
        raise WorldError(f"global cluster {t.global_cluster_id} members (IsWriter, SynchronizationStatus): the stacks declare {want}, the emulator made {got}")


def _seed_region(world: World, r: RegionTopology) -> None:
    ec2 = world.client("ec2", r.region)
    template = f"{r.asg_name}-drill"
    ec2.create_launch_template(LaunchTemplateName=template, LaunchTemplateData={"ImageId": MOTO_AMI, "InstanceType": r.instance_type})
    world.client("autoscaling", r.region).create_auto_scaling_group(
        AutoScalingGroupName=r.asg_name,
        LaunchTemplate={"LaunchTemplateName": template},
        MinSize=r.asg_min,
        DesiredCapacity=r.asg_desired,
        MaxSize=r.asg_max,
        AvailabilityZones=[f"{r.region}a"],
        Tags=[{"Key": k, "Value": v, "PropagateAtLaunch": True} for k, v in r.asg_tags.items()],
    )
    ssm = world.client("ssm", r.region)
    for name, value in r.ssm_parameters.items():
        ssm.put_parameter(Name=name, Value=value or "-", Type="String")
    ssm.create_document(Name=r.run_command_document, Content=r.run_command_content, DocumentType="Command", DocumentFormat="JSON")
    sns = world.client("sns", r.region)
    topic_arn = sns.create_topic(Name=r.topic_arn.rsplit(":", 1)[1])["TopicArn"]
    _check(f"{r.stack} topic ARN", r.topic_arn, topic_arn)
    # The drill's own inbox on the topic: how it reads what the function told operators.
    sqs = world.client("sqs", r.region)
    queue_url = sqs.create_queue(QueueName=DRILL_INBOX)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    world.inbox_urls[r.region] = queue_url
    a = r.writer_alarm
    world.client("cloudwatch", r.region).put_metric_alarm(
        AlarmName=a.name,
        Namespace=a.namespace,
        MetricName=a.metric_name,
        Dimensions=[{"Name": k, "Value": v} for k, v in a.dimensions.items()],
        Statistic=a.statistic,
        Period=a.period_seconds,
        EvaluationPeriods=a.evaluation_periods,
        DatapointsToAlarm=a.datapoints_to_alarm,
        Threshold=a.threshold,
        ComparisonOperator=a.comparison,
        TreatMissingData=a.treat_missing_data,
    )
    world.substitutions.append(Substitution(f"{r.stack} launch template ImageId", "(resolved at deploy time)", MOTO_AMI, "one of moto's built-in AMIs"))


def _seed_route53(world: World) -> None:
    t = world.topology
    r53 = world.client("route53", t.primary.region)
    zone_name = t.shop_hostname.split(".", 1)[1] if t.shop_hostname.count(".") >= 2 else t.shop_hostname
    zone_id = r53.create_hosted_zone(Name=zone_name, CallerReference="magento-dr-drill")["HostedZone"]["Id"].rsplit("/", 1)[-1]
    world.route53_ids[t.zone_id] = zone_id
    world.substitutions.append(Substitution("hosted zone id", t.zone_id, zone_id, "moto assigns Route 53 ids"))
    changes = []
    for r in t.regions:
        made: dict[str, str] = {}
        # Children first: a calculated check names its children's ids.
        for spec in sorted(r.health_checks.values(), key=lambda c: c.kind == "CALCULATED"):
            config: dict[str, Any]
            if spec.https is not None:
                h = spec.https
                config = {
                    "Type": "HTTPS",
                    "FullyQualifiedDomainName": h.fqdn,
                    "Port": 443,
                    "ResourcePath": h.path,
                    "RequestInterval": h.interval_seconds,
                    "FailureThreshold": h.failure_threshold,
                    "EnableSNI": True,
                    "Inverted": h.inverted,
                }
            elif spec.alarm is not None:
                config = {
                    "Type": "CLOUDWATCH_METRIC",
                    "AlarmIdentifier": {"Region": r.region, "Name": spec.alarm.name},
                    "InsufficientDataHealthStatus": spec.alarm.insufficient_data_health,
                }
            else:
                config = {"Type": "CALCULATED", "ChildHealthChecks": [made[c] for c in spec.children], "HealthThreshold": spec.child_health_threshold}
            made[spec.key] = r53.create_health_check(CallerReference=f"{r.stack}-{spec.key}", HealthCheckConfig=config)["HealthCheck"]["Id"]
        world.route53_ids[r.record.calculated_check_id] = made[r.record.check_key]
        for kind, graph_id in r.health_check_ids.items():
            world.route53_ids[graph_id] = made[r.health_check_kinds[kind]]
        changes.append(
            {
                "Action": "CREATE",
                "ResourceRecordSet": {
                    "Name": r.record.name,
                    "Type": "A",
                    "SetIdentifier": r.record.set_identifier,
                    "Failover": r.record.failover_type,
                    "HealthCheckId": made[r.record.check_key],
                    "AliasTarget": {"HostedZoneId": "Z35SXDOTRQ7X7K", "DNSName": r.record.alias_target, "EvaluateTargetHealth": True},
                },
            }
        )
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    world.substitutions.append(Substitution("Route 53 health check ids", "(stack exports healthCheckIds)", "(moto ids, mapped)", "moto assigns Route 53 ids"))


def _seed_parameter_groups(world: World, r: RegionTopology) -> str:
    """The region's cluster and instance parameter groups, with the parameters the stack declares; the cluster group's name."""
    assert r.readiness is not None
    rds = world.client("rds", r.region)
    (cluster_name, family, cluster_params), (instance_name, instance_family, instance_params) = (
        r.readiness.cluster_parameter_group, r.readiness.instance_parameter_group
    )
    rds.create_db_cluster_parameter_group(DBClusterParameterGroupName=cluster_name, DBParameterGroupFamily=family, Description=f"{r.stack} cluster")
    rds.modify_db_cluster_parameter_group(
        DBClusterParameterGroupName=cluster_name,
        Parameters=[{"ParameterName": k, "ParameterValue": v, "ApplyMethod": "pending-reboot"} for k, v in cluster_params],
    )
    rds.create_db_parameter_group(DBParameterGroupName=instance_name, DBParameterGroupFamily=instance_family, Description=f"{r.stack} instances")
    rds.modify_db_parameter_group(
        DBParameterGroupName=instance_name,
        Parameters=[{"ParameterName": k, "ParameterValue": v, "ApplyMethod": "pending-reboot"} for k, v in instance_params],
    )
    return cluster_name


def _seed_readiness(world: World) -> None:
    """What the readiness checks read beyond the failover function's world, as the stacks declare it."""
    t = world.topology
    role = world.client("iam", t.primary.region).create_role(RoleName="magento-dr-drill-functions", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    for r in t.regions:
        spec = r.readiness
        if spec is None:
            continue
        env = spec.env
        secret_name, replicas = spec.owned_secret
        if secret_name:
            made = world.client("secretsmanager", r.region).create_secret(
                Name=secret_name, SecretString="{}", AddReplicaRegions=[{"Region": x} for x in replicas]
            )["ARN"]
            world.secret_arns[env["MDR_DB_SECRET_ARN"]] = made
            for x in replicas:  # a replica's ARN is the primary's with the region changed (components/global_database.replica_secret_arn)
                world.secret_arns[env["MDR_DB_SECRET_ARN"].replace(f":{r.region}:", f":{x}:")] = made.replace(f":{r.region}:", f":{x}:")
        if env.get("MDR_SEARCH_DOMAIN"):
            world.client("opensearch", r.region).create_domain(DomainName=env["MDR_SEARCH_DOMAIN"])
        if env.get("MDR_MEDIA_BUCKET"):
            s3 = world.client("s3", r.region)
            location = {} if r.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": r.region}}
            s3.create_bucket(Bucket=env["MDR_MEDIA_BUCKET"], **location)
            s3.put_bucket_versioning(Bucket=env["MDR_MEDIA_BUCKET"], VersioningConfiguration={"Status": "Enabled"})
        name, value = spec.release_parameter
        if name:
            world.client("ssm", r.region).put_parameter(Name=name, Value=value or "-", Type="String")
        # The failover function as Lambda and EventBridge Scheduler know it (the drill invokes its code directly).
        lam = world.client("lambda", r.region)
        function_arn = lam.create_function(
            FunctionName=env["MDR_FAILOVER_FUNCTION"], Runtime="python3.13", Role=role, Handler="handlers.failover.lambda_handler",
            Code={"ZipFile": _empty_zip()},
        )["FunctionArn"]
        if spec.failover_reserved_concurrency:
            lam.put_function_concurrency(FunctionName=env["MDR_FAILOVER_FUNCTION"], ReservedConcurrentExecutions=spec.failover_reserved_concurrency)
        world.client("scheduler", r.region).create_schedule(
            Name=env["MDR_FAILOVER_SCHEDULE"], ScheduleExpression=f"rate({r.schedule_period_seconds // 60} minute)", State=spec.failover_schedule_state,
            FlexibleTimeWindow={"Mode": "OFF"}, Target={"Arn": function_arn, "RoleArn": role},
        )
    for bucket, rule_id, status, rtc, destination in t.replication_rules:
        region = next((x.region for x in t.regions if x.readiness is not None and x.readiness.env.get("MDR_MEDIA_BUCKET") == bucket), None)
        if region is None:
            continue  # the release buckets: readiness reads the media rules only
        world.client("s3", region).put_bucket_replication(
            Bucket=bucket,
            ReplicationConfiguration={
                "Role": f"arn:aws:iam::{ACCOUNT_ID}:role/magento-dr-drill-replication",
                "Rules": [{"ID": rule_id, "Status": status, "Priority": 1, "Filter": {}, "DeleteMarkerReplication": {"Status": "Enabled"},
                           "Destination": {"Bucket": destination, "ReplicationTime": {"Status": rtc, "Time": {"Minutes": 15}},
                                           "Metrics": {"Status": rtc, "EventThreshold": {"Minutes": 15}}}}],
            },
        )
    world.substitutions.append(Substitution("credentials secret ARNs", "(graph: random suffix)", "(moto's, mapped)", "moto assigns the suffix"))


def _empty_zip() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handlers/__init__.py", "")
    return buf.getvalue()


def read_inbox(world: World, region: str) -> list[dict[str, Any]]:
    """Drain the drill's inbox on a region's topic: [{"subject", "message"}]."""
    sent = emulator_sqs.sends(region, DRILL_INBOX)
    if world.inbox_drained.get(region) == sent:
        return []  # nothing was sent to it since it was last emptied
    world.inbox_drained[region] = sent
    sqs = world.client("sqs", region)
    out: list[dict[str, Any]] = []
    while True:
        msgs = sqs.receive_message(QueueUrl=world.inbox_urls[region], MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            return out
        for m in msgs:
            body = json.loads(m["Body"])
            try:
                message = json.loads(body.get("Message", "{}"))
            except ValueError:
                message = {"raw": body.get("Message")}
            out.append({"subject": body.get("Subject", ""), "message": message})
            sqs.delete_message(QueueUrl=world.inbox_urls[region], ReceiptHandle=m["ReceiptHandle"])
