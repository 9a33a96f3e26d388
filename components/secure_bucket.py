"""Building blocks of every bucket the project owns: private, versioned, KMS-encrypted, TLS-only,
replicated across the region pair with Replication Time Control.

Shared by ReplicatedMediaBucket (components/media_bucket.py) and ReleaseDelivery
(components/release.py). The pure helpers (names, policy documents, the replication rule)
are table-tested; the `declare_*` helpers add resources under the calling component
(`parent=owner`), with the same logical names each component always had.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from .config import ConfigError

# ----------------------------------------------------------------------- AWS-defined constants
# S3 Replication Time Control: the only threshold AWS offers is 15 minutes, for both the
# replication time and the metrics event threshold.
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_ReplicationTimeValue.html
RTC_THRESHOLD_MINUTES = 15

# ACLs disabled: the bucket owner owns every object, replicas included (AWS's default and
# recommendation). The media buckets differ (components/media_bucket.MEDIA_OBJECT_OWNERSHIP):
# Magento's S3 driver sends an ACL with every write.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
OBJECT_OWNERSHIP = "BucketOwnerEnforced"

INCOMPLETE_UPLOAD_DAYS = 7
BUCKET_NAME_MAX = 63  # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html


# ------------------------------------------------------------------------------ pure helpers
def regional_bucket_name(purpose: str, shop_hostname: str, account_id: str, region: str) -> str:
    """`magento-dr-<purpose>-<account>-<region>-<shop hash>`, computable by either stack from config alone.

    Bucket names are global across all AWS accounts, so the account id is part of it; the
    shop hostname (hashed, to fit 63 characters) tells two shops in one account apart. Stack
    names are deliberately not used: the primary does not know the secondary's stack name.
    """
    if not account_id.isdigit() or len(account_id) != 12:
        raise ValueError(f"bucket name: {account_id!r} is not a 12-digit AWS account id")
    shop = hashlib.sha256(shop_hostname.lower().encode()).hexdigest()[:8]
    name = f"magento-dr-{purpose}-{account_id}-{region}-{shop}"
    if len(name) > BUCKET_NAME_MAX:
        raise ValueError(f"bucket name {name} is longer than {BUCKET_NAME_MAX} characters")
    return name


def bucket_arn(bucket_name: str) -> str:
    return f"arn:aws:s3:::{bucket_name}"


def deny_insecure_transport_statement(bucket: str) -> dict[str, Any]:
    """Bucket-policy statement refusing every request made without TLS."""
    arn = bucket_arn(bucket)
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def replication_trust_policy(account_id: str, source_bucket: str) -> str:
    """S3 may assume the role, only for replication out of `source_bucket` in this account."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account_id},
                        "ArnLike": {"aws:SourceArn": bucket_arn(source_bucket)},
                    },
                }
            ],
        }
    )


def replication_role_policy(
    *,
    source_bucket: str,
    source_key_arn: str,
    source_region: str,
    destination_bucket: str,
    destination_key_arn: str,
    destination_region: str,
) -> str:
    """Least privilege for one replication direction: these two buckets, these two keys.

    With S3 Bucket Keys the KMS encryption context is the bucket ARN, otherwise the object ARN;
    both are admitted. kms:GenerateDataKey on the destination key covers the Bucket Key S3 derives
    there. https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
    """
    src, dst = bucket_arn(source_bucket), bucket_arn(destination_bucket)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadSourceConfiguration",
                    "Effect": "Allow",
                    "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                    "Resource": src,
                },
                {
                    "Sid": "ReadSourceVersions",
                    "Effect": "Allow",
                    "Action": [
                        "s3:GetObjectVersionForReplication",
                        "s3:GetObjectVersionAcl",
                        "s3:GetObjectVersionTagging",
                    ],
                    "Resource": f"{src}/*",
                },
                {
                    "Sid": "WriteReplicas",
                    "Effect": "Allow",
                    "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                    "Resource": f"{dst}/*",
                },
                {
                    "Sid": "DecryptWithSourceKey",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": source_key_arn,
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"s3.{source_region}.amazonaws.com"},
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [src, f"{src}/*"]},
                    },
                },
                {
                    "Sid": "EncryptWithDestinationKey",
                    "Effect": "Allow",
                    "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                    "Resource": destination_key_arn,
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"s3.{destination_region}.amazonaws.com"},
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [dst, f"{dst}/*"]},
                    },
                },
            ],
        }
    )


def replication_rule(
    rule_id: str,
    destination_bucket_arn: pulumi.Input[str],
    destination_key_arn: pulumi.Input[str],
    *,
    replica_modifications: bool = True,
) -> aws.s3.BucketReplicationConfigRuleArgs:
    """One rule: everything, with RTC, metrics, delete markers and the destination's key.

    `replica_modifications` syncs metadata/tag changes made to a replica back (for two-way pairs).
    """
    return aws.s3.BucketReplicationConfigRuleArgs(
        id=rule_id,
        status="Enabled",
        priority=1,
        filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
        delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(status="Enabled"),
        source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
            sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                status="Enabled"
            ),
            replica_modifications=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaReplicaModificationsArgs(
                status="Enabled"
            )
            if replica_modifications
            else None,
        ),
        destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
            bucket=destination_bucket_arn,
            encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                replica_kms_key_id=destination_key_arn
            ),
            replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                status="Enabled",
                time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(minutes=RTC_THRESHOLD_MINUTES),
            ),
            metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                status="Enabled",
                event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                    minutes=RTC_THRESHOLD_MINUTES
                ),
            ),
        ),
    )


# ------------------------------------------------------------------------- resource helpers
def declare_private_versioned_bucket(
    owner: pulumi.Resource,
    name: str,
    bucket_name: pulumi.Input[str],
    *,
    noncurrent_version_days: int,
    protect: bool,
    object_ownership: str = OBJECT_OWNERSHIP,
) -> tuple[aws.s3.Bucket, aws.s3.BucketVersioning]:
    """`<name>-bucket` with Block Public Access, ACLs disabled (unless `object_ownership` says
    otherwise), versioning and a lifecycle that expires noncurrent versions, aborts stale uploads
    and removes lone delete markers."""
    child = pulumi.ResourceOptions(parent=owner)
    stateful = pulumi.ResourceOptions(parent=owner, protect=protect)
    bucket = aws.s3.Bucket(f"{name}-bucket", bucket=bucket_name, opts=stateful)
    aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership=object_ownership),
        opts=child,
    )
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=stateful,
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-noncurrent-versions",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=noncurrent_version_days
                ),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=INCOMPLETE_UPLOAD_DAYS
                ),
                # Once its noncurrent versions expire, a delete marker is alone; clean it up.
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True),
            )
        ],
        opts=pulumi.ResourceOptions(parent=owner, depends_on=[versioning]),
    )
    return bucket, versioning


def declare_kms_encryption(
    owner: pulumi.Resource, name: str, bucket: aws.s3.Bucket, key_arn: pulumi.Input[str]
) -> aws.s3.BucketServerSideEncryptionConfiguration:
    """`<name>-encryption`: SSE-KMS with the region's customer key and S3 Bucket Keys."""
    return aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=key_arn
                ),
                bucket_key_enabled=True,  # one KMS call per bucket key, not per object
            )
        ],
        opts=pulumi.ResourceOptions(parent=owner),
    )


def declare_replication(
    owner: pulumi.Resource,
    *,
    role_name: str,
    config_name: str,
    description: str,
    account_id: pulumi.Input[str],
    source_bucket: pulumi.Input[str],
    source_key_arn: pulumi.Input[str],
    source_region: str,
    destination_bucket: pulumi.Input[str],
    destination_key_arn: pulumi.Input[str],
    destination_region: str,
    rule_id: str,
    replica_modifications: bool,
    provider: pulumi.ProviderResource | None,
    depends_on: Sequence[pulumi.Resource],
) -> aws.s3.BucketReplicationConfig:
    """One replication direction: its role (trusted by S3 for this source only), its
    least-privilege policy and the source bucket's replication configuration.

    `provider` is the source bucket's region when that differs from the owner's (the config's
    logical name must then say `peer`). `depends_on`: versioning on both ends and the keys.
    """
    role = aws.iam.Role(
        role_name,
        description=description,
        assume_role_policy=pulumi.Output.all(account_id, source_bucket).apply(lambda v: replication_trust_policy(v[0], v[1])),
        opts=pulumi.ResourceOptions(parent=owner),
    )
    role_policy = aws.iam.RolePolicy(
        role_name,
        role=role.id,
        policy=pulumi.Output.all(source_bucket, source_key_arn, destination_bucket, destination_key_arn).apply(
            lambda v: replication_role_policy(
                source_bucket=v[0],
                source_key_arn=v[1],
                source_region=source_region,
                destination_bucket=v[2],
                destination_key_arn=v[3],
                destination_region=destination_region,
            )
        ),
        opts=pulumi.ResourceOptions(parent=owner),
    )
    return aws.s3.BucketReplicationConfig(
        config_name,
        bucket=source_bucket,
        role=role.arn,
        rules=[
            replication_rule(
                rule_id,
                pulumi.Output.from_input(destination_bucket).apply(bucket_arn),
                destination_key_arn,
                replica_modifications=replica_modifications,
            )
        ],
        opts=pulumi.ResourceOptions(
            parent=owner,
            provider=provider,
            # The role's permissions (and the caller's versioning/keys) must exist before S3 accepts the rule.
            depends_on=[*depends_on, role_policy],
        ),
    )


def check_peer_bucket_name(kind: str, expected_by_primary: str | None, own_name: str) -> str:
    """A secondary's bucket must carry the name the primary derived for it (its CDN origin or release target)."""
    if expected_by_primary != own_name:
        raise ConfigError(
            f"the primary expects the secondary's {kind} bucket to be {expected_by_primary!r}, but this stack "
            f"would create {own_name!r}; make magento-dr:dns.shopHostname and magento-dr:peer.region agree "
            f"between the stacks, deploy the same AWS account, and run `pulumi up` on the primary first. "
            f"A further standby region (not the primary's peer) holds only the database: set magento-dr:scope database"
        )
    return own_name
