"""GlobalDatabase: pure helpers (table-tested) and both roles in the example stacks (Pulumi mocks)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import ConfigError
from components.global_database import (
    MAX_SECONDARY_REGIONS,
    PARAMETER_GROUP_FAMILY,
    GlobalDatabaseArgs,
    InstancePlacement,
    check_matches_primary,
    check_room_to_join,
    cluster_parameters,
    credentials_document,
    database_key_policy,
    database_names,
    instance_parameters,
    instance_placements,
    log_exports,
    parameter_digest,
    replica_secret_arn,
    select_credentials_replica,
    validate_replica_regions,
)
from offline.runner import ProgramFailed, Resource, StackGraph, load_stack_config, run_stack

GLOBAL = "aws:rds/globalCluster:GlobalCluster"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
PASSWORD = "random:index/randomPassword:RandomPassword"
# How the recording monitor shows a Pulumi secret: {<secret signature key>: <secret signature>, "value": ...}
SECRET_SIG = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")

# AWS's table of cluster-level Aurora MySQL parameters (the ones this project may set);
# anything else is instance-level, and putting it in the wrong group fails at `pulumi up`.
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Reference.ParameterGroups.html
AWS_CLUSTER_LEVEL = {
    "character_set_server",
    "collation_server",
    "require_secure_transport",
    "tls_version",
    "server_audit_logging",
    "server_audit_events",
    "server_audit_excl_users",
    "server_audit_incl_users",
    "binlog_format",
    "time_zone",
    "innodb_autoinc_lock_mode",
    "lower_case_table_names",
}


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG[0]) == SECRET_SIG[1]


def _plain(value: Any) -> Any:
    return value["value"] if _is_secret(value) else value


def _stack_database(stack: str) -> dict[str, Any]:
    return dict(load_stack_config(stack)["magento-dr:database"])


# =========================================================================== pure helpers


@pytest.mark.parametrize(
    ("stack", "count", "cluster", "instances", "global_cluster"),
    [
        ("primary", 2, "magento-dr-primary-db", ("magento-dr-primary-db-1", "magento-dr-primary-db-2"), "magento-dr-primary-global-db"),
        ("secondary", 1, "magento-dr-secondary-db", ("magento-dr-secondary-db-1",), "magento-dr-secondary-global-db"),
        ("Tokyo_DR", 3, "magento-dr-tokyo-dr-db", tuple(f"magento-dr-tokyo-dr-db-{i}" for i in (1, 2, 3)), "magento-dr-tokyo-dr-global-db"),
    ],
)
def test_database_names(stack: str, count: int, cluster: str, instances: tuple[str, ...], global_cluster: str) -> None:
    names = database_names(stack, "us-east-1", count)
    assert names.cluster == cluster and names.instances == instances and names.global_cluster == global_cluster
    assert names.final_snapshot == f"{cluster}-final" and names.key_alias == f"alias/{cluster}"
    # RDS identifiers: at most 63 characters, letters, digits and hyphens.
    for identifier in (names.cluster, names.global_cluster, *names.instances, names.final_snapshot):
        assert len(identifier) <= 63 and identifier.replace("-", "").isalnum()


def test_a_further_secondary_stack_gets_names_of_its_own() -> None:
    stacks = ["primary", "secondary", "secondary-ap", "secondary-sa"]
    clusters = {database_names(s, "r", 2).cluster for s in stacks}
    secrets = {database_names(s, "r", 2).secret for s in stacks}
    assert len(clusters) == len(secrets) == len(stacks)


@pytest.mark.parametrize(
    ("audit", "present", "absent"),
    [
        (False, {"require_secure_transport": "ON", "character_set_server": "utf8mb4"}, {"server_audit_logging"}),
        (True, {"server_audit_logging": "1", "require_secure_transport": "ON"}, set()),
    ],
)
def test_cluster_parameters(audit: bool, present: dict[str, str], absent: set[str]) -> None:
    parameters = cluster_parameters(audit_log=audit)
    for name, value in present.items():
        assert parameters[name] == value
    assert not absent & set(parameters)
    assert set(parameters) <= AWS_CLUSTER_LEVEL, "an instance-level parameter in the cluster group fails at apply"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("log_bin_trust_function_creators", "1"),  # Magento's indexer triggers with binary logging on
        ("max_allowed_packet", str(64 * 1024 * 1024)),
        ("explicit_defaults_for_timestamp", "1"),
        ("tmp_table_size", str(64 * 1024 * 1024)),
        ("max_heap_table_size", str(64 * 1024 * 1024)),
        ("slow_query_log", "1"),
        ("log_output", "FILE"),  # CloudWatch export reads the slow log from files
    ],
)
def test_instance_parameters_carry_what_magento_needs(name: str, value: str) -> None:
    parameters = instance_parameters()
    assert parameters[name] == value
    assert not set(parameters) & AWS_CLUSTER_LEVEL


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("8.0.mysql_aurora.3.10.0", False), ("8.0.mysql_aurora.3.10.0", False), True),
        (("8.0.mysql_aurora.3.10.0", False), ("8.0.mysql_aurora.3.10.0", True), False),
        (("8.0.mysql_aurora.3.10.0", False), ("8.0.mysql_aurora.3.09.0", False), False),
    ],
)
def test_parameter_digest_changes_with_what_a_promoted_cluster_would_run(a: tuple[str, bool], b: tuple[str, bool], same: bool) -> None:
    def digest(version: str, audit: bool) -> str:
        return parameter_digest(version, cluster_parameters(audit_log=audit), instance_parameters())

    assert (digest(*a) == digest(*b)) is same


@pytest.mark.parametrize(("audit", "expected"), [(False, ("error", "slowquery")), (True, ("error", "slowquery", "audit"))])
def test_log_exports(audit: bool, expected: tuple[str, ...]) -> None:
    assert log_exports(audit_log=audit) == expected


@pytest.mark.parametrize(
    ("count", "azs", "expected"),
    [
        (1, 3, [(0, 0)]),
        (2, 3, [(0, 0), (1, 0)]),
        (2, 2, [(0, 0), (1, 0)]),
        (4, 3, [(0, 0), (1, 0), (2, 0), (0, 1)]),
        (5, 2, [(0, 0), (1, 0), (0, 1), (1, 1), (0, 1)]),
    ],
)
def test_instances_spread_round_robin_over_azs(count: int, azs: int, expected: list[tuple[int, int]]) -> None:
    placements = instance_placements(count, azs)
    assert [(p.az_index, p.promotion_tier) for p in placements] == expected
    assert placements[0] == InstancePlacement(index=0, az_index=0, promotion_tier=0)


def test_instance_placement_needs_an_az() -> None:
    with pytest.raises(ValueError, match="at least one availability zone"):
        instance_placements(2, 0)


@pytest.mark.parametrize(
    ("arn", "region", "expected"),
    [
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-a1b2c3",
            "eu-west-1",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-a1b2c3",
        ),
        (
            "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x-y-z-a1b2c3",
            "cn-northwest-1",
            "arn:aws-cn:secretsmanager:cn-northwest-1:123456789012:secret:x-y-z-a1b2c3",
        ),
    ],
)
def test_replica_secret_arn_changes_only_the_region(arn: str, region: str, expected: str) -> None:
    assert replica_secret_arn(arn, region) == expected


@pytest.mark.parametrize("arn", ["arn:aws:kms:us-east-1:123456789012:key/abc", "not-an-arn"])
def test_replica_secret_arn_rejects_other_arns(arn: str) -> None:
    with pytest.raises(ValueError, match="not a Secrets Manager secret ARN"):
        replica_secret_arn(arn, "eu-west-1")


def test_credentials_document_has_what_magento_and_rds_tools_expect() -> None:
    document = json.loads(credentials_document(password="pw", host="g.global-x.global.rds.amazonaws.com"))
    assert document == {
        "engine": "mysql",
        "username": "magento",
        "password": "pw",
        "host": "g.global-x.global.rds.amazonaws.com",
        "port": 3306,
        "dbname": "magento",
    }


REGIONS_11 = [f"eu-west-{i}" for i in range(1, 4)] + [f"ap-south-{i}" for i in range(1, 3)] + [f"us-west-{i}" for i in range(1, 3)] + [
    "sa-east-1",
    "ca-central-1",
    "me-south-1",
    "af-south-1",
]


@pytest.mark.parametrize(
    ("regions", "error"),
    [
        (["eu-west-1"], None),
        (REGIONS_11[:MAX_SECONDARY_REGIONS], None),
        ([], "at least one secondary region"),
        (REGIONS_11, "at most 10"),
        (["us-east-1"], "primary region"),
        (["eu-west-1", "eu-west-1"], "repeat"),
    ],
)
def test_validate_replica_regions(regions: list[str], error: str | None) -> None:
    assert len(REGIONS_11) == MAX_SECONDARY_REGIONS + 1
    if error is None:
        assert validate_replica_regions("us-east-1", regions) == tuple(regions)
    else:
        with pytest.raises(ValueError, match=error):
            validate_replica_regions("us-east-1", regions)


REPLICAS = {"eu-west-1": {"secretArn": "arn:s", "kmsKeyArn": "arn:k"}}


@pytest.mark.parametrize(
    ("replicas", "region", "error"),
    [
        (REPLICAS, "eu-west-1", None),
        (REPLICAS, "ap-southeast-2", "not to ap-southeast-2"),
        ({}, "eu-west-1", "not to eu-west-1"),
        (None, "eu-west-1", "magento-dr:database.credentials to copy"),
        ({"eu-west-1": {"secretArn": "arn:s"}}, "eu-west-1", "not to eu-west-1"),
    ],
)
def test_select_credentials_replica(replicas: Any, region: str, error: str | None) -> None:
    if error is None:
        assert select_credentials_replica(replicas, region, "org/magento-dr/primary") == REPLICAS[region]
    else:
        with pytest.raises(ConfigError, match=error) as failed:
            select_credentials_replica(replicas, region, "org/magento-dr/primary")
        assert "org/magento-dr/primary" in str(failed.value)


def test_check_matches_primary() -> None:
    check_matches_primary("abc", "abc", "org/p/primary")
    with pytest.raises(ConfigError, match="engineVersion and auditLog"):
        check_matches_primary("abc", "def", "org/p/primary")
    with pytest.raises(ConfigError, match="org/p/primary"):
        check_matches_primary("abc", None, "org/p/primary")


def test_database_key_lets_cloudwatch_logs_use_it_for_this_clusters_log_groups_only() -> None:
    policy = json.loads(database_key_policy("123456789012", "us-east-1", "magento-dr-primary-db"))
    logs = next(s for s in policy["Statement"] if s.get("Principal", {}).get("Service") == "logs.us-east-1.amazonaws.com")
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/rds/cluster/magento-dr-primary-db/*"
    )
    for statement in policy["Statement"]:
        assert "*" not in statement["Action"] and "kms:*" not in statement["Action"]


# --------------------------------------------------------------------------- argument validation
def _args(**changes: Any) -> GlobalDatabaseArgs:
    base: dict[str, Any] = {
        "role": "primary",
        "stack": "primary",
        "region": "us-east-1",
        "engine_version": "8.0.mysql_aurora.3.10.0",
        "instance_class": "db.r7g.large",
        "instance_count": 2,
        "backup_retention_days": 7,
        "vpc_id": "vpc-1",
        "subnet_ids": ["subnet-a", "subnet-b"],
        "availability_zones": ["us-east-1a", "us-east-1b"],
        "client_security_group_ids": ["sg-web"],
        "replica_providers": {"eu-west-1": object()},
    }
    if changes.get("role") == "secondary":
        base.update(
            region="eu-west-1",
            stack="secondary",
            instance_count=1,
            replica_providers={},
            primary_stack="org/magento-dr/primary",
            global_cluster_id="g",
            global_writer_endpoint="g.global",
            credentials_secret_arn="arn:s",
            credentials_secret_kms_key_arn="arn:k",
        )
    base.update(changes)
    return GlobalDatabaseArgs(**base)


def test_valid_args_for_both_roles() -> None:
    assert _args().is_primary
    assert not _args(role="secondary").is_primary
    assert _args(role="secondary", instance_count=16).instance_count == 16
    assert _args(instance_count=15).instance_count == 15


BAD_ARGS: list[tuple[dict[str, Any], str]] = [
    ({"role": "tertiary"}, "role must be primary or secondary"),
    ({"engine_version": "5.7.mysql_aurora.2.11.2"}, "not an Aurora MySQL 3 version"),
    ({"engine_version": "8.4.7"}, "not an Aurora MySQL 3 version"),
    ({"instance_class": "db.t4g.medium"}, "memory-optimized"),
    ({"instance_class": "db.serverless"}, "memory-optimized"),
    ({"instance_count": 1}, "must be 2 to 15"),
    ({"instance_count": 16}, "15 - s replicas"),
    ({"role": "secondary", "instance_count": 0}, "must be 1 to 16"),
    ({"role": "secondary", "instance_count": 17}, "16 read-only instances"),
    ({"backup_retention_days": 6}, "7 to 35 days"),
    ({"backup_retention_days": 36}, "7 to 35 days"),
    ({"subnet_ids": ["subnet-a"], "availability_zones": ["us-east-1a"]}, "at least two availability zones"),
    ({"availability_zones": ["us-east-1a", "us-east-1b", "us-east-1c"]}, "same AZs"),
    ({"client_security_group_ids": []}, "web tier's security group"),
    ({"replica_providers": {}}, "at least one secondary region"),
    ({"replica_providers": {r: object() for r in REGIONS_11}}, "at most 10"),
    ({"replica_providers": {"us-east-1": object()}}, "primary region"),
    ({"global_cluster_id": "g"}, "the primary owns them"),
    ({"role": "secondary", "global_cluster_id": None}, "needs global_cluster_id"),
    ({"role": "secondary", "credentials_secret_arn": None, "credentials_secret_kms_key_arn": None}, "credentials_secret_arn"),
    ({"role": "secondary", "replica_providers": {"us-east-1": object()}}, "owns the credentials secret"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_ARGS, ids=[m for _, m in BAD_ARGS])
def test_bad_args_say_what_to_change(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _args(**changes)


# =========================================================================== both roles in the example stacks


def _cluster(stack: StackGraph) -> Resource:
    return stack.one(CLUSTER, "database-cluster")


def _key(stack: StackGraph) -> Resource:
    return stack.named("database-key")


def test_regional_cluster_is_aurora_mysql_3_encrypted_with_the_regions_rotating_key(stack: StackGraph) -> None:
    cluster, key = _cluster(stack), _key(stack)
    assert cluster.inputs["engine"] == "aurora-mysql"
    assert cluster.inputs["engineVersion"] == _stack_database(stack.stack)["engineVersion"] == "8.0.mysql_aurora.3.10.0"
    assert cluster.inputs["storageEncrypted"] is True
    assert cluster.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    assert key.region == cluster.region == stack.exports["region"]
    assert stack.exports["dbKmsKeyArn"] == key.outputs["arn"]


def test_primary_declares_the_encrypted_protected_global_cluster(primary: StackGraph) -> None:
    global_cluster = primary.one(GLOBAL)
    assert global_cluster.inputs["engine"] == "aurora-mysql"
    assert global_cluster.inputs["engineVersion"] == "8.0.mysql_aurora.3.10.0"
    assert global_cluster.inputs["storageEncrypted"] is True
    assert global_cluster.inputs["deletionProtection"] is True
    assert global_cluster.protect
    assert _cluster(primary).inputs["globalClusterIdentifier"] == global_cluster.outputs["globalClusterIdentifier"]
    assert primary.exports["globalClusterId"] == "magento-dr-primary-global-db"


def test_secondary_joins_the_primarys_global_cluster_and_declares_none(primary: StackGraph, secondary: StackGraph) -> None:
    assert secondary.of_type(GLOBAL) == []
    cluster = _cluster(secondary)
    assert cluster.inputs["globalClusterIdentifier"] == primary.one(GLOBAL).outputs["globalClusterIdentifier"]
    assert secondary.exports["globalClusterId"] == primary.exports["globalClusterId"]
    # A secondary inherits credentials and schema; it never sets them.
    for key in ("masterUsername", "masterPassword", "databaseName"):
        assert key not in cluster.inputs
    assert not [r for r in secondary.of_type(SECRET) + secondary.of_type(PASSWORD) if r.name.startswith("database-")]


def test_cluster_backups_final_snapshot_and_deletion_protection(stack: StackGraph) -> None:
    cluster = _cluster(stack).inputs
    assert cluster["deletionProtection"] is True
    assert cluster["backupRetentionPeriod"] == _stack_database(stack.stack)["backupRetentionDays"] >= 7
    assert cluster["skipFinalSnapshot"] is False
    assert cluster["finalSnapshotIdentifier"] == f"{cluster['clusterIdentifier']}-final"
    assert cluster["copyTagsToSnapshot"] is True
    assert cluster["deleteAutomatedBackups"] is False


def test_default_backup_retention_is_a_week() -> None:
    database = {k: v for k, v in _stack_database("primary").items() if k != "backupRetentionDays"}
    graph = run_stack("primary", overrides={"magento-dr:database": database})
    assert _cluster(graph).inputs["backupRetentionPeriod"] == 7


def test_logs_go_to_encrypted_precreated_log_groups(stack: StackGraph) -> None:
    cluster = _cluster(stack)
    assert cluster.inputs["enabledCloudwatchLogsExports"] == ["error", "slowquery"]
    groups = {g.inputs["name"]: g for g in stack.of_type("aws:cloudwatch/logGroup:LogGroup") if g.name.startswith("database-")}
    prefix = f"/aws/rds/cluster/{cluster.inputs['clusterIdentifier']}/"
    assert set(groups) == {prefix + "error", prefix + "slowquery"}
    for group in groups.values():
        assert group.inputs["kmsKeyId"] == _key(stack).outputs["arn"] and group.inputs["retentionInDays"] > 0
        assert group.urn in cluster.dependencies


def test_audit_log_option_exports_audit_and_turns_server_audit_on() -> None:
    graph = run_stack("primary", overrides={"magento-dr:database": {**_stack_database("primary"), "auditLog": True}})
    assert "audit" in _cluster(graph).inputs["enabledCloudwatchLogsExports"]
    params = {p["name"]: p["value"] for p in graph.named("database-cluster-params").inputs["parameters"]}
    assert params["server_audit_logging"] == "1"


def test_parameter_groups_are_aurora_mysql8_with_magentos_settings(stack: StackGraph) -> None:
    cluster_pg = stack.named("database-cluster-params")
    instance_pg = stack.named("database-instance-params")
    assert cluster_pg.inputs["family"] == instance_pg.inputs["family"] == PARAMETER_GROUP_FAMILY == "aurora-mysql8.0"
    instance_params = {p["name"]: p["value"] for p in instance_pg.inputs["parameters"]}
    assert instance_params["log_bin_trust_function_creators"] == "1"
    assert int(instance_params["max_allowed_packet"]) >= 64 * 1024 * 1024
    assert instance_params["explicit_defaults_for_timestamp"] == "1"
    assert int(instance_params["tmp_table_size"]) == int(instance_params["max_heap_table_size"]) >= 64 * 1024 * 1024
    cluster_params = {p["name"]: p["value"] for p in cluster_pg.inputs["parameters"]}
    assert cluster_params["require_secure_transport"] == "ON"
    # The groups are actually used.
    assert _cluster(stack).inputs["dbClusterParameterGroupName"] == cluster_pg.outputs["name"]
    for instance in stack.of_type(INSTANCE):
        assert instance.inputs["dbParameterGroupName"] == instance_pg.outputs["name"]


def test_both_regions_run_identical_parameters(primary: StackGraph, secondary: StackGraph) -> None:
    for name in ("database-cluster-params", "database-instance-params"):
        a, b = primary.named(name).inputs, secondary.named(name).inputs
        assert (a["family"], a["parameters"]) == (b["family"], b["parameters"])
    assert primary.exports["dbParameterDigest"] == secondary.exports["dbParameterDigest"]


@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_instances_spread_over_azs_private_with_insights(role: str, primary: StackGraph, secondary: StackGraph) -> None:
    stack = primary if role == "primary" else secondary
    instances = stack.of_type(INSTANCE)
    expected = _stack_database(role)["instanceCount"]
    assert len(instances) == expected >= (2 if role == "primary" else 1)
    azs = [i.inputs["availabilityZone"] for i in instances]
    assert len(set(azs)) == len(azs), f"instances share an AZ: {azs}"
    assert all(az.startswith(stack.exports["region"]) for az in azs)
    for instance in instances:
        inputs = instance.inputs
        assert inputs["publiclyAccessible"] is False
        assert inputs["instanceClass"] == "db.r7g.large"
        assert inputs["clusterIdentifier"] == _cluster(stack).outputs["clusterIdentifier"]
        assert inputs["performanceInsightsEnabled"] is True
        assert inputs["performanceInsightsKmsKeyId"] == _key(stack).outputs["arn"]
        assert inputs["autoMinorVersionUpgrade"] is False  # 3.10 is an LTS release


def test_cluster_lives_in_the_data_subnets(stack: StackGraph) -> None:
    group = stack.one("aws:rds/subnetGroup:SubnetGroup")
    data_ids = {_subnet_id(s) for s in stack.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["tier"] == "data"}
    assert len(data_ids) == 3 and set(group.inputs["subnetIds"]) == data_ids
    assert _cluster(stack).inputs["dbSubnetGroupName"] == group.inputs["name"]
    for instance in stack.of_type(INSTANCE):
        assert instance.inputs["dbSubnetGroupName"] == group.inputs["name"]


def _subnet_id(subnet: Resource) -> str:
    # The mock's ids are deterministic: "subnet-" + digest of (token, name, region).
    from offline.mocks import _digest

    return f"subnet-{_digest(subnet.type, subnet.name, str(subnet.region))}"


def test_security_group_admits_mysql_from_the_web_tier_only(stack: StackGraph) -> None:
    sg = stack.named("database-sg")
    app_sg_id = _sg_id(stack, stack.named("network-app-sg"))
    assert sg.inputs["ingress"] == [
        {"description": "MySQL from the web tier", "fromPort": 3306, "toPort": 3306, "protocol": "tcp", "securityGroups": [app_sg_id]}
    ]
    assert not sg.inputs["egress"]
    assert _cluster(stack).inputs["vpcSecurityGroupIds"] == [stack.exports["dbSecurityGroupId"]]
    assert stack.exports["dbPort"] == 3306


def _sg_id(stack: StackGraph, group: Resource) -> str:
    from offline.mocks import _digest

    return f"sg-{_digest(group.type, group.name, str(group.region))}"


def test_credentials_secret_is_encrypted_and_replicated_to_the_peer_with_a_peer_key(primary: StackGraph) -> None:
    secret = primary.one(SECRET, "database-credentials")
    assert secret.inputs["kmsKeyId"] == _key(primary).outputs["arn"]
    peer_key = primary.named("database-peer-eu-west-1-credentials-key")
    assert peer_key.region == primary.exports["peerRegion"] == "eu-west-1"
    assert peer_key.inputs["enableKeyRotation"] is True and peer_key.protect
    assert secret.inputs["replicas"] == [{"region": "eu-west-1", "kmsKeyId": peer_key.outputs["arn"]}]
    assert secret.inputs["recoveryWindowInDays"] == 30
    replicas = primary.exports["dbCredentialsReplicas"]
    assert replicas == {
        "eu-west-1": {"secretArn": secret.outputs["arn"].replace(":us-east-1:", ":eu-west-1:"), "kmsKeyArn": peer_key.outputs["arn"]}
    }


def test_secondary_reads_the_replica_in_its_own_region(primary: StackGraph, secondary: StackGraph) -> None:
    replica = primary.exports["dbCredentialsReplicas"]["eu-west-1"]
    assert secondary.exports["dbSecretArn"] == replica["secretArn"]
    assert secondary.exports["dbSecretArn"].startswith("arn:aws:secretsmanager:eu-west-1:")
    assert secondary.exports["dbSecretKmsKeyArn"] == replica["kmsKeyArn"]


def test_password_is_generated_secret_and_never_exported_in_plain_text(primary: StackGraph, secondary: StackGraph) -> None:
    password = primary.one(PASSWORD, "database-master-password")
    assert password.protect and password.inputs["length"] <= 41  # RDS allows 8 to 41 characters
    assert not set(password.inputs["overrideSpecial"]) & set('/"@ ')
    cluster_password = _cluster(primary).inputs["masterPassword"]
    assert _is_secret(cluster_password)
    version = primary.one(SECRET_VERSION, "database-credentials-value")
    assert _is_secret(version.inputs["secretString"])
    document = json.loads(_plain(version.inputs["secretString"]))
    assert document["password"] == _plain(cluster_password)
    assert document["host"] == primary.exports["globalWriterEndpoint"]
    for graph in (primary, secondary):
        # The password may travel in an export only as a Pulumi secret (encrypted in state):
        # the primary's credentials document, which a secondary without a replica copies.
        for name, value in graph.exports.items():
            if _plain(cluster_password) in json.dumps(value):
                assert name == "dbCredentialsDocument" and _is_secret(value), f"{name} exposes the password"


def test_everyone_connects_through_the_global_writer_endpoint(primary: StackGraph, secondary: StackGraph) -> None:
    endpoint = primary.one(GLOBAL).outputs["endpoint"]
    assert primary.exports["globalWriterEndpoint"] == secondary.exports["globalWriterEndpoint"] == endpoint
    assert ".global.rds.amazonaws.com" in endpoint
    for graph in (primary, secondary):
        assert graph.exports["dbReaderEndpoint"] == _cluster(graph).outputs["readerEndpoint"]
        assert f".{graph.exports['region']}.rds." in graph.exports["dbReaderEndpoint"]
        # No CNAME of ours points at a database endpoint (the pattern the global endpoint replaced).
        for record in graph.of_type("aws:route53/record:Record"):
            assert "rds.amazonaws.com" not in json.dumps(record.inputs.get("records", []))


@pytest.mark.parametrize("name", ["database-global", "database-cluster", "database-key", "database-credentials", "database-peer-eu-west-1-credentials-key"])
def test_stateful_resources_are_protected(name: str, primary: StackGraph) -> None:
    assert primary.named(name).protect


def test_secondary_stateful_resources_are_protected(secondary: StackGraph) -> None:
    assert _cluster(secondary).protect and _key(secondary).protect


def test_protect_false_is_honoured(unprotected_primary: StackGraph) -> None:
    graph = unprotected_primary
    assert not _cluster(graph).protect and not graph.one(GLOBAL).protect
    # AWS deletion protection stays on regardless: an unprotected destroy still cannot drop data.
    assert _cluster(graph).inputs["deletionProtection"] is True


def test_properties_aws_changes_under_us_never_diff(stack: StackGraph) -> None:
    ignored = set(_cluster(stack).ignore_changes)
    assert {"engineVersion", "globalClusterIdentifier", "replicationSourceIdentifier"} <= ignored
    # ...but nothing that protects the data is ignored.
    assert not ignored & {"deletionProtection", "storageEncrypted", "backupRetentionPeriod", "skipFinalSnapshot"}


def test_write_forwarding_follows_config(primary: StackGraph) -> None:
    assert _cluster_of(primary, "secondary", {}).inputs["enableGlobalWriteForwarding"] is False
    assert _cluster_of(primary, "secondary", {"writeForwarding": True}).inputs["enableGlobalWriteForwarding"] is True


def _cluster_of(primary: StackGraph, stack: str, database: dict[str, Any]) -> Resource:
    overrides = {"magento-dr:database": {**_stack_database(stack), **database}}
    return _cluster(run_stack(stack, overrides=overrides, peer_exports=primary.exports))


def test_alarms_report_to_the_regions_topic(stack: StackGraph) -> None:
    alarms = [a for a in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if a.name.startswith("database-")]
    assert {a.inputs["metricName"] for a in alarms} == {"CPUUtilization", "FreeableMemory"}
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [stack.exports["notificationTopicArn"]]
        assert alarm.inputs["dimensions"] == {"DBClusterIdentifier": stack.exports["dbClusterId"]}


# --------------------------------------------------------------------------- program-level errors
def test_secondary_refuses_a_primary_with_different_parameters(primary: StackGraph) -> None:
    overrides = {"magento-dr:database": {**_stack_database("secondary"), "auditLog": True}}
    with pytest.raises(ProgramFailed) as failed:
        run_stack("secondary", overrides=overrides, peer_exports=primary.exports)
    assert isinstance(failed.value.cause, ConfigError) and "parameter digest" in str(failed.value.cause)


def test_secondary_refuses_to_run_without_a_credentials_replica_in_its_region(primary: StackGraph) -> None:
    exports = {**primary.exports, "dbCredentialsReplicas": {}}
    with pytest.raises(ProgramFailed) as failed:
        run_stack("secondary", peer_exports=exports)
    assert isinstance(failed.value.cause, ConfigError) and "not to eu-west-1" in str(failed.value.cause)


@pytest.mark.parametrize(
    ("stack", "database", "words"),
    [
        ("primary", {"instanceCount": 16}, "between 2 and 15"),
        ("secondary", {"instanceCount": 17}, "magento-dr:database.instanceCount"),
        ("primary", {"instanceClass": "db.t4g.medium"}, "magento-dr:database.instanceClass"),
        ("primary", {"backupRetentionDays": 3}, "magento-dr:database.backupRetentionDays"),
    ],
)
def test_out_of_range_database_settings_stop_the_program(stack: str, database: dict[str, Any], words: str, primary: StackGraph) -> None:
    overrides = {"magento-dr:database": {**_stack_database(stack), **database}}
    with pytest.raises(ProgramFailed) as failed:
        run_stack(stack, overrides=overrides, peer_exports=primary.exports if stack == "secondary" else None)
    assert words in str(failed.value.cause)


# ---------------------------------------------------------------- credentials without a replica
def test_a_secondary_can_keep_its_own_copy_of_the_credentials(primary: StackGraph) -> None:
    # A standby region the primary does not replicate to: `database.credentials: copy` in its own file.
    database = {**_stack_database("secondary"), "credentials": "copy"}
    graph = run_stack("secondary", overrides={"magento-dr:database": database}, peer_exports=primary.exports)
    secret = graph.one("aws:secretsmanager/secret:Secret", "database-credentials")
    key = graph.one("aws:kms/key:Key", "database-key")
    assert secret.region == "eu-west-1" and secret.inputs["kmsKeyId"] == key.outputs["arn"] and secret.protect
    assert "replicas" not in secret.inputs or not secret.inputs["replicas"]
    value = graph.one("aws:secretsmanager/secretVersion:SecretVersion", "database-credentials-value")
    assert value.inputs["secretString"] == primary.exports["dbCredentialsDocument"]
    assert graph.exports["dbSecretArn"] == secret.outputs["arn"] and graph.exports["dbSecretKmsKeyArn"] == key.outputs["arn"]


def test_a_secondary_without_a_replica_is_told_about_the_copy(primary: StackGraph) -> None:
    with pytest.raises(ProgramFailed) as failed:
        run_stack("secondary", peer_exports={**primary.exports, "dbCredentialsReplicas": {}})
    assert "magento-dr:database.credentials" in str(failed.value.cause) and "copy" in str(failed.value.cause)


# ---------------------------------------------------------------- room in the global cluster
def _arn(region: str, cluster: str) -> str:
    return f"arn:aws:rds:{region}:123456789012:cluster:{cluster}"


PRIMARY_ARN = _arn("us-east-1", "magento-dr-primary-db")
TEN_SECONDARIES = [_arn(f"ap-south-{i}", f"standby-{i}") for i in range(1, 11)]

ROOM_CASES = [
    # (members, region, own cluster id, error words or None)
    ([PRIMARY_ARN], "us-west-2", "bunker-db", None),
    ([PRIMARY_ARN, _arn("us-west-2", "bunker-db")], "us-west-2", "bunker-db", None),  # a re-run: already a member
    ([PRIMARY_ARN, *TEN_SECONDARIES[:9]], "us-west-2", "bunker-db", None),  # the 10th secondary still fits
    ([PRIMARY_ARN, *TEN_SECONDARIES], "us-west-2", "bunker-db", ["already has 10 secondary regions", "AWS's limit of 10"]),
    ([PRIMARY_ARN, *TEN_SECONDARIES[:9], _arn("us-west-2", "bunker-db")], "us-west-2", "bunker-db", None),
    ([PRIMARY_ARN, _arn("us-west-2", "other-db")], "us-west-2", "bunker-db", ["already has a cluster in us-west-2", "one cluster per region"]),
    ([PRIMARY_ARN], "us-east-1", "bunker-db", ["already has a cluster in us-east-1"]),
]


@pytest.mark.parametrize(
    ("primary_instances", "members", "words"),
    [
        # the primary's instance cap is 16 - s with s secondaries, this joining one included
        (15, [PRIMARY_ARN], None),  # s = 1: 1 writer + 14 readers
        (15, [PRIMARY_ARN, _arn("eu-west-1", "secondary-db")], ["runs 15 database instances", "2 secondary regions", "to 14"]),
        (14, [PRIMARY_ARN, _arn("eu-west-1", "secondary-db")], None),
        (14, [PRIMARY_ARN, _arn("eu-west-1", "secondary-db"), _arn("us-west-2", "bunker-db")], None),  # a re-run: s stays 2
        (6, [PRIMARY_ARN, *TEN_SECONDARIES[:9]], None),  # s = 10: 1 writer + 5 readers
        (7, [PRIMARY_ARN, *TEN_SECONDARIES[:9]], ["1 writer + 5 readers", "to 6"]),
    ],
)
def test_the_primary_instance_cap_shrinks_with_each_secondary(primary_instances: int, members: list[str], words: list[str] | None) -> None:
    if words is None:
        assert check_room_to_join("gdb", members, "us-west-2", "bunker-db", primary_instances) == "gdb"
        return
    with pytest.raises(ConfigError) as error:
        check_room_to_join("gdb", members, "us-west-2", "bunker-db", primary_instances)
    for word in words:
        assert word in str(error.value), str(error.value)


@pytest.mark.parametrize(("members", "region", "cluster", "words"), ROOM_CASES)
def test_room_to_join_the_global_cluster(members: list[str], region: str, cluster: str, words: list[str] | None) -> None:
    if words is None:
        assert check_room_to_join("gdb", members, region, cluster) == "gdb"
        return
    with pytest.raises(ConfigError) as error:
        check_room_to_join("gdb", members, region, cluster)
    for word in words:
        assert word in str(error.value)


def test_a_secondary_joins_only_through_the_room_check(primary: StackGraph) -> None:
    # The live global cluster already holds the primary and ten secondaries: the 11th stops, naming the limit.
    members = [primary.exports["dbClusterArn"], *TEN_SECONDARIES]
    with pytest.raises(ProgramFailed) as failed:
        run_stack("secondary", peer_exports=primary.exports, global_cluster_members=members)
    assert isinstance(failed.value.cause, ConfigError) and "AWS's limit of 10" in str(failed.value.cause)
    assert not any(r.endswith("$aws:rds/cluster:Cluster::database-cluster") for r in failed.value.declared)


def test_the_primary_exports_its_instance_count_for_the_cap(primary: StackGraph) -> None:
    assert primary.exports["dbInstanceCount"] == len(primary.of_type(INSTANCE)) == 2
