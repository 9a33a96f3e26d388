"""RegionalFrontend in both example stacks: compute, load balancer, cache, search, runtime config, traffic."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from components.session_cache import MEMBER_INHERITS
from offline.mocks import ComputedAttributes
from offline.runner import Resource, StackGraph, run_stack

SECRET_SIG = "4dabf18193072939515e22adb298388d"  # how the engine marks a secret value
INTERNET = ("0.0.0.0/0", "::/0")
T = {
    "lt": "aws:ec2/launchTemplate:LaunchTemplate",
    "asg": "aws:autoscaling/group:Group",
    "policy": "aws:autoscaling/policy:Policy",
    "alb": "aws:lb/loadBalancer:LoadBalancer",
    "tg": "aws:lb/targetGroup:TargetGroup",
    "listener": "aws:lb/listener:Listener",
    "cert": "aws:acm/certificate:Certificate",
    "record": "aws:route53/record:Record",
    "check": "aws:route53/healthCheck:HealthCheck",
    "alarm": "aws:cloudwatch/metricAlarm:MetricAlarm",
    "rg": "aws:elasticache/replicationGroup:ReplicationGroup",
    "grg": "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
    "domain": "aws:opensearch/domain:Domain",
    "param": "aws:ssm/parameter:Parameter",
    "ingress": "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "sg": "aws:ec2/securityGroup:SecurityGroup",
    "secret_version": "aws:secretsmanager/secretVersion:SecretVersion",
}


def plain(value: Any) -> Any:
    """Unwrap the engine's secret envelope so tests compare values."""
    if isinstance(value, dict) and SECRET_SIG in value:
        return plain(value["value"])
    return value


def params(stack: StackGraph) -> dict[str, Resource]:
    prefix = f"/magento-dr/{stack.stack}/"
    return {r.inputs["name"].removeprefix(prefix): r for r in stack.of_type(T["param"])}


def resource_id(resource: Resource) -> str:
    """The id the offline cloud gave the resource (the graph records inputs and state, not ids)."""
    return ComputedAttributes()(resource.type, resource.name, resource.region or "", resource.inputs)[0]


def subnet_ids(stack: StackGraph, tier: str) -> set[str]:
    return {resource_id(r) for r in stack.of_type("aws:ec2/subnet:Subnet") if r.inputs["tags"]["tier"] == tier}


def group_id(stack: StackGraph, name: str) -> str:
    return resource_id(stack.one(T["sg"], name))


# ---------------------------------------------------------------- compute
def test_launch_template_requires_imdsv2_and_encrypts_the_root_volume(stack: StackGraph) -> None:
    template = stack.one(T["lt"])
    assert template.inputs["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1}
    (volume,) = template.inputs["blockDeviceMappings"]
    assert volume["ebs"]["encrypted"] == "true"
    assert volume["ebs"]["kmsKeyId"] == stack.one("aws:kms/key:Key", "frontend-key").outputs["arn"]
    assert template.inputs["iamInstanceProfile"]["arn"] == stack.one("aws:iam/instanceProfile:InstanceProfile").outputs["arn"]


def test_ami_is_the_regions_current_amazon_linux_unless_config_names_one(primary: StackGraph) -> None:
    default = primary
    assert default.one(T["lt"]).inputs["imageId"].startswith("ami-")
    pinned = run_stack("primary", overrides={"magento-dr:web": {"amiId": "ami-0123456789abcdef0", "minSize": 2, "desiredCapacity": 2}})
    assert pinned.one(T["lt"]).inputs["imageId"] == "ami-0123456789abcdef0"


def test_user_data_points_at_the_stacks_own_parameter_path(stack: StackGraph) -> None:
    script = base64.b64decode(stack.one(T["lt"]).inputs["userData"]).decode()
    assert f"PREFIX=/magento-dr/{stack.stack}\n" in script
    assert f"AWS_DEFAULT_REGION={stack.exports['region']}\n" in script


def test_fleet_spans_private_subnets_with_elb_health_checks_and_target_tracking(stack: StackGraph) -> None:
    group = stack.one(T["asg"])
    private = subnet_ids(stack, "private")
    assert set(group.inputs["vpcZoneIdentifiers"]) == private and len(private) >= 2
    assert group.inputs["healthCheckType"] == "ELB" and group.inputs["healthCheckGracePeriod"] >= 120
    assert group.inputs["targetGroupArns"] == [stack.one(T["tg"]).outputs["arn"]]
    policy = stack.one(T["policy"])
    assert policy.inputs["policyType"] == "TargetTrackingScaling"
    tags = {t["key"]: t["value"] for t in group.inputs["tags"] if t["propagateAtLaunch"]}
    assert tags[stack.exports["instanceTagKey"]] == stack.exports["instanceTagValue"] == stack.stack


def test_primary_runs_production_and_secondary_warm_standby(primary: StackGraph, secondary: StackGraph) -> None:
    prod = primary.one(T["asg"]).inputs
    standby = secondary.one(T["asg"]).inputs
    assert (prod["minSize"], prod["desiredCapacity"], prod["maxSize"]) == (2, 3, 8)
    assert (standby["minSize"], standby["desiredCapacity"], standby["maxSize"]) == (1, 1, 8)
    # Both export what the failover scales the region to.
    assert primary.exports["productionCapacity"] == secondary.exports["productionCapacity"] == {"min_size": 2, "desired_capacity": 3, "max_size": 8}
    # A later `pulumi up` must not shrink a promoted standby back to standby size.
    assert set(secondary.one(T["asg"]).ignore_changes) == {"desiredCapacity", "minSize"}


# ---------------------------------------------------------------- load balancer
def test_target_group_uses_the_cheap_liveness_path_not_the_deep_check(stack: StackGraph) -> None:
    check = stack.one(T["tg"]).inputs["healthCheck"]
    assert check["path"] == "/magento-dr-liveness.txt" and check["protocol"] == "HTTPS"
    assert "health_check.php" not in check["path"]


def test_alb_is_public_hardened_and_logged(stack: StackGraph) -> None:
    alb = stack.one(T["alb"]).inputs
    public = subnet_ids(stack, "public")
    assert set(alb["subnets"]) == public and alb["internal"] is False
    assert alb["dropInvalidHeaderFields"] is True and alb["enableDeletionProtection"] is True
    logs = stack.one("aws:s3/bucket:Bucket", "frontend-alb-logs")
    assert alb["accessLogs"] == {"bucket": resource_id(logs), "enabled": True}
    sse = stack.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "frontend-alb-logs")
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"  # ALB logs support SSE-S3 only
    block = stack.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "frontend-alb-logs").inputs
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))


def test_https_listener_uses_tls13_and_http_only_redirects(stack: StackGraph) -> None:
    listeners = {r.inputs["port"]: r.inputs for r in stack.of_type(T["listener"])}
    https, http = listeners[443], listeners[80]
    assert https["protocol"] == "HTTPS" and https["sslPolicy"].startswith("ELBSecurityPolicy-TLS13-")
    assert https["certificateArn"] == stack.one(T["cert"], "frontend-cert").outputs["arn"]
    (redirect,) = http["defaultActions"]
    assert redirect["type"] == "redirect" and redirect["redirect"]["protocol"] == "HTTPS"


def test_certificate_covers_shop_and_regional_hostname(stack: StackGraph) -> None:
    cert = stack.one(T["cert"], "frontend-cert").inputs
    assert cert["domainName"] == "shop.example.com" and cert["validationMethod"] == "DNS"
    assert cert["subjectAlternativeNames"] == [f"{stack.exports['region']}.shop.example.com"]


def test_each_stack_owns_only_its_validation_records(primary: StackGraph, secondary: StackGraph) -> None:
    def validations(graph: StackGraph) -> set[str]:
        return {r.inputs["name"] for r in graph.of_type(T["record"]) if r.name.startswith("frontend-cert-validation")}

    # ACM issues one validation CNAME per name and account, so the shared shop hostname's
    # record belongs to the primary only; two owners would fight over it.
    assert len(validations(primary)) == 2 and len(validations(secondary)) == 1
    assert validations(primary).isdisjoint(validations(secondary))
    assert all("eu-west-1.shop.example.com" in name for name in validations(secondary))


# ---------------------------------------------------------------- reachability
def _ingress(stack: StackGraph) -> list[dict[str, Any]]:
    rules = [r.inputs for r in stack.of_type(T["ingress"])]
    for group in stack.of_type(T["sg"]):
        for rule in group.inputs.get("ingress") or []:
            rules.append({"securityGroupId": resource_id(group), **rule})
    return rules


def test_nothing_but_the_alb_is_open_to_the_internet(stack: StackGraph) -> None:
    alb_sg = group_id(stack, "network-alb-sg")
    open_groups = {
        rule["securityGroupId"]
        for rule in _ingress(stack)
        if rule.get("cidrIpv4") in INTERNET or rule.get("cidrIpv6") in INTERNET or set(rule.get("cidrBlocks") or []) & set(INTERNET)
    }
    assert open_groups == {alb_sg}
    ports = sorted(r["fromPort"] for r in _ingress(stack) if r["securityGroupId"] == alb_sg)
    assert ports == [80, 443]


@pytest.mark.parametrize(
    ("target", "source"),
    [("network-app-sg", "network-alb-sg"), ("frontend-cache-sg", "network-app-sg"), ("frontend-search-sg", "network-app-sg")],
)
def test_each_tier_admits_only_the_tier_in_front_of_it(stack: StackGraph, target: str, source: str) -> None:
    target_id = group_id(stack, target)
    sources = {r.get("referencedSecurityGroupId") or r.get("cidrIpv4") for r in _ingress(stack) if r["securityGroupId"] == target_id}
    assert sources == {group_id(stack, source)}


# ---------------------------------------------------------------- cache
def test_cache_is_cluster_mode_disabled_multi_az_and_encrypted(primary: StackGraph) -> None:
    group = primary.one(T["rg"])
    inputs = group.inputs
    assert inputs["engine"] == "valkey" and inputs["engineVersion"] == "8.0"
    assert inputs["clusterMode"] == "disabled" and "numNodeGroups" not in inputs
    assert inputs["multiAzEnabled"] is True and inputs["automaticFailoverEnabled"] is True and inputs["numCacheClusters"] >= 2
    assert inputs["atRestEncryptionEnabled"] is True and inputs["transitEncryptionEnabled"] is True
    assert inputs["transitEncryptionMode"] == "required" and plain(inputs["authToken"])
    assert group.protect


def test_sessions_replicate_through_one_global_datastore(primary: StackGraph, secondary: StackGraph) -> None:
    datastore = primary.one(T["grg"])
    assert datastore.inputs["primaryReplicationGroupId"] == resource_id(primary.one(T["rg"]))
    # A failover moves the datastore's primary; pulumi up must not "fix" that by replacing it.
    assert "primaryReplicationGroupId" in datastore.ignore_changes
    assert secondary.of_type(T["grg"]) == []
    member = secondary.one(T["rg"]).inputs
    assert member["globalReplicationGroupId"] == primary.exports["cacheGlobalDatastoreId"] == secondary.exports["cacheGlobalDatastoreId"]
    # Everything AWS infers from the datastore's primary (and terraform-provider-aws declares
    # ConflictsWith global_replication_group_id) stays unset on the member, encryption flags included.
    for inherited in MEMBER_INHERITS:
        camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), inherited)
        assert camel not in member, f"a Global Datastore member must not set {camel}: it inherits it and preview would fail"
    # Its own region's key and the AUTH token are per member.
    assert member["kmsKeyId"] and member["kmsKeyId"] != primary.one(T["rg"]).inputs["kmsKeyId"]
    # A Valkey datastore names its engine: with engine_version alone the provider assumes redis.
    assert datastore.inputs["engine"] == primary.one(T["rg"]).inputs["engine"] == "valkey"
    # Same AUTH token in both regions, or sessions would not be readable after a failover.
    assert plain(member["authToken"]) == plain(primary.one(T["rg"]).inputs["authToken"])


# ---------------------------------------------------------------- search
def test_search_domain_is_private_encrypted_https_only_and_zone_aware(stack: StackGraph) -> None:
    domain = stack.one(T["domain"])
    inputs = domain.inputs
    assert inputs["engineVersion"] == "OpenSearch_2.19"
    data = subnet_ids(stack, "data")
    assert set(inputs["vpcOptions"]["subnetIds"]) <= data and len(inputs["vpcOptions"]["subnetIds"]) >= 2
    assert inputs["encryptAtRest"]["enabled"] is True and inputs["nodeToNodeEncryption"]["enabled"] is True
    assert inputs["domainEndpointOptions"] == {"enforceHttps": True, "tlsSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10"}
    cluster = inputs["clusterConfig"]
    assert cluster["zoneAwarenessEnabled"] is True and cluster["zoneAwarenessConfig"]["availabilityZoneCount"] >= 2
    security = plain(inputs["advancedSecurityOptions"])
    assert security["enabled"] is True and security["internalUserDatabaseEnabled"] is True
    assert domain.protect


# ---------------------------------------------------------------- runtime configuration
def test_runtime_parameters_are_reviewable_not_secret(stack: StackGraph) -> None:
    # Secrets live in Secrets Manager; the parameters must show up in `pulumi preview`.
    for parameter in params(stack).values():
        assert isinstance(parameter.inputs["insecureValue"], str) and "value" not in parameter.inputs


def test_instances_write_to_the_global_writer_and_use_their_own_regions_services(stack: StackGraph) -> None:
    values = {key: p.inputs["insecureValue"] for key, p in params(stack).items()}
    assert values["db/host"] == stack.exports["globalWriterEndpoint"]
    assert ".global." in values["db/host"]
    assert values["media/bucket"] == stack.exports["mediaBucketName"] and values["media/region"] == stack.exports["region"]
    assert values["web/media-url"] == stack.exports["mediaUrl"]
    assert values["cache/host"] == stack.one(T["rg"]).outputs["primaryEndpointAddress"]
    assert f".{stack.exports['region']}." in values["cache/host"]
    assert values["search/host"] == stack.one(T["domain"]).outputs["endpoint"] == stack.exports["searchEndpoint"]
    assert values["web/base-url"] == "https://shop.example.com/"
    assert values["db/secret-arn"] == stack.exports["dbSecretArn"]


def test_the_writer_endpoint_is_the_same_in_both_regions(primary: StackGraph, secondary: StackGraph) -> None:
    assert params(primary)["db/host"].inputs["insecureValue"] == params(secondary)["db/host"].inputs["insecureValue"]


def test_only_the_primary_starts_active_and_pulumi_never_flips_it_back(primary: StackGraph, secondary: StackGraph) -> None:
    for graph, expected in ((primary, "true"), (secondary, "false")):
        active = params(graph)["active"]
        assert active.inputs["insecureValue"] == expected
        assert active.ignore_changes == ["insecureValue"]
        assert graph.exports["activeParameterName"] == f"/magento-dr/{graph.stack}/active"


def test_both_regions_share_one_crypt_key(primary: StackGraph, secondary: StackGraph) -> None:
    def crypt_key(graph: StackGraph) -> str:
        return plain(graph.one(T["secret_version"], "frontend-crypt-key").inputs["secretString"])

    assert crypt_key(primary) == crypt_key(secondary) == plain(primary.exports["frontendCryptKey"])
    assert "frontendCryptKey" not in secondary.exports


def test_instance_role_reaches_only_its_regions_bucket_secrets_and_path(stack: StackGraph) -> None:
    policy = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy", "frontend-instance").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    region = stack.exports["region"]
    assert statements["ReadOwnRuntimeParameters"]["Resource"][1].endswith(f":parameter/magento-dr/{stack.stack}/*")
    assert statements["ListMediaBucket"]["Resource"] == f"arn:aws:s3:::{stack.exports['mediaBucketName']}"
    assert stack.exports["dbSecretArn"] in statements["ReadOwnSecrets"]["Resource"]
    for arn in statements["ReadOwnSecrets"]["Resource"]:
        assert f":{region}:" in arn


# ---------------------------------------------------------------- traffic
def _failover_record(graph: StackGraph) -> Resource:
    (record,) = [r for r in graph.of_type(T["record"]) if r.inputs.get("failoverRoutingPolicies")]
    return record


def test_the_two_records_form_one_failover_pair(primary: StackGraph, secondary: StackGraph) -> None:
    first, second = _failover_record(primary).inputs, _failover_record(secondary).inputs
    assert first["name"] == second["name"] == "shop.example.com" and first["type"] == second["type"] == "A"
    assert first["zoneId"] == second["zoneId"]
    assert [first["failoverRoutingPolicies"][0]["type"], second["failoverRoutingPolicies"][0]["type"]] == ["PRIMARY", "SECONDARY"]
    assert first["setIdentifier"] != second["setIdentifier"]
    for graph, record in ((primary, first), (secondary, second)):
        (alias,) = record["aliases"]
        alb = graph.one(T["alb"]).outputs
        assert (alias["name"], alias["zoneId"]) == (alb["dnsName"], alb["zoneId"])
        assert record["healthCheckId"] == graph.exports["healthCheckIds"]["calculated"]


def _checks(stack: StackGraph) -> dict[str, dict[str, Any]]:
    return {resource_id(r): r.inputs for r in stack.of_type(T["check"])}


def _assert_deep_check(check: dict[str, Any], fqdn: str) -> None:
    """Issue 5's check: Magento's /health_check.php over HTTPS with SNI, every 10 s, at most 3 failures."""
    assert check["type"] == "HTTPS" and check["port"] == 443 and check["enableSni"] is True
    assert check["resourcePath"] == "/health_check.php"
    assert check["fqdn"] == fqdn
    assert check["requestInterval"] == 10 and 1 <= check["failureThreshold"] <= 3


def test_each_record_has_its_own_deep_check(stack: StackGraph) -> None:
    https = _checks(stack)[stack.exports["healthCheckIds"]["https"]]
    _assert_deep_check(https, stack.exports["regionalHostname"])
    assert stack.exports["regionalHostname"] == f"{stack.exports['region']}.shop.example.com"
    assert not https.get("invertHealthcheck")


def test_primary_record_requires_a_healthy_deep_check_and_the_writer(primary: StackGraph) -> None:
    checks = _checks(primary)
    ids = primary.exports["healthCheckIds"]
    calculated = checks[ids["calculated"]]
    assert calculated["type"] == "CALCULATED"
    assert sorted(calculated["childHealthchecks"]) == sorted([ids["https"], ids["writer"]])
    assert calculated["childHealthThreshold"] == 2  # both, not either: a recovered old primary stays out
    assert "peer_down" not in ids  # the PRIMARY never takes traffic because the secondary fails
    assert [c for c in checks.values() if c.get("invertHealthcheck")] == []


def test_secondary_record_is_healthy_when_it_serves_or_the_primary_fails(primary: StackGraph, secondary: StackGraph) -> None:
    checks = _checks(secondary)
    ids = secondary.exports["healthCheckIds"]
    calculated = checks[ids["calculated"]]
    assert calculated["type"] == "CALCULATED"
    assert sorted(calculated["childHealthchecks"]) == sorted([ids["https"], ids["peer_down"]])
    assert calculated["childHealthThreshold"] == 1  # either: its own deep check, or the primary failing

    peer_down = checks[ids["peer_down"]]
    _assert_deep_check(peer_down, primary.exports["regionalHostname"])  # the primary's own hostname, not the shop's
    assert peer_down["invertHealthcheck"] is True  # healthy while the primary's deep check fails
    # Same cadence as the primary's own check, so PRIMARY turns unhealthy and SECONDARY healthy together.
    own = _checks(primary)[primary.exports["healthCheckIds"]["https"]]
    assert (peer_down["requestInterval"], peer_down["failureThreshold"]) == (own["requestInterval"], own["failureThreshold"])
    # Declared by the secondary stack, through its own region's provider; nothing changes Route 53 at run time.
    (declared,) = [r for r in secondary.of_type(T["check"]) if r.inputs.get("invertHealthcheck")]
    assert "peer" in declared.name and declared.region == secondary.exports["region"]


def test_writer_alarm_watches_the_metric_the_handler_publishes(stack: StackGraph) -> None:
    checks = _checks(stack)
    writer = checks[stack.exports["healthCheckIds"]["writer"]]
    assert writer["type"] == "CLOUDWATCH_METRIC" and writer["insufficientDataHealthStatus"] == "Unhealthy"
    assert writer["cloudwatchAlarmRegion"] == stack.exports["region"]
    alarm = stack.one(T["alarm"], "frontend-traffic-holds-writer").inputs
    assert writer["cloudwatchAlarmName"] == alarm["name"]
    assert (alarm["namespace"], alarm["metricName"]) == ("MagentoDR", "RegionHoldsWriter")
    assert alarm["dimensions"] == {"Stack": stack.stack, "Region": stack.exports["region"]}
    assert alarm["comparisonOperator"] == "LessThanThreshold" and alarm["threshold"] == 1
    assert alarm["treatMissingData"] == "breaching"  # silence never counts as holding the writer
    # Two empty or zero minutes in a row: one late or missing datapoint must not cost the writer its
    # vote. N out of N (no "M out of N"): Route 53 reads the data stream itself and its alarm
    # configuration carries no DatapointsToAlarm (components/traffic.py).
    assert alarm["evaluationPeriods"] == 2 and alarm["datapointsToAlarm"] == 2
    assert alarm["period"] == 60 and alarm["statistic"] in ("Maximum", "Minimum", "Average")


def test_each_stack_owns_its_regional_record(primary: StackGraph, secondary: StackGraph) -> None:
    for graph in (primary, secondary):
        record = graph.one(T["record"], "frontend-traffic-regional").inputs
        assert record["name"] == graph.exports["regionalHostname"]
        assert record["aliases"][0]["name"] == graph.exports["albDnsName"]
        assert "failoverRoutingPolicies" not in record


def test_failover_automation_finds_what_it_needs_in_the_exports(stack: StackGraph) -> None:
    for key in (
        "asgName",
        "asgArn",
        "cacheReplicationGroupId",
        "cacheGlobalDatastoreId",
        "ssmPrefix",
        "activeParameterName",
        "instanceTagKey",
        "instanceTagValue",
        "productionCapacity",
        "albDnsName",
        "albZoneId",
        "albArnSuffix",
        "targetGroupArnSuffix",
        "regionalHostname",
        "healthCheckIds",
        "applyRoleCommand",
    ):
        assert stack.exports.get(key), key


@pytest.mark.parametrize(
    ("token", "name"),
    [
        ("aws:kms/key:Key", "frontend-key"),
        ("aws:secretsmanager/secret:Secret", "frontend-crypt-key"),
        ("aws:secretsmanager/secret:Secret", "frontend-cache-auth"),
        ("aws:secretsmanager/secret:Secret", "frontend-search-credentials"),
        ("aws:s3/bucket:Bucket", "frontend-alb-logs"),
        ("random:index/randomPassword:RandomPassword", "frontend-crypt-key"),
    ],
)
def test_stateful_web_tier_resources_are_protected(primary: StackGraph, token: str, name: str) -> None:
    # Losing the crypt key makes every encrypted value in the database unreadable.
    assert primary.one(token, name).protect
