"""The model registry: registered models, numbered versions, aliases, an append-only event log and
promotion gates. `vigil.models` is `vigil.registry.api`."""

from vigil.registry import api as models
from vigil.registry.gates import GateOutcome, Gates
from vigil.registry.service import Registry
from vigil.registry.types import (
    ModelVersionInfo,
    PromotionRefusedError,
    RegisteredModelInfo,
    RegistryEventInfo,
)

__all__ = [
    "GateOutcome",
    "Gates",
    "ModelVersionInfo",
    "PromotionRefusedError",
    "RegisteredModelInfo",
    "Registry",
    "RegistryEventInfo",
    "RemoteRegistry",
    "models",
]
