"""The model registry: registered models, numbered versions, aliases, an append-only event log and
promotion gates. The user's side of it (`vigil.models`) is `vigil.client.registry.api`."""

from vigil.errors import PromotionRefusedError
from vigil.registry.gates import GateOutcome, Gates
from vigil.registry.service import Registry
from vigil.registry.types import ModelVersionInfo, RegisteredModelInfo, RegistryEventInfo

__all__ = [
    "GateOutcome",
    "Gates",
    "ModelVersionInfo",
    "PromotionRefusedError",
    "RegisteredModelInfo",
    "Registry",
    "RegistryEventInfo",
]
