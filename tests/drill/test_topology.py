"""The drill reads names, ids and settings from the stacks' graphs, never inventing them."""

from __future__ import annotations

import pytest

from drill.topology import Topology, TopologyError, build_topology, schedule_period_seconds, scheduler_event
from handlers.settings import Settings
from offline.runner import StackGraph


def test_function_environment_is_the_graphs_own(topology: Topology, primary: StackGraph, secondary: StackGraph) -> None:
    for graph, region in ((primary, topology.primary), (secondary, topology.secondary)):
        fn = graph.one("aws:lambda/function:Function")
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
