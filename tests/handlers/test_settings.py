"""The environment-variable contract."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from handlers.settings import ENV_VARS, READINESS_ENV_VARS, READINESS_SHARED, Settings, SettingsError

REQUIRED = {
    "MDR_STACK": "secondary",
    "MDR_REGION": "us-west-2",
    "MDR_PEER_REGION": "us-east-1",
    "MDR_GLOBAL_CLUSTER_ID": "gdb",
    "MDR_LOCAL_CLUSTER_ID": "shop-secondary",
    "MDR_LOCAL_CLUSTER_ARN": "arn:aws:rds:us-west-2:123456789012:cluster:shop-secondary",
    "MDR_PEER_HEALTH_URL": "https://primary.shop.example.com/health_check.php",
    "MDR_ASG_NAME": "web",
    "MDR_SCALE_MIN": "2",
    "MDR_SCALE_DESIRED": "2",
    "MDR_SCALE_MAX": "6",
    "MDR_SSM_PREFIX": "/magento-dr/secondary",
    "MDR_TOPIC_ARN": "arn:aws:sns:us-west-2:123456789012:ops",
}


def test_every_variable_read_is_documented() -> None:
    root = Path(__file__).resolve().parents[2] / "handlers"
    used = set()
    for path in root.glob("*.py"):
        used |= set(re.findall(r'"(MDR_[A-Z_]+)"', path.read_text()))
    documented = set(ENV_VARS) | set(READINESS_ENV_VARS)
    assert used == documented, used ^ documented
    assert not set(ENV_VARS) & set(READINESS_ENV_VARS), "a variable the two functions share is documented once, in ENV_VARS"
    assert set(READINESS_SHARED) <= set(ENV_VARS)
    assert all(v.strip() for v in [*ENV_VARS.values(), *READINESS_ENV_VARS.values()])


def test_required_only_gives_documented_defaults() -> None:
    s = Settings.from_env(REQUIRED)
    assert (s.mode, s.consecutive_failures, s.metric_namespace, s.instance_tag_value) == ("notify", 3, "MagentoDR", "web")
    assert s.active_param == "/magento-dr/secondary/active"
    optional = {k for k, v in ENV_VARS.items() if v.startswith("(optional")}
    assert set(ENV_VARS) - optional == set(REQUIRED)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_missing_required_variable_is_named(name: str) -> None:
    env = {k: v for k, v in REQUIRED.items() if k != name}
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env)
    assert info.value.variable == name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MDR_MODE", "yolo"),
        ("MDR_SCALE_DESIRED", "9"),
        ("MDR_SCALE_MIN", "two"),
        ("MDR_CONSECUTIVE_FAILURES", "1"),
        ("MDR_PEER_HEALTH_URL", "http://primary.shop.example.com/health_check.php"),
        ("MDR_LOCAL_CLUSTER_ARN", "arn:aws:rds:us-east-1:123456789012:cluster:x"),
        ("MDR_PEER_REGION", "us-west-2"),
        ("MDR_SSM_PREFIX", "magento-dr"),
        ("MDR_CACHE_GLOBAL_DATASTORE_ID", "ldgnf-shop"),
    ],
)
def test_bad_values_are_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({**REQUIRED, name: value})
    assert name in str(info.value) or info.value.variable.startswith("MDR_")


def test_step_budgets_and_staleness_gap() -> None:
    s = Settings.from_env(REQUIRED)
    assert (s.cache_failover_timeout_seconds, s.run_command_timeout_seconds) == (120.0, 180.0)
    assert s.max_probe_gap_seconds == 3 * 10 + 60
    custom = Settings.from_env({**REQUIRED, "MDR_CACHE_FAILOVER_TIMEOUT_SECONDS": "30", "MDR_RUN_COMMAND_TIMEOUT_SECONDS": "45",
                                "MDR_PROBE_INTERVAL_SECONDS": "5"})
    assert (custom.cache_failover_timeout_seconds, custom.run_command_timeout_seconds, custom.max_probe_gap_seconds) == (30, 45, 75)
    for name in ("MDR_CACHE_FAILOVER_TIMEOUT_SECONDS", "MDR_RUN_COMMAND_TIMEOUT_SECONDS"):
        with pytest.raises(SettingsError) as info:
            Settings.from_env({**REQUIRED, name: "0"})
        assert info.value.variable == name


def test_one_invocation_fits_the_lambda_timeout_with_the_stack_defaults() -> None:
    """Probing (inside one schedule period) + promotion wait + cache + run command budgets, with
    the promotion timeout the stack sets, leave at least two minutes of the Lambda timeout for
    the snapshot, the other steps' API calls and the notification."""
    from components import failover_automation, rto

    s = Settings.from_env({**REQUIRED, "MDR_PROMOTION_TIMEOUT_SECONDS": str(failover_automation.PROMOTION_TIMEOUT_SECONDS)})
    used = rto.SCHEDULE_PERIOD_SECONDS + s.promotion_timeout_seconds + s.cache_failover_timeout_seconds + s.run_command_timeout_seconds
    assert used + 120 <= failover_automation.TIMEOUT_SECONDS, used


def test_a_preparing_invocation_ends_before_the_next_evaluation_is_due() -> None:
    """One probe (two signals), the wait for the instance, and the last read of the cluster's instances end within the
    schedule period: with reserved concurrency 1 a longer invocation throttles the next scheduled event, and a preparation
    of twenty minutes would pile events up until Lambda sends the oldest to the dead-letter queue."""
    from components import failover_automation, rto

    s = Settings.from_env({**REQUIRED, "MDR_DB_INSTANCE_TIMEOUT_SECONDS": str(failover_automation.DB_INSTANCE_WAIT_SECONDS)})
    longest = 2 * rto.PROBE_TIMEOUT_SECONDS + s.db_instance_timeout_seconds + s.aws_read_timeout
    assert longest < rto.SCHEDULE_PERIOD_SECONDS, longest


def test_a_live_holder_never_lets_its_lease_lapse_and_a_dead_one_lapses_within_two_minutes() -> None:
    """Renewals come every LEASE_RENEW_SECONDS of a wait; between two, the longest a single AWS call
    can block (connect + read timeout, every attempt) must still leave the lease alive."""
    from handlers import lease

    s = Settings.from_env(REQUIRED)
    longest_call = (s.aws_connect_timeout + s.aws_read_timeout) * s.aws_max_attempts
    assert lease.LEASE_RENEW_SECONDS + s.poll_seconds + longest_call < lease.LEASE_TTL_SECONDS <= 120
    # A failure after a gap as long as our own work can cause still belongs to the same loss of contact.
    assert s.max_contact_gap_seconds == s.promotion_timeout_seconds + lease.LEASE_TTL_SECONDS + s.max_probe_gap_seconds


def test_the_preparation_settings_and_what_they_default_to() -> None:
    s = Settings.from_env(REQUIRED)
    assert (s.standby_posture, s.db_instance_class, s.db_instances_to_add, s.db_instance_timeout_seconds) == ("warm", "", 1, 40.0)
    assert s.db_instances_added_before_promotion == 0  # no class: it adds none (and refuses to promote a headless cluster)
    pilot = Settings.from_env({**REQUIRED, "MDR_STANDBY_POSTURE": "pilot-light", "MDR_DB_INSTANCE_CLASS": "db.r7g.large",
                               "MDR_DB_INSTANCES_TO_ADD": "3"})
    assert pilot.db_instances_added_before_promotion == 3
    assert pilot.failover_instance_ids() == ("shop-secondary-failover-1", "shop-secondary-failover-2", "shop-secondary-failover-3")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MDR_STANDBY_POSTURE", "cold"),
        ("MDR_DB_INSTANCE_CLASS", "r7g.large"),
        ("MDR_DB_INSTANCES_TO_ADD", "0"),
        ("MDR_DB_INSTANCES_TO_ADD", "17"),
        ("MDR_DB_INSTANCES_TO_ADD", "two"),
        ("MDR_DB_PERFORMANCE_INSIGHTS_KMS_KEY", "alias/aws/rds"),
        ("MDR_DB_INSTANCE_TIMEOUT_SECONDS", "0"),
    ],
)
def test_bad_preparation_values_are_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({**REQUIRED, name: value})
    assert info.value.variable == name


def test_the_instance_tags_are_read_sorted_and_default_to_none() -> None:
    assert Settings.from_env(REQUIRED).db_instance_tags == ()
    tags = '{"stack": "secondary", "project": "magento-dr", "cost-center": "e-commerce 7", "owner": "sre@example.com"}'
    s = Settings.from_env({**REQUIRED, "MDR_DB_INSTANCE_TAGS": tags})
    assert s.db_instance_tags == (("cost-center", "e-commerce 7"), ("owner", "sre@example.com"), ("project", "magento-dr"), ("stack", "secondary"))
    assert Settings.from_env({**REQUIRED, "MDR_DB_INSTANCE_TAGS": json.dumps({f"k{i}": "v" for i in range(48)})}).db_instance_tags


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("owner=sre", "JSON object"),
        ('["owner"]', "JSON object"),
        ('{"owner": 7}', "string values"),
        ('{"Name": "x"}', "sets itself"),
        ('{"magento-dr:created-by": "me"}', "sets itself"),
        ('{"aws:owner": "x"}', "reserves"),
        ('{"owner": "rds:sre"}', "reserves"),
        ('{"": "x"}', "1 to 128"),
        (json.dumps({"k" * 129: "x"}), "1 to 128"),
        (json.dumps({"owner": "v" * 257}), "0 to 256"),
        ('{"owner": "sre#1"}', "character"),
        (json.dumps({f"k{i}": "v" for i in range(49)}), "over AWS's 50"),
    ],
)
def test_instance_tags_aws_would_refuse_are_named(value: str, words: str) -> None:
    """Refused before the function runs, not by CreateDBInstance in the middle of an outage."""
    with pytest.raises(SettingsError, match=words) as info:
        Settings.from_env({**REQUIRED, "MDR_DB_INSTANCE_TAGS": value})
    assert info.value.variable == "MDR_DB_INSTANCE_TAGS"


def test_the_postures_a_function_accepts_are_the_readiness_checks_postures() -> None:
    from handlers.readiness import POSTURES

    for posture in POSTURES:
        assert Settings.from_env({**REQUIRED, "MDR_STANDBY_POSTURE": posture}).standby_posture == posture
    assert set(POSTURES) == {"pilot-light", "warm", "hot"}


def test_an_invocation_that_prepares_and_then_promotes_fits_the_lambda_timeout() -> None:
    """Probing, the wait for the first added instance, then the promotion and the steps in the same invocation, with
    the stack's figures: still two minutes to spare. A DB instance takes longer than that (~20 min): later invocations
    resume the preparation (one probe each), as many as it takes."""
    from components import failover_automation, rto

    s = Settings.from_env({**REQUIRED, "MDR_PROMOTION_TIMEOUT_SECONDS": str(failover_automation.PROMOTION_TIMEOUT_SECONDS),
                           "MDR_DB_INSTANCE_TIMEOUT_SECONDS": str(failover_automation.DB_INSTANCE_WAIT_SECONDS)})
    used = (rto.SCHEDULE_PERIOD_SECONDS + s.db_instance_timeout_seconds + s.promotion_timeout_seconds
            + s.cache_failover_timeout_seconds + s.run_command_timeout_seconds)
    assert used + 120 <= failover_automation.TIMEOUT_SECONDS, used


def test_the_handlers_readme_lists_every_variable_the_failover_function_reads() -> None:
    readme = (Path(__file__).resolve().parents[2] / "handlers" / "README.md").read_text()
    table = readme.split("## Environment variables", 1)[1].split("### The readiness function's variables", 1)[0]
    listed = set(re.findall(r"^\| `(MDR_[A-Z_]+)` \|", table, flags=re.MULTILINE))
    assert listed == set(ENV_VARS), (sorted(set(ENV_VARS) - listed), sorted(listed - set(ENV_VARS)))
