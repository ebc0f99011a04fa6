"""The artifact store: a local folder or an S3 bucket behind one interface.

Keys are chosen by the server (e.g. `predictions/12/2026-11-23/<batch>.parquet`), never taken from a
client's path. Every key is still checked: only plain segments of `[A-Za-z0-9._=-]`, no `.` or `..`
segment, no absolute path, no percent sign (so no encoded or double-encoded `../`), and on a local
folder the resolved path, symlinks followed, must stay inside the root.
"""

from __future__ import annotations

import abc
import contextlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from vigil.errors import InvalidInputError, NotFoundError
from vigil.lru import LruCache

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_SEGMENT = re.compile(r"^[A-Za-z0-9_=\-][A-Za-z0-9._=\-]*$")
MAX_KEY_LENGTH = 1024


def validate_key(key: str) -> str:
    """Return `key` if it is a safe relative artifact key, else raise InvalidInputError."""
    if not isinstance(key, str) or not key:
        raise InvalidInputError(f"artifact key must be a non-empty string, got {key!r}")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"artifact key is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}"
        )
    for segment in key.split("/"):
        if segment in ("", ".", "..") or not _SEGMENT.match(segment):
            raise InvalidInputError(
                f"artifact key {key!r} has an unsafe segment {segment!r}; segments are "
                "non-empty, made of letters, digits and . _ = -, and are not '.' or '..'",
                key=key,
            )
    return key


class ArtifactStore(abc.ABC):
    """Bytes by key. Writes are atomic: a reader sees the old object, the new one, or none."""

    url: str

    @abc.abstractmethod
    def put(self, key: str, data: bytes) -> None: ...

    @abc.abstractmethod
    def get(self, key: str) -> bytes: ...

    @abc.abstractmethod
    def exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """Keys under `prefix` (a folder-like key, or "" for all), sorted."""

    @abc.abstractmethod
    def delete(self, key: str) -> None: ...

    def local_path(self, key: str) -> Path | None:
        """The file holding `key` when the store is a local folder (lets DuckDB read it in place)."""
        return None


FOLDERS_KEPT = 4096
"""How many checked folders a local store remembers (the most recently written into)."""


class LocalArtifactStore(ArtifactStore):
    """Artifacts as files under a root folder.

    A write is a temporary file renamed into place: it survives the writing process being killed.
    `fsync=True` also flushes each file to disk before the rename (survives a power cut, at a few
    ms per write); the SQLite store makes the same trade-off (WAL, synchronous=NORMAL).
    """

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.fsync = fsync
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.url = str(self.root)
        self._folders: LruCache[str] = LruCache(max_entries=FOLDERS_KEPT)
        """Folders (by key prefix) this store created and checked, as paths: a write into one
        skips the mkdir and the check (writes of prediction files are many). Bounded: a server
        writes into a new folder per model and day."""

    def _path(self, key: str) -> Path:
        validate_key(key)
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidInputError(
                f"artifact key {key!r} leads outside the artifact store (through '..' or a "
                "symbolic link)",
                key=key,
            )
        return path

    def _folder_for(self, key: str) -> tuple[str, str]:
        """The checked folder of `key` (created) and its file name; a folder this store already
        created and checked is trusted without resolving it again."""
        prefix, _, name = validate_key(key).rpartition("/")
        _, folder = self._folders.get(prefix)
        if folder is not None:
            return folder, name
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Re-check after creating folders: a symlinked folder could have been swapped in.
        path = self._path(key)
        folder = str(path.parent)
        self._folders.put(prefix, folder)
        return folder, name

    def put(self, key: str, data: bytes) -> None:
        # Plain strings and os calls: pathlib, a uuid and a file object cost as much as the
        # system calls on a small log call's file.
        folder, name = self._folder_for(key)
        temp = f"{folder}/.{name}.{os.urandom(12).hex()}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        try:
            fd = os.open(temp, flags, 0o644)
        except FileNotFoundError:  # the folder was removed since: create and check it again
            self._folders.discard(key.rpartition("/")[0])
            folder, name = self._folder_for(key)
            temp = f"{folder}/{temp.rpartition('/')[2]}"
            fd = os.open(temp, flags, 0o644)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, f"{folder}/{name}")
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"no artifact {key!r} in the artifact store", key=key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> list[str]:
        base = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if not base.is_dir():
            return []
        keys = []
        for path in base.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                resolved = path.resolve()
                if resolved.is_relative_to(self.root):
                    keys.append(path.relative_to(self.root).as_posix())
        return sorted(keys)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


class S3ArtifactStore(ArtifactStore):
    """Artifacts as objects under `s3://bucket/prefix`."""

    def __init__(self, url: str, *, endpoint_url: str | None = None, client: Any = None) -> None:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise InvalidInputError(
                f"S3 artifact URL must look like s3://bucket/prefix, got {url!r}"
            )
        self.url = url
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        if self.prefix:
            validate_key(self.prefix)
        if client is None:
            import boto3  # boto3 only when an S3 store is opened

            client = boto3.client("s3", endpoint_url=endpoint_url)
        self._client: S3Client = client

    def _object(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        self._client.put_object(Bucket=self.bucket, Key=self._object(key), Body=data)

    def get(self, key: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._object(key))
        except self._client.exceptions.NoSuchKey:
            raise NotFoundError(f"no artifact {key!r} in the artifact store", key=key) from None
        return response["Body"].read()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def list(self, prefix: str = "") -> list[str]:
        folder = prefix.strip("/")
        full = self._object(folder) + "/" if folder else (f"{self.prefix}/" if self.prefix else "")
        keys: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            for item in page.get("Contents", []):
                name = item["Key"]
                keys.append(name[len(self.prefix) + 1 :] if self.prefix else name)
        return sorted(keys)

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._object(key))


REPLACED_READ_ATTEMPTS = 10


def read_current(store: ArtifactStore, current_key: Callable[[], str | None]) -> bytes | None:
    """The bytes under the key `current_key()` names now (None when it names none).

    A replaced artifact gets a new key, and its old key is removed once the new one is
    committed; a reader that read the old name just before that finds the old key gone, and
    reads the name again, so a reader never sees a replaced artifact as missing.
    """
    key = current_key()
    for _ in range(REPLACED_READ_ATTEMPTS):
        if key is None:
            return None
        try:
            return store.get(key)
        except NotFoundError:
            again = current_key()
            if again == key:
                raise
            key = again
    if key is None:
        return None
    return store.get(key)


def open_artifact_store(url: str, *, s3_endpoint_url: str | None = None) -> ArtifactStore:
    """A local folder (a path or file:// URL) or an S3 bucket (s3://bucket/prefix)."""
    if url.startswith("s3://"):
        return S3ArtifactStore(url, endpoint_url=s3_endpoint_url)
    if url.startswith("file://"):
        return LocalArtifactStore(urlparse(url).path)
    if "://" in url:
        raise InvalidInputError(
            f"artifact URL {url!r} has an unknown scheme; use a folder path, file:// or s3://",
            artifacts_url=url,
        )
    return LocalArtifactStore(url)
