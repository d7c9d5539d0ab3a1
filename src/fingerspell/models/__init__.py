"""Model architectures and their registry (`create_model`, `list_models`, `get_model_spec`).

Importing this package is cheap: the architectures (and torch) load on first registry use.
"""
from fingerspell.models.registry import ModelSpec, create_model, get_model_spec, list_models, register_model

__all__ = ["ModelSpec", "create_model", "get_model_spec", "list_models", "register_model"]
