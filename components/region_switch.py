"""RegionSwitchPlan: an optional ARC Region switch plan that runs the Aurora and capacity half of the runbook.

The plan promotes the activating region's Aurora cluster and raises its web capacity; that
region's failover function then finds the writer in its region without the `active` flag and
adopts the promotion within a minute (handlers/decide.py, Act.FINISH_STEPS kind "adopt"): cache
failover, flag, Magento commands, report. One owner per step, so nothing is promoted twice.
Only the secondary stack declares it (docs/region-switch.md).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from .config import ROLE_ARN_RE, StackSettings
from .failover_automation import PROMOTION_TIMEOUT_SECONDS
from .iam import allow, service_trust_policy
from .naming import physical_name

# ---------------------------------------------------------------- what AWS defines
# CreatePlan, UpdatePlan, DeletePlan and GetPlan are control-plane operations, served only by
# arc-region-switch-control-plane.us-east-1.api.aws; executions, approvals and GetPlanInRegion are
# data-plane operations served in every Region. A plan is a global resource (its ARN has no
# Region). So the definition is managed through us-east-1 while nothing on the failover path
# needs that Region: an operator starts and watches an execution in the Region being activated.
# https://docs.aws.amazon.com/r53recovery/latest/dg/aws-regions-rs.html
# https://docs.aws.amazon.com/r53recovery/latest/dg/actions.region-switch.html
CONTROL_PLANE_REGION = "us-east-1"
# The service principal the execution role trusts.
# https://docs.aws.amazon.com/r53recovery/latest/dg/security_iam_region_switch_trust_policy.html
SERVICE_PRINCIPAL = "arc-region-switch.amazonaws.com"
# Two Regions, traffic in one: one `activate` workflow per Region (no `deactivate` workflow).
# https://docs.aws.amazon.com/r53recovery/latest/dg/working-with-rs-workflows.html
RECOVERY_APPROACH = "activePassive"
ACTIVATE = "activate"
# Plan names: 1-32 characters, letters, digits and inner hyphens.
# https://docs.aws.amazon.com/arc-region-switch/latest/api/API_Plan.html
PLAN_NAME_RE = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$")
PLAN_NAME_MAX_LENGTH = 32
# Execution block types (the step's executionBlockType).
# https://docs.aws.amazon.com/arc-region-switch/latest/api/API_ExecutionBlockConfiguration.html
APPROVAL_BLOCK = "ManualApproval"
AURORA_BLOCK = "AuroraGlobalDatabase"
CAPACITY_BLOCK = "EC2AutoScaling"
PARALLEL_BLOCK = "Parallel"
# Aurora block: a graceful execution calls SwitchoverGlobalCluster (no data loss); an ungraceful
# one calls FailoverGlobalCluster with AllowDataLoss.
# https://docs.aws.amazon.com/arc-region-switch/latest/api/API_GlobalAuroraConfiguration.html
# https://docs.aws.amazon.com/arc-region-switch/latest/api/API_GlobalAuroraUngraceful.html
AURORA_BEHAVIOR = "switchoverOnly"
AURORA_UNGRACEFUL = "failover"
# Capacity block: bring the activated group to this percentage of what the other Region ran.
# "sampled" is the desired capacity ARC itself samples over the last 24 hours (no CloudWatch cost);
# the alternative reads the groups' CloudWatch metrics, i.e. the other Region's, which may be down.
# Whether sampling spares every call to a Region that is down is for a real account to confirm.
# https://docs.aws.amazon.com/r53recovery/latest/dg/ec2-auto-scaling-block.html
CAPACITY_MONITORING_APPROACH = "sampledMaxInLast24Hours"
CAPACITY_TARGET_PERCENT = 100
# The approval block's own default; approval is human time, outside any RTO arithmetic.
# https://docs.aws.amazon.com/arc-region-switch/latest/api/API_ExecutionApprovalConfiguration.html
APPROVAL_TIMEOUT_MINUTES = 60
# The same wait our handler allows a promotion (MDR_PROMOTION_TIMEOUT_SECONDS, 5x AWS's typical figure).
AURORA_TIMEOUT_MINUTES = math.ceil(PROMOTION_TIMEOUT_SECONDS / 60)

# Actions IAM authorizes without resource-level permissions (empty "Resource types" column in the
# Service Authorization Reference) beyond components/failover_iam.py NO_RESOURCE_LEVEL_ACTIONS
# (which has autoscaling:DescribeAutoScalingGroups).
# https://docs.aws.amazon.com/r53recovery/latest/dg/security_iam_region_switch_ec2_autoscaling.html
WILDCARD_RESOURCE_ACTIONS = frozenset({"cloudwatch:GetMetricStatistics"})
# AWS's documents disagree on GetMetricStatistics and `cloudwatch:namespace`: the capacity block's
# sample policy (page above) conditions the grant on it, an earlier copy of that sample did not, and
# the Service Authorization Reference lists the key for PutMetricData only ("GetMetricStatistics":
# no condition keys). Under IAM's documented rule a StringEquals on a key the request lacks is false,
# so that grant would never match. Unverified either way: the IfExists form narrows the grant to
# AWS/AutoScaling if CloudWatch does put the key in the request, and still matches if it does not.
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
AUTOSCALING_METRICS_CONDITION = {"StringEqualsIfExists": {"cloudwatch:namespace": "AWS/AutoScaling"}}


# ---------------------------------------------------------------- pure helpers
def plan_name(stack: str) -> str:
    """The plan's name (unique in the account): `magento-dr-<stack>-switch` within AWS's 32 characters.

    A long stack name is cut, never the suffix. physical_name keeps only lower-case letters, digits
    and inner hyphens, so the result always matches PLAN_NAME_RE.
    """
    suffix = "-switch"
    return physical_name(stack, CONTROL_PLANE_REGION, "", max_length=PLAN_NAME_MAX_LENGTH - len(suffix)) + suffix


def objective_minutes(rto_seconds: int) -> int:
    """failover.rtoSeconds in whole minutes (the unit ARC takes), rounded up."""
    return max(1, math.ceil(rto_seconds / 60))


def aurora_step(region: str, *, global_cluster_id: pulumi.Input[str], cluster_arns: Sequence[pulumi.Input[str]]) -> dict[str, Any]:
    """Promote `region`'s cluster: switchover when graceful, failover (AllowDataLoss) when ungraceful."""
    return {
        "name": f"promote-aurora-{region}",
        "description": f"Aurora global database writer to {region}: switchover (graceful) or failover with data loss (ungraceful)",
        "execution_block_type": AURORA_BLOCK,
        "global_aurora_configs": [
            {
                "behavior": AURORA_BEHAVIOR,
                "global_cluster_identifier": global_cluster_id,
                "database_cluster_arns": list(cluster_arns),
                "timeout_minutes": AURORA_TIMEOUT_MINUTES,
                "ungracefuls": [{"ungraceful": AURORA_UNGRACEFUL}],
            }
        ],
    }


def capacity_step(region: str, *, asg_arns: Sequence[pulumi.Input[str]], rto_seconds: int) -> dict[str, Any]:
    """Raise `region`'s web group to what the other Region ran (its production capacity in steady state)."""
    return {
        "name": f"scale-web-{region}",
        "description": f"Web Auto Scaling group in {region} to {CAPACITY_TARGET_PERCENT}% of the other Region's capacity",
        "execution_block_type": CAPACITY_BLOCK,
        "ec2_asg_capacity_increase_configs": [
            {
                "asgs": [{"arn": arn} for arn in asg_arns],
                "capacity_monitoring_approach": CAPACITY_MONITORING_APPROACH,
                "target_percent": CAPACITY_TARGET_PERCENT,
                # Full capacity within the RTO objective, or the plan reports the step failed.
                "timeout_minutes": objective_minutes(rto_seconds),
            }
        ],
    }


def approval_step(region: str, approval_role_arn: str) -> dict[str, Any]:
    """Wait for a holder of `approval_role_arn` to approve (ApprovePlanExecutionStep)."""
    return {
        "name": f"approve-{region}",
        "description": f"A human approves moving the writer to {region}",
        "execution_block_type": APPROVAL_BLOCK,
        "execution_approval_configs": [{"approval_role": approval_role_arn, "timeout_minutes": APPROVAL_TIMEOUT_MINUTES}],
    }


def activate_workflow(
    region: str,
    *,
    global_cluster_id: pulumi.Input[str],
    cluster_arns: Sequence[pulumi.Input[str]],
    asg_arns: Sequence[pulumi.Input[str]],
    rto_seconds: int,
    approval_role_arn: str = "",
) -> dict[str, Any]:
    """Activate `region`: [approval →] Aurora and capacity in parallel. Our function adopts afterwards."""
    steps: list[dict[str, Any]] = []
    if approval_role_arn:
        steps.append(approval_step(region, approval_role_arn))
    steps.append(
        {
            "name": f"writer-and-capacity-{region}",
            "description": "Promote the Aurora cluster and raise web capacity at the same time",
            "execution_block_type": PARALLEL_BLOCK,
            "parallel_configs": [
                {
                    "steps": [
                        aurora_step(region, global_cluster_id=global_cluster_id, cluster_arns=cluster_arns),
                        capacity_step(region, asg_arns=asg_arns, rto_seconds=rto_seconds),
                    ]
                }
            ],
        }
    )
    return {
        "workflow_target_action": ACTIVATE,
        "workflow_target_region": region,
        "workflow_description": (
            f"Make {region} the writer region. Aurora and web capacity only: the failover function in {region} "
            f"adopts the promotion and runs the Magento steps (docs/region-switch.md)"
        ),
        "steps": steps,
    }


@dataclass(frozen=True)
class ExecutionScope:
    """What the plan's execution role may act on, as plain strings (resolved Outputs)."""

    partition: str
    account_id: str
    role_arn: str
    global_cluster_id: str
    cluster_arns: tuple[str, ...]
    asg_arns: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.cluster_arns) != 2 or len(self.asg_arns) != 2:
            raise ValueError("ExecutionScope: a plan spans exactly two Regions: pass both cluster ARNs and both group ARNs")

    @property
    def global_cluster_arn(self) -> str:
        # Global clusters have no Region in their ARN.
        return f"arn:{self.partition}:rds::{self.account_id}:global-cluster:{self.global_cluster_id}"


def execution_policy(s: ExecutionScope) -> dict[str, Any]:
    """The execution role's permissions for the Aurora and capacity blocks and for plan evaluation.

    From AWS's sample policies (Aurora, EC2 Auto Scaling, complete plan execution role), narrowed
    to this pair's resources wherever IAM supports resource-level permissions.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            # Both operations authorize the global cluster and the cluster being promoted.
            allow("PromoteEitherCluster", ["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"], [s.global_cluster_arn, *s.cluster_arns]),
            # AWS's sample grants the two describes on "*"; RDS authorizes them per ARN.
            allow("DescribeTheGlobalCluster", ["rds:DescribeGlobalClusters"], [s.global_cluster_arn]),
            allow("DescribeBothClusters", ["rds:DescribeDBClusters"], list(s.cluster_arns)),
            allow("ScaleBothWebGroups", ["autoscaling:UpdateAutoScalingGroup"], list(s.asg_arns)),
            allow("ReadGroupCapacity", ["autoscaling:DescribeAutoScalingGroups"], "*"),
            allow(
                "ReadAutoScalingMetricsOnly",
                ["cloudwatch:GetMetricStatistics"],
                "*",
                AUTOSCALING_METRICS_CONDITION,
            ),
            # Plan evaluation simulates this role's own policies.
            # https://docs.aws.amazon.com/r53recovery/latest/dg/security_iam_region_switch_complete_policy.html
            allow("EvaluateOwnPermissions", ["iam:SimulatePrincipalPolicy"], [s.role_arn]),
        ],
    }


def plan_read_policy(plan_arn: str) -> dict[str, Any]:
    """Reading its own plan and executions (AWS's base execution-role policy), scoped to this plan."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            allow(
                "ReadThisPlanAndItsExecutions",
                ["arc-region-switch:GetPlan", "arc-region-switch:GetPlanExecution", "arc-region-switch:ListPlanExecutions"],
                [plan_arn],
            )
        ],
    }


def trust_policy(account_id: str) -> dict[str, Any]:
    """Only ARC Region switch, on behalf of this account, may assume the execution role."""
    return service_trust_policy(SERVICE_PRINCIPAL, account_id)


# ---------------------------------------------------------------- args
def _check_arn(field: str, value: pulumi.Input[str], service: str, region: str) -> None:
    """A literal ARN must name the right service and Region (Outputs are checked by AWS at plan evaluation)."""
    if isinstance(value, str) and f":{service}:{region}:" not in value:
        raise ValueError(
            f"RegionSwitchPlanArgs.{field} {value!r} is not a {service} ARN in {region}; the plan would act on the wrong Region"
        )


@dataclass(frozen=True)
class RegionSwitchPlanArgs:
    """Both Regions' clusters and web groups; the secondary's own ids, the primary's from its exports."""

    stack: str
    primary_region: str
    secondary_region: str
    global_cluster_id: pulumi.Input[str]
    primary_cluster_arn: pulumi.Input[str]
    secondary_cluster_arn: pulumi.Input[str]
    primary_asg_arn: pulumi.Input[str]
    secondary_asg_arn: pulumi.Input[str]
    rto_seconds: int
    control_plane_provider: pulumi.ProviderResource
    """The us-east-1 provider (CONTROL_PLANE_REGION): the plan is created and updated there."""
    approval_role_arn: str = ""
    """Holders of this IAM role approve each execution; "" adds no approval step."""

    def __post_init__(self) -> None:
        if self.primary_region == self.secondary_region:
            raise ValueError("RegionSwitchPlanArgs: primary_region and secondary_region must differ; a plan switches between two Regions")
        if self.rto_seconds < 60:
            raise ValueError(f"RegionSwitchPlanArgs.rto_seconds {self.rto_seconds} is below a minute, ARC's unit for timeouts and the RTO objective")
        if self.approval_role_arn and not ROLE_ARN_RE.match(self.approval_role_arn):
            raise ValueError(f"RegionSwitchPlanArgs.approval_role_arn {self.approval_role_arn!r} is not an IAM role ARN")
        _check_arn("primary_cluster_arn", self.primary_cluster_arn, "rds", self.primary_region)
        _check_arn("secondary_cluster_arn", self.secondary_cluster_arn, "rds", self.secondary_region)
        _check_arn("primary_asg_arn", self.primary_asg_arn, "autoscaling", self.primary_region)
        _check_arn("secondary_asg_arn", self.secondary_asg_arn, "autoscaling", self.secondary_region)

    @classmethod
    def from_settings(
        cls,
        settings: StackSettings,
        *,
        control_plane_provider: pulumi.ProviderResource,
        global_cluster_id: pulumi.Input[str],
        cluster_arn: pulumi.Input[str],
        asg_arn: pulumi.Input[str],
        primary_cluster_arn: pulumi.Input[str],
        primary_asg_arn: pulumi.Input[str],
    ) -> RegionSwitchPlanArgs:
        """Args for the secondary stack (its own cluster and group, the primary's from the stack reference)."""
        if settings.is_primary or not settings.serves_shop:
            raise ValueError("RegionSwitchPlanArgs.from_settings: only the paired standby (role secondary, scope shop) owns the plan")
        primary_region, secondary_region = settings.regions
        return cls(
            stack=settings.stack,
            primary_region=primary_region,
            secondary_region=secondary_region,
            global_cluster_id=global_cluster_id,
            primary_cluster_arn=primary_cluster_arn,
            secondary_cluster_arn=cluster_arn,
            primary_asg_arn=primary_asg_arn,
            secondary_asg_arn=asg_arn,
            rto_seconds=settings.failover.rto_seconds,
            control_plane_provider=control_plane_provider,
            approval_role_arn=settings.failover.arc_approval_role_arn,
        )

    @property
    def regions(self) -> tuple[str, str]:
        return (self.primary_region, self.secondary_region)

    def workflows(self) -> list[dict[str, Any]]:
        """One `activate` workflow per Region: failover to the secondary, failback to the primary."""
        return [
            activate_workflow(
                region,
                global_cluster_id=self.global_cluster_id,
                cluster_arns=[self.primary_cluster_arn, self.secondary_cluster_arn],
                asg_arns=[self.primary_asg_arn, self.secondary_asg_arn],
                rto_seconds=self.rto_seconds,
                approval_role_arn=self.approval_role_arn,
            )
            for region in (self.secondary_region, self.primary_region)
        ]


# ---------------------------------------------------------------- component
class RegionSwitchPlan(pulumi.ComponentResource):
    """The pair's ARC Region switch plan and its execution role."""

    plan_arn: pulumi.Output[str]
    """ARN of the plan (start executions with it; approvers need it for ApprovePlanExecutionStep)."""
    plan_name: str
    """Name of the plan."""
    execution_role_arn: pulumi.Output[str]
    """The role ARC assumes to run the Aurora and capacity blocks."""

    def __init__(self, name: str, args: RegionSwitchPlanArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:RegionSwitchPlan", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)

        role = aws.iam.Role(
            f"{name}-role",
            description=f"magento-dr {args.stack}: ARC Region switch runs the Aurora and capacity steps of the runbook",
            assume_role_policy=caller.account_id.apply(lambda account: json.dumps(trust_policy(account))),
            opts=child,
        )
        scope = pulumi.Output.all(
            partition=partition.partition,
            account_id=caller.account_id,
            role_arn=role.arn,
            global_cluster_id=args.global_cluster_id,
            cluster_arns=pulumi.Output.all(args.primary_cluster_arn, args.secondary_cluster_arn),
            asg_arns=pulumi.Output.all(args.primary_asg_arn, args.secondary_asg_arn),
        ).apply(
            lambda v: ExecutionScope(
                partition=v["partition"],
                account_id=v["account_id"],
                role_arn=v["role_arn"],
                global_cluster_id=v["global_cluster_id"],
                cluster_arns=tuple(v["cluster_arns"]),
                asg_arns=tuple(v["asg_arns"]),
            )
        )
        # In place before the plan exists: ARC evaluates the plan (and simulates this policy) on create.
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=scope.apply(lambda s: json.dumps(execution_policy(s))),
            opts=child,
        )

        self.plan_name = plan_name(args.stack)
        plan = aws.arcregionswitch.Plan(
            f"{name}-global-plan",
            name=self.plan_name,
            description=(
                f"magento-dr {args.stack}: Aurora writer and web capacity to the activated Region; the failover "
                f"function there adopts the promotion and runs the Magento steps"
            ),
            execution_role=role.arn,
            recovery_approach=RECOVERY_APPROACH,
            regions=list(args.regions),
            primary_region=args.primary_region,
            recovery_time_objective_minutes=objective_minutes(args.rto_seconds),
            # Plain dicts in the provider's PlanWorkflowArgsDict shape (tests read them back from the
            # recorded inputs). Any: mypy 2.4 runs out of memory matching dict[str, Any] against the
            # provider's nested TypedDict unions.
            workflows=cast(Any, args.workflows()),
            opts=pulumi.ResourceOptions(parent=self, provider=args.control_plane_provider, depends_on=[policy]),
        )
        aws.iam.RolePolicy(
            f"{name}-plan-read-policy",
            role=role.id,
            policy=plan.arn.apply(lambda arn: json.dumps(plan_read_policy(arn))),
            opts=child,
        )

        self.plan_arn = plan.arn
        self.execution_role_arn = role.arn
        self.register_outputs({"plan_arn": self.plan_arn, "plan_name": self.plan_name, "execution_role_arn": self.execution_role_arn})
