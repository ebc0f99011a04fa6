"""Turning a model into the bytes of one registry artifact, and back.

A scikit-learn-style object is serialised with skops when it is installed (its loader refuses types
it does not trust), else with joblib. A file is stored as it is; a folder as a tar archive (an
MLflow model folder, recognised by its `MLmodel` file, loads through `mlflow.pyfunc` when `mlflow`
is installed).

joblib is pickle: loading a joblib artifact runs whatever code its author put in it. Vigil only
loads artifacts from the registry's own store and checks each one's SHA-256 against the version's
record first, but that protects against corruption, not against a malicious registrant: only
load models from a registry whose writers you trust. `unpack` is for the user's own process;
a server never calls it (it loads through `vigil.registry.safe_load`, which has no pickle path).
An artifact received by a server is checked by `packed_from_upload`, archives member by member
(`vigil.registry.archives`).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil.errors import InvalidInputError, NotFoundError, SerializationError
from vigil.registry.archives import DEFAULT_LIMITS, ArchiveLimits, check_artifact
from vigil.registry.types import ModelVersionInfo, SourceFormat

_JOBLIB_SUFFIXES = (".joblib", ".pkl", ".pickle")


@dataclass(frozen=True, slots=True)
class PackedModel:
    """An artifact ready to store: its bytes, format, a file name for the key and its digest."""

    data: bytes
    format: SourceFormat
    name: str
    filename: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _skops() -> Any:
    try:
        import skops.io  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return None
    return skops.io


def pack(model_or_path: Any) -> PackedModel:
    """The artifact for a model object, a file path or a folder path."""
    if isinstance(model_or_path, str | os.PathLike):
        path = Path(model_or_path).expanduser()
        if path.is_dir():
            return _pack_folder(path)
        if path.is_file():
            return PackedModel(path.read_bytes(), "file", path.name, "model.bin")
        raise NotFoundError(
            f"no file or folder at {str(path)!r} to register; give a path that exists or the "
            "model object itself",
            path=str(path),
        )
    skops_io = _skops()
    if skops_io is not None:
        try:
            return PackedModel(skops_io.dumps(model_or_path), "skops", "model.skops", "model.skops")
        except Exception:  # (skops cannot serialise every object; joblib can)
            pass
    # joblib (with scikit-learn) only when a model is packed or loaded this way
    import joblib  # type: ignore[import-untyped,unused-ignore]

    buffer = io.BytesIO()
    try:
        joblib.dump(model_or_path, buffer)
    except Exception as exc:
        raise SerializationError(
            f"cannot serialise the {type(model_or_path).__name__} given to register: {exc}; "
            "give a file or folder path instead"
        ) from exc
    return PackedModel(buffer.getvalue(), "joblib", "model.joblib", "model.joblib")


def _pack_folder(path: Path) -> PackedModel:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for item in sorted(path.rglob("*")):
            if item.is_symlink():
                raise InvalidInputError(
                    f"model folder {str(path)!r} holds a symbolic link {str(item)!r}; "
                    "copy the files it points to into the folder",
                    path=str(item),
                )
            archive.add(item, arcname=item.relative_to(path).as_posix(), recursive=False)
    fmt: SourceFormat = "mlflow" if (path / "MLmodel").is_file() else "directory"
    return PackedModel(buffer.getvalue(), fmt, path.name, "model.tar.gz")


def unpack(
    data: bytes,
    fmt: str,
    *,
    source_name: str,
    expected_sha256: str,
    trusted: Sequence[str] | None = None,
    dst: str | os.PathLike[str] | None = None,
) -> Any:
    """The model held by an artifact's bytes (see `vigil.models.load` for what each format gives)."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise SerializationError(
            f"the stored artifact's SHA-256 is {digest}, but the registry recorded "
            f"{expected_sha256}; it was changed outside the registry, refusing to load it"
        )
    if fmt == "skops":
        return _load_skops(data, trusted)
    if fmt == "joblib":
        return _load_joblib(data)
    if fmt == "file":
        lowered = source_name.lower()
        if lowered.endswith(".skops"):
            return _load_skops(data, trusted)
        if lowered.endswith(_JOBLIB_SUFFIXES):
            return _load_joblib(data)
        with _unpack_folder(dst) as folder:
            target = folder / (Path(source_name).name or "model.bin")
            target.write_bytes(data)
        return target
    if fmt in ("directory", "mlflow"):
        with _unpack_folder(dst) as folder:
            _extract(data, folder)
            if fmt == "directory":
                return folder
            try:
                import mlflow.pyfunc  # type: ignore[import-not-found,unused-ignore]
            except ImportError:
                raise InvalidInputError(
                    "this version is an MLflow model folder; install mlflow to load it "
                    "(pip install mlflow), or get its files with vigil.models.download(uri)"
                ) from None
            return mlflow.pyfunc.load_model(str(folder))
    raise SerializationError(f"unknown artifact format {fmt!r} in the registry")


def unpack_version(
    info: ModelVersionInfo,
    data: bytes,
    *,
    trusted: Sequence[str] | None = None,
    dst: str | os.PathLike[str] | None = None,
) -> Any:
    """The model object of a registered version from its artifact's bytes, checked against the
    version's recorded digest (what `Registry.load` and `RemoteRegistry.load` both return)."""
    return unpack(
        data,
        info.source_format,
        source_name=info.source_name,
        expected_sha256=info.source_sha256,
        trusted=trusted,
        dst=dst,
    )


def materialise(
    data: bytes,
    fmt: str,
    *,
    source_name: str,
    expected_sha256: str,
    dst: str | os.PathLike[str] | None = None,
) -> Path:
    """The artifact's files, without deserialising anything: the model file (`model.skops`,
    `model.joblib` or the registered file's name) or the unpacked folder, inside `dst`."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise SerializationError(
            f"the stored artifact's SHA-256 is {digest}, but the registry recorded "
            f"{expected_sha256}; it was changed outside the registry, refusing to use it"
        )
    with _unpack_folder(dst) as folder:
        if fmt in ("directory", "mlflow"):
            _extract(data, folder)
            return folder
        name = Path(source_name).name if fmt == "file" else _FILENAMES.get(fmt, "model.bin")
        target = folder / (name or "model.bin")
        target.write_bytes(data)
        return target


@contextmanager
def _unpack_folder(dst: str | os.PathLike[str] | None) -> Iterator[Path]:
    """`dst` (created if missing), or a new temporary folder that is removed again when the
    block fails (on success it is the caller's: its path is what they asked for)."""
    if dst is not None:
        folder = Path(dst).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="vigil-model-"))
    try:
        yield folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _extract(data: bytes, folder: Path) -> None:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            archive.extractall(folder, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise SerializationError(f"the version's tar.gz archive cannot be unpacked: {exc}") from exc


def _load_joblib(data: bytes) -> Any:
    # joblib (with scikit-learn) only when a joblib artifact is loaded
    import joblib  # type: ignore[import-untyped,unused-ignore]

    return joblib.load(io.BytesIO(data))


def _load_skops(data: bytes, trusted: Sequence[str] | None) -> Any:
    skops_io = _skops()
    if skops_io is None:
        raise InvalidInputError(
            "this version was serialised with skops; install it to load it (pip install skops)"
        )
    untrusted = [t for t in skops_io.get_untrusted_types(data=data) if t not in (trusted or ())]
    if untrusted:
        raise InvalidInputError(
            f"the model holds types skops does not trust by default: {untrusted}; if you trust "
            "whoever registered it, pass them as load(..., trusted=[...])",
            untrusted=untrusted,
        )
    return skops_io.loads(data, trusted=list(trusted) if trusted else None)


_FILENAMES: dict[str, str] = {
    "skops": "model.skops",
    "joblib": "model.joblib",
    "file": "model.bin",
    "directory": "model.tar.gz",
    "mlflow": "model.tar.gz",
}


def packed_from_upload(
    data: bytes, fmt: str, source_name: str, limits: ArchiveLimits = DEFAULT_LIMITS
) -> PackedModel:
    """An artifact received as bytes (through the server), its format and original name checked,
    and every member of an archive (a folder's tar.gz, a skops zip) checked under `limits`."""
    if fmt not in _FILENAMES:
        raise InvalidInputError(
            f"artifact format {fmt!r} is not one of {sorted(_FILENAMES)}", format=fmt
        )
    if not isinstance(source_name, str) or len(source_name) > 500 or "/" in source_name:
        raise InvalidInputError(
            f"source name {source_name!r} must be a file name (no '/', at most 500 characters)"
        )
    check_artifact(data, fmt, source_name, limits)
    return PackedModel(data, fmt, source_name, _FILENAMES[fmt])  # type: ignore[arg-type]
