"""FailoverAutomation: the failover function (handlers/) in this region, its triggers, permissions and alarms.

Each region runs its own copy. It probes the peer on a schedule in this region
and promotes this region's cluster when the peer is lost, so the same code
gives failover (in the secondary) and failback (in the primary). Nothing it
needs at failover time lives in the peer region or in us-east-1's control
planes: the schedule, the RDS-event rule, the role, the topic, the alarms and
every endpoint the function calls on the failover path are in this region.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from . import rto, varnish
from .config import StackSettings, front_door_of, standby_of
from .contracts import LEASE_BLOCKED_METRIC, METRIC_NAMESPACE, WRITER_METRIC, ssm_prefix
from .failover_iam import (
    FailoverScope,
    function_policy,
    lambda_trust_policy,
    peer_promotion_policy,
    scheduler_policy,
    scheduler_trust_policy,
)
from .global_database import CA_CERTIFICATE_ID
from .lag_alarm import lag_alarm_queries
from .naming import (
    FAILOVER_INSTANCE_OWN_TAG_KEYS,
    MAX_TAGS_PER_RESOURCE,
    failover_instance_default_tags,
    failover_instance_tag_count,
    health_url,
    physical_name,
    tag_problem,
)
from .posture import DEFAULT_POSTURE, MAX_FAILOVER_DATABASE_INSTANCES, POSTURES, PostureName
from .providers import stack_default_tags
from .release import release_parameter_name
from .traffic import WRITER_ALARM_EVALUATION_PERIODS
from .varnish import FULL_PAGE_CACHES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HANDLER_PACKAGE = "handlers"
# Modules of handlers/ that another function ships on its own (components/writer_gate.py): not in this archive.
SEPARATELY_PACKAGED = ("writer_gate.py",)
# The Lambda entry point (handlers/failover.py); the CLI calls the same code.
HANDLER_ENTRY_POINT = "handlers.failover.lambda_handler"
# Python 3.12+ for the handler's typing; Graviton for price. Lambda's Python
# runtime ships boto3, so the archive carries only our code.
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
RUNTIME = "python3.13"
ARCHITECTURE = "arm64"
MEMORY_MB = 256
# Lambda's maximum. One invocation covers probing, the promotion wait and the
# post-promotion steps' own budgets (below), so a normal failover finishes in
# the invocation that started it. One that dies anyway (timeout, out of memory)
# stops renewing its lease, which lapses LEASE_TTL_SECONDS later; the next
# scheduled evaluation resumes from the persisted operation.
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
TIMEOUT_SECONDS = 900
# The handler's deadline for each wait (MDR_PROMOTION_TIMEOUT_SECONDS): five
# times AWS's typical promotion figure.
PROMOTION_TIMEOUT_SECONDS = 5 * rto.AURORA_PROMOTION_TYPICAL_SECONDS
# The post-promotion steps' budgets per invocation (MDR_CACHE_FAILOVER_TIMEOUT_SECONDS,
# MDR_RUN_COMMAND_TIMEOUT_SECONDS); a step that runs out is recorded failed and retried.
CACHE_FAILOVER_BUDGET_SECONDS = 120
RUN_COMMAND_BUDGET_SECONDS = 180
# Per invocation, how long a preparation waits for the first DB instance it added (MDR_DB_INSTANCE_TIMEOUT_SECONDS).
# An instance takes about twenty minutes (components/rto.py DB_INSTANCE_CREATE_SECONDS), far more than one invocation:
# the invocation that sees it available promotes, the ones before resume the wait. The wait ends before the next
# scheduled evaluation is due (rto.SCHEDULE_PERIOD_SECONDS): with reserved concurrency 1 a longer one would throttle an
# event every minute, which Lambda's asynchronous queue retries and, past MAX_EVENT_AGE_SECONDS, sends to the dead-letter
# queue (tests/handlers/test_settings.py checks both this and the whole invocation against TIMEOUT_SECONDS).
DB_INSTANCE_WAIT_SECONDS = rto.PREPARATION_WAIT_SECONDS
# A preparation adds at most as many instances as a secondary cluster holds (components/posture.py).
MAX_DB_INSTANCES_TO_ADD = MAX_FAILOVER_DATABASE_INSTANCES
# The failover lease's TTL (handlers/lease.py LEASE_TTL_SECONDS; tests/test_contracts.py
# keeps the two equal): a holder that dies keeps others out this long after its last renewal.
LEASE_TTL_SECONDS = 120
# One evaluation at a time: a second concurrent promotion attempt is never useful.
RESERVED_CONCURRENCY = 1
# Events queued while a promotion runs (scheduled ticks, RDS events) wait for it
# instead of being dropped; a failed evaluation is not retried (the next tick is the retry).
# https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html
MAX_EVENT_AGE_SECONDS = TIMEOUT_SECONDS + 60
MAX_RETRY_ATTEMPTS = 0
LOG_RETENTION_DAYS = 90
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600  # SQS maximum
# No evaluation published the writer metric for this long: the automation is dead.
HEARTBEAT_MINUTES = 10

# RDS publishes global-database switchover/failover events in this category.
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Events.Messages.html#USER_Events.Messages.global-cluster
RDS_GLOBAL_FAILOVER_CATEGORY = "global-failover"

# Where Magento lives on the web instances and who runs it (components/magento_runtime.py, user data).
MAGENTO_ROOT = "/var/www/magento"
WEB_USER = "nginx"
# Magento's post-failover commands: flush every cache type (incl. full-page
# cache, whose entries may predate the failover) and rebuild the search index.
POST_FAILOVER_COMMANDS = (
    "bin/magento cache:flush",
    "bin/magento indexer:reindex catalogsearch_fulltext",
)
RUN_COMMAND_TIMEOUT_SECONDS = 600  # handlers/aws.py sends with TimeoutSeconds=600


# ---------------------------------------------------------------- pure helpers
def handler_archive_files(root: Path = PROJECT_ROOT) -> dict[str, Path]:
    """The handler package's source files, keyed by their path inside the zip (`handlers/...`).

    Only `*.py` under handlers/: no tests, no __pycache__, no vendored boto3.
    """
    package = root / HANDLER_PACKAGE
    if not (package / "failover.py").is_file():
        raise FileNotFoundError(f"{package}/failover.py is missing; the failover function cannot be packaged")
    files: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(root)
        parts = relative.parts
        if any(part == "__pycache__" or part.startswith(("test", ".")) for part in parts[1:]) or parts[-1] in SEPARATELY_PACKAGED:
            continue
        files[relative.as_posix()] = path
    return files


def post_failover_commands(full_page_cache: str = "redis") -> list[str]:
    """The shell lines the post-failover document runs (as root; Magento's own commands as the web user).

    With Varnish, the region's purge list is refreshed first (so `cache:flush` reaches every instance, the
    scale-up's included) and every Varnish of the region is emptied last, each one confirming
    (components/varnish.py): nothing cached before the failover, or while the index was rebuilt, survives.
    """
    if full_page_cache not in FULL_PAGE_CACHES:
        raise ValueError(f"post_failover_commands: full_page_cache {full_page_cache!r} is not one of {FULL_PAGE_CACHES}")
    magento = [f"sudo -u {WEB_USER} php {command}" for command in POST_FAILOVER_COMMANDS]
    if full_page_cache == "varnish":
        return [*varnish.POST_FAILOVER_BEFORE, *magento, *varnish.POST_FAILOVER_AFTER]
    return magento


def post_failover_command_lines(full_page_cache: str = "redis") -> list[str]:
    """The document's runCommand: a failing line fails the command, which the handler reports and retries."""
    return ["set -euo pipefail", *post_failover_commands(full_page_cache)]


def post_failover_document(full_page_cache: str = "redis") -> dict[str, Any]:
    """SSM Command document (schema 2.2) with Magento's post-failover commands."""
    return {
        "schemaVersion": "2.2",
        "description": "magento-dr: Magento commands after this region became the writer",
        "mainSteps": [
            {
                "action": "aws:runShellScript",
                "name": "magentoPostFailover",
                "precondition": {"StringEquals": ["platformType", "Linux"]},
                "inputs": {
                    "workingDirectory": MAGENTO_ROOT,
                    "timeoutSeconds": str(RUN_COMMAND_TIMEOUT_SECONDS),
                    "runCommand": post_failover_command_lines(full_page_cache),
                },
            }
        ],
    }


def evaluate_input() -> str:
    """The scheduler's payload: an evaluation, with Scheduler's context attributes for correlation."""
    return json.dumps(
        {
            "action": "evaluate",
            "schedule_arn": "<aws.scheduler.schedule-arn>",
            "scheduled_time": "<aws.scheduler.scheduled-time>",
            "execution_id": "<aws.scheduler.execution-id>",
            "attempt_number": "<aws.scheduler.attempt-number>",
        }
    )


def rds_event_pattern() -> dict[str, Any]:
    """RDS global-database failover/switchover events of this region (bookkeeping triggers)."""
    return {
        "source": ["aws.rds"],
        "detail-type": ["RDS DB Cluster Event"],
        "detail": {"EventCategories": [RDS_GLOBAL_FAILOVER_CATEGORY]},
    }


def heartbeat_periods(minutes: int = HEARTBEAT_MINUTES) -> int:
    """Evaluation periods (60 s each) of the heartbeat alarm."""
    return max(1, math.ceil(minutes * 60 / rto.SCHEDULE_PERIOD_SECONDS))


def longest_lease_hold_seconds() -> int:
    """How long a live holder can legitimately keep the lease: the wait for a DB instance it added, the
    promotion wait and both step budgets, plus one TTL for a holder that died at the end of it. Scheduled
    evaluations are blocked only by a holder outside the function's single concurrency slot (the operator's
    CLI) or by a dead one; blocked longer than this, something is wrong (RUNBOOK §6.4)."""
    return (
        DB_INSTANCE_WAIT_SECONDS + PROMOTION_TIMEOUT_SECONDS + CACHE_FAILOVER_BUDGET_SECONDS + RUN_COMMAND_BUDGET_SECONDS + LEASE_TTL_SECONDS
    )


#: Minutes without a blocked datapoint (a dropped or late evaluation) the lease-blocked alarm tolerates.
LEASE_ALARM_MISSED_MINUTES = 2


def lease_blocked_periods() -> int:
    """Blocked minutes (60 s periods) that fire the lease-blocked alarm: one more than the scheduled evaluations a
    legitimate holder can block (one a minute over longest_lease_hold_seconds, both ends included)."""
    return longest_lease_hold_seconds() // rto.SCHEDULE_PERIOD_SECONDS + 2


# ---------------------------------------------------------------- args
@dataclass(frozen=True)
class FailoverAutomationArgs:
    """What one region's failover function needs; ids from other components may be Outputs."""

    stack: str
    region: str
    peer_region: str
    peer_health_url: str
    local_health_url: str
    ssm_prefix: str
    mode: str
    rpo_seconds: int
    rto_seconds: int
    consecutive_failures: int
    probe_interval_seconds: int
    health_check_interval_seconds: int
    health_check_failure_threshold: int
    scale_min: int
    scale_desired: int
    scale_max: int
    topic_arn: pulumi.Input[str]
    topic_key_arn: pulumi.Input[str]
    global_cluster_id: pulumi.Input[str]
    cluster_id: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    asg_name: pulumi.Input[str]
    instance_tag_key: pulumi.Input[str]
    instance_tag_value: pulumi.Input[str]
    cache_global_datastore_id: pulumi.Input[str] | None = None
    cache_replication_group_id: pulumi.Input[str] | None = None
    release_parameter_name: str = ""
    """The release version parameter (components/release.py); the handler reports both regions' values."""
    peer_cluster_arn: pulumi.Input[str] | None = None
    """Secondary: the primary's cluster (its export dbClusterArn), named in this function's promotion grant."""
    peer_function_role_name: pulumi.Input[str] | None = None
    """Secondary: the primary's function role (its export failoverRoleName), which gets the grant on this
    region's cluster that the primary, deployed first, cannot write itself."""
    full_page_cache: str = "redis"
    """magento-dr:web.fullPageCache: with varnish, the post-failover document also empties every Varnish of the region."""
    handler_root: Path = PROJECT_ROOT
    stack_tags: Mapping[str, str] = field(default_factory=dict)
    """The stack's default tags in this region (its provider's): the DB instances the function adds carry them too
    (MDR_DB_INSTANCE_TAGS), beside their Name and the created-by mark."""
    front_door: rto.FrontDoor = "route53"
    """Where the shop's name leads (the accelerator changes the RTO budget's traffic path)."""
    standby_posture: PostureName = DEFAULT_POSTURE
    """magento-dr:standby.posture of this region while it stands by (MDR_STANDBY_POSTURE; its RTO budget)."""
    db_instances_to_add: int = 1
    """DB instances the function adds before a promotion when this region's cluster has none available
    (MDR_DB_INSTANCES_TO_ADD): pilot light, standby.failoverDatabaseInstances; warm and hot, 1 (a repair)."""
    db_instance_class: str = ""
    """Their class (database.instanceClass); "" adds none: the function refuses to promote a headless cluster."""
    db_instance_parameter_group: pulumi.Input[str] | None = None
    """The instance parameter group they use (the stack's own)."""
    db_subnet_group: pulumi.Input[str] | None = None
    """The cluster's DB subnet group (only named in the function's CreateDBInstance grant: see failover_iam)."""
    db_performance_insights_kms_key_arn: pulumi.Input[str] | None = None
    """The KMS key of their Performance Insights (the database key, as the stack's own instances use)."""

    def __post_init__(self) -> None:
        if self.region == self.peer_region:
            raise ValueError("FailoverAutomationArgs.peer_region must differ from region; the function promotes this region when the peer is lost")
        if self.mode not in ("automatic", "notify"):
            raise ValueError(f"FailoverAutomationArgs.mode {self.mode!r}: use automatic or notify")
        if not self.ssm_prefix.startswith("/") or self.ssm_prefix.endswith("/"):
            raise ValueError(f"FailoverAutomationArgs.ssm_prefix {self.ssm_prefix!r} must look like /magento-dr/<stack>")
        if not self.peer_health_url.startswith("https://"):
            raise ValueError(f"FailoverAutomationArgs.peer_health_url {self.peer_health_url!r} must be an https URL (components/naming.health_url)")
        if self.consecutive_failures < 2:
            raise ValueError("FailoverAutomationArgs.consecutive_failures must be at least 2; one failed probe never justifies data loss")
        if not 0 <= self.scale_min <= self.scale_desired <= self.scale_max:
            raise ValueError(
                f"FailoverAutomationArgs: production capacity must satisfy min <= desired <= max, got "
                f"{self.scale_min}/{self.scale_desired}/{self.scale_max}"
            )
        if (self.cache_global_datastore_id is None) != (self.cache_replication_group_id is None):
            raise ValueError("FailoverAutomationArgs: pass cache_global_datastore_id and cache_replication_group_id together")
        if self.standby_posture not in POSTURES:
            raise ValueError(f"FailoverAutomationArgs.standby_posture {self.standby_posture!r}: use one of {', '.join(POSTURES)}")
        if not 1 <= self.db_instances_to_add <= MAX_DB_INSTANCES_TO_ADD:
            raise ValueError(f"FailoverAutomationArgs.db_instances_to_add {self.db_instances_to_add}: 1 to {MAX_DB_INSTANCES_TO_ADD} (a cluster's instances)")
        if self.db_instance_class and not self.db_instance_class.startswith("db."):
            raise ValueError(f"FailoverAutomationArgs.db_instance_class {self.db_instance_class!r}: an RDS class like db.r7g.large, or '' to add none")
        for key, value in self.stack_tags.items():
            if problem := tag_problem(key, value):
                raise ValueError(f"FailoverAutomationArgs.stack_tags: {problem}; fix it in magento-dr:tags")
        if (count := failover_instance_tag_count(self.stack_tags)) > MAX_TAGS_PER_RESOURCE:
            raise ValueError(
                f"FailoverAutomationArgs.stack_tags: a DB instance the function adds would carry {count} tags (the stack's and "
                f"{', '.join(FAILOVER_INSTANCE_OWN_TAG_KEYS)}), over AWS's {MAX_TAGS_PER_RESOURCE}; remove some from magento-dr:tags"
            )
        if self.full_page_cache not in FULL_PAGE_CACHES:
            raise ValueError(f"FailoverAutomationArgs.full_page_cache {self.full_page_cache!r}: use one of {', '.join(FULL_PAGE_CACHES)}")
        self.budget()  # raises rto.RtoError for settings the schedule cannot serve

    @classmethod
    def from_settings(
        cls,
        settings: StackSettings,
        *,
        topic_arn: pulumi.Input[str],
        topic_key_arn: pulumi.Input[str],
        global_cluster_id: pulumi.Input[str],
        cluster_id: pulumi.Input[str],
        cluster_arn: pulumi.Input[str],
        asg_name: pulumi.Input[str],
        instance_tag_key: pulumi.Input[str],
        instance_tag_value: pulumi.Input[str],
        cache_global_datastore_id: pulumi.Input[str] | None = None,
        cache_replication_group_id: pulumi.Input[str] | None = None,
        peer_cluster_arn: pulumi.Input[str] | None = None,
        peer_function_role_name: pulumi.Input[str] | None = None,
        db_instance_parameter_group: pulumi.Input[str] | None = None,
        db_subnet_group: pulumi.Input[str] | None = None,
        db_performance_insights_kms_key_arn: pulumi.Input[str] | None = None,
    ) -> FailoverAutomationArgs:
        """Args from the stack settings plus the ids other components own (what __main__.py passes)."""
        failover = settings.failover
        posture, to_add = standby_of(settings)
        return cls(
            stack=settings.stack,
            region=settings.region,
            peer_region=settings.peer.region,
            peer_health_url=health_url(settings.dns.shop_hostname, settings.peer.region),
            local_health_url=health_url(settings.dns.shop_hostname, settings.region),
            ssm_prefix=ssm_prefix(settings.stack),
            mode=failover.mode,
            rpo_seconds=failover.rpo_seconds,
            rto_seconds=failover.rto_seconds,
            consecutive_failures=failover.consecutive_failures,
            probe_interval_seconds=failover.probe_interval_seconds,
            health_check_interval_seconds=failover.health_check_interval_seconds,
            health_check_failure_threshold=failover.health_check_failure_threshold,
            # After a promotion this region runs the shop: production capacity.
            scale_min=settings.web.min_size,
            scale_desired=settings.web.desired_capacity,
            scale_max=settings.web.max_size,
            topic_arn=topic_arn,
            topic_key_arn=topic_key_arn,
            global_cluster_id=global_cluster_id,
            cluster_id=cluster_id,
            cluster_arn=cluster_arn,
            asg_name=asg_name,
            instance_tag_key=instance_tag_key,
            instance_tag_value=instance_tag_value,
            cache_global_datastore_id=cache_global_datastore_id,
            cache_replication_group_id=cache_replication_group_id,
            release_parameter_name=release_parameter_name(settings.dns.shop_hostname),
            peer_cluster_arn=peer_cluster_arn,
            peer_function_role_name=peer_function_role_name,
            front_door=front_door_of(failover),
            full_page_cache=settings.web.full_page_cache,
            stack_tags=stack_default_tags(settings, settings.region),
            standby_posture=posture,
            db_instances_to_add=to_add,
            # Whichever posture, a promotion needs an available instance: the function can add one as the stack declares them.
            db_instance_class=settings.database.instance_class,
            db_instance_parameter_group=db_instance_parameter_group,
            db_subnet_group=db_subnet_group,
            db_performance_insights_kms_key_arn=db_performance_insights_kms_key_arn,
        )

    @property
    def probe_timeout_seconds(self) -> int:
        """MDR_PROBE_TIMEOUT_SECONDS: the figure the RTO arithmetic assumes for one signal of a probe."""
        return rto.PROBE_TIMEOUT_SECONDS

    @property
    def probes_per_invocation(self) -> int:
        """MDR_PROBES_PER_INVOCATION: enough probes at the configured cadence to cover the whole schedule period."""
        return rto.probes_per_invocation(
            probe_interval_seconds=self.probe_interval_seconds, probe_timeout_seconds=self.probe_timeout_seconds
        )

    def budget(self) -> rto.RtoBudget:
        return rto.failover_budget(
            probe_interval_seconds=self.probe_interval_seconds,
            consecutive_failures=self.consecutive_failures,
            health_check_interval_seconds=self.health_check_interval_seconds,
            health_check_failure_threshold=self.health_check_failure_threshold,
            probe_timeout_seconds=self.probe_timeout_seconds,
            front_door=self.front_door,
            posture=self.standby_posture,
            full_page_cache=self.full_page_cache,
        )


def handler_environment(args: FailoverAutomationArgs, *, topic_arn: Any, document_name: Any) -> dict[str, Any]:
    """Every MDR_* variable the handler reads (handlers/settings.py ENV_VARS), from args.

    Deliberately unset: MDR_PEER_SSM_PREFIX (the peer fences itself; writing
    to the peer region is not on the failover path) and the handler's timing
    knobs whose defaults we accept (poll, lag look-back, boto3 timeouts). The
    step budgets are set: the lease-blocked alarm is sized from them.
    """
    env: dict[str, Any] = {
        "MDR_STACK": args.stack,
        "MDR_REGION": args.region,
        "MDR_PEER_REGION": args.peer_region,
        "MDR_GLOBAL_CLUSTER_ID": args.global_cluster_id,
        "MDR_LOCAL_CLUSTER_ID": args.cluster_id,
        "MDR_LOCAL_CLUSTER_ARN": args.cluster_arn,
        "MDR_PEER_HEALTH_URL": args.peer_health_url,
        "MDR_LOCAL_HEALTH_URL": args.local_health_url,
        "MDR_ASG_NAME": args.asg_name,
        "MDR_SCALE_MIN": str(args.scale_min),
        "MDR_SCALE_DESIRED": str(args.scale_desired),
        "MDR_SCALE_MAX": str(args.scale_max),
        "MDR_SSM_PREFIX": args.ssm_prefix,
        "MDR_TOPIC_ARN": topic_arn,
        "MDR_MODE": args.mode,
        "MDR_RPO_SECONDS": str(args.rpo_seconds),
        "MDR_CONSECUTIVE_FAILURES": str(args.consecutive_failures),
        "MDR_PROBE_INTERVAL_SECONDS": str(args.probe_interval_seconds),
        "MDR_PROBES_PER_INVOCATION": str(args.probes_per_invocation),
        "MDR_PROBE_TIMEOUT_SECONDS": str(args.probe_timeout_seconds),
        "MDR_PROMOTION_TIMEOUT_SECONDS": str(PROMOTION_TIMEOUT_SECONDS),
        "MDR_CACHE_FAILOVER_TIMEOUT_SECONDS": str(CACHE_FAILOVER_BUDGET_SECONDS),
        "MDR_RUN_COMMAND_TIMEOUT_SECONDS": str(RUN_COMMAND_BUDGET_SECONDS),
        "MDR_RUN_COMMAND_DOCUMENT": document_name,
        "MDR_INSTANCE_TAG_KEY": args.instance_tag_key,
        "MDR_INSTANCE_TAG_VALUE": args.instance_tag_value,
        "MDR_METRIC_NAMESPACE": METRIC_NAMESPACE,
        "MDR_LOG_LEVEL": "INFO",
        "MDR_STANDBY_POSTURE": args.standby_posture,
        "MDR_DB_INSTANCES_TO_ADD": str(args.db_instances_to_add),
        "MDR_DB_INSTANCE_TIMEOUT_SECONDS": str(DB_INSTANCE_WAIT_SECONDS),
    }
    if args.db_instance_class:
        env["MDR_DB_INSTANCE_CLASS"] = args.db_instance_class
        env["MDR_DB_CA_CERTIFICATE"] = CA_CERTIFICATE_ID
        # Tagged like every resource the stack declares: an organisation's tag policy must not refuse them mid-outage.
        env["MDR_DB_INSTANCE_TAGS"] = json.dumps(failover_instance_default_tags(args.stack_tags), sort_keys=True)
    if args.db_instance_parameter_group is not None:
        env["MDR_DB_INSTANCE_PARAMETER_GROUP"] = args.db_instance_parameter_group
    if args.db_performance_insights_kms_key_arn is not None:
        env["MDR_DB_PERFORMANCE_INSIGHTS_KMS_KEY"] = args.db_performance_insights_kms_key_arn
    if args.release_parameter_name:
        env["MDR_RELEASE_PARAMETER"] = args.release_parameter_name
    if args.cache_global_datastore_id is not None and args.cache_replication_group_id is not None:
        env["MDR_CACHE_GLOBAL_DATASTORE_ID"] = args.cache_global_datastore_id
        env["MDR_CACHE_REPLICATION_GROUP_ID"] = args.cache_replication_group_id
    return env


# ---------------------------------------------------------------- component
class FailoverAutomation(pulumi.ComponentResource):
    """This region's failover function with its schedule, RDS-event rule, role, dead letters and alarms."""

    function_name: pulumi.Output[str]
    """Name of the failover function (invoke it with {"action": "status"} to see the state)."""
    function_arn: pulumi.Output[str]
    """ARN of the failover function."""
    role_arn: pulumi.Output[str]
    """The function's only role."""
    role_name: pulumi.Output[str]
    """The role's name (the secondary adds the grant on its own cluster to the primary's)."""
    dead_letter_queue_url: pulumi.Output[str]
    """Where failed asynchronous evaluations and undeliverable schedule events land."""
    run_command_document_name: pulumi.Output[str]
    """SSM Command document with Magento's post-failover commands."""
    writer_alarm_name: pulumi.Output[str]
    """Alarm that is OK only while this region holds the Aurora writer (a Route 53 health check may follow it)."""
    writer_alarm_arn: pulumi.Output[str]
    """ARN of the writer alarm."""
    alarm_names: pulumi.Output[list[str]]
    """Every alarm this component created (all notify the region's topic)."""
    rto_budget: dict[str, Any]
    """The worst-case failover arithmetic (plain data; see components/rto.py)."""
    schedule_name: str
    """The evaluation schedule (default group); the readiness check reads its state."""
    schedule_arn: pulumi.Output[str]
    """Its ARN."""

    def __init__(self, name: str, args: FailoverAutomationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:FailoverAutomation", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        function_physical = physical_name(args.stack, args.region, "failover")
        schedule_physical = physical_name(args.stack, args.region, "failover-evaluate")

        # -- packaging: handlers/*.py only, with handlers/ at the zip root
        archive = pulumi.AssetArchive(
            {key: pulumi.FileAsset(str(path)) for key, path in handler_archive_files(args.handler_root).items()}
        )

        # -- the command the function runs on one web instance after promotion
        document = aws.ssm.Document(
            f"{name}-post-failover",
            name=physical_name(args.stack, args.region, "post-failover"),
            document_type="Command",
            document_format="JSON",
            content=json.dumps(post_failover_document(args.full_page_cache)),
            opts=child,
        )

        # -- failures of asynchronous invocations and undeliverable schedule events
        dead_letters = aws.sqs.Queue(
            f"{name}-dead-letters",
            name=physical_name(args.stack, args.region, "failover-dead-letters"),
            sqs_managed_sse_enabled=True,
            message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            opts=child,
        )

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{function_physical}",
            retention_in_days=LOG_RETENTION_DAYS,
            opts=child,
        )

        # -- one role, least privilege (components/failover_iam.py)
        role = aws.iam.Role(
            f"{name}-role",
            description=f"magento-dr {args.stack}: failover function in {args.region}",
            assume_role_policy=caller.account_id.apply(lambda account: json.dumps(lambda_trust_policy(account))),
            opts=child,
        )
        scope = pulumi.Output.all(
            partition=partition.partition,
            account_id=caller.account_id,
            global_cluster_id=args.global_cluster_id,
            cluster_arn=args.cluster_arn,
            asg_name=args.asg_name,
            topic_arn=args.topic_arn,
            topic_key_arn=args.topic_key_arn,
            log_group_arn=log_group.arn,
            dead_letter_queue_arn=dead_letters.arn,
            run_command_document_arn=document.arn,
            instance_tag_key=args.instance_tag_key,
            instance_tag_value=args.instance_tag_value,
            cache_global_datastore_id=args.cache_global_datastore_id or "",
            cache_replication_group_id=args.cache_replication_group_id or "",
            peer_cluster_arn=args.peer_cluster_arn or "",
            db_instance_parameter_group=args.db_instance_parameter_group or "",
            db_subnet_group=args.db_subnet_group or "",
            db_performance_insights_key_arn=args.db_performance_insights_kms_key_arn or "",
        ).apply(
            lambda v: FailoverScope(
                region=args.region,
                peer_region=args.peer_region,
                ssm_prefix=args.ssm_prefix,
                metric_namespace=METRIC_NAMESPACE,
                release_parameter_name=args.release_parameter_name,
                db_instance_class=args.db_instance_class,
                db_instance_tag_keys=tuple(sorted(failover_instance_default_tags(args.stack_tags))),
                **v,
            )
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=scope.apply(lambda s: json.dumps(function_policy(s))),
            opts=child,
        )
        if args.peer_function_role_name is not None:
            # The primary's function promotes its own cluster while this region holds the writer
            # (failback, or a failover back): the grant on this cluster comes from here.
            aws.iam.RolePolicy(
                f"{name}-peer-promotion",
                role=args.peer_function_role_name,
                policy=scope.apply(lambda s: json.dumps(peer_promotion_policy(s.global_cluster_arn, s.cluster_arn))),
                opts=child,
            )

        function = aws.lambda_.Function(
            f"{name}-function",
            name=function_physical,
            description=f"magento-dr {args.stack}: promote {args.region} when {args.peer_region} is lost",
            role=role.arn,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=HANDLER_ENTRY_POINT,
            code=archive,
            memory_size=MEMORY_MB,
            timeout=TIMEOUT_SECONDS,
            reserved_concurrent_executions=RESERVED_CONCURRENCY,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables=handler_environment(args, topic_arn=args.topic_arn, document_name=document.name),
            ),
            # Correlation: Lambda's JSON log format stamps every line with the
            # request id; X-Ray traces each invocation.
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, log_group]),
        )
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            function_name=function.name,
            maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS,
            maximum_retry_attempts=MAX_RETRY_ATTEMPTS,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(destination=dead_letters.arn),
            ),
            opts=child,
        )

        # -- trigger 1: EventBridge Scheduler in this region, every minute
        schedule_arn = pulumi.Output.concat(
            "arn:", partition.partition, ":scheduler:", args.region, ":", caller.account_id, ":schedule/default/", schedule_physical
        )
        scheduler_role = aws.iam.Role(
            f"{name}-scheduler-role",
            description=f"magento-dr {args.stack}: EventBridge Scheduler invokes the failover function",
            assume_role_policy=pulumi.Output.all(caller.account_id, schedule_arn).apply(
                lambda v: json.dumps(scheduler_trust_policy(v[0], v[1]))
            ),
            opts=child,
        )
        scheduler_role_policy = aws.iam.RolePolicy(
            f"{name}-scheduler-policy",
            role=scheduler_role.id,
            policy=pulumi.Output.all(function.arn, dead_letters.arn).apply(lambda v: json.dumps(scheduler_policy(v[0], v[1]))),
            opts=child,
        )
        aws.scheduler.Schedule(
            f"{name}-schedule",
            name=schedule_physical,
            description="Evaluate the peer region and this region's role once a minute",
            schedule_expression=f"rate({rto.SCHEDULE_PERIOD_SECONDS // 60} minute)",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=function.arn,
                role_arn=scheduler_role.arn,
                input=evaluate_input(),
                # A late evaluation is worthless; the next one is a minute away.
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_event_age_in_seconds=60, maximum_retry_attempts=2),
                dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(arn=dead_letters.arn),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[scheduler_role_policy]),
        )

        # -- trigger 2: RDS global-failover events in this region (bookkeeping)
        rds_rule = aws.cloudwatch.EventRule(
            f"{name}-rds-events",
            description="RDS global database failover/switchover events for the failover function",
            event_pattern=json.dumps(rds_event_pattern()),
            opts=child,
        )
        rds_permission = aws.lambda_.Permission(
            f"{name}-rds-events-invoke",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="events.amazonaws.com",
            source_arn=rds_rule.arn,
            source_account=caller.account_id,
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-rds-events-target",
            rule=rds_rule.name,
            arn=function.arn,
            dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=dead_letters.arn),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[rds_permission]),
        )
        # EventBridge (rules) sends undeliverable events to the queue under its own principal.
        aws.sqs.QueuePolicy(
            f"{name}-dead-letters-policy",
            queue_url=dead_letters.url,
            policy=pulumi.Output.all(dead_letters.arn, rds_rule.arn).apply(
                lambda v: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "RdsEventRuleDeadLetters",
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Resource": v[0],
                                "Condition": {"ArnEquals": {"aws:SourceArn": v[1]}},
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )

        # -- alarms, all in this region, all into this region's topic. S3 replication
        # failures are alarmed by ReplicatedMediaBucket (it owns the rule ids).
        alarms = _Alarms(name, physical_name(args.stack, args.region, "failover"), self, args.topic_arn)
        alarms.metric(
            "errors",
            "The failover function raised (an action failed); see its logs and the dead-letter queue",
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions={"FunctionName": function.name},
            statistic="Sum",
            comparison="GreaterThanOrEqualToThreshold",
            threshold=1,
        )
        alarms.metric(
            "throttles",
            "The failover function was throttled (reserved concurrency 1): expected only while a promotion runs",
            namespace="AWS/Lambda",
            metric_name="Throttles",
            dimensions={"FunctionName": function.name},
            statistic="Sum",
            comparison="GreaterThanOrEqualToThreshold",
            threshold=1,
            period=300,
        )
        alarms.metric(
            "dead-letters",
            "Failed or undeliverable failover evaluations are waiting in the dead-letter queue",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": dead_letters.name},
            statistic="Maximum",
            comparison="GreaterThanThreshold",
            threshold=0,
            period=300,
        )
        # Published by the secondary cluster of the global database, in its
        # region; whichever region is the secondary now raises it, the other
        # has no data (not breaching). Metric unit: milliseconds. Both lag
        # metrics under both dimension sets AWS may use (the function judges the
        # same figures): components/contracts.lag_alarm_queries.
        # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html
        alarms.math(
            "replication-lag",
            f"Aurora global lag into {args.region} is above the RPO objective of {args.rpo_seconds}s",
            queries=lag_alarm_queries(args.cluster_id, args.peer_region, 60),
            comparison="GreaterThanThreshold",
            threshold=args.rpo_seconds * 1000,
        )
        writer = alarms.metric(
            "writer",
            f"{args.region} does not hold the Aurora writer (or the failover function stopped reporting); "
            f"OK means it does. Notifies on both transitions.",
            namespace=METRIC_NAMESPACE,
            metric_name=WRITER_METRIC,
            dimensions={"Stack": args.stack, "Region": args.region},
            statistic="Maximum",
            comparison="LessThanThreshold",
            threshold=1,
            missing="breaching",
            notify_ok=True,
            # Two periods, as the Route 53 writer alarm (components/traffic.py): one late or
            # missing datapoint is not news.
            periods=WRITER_ALARM_EVALUATION_PERIODS,
        )
        alarms.metric(
            "heartbeat",
            f"No failover evaluation reported for {HEARTBEAT_MINUTES} minutes: schedule, permissions or function broken "
            f"(also while a promotion wait runs longer than that)",
            namespace=METRIC_NAMESPACE,
            metric_name=WRITER_METRIC,
            dimensions={"Stack": args.stack, "Region": args.region},
            statistic="SampleCount",
            comparison="LessThanThreshold",
            threshold=1,
            missing="breaching",
            periods=heartbeat_periods(),
        )
        alarms.metric(
            "lease-blocked",
            f"Failover evaluations have been blocked by another holder's failover lease for "
            f"{lease_blocked_periods()} minutes, longer than any legitimate holder works: run status; RUNBOOK §6.4",
            namespace=METRIC_NAMESPACE,
            metric_name=LEASE_BLOCKED_METRIC,
            dimensions={"Stack": args.stack, "Region": args.region},
            statistic="Sum",
            comparison="GreaterThanOrEqualToThreshold",
            threshold=1,
            # Published only by a blocked evaluation: silence means nobody is blocked. Counted among a few more
            # minutes, so one dropped or late evaluation (EventBridge Scheduler delivers at least once, not on the
            # minute) does not reset the count; it still never fires before that many blocked minutes.
            missing="notBreaching",
            periods=lease_blocked_periods(),
            out_of=lease_blocked_periods() + LEASE_ALARM_MISSED_MINUTES,
        )
        self.function_name = function.name
        self.function_arn = function.arn
        self.role_arn = role.arn
        self.role_name = role.name
        self.dead_letter_queue_url = dead_letters.url
        self.run_command_document_name = document.name
        self.writer_alarm_name = writer.name
        self.writer_alarm_arn = writer.arn
        self.alarm_names = pulumi.Output.all(*[a.name for a in alarms.created]).apply(list)
        self.rto_budget = args.budget().as_export(args.rto_seconds)
        self.schedule_name = schedule_physical
        self.schedule_arn = schedule_arn
        self.register_outputs(
            {
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "role_arn": self.role_arn,
                "dead_letter_queue_url": self.dead_letter_queue_url,
                "run_command_document_name": self.run_command_document_name,
                "writer_alarm_name": self.writer_alarm_name,
                "alarm_names": self.alarm_names,
                "rto_budget": self.rto_budget,
            }
        )


class _Alarms:
    """Creates this component's alarms with one set of defaults (60 s period, topic actions)."""

    def __init__(self, name: str, physical_prefix: str, parent: pulumi.Resource, topic_arn: pulumi.Input[str]):
        self.name = name
        self.physical_prefix = physical_prefix
        self.parent = parent
        self.topic_arn = topic_arn
        self.created: list[aws.cloudwatch.MetricAlarm] = []

    def metric(
        self,
        part: str,
        description: str,
        *,
        namespace: str,
        metric_name: str,
        dimensions: Mapping[str, pulumi.Input[str]],
        statistic: str,
        comparison: str,
        threshold: float,
        period: int = 60,
        periods: int = 1,
        out_of: int | None = None,
        missing: str = "notBreaching",
        notify_ok: bool = False,
    ) -> aws.cloudwatch.MetricAlarm:
        """`periods` breaching periods alarm; `out_of` (default: the same) is how many recent periods they are counted in."""
        alarm = aws.cloudwatch.MetricAlarm(
            f"{self.name}-{part}",
            name=f"{self.physical_prefix}-{part}",
            alarm_description=description,
            namespace=namespace,
            metric_name=metric_name,
            dimensions=dict(dimensions),
            statistic=statistic,
            comparison_operator=comparison,
            threshold=threshold,
            period=period,
            evaluation_periods=out_of or periods,
            datapoints_to_alarm=periods,
            treat_missing_data=missing,
            alarm_actions=[self.topic_arn],
            ok_actions=[self.topic_arn] if notify_ok else [],
            opts=pulumi.ResourceOptions(parent=self.parent),
        )
        self.created.append(alarm)
        return alarm

    def math(
        self,
        part: str,
        description: str,
        *,
        queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgs],
        comparison: str,
        threshold: float,
        periods: int = 1,
        missing: str = "notBreaching",
    ) -> aws.cloudwatch.MetricAlarm:
        """An alarm on a metric-math expression (the query that returns data), with the same defaults."""
        alarm = aws.cloudwatch.MetricAlarm(
            f"{self.name}-{part}",
            name=f"{self.physical_prefix}-{part}",
            alarm_description=description,
            metric_queries=queries,
            comparison_operator=comparison,
            threshold=threshold,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data=missing,
            alarm_actions=[self.topic_arn],
            opts=pulumi.ResourceOptions(parent=self.parent),
        )
        self.created.append(alarm)
        return alarm
