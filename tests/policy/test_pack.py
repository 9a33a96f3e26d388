"""The CrossGuard wrapper: the pack reports exactly what the rules report, and its entry point serves.

pulumi-policy lives only in the pack's venv (policy/requirements.txt pins a
protobuf the program's venv does not use), so these tests run under
`make policy-pack`; the main suite skips them.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

import pytest

pulumi_policy = pytest.importorskip("pulumi_policy", reason="runs in the policy pack's venv: make policy-pack")
from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy  # noqa: E402

from offline.runner import Resource, StackGraph  # noqa: E402
from policy.pack import policies  # noqa: E402
from policy.rules import RULE_IDS, evaluate, subjects_from_graph  # noqa: E402

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"
Finding = tuple[str, str, str]  # (policy, urn, message)


def _opts(resource: Resource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=resource.protect,
        ignore_changes=resource.ignore_changes,
        delete_before_replace=resource.delete_before_replace,
        aliases=[],
        additional_secret_outputs=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        parent=resource.parent,
    )


def run_pack(resources: Iterable[Resource]) -> set[Finding]:
    """Feed a graph to every policy the way the engine does: props behind the SDK's unknown-checking proxy."""
    resources = list(resources)
    findings: set[Finding] = set()
    for policy in policies():
        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(r.type, unknown_checking_proxy(r.inputs), r.urn, r.name, _opts(r), None)
                policy.validate(args, lambda message, _urn, p=policy.name, u=r.urn: findings.add((p, u, message)))
        else:
            by_urn = {
                r.urn: PolicyResource(r.type, unknown_checking_proxy(r.inputs), r.urn, r.name, _opts(r), None, None, [], {}) for r in resources
            }
            for r in resources:
                by_urn[r.urn].dependencies = [by_urn[d] for d in r.dependencies if d in by_urn]
            policy.validate(
                StackValidationArgs(list(by_urn.values())), lambda message, urn, p=policy.name: findings.add((p, urn or "", message))
            )
    return findings


def rule_findings(resources: Iterable[Resource]) -> set[Finding]:
    return {(v.rule, v.urn, v.message) for v in evaluate(subjects_from_graph(resources))}


def test_one_mandatory_policy_per_rule() -> None:
    built = policies()
    assert [p.name for p in built] == list(RULE_IDS)
    assert all(p.enforcement_level == EnforcementLevel.MANDATORY for p in built)
    assert sum(isinstance(p, StackValidationPolicy) for p in built) == len(RULE_IDS) - sum(isinstance(p, ResourceValidationPolicy) for p in built)


def test_the_pack_reports_what_the_rules_report_on_bad_resources(fixture_graph: StackGraph) -> None:
    expected = rule_findings(fixture_graph.resources)
    assert {rule for rule, _, _ in expected} == set(RULE_IDS)  # every policy has something to report
    assert run_pack(fixture_graph.resources) == expected


def test_the_pack_reports_what_the_rules_report_on_the_stacks(stack: StackGraph) -> None:
    assert run_pack(stack.resources) == rule_findings(stack.resources)


def _resource(type_: str, inputs: dict[str, object]) -> Resource:
    return Resource(
        urn=f"urn:pulumi:s::magento-dr::{type_}::r", type=type_, name="r", custom=True, inputs=inputs, outputs={}, parent=None,
        provider=None, region=None, protect=True, ignore_changes=[], replace_on_changes=[], retain_on_delete=False,
        delete_before_replace=False, dependencies=[],
    )  # fmt: skip


def test_a_key_preview_cannot_know_yet_still_counts_as_set() -> None:
    # A topic encrypted with a key created in the same update: preview sees an unknown ARN.
    topic = _resource("aws:sns/topic:Topic", {"kmsMasterKeyId": UNKNOWN_STRING_VALUE})
    assert not [f for f in run_pack([topic]) if f[0] == "sns-encrypted-at-rest"]


def test_a_document_preview_cannot_know_yet_is_left_to_the_sdk() -> None:
    # pulumi-policy turns UnknownValueError into "can't run policy during preview"; the rule must not swallow it.
    role_policy = _resource("aws:iam/rolePolicy:RolePolicy", {"policy": UNKNOWN_STRING_VALUE, "role": "r"})
    [iam] = [p for p in policies() if p.name == "iam-no-wildcard-actions"]
    args = ResourceValidationArgs(role_policy.type, unknown_checking_proxy(role_policy.inputs), role_policy.urn, "r", _opts(role_policy), None)
    with pytest.raises(UnknownValueError):
        iam.validate(args, lambda message, urn: None)


def test_the_entry_point_serves_the_pack_the_way_the_cli_starts_it() -> None:
    # The CLI's analyzer shim runs `python -u -m pulumi.policy <engine> <pack dir>`; the pack prints its port.
    process = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(POLICY_DIR)],
        cwd=POLICY_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, process.kill)  # a pack that hangs before printing its port fails, not blocks
    watchdog.start()
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port.isdigit():
            process.kill()
            pytest.fail(f"no port from the pack; stderr:\n{process.communicate(timeout=10)[1]}")
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
