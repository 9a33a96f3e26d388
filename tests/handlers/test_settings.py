"""The environment-variable contract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handlers.settings import ENV_VARS, Settings, SettingsError

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
    assert used == set(ENV_VARS), used ^ set(ENV_VARS)
    assert all(v.strip() for v in ENV_VARS.values())


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
