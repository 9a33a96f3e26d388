"""The readiness function's IAM policy, as data (pure): read-only, on this stack's resources, plus its own writes.

Every statement names the adapter call it serves (handlers/readiness_aws.py); tests/components/test_readiness.py
scans that module and checks this policy grants exactly its calls. Writes: its own metrics (namespace-conditioned)
and two parameters, the latest result and this region's parameter digest. `Resource: "*"` only for actions
without resource-level permissions (components/failover_iam.NO_RESOURCE_LEVEL_ACTIONS, from the Service
Authorization Reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .contracts import activation_parameter, parameter_digest_parameter
from .iam import allow

#: Where a boto3 operation's IAM action is not "<service>:<operation>" (Service Authorization Reference):
#: "GetBucketReplication ... requires permissions for the s3:GetReplicationConfiguration action"
#: (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketReplication.html); OpenSearch Service
#: keeps its original prefix "es" (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonopensearchservice.html).
IAM_ACTION_OVERRIDES = {"s3:GetBucketReplication": "s3:GetReplicationConfiguration", "opensearch:DescribeDomain": "es:DescribeDomain"}


@dataclass(frozen=True)
class ReadinessScope:
    """The resources one region's readiness function reads, as plain strings."""

    partition: str
    account_id: str
    region: str
    peer_region: str
    global_cluster_id: str
    cluster_arn: str
    cluster_parameter_group: str
    instance_parameter_group: str
    ssm_prefix: str
    metric_namespace: str
    log_group_arn: str
    secret_arn: str
    failover_function_arn: str
    failover_schedule_arn: str
    health_check_ids: tuple[str, ...]
    cache_global_datastore_id: str = ""
    cache_replication_group_id: str = ""
    search_domain: str = ""
    media_bucket: str = ""
    release_parameter_name: str = ""

    def __post_init__(self) -> None:
        if not self.ssm_prefix.startswith("/") or self.ssm_prefix.endswith("/"):
            raise ValueError(f"ReadinessScope.ssm_prefix {self.ssm_prefix!r} must start with '/' and not end with one")
        if self.region == self.peer_region:
            raise ValueError("ReadinessScope.peer_region must differ from region")
        if bool(self.cache_global_datastore_id) != bool(self.cache_replication_group_id):
            raise ValueError("ReadinessScope: set cache_global_datastore_id and cache_replication_group_id together")

    def rds_arn(self, kind: str, name: str, region: str = "") -> str:
        return f"arn:{self.partition}:rds:{region if kind != 'global-cluster' else ''}:{self.account_id}:{kind}:{name}"

    def parameter_arn(self, path: str, region: str = "") -> str:
        return f"arn:{self.partition}:ssm:{region or self.region}:{self.account_id}:parameter{path}"


def readiness_policy(s: ReadinessScope) -> dict[str, Any]:
    """The readiness function's only permissions."""
    p, acct, region = s.partition, s.account_id, s.region
    state = f"{s.ssm_prefix}/failover"
    digest = parameter_digest_parameter(s.global_cluster_id)
    activation = activation_parameter(s.global_cluster_id)
    release = [s.release_parameter_name] if s.release_parameter_name else []
    statements = [
        allow("DescribeTheGlobalCluster", ["rds:DescribeGlobalClusters"], [s.rds_arn("global-cluster", s.global_cluster_id)]),
        allow("DescribeThisRegionsCluster", ["rds:DescribeDBClusters"], [s.cluster_arn]),
        # While this region holds the writer: does the peer region's RDS API answer (the failover function's probe)?
        allow("ProbePeerRegionClusters", ["rds:DescribeDBClusters"], [f"arn:{p}:rds:{s.peer_region}:{acct}:cluster:*"]),
        allow("ReadTheClusterParameterGroup", ["rds:DescribeDBClusterParameters"], [s.rds_arn("cluster-pg", s.cluster_parameter_group, region)]),
        allow("ReadTheInstanceParameterGroup", ["rds:DescribeDBParameters"], [s.rds_arn("pg", s.instance_parameter_group, region)]),
        allow("ReadMetrics", ["cloudwatch:GetMetricData"], "*"),
        allow("PublishOwnMetricsOnly", ["cloudwatch:PutMetricData"], "*", {"StringEquals": {"cloudwatch:namespace": s.metric_namespace}}),
        # The failover function's records, read only (its activation record among them); and the one parameter readiness writes.
        allow(
            "ReadTheFailoverFunctionsState",
            ["ssm:GetParameters"],
            [s.parameter_arn(f"{s.ssm_prefix}/active"), s.parameter_arn(f"{state}/probes"), s.parameter_arn(f"{state}/operation"),
             s.parameter_arn(activation)],
        ),
        allow("StoreTheLatestResultAndDigest", ["ssm:PutParameter"], [s.parameter_arn(f"{state}/readiness"), s.parameter_arn(digest)]),
        # One call for what the peer region stores for us to compare: its parameter digest, activation record (and release).
        allow(
            "ReadThePeersDigestActivationAndRelease",
            ["ssm:GetParameters"],
            [s.parameter_arn(name, s.peer_region) for name in [digest, activation, *release]],
        ),
        allow("DescribeTheCredentialsSecret", ["secretsmanager:DescribeSecret"], [s.secret_arn]),
        allow("ReadGroupCapacity", ["autoscaling:DescribeAutoScalingGroups"], "*"),
        allow("ReadTheFailoverSchedule", ["scheduler:GetSchedule"], [s.failover_schedule_arn]),
        allow("ReadTheFailoverReservation", ["lambda:GetFunctionConcurrency"], [s.failover_function_arn]),
        allow("ReadAccountConcurrency", ["lambda:GetAccountSettings"], "*"),
        allow(
            "ReadThisRegionsHealthChecks",
            ["route53:GetHealthCheck", "route53:GetHealthCheckStatus"],
            [f"arn:{p}:route53:::healthcheck/{i}" for i in s.health_check_ids],
        ),
        allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [s.log_group_arn, f"{s.log_group_arn}:log-stream:*"]),
    ]
    if s.release_parameter_name:
        statements.append(allow("ReadThisRegionsReleaseVersion", ["ssm:GetParameter"], [s.parameter_arn(s.release_parameter_name)]))
    if s.cache_global_datastore_id:
        statements.append(
            allow(
                "DescribeTheCacheDatastore",
                ["elasticache:DescribeGlobalReplicationGroups", "elasticache:DescribeReplicationGroups"],
                [
                    f"arn:{p}:elasticache::{acct}:globalreplicationgroup:{s.cache_global_datastore_id}",
                    f"arn:{p}:elasticache:{region}:{acct}:replicationgroup:{s.cache_replication_group_id}",
                ],
            )
        )
    if s.search_domain:
        statements.append(allow("DescribeTheSearchDomain", ["es:DescribeDomain"], [f"arn:{p}:es:{region}:{acct}:domain/{s.search_domain}"]))
    if s.media_bucket:
        statements.append(allow("ReadMediaReplication", ["s3:GetReplicationConfiguration"], [f"arn:{p}:s3:::{s.media_bucket}"]))
    return {"Version": "2012-10-17", "Statement": statements}


def readiness_scheduler_policy(function_arn: str) -> dict[str, Any]:
    """EventBridge Scheduler may invoke the readiness function (no dead letters: a missed run is a missing datapoint,
    which the not-ready alarm treats as not ready)."""
    return {"Version": "2012-10-17", "Statement": [allow("InvokeTheReadinessFunction", ["lambda:InvokeFunction"], [function_arn, f"{function_arn}:*"])]}
