"""Content-addressed dataset versions.

A version is named by the SHA-256 of its full content. The content is cut into fixed-size chunks
(4 MiB by default); each chunk is stored once in the artifact store under
`datasets/chunks/<sha256 of the chunk>`, and the version keeps the ordered list of chunk hashes
(its manifest), so a new version that changes one part of a file stores only the changed chunks.
The version's profile (`vigil.profile`) is stored beside it when the content is tabular.

A file is versioned as its bytes; in-memory data (pandas, polars, pyarrow, dict of arrays) as the
Arrow IPC stream of its record batches.

>>> datasets = DatasetService(store)                        # doctest: +SKIP
>>> v1 = datasets.add("train.parquet", "churn-train")       # doctest: +SKIP
>>> datasets.get("churn-train@1").digest                     # doctest: +SKIP
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from vigil.api.tracking import DatasetVersionIn, DatasetVersionOut
from vigil.deadline import check as check_deadline
from vigil.errors import InvalidInputError, NotFoundError, VigilError
from vigil.io import open_source
from vigil.profile import DatasetProfile, profile
from vigil.store.core import Store
from vigil.store.tracking_tables import Dataset, DatasetVersion, Run, RunInput

if TYPE_CHECKING:
    from vigil.analysis.drift import DriftReport

DEFAULT_CHUNK_SIZE = 4 << 20
CHUNK_PREFIX = "datasets/chunks"
PROFILE_PREFIX = "datasets/profiles"


@dataclass(frozen=True)
class Prepared:
    """A version's manifest, computed where the data is; `chunks()` reads the content again."""

    digest: str
    size: int
    chunk_size: int
    manifest: list[str]
    content_format: Literal["file", "arrow"]
    source: str
    chunks: Callable[[], Iterator[bytes]]
    profile: DatasetProfile | None


def _file_chunks(path: Path, chunk_size: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            yield chunk


def _split(data: bytes, chunk_size: int) -> Iterator[bytes]:
    for start in range(0, len(data), chunk_size):
        yield data[start : start + chunk_size]


def prepare(data_or_path: Any, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Prepared:
    """Hash the content chunk by chunk (a file is read, not loaded) and profile it."""
    chunks: Callable[[], Iterator[bytes]]
    content_format: Literal["file", "arrow"]
    if isinstance(data_or_path, str | os.PathLike):
        path = Path(data_or_path)
        if not path.is_file():
            raise InvalidInputError(
                f"dataset path {str(path)!r} is not a file; give a file (Parquet, CSV, any bytes) "
                "or in-memory data",
                path=str(path),
            )
        content_format, source = "file", str(path.resolve())

        def chunks() -> Iterator[bytes]:
            return _file_chunks(path, chunk_size)

    else:
        batches = open_source(data_or_path)
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, batches.schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
        data = sink.getvalue()
        content_format, source = "arrow", type(data_or_path).__name__

        def chunks() -> Iterator[bytes]:
            return _split(data, chunk_size)

    whole = hashlib.sha256()
    manifest: list[str] = []
    size = 0
    for chunk in chunks():
        whole.update(chunk)
        size += len(chunk)
        manifest.append(hashlib.sha256(chunk).hexdigest())
    return Prepared(
        digest=whole.hexdigest(),
        size=size,
        chunk_size=chunk_size,
        manifest=manifest,
        content_format=content_format,
        source=source,
        chunks=chunks,
        profile=_profile(data_or_path, content_format),
    )


def push(
    prepared: Prepared,
    name: str,
    *,
    missing: Callable[[list[str]], list[str]],
    put_chunk: Callable[[str, bytes], None],
    register: Callable[[DatasetVersionIn], DatasetVersionOut],
) -> DatasetVersionOut:
    """Send the chunks the store lacks, then register the version (locally or to a server)."""
    wanted = set(missing(prepared.manifest))
    if wanted:
        for chunk_hash, chunk in zip(prepared.manifest, prepared.chunks(), strict=True):
            if chunk_hash in wanted:
                if hashlib.sha256(chunk).hexdigest() != chunk_hash:
                    raise InvalidInputError(
                        f"dataset {prepared.source!r} changed while it was being versioned"
                    )
                put_chunk(chunk_hash, chunk)
                wanted.discard(chunk_hash)
    return register(
        DatasetVersionIn(
            name=name,
            digest=prepared.digest,
            size=prepared.size,
            chunk_size=prepared.chunk_size,
            manifest=prepared.manifest,
            content_format=prepared.content_format,
            source=prepared.source,
            # Base64Bytes takes base64 text, also from Python
            profile=base64.b64encode(prepared.profile.to_bytes())
            if prepared.profile is not None
            else None,
        )
    )


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _check_sha256(digest: str) -> str:
    if not _SHA256.match(digest):
        raise InvalidInputError(f"{digest!r} is not a SHA-256 hex digest", digest=digest)
    return digest


def check_dataset_name(name: str) -> str:
    if not name or len(name) > 200 or "@" in name:
        raise InvalidInputError(
            f"dataset name {name!r} must have 1 to 200 characters and no '@'", name=name
        )
    return name


def _profile(data_or_path: Any, content_format: str) -> DatasetProfile | None:
    try:
        return profile(data_or_path)
    except VigilError:
        if content_format == "arrow":
            raise
        return None  # a file that is not a table (an image archive, a pickle): no profile


def _out(version: DatasetVersion, name: str) -> DatasetVersionOut:
    return DatasetVersionOut(
        id=version.id,
        name=name,
        version=version.version,
        digest=version.digest,
        size=version.size,
        chunk_size=version.chunk_size,
        n_chunks=len(version.manifest),
        content_format=version.content_format,
        source=version.source,
        n_rows=version.n_rows,
        has_profile=version.profile_key is not None,
        owner=version.owner,
        created_at=version.created_at,
    )


@dataclass(frozen=True)
class DatasetDiff:
    """What changed between two versions: columns added, removed or of another kind, and the
    drift report between their profiles (None when either has no profile)."""

    a: DatasetVersionOut
    b: DatasetVersionOut
    added_columns: list[str]
    removed_columns: list[str]
    changed_kinds: dict[str, tuple[str, str]] = field(default_factory=dict)
    drift: DriftReport | None = None

    @property
    def same_content(self) -> bool:
        return self.a.digest == self.b.digest

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a.model_dump(mode="json"),
            "b": self.b.model_dump(mode="json"),
            "same_content": self.same_content,
            "added_columns": self.added_columns,
            "removed_columns": self.removed_columns,
            "changed_kinds": {k: list(v) for k, v in self.changed_kinds.items()},
            "drift": None if self.drift is None else self.drift.to_dict(),
        }


class DatasetService:
    """Dataset versions in a `Store`."""

    def __init__(self, store: Store, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if chunk_size < 1024:
            raise InvalidInputError(f"chunk_size must be at least 1024 bytes, got {chunk_size}")
        self.store = store
        self.chunk_size = chunk_size

    def add(self, data_or_path: Any, name: str, *, owner: str = "") -> DatasetVersionOut:
        """The version of this content in dataset `name` (created when new; the same version
        when the content was added before)."""
        check_dataset_name(name)
        prepared = prepare(data_or_path, self.chunk_size)
        return push(
            prepared,
            name,
            missing=self.missing_chunks,
            put_chunk=self.put_chunk,
            register=lambda spec: self.register(spec, owner=owner),
        )

    def missing_chunks(self, hashes: Sequence[str]) -> list[str]:
        """The chunk hashes the artifact store does not hold yet."""
        for digest in hashes:
            _check_sha256(digest)
        artifacts = self.store.artifacts
        return [h for h in dict.fromkeys(hashes) if not artifacts.exists(f"{CHUNK_PREFIX}/{h}")]

    def put_chunk(self, digest: str, data: bytes) -> None:
        """Store a chunk under its hash, after checking that the hash is right."""
        _check_sha256(digest)
        actual = hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise InvalidInputError(
                f"chunk sent as sha256 {digest} has sha256 {actual}; send the chunk's own hash",
                digest=digest,
            )
        key = f"{CHUNK_PREFIX}/{digest}"
        if not self.store.artifacts.exists(key):
            self.store.artifacts.put(key, data)

    def register(self, spec: DatasetVersionIn, *, owner: str = "") -> DatasetVersionOut:
        """Record a version whose chunks are all stored; the full content's digest is checked
        against the chunks, so a version's name is always the hash of what it holds."""
        name = check_dataset_name(spec.name)
        existing = self._find(name, spec.digest)
        if existing is not None:
            return existing
        missing = self.missing_chunks(spec.manifest)
        if missing:
            raise InvalidInputError(
                f"{len(missing)} chunk(s) of the version are not stored (first: {missing[0]}); "
                "upload them first",
                missing=missing[:10],
            )
        whole = hashlib.sha256()
        size = 0
        for digest in spec.manifest:
            check_deadline("reading the dataset version's chunks")
            chunk = self.store.artifacts.get(f"{CHUNK_PREFIX}/{digest}")
            whole.update(chunk)
            size += len(chunk)
            if size > spec.size:  # no need to read on: it can no longer match
                break
        if whole.hexdigest() != spec.digest or size != spec.size:
            raise InvalidInputError(
                f"the chunks hold {size} bytes with sha256 {whole.hexdigest()}; the version "
                f"says {spec.size} bytes with sha256 {spec.digest}",
                digest=spec.digest,
            )
        prof = DatasetProfile.from_bytes(spec.profile) if spec.profile is not None else None
        profile_key = None
        if prof is not None:
            profile_key = f"{PROFILE_PREFIX}/{spec.digest}.vgp"
            self.store.artifacts.put(profile_key, spec.profile)  # type: ignore[arg-type]
        with self.store.session() as session:
            dataset = session.query(Dataset).filter(Dataset.name == name).one_or_none()
            if dataset is None:
                dataset = Dataset(name=name, created_at=dt.datetime.now(dt.UTC))
                session.add(dataset)
                session.flush()
            last = (
                session.query(DatasetVersion.version)
                .filter(DatasetVersion.dataset_id == dataset.id)
                .order_by(DatasetVersion.version.desc())
                .first()
            )
            version = DatasetVersion(
                dataset_id=dataset.id,
                version=(last[0] if last else 0) + 1,
                digest=spec.digest,
                size=spec.size,
                chunk_size=spec.chunk_size,
                manifest=list(spec.manifest),
                content_format=spec.content_format,
                source=spec.source,
                profile_key=profile_key,
                n_rows=prof.n_rows if prof is not None else None,
                owner=owner,
                created_at=dt.datetime.now(dt.UTC),
            )
            session.add(version)
            session.commit()
            return _out(version, name)

    def _find(self, name: str, digest: str) -> DatasetVersionOut | None:
        with self.store.read_session() as session:
            row = (
                session.query(DatasetVersion)
                .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
                .filter(Dataset.name == name, DatasetVersion.digest == digest)
                .one_or_none()
            )
            return None if row is None else _out(row, name)

    def get(self, ref: str) -> DatasetVersionOut:
        """`name` (its latest version), `name@3` or `name@v3` (a version number), or
        `name@<digest prefix>` (at least 6 hex characters)."""
        name, _, which = ref.partition("@")
        with self.store.read_session() as session:
            query = (
                session.query(DatasetVersion)
                .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
                .filter(Dataset.name == name)
            )
            number = which[1:] if which.startswith("v") else which
            if not which:
                rows = query.order_by(DatasetVersion.version.desc()).limit(1).all()
            elif number.isdigit() and len(number) < 6:
                rows = query.filter(DatasetVersion.version == int(number)).all()
            elif len(which) >= 6:
                rows = query.filter(DatasetVersion.digest.startswith(which.lower())).all()
            else:
                rows = []
            if len(rows) > 1:
                raise InvalidInputError(
                    f"dataset reference {ref!r} matches {len(rows)} versions; give more of "
                    "the digest",
                    ref=ref,
                )
            if not rows:
                raise NotFoundError(
                    f"no dataset version {ref!r}; refer to one as NAME, NAME@3 or "
                    "NAME@<digest prefix> (see `vigil datasets list`)",
                    ref=ref,
                )
            return _out(rows[0], name)

    def versions(
        self, name: str | None = None, *, actor: str | None = None
    ) -> list[DatasetVersionOut]:
        """Versions by dataset and number (of `name`, and added by `actor`, when given)."""
        with self.store.read_session() as session:
            query = session.query(DatasetVersion, Dataset.name).join(
                Dataset, Dataset.id == DatasetVersion.dataset_id
            )
            if name is not None:
                query = query.filter(Dataset.name == name)
            if actor is not None:
                query = query.filter(DatasetVersion.owner == actor)
            rows = query.order_by(Dataset.name, DatasetVersion.version).all()
            return [_out(v, n) for v, n in rows]

    def _row(self, version_id: int) -> DatasetVersion:
        with self.store.read_session() as session:
            row = session.get(DatasetVersion, version_id)
            if row is None:
                raise NotFoundError(f"no dataset version with id {version_id}")
            return row

    def read_bytes(self, version: DatasetVersionOut) -> bytes:
        """The version's full content, rebuilt from its chunks."""
        row = self._row(version.id)
        return b"".join(self.store.artifacts.get(f"{CHUNK_PREFIX}/{h}") for h in row.manifest)

    def profile(self, version: DatasetVersionOut) -> DatasetProfile | None:
        row = self._row(version.id)
        if row.profile_key is None:
            return None
        return DatasetProfile.from_bytes(self.store.artifacts.get(row.profile_key))

    def link_run(self, run_id: str, version_id: int, context: str) -> None:
        """Record that run `run_id` used the version (lineage); idempotent."""
        with self.store.session() as session:
            if session.get(Run, run_id) is None:
                raise NotFoundError(f"no run {run_id!r}", run_id=run_id)
            if session.get(DatasetVersion, version_id) is None:
                raise NotFoundError(f"no dataset version with id {version_id}")
            key = (run_id, version_id, context)
            if session.get(RunInput, key) is None:
                session.add(RunInput(run_id=run_id, dataset_version_id=version_id, context=context))
                session.commit()

    def runs_using(self, version: DatasetVersionOut) -> list[tuple[str, str]]:
        """(run id, context) of every run that used the version."""
        with self.store.read_session() as session:
            rows = (
                session.query(RunInput.run_id, RunInput.context)
                .filter(RunInput.dataset_version_id == version.id)
                .order_by(RunInput.run_id)
                .all()
            )
            return [(r, c) for r, c in rows]

    def inputs_of(self, run_id: str) -> list[tuple[DatasetVersionOut, str]]:
        """The dataset versions a run used, each with its context."""
        with self.store.read_session() as session:
            rows = (
                session.query(DatasetVersion, Dataset.name, RunInput.context)
                .join(RunInput, RunInput.dataset_version_id == DatasetVersion.id)
                .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
                .filter(RunInput.run_id == run_id)
                .order_by(Dataset.name, DatasetVersion.version)
                .all()
            )
            return [(_out(v, n), c) for v, n, c in rows]

    def diff(self, a: str, b: str) -> DatasetDiff:
        """Schema changes and drift from version `a` to version `b` (references as in `get`)."""
        va, vb = self.get(a), self.get(b)
        return diff_versions(va, vb, self.profile(va), self.profile(vb))


def diff_versions(
    va: DatasetVersionOut,
    vb: DatasetVersionOut,
    pa_: DatasetProfile | None,
    pb: DatasetProfile | None,
) -> DatasetDiff:
    """Schema changes and drift from version `va` (profile `pa_`) to `vb` (profile `pb`)."""
    if pa_ is None or pb is None:
        return DatasetDiff(a=va, b=vb, added_columns=[], removed_columns=[])
    ca, cb = pa_.columns, pb.columns
    changed = {
        c: (ca[c].kind.value, cb[c].kind.value)
        for c in sorted(set(ca) & set(cb))
        if ca[c].kind != cb[c].kind
    }
    from vigil.analysis.drift import drift  # SciPy only when two versions are diffed

    common = sorted((set(ca) & set(cb)) - set(changed))
    report = drift(pa_.select(common), pb.select(common)) if common else None
    return DatasetDiff(
        a=va,
        b=vb,
        added_columns=sorted(set(cb) - set(ca)),
        removed_columns=sorted(set(ca) - set(cb)),
        changed_kinds=changed,
        drift=report,
    )
