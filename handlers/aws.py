"""Thin AWS adapter: the only module that imports boto3.

Clients are created lazily, once per adapter (one adapter per container), with
explicit connect/read timeouts and adaptive retries for this region's APIs and
single-attempt short-timeout clients for probing the peer region. The failover
path only ever calls this region's endpoints; peer calls are probes or
best-effort.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from .decide import LAG_METRICS, LAG_PERIOD_SECONDS, LagReading, pick_lag
from .settings import CREATED_BY_TAG, Settings

if TYPE_CHECKING:
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDataQueryTypeDef, MetricStatTypeDef
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_elasticache import ElastiCacheClient
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_rds.type_defs import DBClusterTypeDef, GlobalClusterTypeDef
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_ssm import SSMClient

AwsError = (ClientError, BotoCoreError)
#: The DB instances a preparation adds (components/global_database.py declares its own the same way: ENGINE,
#: PERFORMANCE_INSIGHTS_RETENTION_DAYS; tests/test_contracts.py keeps them equal); CREATED_BY_TAG tells them apart.
DB_ENGINE = "aurora-mysql"
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7
#: CreateDBInstance's error for an identifier in use: wire code DBInstanceAlreadyExists (shape DBInstanceAlreadyExistsFault).
INSTANCE_EXISTS_CODES = ("DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault")
#: Failures that mean "the peer region's endpoint did not answer": botocore's
#: ``ConnectionError`` family (``EndpointConnectionError``, ``ConnectTimeoutError``, proxy and
#: TLS failures) and ``HTTPClientError`` family (``ReadTimeoutError``, ``ConnectionClosedError``).
PEER_TRANSPORT_ERRORS: tuple[type[BotoCoreError], ...] = (BotoConnectionError, HTTPClientError)


def failover_instance_request(s: Settings, identifier: str, promotion_tier: int, availability_zone: str = "") -> dict[str, Any]:
    """CreateDBInstance's arguments for one instance a preparation adds: as the stack declares its own (tests/test_contracts.py
    compares them), tagged with the stack's default tags, its Name and the created-by mark."""
    tags = [*s.db_instance_tags, ("Name", identifier), CREATED_BY_TAG]
    request: dict[str, Any] = {
        "DBInstanceIdentifier": identifier,
        "DBClusterIdentifier": s.local_cluster_id,
        "Engine": DB_ENGINE,
        "DBInstanceClass": s.db_instance_class,
        "PubliclyAccessible": False,
        "AutoMinorVersionUpgrade": False,
        "EnablePerformanceInsights": True,
        "PerformanceInsightsRetentionPeriod": PERFORMANCE_INSIGHTS_RETENTION_DAYS,
        "CopyTagsToSnapshot": True,
        "PromotionTier": promotion_tier,
        "Tags": [{"Key": key, "Value": value} for key, value in tags],
    }
    optional = {
        "DBParameterGroupName": s.db_instance_parameter_group,
        "PerformanceInsightsKMSKeyId": s.db_performance_insights_kms_key,
        "CACertificateIdentifier": s.db_ca_certificate,
        "AvailabilityZone": availability_zone,
    }
    request.update({k: v for k, v in optional.items() if v})
    return request


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def lag_queries(cluster_id: str, source_region: str, prefix: str = "lag") -> list[tuple[str, MetricDataQueryTypeDef]]:
    """GetMetricData queries for both lag metrics of `cluster_id` under both dimension sets Aurora may use
    (`DBClusterIdentifier`; `DBClusterIdentifier, SourceRegion` = the writer's region), one-minute Maximum:
    (lag metric, query) pairs, ids `<prefix><n>`. The failover function and the readiness check read the
    lag through these, so both judge the same figures."""
    cluster: list[DimensionTypeDef] = [{"Name": "DBClusterIdentifier", "Value": cluster_id}]
    source: DimensionTypeDef = {"Name": "SourceRegion", "Value": source_region}
    out: list[tuple[str, MetricDataQueryTypeDef]] = []
    for metric in LAG_METRICS:
        for dims in (cluster, [*cluster, source]):
            stat: MetricStatTypeDef = {
                "Metric": {"Namespace": "AWS/RDS", "MetricName": metric, "Dimensions": dims},
                "Period": LAG_PERIOD_SECONDS,
                "Stat": "Maximum",
            }
            out.append((metric, {"Id": f"{prefix}{len(out)}", "MetricStat": stat, "ReturnData": True}))
    return out


def lag_from_results(
    queries: list[tuple[str, MetricDataQueryTypeDef]], results: Iterable[Mapping[str, Any]], window_start: float, window_end: float
) -> LagReading:
    """The datapoints of :func:`lag_queries` (milliseconds) pooled per metric, in seconds, the preferred one with data winning."""
    by_id = {q["Id"]: metric for metric, q in queries}
    values: dict[str, list[float]] = {metric: [] for metric in LAG_METRICS}
    for result in results:
        metric = by_id.get(str(result.get("Id", "")))
        if metric is not None:
            values[metric].extend(float(v) / 1000.0 for v in result.get("Values", []))
    return pick_lag(values, window_start, window_end)


class CountedClients:
    """One boto3 session whose clients count every API call they make (`api_calls`): both adapters' plumbing."""

    def __init__(self) -> None:
        self._session = boto3.session.Session()
        self._lock = threading.Lock()
        self.api_calls = 0

    def _client(self, service: str, cfg: Config) -> Any:
        with self._lock:
            client = self._session.client(service, config=cfg)  # type: ignore[call-overload]
        client.meta.events.register("before-call", self._count)
        return client

    def _count(self, **_: Any) -> None:
        with self._lock:
            self.api_calls += 1


class AwsAdapter(CountedClients):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.s = settings
        self._local_cfg = Config(
            region_name=settings.region,
            connect_timeout=settings.aws_connect_timeout,
            read_timeout=settings.aws_read_timeout,
            retries={"mode": "adaptive", "total_max_attempts": settings.aws_max_attempts},
        )
        self._probe_cfg = Config(
            region_name=settings.peer_region,
            connect_timeout=settings.probe_timeout_seconds,
            read_timeout=settings.probe_timeout_seconds,
            retries={"mode": "standard", "total_max_attempts": 1},
        )

    # ---- clients ------------------------------------------------------------
    @cached_property
    def rds(self) -> RDSClient:
        return cast("RDSClient", self._client("rds", self._local_cfg))

    @cached_property
    def peer_rds(self) -> RDSClient:
        return cast("RDSClient", self._client("rds", self._probe_cfg))

    @cached_property
    def ssm(self) -> SSMClient:
        return cast("SSMClient", self._client("ssm", self._local_cfg))

    @cached_property
    def peer_ssm(self) -> SSMClient:
        return cast("SSMClient", self._client("ssm", self._probe_cfg))

    @cached_property
    def sns(self) -> SNSClient:
        return cast("SNSClient", self._client("sns", self._local_cfg))

    @cached_property
    def autoscaling(self) -> AutoScalingClient:
        return cast("AutoScalingClient", self._client("autoscaling", self._local_cfg))

    @cached_property
    def cloudwatch(self) -> CloudWatchClient:
        return cast("CloudWatchClient", self._client("cloudwatch", self._local_cfg))

    @cached_property
    def elasticache(self) -> ElastiCacheClient:
        return cast("ElastiCacheClient", self._client("elasticache", self._local_cfg))

    @cached_property
    def ec2(self) -> EC2Client:
        return cast("EC2Client", self._client("ec2", self._local_cfg))

    # ---- RDS ----------------------------------------------------------------
    def describe_global(self) -> GlobalClusterTypeDef | None:
        try:
            resp = self.rds.describe_global_clusters(GlobalClusterIdentifier=self.s.global_cluster_id)
        except ClientError as exc:
            if error_code(exc) == "GlobalClusterNotFoundFault":
                return None
            raise
        clusters = resp.get("GlobalClusters", [])
        return clusters[0] if clusters else None

    def describe_local_cluster(self) -> DBClusterTypeDef | None:
        try:
            resp = self.rds.describe_db_clusters(DBClusterIdentifier=self.s.local_cluster_id)
        except ClientError as exc:
            if error_code(exc) == "DBClusterNotFoundFault":
                return None
            raise
        clusters = resp.get("DBClusters", [])
        return clusters[0] if clusters else None

    def db_instances(self) -> list[tuple[str, str]]:
        """This region's cluster's DB instances: (DBInstanceIdentifier, DBInstanceStatus). A cluster holds at most 16."""
        resp = self.rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [self.s.local_cluster_id]}])
        return [(str(i.get("DBInstanceIdentifier", "")), str(i.get("DBInstanceStatus", ""))) for i in resp.get("DBInstances", [])]

    def create_failover_instance(self, identifier: str, promotion_tier: int, availability_zone: str = "") -> bool:
        """Add one DB instance to this region's cluster as the stack declares its own; False if it exists already."""
        try:
            self.rds.create_db_instance(**failover_instance_request(self.s, identifier, promotion_tier, availability_zone))
        except ClientError as exc:
            if error_code(exc) in INSTANCE_EXISTS_CODES:
                return False
            raise
        return True

    def failover_global(self, allow_data_loss: bool) -> None:
        if allow_data_loss:
            self.rds.failover_global_cluster(
                GlobalClusterIdentifier=self.s.global_cluster_id,
                TargetDbClusterIdentifier=self.s.local_cluster_arn,
                AllowDataLoss=True,
            )
        else:
            self.rds.switchover_global_cluster(
                GlobalClusterIdentifier=self.s.global_cluster_id,
                TargetDbClusterIdentifier=self.s.local_cluster_arn,
            )

    def lag_reading(self, window_start: float, window_end: float) -> LagReading:
        """How far behind this region's cluster was in [window_start, window_end): one GetMetricData
        call for both lag metrics (one-minute Maximum), the preferred metric with data wins (decide.pick_lag).

        AWS does not document the metrics' dimensions; an AWS workshop reads them under
        `DBClusterIdentifier` alone and under `DBClusterIdentifier, SourceRegion` (the writer's region,
        the peer's while this region is a secondary). Both sets are queried in the same call and their
        datapoints pooled, so the figure is found under either answer (:func:`lag_queries`).

        Metric unit: milliseconds. EndTime is exclusive; callers pass whole minutes.
        """
        queries = lag_queries(self.s.local_cluster_id, self.s.peer_region)
        resp = self.cloudwatch.get_metric_data(
            MetricDataQueries=[q for _, q in queries],
            StartTime=datetime.fromtimestamp(window_start, UTC),
            EndTime=datetime.fromtimestamp(window_end, UTC),
        )
        return lag_from_results(queries, resp.get("MetricDataResults", []), window_start, window_end)

    # ---- probes (peer) --------------------------------------------------------
    def probe_http(self, url: str) -> bool:
        if not url:
            return False
        req = urllib.request.Request(url, method="GET", headers={"User-Agent": "magento-dr-failover"})  # noqa: S310 - scheme validated in settings
        try:
            with urllib.request.urlopen(req, timeout=self.s.probe_timeout_seconds) as resp:  # noqa: S310 - scheme validated in settings
                return 200 <= int(resp.status) < 300
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def probe_peer_rds(self, cluster_arn: str) -> bool:
        """True when the peer region's RDS API *answered* (the region is there).

        The signal is regional reachability, not the cluster's health: any response
        counts, whatever the cluster's ``Status`` (``failing-over`` during an in-region
        Aurora failover, ``modifying``, ``maintenance``, ``upgrading``…), and so does any
        service error response (``AccessDenied``, ``DBClusterNotFoundFault``,
        ``Throttling``…: the endpoint answered). Only transport failures - no
        connection, connect/read timeout, a broken HTTP exchange - fail the signal.
        (Botocore retries are off for this client: one attempt, probe timeout.)
        """
        if not cluster_arn:
            return False
        try:
            self.peer_rds.describe_db_clusters(DBClusterIdentifier=cluster_arn)
        except ClientError:
            return True  # a service error response: the region's API answered
        except PEER_TRANSPORT_ERRORS:
            return False
        except BotoCoreError:
            # Raised by the client itself (credentials, parameters), not by the network:
            # no evidence that the region is gone, so never a failed signal.
            return True
        return True

    def peer_writer(self) -> str | None:
        """The writer the peer region's RDS API names ("" none), with the probe client; None when it did not answer."""
        try:
            resp = self.peer_rds.describe_global_clusters(GlobalClusterIdentifier=self.s.global_cluster_id)
        except AwsError:
            return None
        found = resp.get("GlobalClusters", [])
        members = found[0].get("GlobalClusterMembers", []) if found else []
        return next((m.get("DBClusterArn", "") for m in members if m.get("IsWriter")), "")

    # ---- SSM parameters -----------------------------------------------------------
    def get_params(self, names: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for i in range(0, len(names), 10):
            resp = self.ssm.get_parameters(Names=names[i : i + 10])
            for p in resp.get("Parameters", []):
                out[p["Name"]] = p["Value"]
        return out

    def get_param_written(self, name: str) -> tuple[str, float, float | None] | None:
        """A parameter's value, when SSM last stored it (its LastModifiedDate, epoch seconds) and SSM's time now (the
        response's Date header, whole seconds; None without one); None if absent."""
        resp = self.ssm.get_parameters(Names=[name])
        for p in resp.get("Parameters", []):
            if p["Name"] == name:
                written = p.get("LastModifiedDate")
                return p["Value"], written.timestamp() if written is not None else 0.0, response_time(resp)
        return None

    def put_param(self, name: str, value: str) -> None:
        self.ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)

    def create_param(self, name: str, value: str) -> bool:
        """Atomic create; False if it already exists."""
        try:
            self.ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=False)
        except ClientError as exc:
            if error_code(exc) == "ParameterAlreadyExists":
                return False
            raise
        return True

    def delete_param(self, name: str) -> None:
        try:
            self.ssm.delete_parameter(Name=name)
        except ClientError as exc:
            if error_code(exc) != "ParameterNotFound":
                raise

    def put_peer_inactive_best_effort(self) -> str:
        if not self.s.peer_ssm_prefix:
            return "skipped (MDR_PEER_SSM_PREFIX unset)"
        try:
            self.peer_ssm.put_parameter(
                Name=f"{self.s.peer_ssm_prefix}/active", Value="false", Type="String", Overwrite=True
            )
        except AwsError as exc:
            return f"peer unreachable ({error_code(exc)}); peer fences itself"
        return "peer set inactive"

    def peer_activated_at(self) -> float | None:
        """When the peer region was last activated (its activation record's LastModifiedDate), best effort with the probe
        client; None when it never was or did not answer."""
        try:
            written = self.peer_ssm.get_parameter(Name=self.s.activation_param)["Parameter"].get("LastModifiedDate")
        except AwsError:
            return None
        return written.timestamp() if written is not None else None

    def release_version(self, *, peer: bool = False) -> str | None:
        """The Magento release this region (or, best effort, the peer) runs; None if unknown.

        The peer is read with the probe client (one attempt, probe timeout): a lost peer
        region costs one short timeout and never fails the caller.
        """
        if not self.s.release_parameter:
            return None
        try:
            name = self.s.release_parameter
            resp = self.peer_ssm.get_parameter(Name=name) if peer else self.ssm.get_parameter(Name=name)
        except AwsError:
            return None
        return str(resp.get("Parameter", {}).get("Value", "")) or None

    # ---- ElastiCache Global Datastore ----------------------------------------------
    def cache_member_role(self) -> tuple[str, str]:
        """(datastore status, this region's member role lower-cased)."""
        resp = self.elasticache.describe_global_replication_groups(
            GlobalReplicationGroupId=self.s.cache_global_datastore_id, ShowMemberInfo=True
        )
        groups = resp.get("GlobalReplicationGroups", [])
        if not groups:
            return ("missing", "")
        group = groups[0]
        role = ""
        for member in group.get("Members", []):
            if (
                member.get("ReplicationGroupId") == self.s.cache_replication_group_id
                and member.get("ReplicationGroupRegion") == self.s.region
            ):
                role = str(member.get("Role", "")).lower()
        return (str(group.get("Status", "")).lower(), role)

    def cache_group_standalone_available(self) -> bool:
        """True when this region's replication group is available and belongs to no global datastore.

        That is what an operator's DisassociateGlobalReplicationGroup leaves behind when the
        datastore cannot fail over while its primary region is lost: a writable primary.
        """
        groups = self.elasticache.describe_replication_groups(ReplicationGroupId=self.s.cache_replication_group_id).get(
            "ReplicationGroups", []
        )
        return bool(groups) and groups[0].get("Status") == "available" and not groups[0].get("GlobalReplicationGroupInfo", {}).get(
            "GlobalReplicationGroupId"
        )

    def cache_failover(self) -> None:
        self.elasticache.failover_global_replication_group(
            GlobalReplicationGroupId=self.s.cache_global_datastore_id,
            PrimaryRegion=self.s.region,
            PrimaryReplicationGroupId=self.s.cache_replication_group_id,
        )

    # ---- Auto Scaling ---------------------------------------------------------------
    def asg_capacity(self) -> tuple[int, int, int] | None:
        resp = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[self.s.asg_name])
        groups = resp.get("AutoScalingGroups", [])
        if not groups:
            return None
        g = groups[0]
        return (g["MinSize"], g["DesiredCapacity"], g["MaxSize"])

    def scale_asg(self) -> None:
        self.autoscaling.update_auto_scaling_group(
            AutoScalingGroupName=self.s.asg_name,
            MinSize=self.s.scale_min,
            DesiredCapacity=self.s.scale_desired,
            MaxSize=self.s.scale_max,
        )

    # ---- Run Command -------------------------------------------------------------------
    def pick_instance(self) -> str | None:
        resp = self.ec2.describe_instances(
            Filters=[
                {"Name": f"tag:{self.s.instance_tag_key}", "Values": [self.s.instance_tag_value]},
                {"Name": "instance-state-name", "Values": ["running"]},
            ]
        )
        ids = sorted(
            inst["InstanceId"]
            for res in resp.get("Reservations", [])
            for inst in res.get("Instances", [])
            if "InstanceId" in inst
        )
        return ids[0] if ids else None

    def send_command(self, instance_id: str, comment: str) -> str:
        resp = self.ssm.send_command(
            DocumentName=self.s.run_command_document,
            InstanceIds=[instance_id],
            Comment=comment[:100],
            TimeoutSeconds=600,
        )
        return resp["Command"]["CommandId"]

    def command_status(self, command_id: str, instance_id: str) -> str:
        try:
            resp = self.ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        except ClientError as exc:
            if error_code(exc) == "InvocationDoesNotExist":
                return "Pending"
            raise
        return str(resp.get("Status", "Pending"))

    # ---- SNS / CloudWatch ---------------------------------------------------------------
    def publish(self, subject: str, message: dict[str, Any]) -> str:
        resp = self.sns.publish(
            TopicArn=self.s.topic_arn,
            Subject=subject[:100],
            Message=json.dumps(message, indent=2, default=str),
        )
        return resp.get("MessageId", "")

    def put_metrics(self, data: list[dict[str, Any]]) -> None:
        for i in range(0, len(data), 500):
            self.cloudwatch.put_metric_data(Namespace=self.s.metric_namespace, MetricData=data[i : i + 500])  # type: ignore[arg-type]


def response_time(resp: Mapping[str, Any]) -> float | None:
    """The time an AWS response was sent by AWS's clock (its HTTP Date header, epoch seconds), None without one."""
    raw = ((resp.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}).get("date")
    if not raw:
        return None
    try:
        return parsedate_to_datetime(str(raw)).timestamp()
    except (TypeError, ValueError):
        return None
