"""The shop's existing public hosted zone: looked up, or (outage mode) taken from config.

Looking the zone up calls Route 53's API, whose control plane is in us-east-1 whatever the
provider's region (components/outage.py). While that region is dark the lookup would fail every
preview of the surviving stack, so outage mode takes the id this stack last exported instead; out
of outage mode a configured id is checked against the lookup, so a wrong one cannot outlive the outage.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .config import ConfigError, StackSettings
from .outage import ROUTE53_CONTROL_PLANE_REGION


def lookup_needs_dark_region(settings: StackSettings) -> bool:
    """True when Route 53's API cannot answer (outage mode with its control-plane region dark)."""
    return ROUTE53_CONTROL_PLANE_REGION in settings.outage.unavailable_regions


def check_zone_id(configured: str, looked_up: str, zone_name: str) -> str:
    """The looked-up id, once a configured `dns.zoneId` (if any) agrees with it."""
    if configured and configured != looked_up:
        raise ConfigError(
            f"magento-dr:dns.zoneId is {configured}, but Route 53 says the public zone {zone_name} is {looked_up}; "
            f"set it to {looked_up} (pulumi stack output hostedZoneId) or remove it"
        )
    return looked_up


def hosted_zone_id(settings: StackSettings, provider: pulumi.ProviderResource) -> pulumi.Output[str]:
    """The zone id the shop's records go into."""
    if lookup_needs_dark_region(settings):
        # config.py refused outage mode without it, before any resource was declared.
        return pulumi.Output.from_input(settings.dns.zone_id)
    zone = aws.route53.get_zone_output(
        name=settings.dns.zone_name, private_zone=False, opts=pulumi.InvokeOutputOptions(provider=provider)
    )
    return zone.zone_id.apply(lambda looked_up: check_zone_id(settings.dns.zone_id, looked_up, settings.dns.zone_name))
