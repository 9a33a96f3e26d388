"""IAM policy documents of the failover function and its scheduler, as data (pure).

Every statement names the handler call it serves (handlers/aws.py). Resources
are this stack's own ARNs; `Resource: "*"` appears only for actions that AWS
authorizes without resource-level permissions (listed in
`NO_RESOURCE_LEVEL_ACTIONS`, from the Service Authorization Reference:
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .contracts import activation_parameter
from .iam import allow, service_trust_policy
from .naming import CREATED_BY_TAG, FAILOVER_INSTANCE_INFIX, FAILOVER_INSTANCE_OWN_TAG_KEYS

# Actions whose "Resource types" column is empty in the Service Authorization
# Reference: IAM cannot scope them to an ARN, so they need "*" (and, where the
# service offers one, a condition key instead).
NO_RESOURCE_LEVEL_ACTIONS = frozenset(
    {
        "cloudwatch:GetMetricData",  # narrowed by nothing; read-only
        "cloudwatch:PutMetricData",  # narrowed by the cloudwatch:namespace condition
        "autoscaling:DescribeAutoScalingGroups",
        "ec2:DescribeInstances",
        "ssm:GetCommandInvocation",
        "lambda:GetAccountSettings",  # the readiness function (components/readiness_iam.py); account-wide
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
)


# Both require the `cluster` and `global-cluster` resource types and take no condition keys (Service
# Authorization Reference, Amazon RDS). AWS's sample policy for ARC's Aurora block grants them on the
# global cluster and every member cluster; which members a request is authorized against is not
# documented (docs/aws-assumptions.md).
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrds.html
# https://docs.aws.amazon.com/r53recovery/latest/dg/security_iam_region_switch_aurora.html
PROMOTION_ACTIONS = ("rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster")

# Adding DB instances before a promotion (a headless pilot-light cluster, or a repair). The Service Authorization
# Reference lists for rds:CreateDBInstance the resource type `db` (required) and `cluster`, `og`, `pg`, `secgrp`,
# `subgrp` (optional; earlier versions of the table marked og, pg, secgrp and subgrp required), and as dependent
# actions rds:AddTagsToResource ("If tags are specified in the create action, RDS performs additional authorization on
# the rds:AddTagsToResource action", security_iam_id-based-policy-examples-grant-permissions-tags-on-create) and
# kms:CreateGrant/Decrypt/DescribeKey/GenerateDataKey. AWS's own example names the new instance's `db`, its `og`, `pg`
# and `subgrp` (security_iam_id-based-policy-examples-create-and-modify-examples). Which of the optional resources RDS
# evaluates for an Aurora instance that names its cluster, and which the cluster's subnet group and the engine's default
# option group stand for, is not documented: the grant names each of them, on this stack's resources only
# (docs/aws-assumptions.md P9). Nothing here passes a role (no Enhanced Monitoring), so no iam:PassRole.
# The instance class is pinned with rds:DatabaseClass, which the Reference lists for CreateDBInstance on its `db` row only
# (not on `cluster`, `og`, `pg`, `secgrp`, `subgrp`): the condition sits on a statement naming the new instances alone,
# so a request is never refused because RDS leaves the key out while it authorizes a group (docs/aws-assumptions.md P10).
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrds.html
DATABASE_CLASS_KEY = "rds:DatabaseClass"
# The engine's default option group (what an Aurora MySQL 8.0 instance gets: it takes no option group of its own).
DEFAULT_OPTION_GROUP = "default:aurora-mysql-8-0"
# Performance Insights with a customer managed key: "users in your account that call the Performance Insights API need
# the kms:Decrypt and kms:GenerateDataKey permissions on the KMS key" (USER_PerfInsights.access-control.cmk-policy).
# What the principal *enabling* it at CreateDBInstance needs is not documented beyond the Service Authorization
# Reference's dependent actions: all four, on that key only, and only through RDS in this region (docs/aws-assumptions.md P9).
PERFORMANCE_INSIGHTS_KEY_ACTIONS = ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey")


@dataclass(frozen=True)
class FailoverScope:
    """The resources one region's failover function may touch, as plain strings."""

    partition: str
    account_id: str
    region: str
    peer_region: str
    global_cluster_id: str
    cluster_arn: str
    asg_name: str
    ssm_prefix: str
    topic_arn: str
    topic_key_arn: str
    log_group_arn: str
    dead_letter_queue_arn: str
    run_command_document_arn: str
    instance_tag_key: str
    instance_tag_value: str
    metric_namespace: str
    cache_global_datastore_id: str = ""
    cache_replication_group_id: str = ""
    release_parameter_name: str = ""
    """The release version parameter (same name in both regions); "" grants nothing for it."""
    peer_cluster_arn: str = ""
    """The peer region's cluster when this stack knows it (the secondary reads the primary's); the
    primary's function gets its grant on the peer's cluster from the secondary (peer_promotion_policy)."""
    db_instance_class: str = ""
    """The class of the DB instances the function may add to this region's cluster before a promotion ("" adds none)."""
    db_instance_parameter_group: str = ""
    db_subnet_group: str = ""
    db_performance_insights_key_arn: str = ""
    db_instance_tag_keys: tuple[str, ...] = ()
    """The stack's default tag keys the function puts on the instances it adds (beside Name and the created-by mark)."""

    def __post_init__(self) -> None:
        if not self.ssm_prefix.startswith("/") or self.ssm_prefix.endswith("/"):
            raise ValueError(f"FailoverScope.ssm_prefix {self.ssm_prefix!r} must start with '/' and not end with one")
        if self.region == self.peer_region:
            raise ValueError("FailoverScope.peer_region must differ from region")
        if bool(self.cache_global_datastore_id) != bool(self.cache_replication_group_id):
            raise ValueError("FailoverScope: set cache_global_datastore_id and cache_replication_group_id together")

    @property
    def db_instances(self) -> bool:
        """Whether the function may add DB instances at all."""
        return bool(self.db_instance_class)

    @property
    def global_cluster_arn(self) -> str:
        # Global clusters have no region in their ARN.
        return f"arn:{self.partition}:rds::{self.account_id}:global-cluster:{self.global_cluster_id}"

    @property
    def cluster_id(self) -> str:
        return self.cluster_arn.rsplit(":", 1)[-1]

    def rds_arn(self, kind: str, name: str) -> str:
        return f"arn:{self.partition}:rds:{self.region}:{self.account_id}:{kind}:{name}"

    def parameter_arn(self, path: str) -> str:
        return f"arn:{self.partition}:ssm:{self.region}:{self.account_id}:parameter{self.ssm_prefix}/{path}"

    def activation_arn(self, region: str) -> str:
        """The activation record in `region` (components/contracts.py: the same name in both regions)."""
        return f"arn:{self.partition}:ssm:{region}:{self.account_id}:parameter{activation_parameter(self.global_cluster_id)}"


def function_policy(s: FailoverScope) -> dict[str, Any]:
    """The failover function's only permissions."""
    p, acct, region = s.partition, s.account_id, s.region
    members = [s.cluster_arn, *([s.peer_cluster_arn] if s.peer_cluster_arn else [])]
    statements = [
        # Promote this region's cluster (FailoverGlobalCluster with AllowDataLoss, or
        # SwitchoverGlobalCluster). Both require a `global-cluster` and a `cluster` resource; which
        # member clusters RDS authorizes (the target, the current writer, or both) is not documented,
        # so the grant names both of the pair, as AWS's own ARC sample does (PROMOTION_ACTIONS).
        allow("PromoteThisRegionsCluster", list(PROMOTION_ACTIONS), [s.global_cluster_arn, *members]),
        allow("DescribeTheGlobalCluster", ["rds:DescribeGlobalClusters"], [s.global_cluster_arn]),
        allow("DescribeThisRegionsCluster", ["rds:DescribeDBClusters"], [s.cluster_arn]),
        # Probe only: the peer's cluster id is read from the global cluster at run
        # time and is not known to this stack (the primary deploys first), so the
        # grant is read-only and scoped to the peer region and this account.
        allow("ProbePeerRegionClusters", ["rds:DescribeDBClusters"], [f"arn:{p}:rds:{s.peer_region}:{acct}:cluster:*"]),
        allow("ReadReplicationLag", ["cloudwatch:GetMetricData"], "*"),
        allow(
            "PublishOwnMetricsOnly",
            ["cloudwatch:PutMetricData"],
            "*",
            {"StringEquals": {"cloudwatch:namespace": s.metric_namespace}},
        ),
        # The region flag and the handler's own state (probes, operation, lease).
        allow(
            "ReadWriteStackState",
            ["ssm:GetParameters", "ssm:PutParameter"],
            [s.parameter_arn("active"), s.parameter_arn("failover/*")],
        ),
        allow("ReleaseLease", ["ssm:DeleteParameter"], [s.parameter_arn("failover/*")]),
        # The activation record: written here when this function activates the region; the peer's read (one call, best
        # effort) only while this region's own view names its cluster the writer and the peer's names another (G6).
        allow("RecordThisRegionsActivation", ["ssm:GetParameters", "ssm:PutParameter"], [s.activation_arn(region)]),
        allow("ReadThePeersActivation", ["ssm:GetParameter"], [s.activation_arn(s.peer_region)]),
        allow(
            "ScaleThisGroupOnly",
            ["autoscaling:UpdateAutoScalingGroup"],
            [f"arn:{p}:autoscaling:{region}:{acct}:autoScalingGroup:*:autoScalingGroupName/{s.asg_name}"],
        ),
        allow("ReadGroupCapacity", ["autoscaling:DescribeAutoScalingGroups"], "*"),
        allow("FindARunningInstance", ["ec2:DescribeInstances"], "*"),
        # SendCommand is authorized against the document and each instance; the
        # tag condition must only apply to the instances, hence two statements.
        allow("SendThePostFailoverDocument", ["ssm:SendCommand"], [s.run_command_document_arn]),
        allow(
            "SendToThisStacksInstances",
            ["ssm:SendCommand"],
            [f"arn:{p}:ec2:{region}:{acct}:instance/*"],
            {"StringEquals": {f"ssm:resourceTag/{s.instance_tag_key}": s.instance_tag_value}},
        ),
        allow("ReadCommandResult", ["ssm:GetCommandInvocation"], "*"),
        allow("PublishToThisTopic", ["sns:Publish"], [s.topic_arn]),
        # Publishing to a KMS-encrypted topic needs the key, but only through SNS.
        allow(
            "EncryptForTheTopic",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [s.topic_key_arn],
            {"StringEquals": {"kms:ViaService": f"sns.{region}.amazonaws.com"}},
        ),
        allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [s.log_group_arn, f"{s.log_group_arn}:log-stream:*"]),
        allow("OnFailureDestination", ["sqs:SendMessage"], [s.dead_letter_queue_arn]),
        allow("Tracing", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*"),
    ]
    if s.release_parameter_name:
        # Status and the failover report compare both regions' releases (read-only, best effort for the peer).
        statements.append(
            allow(
                "ReadReleaseVersionBothRegions",
                ["ssm:GetParameter"],
                [f"arn:{p}:ssm:{r}:{acct}:parameter{s.release_parameter_name}" for r in (region, s.peer_region)],
            )
        )
    statements.extend(db_instance_statements(s))
    if s.cache_global_datastore_id:
        statements.append(
            allow(
                "FailOverTheCacheDatastore",
                # DescribeReplicationGroups: after an operator's disassociation, is the local group standalone?
                ["elasticache:DescribeGlobalReplicationGroups", "elasticache:DescribeReplicationGroups", "elasticache:FailoverGlobalReplicationGroup"],
                [
                    f"arn:{p}:elasticache::{acct}:globalreplicationgroup:{s.cache_global_datastore_id}",
                    f"arn:{p}:elasticache:{region}:{acct}:replicationgroup:{s.cache_replication_group_id}",
                ],
            )
        )
    return {"Version": "2012-10-17", "Statement": statements}


def db_instance_statements(s: FailoverScope) -> list[dict[str, Any]]:
    """Read this region's cluster's DB instances; with a class to add them, create `{cluster}-failover-*` of that class in
    it (tagged at creation with the stack's default tags, its Name and the created-by mark; Performance Insights under the
    stack's key), and nothing else."""
    statements = [
        # Listing with a db-cluster-id filter authorizes against every db in the region (no identifier in the request).
        allow("ReadThisRegionsDbInstances", ["rds:DescribeDBInstances"], [s.rds_arn("db", "*")]),
    ]
    if not s.db_instances:
        return statements
    new_instances = s.rds_arn("db", f"{s.cluster_id}{FAILOVER_INSTANCE_INFIX}*")
    resources = [s.cluster_arn, s.rds_arn("og", DEFAULT_OPTION_GROUP)]
    resources += [s.rds_arn("pg", s.db_instance_parameter_group)] if s.db_instance_parameter_group else []
    resources += [s.rds_arn("subgrp", s.db_subnet_group)] if s.db_subnet_group else []
    statements += [
        allow(
            "AddInstancesOfTheStacksClass",
            ["rds:CreateDBInstance"],
            [new_instances],
            {"StringEquals": {DATABASE_CLASS_KEY: s.db_instance_class}},
        ),
        allow("AddInstancesToThisCluster", ["rds:CreateDBInstance"], resources),
        allow(
            "TagTheAddedInstancesAtCreation",
            ["rds:AddTagsToResource"],
            [new_instances],
            {
                "StringEquals": {f"aws:RequestTag/{CREATED_BY_TAG[0]}": CREATED_BY_TAG[1]},
                # The stack's default tags (an organisation's tag policy may require them) and its own two; no other key.
                "ForAllValues:StringEquals": {"aws:TagKeys": sorted({*FAILOVER_INSTANCE_OWN_TAG_KEYS, *s.db_instance_tag_keys})},
            },
        ),
    ]
    if s.db_performance_insights_key_arn:
        statements.append(
            allow(
                "PerformanceInsightsKeyThroughRds",
                list(PERFORMANCE_INSIGHTS_KEY_ACTIONS),
                [s.db_performance_insights_key_arn],
                {"StringEquals": {"kms:ViaService": f"rds.{s.region}.amazonaws.com"}},
            )
        )
    return statements


def peer_promotion_policy(global_cluster_arn: str, cluster_arn: str) -> dict[str, Any]:
    """Attached by the secondary to the primary's function role: the promotion actions on the
    secondary's cluster too, which the primary (deployed first) cannot name. With it the primary's
    function may fail back (switch over) or fail over while the secondary holds the writer."""
    return {
        "Version": "2012-10-17",
        "Statement": [allow("PromoteWhileThePeerHoldsTheWriter", list(PROMOTION_ACTIONS), [global_cluster_arn, cluster_arn])],
    }


def lambda_trust_policy(account_id: str) -> dict[str, Any]:
    """Only Lambda, on behalf of this account, may assume the function's role."""
    return service_trust_policy("lambda.amazonaws.com", account_id)


def scheduler_trust_policy(account_id: str, schedule_arn: str) -> dict[str, Any]:
    """Only this stack's schedule may assume the scheduler's invoke role (confused-deputy guard)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id, "aws:SourceArn": schedule_arn}},
            }
        ],
    }


def scheduler_policy(function_arn: str, dead_letter_queue_arn: str) -> dict[str, Any]:
    """EventBridge Scheduler may invoke this function and park undeliverable events."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            allow("InvokeTheFailoverFunction", ["lambda:InvokeFunction"], [function_arn, f"{function_arn}:*"]),
            allow("DeadLetters", ["sqs:SendMessage"], [dead_letter_queue_arn]),
        ],
    }
