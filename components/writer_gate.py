"""WriterGate: this region's ALB in the accelerator, healthy for it only where the Aurora writer is.

Each shop stack declares its own (one stack per region): the gate function (handlers/writer_gate.py)
with its least-privilege role, a Lambda target group on this region's ALB with ELB health checks at
ELB's minimums, the listener rule that makes the group part of the load balancer without any client
request matching it, and this region's endpoint group on the primary's accelerator listener. The web
target group, which the Auto Scaling group health-checks, is not touched. docs/front-door.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from . import front_door as fd
from .contracts import activation_parameter
from .failover_automation import PROJECT_ROOT, RUNTIME
from .iam import service_trust_policy
from .naming import physical_name

ARCHITECTURE = "arm64"
LOG_RETENTION_DAYS = 30


def gate_archive_files(root: Path = PROJECT_ROOT) -> dict[str, Path]:
    """The gate function's package: handlers/__init__.py, handlers/activation.py and handlers/writer_gate.py, nothing else."""
    files = {key: root / key for key in fd.GATE_MODULES}
    missing = [key for key, path in files.items() if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} missing; the writer gate cannot be packaged")
    return files


@dataclass(frozen=True)
class WriterGateArgs:
    stack: str
    region: str
    peer_region: str
    """The other shop region: the gate asks it while its own region's view names this region's cluster the writer."""
    is_primary: bool
    global_cluster_id: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    """This region's Aurora cluster: the gate opens while it holds (or is becoming) the writer."""
    alb_arn: pulumi.Input[str]
    https_listener_arn: pulumi.Input[str]
    accelerator_listener_arn: pulumi.Input[str]
    """The primary's accelerator listener (the primary's own output, or its export in the secondary)."""
    handler_root: Path = PROJECT_ROOT

    def __post_init__(self) -> None:
        if not self.region:
            raise ValueError("WriterGateArgs.region is required: the endpoint group names its region explicitly")
        if not self.peer_region or self.peer_region == self.region:
            raise ValueError(f"WriterGateArgs.peer_region {self.peer_region!r}: the other shop region (magento-dr:peer.region)")
        gate_archive_files(self.handler_root)


class WriterGate(pulumi.ComponentResource):
    """The writer gate of this region's ALB and the ALB's endpoint group on the accelerator."""

    target_group_arn: pulumi.Output[str]
    """The gate's target group (its one target's health is the region's vote)."""
    endpoint_group_arn: pulumi.Output[str]
    """This region's endpoint group on the accelerator's listener."""
    function_name: pulumi.Output[str]
    """The gate function."""

    def __init__(self, name: str, args: WriterGateArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:WriterGate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        function_physical = physical_name(args.stack, args.region, "writer-gate")

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/aws/lambda/{function_physical}", retention_in_days=LOG_RETENTION_DAYS, opts=child
        )
        role = aws.iam.Role(
            f"{name}-role",
            description=f"magento-dr {args.stack}: writer gate of the {args.region} ALB (reads the global cluster)",
            assume_role_policy=caller.account_id.apply(lambda account: json.dumps(service_trust_policy("lambda.amazonaws.com", account))),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(partition.partition, caller.account_id, args.global_cluster_id, log_group.arn).apply(
                lambda v: json.dumps(
                    fd.gate_policy(
                        partition=v[0],
                        account_id=v[1],
                        global_cluster_id=v[2],
                        log_group_arn=v[3],
                        regions=(args.region, args.peer_region),
                        activation_parameter=activation_parameter(v[2]),
                    )
                )
            ),
            opts=child,
        )
        function = aws.lambda_.Function(
            f"{name}-function",
            name=function_physical,
            description=f"magento-dr {args.stack}: 200 while {args.region} holds (or is becoming) the Aurora writer, else 503",
            role=role.arn,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=fd.GATE_HANDLER,
            code=pulumi.AssetArchive({key: pulumi.FileAsset(str(path)) for key, path in gate_archive_files(args.handler_root).items()}),
            memory_size=fd.GATE_MEMORY_MB,
            timeout=fd.GATE_FUNCTION_TIMEOUT_SECONDS,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={
                    fd.GATE_ENV_GLOBAL_CLUSTER_ID: args.global_cluster_id,
                    fd.GATE_ENV_LOCAL_CLUSTER_ARN: args.cluster_arn,
                    fd.GATE_ENV_PEER_REGION: args.peer_region,
                }
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, log_group]),
        )

        # A Lambda target group: no port, protocol or VPC (target_group.go refuses them for lambda).
        target_group = aws.lb.TargetGroup(
            f"{name}-target-group",
            name=physical_name(args.stack, args.region, "writer-gate", max_length=32),
            target_type="lambda",
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path=fd.GATE_HEALTH_PATH,
                matcher=fd.GATE_MATCHER,
                interval=fd.GATE_INTERVAL_SECONDS,
                timeout=fd.GATE_CHECK_TIMEOUT_SECONDS,
                healthy_threshold=fd.GATE_HEALTHY_THRESHOLD,
                unhealthy_threshold=fd.GATE_UNHEALTHY_THRESHOLD,
            ),
            opts=child,
        )
        # "you must use the add-permission command to grant Elastic Load Balancing permission to invoke
        # your Lambda function. We recommend that you include the --source-arn parameter to restrict
        # function invocation to the specified target group" (lambda-functions.md).
        permission = aws.lambda_.Permission(
            f"{name}-invoke",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="elasticloadbalancing.amazonaws.com",
            source_arn=target_group.arn,
            opts=child,
        )
        attachment = aws.lb.TargetGroupAttachment(
            f"{name}-target",
            target_group_arn=target_group.arn,
            target_id=function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        # Part of the load balancer (its targets are health-checked), reachable by no client: the header
        # value is a secret of this stack, and the rule comes after every other rule.
        secret = random.RandomPassword(f"{name}-header", length=fd.GATE_SECRET_LENGTH, special=False, opts=child)
        rule = aws.lb.ListenerRule(
            f"{name}-rule",
            listener_arn=args.https_listener_arn,
            priority=fd.GATE_RULE_PRIORITY,
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_group.arn)],
            conditions=[
                aws.lb.ListenerRuleConditionArgs(
                    http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(http_header_name=fd.GATE_HEADER, values=[secret.result])
                )
            ],
            opts=child,
        )

        # This region's ALB joins the accelerator only once its gate is in place: before that the
        # accelerator would judge it by its web target group alone.
        plan = fd.EndpointGroupPlan(region=args.region, is_primary=args.is_primary)
        endpoint = plan.endpoint(args.alb_arn)
        endpoint_group = aws.globalaccelerator.EndpointGroup(
            f"{name}-endpoint-group",
            listener_arn=args.accelerator_listener_arn,
            # The provider defaults this to its own region, and changing it replaces the group: explicit.
            endpoint_group_region=args.region,
            traffic_dial_percentage=plan.traffic_dial_percentage,
            endpoint_configurations=[aws.globalaccelerator.EndpointGroupEndpointConfigurationArgs(**endpoint)],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[rule, attachment]),
        )

        self.target_group_arn = target_group.arn
        self.endpoint_group_arn = endpoint_group.arn
        self.function_name = function.name
        self.register_outputs(
            {"target_group_arn": self.target_group_arn, "endpoint_group_arn": self.endpoint_group_arn, "function_name": self.function_name}
        )
