"""The readiness function's AWS adapter: the only module of that function that calls AWS, read-only but for
its own writes (its metrics, its latest result, its parameter digest).

Every read goes to this region's endpoints with short timeouts and few retries, so an evaluation is
quick and bounded. Two kinds of read leave the region, each with one attempt and the probe timeout:
the peer region (one GetParameters of its release version and parameter digest; its RDS API while
this region holds the writer) and Route 53's API (us-east-1, where its control plane lives). A read
that does not answer becomes :class:`~handlers.readiness.Unread`: its check says "unknown", the
others are judged all the same.

The role behind it (components/readiness_iam.py) is derived from, and tested against, the calls below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .activation import activation_parameter
from .aws import PEER_TRANSPORT_ERRORS, CountedClients, error_code, lag_from_results, lag_queries
from .obs import WRITER_METRIC
from .readiness import (
    HEARTBEAT_MINUTES,
    LAG_WINDOW_SECONDS,
    CacheView,
    ClusterView,
    FunctionView,
    GlobalView,
    GroupView,
    HealthCheckView,
    MediaView,
    Member,
    Result,
    SearchView,
    SecretView,
    Snapshot,
    StateView,
    Unread,
    decode_digest,
    digest_parameter_name,
    encode,
    encode_digest,
    metric_data,
    metric_window,
    replication_rule_id,
)
from .settings import ReadinessSettings

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef

#: Route 53's API is served from us-east-1 whatever the caller's region (docs/aws-assumptions.md O1, R1).
ROUTE53_API_REGION = "us-east-1"
#: Answers that mean "not there" rather than "could not ask".
NOT_FOUND = frozenset(
    {
        "GlobalClusterNotFoundFault",
        "DBClusterNotFoundFault",
        "ResourceNotFoundException",
        "ReplicationGroupNotFoundFault",
        "GlobalReplicationGroupNotFoundFault",
        "ParameterNotFound",
    }
)


def _unread(what: str, exc: BaseException) -> Unread:
    if isinstance(exc, PEER_TRANSPORT_ERRORS):
        return Unread(what, f"no answer: {type(exc).__name__}")
    return Unread(what, error_code(exc) or type(exc).__name__)


class ReadinessAdapter(CountedClients):
    def __init__(self, settings: ReadinessSettings) -> None:
        super().__init__()
        self.s = settings
        # Bounded: a whole evaluation is a few dozen calls; a slow API costs its read timeout once.
        self._local_cfg = Config(
            region_name=settings.region,
            connect_timeout=settings.aws_connect_timeout,
            read_timeout=settings.aws_read_timeout,
            retries={"mode": "standard", "total_max_attempts": min(2, settings.aws_max_attempts)},
        )

        def remote(region: str) -> Config:
            return Config(
                region_name=region,
                connect_timeout=settings.probe_timeout_seconds,
                read_timeout=settings.probe_timeout_seconds,
                retries={"mode": "standard", "total_max_attempts": 1},
            )

        self._peer_cfg = remote(settings.peer_region)
        # The same name in both regions: ours to write, the peer's to read.
        self._digest_param = digest_parameter_name(settings.global_cluster_id)
        self._activation_param = activation_parameter(settings.global_cluster_id)
        self._route53_cfg = remote(ROUTE53_API_REGION)

    # ---- clients ------------------------------------------------------------
    @cached_property
    def rds(self) -> Any:
        return self._client("rds", self._local_cfg)

    @cached_property
    def peer_rds(self) -> Any:
        return self._client("rds", self._peer_cfg)

    @cached_property
    def ssm(self) -> Any:
        return self._client("ssm", self._local_cfg)

    @cached_property
    def peer_ssm(self) -> Any:
        return self._client("ssm", self._peer_cfg)

    @cached_property
    def secretsmanager(self) -> Any:
        return self._client("secretsmanager", self._local_cfg)

    @cached_property
    def autoscaling(self) -> Any:
        return self._client("autoscaling", self._local_cfg)

    @cached_property
    def elasticache(self) -> Any:
        return self._client("elasticache", self._local_cfg)

    @cached_property
    def opensearch(self) -> Any:
        return self._client("opensearch", self._local_cfg)

    @cached_property
    def s3(self) -> Any:
        return self._client("s3", self._local_cfg)

    @cached_property
    def cloudwatch(self) -> Any:
        return self._client("cloudwatch", self._local_cfg)

    @cached_property
    def scheduler(self) -> Any:
        return self._client("scheduler", self._local_cfg)

    @cached_property
    def awslambda(self) -> Any:
        return self._client("lambda", self._local_cfg)

    @cached_property
    def route53(self) -> Any:
        return self._client("route53", self._route53_cfg)

    # ---- the snapshot ----------------------------------------------------------
    def _read(self, what: str, fn: Callable[[], Any]) -> Any:
        """fn's answer; None when AWS says the thing is not there; Unread when it did not answer."""
        try:
            return fn()
        except ClientError as exc:
            if error_code(exc) in NOT_FOUND:
                return None
            return _unread(what, exc)
        except BotoCoreError as exc:
            return _unread(what, exc)

    def snapshot(self, now: float) -> Snapshot:
        s = self.s
        gc = self._read("the global cluster", self._global)
        cluster = self._read("this region's cluster", self._cluster)
        writer_here = isinstance(gc, GlobalView) and any(m.is_writer and m.arn == s.local_cluster_arn for m in gc.members)
        start, end = metric_window(now)
        metrics = self._read("CloudWatch metrics", lambda: self._metrics(start, end, lag=not writer_here))
        lag: Any = None
        search_points: dict[str, float | None] = {}
        media_points: dict[str, float | None] = {}
        heartbeat: Any
        if isinstance(metrics, dict):
            lag = metrics["lag"] if not writer_here else None
            heartbeat, search_points, media_points = metrics["heartbeat"], metrics["search"], metrics["media"]
        else:
            lag = None if writer_here else metrics
            heartbeat = metrics
        peer_records = self._peer_records()
        peer_digest = self._peer_record(peer_records, self._digest_param)
        cluster_params = self._read("the cluster parameters", lambda: self._parameters("cluster", s.cluster_parameter_group)) or {}
        instance_params = self._read("the instance parameters", lambda: self._parameters("instance", s.instance_parameter_group)) or {}
        state = self._read("the failover function's records", self._state) or StateView(None)
        search: Any = None
        if s.search_domain:
            search = self._read("the search domain", self._search)
            if isinstance(search, SearchView):
                search = SearchView(search.processing, search.deleted, search_points.get("red"), search_points.get("yellow"))
        media: Any = None
        if s.media_bucket:
            media = self._read("the media bucket's replication", self._media_rules)
            if media is None:  # ReplicationConfigurationNotFoundError (not in NOT_FOUND: S3 names it so)
                media = MediaView({})
            if isinstance(media, MediaView):
                media = MediaView(media.rules, media_points.get("failed"), media_points.get("latency"))
        return Snapshot(
            now=now,
            global_cluster=gc,
            local_cluster=cluster,
            cluster_parameters=cluster_params,
            instance_parameters=instance_params,
            lag=lag,
            state=state,
            secret=self._read("the credentials secret", self._secret),
            group=self._read("the web Auto Scaling group", self._group),
            cache=self._read("the Global Datastore", self._cache) if s.cache_global_datastore_id else None,
            search=search,
            media=media,
            release_local=self._release(),
            release_peer=self._peer_record(peer_records, self.s.release_parameter),
            peer_digest=peer_digest if isinstance(peer_digest, Unread) else decode_digest(peer_digest),
            function=FunctionView(
                schedule_state=self._or_missing(self._read("the failover schedule", self._schedule_state)),
                reserved=self._read("the failover function's reservation", self._reserved),
                account_settings=self._or_missing(self._read("Lambda's account settings", lambda: dict(self.awslambda.get_account_settings()))),
                heartbeat_samples=heartbeat,
            ),
            peer_answered=self._probe_peer(gc) if writer_here else None,
            health_checks=self._health_checks(writer_here),
            peer_activation=peer_records if isinstance(peer_records, Unread) else _record(peer_records.get(self._activation_param)),
        )

    @staticmethod
    def _or_missing(value: Any) -> Any:
        return "" if value is None else value

    def _global(self) -> GlobalView | None:
        resp = self.rds.describe_global_clusters(GlobalClusterIdentifier=self.s.global_cluster_id)
        clusters = resp.get("GlobalClusters", [])
        if not clusters:
            return None
        gc = clusters[0]
        members = tuple(
            Member(str(m.get("DBClusterArn", "")), bool(m.get("IsWriter")), str(m.get("SynchronizationStatus", "") or ""))
            for m in gc.get("GlobalClusterMembers", [])
        )
        failover = gc.get("FailoverState") or {}
        return GlobalView(members, str(gc.get("EngineVersion", "")), str(failover.get("Status", "") or ""))

    def _cluster(self) -> ClusterView | None:
        clusters = self.rds.describe_db_clusters(DBClusterIdentifier=self.s.local_cluster_id).get("DBClusters", [])
        if not clusters:
            return None
        c = clusters[0]
        restorable = c.get("LatestRestorableTime")
        return ClusterView(
            status=str(c.get("Status", "")),
            engine_version=str(c.get("EngineVersion", "")),
            parameter_group=str(c.get("DBClusterParameterGroup", "")),
            instance_parameter_status=tuple(
                (str(m.get("DBInstanceIdentifier", "")), str(m.get("DBClusterParameterGroupStatus", "") or "")) for m in c.get("DBClusterMembers", [])
            ),
            backup_retention_days=int(c.get("BackupRetentionPeriod", 0) or 0),
            latest_restorable_time=restorable.timestamp() if restorable is not None else None,
        )

    def _parameters(self, level: str, group: str) -> dict[str, str]:
        """The parameters the group sets (Source=user: the ones someone set, the stacks or anyone else)."""
        out: dict[str, str] = {}
        marker = ""
        for _ in range(10):  # a handful of user parameters: one page; bounded all the same
            args: dict[str, Any] = {"Source": "user", **({"Marker": marker} if marker else {})}
            if level == "cluster":
                resp = self.rds.describe_db_cluster_parameters(DBClusterParameterGroupName=group, **args)
            else:
                resp = self.rds.describe_db_parameters(DBParameterGroupName=group, **args)
            for p in resp.get("Parameters", []):
                if p.get("ParameterValue") is not None:
                    out[str(p["ParameterName"])] = str(p["ParameterValue"])
            marker = str(resp.get("Marker") or "")
            if not marker:
                break
        return out

    def _state(self) -> StateView:
        import json

        names = [f"{self.s.ssm_prefix}/active", f"{self.s.state_prefix}/probes", f"{self.s.state_prefix}/operation", self._activation_param]
        found = {p["Name"]: p for p in self.ssm.get_parameters(Names=names).get("Parameters", [])}
        params = {name: p["Value"] for name, p in found.items()}

        def doc(name: str) -> dict[str, Any]:
            try:
                value = json.loads(params.get(name) or "{}")
            except ValueError:
                return {}
            return value if isinstance(value, dict) else {}

        active = params.get(names[0])
        activation = _record(found.get(self._activation_param))
        return StateView(None if active is None else active.strip().lower() == "true", doc(names[1]), doc(names[2]), activation)

    def _secret(self) -> SecretView:
        resp = self.secretsmanager.describe_secret(SecretId=self.s.secret_arn)
        replicas = {str(r.get("Region", "")): (str(r.get("Status", "")), str(r.get("StatusMessage", "") or "")) for r in resp.get("ReplicationStatus", [])}
        return SecretView(str(resp.get("PrimaryRegion", "") or ""), resp.get("DeletedDate") is not None, replicas)

    def _group(self) -> GroupView | None:
        groups = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[self.s.asg_name]).get("AutoScalingGroups", [])
        if not groups:
            return None
        g = groups[0]
        in_service = sum(1 for i in g.get("Instances", []) if i.get("LifecycleState") == "InService")
        return GroupView(int(g["MinSize"]), int(g["DesiredCapacity"]), int(g["MaxSize"]), in_service)

    def _cache(self) -> CacheView | None:
        resp = self.elasticache.describe_global_replication_groups(GlobalReplicationGroupId=self.s.cache_global_datastore_id, ShowMemberInfo=True)
        groups = resp.get("GlobalReplicationGroups", [])
        if not groups:
            return None
        g = groups[0]
        members = tuple(
            (str(m.get("ReplicationGroupId", "")), str(m.get("ReplicationGroupRegion", "")), str(m.get("Role", "")), str(m.get("Status", "")))
            for m in g.get("Members", [])
        )
        local = self.elasticache.describe_replication_groups(ReplicationGroupId=self.s.cache_replication_group_id).get("ReplicationGroups", [])
        rg = local[0] if local else {}
        return CacheView(
            status=str(g.get("Status", "")).lower(),
            members=members,
            local_group_status=str(rg.get("Status", "")),
            at_rest_encryption=rg.get("AtRestEncryptionEnabled") is True,
            transit_encryption=rg.get("TransitEncryptionEnabled") is True,
            auth_token=rg.get("AuthTokenEnabled") is True,
        )

    def _search(self) -> SearchView | None:
        status = self.opensearch.describe_domain(DomainName=self.s.search_domain).get("DomainStatus", {})
        return SearchView(bool(status.get("Processing")), bool(status.get("Deleted")))

    def _media_rules(self) -> MediaView:
        try:
            config = self.s3.get_bucket_replication(Bucket=self.s.media_bucket).get("ReplicationConfiguration", {})
        except ClientError as exc:
            if error_code(exc) == "ReplicationConfigurationNotFoundError":
                return MediaView({})
            raise
        rules = {
            str(r.get("ID", "")): (str(r.get("Status", "")), str(((r.get("Destination") or {}).get("ReplicationTime") or {}).get("Status", "")))
            for r in config.get("Rules", [])
        }
        return MediaView(rules)

    def _metrics(self, start: float, end: float, *, lag: bool) -> dict[str, Any]:
        """One GetMetricData call: the lag (where this region is the reader), the failover function's heartbeat,
        the search domain's health and the media replication figures."""
        s = self.s
        queries: list[MetricDataQueryTypeDef] = []
        lags = lag_queries(s.local_cluster_id, s.peer_region) if lag else []
        queries += [q for _, q in lags]

        def add(ident: str, namespace: str, metric: str, dims: dict[str, str], stat: str, period: int = 60) -> None:
            queries.append(
                {
                    "Id": ident,
                    "MetricStat": {
                        "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]},
                        "Period": period,
                        "Stat": stat,
                    },
                    "ReturnData": True,
                }
            )

        # In the order the failover function publishes them (handlers/runner.py), which the emulator matches exactly.
        add("heartbeat", s.metric_namespace, WRITER_METRIC, {"Region": s.region, "Stack": s.stack}, "SampleCount")
        if s.search_domain:
            # OpenSearch Service publishes cluster health per domain under DomainName and ClientId (the account).
            for color in ("red", "yellow"):
                add(f"search_{color}", "AWS/ES", f"ClusterStatus.{color}", {"DomainName": s.search_domain, "ClientId": s.account_id}, "Maximum")
        if s.media_bucket and s.media_peer_bucket:
            add("media_failed", "AWS/S3", "OperationsFailedReplication",
                {"SourceBucket": s.media_bucket, "DestinationBucket": s.media_peer_bucket, "RuleId": replication_rule_id(s.peer_region)}, "Sum")
            add("media_latency", "AWS/S3", "ReplicationLatency",
                {"SourceBucket": s.media_peer_bucket, "DestinationBucket": s.media_bucket, "RuleId": replication_rule_id(s.region)}, "Maximum")
        resp = self.cloudwatch.get_metric_data(
            MetricDataQueries=queries,
            StartTime=datetime.fromtimestamp(start, UTC),
            EndTime=datetime.fromtimestamp(end, UTC),
        )
        results = resp.get("MetricDataResults", [])
        values = {str(r.get("Id", "")): [float(v) for v in r.get("Values", [])] for r in results}
        heartbeat_start = end - HEARTBEAT_MINUTES * 60
        stamps = {str(r.get("Id", "")): [t.timestamp() for t in r.get("Timestamps", [])] for r in results}
        beats = sum(v for v, t in zip(values.get("heartbeat", []), stamps.get("heartbeat", []), strict=False) if t >= heartbeat_start)

        def peak(ident: str) -> float | None:
            return max(values[ident]) if values.get(ident) else None

        lag_start = end - LAG_WINDOW_SECONDS
        recent = [
            {"Id": r.get("Id"), "Values": [v for v, t in zip(r.get("Values", []), r.get("Timestamps", []), strict=False) if t.timestamp() >= lag_start]}
            for r in results
        ]
        return {
            "lag": lag_from_results(lags, recent, lag_start, end) if lag else None,
            "heartbeat": beats,
            "search": {"red": peak("search_red"), "yellow": peak("search_yellow")},
            "media": {"failed": sum(values["media_failed"]) if values.get("media_failed") else None, "latency": peak("media_latency")},
        }

    def _schedule_state(self) -> str:
        return str(self.scheduler.get_schedule(Name=self.s.failover_schedule).get("State", ""))

    def _reserved(self) -> int | None:
        value = self.awslambda.get_function_concurrency(FunctionName=self.s.failover_function).get("ReservedConcurrentExecutions")
        return None if value is None else int(value)

    def _release(self) -> str | Unread | None:
        if not self.s.release_parameter:
            return None
        try:
            value = self.ssm.get_parameter(Name=self.s.release_parameter).get("Parameter", {}).get("Value", "")
        except ClientError as exc:
            return None if error_code(exc) == "ParameterNotFound" else _unread(f"the release version in {self.s.region}", exc)
        except BotoCoreError as exc:
            return _unread(f"the release version in {self.s.region}", exc)
        return str(value) or None

    def _peer_records(self) -> dict[str, Any] | Unread:
        """What the peer region stores for us to compare, in one call (one timeout when it is dark): its parameter
        digest and, when configured, its release version. A name it does not hold is simply absent."""
        names = [self._digest_param, self._activation_param, *([self.s.release_parameter] if self.s.release_parameter else [])]
        what = f"the {'release version, ' if self.s.release_parameter else ''}parameter digest and activation record in {self.s.peer_region}"
        try:
            params = self.peer_ssm.get_parameters(Names=names).get("Parameters", [])
        except (ClientError, BotoCoreError) as exc:
            return _unread(what, exc)
        return {str(p["Name"]): p for p in params}

    @staticmethod
    def _peer_record(records: dict[str, Any] | Unread, name: str) -> str | Unread | None:
        """One of the peer's records: its value, None when it holds none (or no name is configured), Unread when it did not answer."""
        if not name:
            return None
        if isinstance(records, Unread):
            return records
        return str(records[name].get("Value", "")) or None if name in records else None

    def _probe_peer(self, gc: Any) -> bool:
        """While this region holds the writer: does the peer region's RDS API answer at all (the failover
        function's probe signal; any service answer counts)?"""
        peer = next((m.arn for m in gc.members if m.region == self.s.peer_region), "")
        try:
            self.peer_rds.describe_db_clusters(DBClusterIdentifier=peer or "unknown")
        except ClientError:
            return True
        except PEER_TRANSPORT_ERRORS:
            return False
        except BotoCoreError:
            return True
        return True

    def _health_checks(self, writer_here: bool) -> tuple[HealthCheckView, ...] | Unread:
        out = []
        for kind, health_check_id in self.s.health_check_ids:
            try:
                check = self.route53.get_health_check(HealthCheckId=health_check_id).get("HealthCheck", {})
            except ClientError as exc:
                if error_code(exc) == "NoSuchHealthCheck":
                    out.append(HealthCheckView(kind, health_check_id, found=False))
                    continue
                return _unread("Route 53 health checks", exc)
            except BotoCoreError as exc:
                return _unread("Route 53 health checks", exc)
            config = check.get("HealthCheckConfig", {})
            observations = None
            # GetHealthCheckStatus cannot read calculated checks; only the endpoint check is judged, and only
            # where the writer is (the standby's shop is red by design).
            if writer_here and config.get("Type") in ("HTTPS", "HTTP", "HTTPS_STR_MATCH", "HTTP_STR_MATCH") and not config.get("Inverted"):
                try:
                    reports = self.route53.get_health_check_status(HealthCheckId=health_check_id).get("HealthCheckObservations", [])
                except (ClientError, BotoCoreError) as exc:
                    return _unread("Route 53 health check status", exc)
                ok = sum(1 for r in reports if str((r.get("StatusReport") or {}).get("Status", "")).startswith("Success"))
                observations = (ok, len(reports))
            out.append(HealthCheckView(kind, health_check_id, found=True, disabled=bool(config.get("Disabled")), observations=observations))
        return tuple(out)

    # ---- the two writes --------------------------------------------------------
    def publish(self, result: Result) -> None:
        dims = {"Region": self.s.region, "Stack": self.s.stack}  # as the failover function orders its own
        data = [
            {"MetricName": name, "Value": value, "Unit": "None", "Dimensions": [{"Name": k, "Value": v} for k, v in {**dims, **extra}.items()]}
            for name, value, extra in metric_data(result)
        ]
        self.cloudwatch.put_metric_data(Namespace=self.s.metric_namespace, MetricData=data)
        self.ssm.put_parameter(Name=self.s.readiness_param, Value=encode(result), Type="String", Tier="Standard", Overwrite=True)
        if result.parameter_digest:  # what the peer region's readiness compares with its own
            self.ssm.put_parameter(
                Name=self._digest_param,
                Value=encode_digest(result.parameter_digest, result.stack, result.at),
                Type="String",
                Tier="Standard",
                Overwrite=True,
            )


def read_stored(region: str, ssm_prefix: str) -> str | None:
    """The latest stored result in `region` (the CLI, with the operator's credentials; the function never reads it)."""
    ssm = boto3.session.Session().client("ssm", region_name=region)
    params = ssm.get_parameters(Names=[f"{ssm_prefix.rstrip('/')}/failover/readiness"]).get("Parameters", [])
    return str(params[0]["Value"]) if params else None


def _record(parameter: Mapping[str, Any] | None) -> tuple[str, float] | None:
    """An activation record as GetParameters returns it: (the cluster ARN it names, when SSM stored it); None: not there."""
    written = (parameter or {}).get("LastModifiedDate")
    return (str((parameter or {}).get("Value", "")), written.timestamp()) if written is not None else None
