"""IAM policy evaluation as AWS documents it, for requests the project's code and Magento send (pure).

Offline, nothing else decides whether a role may do what its code does: moto does not evaluate
policies unless told to, and then only coarsely. This module follows the documented logic for a
principal and a resource in the same account:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
- an explicit Deny in any applicable policy wins;
- otherwise an Allow in the identity policies *or* the resource policy allows (same account);
- otherwise the request is implicitly denied.
A request that names several resources (RDS's FailoverGlobalCluster authorizes a `cluster` and a
`global-cluster`, per the Service Authorization Reference) is allowed only if each one is. The
Reference lists an action's condition keys per resource type (CreateDBInstance: `rds:DatabaseClass`
on the `db` row, not on `cluster`, `og`, `pg`, `subgrp`), so a key may be in the context when one of
the resources is authorized and absent for another: `Request.resource_context` holds those.
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrds.html

Conditions follow the condition-operator page:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
"If the key that you specify in a policy condition is not present in the request context, the
values do not match and the condition is false. If the policy condition requires that the key is
not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the condition is
true. This logic applies to all condition operators except ...IfExists and Null check."
An operator this module does not know raises instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Document = Mapping[str, Any]


@dataclass(frozen=True)
class Request:
    """One API request as IAM sees it: the action, every resource it authorizes, the request context."""

    action: str
    resources: tuple[str, ...]
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    principal_arn: str = ""
    resource_context: Mapping[str, Mapping[str, str | Sequence[str]]] = field(default_factory=dict)
    """Keys present only while one resource (by ARN) is authorized, on top of `context`."""

    def context_for(self, resource: str) -> Mapping[str, str | Sequence[str]]:
        return {**self.context, **self.resource_context.get(resource, {})}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def statements(documents: Iterable[Document]) -> list[Mapping[str, Any]]:
    result: list[Mapping[str, Any]] = []
    for doc in documents:
        found = doc.get("Statement", [])
        result.extend([found] if isinstance(found, Mapping) else found)
    return result


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, (str, bool, int, float)) else list(value)


def _glob(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    """IAM wildcards: `*` any run of characters, `?` one character (no character classes)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case_sensitive else re.IGNORECASE) is not None


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(_glob(p, action, case_sensitive=False) for p in _as_list(statement["NotAction"]))
    return any(_glob(p, action, case_sensitive=False) for p in _as_list(statement.get("Action")))


def _resource_matches(statement: Mapping[str, Any], resource: str) -> bool:
    if "NotResource" in statement:
        return not any(_glob(p, resource, case_sensitive=True) for p in _as_list(statement["NotResource"]))
    return any(_glob(p, resource, case_sensitive=True) for p in _as_list(statement.get("Resource")))


def _principal_matches(statement: Mapping[str, Any], principal_arn: str) -> bool:
    """Resource policies only: `*`, or an AWS principal naming the role or its account root."""
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    aws = _as_list(principal.get("AWS"))
    if "*" in aws:
        return True
    account = principal_arn.split(":")[4] if principal_arn.count(":") >= 5 else ""
    return principal_arn in aws or f"arn:aws:iam::{account}:root" in aws or account in aws


_STRING_OPS = {
    "StringEquals": (lambda v, p: v == p, False),
    "StringNotEquals": (lambda v, p: v == p, True),
    "StringEqualsIgnoreCase": (lambda v, p: v.lower() == p.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda v, p: v.lower() == p.lower(), True),
    "StringLike": (lambda v, p: _glob(p, v, case_sensitive=True), False),
    "StringNotLike": (lambda v, p: _glob(p, v, case_sensitive=True), True),
    "ArnEquals": (lambda v, p: v == p, False),
    "ArnNotEquals": (lambda v, p: v == p, True),
    "ArnLike": (lambda v, p: _glob(p, v, case_sensitive=True), False),
    "ArnNotLike": (lambda v, p: _glob(p, v, case_sensitive=True), True),
    "Bool": (lambda v, p: v.lower() == p.lower(), False),
    "NumericEquals": (lambda v, p: float(v) == float(p), False),
    "NumericNotEquals": (lambda v, p: float(v) == float(p), True),
    "NumericLessThan": (lambda v, p: float(v) < float(p), False),
    "NumericLessThanEquals": (lambda v, p: float(v) <= float(p), False),
    "NumericGreaterThan": (lambda v, p: float(v) > float(p), False),
    "NumericGreaterThanEquals": (lambda v, p: float(v) >= float(p), False),
}


def _condition_holds(operator: str, key: str, wanted: Any, context: Mapping[str, Any]) -> bool:
    # Condition keys are case-insensitive; values are not (except where the operator says so).
    present = {k.lower(): v for k, v in context.items()}
    value = present.get(key.lower())
    if operator == "Null":
        want_absent = str(_as_list(wanted)[0]).lower() == "true"
        return (value is None) == want_absent
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    if base not in _STRING_OPS:
        raise ValueError(f"condition operator {operator!r} is not modelled; add it to emulator/iam_policy.py")
    compare, negated = _STRING_OPS[base]
    patterns = [str(p).lower() if isinstance(p, bool) else str(p) for p in _as_list(wanted)]
    if value is None:
        return True if if_exists else negated
    values = [str(v) for v in _as_list(value)]
    # ForAllValues: every value matches some pattern; a single-valued key or ForAnyValue: any does.
    every = qualifier == "ForAllValues"
    hit = all(any(compare(v, p) for p in patterns) for v in values) if every else any(compare(v, p) for v in values for p in patterns)
    return not hit if negated else hit


def _conditions_hold(statement: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    for operator, pairs in (statement.get("Condition") or {}).items():
        for key, wanted in pairs.items():
            if not _condition_holds(operator, key, wanted, context):
                return False
    return True


def _applies(statement: Mapping[str, Any], request: Request, resource: str, *, resource_policy: bool) -> bool:
    if resource_policy and not _principal_matches(statement, request.principal_arn):
        return False
    return (
        _action_matches(statement, request.action)
        and _resource_matches(statement, resource)
        and _conditions_hold(statement, request.context_for(resource))
    )


def evaluate(
    request: Request, identity_policies: Iterable[Document], resource_policies: Mapping[str, Document] | None = None
) -> Decision:
    """Is `request` allowed? `resource_policies` maps a resource ARN prefix (a bucket's ARN) to its policy."""
    identity = statements(identity_policies)
    if not request.resources:
        raise ValueError(f"{request.action}: a request authorizes at least one resource ('*' for actions without resource types)")
    for resource in request.resources:
        resource_statements = [
            s
            for prefix, doc in (resource_policies or {}).items()
            if resource == prefix or resource.startswith(prefix + "/")
            for s in statements([doc])
        ]
        for s in identity:
            if s.get("Effect") == "Deny" and _applies(s, request, resource, resource_policy=False):
                return Decision(False, f"explicit deny in an identity policy ({s.get('Sid', 'no Sid')}) on {resource}")
        for s in resource_statements:
            if s.get("Effect") == "Deny" and _applies(s, request, resource, resource_policy=True):
                return Decision(False, f"explicit deny in the resource policy ({s.get('Sid', 'no Sid')}) on {resource}")
        allowed = any(s.get("Effect") == "Allow" and _applies(s, request, resource, resource_policy=False) for s in identity) or any(
            s.get("Effect") == "Allow" and _applies(s, request, resource, resource_policy=True) for s in resource_statements
        )
        if not allowed:
            return Decision(False, f"no statement allows {request.action} on {resource}")
    return Decision(True, "allowed")


def denied_actions(documents: Iterable[Document], actions: Iterable[str]) -> list[str]:
    """Actions that no Allow statement names at all (resources and conditions aside): the coarse check
    a role's policy must pass before any request-level evaluation is worth running."""
    found = statements(documents)
    return [
        a
        for a in actions
        if not any(s.get("Effect") == "Allow" and _action_matches(s, a) for s in found)
        or any(s.get("Effect") == "Deny" and _action_matches(s, a) for s in found)
    ]


__all__ = ["Decision", "Request", "denied_actions", "evaluate", "statements"]
