"""Model architectures and their registry (`create_model`, `list_models`, `get_model_spec`).

Importing this package is cheap: the architectures (and torch) load on first registry use.
"""
from __future__ import annotations

from typing import Any

from fingerspell.models import registry as _registry
from fingerspell.models.registry import ModelSpec, register_model

__all__ = ["ModelSpec", "create_model", "get_model_spec", "list_models", "register_model"]


def _load_architectures() -> None:
    """Import the architecture modules; importing one registers its models (in this order,
    which is the listing order). Named here, not as strings, so a renamed module fails loudly."""
    # One statement each: the order of the imports is the order models are listed in.
    from fingerspell.models import cnn  # noqa: F401  isort: skip
    from fingerspell.models import mobilenet  # noqa: F401  isort: skip
    from fingerspell.models import landmark  # noqa: F401  isort: skip


def list_models() -> list[str]:
    """Names of all registered models, in registration order."""
    _load_architectures()
    return _registry.list_models()


def get_model_spec(name: str) -> ModelSpec:
    """The spec of model `name`. Raises UnknownModelError listing the known names."""
    _load_architectures()
    return _registry.get_model_spec(name)


def create_model(name: str, num_classes: int, **kwargs: Any) -> Any:
    """Build model `name` with `num_classes` outputs. Raises UnknownModelError (and ValueError
    for num_classes < 1)."""
    _load_architectures()
    return _registry.create_model(name, num_classes, **kwargs)
