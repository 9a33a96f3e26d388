"""Pure pieces of the web tier: runtime parameters, user data, policies, sizing and health-check plans."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from components.contracts import ACTIVE_PARAMETER
from components.frontend_policies import (
    SSM_AGENT_ACTIONS,
    InstanceGrants,
    alb_log_bucket_policy,
    frontend_key_policy,
    instance_role_policy,
    search_access_policy,
)
from components.magento_runtime import (
    REDIS_DATABASES,
    RUNTIME_PARAMETER_NAMES,
    RuntimeValues,
    amazon_linux_ami_parameter,
    ami_architecture,
    initial_capacity,
    render_user_data,
    runtime_parameters,
)
from components.search_domain import zone_count
from components.session_cache import SUPPORTED_ENGINE_VERSIONS
from components.traffic import HealthCheckPlan

VALUES = RuntimeValues(
    stack="secondary",
    region="eu-west-1",
    is_active=False,
    shop_hostname="shop.example.com",
    db_host="magento.global-abc.global.rds.amazonaws.com",
    db_reader_host="db.cluster-ro-x.eu-west-1.rds.amazonaws.com",
    db_port="3306",
    db_name="magento",
    db_secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-abc",
    cache_host="master.sessions.x.eu-west-1.cache.amazonaws.com",
    cache_port="6379",
    cache_secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:cache-abc",
    search_host="vpc-search-x.eu-west-1.es.amazonaws.com",
    search_secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:search-abc",
    media_bucket="magento-dr-media-eu",
    media_region="eu-west-1",
    media_url="https://media.shop.example.com",
    crypt_key_secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:crypt-abc",
)
GRANTS = InstanceGrants(
    region="eu-west-1",
    account_id="123456789012",
    ssm_prefix="/magento-dr/secondary",
    secret_arns=(VALUES.db_secret_arn, VALUES.cache_secret_arn),
    secret_key_arns=("arn:aws:kms:eu-west-1:123456789012:key/db", "arn:aws:kms:eu-west-1:123456789012:key/web"),
    media_bucket_arn="arn:aws:s3:::magento-dr-media-eu",
    media_key_arn="arn:aws:kms:eu-west-1:123456789012:key/media",
)


# ---------------------------------------------------------------- sizing and AMI
@pytest.mark.parametrize(
    ("instance_type", "architecture"),
    [("m7g.large", "arm64"), ("c7gn.xlarge", "arm64"), ("r8g.2xlarge", "arm64"), ("m7i.large", "x86_64"), ("c6a.large", "x86_64"), ("m5.large", "x86_64")],
)
def test_ami_matches_the_instance_cpu(instance_type: str, architecture: str) -> None:
    assert ami_architecture(instance_type) == architecture
    assert amazon_linux_ami_parameter(instance_type).endswith(f"al2023-ami-kernel-default-{architecture}")


@pytest.mark.parametrize(
    ("is_primary", "expected"),
    [(True, (2, 3, 8)), (False, (1, 1, 8))],
)
def test_secondary_starts_as_warm_standby(is_primary: bool, expected: tuple[int, int, int]) -> None:
    capacity = initial_capacity(is_primary=is_primary, min_size=2, desired_capacity=3, max_size=8, standby_capacity=1)
    assert (capacity.min_size, capacity.desired_capacity, capacity.max_size) == expected


# ---------------------------------------------------------------- runtime parameters
def test_every_runtime_parameter_is_declared_statically() -> None:
    # Each name becomes one SSM parameter resource; a name the function adds but the
    # tuple forgets would silently never reach the instances.
    assert set(runtime_parameters(VALUES)) == set(RUNTIME_PARAMETER_NAMES)
    assert len(RUNTIME_PARAMETER_NAMES) == len(set(RUNTIME_PARAMETER_NAMES))


@pytest.mark.parametrize(("is_active", "flag"), [(True, "true"), (False, "false")])
def test_active_flag_is_a_plain_boolean_string(is_active: bool, flag: str) -> None:
    assert runtime_parameters(dataclasses.replace(VALUES, is_active=is_active))[ACTIVE_PARAMETER] == flag


def test_runtime_parameters_carry_global_writer_and_regional_services() -> None:
    params = runtime_parameters(VALUES)
    assert params["db/host"] == VALUES.db_host
    assert params["cache/host"] == VALUES.cache_host and params["cache/tls"] == "true"
    assert params["search/host"] == VALUES.search_host
    assert params["media/bucket"] == VALUES.media_bucket and params["media/region"] == "eu-west-1"
    # Base URLs use the shared shop hostname, never the regional one.
    assert params["web/base-url"] == "https://shop.example.com/"
    assert params["web/media-url"] == "https://media.shop.example.com/"


def test_cache_page_cache_and_sessions_use_distinct_databases() -> None:
    params = runtime_parameters(VALUES)
    numbers = [params["cache/db/cache"], params["cache/db/page-cache"], params["cache/db/session"]]
    assert numbers == ["0", "1", "2"] and sorted(REDIS_DATABASES.values()) == [0, 1, 2]


def test_no_secret_value_is_a_parameter() -> None:
    for key, value in runtime_parameters(VALUES).items():
        if "secret" in key:
            assert value.startswith("arn:aws:secretsmanager:"), key


# ---------------------------------------------------------------- user data
def _user_data() -> str:
    return render_user_data(stack="secondary", region="eu-west-1", ssm_prefix="/magento-dr/secondary", shop_hostname="shop.example.com")


def test_user_data_reads_its_own_path_and_holds_no_secrets() -> None:
    script = _user_data()
    assert 'PREFIX=/magento-dr/secondary' in script and "AWS_DEFAULT_REGION=eu-west-1" in script
    assert "/magento-dr/secondary/active" in script
    for word in ("password=", "BEGIN PRIVATE KEY", "auth_token="):
        assert word not in script
    # Secrets travel through root-only files into jq, never as command-line arguments.
    assert "--arg cache_auth" not in script and "--rawfile cache_auth" in script


def test_user_data_renders_env_php_and_marks_liveness_last() -> None:
    script = _user_data()
    assert "app/etc/env.php" in script and "'remote_storage' => ['driver' => 'aws-s3'" in script
    assert script.rstrip().splitlines()[-1].endswith('pub/magento-dr-liveness.txt"')


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_user_data_is_valid_bash() -> None:
    result = subprocess.run(["bash", "-n"], input=_user_data(), text=True, capture_output=True, check=False)  # noqa: S607
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq not installed")
def test_user_data_jq_program_builds_the_runtime_document(tmp_path: Path) -> None:
    # Run the script's own jq program on sample parameters and secrets.
    script = _user_data()
    start = script.index("'{params:")
    program = script[start + 1 : script.index("}' \\", start) + 1]
    files = {
        "parameters.json": json.dumps([{"k": "/magento-dr/secondary/db/host", "v": "writer"}, {"k": "/magento-dr/secondary/active", "v": "false"}]),
        "db": json.dumps({"username": "magento", "password": "p"}),
        "search": json.dumps({"username": "magento", "password": "s"}),
        "cache_auth": "token\n",
        "crypt_key": "key\n",
    }
    for file, content in files.items():
        (tmp_path / file).write_text(content)
    args = ["jq", "-n", "--slurpfile", "params", str(tmp_path / "parameters.json"), "--arg", "prefix", "/magento-dr/secondary/"]
    args += ["--slurpfile", "db", str(tmp_path / "db"), "--slurpfile", "search", str(tmp_path / "search")]
    args += ["--rawfile", "cache_auth", str(tmp_path / "cache_auth"), "--rawfile", "crypt_key", str(tmp_path / "crypt_key")]
    # The full-page cache settings as the script passes them (single-quoted JSON).
    full_page_cache = script.split("--argjson full_page_cache '", 1)[1].split("'", 1)[0]
    args += ["--argjson", "full_page_cache", full_page_cache, program]
    document = json.loads(subprocess.run(args, text=True, capture_output=True, check=True).stdout)  # noqa: S603
    assert document["params"] == {"db/host": "writer", "active": "false"}
    assert document["db"]["password"] == "p" and document["cache_auth"] == "token" and document["crypt_key"] == "key"
    # The default keeps Magento's built-in full-page cache (in Redis/Valkey), whatever the database says.
    assert document["full_page_cache"] == {"caching_application": "1"}


@pytest.mark.parametrize("bad", ["shop.example.com; rm -rf /", "$(id)", "a b"])
def test_user_data_rejects_shell_metacharacters(bad: str) -> None:
    with pytest.raises(ValueError, match="unsafe"):
        render_user_data(stack="primary", region="us-east-1", ssm_prefix="/magento-dr/primary", shop_hostname=bad)


# ---------------------------------------------------------------- policies
def _statements(document: str) -> list[dict]:
    return json.loads(document)["Statement"]


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


@pytest.mark.parametrize(
    "document",
    [
        instance_role_policy(GRANTS),
        alb_log_bucket_policy("arn:aws:s3:::logs", "123456789012", "arn:aws:iam::156460612806:root"),
        search_access_policy("arn:aws:es:eu-west-1:123456789012:domain/search"),
        frontend_key_policy("123456789012"),
    ],
    ids=["instance", "alb-logs", "search", "key"],
)
def test_no_policy_grants_a_wildcard_action(document: str) -> None:
    for statement in _statements(document):
        for action in _actions(statement):
            assert action != "*" and not action.endswith(":*"), (statement.get("Sid"), action)


def test_instance_role_is_scoped_to_its_own_path_secrets_and_bucket() -> None:
    statements = {s["Sid"]: s for s in _statements(instance_role_policy(GRANTS))}
    assert statements["ReadOwnRuntimeParameters"]["Resource"] == [
        "arn:aws:ssm:eu-west-1:123456789012:parameter/magento-dr/secondary",
        "arn:aws:ssm:eu-west-1:123456789012:parameter/magento-dr/secondary/*",
    ]
    assert statements["ReadOwnSecrets"]["Resource"] == sorted(GRANTS.secret_arns)
    assert statements["DecryptSecretsThroughSecretsManager"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}
    }
    assert statements["ReadWriteMediaObjects"]["Resource"] == "arn:aws:s3:::magento-dr-media-eu/*"
    assert statements["MediaKeyThroughS3"]["Resource"] == GRANTS.media_key_arn
    # Only the SSM agent's actions (no resource-level permissions) use "*".
    assert [sid for sid, s in statements.items() if s["Resource"] == "*"] == ["SsmAgent"]


def test_ssm_agent_grant_cannot_read_other_parameters() -> None:
    assert not any(action.startswith("ssm:GetParameter") for action in SSM_AGENT_ACTIONS)


@pytest.mark.parametrize(
    "field",
    [
        {"secret_arns": ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:*",)},
        {"media_bucket_arn": "*"},
        {"ssm_prefix": "/magento-dr/"},
    ],
)
def test_instance_grants_reject_wildcards(field: dict) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(GRANTS, **field)


def test_alb_logs_only_from_the_regional_elb_account_over_tls() -> None:
    allow, deny = _statements(alb_log_bucket_policy("arn:aws:s3:::logs", "123456789012", "arn:aws:iam::156460612806:root"))
    assert allow["Principal"] == {"AWS": "arn:aws:iam::156460612806:root"}
    assert allow["Resource"] == "arn:aws:s3:::logs/AWSLogs/123456789012/*"
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_key_lets_auto_scaling_launch_encrypted_volumes() -> None:
    statements = {s["Sid"]: s for s in _statements(frontend_key_policy("123456789012"))}
    role = "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    assert statements["AutoScalingUsesKeyForEbs"]["Principal"] == {"AWS": role}
    assert statements["AutoScalingAttachesEncryptedVolumes"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": True}}


# ---------------------------------------------------------------- search, cache, health checks
@pytest.mark.parametrize(("nodes", "subnets", "zones"), [(2, 3, 2), (3, 3, 3), (6, 3, 3), (4, 3, 2), (6, 2, 2)])
def test_search_spreads_over_two_or_three_zones(nodes: int, subnets: int, zones: int) -> None:
    assert zone_count(nodes, subnets) == zones


@pytest.mark.parametrize(("nodes", "subnets"), [(5, 3), (3, 2), (2, 1)])
def test_search_rejects_uneven_layouts(nodes: int, subnets: int) -> None:
    with pytest.raises(ValueError):
        zone_count(nodes, subnets)


def test_cache_versions_are_ones_magento_supports() -> None:
    assert "8.0" in SUPPORTED_ENGINE_VERSIONS["valkey"] and "7.2" in SUPPORTED_ENGINE_VERSIONS["valkey"]
    assert "6.2" not in SUPPORTED_ENGINE_VERSIONS["redis"]


@pytest.mark.parametrize(("interval", "threshold"), [(10, 3), (10, 1), (30, 2)])
def test_health_check_plan_accepts_route53_settings(interval: int, threshold: int) -> None:
    plan = HealthCheckPlan("us-east-1.shop.example.com", interval, threshold)
    assert plan.resource_path == "/health_check.php" and plan.seconds_to_unhealthy() == interval * threshold


@pytest.mark.parametrize(("interval", "threshold"), [(15, 3), (10, 4), (10, 0)])
def test_health_check_plan_rejects_slow_or_invalid_settings(interval: int, threshold: int) -> None:
    with pytest.raises(ValueError):
        HealthCheckPlan("us-east-1.shop.example.com", interval, threshold)


@pytest.mark.parametrize(("engine", "version"), [("valkey", "6.2"), ("redis", "6.2"), ("valkey", "9.0"), ("redis", "7.2")])
def test_config_rejects_cache_versions_magento_or_global_datastore_lack(engine: str, version: str) -> None:
    from components.config import ConfigError, parse_settings
    from offline.runner import load_stack_config

    raw = {k.removeprefix("magento-dr:"): v for k, v in load_stack_config("primary").items() if k.startswith("magento-dr:")}
    raw["cache"] = {**raw["cache"], "engine": engine, "engineVersion": version}
    with pytest.raises(ConfigError, match=r"magento-dr:cache\.engineVersion"):
        parse_settings("primary", raw)
