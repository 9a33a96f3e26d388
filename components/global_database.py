"""GlobalDatabase: the shop's Aurora MySQL global database, one component for both stack roles.

The primary stack declares the global cluster, its writer cluster and the
credentials secret (replicated to the standby regions); a secondary stack joins
its own read-only cluster to that global cluster by the id the primary exports.
Everything that can be pure (names, parameter sets, validation, policies) is a
small function below the component and is table-tested without mocks.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from .config import DB_INSTANCE_CLASS_RE, ConfigError, Role, StackSettings
from .kms import key_policy, service_use_statement
from .lag_alarm import lag_alarm_queries
from .naming import db_cluster_name, physical_name

# --------------------------------------------------------------------------- AWS facts
ENGINE = "aurora-mysql"
# Aurora MySQL 3 (MySQL 8.0 compatible) parameter groups use this family.
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Reference.ParameterGroups.html
PARAMETER_GROUP_FAMILY = "aurora-mysql8.0"
ENGINE_VERSION_RE = re.compile(r"^8\.0\.mysql_aurora\.3\.\d{2}\.\d+$")
MYSQL_PORT = 3306

# "An Aurora global database can have up to 10 secondary AWS Regions"; the primary
# cluster has one writer and at most 15 - s Aurora Replicas (s = secondary regions,
# at least 1), a secondary cluster at most 16 read-only instances.
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.configuration.requirements.html
MAX_SECONDARY_REGIONS = 10
MAX_PRIMARY_INSTANCES = 1 + (15 - 1)
MAX_SECONDARY_INSTANCES = 16

# RDS master passwords: 8 to 41 printable ASCII characters, not "/", '"', "@" or a space.
# https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html
# We also leave out "'" and "\" so the password can sit in Magento's env.php unescaped.
PASSWORD_LENGTH = 40
PASSWORD_SPECIALS = "!#%^*()-_=+[]{}<>:?.,~"  # noqa: S105 - the allowed special characters, not a password
MASTER_USERNAME = "magento"
DATABASE_NAME = "magento"

# Backups: we require a week at least; Aurora allows up to 35 days.
MIN_BACKUP_RETENTION_DAYS = 7
MAX_BACKUP_RETENTION_DAYS = 35

# Log types Aurora MySQL publishes to CloudWatch Logs (audit needs server_audit_logging).
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Integrating.CloudWatch.html
BASE_LOG_EXPORTS = ("error", "slowquery")
AUDIT_LOG_EXPORT = "audit"
LOG_RETENTION_DAYS = 90
# The CA every instance's server certificate comes from (the failover function's added instances too: MDR_DB_CA_CERTIFICATE).
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL.html (certificate authorities)
CA_CERTIFICATE_ID = "rds-ca-rsa2048-g1"
# Seven days of Performance Insights history is the free tier.
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_PerfInsights.Overview.cost.html
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7
# Secrets Manager waits 7 to 30 days before it really deletes a secret; take the longest.
SECRET_RECOVERY_WINDOW_DAYS = 30

# 64 MiB: Magento imports and large configurable products overflow MySQL's 16 MiB
# packet default (Adobe's MySQL guideline asks for more than 16 MB).
# https://experienceleague.adobe.com/en/docs/commerce-operations/installation-guide/prerequisites/database-server/mysql
MAX_ALLOWED_PACKET_BYTES = 64 * 1024 * 1024
TEMP_TABLE_BYTES = 64 * 1024 * 1024

# Properties AWS (not this program) changes on a live cluster. Each is set at
# creation and then owned by someone else; a diff on them must never become an
# update, let alone a replacement of the shop's data.
#   engineVersion              - upgrades go through the global cluster, which moves every member
#   globalClusterIdentifier    - a detach-and-promote failover removes a cluster from the global
#                                cluster; re-adding an existing cluster is not an API AWS offers
#   replicationSourceIdentifier - AWS fills it in on secondaries and rewrites it on switchover
CLUSTER_IGNORE_CHANGES = ("engineVersion", "globalClusterIdentifier", "replicationSourceIdentifier")


# --------------------------------------------------------------------------- pure helpers
@dataclass(frozen=True)
class DatabaseNames:
    """Every physical name the database tier uses in one stack (unique per stack)."""

    global_cluster: str
    cluster: str
    instances: tuple[str, ...]
    subnet_group: str
    security_group: str
    secret: str
    key_alias: str
    replica_key_alias: str
    final_snapshot: str


def database_names(stack: str, region: str, instance_count: int) -> DatabaseNames:
    """Names for one stack's database tier (a primary also names the global cluster after itself)."""
    cluster = db_cluster_name(stack, region)
    return DatabaseNames(
        global_cluster=physical_name(stack, region, "global-db"),
        cluster=cluster,
        instances=tuple(f"{cluster}-{i + 1}" for i in range(instance_count)),
        subnet_group=cluster,
        security_group=f"{cluster}-sg",
        secret=f"{cluster}-credentials",
        key_alias=f"alias/{cluster}",
        replica_key_alias=f"alias/{cluster}-credentials-replica",
        final_snapshot=f"{cluster}-final",
    )


def cluster_parameters(*, audit_log: bool) -> dict[str, str]:
    """Cluster-level Aurora MySQL 3 parameters Magento 2.4.7/2.4.8 needs (same in every region).

    Only names from AWS's cluster-level table belong here; the rest go in the
    instance group (AuroraMySQL.Reference.ParameterGroups).
    """
    parameters = {
        # Magento 2.4.8 creates utf8mb4 schemas; the server default must agree.
        "character_set_server": "utf8mb4",
        "collation_server": "utf8mb4_general_ci",
        # Encryption in transit: the server refuses unencrypted connections.
        "require_secure_transport": "ON",
        "tls_version": "TLSv1.2,TLSv1.3",
    }
    if audit_log:
        parameters["server_audit_logging"] = "1"
        parameters["server_audit_events"] = "CONNECT,QUERY_DCL,QUERY_DDL"
    return parameters


def instance_parameters() -> dict[str, str]:
    """Instance-level parameters Magento needs, identical for every instance in every region."""
    return {
        # Magento creates triggers (indexers in "Update by schedule" mode); with
        # binary logging on, MySQL refuses that to a non-SUPER user unless this is set.
        "log_bin_trust_function_creators": "1",
        "max_allowed_packet": str(MAX_ALLOWED_PACKET_BYTES),
        # MySQL 8's default, pinned: Magento's declarative schema assumes it.
        "explicit_defaults_for_timestamp": "1",
        # Magento's indexers and layered navigation build large temporary tables.
        "tmp_table_size": str(TEMP_TABLE_BYTES),
        "max_heap_table_size": str(TEMP_TABLE_BYTES),
        # Feed the exported slow query log; CloudWatch export needs FILE output.
        "slow_query_log": "1",
        "long_query_time": "2",
        "log_output": "FILE",
        "innodb_print_all_deadlocks": "1",
    }


def parameter_digest(engine_version: str, cluster: Mapping[str, str], instance: Mapping[str, str]) -> str:
    """A short fingerprint of what a promoted cluster would run with; both stacks must agree on it."""
    document = json.dumps({"engine": engine_version, "cluster": dict(cluster), "instance": dict(instance)}, sort_keys=True)
    return hashlib.sha256(document.encode()).hexdigest()[:16]


def log_exports(*, audit_log: bool) -> tuple[str, ...]:
    """The CloudWatch log types the cluster publishes."""
    return (*BASE_LOG_EXPORTS, AUDIT_LOG_EXPORT) if audit_log else BASE_LOG_EXPORTS


@dataclass(frozen=True)
class InstancePlacement:
    index: int
    az_index: int
    promotion_tier: int


def instance_placements(instance_count: int, az_count: int) -> tuple[InstancePlacement, ...]:
    """Spread instances round-robin over the AZs.

    The instances after the first that sit in another AZ get tier 0, so Aurora
    fails over to a different AZ first; the rest follow in tier 1.
    """
    if az_count < 1:
        raise ValueError("instance_placements needs at least one availability zone")
    placements = []
    for i in range(instance_count):
        az_index = i % az_count
        tier = 0 if i < az_count else 1
        placements.append(InstancePlacement(index=i, az_index=az_index, promotion_tier=tier))
    return tuple(placements)


def replica_secret_arn(primary_arn: str, region: str) -> str:
    """A replica secret's ARN: the primary's with only the region changed.

    https://docs.aws.amazon.com/secretsmanager/latest/userguide/replicate-secrets.html
    """
    parts = primary_arn.split(":")
    if len(parts) < 7 or parts[2] != "secretsmanager":
        raise ValueError(f"{primary_arn!r} is not a Secrets Manager secret ARN")
    parts[3] = region
    return ":".join(parts)


def credentials_document(*, password: str, host: str, port: int = MYSQL_PORT) -> str:
    """The secret's JSON, in the shape RDS-managed secrets use (Magento's env.php reads it)."""
    return json.dumps(
        {"engine": "mysql", "username": MASTER_USERNAME, "password": password, "host": host, "port": port, "dbname": DATABASE_NAME}
    )


def validate_replica_regions(own_region: str, regions: Sequence[str]) -> tuple[str, ...]:
    """The regions that hold a copy of the credentials; one per secondary, at most AWS's limit."""
    if not regions:
        raise ValueError("the primary database needs at least one secondary region for the credentials replica (the peer region)")
    if len(regions) > MAX_SECONDARY_REGIONS:
        raise ValueError(
            f"{len(regions)} secondary regions requested; an Aurora global database allows at most {MAX_SECONDARY_REGIONS}"
        )
    if own_region in regions:
        raise ValueError(f"{own_region} is the primary region; a secondary must be in another region")
    if len(set(regions)) != len(regions):
        raise ValueError(f"secondary regions {list(regions)} repeat a region; each secondary needs its own region")
    return tuple(regions)


def check_room_to_join(
    global_cluster_id: str, member_arns: Sequence[str], region: str, cluster_id: str, primary_instances: int | None = None
) -> str:
    """The global cluster id, once it is certain AWS will let this region's cluster join it.

    A global database holds one cluster per region, at most MAX_SECONDARY_REGIONS secondaries, and
    a primary of at most 1 writer + (15 - s) readers with s secondaries
    (aurora-global-database.configuration.requirements). This stack's own cluster, already a
    member on a re-run, does not count against the region limit.
    """
    own = [a for a in member_arns if _arn_region(a) == region and a.rsplit(":", 1)[-1] == cluster_id]
    others = [a for a in member_arns if a not in own]
    taken = [a for a in others if _arn_region(a) == region]
    if taken:
        raise ConfigError(
            f"the global database {global_cluster_id} already has a cluster in {region} ({taken[0]}); AWS allows one "
            f"cluster per region in a global database: deploy this stack to another region (magento-dr:region)"
        )
    if not own and len(others) - 1 >= MAX_SECONDARY_REGIONS:
        raise ConfigError(
            f"the global database {global_cluster_id} already has {len(others) - 1} secondary regions, AWS's limit of "
            f"{MAX_SECONDARY_REGIONS}: remove one first (set magento-dr:protect false and `pulumi up` its stack, "
            f"turn off its cluster's deletion protection, then `pulumi destroy` it) before adding {region}"
        )
    secondaries = len(others)  # every member but the writer, this one included
    if primary_instances is not None and primary_instances > 16 - secondaries:
        raise ConfigError(
            f"the primary runs {primary_instances} database instances, but with {secondaries} secondary regions AWS "
            f"allows its cluster 1 writer + {15 - secondaries} readers: lower magento-dr:database.instanceCount on the "
            f"primary to {16 - secondaries} and `pulumi up` it before adding {region}"
        )
    return global_cluster_id


def _arn_region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def _member_arn(member: Mapping[str, Any]) -> str:
    """A getGlobalCluster member's cluster ARN (Pulumi's output types are dicts keyed by Python names)."""
    return str(member.get("db_cluster_arn") or "")


def select_credentials_replica(replicas: Mapping[str, Any], region: str, primary_stack: str) -> dict[str, str]:
    """The primary's credentials replica in this secondary's region, or an error that says how to add one."""
    replica = replicas.get(region) if isinstance(replicas, Mapping) else None
    if not isinstance(replica, Mapping) or not replica.get("secretArn") or not replica.get("kmsKeyArn"):
        available = ", ".join(sorted(replicas)) if isinstance(replicas, Mapping) else "none"
        raise ConfigError(
            f"{primary_stack} replicates the database credentials to [{available}], not to {region}; "
            f"set magento-dr:database.credentials to copy in this stack's file (it then keeps its own copy, "
            f"encrypted with this region's key; a further standby region with magento-dr:scope database does so "
            f"by default), or make {region} the primary's magento-dr:peer.region"
        )
    return {"secretArn": str(replica["secretArn"]), "kmsKeyArn": str(replica["kmsKeyArn"])}


def database_key_policy(account_id: str, region: str, cluster_id: str) -> str:
    """The region's database key: the account administers it (IAM decides who uses it for RDS,
    Performance Insights and Secrets Manager); CloudWatch Logs may use it for this cluster's log groups only.
    """
    return key_policy(
        account_id,
        [
            service_use_statement(
                "CloudWatchLogsUseForClusterLogs",
                f"logs.{region}.amazonaws.com",
                {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account_id}:log-group:/aws/rds/cluster/{cluster_id}/*"
                    }
                },
            )
        ],
    )


# --------------------------------------------------------------------------- component
@dataclass(frozen=True)
class GlobalDatabaseArgs:
    """What the database tier needs; validated before anything is declared."""

    role: Role
    stack: str
    region: str
    engine_version: str
    instance_class: str
    instance_count: int
    backup_retention_days: int
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """The network's isolated data subnets (at least two AZs)."""
    availability_zones: Sequence[pulumi.Input[str]]
    """The AZs of those subnets, in order; instances are spread over them."""
    client_security_group_ids: Sequence[pulumi.Input[str]]
    """Security groups allowed to open MySQL connections (the web tier's)."""
    write_forwarding: bool = False
    audit_log: bool = False
    protect: bool = True
    alarm_topic_arn: pulumi.Input[str] | None = None
    replication_lag_alarm_seconds: int | None = None
    """Secondary: alarm when the global-database lag exceeds this (a database standby's RPO; shop
    stacks get the same alarm from FailoverAutomation)."""
    source_region: str = ""
    """Secondary: the writer's region in steady state (the primary's), a dimension the lag may be published under."""
    # primary role
    replica_providers: Mapping[str, pulumi.ProviderResource] = field(default_factory=dict)
    """Region -> provider for every secondary region that gets a replica of the credentials."""
    # secondary role (from the primary's exports)
    primary_stack: str | None = None
    global_cluster_id: pulumi.Input[str] | None = None
    global_writer_endpoint: pulumi.Input[str] | None = None
    primary_instance_count: pulumi.Input[int] | None = None
    """The primary's instance count (its export dbInstanceCount): AWS caps it at 16 - s with s secondaries."""
    credentials_secret_arn: pulumi.Input[str] | None = None
    credentials_secret_kms_key_arn: pulumi.Input[str] | None = None
    credentials_copy: pulumi.Input[str] | None = None
    """Secondary in a region the primary does not replicate to: the primary's credentials document (a Pulumi secret)."""
    headless: bool = False
    """Secondary (a pilot-light standby, components/posture.py): the cluster has no DB instance, only its storage
    volume, kept in sync by Aurora; instance_count must then be 0. The failover function adds the instances.
    AWS: "a headless secondary's storage volume is kept in-sync with the primary"; before a switchover or
    failover "you must add a DB instance to it"
    (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-attach.console.headless.html)."""

    def __post_init__(self) -> None:
        where = "GlobalDatabaseArgs"
        if self.role not in ("primary", "secondary"):
            raise ValueError(f"{where}.role must be primary or secondary, got {self.role!r}")
        if not ENGINE_VERSION_RE.match(self.engine_version):
            raise ValueError(
                f"{where}.engine_version {self.engine_version!r} is not an Aurora MySQL 3 version "
                f"(8.0.mysql_aurora.3.NN.N); Magento 2.4.7/2.4.8 need MySQL 8.0 compatibility"
            )
        if not DB_INSTANCE_CLASS_RE.match(self.instance_class):
            raise ValueError(
                f"{where}.instance_class {self.instance_class!r} is not a memory-optimized class Aurora "
                f"global databases support; use e.g. db.r7g.large or db.r6i.xlarge"
            )
        if self.role == "primary" and self.replication_lag_alarm_seconds is not None:
            raise ValueError(f"{where}.replication_lag_alarm_seconds is for secondaries; the primary replicates to them")
        if self.headless and self.role == "primary":
            raise ValueError(f"{where}.headless is for a secondary; the primary holds the writer")
        if self.headless and self.instance_count != 0:
            raise ValueError(f"{where}.instance_count is {self.instance_count} for a headless secondary; it must be 0 (no DB instance)")
        low, high = (2, MAX_PRIMARY_INSTANCES) if self.role == "primary" else (0 if self.headless else 1, MAX_SECONDARY_INSTANCES)
        if not low <= self.instance_count <= high:
            why = (
                "a writer plus a reader in another AZ, and at most 15 - s replicas with s >= 1 secondary regions"
                if self.role == "primary"
                else "at least one reader, and at most 16 read-only instances per secondary cluster"
            )
            raise ValueError(f"{where}.instance_count is {self.instance_count} for a {self.role}; it must be {low} to {high} ({why})")
        if not MIN_BACKUP_RETENTION_DAYS <= self.backup_retention_days <= MAX_BACKUP_RETENTION_DAYS:
            raise ValueError(
                f"{where}.backup_retention_days is {self.backup_retention_days}; keep {MIN_BACKUP_RETENTION_DAYS} "
                f"to {MAX_BACKUP_RETENTION_DAYS} days of backups"
            )
        if len(self.subnet_ids) < 2 or len(self.availability_zones) < 2:
            raise ValueError(f"{where} needs data subnets in at least two availability zones (a DB subnet group requires two)")
        if len(self.subnet_ids) != len(self.availability_zones):
            raise ValueError(f"{where}.subnet_ids and availability_zones must list the same AZs in the same order")
        if not self.client_security_group_ids:
            raise ValueError(f"{where}.client_security_group_ids is empty; pass the web tier's security group so it can connect")
        secondary_inputs = {
            "primary_stack": self.primary_stack,
            "global_cluster_id": self.global_cluster_id,
            "global_writer_endpoint": self.global_writer_endpoint,
        }
        replica_inputs = {
            "credentials_secret_arn": self.credentials_secret_arn,
            "credentials_secret_kms_key_arn": self.credentials_secret_kms_key_arn,
        }
        if self.role == "primary":
            validate_replica_regions(self.region, tuple(self.replica_providers))
            given = sorted(k for k, v in {**secondary_inputs, **replica_inputs, "credentials_copy": self.credentials_copy}.items() if v is not None)
            if given:
                raise ValueError(f"{where}: {', '.join(given)} are read from the primary's exports by a secondary; the primary owns them")
        else:
            missing = sorted(k for k, v in secondary_inputs.items() if v is None)
            if missing:
                raise ValueError(f"{where}: a secondary needs {', '.join(missing)} from the primary stack's exports")
            has_replica = all(v is not None for v in replica_inputs.values())
            if has_replica == (self.credentials_copy is not None):
                raise ValueError(
                    f"{where}: a secondary reads its credentials from exactly one place: the primary's replica in its "
                    f"region (credentials_secret_arn and credentials_secret_kms_key_arn) or an own copy (credentials_copy)"
                )
            if self.replica_providers:
                raise ValueError(f"{where}.replica_providers is for the primary, which owns the credentials secret and its replicas")

    @property
    def is_primary(self) -> bool:
        return self.role == "primary"


class GlobalDatabase(pulumi.ComponentResource):
    """Aurora MySQL global database tier of one region: the global cluster (primary only), the
    regional cluster and instances, its key, network access, parameter groups and credentials."""

    writer_endpoint: pulumi.Output[str]
    """The global writer endpoint: follows switchover and failover with no DNS change of ours."""
    reader_endpoint: pulumi.Output[str]
    """This region's reader endpoint, for read-only use."""
    cluster_id: pulumi.Output[str]
    """This region's DB cluster identifier."""
    cluster_arn: pulumi.Output[str]
    """This region's DB cluster ARN."""
    global_cluster_id: pulumi.Output[str]
    """The global cluster's identifier (the primary's; secondaries join it)."""
    credentials_secret_arn: pulumi.Output[str]
    """The credentials secret valid in this stack's region (the primary secret or its replica)."""
    credentials_secret_kms_key_arn: pulumi.Output[str]
    """The key that encrypts the credentials in this region; readers need kms:Decrypt on it."""
    kms_key_arn: pulumi.Output[str]
    """This region's customer key for the cluster, Performance Insights and log groups."""
    security_group_id: pulumi.Output[str]
    """The cluster's security group (admits MySQL from the client groups only)."""
    port: int
    """The MySQL port."""
    engine_version: str
    """The Aurora MySQL version this region declares."""
    parameter_digest: str
    """Fingerprint of engine version and parameter groups; must match across regions."""
    parameters: dict[str, dict[str, str]]
    """{"cluster": {...}, "instance": {...}}: what the digest covers (the readiness check compares AWS's view with it)."""
    cluster_parameter_group_name: pulumi.Output[str]
    """The cluster parameter group this region's cluster uses."""
    instance_parameter_group_name: pulumi.Output[str]
    """The instance parameter group of this region's instances."""
    subnet_group_name: pulumi.Output[str]
    """The cluster's DB subnet group (the failover function's grant to add instances names it)."""
    credentials_replicas: pulumi.Output[dict[str, dict[str, str]]]
    """Primary only: region -> {secretArn, kmsKeyArn} of every credentials replica (empty on a secondary)."""
    credentials_document: pulumi.Output[str] | None
    """Primary only: the credentials document (a Pulumi secret) that secondaries without a replica copy."""

    def __init__(self, name: str, args: GlobalDatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:GlobalDatabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # The data-bearing resources: `protect` stops `pulumi destroy` and any
        # replacement; retain_on_delete is deliberately not used (protect already
        # refuses, and an explicit unprotect should really delete).
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)
        names = database_names(args.stack, args.region, args.instance_count)
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        cluster_params = cluster_parameters(audit_log=args.audit_log)
        db_params = instance_parameters()
        exports = log_exports(audit_log=args.audit_log)

        # ---- the region's customer key (cluster storage, Performance Insights, logs, primary secret)
        key = aws.kms.Key(
            f"{name}-key",
            description=f"{names.cluster}: Aurora storage, Performance Insights, logs and credentials in {args.region}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=caller.account_id.apply(lambda account: database_key_policy(account, args.region, names.cluster)),
            opts=stateful,
        )
        aws.kms.Alias(f"{name}-key-alias", name=names.key_alias, target_key_id=key.key_id, opts=child)

        # ---- network: isolated subnets, MySQL only from the client security groups
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=names.subnet_group,
            description=f"{names.cluster}: isolated data subnets",
            subnet_ids=list(args.subnet_ids),
            opts=child,
        )
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=names.security_group,
            vpc_id=args.vpc_id,
            description="Aurora MySQL: admits the web tier only",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=MYSQL_PORT,
                    to_port=MYSQL_PORT,
                    security_groups=list(args.client_security_group_ids),
                    description="MySQL from the web tier",
                )
            ],
            egress=[],  # the database starts no connections
            tags={"Name": names.security_group},
            opts=child,
        )

        # ---- parameter groups, identical in every region so a promoted cluster behaves the same.
        # Auto-named (name_prefix) so a family change at a major upgrade can create the new
        # group before the old one is deleted.
        cluster_pg = aws.rds.ClusterParameterGroup(
            f"{name}-cluster-params",
            name_prefix=f"{names.cluster}-",
            family=PARAMETER_GROUP_FAMILY,
            description="Magento 2.4 cluster parameters (same in every region)",
            parameters=[
                aws.rds.ClusterParameterGroupParameterArgs(name=k, value=v, apply_method="pending-reboot") for k, v in sorted(cluster_params.items())
            ],
            opts=child,
        )
        instance_pg = aws.rds.ParameterGroup(
            f"{name}-instance-params",
            name_prefix=f"{names.cluster}-",
            family=PARAMETER_GROUP_FAMILY,
            description="Magento 2.4 instance parameters (same in every region)",
            parameters=[aws.rds.ParameterGroupParameterArgs(name=k, value=v, apply_method="pending-reboot") for k, v in sorted(db_params.items())],
            opts=child,
        )

        # Pre-create the log groups RDS would otherwise create unencrypted and kept forever.
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-log-{log_type}",
                name=f"/aws/rds/cluster/{names.cluster}/{log_type}",
                retention_in_days=LOG_RETENTION_DAYS,
                kms_key_id=key.arn,
                opts=child,
            )
            for log_type in exports
        ]

        # ---- the global cluster and credentials (primary) or the primary's ids (secondary)
        credentials_replicas: pulumi.Output[dict[str, dict[str, str]]] = pulumi.Output.from_input({})
        password: pulumi.Output[str] | None = None
        global_cluster: aws.rds.GlobalCluster | None = None
        if args.is_primary:
            global_cluster = aws.rds.GlobalCluster(
                f"{name}-global",
                global_cluster_identifier=names.global_cluster,
                engine=ENGINE,
                engine_version=args.engine_version,
                database_name=DATABASE_NAME,
                storage_encrypted=True,
                deletion_protection=True,
                opts=stateful,
            )
            global_cluster_id: pulumi.Output[str] = global_cluster.global_cluster_identifier
            writer_endpoint: pulumi.Output[str] = global_cluster.endpoint
            # Aurora cannot keep the master password in Secrets Manager for a global
            # database member (rds-secrets-manager.html#rds-secrets-manager-limitations),
            # so we generate it and keep it in a replicated secret ourselves.
            generated = random.RandomPassword(
                f"{name}-master-password",
                length=PASSWORD_LENGTH,
                special=True,
                override_special=PASSWORD_SPECIALS,
                min_lower=1,
                min_upper=1,
                min_numeric=1,
                min_special=1,
                opts=stateful,
            )
            password = generated.result  # a Pulumi secret: encrypted in state, masked in previews
            replicas: list[aws.secretsmanager.SecretReplicaArgs] = []
            replica_keys: dict[str, aws.kms.Key] = {}
            for region, provider in sorted(args.replica_providers.items()):
                # The primary stack runs first, so it owns the key its replica is
                # encrypted with in each secondary region ("peer" in the name: it
                # deliberately lives outside this stack's region).
                replica_key = aws.kms.Key(
                    f"{name}-peer-{region}-credentials-key",
                    description=f"{names.cluster}: replica of the database credentials in {region}",
                    enable_key_rotation=True,
                    deletion_window_in_days=30,
                    policy=caller.account_id.apply(lambda account: key_policy(account)),
                    opts=pulumi.ResourceOptions(parent=self, provider=provider, protect=args.protect),
                )
                aws.kms.Alias(
                    f"{name}-peer-{region}-credentials-key-alias",
                    name=names.replica_key_alias,
                    target_key_id=replica_key.key_id,
                    opts=pulumi.ResourceOptions(parent=self, provider=provider),
                )
                replicas.append(aws.secretsmanager.SecretReplicaArgs(region=region, kms_key_id=replica_key.arn))
                replica_keys[region] = replica_key
            secret = aws.secretsmanager.Secret(
                f"{name}-credentials",
                name=names.secret,
                description="Magento database credentials; host is the global writer endpoint",
                kms_key_id=key.arn,
                recovery_window_in_days=SECRET_RECOVERY_WINDOW_DAYS,
                replicas=replicas,
                opts=stateful,
            )
            credentials_secret_arn: pulumi.Output[str] = secret.arn
            credentials_key_arn: pulumi.Output[str] = key.arn
            credentials_replicas = pulumi.Output.all(
                secret.arn, *[replica_keys[r].arn for r in sorted(replica_keys)]
            ).apply(lambda values: _replica_map(str(values[0]), sorted(replica_keys), [str(v) for v in values[1:]]))
        else:
            assert args.global_cluster_id is not None and args.global_writer_endpoint is not None
            # Join only where AWS will accept the cluster: one cluster per region, at most
            # MAX_SECONDARY_REGIONS secondaries. Checked against the live global cluster at
            # preview, so an 11th standby or a second one in a region stops with the fix.
            members = aws.rds.get_global_cluster_output(
                identifier=args.global_cluster_id, opts=pulumi.InvokeOutputOptions(parent=self)
            ).members
            global_cluster_id = pulumi.Output.all(args.global_cluster_id, members, args.primary_instance_count).apply(
                lambda v: check_room_to_join(
                    str(v[0]), [_member_arn(m) for m in v[1] or []], args.region, names.cluster,
                    None if v[2] is None else int(v[2]),
                )
            )
            writer_endpoint = pulumi.Output.from_input(args.global_writer_endpoint)
            if args.credentials_copy is None:
                assert args.credentials_secret_arn is not None and args.credentials_secret_kms_key_arn is not None
                credentials_secret_arn = pulumi.Output.from_input(args.credentials_secret_arn)
                credentials_key_arn = pulumi.Output.from_input(args.credentials_secret_kms_key_arn)
            else:
                # A region the primary does not replicate to keeps its own copy, encrypted with this
                # region's key, so adding a standby region takes nothing but its own stack file.
                copy = aws.secretsmanager.Secret(
                    f"{name}-credentials",
                    name=names.secret,
                    description="Magento database credentials (copy of the primary's); host is the global writer endpoint",
                    kms_key_id=key.arn,
                    recovery_window_in_days=SECRET_RECOVERY_WINDOW_DAYS,
                    opts=stateful,
                )
                aws.secretsmanager.SecretVersion(
                    f"{name}-credentials-value",
                    secret_id=copy.arn,
                    secret_string=pulumi.Output.secret(args.credentials_copy),
                    opts=child,
                )
                credentials_secret_arn = copy.arn
                credentials_key_arn = key.arn

        # ---- the regional cluster
        cluster = aws.rds.Cluster(
            f"{name}-cluster",
            cluster_identifier=names.cluster,
            global_cluster_identifier=global_cluster_id,
            engine=ENGINE,
            engine_version=args.engine_version,
            # Only the primary sets credentials and the schema; a secondary inherits both.
            master_username=MASTER_USERNAME if args.is_primary else None,
            master_password=password,
            database_name=DATABASE_NAME if args.is_primary else None,
            port=MYSQL_PORT,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            db_cluster_parameter_group_name=cluster_pg.name,
            storage_encrypted=True,
            kms_key_id=key.arn,
            deletion_protection=True,
            backup_retention_period=args.backup_retention_days,
            preferred_backup_window="03:00-04:00",
            preferred_maintenance_window="sun:04:30-sun:05:30",
            copy_tags_to_snapshot=True,
            skip_final_snapshot=False,
            final_snapshot_identifier=names.final_snapshot,
            delete_automated_backups=False,
            enabled_cloudwatch_logs_exports=list(exports),
            # Takes effect while this cluster is a secondary, i.e. after a switchover too.
            enable_global_write_forwarding=args.write_forwarding,
            tags={"Name": names.cluster},
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                ignore_changes=list(CLUSTER_IGNORE_CHANGES),
                depends_on=[*log_groups, *([global_cluster] if global_cluster else [])],
            ),
        )

        # ---- instances spread over the AZs; never public
        azs = list(args.availability_zones)
        for placement in instance_placements(args.instance_count, len(azs)):
            aws.rds.ClusterInstance(
                f"{name}-instance-{placement.index + 1}",
                identifier=names.instances[placement.index],
                cluster_identifier=cluster.id,
                engine=aws.rds.EngineType.AURORA_MYSQL,
                instance_class=args.instance_class,
                availability_zone=azs[placement.az_index],
                promotion_tier=placement.promotion_tier,
                db_subnet_group_name=subnet_group.name,
                db_parameter_group_name=instance_pg.name,
                publicly_accessible=False,
                # LTS releases: AWS advises against automatic minor upgrades (they may leave the LTS line).
                # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Update.SpecialVersions.html
                auto_minor_version_upgrade=False,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=key.arn,
                performance_insights_retention_period=PERFORMANCE_INSIGHTS_RETENTION_DAYS,
                ca_cert_identifier=CA_CERTIFICATE_ID,
                copy_tags_to_snapshot=True,
                tags={"Name": names.instances[placement.index]},
                opts=child,
            )

        if args.is_primary:
            assert password is not None
            # Stays a Pulumi secret: it is derived from the secret password.
            document = pulumi.Output.all(password, writer_endpoint).apply(lambda v: credentials_document(password=str(v[0]), host=str(v[1])))
            aws.secretsmanager.SecretVersion(f"{name}-credentials-value", secret_id=credentials_secret_arn, secret_string=document, opts=child)
            self.credentials_document = pulumi.Output.secret(document)

        if args.alarm_topic_arn is not None:
            checks: list[tuple[str, str, str, float, str, str, int, str]] = [
                # (name, metric, comparison, threshold, what it means, statistic, period, missing data)
                ("cpu", "CPUUtilization", "GreaterThanThreshold", 80, "CPU above 80% for 15 minutes", "Average", 300, "notBreaching"),
                ("memory", "FreeableMemory", "LessThanThreshold", 512 * 1024 * 1024,
                 "less than 512 MiB freeable memory for 15 minutes", "Minimum", 300, "notBreaching"),
            ]
            if args.replication_lag_alarm_seconds is not None:
                # Published by a secondary cluster in its own region, in milliseconds, under dimensions
                # AWS does not document: the alarm reads both lag metrics under both sets (metric math,
                # components/contracts.lag_alarm_queries). Missing data breaches: no datapoints means the
                # copy is not replicating (rebuilt after a failover, detached, stalled) or holds the
                # writer; each is worth an operator's look.
                # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html
                aws.cloudwatch.MetricAlarm(
                    f"{name}-replication-lag-alarm",
                    alarm_description=(
                        f"{names.cluster}: lag into {args.region} above the RPO objective of {args.replication_lag_alarm_seconds}s, "
                        f"or no lag reported (not replicating: being rebuilt, detached, or holding the writer)"
                    ),
                    metric_queries=lag_alarm_queries(cluster.cluster_identifier, args.source_region, 60),
                    evaluation_periods=3,
                    threshold=args.replication_lag_alarm_seconds * 1000,
                    comparison_operator="GreaterThanThreshold",
                    treat_missing_data="breaching",
                    alarm_actions=[args.alarm_topic_arn],
                    ok_actions=[args.alarm_topic_arn],
                    opts=child,
                )
            for alarm_name, metric, comparison, threshold, why, statistic, period, missing in checks:
                aws.cloudwatch.MetricAlarm(
                    f"{name}-{alarm_name}-alarm",
                    alarm_description=f"{names.cluster}: {why}",
                    namespace="AWS/RDS",
                    metric_name=metric,
                    dimensions={"DBClusterIdentifier": cluster.cluster_identifier},
                    statistic=statistic,
                    period=period,
                    evaluation_periods=3,
                    threshold=threshold,
                    comparison_operator=comparison,
                    treat_missing_data=missing,
                    alarm_actions=[args.alarm_topic_arn],
                    ok_actions=[args.alarm_topic_arn],
                    opts=child,
                )

        if not args.is_primary:
            self.credentials_document = None
        self.writer_endpoint = writer_endpoint
        self.reader_endpoint = cluster.reader_endpoint
        self.cluster_id = cluster.cluster_identifier
        self.cluster_arn = cluster.arn
        self.global_cluster_id = global_cluster_id
        self.credentials_secret_arn = credentials_secret_arn
        self.credentials_secret_kms_key_arn = credentials_key_arn
        self.kms_key_arn = key.arn
        self.security_group_id = security_group.id
        self.port = MYSQL_PORT
        self.engine_version = args.engine_version
        self.parameter_digest = parameter_digest(args.engine_version, cluster_params, db_params)
        self.parameters = {"cluster": dict(cluster_params), "instance": dict(db_params)}
        self.cluster_parameter_group_name = cluster_pg.name
        self.instance_parameter_group_name = instance_pg.name
        self.subnet_group_name = subnet_group.name
        self.credentials_replicas = credentials_replicas
        self.register_outputs(
            {
                "writer_endpoint": self.writer_endpoint,
                "reader_endpoint": self.reader_endpoint,
                "cluster_id": self.cluster_id,
                "cluster_arn": self.cluster_arn,
                "global_cluster_id": self.global_cluster_id,
                "credentials_secret_arn": self.credentials_secret_arn,
                "credentials_secret_kms_key_arn": self.credentials_secret_kms_key_arn,
                "kms_key_arn": self.kms_key_arn,
                "security_group_id": self.security_group_id,
                "port": self.port,
                "parameter_digest": self.parameter_digest,
                "credentials_replicas": self.credentials_replicas,
            }
        )


def _replica_map(secret_arn: str, regions: Sequence[str], key_arns: Sequence[str]) -> dict[str, dict[str, str]]:
    return {region: {"secretArn": replica_secret_arn(secret_arn, region), "kmsKeyArn": key} for region, key in zip(regions, key_arns, strict=True)}


def check_matches_primary(local_digest: str, primary_digest: object, primary_stack: str) -> None:
    """A secondary must run what the primary runs, or a promotion changes the shop's database behaviour."""
    if primary_digest != local_digest:
        raise ConfigError(
            f"magento-dr:database here (engine version, auditLog) gives parameter digest {local_digest}, but "
            f"{primary_stack} exports {primary_digest!r}; make magento-dr:database.engineVersion and auditLog "
            f"the same in both stacks so a promoted cluster behaves like the primary"
        )


def database_args(
    settings: StackSettings,
    *,
    vpc_id: pulumi.Input[str],
    subnet_ids: Sequence[pulumi.Input[str]],
    availability_zones: Sequence[pulumi.Input[str]],
    client_security_group_ids: Sequence[pulumi.Input[str]],
    providers: Mapping[str, pulumi.ProviderResource],
    primary_stack: pulumi.StackReference | None,
    alarm_topic_arn: pulumi.Input[str] | None = None,
) -> GlobalDatabaseArgs:
    """The component's arguments for this stack: the primary replicates the credentials to its
    peer; a secondary reads the global cluster and its credentials replica from the primary's exports."""
    db = settings.database
    common: dict[str, Any] = {
        "role": settings.role,
        "stack": settings.stack,
        "region": settings.region,
        "engine_version": db.engine_version,
        "instance_class": db.instance_class,
        "instance_count": db.instance_count,
        "backup_retention_days": db.backup_retention_days,
        "write_forwarding": db.write_forwarding,
        "audit_log": db.audit_log,
        "protect": settings.protect,
        "vpc_id": vpc_id,
        "subnet_ids": subnet_ids,
        "availability_zones": availability_zones,
        "client_security_group_ids": client_security_group_ids,
        "alarm_topic_arn": alarm_topic_arn,
    }
    if settings.is_primary:
        return GlobalDatabaseArgs(**common, replica_providers={settings.peer.region: providers[settings.peer.region]})
    if primary_stack is None or settings.primary_stack is None:
        raise ConfigError("a secondary stack reads the database from magento-dr:primaryStack; set it")
    primary_name = settings.primary_stack
    shared: dict[str, Any] = {
        "primary_stack": primary_name,
        "global_cluster_id": primary_stack.get_output("globalClusterId"),
        "global_writer_endpoint": primary_stack.get_output("globalWriterEndpoint"),
        "primary_instance_count": primary_stack.get_output("dbInstanceCount"),
        # A database standby has no FailoverAutomation (whose lag alarm covers shop secondaries).
        "replication_lag_alarm_seconds": None if settings.serves_shop else settings.failover.rpo_seconds,
        "source_region": settings.peer.region,
        # A pilot-light standby (components/posture.py) keeps only the storage volume.
        "headless": settings.serves_shop and settings.standby.posture == "pilot-light",
    }
    if db.credentials == "copy":
        return GlobalDatabaseArgs(**common, **shared, credentials_copy=primary_stack.require_output("dbCredentialsDocument"))
    replica = primary_stack.get_output("dbCredentialsReplicas").apply(
        lambda replicas: select_credentials_replica(replicas, settings.region, primary_name)
    )
    return GlobalDatabaseArgs(
        **common,
        **shared,
        credentials_secret_arn=replica.apply(lambda r: r["secretArn"]),
        credentials_secret_kms_key_arn=replica.apply(lambda r: r["kmsKeyArn"]),
    )
