"""The stack's explicit AWS providers, one per region it touches.

The project disables the default AWS provider (Pulumi.yaml), so a resource that
forgets `provider=` fails instead of landing in whatever region the shell had.
Components never create providers; the stack program passes these in.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .config import StackSettings
from .naming import default_tags

# CloudFront certificates and Route 53 health-check metrics are us-east-1 things.
# Nothing on the failover path uses this provider (see README: "Ownership").
GLOBAL_SERVICES_REGION = "us-east-1"

# What a provider for *another* region skips when it is configured, so that configuring it reaches
# no region at all: a dark region must not fail the surviving stack's preview or update (RUNBOOK
# "Changing infrastructure during an outage"). Whether a targeted update configures providers no
# target uses is not documented (docs/aws-assumptions.md O2); with these skips it does not matter.
# The skips must be in the stack's state before the outage: a normal `pulumi up` records them (a
# provider update, never a replacement: only `region` replaces, pulumi-aws#4000). terraform-provider-aws
# website/docs/index.html.markdown and hashicorp/aws-sdk-go-base aws_config.go:
# - skip_credentials_validation: no STS GetCallerIdentity in that provider's region at configure
#   ("validating provider credentials" fails the whole update otherwise). Costs nothing here:
#   every provider uses the same credentials, and the stack's own provider still validates them.
# - skip_requesting_account_id: with validation skipped, the provider would otherwise look its
#   account up through iam:GetUser, sts:GetCallerIdentity, iam:ListRoles (IAM's API is in
#   us-east-1) and fail on error. Cost: "returns an empty account ID when manually constructing
#   ARN attributes" for the resource types the docs list; none is declared through these providers,
#   which tests/test_outage_operations.py holds (ACCOUNT_ID_ARN_TYPES).
# - skip_region_validation: the region name is checked offline (config.py); pulumi-aws defaults it
#   to true already, stated so a default change upstream cannot turn it back on.
# skip_metadata_api_check is left alone: it concerns the EC2 instance metadata service on the machine
# running Pulumi (link-local, no region), not AWS's regional endpoints.
OTHER_REGION_PROVIDER_SKIPS = ("skipCredentialsValidation", "skipRequestingAccountId", "skipRegionValidation")


def stack_default_tags(settings: StackSettings, region: str) -> dict[str, str]:
    """The tags the stack's provider for `region` stamps on every resource it declares."""
    return default_tags(stack=settings.stack, role=settings.role, region=region, extra=dict(settings.tags))


def regional_providers(settings: StackSettings) -> dict[str, aws.Provider]:
    """A provider for this stack's region, the peer's region and us-east-1 (deduplicated).

    Only the stack's own provider talks to AWS when it is configured (OTHER_REGION_PROVIDER_SKIPS).
    """
    providers: dict[str, aws.Provider] = {}
    for region in dict.fromkeys((settings.region, settings.peer.region, GLOBAL_SERVICES_REGION)):
        other_region = region != settings.region
        providers[region] = aws.Provider(
            f"aws-{region}",
            region=region,
            default_tags=aws.ProviderDefaultTagsArgs(tags=stack_default_tags(settings, region)),
            # OTHER_REGION_PROVIDER_SKIPS; None keeps pulumi-aws's defaults for the stack's own provider.
            skip_credentials_validation=True if other_region else None,
            skip_requesting_account_id=True if other_region else None,
            skip_region_validation=True,
            opts=pulumi.ResourceOptions(),
        )
    return providers
