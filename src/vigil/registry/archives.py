"""Checking the tar and zip archives a client registers, before they are stored.

A folder version (`directory`, `mlflow`) is a tar.gz; a skops model is a zip. Both are read
member by member at registration, without writing anything to disk:

- names are relative paths of plain segments: no absolute path, no drive, no `..`, no backslash,
  no name twice;
- only regular files and folders (and, in a tar, links whose target stays inside the archive);
  devices, fifos and every other member type are refused;
- at most `max_members` members and `max_bytes` bytes of files. Declared sizes are checked as
  each header is read, and the decompressed stream itself is counted (files, headers and
  padding may take `max_bytes` + 4 MiB), so a gzip or zip bomb is refused after at most that
  plus one read chunk (1 MiB) has been decompressed, whatever its headers claim.

The same reader serves a folder version's files back (the MLflow artifact proxy), bounded alike.
"""

from __future__ import annotations

import gzip
import io
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from vigil.config import ArchiveLimits as ArchiveLimits
from vigil.errors import InvalidInputError, PayloadTooLargeError, SerializationError

_CHUNK = 1 << 20
HEADER_ALLOWANCE = 4 << 20
"""Decompressed bytes a tar may hold beyond its files' `max_bytes` (headers, padding)."""
_CORRUPT = (tarfile.TarError, OSError, EOFError, ValueError, zlib.error)


DEFAULT_LIMITS = ArchiveLimits()


class ArchiveTooLargeError(PayloadTooLargeError):
    """An archive holds more members or more decompressed bytes than the limits allow."""

    code = "archive_too_large"


class UnsafeArchiveError(InvalidInputError):
    """An archive member could write outside its folder, or is not a plain file or folder."""

    code = "unsafe_archive"


@dataclass(frozen=True, slots=True)
class ArchiveSummary:
    """What a checked archive holds."""

    members: int
    bytes: int


def _check_name(name: str, kind: str, *, root_ok: bool = False) -> str:
    """`name` as a clean relative path ("" for the archive's own root folder `./` when
    `root_ok`), else UnsafeArchiveError naming the member."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if (
        (not parts and not root_ok)
        or name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or ".." in parts
        or (bool(parts) and len(parts[0]) >= 2 and parts[0][1] == ":")
        or len(name) > 4096
    ):
        raise UnsafeArchiveError(
            f"the {kind} archive holds a member named {name!r}; member names must be relative "
            "paths inside the archive (no leading '/', drive, '..' or backslash)",
            member=name[:500],
        )
    return "/".join(parts)


class _BudgetReader(io.RawIOBase):
    """A read-only stream that raises ArchiveTooLargeError once more than `budget` bytes were
    read from `source` (a decompressing file)."""

    def __init__(self, source: io.BufferedIOBase | gzip.GzipFile, budget: int, what: str) -> None:
        self._source = source
        self._budget = budget
        self._what = what
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), _CHUNK)
        data = self._source.read(want)
        self.read_bytes += len(data)
        if self.read_bytes > self._budget:
            raise ArchiveTooLargeError(
                f"the {self._what} decompresses to more than {self._budget} bytes; refused "
                "(raise VIGIL_MAX_ARCHIVE_BYTES if such models are expected)",
                limit=self._budget,
            )
        buffer[: len(data)] = data
        return len(data)


MAX_META_BYTES = 64 << 10
"""Largest GNU long-name or pax header block accepted (tarfile reads one whole into memory)."""

_META_TYPES = (
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
)


class _CheckedTarInfo(tarfile.TarInfo):
    """A tar header that refuses an oversized long-name or pax block before tarfile reads it."""

    def _proc_member(self, tarfile: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _META_TYPES and self.size > MAX_META_BYTES:
            raise UnsafeArchiveError(
                f"the tar archive has a {self.size}-byte long-name or pax header; at most "
                f"{MAX_META_BYTES} bytes are accepted",
                size=self.size,
            )
        return super()._proc_member(tarfile)  # type: ignore[misc,no-any-return]


def _tar_members(
    data: bytes, limits: ArchiveLimits, *, read: bool
) -> Iterator[tuple[str, tarfile.TarInfo, bytes | None]]:
    """Each checked member of the tar.gz `data`: its clean name, header, and bytes when `read`
    and a regular file; in stream order; raises on the first bad member or past a limit."""
    # The decompressed stream holds headers and padding besides the files: allow them
    # HEADER_ALLOWANCE bytes (a long name's or pax header's blocks count against it too).
    budget = limits.max_bytes + HEADER_ALLOWANCE
    try:
        gz = gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb")
        stream = io.BufferedReader(_BudgetReader(gz, budget, "tar archive"), _CHUNK)
        archive = tarfile.open(  # noqa: SIM115 (closed below)
            fileobj=stream, mode="r|", tarinfo=_CheckedTarInfo
        )
    except _CORRUPT as exc:
        raise SerializationError(
            f"the artifact is not a tar.gz archive ({exc}); a folder version is the folder "
            "packed as tar.gz"
        ) from exc
    seen: set[str] = set()
    total = 0
    with archive:
        while True:
            try:
                member = archive.next()
            except _CORRUPT as exc:
                raise SerializationError(f"the tar.gz archive is corrupt: {exc}") from exc
            if member is None:
                return
            if len(seen) >= limits.max_members:
                raise ArchiveTooLargeError(
                    f"the tar archive holds more than {limits.max_members} members; refused "
                    "(raise VIGIL_MAX_ARCHIVE_MEMBERS if such models are expected)",
                    limit=limits.max_members,
                )
            name = _check_name(member.name, "tar", root_ok=member.isdir())
            if not name:
                continue  # the archive's own root folder, `./`
            if name in seen:
                raise UnsafeArchiveError(
                    f"the tar archive holds {name!r} twice; each member name must be unique",
                    member=name,
                )
            seen.add(name)
            _check_tar_type(member, name)
            total += member.size if member.isfile() else 0
            if total > limits.max_bytes:
                raise ArchiveTooLargeError(
                    f"the tar archive's files add up to more than {limits.max_bytes} bytes; "
                    "refused (raise VIGIL_MAX_ARCHIVE_BYTES if such models are expected)",
                    limit=limits.max_bytes,
                )
            content = None
            if read and member.isfile():
                try:
                    extracted = archive.extractfile(member)
                    content = b"" if extracted is None else extracted.read()
                except _CORRUPT as exc:
                    raise SerializationError(f"the tar.gz archive is corrupt: {exc}") from exc
            yield name, member, content


def _check_tar_type(member: tarfile.TarInfo, name: str) -> None:
    if member.isfile() or member.isdir():
        return
    if member.issym() or member.islnk():
        target = member.linkname
        # A symlink's target is relative to its folder; a hard link's to the archive's root.
        base = PurePosixPath(name).parent if member.issym() else PurePosixPath()
        joined = (base / target).as_posix() if target else ""
        parts: list[str] = []
        escapes = not target or target.startswith("/") or "\\" in target
        for part in joined.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    escapes = True
                    break
                parts.pop()
            else:
                parts.append(part)
        if escapes or not parts:
            kind = "symbolic" if member.issym() else "hard"
            raise UnsafeArchiveError(
                f"the tar archive's member {name!r} is a {kind} link to {target!r}, outside "
                "the archive; links may only point at files inside it",
                member=name,
                link=target[:500],
            )
        return
    kind = (
        "device"
        if member.isdev() and not member.isfifo()
        else "fifo"
        if member.isfifo()
        else f"type {member.type!r}"
    )
    raise UnsafeArchiveError(
        f"the tar archive's member {name!r} is a {kind}; only regular files, folders and "
        "links inside the archive are accepted",
        member=name,
    )


def check_tar(data: bytes, limits: ArchiveLimits = DEFAULT_LIMITS) -> ArchiveSummary:
    """Check every member of the tar.gz `data` (see the module docstring); raise on the first
    bad one."""
    members = total = 0
    for _, member, _ in _tar_members(data, limits, read=False):
        members += 1
        total += member.size if member.isfile() else 0
    return ArchiveSummary(members, total)


def tar_files(data: bytes, limits: ArchiveLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """The regular files of the tar.gz `data`, by clean relative path, checked as `check_tar`."""
    return {
        name: content
        for name, _, content in _tar_members(data, limits, read=True)
        if content is not None
    }


def check_zip(data: bytes, limits: ArchiveLimits = DEFAULT_LIMITS) -> ArchiveSummary:
    """Check every member of the zip `data` (a skops file), decompressing each under the
    limits; raise on the first bad one."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise SerializationError(
            f"the artifact is not a zip archive ({exc}); a skops model is a zip file"
        ) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise ArchiveTooLargeError(
                f"the zip archive holds {len(infos)} members; the limit is "
                f"{limits.max_members} (VIGIL_MAX_ARCHIVE_MEMBERS)",
                limit=limits.max_members,
            )
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_bytes:  # refused before decompressing anything
            raise ArchiveTooLargeError(
                f"the zip archive's members add up to {declared} bytes; the limit is "
                f"{limits.max_bytes} (VIGIL_MAX_ARCHIVE_BYTES)",
                limit=limits.max_bytes,
            )
        seen: set[str] = set()
        total = 0
        for info in infos:
            name = _check_name(info.filename, "zip")
            if name in seen:
                raise UnsafeArchiveError(
                    f"the zip archive holds {name!r} twice; each member name must be unique",
                    member=name,
                )
            seen.add(name)
            mode = info.external_attr >> 16
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise UnsafeArchiveError(
                    f"the zip archive's member {name!r} is not a regular file or folder "
                    f"(mode {oct(mode)}); links and devices are refused",
                    member=name,
                )
            if info.is_dir():
                continue
            total += _zip_member_size(archive, info, limits.max_bytes - total)
    return ArchiveSummary(len(infos), total)


def _zip_member_size(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> int:
    """The bytes `info` decompresses to (CRC checked), refused past `budget`."""
    size = 0
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(_CHUNK):
                size += len(chunk)
                if size > budget:
                    raise ArchiveTooLargeError(
                        "the zip archive decompresses to more than the limit of bytes "
                        "(VIGIL_MAX_ARCHIVE_BYTES); refused",
                        member=info.filename[:500],
                    )
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as exc:
        raise SerializationError(
            f"the zip archive's member {info.filename[:500]!r} is corrupt or uses an "
            f"unsupported compression: {exc}"
        ) from exc
    return size


def check_folder(sizes: Mapping[str, int], limits: ArchiveLimits = DEFAULT_LIMITS) -> None:
    """Refuse a folder (its files' sizes by path) that would pack into an archive past
    `limits`, before any of its bytes are read (the MLflow registration path packs one)."""
    if len(sizes) > limits.max_members:
        raise ArchiveTooLargeError(
            f"the folder holds {len(sizes)} files; a version holds at most "
            f"{limits.max_members} (VIGIL_MAX_ARCHIVE_MEMBERS)",
            limit=limits.max_members,
        )
    total = sum(sizes.values())
    if total > limits.max_bytes:
        raise ArchiveTooLargeError(
            f"the folder's files add up to {total} bytes; a version holds at most "
            f"{limits.max_bytes} (VIGIL_MAX_ARCHIVE_BYTES)",
            limit=limits.max_bytes,
        )


def is_skops_name(source_name: str) -> bool:
    return source_name.lower().endswith(".skops")


def check_artifact(
    data: bytes, fmt: str, source_name: str, limits: ArchiveLimits = DEFAULT_LIMITS
) -> ArchiveSummary | None:
    """Check the archive an artifact of format `fmt` is (tar.gz for folders, zip for skops);
    None for a format that is not an archive."""
    if fmt in ("directory", "mlflow"):
        return check_tar(data, limits)
    if fmt == "skops" or (fmt == "file" and is_skops_name(source_name)):
        return check_zip(data, limits)
    return None
