"""The only way a server process loads a registered model: skops, with an explicit allow-list.

There is no pickle path here. joblib, pickle, cloudpickle and MLflow pyfunc artifacts run code
chosen by whoever registered them when they are loaded, so a server never loads them: this
module does not import a loader for them, and refuses their formats with `ModelNotLoadableError`
(a 422 naming the format and pointing to `vigil.explain` in the user's own process, where
`vigil.models.load` reads every format for whoever trusts its registrants).

A skops artifact is checked before anything is built from it: it is a zip whose members passed
`check_zip` at registration, and is checked again here under the same limits; then

1. every object its schema names must come from scikit-learn, NumPy or a plain Python container
   or scalar (`ALLOWED_MODULES`, `ALLOWED_BUILTINS`), and
2. every type skops itself does not trust (`skops.io.get_untrusted_types`) must be one of
   `SERVER_TRUSTED_TYPES` (scikit-learn's tree structures, rebuilt from arrays);

only then is it loaded, trusting exactly those types.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

from vigil.errors import SerializationError, UnsupportedFormatError, VigilError
from vigil.registry.archives import DEFAULT_LIMITS, ArchiveLimits, check_zip, is_skops_name

SERVER_TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    }
)
"""Types skops lists as untrusted that a server still loads: scikit-learn's tree structures
(compiled code rebuilt from their arrays of nodes and values, no callable involved)."""

ALLOWED_MODULES = ("sklearn", "numpy")
"""Objects in a skops file must come from these packages (or be plain builtins)."""

ALLOWED_BUILTINS = frozenset(
    {
        "dict",
        "list",
        "tuple",
        "set",
        "frozenset",
        "str",
        "bytes",
        "int",
        "float",
        "complex",
        "bool",
        "NoneType",
        "slice",
    }
)

HINT = (
    "explain in your own process instead: vigil.explain('models:/NAME/VERSION', rows) in "
    "Python, or `vigil explain` on the command line (they load the model where you trust it)"
)


class ModelNotLoadableError(UnsupportedFormatError):
    """A registered model the server will not load (its format could run code, or it holds
    types outside the allow-list)."""

    code = "model_not_loadable_on_server"


def _walk(node: Any) -> Iterator[tuple[str, str]]:
    """(module, class) of every object a skops schema describes (iteratively: no recursion
    limit for a deep hostile schema)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            module, cls = item.get("__module__"), item.get("__class__")
            if module is not None or cls is not None:
                yield str(module), str(cls)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _check_schema(data: bytes, uri: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (KeyError, ValueError, zipfile.BadZipFile, OSError) as exc:
        raise ModelNotLoadableError(
            f"{uri} is not a valid skops file ({exc}); {HINT}", model=uri
        ) from exc
    refused = sorted(
        {
            f"{module}.{cls}"
            for module, cls in _walk(schema)
            if not (
                any(module == m or module.startswith(m + ".") for m in ALLOWED_MODULES)
                or (module == "builtins" and cls in ALLOWED_BUILTINS)
            )
        }
    )
    if refused:
        raise ModelNotLoadableError(
            f"{uri} holds objects the server does not load: {refused[:10]}; only scikit-learn "
            f"and NumPy objects are loaded server-side; {HINT}",
            model=uri,
            refused=refused[:10],
        )


def check_loadable(fmt: str, source_name: str, uri: str) -> None:
    """ModelNotLoadableError unless an artifact of format `fmt` is a skops file (the check
    `load_safe` starts with, so a caller can refuse before reading the artifact)."""
    if not (fmt == "skops" or (fmt == "file" and is_skops_name(source_name))):
        raise ModelNotLoadableError(
            f"{uri} is stored as {fmt!r} ({source_name!r}); a server only loads skops models "
            f"(loading {fmt} can run code chosen by whoever registered it); {HINT}",
            model=uri,
            format=fmt,
        )


def load_safe(
    data: bytes,
    fmt: str,
    *,
    source_name: str,
    expected_sha256: str,
    uri: str,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> Any:
    """The model in a registry artifact, if it is a skops file of allowed types; else
    ModelNotLoadableError (joblib, pickle, MLflow and other folders, plain files)."""
    check_loadable(fmt, source_name, uri)
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise SerializationError(
            f"the stored artifact of {uri} has SHA-256 {digest}, but the registry recorded "
            f"{expected_sha256}; it was changed outside the registry, refusing to load it",
            model=uri,
        )
    try:
        import skops.io as skops_io  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise ModelNotLoadableError(
            f"{uri} is a skops model, and skops is not installed on the server; {HINT}",
            model=uri,
        ) from None
    try:
        check_zip(data, limits)
    except VigilError as exc:
        raise ModelNotLoadableError(
            f"{uri} is not a skops file the server can open: {exc.message}; {HINT}", model=uri
        ) from exc
    _check_schema(data, uri)
    try:
        untrusted = set(skops_io.get_untrusted_types(data=data))
        refused = sorted(untrusted - SERVER_TRUSTED_TYPES)
        if refused:
            raise ModelNotLoadableError(
                f"{uri} holds types the server does not trust: {refused[:10]}; {HINT}",
                model=uri,
                untrusted=refused[:10],
            )
        return skops_io.loads(data, trusted=sorted(untrusted))
    except ModelNotLoadableError:
        raise
    except Exception as exc:  # (a hostile file can fail anywhere inside skops)
        raise ModelNotLoadableError(
            f"{uri} could not be loaded as a skops model ({type(exc).__name__}: {exc}); {HINT}",
            model=uri,
        ) from exc
