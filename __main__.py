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
from components.global_database import GlobalDatabase, check_matches_primary, database_args  # noqa: E402

database = GlobalDatabase(
    "database",
    database_args(
        settings,
        vpc_id=network.vpc_id,
        subnet_ids=network.data_subnet_ids,
        availability_zones=network.availability_zones,
        client_security_group_ids=[network.app_security_group_id],
        providers=providers,
        primary_stack=primary_stack,
        alarm_topic_arn=notifications.topic_arn,
    ),
    opts=local,
)
if primary_stack is not None:
    primary_stack.get_output("dbParameterDigest").apply(
        lambda digest: check_matches_primary(database.parameter_digest, digest, str(settings.primary_stack))
    )
# <<< database

# >>> media (ReplicatedMediaBucket)
import pulumi_aws as aws  # noqa: E402

from components.media_bucket import PrimaryMedia, ReplicatedMediaBucket, ReplicatedMediaBucketArgs  # noqa: E402
from components.providers import GLOBAL_SERVICES_REGION  # noqa: E402

# The primary owns the CDN (and the media hostname's records); the secondary owns both
# replication rules. See docs/media.md "Ownership".
media_zone = (
    aws.route53.get_zone_output(
        name=settings.dns.zone_name, private_zone=False, opts=pulumi.InvokeOutputOptions(provider=providers[settings.region])
    )
    if settings.is_primary
    else None
)
media = ReplicatedMediaBucket(
    "media",
    ReplicatedMediaBucketArgs(
        role=settings.role,
        region=settings.region,
        peer_region=settings.peer.region,
        shop_hostname=settings.dns.shop_hostname,
        noncurrent_version_days=settings.media.noncurrent_version_days,
        alarm_topic_arn=notifications.topic_arn,
        protect=settings.protect,
        media_hostname=settings.media.hostname if settings.is_primary else None,
        hosted_zone_id=media_zone.zone_id if media_zone is not None else None,
        edge_provider=providers[GLOBAL_SERVICES_REGION] if settings.is_primary else None,
        peer_provider=None if settings.is_primary else providers[settings.peer.region],
        primary=None
        if primary_stack is None
        else PrimaryMedia(
            bucket_name=primary_stack.require_output("mediaBucketName"),
            key_arn=primary_stack.require_output("mediaKeyArn"),
            distribution_arn=primary_stack.require_output("mediaDistributionArn"),
            media_url=primary_stack.require_output("mediaUrl"),
            expected_peer_bucket_name=primary_stack.require_output("mediaPeerBucketName"),
        ),
    ),
    opts=local,
)
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
pulumi.export("globalClusterId", database.global_cluster_id)
pulumi.export("globalWriterEndpoint", database.writer_endpoint)
pulumi.export("dbClusterId", database.cluster_id)
pulumi.export("dbClusterArn", database.cluster_arn)
pulumi.export("dbReaderEndpoint", database.reader_endpoint)
pulumi.export("dbPort", database.port)
pulumi.export("dbSecretArn", database.credentials_secret_arn)
pulumi.export("dbSecretKmsKeyArn", database.credentials_secret_kms_key_arn)
pulumi.export("dbKmsKeyArn", database.kms_key_arn)
pulumi.export("dbSecurityGroupId", database.security_group_id)
pulumi.export("dbEngineVersion", database.engine_version)
pulumi.export("dbParameterDigest", database.parameter_digest)
if settings.is_primary:
    pulumi.export("dbCredentialsReplicas", database.credentials_replicas)
# <<< exports: database
# >>> exports: media
# Magento: --remote-storage-driver=aws-s3 --remote-storage-bucket=<mediaBucketName>
# --remote-storage-region=<mediaBucketRegion>; base media URL = <mediaUrl>media/ (docs/media.md).
pulumi.export("mediaBucketName", media.bucket_name)
pulumi.export("mediaBucketArn", media.bucket_arn)
pulumi.export("mediaBucketRegion", media.bucket_region)
pulumi.export("mediaKeyArn", media.kms_key_arn)
pulumi.export("mediaUrl", media.media_url)
pulumi.export("mediaPeerBucketName", media.peer_bucket_name)
if media.distribution_id is not None:
    pulumi.export("mediaDistributionId", media.distribution_id)
    pulumi.export("mediaDistributionArn", media.distribution_arn)
    pulumi.export("mediaDistributionDomainName", media.distribution_domain_name)
# <<< exports: media
# >>> exports: frontend
# <<< exports: frontend
# >>> exports: failover
# <<< exports: failover
