"""magento-dr: one stack of a Magento 2 shop on AWS that survives the loss of a region.

Stacks: the primary, its paired standby (role secondary), and optionally further database
standbys (role secondary, scope database) that hold only a copy of the global database.

Table of contents: settings → providers → primary stack → network → notifications → database →
(shop stacks only) media → (optional) accelerator → web tier and front door → (optional) writer gate →
release → failover automation → (secondary, optional) ARC Region switch plan; exports beside each tier.
Every resource lives in a component.
"""

import pulumi

from components.accelerator import GlobalFrontDoor, GlobalFrontDoorArgs
from components.config import ConfigError, check_front_door, check_pairing, load_settings
from components.dashboard import DrDashboard, DrDashboardArgs
from components.failover_automation import FailoverAutomation, FailoverAutomationArgs
from components.global_database import GlobalDatabase, check_matches_primary, database_args
from components.hosted_zone import hosted_zone_id
from components.media_bucket import PrimaryMedia, ReplicatedMediaBucket, ReplicatedMediaBucketArgs, replication_rule_id
from components.network import RegionalNetwork, RegionalNetworkArgs
from components.notifications import Notifications, NotificationsArgs
from components.providers import GLOBAL_SERVICES_REGION, regional_providers
from components.readiness import Readiness, ReadinessArgs
from components.region_switch import CONTROL_PLANE_REGION, RegionSwitchPlan, RegionSwitchPlanArgs
from components.regional_frontend import (
    DatabaseEndpoints,
    MediaStorage,
    PrimaryFrontendValues,
    RegionalFrontend,
    RegionalFrontendArgs,
)
from components.release import PrimaryRelease, ReleaseDelivery, ReleaseDeliveryArgs
from components.writer_gate import WriterGate, WriterGateArgs

settings = load_settings()  # raises ConfigError before any resource is declared
providers = regional_providers(settings)
local = pulumi.ResourceOptions(provider=providers[settings.region])

# The secondary reads the primary's exports; the primary reads nothing.
primary_stack: pulumi.StackReference | None = None
if not settings.is_primary:
    assert settings.primary_stack is not None
    primary_stack = pulumi.StackReference(settings.primary_stack)

    def _check_peer(values: list[object]) -> None:
        region, cidr, paired, accelerator = values
        if region != settings.peer.region or cidr != settings.peer.network_cidr:
            raise ConfigError(
                f"magento-dr:peer says the primary is {settings.peer.region} {settings.peer.network_cidr}, "
                f"but {settings.primary_stack} exports {region} {cidr}; make them agree"
            )
        check_pairing(settings, str(paired))
        warning = check_front_door(settings, accelerator)
        if warning:
            pulumi.log.warn(warning)

    pulumi.Output.all(
        primary_stack.get_output("region"),
        primary_stack.get_output("networkCidr"),
        primary_stack.get_output("peerRegion"),
        primary_stack.get_output("globalAccelerator"),
    ).apply(_check_peer)

network = RegionalNetwork(
    "network",
    RegionalNetworkArgs(
        cidr=settings.network.cidr,
        az_count=settings.network.az_count,
        nat_gateways=settings.network.nat_gateways,
        interface_endpoints=settings.network.interface_endpoints,
        flow_log_retention_days=settings.network.flow_log_retention_days,
        region=settings.region,
        protect=settings.protect,
        internet_gateway=settings.serves_shop,  # a database standby's VPC has no way in or out
    ),
    opts=local,
)

notifications = Notifications(
    "notifications",
    NotificationsArgs(region=settings.region, emails=settings.failover.notification_emails, protect=settings.protect),
    opts=local,
)

# ---------------------------------------------------------------- database (every stack)
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

# What further stacks and operators read (documented in README "Stack outputs").
pulumi.export("role", settings.role)
pulumi.export("scope", settings.scope)
pulumi.export("region", settings.region)
pulumi.export("peerRegion", settings.peer.region)
pulumi.export("networkCidr", settings.network.cidr)
pulumi.export("vpcId", network.vpc_id)
pulumi.export("notificationTopicArn", notifications.topic_arn)
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
    # Each joining secondary checks it against AWS's 1 + (15 - s) cap for s secondaries.
    pulumi.export("dbInstanceCount", settings.database.instance_count)
    # A Pulumi secret (encrypted in state): secondaries in regions without a replica keep a copy.
    pulumi.export("dbCredentialsDocument", database.credentials_document)


def declare_shop() -> None:
    """The shop tiers of the primary and its paired standby (a database standby has none)."""
    # The shop's existing public hosted zone: the shop's records, the regional records and (primary)
    # the media CDN's records all go there. In outage mode without us-east-1, from config (Route 53's API is there).
    zone_id = hosted_zone_id(settings, providers[settings.region])

    # The primary owns the media CDN (and its hostname's records); the secondary owns both
    # replication rules. See docs/media.md "Ownership".
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
            hosted_zone_id=zone_id if settings.is_primary else None,
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

    # ---------------------------------------------------------------- the accelerator (optional)
    # The primary owns it and its listener: it runs first, so the secondary joins what exists, as with
    # the global database. Each shop stack adds its own ALB behind its writer gate (below).
    accelerator_listener_arn: pulumi.Input[str] | None = None
    accelerator_dns_name: pulumi.Input[str] | None = None
    front_door: GlobalFrontDoor | None = None
    if settings.failover.global_accelerator:
        if primary_stack is None:
            front_door = GlobalFrontDoor(
                "front-door",
                GlobalFrontDoorArgs(
                    stack=settings.stack, region=settings.region, flow_logs=settings.failover.accelerator_flow_logs, protect=settings.protect
                ),
                opts=local,
            )
            accelerator_listener_arn, accelerator_dns_name = front_door.listener_arn, front_door.dns_name
        else:
            accelerator_listener_arn = primary_stack.get_output("acceleratorListenerArn")
            accelerator_dns_name = primary_stack.get_output("acceleratorDnsName")

    # ---------------------------------------------------------------- web tier and front door
    frontend = RegionalFrontend(
        "frontend",
        RegionalFrontendArgs(
            stack=settings.stack,
            region=settings.region,
            peer_region=settings.peer.region,
            is_primary=settings.is_primary,
            dns=settings.dns,
            hosted_zone_id=zone_id,
            web=settings.web,
            cache=settings.cache,
            search=settings.search,
            health_check_interval_seconds=settings.failover.health_check_interval_seconds,
            health_check_failure_threshold=settings.failover.health_check_failure_threshold,
            vpc_id=network.vpc_id,
            vpc_cidr=settings.network.cidr,
            peer_cidr=settings.peer.network_cidr,
            public_subnet_ids=network.public_subnet_ids,
            private_subnet_ids=network.private_subnet_ids,
            data_subnet_ids=network.data_subnet_ids,
            alb_security_group_id=network.alb_security_group_id,
            app_security_group_id=network.app_security_group_id,
            database=DatabaseEndpoints(
                writer_endpoint=database.writer_endpoint,
                reader_endpoint=database.reader_endpoint,
                credentials_secret_arn=database.credentials_secret_arn,
                kms_key_arn=database.credentials_secret_kms_key_arn,
                port=database.port,
            ),
            media=MediaStorage(
                bucket_name=media.bucket_name,
                bucket_arn=media.bucket_arn,
                bucket_region=media.bucket_region,
                kms_key_arn=media.kms_key_arn,
                media_url=media.media_url,
            ),
            notification_topic_arn=notifications.topic_arn,
            # Values both regions must share come from the primary (sessions, encrypted data).
            primary_values=None
            if primary_stack is None
            else PrimaryFrontendValues(
                crypt_key=primary_stack.require_output("frontendCryptKey"),
                cache_auth_token=primary_stack.require_output("cacheAuthToken"),
                cache_global_datastore_id=primary_stack.require_output("cacheGlobalDatastoreId"),
            ),
            protect=settings.protect,
            accelerator_dns_name=accelerator_dns_name,
        ),
        opts=local,
    )

    # This region's ALB in the accelerator, healthy for it only where the Aurora writer is (or is going).
    writer_gate: WriterGate | None = None
    if accelerator_listener_arn is not None:
        writer_gate = WriterGate(
            "writer-gate",
            WriterGateArgs(
                stack=settings.stack,
                region=settings.region,
                peer_region=settings.peer.region,
                is_primary=settings.is_primary,
                global_cluster_id=database.global_cluster_id,
                cluster_arn=database.cluster_arn,
                alb_arn=frontend.alb_arn,
                https_listener_arn=frontend.https_listener_arn,
                accelerator_listener_arn=accelerator_listener_arn,
            ),
            opts=local,
        )

    # One build, stored in both regions' artifact buckets; the secondary owns primary -> secondary
    # replication (like media). See docs/release.md.
    release = ReleaseDelivery(
        "release",
        ReleaseDeliveryArgs(
            stack=settings.stack,
            role=settings.role,
            region=settings.region,
            peer_region=settings.peer.region,
            shop_hostname=settings.dns.shop_hostname,
            ssm_prefix=frontend.ssm_prefix,
            active_parameter_name=frontend.active_parameter_name,
            noncurrent_version_days=settings.release.noncurrent_version_days,
            asg_name=frontend.asg_name,
            asg_arn=frontend.asg_arn,
            instance_role_name=frontend.instance_role_name,
            instance_tag_key=frontend.instance_tag_key,
            instance_tag_value=frontend.instance_tag_value,
            github_repository=settings.release.github_repository,
            github_environment=settings.release.github_environment,
            protect=settings.protect,
            peer_provider=None if settings.is_primary else providers[settings.peer.region],
            primary=None
            if primary_stack is None
            else PrimaryRelease(
                bucket_name=primary_stack.require_output("releaseBucketName"),
                key_arn=primary_stack.require_output("releaseKeyArn"),
                expected_peer_bucket_name=primary_stack.require_output("releasePeerBucketName"),
            ),
        ),
        opts=local,
    )

    # ---------------------------------------------------------------- failover automation
    failover = FailoverAutomation(
        "failover",
        FailoverAutomationArgs.from_settings(
            settings,
            topic_arn=notifications.topic_arn,
            topic_key_arn=notifications.key_arn,
            global_cluster_id=database.global_cluster_id,
            cluster_id=database.cluster_id,
            cluster_arn=database.cluster_arn,
            asg_name=frontend.asg_name,
            instance_tag_key=frontend.instance_tag_key,
            instance_tag_value=frontend.instance_tag_value,
            cache_global_datastore_id=frontend.cache_global_datastore_id,
            cache_replication_group_id=frontend.cache_replication_group_id,
            peer_cluster_arn=None if primary_stack is None else primary_stack.require_output("dbClusterArn"),
            peer_function_role_name=None if primary_stack is None else primary_stack.require_output("failoverRoleName"),
            db_instance_parameter_group=database.instance_parameter_group_name,
            db_subnet_group=database.subnet_group_name,
            db_performance_insights_kms_key_arn=database.kms_key_arn,
        ),
        opts=local,
    )

    # ---------------------------------------------------------------- readiness and the DR dashboard
    # Every few minutes, read-only, from this region: would a failover work? (docs/readiness.md)
    readiness = Readiness(
        "readiness",
        ReadinessArgs.from_settings(
            settings,
            parameters=database.parameters,
            release_parameter_name=release.version_parameter_name,
            topic_arn=notifications.topic_arn,
            global_cluster_id=database.global_cluster_id,
            cluster_id=database.cluster_id,
            cluster_arn=database.cluster_arn,
            cluster_parameter_group=database.cluster_parameter_group_name,
            instance_parameter_group=database.instance_parameter_group_name,
            secret_arn=database.credentials_secret_arn,
            asg_name=frontend.asg_name,
            failover_function_name=failover.function_name,
            failover_function_arn=failover.function_arn,
            failover_schedule_name=failover.schedule_name,
            failover_schedule_arn=failover.schedule_arn,
            health_check_ids=frontend.health_check_ids,
            cache_global_datastore_id=frontend.cache_global_datastore_id,
            cache_replication_group_id=frontend.cache_replication_group_id,
            search_domain_arn=frontend.search_domain_arn,
            media_bucket=media.bucket_name,
            media_peer_bucket=media.peer_bucket_name,
        ),
        opts=local,
    )
    dashboard = DrDashboard(
        "dashboard",
        DrDashboardArgs(
            stack=settings.stack,
            region=settings.region,
            peer_region=settings.peer.region,
            rpo_seconds=settings.failover.rpo_seconds,
            schedule_minutes=settings.readiness.schedule_minutes,
            readiness_parameter=readiness.parameter_name,
            cluster_id=database.cluster_id,
            failover_function=failover.function_name,
            readiness_function=readiness.function_name,
            health_check_ids=frontend.health_check_ids,
            alarm_names=pulumi.Output.all(readiness.alarm_name, failover.alarm_names).apply(lambda v: [v[0], *v[1]]),
            search_domain=readiness.search_domain,
            media_bucket=media.bucket_name,
            media_peer_bucket=media.peer_bucket_name,
            media_rule_out=replication_rule_id(settings.peer.region),
            media_rule_in=replication_rule_id(settings.region),
        ),
        opts=local,
    )

    # ---------------------------------------------------------------- ARC Region switch (optional)
    # The secondary owns the plan: it alone sees both regions' clusters and groups (the primary's
    # through its exports). The plan runs Aurora and capacity only; the function above adopts the
    # promotion and runs the Magento steps (docs/region-switch.md). Config refuses it on the primary.
    region_switch: RegionSwitchPlan | None = None
    if settings.failover.arc_region_switch and primary_stack is not None:
        region_switch = RegionSwitchPlan(
            "region-switch",
            RegionSwitchPlanArgs.from_settings(
                settings,
                control_plane_provider=providers[CONTROL_PLANE_REGION],
                global_cluster_id=database.global_cluster_id,
                cluster_arn=database.cluster_arn,
                asg_arn=frontend.asg_arn,
                primary_cluster_arn=primary_stack.require_output("dbClusterArn"),
                primary_asg_arn=primary_stack.require_output("asgArn"),
            ),
            opts=local,
        )

    # ---------------------------------------------------------------- shop exports
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
    pulumi.export("shopUrl", f"https://{settings.dns.shop_hostname}/")
    pulumi.export("hostedZoneId", zone_id)  # what magento-dr:dns.zoneId takes in outage mode (RUNBOOK)
    pulumi.export("regionalHostname", frontend.regional_hostname)
    pulumi.export("albArn", frontend.alb_arn)
    pulumi.export("albDnsName", frontend.alb_dns_name)
    pulumi.export("albZoneId", frontend.alb_zone_id)
    pulumi.export("albArnSuffix", frontend.alb_arn_suffix)
    pulumi.export("targetGroupArnSuffix", frontend.target_group_arn_suffix)
    pulumi.export("asgName", frontend.asg_name)
    pulumi.export("asgArn", frontend.asg_arn)
    pulumi.export("productionCapacity", frontend.production_capacity)
    pulumi.export("instanceTagKey", frontend.instance_tag_key)
    pulumi.export("instanceTagValue", frontend.instance_tag_value)
    pulumi.export("applyRoleCommand", frontend.apply_role_command)
    pulumi.export("ssmPrefix", frontend.ssm_prefix)
    pulumi.export("activeParameterName", frontend.active_parameter_name)
    pulumi.export("healthCheckIds", frontend.health_check_ids)
    # The secondary reads the primary's: it may join only an accelerator the primary has (check_front_door).
    pulumi.export("globalAccelerator", settings.failover.global_accelerator)
    if front_door is not None:
        pulumi.export("acceleratorArn", front_door.accelerator_arn)
        pulumi.export("acceleratorListenerArn", front_door.listener_arn)
        pulumi.export("acceleratorDnsName", front_door.dns_name)
        pulumi.export("acceleratorIpAddresses", front_door.ip_addresses)
    if writer_gate is not None:
        pulumi.export("writerGateTargetGroupArn", writer_gate.target_group_arn)
        pulumi.export("acceleratorEndpointGroupArn", writer_gate.endpoint_group_arn)
    pulumi.export("cacheReplicationGroupId", frontend.cache_replication_group_id)
    pulumi.export("cacheGlobalDatastoreId", frontend.cache_global_datastore_id)
    pulumi.export("searchEndpoint", frontend.search_endpoint)
    pulumi.export("searchDomainArn", frontend.search_domain_arn)
    pulumi.export("fullPageCache", frontend.full_page_cache)
    if settings.is_primary:
        # Secrets the secondary copies into its own region (encrypted in state and in the stack reference).
        pulumi.export("frontendCryptKey", frontend.crypt_key)
        pulumi.export("cacheAuthToken", frontend.cache_auth_token)
    pulumi.export("releaseBucketName", release.bucket_name)
    pulumi.export("releaseBucketArn", release.bucket_arn)
    pulumi.export("releaseKeyArn", release.kms_key_arn)
    pulumi.export("releasePeerBucketName", release.peer_bucket_name)
    pulumi.export("releaseVersionParameterName", release.version_parameter_name)
    pulumi.export("setupUpgradeDocumentName", release.setup_upgrade_document_name)
    pulumi.export("releaseRefreshRunbookName", release.refresh_runbook_name)
    pulumi.export("releaseTarget", release.release_target)
    if release.publisher_role_arn is not None:
        pulumi.export("releasePublisherRoleArn", release.publisher_role_arn)
    pulumi.export("failoverFunctionName", failover.function_name)
    pulumi.export("failoverFunctionArn", failover.function_arn)
    pulumi.export("failoverRoleName", failover.role_name)
    pulumi.export("failoverDeadLetterQueueUrl", failover.dead_letter_queue_url)
    pulumi.export("postFailoverDocumentName", failover.run_command_document_name)
    pulumi.export("failoverAlarmNames", failover.alarm_names)
    pulumi.export("rtoBudget", failover.rto_budget)
    pulumi.export("readinessFunctionName", readiness.function_name)
    pulumi.export("readinessParameterName", readiness.parameter_name)
    pulumi.export("readinessAlarmName", readiness.alarm_name)
    pulumi.export("drDashboardName", dashboard.dashboard_name)
    if region_switch is not None:
        pulumi.export("regionSwitchPlanArn", region_switch.plan_arn)


if settings.serves_shop:
    declare_shop()
