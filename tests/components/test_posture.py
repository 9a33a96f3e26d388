"""Standby postures (components/posture.py): what each one sizes, what it refuses and why, its RTO terms, its graph."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest

from components import rto
from components.config import ConfigError, parse_settings
from components.posture import DEFAULT_FAILOVER_DATABASE_INSTANCES, PILOT_LIGHT_SEARCH_INSTANCE_TYPE
from offline.runner import POSTURE_SIZED_KEYS, StackGraph, load_stack_config

pytestmark = pytest.mark.xdist_group("posture-graphs")


def secondary(posture: str | None = None, **sections: dict[str, Any]) -> dict[str, Any]:
    """The example secondary (namespace stripped) with the posture's sized keys removed and `sections` merged in."""
    raw = {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in load_stack_config("secondary").items()}
    if posture is not None:
        raw["standby"] = {"posture": posture}
        for key, sized in POSTURE_SIZED_KEYS.items():
            section = key.split(":", 1)[1]
            raw[section] = {k: v for k, v in raw.get(section, {}).items() if k not in sized}
        raw["failover"]["rtoSeconds"] = 1800
    for section, values in sections.items():
        raw[section] = {**raw.get(section, {}), **values}
    return raw


def test_warm_is_the_default_and_changes_nothing() -> None:
    settings = parse_settings("secondary", secondary())
    assert settings.standby.posture == "warm" and settings.standby.failover_database_instances == 0
    assert (settings.database.instance_count, settings.web.standby_capacity) == (2, 1)  # as the example file says


def test_pilot_light_defaults_run_nothing_but_the_data() -> None:
    s = parse_settings("secondary", secondary("pilot-light"))
    assert s.standby.posture == "pilot-light"
    assert s.standby.failover_database_instances == DEFAULT_FAILOVER_DATABASE_INSTANCES
    assert s.database.instance_count == 0 and s.web.standby_capacity == 0
    assert (s.search.instance_count, s.search.instance_type) == (1, PILOT_LIGHT_SEARCH_INSTANCE_TYPE)
    assert s.network.nat_gateways == "single"
    # The cache cannot shrink: a Global Datastore secondary keeps a replica while the primary fails over automatically.
    assert s.cache.replicas == 1


def test_a_pilot_light_whose_last_failover_instance_name_rds_would_refuse_is_refused_naming_both_fixes() -> None:
    """{cluster}-failover-10 is one character longer than {cluster}-failover-9: with a 38-character stack name, 64."""
    stack = "s" * 38
    assert parse_settings(stack, secondary("pilot-light", standby={"posture": "pilot-light", "failoverDatabaseInstances": 9}))
    with pytest.raises(ConfigError) as error:
        parse_settings(stack, secondary("pilot-light", standby={"posture": "pilot-light", "failoverDatabaseInstances": 10}))
    message = str(error.value)
    assert f"magento-dr-{stack}-db-failover-10" in message and "64 characters long" in message, message
    assert "magento-dr:standby.failoverDatabaseInstances below 10" in message and "stack name" in message, message


def test_hot_defaults_to_production_size() -> None:
    s = parse_settings("secondary", secondary("hot"))
    assert s.web.standby_capacity == s.web.desired_capacity == 3
    assert s.database.instance_count == 2 and s.search.instance_count == 2 and s.cache.replicas == 1


@pytest.mark.parametrize(
    ("posture", "section", "values", "message"),
    [
        ("pilot-light", "database", {"instanceCount": 1},
         "database.instanceCount is 1 but magento-dr:standby.posture pilot-light allows 0: a pilot light keeps the standby cluster headless"),
        ("pilot-light", "web", {"standbyCapacity": 1}, "web.standbyCapacity is 1 but magento-dr:standby.posture pilot-light allows 0"),
        ("pilot-light", "cache", {"replicas": 0},
         "cache.replicas is 0 but magento-dr:standby.posture pilot-light allows 1 to 5: a Global Datastore secondary keeps at least one replica"),
        ("pilot-light", "database", {"engineVersion": "8.0.mysql_aurora.3.08.2"}, "older than Aurora MySQL 3.09"),
        ("warm", "database", {"instanceCount": 0}, "for none choose posture pilot-light"),
        ("warm", "web", {"standbyCapacity": 0}, "web.standbyCapacity is 0 but magento-dr:standby.posture warm allows 1 to 200"),
        ("warm", "search", {"instanceCount": 1}, "for one node choose posture pilot-light"),
        ("pilot-light", "search", {"instanceCount": 0}, "allows 1 to 20: a pilot light keeps its search domain"),
        ("pilot-light", "search", {"instanceCount": 7}, "evenly over two or three Availability Zones"),
        ("hot", "web", {"standbyCapacity": 2}, "hot runs magento-dr:web.desiredCapacity (3)"),
        ("hot", "database", {"instanceCount": 1}, "a hot standby runs the database at production size"),
    ],
)
def test_a_value_the_posture_contradicts_is_refused_with_the_reason(posture: str, section: str, values: dict[str, Any], message: str) -> None:
    raw = secondary(posture, **{section: values})
    with pytest.raises(ConfigError, match=None) as info:
        parse_settings("secondary", raw)
    assert message in str(info.value)


def test_the_posture_is_the_secondarys_and_failover_instances_only_the_pilot_lights() -> None:
    primary = {k.split(":", 1)[1]: v for k, v in load_stack_config("primary").items()}
    primary["standby"] = {"posture": "hot"}
    with pytest.raises(ConfigError, match=r"standby is set on the primary, which runs production"):
        parse_settings("primary", primary)
    raw = secondary("warm")
    raw["standby"]["failoverDatabaseInstances"] = 2
    with pytest.raises(ConfigError, match=r"failoverDatabaseInstances is for magento-dr:standby.posture pilot-light"):
        parse_settings("secondary", raw)
    raw = secondary("pilot-light")
    raw["standby"]["failoverDatabaseInstances"] = 0
    with pytest.raises(ConfigError, match=r"failoverDatabaseInstances is 0; it must be between 1 and 16"):
        parse_settings("secondary", raw)
    with pytest.raises(ConfigError, match=r"standby.posture is 'lukewarm'; set it to one of: pilot-light, warm, hot"):
        parse_settings("secondary", {**secondary(), "standby": {"posture": "lukewarm"}})


def test_a_pilot_light_below_its_budget_names_the_budget_and_the_alternative() -> None:
    raw = secondary("pilot-light")
    raw["failover"]["rtoSeconds"] = 300
    with pytest.raises(ConfigError) as info:
        parse_settings("secondary", raw)
    text = str(info.value)
    budget = rto.failover_budget(probe_interval_seconds=10, consecutive_failures=7, health_check_interval_seconds=10,
                                 health_check_failure_threshold=3, posture="pilot-light")
    assert f"raise magento-dr:failover.rtoSeconds to at least {budget.total_seconds}" in text
    assert "db_instance 1200s" in text and "choose magento-dr:standby.posture warm" in text


EXAMPLE = dict(probe_interval_seconds=10, consecutive_failures=7, health_check_interval_seconds=10, health_check_failure_threshold=3)


def test_the_pilot_light_budget_adds_the_instance_on_the_writes_path_and_boots_the_web_tier_beside_it() -> None:
    warm = rto.failover_budget(**EXAMPLE, posture="warm")
    pilot = rto.failover_budget(**EXAMPLE, posture="pilot-light")
    assert pilot.decision_seconds == warm.decision_seconds == warm.writes_seconds
    # The instance, and the next evaluation seeing it: a schedule period minus what each evaluation waits for it.
    seen = rto.SCHEDULE_PERIOD_SECONDS - rto.PREPARATION_WAIT_SECONDS
    assert pilot.writes_seconds == warm.writes_seconds + rto.DB_INSTANCE_CREATE_SECONDS + seen
    web = rto.WEB_BOOT_SECONDS + 2 * 15
    assert pilot.web_ready_seconds == web and pilot.capacity_seconds == pilot.decision_seconds + web
    assert pilot.total_seconds == max(pilot.writes_seconds, pilot.traffic_seconds, pilot.capacity_seconds) == pilot.writes_seconds
    assert pilot.with_typical_promotion_seconds == pilot.writes_seconds + rto.AURORA_PROMOTION_TYPICAL_SECONDS
    export = pilot.as_export(1800)
    assert export["posture"] == "pilot-light" and [t["name"] for t in export["breakdown"]["writes"][-2:]] == ["db_instance", "db_instance_seen"]
    assert [t["name"] for t in export["breakdown"]["web_ready"]] == ["web_boot", "web_target_health"]


def test_warm_and_hot_take_orders_at_the_same_moment_and_differ_in_full_capacity() -> None:
    warm = rto.failover_budget(**EXAMPLE, posture="warm")
    hot = rto.failover_budget(**EXAMPLE, posture="hot")
    assert warm.total_seconds == hot.total_seconds and warm.capacity_seconds == hot.capacity_seconds == 0
    assert hot.full_capacity_seconds == hot.with_typical_promotion_seconds
    assert warm.full_capacity_seconds == warm.writes_seconds + rto.AURORA_PROMOTION_TYPICAL_SECONDS + warm.web_ready_seconds
    assert warm.full_capacity_seconds > hot.full_capacity_seconds


def test_with_the_accelerator_a_pilot_light_still_waits_for_its_instance() -> None:
    pilot = rto.failover_budget(**EXAMPLE, posture="pilot-light", front_door="accelerator")
    assert pilot.total_seconds == pilot.writes_seconds + pilot.traffic_seconds
    with pytest.raises(rto.RtoError, match="posture 'tepid'"):
        rto.failover_budget(**EXAMPLE, posture="tepid")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def graphs(posture_secondaries: dict[str, StackGraph]) -> dict[str, StackGraph]:
    assert list(posture_secondaries) == ["pilot-light", "warm", "hot"]
    return posture_secondaries


def _counts(graph: StackGraph) -> Counter[str]:
    return Counter(r.type for r in graph.resources)


def test_each_posture_builds_and_declares_only_what_it_runs(graphs: dict[str, StackGraph]) -> None:
    pilot, warm, hot = graphs["pilot-light"], graphs["warm"], graphs["hot"]
    instances = {p: _counts(g)["aws:rds/clusterInstance:ClusterInstance"] for p, g in graphs.items()}
    assert instances == {"pilot-light": 0, "warm": 2, "hot": 2}
    nat = {p: _counts(g)["aws:ec2/natGateway:NatGateway"] for p, g in graphs.items()}
    assert nat == {"pilot-light": 1, "warm": 3, "hot": 3}
    groups = {p: (g.one("aws:autoscaling/group:Group").inputs["minSize"], g.one("aws:autoscaling/group:Group").inputs["desiredCapacity"])
              for p, g in graphs.items()}
    assert groups == {"pilot-light": (0, 0), "warm": (1, 1), "hot": (3, 3)}
    search = pilot.one("aws:opensearch/domain:Domain").inputs
    assert search["clusterConfig"]["instanceCount"] == 1 and search["clusterConfig"]["zoneAwarenessEnabled"] is False
    assert "zoneAwarenessConfig" not in search["clusterConfig"] and len(search["vpcOptions"]["subnetIds"]) == 1
    # Everything else is the same resource set: a posture changes only what it must.
    for graph in (pilot, hot):
        differing = {t for t in set(_counts(graph)) | set(_counts(warm)) if _counts(graph)[t] != _counts(warm)[t]}
        assert differing <= {
            "aws:rds/clusterInstance:ClusterInstance", "aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip",
            "aws:ec2/routeTable:RouteTable", "aws:ec2/route:Route", "aws:ec2/routeTableAssociation:RouteTableAssociation",
        }, differing


def test_the_pilot_lights_cluster_is_a_headless_member_of_the_global_database(graphs: dict[str, StackGraph]) -> None:
    cluster = graphs["pilot-light"].one("aws:rds/cluster:Cluster")
    assert cluster.inputs.get("globalClusterIdentifier")
    assert cluster.inputs["storageEncrypted"] is True
