"""GlobalFrontDoor: the shop's accelerator and its TCP listener (80, 443), owned by the primary stack.

Two static anycast addresses at AWS's edge in front of both regions' ALBs; which ALB a shopper
reaches follows the ALBs' health, which the writer gates tie to the Aurora writer
(components/writer_gate.py, one per region, each joining this listener with its own endpoint
group). The primary owns the accelerator for the reason it owns the global database: it runs first,
so the secondary can join what already exists (docs/front-door.md, "Ownership"). Optional flow logs
go to an encrypted, private, TLS-only bucket in the primary's region.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from . import front_door as fd
from .naming import physical_name


@dataclass(frozen=True)
class GlobalFrontDoorArgs:
    stack: str
    region: str
    flow_logs: bool = False
    protect: bool = True


class GlobalFrontDoor(pulumi.ComponentResource):
    """The accelerator, its listener and (optionally) its flow-log bucket."""

    accelerator_arn: pulumi.Output[str]
    """The accelerator (its API lives in us-west-2; nothing on the failover path calls it)."""
    listener_arn: pulumi.Output[str]
    """The TCP listener each region's endpoint group joins."""
    dns_name: pulumi.Output[str]
    """The accelerator's DNS name: the shop's Route 53 records alias it."""
    hosted_zone_id: str
    """Route 53 alias zone of every accelerator."""
    ip_addresses: pulumi.Output[list[str]]
    """The two static IPv4 addresses (for customers' allow-lists)."""

    def __init__(self, name: str, args: GlobalFrontDoorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:GlobalFrontDoor", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        attributes = None
        depends_on: list[pulumi.Resource] = []
        if args.flow_logs:
            bucket, policy = self._flow_log_bucket(name, args)
            attributes = aws.globalaccelerator.AcceleratorAttributesArgs(
                flow_logs_enabled=True, flow_logs_s3_bucket=bucket.bucket, flow_logs_s3_prefix=fd.FLOW_LOG_PREFIX
            )
            # "The bucket must exist and have a bucket policy that grants AWS Global Accelerator permission
            # to write to the bucket" (API_AcceleratorAttributes).
            depends_on.append(policy)
        accelerator = aws.globalaccelerator.Accelerator(
            f"{name}-accelerator",
            name=fd.accelerator_name(args.stack),
            ip_address_type="IPV4",  # the ALBs are IPv4-only
            enabled=True,
            attributes=attributes,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )
        listener = aws.globalaccelerator.Listener(
            f"{name}-listener",
            accelerator_arn=accelerator.arn,
            protocol=fd.LISTENER_PROTOCOL,
            client_affinity=fd.CLIENT_AFFINITY,
            port_ranges=[aws.globalaccelerator.ListenerPortRangeArgs(from_port=p, to_port=p) for p in fd.SHOP_PORTS],
            opts=child,
        )

        self.accelerator_arn = accelerator.arn
        self.listener_arn = listener.arn
        self.dns_name = accelerator.dns_name
        self.hosted_zone_id = fd.HOSTED_ZONE_ID
        self.ip_addresses = accelerator.ip_sets.apply(lambda sets: [ip for s in sets or [] for ip in (s.ip_addresses or [])])
        self.register_outputs({"accelerator_arn": self.accelerator_arn, "listener_arn": self.listener_arn, "dns_name": self.dns_name})

    def _flow_log_bucket(self, name: str, args: GlobalFrontDoorArgs) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
        """Private, SSE-S3 (log delivery writes here as ALB access logs do), TLS-only, expiring, protected."""
        child = pulumi.ResourceOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        bucket = aws.s3.Bucket(
            f"{name}-flow-logs",
            bucket=caller.account_id.apply(lambda account: physical_name(args.stack, args.region, f"accelerator-logs-{account}")),
            force_destroy=False,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-flow-logs",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-flow-logs",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-flow-logs",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-flow-logs",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-flow-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=fd.FLOW_LOG_RETENTION_DAYS),
                )
            ],
            opts=child,
        )
        policy = aws.s3.BucketPolicy(
            f"{name}-flow-logs",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, caller.account_id).apply(lambda v: json.dumps(fd.flow_log_bucket_policy(v[0], v[1]))),
            opts=child,
        )
        return bucket, policy
