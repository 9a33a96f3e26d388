"""Both stacks with `magento-dr:web.fullPageCache: varnish`, beside the example stacks (Redis): what each
instance boots with (its VCL compiles with varnishd; Magento is set up for Varnish), who may purge, what the
failover runs, and that the load balancer's and Route 53's checks are the same as without Varnish."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from components.failover_automation import post_failover_document
from components.magento_runtime import LIVENESS_PATH
from components.subnets import plan_subnets
from components.varnish import BAN_ALL_AS_ROOT, PURGE_PORT, SYNC_AS_ROOT, SYNC_COMMAND, VCL_PATH
from offline.mocks import ComputedAttributes
from offline.runner import Resource, StackGraph
from tests.varnish_harness import compile_vcl

# The session's varnish_pair (tests/conftest.py): under `make unit` its users share one worker.
pytestmark = pytest.mark.xdist_group("full_page_cache")

T_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
T_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
T_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
T_DOCUMENT = "aws:ssm/document:Document"
INTERNET = ("0.0.0.0/0", "::/0")


@pytest.fixture(params=["primary", "secondary"])
def stacks(request: pytest.FixtureRequest, varnish_pair: dict[str, StackGraph], primary: StackGraph, secondary: StackGraph) -> tuple[StackGraph, StackGraph]:
    """(with Varnish, as the example) for each shop stack."""
    return varnish_pair[request.param], {"primary": primary, "secondary": secondary}[request.param]


def user_data(graph: StackGraph) -> str:
    return base64.b64decode(graph.one(T_TEMPLATE).inputs["userData"]).decode()


def heredoc(script: str, path: str, marker: str) -> str:
    match = re.search(rf"^cat > {re.escape(path)} <<'{marker}'\n(.*?)\n{marker}$", script, re.MULTILINE | re.DOTALL)
    assert match, f"user data writes no {path}"
    return match.group(1)


def run_commands(graph: StackGraph) -> list[str]:
    (step,) = json.loads(graph.one(T_DOCUMENT, "failover-post-failover").inputs["content"])["mainSteps"]
    return list(step["inputs"]["runCommand"])


def app_rules(graph: StackGraph, token: str) -> list[dict[str, Any]]:
    app = _id(graph.one("aws:ec2/securityGroup:SecurityGroup", "network-app-sg"))
    return [r.inputs for r in graph.of_type(token) if r.inputs["securityGroupId"] == app]


def _id(resource: Resource) -> str:
    return ComputedAttributes()(resource.type, resource.name, resource.region or "", resource.inputs)[0]


# ---------------------------------------------------------------- what an instance boots with
def test_each_instance_compiles_the_vcl_its_launch_template_carries(stacks: tuple[StackGraph, StackGraph], tmp_path: Path) -> None:
    graph, _ = stacks
    script = user_data(graph)
    vcl = heredoc(script, VCL_PATH, "VCL")
    compiled = compile_vcl(vcl, tmp_path)
    assert compiled.ok, compiled.message
    # Purges only from this region's web subnets (and loopback), as the network lays them out.
    settings = graph.config["magento-dr:network"]
    subnets = [s.private for s in plan_subnets(settings["cidr"], int(settings["azCount"]))]
    assert re.findall(r'^    "([0-9./]+)";$', vcl, re.MULTILINE) == ["127.0.0.1", *subnets]


def test_user_data_starts_varnish_before_the_load_balancer_may_send_shoppers(stacks: tuple[StackGraph, StackGraph]) -> None:
    graph, _ = stacks
    script = user_data(graph)
    order = [
        '> "$MAGENTO_ROOT/app/etc/env.php.new"',  # env.php, which the sync script then completes
        f"chmod 0644 {VCL_PATH}",  # varnishd reads it as its own unprivileged user
        f"varnishd -C -f {VCL_PATH}",  # the installed Varnish must compile it, or the boot stops
        "nginx -t",
        "systemctl restart magento-dr-varnish.service",
        f"\n{SYNC_COMMAND}\n",  # http_cache_hosts = every instance of the region
        "systemctl enable --now magento-dr-varnish-sync.timer",
        "systemctl restart php-fpm nginx",
        "cut -d. -f1 /proc/uptime",  # every peer has re-read the region's instances
        f'pub{LIVENESS_PATH}"',
    ]
    positions = [script.index(marker) for marker in order]
    assert positions == sorted(positions), dict(zip(order, positions, strict=True))


def test_magento_is_set_up_for_varnish_and_the_example_for_its_builtin_cache(stacks: tuple[StackGraph, StackGraph]) -> None:
    with_varnish, example = stacks

    def settings(graph: StackGraph) -> dict[str, Any]:
        return dict(json.loads(user_data(graph).split("--argjson full_page_cache '", 1)[1].split("'", 1)[0]))

    assert settings(example) == {"caching_application": "1"}
    varnish = settings(with_varnish)
    assert varnish["caching_application"] == "2"
    assert varnish["varnish"]["backend_host"] == "127.0.0.1" and varnish["varnish"]["backend_port"] == "8080"
    assert varnish["varnish"]["grace_period"] == "300"
    acl = re.findall(r'^    "([0-9./]+)";$', heredoc(user_data(with_varnish), VCL_PATH, "VCL"), re.MULTILINE)
    assert varnish["varnish"]["access_list"].split(",") == acl
    assert "magento-dr-varnish" not in user_data(example)
    assert with_varnish.exports["fullPageCache"] == "varnish" and example.exports["fullPageCache"] == "redis"


# ---------------------------------------------------------------- who may purge
def test_the_purge_port_opens_only_between_web_instances(stacks: tuple[StackGraph, StackGraph]) -> None:
    graph, example = stacks
    app = _id(graph.one("aws:ec2/securityGroup:SecurityGroup", "network-app-sg"))
    new_in = [r for r in app_rules(graph, T_INGRESS) if r not in app_rules(example, T_INGRESS)]
    new_out = [r for r in app_rules(graph, T_EGRESS) if r not in app_rules(example, T_EGRESS)]
    for rules in (new_in, new_out):
        assert [(r["fromPort"], r["toPort"], r.get("referencedSecurityGroupId"), r.get("cidrIpv4")) for r in rules] == [(PURGE_PORT, PURGE_PORT, app, None)]
    # Nothing else changed: only the load balancer is open to the internet, on 80 and 443.
    open_groups = {r.inputs["securityGroupId"] for r in graph.of_type(T_INGRESS) if r.inputs.get("cidrIpv4") in INTERNET}
    assert open_groups == {_id(graph.one("aws:ec2/securityGroup:SecurityGroup", "network-alb-sg"))}


def test_only_instances_running_varnish_may_list_their_regions_instances(stacks: tuple[StackGraph, StackGraph]) -> None:
    def statements(graph: StackGraph) -> dict[str, dict[str, Any]]:
        policy = json.loads(graph.one("aws:iam/rolePolicy:RolePolicy", "frontend-instance").inputs["policy"])
        return {s["Sid"]: s for s in policy["Statement"]}

    graph, example = stacks
    discover = statements(graph)["FindTheRegionsWebInstances"]
    assert discover["Action"] == ["ec2:DescribeInstances"]
    assert discover["Condition"] == {"StringEquals": {"aws:RequestedRegion": graph.exports["region"]}}
    assert "FindTheRegionsWebInstances" not in statements(example)
    assert set(statements(graph)) - set(statements(example)) == {"FindTheRegionsWebInstances"}


# ---------------------------------------------------------------- the failover
def test_the_failover_refreshes_the_purge_list_first_and_empties_every_varnish_last(stacks: tuple[StackGraph, StackGraph]) -> None:
    graph, example = stacks
    commands = run_commands(graph)
    assert commands == [
        "set -euo pipefail",
        SYNC_AS_ROOT,
        "sudo -u nginx php bin/magento cache:flush",
        "sudo -u nginx php bin/magento indexer:reindex catalogsearch_fulltext",
        BAN_ALL_AS_ROOT,
    ]
    assert json.loads(graph.one(T_DOCUMENT, "failover-post-failover").inputs["content"]) == post_failover_document("varnish")
    assert not {SYNC_AS_ROOT, BAN_ALL_AS_ROOT} & set(run_commands(example))
    # The function runs it as before: same environment variable, same permissions (one document ARN).
    fn = graph.one("aws:lambda/function:Function", "failover-function").inputs["environment"]["variables"]
    assert fn["MDR_RUN_COMMAND_DOCUMENT"] == graph.one(T_DOCUMENT, "failover-post-failover").inputs["name"]


def test_the_load_balancers_and_route53s_checks_are_those_without_varnish(stacks: tuple[StackGraph, StackGraph]) -> None:
    """The liveness file and Magento's deep check reach nginx through Varnish, which passes both (never cached)."""
    graph, example = stacks
    for token in ("aws:lb/targetGroup:TargetGroup", "aws:route53/healthCheck:HealthCheck"):
        assert sorted(json.dumps(r.inputs, sort_keys=True) for r in graph.of_type(token)) == sorted(
            json.dumps(r.inputs, sort_keys=True) for r in example.of_type(token)
        ), token
    vcl = heredoc(user_data(graph), VCL_PATH, "VCL")
    assert f'req.url == "{LIVENESS_PATH}"' in vcl and '"^/(pub/)?(health_check.php)$"' in vcl


def test_the_varnish_stacks_pass_every_guardrail(stacks: tuple[StackGraph, StackGraph]) -> None:
    from policy.rules import RULE_IDS, evaluate, subjects_from_graph

    graph, _ = stacks
    violations = evaluate(subjects_from_graph(graph.resources), list(RULE_IDS))
    assert not violations, "\n".join(f"{v.name}: {v.message}" for v in violations)


def test_make_cost_prices_the_varnish_stacks(varnish_pair: dict[str, StackGraph]) -> None:
    from offline.cost import Assumptions, PriceTable, estimate, unpriced_types

    for graph in varnish_pair.values():
        assert unpriced_types(graph) == [], f"{graph.stack}: add a pricing rule or a reason to offline/cost.py"
        assert estimate(graph, PriceTable.load(), Assumptions())


def test_the_exported_budget_counts_varnishs_probe_after_the_promotion(stacks: tuple[StackGraph, StackGraph]) -> None:
    """The stack promises what a Varnish region delivers: pages flow once Varnish's probe has seen the promoted
    region's deep check green (components/rto.py full_page_cache_terms), 25 s after the example's figures."""
    graph, example = stacks
    budget, redis = graph.exports["rtoBudget"], example.exports["rtoBudget"]
    assert [t["name"] for t in budget["breakdown"]["after_promotion"]] == ["varnish_probe"] and redis["breakdown"]["after_promotion"] == []
    assert budget["after_promotion_seconds"] == 25
    assert budget["with_typical_promotion_seconds"] == redis["with_typical_promotion_seconds"] + 25
    assert budget["objective_seconds"] >= budget["total_seconds"] > redis["total_seconds"]
