"""ReleaseDelivery: artifact buckets and replication, the version parameter in both regions, the
instance-refresh wiring, the release workflow's permissions, and what the handler reports."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from components.frontend_policies import release_read_policy
from components.magento_runtime import (
    FETCH_RELEASE_COMMAND,
    NO_RELEASE,
    release_artifact_key,
    render_fetch_release,
    render_user_data,
)
from components.media_bucket import media_bucket_name
from components.release import (
    REFRESH_PREFERENCES,
    refresh_runbook,
    release_bucket_name,
    release_parameter_name,
    setup_upgrade_document,
    version_change_pattern,
)
from components.release_policies import NO_RESOURCE_LEVEL_ACTIONS, ReleaseScope, publisher_policy, publisher_trust_policy
from handlers.decide import release_report
from handlers.settings import ENV_VARS, Settings
from offline.runner import Resource, StackGraph

ACCOUNT = "123456789012"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
PARAMETER = "aws:ssm/parameter:Parameter"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _resources(statement: dict[str, Any]) -> list[str]:
    resource = statement["Resource"]
    return [resource] if isinstance(resource, str) else list(resource)


def _attached(stack: StackGraph, token: str, bucket: str) -> list[Resource]:
    return [r for r in stack.of_type(token) if r.inputs.get("bucket") == bucket]


def _bucket_name(stack: StackGraph) -> str:
    return str(stack.named("release-bucket").outputs["bucket"])


# ------------------------------------------------------------------------------ pure helpers
def test_bucket_names_are_per_region_and_distinct_from_media() -> None:
    primary = release_bucket_name("shop.example.com", ACCOUNT, "us-east-1")
    assert primary != release_bucket_name("shop.example.com", ACCOUNT, "eu-west-1")
    assert primary != media_bucket_name("shop.example.com", ACCOUNT, "us-east-1")
    assert len(release_bucket_name("shop.example.com", ACCOUNT, "ap-southeast-4")) <= 63


def test_the_version_parameter_has_one_name_in_both_regions() -> None:
    # The handler reads the peer's parameter without knowing the peer's stack name.
    assert release_parameter_name("Shop.Example.com") == "/magento-dr/release/shop.example.com/version"


@pytest.mark.parametrize("version", ["20250601T1200-abc1234", "v2.4.8-p1", "1"])
def test_artifact_keys_live_under_releases(version: str) -> None:
    assert release_artifact_key(version) == f"releases/{version}.tar.zst"


@pytest.mark.parametrize("version", ["", NO_RELEASE, "../etc", "a b", "-rf", "x" * 101, "v1;reboot"])
def test_artifact_keys_refuse_unsafe_versions(version: str) -> None:
    with pytest.raises(ValueError, match="release version"):
        release_artifact_key(version)


def _matches(pattern: Any, event: Any) -> bool:
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(k in event and _matches(v, event[k]) for k, v in pattern.items())
    return any(v in pattern for v in (event if isinstance(event, list) else [event]))


def test_only_an_update_of_the_version_parameter_starts_a_refresh() -> None:
    name = release_parameter_name("shop.example.com")
    pattern = version_change_pattern(name)
    # A Parameter Store change event as EventBridge delivers it.
    event: dict[str, Any] = {
        "source": "aws.ssm",
        "detail-type": "Parameter Store Change",
        "detail": {"operation": "Update", "name": name, "type": "String", "description": ""},
    }
    assert _matches(pattern, event)
    assert not _matches(pattern, {**event, "detail": {**event["detail"], "operation": "Create"}})  # pulumi up creates it
    assert not _matches(pattern, {**event, "detail": {**event["detail"], "name": "/magento-dr/primary/active"}})


def test_refresh_replaces_every_instance_without_a_capacity_dip() -> None:
    runbook = refresh_runbook("magento-dr-secondary-web", "arn:aws:iam::1:role/r")
    (step,) = runbook["mainSteps"]
    assert step["action"] == "aws:executeAwsApi" and step["inputs"]["Api"] == "StartInstanceRefresh"
    preferences = step["inputs"]["Preferences"]
    assert preferences == REFRESH_PREFERENCES
    assert preferences["SkipMatching"] is False  # the launch template is unchanged between releases
    assert preferences["MinHealthyPercentage"] == 100 and preferences["MaxHealthyPercentage"] == 200
    assert runbook["parameters"]["AutoScalingGroupName"]["allowedValues"] == ["magento-dr-secondary-web"]


def test_setup_upgrade_refuses_outside_the_active_region_and_keeps_the_compiled_code() -> None:
    document = setup_upgrade_document(region="eu-west-1", active_parameter_name="/magento-dr/secondary/active")
    (step,) = document["mainSteps"]
    script = "\n".join(step["inputs"]["runCommand"])
    guard, upgrade = script.index('if [ "$ACTIVE" != "true" ]'), script.index("bin/magento setup:upgrade")
    assert guard < script.index(f"{FETCH_RELEASE_COMMAND} --stage") < upgrade
    assert "/magento-dr/secondary/active" in script and "--keep-generated" in script
    assert re.fullmatch(document["parameters"]["Version"]["allowedPattern"], "v1.2.3")
    assert not re.fullmatch(document["parameters"]["Version"]["allowedPattern"], "$(reboot)")
    subprocess.run(["bash", "-n"], input=script.replace("{{ Version }}", "v1"), text=True, check=True)  # noqa: S607


def test_boot_fetches_and_verifies_the_release_before_rendering_env_php() -> None:
    user_data = render_user_data(stack="secondary", region="eu-west-1", ssm_prefix="/magento-dr/secondary", shop_hostname="shop.example.com")
    fetch = render_fetch_release(region="eu-west-1", ssm_prefix="/magento-dr/secondary")
    assert fetch in user_data
    assert user_data.index(FETCH_RELEASE_COMMAND + "\n") < user_data.index("render-env.php")
    # Checksum and static-content version are checked before the release is unpacked into place.
    assert fetch.index("sha256sum") < fetch.index("mv -T \"$DIR.partial\" \"$DIR\"")
    assert fetch.index("deployed_version.txt") < fetch.index("mv -T \"$DIR.partial\" \"$DIR\"")
    subprocess.run(["bash", "-n"], input=fetch, text=True, check=True)  # noqa: S607


SCOPE = ReleaseScope(
    partition="aws",
    account_id=ACCOUNT,
    region="eu-west-1",
    bucket_arn="arn:aws:s3:::releases-eu",
    key_arn="arn:aws:kms:eu-west-1:123456789012:key/k",
    version_parameter_name="/magento-dr/release/shop.example.com/version",
    ssm_prefix="/magento-dr/secondary",
    active_parameter_name="/magento-dr/secondary/active",
    setup_upgrade_document_arn="arn:aws:ssm:eu-west-1:123456789012:document/magento-dr-secondary-setup-upgrade",
    asg_arn="arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:x:autoScalingGroupName/magento-dr-secondary-web",
    instance_tag_key="magento-dr:stack",
    instance_tag_value="secondary",
)


def test_publisher_touches_only_its_bucket_key_parameters_document_and_group() -> None:
    statements = publisher_policy(SCOPE)["Statement"]
    for statement in statements:
        assert all("*" not in a for a in _actions(statement)), statement["Sid"]
        if statement["Resource"] == "*":
            assert set(_actions(statement)) <= NO_RESOURCE_LEVEL_ACTIONS, statement["Sid"]
    by_service: dict[str, set[str]] = {}
    for statement in statements:
        for action in _actions(statement):
            by_service.setdefault(action.split(":")[0], set()).update(_resources(statement))
    assert by_service["s3"] == {"arn:aws:s3:::releases-eu", "arn:aws:s3:::releases-eu/releases/*"}
    assert by_service["kms"] == {SCOPE.key_arn}
    assert by_service["ssm"] - {"*"} == {
        "arn:aws:ssm:eu-west-1:123456789012:parameter/magento-dr/release/shop.example.com/version",
        "arn:aws:ssm:eu-west-1:123456789012:parameter/magento-dr/secondary/active",
        SCOPE.setup_upgrade_document_arn,
        "arn:aws:ssm:eu-west-1:123456789012:instance/*".replace(":ssm:", ":ec2:"),
    }
    assert by_service["autoscaling"] - {"*"} == {SCOPE.asg_arn}
    by_sid = {s["Sid"]: s for s in statements}
    # Writes: only the artifact objects and the version parameter; the active flag is read-only.
    assert _actions(by_sid["ReadTheActiveFlag"]) == ["ssm:GetParameter"]
    assert by_sid["SendToThisStacksInstances"]["Condition"] == {"StringEquals": {"ssm:resourceTag/magento-dr:stack": "secondary"}}
    assert by_sid["EncryptArtifactsThroughS3"]["Condition"]["StringEquals"]["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"


def test_only_the_release_workflow_in_its_environment_may_publish() -> None:
    (statement,) = publisher_trust_policy(ACCOUNT, "acme/magento-dr", "release-secondary")["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"}
    assert statement["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:acme/magento-dr:environment:release-secondary",
    }


def test_instances_read_only_releases_and_the_version() -> None:
    doc = json.loads(
        release_read_policy(
            region="eu-west-1", account_id=ACCOUNT, bucket_arn="arn:aws:s3:::r", key_arn="arn:aws:kms:eu-west-1:1:key/k",
            version_parameter_name="/magento-dr/release/shop.example.com/version",
        )
    )
    grants = {a: _resources(s) for s in doc["Statement"] for a in _actions(s)}
    assert grants == {
        "ssm:GetParameter": ["arn:aws:ssm:eu-west-1:123456789012:parameter/magento-dr/release/shop.example.com/version"],
        "s3:GetObject": ["arn:aws:s3:::r/releases/*"],
        "kms:Decrypt": ["arn:aws:kms:eu-west-1:1:key/k"],
    }


# ------------------------------------------------------------------------- both stacks (mocks)
def test_artifact_bucket_is_private_versioned_kms_encrypted_tls_only_and_protected(stack: StackGraph) -> None:
    bucket = stack.named("release-bucket")
    name = _bucket_name(stack)
    assert name == release_bucket_name("shop.example.com", ACCOUNT, stack.exports["region"])
    assert bucket.protect and stack.named("release-key").protect
    assert stack.named("release-key").inputs["enableKeyRotation"] is True
    (versioning,) = _attached(stack, "aws:s3/bucketVersioning:BucketVersioning", name)
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    (encryption,) = _attached(stack, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", name)
    (rule,) = encryption.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": stack.named("release-key").outputs["arn"]}
    assert rule["bucketKeyEnabled"] is True
    (block,) = _attached(stack, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name)
    assert all(block.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    (policy,) = _attached(stack, "aws:s3/bucketPolicy:BucketPolicy", name)
    (deny,) = json.loads(policy.inputs["policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert stack.exports["releaseBucketName"] == name


def test_secondary_replicates_the_primarys_releases_into_its_bucket_with_rtc(primary: StackGraph, secondary: StackGraph) -> None:
    assert not [r for r in primary.of_type(REPLICATION) if r.name.startswith("release")]
    config = secondary.named("release-peer-replication")
    assert config.inputs["bucket"] == _bucket_name(primary)
    assert config.region == primary.exports["region"]  # declared through the primary region's provider
    (rule,) = config.inputs["rules"]
    destination = rule["destination"]
    assert destination["bucket"] == f"arn:aws:s3:::{_bucket_name(secondary)}"
    assert destination["encryptionConfiguration"]["replicaKmsKeyId"] == secondary.named("release-key").outputs["arn"]
    assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert destination["metrics"]["status"] == "Enabled"
    assert rule["deleteMarkerReplication"]["status"] == "Enabled"
    assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] == "Enabled"
    assert primary.exports["releasePeerBucketName"] == _bucket_name(secondary)
    # Only these two buckets and keys, and S3 only for this source.
    role_policy = json.loads(secondary.one(ROLE_POLICY, "release-replication-to-secondary").inputs["policy"])
    resources = {r for s in role_policy["Statement"] for r in _resources(s)}
    assert resources == {
        f"arn:aws:s3:::{_bucket_name(primary)}",
        f"arn:aws:s3:::{_bucket_name(primary)}/*",
        f"arn:aws:s3:::{_bucket_name(secondary)}/*",
        primary.exports["releaseKeyArn"],
        secondary.exports["releaseKeyArn"],
    }


def test_each_region_has_its_version_parameter_owned_by_the_release_workflow(primary: StackGraph, secondary: StackGraph) -> None:
    names = set()
    for graph in (primary, secondary):
        parameter = graph.named("release-version")
        assert parameter.type == PARAMETER and parameter.region == graph.exports["region"]
        assert parameter.inputs["insecureValue"] == NO_RELEASE
        assert parameter.ignore_changes == ["insecureValue"]  # `pulumi up` never rolls a release back
        names.add(parameter.inputs["name"])
        assert graph.exports["releaseVersionParameterName"] == parameter.inputs["name"]
        # The instances find the bucket and the version's name under their own prefix.
        prefix = graph.exports["ssmPrefix"]
        pointers = {r.inputs["name"]: r.inputs["insecureValue"] for r in graph.of_type(PARAMETER) if r.name.startswith("release-param-")}
        assert pointers == {f"{prefix}/release/bucket": _bucket_name(graph), f"{prefix}/release/version-parameter": parameter.inputs["name"]}
    assert len(names) == 1


def test_instances_may_read_their_own_regions_releases(stack: StackGraph) -> None:
    grant = stack.one(ROLE_POLICY, "release-instance-read")
    assert grant.inputs["role"] == stack.one("aws:iam/role:Role", "frontend-instance").outputs["name"]
    doc = json.loads(grant.inputs["policy"])
    resources = {r for s in doc["Statement"] for r in _resources(s)}
    assert f"arn:aws:s3:::{_bucket_name(stack)}/releases/*" in resources
    assert all(stack.exports["region"] in r or r.startswith("arn:aws:s3:::") for r in resources)


def test_a_version_change_starts_this_regions_instance_refresh(stack: StackGraph) -> None:
    rule = stack.named("release-version-changed")
    assert json.loads(rule.inputs["eventPattern"]) == version_change_pattern(stack.exports["releaseVersionParameterName"])
    target = stack.named("release-version-changed-refresh")
    runbook = stack.named("release-refresh")
    region = stack.exports["region"]
    assert target.inputs["rule"] == rule.outputs["name"]
    assert target.inputs["arn"] == f"arn:aws:ssm:{region}:{ACCOUNT}:automation-definition/{runbook.inputs['name']}:$DEFAULT"
    assert runbook.inputs["documentType"] == "Automation"
    content = json.loads(runbook.inputs["content"])
    assert content["parameters"]["AutoScalingGroupName"]["default"] == stack.exports["asgName"]
    assert json.loads(target.inputs["input"])["AutoScalingGroupName"] == [stack.exports["asgName"]]
    # The runbook's role may refresh this group only; EventBridge's role may only start the runbook.
    (refresh,) = json.loads(stack.one(ROLE_POLICY, "release-refresh-runbook").inputs["policy"])["Statement"]
    assert refresh["Action"] == ["autoscaling:StartInstanceRefresh"] and refresh["Resource"] == [stack.exports["asgArn"]]
    trigger = json.loads(stack.one(ROLE_POLICY, "release-refresh-trigger").inputs["policy"])["Statement"]
    assert {a for s in trigger for a in _actions(s)} == {"ssm:StartAutomationExecution", "iam:PassRole"}
    assert target.inputs["roleArn"] == stack.one("aws:iam/role:Role", "release-refresh-trigger").outputs["arn"]


def test_publisher_role_is_the_workflows_and_scoped_to_this_region(stack: StackGraph) -> None:
    role = stack.one("aws:iam/role:Role", "release-publisher")
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == (
        f"repo:example-org/magento-dr:environment:release-{stack.stack}"
    )
    statements = json.loads(stack.one(ROLE_POLICY, "release-publisher").inputs["policy"])["Statement"]
    region, bucket = stack.exports["region"], _bucket_name(stack)
    for statement in statements:
        for resource in _resources(statement):
            assert resource == "*" or bucket in resource or f":{region}:" in resource, (statement["Sid"], resource)
    target = stack.exports["releaseTarget"]
    assert target["publisherRoleArn"] == stack.exports["releasePublisherRoleArn"] == role.outputs["arn"]
    assert (target["bucket"], target["region"], target["asgName"]) == (bucket, region, stack.exports["asgName"])


def test_failover_function_reports_both_regions_release_versions(stack: StackGraph) -> None:
    env = stack.one("aws:lambda/function:Function", "failover-function").inputs["environment"]["variables"]
    assert env["MDR_RELEASE_PARAMETER"] == stack.exports["releaseVersionParameterName"]
    assert "MDR_RELEASE_PARAMETER" in ENV_VARS
    assert Settings.from_env(env).release_parameter == env["MDR_RELEASE_PARAMETER"]
    statements = json.loads(stack.one(ROLE_POLICY, "failover-policy").inputs["policy"])["Statement"]
    (read,) = [s for s in statements if s["Sid"] == "ReadReleaseVersionBothRegions"]
    name = env["MDR_RELEASE_PARAMETER"]
    assert sorted(read["Resource"]) == sorted(
        f"arn:aws:ssm:{r}:{ACCOUNT}:parameter{name}" for r in (stack.exports["region"], stack.exports["peerRegion"])
    )
    assert read["Action"] == ["ssm:GetParameter"]


# ------------------------------------------------------------------------------ the handler
@pytest.mark.parametrize(
    ("local", "peer", "match"),
    [("v1", "v1", True), ("v1", "v2", False), ("v1", None, None), (None, None, None)],
)
def test_release_report_never_guesses_a_match(local: str | None, peer: str | None, match: bool | None) -> None:
    assert release_report(local, peer) == {"release_version": local, "peer_release_version": peer, "release_versions_match": match}


# ------------------------------------------------------------------------------ config
@pytest.mark.parametrize(
    ("release", "message"),
    [
        ({"githubRepository": "not a repo"}, "githubRepository"),
        ({"githubEnvironment": "bad env!"}, "githubEnvironment"),
        ({"noncurrentVersionDays": 0}, "noncurrentVersionDays"),
        ({"bucket": "x"}, "not a known setting"),
    ],
)
def test_release_config_is_validated(release: dict[str, Any], message: str) -> None:
    from components.config import ConfigError, parse_settings
    from offline.runner import load_stack_config

    raw = {k.split(":", 1)[1]: v for k, v in load_stack_config("primary").items() if k.startswith("magento-dr:")}
    with pytest.raises(ConfigError, match=message):
        parse_settings("primary", {**raw, "release": release})


def test_a_secondary_release_bucket_the_primary_does_not_expect_is_refused() -> None:
    from components.config import ConfigError
    from components.secure_bucket import check_peer_bucket_name

    assert check_peer_bucket_name("release", "r-1", "r-1") == "r-1"
    with pytest.raises(ConfigError, match=r"secondary's release bucket to be 'r-1'.*shopHostname"):
        check_peer_bucket_name("release", "r-1", "r-2")
