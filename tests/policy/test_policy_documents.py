"""Table tests for the pure readers behind the IAM and exposure rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policy.rules import EC2_SECURITY_GROUP, IAM_ROLE, REQUIRED_DEFAULT_TAGS, Subject, evaluate, public_principals, wildcard_actions


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


@pytest.mark.parametrize(
    ("statement", "flagged"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, ["*"]),
        ({"Effect": "Allow", "Action": ["rds:FailoverGlobalCluster", "rds:*"], "Resource": "*"}, ["rds:*"]),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, ['NotAction "iam:*"']),
        # A key policy's Resource "*" means "this key"; named (even prefix-wildcarded) actions are fine.
        ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": ["kms:Describe*", "kms:Decrypt"], "Resource": "*"}, []),
        # A Deny narrows access: "deny s3:* without TLS" is the good kind of wildcard.
        ({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}, []),
        ({"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "arn:aws:logs:us-east-1:1:log-group:x:*"}, []),
    ],
)
def test_wildcard_actions(statement: dict[str, Any], flagged: list[str]) -> None:
    assert wildcard_actions(doc(statement)) == flagged


def test_a_single_statement_object_is_read_like_a_list() -> None:
    assert wildcard_actions({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}) == ["*"]


@pytest.mark.parametrize(
    ("statement", "public"),
    [
        ({"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}, ["Anyone"]),
        ({"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}, "Action": "sts:AssumeRole"}, ["statement 0"]),
        # Principal "*" narrowed by a condition (e.g. aws:SourceArn of the distribution) is how OAC works.
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Condition": {"StringEquals": {"aws:SourceArn": "arn:x"}}}, []),
        ({"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject"}, []),
        ({"Effect": "Deny", "Principal": "*", "Action": "s3:*"}, []),
    ],
)
def test_public_principals(statement: dict[str, Any], public: list[str]) -> None:
    assert public_principals(doc(statement)) == public


def test_an_unparseable_policy_is_reported_not_skipped() -> None:
    role = Subject(IAM_ROLE, "r", "urn:pulumi:s::p::aws:iam/role:Role::r", {"inlinePolicies": [{"name": "p", "policy": "{not json"}]})
    [violation] = evaluate([role], ["iam-no-wildcard-actions"])
    assert "not a JSON policy document" in violation.message


@pytest.mark.parametrize(
    ("ingress", "open_"),
    [
        ({"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}, False),
        ({"protocol": "tcp", "fromPort": 80, "toPort": 80, "ipv6CidrBlocks": ["::/0"]}, False),
        ({"protocol": "tcp", "fromPort": 80, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}, True),  # the range holds 81..442
        ({"protocol": "tcp", "fromPort": 0, "toPort": 65535, "cidrBlocks": ["0.0.0.0/0"]}, True),
        ({"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}, True),
        ({"protocol": "tcp", "fromPort": 3306, "toPort": 3306, "cidrBlocks": ["10.10.0.0/16"]}, False),
    ],
)
def test_security_group_ingress(ingress: dict[str, Any], open_: bool) -> None:
    group = Subject(EC2_SECURITY_GROUP, "sg", "urn:pulumi:s::p::aws:ec2/securityGroup:SecurityGroup::sg", {"ingress": [ingress]})
    assert bool(evaluate([group], ["nothing-public"])) is open_


@pytest.mark.parametrize("encoding", ["object", "json"])
def test_provider_tags_are_read_whether_the_engine_sends_objects_or_json(encoding: str) -> None:
    tags = {"tags": {key: "x" for key in REQUIRED_DEFAULT_TAGS} | {"region": "eu-west-1"}}
    props = {"region": "eu-west-1", "defaultTags": tags if encoding == "object" else json.dumps(tags)}
    provider = Subject("pulumi:providers:aws", "aws", "urn:pulumi:s::p::pulumi:providers:aws::aws", props)
    assert evaluate([provider], ["provider-default-tags"]) == []
    del props["defaultTags"]
    assert evaluate([provider], ["provider-default-tags"]), "a provider without default_tags must fail"
