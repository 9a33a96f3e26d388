"""Readiness: this region asks itself every few minutes whether a failover would work, and says so.

A second function built from the failover function's package (handlers/, entry point
handlers.failover.readiness_handler) runs the read-only checks of handlers/readiness.py on its own
schedule, with its own role (components/readiness_iam.py). It is separate from the failover function
on purpose: that function has a single reserved execution that its one-minute evaluations hold for
most of each minute, and nothing may delay a failover evaluation — not a readiness run, not its
throttling, not its errors (the failover function's error alarm stays about failovers). The readiness
function reserves nothing: an account short of concurrency shows up as a missing readiness datapoint,
which the not-ready alarm counts as not ready.

Signals: `Ready` (1/0) and one `ReadinessCheck` per check in the project's namespace; the latest
result in SSM (`<prefix>/failover/readiness`, compact JSON within a standard parameter's 4 KB); one
alarm into the region's topic when the region has been not ready (or silent) for
`readiness.alarmAfterMinutes`, and again when it recovers. Everything in this region.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from .config import StackSettings, standby_of
from .contracts import METRIC_NAMESPACE, READY_METRIC, ssm_prefix
from .failover_automation import ARCHITECTURE, PROJECT_ROOT, RESERVED_CONCURRENCY, RUNTIME, handler_archive_files
from .failover_iam import lambda_trust_policy, scheduler_trust_policy
from .naming import physical_name
from .posture import DEFAULT_POSTURE, PostureName
from .readiness_iam import ReadinessScope, readiness_policy, readiness_scheduler_policy

# The readiness function's entry point (handlers/failover.py); the CLI's `readiness --now` runs the same code.
READINESS_ENTRY_POINT = "handlers.failover.readiness_handler"
MEMORY_MB = 256
# One evaluation is some 25 calls with 3 s connect / 10 s read timeouts and at most 2 attempts locally,
# one attempt with the probe timeout to the peer and Route 53: well under a minute even when they are dark.
TIMEOUT_SECONDS = 60
LOG_RETENTION_DAYS = 30
# A late run is worthless (the next one is a few minutes away) and never retried: a missed datapoint is
# what the alarm treats as not ready.
MAX_EVENT_AGE_SECONDS = 60
MAX_RETRY_ATTEMPTS = 0


def schedule_expression(minutes: int) -> str:
    """EventBridge Scheduler's rate expression: `rate(1 minute)`, `rate(5 minutes)`."""
    return f"rate({minutes} minute{'s' if minutes != 1 else ''})"


def readiness_input() -> str:
    """The schedule's payload: a readiness run, with Scheduler's context attributes for correlation."""
    return json.dumps(
        {
            "action": "readiness",
            "schedule_arn": "<aws.scheduler.schedule-arn>",
            "scheduled_time": "<aws.scheduler.scheduled-time>",
            "execution_id": "<aws.scheduler.execution-id>",
            "attempt_number": "<aws.scheduler.attempt-number>",
        }
    )


def alarm_periods(schedule_minutes: int, alarm_after_minutes: int) -> int:
    """Evaluation periods of the not-ready alarm: one per scheduled evaluation over alarmAfterMinutes."""
    if alarm_after_minutes % schedule_minutes:
        raise ValueError(f"alarm_after_minutes {alarm_after_minutes} is not a multiple of schedule_minutes {schedule_minutes}")
    return alarm_after_minutes // schedule_minutes


@dataclass(frozen=True)
class ReadinessArgs:
    """What one region's readiness function needs; ids from other components may be Outputs."""

    stack: str
    region: str
    peer_region: str
    home_region: str
    ssm_prefix: str
    schedule_minutes: int
    alarm_after_minutes: int
    rpo_seconds: int
    consecutive_failures: int
    scale_min: int
    scale_desired: int
    scale_max: int
    standby_capacity: int
    backup_retention_days: int
    parameters: Mapping[str, Mapping[str, str]]
    credentials_source: str
    reserved_concurrency: int
    topic_arn: pulumi.Input[str]
    global_cluster_id: pulumi.Input[str]
    cluster_id: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    cluster_parameter_group: pulumi.Input[str]
    instance_parameter_group: pulumi.Input[str]
    secret_arn: pulumi.Input[str]
    asg_name: pulumi.Input[str]
    failover_function_name: pulumi.Input[str]
    failover_function_arn: pulumi.Input[str]
    failover_schedule_name: str
    failover_schedule_arn: pulumi.Input[str]
    health_check_ids: pulumi.Input[Mapping[str, pulumi.Input[str]]]
    cache_global_datastore_id: pulumi.Input[str] | None = None
    cache_replication_group_id: pulumi.Input[str] | None = None
    search_domain_arn: pulumi.Input[str] | None = None
    media_bucket: pulumi.Input[str] | None = None
    media_peer_bucket: pulumi.Input[str] | None = None
    release_parameter_name: str = ""
    handler_root: Path = PROJECT_ROOT
    tags: Mapping[str, str] = field(default_factory=dict)
    standby_posture: PostureName = DEFAULT_POSTURE
    """How this region stands by while the peer serves (magento-dr:standby.posture): the capacity check expects it."""

    def __post_init__(self) -> None:
        if self.region == self.peer_region:
            raise ValueError("ReadinessArgs.peer_region must differ from region")
        if self.home_region not in (self.region, self.peer_region):
            raise ValueError(f"ReadinessArgs.home_region {self.home_region!r} must be {self.region} or {self.peer_region}")
        if self.credentials_source not in ("owner", "replica", "copy"):
            raise ValueError(f"ReadinessArgs.credentials_source {self.credentials_source!r}: owner, replica or copy")
        if set(self.parameters) != {"cluster", "instance"}:
            raise ValueError("ReadinessArgs.parameters must hold 'cluster' and 'instance' (components/global_database.py)")
        alarm_periods(self.schedule_minutes, self.alarm_after_minutes)

    @classmethod
    def from_settings(
        cls,
        settings: StackSettings,
        *,
        parameters: Mapping[str, Mapping[str, str]],
        release_parameter_name: str,
        topic_arn: pulumi.Input[str],
        global_cluster_id: pulumi.Input[str],
        cluster_id: pulumi.Input[str],
        cluster_arn: pulumi.Input[str],
        cluster_parameter_group: pulumi.Input[str],
        instance_parameter_group: pulumi.Input[str],
        secret_arn: pulumi.Input[str],
        asg_name: pulumi.Input[str],
        failover_function_name: pulumi.Input[str],
        failover_function_arn: pulumi.Input[str],
        failover_schedule_name: str,
        failover_schedule_arn: pulumi.Input[str],
        health_check_ids: pulumi.Input[Mapping[str, pulumi.Input[str]]],
        cache_global_datastore_id: pulumi.Input[str] | None,
        cache_replication_group_id: pulumi.Input[str] | None,
        search_domain_arn: pulumi.Input[str],
        media_bucket: pulumi.Input[str],
        media_peer_bucket: pulumi.Input[str],
    ) -> ReadinessArgs:
        """Args from the stack settings plus the ids other components own (what __main__.py passes)."""
        return cls(
            stack=settings.stack,
            region=settings.region,
            peer_region=settings.peer.region,
            home_region=settings.regions[0],  # the writer belongs in the primary's region
            ssm_prefix=ssm_prefix(settings.stack),
            schedule_minutes=settings.readiness.schedule_minutes,
            alarm_after_minutes=settings.readiness.alarm_after_minutes,
            rpo_seconds=settings.failover.rpo_seconds,
            consecutive_failures=settings.failover.consecutive_failures,
            scale_min=settings.web.min_size,
            scale_desired=settings.web.desired_capacity,
            scale_max=settings.web.max_size,
            standby_capacity=settings.web.standby_capacity,
            standby_posture=standby_of(settings)[0],
            backup_retention_days=settings.database.backup_retention_days,
            parameters=parameters,
            # The primary owns the secret and replicates it; a secondary reads the replica or keeps a copy.
            credentials_source="owner" if settings.is_primary else settings.database.credentials,
            reserved_concurrency=RESERVED_CONCURRENCY,
            topic_arn=topic_arn,
            global_cluster_id=global_cluster_id,
            cluster_id=cluster_id,
            cluster_arn=cluster_arn,
            cluster_parameter_group=cluster_parameter_group,
            instance_parameter_group=instance_parameter_group,
            secret_arn=secret_arn,
            asg_name=asg_name,
            failover_function_name=failover_function_name,
            failover_function_arn=failover_function_arn,
            failover_schedule_name=failover_schedule_name,
            failover_schedule_arn=failover_schedule_arn,
            health_check_ids=health_check_ids,
            cache_global_datastore_id=cache_global_datastore_id,
            cache_replication_group_id=cache_replication_group_id,
            search_domain_arn=search_domain_arn,
            media_bucket=media_bucket,
            media_peer_bucket=media_peer_bucket,
            release_parameter_name=release_parameter_name,
        )


def readiness_environment(args: ReadinessArgs, *, search_domain: Any) -> dict[str, Any]:
    """Every variable the readiness function reads (handlers/settings.py READINESS_SHARED + READINESS_ENV_VARS)."""
    env: dict[str, Any] = {
        "MDR_STACK": args.stack,
        "MDR_REGION": args.region,
        "MDR_PEER_REGION": args.peer_region,
        "MDR_HOME_REGION": args.home_region,
        "MDR_GLOBAL_CLUSTER_ID": args.global_cluster_id,
        "MDR_LOCAL_CLUSTER_ID": args.cluster_id,
        "MDR_LOCAL_CLUSTER_ARN": args.cluster_arn,
        "MDR_ASG_NAME": args.asg_name,
        "MDR_SCALE_MIN": str(args.scale_min),
        "MDR_SCALE_DESIRED": str(args.scale_desired),
        "MDR_SCALE_MAX": str(args.scale_max),
        "MDR_SSM_PREFIX": args.ssm_prefix,
        "MDR_RPO_SECONDS": str(args.rpo_seconds),
        "MDR_CONSECUTIVE_FAILURES": str(args.consecutive_failures),
        "MDR_STANDBY_POSTURE": args.standby_posture,
        "MDR_STANDBY_CAPACITY": str(args.standby_capacity),
        "MDR_FAILOVER_FUNCTION": args.failover_function_name,
        "MDR_FAILOVER_SCHEDULE": args.failover_schedule_name,
        "MDR_RESERVED_CONCURRENCY": str(args.reserved_concurrency),
        "MDR_DB_CLUSTER_PARAMETER_GROUP": args.cluster_parameter_group,
        "MDR_DB_INSTANCE_PARAMETER_GROUP": args.instance_parameter_group,
        "MDR_DB_PARAMETERS": json.dumps({k: dict(v) for k, v in args.parameters.items()}, sort_keys=True, separators=(",", ":")),
        "MDR_DB_BACKUP_RETENTION_DAYS": str(args.backup_retention_days),
        "MDR_DB_SECRET_ARN": args.secret_arn,
        "MDR_DB_SECRET_ROLE": args.credentials_source,
        "MDR_HEALTH_CHECK_IDS": pulumi.Output.from_input(args.health_check_ids).apply(lambda ids: json.dumps(dict(sorted(ids.items())))),
        "MDR_METRIC_NAMESPACE": METRIC_NAMESPACE,
        "MDR_LOG_LEVEL": "INFO",
    }
    if args.release_parameter_name:
        env["MDR_RELEASE_PARAMETER"] = args.release_parameter_name
    if args.cache_global_datastore_id is not None and args.cache_replication_group_id is not None:
        env["MDR_CACHE_GLOBAL_DATASTORE_ID"] = args.cache_global_datastore_id
        env["MDR_CACHE_REPLICATION_GROUP_ID"] = args.cache_replication_group_id
    if search_domain is not None:
        env["MDR_SEARCH_DOMAIN"] = search_domain
    if args.media_bucket is not None and args.media_peer_bucket is not None:
        env["MDR_MEDIA_BUCKET"] = args.media_bucket
        env["MDR_MEDIA_PEER_BUCKET"] = args.media_peer_bucket
    return env


def domain_name_of(arn: str) -> str:
    """An OpenSearch domain's name from its ARN (arn:aws:es:<region>:<account>:domain/<name>)."""
    return arn.split(":domain/", 1)[1] if ":domain/" in arn else ""


class Readiness(pulumi.ComponentResource):
    """This region's readiness function, its schedule and role, and the not-ready alarm."""

    function_name: pulumi.Output[str]
    """The readiness function (the CLI: `python -m handlers.failover readiness` with its environment)."""
    function_arn: pulumi.Output[str]
    """Its ARN."""
    parameter_name: str
    """Where the latest result is stored (SSM, this region)."""
    alarm_name: pulumi.Output[str]
    """The not-ready alarm (notifies the region's topic on ALARM and on OK)."""
    alarm_arn: pulumi.Output[str]
    """Its ARN."""
    search_domain: pulumi.Output[str] | None
    """This region's OpenSearch domain name (from its ARN), or None."""

    def __init__(self, name: str, args: ReadinessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:Readiness", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        function_physical = physical_name(args.stack, args.region, "readiness")
        schedule_physical = physical_name(args.stack, args.region, "readiness-evaluate")
        search_domain = None if args.search_domain_arn is None else pulumi.Output.from_input(args.search_domain_arn).apply(domain_name_of)

        log_group = aws.cloudwatch.LogGroup(f"{name}-logs", name=f"/aws/lambda/{function_physical}", retention_in_days=LOG_RETENTION_DAYS, opts=child)
        role = aws.iam.Role(
            f"{name}-role",
            description=f"magento-dr {args.stack}: readiness evaluation in {args.region} (read-only)",
            assume_role_policy=caller.account_id.apply(lambda account: json.dumps(lambda_trust_policy(account))),
            opts=child,
        )
        scope = pulumi.Output.all(
            partition=partition.partition,
            account_id=caller.account_id,
            global_cluster_id=args.global_cluster_id,
            cluster_arn=args.cluster_arn,
            cluster_parameter_group=args.cluster_parameter_group,
            instance_parameter_group=args.instance_parameter_group,
            log_group_arn=log_group.arn,
            secret_arn=args.secret_arn,
            failover_function_arn=args.failover_function_arn,
            failover_schedule_arn=args.failover_schedule_arn,
            health_check_ids=pulumi.Output.from_input(args.health_check_ids).apply(lambda ids: tuple(sorted(str(i) for i in ids.values()))),
            cache_global_datastore_id=args.cache_global_datastore_id or "",
            cache_replication_group_id=args.cache_replication_group_id or "",
            search_domain=search_domain if search_domain is not None else "",
            media_bucket=args.media_bucket or "",
        ).apply(
            lambda v: ReadinessScope(
                region=args.region,
                peer_region=args.peer_region,
                ssm_prefix=args.ssm_prefix,
                metric_namespace=METRIC_NAMESPACE,
                release_parameter_name=args.release_parameter_name,
                **v,
            )
        )
        policy = aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=scope.apply(lambda s: json.dumps(readiness_policy(s))), opts=child)
        function = aws.lambda_.Function(
            f"{name}-function",
            name=function_physical,
            description=f"magento-dr {args.stack}: would a failover work? Read-only readiness of {args.region}",
            role=role.arn,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=READINESS_ENTRY_POINT,
            code=pulumi.AssetArchive({key: pulumi.FileAsset(str(path)) for key, path in handler_archive_files(args.handler_root).items()}),
            memory_size=MEMORY_MB,
            timeout=TIMEOUT_SECONDS,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=readiness_environment(args, search_domain=search_domain)),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, log_group]),
        )
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            function_name=function.name,
            maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS,
            maximum_retry_attempts=MAX_RETRY_ATTEMPTS,
            opts=child,
        )
        schedule_arn = pulumi.Output.concat(
            "arn:", partition.partition, ":scheduler:", args.region, ":", caller.account_id, ":schedule/default/", schedule_physical
        )
        scheduler_role = aws.iam.Role(
            f"{name}-scheduler-role",
            description=f"magento-dr {args.stack}: EventBridge Scheduler invokes the readiness function",
            assume_role_policy=pulumi.Output.all(caller.account_id, schedule_arn).apply(lambda v: json.dumps(scheduler_trust_policy(v[0], v[1]))),
            opts=child,
        )
        scheduler_role_policy = aws.iam.RolePolicy(
            f"{name}-scheduler-policy",
            role=scheduler_role.id,
            policy=function.arn.apply(lambda arn: json.dumps(readiness_scheduler_policy(arn))),
            opts=child,
        )
        aws.scheduler.Schedule(
            f"{name}-schedule",
            name=schedule_physical,
            description=f"Evaluate whether a failover would work, every {args.schedule_minutes} minute(s)",
            schedule_expression=schedule_expression(args.schedule_minutes),
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=function.arn,
                role_arn=scheduler_role.arn,
                input=readiness_input(),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS, maximum_retry_attempts=0),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[scheduler_role_policy]),
        )
        periods = alarm_periods(args.schedule_minutes, args.alarm_after_minutes)
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-not-ready",
            name=physical_name(args.stack, args.region, "not-ready"),
            alarm_description=(
                f"{args.region} has not been ready to fail over (or has not reported) for {args.alarm_after_minutes} minutes: "
                f"`python -m handlers.failover readiness` says which check fails and the fix (README, 'Where to look first'). "
                f"OK means ready again."
            ),
            namespace=METRIC_NAMESPACE,
            metric_name=READY_METRIC,
            dimensions={"Stack": args.stack, "Region": args.region},
            # The lowest Ready in each scheduled evaluation's period: one not-ready run counts.
            statistic="Minimum",
            period=args.schedule_minutes * 60,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            comparison_operator="LessThanThreshold",
            threshold=1,
            # Silence is not readiness: a readiness function that stopped reporting alarms too.
            treat_missing_data="breaching",
            alarm_actions=[args.topic_arn],
            ok_actions=[args.topic_arn],
            opts=child,
        )
        self.function_name = function.name
        self.function_arn = function.arn
        self.parameter_name = f"{args.ssm_prefix}/failover/readiness"
        self.alarm_name = alarm.name
        self.alarm_arn = alarm.arn
        self.search_domain = search_domain
        self.register_outputs(
            {
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "parameter_name": self.parameter_name,
                "alarm_name": self.alarm_name,
                "alarm_arn": self.alarm_arn,
            }
        )
