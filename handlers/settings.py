"""Handler configuration: the complete environment-variable contract (``ENV_VARS``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from .activation import activation_parameter
from .lease import LEASE_TTL_SECONDS

#: Every environment variable the handler reads -> one-line meaning.
#: "(optional, default X)" marks the optional ones; all others are required.
ENV_VARS: dict[str, str] = {
    "MDR_STACK": "Stack name of this region's deployment, e.g. 'primary' or 'secondary'.",
    "MDR_REGION": "This region (the only region the handler ever promotes or writes to).",
    "MDR_PEER_REGION": "The other region of the pair: probed, and the writer anywhere else (a database standby) is never judged.",
    "MDR_GLOBAL_CLUSTER_ID": "Aurora global database identifier.",
    "MDR_LOCAL_CLUSTER_ID": "Identifier of this region's Aurora cluster.",
    "MDR_LOCAL_CLUSTER_ARN": "ARN of this region's Aurora cluster (FailoverGlobalCluster target).",
    "MDR_PEER_HEALTH_URL": "https URL of the peer region's own hostname + /health_check.php (probed).",
    "MDR_LOCAL_HEALTH_URL": "(optional, default '') this region's own health URL; checked after promotion, informational.",
    "MDR_ASG_NAME": "This region's web Auto Scaling group.",
    "MDR_SCALE_MIN": "Production MinSize for the ASG after promotion.",
    "MDR_SCALE_DESIRED": "Production DesiredCapacity for the ASG after promotion.",
    "MDR_SCALE_MAX": "Production MaxSize for the ASG after promotion.",
    "MDR_SSM_PREFIX": "SSM prefix, e.g. /magento-dr/primary; {prefix}/active is the region flag, "
    "{prefix}/failover/* the handler's own state.",
    "MDR_PEER_SSM_PREFIX": "(optional, default '') peer's SSM prefix; if set, its active flag is set false "
    "best-effort after promotion (the peer also fences itself).",
    "MDR_TOPIC_ARN": "SNS topic (in this region) for operator notifications and the failover timeline.",
    "MDR_MODE": "(optional, default notify) 'automatic' acts; 'notify' reports and prints the exact command.",
    "MDR_RPO_SECONDS": "(optional, default 60) maximum replication lag accepted for an unforced failover.",
    "MDR_CONSECUTIVE_FAILURES": "(optional, default 3) consecutive failed peer probes, spanning at least (N - 1) probe "
    "intervals, before the peer is lost.",
    "MDR_PROBE_INTERVAL_SECONDS": "(optional, default 10) pause between probes within one invocation.",
    "MDR_PROBES_PER_INVOCATION": "(optional, default 3) probes per scheduled invocation.",
    "MDR_PROBE_TIMEOUT_SECONDS": "(optional, default 3) connect/read timeout of each peer probe.",
    "MDR_PROMOTION_TIMEOUT_SECONDS": "(optional, default 600) deadline for the promotion to finish.",
    "MDR_CACHE_FAILOVER_TIMEOUT_SECONDS": "(optional, default 120) budget of the cache_failover step per invocation; "
    "when it runs out the step is recorded failed (with the operator command) and retried by the next invocation.",
    "MDR_RUN_COMMAND_TIMEOUT_SECONDS": "(optional, default 180) budget of the run_commands step per invocation (finding "
    "an instance + waiting for the command); when it runs out the step is recorded failed and retried next invocation.",
    "MDR_POLL_SECONDS": "(optional, default 5) polling interval while waiting for AWS operations.",
    "MDR_LAG_LOOKBACK_SECONDS": "(optional, default 300) length of the window, ending at the loss of contact with the peer, whose "
    "maximum AuroraGlobalDBRPOLag (else AuroraGlobalDBReplicationLag) the RPO guard judges.",
    "MDR_CACHE_GLOBAL_DATASTORE_ID": "(optional, default '') ElastiCache Global Datastore id; '' skips the step.",
    "MDR_CACHE_REPLICATION_GROUP_ID": "(optional, default '') this region's member replication group.",
    "MDR_RUN_COMMAND_DOCUMENT": "(optional, default '') SSM Command document with the Magento post-failover "
    "commands; '' skips the step.",
    "MDR_INSTANCE_TAG_KEY": "(optional, default aws:autoscaling:groupName) tag key selecting the Run Command instance.",
    "MDR_INSTANCE_TAG_VALUE": "(optional, default = MDR_ASG_NAME) tag value selecting the Run Command instance.",
    "MDR_RELEASE_PARAMETER": "(optional, default '') SSM parameter holding the Magento release version; the same "
    "name in both regions. Status and the failover report show both regions' versions (a mismatch only warns).",
    "MDR_STANDBY_POSTURE": "(optional, default warm) how this region stands by while the peer serves: pilot-light, warm or hot "
    "(a key of handlers/readiness.py POSTURES); named in what the function reports.",
    "MDR_DB_INSTANCE_CLASS": "(optional, default '') class of the DB instances the function adds before a promotion when this "
    "region's cluster has no available instance (database.instanceClass); '' adds none and refuses to promote such a cluster.",
    "MDR_DB_INSTANCES_TO_ADD": "(optional, default 1) how many it adds then, {cluster}-failover-1..N (pilot-light: "
    "standby.failoverDatabaseInstances; warm/hot: 1, a repair); the first is the writer (promotion tier 0).",
    "MDR_DB_INSTANCE_PARAMETER_GROUP": "(optional, default '') the instance parameter group of this region's instances (the "
    "stack's): the ones the function adds use it ('' leaves RDS's default); the readiness function requires it and checks it.",
    "MDR_DB_PERFORMANCE_INSIGHTS_KMS_KEY": "(optional, default '') KMS key ARN for the added instances' Performance Insights "
    "(7 days, on in any case); '' uses RDS's AWS-managed key.",
    "MDR_DB_CA_CERTIFICATE": "(optional, default '') the CA the added instances' certificates come from (the stack's, "
    "components/global_database.py); '' leaves the account's default.",
    "MDR_DB_INSTANCE_TAGS": "(optional, default {}) JSON object of the tags the added instances carry beside their Name and "
    "magento-dr:created-by: the stack's default tags (components/naming.py default_tags, magento-dr:tags included), so a tag "
    "policy that requires them does not refuse the creation; within AWS's tag limits, at most 48 (50 with the function's own).",
    "MDR_DB_INSTANCE_TIMEOUT_SECONDS": "(optional, default 40) per invocation, how long the function waits for the first "
    "added instance to be available before it leaves the preparation to the next invocation.",
    "MDR_METRIC_NAMESPACE": "(optional, default MagentoDR) CloudWatch namespace for the handler's metrics.",
    "MDR_AWS_CONNECT_TIMEOUT": "(optional, default 3) boto3 connect timeout (s) for this region's APIs.",
    "MDR_AWS_READ_TIMEOUT": "(optional, default 10) boto3 read timeout (s) for this region's APIs.",
    "MDR_AWS_MAX_ATTEMPTS": "(optional, default 5) boto3 total attempts (adaptive retry mode).",
    "MDR_LOG_LEVEL": "(optional, default INFO) log level of the JSON logger.",
}


#: Bounds of MDR_DB_INSTANCES_TO_ADD: a secondary cluster holds at most 16 instances (components/global_database.py
#: MAX_SECONDARY_INSTANCES; https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.configuration.requirements.html).
MAX_DB_INSTANCES_TO_ADD = 16
#: The tag that marks the DB instances the function adds (components/naming.py CREATED_BY_TAG; its IAM grant requires it),
#: and the tags it sets on them itself: MDR_DB_INSTANCE_TAGS may not name these.
CREATED_BY_TAG = ("magento-dr:created-by", "failover-function")
OWN_TAG_KEYS = ("Name", CREATED_BY_TAG[0])
#: AWS's rules for a tag on an RDS resource (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html) and
#: its tags per resource (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/allocation-tag-restrictions.html);
#: components/naming.py states the same (tests/test_contracts.py).
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256
RESERVED_TAG_PREFIXES = ("aws:", "rds:")
TAG_SYMBOLS = "_.:/=+-@"
MAX_TAGS_PER_RESOURCE = 50
#: The evaluation schedule's period (the stack's rate(1 minute) rule): the allowance for the
#: gap between two invocations' probes in :attr:`Settings.max_probe_gap_seconds`.
SCHEDULE_ALLOWANCE_SECONDS = 60.0


class SettingsError(ValueError):
    """A required variable is missing or a value is invalid; ``variable`` names it."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class Settings:
    stack: str
    region: str
    peer_region: str
    global_cluster_id: str
    local_cluster_id: str
    local_cluster_arn: str
    peer_health_url: str
    asg_name: str
    scale_min: int
    scale_desired: int
    scale_max: int
    ssm_prefix: str
    topic_arn: str
    local_health_url: str = ""
    peer_ssm_prefix: str = ""
    mode: str = "notify"
    rpo_seconds: float = 60.0
    consecutive_failures: int = 3
    probe_interval_seconds: float = 10.0
    probes_per_invocation: int = 3
    probe_timeout_seconds: float = 3.0
    promotion_timeout_seconds: float = 600.0
    cache_failover_timeout_seconds: float = 120.0
    run_command_timeout_seconds: float = 180.0
    poll_seconds: float = 5.0
    lag_lookback_seconds: int = 300
    cache_global_datastore_id: str = ""
    cache_replication_group_id: str = ""
    run_command_document: str = ""
    instance_tag_key: str = "aws:autoscaling:groupName"
    instance_tag_value: str = ""
    metric_namespace: str = "MagentoDR"
    release_parameter: str = ""
    standby_posture: str = "warm"
    db_instance_class: str = ""
    db_instances_to_add: int = 1
    db_instance_parameter_group: str = ""
    db_performance_insights_kms_key: str = ""
    db_ca_certificate: str = ""
    db_instance_tags: tuple[tuple[str, str], ...] = ()
    """The stack's default tags, (key, value) sorted by key: on each instance it adds, beside Name and the created-by mark."""
    db_instance_timeout_seconds: float = 40.0
    aws_connect_timeout: float = 3.0
    aws_read_timeout: float = 10.0
    aws_max_attempts: int = 5
    log_level: str = "INFO"

    @property
    def db_instances_added_before_promotion(self) -> int:
        """How many DB instances a preparation adds (0: none, the function cannot: no instance class)."""
        return self.db_instances_to_add if self.db_instance_class else 0

    def failover_instance_ids(self) -> tuple[str, ...]:
        """The identifiers of the instances a preparation adds: {cluster}-failover-1..N."""
        return tuple(f"{self.local_cluster_id}-failover-{n}" for n in range(1, self.db_instances_to_add + 1))

    @property
    def max_probe_gap_seconds(self) -> float:
        """Oldest previous failed probe that still counts as consecutive with a new failure:
        three probe intervals plus one schedule period (a scheduled evaluation may start up
        to a minute after the previous one's last probe)."""
        return 3 * self.probe_interval_seconds + SCHEDULE_ALLOWANCE_SECONDS

    @property
    def min_evidence_seconds(self) -> float:
        """How long the failed probes must span before the peer is judged lost:
        (MDR_CONSECUTIVE_FAILURES - 1) probe intervals (7 probes 10 s apart: a full minute)."""
        return (self.consecutive_failures - 1) * self.probe_interval_seconds

    @property
    def max_contact_gap_seconds(self) -> float:
        """The longest gap in probing after which a failure still belongs to the same loss of contact
        (the RPO evidence is kept): as long as this function's own work can keep it from probing —
        a promotion wait that ends without a promotion, a dead holder's lease — plus the usual gap.
        After a longer gap the peer may have come back unseen."""
        return self.promotion_timeout_seconds + LEASE_TTL_SECONDS + self.max_probe_gap_seconds

    @property
    def active_param(self) -> str:
        return f"{self.ssm_prefix}/active"

    @property
    def state_prefix(self) -> str:
        return f"{self.ssm_prefix}/failover"

    @property
    def activation_param(self) -> str:
        """This region's activation record (handlers/activation.py): written when this function activates the region."""
        return activation_parameter(self.global_cluster_id)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        def req(name: str) -> str:
            value = (environ.get(name) or "").strip()
            if not value:
                raise SettingsError(name, "is required but missing or empty")
            return value

        def opt(name: str, default: str) -> str:
            value = environ.get(name)
            return default if value is None or not value.strip() else value.strip()

        def num(name: str, default: str | None, *, minimum: float, integer: bool = False) -> float:
            raw = req(name) if default is None else opt(name, default)
            try:
                value = float(raw)
                if integer and value != int(value):
                    raise ValueError
            except ValueError:
                raise SettingsError(name, f"must be a {'whole ' if integer else ''}number, got {raw!r}") from None
            if value < minimum:
                raise SettingsError(name, f"must be >= {minimum:g}, got {raw!r}")
            return value

        region = req("MDR_REGION")
        peer = req("MDR_PEER_REGION")
        if peer == region:
            raise SettingsError("MDR_PEER_REGION", "must differ from MDR_REGION")
        arn = req("MDR_LOCAL_CLUSTER_ARN")
        if not arn.startswith("arn:") or arn.split(":")[3:4] != [region]:
            raise SettingsError("MDR_LOCAL_CLUSTER_ARN", f"must be an RDS cluster ARN in {region}, got {arn!r}")
        prefix = req("MDR_SSM_PREFIX").rstrip("/")
        if not prefix.startswith("/"):
            raise SettingsError("MDR_SSM_PREFIX", "must start with '/'")
        mode = opt("MDR_MODE", "notify")
        if mode not in ("automatic", "notify"):
            raise SettingsError("MDR_MODE", f"must be 'automatic' or 'notify', got {mode!r}")
        smin = int(num("MDR_SCALE_MIN", None, minimum=0, integer=True))
        sdes = int(num("MDR_SCALE_DESIRED", None, minimum=0, integer=True))
        smax = int(num("MDR_SCALE_MAX", None, minimum=1, integer=True))
        if not smin <= sdes <= smax:
            raise SettingsError("MDR_SCALE_DESIRED", "must satisfy MDR_SCALE_MIN <= desired <= MDR_SCALE_MAX")
        asg = req("MDR_ASG_NAME")
        cache_ds = opt("MDR_CACHE_GLOBAL_DATASTORE_ID", "")
        cache_rg = opt("MDR_CACHE_REPLICATION_GROUP_ID", "")
        if bool(cache_ds) != bool(cache_rg):
            raise SettingsError(
                "MDR_CACHE_REPLICATION_GROUP_ID" if cache_ds else "MDR_CACHE_GLOBAL_DATASTORE_ID",
                "MDR_CACHE_GLOBAL_DATASTORE_ID and MDR_CACHE_REPLICATION_GROUP_ID must be set together",
            )
        level = opt("MDR_LOG_LEVEL", "INFO").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError("MDR_LOG_LEVEL", f"unknown level {level!r}")
        from .readiness import POSTURES  # the postures are the pure readiness core's; imported here to keep settings light

        posture = opt("MDR_STANDBY_POSTURE", "warm")
        if posture not in POSTURES:
            raise SettingsError("MDR_STANDBY_POSTURE", f"must be one of {', '.join(POSTURES)}, got {posture!r}")
        db_class = opt("MDR_DB_INSTANCE_CLASS", "")
        if db_class and not db_class.startswith("db."):
            raise SettingsError("MDR_DB_INSTANCE_CLASS", f"must be an RDS instance class like db.r7g.large, got {db_class!r}")
        to_add = int(num("MDR_DB_INSTANCES_TO_ADD", "1", minimum=1, integer=True))
        if to_add > MAX_DB_INSTANCES_TO_ADD:
            raise SettingsError("MDR_DB_INSTANCES_TO_ADD", f"must be at most {MAX_DB_INSTANCES_TO_ADD} (a cluster's instances), got {to_add}")
        pi_key = opt("MDR_DB_PERFORMANCE_INSIGHTS_KMS_KEY", "")
        if pi_key and not (pi_key.startswith("arn:") and ":kms:" in pi_key):
            raise SettingsError("MDR_DB_PERFORMANCE_INSIGHTS_KMS_KEY", f"must be a KMS key ARN, got {pi_key!r}")
        return cls(
            stack=req("MDR_STACK"),
            region=region,
            peer_region=peer,
            global_cluster_id=req("MDR_GLOBAL_CLUSTER_ID"),
            local_cluster_id=req("MDR_LOCAL_CLUSTER_ID"),
            local_cluster_arn=arn,
            peer_health_url=_url("MDR_PEER_HEALTH_URL", req("MDR_PEER_HEALTH_URL")),
            local_health_url=_url("MDR_LOCAL_HEALTH_URL", opt("MDR_LOCAL_HEALTH_URL", "")),
            asg_name=asg,
            scale_min=smin,
            scale_desired=sdes,
            scale_max=smax,
            ssm_prefix=prefix,
            peer_ssm_prefix=opt("MDR_PEER_SSM_PREFIX", "").rstrip("/"),
            topic_arn=req("MDR_TOPIC_ARN"),
            mode=mode,
            rpo_seconds=num("MDR_RPO_SECONDS", "60", minimum=0),
            consecutive_failures=int(num("MDR_CONSECUTIVE_FAILURES", "3", minimum=2, integer=True)),
            probe_interval_seconds=num("MDR_PROBE_INTERVAL_SECONDS", "10", minimum=0),
            probes_per_invocation=int(num("MDR_PROBES_PER_INVOCATION", "3", minimum=1, integer=True)),
            probe_timeout_seconds=num("MDR_PROBE_TIMEOUT_SECONDS", "3", minimum=0.1),
            promotion_timeout_seconds=num("MDR_PROMOTION_TIMEOUT_SECONDS", "600", minimum=1),
            cache_failover_timeout_seconds=num("MDR_CACHE_FAILOVER_TIMEOUT_SECONDS", "120", minimum=1),
            run_command_timeout_seconds=num("MDR_RUN_COMMAND_TIMEOUT_SECONDS", "180", minimum=1),
            poll_seconds=num("MDR_POLL_SECONDS", "5", minimum=0),
            lag_lookback_seconds=int(num("MDR_LAG_LOOKBACK_SECONDS", "300", minimum=60, integer=True)),
            cache_global_datastore_id=cache_ds,
            cache_replication_group_id=cache_rg,
            run_command_document=opt("MDR_RUN_COMMAND_DOCUMENT", ""),
            instance_tag_key=opt("MDR_INSTANCE_TAG_KEY", "aws:autoscaling:groupName"),
            instance_tag_value=opt("MDR_INSTANCE_TAG_VALUE", asg),
            metric_namespace=opt("MDR_METRIC_NAMESPACE", "MagentoDR"),
            release_parameter=_parameter_name("MDR_RELEASE_PARAMETER", opt("MDR_RELEASE_PARAMETER", "")),
            standby_posture=posture,
            db_instance_class=db_class,
            db_instances_to_add=to_add,
            db_instance_parameter_group=opt("MDR_DB_INSTANCE_PARAMETER_GROUP", ""),
            db_performance_insights_kms_key=pi_key,
            db_ca_certificate=opt("MDR_DB_CA_CERTIFICATE", ""),
            db_instance_tags=_instance_tags("MDR_DB_INSTANCE_TAGS", opt("MDR_DB_INSTANCE_TAGS", "{}")),
            db_instance_timeout_seconds=num("MDR_DB_INSTANCE_TIMEOUT_SECONDS", "40", minimum=1),
            aws_connect_timeout=num("MDR_AWS_CONNECT_TIMEOUT", "3", minimum=0.1),
            aws_read_timeout=num("MDR_AWS_READ_TIMEOUT", "10", minimum=0.1),
            aws_max_attempts=int(num("MDR_AWS_MAX_ATTEMPTS", "5", minimum=1, integer=True)),
            log_level=level,
        )


def _instance_tags(name: str, raw: str) -> tuple[tuple[str, str], ...]:
    """The tags a JSON object names, each one AWS accepts on an RDS resource, none of the function's own, and few enough
    that an instance carrying them and the function's own stays within AWS's limit."""
    import json
    import unicodedata

    try:
        tags = json.loads(raw)
    except ValueError:
        raise SettingsError(name, f"must be a JSON object of tag keys to values, got {raw!r}") from None
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise SettingsError(name, f"must be a JSON object of tag keys to string values, got {raw!r}")
    for key, value in tags.items():
        if key in OWN_TAG_KEYS:
            raise SettingsError(name, f"names {key!r}, which the function sets itself; remove it")
        for part, text, longest, minimum in (("key", key, MAX_TAG_KEY_LENGTH, 1), ("value", value, MAX_TAG_VALUE_LENGTH, 0)):
            if not minimum <= len(text) <= longest:
                raise SettingsError(name, f"tag {part} {text!r} must be {minimum} to {longest} characters long")
            if text.lower().startswith(RESERVED_TAG_PREFIXES):
                raise SettingsError(name, f"tag {part} {text!r} starts with a prefix AWS reserves ({', '.join(RESERVED_TAG_PREFIXES)})")
            if any(c not in TAG_SYMBOLS and not unicodedata.category(c).startswith(("L", "N", "Z")) for c in text):
                raise SettingsError(name, f"tag {part} {text!r} has a character AWS refuses (letters, digits, spaces and {TAG_SYMBOLS} only)")
    if len(tags) + len(OWN_TAG_KEYS) > MAX_TAGS_PER_RESOURCE:
        raise SettingsError(
            name, f"names {len(tags)} tags; with the function's own {len(OWN_TAG_KEYS)} that is over AWS's {MAX_TAGS_PER_RESOURCE} per resource"
        )
    return tuple(sorted(tags.items()))


def _parameter_name(name: str, value: str) -> str:
    if value and (not value.startswith("/") or value.endswith("/")):
        raise SettingsError(name, f"must be a full SSM parameter name like /magento-dr/release/<shop>/version, got {value!r}")
    return value


def _url(name: str, value: str) -> str:
    """https only, except plain http to a loopback host (the emulator / drill)."""
    if not value:
        return value
    parsed = urlparse(value)
    if parsed.scheme == "https" and parsed.hostname:
        return value
    if parsed.scheme == "http" and parsed.hostname:
        host = parsed.hostname
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return value
    raise SettingsError(name, f"must be an https URL, got {value!r}")


# ---------------------------------------------------------------- the readiness function
#: Every environment variable the readiness function reads beyond the ones it shares with the failover
#: function (listed in READINESS_SHARED) -> one-line meaning. Required unless "(optional".
READINESS_ENV_VARS: dict[str, str] = {
    "MDR_HOME_REGION": "The region the writer belongs in (the primary stack's region); elsewhere, readiness fails until the failback.",
    "MDR_STANDBY_CAPACITY": "Instances the standby runs while standing by (web.standbyCapacity).",
    "MDR_FAILOVER_FUNCTION": "This region's failover function (its reservation is checked).",
    "MDR_FAILOVER_SCHEDULE": "The failover function's EventBridge Scheduler schedule (default group); must be ENABLED.",
    "MDR_RESERVED_CONCURRENCY": "(optional, default 1) the reservation the failover function must hold.",
    "MDR_DB_CLUSTER_PARAMETER_GROUP": "The cluster parameter group this region's cluster must use.",
    "MDR_DB_PARAMETERS": 'The parameters both stacks declare, JSON {"cluster": {...}, "instance": {...}}.',
    "MDR_DB_BACKUP_RETENTION_DAYS": "(optional, default 7) the declared automated-backup retention.",
    "MDR_DB_SECRET_ARN": "The database credentials secret valid in this region.",
    "MDR_DB_SECRET_ROLE": "owner (the primary's secret, replicated to the peer), replica (the primary's replica) or copy.",
    "MDR_SEARCH_DOMAIN": "(optional, default '') this region's OpenSearch domain; '' skips the check.",
    "MDR_MEDIA_BUCKET": "(optional, default '') this region's media bucket; '' skips the check.",
    "MDR_MEDIA_PEER_BUCKET": "(optional, default '') the peer region's media bucket (the replication metrics' dimensions).",
    "MDR_HEALTH_CHECK_IDS": 'Route 53 health checks of this region, JSON {"https": id, "writer": id, "calculated": id, ...}.',
}
#: The failover function's variables the readiness function reads too (same meaning, ENV_VARS).
READINESS_SHARED = (
    "MDR_STACK", "MDR_REGION", "MDR_PEER_REGION", "MDR_GLOBAL_CLUSTER_ID", "MDR_LOCAL_CLUSTER_ID", "MDR_LOCAL_CLUSTER_ARN",
    "MDR_ASG_NAME", "MDR_SCALE_MIN", "MDR_SCALE_DESIRED", "MDR_SCALE_MAX", "MDR_SSM_PREFIX", "MDR_RPO_SECONDS",
    "MDR_CONSECUTIVE_FAILURES", "MDR_PROBE_TIMEOUT_SECONDS", "MDR_CACHE_GLOBAL_DATASTORE_ID", "MDR_CACHE_REPLICATION_GROUP_ID",
    "MDR_RELEASE_PARAMETER", "MDR_METRIC_NAMESPACE", "MDR_AWS_CONNECT_TIMEOUT", "MDR_AWS_READ_TIMEOUT", "MDR_AWS_MAX_ATTEMPTS",
    "MDR_LOG_LEVEL", "MDR_STANDBY_POSTURE", "MDR_DB_INSTANCE_PARAMETER_GROUP",
)
SECRET_ROLES = ("owner", "replica", "copy")


@dataclass(frozen=True)
class ReadinessSettings:
    """The readiness function's configuration (handlers/readiness_runner.py); read once from the environment."""

    stack: str
    region: str
    peer_region: str
    home_region: str
    global_cluster_id: str
    local_cluster_id: str
    local_cluster_arn: str
    ssm_prefix: str
    asg_name: str
    scale_min: int
    scale_desired: int
    scale_max: int
    standby_capacity: int
    failover_function: str
    failover_schedule: str
    cluster_parameter_group: str
    instance_parameter_group: str
    cluster_parameters: tuple[tuple[str, str], ...]
    instance_parameters: tuple[tuple[str, str], ...]
    secret_arn: str
    secret_role: str
    health_check_ids: tuple[tuple[str, str], ...]
    standby_posture: str = "warm"
    reserved_concurrency: int = 1
    backup_retention_days: int = 7
    rpo_seconds: float = 60.0
    consecutive_failures: int = 3
    probe_timeout_seconds: float = 3.0
    cache_global_datastore_id: str = ""
    cache_replication_group_id: str = ""
    search_domain: str = ""
    media_bucket: str = ""
    media_peer_bucket: str = ""
    release_parameter: str = ""
    metric_namespace: str = "MagentoDR"
    aws_connect_timeout: float = 3.0
    aws_read_timeout: float = 10.0
    aws_max_attempts: int = 5
    log_level: str = "INFO"

    @property
    def state_prefix(self) -> str:
        return f"{self.ssm_prefix}/failover"

    @property
    def readiness_param(self) -> str:
        """Where the latest result is stored (the failover function's `status` reads it too)."""
        return f"{self.state_prefix}/readiness"

    @property
    def account_id(self) -> str:
        return self.local_cluster_arn.split(":")[4]

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ReadinessSettings:
        import json

        def req(name: str) -> str:
            value = (environ.get(name) or "").strip()
            if not value:
                raise SettingsError(name, "is required for the readiness function but missing or empty (use that function's environment)")
            return value

        def opt(name: str, default: str) -> str:
            value = environ.get(name)
            return default if value is None or not value.strip() else value.strip()

        def whole(name: str, default: str | None, minimum: int) -> int:
            raw = req(name) if default is None else opt(name, default)
            if not raw.isdigit() or int(raw) < minimum:
                raise SettingsError(name, f"must be a whole number >= {minimum}, got {raw!r}")
            return int(raw)

        def json_map(name: str) -> dict[str, Any]:
            try:
                value = json.loads(req(name))
            except ValueError:
                raise SettingsError(name, "must be a JSON object") from None
            if not isinstance(value, dict):
                raise SettingsError(name, "must be a JSON object")
            return value

        def pairs(value: Any, name: str) -> tuple[tuple[str, str], ...]:
            if not isinstance(value, dict) or not all(isinstance(v, str | int | float) for v in value.values()):
                raise SettingsError(name, "must map names to values")
            return tuple(sorted((str(k), str(v)) for k, v in value.items()))

        base = Settings.from_env(
            {
                # The failover function's parser validates the shared variables; the probe URL it also
                # requires is not used here.
                **{k: v for k, v in environ.items() if k in READINESS_SHARED},
                "MDR_PEER_HEALTH_URL": "https://unused.invalid/",
                "MDR_TOPIC_ARN": "unused",
            }
        )
        role = req("MDR_DB_SECRET_ROLE")
        if role not in SECRET_ROLES:
            raise SettingsError("MDR_DB_SECRET_ROLE", f"must be one of {SECRET_ROLES}, got {role!r}")
        params = json_map("MDR_DB_PARAMETERS")
        home = req("MDR_HOME_REGION")
        if home not in (base.region, base.peer_region):
            raise SettingsError("MDR_HOME_REGION", f"must be {base.region} or {base.peer_region}, got {home!r}")
        return cls(
            stack=base.stack,
            region=base.region,
            peer_region=base.peer_region,
            home_region=home,
            global_cluster_id=base.global_cluster_id,
            local_cluster_id=base.local_cluster_id,
            local_cluster_arn=base.local_cluster_arn,
            ssm_prefix=base.ssm_prefix,
            asg_name=base.asg_name,
            scale_min=base.scale_min,
            scale_desired=base.scale_desired,
            scale_max=base.scale_max,
            standby_capacity=whole("MDR_STANDBY_CAPACITY", None, 0),
            failover_function=req("MDR_FAILOVER_FUNCTION"),
            failover_schedule=req("MDR_FAILOVER_SCHEDULE"),
            cluster_parameter_group=req("MDR_DB_CLUSTER_PARAMETER_GROUP"),
            instance_parameter_group=req("MDR_DB_INSTANCE_PARAMETER_GROUP"),
            cluster_parameters=pairs(params.get("cluster"), "MDR_DB_PARAMETERS"),
            instance_parameters=pairs(params.get("instance"), "MDR_DB_PARAMETERS"),
            secret_arn=req("MDR_DB_SECRET_ARN"),
            secret_role=role,
            health_check_ids=pairs(json_map("MDR_HEALTH_CHECK_IDS"), "MDR_HEALTH_CHECK_IDS"),
            standby_posture=base.standby_posture,
            reserved_concurrency=whole("MDR_RESERVED_CONCURRENCY", "1", 1),
            backup_retention_days=whole("MDR_DB_BACKUP_RETENTION_DAYS", "7", 1),
            rpo_seconds=base.rpo_seconds,
            consecutive_failures=base.consecutive_failures,
            probe_timeout_seconds=base.probe_timeout_seconds,
            cache_global_datastore_id=base.cache_global_datastore_id,
            cache_replication_group_id=base.cache_replication_group_id,
            search_domain=opt("MDR_SEARCH_DOMAIN", ""),
            media_bucket=opt("MDR_MEDIA_BUCKET", ""),
            media_peer_bucket=opt("MDR_MEDIA_PEER_BUCKET", ""),
            release_parameter=base.release_parameter,
            metric_namespace=base.metric_namespace,
            aws_connect_timeout=base.aws_connect_timeout,
            aws_read_timeout=base.aws_read_timeout,
            aws_max_attempts=base.aws_max_attempts,
            log_level=base.log_level,
        )
