"""The provider's argument validation that `pulumi preview` runs and Pulumi mocks do not.

pulumi-aws bridges terraform-provider-aws, whose schema rejects a resource before anything is created:
`ConflictsWith`, `ExactlyOneOf`, `AtLeastOneOf`, `RequiredWith`, allowed values, ranges, formats and
some `CustomizeDiff` checks. The mocks run none of it. This module holds those constraints for every
resource type and argument the program sets, each with the provider file it comes from, and
:func:`violations` checks a recorded resource against them; tests run it over the graph of every
example stack and option (tests/test_provider_rules.py).

It also records which arguments were *reviewed* per type (:data:`REVIEWED`): a resource type or an
argument the program starts to set without a review here fails that test, so a new argument's
constraints are read (in the provider's source, at the version requirements.txt admits) before it lands.

Sources: terraform-provider-aws v6 (bridged by pulumi-aws 7.x; read for pulumi-aws 7.51.1, upstream
v6.5x), files under internal/service/<service>/; terraform-provider-random v3.9 for RandomPassword.
Names are Pulumi's (camelCase; list blocks plural, e.g. TF `rule` -> `rules`). A path's `[]` step
means "each element of that list".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TF = "hashicorp/terraform-provider-aws internal/service/"


@dataclass(frozen=True)
class Rule:
    kind: str  # conflicts | exactly_one_of | at_least_one_of | required_with | one_of | between | length | matches | custom
    block: str  # where the keys live: "" (top level) or a path such as "originGroups[]"
    keys: tuple[str, ...]  # conflicts/required_with: (key, *others); the rest: the keys concerned
    allowed: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    pattern: str = ""
    check: Callable[[Mapping[str, Any]], str | None] | None = None
    source: str = ""
    note: str = ""


def conflicts(key: str, *others: str, block: str = "", source: str = "") -> Rule:
    return Rule("conflicts", block, (key, *others), source=source)


def exactly_one_of(*keys: str, block: str = "", source: str = "") -> Rule:
    return Rule("exactly_one_of", block, keys, source=source)


def at_least_one_of(*keys: str, block: str = "", source: str = "") -> Rule:
    return Rule("at_least_one_of", block, keys, source=source)


def required_with(key: str, *others: str, block: str = "", source: str = "") -> Rule:
    return Rule("required_with", block, (key, *others), source=source)


def one_of(path: str, *allowed: Any, source: str = "") -> Rule:
    block, key = _split(path)
    return Rule("one_of", block, (key,), allowed=allowed, source=source)


def between(path: str, low: float, high: float, source: str = "") -> Rule:
    block, key = _split(path)
    return Rule("between", block, (key,), low=low, high=high, source=source)


def length(path: str, low: int, high: int, source: str = "") -> Rule:
    block, key = _split(path)
    return Rule("length", block, (key,), low=low, high=high, source=source)


def matches(path: str, pattern: str, source: str = "", note: str = "") -> Rule:
    block, key = _split(path)
    return Rule("matches", block, (key,), pattern=pattern, source=source, note=note)


def custom(block: str, check: Callable[[Mapping[str, Any]], str | None], source: str = "", note: str = "") -> Rule:
    return Rule("custom", block, (), check=check, source=source, note=note)


def _split(path: str) -> tuple[str, str]:
    block, _, key = path.rpartition(".")
    return block, key


# ------------------------------------------------------------------------------------ custom checks
def _alarm_period(obj: Mapping[str, Any]) -> str | None:
    # validation.Any(IntInSlice{10, 20, 30}, IntDivisibleBy(60)) on `period` (metric_alarm.go).
    period = obj.get("period")
    if period is None:
        return None
    p = int(float(period))
    return None if p in (10, 20, 30) or (p > 0 and p % 60 == 0) else f"period {p} is not 10, 20, 30 or a multiple of 60"


def _datapoints_within_periods(obj: Mapping[str, Any]) -> str | None:
    # CloudWatch (PutMetricAlarm): "DatapointsToAlarm ... must be less than or equal to EvaluationPeriods".
    d, e = obj.get("datapointsToAlarm"), obj.get("evaluationPeriods")
    if d is None or e is None:
        return None
    return None if int(float(d)) <= int(float(e)) else f"datapointsToAlarm {d} > evaluationPeriods {e}"


def _dashboard_body_is_json(obj: Mapping[str, Any]) -> str | None:
    body = obj.get("dashboardBody")
    if not isinstance(body, str):
        return "dashboardBody is required (a JSON document)"
    try:
        json.loads(body)
    except ValueError as exc:
        return f"dashboardBody is not JSON: {exc}"
    return None


def _recovery_window(obj: Mapping[str, Any]) -> str | None:
    # secret.go: validation.Any(IntBetween(7, 30), IntInSlice{0}).
    w = obj.get("recoveryWindowInDays")
    if w is None:
        return None
    w = int(float(w))
    return None if w == 0 or 7 <= w <= 30 else f"recoveryWindowInDays {w} is neither 0 nor 7..30"


def _pi_retention(obj: Mapping[str, Any]) -> str | None:
    # cluster_instance.go: 7, 731, or a multiple of 31 (validPerformanceInsightsRetentionPeriod).
    r = obj.get("performanceInsightsRetentionPeriod")
    if r is None:
        return None
    r = int(float(r))
    return None if r in (7, 731) or (r > 0 and r % 31 == 0) else f"performanceInsightsRetentionPeriod {r} is not 7, 731 or a multiple of 31"


def _random_length(obj: Mapping[str, Any]) -> str | None:
    # terraform-provider-random password.go: length must be >= the sum of the min_* counts.
    length_ = int(float(obj.get("length", 0)))
    minimum = sum(int(float(obj.get(k, 0) or 0)) for k in ("minLower", "minUpper", "minNumeric", "minSpecial"))
    return None if length_ >= minimum else f"length {length_} < the sum of the min_* counts {minimum}"


def _alias_or_ttl(obj: Mapping[str, Any]) -> str | None:
    # record.go: ttl RequiredWith records (an alias has no TTL: ConflictsWith alias).
    if _set(obj.get("ttl")) and not _set(obj.get("records")):
        return "ttl without records"
    return None


def _health_check_shape(obj: Mapping[str, Any]) -> str | None:
    # health_check.go CustomizeDiff: a CALCULATED check needs child_health_threshold and children;
    # CLOUDWATCH_METRIC needs the alarm's name and region; endpoint checks need a port or fqdn/ip.
    kind = obj.get("type")
    if kind == "CALCULATED" and not (_set(obj.get("childHealthchecks")) and obj.get("childHealthThreshold") is not None):
        return "CALCULATED without childHealthchecks/childHealthThreshold"
    if kind == "CLOUDWATCH_METRIC" and not (_set(obj.get("cloudwatchAlarmName")) and _set(obj.get("cloudwatchAlarmRegion"))):
        return "CLOUDWATCH_METRIC without cloudwatchAlarmName/cloudwatchAlarmRegion"
    if kind in ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP") and not (_set(obj.get("fqdn")) or _set(obj.get("ipAddress"))):
        return f"{kind} check without fqdn or ipAddress"
    return None


def _provider_region(obj: Mapping[str, Any]) -> str | None:
    # "region - (Optional) AWS Region where the provider will operate. The Region must be set."
    return None if _set(obj.get("region")) else "provider without a region"


def _scheduler_window(obj: Mapping[str, Any]) -> str | None:
    # AWS (not the schema): MaximumWindowInMinutes only with mode FLEXIBLE, and required with it.
    window = obj.get("flexibleTimeWindow") or {}
    if window.get("mode") == "OFF" and window.get("maximumWindowInMinutes") is not None:
        return "flexibleTimeWindow.maximumWindowInMinutes with mode OFF"
    if window.get("mode") == "FLEXIBLE" and window.get("maximumWindowInMinutes") is None:
        return "flexibleTimeWindow mode FLEXIBLE without maximumWindowInMinutes"
    return None


def _origin_group_members(obj: Mapping[str, Any]) -> str | None:
    # distribution.go: origin_group.member MinItems 2, MaxItems 2; failover_criteria Required.
    members = obj.get("members") or []
    if len(members) != 2:
        return f"origin group with {len(members)} members (exactly 2)"
    if not ((obj.get("failoverCriteria") or {}).get("statusCodes")):
        return "origin group without failoverCriteria.statusCodes"
    return None


def _target_group_type(obj: Mapping[str, Any]) -> str | None:
    # target_group.go: a lambda group takes no port, protocol, protocol_version or vpc_id
    # (targetGroupRuntimeValidation) and no TCP health check (customizeDiffTargetGroupTargetTypeLambda);
    # every other type requires port, protocol and vpc_id (customizeDiffTargetGroupTargetTypeNotLambda).
    if obj.get("targetType") == "lambda":
        extra = [k for k in ("port", "protocol", "protocolVersion", "vpcId") if _set(obj.get(k))]
        if extra:
            return f"a lambda target group sets {', '.join(extra)}"
        if str((obj.get("healthCheck") or {}).get("protocol", "")).upper() == "TCP":
            return "a lambda target group with a TCP health check"
        return None
    missing = [k for k in ("port", "protocol", "vpcId") if not _set(obj.get(k))]
    return f"target type {obj.get('targetType', 'instance')} without {', '.join(missing)}" if missing else None


def _one_condition_field(obj: Mapping[str, Any]) -> str | None:
    # listener_rule.go expandRuleConditions: each condition block sets exactly one field.
    fields = [k for k in ("hostHeader", "httpHeader", "httpRequestMethod", "pathPattern", "queryStrings", "sourceIp") if _set(obj.get(k))]
    return None if len(fields) == 1 else f"a listener rule condition with {len(fields)} fields ({', '.join(fields) or 'none'}); exactly one"


def _accelerator_flow_logs(obj: Mapping[str, Any]) -> str | None:
    # accelerator.go docs: flow_logs_s3_bucket and _prefix "Required if flow_logs_enabled is true" (the API enforces it:
    # "Attribute is required if FlowLogsEnabled is true", API_AcceleratorAttributes).
    a = obj.get("attributes") or {}
    if a.get("flowLogsEnabled") and not (_set(a.get("flowLogsS3Bucket")) and _set(a.get("flowLogsS3Prefix"))):
        return "flow logs enabled without flowLogsS3Bucket and flowLogsS3Prefix"
    return None


_ONCE_A_DAY = r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$"
_ONCE_A_WEEK = r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$"
_ARN = r"^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$"
_LOG_RETENTION = (0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
_NAMED = ("name", "namePrefix")  # ConflictsWith pair on most resources that take a name

# ------------------------------------------------------------------------------------------ the table
RULES: dict[str, tuple[Rule, ...]] = {
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        conflicts(
            "globalReplicationGroupId",
            "numNodeGroups",
            "parameterGroupName",
            "engine",
            "engineVersion",
            "nodeType",
            "securityGroupNames",
            "transitEncryptionEnabled",
            "transitEncryptionMode",
            "atRestEncryptionEnabled",
            "snapshotArns",
            "snapshotName",
            source=TF + "elasticache/replication_group.go",
        ),
        conflicts("numNodeGroups", "numCacheClusters", "globalReplicationGroupId", source=TF + "elasticache/replication_group.go"),
        conflicts("numCacheClusters", "numNodeGroups", "replicasPerNodeGroup", source=TF + "elasticache/replication_group.go"),
        conflicts("authToken", "userGroupIds", source=TF + "elasticache/replication_group.go"),
        one_of("engine", "redis", "valkey", source=TF + "elasticache/replication_group.go"),
        one_of("clusterMode", "enabled", "disabled", "compatible", source=TF + "elasticache/replication_group.go"),
        one_of("transitEncryptionMode", "preferred", "required", source=TF + "elasticache/replication_group.go"),
        between("snapshotRetentionLimit", 0, 35, source=TF + "elasticache/replication_group.go"),
        length("authToken", 16, 128, source=TF + "elasticache/validate.go validReplicationGroupAuthToken"),
        matches("authToken", r'^[^@"/]+$', source=TF + "elasticache/validate.go validReplicationGroupAuthToken"),
        length("replicationGroupId", 1, 40, source=TF + "elasticache/replication_group.go validateReplicationGroupID"),
        matches("replicationGroupId", r"^[A-Za-z](?!.*--)[0-9A-Za-z-]*[0-9A-Za-z]$", source=TF + "elasticache/replication_group.go validateReplicationGroupID"),
        matches("snapshotWindow", _ONCE_A_DAY, source="verify.ValidOnceADayWindowFormat"),
        matches("maintenanceWindow", _ONCE_A_WEEK, source="verify.ValidOnceAWeekWindowFormat"),
        matches("engineVersion", r"^([1-5](\.\d+){2}|6\.x|[6-9]\.\d+)$", source=TF + "elasticache/engine_version.go"),
    ),
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": (
        one_of("engine", "redis", "valkey", source=TF + "elasticache/global_replication_group.go"),
        matches("engineVersion", r"^([1-5](\.\d+){2}|6\.x|[6-9]\.\d+)$", source=TF + "elasticache/engine_version.go"),
        length("primaryReplicationGroupId", 1, 40, source=TF + "elasticache/global_replication_group.go"),
    ),
    "aws:elasticache/subnetGroup:SubnetGroup": (length("name", 1, 255, source=TF + "elasticache/subnet_group.go"),),
    "aws:rds/globalCluster:GlobalCluster": (
        conflicts("engine", "sourceDbClusterIdentifier", source=TF + "rds/global_cluster.go"),
        one_of("engine", "aurora", "aurora-mysql", "aurora-postgresql", source=TF + "rds/global_cluster.go"),
    ),
    "aws:rds/cluster:Cluster": (
        conflicts("masterPassword", "manageMasterUserPassword", "masterPasswordWo", source=TF + "rds/cluster.go"),
        conflicts("snapshotIdentifier", "globalClusterIdentifier", source=TF + "rds/cluster.go"),
        conflicts("clusterIdentifier", "clusterIdentifierPrefix", source=TF + "rds/cluster.go"),
        between("backupRetentionPeriod", 0, 35, source=TF + "rds/cluster.go"),
        one_of("enabledCloudwatchLogsExports[]", "audit", "error", "general", "iam-db-auth-error", "instance", "postgresql", "slowquery", source=TF + "rds/cluster.go"),
        one_of("engine", "aurora", "aurora-mysql", "aurora-postgresql", "mysql", "postgres", "neptune", source=TF + "rds/cluster.go"),
        matches("finalSnapshotIdentifier", r"^[0-9A-Za-z](?!.*--)[0-9A-Za-z-]*[0-9A-Za-z]$", source=TF + "rds/cluster.go"),
        matches("preferredBackupWindow", _ONCE_A_DAY, source="verify.ValidOnceADayWindowFormat"),
        matches("preferredMaintenanceWindow", _ONCE_A_WEEK, source="verify.ValidOnceAWeekWindowFormat"),
    ),
    "aws:rds/clusterInstance:ClusterInstance": (
        conflicts("identifier", "identifierPrefix", source=TF + "rds/cluster_instance.go"),
        one_of("engine", "aurora-mysql", "aurora-postgresql", "mysql", "postgres", source=TF + "rds/cluster_instance.go"),
        custom("", _pi_retention, source=TF + "rds/cluster_instance.go"),
    ),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": (
        conflicts(*_NAMED, source=TF + "rds/cluster_parameter_group.go"),
        one_of("parameters[].applyMethod", "immediate", "pending-reboot", source=TF + "rds/cluster_parameter_group.go"),
        matches("namePrefix", r"^[a-z](?!.*--)[0-9a-z-]*$", source=TF + "rds/validate.go validParamGroupNamePrefix"),
    ),
    "aws:rds/parameterGroup:ParameterGroup": (
        conflicts(*_NAMED, source=TF + "rds/parameter_group.go"),
        one_of("parameters[].applyMethod", "immediate", "pending-reboot", source=TF + "rds/parameter_group.go"),
        matches("namePrefix", r"^[a-z](?!.*--)[0-9a-z-]*$", source=TF + "rds/validate.go validParamGroupNamePrefix"),
    ),
    "aws:rds/subnetGroup:SubnetGroup": (
        conflicts(*_NAMED, source=TF + "rds/subnet_group.go"),
        matches("name", r"^(?!default$)[0-9a-z_ .-]{1,255}$", source=TF + "rds/validate.go validSubnetGroupName"),
    ),
    "aws:s3/bucket:Bucket": (conflicts("bucket", "bucketPrefix", source=TF + "s3/bucket.go"),),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        one_of("rules[].status", "Enabled", "Disabled", source=TF + "s3/bucket_lifecycle_configuration.go"),
        between("rules[].noncurrentVersionExpiration.noncurrentDays", 1, 1e9, source=TF + "s3/bucket_lifecycle_configuration.go"),
        conflicts("prefix", "filter", block="rules[]", source=TF + "s3/bucket_lifecycle_configuration.go"),
    ),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": (
        one_of("rules[].status", "Enabled", "Disabled", source=TF + "s3/bucket_replication_configuration.go"),
        one_of("rules[].deleteMarkerReplication.status", "Enabled", "Disabled", source=TF + "s3/bucket_replication_configuration.go"),
        one_of("rules[].destination.replicationTime.status", "Enabled", "Disabled", source=TF + "s3/bucket_replication_configuration.go"),
        one_of("rules[].destination.metrics.status", "Enabled", "Disabled", source=TF + "s3/bucket_replication_configuration.go"),
        conflicts("prefix", "filter", block="rules[]", source=TF + "s3/bucket_replication_configuration.go"),
        # A rule with a filter must state delete-marker replication (V2 schema), and priorities are V2 too.
        required_with("filter", "deleteMarkerReplication", block="rules[]", source=TF + "s3/bucket_replication_configuration.go"),
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (
        one_of("rule.objectOwnership", "BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced", source=TF + "s3/bucket_ownership_controls.go"),
    ),
    "aws:s3/bucketPolicy:BucketPolicy": (matches("policy", r"^\s*\{", source="verify.ValidIAMPolicyJSON"),),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        one_of("rules[].applyServerSideEncryptionByDefault.sseAlgorithm", "AES256", "aws:kms", "aws:kms:dsse", source=TF + "s3/bucket_server_side_encryption_configuration.go"),
    ),
    "aws:s3/bucketVersioning:BucketVersioning": (
        one_of("versioningConfiguration.status", "Enabled", "Suspended", "Disabled", source=TF + "s3/bucket_versioning.go"),
    ),
    "aws:cloudfront/distribution:Distribution": (
        one_of("defaultCacheBehavior.viewerProtocolPolicy", "allow-all", "https-only", "redirect-to-https", source=TF + "cloudfront/distribution.go"),
        one_of("httpVersion", "http1.1", "http2", "http2and3", "http3", source=TF + "cloudfront/distribution.go"),
        length("comment", 0, 128, source=TF + "cloudfront/distribution.go"),
        one_of("restrictions.geoRestriction.restrictionType", "none", "whitelist", "blacklist", source=TF + "cloudfront/distribution.go"),
        one_of("viewerCertificate.sslSupportMethod", "sni-only", "vip", "static-ip", source=TF + "cloudfront/distribution.go"),
        one_of(
            "viewerCertificate.minimumProtocolVersion",
            "SSLv3", "TLSv1", "TLSv1_2016", "TLSv1.1_2016", "TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025",
            source=TF + "cloudfront/distribution.go (enum MinimumProtocolVersion)",
        ),
        one_of("originGroups[].failoverCriteria.statusCodes[]", 400, 403, 404, 416, 500, 502, 503, 504, source="CloudFront API FailoverCriteria (no schema enum; AWS refuses others)"),
        custom("originGroups[]", _origin_group_members, source=TF + "cloudfront/distribution.go"),
    ),
    "aws:cloudfront/originAccessControl:OriginAccessControl": (
        one_of("originAccessControlOriginType", "s3", "mediastore", "lambda", "mediapackagev2", source=TF + "cloudfront/origin_access_control.go"),
        one_of("signingBehavior", "always", "never", "no-override", source=TF + "cloudfront/origin_access_control.go"),
        one_of("signingProtocol", "sigv4", source=TF + "cloudfront/origin_access_control.go"),
        length("description", 0, 256, source=TF + "cloudfront/origin_access_control.go"),
    ),
    "aws:lambda/function:Function": (
        conflicts("code", "s3Bucket", "s3Key", "s3ObjectVersion", "imageUri", source=TF + "lambda/function.go (pulumi-aws patch 0015)"),
        matches("runtime", r"^(python3\.(9|1[0-4])|nodejs\d+\.x|java\d+|provided\.al2023|provided\.al2|dotnet\d+|ruby3\.\d+)$", source=TF + "lambda/function.go enum Runtime"),
        one_of("architectures[]", "x86_64", "arm64", source=TF + "lambda/function.go"),
        length("handler", 1, 128, source=TF + "lambda/function.go"),
        between("memorySize", 128, 10240, source=TF + "lambda/function.go"),
        between("timeout", 1, 900, source=TF + "lambda/function.go"),
        between("reservedConcurrentExecutions", -1, 1e9, source=TF + "lambda/function.go"),
        one_of("loggingConfig.logFormat", "JSON", "Text", source=TF + "lambda/function.go"),
        one_of("tracingConfig.mode", "Active", "PassThrough", source=TF + "lambda/function.go"),
        matches("loggingConfig.logGroup", r"^[0-9A-Za-z_./#-]{1,512}$", source=TF + "logs/validate.go validLogGroupName"),
    ),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": (
        between("maximumEventAgeInSeconds", 60, 21600, source=TF + "lambda/function_event_invoke_config.go"),
        between("maximumRetryAttempts", 0, 2, source=TF + "lambda/function_event_invoke_config.go"),
    ),
    "aws:lambda/permission:Permission": (
        conflicts("statementId", "statementIdPrefix", source=TF + "lambda/permission.go"),
        matches("action", r"^(lambda:[*]|lambda:[A-Za-z]+|[*])$", source=TF + "lambda/validate.go validPermissionAction"),
        matches("sourceAccount", r"^\d{12}$", source="verify.ValidAccountID"),
        matches("sourceArn", _ARN, source="verify.ValidARN"),
    ),
    "aws:scheduler/schedule:Schedule": (
        conflicts(*_NAMED, source=TF + "scheduler/schedule.go"),
        one_of("flexibleTimeWindow.mode", "OFF", "FLEXIBLE", source=TF + "scheduler/schedule.go"),
        between("flexibleTimeWindow.maximumWindowInMinutes", 1, 1440, source=TF + "scheduler/schedule.go"),
        length("description", 0, 512, source=TF + "scheduler/schedule.go"),
        between("target.retryPolicy.maximumEventAgeInSeconds", 60, 86400, source=TF + "scheduler/schedule.go"),
        between("target.retryPolicy.maximumRetryAttempts", 0, 185, source=TF + "scheduler/schedule.go"),
        matches("target.deadLetterConfig.arn", _ARN, source="verify.ValidARN"),
        custom("", _scheduler_window, source="EventBridge Scheduler API FlexibleTimeWindow"),
    ),
    "aws:arcregionswitch/plan:Plan": (
        one_of("recoveryApproach", "activeActive", "activePassive", source=TF + "arcregionswitch/plan.go"),
        # No schema validator; the service model: integer, min 1, max 10080 (botocore arc-region-switch).
        between("recoveryTimeObjectiveMinutes", 1, 10080, source="ARC Region switch API CreatePlan (service model)"),
        one_of("workflows[].workflowTargetAction", "activate", "deactivate", source=TF + "arcregionswitch/plan.go"),
        one_of(
            "workflows[].steps[].executionBlockType",
            "ARCRegionSwitchPlan", "ARCRoutingControl", "AuroraGlobalDatabase", "CustomActionLambda", "DocumentDb", "EC2AutoScaling",
            "ECSServiceScaling", "EKSResourceScaling", "ManualApproval", "Parallel", "RdsCreateCrossRegionReplica", "RdsPromoteReadReplica",
            "Route53HealthCheck",
            source=TF + "arcregionswitch/plan.go",
        ),
    ),
    "aws:opensearch/domain:Domain": (
        one_of("clusterConfig.zoneAwarenessConfig.availabilityZoneCount", 2, 3, source=TF + "opensearch/domain.go"),
        one_of("ebsOptions.volumeType", "standard", "gp2", "io1", "gp3", source=TF + "opensearch/domain.go"),
        between("ebsOptions.throughput", 125, 1e9, source=TF + "opensearch/domain.go"),
        matches("domainEndpointOptions.tlsSecurityPolicy", r"^Policy-Min-TLS-1-[0-2]-(2019-07|PFS-2023-10)$", source=TF + "opensearch/domain.go enum TLSSecurityPolicy"),
        # AWS: 3-28 characters, lower-case letter first, then lower-case letters, digits, hyphens.
        matches("domainName", r"^[a-z][0-9a-z\-]{2,27}$", source=TF + "opensearch/domain.go"),
    ),
    "aws:route53/healthCheck:HealthCheck": (
        one_of("type", "HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP", "CALCULATED", "CLOUDWATCH_METRIC", "RECOVERY_CONTROL", source=TF + "route53/health_check.go"),
        one_of("requestInterval", 10, 30, source=TF + "route53/health_check.go"),
        between("failureThreshold", 1, 10, source=TF + "route53/health_check.go"),
        length("fqdn", 0, 255, source=TF + "route53/health_check.go"),
        length("resourcePath", 0, 255, source=TF + "route53/health_check.go"),
        between("childHealthThreshold", 0, 256, source=TF + "route53/health_check.go"),
        one_of("insufficientDataHealthStatus", "Healthy", "Unhealthy", "LastKnownStatus", source=TF + "route53/health_check.go"),
        length("referenceName", 0, 27, source=TF + "route53/health_check.go"),
        custom("", _health_check_shape, source=TF + "route53/health_check.go CustomizeDiff"),
    ),
    "aws:route53/record:Record": (
        exactly_one_of("aliases", "records", source=TF + "route53/record.go"),
        conflicts("aliases", "ttl", source=TF + "route53/record.go"),
        conflicts(
            "failoverRoutingPolicies",
            "cidrRoutingPolicy",
            "geolocationRoutingPolicies",
            "geoproximityRoutingPolicy",
            "latencyRoutingPolicies",
            "multivalueAnswerRoutingPolicy",
            "weightedRoutingPolicies",
            source=TF + "route53/record.go",
        ),
        required_with("failoverRoutingPolicies", "setIdentifier", source=TF + "route53/record.go"),
        one_of("failoverRoutingPolicies[].type", "PRIMARY", "SECONDARY", source=TF + "route53/record.go"),
        custom("", _alias_or_ttl, source=TF + "route53/record.go"),
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        conflicts("metricName", "metricQueries", source=TF + "cloudwatch/metric_alarm.go"),
        conflicts("namespace", "metricQueries", source=TF + "cloudwatch/metric_alarm.go"),
        conflicts("dimensions", "metricQueries", source=TF + "cloudwatch/metric_alarm.go"),
        conflicts("period", "metricQueries", source=TF + "cloudwatch/metric_alarm.go"),
        conflicts("statistic", "extendedStatistic", "metricQueries", source=TF + "cloudwatch/metric_alarm.go"),
        conflicts("threshold", "thresholdMetricId", source=TF + "cloudwatch/metric_alarm.go"),
        one_of(
            "comparisonOperator",
            "GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold",
            "LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold",
            source=TF + "cloudwatch/metric_alarm.go",
        ),
        one_of("statistic", "SampleCount", "Average", "Sum", "Minimum", "Maximum", source=TF + "cloudwatch/metric_alarm.go"),
        one_of("treatMissingData", "breaching", "ignore", "missing", "notBreaching", source=TF + "cloudwatch/metric_alarm.go"),
        between("evaluationPeriods", 1, 1e9, source=TF + "cloudwatch/metric_alarm.go"),
        between("datapointsToAlarm", 1, 1e9, source=TF + "cloudwatch/metric_alarm.go"),
        length("metricName", 1, 255, source=TF + "cloudwatch/metric_alarm.go"),
        length("alarmDescription", 0, 1024, source=TF + "cloudwatch/metric_alarm.go"),
        custom("", _alarm_period, source=TF + "cloudwatch/metric_alarm.go period"),
        # metric_query: id Required (1-255), expression 1-1024, metric.{metric_name, period, stat} Required,
        # metric.period 1/5/10/30 or a multiple of 60; CustomizeDiff: "No metric_query may have both
        # `expression` and a `metric` specified". AWS (PutMetricAlarm): ids start with a lower-case letter,
        # and exactly one query returns data, the one the alarm watches.
        length("metricQueries[].id", 1, 255, source=TF + "cloudwatch/metric_alarm.go"),
        matches("metricQueries[].id", r"^[a-z][a-zA-Z0-9_]*$", source="CloudWatch API MetricDataQuery.Id"),
        length("metricQueries[].expression", 1, 1024, source=TF + "cloudwatch/metric_alarm.go"),
        exactly_one_of("expression", "metric", block="metricQueries[]", source=TF + "cloudwatch/metric_alarm.go CustomizeDiff"),
        custom(
            "metricQueries[].metric",
            lambda m: None
            if m.get("metricName") and m.get("stat") and m.get("period") is not None and (int(float(m["period"])) in (1, 5, 10, 30) or int(float(m["period"])) % 60 == 0)
            else "metric_query.metric needs metric_name, stat and a period of 1, 5, 10, 30 or a multiple of 60",
            source=TF + "cloudwatch/metric_alarm.go",
        ),
        custom(
            "",
            lambda o: None
            if not o.get("metricQueries") or sum(1 for q in o["metricQueries"] if q.get("returnData")) == 1
            else "exactly one metric query must return data (the expression the alarm watches)",
            source="CloudWatch API PutMetricAlarm Metrics",
        ),
        # AWS: an alarm's math may use at most 10 metrics.
        custom("", lambda o: None if len([q for q in o.get("metricQueries") or [] if q.get("metric")]) <= 10 else "more than 10 metrics in the alarm's math", source="CloudWatch metric math alarms"),
        custom("", _datapoints_within_periods, source="CloudWatch API PutMetricAlarm"),
        # metric_alarm.go: at most 5 actions per state.
        custom("", lambda o: next((f"{k} has {len(o[k])} actions (at most 5)" for k in ("alarmActions", "okActions") if len(o.get(k) or []) > 5), None), source=TF + "cloudwatch/metric_alarm.go"),
    ),
    "aws:cloudwatch/dashboard:Dashboard": (
        # dashboard_name: Required, ForceNew, validDashboardName (validate.go): at most 255 characters of ^[0-9A-Za-z_-]+$.
        length("dashboardName", 1, 255, source=TF + "cloudwatch/validate.go validDashboardName"),
        matches("dashboardName", r"^[0-9A-Za-z_-]+$", source=TF + "cloudwatch/validate.go validDashboardName"),
        # dashboard_body: Required, sdkv2.JSONDocumentSchemaRequired (validation.StringIsJSON).
        custom("", _dashboard_body_is_json, source=TF + "cloudwatch/dashboard.go dashboard_body (JSONDocumentSchemaRequired)"),
    ),
    "aws:cloudwatch/eventRule:EventRule": (
        at_least_one_of("eventPattern", "scheduleExpression", source=TF + "events/rule.go"),
        length("description", 0, 512, source=TF + "events/rule.go"),
    ),
    "aws:cloudwatch/eventTarget:EventTarget": (conflicts("input", "inputPath", "inputTransformer", source=TF + "events/target.go"),),
    "aws:cloudwatch/logGroup:LogGroup": (
        conflicts(*_NAMED, source=TF + "logs/group.go"),
        one_of("retentionInDays", *_LOG_RETENTION, source=TF + "logs/group.go"),
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (),
    "aws:ec2/eip:Eip": (one_of("domain", "vpc", "standard", source=TF + "ec2/ec2_eip.go"),),
    "aws:ec2/flowLog:FlowLog": (
        exactly_one_of("eniId", "regionalNatGatewayId", "subnetId", "vpcId", "transitGatewayId", "transitGatewayAttachmentId", source=TF + "ec2/vpc_flow_log.go"),
        one_of("logDestinationType", "cloud-watch-logs", "s3", "kinesis-data-firehose", source=TF + "ec2/vpc_flow_log.go"),
        one_of("maxAggregationInterval", 60, 600, source=TF + "ec2/vpc_flow_log.go"),
        one_of("trafficType", "ACCEPT", "REJECT", "ALL", source=TF + "ec2/vpc_flow_log.go"),
    ),
    "aws:ec2/internetGateway:InternetGateway": (),
    "aws:ec2/launchTemplate:LaunchTemplate": (
        conflicts(*_NAMED, source=TF + "ec2/ec2_launch_template.go"),
        conflicts("instanceType", "instanceRequirements", source=TF + "ec2/ec2_launch_template.go"),
        conflicts("updateDefaultVersion", "defaultVersion", source=TF + "ec2/ec2_launch_template.go"),
        conflicts("vpcSecurityGroupIds", "securityGroupNames", source=TF + "ec2/ec2_launch_template.go"),
        conflicts("arn", "name", block="iamInstanceProfile", source=TF + "ec2/ec2_launch_template.go"),
        one_of("blockDeviceMappings[].ebs.volumeType", "standard", "io1", "io2", "gp2", "sc1", "st1", "gp3", source=TF + "ec2/ec2_launch_template.go"),
        one_of("blockDeviceMappings[].ebs.encrypted", "true", "false", source=TF + "ec2/ec2_launch_template.go"),
        one_of("blockDeviceMappings[].ebs.deleteOnTermination", "true", "false", source=TF + "ec2/ec2_launch_template.go"),
        one_of("metadataOptions.httpEndpoint", "enabled", "disabled", source=TF + "ec2/ec2_launch_template.go"),
        one_of("metadataOptions.httpTokens", "optional", "required", source=TF + "ec2/ec2_launch_template.go"),
        between("metadataOptions.httpPutResponseHopLimit", 1, 64, source=TF + "ec2/ec2_launch_template.go"),
        one_of("tagSpecifications[].resourceType", "instance", "volume", "network-interface", "spot-instances-request", "elastic-gpu", source=TF + "ec2/ec2_launch_template.go"),
    ),
    "aws:ec2/natGateway:NatGateway": (),
    "aws:ec2/routeTable:RouteTable": (),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (exactly_one_of("subnetId", "gatewayId", source=TF + "ec2/vpc_route_table_association.go"),),
    "aws:ec2/securityGroup:SecurityGroup": (
        conflicts(*_NAMED, source=TF + "ec2/vpc_security_group.go"),
        length("description", 0, 255, source=TF + "ec2/vpc_security_group.go"),
    ),
    "aws:ec2/subnet:Subnet": (conflicts("availabilityZone", "availabilityZoneId", source=TF + "ec2/vpc_subnet.go"),),
    "aws:ec2/vpc:Vpc": (conflicts("cidrBlock", "ipv4NetmaskLength", source=TF + "ec2/vpc_.go"),),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (
        conflicts("serviceName", "resourceConfigurationArn", "serviceNetworkArn", source=TF + "ec2/vpc_endpoint.go"),
        one_of("vpcEndpointType", "Gateway", "GatewayLoadBalancer", "Interface", "Resource", "ServiceNetwork", source=TF + "ec2/vpc_endpoint.go"),
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        exactly_one_of("cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId", source=TF + "ec2/vpc_security_group_ingress_rule.go"),
        between("fromPort", -1, 65535, source=TF + "ec2/vpc_security_group_ingress_rule.go"),
        between("toPort", -1, 65535, source=TF + "ec2/vpc_security_group_ingress_rule.go"),
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (
        exactly_one_of("cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId", source=TF + "ec2/vpc_security_group_egress_rule.go"),
        between("fromPort", -1, 65535, source=TF + "ec2/vpc_security_group_egress_rule.go"),
        between("toPort", -1, 65535, source=TF + "ec2/vpc_security_group_egress_rule.go"),
    ),
    "aws:lb/loadBalancer:LoadBalancer": (
        conflicts(*_NAMED, source=TF + "elbv2/load_balancer.go"),
        exactly_one_of("subnets", "subnetMappings", source=TF + "elbv2/load_balancer.go"),
        one_of("desyncMitigationMode", "monitor", "defensive", "strictest", source=TF + "elbv2/load_balancer.go"),
        one_of("ipAddressType", "ipv4", "dualstack", "dualstack-without-public-ipv4", source=TF + "elbv2/load_balancer.go"),
        one_of("loadBalancerType", "application", "network", "gateway", source=TF + "elbv2/load_balancer.go"),
        length("name", 1, 32, source=TF + "elbv2/load_balancer.go validName"),
    ),
    "aws:lb/listener:Listener": (
        one_of("defaultActions[].type", "forward", "redirect", "fixed-response", "authenticate-cognito", "authenticate-oidc", "jwt-validation", source=TF + "elbv2/listener.go"),
        one_of("defaultActions[].redirect.statusCode", "HTTP_301", "HTTP_302", source=TF + "elbv2/listener.go"),
        one_of("defaultActions[].redirect.protocol", "#{protocol}", "HTTP", "HTTPS", source=TF + "elbv2/listener.go"),
        between("port", 1, 65535, source=TF + "elbv2/listener.go"),
        one_of("protocol", "HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC", source=TF + "elbv2/listener.go"),
    ),
    "aws:lb/targetGroup:TargetGroup": (
        conflicts(*_NAMED, source=TF + "elbv2/target_group.go"),
        length("name", 1, 32, source=TF + "elbv2/target_group.go"),
        between("deregistrationDelay", 0, 3600, source=TF + "elbv2/target_group.go"),
        between("healthCheck.healthyThreshold", 2, 10, source=TF + "elbv2/target_group.go"),
        between("healthCheck.unhealthyThreshold", 2, 10, source=TF + "elbv2/target_group.go"),
        between("healthCheck.interval", 5, 300, source=TF + "elbv2/target_group.go"),
        between("healthCheck.timeout", 2, 120, source=TF + "elbv2/target_group.go"),
        one_of("healthCheck.protocol", "HTTP", "HTTPS", "TCP", source=TF + "elbv2/target_group.go"),
        between("port", 1, 65535, source=TF + "elbv2/target_group.go"),
        one_of("protocol", "HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC", source=TF + "elbv2/target_group.go"),
        one_of("targetType", "instance", "ip", "lambda", "alb", source=TF + "elbv2/target_group.go"),
        # AWS: the health check timeout must be smaller than the interval.
        custom(
            "healthCheck",
            lambda h: None if not h or float(h.get("timeout", 0)) < float(h.get("interval", 30)) else "healthCheck.timeout must be below healthCheck.interval",
            source="ELBv2 API CreateTargetGroup",
        ),
        between("healthCheck.interval", 5, 300, source=TF + "elbv2/target_group.go"),
        length("healthCheck.path", 1, 1024, source=TF + "elbv2/target_group.go"),
        matches("healthCheck.path", r"^/", source=TF + "elbv2/target_group.go (verify.StringHasPrefix)"),
        custom("", _target_group_type, source=TF + "elbv2/target_group.go CustomizeDiff, targetGroupRuntimeValidation"),
    ),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": (
        # target_group_attachment.go: target_group_arn and target_id Required, ForceNew, no validator.
        at_least_one_of("targetGroupArn", source=TF + "elbv2/target_group_attachment.go"),
        at_least_one_of("targetId", source=TF + "elbv2/target_group_attachment.go"),
    ),
    "aws:lb/listenerRule:ListenerRule": (
        matches("listenerArn", _ARN, source=TF + "elbv2/listener_rule.go (verify.ValidARN)"),
        # validListenerRulePriority: 1..50,000 (or 99,999, the default rule's).
        between("priority", 1, 50_000, source=TF + "elbv2/listener_rule.go validListenerRulePriority"),
        one_of(
            "actions[].type", "forward", "redirect", "fixed-response", "authenticate-cognito", "authenticate-oidc", "jwt-validation",
            source=TF + "elbv2/listener_rule.go (enum ActionTypeEnum)",
        ),
        matches("actions[].targetGroupArn", _ARN, source=TF + "elbv2/listener_rule.go (verify.ValidARN)"),
        matches("conditions[].httpHeader.httpHeaderName", r"^[0-9A-Za-z_!#$%&'*+,.^`|~-]{1,40}$", source=TF + "elbv2/listener_rule.go"),
        length("conditions[].httpHeader.values[]", 1, 128, source=TF + "elbv2/listener_rule.go"),
        custom("conditions[]", _one_condition_field, source=TF + "elbv2/listener_rule.go expandRuleConditions"),
    ),
    "aws:globalaccelerator/accelerator:Accelerator": (
        # accelerator.go: name 1-255, ^[0-9A-Za-z-]+$, no leading or trailing hyphen; ip_address_type IPV4 | DUAL_STACK.
        length("name", 1, 255, source=TF + "globalaccelerator/accelerator.go"),
        matches("name", r"^[0-9A-Za-z](?:[0-9A-Za-z-]*[0-9A-Za-z])?$", source=TF + "globalaccelerator/accelerator.go"),
        one_of("ipAddressType", "IPV4", "DUAL_STACK", source=TF + "globalaccelerator/accelerator.go"),
        length("attributes.flowLogsS3Bucket", 0, 255, source=TF + "globalaccelerator/accelerator.go"),
        length("attributes.flowLogsS3Prefix", 0, 255, source=TF + "globalaccelerator/accelerator.go"),
        custom("", _accelerator_flow_logs, source="Global Accelerator API AcceleratorAttributes"),
    ),
    "aws:globalaccelerator/listener:Listener": (
        # listener.go: protocol Required TCP | UDP; port_range MinItems 1, MaxItems 10, ports IsPortNumber; client_affinity NONE | SOURCE_IP.
        one_of("protocol", "TCP", "UDP", source=TF + "globalaccelerator/listener.go"),
        one_of("clientAffinity", "NONE", "SOURCE_IP", source=TF + "globalaccelerator/listener.go"),
        between("portRanges[].fromPort", 1, 65535, source=TF + "globalaccelerator/listener.go"),
        between("portRanges[].toPort", 1, 65535, source=TF + "globalaccelerator/listener.go"),
        custom("", lambda o: None if 1 <= len(o.get("portRanges") or []) <= 10 else "portRanges needs 1 to 10 ranges", source=TF + "globalaccelerator/listener.go"),
        matches("acceleratorArn", _ARN, source=TF + "globalaccelerator/listener.go"),
    ),
    "aws:globalaccelerator/endpointGroup:EndpointGroup": (
        # endpoint_group.go: listener_arn Required ValidARN; endpoint_group_region ValidRegionName (ForceNew; defaults
        # to the provider's region); traffic_dial_percentage 0..100; endpoint_id 1-255; weight 0-255.
        matches("listenerArn", _ARN, source=TF + "globalaccelerator/endpoint_group.go"),
        matches("endpointGroupRegion", r"^[a-z]{2}(-[a-z]+)+-\d$", source=TF + "globalaccelerator/endpoint_group.go (verify.ValidRegionName)"),
        between("trafficDialPercentage", 0, 100, source=TF + "globalaccelerator/endpoint_group.go"),
        length("endpointConfigurations[].endpointId", 1, 255, source=TF + "globalaccelerator/endpoint_group.go"),
        between("endpointConfigurations[].weight", 0, 255, source=TF + "globalaccelerator/endpoint_group.go"),
    ),
    "aws:autoscaling/group:Group": (
        conflicts(*_NAMED, source=TF + "autoscaling/group.go"),
        exactly_one_of("launchConfiguration", "launchTemplate", "mixedInstancesPolicy", source=TF + "autoscaling/group.go"),
        conflicts("id", "name", block="launchTemplate", source=TF + "autoscaling/group.go"),
        length("launchTemplate.version", 1, 255, source=TF + "autoscaling/group.go"),
        conflicts("vpcZoneIdentifiers", "availabilityZones", source=TF + "autoscaling/group.go"),
        conflicts("targetGroupArns", "trafficSources", source=TF + "autoscaling/group.go"),
        one_of("instanceRefresh.strategy", "Rolling", "ReplaceRootVolume", source=TF + "autoscaling/group.go"),
        between("instanceRefresh.preferences.minHealthyPercentage", 0, 100, source=TF + "autoscaling/group.go"),
        between("instanceRefresh.preferences.maxHealthyPercentage", 100, 200, source=TF + "autoscaling/group.go"),
        custom(
            "",
            lambda g: None
            if int(float(g.get("minSize", 0))) <= int(float(g.get("desiredCapacity", g.get("minSize", 0)))) <= int(float(g.get("maxSize", 0)))
            else "minSize <= desiredCapacity <= maxSize",
            source="Auto Scaling API CreateAutoScalingGroup",
        ),
    ),
    "aws:autoscaling/policy:Policy": (
        one_of("policyType", "SimpleScaling", "StepScaling", "TargetTrackingScaling", "PredictiveScaling", source=TF + "autoscaling/policy.go"),
        conflicts("predefinedMetricSpecification", "customizedMetricSpecification", block="targetTrackingConfiguration", source=TF + "autoscaling/policy.go"),
    ),
    "aws:iam/instanceProfile:InstanceProfile": (conflicts(*_NAMED, source=TF + "iam/instance_profile.go"),),
    "aws:iam/role:Role": (
        conflicts(*_NAMED, source=TF + "iam/role.go"),
        between("maxSessionDuration", 3600, 43200, source=TF + "iam/role.go"),
        length("name", 1, 64, source=TF + "iam/role.go"),
        matches("assumeRolePolicy", r"^\s*\{", source="verify.ValidIAMPolicyJSON"),
    ),
    "aws:iam/rolePolicy:RolePolicy": (
        conflicts(*_NAMED, source=TF + "iam/role_policy.go"),
        matches("policy", r"^\s*\{", source="verify.ValidIAMPolicyJSON"),
        # IAM: an inline role policy holds at most 10,240 characters (whitespace aside).
        custom("", lambda p: None if len(re.sub(r"\s", "", str(p.get("policy", "")))) <= 10240 else "policy over 10,240 characters", source="IAM quotas"),
    ),
    "aws:kms/key:Key": (
        between("deletionWindowInDays", 7, 30, source=TF + "kms/key.go"),
        length("description", 0, 8192, source=TF + "kms/key.go"),
    ),
    "aws:kms/alias:Alias": (
        conflicts(*_NAMED, source=TF + "kms/alias.go"),
        matches("name", r"^alias/[a-zA-Z0-9/_-]+$", source=TF + "kms/validate.go validNameForResource"),
    ),
    "aws:sns/topic:Topic": (conflicts(*_NAMED, source=TF + "sns/topic.go"),),
    "aws:sns/topicPolicy:TopicPolicy": (matches("policy", r"^\s*\{", source="verify.ValidIAMPolicyJSON"),),
    "aws:sns/topicSubscription:TopicSubscription": (
        one_of("protocol", "application", "email", "email-json", "firehose", "http", "https", "lambda", "sms", "sqs", source=TF + "sns/topic_subscription.go"),
    ),
    "aws:sqs/queue:Queue": (
        conflicts(*_NAMED, source=TF + "sqs/queue.go"),
        conflicts("sqsManagedSseEnabled", "kmsMasterKeyId", source=TF + "sqs/queue.go"),
        between("messageRetentionSeconds", 60, 1209600, source=TF + "sqs/queue.go"),
    ),
    "aws:sqs/queuePolicy:QueuePolicy": (matches("policy", r"^\s*\{", source="verify.ValidIAMPolicyJSON"),),
    "aws:ssm/parameter:Parameter": (
        exactly_one_of("insecureValue", "value", "valueWo", source=TF + "ssm/parameter.go"),
        one_of("type", "String", "StringList", "SecureString", source=TF + "ssm/parameter.go"),
        length("name", 1, 2048, source=TF + "ssm/parameter.go"),
        length("description", 0, 1024, source=TF + "ssm/parameter.go"),
        length("insecureValue", 1, 8192, source="SSM API PutParameter (standard tier: 4 KB; non-empty)"),
    ),
    "aws:ssm/document:Document": (
        one_of("documentFormat", "YAML", "JSON", "TEXT", source=TF + "ssm/document.go"),
        one_of(
            "documentType",
            "Command", "Automation", "Session", "Package", "Policy", "ChangeCalendar", "ApplicationConfiguration",
            "ApplicationConfigurationSchema", "DeploymentStrategy", "ChangeTemplate", "ProblemAnalysis", "ProblemAnalysisTemplate",
            "CloudFormation", "ConformancePackTemplate", "QuickSetup", "ManualApprovalPolicy", "AutoApprovalPolicy",
            source=TF + "ssm/document.go",
        ),
        matches("name", r"^[a-zA-Z0-9_.-]{3,128}$", source=TF + "ssm/document.go"),
    ),
    "aws:secretsmanager/secret:Secret": (
        conflicts(*_NAMED, source=TF + "secretsmanager/secret.go"),
        custom("", _recovery_window, source=TF + "secretsmanager/secret.go"),
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": (conflicts("secretString", "secretBinary", "secretStringWo", source=TF + "secretsmanager/secret_version.go"),),
    "aws:acm/certificate:Certificate": (
        conflicts("keyAlgorithm", "certificateBody", "certificateChain", "privateKey", source=TF + "acm/certificate.go"),
        conflicts("subjectAlternativeNames", "certificateBody", "certificateChain", "privateKey", source=TF + "acm/certificate.go"),
        conflicts("validationMethod", "certificateAuthorityArn", "certificateBody", "certificateChain", "privateKey", source=TF + "acm/certificate.go"),
        exactly_one_of("domainName", "privateKey", source=TF + "acm/certificate.go"),
        one_of("keyAlgorithm", "RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1", source=TF + "acm/certificate.go"),
        one_of("validationMethod", "DNS", "EMAIL", "HTTP", source=TF + "acm/certificate.go"),
    ),
    "aws:acm/certificateValidation:CertificateValidation": (),
    "random:index/randomPassword:RandomPassword": (
        between("length", 1, 1e9, source="hashicorp/terraform-provider-random internal/provider/resource_password.go"),
        custom("", _random_length, source="hashicorp/terraform-provider-random internal/provider/resource_password.go"),
        at_least_one_of("special", "upper", "lower", "numeric", "minSpecial", "length", source="terraform-provider-random (at least one character class)"),
    ),
    # The explicit AWS providers (components/providers.py). internal/provider/provider.go declares region,
    # default_tags and the skip_* flags Optional, with no ConflictsWith or validators: only "The Region
    # must be set" (website/docs/index.html.markdown), checked at configure unless skip_region_validation,
    # and the engine hands booleans over as JSON strings.
    "pulumi:providers:aws": (
        custom("", _provider_region, source="hashicorp/terraform-provider-aws website/docs/index.html.markdown (region)"),
        one_of("skipCredentialsValidation", "true", "false", source=TF.replace("service/", "provider/provider.go (TypeBool)")),
        one_of("skipRequestingAccountId", "true", "false", source=TF.replace("service/", "provider/provider.go (TypeBool)")),
        one_of("skipRegionValidation", "true", "false", source=TF.replace("service/", "provider/provider.go (TypeBool)")),
    ),
}

# ------------------------------------------------------------------------------------------ coverage
# Every top-level argument the program sets, per type, whose constraints were read in the provider's
# source (the rules above hold the ones that constrain it). A new argument fails the coverage test
# until its constraints are read and it is added here.
REVIEWED: dict[str, frozenset[str]] = {
    "aws:acm/certificate:Certificate": frozenset({"domainName", "keyAlgorithm", "subjectAlternativeNames", "validationMethod"}),
    "aws:acm/certificateValidation:CertificateValidation": frozenset({"certificateArn", "validationRecordFqdns"}),
    "aws:arcregionswitch/plan:Plan": frozenset(
        {"name", "description", "executionRole", "primaryRegion", "recoveryApproach", "recoveryTimeObjectiveMinutes", "regions", "workflows", "associatedAlarms", "triggers", "reportConfigurations"}
    ),
    "aws:autoscaling/group:Group": frozenset(
        {"defaultInstanceWarmup", "desiredCapacity", "enabledMetrics", "healthCheckGracePeriod", "healthCheckType", "instanceRefresh",
         "launchTemplate", "maxSize", "minSize", "name", "tags", "targetGroupArns", "vpcZoneIdentifiers"}
    ),
    "aws:autoscaling/policy:Policy": frozenset({"autoscalingGroupName", "policyType", "targetTrackingConfiguration"}),
    "aws:cloudfront/distribution:Distribution": frozenset(
        {"aliases", "comment", "defaultCacheBehavior", "enabled", "httpVersion", "isIpv6Enabled", "originGroups", "origins", "restrictions", "viewerCertificate"}
    ),
    "aws:cloudfront/originAccessControl:OriginAccessControl": frozenset({"description", "originAccessControlOriginType", "signingBehavior", "signingProtocol", "name"}),
    "aws:cloudwatch/dashboard:Dashboard": frozenset({"dashboardBody", "dashboardName"}),
    "aws:cloudwatch/eventRule:EventRule": frozenset({"description", "eventPattern"}),
    "aws:cloudwatch/eventTarget:EventTarget": frozenset({"arn", "deadLetterConfig", "input", "roleArn", "rule"}),
    "aws:cloudwatch/logGroup:LogGroup": frozenset({"kmsKeyId", "name", "retentionInDays"}),
    "aws:cloudwatch/metricAlarm:MetricAlarm": frozenset(
        {"alarmActions", "alarmDescription", "comparisonOperator", "datapointsToAlarm", "dimensions", "evaluationPeriods", "metricName", "metricQueries",
         "name", "namespace", "okActions", "period", "statistic", "threshold", "treatMissingData"}
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": frozenset({"egress", "ingress", "vpcId"}),
    "aws:ec2/eip:Eip": frozenset({"domain", "tags"}),
    "aws:ec2/flowLog:FlowLog": frozenset({"iamRoleArn", "logDestination", "logDestinationType", "maxAggregationInterval", "trafficType", "vpcId"}),
    "aws:ec2/internetGateway:InternetGateway": frozenset({"tags", "vpcId"}),
    "aws:ec2/launchTemplate:LaunchTemplate": frozenset(
        {"blockDeviceMappings", "iamInstanceProfile", "imageId", "instanceType", "metadataOptions", "monitoring", "tagSpecifications",
         "updateDefaultVersion", "userData", "vpcSecurityGroupIds"}
    ),
    "aws:ec2/natGateway:NatGateway": frozenset({"allocationId", "subnetId", "tags"}),
    "aws:ec2/routeTable:RouteTable": frozenset({"routes", "tags", "vpcId"}),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": frozenset({"routeTableId", "subnetId"}),
    "aws:ec2/securityGroup:SecurityGroup": frozenset({"description", "egress", "ingress", "name", "tags", "vpcId"}),
    "aws:ec2/subnet:Subnet": frozenset({"availabilityZone", "cidrBlock", "mapPublicIpOnLaunch", "tags", "vpcId"}),
    "aws:ec2/vpc:Vpc": frozenset({"cidrBlock", "enableDnsHostnames", "enableDnsSupport", "tags"}),
    "aws:ec2/vpcEndpoint:VpcEndpoint": frozenset({"privateDnsEnabled", "routeTableIds", "securityGroupIds", "serviceName", "subnetIds", "tags", "vpcEndpointType", "vpcId"}),
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": frozenset(
        {"engine", "engineVersion", "globalReplicationGroupDescription", "globalReplicationGroupIdSuffix", "primaryReplicationGroupId"}
    ),
    "aws:elasticache/replicationGroup:ReplicationGroup": frozenset(
        {"atRestEncryptionEnabled", "authToken", "automaticFailoverEnabled", "clusterMode", "description", "engine", "engineVersion",
         "globalReplicationGroupId", "kmsKeyId", "maintenanceWindow", "multiAzEnabled", "nodeType", "notificationTopicArn", "numCacheClusters",
         "port", "replicationGroupId", "securityGroupIds", "snapshotRetentionLimit", "snapshotWindow", "subnetGroupName",
         "transitEncryptionEnabled", "transitEncryptionMode"}
    ),
    "aws:elasticache/subnetGroup:SubnetGroup": frozenset({"description", "name", "subnetIds"}),
    "aws:iam/instanceProfile:InstanceProfile": frozenset({"role"}),
    "aws:iam/role:Role": frozenset({"assumeRolePolicy", "description", "maxSessionDuration", "name"}),
    "aws:iam/rolePolicy:RolePolicy": frozenset({"policy", "role"}),
    "aws:kms/alias:Alias": frozenset({"name", "targetKeyId"}),
    "aws:kms/key:Key": frozenset({"deletionWindowInDays", "description", "enableKeyRotation", "policy"}),
    "aws:lambda/function:Function": frozenset(
        {"architectures", "code", "description", "environment", "handler", "loggingConfig", "memorySize", "name", "reservedConcurrentExecutions",
         "role", "runtime", "timeout", "tracingConfig"}
    ),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": frozenset({"destinationConfig", "functionName", "maximumEventAgeInSeconds", "maximumRetryAttempts"}),
    "aws:lambda/permission:Permission": frozenset({"action", "function", "principal", "sourceAccount", "sourceArn"}),
    "aws:lb/listener:Listener": frozenset({"certificateArn", "defaultActions", "loadBalancerArn", "port", "protocol", "sslPolicy"}),
    "aws:lb/loadBalancer:LoadBalancer": frozenset(
        {"accessLogs", "desyncMitigationMode", "dropInvalidHeaderFields", "enableDeletionProtection", "internal", "ipAddressType", "loadBalancerType",
         "name", "securityGroups", "subnets"}
    ),
    "aws:lb/targetGroup:TargetGroup": frozenset({"deregistrationDelay", "healthCheck", "name", "port", "protocol", "targetType", "vpcId"}),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": frozenset({"targetGroupArn", "targetId"}),
    "aws:lb/listenerRule:ListenerRule": frozenset({"actions", "conditions", "listenerArn", "priority"}),
    "aws:globalaccelerator/accelerator:Accelerator": frozenset({"attributes", "enabled", "ipAddressType", "name"}),
    "aws:globalaccelerator/listener:Listener": frozenset({"acceleratorArn", "clientAffinity", "portRanges", "protocol"}),
    "aws:globalaccelerator/endpointGroup:EndpointGroup": frozenset({"endpointConfigurations", "endpointGroupRegion", "listenerArn", "trafficDialPercentage"}),
    "aws:opensearch/domain:Domain": frozenset(
        {"accessPolicies", "advancedSecurityOptions", "clusterConfig", "domainEndpointOptions", "domainName", "ebsOptions", "encryptAtRest",
         "engineVersion", "nodeToNodeEncryption", "vpcOptions"}
    ),
    "aws:rds/cluster:Cluster": frozenset(
        {"backupRetentionPeriod", "clusterIdentifier", "copyTagsToSnapshot", "databaseName", "dbClusterParameterGroupName", "dbSubnetGroupName",
         "deleteAutomatedBackups", "deletionProtection", "enableGlobalWriteForwarding", "enabledCloudwatchLogsExports", "engine", "engineVersion",
         "finalSnapshotIdentifier", "globalClusterIdentifier", "kmsKeyId", "masterPassword", "masterUsername", "port", "preferredBackupWindow",
         "preferredMaintenanceWindow", "skipFinalSnapshot", "storageEncrypted", "tags", "vpcSecurityGroupIds"}
    ),
    "aws:rds/clusterInstance:ClusterInstance": frozenset(
        {"autoMinorVersionUpgrade", "availabilityZone", "caCertIdentifier", "clusterIdentifier", "copyTagsToSnapshot", "dbParameterGroupName",
         "dbSubnetGroupName", "engine", "identifier", "instanceClass", "performanceInsightsEnabled", "performanceInsightsKmsKeyId",
         "performanceInsightsRetentionPeriod", "promotionTier", "publiclyAccessible", "tags"}
    ),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": frozenset({"description", "family", "namePrefix", "parameters"}),
    "aws:rds/globalCluster:GlobalCluster": frozenset({"databaseName", "deletionProtection", "engine", "engineVersion", "globalClusterIdentifier", "storageEncrypted"}),
    "aws:rds/parameterGroup:ParameterGroup": frozenset({"description", "family", "namePrefix", "parameters"}),
    "aws:rds/subnetGroup:SubnetGroup": frozenset({"description", "name", "subnetIds"}),
    "aws:route53/healthCheck:HealthCheck": frozenset(
        {"childHealthThreshold", "childHealthchecks", "cloudwatchAlarmName", "cloudwatchAlarmRegion", "enableSni", "failureThreshold", "fqdn",
         "insufficientDataHealthStatus", "invertHealthcheck", "port", "referenceName", "requestInterval", "resourcePath", "tags", "triggers", "type"}
    ),
    "aws:route53/record:Record": frozenset({"aliases", "allowOverwrite", "failoverRoutingPolicies", "healthCheckId", "name", "records", "setIdentifier", "ttl", "type", "zoneId"}),
    "aws:s3/bucket:Bucket": frozenset({"bucket", "forceDestroy"}),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": frozenset({"bucket", "rules"}),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": frozenset({"bucket", "rule"}),
    "aws:s3/bucketPolicy:BucketPolicy": frozenset({"bucket", "policy"}),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": frozenset({"blockPublicAcls", "blockPublicPolicy", "bucket", "ignorePublicAcls", "restrictPublicBuckets"}),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": frozenset({"bucket", "role", "rules"}),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": frozenset({"bucket", "rules"}),
    "aws:s3/bucketVersioning:BucketVersioning": frozenset({"bucket", "versioningConfiguration"}),
    "aws:scheduler/schedule:Schedule": frozenset({"description", "flexibleTimeWindow", "name", "scheduleExpression", "target"}),
    "aws:secretsmanager/secret:Secret": frozenset({"description", "kmsKeyId", "name", "recoveryWindowInDays", "replicas"}),
    "aws:secretsmanager/secretVersion:SecretVersion": frozenset({"secretId", "secretString"}),
    "aws:sns/topic:Topic": frozenset({"kmsMasterKeyId"}),
    "aws:sns/topicPolicy:TopicPolicy": frozenset({"arn", "policy"}),
    "aws:sns/topicSubscription:TopicSubscription": frozenset({"endpoint", "protocol", "topic"}),
    "aws:sqs/queue:Queue": frozenset({"messageRetentionSeconds", "name", "sqsManagedSseEnabled"}),
    "aws:sqs/queuePolicy:QueuePolicy": frozenset({"policy", "queueUrl"}),
    "aws:ssm/document:Document": frozenset({"content", "documentFormat", "documentType", "name"}),
    "aws:ssm/parameter:Parameter": frozenset({"description", "insecureValue", "name", "type"}),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": frozenset(
        {"cidrIpv4", "description", "fromPort", "ipProtocol", "referencedSecurityGroupId", "securityGroupId", "toPort"}
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": frozenset(
        {"cidrIpv4", "description", "fromPort", "ipProtocol", "referencedSecurityGroupId", "securityGroupId", "toPort"}
    ),
    "random:index/randomPassword:RandomPassword": frozenset({"length", "minLower", "minNumeric", "minSpecial", "minUpper", "overrideSpecial", "special"}),
    "pulumi:providers:aws": frozenset({"defaultTags", "region", "skipCredentialsValidation", "skipRegionValidation", "skipRequestingAccountId"}),
}


# ------------------------------------------------------------------------------------------ checker
@dataclass
class Violation:
    type: str
    name: str
    rule: Rule
    detail: str

    def __str__(self) -> str:
        return f"{self.name} ({self.type.rsplit(':', 1)[-1]}): {self.detail} [{self.rule.source}]"


def _set(value: Any) -> bool:
    """Present for the provider: Pulumi omits unset inputs; an empty list or string counts as unset."""
    return value is not None and value != [] and value != ""


def _walk(obj: Any, path: str) -> Iterator[Any]:
    """Every value at `path` ("a.b[].c"); a missing step yields nothing."""
    if not path:
        yield obj
        return
    head, _, rest = path.partition(".")
    each = head.endswith("[]")
    key = head[:-2] if each else head
    if not isinstance(obj, Mapping) or key not in obj or obj[key] is None:
        return
    value = obj[key]
    if each:
        for item in value if isinstance(value, list) else [value]:
            yield from _walk(item, rest)
    else:
        yield from _walk(value, rest)


def _values(block: Mapping[str, Any], key: str) -> list[Any]:
    each = key.endswith("[]")
    name = key[:-2] if each else key
    if name not in block or block[name] is None:
        return []
    value = block[name]
    return list(value) if each and isinstance(value, list) else [value]


def _plain(value: Any) -> Any:
    """Unwrap the engine's secret envelope."""
    if isinstance(value, Mapping) and "4dabf18193072939515e22adb298388d" in value:
        return _plain(value.get("value"))
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and not isinstance(a, bool) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return float(a) == float(b)
    return bool(a == b)


def _check(rule: Rule, block: Mapping[str, Any]) -> str | None:
    kind, keys = rule.kind, rule.keys
    if kind == "conflicts":
        if _set(block.get(keys[0])):
            both = [k for k in keys[1:] if _set(block.get(k))]
            if both:
                return f"{keys[0]} conflicts with {', '.join(both)} (provider: 'Conflicting configuration arguments')"
        return None
    if kind == "required_with":
        if _set(block.get(keys[0])):
            missing = [k for k in keys[1:] if not _set(block.get(k))]
            if missing:
                return f"{keys[0]} requires {', '.join(missing)}"
        return None
    if kind in ("exactly_one_of", "at_least_one_of"):
        present = [k for k in keys if _set(block.get(k))]
        if kind == "exactly_one_of" and len(present) != 1:
            return f"exactly one of {', '.join(keys)} must be set, found {present or 'none'}"
        if kind == "at_least_one_of" and not present:
            return f"one of {', '.join(keys)} must be set"
        return None
    if kind == "custom":
        assert rule.check is not None
        return rule.check(block)
    (key,) = keys
    for value in _values(block, key):
        if kind == "one_of" and not any(_same(value, a) for a in rule.allowed):
            return f"{key} {value!r} is not one of {', '.join(map(str, rule.allowed))}"
        if kind == "between":
            number = float(value)
            assert rule.low is not None and rule.high is not None
            if not rule.low <= number <= rule.high:
                return f"{key} {value} is outside {rule.low:g}..{rule.high:g}"
        if kind == "length":
            assert rule.low is not None and rule.high is not None
            if not rule.low <= len(str(value)) <= rule.high:
                return f"{key} is {len(str(value))} characters, allowed {rule.low:g}..{rule.high:g}"
        if kind == "matches" and not re.match(rule.pattern, str(value)):
            return f"{key} {str(value)[:60]!r} does not match {rule.pattern}"
    return None


def violations(type_: str, name: str, inputs: Mapping[str, Any], rules: Mapping[str, Sequence[Rule]] = RULES) -> list[Violation]:
    """What the provider would refuse in one resource's inputs (its recorded, plain values)."""
    found = []
    plain = _plain(inputs)
    for rule in rules.get(type_, ()):
        for block in _walk(plain, rule.block):
            if isinstance(block, Mapping):
                detail = _check(rule, block)
                if detail:
                    found.append(Violation(type_, name, rule, detail))
    return found


def unreviewed(type_: str, inputs: Mapping[str, Any]) -> list[str]:
    """Arguments set here whose provider constraints are not recorded as read (REVIEWED)."""
    if type_ not in REVIEWED:
        return [f"type {type_} (no entry in offline/provider_rules.py REVIEWED/RULES)"]
    return sorted(k for k in inputs if k not in REVIEWED[type_] and not k.startswith("__"))


__all__ = ["REVIEWED", "RULES", "Rule", "Violation", "unreviewed", "violations"]
