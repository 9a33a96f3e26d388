"""Each guardrail fails on deliberately bad resources, with a message that says what to change.

The resources come from tests/policy/fixture/__main__.py, declared through the
real pulumi-aws SDK, so a rule that reads a misspelt property fails here instead
of passing silently. Every `bad-*` resource breaks exactly the rules listed for it
and every other resource in the fixture breaks none.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from offline.runner import StackGraph
from policy.rules import RULE_IDS, Violation, evaluate, subjects_from_graph

# Module-scoped fixtures: under `make unit` (pytest-xdist --dist loadgroup) these tests share one worker.
pytestmark = pytest.mark.xdist_group("test_rules_catch_bad_resources")

# resource name -> {rule id: fragments its messages must contain (the fix)}
EXPECTED: dict[str, dict[str, tuple[str, ...]]] = {
    "bad-global-unencrypted": {"aurora-encrypted-at-rest": ("storage_encrypted=True",)},
    "bad-cluster-unencrypted": {"aurora-encrypted-at-rest": ("storage_encrypted=True", "kms_key_id")},
    "bad-cluster-deletable": {"deletion-protection": ("deletion_protection=True",)},
    "bad-cluster-unprotected": {"stateful-resources-protected": ("protect=settings.protect",)},
    "bad-cluster-default-params": {"tls-in-transit": ("db_cluster_parameter_group_name",)},
    "bad-cluster-managed-secret": {"secrets-encrypted-with-cmk": ("master_user_secret_kms_key_id",)},
    "bad-cluster-params": {"tls-in-transit": ("require_secure_transport",)},
    "bad-db-instance-public": {"nothing-public": ("publicly_accessible=False",)},
    "bad-cache-plain-at-rest": {"elasticache-encrypted-at-rest": ("at_rest_encryption_enabled=True",)},
    "bad-cache-plaintext": {"tls-in-transit": ("transit_encryption_enabled=True",)},
    "bad-cache-preferred": {"tls-in-transit": ("'required'",)},
    "bad-cache-default-vpc": {"nothing-public": ("data subnets",)},
    "bad-cache-standalone": {"elasticache-encrypted-at-rest": ("ReplicationGroup",)},
    "bad-search-unencrypted": {"opensearch-encrypted-at-rest": ("encrypt_at_rest",)},
    "bad-search-http": {"tls-in-transit": ("node_to_node_encryption", "enforce_https", "tls_security_policy")},
    "bad-search-public": {"nothing-public": ("vpc_options",)},
    "bad-topic-plain": {"sns-encrypted-at-rest": ("kms_master_key_id",)},
    "bad-secret-aws-key": {"secrets-encrypted-with-cmk": ("kms_key_id",)},
    "bad-secret-no-recovery": {"deletion-protection": ("recovery window",)},
    "bad-table-deletable": {"deletion-protection": ("deletion_protection_enabled=True",)},
    "bad-lt-unencrypted": {"ebs-encrypted-at-rest": ("'encrypted': 'true'",)},
    "bad-lt-no-mappings": {"ebs-encrypted-at-rest": ("block_device_mappings",)},
    "bad-lt-imdsv1": {"imdsv2-required": ("'http_tokens': 'required'",)},
    "bad-lt-public-ip": {"nothing-public": ("associate_public_ip_address",)},
    "bad-instance": {
        "ebs-encrypted-at-rest": ("root_block_device",),
        "imdsv2-required": ("'http_tokens': 'required'",),
        "nothing-public": ("associate_public_ip_address=False",),
    },
    "bad-volume": {"ebs-encrypted-at-rest": ("encrypted=True",)},
    "bad-subnet-public-ip": {"nothing-public": ("map_public_ip_on_launch=False",)},
    "bad-sg-open-ssh": {"nothing-public": ("port 22", "80/443")},
    "bad-sg-all-traffic": {"nothing-public": ("every port",)},
    "bad-sg-rule-redis": {"nothing-public": ("port 6379", "source_security_group_id")},
    "bad-ingress-mysql": {"nothing-public": ("port 3306", "referenced_security_group_id")},
    "bad-listener-old-tls": {"tls-in-transit": ("ELBSecurityPolicy-TLS13",)},
    "bad-listener-http-forward": {"tls-in-transit": ("redirect",)},
    "bad-distribution": {"tls-in-transit": ("redirect-to-https", "TLSv1.2_2021", "https-only")},
    "bad-role-star": {"iam-no-wildcard-actions": ("allows *", "list the actions")},
    "bad-role-public-trust": {"nothing-public": ("trust policy",)},
    "bad-role-policy-service-wildcard": {"iam-no-wildcard-actions": ("s3:*",)},
    "bad-policy-notaction": {"iam-no-wildcard-actions": ("NotAction",)},
    "bad-admin-attachment": {"iam-no-wildcard-actions": ("AdministratorAccess",)},
    "bad-key-policy": {"iam-no-wildcard-actions": ("kms:*",)},
    "bad-bucket-policy-public": {"nothing-public": ("EveryoneReads", "aws:SourceArn")},
    "bad-health-check-30s": {"route53-health-check-10s": ("request_interval=10",)},
    "bad-failover-function": {"failover-function-reserved-concurrency": ("reserved_concurrent_executions=1",)},
    "bad-provider-tags": {"provider-default-tags": ("['role']", "own region")},
    "bad-endpoint-group": {
        "accelerator-fronts-load-balancers": ("endpoint_group_region", "not an Application Load Balancer", "client_ip_preservation_enabled=True", "weight=128")
    },
    "bad-replication-no-rtc": {"s3-replication-rtc": ("replication_time", "destination.metrics")},
    "bad-bucket-bare": {
        "s3-buckets-encrypted": ("BucketServerSideEncryptionConfiguration",),
        "s3-buckets-block-public-access": ("BucketPublicAccessBlock",),
        "s3-buckets-tls-only": ("aws:SecureTransport",),
    },
    "bad-bucket-acl": {"nothing-public": ("drop the ACL",)},
    "bad-bucket-partial-pab": {"s3-buckets-block-public-access": ("block_public_policy=True",)},
    "bad-media-bucket": {"media-buckets-versioned-and-replicated": ("BucketVersioning", "back to the primary", "primary's media into")},
}

# A fix is an instruction: every message reads "<what is wrong>: <what to do>".
FIX_VERBS = ("set", "add", "use", "pass", "drop", "name", "list", "keep", "map", "build", "write", "place", "admit")


@pytest.fixture(scope="module")
def violations_by_resource(fixture_graph: StackGraph) -> dict[str, list[Violation]]:
    found: dict[str, list[Violation]] = defaultdict(list)
    for violation in evaluate(subjects_from_graph(fixture_graph.resources)):
        found[violation.name].append(violation)
    return found


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_resource_breaks_exactly_its_rules(name: str, violations_by_resource: dict[str, list[Violation]], fixture_graph: StackGraph) -> None:
    assert any(r.name == name for r in fixture_graph.resources), f"the fixture declares no {name}"
    violations = violations_by_resource.get(name, [])
    assert {v.rule for v in violations} == set(EXPECTED[name]), [f"{v.rule}: {v.message}" for v in violations]
    for rule, fragments in EXPECTED[name].items():
        messages = " | ".join(v.message for v in violations if v.rule == rule)
        for fragment in fragments:
            assert fragment in messages, f"{name} / {rule}: no {fragment!r} in {messages!r}"


def test_nothing_else_in_the_fixture_breaks_a_rule(violations_by_resource: dict[str, list[Violation]]) -> None:
    # The good-* resources (KMS key policies with Resource "*", Deny s3:*, HTTP->HTTPS redirects,
    # CLOUDWATCH_METRIC health checks, functions outside the failover path...) must pass.
    unexpected = {name: [f"{v.rule}: {v.message}" for v in vs] for name, vs in violations_by_resource.items() if name not in EXPECTED}
    assert not unexpected


def test_every_rule_is_shown_failing() -> None:
    covered = {rule for rules in EXPECTED.values() for rule in rules}
    assert covered == set(RULE_IDS), f"rules with no bad resource: {sorted(set(RULE_IDS) - covered)}"


def test_every_message_says_what_to_change(violations_by_resource: dict[str, list[Violation]]) -> None:
    vague = [
        f"{v.name}: {v.message}"
        for vs in violations_by_resource.values()
        for v in vs
        if not re.search(r": (?:.*\b)?(" + "|".join(FIX_VERBS) + r")\b", v.message)
    ]
    assert not vague, vague
