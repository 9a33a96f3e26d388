"""Every example stack (the database standby too), exactly as `pulumi up` would declare them, pass every guardrail."""

from __future__ import annotations

import pytest

from offline.runner import StackGraph
from policy.rules import (
    FAILOVER_COMPONENT,
    LAMBDA_FUNCTION,
    MEDIA_COMPONENT,
    RULE_IDS,
    S3_BUCKETS,
    applicable,
    evaluate,
    stack_role,
    subjects_from_graph,
)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_stack_passes_rule(any_stack: StackGraph, rule_id: str) -> None:
    violations = evaluate(subjects_from_graph(any_stack.resources), [rule_id])
    assert not violations, f"{any_stack.stack} breaks {rule_id}:\n" + "\n".join(f"  {v.name}: {v.message}" for v in violations)


def test_stack_role_is_read_from_the_provider_tags(stack: StackGraph) -> None:
    # The media rule holds only the secondary to "replicated both ways"; it must know which stack it is in.
    assert stack_role(subjects_from_graph(stack.resources)) == stack.stack


def test_the_media_rule_recognises_the_real_media_buckets(stack: StackGraph) -> None:
    subjects = subjects_from_graph(stack.resources)
    media = [s for s in subjects if s.type in S3_BUCKETS and s.within(MEDIA_COMPONENT)]
    assert media, f"no bucket inside {MEDIA_COMPONENT} in {stack.stack}; the media rule would check nothing"
    assert list(applicable("media-buckets-versioned-and-replicated", subjects))


def test_the_reserved_concurrency_rule_recognises_the_failover_function(stack: StackGraph) -> None:
    subjects = subjects_from_graph(stack.resources)
    if not any(r.type == FAILOVER_COMPONENT for r in stack.resources):
        pytest.skip(f"{FAILOVER_COMPONENT} is not declared by __main__.py yet")
    functions = [s for s in subjects if s.type == LAMBDA_FUNCTION and s.within(FAILOVER_COMPONENT)]
    assert functions, "FailoverAutomation declares no aws.lambda_.Function the rule can see"
