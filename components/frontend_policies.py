"""IAM and resource policies of the web tier, as data (pure, table-tested).

No statement grants a wildcard action, and only actions without resource-level
permissions use `Resource: "*"`: the SSM agent's, and (with Varnish) ec2:DescribeInstances,
held to the instance's own region.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .kms import USE_ACTIONS, key_policy
from .media_bucket import magento_media_statements

# What the SSM agent needs for Session Manager and Run Command; these actions
# support no resource-level permissions, hence "*". Taken from the AWS managed
# policy AmazonSSMManagedInstanceCore minus its ssm:GetParameter(s) on "*",
# which would let an instance read every parameter in the account.
# https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html
SSM_AGENT_ACTIONS = (
    "ssm:DescribeAssociation",
    "ssm:GetDeployablePatchSnapshotForInstance",
    "ssm:GetDocument",
    "ssm:DescribeDocument",
    "ssm:GetManifest",
    "ssm:ListAssociations",
    "ssm:ListInstanceAssociations",
    "ssm:PutInventory",
    "ssm:PutComplianceItems",
    "ssm:PutConfigurePackageResult",
    "ssm:UpdateAssociationStatus",
    "ssm:UpdateInstanceAssociationStatus",
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
)


def _document(statements: Sequence[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume_role_policy(service: str) -> str:
    """Trust policy letting one AWS service (e.g. ec2.amazonaws.com) assume the role."""
    return _document([{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}])


@dataclass(frozen=True)
class InstanceGrants:
    """The ARNs a web instance may touch, all in its own region."""

    region: str
    account_id: str
    ssm_prefix: str
    secret_arns: tuple[str, ...]
    secret_key_arns: tuple[str, ...]
    media_bucket_arn: str
    media_key_arn: str
    discover_peers: bool = False
    """With Varnish: find the region's other web instances, whose Varnish caches Magento purges (components/varnish.py)."""

    def __post_init__(self) -> None:
        if not self.ssm_prefix.startswith("/") or self.ssm_prefix.endswith("/"):
            raise ValueError(f"InstanceGrants.ssm_prefix {self.ssm_prefix!r} must start with / and not end with /")
        for arn in (*self.secret_arns, *self.secret_key_arns, self.media_bucket_arn, self.media_key_arn):
            if not arn.startswith("arn:") or "*" in arn:
                raise ValueError(f"InstanceGrants: {arn!r} is not a concrete ARN")


def instance_role_policy(grants: InstanceGrants) -> str:
    """Least privilege for a web instance: its parameters, its secrets, its media bucket, the SSM agent."""
    parameter_arn = f"arn:aws:ssm:{grants.region}:{grants.account_id}:parameter{grants.ssm_prefix}"
    return _document(
        [
            {
                "Sid": "ReadOwnRuntimeParameters",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
                "Resource": [parameter_arn, f"{parameter_arn}/*"],
            },
            {
                "Sid": "ReadOwnSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": sorted(set(grants.secret_arns)),
            },
            {
                "Sid": "DecryptSecretsThroughSecretsManager",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": sorted(set(grants.secret_key_arns)),
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{grants.region}.amazonaws.com"}},
            },
            # What Magento's S3 driver really sends (components/media_bucket.py, docs/media.md).
            *magento_media_statements(grants.media_bucket_arn, grants.media_key_arn, grants.region),
            *([_discover_peers(grants.region)] if grants.discover_peers else []),
            {
                "Sid": "SsmAgent",
                "Effect": "Allow",
                "Action": list(SSM_AGENT_ACTIONS),
                "Resource": "*",
            },
        ]
    )


def _discover_peers(region: str) -> dict[str, Any]:
    """magento-dr-varnish-sync lists the region's web instances (their private addresses) every minute.

    DescribeInstances has no resource-level permissions (its "Resource types" column is empty:
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html), hence "*";
    the global condition key aws:RequestedRegion holds it to the instance's own region
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion).
    """
    return {
        "Sid": "FindTheRegionsWebInstances",
        "Effect": "Allow",
        "Action": ["ec2:DescribeInstances"],
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
    }


def alb_log_bucket_policy(bucket_arn: str, account_id: str, elb_account_arn: str) -> str:
    """Elastic Load Balancing may write this account's access logs; nothing else, and only over TLS.

    us-east-1 and eu-west-1 predate August 2022, so the writer is the regional
    ELB account (aws.elb.get_service_account), not the log-delivery service principal.
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
    """
    return _document(
        [
            {
                "Sid": "ElbWritesAccessLogs",
                "Effect": "Allow",
                "Principal": {"AWS": elb_account_arn},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*",
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject"],
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )


def search_access_policy(domain_arn: str) -> str:
    """HTTP requests may reach the domain's indices; fine-grained access control decides who gets in.

    Magento's OpenSearch client authenticates with HTTP basic auth (an internal
    user), not SigV4, so its requests are anonymous to IAM: the domain policy
    must admit them and leave authentication to fine-grained access control.
    The domain has no public endpoint; only the web instances' security group
    reaches it. https://docs.aws.amazon.com/opensearch-service/latest/developerguide/fgac.html#fgac-recommendations
    """
    return _document(
        [
            {
                "Sid": "HttpThroughFineGrainedAccessControl",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete", "es:ESHttpPatch"],
                "Resource": f"{domain_arn}/*",
            }
        ]
    )


def frontend_key_policy(account_id: str) -> str:
    """The web tier's customer key: the account administers it (IAM decides who uses it), and the
    Auto Scaling service-linked role may use it to launch instances with encrypted EBS volumes.

    https://docs.aws.amazon.com/autoscaling/ec2/userguide/key-policy-requirements-EBS-encryption.html
    """
    autoscaling_role = f"arn:aws:iam::{account_id}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    return key_policy(
        account_id,
        [
            {
                "Sid": "AutoScalingUsesKeyForEbs",
                "Effect": "Allow",
                "Principal": {"AWS": autoscaling_role},
                "Action": list(USE_ACTIONS),
                "Resource": "*",  # in a key policy "*" means this key
            },
            {
                "Sid": "AutoScalingAttachesEncryptedVolumes",
                "Effect": "Allow",
                "Principal": {"AWS": autoscaling_role},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}},
            },
        ],
    )


def release_read_policy(*, region: str, account_id: str, bucket_arn: str, key_arn: str, version_parameter_name: str) -> str:
    """What a web instance needs to boot a release (components/release.py attaches it to the instance
    role): read the region's version parameter and `releases/*` objects of the region's artifact
    bucket, decrypting only through S3 in this region. No list, no write, no other prefix."""
    for arn in (bucket_arn, key_arn):
        if not arn.startswith("arn:") or "*" in arn:
            raise ValueError(f"release_read_policy: {arn!r} is not a concrete ARN")
    return _document(
        [
            {
                "Sid": "ReadTheReleaseVersion",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter"],
                "Resource": f"arn:aws:ssm:{region}:{account_id}:parameter{version_parameter_name}",
            },
            {
                "Sid": "ReadReleaseArtifacts",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": f"{bucket_arn}/releases/*",
            },
            {
                "Sid": "ReleaseKeyThroughS3",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            },
        ]
    )
