"""IAM documents of the release path (pure, table-tested): who may publish a release into one
region, and what starts that region's instance refresh.

Every grant is this stack's own region and resources: its artifact bucket's `releases/` prefix
and key, its version parameter, its `active` flag, its setup:upgrade document, its instances and
its Auto Scaling group. `Resource: "*"` only for actions AWS authorizes without resource-level
permissions (Service Authorization Reference:
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .iam import allow

# GitHub's OIDC issuer and the audience aws-actions/configure-aws-credentials requests.
# https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"

# No resource-level permissions for these (empty "Resource types" column).
NO_RESOURCE_LEVEL_ACTIONS = frozenset(
    {"ec2:DescribeInstances", "ssm:GetCommandInvocation", "autoscaling:DescribeInstanceRefreshes"}
)


@dataclass(frozen=True)
class ReleaseScope:
    """The resources of one region's release path, as plain strings."""

    partition: str
    account_id: str
    region: str
    bucket_arn: str
    key_arn: str
    version_parameter_name: str
    ssm_prefix: str
    active_parameter_name: str
    setup_upgrade_document_arn: str
    asg_arn: str
    instance_tag_key: str
    instance_tag_value: str

    def __post_init__(self) -> None:
        for name in (self.version_parameter_name, self.active_parameter_name, self.ssm_prefix):
            if not name.startswith("/") or name.endswith("/"):
                raise ValueError(f"ReleaseScope: {name!r} must start with '/' and not end with one")
        for arn in (self.bucket_arn, self.key_arn, self.setup_upgrade_document_arn, self.asg_arn):
            if not arn.startswith("arn:") or "*" in arn:
                raise ValueError(f"ReleaseScope: {arn!r} is not a concrete ARN")

    def parameter_arn(self, name: str) -> str:
        return f"arn:{self.partition}:ssm:{self.region}:{self.account_id}:parameter{name}"


def publisher_trust_policy(account_id: str, repository: str, environment: str, partition: str = "aws") -> dict[str, Any]:
    """Only the release workflow of `repository`, running in GitHub environment `environment`, may assume the role."""
    provider = f"arn:{partition}:iam::{account_id}:oidc-provider/{GITHUB_OIDC_HOST}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": f"repo:{repository}:environment:{environment}",
                    }
                },
            }
        ],
    }


def publisher_policy(s: ReleaseScope) -> dict[str, Any]:
    """What the release workflow may do in one region (scripts/release-region.sh, in this order):
    put and verify the artifact, run setup:upgrade where `active` is true, set the version
    parameter, and start the instance refresh if EventBridge (best effort) did not."""
    releases = f"{s.bucket_arn}/releases/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            allow("PutAndVerifyReleaseArtifacts", ["s3:GetObject", "s3:PutObject"], [releases]),
            # Without ListBucket a missing key answers 403, not 404; only the releases/ prefix is listable.
            allow("ListReleases", ["s3:ListBucket"], [s.bucket_arn], {"StringLike": {"s3:prefix": ["releases/*"]}}),
            allow(
                "EncryptArtifactsThroughS3",
                ["kms:Decrypt", "kms:GenerateDataKey"],
                [s.key_arn],
                {"StringEquals": {"kms:ViaService": f"s3.{s.region}.amazonaws.com"}},
            ),
            allow("ReadAndSetTheReleaseVersion", ["ssm:GetParameter", "ssm:PutParameter"], [s.parameter_arn(s.version_parameter_name)]),
            allow("ReadTheActiveFlag", ["ssm:GetParameter"], [s.parameter_arn(s.active_parameter_name)]),
            # SendCommand is authorized against the document and each instance (tag condition only on instances).
            allow("SendSetupUpgradeDocument", ["ssm:SendCommand"], [s.setup_upgrade_document_arn]),
            allow(
                "SendToThisStacksInstances",
                ["ssm:SendCommand"],
                [f"arn:{s.partition}:ec2:{s.region}:{s.account_id}:instance/*"],
                {"StringEquals": {f"ssm:resourceTag/{s.instance_tag_key}": s.instance_tag_value}},
            ),
            allow("FindAnInstance", ["ec2:DescribeInstances"], "*"),
            allow("ReadCommandResult", ["ssm:GetCommandInvocation"], "*"),
            allow("WatchInstanceRefreshes", ["autoscaling:DescribeInstanceRefreshes"], "*"),
            allow("StartRefreshIfTheEventWasLost", ["autoscaling:StartInstanceRefresh"], [s.asg_arn]),
        ],
    }


def refresh_runbook_policy(asg_arn: str) -> dict[str, Any]:
    """The refresh runbook's role: start an instance refresh of this one group."""
    return {"Version": "2012-10-17", "Statement": [allow("RefreshThisGroupOnly", ["autoscaling:StartInstanceRefresh"], [asg_arn])]}


def refresh_trigger_policy(automation_definition_arn: str, runbook_role_arn: str) -> dict[str, Any]:
    """EventBridge's role: start this runbook (any version) and hand it its role, nothing else.

    https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-cwe-target.html
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            allow("StartTheRefreshRunbook", ["ssm:StartAutomationExecution"], [automation_definition_arn]),
            allow(
                "PassTheRunbookRole",
                ["iam:PassRole"],
                [runbook_role_arn],
                {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
            ),
        ],
    }
