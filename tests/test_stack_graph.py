"""Graph-wide properties every resource of both example stacks must have."""

from __future__ import annotations

from offline.runner import StackGraph

STACK_TYPE = "pulumi:pulumi:Stack"
# A resource outside its stack's region says why in its name: it acts on the
# peer region, is part of a global service, or is an edge (CloudFront/us-east-1) piece.
CROSS_REGION_WORDS = ("peer", "global", "edge")


def test_both_example_stacks_build(primary: StackGraph, secondary: StackGraph) -> None:
    assert primary.exports["role"] == "primary" and primary.exports["region"] == "us-east-1"
    assert secondary.exports["role"] == "secondary" and secondary.exports["region"] == "eu-west-1"
    assert len(primary.aws_resources()) > 20 and len(secondary.aws_resources()) > 20


def test_default_aws_provider_is_disabled(any_stack: StackGraph) -> None:
    assert any_stack.config["pulumi:disable-default-providers"] == ["aws"]


def test_every_aws_resource_has_an_explicit_provider(any_stack: StackGraph) -> None:
    providers = {r.urn: r for r in any_stack.resources if r.is_provider}
    for resource in any_stack.aws_resources():
        assert resource.provider, f"{resource.type} {resource.name} has no explicit provider"
        urn = resource.provider.rsplit("::", 1)[0]
        assert urn in providers, f"{resource.name} uses unknown provider {urn}"


def test_every_aws_resource_belongs_to_a_component(any_stack: StackGraph) -> None:
    for resource in any_stack.aws_resources():
        ancestors = list(any_stack.ancestors(resource))
        assert ancestors, f"{resource.type} {resource.name} is not inside a component"
        assert ancestors[-1].type.startswith("magento-dr:index:"), ancestors[-1].type


def test_components_use_the_project_token(any_stack: StackGraph) -> None:
    components = [r for r in any_stack.resources if not r.custom and r.type not in (STACK_TYPE,)]
    assert components
    for component in components:
        assert component.type.startswith("magento-dr:index:"), component.type


def test_providers_carry_default_tags_and_one_region_each(any_stack: StackGraph) -> None:
    providers = [r for r in any_stack.resources if r.is_provider]
    regions = [p.inputs["region"] for p in providers]
    assert len(regions) == len(set(regions))
    assert any_stack.exports["region"] in regions and any_stack.exports["peerRegion"] in regions
    for provider in providers:
        tags = provider.inputs["defaultTags"]["tags"]
        assert tags["project"] == "magento-dr"
        assert tags["stack"] == any_stack.stack
        assert tags["role"] == any_stack.exports["role"]
        assert tags["region"] == provider.inputs["region"]
        assert tags["managed-by"] == "pulumi"
        assert tags["owner"] == "sre"  # extra tags from config


def test_resources_land_in_the_stacks_own_region_unless_they_say_why(any_stack: StackGraph) -> None:
    # Cross-region resources are the exception, each owned on purpose (README: Ownership).
    own = any_stack.exports["region"]
    for resource in any_stack.aws_resources():
        if resource.region != own:
            assert any(word in resource.name for word in CROSS_REGION_WORDS), (
                f"{resource.type} {resource.name} is declared in {resource.region}, not {own}; "
                f"name it for its cross-region role or move it"
            )


def test_secondary_reads_the_primary_through_a_stack_reference(secondary: StackGraph) -> None:
    ref = secondary.one("pulumi:pulumi:StackReference")
    assert ref.name == "organization/magento-dr/primary"


def test_primary_declares_no_stack_reference(primary: StackGraph) -> None:
    assert primary.of_type("pulumi:pulumi:StackReference") == []


# The input that names each globally or regionally unique resource type. Sub-resources
# (versioning, policies) and members (a secondary cluster naming its global cluster)
# repeat a name on purpose, so only the defining type and key count.
NAME_DEFINING_INPUTS = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:rds/globalCluster:GlobalCluster": "globalClusterIdentifier",
    "aws:rds/cluster:Cluster": "clusterIdentifier",
    "aws:elasticache/replicationGroup:ReplicationGroup": "replicationGroupId",
    "aws:lambda/function:Function": "name",
    "aws:opensearch/domain:Domain": "domainName",
}


def test_stacks_do_not_declare_the_same_physical_names(primary: StackGraph, secondary: StackGraph) -> None:
    # Each resource has exactly one owning stack: explicit physical names never collide.
    def explicit_names(graph: StackGraph) -> set[tuple[str, str]]:
        return {
            (r.type, str(r.inputs[key]))
            for r in graph.aws_resources()
            if (key := NAME_DEFINING_INPUTS.get(r.type)) and key in r.inputs
        }

    assert explicit_names(primary).isdisjoint(explicit_names(secondary))
