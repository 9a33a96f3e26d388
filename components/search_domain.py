"""SearchDomain: one region's OpenSearch domain for Magento's catalog search.

Region-local on purpose: an index is rebuilt from the database, so after a
failover the failover automation reindexes the catalog instead of replicating
indices across the ocean. VPC-only, encrypted at rest and node-to-node, HTTPS
only with a TLS 1.2+ forward-secrecy policy, spread across two or three AZs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from .data_tier import web_only_security_group
from .frontend_policies import search_access_policy
from .naming import physical_name

# https://docs.aws.amazon.com/opensearch-service/latest/APIReference/API_DomainEndpointOptions.html
SEARCH_TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
# The internal user Magento authenticates as (HTTP basic auth through fine-grained access control).
MAGENTO_SEARCH_USER = "magento"


def zone_count(instance_count: int, subnet_count: int) -> int:
    """How many AZs the domain spans: 3 when the data nodes divide evenly over 3 subnets, else 2; a single
    node (a pilot-light standby, components/posture.py) one, without zone awareness.

    OpenSearch requires an even number of data nodes across two zones and
    recommends multiples of three across three.
    https://docs.aws.amazon.com/opensearch-service/latest/developerguide/managedomains-multiaz.html
    """
    if instance_count == 1 and subnet_count >= 1:
        return 1
    if subnet_count < 2:
        raise ValueError("an OpenSearch domain with zone awareness needs subnets in at least two AZs")
    if instance_count >= 3 and instance_count % 3 == 0 and subnet_count >= 3:
        return 3
    if instance_count % 2 == 0:
        return 2
    raise ValueError(
        f"magento-dr:search.instanceCount {instance_count} cannot be spread evenly over 2 or 3 availability zones; "
        f"use an even number or a multiple of 3"
    )


@dataclass(frozen=True)
class SearchDomainArgs:
    stack: str
    region: str
    engine_version: str
    instance_type: str
    instance_count: int
    volume_size_gb: int
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    app_security_group_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    protect: bool = True

    def __post_init__(self) -> None:
        if not self.engine_version.startswith("OpenSearch_2."):
            raise ValueError(f"SearchDomainArgs.engine_version {self.engine_version!r}: Magento 2.4.7/2.4.8 support OpenSearch 2.x")
        zone_count(self.instance_count, len(self.subnet_ids))


class SearchDomain(pulumi.ComponentResource):
    """The region's OpenSearch domain, its security group and Magento's search credentials."""

    endpoint: pulumi.Output[str]
    """VPC endpoint host name (HTTPS on 443)."""
    domain_arn: pulumi.Output[str]
    """ARN of the domain."""
    credentials_secret_arn: pulumi.Output[str]
    """Secret holding {"username", "password"} of Magento's internal search user."""
    security_group_id: pulumi.Output[str]
    """The domain's security group (admits only the web instances)."""

    def __init__(self, name: str, args: SearchDomainArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:SearchDomain", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        zones = zone_count(args.instance_count, len(args.subnet_ids))
        domain_name = physical_name(args.stack, args.region, "search", max_length=28)  # OpenSearch caps names at 28

        sg = web_only_security_group(
            name,
            vpc_id=args.vpc_id,
            app_security_group_id=args.app_security_group_id,
            port=443,
            description="OpenSearch for Magento: HTTPS only from the web instances",
            rule_description="Magento catalog search",
            tag_name=f"{name}-search",
            opts=child,
        )

        # Fine-grained access control requires upper, lower, digit and special characters.
        password = random.RandomPassword(
            f"{name}-password", length=32, min_upper=2, min_lower=2, min_numeric=2, min_special=2, override_special="-_.+", opts=child
        )
        secret = aws.secretsmanager.Secret(
            f"{name}-credentials",
            name=f"{physical_name(args.stack, args.region, 'search')}/magento-user",
            description="Magento's OpenSearch user (fine-grained access control)",
            kms_key_id=args.kms_key_arn,
            recovery_window_in_days=7,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-credentials",
            secret_id=secret.id,
            # The password is a secret output, so the document derived from it stays secret too.
            secret_string=password.result.apply(lambda p: json.dumps({"username": MAGENTO_SEARCH_USER, "password": p})),
            opts=child,
        )

        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        domain_arn = caller.account_id.apply(lambda account: f"arn:aws:es:{args.region}:{account}:domain/{domain_name}")
        domain = aws.opensearch.Domain(
            f"{name}-domain",
            domain_name=domain_name,
            engine_version=args.engine_version,
            cluster_config=aws.opensearch.DomainClusterConfigArgs(
                instance_type=args.instance_type,
                instance_count=args.instance_count,
                # One node has nothing to spread; "Single-node clusters always initialize with a yellow cluster
                # status" (no node for the replicas): readiness expects it of a pilot light.
                # https://docs.aws.amazon.com/opensearch-service/latest/developerguide/handling-errors.html
                zone_awareness_enabled=zones > 1,
                zone_awareness_config=aws.opensearch.DomainClusterConfigZoneAwarenessConfigArgs(availability_zone_count=zones) if zones > 1 else None,
            ),
            vpc_options=aws.opensearch.DomainVpcOptionsArgs(
                subnet_ids=list(args.subnet_ids)[:zones],
                security_group_ids=[sg.id],
            ),
            ebs_options=aws.opensearch.DomainEbsOptionsArgs(ebs_enabled=True, volume_type="gp3", volume_size=args.volume_size_gb),
            encrypt_at_rest=aws.opensearch.DomainEncryptAtRestArgs(enabled=True, kms_key_id=args.kms_key_arn),
            node_to_node_encryption=aws.opensearch.DomainNodeToNodeEncryptionArgs(enabled=True),
            domain_endpoint_options=aws.opensearch.DomainDomainEndpointOptionsArgs(
                enforce_https=True, tls_security_policy=SEARCH_TLS_POLICY
            ),
            advanced_security_options=aws.opensearch.DomainAdvancedSecurityOptionsArgs(
                enabled=True,
                internal_user_database_enabled=True,
                master_user_options=aws.opensearch.DomainAdvancedSecurityOptionsMasterUserOptionsArgs(
                    master_user_name=MAGENTO_SEARCH_USER,
                    master_user_password=password.result,
                ),
            ),
            access_policies=domain_arn.apply(search_access_policy),
            # Indices are rebuilt from the database, but a reindex of a large catalog
            # takes long enough that an accidental delete is an outage.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )

        self.endpoint = domain.endpoint
        self.domain_arn = domain.arn
        self.credentials_secret_arn = secret.arn
        self.security_group_id = sg.id
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "domain_arn": self.domain_arn,
                "credentials_secret_arn": self.credentials_secret_arn,
                "security_group_id": self.security_group_id,
            }
        )
