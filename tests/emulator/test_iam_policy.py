"""The emulator's IAM evaluation follows AWS's documented rules (table-tested)."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.iam_policy import Request, denied_actions, evaluate

BUCKET = "arn:aws:s3:::media"
ROLE = "arn:aws:iam::123456789012:role/web"
DB = "arn:aws:rds:eu-west-1:123456789012:db:shop-failover-1"
PG = "arn:aws:rds:eu-west-1:123456789012:pg:shop-instances"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: str | list[str], resource: str | list[str], condition: dict[str, Any] | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        s["Condition"] = condition
    return s


CASES = [
    # (why, identity statements, request, allowed)
    ("nothing grants it: implicit deny", [], Request("s3:PutObject", (f"{BUCKET}/a",)), False),
    ("action wildcard, case-insensitive", [_allow("S3:Put*", f"{BUCKET}/*")], Request("s3:PutObject", (f"{BUCKET}/a",)), True),
    ("resource must match", [_allow("s3:PutObject", f"{BUCKET}/catalog/*")], Request("s3:PutObject", (f"{BUCKET}/a",)), False),
    ("resource match is case-sensitive", [_allow("s3:PutObject", "arn:aws:s3:::MEDIA/*")], Request("s3:PutObject", (f"{BUCKET}/a",)), False),
    (
        "explicit deny wins",
        [_allow("s3:*", "*"), {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}],
        Request("s3:PutObject", (f"{BUCKET}/a",)),
        False,
    ),
    (
        "every resource of a multi-resource action must be allowed",
        [_allow("rds:FailoverGlobalCluster", ["arn:aws:rds::1:global-cluster:g", "arn:aws:rds:us-east-1:1:cluster:a"])],
        Request("rds:FailoverGlobalCluster", ("arn:aws:rds::1:global-cluster:g", "arn:aws:rds:us-east-1:1:cluster:a", "arn:aws:rds:eu-west-1:1:cluster:b")),
        False,
    ),
    (
        "a condition on a key the request lacks is false",
        [_allow("cloudwatch:GetMetricStatistics", "*", {"StringEquals": {"cloudwatch:namespace": "AWS/AutoScaling"}})],
        Request("cloudwatch:GetMetricStatistics", ("*",)),
        False,
    ),
    (
        "...IfExists holds when the key is absent",
        [_allow("cloudwatch:GetMetricStatistics", "*", {"StringEqualsIfExists": {"cloudwatch:namespace": "AWS/AutoScaling"}})],
        Request("cloudwatch:GetMetricStatistics", ("*",)),
        True,
    ),
    (
        "...IfExists still restricts when the key is present",
        [_allow("cloudwatch:GetMetricStatistics", "*", {"StringEqualsIfExists": {"cloudwatch:namespace": "AWS/AutoScaling"}})],
        Request("cloudwatch:GetMetricStatistics", ("*",), {"cloudwatch:namespace": "AWS/RDS"}),
        False,
    ),
    (
        "a negated operator holds when the key is absent",
        [_allow("s3:PutObject", "*", {"StringNotEquals": {"s3:x-amz-acl": "public-read"}})],
        Request("s3:PutObject", (f"{BUCKET}/a",)),
        True,
    ),
    (
        "Null true: the key must be absent",
        [_allow("s3:PutObject", "*", {"Null": {"s3:x-amz-acl": "true"}})],
        Request("s3:PutObject", (f"{BUCKET}/a",), {"s3:x-amz-acl": "private"}),
        False,
    ),
    (
        "condition keys are case-insensitive",
        [_allow("sns:Publish", "*", {"StringEquals": {"aws:SourceAccount": "1"}})],
        Request("sns:Publish", ("*",), {"aws:sourceaccount": "1"}),
        True,
    ),
    (
        "a key listed for one resource type only is in the context for that resource only",
        [_allow("rds:CreateDBInstance", "*", {"StringEquals": {"rds:DatabaseClass": "db.r7g.large"}})],
        Request("rds:CreateDBInstance", (DB, PG), resource_context={DB: {"rds:DatabaseClass": "db.r7g.large"}}),
        False,  # the condition is false for the parameter group, which has no rds:DatabaseClass
    ),
    (
        "...so a statement that names only that resource can carry it",
        [_allow("rds:CreateDBInstance", DB, {"StringEquals": {"rds:DatabaseClass": "db.r7g.large"}}), _allow("rds:CreateDBInstance", PG)],
        Request("rds:CreateDBInstance", (DB, PG), resource_context={DB: {"rds:DatabaseClass": "db.r7g.large"}}),
        True,
    ),
    (
        "...and still restricts it",
        [_allow("rds:CreateDBInstance", DB, {"StringEquals": {"rds:DatabaseClass": "db.r7g.large"}}), _allow("rds:CreateDBInstance", PG)],
        Request("rds:CreateDBInstance", (DB, PG), resource_context={DB: {"rds:DatabaseClass": "db.r7g.16xlarge"}}),
        False,
    ),
]


@pytest.mark.parametrize(("why", "identity", "request_", "allowed"), CASES, ids=[c[0] for c in CASES])
def test_documented_evaluation_rules(why: str, identity: list[dict[str, Any]], request_: Request, allowed: bool) -> None:
    assert evaluate(request_, [_doc(*identity)]).allowed is allowed, why


def test_resource_policy_deny_applies_and_its_allow_counts_in_the_same_account() -> None:
    tls_only = _doc(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [BUCKET, f"{BUCKET}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    )
    request = Request("s3:GetObject", (f"{BUCKET}/a",), {"aws:SecureTransport": "false"}, principal_arn=ROLE)
    decision = evaluate(request, [_doc(_allow("s3:GetObject", f"{BUCKET}/*"))], {BUCKET: tls_only})
    assert not decision.allowed and "resource policy" in decision.reason
    grant = _doc({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    assert evaluate(Request("s3:GetObject", (f"{BUCKET}/a",), principal_arn=ROLE), [], {BUCKET: grant}).allowed


def test_an_unknown_operator_fails_loudly() -> None:
    with pytest.raises(ValueError, match="not modelled"):
        evaluate(Request("s3:GetObject", ("*",), {"aws:CurrentTime": "x"}), [_doc(_allow("s3:*", "*", {"DateGreaterThan": {"aws:CurrentTime": "y"}}))])


def test_denied_actions_is_the_coarse_action_check() -> None:
    docs = [_doc(_allow(["rds:Describe*", "sns:Publish"], "*"), {"Effect": "Deny", "Action": "sns:Publish", "Resource": "*"})]
    assert denied_actions(docs, ["rds:DescribeDBClusters", "sns:Publish", "ssm:GetParameters"]) == ["sns:Publish", "ssm:GetParameters"]
