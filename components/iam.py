"""IAM policy building blocks shared by every role this project declares (pure)."""

from __future__ import annotations

from typing import Any


def allow(sid: str, actions: list[str], resources: list[str] | str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    """One Allow statement; actions sorted so diffs and tests are stable."""
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def service_trust_policy(service: str, account_id: str) -> dict[str, Any]:
    """`service` (e.g. lambda.amazonaws.com) may assume the role on behalf of this account only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ],
    }
