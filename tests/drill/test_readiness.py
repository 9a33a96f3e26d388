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
from drill.readiness import HANDLER_ACTIONS, READINESS_ACTIONS, Check, Readiness, evaluate_locally, planned_drill
from handlers.readiness import CHECKS, digest_parameter_name, encode_digest, parameter_digest
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


CLUSTER_PARAMS = {"character_set_server": "utf8mb4", "require_secure_transport": "ON"}
INSTANCE_PARAMS = {"log_bin_trust_function_creators": "1"}
RELEASE = "/magento-dr/release/shop.example.com/version"


def _world(
    engine_secondary: str = "8.0.mysql_aurora.3.10.0", health_checks: bool = True, reserve: bool = True, media_ownership: str = "BucketOwnerPreferred"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A healthy deployed pair as `pulumi stack output --json` describes it, in moto, readiness functions included."""
    outputs: dict[str, dict[str, Any]] = {}
    datastore = ""
    iam = boto3.client("iam", region_name=P)
    role = iam.create_role(RoleName="failover", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="failover",
        PolicyName="handler",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(HANDLER_ACTIONS), "Resource": "*"}]}),
    )
    readiness_role = iam.create_role(RoleName="readiness", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="readiness",
        PolicyName="readiness",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(READINESS_ACTIONS), "Resource": "*"}]}),
    )
    rds_p = boto3.client("rds", region_name=P)
    rds_p.create_global_cluster(GlobalClusterIdentifier="gdb", Engine="aurora-mysql", EngineVersion="8.0.mysql_aurora.3.10.0")
    secret = boto3.client("secretsmanager", region_name=P).create_secret(Name="db-credentials", SecretString="{}", AddReplicaRegions=[{"Region": S}])
    r53 = boto3.client("route53", region_name=P)
    for stack, region, version in (("primary", P, "8.0.mysql_aurora.3.10.0"), ("secondary", S, engine_secondary)):
        rds = boto3.client("rds", region_name=region)
        rds.create_db_cluster_parameter_group(DBClusterParameterGroupName=f"{stack}-cluster", DBParameterGroupFamily="aurora-mysql8.0", Description="x")
        rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName=f"{stack}-cluster", Parameters=[
            {"ParameterName": k, "ParameterValue": v, "ApplyMethod": "pending-reboot"} for k, v in CLUSTER_PARAMS.items()])
        rds.create_db_parameter_group(DBParameterGroupName=f"{stack}-instance", DBParameterGroupFamily="aurora-mysql8.0", Description="x")
        rds.modify_db_parameter_group(DBParameterGroupName=f"{stack}-instance", Parameters=[
            {"ParameterName": k, "ParameterValue": v, "ApplyMethod": "pending-reboot"} for k, v in INSTANCE_PARAMS.items()])
        kwargs: dict[str, Any] = {"MasterUsername": "a", "MasterUserPassword": "password123"} if stack == "primary" else {}
        cluster = rds.create_db_cluster(
            DBClusterIdentifier=f"{stack}-db", Engine="aurora-mysql", EngineVersion=version, GlobalClusterIdentifier="gdb",
            DBClusterParameterGroupName=f"{stack}-cluster", BackupRetentionPeriod=7, **kwargs
        )["DBCluster"]
        rds.create_db_instance(DBInstanceIdentifier=f"{stack}-db-1", DBClusterIdentifier=f"{stack}-db", Engine="aurora-mysql",
                               DBInstanceClass="db.r7g.large", DBParameterGroupName=f"{stack}-instance")
        ec2 = boto3.client("ec2", region_name=region)
        ec2.create_launch_template(LaunchTemplateName=f"{stack}-web", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "m7g.large"})
        size = 2 if stack == "primary" else 1  # the primary serves the shop at production size; the standby stands by warm
        boto3.client("autoscaling", region_name=region).create_auto_scaling_group(
            AutoScalingGroupName=f"{stack}-web",
            LaunchTemplate={"LaunchTemplateName": f"{stack}-web"},
            MinSize=size,
            MaxSize=8,
            DesiredCapacity=size,
            AvailabilityZones=[f"{region}a"],
        )
        lam = boto3.client("lambda", region_name=region)
        fn = lam.create_function(
            FunctionName=f"{stack}-failover",
            Runtime="python3.13",
            Role=role,
            Handler="handlers.failover.lambda_handler",
            Code={"ZipFile": _zip()},
            Environment={"Variables": {"MDR_MODE": "automatic", "MDR_RPO_SECONDS": "60"}},
        )
        if reserve:
            lam.put_function_concurrency(FunctionName=f"{stack}-failover", ReservedConcurrentExecutions=1)
        boto3.client("scheduler", region_name=region).create_schedule(
            Name=f"{stack}-failover-evaluate", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": fn["FunctionArn"], "RoleArn": role},
        )
        s3 = boto3.client("s3", region_name=region)
        bucket = f"{stack}-media"
        s3.create_bucket(Bucket=bucket, **({} if region == P else {"CreateBucketConfiguration": {"LocationConstraint": region}}))
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": media_ownership}]})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
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
        boto3.client("opensearch", region_name=region).create_domain(DomainName=f"{stack}-search")
        ssm = boto3.client("ssm", region_name=region)
        ssm.put_parameter(Name=RELEASE, Value="2024.06.1", Type="String")
        # What the deployed readiness function stored at its last run (a schedule ago).
        digest = parameter_digest(version, CLUSTER_PARAMS, INSTANCE_PARAMS)
        ssm.put_parameter(Name=digest_parameter_name("gdb"), Value=encode_digest(digest, stack, emulator.STATE.now() - 300), Type="String")
        ssm.put_parameter(Name=f"/magento-dr/{stack}/active", Value=str(stack == "primary").lower(), Type="String")
        boto3.client("cloudwatch", region_name=region).put_metric_data(
            Namespace="MagentoDR",
            MetricData=[{"MetricName": "RegionHoldsWriter", "Value": float(stack == "primary"),
                         "Dimensions": [{"Name": "Region", "Value": region}, {"Name": "Stack", "Value": stack}]}],
        )
        ids = {}
        if health_checks:
            for kind in ("https", "writer", "calculated"):
                ids[kind] = r53.create_health_check(
                    CallerReference=f"{stack}-{kind}",
                    HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": f"{region}.shop.example.com", "Port": 443, "ResourcePath": "/"},
                )["HealthCheck"]["Id"]
        peer = S if region == P else P
        lam.create_function(
            FunctionName=f"{stack}-readiness", Runtime="python3.13", Role=readiness_role, Handler="handlers.failover.readiness_handler",
            Code={"ZipFile": _zip()},
            Environment={"Variables": {
                "MDR_STACK": stack, "MDR_REGION": region, "MDR_PEER_REGION": peer, "MDR_HOME_REGION": P, "MDR_GLOBAL_CLUSTER_ID": "gdb",
                "MDR_LOCAL_CLUSTER_ID": f"{stack}-db", "MDR_LOCAL_CLUSTER_ARN": cluster["DBClusterArn"], "MDR_ASG_NAME": f"{stack}-web",
                "MDR_SCALE_MIN": "2", "MDR_SCALE_DESIRED": "3", "MDR_SCALE_MAX": "8", "MDR_SSM_PREFIX": f"/magento-dr/{stack}",
                "MDR_STANDBY_CAPACITY": "1", "MDR_FAILOVER_FUNCTION": f"{stack}-failover", "MDR_FAILOVER_SCHEDULE": f"{stack}-failover-evaluate",
                "MDR_DB_CLUSTER_PARAMETER_GROUP": f"{stack}-cluster", "MDR_DB_INSTANCE_PARAMETER_GROUP": f"{stack}-instance",
                "MDR_DB_PARAMETERS": json.dumps({"cluster": CLUSTER_PARAMS, "instance": INSTANCE_PARAMS}),
                "MDR_DB_SECRET_ARN": secret["ARN"].replace(f":{P}:", f":{region}:"), "MDR_DB_SECRET_ROLE": "owner" if stack == "primary" else "replica",
                "MDR_CACHE_GLOBAL_DATASTORE_ID": datastore, "MDR_CACHE_REPLICATION_GROUP_ID": f"{stack}-sessions", "MDR_SEARCH_DOMAIN": f"{stack}-search",
                "MDR_RELEASE_PARAMETER": RELEASE, "MDR_HEALTH_CHECK_IDS": json.dumps(ids or {"https": "gone-1"}), "MDR_PROBE_TIMEOUT_SECONDS": "0.5",
            }},
        )
        outputs[stack] = {
            "region": region,
            "globalClusterId": "gdb",
            "dbClusterId": f"{stack}-db",
            "dbClusterArn": cluster["DBClusterArn"],
            "asgName": f"{stack}-web",
            "failoverFunctionName": f"{stack}-failover",
            "readinessFunctionName": f"{stack}-readiness",
            "productionCapacity": {"min_size": 2, "desired_capacity": 3, "max_size": 8},
            "healthCheckIds": ids or {"https": "gone-1"},
            "mediaBucketName": bucket,
            "cacheReplicationGroupId": f"{stack}-sessions",
            "cacheGlobalDatastoreId": datastore,
        }
    for region, search in ((P, "primary-search"), (S, "secondary-search")):
        boto3.client("cloudwatch", region_name=region).put_metric_data(
            Namespace="AWS/ES",
            MetricData=[{"MetricName": f"ClusterStatus.{c}", "Value": 0.0,
                         "Dimensions": [{"Name": "DomainName", "Value": search}, {"Name": "ClientId", "Value": "123456789012"}]} for c in ("red", "yellow")],
        )
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
    emulator.settle()  # a deployed pair that has been running: its instances are up
    return outputs["primary"], outputs["secondary"]


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_healthy_world_is_ready(aws: None, tmp_path: Path) -> None:
    p, s = _world()
    checks = Readiness(p, s, reports_dir=tmp_path).run()
    failed = [c.line() for c in checks if not c.ok and not c.warning]
    assert not failed, failed
    names = _by_name(checks)
    # Each region is judged by its readiness function's own seventeen checks (one code path), then the operator-only extras.
    for region in (P, S):
        assert {n.split(" ", 1)[1] for n in names if n.startswith(f"{region} ")} >= set(CHECKS), region
    assert names[f"{S} members"].ok and names[f"{S} engine-version"].ok and names[f"{S} replication-lag"].ok and names[f"{P} writer"].ok
    digest = parameter_digest("8.0.mysql_aurora.3.10.0", CLUSTER_PARAMS, INSTANCE_PARAMS)
    assert names["parameter digests"].ok and names["parameter digests"].detail == f"{P} {digest}, {S} {digest}"
    assert names[f"{S} parameters"].ok and f"as {P}'s (5 min ago)" in names[f"{S} parameters"].detail
    assert names[f"{S} IAM permissions"].ok and f"all {len(HANDLER_ACTIONS)} actions" in names[f"{S} IAM permissions"].detail
    assert names[f"{S} readiness IAM permissions"].ok
    assert names["lag dimensions published"].ok and "AuroraGlobalDBReplicationLag (DBClusterIdentifier)" in names["lag dimensions published"].detail
    assert names["last drill"].warning  # never executed here
    # The standby's group joined the datastore and inherited its encryption (docs/aws-assumptions.md C1).
    assert names[f"{S} cache"].ok and "secondary-sessions secondary, follows the writer" in names[f"{S} cache"].detail


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


def test_the_stacks_readiness_role_grants_every_action_the_check_simulates(secondary: StackGraph) -> None:
    raw = secondary.one("aws:iam/rolePolicy:RolePolicy", "readiness-policy").inputs["policy"]
    doc = json.loads(raw) if isinstance(raw, str) else raw
    assert evaluate_locally([doc], READINESS_ACTIONS) == []
    granted = {a for statement in doc["Statement"] for a in statement["Action"]}
    assert granted - set(READINESS_ACTIONS) == {"logs:CreateLogStream", "logs:PutLogEvents"}, "the list names every action the adapter calls"


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


def test_each_kind_of_drift_fails_its_own_check_with_the_fix(aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One deployed pair with a drift in every corner (one world, one run: each check is judged on its own)."""
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "10")  # a new account's reduced quota
    p, s = _world(engine_secondary="8.0.mysql_aurora.3.08.0", health_checks=False, reserve=False, media_ownership="BucketOwnerEnforced")
    iam = boto3.client("iam", region_name=P)
    narrow = {  # the promotion actions on the own cluster only
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
    # AWS's RPO figure wins over the replication lag (0.7 s in the world), found under the SourceRegion set alone.
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
    checks = _by_name(Readiness(p, s, reports_dir=tmp_path).run())
    engine = checks[f"{S} engine-version"]
    assert not engine.ok and not engine.warning and "3.08.0" in engine.detail and "fix: upgrade the members" in engine.detail
    health = checks[f"{S} health-checks"]
    assert not health.ok and "https gone-1 missing" in health.detail
    quota = checks[f"{S} failover-function"]
    assert not quota.ok and "Concurrent executions" in quota.detail and "at least 101" in quota.detail
    reservation = checks[f"{P} failover-function"]
    assert not reservation.ok and "reserves 0 (wants 1)" in reservation.detail and "put-function-concurrency" in reservation.detail
    media = checks["eu-west-1 media bucket"]
    assert not media.ok and "BucketOwnerPreferred" in media.detail
    grant = checks["eu-west-1 promotion grant"]
    assert grant.ok is False and p["dbClusterArn"] in grant.detail
    lag = checks[f"{S} replication-lag"]
    assert not lag.ok and "AuroraGlobalDBRPOLag 90.0s > RPO 60s" in lag.detail and "rpo-exceeded" in lag.detail
    assert "AuroraGlobalDBRPOLag (DBClusterIdentifier, SourceRegion)" in checks["lag dimensions published"].detail
    # Another engine version is another parameter digest: both regions' functions see the other's stored one differ, and
    # the two read now differ.
    digests = checks["parameter digests"]
    assert not digests.ok and not digests.warning and "different database parameters or engine versions" in digests.detail
    for region in (P, S):
        assert not checks[f"{region} parameters"].ok and not checks[f"{region} parameters"].warning, checks[f"{region} parameters"].detail
    # What did not drift still passes (the drifts do not spill over).
    assert checks[f"{S} members"].ok and checks[f"{P} writer"].ok and checks[f"{S} cache"].ok


def test_a_stack_deployed_before_readiness_existed_is_told_to_deploy(aws: None, tmp_path: Path) -> None:
    p, s = _world()
    del s["readinessFunctionName"]
    check = _by_name(Readiness(p, s, reports_dir=tmp_path).run())[f"{S} readiness"]
    assert check.warning and "deploy this version" in check.detail
