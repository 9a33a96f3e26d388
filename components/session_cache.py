"""SessionCache: one region's Valkey/Redis OSS replication group for Magento's cache, page cache and sessions.

Node-based with cluster mode disabled (Magento selects databases 0/1/2, which
cluster mode and ElastiCache Serverless do not offer), Multi-AZ, encrypted at
rest and in transit, AUTH required. Sessions survive a regional failover because
both regions' groups form one ElastiCache Global Datastore: the primary stack
creates it around its group, the secondary's group joins it.
https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Redis-Global-Datastore.html
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .config import CACHE_ENGINE_VERSIONS
from .data_tier import web_only_security_group
from .naming import physical_name

CACHE_PORT = 6379

# Validated with the config (components/config.py), re-checked here for direct users of the component.
SUPPORTED_ENGINE_VERSIONS = CACHE_ENGINE_VERSIONS


# What a replication group joining a Global Datastore inherits from its primary. AWS, on
# CreateReplicationGroup's GlobalReplicationGroupId: "ElastiCache ... will infer the values from the
# primary replication group of the global replication group for the following parameters. Do not
# pass in values for these parameters: PrimaryClusterId, AutomaticFailoverEnabled, NumNodeGroups,
# CacheParameterGroupName, CacheNodeType, Engine, EngineVersion, CacheSecurityGroupNames,
# EnableTransitEncryption, AtRestEncryptionEnabled, SnapshotArns, SnapshotName".
# https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html
# terraform-provider-aws declares the matching arguments `ConflictsWith` global_replication_group_id
# (internal/service/elasticache/replication_group.go), so setting one on the member fails `pulumi
# preview` ("Conflicting configuration arguments"); it sends automatic_failover_enabled only for a
# group outside a datastore. The AUTH token and the KMS key are per member (the console lets each
# secondary set its own). offline/provider_rules.py holds the conflict for the graph-wide check.
MEMBER_INHERITS = (
    "engine",
    "engine_version",
    "node_type",
    "parameter_group_name",
    "num_node_groups",
    "security_group_names",
    "at_rest_encryption_enabled",
    "transit_encryption_enabled",
    "transit_encryption_mode",
    "snapshot_arns",
    "snapshot_name",
)


def primary_only_group_args(args: SessionCacheArgs) -> dict[str, object]:
    """The datastore primary's settings that its members inherit (cluster mode too: it is the primary's shape)."""
    return {
        "engine": args.engine,
        "engine_version": args.engine_version,
        "node_type": args.node_type,
        # Encrypted at rest (with kms_key_id) and in transit, TLS required: Magento 2.4.7+ speaks TLS to Redis/Valkey.
        "at_rest_encryption_enabled": True,
        "transit_encryption_enabled": True,
        "transit_encryption_mode": "required",
        # Cluster mode off: Magento uses databases 0 (cache), 1 (page cache), 2 (sessions).
        "cluster_mode": "disabled",
    }


@dataclass(frozen=True)
class SessionCacheArgs:
    stack: str
    region: str
    is_primary: bool
    engine: str
    engine_version: str
    node_type: str
    replicas: int
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    app_security_group_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    auth_token: pulumi.Input[str]
    """Shared by both regions (the primary generates it); kept secret."""
    notification_topic_arn: pulumi.Input[str]
    global_datastore_id: pulumi.Input[str] | None = None
    """Secondary only: the Global Datastore the primary stack created."""
    protect: bool = True

    def __post_init__(self) -> None:
        versions = SUPPORTED_ENGINE_VERSIONS.get(self.engine)
        if versions is None or self.engine_version not in versions:
            raise ValueError(
                f"SessionCacheArgs: {self.engine} {self.engine_version} is not a version Magento 2.4.7/2.4.8 and a "
                f"Global Datastore both support; use one of {SUPPORTED_ENGINE_VERSIONS}"
            )
        if self.replicas < 1:
            raise ValueError("SessionCacheArgs.replicas must be at least 1: Multi-AZ failover needs a replica")
        if len(self.subnet_ids) < 2:
            raise ValueError("SessionCacheArgs.subnet_ids needs subnets in at least two AZs for Multi-AZ")
        if self.is_primary and self.global_datastore_id is not None:
            raise ValueError("SessionCacheArgs.global_datastore_id is for the secondary; the primary creates the datastore")
        if not self.is_primary and self.global_datastore_id is None:
            raise ValueError("SessionCacheArgs.global_datastore_id is required in the secondary (the primary's cacheGlobalDatastoreId)")


class SessionCache(pulumi.ComponentResource):
    """The region's cache/session store and, in the primary, the Global Datastore around it."""

    replication_group_id: pulumi.Output[str]
    """Id of this region's replication group (the failover promotes it within the Global Datastore)."""
    primary_endpoint_address: pulumi.Output[str]
    """The region's primary endpoint; Magento writes cache and sessions here."""
    port: int
    """TCP port of the endpoint."""
    security_group_id: pulumi.Output[str]
    """The cache's security group (admits only the web instances)."""
    global_datastore_id: pulumi.Output[str]
    """Id of the Global Datastore both regions' groups belong to."""

    def __init__(self, name: str, args: SessionCacheArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:SessionCache", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        sg = web_only_security_group(
            name,
            vpc_id=args.vpc_id,
            app_security_group_id=args.app_security_group_id,
            port=CACHE_PORT,
            description="Valkey/Redis for Magento: only from the web instances",
            rule_description="Magento cache and sessions",
            tag_name=f"{name}-cache",
            opts=child,
        )
        subnets = aws.elasticache.SubnetGroup(
            f"{name}-subnets",
            name=physical_name(args.stack, args.region, "cache"),
            description="Isolated data subnets",
            subnet_ids=list(args.subnet_ids),
            opts=child,
        )

        # Settings both regions' groups share; the primary adds what a member inherits (below).
        group_args = aws.elasticache.ReplicationGroupArgs(
            description=f"Magento cache, page cache and sessions ({args.stack})",
            replication_group_id=physical_name(args.stack, args.region, "sessions", max_length=40),
            num_cache_clusters=1 + args.replicas,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            # Each region encrypts with its own key; the datastore allows a different key per member.
            kms_key_id=args.kms_key_arn,
            auth_token=args.auth_token,
            port=CACHE_PORT,
            subnet_group_name=subnets.name,
            security_group_ids=[sg.id],
            notification_topic_arn=args.notification_topic_arn,
            snapshot_retention_limit=1,
            maintenance_window="sun:05:00-sun:06:00",
            snapshot_window="03:00-04:00",
        )
        if args.is_primary:
            for key, value in primary_only_group_args(args).items():
                setattr(group_args, key, value)
            group = aws.elasticache.ReplicationGroup(
                f"{name}-group",
                group_args,
                # Once in the Global Datastore, the datastore upgrades every member's engine.
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, ignore_changes=["engineVersion"]),
            )
            datastore = aws.elasticache.GlobalReplicationGroup(
                f"{name}-global",
                global_replication_group_id_suffix=physical_name(args.stack, args.region, "sessions"),
                global_replication_group_description="Magento sessions and cache, replicated to the standby region",
                primary_replication_group_id=group.id,
                # With engine_version alone the provider assumes engine "redis" (its documented
                # default), which a Valkey datastore would read as an engine change.
                engine=args.engine,
                engine_version=args.engine_version,
                # After a regional failover the *secondary's* group is the datastore's primary;
                # this input is create-only (a change would replace the datastore), so drift
                # here is expected and must never be "fixed" by pulumi up.
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, ignore_changes=["primaryReplicationGroupId"]),
            )
            self.global_datastore_id = datastore.global_replication_group_id
        else:
            assert args.global_datastore_id is not None
            # A joining member inherits everything in MEMBER_INHERITS from the datastore.
            group_args.global_replication_group_id = args.global_datastore_id
            group = aws.elasticache.ReplicationGroup(
                f"{name}-group", group_args, opts=pulumi.ResourceOptions(parent=self, protect=args.protect)
            )
            self.global_datastore_id = pulumi.Output.from_input(args.global_datastore_id)

        self.replication_group_id = group.id
        self.primary_endpoint_address = group.primary_endpoint_address
        self.port = CACHE_PORT
        self.security_group_id = sg.id
        self.register_outputs(
            {
                "replication_group_id": self.replication_group_id,
                "primary_endpoint_address": self.primary_endpoint_address,
                "security_group_id": self.security_group_id,
                "global_datastore_id": self.global_datastore_id,
            }
        )
