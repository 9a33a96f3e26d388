"""Customer-managed KMS key policies as data (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

# What the account's administrators may do with a key. Spelled out instead of
# kms:* so no policy in the project grants a bare wildcard action.
ADMIN_ACTIONS = (
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:CreateGrant",
)
USE_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")


def service_use_statement(sid: str, service: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    """Let an AWS service principal (e.g. logs.us-east-1.amazonaws.com) use the key."""
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": list(USE_ACTIONS),
        "Resource": "*",  # in a key policy "*" means this key
    }
    if condition:
        statement["Condition"] = condition
    return statement


def key_policy(account_id: str, statements: Sequence[dict[str, Any]] = ()) -> str:
    """A key policy where the account administers the key (IAM decides who) plus `statements`."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministersKey",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                    "Action": list(ADMIN_ACTIONS),
                    "Resource": "*",
                },
                *statements,
            ],
        }
    )
