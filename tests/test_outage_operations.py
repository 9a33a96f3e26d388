"""Operating the surviving stack while another region is dark, proven on the program's graphs.

The session's graphs (tests/conftest.py) are the stacks as deployed; each emergency change runs the
program once more in outage mode (module fixtures, one run each) through offline/outage.py, the
helper the RUNBOOK's "Changing infrastructure during an outage" prints commands with.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

import pytest

from components.outage import regions_needed
from offline.outage import FOLLOWS, OutageRun, UsageError, compute, engine_urns, main, plan_update, resource_region, same_inputs
from offline.runner import Invoke, StackGraph, load_stack_config, run_stack

# Module-scoped fixtures: under `make unit` (pytest-xdist --dist loadgroup) these tests share one worker.
pytestmark = pytest.mark.xdist_group("test_outage_operations")

DARK_FOR = {"primary": "eu-west-1", "secondary": "us-east-1", "bunker": "us-east-1"}

# Resource types for which terraform-provider-aws "returns an empty account ID when manually
# constructing ARN attributes" once skip_requesting_account_id is set (website/docs/index.html.markdown),
# among those this program declares or could plausibly declare. Other-region providers set it.
ACCOUNT_ID_ARN_TYPES = frozenset(
    {
        "aws:ssm/parameter:Parameter",
        "aws:ssm/document:Document",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:ec2/flowLog:FlowLog",
        "aws:ec2/instance:Instance",
        "aws:ec2/keyPair:KeyPair",
        "aws:elasticache/cluster:Cluster",
        "aws:efs/fileSystem:FileSystem",
        "aws:vpc/endpointService:EndpointService",
    }
)


def _graphs(primary: StackGraph, secondary: StackGraph, bunker: StackGraph) -> list[StackGraph]:
    return [primary, secondary, bunker]


def _changing(run: OutageRun) -> set[tuple[str, str | None]]:
    return {(t.name, t.region) for t in run.plan.targets if t.why != FOLLOWS}


def _up_command(run: OutageRun) -> list[str]:
    line = next(c for c in run.commands() if c.startswith("pulumi up ") and "--target" in c)
    return shlex.split(line.replace("\\\n", " "))


def _assert_touches_only_available_regions(run: OutageRun, dark: str) -> None:
    """The invariants every emergency update keeps (the drill checks the same)."""
    plan = run.plan
    assert plan.ok, plan.refusals
    assert not plan.removed
    urns = engine_urns(run.outage)
    by_urn = {urns[r.urn]: r for r in run.outage.resources}
    for target in plan.targets:
        resource = by_urn[target.urn]
        assert dark not in regions_needed(resource.type, resource_region(resource)), target
    # Everything declared before is declared in outage mode, and nothing AWS cannot serve now changes.
    before = {r.urn: r for r in run.before.resources}
    after = {r.urn: r for r in run.outage.resources}
    assert set(before) <= set(after)
    for urn, resource in after.items():
        if resource.custom and dark in regions_needed(resource.type, resource_region(resource)) and urn in before:
            assert same_inputs(before[urn], resource), urn
    assert not [i for i in run.outage.invokes if dark in regions_needed(i.token, i.region)]
    # The printed update names exactly the plan's targets, refreshes nothing, and no dark resource.
    command = _up_command(run)
    assert "--refresh=false" in command
    targets = {command[i + 1] for i, word in enumerate(command) if word == "--target"}
    assert targets == {t.urn for t in plan.targets}
    assert not targets & {t.urn for t in plan.deferred}


# ------------------------------------------------------------------------------ providers and lookups
def test_only_the_stacks_own_provider_checks_credentials_and_account_when_configured(
    primary: StackGraph, secondary: StackGraph, bunker: StackGraph
) -> None:
    for graph in _graphs(primary, secondary, bunker):
        own = graph.exports["region"]
        providers = {r.inputs["region"]: r.inputs for r in graph.resources if r.is_provider}
        assert own in providers and len(providers) >= 2, graph.stack
        for region, inputs in providers.items():
            skips = {k: inputs.get(k) for k in ("skipCredentialsValidation", "skipRequestingAccountId", "skipRegionValidation")}
            if region == own:
                assert skips["skipCredentialsValidation"] == "false" and skips["skipRequestingAccountId"] is None, (graph.stack, skips)
            else:
                assert set(skips.values()) == {"true"}, (graph.stack, region, skips)


def test_nothing_declared_through_another_regions_provider_needs_its_account_id(
    primary: StackGraph, secondary: StackGraph, bunker: StackGraph
) -> None:
    declared = {r.type for g in _graphs(primary, secondary, bunker) for r in g.resources}
    assert declared & ACCOUNT_ID_ARN_TYPES, "the list must name types the program declares, or it guards nothing"
    other = {g.stack: [r for r in g.aws_resources() if r.region != g.exports["region"]] for g in _graphs(primary, secondary, bunker)}
    assert other["primary"] and other["secondary"]  # the replica's key; the replication rules on the primary's buckets
    assert not [f"{stack}: {r.type} {r.name}" for stack, found in other.items() for r in found if r.type in ACCOUNT_ID_ARN_TYPES]


def test_every_lookup_goes_through_the_stacks_own_provider(primary: StackGraph, secondary: StackGraph, bunker: StackGraph) -> None:
    for graph in _graphs(primary, secondary, bunker):
        assert graph.invokes, graph.stack
        assert {i.region for i in graph.invokes} == {graph.exports["region"]}, graph.stack
        assert not [i for i in graph.invokes if i.token.startswith("aws:cloudfront/")], "the managed cache policy is a constant id"


def test_without_outage_mode_the_secondary_preview_would_need_us_east_1(secondary: StackGraph) -> None:
    """What outage mode exists for: the zone lookup calls Route 53's API, served from us-east-1."""
    plan = plan_update(secondary, secondary, ["us-east-1"])
    assert any(lookup.startswith("aws:route53/getZone:getZone through eu-west-1") for lookup in plan.dark_lookups), plan.dark_lookups
    assert not plan.ok


# ------------------------------------------------------------------------------ typical emergency changes
@pytest.fixture(scope="module")
def scale_secondary(primary: StackGraph, secondary: StackGraph) -> OutageRun:
    """us-east-1 dark, the secondary serving: raise the web tier's ceiling (target tracking owns desired)."""
    return compute("secondary", ["us-east-1"], [("web.maxSize", 12)], before=secondary, primary=primary)


def test_scaling_the_secondary_web_tier_touches_only_eu_west_1(scale_secondary: OutageRun) -> None:
    _assert_touches_only_available_regions(scale_secondary, "us-east-1")
    # The group's ceiling and the production size the failover function scales to (and the readiness
    # function checks the standby can reach); nothing else changes.
    assert _changing(scale_secondary) == {("frontend-web", "eu-west-1"), ("failover-function", "eu-west-1"), ("readiness-function", "eu-west-1")}
    asg = next(t for t in scale_secondary.plan.targets if t.name == "frontend-web")
    assert asg.why == "changes maxSize"
    # The IAM policies that read the group's ARN stay as recorded: IAM's API is in us-east-1.
    assert scale_secondary.plan.deferred
    assert {t.type.split("/")[0] for t in scale_secondary.plan.deferred} == {"aws:iam"}
    # The replication rules the secondary declares on the primary's buckets are neither touched nor deferred.
    untouched = {t.name for t in scale_secondary.plan.targets} | {t.name for t in scale_secondary.plan.deferred}
    assert not untouched & {"media-peer-replication", "release-peer-replication"}


def test_leaving_outage_mode_after_the_scale_changes_nothing_it_did_not_mean(scale_secondary: OutageRun) -> None:
    assert scale_secondary.normal is not None
    assert scale_secondary.after_return == []
    # The zone id outage mode took from config is the one the lookup answers.
    records = [r for r in scale_secondary.outage.of_type("aws:route53/record:Record")]
    assert records and {r.inputs["zoneId"] for r in records} == {scale_secondary.before.exports["hostedZoneId"]}


def test_the_cache_node_type_is_not_the_secondarys_to_change(primary: StackGraph, secondary: StackGraph) -> None:
    """A Global Datastore member inherits its node type (components/session_cache.MEMBER_INHERITS)."""
    run = compute("secondary", ["us-east-1"], [("cache.nodeType", "cache.r7g.xlarge")], before=secondary, primary=primary, check_return=False)
    assert run.plan.ok and not run.plan.targets and not run.plan.deferred
    assert "nodeType" not in secondary.named("frontend-cache-group").inputs
    assert "nothing to update" in "\n".join(run.commands())


def test_the_cache_node_type_on_the_primary_while_eu_west_1_is_dark(primary: StackGraph) -> None:
    run = compute("primary", ["eu-west-1"], [("cache.nodeType", "cache.r7g.xlarge")], before=primary, check_return=False)
    _assert_touches_only_available_regions(run, "eu-west-1")
    assert _changing(run) == {("frontend-cache-group", "us-east-1")}


def test_rotating_the_database_secret_on_the_primary_while_eu_west_1_is_dark(primary: StackGraph) -> None:
    """Outage mode without us-east-1 dark changes nothing of the primary's program (the cache case above
    shows it: one changed resource), so its graph is the primary's own."""
    plan = plan_update(primary, primary, ["eu-west-1"], replace=["database-master-password"])
    assert plan.ok and plan.replace == [engine_urns(primary)[primary.named("database-master-password").urn]]
    assert {(t.name, t.region, t.why) for t in plan.targets} == {
        ("database-cluster", "us-east-1", "reads what is replaced"),
        ("database-credentials-value", "us-east-1", "reads what is replaced"),
    }
    # The replica's key in eu-west-1 is the primary's too; the rotation reaches the replica through
    # Secrets Manager, never through a call of ours to eu-west-1.
    assert not [t for t in [*plan.targets, *plan.deferred] if t.region == "eu-west-1"]


def test_the_secondary_holds_no_database_secret_of_its_own_to_rotate(secondary: StackGraph) -> None:
    with pytest.raises(UsageError, match="declares no resource named 'database-master-password'"):
        plan_update(secondary, secondary, ["us-east-1"], replace=["database-master-password"])


def test_a_bigger_database_standby_instance_while_us_east_1_is_dark(primary: StackGraph, bunker: StackGraph) -> None:
    run = compute("bunker", ["us-east-1"], [("database.instanceClass", "db.r7g.xlarge")], before=bunker, primary=primary, check_return=False)
    _assert_touches_only_available_regions(run, "us-east-1")
    assert _changing(run) == {("database-instance-1", "us-west-2")}
    assert not run.zone_id_needed  # a database standby declares no records


# ------------------------------------------------------------------------------ what is refused
def _tampered(graph: StackGraph, **changes: object) -> StackGraph:
    resources = [dataclasses.replace(r, inputs={**r.inputs, **changes}) if r.name == "media-peer-replication" else r for r in graph.resources]
    return dataclasses.replace(graph, resources=resources)


def test_a_change_that_alters_a_dark_region_resource_is_refused(secondary: StackGraph) -> None:
    plan = plan_update(secondary, _tampered(secondary, role="arn:aws:iam::123456789012:role/other"), ["us-east-1"])
    assert not plan.ok
    assert [t.name for t in plan.blocked] == ["media-peer-replication"]
    assert "its provider is in us-east-1" in plan.refusals[0]


def test_a_change_that_drops_a_resource_is_refused(secondary: StackGraph) -> None:
    fewer = dataclasses.replace(secondary, resources=[r for r in secondary.resources if r.name != "release-peer-replication"])
    plan = plan_update(secondary, fewer, ["us-east-1"])
    assert not plan.ok and plan.removed == [engine_urns(secondary)[secondary.named("release-peer-replication").urn]]


def test_a_lookup_through_a_dark_region_is_refused(secondary: StackGraph) -> None:
    looking = dataclasses.replace(secondary, invokes=[Invoke("aws:ec2/getVpc:getVpc", "us-east-1")])
    assert plan_update(secondary, looking, ["us-east-1"]).dark_lookups == ["aws:ec2/getVpc:getVpc through us-east-1 (its provider is in us-east-1)"]


# ------------------------------------------------------------------------------ the engine's URNs, the CLI
def test_urns_are_printed_as_the_engine_names_them(secondary: StackGraph) -> None:
    """pulumi/pulumi urn.go NewURN: a type qualified by its parent's whole chain, the root stack's type left out."""
    urns = engine_urns(secondary)
    component = secondary.one("magento-dr:index:RegionalFrontend", "frontend")
    asg = secondary.one("aws:autoscaling/group:Group", "frontend-web")
    provider = next(r for r in secondary.resources if r.is_provider)
    assert urns[component.urn] == "urn:pulumi:secondary::magento-dr::magento-dr:index:RegionalFrontend::frontend"
    assert urns[asg.urn] == "urn:pulumi:secondary::magento-dr::magento-dr:index:RegionalFrontend$aws:autoscaling/group:Group::frontend-web"
    assert urns[provider.urn].startswith("urn:pulumi:secondary::magento-dr::pulumi:providers:aws::aws-")
    # Every URN is unique and none keeps the mocks' root-stack prefix.
    assert len(set(urns.values())) == len(urns)
    assert not [u for u in urns.values() if "pulumi:pulumi:Stack$" in u]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--stack", "nowhere", "--unavailable", "us-east-1"], "no Pulumi.nowhere.yaml"),
        (["--stack", "secondary", "--unavailable", "us-east-1", "--change", "web.maxSize"], "write <key>=<value>"),
    ],
)
def test_the_helper_says_what_to_pass_instead(argv: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert words in capsys.readouterr().err


# ------------------------------------------------------------------------------ a primary outside us-east-1
def test_a_primary_outside_us_east_1_looks_nothing_up_there_in_outage_mode() -> None:
    """The pair reversed: primary in eu-west-1, standby in us-east-1, us-east-1 dark. No Route 53 or
    CloudFront lookup (both control planes are in us-east-1), nothing through the us-east-1 provider."""
    config = load_stack_config("primary")
    dns = {**config["magento-dr:dns"], "zoneId": "Z0123456789ABCDEFGHIJ"}
    graph = run_stack(
        "primary",
        overrides={
            "magento-dr:region": "eu-west-1",
            "magento-dr:peer": {**config["magento-dr:peer"], "region": "us-east-1"},
            "magento-dr:dns": dns,
            "magento-dr:outage": {"unavailableRegions": ["us-east-1"]},
        },
    )
    assert graph.invokes and not plan_update(graph, graph, ["us-east-1"]).dark_lookups
    assert {r.inputs["zoneId"] for r in graph.of_type("aws:route53/record:Record")} == {"Z0123456789ABCDEFGHIJ"}
    assert graph.exports["hostedZoneId"] == "Z0123456789ABCDEFGHIJ"


def test_the_runbooks_outage_commands_name_resources_the_stacks_declare(primary: StackGraph, secondary: StackGraph) -> None:
    """RUNBOOK §11 shows the helper's output; a renamed resource must not leave it with dead URNs."""
    section = (Path(__file__).resolve().parent.parent / "RUNBOOK.md").read_text().split("## 11.", 1)[1]
    named = set(re.findall(r"--target(?:-replace)? '(urn:[^']+)'", section))
    assert len(named) >= 4
    declared = {*engine_urns(primary).values(), *engine_urns(secondary).values()}
    assert named <= declared, sorted(named - declared)
