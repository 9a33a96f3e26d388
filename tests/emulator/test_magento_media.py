"""Magento's own S3 requests against each region's media bucket, as the stacks build it.

The bucket's ownership setting, public access block, default encryption and policy, and the web
instances' role policies, all come from the stack's graph; the emulator judges each request as AWS
documents it (emulator/s3.py). The unverified AWS answer (does a bucket with ACLs disabled take
`x-amz-acl: private`?) is played both ways.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

import emulator
from emulator import s3 as s3_gate
from emulator.magento_s3 import VERSIONS, MagentoMediaSession, catalog_session
from offline.runner import Resource, StackGraph

T_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
T_OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
T_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
T_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
T_ROLE = "aws:iam/role:Role"
T_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


@dataclass(frozen=True)
class MediaSetup:
    """One stack's media bucket and web role, as declared."""

    region: str
    bucket: str
    ownership: str
    key_arn: str
    bucket_policy: str
    role_arn: str
    role_policies: list[dict[str, Any]]


def _for_bucket(graph: StackGraph, type_: str, bucket: str) -> Resource:
    (found,) = [r for r in graph.of_type(type_) if r.inputs.get("bucket") == bucket]
    return found


def media_setup(graph: StackGraph) -> MediaSetup:
    bucket = graph.exports["mediaBucketName"]
    (role,) = [r for r in graph.of_type(T_ROLE) if r.name == "frontend-instance"]
    role_id = role.outputs.get("id") or role.outputs.get("name") or role.name
    policies = [json.loads(p.inputs["policy"]) for p in graph.of_type(T_ROLE_POLICY) if p.inputs["role"] in (role_id, role.name)]
    (rule,) = _for_bucket(graph, T_ENCRYPTION, bucket).inputs["rules"]
    return MediaSetup(
        region=graph.exports["region"],
        bucket=bucket,
        ownership=_for_bucket(graph, T_OWNERSHIP, bucket).inputs["rule"]["objectOwnership"],
        key_arn=rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"],
        bucket_policy=_for_bucket(graph, T_POLICY, bucket).inputs["policy"],
        role_arn=role.outputs["arn"],
        role_policies=policies,
    )


def create_bucket(setup: MediaSetup, *, ownership: str | None = None) -> Any:
    """The bucket as the stack configures it, in moto (as the deploying account, no principal judged)."""
    s3 = boto3.client("s3", region_name=setup.region)
    location = {} if setup.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": setup.region}}
    s3.create_bucket(Bucket=setup.bucket, **location)
    s3.put_bucket_ownership_controls(Bucket=setup.bucket, OwnershipControls={"Rules": [{"ObjectOwnership": ownership or setup.ownership}]})
    s3.put_public_access_block(
        Bucket=setup.bucket,
        PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
    )
    s3.put_bucket_encryption(
        Bucket=setup.bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": setup.key_arn}, "BucketKeyEnabled": True}]
        },
    )
    s3.put_bucket_policy(Bucket=setup.bucket, Policy=setup.bucket_policy)
    return s3


@pytest.fixture
def aws() -> Iterator[None]:
    emulator.install()
    with mock_aws():
        emulator.reset()
        yield
    s3_gate.set_private_acl_on_enforced("refused")


def _failures(session: MagentoMediaSession) -> list[str]:
    # A missing key answers 404 (the web role may list the bucket); anything else is a failure.
    return [f"{c.method} {c.operation} {c.key}: {c.outcome}" for c in session.calls if not c.ok and not (c.operation == "HeadObject" and c.outcome == "404")]


@pytest.mark.parametrize("private_acl_on_enforced", ["accepted", "refused"])
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("stack_name", ["primary", "secondary"])
def test_every_request_magento_sends_succeeds_on_both_regions_buckets(
    aws: None, stack_name: str, version: str, private_acl_on_enforced: str, primary: StackGraph, secondary: StackGraph
) -> None:
    setup = media_setup(primary if stack_name == "primary" else secondary)
    s3_gate.set_private_acl_on_enforced(private_acl_on_enforced)
    s3 = create_bucket(setup)
    with s3_gate.act_as(setup.role_arn, setup.role_policies) as web:
        session = catalog_session(s3, setup.bucket, version)  # type: ignore[arg-type]
    assert _failures(session) == []
    operations = {c.operation for c in session.calls}
    assert {"PutObject", "CopyObject", "CreateMultipartUpload", "DeleteObjects", "HeadObject", "GetObject"} <= operations
    # The gate judged each request (it was not bypassed), the ACL-carrying writes included.
    assert len(web.decisions) == len(session.calls)
    missing = [c for c in session.calls if c.key.endswith("missing.jpg")]
    assert [c.outcome for c in missing] == ["404"], "without s3:ListBucket S3 answers 403 and Magento mistakes it"


def test_the_old_bucket_setting_would_refuse_magentos_uploads_if_aws_takes_the_documented_reading(aws: None, primary: StackGraph) -> None:
    """Why the media buckets keep ACLs enabled: with ACLs disabled, and AWS reading its page literally,
    every write Magento makes fails with AccessControlListNotSupported."""
    setup = media_setup(primary)
    s3_gate.set_private_acl_on_enforced("refused")
    s3 = create_bucket(setup, ownership="BucketOwnerEnforced")
    with s3_gate.act_as(setup.role_arn, setup.role_policies):
        session = catalog_session(s3, setup.bucket, "2.4.8", large_file=False)
    refused = {c.operation for c in session.calls if c.outcome == "AccessControlListNotSupported"}
    assert refused == {"PutObject", "CopyObject"}


def test_a_role_without_put_object_acl_is_denied_every_write(aws: None, primary: StackGraph) -> None:
    """The defect on main before this change: the web role lacked s3:PutObjectAcl."""
    setup = media_setup(primary)
    s3 = create_bucket(setup)
    stripped = json.loads(json.dumps(setup.role_policies).replace('"s3:PutObjectAcl", ', ""))
    with s3_gate.act_as(setup.role_arn, stripped):
        session = catalog_session(s3, setup.bucket, "2.4.7", large_file=False)
    denied = {c.operation for c in session.calls if c.outcome == "AccessDenied"}
    assert denied == {"PutObject", "CopyObject"}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"ACL": "public-read"}, "AccessDenied"),  # Block Public Access refuses a public ACL
        ({"ACL": "authenticated-read"}, "AccessDenied"),
        ({"GrantRead": 'id="0123456789abcdef"'}, "AccessDenied"),  # the bucket policy refuses grants to anyone
        ({"ACL": "aws-exec-read"}, "AccessDenied"),  # not a private canned ACL
    ],
)
def test_media_stays_private_whatever_acl_a_writer_asks_for(aws: None, primary: StackGraph, params: dict[str, str], code: str) -> None:
    setup = media_setup(primary)
    s3 = create_bucket(setup)
    with s3_gate.act_as(setup.role_arn, setup.role_policies):
        with pytest.raises(s3.exceptions.ClientError) as refused:
            s3.put_object(Bucket=setup.bucket, Key="catalog/x.jpg", Body=b"x", **params)
        assert refused.value.response["Error"]["Code"] == code
        with pytest.raises(s3.exceptions.ClientError) as acl_change:
            s3.put_object_acl(Bucket=setup.bucket, Key="catalog/x.jpg", GrantRead='id="0123456789abcdef"')
        assert acl_change.value.response["Error"]["Code"] == "AccessDenied"


def test_a_plain_http_request_is_refused_by_the_bucket_policy() -> None:
    request = s3_gate.parse("GetObject", "http://media-b.s3.us-east-1.amazonaws.com/a.jpg", {}, b"")
    assert request.bucket == "media-b" and request.key == "a.jpg" and not request.secure
