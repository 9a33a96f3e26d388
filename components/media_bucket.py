"""ReplicatedMediaBucket: Magento's `pub/media` in one S3 bucket per region, replicated both ways,
served by one CloudFront distribution that fails over from the primary's bucket to the secondary's.

Ownership (see docs/media.md): each stack owns its own bucket, key, bucket policy and alarms;
the primary owns the distribution (it runs first and CloudFront is global); the secondary owns
both replication configurations and both replication roles, because only when it runs do both
buckets exist. Bucket names are derived from config alone, so the primary can point CloudFront at
the secondary's bucket before that bucket exists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .config import Role
from .kms import key_policy
from .secure_bucket import (  # shared with the release artifact buckets; re-exported for callers of this module
    BUCKET_NAME_MAX,
    INCOMPLETE_UPLOAD_DAYS,
    OBJECT_OWNERSHIP,
    RTC_THRESHOLD_MINUTES,
    bucket_arn,
    check_peer_bucket_name,
    declare_kms_encryption,
    declare_private_versioned_bucket,
    declare_replication,
    deny_insecure_transport_statement,
    regional_bucket_name,
    replication_role_policy,
    replication_trust_policy,
)

__all__ = [
    "BUCKET_NAME_MAX",
    "INCOMPLETE_UPLOAD_DAYS",
    "OBJECT_OWNERSHIP",
    "RTC_THRESHOLD_MINUTES",
    "bucket_arn",
    "replication_role_policy",
    "replication_trust_policy",
]

# ----------------------------------------------------------------------- AWS-defined constants
# S3 Replication Time Control (RTC_THRESHOLD_MINUTES, 15): see components/secure_bucket.py.

# Replication metrics in the AWS/S3 namespace, per rule (dimensions SourceBucket,
# DestinationBucket, RuleId). OperationsFailedReplication is published in the *source*
# bucket's region, ReplicationLatency (and the pending metrics) in the *destination* bucket's
# region — so each stack alarms on failures of what it sends and on lateness of what it receives,
# and every alarm sits in its own bucket's region.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html
METRIC_NAMESPACE = "AWS/S3"
FAILED_METRIC = "OperationsFailedReplication"
LATENCY_METRIC = "ReplicationLatency"  # seconds the destination is behind the source

# Status codes CloudFront accepts as origin-group failover criteria (connection failures and
# timeouts always fail over).
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html
CLOUDFRONT_FAILOVER_CODES_ALLOWED = frozenset({400, 403, 404, 416, 500, 502, 503, 504})
# 5xx: the primary's S3 is unhealthy. 403/404: the object is not (yet) in the primary's bucket.
# Without s3:ListBucket (which we do not grant: it would let the CDN list the bucket) S3 answers a
# missing key with 403. That happens for up to the RTC window after a failover, when Magento runs
# in the secondary and new uploads land in the secondary's bucket first; falling back serves them.
MEDIA_FAILOVER_STATUS_CODES = (403, 404, 500, 502, 503, 504)

# With the default *.cloudfront.net certificate CloudFront forces the TLSv1 security policy,
# whatever is requested; a modern policy needs our own certificate (hence media.<shop hostname>).
# https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/secure-connections-supported-viewer-protocols-ciphers.html
VIEWER_SECURITY_POLICY = "TLSv1.2_2021"

# AWS-managed cache policy for static content, CachingOptimized (gzip + brotli cache keys, 1 day
# default TTL), by the id AWS documents for it ("When using CloudFormation, the AWS CLI, or the
# CloudFront API, the ID for this policy is: ..."). Looking it up by name would call CloudFront's
# API, whose control plane is in us-east-1, at every preview: a primary in another region could
# then not be previewed while us-east-1 is dark (components/outage.py).
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html
CACHE_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"

# The hosted zone id AWS uses for every CloudFront alias target.
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"

# Magento's aws-s3 remote-storage driver (Magento\AwsS3\Driver\AwsS3, 2.4.7 and 2.4.8) sends
# `x-amz-acl: private` on every PutObject, CopyObject and CreateMultipartUpload, from a private
# constant no env.php setting reaches (docs/media.md "What Magento sends"). Whether a bucket with
# ACLs disabled (BucketOwnerEnforced) accepts that is unverified: the troubleshooting page says PUTs
# "must either specify the bucket-owner-full-control canned ACL or not specify an ACL", the API
# reference also admits an ACL "that grants the same permissions". With ACLs enabled and the bucket
# owner preferred, `private` is an ordinary canned ACL, and every writer here is in the bucket
# owner's account, so the bucket owner owns every object either way. CloudFront's OAC page names
# this setting for exactly this case: "If you require ACLs, use the Bucket owner preferred setting".
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html
MEDIA_OBJECT_OWNERSHIP = "BucketOwnerPreferred"
# With ACLs enabled the bucket policy keeps them meaningless: the only canned ACLs a write may carry
# (both leave the object private to the bucket owner), and no grant headers. Block Public Access
# already refuses public ACLs; these also refuse grants to another account.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl
PRIVATE_CANNED_ACLS = ("private", "bucket-owner-full-control")
# S3 condition keys for grant headers on PutObject/PutObjectAcl (Service Authorization Reference, Amazon S3).
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
ACL_GRANT_CONDITION_KEYS = (
    "s3:x-amz-grant-full-control",
    "s3:x-amz-grant-read",
    "s3:x-amz-grant-read-acp",
    "s3:x-amz-grant-write",
    "s3:x-amz-grant-write-acp",
)


# ------------------------------------------------------------------------------ pure helpers
def media_bucket_name(shop_hostname: str, account_id: str, region: str) -> str:
    """The media bucket's name in `region`, computable by either stack from config alone
    (secure_bucket.regional_bucket_name: account id, region and a hash of the shop hostname)."""
    return regional_bucket_name("media", shop_hostname, account_id, region)


def regional_domain_name(bucket_name: str, region: str) -> str:
    """The bucket's regional S3 endpoint, the form CloudFront OAC origins need."""
    return f"{bucket_name}.s3.{region}.amazonaws.com"


def replication_rule_id(destination_region: str) -> str:
    """The rule id of the replication rule writing into `destination_region` (a metric dimension)."""
    return f"media-to-{destination_region}"


def media_url(hostname: str) -> str:
    """The base URL media is served from (Magento's base media URL is this plus `media/`)."""
    return f"https://{hostname}/"


def media_bucket_policy(bucket: str, distribution_arn: str) -> str:
    """Deny anything without TLS and any ACL that is not private; let only our distribution
    (through OAC) read objects."""
    arn = bucket_arn(bucket)
    objects = f"{arn}/*"
    acl_guards: list[dict[str, Any]] = [
        # A write that names an ACL names a private one (Magento sends `private`).
        {
            "Sid": "DenyWritesWithAnAclThatIsNotPrivate",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {"Null": {"s3:x-amz-acl": "false"}, "StringNotEquals": {"s3:x-amz-acl": list(PRIVATE_CANNED_ACLS)}},
        },
        # An ACL change (PutObjectAcl, or the ACL part of a PutObject) must be a private canned ACL:
        # without the header (an XML grant list) the key is absent and StringNotEquals holds.
        {
            "Sid": "DenyAclChangesThatAreNotPrivate",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:PutObjectAcl", "s3:PutObjectVersionAcl"],
            "Resource": objects,
            "Condition": {"StringNotEquals": {"s3:x-amz-acl": list(PRIVATE_CANNED_ACLS)}},
        },
    ]
    acl_guards += [
        {
            "Sid": f"DenyGrantHeader{i}",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectVersionAcl"],
            "Resource": objects,
            "Condition": {"Null": {key: "false"}},
        }
        for i, key in enumerate(ACL_GRANT_CONDITION_KEYS, start=1)
    ]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                deny_insecure_transport_statement(bucket),
                *acl_guards,
                {
                    "Sid": "CloudFrontReadsThroughOAC",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": "s3:GetObject",
                    "Resource": objects,
                    "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
                },
            ],
        }
    )


def cloudfront_decrypt_statement(distribution_arn: str) -> dict[str, Any]:
    """Key-policy statement: our distribution may decrypt (only) what it reads through OAC.

    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html#oac-permission-to-access-s3
    """
    return {
        "Sid": "CloudFrontDecryptsMediaThroughOAC",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "kms:Decrypt",
        "Resource": "*",  # in a key policy "*" means this key
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


def magento_media_statements(media_bucket_arn: str, key_arn: str, region: str) -> list[dict[str, Any]]:
    """IAM statements Magento's aws-s3 remote-storage driver needs on its region's bucket (the web role's).

    From the requests the driver really sends (docs/media.md "What Magento sends"):
    - ListObjects/ListObjectsV2 (directory reads, deleteDirectory): s3:ListBucket. It also turns a
      missing key's HeadObject into 404 instead of 403, which the driver's existence checks rely on.
    - GetObject, HeadObject (reads, existence, metadata), the source of a CopyObject: s3:GetObject.
    - PutObject, CopyObject, multipart uploads: s3:PutObject, and s3:PutObjectAcl because each carries
      `x-amz-acl: private` (PutObject API reference: "To successfully change the objects ACL of your
      PutObject request, you must have the s3:PutObjectAcl").
    - DeleteObject, DeleteObjects (rename, deleteFile, deleteDirectory): s3:DeleteObject.
    - SSE-KMS: kms:GenerateDataKey to write, kms:Decrypt to read or copy, only through S3.
    Not needed: s3:GetObjectAcl (flysystem skips it when the driver passes a visibility).
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
    """
    return [
        {"Sid": "ListMediaBucket", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": media_bucket_arn},
        {
            "Sid": "ReadWriteMediaObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:PutObjectAcl", "s3:DeleteObject"],
            "Resource": f"{media_bucket_arn}/*",
        },
        {
            "Sid": "MediaKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        },
    ]


# ----------------------------------------------------------------------------------- args
@dataclass(frozen=True)
class PrimaryMedia:
    """What the secondary reads from the primary's exports (mediaBucketName, … mediaUrl)."""

    bucket_name: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    distribution_arn: pulumi.Input[str]
    media_url: pulumi.Input[str]
    expected_peer_bucket_name: pulumi.Input[str]
    """The name the primary's distribution uses for the secondary's bucket (checked)."""


@dataclass(frozen=True)
class ReplicatedMediaBucketArgs:
    """What the media tier needs; `role` decides which half of the pair this stack declares."""

    role: Role
    region: str
    peer_region: str
    shop_hostname: str
    noncurrent_version_days: int
    alarm_topic_arn: pulumi.Input[str]
    """Where replication alarms go (the region's Notifications topic)."""
    protect: bool = True
    # primary only
    media_hostname: str | None = None
    hosted_zone_id: pulumi.Input[str] | None = None
    edge_provider: pulumi.ProviderResource | None = None
    """us-east-1 provider: CloudFront only accepts ACM certificates from there."""
    # secondary only
    peer_provider: pulumi.ProviderResource | None = None
    """The primary region's provider, for the replication rule on the primary's bucket."""
    primary: PrimaryMedia | None = None

    def __post_init__(self) -> None:
        if self.role not in ("primary", "secondary"):
            raise ValueError(f"ReplicatedMediaBucketArgs.role must be primary or secondary, got {self.role!r}")
        if self.region == self.peer_region:
            raise ValueError("ReplicatedMediaBucketArgs: region and peer_region must differ for cross-region replication")
        if not 1 <= self.noncurrent_version_days <= 3650:
            raise ValueError(
                f"ReplicatedMediaBucketArgs.noncurrent_version_days is {self.noncurrent_version_days}; "
                f"use 1 to 3650 (magento-dr:media.noncurrentVersionDays)"
            )
        if self.role == "primary":
            missing = [n for n in ("media_hostname", "hosted_zone_id", "edge_provider") if getattr(self, n) is None]
            if missing:
                raise ValueError(f"ReplicatedMediaBucketArgs: the primary owns the CDN and needs {', '.join(missing)}")
            if self.primary is not None or self.peer_provider is not None:
                raise ValueError(
                    "ReplicatedMediaBucketArgs: primary/peer_provider are for the secondary, which owns replication; "
                    "leave them unset on the primary"
                )
        else:
            if self.primary is None or self.peer_provider is None:
                raise ValueError(
                    "ReplicatedMediaBucketArgs: the secondary needs primary (the primary's media exports) and "
                    "peer_provider (to declare the replication rule on the primary's bucket)"
                )


# ------------------------------------------------------------------------------ component
class ReplicatedMediaBucket(pulumi.ComponentResource):
    """This region's media bucket and key, plus this stack's share of replication, CDN and alarms."""

    bucket_name: pulumi.Output[str]
    """The region-local bucket (Magento --remote-storage-bucket)."""
    bucket_arn: pulumi.Output[str]
    """ARN of the region-local bucket."""
    bucket_region: str
    """The bucket's region (Magento --remote-storage-region)."""
    kms_key_arn: pulumi.Output[str]
    """The customer key that encrypts the region-local bucket."""
    media_url: pulumi.Output[str]
    """https://<media hostname>/ — the CDN both regions serve media from."""
    distribution_id: pulumi.Output[str] | None
    """The CloudFront distribution's id (primary only; None on the secondary)."""
    distribution_arn: pulumi.Output[str] | None
    """The CloudFront distribution's ARN (primary only)."""
    distribution_domain_name: pulumi.Output[str] | None
    """The distribution's *.cloudfront.net name (primary only)."""
    peer_bucket_name: pulumi.Output[str]
    """The peer region's media bucket name, as this stack computes it."""
    alarm_arns: list[pulumi.Output[str]]
    """Replication alarms in this region (failed sends, late arrivals)."""

    def __init__(self, name: str, args: ReplicatedMediaBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:ReplicatedMediaBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        account = caller.account_id

        own_name = account.apply(lambda a: media_bucket_name(args.shop_hostname, a, args.region))
        self.peer_bucket_name = account.apply(lambda a: media_bucket_name(args.shop_hostname, a, args.peer_region))
        self.bucket_region = args.region

        distribution: aws.cloudfront.Distribution | None = None
        primary_media_url: pulumi.Output[str] | None = None
        if args.role == "primary":
            bucket_name_input: pulumi.Input[str] = own_name
        else:
            assert args.primary is not None
            # Refuse to create a bucket the primary's CloudFront origin would not find.
            bucket_name_input = pulumi.Output.all(args.primary.expected_peer_bucket_name, own_name).apply(
                lambda v: check_peer_bucket_name("media", v[0], v[1])
            )

        bucket, versioning = declare_private_versioned_bucket(
            self,
            name,
            bucket_name_input,
            noncurrent_version_days=args.noncurrent_version_days,
            protect=args.protect,
            object_ownership=MEDIA_OBJECT_OWNERSHIP,
        )
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn

        # The distribution's ARN is in both the key policy and the bucket policy; the primary
        # creates the distribution here, the secondary reads it from the primary's exports.
        if args.role == "primary":
            assert args.media_hostname is not None and args.hosted_zone_id is not None
            distribution, primary_media_url = self._distribution(name, args, bucket, child)
            distribution_arn: pulumi.Input[str] = distribution.arn
        else:
            assert args.primary is not None
            distribution_arn = args.primary.distribution_arn

        key = aws.kms.Key(
            f"{name}-key",
            description=f"{name}: Magento media in {args.region}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=pulumi.Output.all(account, distribution_arn).apply(
                lambda v: key_policy(v[0], [cloudfront_decrypt_statement(v[1])])
            ),
            opts=stateful,
        )
        aws.kms.Alias(f"{name}-key-alias", name=own_name.apply(lambda n: f"alias/{n}"), target_key_id=key.key_id, opts=child)
        self.kms_key_arn = key.arn

        encryption = declare_kms_encryption(self, name, bucket, key.arn)
        policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.bucket, distribution_arn).apply(lambda v: media_bucket_policy(v[0], v[1])),
            opts=child,
        )

        if args.role == "primary":
            assert distribution is not None
            self.distribution_id = distribution.id
            self.distribution_arn = distribution.arn
            self.distribution_domain_name = distribution.domain_name
            assert primary_media_url is not None
            self.media_url = primary_media_url
        else:
            assert args.primary is not None
            self.distribution_id = None
            self.distribution_arn = None
            self.distribution_domain_name = None
            self.media_url = pulumi.Output.from_input(args.primary.media_url)
            self._replication(name, args, account, bucket, key, [versioning, encryption, policy])

        self.alarm_arns = self._alarms(name, args, bucket, child)

        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "bucket_region": self.bucket_region,
                "kms_key_arn": self.kms_key_arn,
                "media_url": self.media_url,
                "distribution_id": self.distribution_id,
                "peer_bucket_name": self.peer_bucket_name,
            }
        )

    # ------------------------------------------------------------------ primary: the CDN
    def _distribution(
        self, name: str, args: ReplicatedMediaBucketArgs, bucket: aws.s3.Bucket, child: pulumi.ResourceOptions
    ) -> tuple[aws.cloudfront.Distribution, pulumi.Output[str]]:
        """Certificate, OAC, distribution with the failover origin group, and the media hostname's records."""
        assert args.media_hostname is not None and args.hosted_zone_id is not None and args.edge_provider is not None
        edge = pulumi.ResourceOptions(parent=self, provider=args.edge_provider)
        zone_id = args.hosted_zone_id

        certificate = aws.acm.Certificate(
            f"{name}-edge-cert", domain_name=args.media_hostname, validation_method="DNS", opts=edge
        )
        validation_record = aws.route53.Record(
            f"{name}-cert-validation",
            zone_id=zone_id,
            name=certificate.domain_validation_options[0].resource_record_name,
            type=certificate.domain_validation_options[0].resource_record_type,
            records=[certificate.domain_validation_options[0].resource_record_value],
            ttl=300,
            allow_overwrite=True,  # a re-issued certificate reuses the same validation name
            opts=child,
        )
        validated = aws.acm.CertificateValidation(
            f"{name}-edge-cert-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[validation_record.fqdn],
            opts=edge,
        )

        oac = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            description="Magento media buckets: CloudFront signs every origin request (SigV4)",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        own_origin, peer_origin, group_id = f"media-{args.region}", f"media-{args.peer_region}", "media-failover"
        peer_domain = self.peer_bucket_name.apply(lambda b: regional_domain_name(b, args.peer_region))

        def origin(origin_id: str, domain: pulumi.Input[str]) -> aws.cloudfront.DistributionOriginArgs:
            return aws.cloudfront.DistributionOriginArgs(
                origin_id=origin_id,
                domain_name=domain,
                origin_access_control_id=oac.id,
                # OAC, not a legacy OAI: the S3 origin config carries an empty identity.
                s3_origin_config=aws.cloudfront.DistributionOriginS3OriginConfigArgs(origin_access_identity=""),
            )

        distribution = aws.cloudfront.Distribution(
            f"{name}-cdn",
            comment=f"Magento media ({args.region} first, {args.peer_region} on failure)",
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            aliases=[args.media_hostname],
            origins=[origin(own_origin, bucket.bucket_regional_domain_name), origin(peer_origin, peer_domain)],
            origin_groups=[
                aws.cloudfront.DistributionOriginGroupArgs(
                    origin_id=group_id,
                    failover_criteria=aws.cloudfront.DistributionOriginGroupFailoverCriteriaArgs(
                        status_codes=list(MEDIA_FAILOVER_STATUS_CODES)
                    ),
                    members=[
                        aws.cloudfront.DistributionOriginGroupMemberArgs(origin_id=own_origin),
                        aws.cloudfront.DistributionOriginGroupMemberArgs(origin_id=peer_origin),
                    ],
                )
            ],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=group_id,
                viewer_protocol_policy="redirect-to-https",
                # Origin groups only fail over GET, HEAD and OPTIONS; media needs nothing else.
                allowed_methods=["GET", "HEAD", "OPTIONS"],
                cached_methods=["GET", "HEAD"],
                cache_policy_id=CACHE_POLICY_ID,
                compress=True,
            ),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")
            ),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=validated.certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version=VIEWER_SECURITY_POLICY,
            ),
            opts=child,
        )

        alias_records = [
            aws.route53.Record(
                f"{name}-alias-{record_type.lower()}",
                zone_id=zone_id,
                name=args.media_hostname,
                type=record_type,
                aliases=[
                    aws.route53.RecordAliasArgs(
                        name=distribution.domain_name, zone_id=CLOUDFRONT_ZONE_ID, evaluate_target_health=False
                    )
                ],
                opts=child,
            )
            for record_type in ("A", "AAAA")
        ]
        # The URL is only handed out once the name resolves to the distribution.
        url = pulumi.Output.all(*[r.name for r in alias_records]).apply(lambda _: media_url(args.media_hostname or ""))
        return distribution, url

    # ------------------------------------------------------------ secondary: replication
    def _replication(
        self,
        name: str,
        args: ReplicatedMediaBucketArgs,
        account: pulumi.Output[str],
        bucket: aws.s3.Bucket,
        key: aws.kms.Key,
        local_ready: Sequence[pulumi.Resource],
    ) -> None:
        assert args.primary is not None and args.peer_provider is not None
        primary = args.primary
        primary_bucket = pulumi.Output.from_input(primary.bucket_name)
        primary_key = pulumi.Output.from_input(primary.key_arn)

        # (direction name, source bucket/key/region, destination bucket/key/region, provider of the source)
        directions = [
            ("to-secondary", primary_bucket, primary_key, args.peer_region, bucket.bucket, key.arn, args.region),
            ("to-primary", bucket.bucket, key.arn, args.region, primary_bucket, primary_key, args.peer_region),
        ]
        for direction, src, src_key, src_region, dst, dst_key, dst_region in directions:
            # The rule on the primary's bucket is declared here, through the primary region's
            # provider: only this stack runs when both buckets exist, and a bucket has exactly
            # one replication configuration, so exactly one stack may own each.
            on_primary_bucket = direction == "to-secondary"
            declare_replication(
                self,
                role_name=f"{name}-replication-{direction}",
                config_name=f"{name}-peer-replication" if on_primary_bucket else f"{name}-replication",
                description=f"S3 replication of Magento media {src_region} -> {dst_region}",
                account_id=account,
                source_bucket=src,
                source_key_arn=src_key,
                source_region=src_region,
                destination_bucket=dst,
                destination_key_arn=dst_key,
                destination_region=dst_region,
                rule_id=replication_rule_id(dst_region),
                # Metadata/tag changes made to a replica flow back: the two buckets stay one set.
                replica_modifications=True,
                provider=args.peer_provider if on_primary_bucket else None,
                # Versioning on both ends and the destination's key must exist before S3 accepts the rule.
                depends_on=local_ready,
            )

    # ------------------------------------------------------------------------- alarms
    def _alarms(
        self, name: str, args: ReplicatedMediaBucketArgs, bucket: aws.s3.Bucket, child: pulumi.ResourceOptions
    ) -> list[pulumi.Output[str]]:
        # Each metric is published in one region only; each stack alarms on the two that land in its own.
        failed = aws.cloudwatch.MetricAlarm(
            f"{name}-replication-failed",
            alarm_description=(
                f"Media objects failed to replicate {args.region} -> {args.peer_region}; "
                f"the standby's media is incomplete. Check the replication role and keys."
            ),
            namespace=METRIC_NAMESPACE,
            metric_name=FAILED_METRIC,
            dimensions={
                "SourceBucket": bucket.bucket,
                "DestinationBucket": self.peer_bucket_name,
                "RuleId": replication_rule_id(args.peer_region),
            },
            statistic="Sum",
            period=60,
            evaluation_periods=1,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[args.alarm_topic_arn],
            ok_actions=[args.alarm_topic_arn],
            opts=child,
        )
        late = aws.cloudwatch.MetricAlarm(
            f"{name}-replication-late",
            alarm_description=(
                f"Media replicating {args.peer_region} -> {args.region} is more than "
                f"{RTC_THRESHOLD_MINUTES} minutes behind (missed the S3 RTC threshold)."
            ),
            namespace=METRIC_NAMESPACE,
            metric_name=LATENCY_METRIC,
            dimensions={
                "SourceBucket": self.peer_bucket_name,
                "DestinationBucket": bucket.bucket,
                "RuleId": replication_rule_id(args.region),
            },
            statistic="Maximum",
            period=60,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            threshold=RTC_THRESHOLD_MINUTES * 60,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[args.alarm_topic_arn],
            ok_actions=[args.alarm_topic_arn],
            opts=child,
        )
        return [failed.arn, late.arn]
