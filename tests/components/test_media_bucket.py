"""ReplicatedMediaBucket: per-region bucket properties, crosswise replication, CDN failover, alarms."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import ConfigError, parse_settings
from components.media_bucket import (
    CLOUDFRONT_FAILOVER_CODES_ALLOWED,
    MEDIA_FAILOVER_STATUS_CODES,
    MEDIA_OBJECT_OWNERSHIP,
    PrimaryMedia,
    ReplicatedMediaBucketArgs,
    check_peer_bucket_name,
    magento_media_statements,
    media_bucket_name,
    media_bucket_policy,
    regional_domain_name,
    replication_role_policy,
    replication_rule_id,
    replication_trust_policy,
)
from emulator.iam_policy import Request, evaluate
from offline.runner import ProgramFailed, Resource, StackGraph, load_stack_config, run_stack

ACCOUNT = "123456789012"
DIST_ARN = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E123"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
BUCKET = "aws:s3/bucket:Bucket"


def _bucket(graph: StackGraph) -> Resource:
    return graph.one(BUCKET, "media-bucket")


def _one_for_bucket(graph: StackGraph, token: str) -> Resource:
    """The single resource of `token` attached to this stack's media bucket."""
    name = _bucket(graph).outputs["bucket"]
    matches = [r for r in graph.of_type(token) if r.inputs.get("bucket") == name]
    assert len(matches) == 1, f"{graph.stack}: expected one {token} on {name}, found {len(matches)}"
    return matches[0]


def _replication_on(graph: StackGraph, bucket_name: str) -> Resource:
    matches = [r for r in graph.of_type(REPLICATION) if r.inputs["bucket"] == bucket_name]
    assert len(matches) == 1, f"expected one replication configuration on {bucket_name}, found {len(matches)}"
    return matches[0]


# ------------------------------------------------------------------------------ pure helpers
@pytest.mark.parametrize(
    ("hostname", "account", "region"),
    [
        ("shop.example.com", ACCOUNT, "us-east-1"),
        ("shop.example.com", ACCOUNT, "ap-southeast-4"),
        ("a-very-long-shop-hostname.subdomain.example.co.uk", "999999999999", "us-gov-west-1"),
    ],
)
def test_bucket_names_are_valid_s3_names_and_deterministic(hostname: str, account: str, region: str) -> None:
    name = media_bucket_name(hostname, account, region)
    assert name == media_bucket_name(hostname.upper(), account, region)
    assert 3 <= len(name) <= 63
    assert name == name.lower() and name.replace("-", "").isalnum()
    assert account in name and region in name


def test_bucket_names_differ_per_region_account_and_shop() -> None:
    base = media_bucket_name("shop.example.com", ACCOUNT, "us-east-1")
    assert base != media_bucket_name("shop.example.com", ACCOUNT, "eu-west-1")
    assert base != media_bucket_name("shop.example.com", "210987654321", "us-east-1")
    assert base != media_bucket_name("staging.example.com", ACCOUNT, "us-east-1")


def test_bucket_name_rejects_a_non_account_id() -> None:
    with pytest.raises(ValueError, match="12-digit"):
        media_bucket_name("shop.example.com", "not-an-account", "us-east-1")


def test_bucket_policy_denies_plain_http_and_admits_only_the_distribution() -> None:
    policy = json.loads(media_bucket_policy("media-b", DIST_ARN))
    cdn = "arn:aws:iam::123456789012:role/cloudfront-probe"  # stands for the service principal below
    statements = policy["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"  # no ListBucket: the CDN cannot list the bucket
    assert allow["Condition"] == {"StringEquals": {"AWS:SourceArn": DIST_ARN}}
    # Evaluated as AWS would (emulator/iam_policy.py), with the grant's principal standing in for CloudFront.
    as_cdn = json.loads(json.dumps(policy).replace('{"Service": "cloudfront.amazonaws.com"}', json.dumps({"AWS": cdn})))
    buckets = {"arn:aws:s3:::media-b": as_cdn}

    def allowed(action: str, resource: str, **context: str) -> bool:
        return evaluate(Request(action, (resource,), {"aws:SecureTransport": "true", **context}, cdn), [], buckets).allowed

    assert allowed("s3:GetObject", "arn:aws:s3:::media-b/catalog/a.jpg", **{"AWS:SourceArn": DIST_ARN})
    assert not allowed("s3:GetObject", "arn:aws:s3:::media-b/catalog/a.jpg", **{"AWS:SourceArn": DIST_ARN + "-other"})
    assert not allowed("s3:ListBucket", "arn:aws:s3:::media-b", **{"AWS:SourceArn": DIST_ARN})
    assert not allowed("s3:GetObject", "arn:aws:s3:::media-b/catalog/a.jpg", **{"AWS:SourceArn": DIST_ARN, "aws:SecureTransport": "false"})


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _resources(statement: dict[str, Any]) -> list[str]:
    resource = statement["Resource"]
    return [resource] if isinstance(resource, str) else list(resource)


def test_replication_policy_touches_only_the_two_buckets_and_keys() -> None:
    doc = json.loads(
        replication_role_policy(
            source_bucket="src-b",
            source_key_arn="arn:aws:kms:us-east-1:1:key/src",
            source_region="us-east-1",
            destination_bucket="dst-b",
            destination_key_arn="arn:aws:kms:eu-west-1:1:key/dst",
            destination_region="eu-west-1",
        )
    )
    resources = {r for s in doc["Statement"] for r in _resources(s)}
    assert resources == {
        "arn:aws:s3:::src-b",
        "arn:aws:s3:::src-b/*",
        "arn:aws:s3:::dst-b/*",
        "arn:aws:kms:us-east-1:1:key/src",
        "arn:aws:kms:eu-west-1:1:key/dst",
    }
    for statement in doc["Statement"]:
        assert all("*" not in a.split(":")[1] for a in _actions(statement)), statement
        # Reading happens only on the source, replica writes only on the destination.
        if any(a.startswith("s3:Replicate") for a in _actions(statement)):
            assert _resources(statement) == ["arn:aws:s3:::dst-b/*"]
        if any(a.startswith("s3:GetObjectVersion") for a in _actions(statement)):
            assert _resources(statement) == ["arn:aws:s3:::src-b/*"]
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    decrypt, encrypt = by_sid["DecryptWithSourceKey"], by_sid["EncryptWithDestinationKey"]
    assert _actions(decrypt) == ["kms:Decrypt"] and decrypt["Resource"] == "arn:aws:kms:us-east-1:1:key/src"
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == "s3.us-east-1.amazonaws.com"
    assert "kms:Decrypt" not in _actions(encrypt) and encrypt["Resource"] == "arn:aws:kms:eu-west-1:1:key/dst"
    assert encrypt["Condition"]["StringEquals"]["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"


def test_replication_trust_admits_only_s3_for_the_source_bucket_in_this_account() -> None:
    (statement,) = json.loads(replication_trust_policy(ACCOUNT, "src-b"))["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert statement["Condition"]["ArnLike"] == {"aws:SourceArn": "arn:aws:s3:::src-b"}


def test_magento_statements_allow_the_drivers_private_acl_and_stay_on_one_bucket() -> None:
    statements = magento_media_statements("arn:aws:s3:::media-b", "arn:aws:kms:eu-west-1:1:key/k", "eu-west-1")
    actions = {a for s in statements for a in _actions(s)}
    assert "s3:PutObjectAcl" in actions  # Magento's aws-s3 driver writes with ACL: private
    assert {r for s in statements for r in _resources(s)} == {
        "arn:aws:s3:::media-b",
        "arn:aws:s3:::media-b/*",
        "arn:aws:kms:eu-west-1:1:key/k",
    }


def test_failover_codes_are_ones_cloudfront_accepts_and_cover_5xx() -> None:
    assert set(MEDIA_FAILOVER_STATUS_CODES) <= CLOUDFRONT_FAILOVER_CODES_ALLOWED
    assert {500, 502, 503, 504} <= set(MEDIA_FAILOVER_STATUS_CODES)
    assert 403 in MEDIA_FAILOVER_STATUS_CODES  # how S3 says "not replicated yet" to OAC without ListBucket


def test_a_secondary_bucket_the_cdn_does_not_know_is_refused() -> None:
    assert check_peer_bucket_name("media", "b-1", "b-1") == "b-1"
    with pytest.raises(ConfigError, match="shopHostname"):
        check_peer_bucket_name("media", "b-1", "b-2")


def _args(**overrides: Any) -> ReplicatedMediaBucketArgs:
    values: dict[str, Any] = dict(
        role="secondary",
        region="eu-west-1",
        peer_region="us-east-1",
        shop_hostname="shop.example.com",
        noncurrent_version_days=30,
        alarm_topic_arn="arn:aws:sns:eu-west-1:1:t",
        peer_provider=object(),
        primary=PrimaryMedia("b", "k", DIST_ARN, "https://m/", "b2"),
    )
    values.update(overrides)
    return ReplicatedMediaBucketArgs(**values)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"peer_region": "eu-west-1"}, "must differ"),
        ({"noncurrent_version_days": 0}, "noncurrentVersionDays"),
        ({"primary": None}, "primary's media exports"),
        ({"peer_provider": None}, "peer_provider"),
        ({"role": "primary"}, "needs media_hostname"),
        ({"role": "primary", "media_hostname": "m.example.com", "hosted_zone_id": "Z", "edge_provider": object()}, "leave them unset"),
    ],
)
def test_args_say_what_is_missing(overrides: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        _args(**overrides)


@pytest.mark.parametrize(
    ("media", "expected"),
    [({}, "media.shop.example.com"), ({"hostname": "CDN.Example.com."}, "cdn.example.com")],
)
def test_media_hostname_defaults_under_the_shop(media: dict[str, Any], expected: str) -> None:
    raw = dict(load_stack_config("primary"))
    config = {k.split(":", 1)[1]: v for k, v in raw.items()}
    config["media"] = media
    assert parse_settings("primary", config).media.hostname == expected


@pytest.mark.parametrize("hostname", ["media.other.org", "shop.example.com", "not a name"])
def test_media_hostname_outside_the_zone_is_a_config_error(hostname: str) -> None:
    config = {k.split(":", 1)[1]: v for k, v in load_stack_config("primary").items()}
    config["media"] = {"hostname": hostname}
    with pytest.raises(ConfigError, match=r"magento-dr:media\.hostname"):
        parse_settings("primary", config)


# ------------------------------------------------------------------------- per-region graph
def test_bucket_is_protected_regional_and_named_from_config(stack: StackGraph) -> None:
    bucket = _bucket(stack)
    region = stack.exports["region"]
    assert bucket.region == region and bucket.protect
    assert bucket.outputs["bucket"] == media_bucket_name("shop.example.com", ACCOUNT, region)
    assert stack.exports["mediaBucketName"] == bucket.outputs["bucket"]
    assert stack.exports["mediaBucketRegion"] == region
    assert stack.exports["mediaBucketArn"] == f"arn:aws:s3:::{bucket.outputs['bucket']}"


def test_protection_follows_config(unprotected_primary: StackGraph) -> None:
    graph = unprotected_primary
    assert not _bucket(graph).protect and not graph.named("media-key").protect


def test_versioning_is_on_and_protected(stack: StackGraph) -> None:
    versioning = _one_for_bucket(stack, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    assert versioning.protect


def test_objects_are_encrypted_with_this_regions_rotating_key_and_bucket_keys(stack: StackGraph) -> None:
    sse = _one_for_bucket(stack, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    (rule,) = sse.inputs["rules"]
    key = stack.named("media-key")
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key.outputs["arn"]}
    assert rule["bucketKeyEnabled"] is True
    assert key.region == stack.exports["region"] and key.protect and key.inputs["enableKeyRotation"] is True
    assert stack.exports["mediaKeyArn"] == key.outputs["arn"]


def test_all_four_public_access_blocks_and_acls_disabled(stack: StackGraph) -> None:
    pab = _one_for_bucket(stack, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    for setting in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert pab.inputs[setting] is True, setting
    ownership = _one_for_bucket(stack, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    # ACLs enabled, bucket owner preferred: Magento writes with `x-amz-acl: private` (see test_magento_media.py).
    assert ownership.inputs["rule"] == {"objectOwnership": MEDIA_OBJECT_OWNERSHIP} == {"objectOwnership": "BucketOwnerPreferred"}


def test_lifecycle_expires_noncurrent_versions_after_the_configured_days(stack: StackGraph) -> None:
    lifecycle = _one_for_bucket(stack, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    (rule,) = lifecycle.inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == stack.config["magento-dr:media"]["noncurrentVersionDays"]
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] >= 1
    assert "days" not in rule.get("expiration", {})  # current media never expires


def test_lifecycle_days_follow_config() -> None:
    graph = run_stack("primary", overrides={"magento-dr:media": {"noncurrentVersionDays": 7}})
    (rule,) = _one_for_bucket(graph, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 7


def test_bucket_policy_denies_plain_http_and_reads_only_from_the_primarys_distribution(
    stack: StackGraph, primary: StackGraph
) -> None:
    distribution_arn = primary.one("aws:cloudfront/distribution:Distribution").outputs["arn"]
    policy = json.loads(_one_for_bucket(stack, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    deny = next(s for s in policy["Statement"] if s["Effect"] == "Deny")
    assert deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert [a["Condition"]["StringEquals"]["AWS:SourceArn"] for a in allows] == [distribution_arn]


def test_key_lets_only_that_distribution_decrypt_for_cloudfront(stack: StackGraph, primary: StackGraph) -> None:
    distribution_arn = primary.one("aws:cloudfront/distribution:Distribution").outputs["arn"]
    statements = json.loads(stack.named("media-key").inputs["policy"])["Statement"]
    cloudfront = [s for s in statements if s.get("Principal", {}).get("Service") == "cloudfront.amazonaws.com"]
    assert len(cloudfront) == 1
    assert cloudfront[0]["Action"] == "kms:Decrypt"
    assert cloudfront[0]["Condition"]["StringEquals"]["AWS:SourceArn"] == distribution_arn


# --------------------------------------------------------------------- ownership & replication
def test_secondary_owns_both_replication_rules_and_the_primary_none(primary: StackGraph, secondary: StackGraph) -> None:
    assert primary.of_type(REPLICATION) == []
    assert not [r for r in primary.of_type("aws:iam/role:Role") if r.name.startswith("media-")]
    configs = [c for c in secondary.of_type(REPLICATION) if c.name.startswith("media-")]  # release-* replicate artifacts
    assert sorted(c.inputs["bucket"] for c in configs) == sorted(
        [_bucket(primary).outputs["bucket"], _bucket(secondary).outputs["bucket"]]
    )


def test_rule_on_the_primary_bucket_is_declared_in_the_primarys_region_and_says_peer(
    primary: StackGraph, secondary: StackGraph
) -> None:
    on_primary = _replication_on(secondary, _bucket(primary).outputs["bucket"])
    assert on_primary.region == primary.exports["region"]
    assert "peer" in on_primary.name
    on_secondary = _replication_on(secondary, _bucket(secondary).outputs["bucket"])
    assert on_secondary.region == secondary.exports["region"]


@pytest.mark.parametrize("source_role", ["primary", "secondary"])
def test_each_direction_writes_to_the_other_bucket_with_the_other_key(
    source_role: str, primary: StackGraph, secondary: StackGraph
) -> None:
    source, destination = (primary, secondary) if source_role == "primary" else (secondary, primary)
    config = _replication_on(secondary, _bucket(source).outputs["bucket"])
    (rule,) = config.inputs["rules"]
    target = rule["destination"]
    assert target["bucket"] == _bucket(destination).outputs["arn"]
    assert target["encryptionConfiguration"]["replicaKmsKeyId"] == destination.named("media-key").outputs["arn"]
    assert rule["id"] == replication_rule_id(destination.exports["region"])
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {"prefix": ""}  # everything under pub/media
    assert target["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert target["metrics"] == {"status": "Enabled", "eventThreshold": {"minutes": 15}}
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    criteria = rule["sourceSelectionCriteria"]
    assert criteria["sseKmsEncryptedObjects"] == {"status": "Enabled"}
    assert criteria["replicaModifications"] == {"status": "Enabled"}


@pytest.mark.parametrize("source_role", ["primary", "secondary"])
def test_each_direction_has_its_own_role_scoped_to_the_two_buckets_and_keys(
    source_role: str, primary: StackGraph, secondary: StackGraph
) -> None:
    source, destination = (primary, secondary) if source_role == "primary" else (secondary, primary)
    config = _replication_on(secondary, _bucket(source).outputs["bucket"])
    role = next(r for r in secondary.of_type("aws:iam/role:Role") if r.outputs["arn"] == config.inputs["role"])
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"] == _bucket(source).outputs["arn"]
    (policy,) = [p for p in secondary.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.outputs["name"]]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    src, dst = _bucket(source).outputs["arn"], _bucket(destination).outputs["arn"]
    assert {r for s in statements for r in _resources(s)} == {
        src,
        f"{src}/*",
        f"{dst}/*",
        source.named("media-key").outputs["arn"],
        destination.named("media-key").outputs["arn"],
    }
    assert config.inputs["role"] != _replication_on(secondary, _bucket(destination).outputs["bucket"]).inputs["role"]


def test_replication_waits_for_versioning_and_the_role_policy(secondary: StackGraph) -> None:
    versioning = secondary.one("aws:s3/bucketVersioning:BucketVersioning", "media-versioning")
    for config in (c for c in secondary.of_type(REPLICATION) if c.name.startswith("media-")):
        assert versioning.urn in config.dependencies, config.name
        assert any("rolePolicy" in urn for urn in config.dependencies), config.name


# --------------------------------------------------------------------------------- delivery
def _distribution(primary: StackGraph) -> Resource:
    return primary.one("aws:cloudfront/distribution:Distribution")


def test_only_the_primary_declares_the_distribution(primary: StackGraph, secondary: StackGraph) -> None:
    assert len(primary.of_type("aws:cloudfront/distribution:Distribution")) == 1
    assert secondary.of_type("aws:cloudfront/distribution:Distribution") == []
    assert secondary.of_type("aws:cloudfront/originAccessIdentity:OriginAccessIdentity") == []


def test_origin_group_tries_the_primary_bucket_first_then_the_secondary(primary: StackGraph, secondary: StackGraph) -> None:
    distribution = _distribution(primary)
    origins = {o["originId"]: o for o in distribution.inputs["origins"]}
    (group,) = distribution.inputs["originGroups"]
    first, second = (m["originId"] for m in group["members"])
    assert origins[first]["domainName"] == _bucket(primary).outputs["bucketRegionalDomainName"]
    # The secondary bucket's domain is computed by the primary before that bucket exists; it must match.
    assert origins[second]["domainName"] == _bucket(secondary).outputs["bucketRegionalDomainName"]
    assert origins[second]["domainName"] == regional_domain_name(secondary.exports["mediaBucketName"], "eu-west-1")
    assert sorted(group["failoverCriteria"]["statusCodes"]) == sorted(MEDIA_FAILOVER_STATUS_CODES)
    assert distribution.inputs["defaultCacheBehavior"]["targetOriginId"] == group["originId"]


def test_every_origin_uses_origin_access_control_and_no_oai(primary: StackGraph) -> None:
    distribution = _distribution(primary)
    oac = primary.one("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert oac.inputs["originAccessControlOriginType"] == "s3"
    assert oac.inputs["signingBehavior"] == "always" and oac.inputs["signingProtocol"] == "sigv4"
    assert len(distribution.inputs["origins"]) == 2
    assert oac.urn in distribution.dependencies
    for origin in distribution.inputs["origins"]:
        assert origin["originAccessControlId"] == oac.name  # the mocks give a resource its name as id
        assert not origin.get("s3OriginConfig", {}).get("originAccessIdentity")
    assert primary.of_type("aws:cloudfront/originAccessIdentity:OriginAccessIdentity") == []


def test_viewers_get_https_with_a_modern_policy_and_compression(primary: StackGraph) -> None:
    distribution = _distribution(primary)
    behavior = distribution.inputs["defaultCacheBehavior"]
    assert behavior["viewerProtocolPolicy"] in ("https-only", "redirect-to-https")
    assert behavior["compress"] is True
    assert behavior["cachePolicyId"]
    assert set(behavior["allowedMethods"]) <= {"GET", "HEAD", "OPTIONS"}  # what origin groups fail over
    certificate = distribution.inputs["viewerCertificate"]
    assert certificate["minimumProtocolVersion"] == "TLSv1.2_2021"
    assert certificate["sslSupportMethod"] == "sni-only"
    assert not certificate.get("cloudfrontDefaultCertificate")
    cert = primary.named("media-edge-cert")
    assert cert.region == "us-east-1"  # CloudFront takes certificates only from us-east-1
    assert certificate["acmCertificateArn"] == cert.outputs["arn"]
    assert distribution.inputs["aliases"] == ["media.shop.example.com"]


def test_media_hostname_points_at_the_distribution_and_is_the_media_url(primary: StackGraph, secondary: StackGraph) -> None:
    distribution = _distribution(primary)
    aliases = [r for r in primary.of_type("aws:route53/record:Record") if r.name.startswith("media-alias")]
    assert sorted(r.inputs["type"] for r in aliases) == ["A", "AAAA"]
    for record in aliases:
        assert record.inputs["name"] == "media.shop.example.com"
        assert record.inputs["aliases"][0]["name"] == distribution.outputs["domainName"]
    assert primary.exports["mediaUrl"] == "https://media.shop.example.com/"
    assert secondary.exports["mediaUrl"] == primary.exports["mediaUrl"]
    assert primary.exports["mediaDistributionId"] == distribution.name  # the mocks give a resource its name as id
    assert primary.exports["mediaDistributionArn"] == distribution.outputs["arn"]
    assert "mediaDistributionId" not in secondary.exports


# -------------------------------------------------------------------------------- monitoring
def test_alarms_sit_in_the_buckets_region_and_notify_the_regions_topic(stack: StackGraph) -> None:
    alarms = [a for a in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if a.name.startswith("media-")]
    assert {a.inputs["metricName"] for a in alarms} == {"OperationsFailedReplication", "ReplicationLatency"}
    for alarm in alarms:
        assert alarm.region == stack.exports["region"]
        assert alarm.inputs["namespace"] == "AWS/S3"
        assert alarm.inputs["alarmActions"] == [stack.exports["notificationTopicArn"]]


@pytest.mark.parametrize("source_role", ["primary", "secondary"])
def test_alarms_watch_the_rules_that_exist(source_role: str, primary: StackGraph, secondary: StackGraph) -> None:
    # Failures are published in the source's region, latency in the destination's (repl-metrics.html).
    source, destination = (primary, secondary) if source_role == "primary" else (secondary, primary)
    (rule,) = _replication_on(secondary, _bucket(source).outputs["bucket"]).inputs["rules"]
    expected = {
        "SourceBucket": _bucket(source).outputs["bucket"],
        "DestinationBucket": _bucket(destination).outputs["bucket"],
        "RuleId": rule["id"],
    }
    failed = source.named("media-replication-failed")
    assert failed.inputs["dimensions"] == expected
    assert failed.inputs["threshold"] == 0 and failed.inputs["comparisonOperator"] == "GreaterThanThreshold"
    late = destination.named("media-replication-late")
    assert late.inputs["dimensions"] == expected
    assert late.inputs["threshold"] == 15 * 60 and late.inputs["statistic"] == "Maximum"


# ------------------------------------------------------------------------------ stack wiring
def test_secondary_refuses_a_bucket_name_the_primarys_cdn_does_not_use(primary: StackGraph) -> None:
    exports = dict(primary.exports, mediaPeerBucketName="magento-dr-media-someone-else")
    with pytest.raises(ProgramFailed) as failed:
        run_stack("secondary", peer_exports=exports)
    # Raised while resolving the bucket's name, so the engine may wrap it; the message is what users see.
    assert "magento-dr:dns.shopHostname" in str(failed.value.cause)
    assert "magento-dr-media-someone-else" in str(failed.value.cause)
    assert not [urn for urn in failed.value.declared if urn.endswith("aws:s3/bucket:Bucket::media-bucket")]


def test_secondary_needs_the_primarys_media_exports(primary: StackGraph) -> None:
    exports = {k: v for k, v in primary.exports.items() if k != "mediaKeyArn"}
    with pytest.raises(ProgramFailed) as failed:
        run_stack("secondary", peer_exports=exports)
    assert "mediaKeyArn" in str(failed.value.cause)
