"""The real-account readiness check, against moto: read-only, clear about what is wrong."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

import emulator
from drill.readiness import HANDLER_ACTIONS, Check, Readiness, evaluate_locally, planned_drill
from offline.runner import StackGraph

P, S = "us-east-1", "eu-west-1"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handlers/failover.py", "def lambda_handler(e, c):\n    return {}\n")
    return buf.getvalue()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": P}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    emulator.install()  # GetAccountSettings and the Global Datastore, which moto lacks
    with mock_aws():
        emulator.reset()
        yield


def _world(
    engine_secondary: str = "8.0.mysql_aurora.3.10.0", health_checks: bool = True, reserve: bool = True, media_ownership: str = "BucketOwnerPreferred"
) -> tuple[dict[str, Any], dict[str, Any]]:
    outputs: dict[str, dict[str, Any]] = {}
    datastore = ""
    iam = boto3.client("iam", region_name=P)
    role = iam.create_role(RoleName="failover", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="failover",
        PolicyName="handler",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(HANDLER_ACTIONS), "Resource": "*"}]}),
    )
    rds_p = boto3.client("rds", region_name=P)
    rds_p.create_global_cluster(GlobalClusterIdentifier="gdb", Engine="aurora-mysql", EngineVersion="8.0.mysql_aurora.3.10.0")
    r53 = boto3.client("route53", region_name=P)
    for stack, region, version in (("primary", P, "8.0.mysql_aurora.3.10.0"), ("secondary", S, engine_secondary)):
        kwargs: dict[str, Any] = {"MasterUsername": "a", "MasterUserPassword": "password123"} if stack == "primary" else {}
        cluster = boto3.client("rds", region_name=region).create_db_cluster(
            DBClusterIdentifier=f"{stack}-db", Engine="aurora-mysql", EngineVersion=version, GlobalClusterIdentifier="gdb", **kwargs
        )["DBCluster"]
        ec2 = boto3.client("ec2", region_name=region)
        ec2.create_launch_template(LaunchTemplateName=f"{stack}-web", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "m7g.large"})
        boto3.client("autoscaling", region_name=region).create_auto_scaling_group(
            AutoScalingGroupName=f"{stack}-web",
            LaunchTemplate={"LaunchTemplateName": f"{stack}-web"},
            MinSize=1,
            MaxSize=8,
            DesiredCapacity=1,
            AvailabilityZones=[f"{region}a"],
        )
        lam = boto3.client("lambda", region_name=region)
        lam.create_function(
            FunctionName=f"{stack}-failover",
            Runtime="python3.13",
            Role=role,
            Handler="handlers.failover.lambda_handler",
            Code={"ZipFile": _zip()},
            Environment={"Variables": {"MDR_MODE": "automatic", "MDR_RPO_SECONDS": "60"}},
        )
        if reserve:
            lam.put_function_concurrency(FunctionName=f"{stack}-failover", ReservedConcurrentExecutions=1)
        s3 = boto3.client("s3", region_name=region)
        bucket = f"{stack}-media"
        s3.create_bucket(Bucket=bucket, **({} if region == P else {"CreateBucketConfiguration": {"LocationConstraint": region}}))
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": media_ownership}]})
        cache = boto3.client("elasticache", region_name=region)
        cache_kwargs: dict[str, Any] = (
            {"Engine": "valkey", "EngineVersion": "8.0", "CacheNodeType": "cache.r7g.large", "AtRestEncryptionEnabled": True, "TransitEncryptionEnabled": True}
            if stack == "primary"
            else {"GlobalReplicationGroupId": datastore}
        )
        cache.create_replication_group(
            ReplicationGroupId=f"{stack}-sessions", ReplicationGroupDescription="x", AuthToken="a" * 32, NumCacheClusters=2, **cache_kwargs
        )
        if stack == "primary":
            datastore = cache.create_global_replication_group(GlobalReplicationGroupIdSuffix="sessions", PrimaryReplicationGroupId="primary-sessions")[
                "GlobalReplicationGroup"
            ]["GlobalReplicationGroupId"]
        ids = {}
        if health_checks:
            for kind in ("https", "writer", "calculated"):
                ids[kind] = r53.create_health_check(
                    CallerReference=f"{stack}-{kind}",
                    HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": f"{region}.shop.example.com", "Port": 443, "ResourcePath": "/"},
                )["HealthCheck"]["Id"]
        outputs[stack] = {
            "region": region,
            "globalClusterId": "gdb",
            "dbClusterId": f"{stack}-db",
            "dbClusterArn": cluster["DBClusterArn"],
            "asgName": f"{stack}-web",
            "failoverFunctionName": f"{stack}-failover",
            "productionCapacity": {"min_size": 2, "desired_capacity": 3, "max_size": 8},
            "healthCheckIds": ids or {"https": "gone-1"},
            "mediaBucketName": bucket,
            "cacheReplicationGroupId": f"{stack}-sessions",
            "cacheGlobalDatastoreId": datastore,
        }
    boto3.client("cloudwatch", region_name=S).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "AuroraGlobalDBReplicationLag",
                "Dimensions": [{"Name": "DBClusterIdentifier", "Value": "secondary-db"}],
                "Value": 700.0,
                "Unit": "Milliseconds",
            }
        ],
    )
    return outputs["primary"], outputs["secondary"]


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_healthy_world_is_ready(aws: None, tmp_path: Path) -> None:
    p, s = _world()
    checks = Readiness(p, s, reports_dir=tmp_path).run()
    failed = [c.line() for c in checks if not c.ok and not c.warning]
    assert not failed, failed
    names = _by_name(checks)
    assert names["secondary in sync"].ok and names["engine versions equal"].ok and names["replication lag ≤ RPO"].ok
    assert names["eu-west-1 IAM permissions"].ok and "all 17 handler actions" in names["eu-west-1 IAM permissions"].detail
    assert names["last drill"].warning  # never executed here


def test_mismatched_engine_versions_fail_with_the_fix(aws: None, tmp_path: Path) -> None:
    p, s = _world(engine_secondary="8.0.mysql_aurora.3.08.0")
    check = _by_name(Readiness(p, s, reports_dir=tmp_path).run())["engine versions equal"]
    assert not check.ok and "3.08.0" in check.detail and "upgrade the secondary" in check.detail


def test_missing_health_check_fails_naming_it(aws: None, tmp_path: Path) -> None:
    p, s = _world(health_checks=False)
    check = _by_name(Readiness(p, s, reports_dir=tmp_path).run())["eu-west-1 health checks"]
    assert not check.ok and "https gone-1" in check.detail and "NoSuchHealthCheck" in check.detail


def test_local_iam_evaluation() -> None:
    docs = [
        {
            "Statement": [
                {"Effect": "Allow", "Action": ["rds:Describe*", "ssm:GetParameters"], "Resource": "*"},
                {"Effect": "Deny", "Action": "rds:DescribeDBClusters", "Resource": "*"},
            ]
        }
    ]
    assert evaluate_locally(docs, ["rds:DescribeGlobalClusters", "rds:DescribeDBClusters", "sns:Publish", "ssm:GetParameters"]) == [
        "rds:DescribeDBClusters",
        "sns:Publish",
    ]


def test_the_stacks_role_grants_every_action_the_check_requires(secondary: StackGraph) -> None:
    role = next(r for r in secondary.of_type("aws:iam/role:Role") if r.name.startswith("failover-role"))
    docs = [
        json.loads(p.inputs["policy"]) if isinstance(p.inputs["policy"], str) else p.inputs["policy"]
        for p in secondary.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.parent == role.parent and "failover" in p.name
    ]
    assert docs and evaluate_locally(docs, HANDLER_ACTIONS) == []


def test_execute_is_planned_only_and_stops_at_the_first_failure() -> None:
    calls: list[tuple[str, str, dict[str, Any]]] = []

    def invoke(region: str, function: str, payload: dict[str, Any]) -> dict[str, Any]:
        calls.append((region, function, payload))
        return {"ok": payload["action"] == "switchover", "action": "promote", "reason": "x"}

    p = {"region": P, "failoverFunctionName": "p-fn"}
    s = {"region": S, "failoverFunctionName": "s-fn"}
    checks = planned_drill(p, s, invoke, io.StringIO())
    assert [c[2]["action"] for c in calls] == ["switchover", "failback"]
    assert all(c[2]["force"] is False and c[2]["dry_run"] is False for c in calls)
    assert [c.ok for c in checks] == [True, False]


def test_a_new_accounts_concurrency_quota_and_a_missing_reservation_fail_with_the_fix(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "10")  # a new account's reduced quota
    p, s = _world(reserve=False)
    checks = _by_name(Readiness(p, s, reports_dir=tmp_path).run())
    check = checks["eu-west-1 reserved concurrency"]
    assert not check.ok and "Concurrent executions" in check.detail and "at least 101" in check.detail


def test_a_function_without_its_reservation_is_not_ready(aws: None, tmp_path: Path) -> None:
    p, s = _world(reserve=False)
    check = _by_name(Readiness(p, s, reports_dir=tmp_path).run())["us-east-1 reserved concurrency"]
    assert not check.ok and "reserves 0 (wants 1)" in check.detail and "throttled" in check.detail


def test_the_standby_cache_inherits_encryption_from_the_datastore(aws: None, tmp_path: Path) -> None:
    p, s = _world()
    check = _by_name(Readiness(p, s, reports_dir=tmp_path).run())["standby cache member"]
    assert check.ok and "encrypted at rest and in transit, AUTH on" in check.detail


def test_media_buckets_with_acls_disabled_are_not_ready(aws: None, tmp_path: Path) -> None:
    p, s = _world(media_ownership="BucketOwnerEnforced")
    check = _by_name(Readiness(p, s, reports_dir=tmp_path).run())["eu-west-1 media bucket"]
    assert not check.ok and "BucketOwnerPreferred" in check.detail


def test_a_promotion_grant_on_the_own_cluster_only_is_not_ready(aws: None, tmp_path: Path) -> None:
    p, s = _world()
    iam = boto3.client("iam", region_name=P)
    narrow = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": [a for a in HANDLER_ACTIONS if "GlobalCluster" not in a or "Describe" in a], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"],
                "Resource": ["arn:aws:rds::123456789012:global-cluster:gdb", s["dbClusterArn"]],
            },
        ],
    }
    iam.put_role_policy(RoleName="failover", PolicyName="handler", PolicyDocument=json.dumps(narrow))
    checks = _by_name(Readiness(p, s, reports_dir=tmp_path).run())
    assert checks["eu-west-1 promotion grant"].ok is False and p["dbClusterArn"] in checks["eu-west-1 promotion grant"].detail


def test_the_lag_is_found_as_the_function_finds_it_and_says_under_which_dimensions(aws: None, tmp_path: Path) -> None:
    """AWS documents neither dimension set: the check reads the one the account publishes and names it."""
    p, s = _world()
    boto3.client("cloudwatch", region_name=S).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "AuroraGlobalDBRPOLag",
                "Dimensions": [{"Name": "DBClusterIdentifier", "Value": "secondary-db"}, {"Name": "SourceRegion", "Value": P}],
                "Value": 90_000.0,
                "Unit": "Milliseconds",
            }
        ],
    )
    check = _by_name(Readiness(p, s, reports_dir=tmp_path).run())["replication lag ≤ RPO"]
    # AWS's RPO figure wins over the replication lag (0.7 s in the world), found under the SourceRegion set.
    assert not check.ok and "AuroraGlobalDBRPOLag max 90.0s" in check.detail and "DBClusterIdentifier, SourceRegion" in check.detail
