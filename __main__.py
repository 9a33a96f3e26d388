"""magento-dr: one stack (primary or secondary) of a two-region Magento 2 shop on AWS.

Table of contents: settings → providers → peer stack → network → data tiers →
web tier → failover automation → exports. Every resource lives in a component.
"""

import pulumi

from components.config import ConfigError, load_settings
from components.network import RegionalNetwork, RegionalNetworkArgs
from components.notifications import Notifications, NotificationsArgs
from components.providers import regional_providers

settings = load_settings()  # raises ConfigError before any resource is declared
providers = regional_providers(settings)
local = pulumi.ResourceOptions(provider=providers[settings.region])

# The secondary reads the primary's exports; the primary reads nothing.
primary_stack: pulumi.StackReference | None = None
if not settings.is_primary:
    assert settings.primary_stack is not None
    primary_stack = pulumi.StackReference(settings.primary_stack)

    def _check_peer(values: list[object]) -> None:
        region, cidr = values
        if region != settings.peer.region or cidr != settings.peer.network_cidr:
            raise ConfigError(
                f"magento-dr:peer says the primary is {settings.peer.region} {settings.peer.network_cidr}, "
                f"but {settings.primary_stack} exports {region} {cidr}; make them agree"
            )

    pulumi.Output.all(primary_stack.get_output("region"), primary_stack.get_output("networkCidr")).apply(_check_peer)

network = RegionalNetwork(
    "network",
    RegionalNetworkArgs(
        cidr=settings.network.cidr,
        az_count=settings.network.az_count,
        nat_gateways=settings.network.nat_gateways,
        interface_endpoints=settings.network.interface_endpoints,
        flow_log_retention_days=settings.network.flow_log_retention_days,
        region=settings.region,
    ),
    opts=local,
)

notifications = Notifications(
    "notifications",
    NotificationsArgs(region=settings.region, emails=settings.failover.notification_emails),
    opts=local,
)

# >>> database (GlobalDatabase)
# <<< database

# >>> media (ReplicatedMediaBucket)
# <<< media

# >>> frontend (RegionalFrontend)
# <<< frontend

# >>> failover (FailoverAutomation)
# <<< failover

# ---------------------------------------------------------------- exports
# What the secondary stack and operators read (documented in README "Stack outputs").
pulumi.export("role", settings.role)
pulumi.export("region", settings.region)
pulumi.export("peerRegion", settings.peer.region)
pulumi.export("networkCidr", settings.network.cidr)
pulumi.export("vpcId", network.vpc_id)
pulumi.export("notificationTopicArn", notifications.topic_arn)
# >>> exports: database
# <<< exports: database
# >>> exports: media
# <<< exports: media
# >>> exports: frontend
# <<< exports: frontend
# >>> exports: failover
# <<< exports: failover
