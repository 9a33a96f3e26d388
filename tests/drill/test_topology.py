"""The drill reads names, ids and settings from the stacks' graphs, never inventing them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from drill.topology import T_CLUSTER, Topology, TopologyError, build_topology, schedule_period_seconds, scheduler_event
from handlers.settings import Settings
from offline.runner import StackGraph


def test_function_environment_is_the_graphs_own(topology: Topology, primary: StackGraph, secondary: StackGraph) -> None:
    for graph, region in ((primary, topology.primary), (secondary, topology.secondary)):
        fn = graph.one("aws:lambda/function:Function", "failover-function")
        assert dict(region.function_env) == fn.inputs["environment"]["variables"]
        # ... and the handler accepts it as is.
        assert Settings.from_env(region.function_env).local_cluster_arn == region.cluster_arn


def test_topology_names(topology: Topology) -> None:
    p, s = topology.primary, topology.secondary
    assert (p.region, s.region) == ("us-east-1", "eu-west-1")
    assert p.function_env["MDR_GLOBAL_CLUSTER_ID"] == s.function_env["MDR_GLOBAL_CLUSTER_ID"] == topology.global_cluster_id
    assert s.function_env["MDR_ASG_NAME"] == s.asg_name and s.function_env["MDR_SSM_PREFIX"] == s.ssm_prefix
    assert s.function_env["MDR_CACHE_GLOBAL_DATASTORE_ID"] == topology.cache_global_datastore_id
    assert s.active_parameter in s.ssm_parameters and p.ssm_parameters[p.active_parameter] == "true"
    assert (p.record.failover_type, s.record.failover_type) == ("PRIMARY", "SECONDARY")
    assert s.writer_alarm.metric_name == "RegionHoldsWriter" and s.writer_alarm.dimensions == {"Region": s.region, "Stack": s.stack}
    assert s.rto_budget["objective_seconds"] > 0


def test_scheduler_event_fills_context_attributes(topology: Topology) -> None:
    event = scheduler_event(topology.secondary, "2030-01-01T00:00:00Z", "exec-1")
    assert event == {
        "action": "evaluate",
        "schedule_arn": topology.secondary.schedule_arn,
        "scheduled_time": "2030-01-01T00:00:00Z",
        "execution_id": "exec-1",
        "attempt_number": "1",
    }


@pytest.mark.parametrize(("expression", "seconds"), [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600)])
def test_schedule_period(expression: str, seconds: int) -> None:
    assert schedule_period_seconds(expression) == seconds


def test_cron_schedules_are_refused_with_a_reason() -> None:
    with pytest.raises(TopologyError, match="rate"):
        schedule_period_seconds("cron(0 * * * ? *)")


def test_stacks_in_the_wrong_order_are_refused(primary: StackGraph, secondary: StackGraph) -> None:
    with pytest.raises(TopologyError, match="primary stack's graph first"):
        build_topology(secondary, primary)


# ---------------------------------------------------------------- the database standby (scope: database)
def test_database_standby_is_the_bunker_graphs_own(topology: Topology, primary: StackGraph, bunker: StackGraph) -> None:
    (sb,) = topology.database_standbys
    cluster = bunker.one(T_CLUSTER)
    assert (sb.stack, sb.region) == ("bunker", "us-west-2") == (bunker.stack, cluster.region)
    assert sb.cluster_id == bunker.exports["dbClusterId"] == cluster.inputs["clusterIdentifier"]
    assert sb.cluster_arn == bunker.exports["dbClusterArn"] == cluster.outputs["arn"]
    assert cluster.inputs["globalClusterIdentifier"] == topology.global_cluster_id == primary.exports["globalClusterId"]
    assert (sb.engine, sb.engine_version) == (topology.global_engine, topology.global_engine_version)
    assert sb.region not in {r.region for r in topology.regions}
    assert topology.summary()["database_standbys"] == [
        {
            "stack": "bunker",
            "region": "us-west-2",
            "role": "secondary",
            "scope": "database",
            "cluster_id": sb.cluster_id,
            "cluster_arn": sb.cluster_arn,
            "engine_version": sb.engine_version,
        }
    ]


def test_the_two_stack_call_has_no_database_standby(pair_topology: Topology, topology: Topology) -> None:
    assert pair_topology.database_standbys == () and pair_topology.summary()["database_standbys"] == []
    # The standby adds a member and nothing else: the shop pair reads the same either way.
    assert (pair_topology.primary, pair_topology.secondary) == (topology.primary, topology.secondary)


def _changed(graph: StackGraph, exports: dict[str, Any] | None = None, cluster_inputs: dict[str, Any] | None = None, arn: str | None = None) -> StackGraph:
    """A copy of the graph with some exports and its cluster's inputs (or computed ARN) changed; None removes a key."""
    new_exports = {k: v for k, v in {**graph.exports, **(exports or {})}.items() if v is not None}
    resources = []
    for r in graph.resources:
        if r.type == T_CLUSTER:
            inputs = {k: v for k, v in {**r.inputs, **(cluster_inputs or {})}.items() if v is not None}
            r = replace(r, inputs=inputs, outputs={**r.outputs, "arn": arn or r.outputs["arn"]})
        resources.append(r)
    return replace(graph, exports=new_exports, resources=resources)


EU_ARN = "arn:aws:rds:eu-west-1:123456789012:cluster:magento-dr-bunker-db"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"cluster_inputs": {"globalClusterIdentifier": "another-global-db"}},
            "cluster magento-dr-bunker-db joins global cluster 'another-global-db', not the primary's global cluster 'magento-dr-primary-global-db'",
        ),
        ({"cluster_inputs": {"globalClusterIdentifier": None}}, "joins no global cluster"),
        ({"exports": {"globalClusterId": "another-global-db"}}, "exports globalClusterId 'another-global-db', not the primary's"),
        ({"exports": {"dbClusterArn": None}}, "stack bunker does not export dbClusterArn"),
        ({"exports": {"dbClusterArn": EU_ARN}}, "exports dbClusterArn .* its cluster's ARN is"),
        ({"exports": {"region": "eu-west-1", "dbClusterArn": EU_ARN}, "arn": EU_ARN}, "region eu-west-1 is already used by the secondary stack"),
        ({"exports": {"scope": "shop"}}, "stack bunker is not a database standby"),
        ({"cluster_inputs": {"engine": "aurora-postgresql"}}, "runs 'aurora-postgresql'"),
    ],
    ids=["other-global-cluster", "not-joined", "export-other-global", "no-arn-export", "arn-differs", "shop-region", "shop-scope", "engine"],
)
def test_an_inconsistent_database_standby_is_refused_naming_why(
    primary: StackGraph, secondary: StackGraph, bunker: StackGraph, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(TopologyError, match=message):
        build_topology(primary, secondary, [_changed(bunker, **change)])


def test_a_shop_stack_or_a_second_standby_in_one_region_is_refused(primary: StackGraph, secondary: StackGraph, bunker: StackGraph) -> None:
    with pytest.raises(TopologyError, match="stack secondary is not a database standby: it exports role 'secondary', scope 'shop'"):
        build_topology(primary, secondary, [secondary])
    with pytest.raises(TopologyError, match="region us-west-2 is already used by the database standby bunker"):
        build_topology(primary, secondary, [bunker, bunker])
