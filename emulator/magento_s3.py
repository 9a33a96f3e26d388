"""The S3 requests Magento's `aws-s3` remote-storage driver really sends, replayed with boto3.

Magento 2.4.7 and 2.4.8 (module-aws-s3 100.4.5/100.4.6 on league/flysystem-aws-s3-v3 2.5/3.x and
aws-sdk-php) write every object with `CONFIG = ['ACL' => 'private', 'visibility' => 'private']`
(`Magento\\AwsS3\\Driver\\AwsS3`); the wire requests per driver method are tabled in docs/media.md
"What Magento sends". The differences between the two releases that reach the wire: 2.4.7 lists
with ListObjects (flysystem 2), 2.4.8 with ListObjectsV2 (flysystem 3); 2.4.8 (aws-sdk-php >= 3.337)
adds a CRC32 checksum to uploads. Nothing here is Magento's code: these are its requests, so the
emulator can judge them against the stack's real policies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

MagentoVersion = Literal["2.4.7", "2.4.8"]
VERSIONS: tuple[MagentoVersion, ...] = ("2.4.7", "2.4.8")
PRIVATE = "private"  # the driver's ACL on every write
# flysystem's ObjectUploader switches to a multipart upload at 16 MiB (aws-sdk-php mup_threshold).
MULTIPART_THRESHOLD_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Call:
    """One S3 request of a driver method and what AWS (here, the emulator) answered."""

    method: str
    operation: str
    key: str
    outcome: str  # "ok", or the error code

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


class MagentoMediaSession:
    """A Magento instance's media traffic against one bucket (catalog image upload to directory delete)."""

    def __init__(self, s3: Any, bucket: str, version: MagentoVersion) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.version = version
        self.calls: list[Call] = []

    def _send(self, method: str, operation: str, key: str, **params: Any) -> dict[str, Any] | None:
        try:
            response = getattr(self.s3, _snake(operation))(Bucket=self.bucket, **params)
        except ClientError as exc:
            self.calls.append(Call(method, operation, key, str(exc.response.get("Error", {}).get("Code", "error"))))
            return None
        self.calls.append(Call(method, operation, key, "ok"))
        return dict(response)

    def _upload_params(self) -> dict[str, Any]:
        return {"ChecksumAlgorithm": "CRC32"} if self.version == "2.4.8" else {}

    # ---- driver methods (Magento\AwsS3\Driver\AwsS3), in the requests flysystem makes for each
    def test(self) -> None:
        """`setup:config:set --remote-storage-*` validates the bucket by writing `storage.flag`."""
        self._send("test", "PutObject", "storage.flag", Key="storage.flag", Body=b"", ACL=PRIVATE, **self._upload_params())

    def create_directory(self, path: str) -> None:
        """createDirectoryRecursively: each missing level is looked up, then written as a `dir/` marker."""
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            marker = "/".join(parts[:depth]) + "/"
            self._send("createDirectory", "HeadObject", marker, Key=marker)
            self._send("createDirectory", "PutObject", marker, Key=marker, Body=b"", ACL=PRIVATE, **self._upload_params())

    def file_put_contents(self, key: str, body: bytes, *, image: tuple[int, int] | None = None) -> None:
        """filePutContents: PutObject (multipart from 16 MiB), then fileSize() reads it back with HeadObject."""
        params: dict[str, Any] = {"ACL": PRIVATE, "ContentType": "image/jpeg" if image else "application/octet-stream"}
        if image:
            params["Metadata"] = {"image-width": str(image[0]), "image-height": str(image[1])}
        if len(body) >= MULTIPART_THRESHOLD_BYTES:
            self._multipart(key, body, params)
        else:
            self._send("filePutContents", "PutObject", key, Key=key, Body=body, **params, **self._upload_params())
        self._send("filePutContents", "HeadObject", key, Key=key)

    def _multipart(self, key: str, body: bytes, params: dict[str, Any]) -> None:
        started = self._send("filePutContents", "CreateMultipartUpload", key, Key=key, **params)
        if started is None:
            return
        upload_id = started["UploadId"]
        part = self._send("filePutContents", "UploadPart", key, Key=key, UploadId=upload_id, PartNumber=1, Body=body)
        if part is None:
            return
        self._send(
            "filePutContents",
            "CompleteMultipartUpload",
            key,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
        )

    def is_exists(self, key: str) -> bool:
        """isExists/isFile: HeadObject. A missing key must answer 404 (which needs s3:ListBucket), not 403."""
        return self._send("isExists", "HeadObject", key, Key=key) is not None

    def read_directory(self, prefix: str) -> list[str]:
        operation = "ListObjects" if self.version == "2.4.7" else "ListObjectsV2"
        response = self._send("readDirectory", operation, prefix, Prefix=prefix, Delimiter="/")
        return [o["Key"] for o in (response or {}).get("Contents", [])]

    def file_get_contents(self, key: str) -> bytes | None:
        response = self._send("fileGetContents", "GetObject", key, Key=key)
        return None if response is None else bytes(response["Body"].read())

    def copy(self, source: str, destination: str, *, method: str = "copy") -> None:
        """copy: aws-sdk-php's ObjectCopier reads the source (HeadObject), then CopyObject with the ACL."""
        self._send(method, "HeadObject", source, Key=source)
        self._send(
            method,
            "CopyObject",
            destination,
            Key=destination,
            CopySource={"Bucket": self.bucket, "Key": source},
            ACL=PRIVATE,
            MetadataDirective="COPY",
        )

    def rename(self, source: str, destination: str) -> None:
        self.copy(source, destination, method="rename")
        self._send("rename", "DeleteObject", source, Key=source)

    def delete_file(self, key: str) -> None:
        self._send("deleteFile", "DeleteObject", key, Key=key)

    def delete_directory(self, prefix: str) -> None:
        """deleteDirectory: aws-sdk-php deleteMatchingObjects lists (ListObjects) and batch-deletes."""
        listed = self._send("deleteDirectory", "ListObjects", prefix, Prefix=prefix)
        keys = [o["Key"] for o in (listed or {}).get("Contents", [])]
        if keys:
            self._send("deleteDirectory", "DeleteObjects", prefix, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})


def catalog_session(s3: Any, bucket: str, version: MagentoVersion, *, large_file: bool = True) -> MagentoMediaSession:
    """What an admin does to the catalog's media, as the driver sends it: every method above once."""
    session = MagentoMediaSession(s3, bucket, version)
    session.test()
    session.create_directory("catalog/product/m/a")
    session.file_put_contents("catalog/product/m/a/mug.jpg", b"\xff\xd8jpeg", image=(1200, 1200))
    if large_file:
        session.file_put_contents("import/catalog.csv", b"sku,name\n" * (MULTIPART_THRESHOLD_BYTES // 9 + 1))
    session.is_exists("catalog/product/m/a/mug.jpg")
    session.is_exists("catalog/product/m/a/missing.jpg")
    session.read_directory("catalog/product/m/a/")
    session.file_get_contents("catalog/product/m/a/mug.jpg")
    session.copy("catalog/product/m/a/mug.jpg", "catalog/product/cache/mug.jpg")
    session.rename("catalog/product/cache/mug.jpg", "catalog/product/cache/mug-1.jpg")
    session.delete_file("catalog/product/cache/mug-1.jpg")
    session.delete_directory("catalog/product/m/")
    return session


def _snake(operation: str) -> str:
    out = ""
    for i, c in enumerate(operation):
        if c.isupper() and i and (not operation[i - 1].isupper() or (i + 1 < len(operation) and operation[i + 1].islower())):
            out += "_"
        out += c.lower()
    return out.replace("list_objects_v2", "list_objects_v2")


__all__ = ["VERSIONS", "Call", "MagentoMediaSession", "catalog_session"]
