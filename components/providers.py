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


def regional_providers(settings: StackSettings) -> dict[str, aws.Provider]:
    """A provider for this stack's region, the peer's region and us-east-1 (deduplicated)."""
    providers: dict[str, aws.Provider] = {}
    for region in dict.fromkeys((settings.region, settings.peer.region, GLOBAL_SERVICES_REGION)):
        providers[region] = aws.Provider(
            f"aws-{region}",
            region=region,
            default_tags=aws.ProviderDefaultTagsArgs(
                tags=default_tags(stack=settings.stack, role=settings.role, region=region, extra=dict(settings.tags))
            ),
            opts=pulumi.ResourceOptions(),
        )
    return providers
