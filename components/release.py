"""ReleaseDelivery: one Magento build, stored in both regions, rolled out identically to both.

Each stack declares, in its own region: the artifact bucket (the media bucket's building
blocks from components/secure_bucket.py), the version parameter the release workflow sets, the
pointers and read grant web instances use to fetch that version at boot, the setup:upgrade
Command document, the EventBridge rule and runbook that start an instance refresh when the
version parameter changes, and the role the GitHub release workflow assumes to publish here.
The secondary owns the primary → secondary replication (the only stack that runs when both
buckets exist), like the media replication. See docs/release.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .config import Role
from .frontend_policies import release_read_policy
from .iam import service_trust_policy
from .kms import key_policy
from .magento_runtime import (
    FETCH_RELEASE_COMMAND,
    MAGENTO_ROOT,
    NO_RELEASE,
    RELEASE_BUCKET_PARAMETER,
    RELEASE_VERSION_PATTERN,
    RELEASE_VERSION_POINTER,
)
from .naming import physical_name
from .release_policies import (
    ReleaseScope,
    publisher_policy,
    publisher_trust_policy,
    refresh_runbook_policy,
    refresh_trigger_policy,
)
from .secure_bucket import (
    bucket_arn,
    check_peer_bucket_name,
    declare_kms_encryption,
    declare_private_versioned_bucket,
    declare_replication,
    deny_insecure_transport_statement,
    regional_bucket_name,
)

# Parameter Store publishes a change event for every update of a parameter (best effort: the
# release workflow starts the refresh itself when none follows).
# https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-cwe.html
PARAMETER_CHANGE_DETAIL_TYPE = "Parameter Store Change"

# StartInstanceRefresh preferences. Min 100 / max 200: launch the replacement before terminating
# (no capacity dip, even for a one-instance warm standby). SkipMatching must stay false: the launch
# template does not change between releases, so every instance "matches" and would be skipped.
# Instance warm-up comes from the group's DefaultInstanceWarmup.
# https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html
REFRESH_PREFERENCES: dict[str, Any] = {"MinHealthyPercentage": 100, "MaxHealthyPercentage": 200, "SkipMatching": False}

# setup:upgrade on a large catalogue can take a while; Run Command's default is one hour too.
SETUP_UPGRADE_TIMEOUT_SECONDS = 3600
WEB_USER = "nginx"


# ------------------------------------------------------------------------------ pure helpers
def release_bucket_name(shop_hostname: str, account_id: str, region: str) -> str:
    """The artifact bucket of `region`, computable by either stack from config alone."""
    return regional_bucket_name("releases", shop_hostname, account_id, region)


def release_parameter_name(shop_hostname: str) -> str:
    """The version parameter: one per region, the same name in both, so each region's failover
    function (and the drill) can read the peer's without knowing the peer's stack name."""
    return f"/magento-dr/release/{shop_hostname.lower()}/version"


def replication_rule_id(destination_region: str) -> str:
    return f"releases-to-{destination_region}"


def artifact_bucket_policy(bucket: str) -> str:
    """TLS only; nothing is public and no other account is admitted (IAM decides within the account)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [deny_insecure_transport_statement(bucket)]})


def version_change_pattern(parameter_name: str) -> dict[str, Any]:
    """EventBridge pattern: an update of this region's version parameter (creation is not a release)."""
    return {
        "source": ["aws.ssm"],
        "detail-type": [PARAMETER_CHANGE_DETAIL_TYPE],
        "detail": {"name": [parameter_name], "operation": ["Update"]},
    }


def refresh_runbook(asg_name: str, role_arn: str) -> dict[str, Any]:
    """SSM Automation runbook (schema 0.3): start a rolling instance refresh of this one group."""
    return {
        "schemaVersion": "0.3",
        "description": "magento-dr: replace every web instance so it boots the release the version parameter names",
        "assumeRole": "{{ AutomationAssumeRole }}",
        "parameters": {
            "AutoScalingGroupName": {"type": "String", "default": asg_name, "allowedValues": [asg_name]},
            "AutomationAssumeRole": {"type": "String", "default": role_arn, "allowedValues": [role_arn]},
        },
        "mainSteps": [
            {
                "name": "startInstanceRefresh",
                "action": "aws:executeAwsApi",
                "isEnd": True,
                "inputs": {
                    "Service": "autoscaling",
                    "Api": "StartInstanceRefresh",
                    "AutoScalingGroupName": "{{ AutoScalingGroupName }}",
                    "Strategy": "Rolling",
                    "Preferences": REFRESH_PREFERENCES,
                },
                "outputs": [{"Name": "InstanceRefreshId", "Selector": "$.InstanceRefreshId", "Type": "String"}],
            }
        ],
    }


def setup_upgrade_document(*, region: str, active_parameter_name: str) -> dict[str, Any]:
    """SSM Command document: `setup:upgrade` with the *new* release's code, on one instance of the
    active region, before any instance is replaced. It refuses where `active` is not "true", so the
    standby never migrates the shared database. `--keep-generated`: the artifact carries the
    compiled DI (setup:di:compile ran in the build), which must not be thrown away.
    https://experienceleague.adobe.com/en/docs/commerce-operations/installation-guide/tutorials/database-upgrade
    """
    return {
        "schemaVersion": "2.2",
        "description": "magento-dr: bin/magento setup:upgrade with a new release (active region only)",
        "parameters": {
            "Version": {
                "type": "String",
                "description": "The release to upgrade the database for (releases/<Version>.tar.zst)",
                "allowedPattern": RELEASE_VERSION_PATTERN,
            }
        },
        "mainSteps": [
            {
                "action": "aws:runShellScript",
                "name": "magentoSetupUpgrade",
                "precondition": {"StringEquals": ["platformType", "Linux"]},
                "inputs": {
                    "timeoutSeconds": str(SETUP_UPGRADE_TIMEOUT_SECONDS),
                    "runCommand": [
                        "set -euo pipefail",
                        f"export AWS_DEFAULT_REGION={region}",
                        f"ACTIVE=$(aws ssm get-parameter --name {active_parameter_name} --query Parameter.Value --output text)",
                        'if [ "$ACTIVE" != "true" ]; then',
                        f"  echo 'magento-dr: {region} is not the active region; setup:upgrade runs only where active=true' >&2",
                        "  exit 1",
                        "fi",
                        f"STAGED=$({FETCH_RELEASE_COMMAND} --stage '{{{{ Version }}}}' | tail -n 1)",
                        f'install -o root -g {WEB_USER} -m 0640 {MAGENTO_ROOT}/app/etc/env.php "$STAGED/app/etc/env.php"',
                        'cd "$STAGED"',
                        f"sudo -u {WEB_USER} php bin/magento setup:upgrade --keep-generated --no-interaction",
                    ],
                },
            }
        ],
    }


def automation_definition_arn(partition: str, region: str, account_id: str, document_name: str, version: str = "$DEFAULT") -> str:
    return f"arn:{partition}:ssm:{region}:{account_id}:automation-definition/{document_name}:{version}"


# ----------------------------------------------------------------------------------- args
@dataclass(frozen=True)
class PrimaryRelease:
    """What the secondary reads from the primary's exports (releaseBucketName, releaseKeyArn, releasePeerBucketName)."""

    bucket_name: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    expected_peer_bucket_name: pulumi.Input[str]


@dataclass(frozen=True)
class ReleaseDeliveryArgs:
    stack: str
    role: Role
    region: str
    peer_region: str
    shop_hostname: str
    ssm_prefix: str
    active_parameter_name: str
    noncurrent_version_days: int
    asg_name: pulumi.Input[str]
    asg_arn: pulumi.Input[str]
    instance_role_name: pulumi.Input[str]
    instance_tag_key: str
    instance_tag_value: str
    github_repository: str = ""
    """owner/name whose release workflow may publish here; "" declares no publisher role."""
    github_environment: str = ""
    """The GitHub environment of this region's release jobs; "" means release-<stack>."""
    protect: bool = True
    # secondary only
    peer_provider: pulumi.ProviderResource | None = None
    """The primary region's provider, for the replication rule on the primary's bucket."""
    primary: PrimaryRelease | None = None

    def __post_init__(self) -> None:
        if self.region == self.peer_region:
            raise ValueError("ReleaseDeliveryArgs: region and peer_region must differ for cross-region replication")
        if not 1 <= self.noncurrent_version_days <= 3650:
            raise ValueError(
                f"ReleaseDeliveryArgs.noncurrent_version_days is {self.noncurrent_version_days}; "
                f"use 1 to 3650 (magento-dr:release.noncurrentVersionDays)"
            )
        if not self.active_parameter_name.startswith(self.ssm_prefix + "/"):
            raise ValueError("ReleaseDeliveryArgs.active_parameter_name must live under ssm_prefix")
        if self.role == "primary" and (self.primary is not None or self.peer_provider is not None):
            raise ValueError("ReleaseDeliveryArgs: primary/peer_provider are for the secondary, which owns replication")
        if self.role == "secondary" and (self.primary is None or self.peer_provider is None):
            raise ValueError(
                "ReleaseDeliveryArgs: the secondary needs primary (the primary's release exports) and peer_provider "
                "(to declare the replication rule on the primary's bucket)"
            )

    @property
    def environment(self) -> str:
        return self.github_environment or f"release-{self.stack}"


# ------------------------------------------------------------------------------ component
class ReleaseDelivery(pulumi.ComponentResource):
    """This region's half of the release path: artifacts, version, refresh wiring, publisher role."""

    bucket_name: pulumi.Output[str]
    """The region's artifact bucket (releases/<version>.tar.zst)."""
    bucket_arn: pulumi.Output[str]
    """ARN of the region's artifact bucket."""
    kms_key_arn: pulumi.Output[str]
    """The customer key that encrypts the artifact bucket."""
    peer_bucket_name: pulumi.Output[str]
    """The peer region's artifact bucket name, as this stack computes it."""
    version_parameter_name: str
    """The region's version parameter (same name in both regions; the release workflow sets it)."""
    setup_upgrade_document_name: pulumi.Output[str]
    """SSM Command document running setup:upgrade with a release (refuses outside the active region)."""
    refresh_runbook_name: pulumi.Output[str]
    """SSM Automation runbook that starts the web tier's instance refresh."""
    publisher_role_arn: pulumi.Output[str] | None
    """The role the GitHub release workflow assumes for this region (None without release.githubRepository)."""
    release_target: pulumi.Output[dict[str, Any]]
    """Everything the release workflow needs for this region (store it as the environment's RELEASE_TARGET)."""

    def __init__(self, name: str, args: ReleaseDeliveryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:ReleaseDelivery", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke).partition
        account = caller.account_id

        # ------------------------------------------------------------ artifact bucket
        own_name = account.apply(lambda a: release_bucket_name(args.shop_hostname, a, args.region))
        self.peer_bucket_name = account.apply(lambda a: release_bucket_name(args.shop_hostname, a, args.peer_region))
        if args.primary is None:
            bucket_name_input: pulumi.Input[str] = own_name
        else:
            bucket_name_input = pulumi.Output.all(args.primary.expected_peer_bucket_name, own_name).apply(
                lambda v: check_peer_bucket_name("release", v[0], v[1])
            )
        bucket, versioning = declare_private_versioned_bucket(
            self, name, bucket_name_input, noncurrent_version_days=args.noncurrent_version_days, protect=args.protect
        )
        key = aws.kms.Key(
            f"{name}-key",
            description=f"{name}: Magento release artifacts in {args.region}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=account.apply(key_policy),
            opts=stateful,
        )
        aws.kms.Alias(f"{name}-key-alias", name=own_name.apply(lambda n: f"alias/{n}"), target_key_id=key.key_id, opts=child)
        encryption = declare_kms_encryption(self, name, bucket, key.arn)
        policy = aws.s3.BucketPolicy(f"{name}-policy", bucket=bucket.id, policy=bucket.bucket.apply(artifact_bucket_policy), opts=child)
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.kms_key_arn = key.arn

        if args.primary is not None:
            # primary -> secondary only: releases are published to the primary first and CRR carries
            # them; with the primary lost the workflow uploads here directly (docs/release.md).
            declare_replication(
                self,
                role_name=f"{name}-replication-to-secondary",
                config_name=f"{name}-peer-replication",
                description=f"S3 replication of Magento releases {args.peer_region} -> {args.region}",
                account_id=account,
                source_bucket=args.primary.bucket_name,
                source_key_arn=args.primary.key_arn,
                source_region=args.peer_region,
                destination_bucket=bucket.bucket,
                destination_key_arn=key.arn,
                destination_region=args.region,
                rule_id=replication_rule_id(args.region),
                replica_modifications=False,
                provider=args.peer_provider,
                depends_on=[versioning, encryption, policy],
            )

        # ------------------------------------------------------------ version and pointers
        self.version_parameter_name = release_parameter_name(args.shop_hostname)
        version = aws.ssm.Parameter(
            f"{name}-version",
            name=self.version_parameter_name,
            type="String",
            insecure_value=NO_RELEASE,
            description=f"The Magento release {args.region} runs (set by the release workflow; '{NO_RELEASE}' = none yet)",
            # Runtime-owned: the release workflow (or an operator rolling back) changes it and its
            # change starts the instance refresh; `pulumi up` must never set it back.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["insecureValue"]),
        )
        pointers = {RELEASE_BUCKET_PARAMETER: bucket.bucket, RELEASE_VERSION_POINTER: version.name}
        for relative, value in pointers.items():
            aws.ssm.Parameter(
                f"{name}-param-{relative.replace('/', '-')}",
                name=f"{args.ssm_prefix}/{relative}",
                type="String",
                insecure_value=value,
                description=f"Where {args.stack}'s web instances find their release",
                opts=child,
            )
        aws.iam.RolePolicy(
            f"{name}-instance-read",
            role=args.instance_role_name,
            policy=pulumi.Output.all(account, bucket.arn, key.arn).apply(
                lambda v: release_read_policy(
                    region=args.region,
                    account_id=v[0],
                    bucket_arn=v[1],
                    key_arn=v[2],
                    version_parameter_name=self.version_parameter_name,
                )
            ),
            opts=child,
        )

        # ------------------------------------------------------------ setup:upgrade (active region only)
        setup_upgrade = aws.ssm.Document(
            f"{name}-setup-upgrade",
            name=physical_name(args.stack, args.region, "setup-upgrade"),
            document_type="Command",
            document_format="JSON",
            content=json.dumps(setup_upgrade_document(region=args.region, active_parameter_name=args.active_parameter_name)),
            opts=child,
        )
        self.setup_upgrade_document_name = setup_upgrade.name

        # ------------------------------------------------------------ version change -> instance refresh
        runbook_role = aws.iam.Role(
            f"{name}-refresh-runbook",
            description=f"magento-dr {args.stack}: the refresh runbook starts {args.region}'s instance refresh",
            assume_role_policy=account.apply(lambda a: json.dumps(service_trust_policy("ssm.amazonaws.com", a))),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-refresh-runbook",
            role=runbook_role.id,
            policy=pulumi.Output.from_input(args.asg_arn).apply(lambda arn: json.dumps(refresh_runbook_policy(arn))),
            opts=child,
        )
        runbook = aws.ssm.Document(
            f"{name}-refresh",
            name=physical_name(args.stack, args.region, "release-refresh"),
            document_type="Automation",
            document_format="JSON",
            content=pulumi.Output.all(args.asg_name, runbook_role.arn).apply(lambda v: json.dumps(refresh_runbook(v[0], v[1]))),
            opts=child,
        )
        self.refresh_runbook_name = runbook.name
        trigger_role = aws.iam.Role(
            f"{name}-refresh-trigger",
            description=f"magento-dr {args.stack}: EventBridge starts the refresh runbook when the release version changes",
            assume_role_policy=account.apply(lambda a: json.dumps(service_trust_policy("events.amazonaws.com", a))),
            opts=child,
        )
        trigger_policy = aws.iam.RolePolicy(
            f"{name}-refresh-trigger",
            role=trigger_role.id,
            policy=pulumi.Output.all(partition, account, runbook.name, runbook_role.arn).apply(
                lambda v: json.dumps(
                    refresh_trigger_policy(automation_definition_arn(v[0], args.region, v[1], v[2], "*"), v[3])
                )
            ),
            opts=child,
        )
        rule = aws.cloudwatch.EventRule(
            f"{name}-version-changed",
            description=f"The Magento release version of {args.region} changed: refresh the web tier",
            event_pattern=json.dumps(version_change_pattern(self.version_parameter_name)),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-version-changed-refresh",
            rule=rule.name,
            arn=pulumi.Output.all(partition, account, runbook.name).apply(
                lambda v: automation_definition_arn(v[0], args.region, v[1], v[2])
            ),
            role_arn=trigger_role.arn,
            # Automation targets take the runbook's parameters as lists of strings.
            input=pulumi.Output.all(args.asg_name, runbook_role.arn).apply(
                lambda v: json.dumps({"AutoScalingGroupName": [v[0]], "AutomationAssumeRole": [v[1]]})
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[trigger_policy, version]),
        )

        # ------------------------------------------------------------ the release workflow's role here
        self.publisher_role_arn = None
        if args.github_repository:
            publisher = aws.iam.Role(
                f"{name}-publisher",
                name=physical_name(args.stack, args.region, "release-publisher"),
                description=f"magento-dr {args.stack}: GitHub {args.github_repository} ({args.environment}) publishes releases to {args.region}",
                assume_role_policy=pulumi.Output.all(account, partition).apply(
                    lambda v: json.dumps(publisher_trust_policy(v[0], args.github_repository, args.environment, v[1]))
                ),
                max_session_duration=3600 * 2,
                opts=child,
            )
            scope = pulumi.Output.all(
                partition=partition,
                account_id=account,
                bucket_arn=bucket.arn,
                key_arn=key.arn,
                setup_upgrade_document_arn=setup_upgrade.arn,
                asg_arn=args.asg_arn,
            ).apply(
                lambda v: ReleaseScope(
                    region=args.region,
                    version_parameter_name=self.version_parameter_name,
                    ssm_prefix=args.ssm_prefix,
                    active_parameter_name=args.active_parameter_name,
                    instance_tag_key=args.instance_tag_key,
                    instance_tag_value=args.instance_tag_value,
                    **v,
                )
            )
            aws.iam.RolePolicy(
                f"{name}-publisher", role=publisher.id, policy=scope.apply(lambda s: json.dumps(publisher_policy(s))), opts=child
            )
            self.publisher_role_arn = publisher.arn

        self.release_target = pulumi.Output.all(
            bucket=bucket.bucket,
            asg_name=args.asg_name,
            document=setup_upgrade.name,
            role_arn=self.publisher_role_arn if self.publisher_role_arn is not None else "",
        ).apply(
            lambda v: {
                "stack": args.stack,
                "region": args.region,
                "bucket": v["bucket"],
                "versionParameter": self.version_parameter_name,
                "activeParameter": args.active_parameter_name,
                "setupUpgradeDocument": v["document"],
                "asgName": v["asg_name"],
                "instanceTagKey": args.instance_tag_key,
                "instanceTagValue": args.instance_tag_value,
                "publisherRoleArn": v["role_arn"],
            }
        )
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "kms_key_arn": self.kms_key_arn,
                "peer_bucket_name": self.peer_bucket_name,
                "version_parameter_name": self.version_parameter_name,
                "release_target": self.release_target,
            }
        )


__all__ = ["PrimaryRelease", "ReleaseDelivery", "ReleaseDeliveryArgs", "bucket_arn"]
