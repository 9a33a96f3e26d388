"""S3 as AWS decides a request, where moto does not: Object Ownership and IAM (with the bucket policy).

moto stores a bucket's ownership controls and policy but enforces neither (it accepts `public-read`
on a bucket with ACLs disabled, and its own IAM mode keys actions by API name). While a principal is
set (:func:`act_as`), every S3 request an in-process botocore client sends is first judged here, as
AWS documents it, and refused with AWS's error before moto sees it:

* **Object Ownership.** With `BucketOwnerEnforced` (ACLs disabled) "All S3 PUT requests must either
  specify the bucket-owner-full-control canned ACL or not specify an ACL, or these requests will
  fail" with 400 AccessControlListNotSupported; the API reference also admits an ACL "that grants
  the same permissions". Whether `private` is such an ACL is not documented, so the emulator plays
  both answers (:data:`PRIVATE_ACL_ON_ENFORCED`, set by :func:`set_private_acl_on_enforced`).
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_OwnershipControlsRule.html
* **Block Public Access.** With BlockPublicAcls, "PUT Object calls fail if the request includes a
  public ACL" (403 AccessDenied).
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_PublicAccessBlockConfiguration.html
* **Authorization.** Each request's IAM actions, resources and condition keys (:func:`authorizations`)
  are evaluated against the principal's identity policies and the bucket's policy
  (emulator/iam_policy.py); SSE-KMS buckets also need the key (kms:GenerateDataKey to write,
  kms:Decrypt to read), through S3.
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

from . import iam_policy

ACL_HEADER = "x-amz-acl"
GRANT_HEADERS = ("x-amz-grant-full-control", "x-amz-grant-read", "x-amz-grant-read-acp", "x-amz-grant-write", "x-amz-grant-write-acp")
# Canned ACLs Block Public Access calls public.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
PUBLIC_CANNED_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
ENFORCED_ALLOWS = frozenset({"bucket-owner-full-control"})
ACCOUNT_ID = "123456789012"

#: "accepted" or "refused": does a BucketOwnerEnforced bucket take `x-amz-acl: private`? (unverified)
PRIVATE_ACL_ON_ENFORCED = ["refused"]


@dataclass
class Principal:
    arn: str
    policies: list[Mapping[str, Any]]
    decisions: list[tuple[str, str]] = field(default_factory=list)
    """(operation, "allowed" or the refusal) for each S3 request judged while acting."""


_ACTING: list[Principal] = []


@contextmanager
def act_as(role_arn: str, identity_policies: Sequence[Mapping[str, Any]]) -> Iterator[Principal]:
    """Judge every S3 request sent inside the block as this role with these policies."""
    principal = Principal(role_arn, list(identity_policies))
    _ACTING.append(principal)
    try:
        yield principal
    finally:
        _ACTING.remove(principal)


def set_private_acl_on_enforced(answer: str) -> None:
    if answer not in ("accepted", "refused"):
        raise ValueError("private ACL on a BucketOwnerEnforced bucket: 'accepted' or 'refused'")
    PRIVATE_ACL_ON_ENFORCED[0] = answer


# --------------------------------------------------------------------------- the request, as IAM sees it
@dataclass(frozen=True)
class S3Request:
    operation: str
    bucket: str
    key: str
    headers: Mapping[str, str]
    body: bytes = b""
    secure: bool = True


def _object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _deleted_keys(body: bytes) -> list[str]:
    root = ElementTree.fromstring(body)  # noqa: S314 - the body is our own client's request
    return [el.text or "" for el in root.iter() if el.tag.split("}")[-1] == "Key"]


def authorizations(req: S3Request) -> list[iam_policy.Request]:
    """The IAM checks AWS makes for one S3 request (Service Authorization Reference, Amazon S3;
    the S3 API reference's Permissions section of each operation)."""
    bucket_arn = f"arn:aws:s3:::{req.bucket}"
    obj = _object_arn(req.bucket, req.key)
    context: dict[str, str] = {"aws:SecureTransport": "true" if req.secure else "false"}
    acl_context = dict(context)
    if req.headers.get(ACL_HEADER):
        acl_context["s3:x-amz-acl"] = req.headers[ACL_HEADER]
    for header in GRANT_HEADERS:
        if req.headers.get(header):
            acl_context[f"s3:{header}"] = req.headers[header]
    carries_acl = len(acl_context) > len(context)

    def check(action: str, resource: str, ctx: Mapping[str, str] = context) -> iam_policy.Request:
        return iam_policy.Request(action, (resource,), dict(ctx))

    op = req.operation
    if op in ("ListObjects", "ListObjectsV2", "ListObjectVersions"):
        return [check("s3:ListBucket", bucket_arn)]
    if op in ("GetObject", "HeadObject"):
        return [check("s3:GetObject", obj)]
    if op in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "AbortMultipartUpload"):
        action = "s3:AbortMultipartUpload" if op == "AbortMultipartUpload" else "s3:PutObject"
        checks = [check(action, obj, acl_context)]
        # PutObject: "To successfully change the objects ACL of your PutObject request, you must have the s3:PutObjectAcl."
        if carries_acl:
            checks.append(check("s3:PutObjectAcl", obj, acl_context))
        return checks
    if op == "CopyObject":
        source = unquote(req.headers.get("x-amz-copy-source", "")).lstrip("/").split("?")[0]
        checks = [check("s3:GetObject", f"arn:aws:s3:::{source}"), check("s3:PutObject", obj, acl_context)]
        if carries_acl:
            checks.append(check("s3:PutObjectAcl", obj, acl_context))
        return checks
    if op == "PutObjectAcl":
        return [check("s3:PutObjectAcl", obj, acl_context)]
    if op == "GetObjectAcl":
        return [check("s3:GetObjectAcl", obj)]
    if op == "DeleteObject":
        return [check("s3:DeleteObject", obj)]
    if op == "DeleteObjects":
        return [check("s3:DeleteObject", _object_arn(req.bucket, key)) for key in _deleted_keys(req.body)]
    raise ValueError(f"S3 {op}: no IAM mapping in emulator/s3.py; add the actions AWS documents for it")


def kms_authorizations(req: S3Request, key_arn: str, region: str) -> list[iam_policy.Request]:
    """SSE-KMS: writing needs kms:GenerateDataKey, reading (and a copy's source) kms:Decrypt, via S3.
    HeadObject reads metadata only. https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"""
    context = {"kms:ViaService": f"s3.{region}.amazonaws.com"}
    needs: list[str] = []
    if req.operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CopyObject"):
        needs.append("kms:GenerateDataKey")
    if req.operation in ("GetObject", "CopyObject", "CreateMultipartUpload"):
        needs.append("kms:Decrypt")
    return [iam_policy.Request(action, (key_arn,), context) for action in needs]


def ownership_refusal(ownership: str, public_acls_blocked: bool, headers: Mapping[str, str]) -> tuple[str, str, int] | None:
    """AWS's answer to an ACL on a write, before authorization: (code, message, status) or None."""
    acl = headers.get(ACL_HEADER)
    grants = [h for h in GRANT_HEADERS if headers.get(h)]
    if ownership == "BucketOwnerEnforced":
        allowed = ENFORCED_ALLOWS | ({"private"} if PRIVATE_ACL_ON_ENFORCED[0] == "accepted" else set())
        if grants or (acl is not None and acl not in allowed):
            return ("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)
    if public_acls_blocked and acl in PUBLIC_CANNED_ACLS:
        return ("AccessDenied", "Access Denied", 403)
    return None


# --------------------------------------------------------------------------- wiring into the client hook
_VIRTUAL_HOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]+)\.s3[.-]")
_ACL_WRITES = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload", "PutObjectAcl"})


def parse(operation: str, url: str, headers: Mapping[str, str | bytes], body: bytes) -> S3Request:
    parts = urlsplit(url)
    path = unquote(parts.path).lstrip("/")
    virtual = _VIRTUAL_HOST.match(parts.hostname or "")
    if virtual:
        bucket, key = virtual.group("bucket"), path
    else:
        bucket, _, key = path.partition("/")
    # A loopback moto server stands in for AWS's TLS endpoint (the clients under test use https in AWS).
    secure = parts.scheme == "https" or parts.hostname in ("127.0.0.1", "localhost")
    text = {k.lower(): v.decode() if isinstance(v, bytes) else str(v) for k, v in headers.items()}
    return S3Request(operation, bucket, key, text, body, secure)


def judge(operation: str, url: str, headers: Mapping[str, str | bytes], body: bytes, region: str) -> tuple[str, str, int] | None:
    """Refusal (code, message, status) for one S3 request of the acting principal, or None."""
    if not _ACTING:
        return None
    principal = _ACTING[-1]
    req = parse(operation, url, headers, body)
    bucket = _moto_bucket(req.bucket)
    verdict: tuple[str, str, int] | None = None
    if bucket is not None:
        if operation in _ACL_WRITES:
            # moto keeps the ObjectOwnership string; a bucket without controls is AWS's default, enforced.
            rule = bucket.ownership_rule
            ownership = (rule.get("ObjectOwnership") if isinstance(rule, dict) else rule) or "BucketOwnerEnforced"
            pab = bucket.public_access_block
            blocked = bool(pab is not None and pab.block_public_acls)
            verdict = ownership_refusal(ownership, blocked, req.headers)
        if verdict is None:
            resource_policies = {f"arn:aws:s3:::{req.bucket}": json.loads(bucket.policy)} if bucket.policy else {}
            checks = authorizations(req)
            key_arn = _bucket_key_arn(bucket)
            kms = kms_authorizations(req, key_arn, region) if key_arn else []
            for check in checks:
                request = iam_policy.Request(check.action, check.resources, check.context, principal.arn)
                decision = iam_policy.evaluate(request, principal.policies, resource_policies)
                if not decision.allowed:
                    verdict = ("AccessDenied", f"{check.action}: {decision.reason}", 403)
                    break
            for check in [] if verdict else kms:
                decision = iam_policy.evaluate(check, principal.policies)
                if not decision.allowed:
                    verdict = ("AccessDenied", f"{check.action} on the bucket's key: {decision.reason}", 403)
                    break
    principal.decisions.append((operation, "allowed" if verdict is None else f"{verdict[0]}: {verdict[1]}"))
    return verdict


def install_s3() -> None:
    """moto's own bucket-policy check ignores conditions (a TLS-only Deny refuses every request); while
    a principal acts, the gate above has already judged the request against the whole policy."""
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    original = FakeBucket.get_permission
    if getattr(original, "_magento_dr", False):
        return

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if _ACTING:
            return PermissionResult.NEUTRAL
        return original(self, action, resource)

    get_permission._magento_dr = True  # type: ignore[attr-defined]
    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


def _moto_bucket(name: str) -> Any:
    from moto.s3.models import s3_backends

    try:
        return s3_backends[ACCOUNT_ID]["aws"].buckets.get(name)
    except KeyError:
        return None


def _bucket_key_arn(bucket: Any) -> str:
    rules = (bucket.encryption or {}).get("Rule", [])
    for rule in rules if isinstance(rules, list) else [rules]:
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        if default.get("SSEAlgorithm") == "aws:kms" and default.get("KMSMasterKeyID"):
            return str(default["KMSMasterKeyID"])
    return ""


__all__ = ["PRIVATE_ACL_ON_ENFORCED", "Principal", "S3Request", "act_as", "authorizations", "judge", "ownership_refusal", "set_private_acl_on_enforced"]
