"""Stack settings: defaults, the example stacks, and every validation error (table-tested)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from components.config import ConfigError, StackSettings, check_pairing, parse_settings
from offline.runner import ProgramFailed, example_config, load_stack_config, run_stack


def raw_config(stack: str) -> dict[str, Any]:
    """The stack file's magento-dr:* values, namespace stripped, as the loader hands them over."""
    return {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in load_stack_config(stack).items() if k.startswith("magento-dr:")}


def test_example_primary_parses() -> None:
    settings = parse_settings("primary", raw_config("primary"))
    assert isinstance(settings, StackSettings)
    assert settings.is_primary and settings.region == "us-east-1" and settings.peer.region == "eu-west-1"
    assert settings.regions == ("us-east-1", "eu-west-1")
    assert settings.dns.shop_hostname == "shop.example.com"
    assert settings.network.az_count == 3 and settings.network.nat_gateways == "per-az"
    assert settings.failover.mode == "automatic" and settings.failover.health_check_interval_seconds == 10
    assert settings.protect is True and settings.tags["owner"] == "sre"


def test_example_secondary_parses() -> None:
    settings = parse_settings("secondary", raw_config("secondary"))
    assert settings.role == "secondary" and settings.primary_stack == "organization/magento-dr/primary"
    assert settings.regions == ("us-east-1", "eu-west-1")


def test_example_database_standby_parses_with_its_own_defaults() -> None:
    raw = {k.split(":", 1)[1]: v for k, v in example_config("bunker").items()}
    settings = parse_settings("bunker", raw)
    assert settings.role == "secondary" and settings.scope == "database" and not settings.serves_shop
    # No instances: no way out and no interface endpoints unless asked; its own copy of the credentials.
    assert settings.network.nat_gateways == "none" and settings.network.interface_endpoints == ()
    assert settings.database.credentials == "copy" and settings.database.instance_count == 1
    assert settings.failover.notification_emails == ("sre-oncall@example.com",)


def test_the_secondary_may_ask_for_an_arc_region_switch_plan() -> None:
    raw = raw_config("secondary")
    raw["failover"].update(arcRegionSwitch=True, arcApprovalRoleArn="arn:aws:iam::123456789012:role/dr-approvers")
    failover = parse_settings("secondary", raw).failover
    assert failover.arc_region_switch is True
    assert failover.arc_approval_role_arn == "arn:aws:iam::123456789012:role/dr-approvers"
    assert parse_settings("secondary", raw_config("secondary")).failover.arc_region_switch is False


def test_shop_stacks_keep_the_shop_defaults() -> None:
    for stack in ("primary", "secondary"):
        settings = parse_settings(stack, raw_config(stack))
        assert settings.scope == "shop" and settings.serves_shop and settings.network.interface_endpoints


PAIRING = [
    # (stack, region the primary pairs with, error words or None)
    ("primary", "eu-west-1", None),
    ("secondary", "eu-west-1", None),
    ("secondary", "us-west-2", ["second shop standby in eu-west-1", "pairs its shop with us-west-2", "magento-dr:scope database"]),
    ("bunker", "eu-west-1", None),
    ("bunker", "us-west-2", ["us-west-2 is the primary's paired standby", "remove magento-dr:scope database"]),
]


@pytest.mark.parametrize(("stack", "paired", "words"), PAIRING, ids=[f"{c[0]}-{c[1]}" for c in PAIRING])
def test_pairing_with_the_primary(stack: str, paired: str, words: list[str] | None) -> None:
    config = example_config(stack) if stack == "bunker" else load_stack_config(stack)
    settings = parse_settings(stack, {k.split(":", 1)[1]: v for k, v in config.items()})
    if words is None:
        check_pairing(settings, paired)
        return
    with pytest.raises(ConfigError) as error:
        check_pairing(settings, paired)
    for word in words:
        assert word in str(error.value), str(error.value)


def test_defaults_fill_in_what_the_stack_file_omits() -> None:
    minimal = {
        "role": "primary",
        "region": "us-west-2",
        "peer": {"region": "us-east-2", "networkCidr": "10.20.0.0/16"},
        "dns": {"zoneName": "example.org", "shopHostname": "www.example.org"},
    }
    settings = parse_settings("dev", minimal)
    assert settings.network.cidr == "10.10.0.0/16"
    assert settings.database.instance_count == 2 and settings.database.backup_retention_days == 7
    assert settings.failover.consecutive_failures == 7 and settings.protect is True  # (7 - 1) x 10 s: a full minute from the first failed probe to the last
    assert (settings.readiness.schedule_minutes, settings.readiness.alarm_after_minutes) == (5, 15)


def test_a_longer_readiness_schedule_raises_the_default_alarm_time_with_it() -> None:
    raw = raw_config("primary")
    raw["readiness"] = {"scheduleMinutes": 30}
    assert parse_settings("primary", raw).readiness.alarm_after_minutes == 30


def test_a_database_standby_has_no_readiness_section() -> None:
    raw = {k.split(":", 1)[1]: v for k, v in example_config("bunker").items()}
    raw["readiness"] = {"scheduleMinutes": 5}
    with pytest.raises(ConfigError, match="magento-dr:readiness has no effect on a database standby"):
        parse_settings("bunker", raw)


def test_full_page_cache_stays_redis_unless_varnish_is_asked_for() -> None:
    assert parse_settings("primary", raw_config("primary")).web.full_page_cache == "redis"
    raw = raw_config("primary")
    raw["web"]["fullPageCache"] = "varnish"
    web = parse_settings("primary", raw).web
    assert (web.full_page_cache, web.varnish_memory_percent) == ("varnish", 25)


@pytest.mark.parametrize(("percent", "ok"), [(4, False), (5, True), (50, True), (51, False)])
def test_varnish_memory_share_leaves_php_room(percent: int, ok: bool) -> None:
    raw = raw_config("secondary")
    raw["web"].update(fullPageCache="varnish", varnishMemoryPercent=percent)
    if ok:
        assert parse_settings("secondary", raw).web.varnish_memory_percent == percent
    else:
        with pytest.raises(ConfigError, match=r"magento-dr:web\.varnishMemoryPercent is \d+; it must be between 5 and 50"):
            parse_settings("secondary", raw)


def _set(raw: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    node = raw
    *path, last = dotted.split(".")
    for part in path:
        node = node.setdefault(part, {})
    if value is _DELETE:
        node.pop(last, None)
    else:
        node[last] = value
    return raw


_DELETE = object()

# (stack, dotted key, bad value, words the message must contain)
BAD_CONFIGS = [
    ("primary", "role", "tertiary", ["magento-dr:role", "primary or secondary"]),
    ("primary", "region", "us-east-9x", ["magento-dr:region", "not an AWS region"]),
    ("primary", "region", "mars-north-1", ["magento-dr:region", "us-east-1"]),
    ("primary", "region", _DELETE, ["magento-dr:region", "required"]),
    ("primary", "peer.region", "us-east-1", ["magento-dr:peer.region", "different region"]),
    ("secondary", "region", "us-east-1", ["both us-east-1", "different region"]),
    ("primary", "peer.networkCidr", "10.10.128.0/17", ["overlaps", "magento-dr:network.cidr", "disjoint"]),
    ("secondary", "network.cidr", "10.0.0.0/8", ["magento-dr:network.cidr", "/16 to /20"]),
    ("secondary", "network.cidr", "10.10.0.0/16", ["overlaps"]),
    ("primary", "network.cidr", "10.10.0.1/16", ["magento-dr:network.cidr", "CIDR"]),
    ("primary", "network.cidr", "8.8.0.0/16", ["RFC 1918"]),
    ("secondary", "primaryStack", _DELETE, ["magento-dr:primaryStack", "required for a secondary"]),
    ("secondary", "primaryStack", "primary", ["magento-dr:primaryStack", "<organization>/<project>/<stack>"]),
    ("primary", "primaryStack", "org/magento-dr/primary", ["magento-dr:primaryStack", "remove it"]),
    ("primary", "network.azCount", 1, ["magento-dr:network.azCount", "between 2 and 6"]),
    ("primary", "network.azCount", "three", ["magento-dr:network.azCount", "whole number"]),
    ("primary", "network.natGateways", "two", ["magento-dr:network.natGateways", "per-az, single, none"]),
    ("primary", "network.natGateways", "none", ["magento-dr:network.natGateways none", "per-az or single", "scope database"]),
    ("primary", "network.flowLogRetentionDays", 45, ["flowLogRetentionDays", "CloudWatch Logs accepts"]),
    ("primary", "database.instanceCount", 1, ["magento-dr:database.instanceCount", "between 2 and 15"]),
    ("primary", "database.instanceCount", 16, ["magento-dr:database.instanceCount", "between 2 and 15"]),
    ("secondary", "database.instanceCount", 17, ["magento-dr:database.instanceCount", "between 1 and 16"]),
    ("primary", "database.instanceClass", "db.t3.micro", ["magento-dr:database.instanceClass", "db.r7g.large"]),
    ("primary", "database.engineVersion", "5.7.mysql_aurora.2.11.2", ["engineVersion", "Aurora MySQL 3"]),
    ("primary", "database.credentials", "copy", ["magento-dr:database.credentials", "for secondaries"]),
    ("secondary", "database.credentials", "clone", ["magento-dr:database.credentials", "replica, copy"]),
    ("primary", "database.backupRetentionDays", 3, ["backupRetentionDays", "between 7 and 35"]),
    ("primary", "web.desiredCapacity", 20, ["magento-dr:web.desiredCapacity", "between"]),
    ("primary", "web.standbyCapacity", 5, ["magento-dr:web.standbyCapacity", "exceeds"]),
    ("primary", "web.minSize", 0, ["magento-dr:web.minSize", "between 2 and 100"]),
    ("primary", "web.amiId", "ubuntu", ["magento-dr:web.amiId", "ami-"]),
    ("primary", "web.fullPageCache", "memcached", ["magento-dr:web.fullPageCache", "redis, varnish"]),
    ("primary", "web.varnishMemoryPercent", 30, ["magento-dr:web.varnishMemoryPercent", "magento-dr:web.fullPageCache varnish", "remove it"]),
    ("primary", "cache.nodeType", "cache.t4g.micro", ["magento-dr:cache.nodeType", "Global Datastore"]),
    ("primary", "cache.engine", "memcached", ["magento-dr:cache.engine", "valkey, redis"]),
    ("primary", "search.engineVersion", "Elasticsearch_7.10", ["magento-dr:search.engineVersion", "OpenSearch 2.x"]),
    ("primary", "search.instanceCount", 1, ["magento-dr:search.instanceCount", "between 2 and 20"]),
    ("primary", "search.instanceCount", 5, ["magento-dr:search.instanceCount", "evenly over two or three", "e.g. 6"]),
    ("primary", "failover.mode", "yolo", ["magento-dr:failover.mode", "automatic, notify"]),
    ("primary", "failover.consecutiveFailures", 1, ["magento-dr:failover.consecutiveFailures", "between 2 and 10"]),
    ("primary", "failover.healthCheckIntervalSeconds", 20, ["healthCheckIntervalSeconds", "10 or 30"]),
    ("primary", "failover.healthCheckFailureThreshold", 5, ["healthCheckFailureThreshold", "between 1 and 3"]),
    ("primary", "failover.notificationEmails", ["not-an-email"], ["notificationEmails", "not an email"]),
    ("primary", "failover.acceleratorFlowLogs", True, ["magento-dr:failover.acceleratorFlowLogs", "no effect without", "globalAccelerator true"]),
    ("primary", "failover.globalAccelerator", "yes", ["magento-dr:failover.globalAccelerator", "true or false"]),
    ("primary", "failover.arcRegionSwitch", True, ["magento-dr:failover.arcRegionSwitch", "paired standby", "owns"]),
    ("secondary", "failover.arcApprovalRoleArn", "arn:aws:iam::123456789012:role/dr-approvers", ["arcApprovalRoleArn", "no effect without"]),
    ("primary", "failover.rpoSecondz", 60, ["magento-dr:failover.rpoSecondz", "not a known setting"]),
    ("primary", "readiness.scheduleMinutes", 0, ["magento-dr:readiness.scheduleMinutes", "between 1 and 60"]),
    ("primary", "readiness.alarmAfterMinutes", 16, ["magento-dr:readiness.alarmAfterMinutes", "every 5 minutes", "use 15 or 20"]),
    ("primary", "readiness.alarmAfterMinutes", 2, ["magento-dr:readiness.alarmAfterMinutes", "between 5 and 1440"]),
    ("primary", "readiness.alarmAfterMinutes", 1445, ["magento-dr:readiness.alarmAfterMinutes", "between 5 and 1440"]),
    ("primary", "dns.shopHostname", "shop.example.org", ["magento-dr:dns.shopHostname", "not inside the hosted zone"]),
    ("primary", "dns.zoneName", _DELETE, ["magento-dr:dns.zoneName", "required"]),
    ("primary", "protect", "sometimes", ["magento-dr:protect", "true or false"]),
    ("primary", "tags", {"aws:owner": "x"}, ["magento-dr:tags", "aws:"]),
    ("primary", "tags", {"rds:owner": "x"}, ["magento-dr:tags.rds:owner", "reserved"]),
    ("primary", "tags", {"owner": "aws:sre"}, ["magento-dr:tags.owner", "reserved"]),
    ("primary", "tags", {"k" * 129: "x"}, ["magento-dr:tags", "1 to 128 characters"]),
    ("primary", "tags", {"owner": "v" * 257}, ["magento-dr:tags.owner", "0 to 256 characters"]),
    ("primary", "tags", {f"team-{i}": "v" * 200 for i in range(6)}, ["magento-dr:tags", "as JSON", "4 KB", "under 1024 bytes"]),
    ("primary", "tags", {"owner": "sre#1"}, ["magento-dr:tags.owner", "'#'"]),
    # 44 of the user's + project, stack, role, region, managed-by + the function's Name and created-by mark = 51.
    ("primary", "tags", {f"team-{i}": "x" for i in range(44)}, ["magento-dr:tags has 44 tags", "51", "remove 1"]),
    ("primary", "colour", "blue", ["magento-dr:colour", "not a known setting"]),
]


@pytest.mark.parametrize(("stack", "key", "value", "words"), BAD_CONFIGS, ids=[f"{c[0]}-{c[1]}-{c[2]!s:.20}" for c in BAD_CONFIGS])
def test_bad_config_names_the_key_and_the_fix(stack: str, key: str, value: Any, words: list[str]) -> None:
    raw = _set(raw_config(stack), key, value)
    with pytest.raises(ConfigError) as error:
        parse_settings(stack, raw)
    for word in words:
        assert word in str(error.value), f"{word!r} missing from: {error.value}"


def test_a_stack_name_the_failover_instances_fit_is_accepted_and_a_longer_one_refused_before_the_outage() -> None:
    """The failover function adds `magento-dr-<stack>-db-failover-1` (the primary, a repair): 63 characters at most."""
    assert parse_settings("p" * 38, raw_config("primary")).stack == "p" * 38
    with pytest.raises(ConfigError) as error:
        parse_settings("p" * 39, raw_config("primary"))
    message = str(error.value)
    for words in (f"stack {'p' * 39!r}", f"magento-dr-{'p' * 39}-db-failover-1", "64 characters long", "1 to 63",
                  "at least 1 characters shorter", "before the first `pulumi up`"):
        assert words in message, message
    assert "failoverDatabaseInstances" not in message  # the primary adds one: nothing to lower
    # A database standby runs no failover function: its own instances, `{cluster}-N`, are what must fit.
    bunker = {k.split(":", 1)[1]: v for k, v in example_config("bunker").items() if k.startswith("magento-dr:")}
    assert parse_settings("b" * 39, bunker).scope == "database"


def test_as_many_tags_as_a_db_instance_the_failover_function_adds_can_carry() -> None:
    tags = {f"team-{i}": "x" for i in range(43)}
    assert parse_settings("primary", _set(raw_config("primary"), "tags", tags)).tags == tags


# The program-level check: the same errors stop `pulumi up` before any resource is declared.
PROGRAM_CASES = [
    ("primary", {"magento-dr:role": "tertiary"}, "magento-dr:role"),
    ("secondary", {"magento-dr:region": "us-east-1"}, "different region"),
    ("primary", {"magento-dr:region": "us-east-one"}, "not an AWS region"),
    ("primary", {"magento-dr:peer": {"region": "eu-west-1", "networkCidr": "10.10.0.0/20"}}, "overlaps"),
    ("secondary", {"magento-dr:primaryStack": None}, "magento-dr:primaryStack"),
    ("primary", {"magento-dr:database": {"instanceCount": 40}}, "magento-dr:database.instanceCount"),
    ("primary", {"magento-dr:web": {"maxSize": 1}}, "magento-dr:web"),
    ("primary", {"magento-dr:failover": {"acceleratorFlowLogs": True}}, "magento-dr:failover.acceleratorFlowLogs"),
    # A misspelt block is never read by name: without the namespace-wide check every database
    # setting would silently fall back to its default.
    ("primary", {"magento-dr:databse": {"instanceCount": 4}}, "magento-dr:databse is not a known setting"),
    ("secondary", {"magento-dr:failovr": {"mode": "notify"}}, "valid keys are: cache, database, dns, failover"),
]


@pytest.mark.parametrize(("stack", "overrides", "words"), PROGRAM_CASES, ids=[c[2] for c in PROGRAM_CASES])
def test_bad_config_stops_the_program_before_any_resource(stack: str, overrides: dict[str, Any], words: str) -> None:
    with pytest.raises(ProgramFailed) as failed:
        run_stack(stack, overrides=overrides)
    assert isinstance(failed.value.cause, ConfigError)
    assert words in str(failed.value.cause)
    assert failed.value.declared == [], f"resources declared before validation: {failed.value.declared}"


def test_secondary_rejects_a_primary_that_exports_another_region(primary: Any) -> None:
    exports = dict(primary.exports, region="us-west-2")
    with pytest.raises(ProgramFailed) as failed:
        run_stack("secondary", peer_exports=exports)
    assert "make them agree" in str(failed.value.cause)


def test_namespace_keys_come_from_the_language_host_environment_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pulumi up` hands config to the Python program in PULUMI_CONFIG, not through set_all_config."""
    from components.config import namespace_keys

    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"magento-dr:databse": "{}", "magento-dr:role": "primary", "aws:region": "us-east-1"}))
    assert namespace_keys() == ["databse", "role"]
