"""The model registry: architectures by name, in the timm habit.

A model module decorates a factory `(num_classes, **kwargs) -> nn.Module` with
`@register_model(...)`; `create_model(name, num_classes)` builds one and an unknown name
raises `UnknownModelError` listing the known ones. The spec says what a model eats
(`input_kind`, `input_size`, `channels`, normalisation), so training, evaluation and export
build inputs from the spec rather than from per-model special cases.

Use it through `fingerspell.models` (the package), whose `create_model`, `get_model_spec` and
`list_models` first import the architecture modules (lazily: torch is heavy and `import
fingerspell` must stay cheap). This module imports none of them, so the modules that register
themselves here form no import cycle with it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from fingerspell.errors import UnknownModelError

INPUT_KINDS = ("image", "landmarks", "fused")


@dataclass(frozen=True)
class ModelSpec:
    """What a registered model is and what input it expects.

    `input_size` is (height, width) for image models and the feature count for landmark
    models. `mean`/`std` are per-channel normalisation applied to 0-1 pixel values.
    """

    name: str
    input_kind: str
    input_size: tuple[int, ...]
    channels: int
    description: str
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    factory: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one input sample, without the batch dimension."""
        if self.input_kind == "image":
            return (self.channels, *self.input_size)
        return tuple(self.input_size)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("factory", None)
        data["input_size"] = list(self.input_size)
        data["mean"], data["std"] = list(self.mean), list(self.std)
        return data


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(
    name: str,
    *,
    input_kind: str = "image",
    input_size: int | tuple[int, ...] = (224, 224),
    channels: int = 3,
    description: str = "",
    mean: tuple[float, ...] | None = None,
    std: tuple[float, ...] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering a factory `(num_classes, **kwargs) -> torch.nn.Module`.

    Raises ValueError for an unknown input kind or a name registered twice by another factory
    (programming errors, not user input).
    """
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"model {name!r}: input_kind must be one of {INPUT_KINDS}, not {input_kind!r}")
    if isinstance(input_size, int):
        size: tuple[int, ...] = (input_size, input_size) if input_kind == "image" else (input_size,)
    else:
        size = tuple(int(s) for s in input_size)
    if input_kind == "image":
        mean = tuple(mean) if mean is not None else (0.5,) * channels
        std = tuple(std) if std is not None else (0.5,) * channels

    def decorate(factory: Callable[..., Any]) -> Callable[..., Any]:
        known = _REGISTRY.get(name)
        if known is not None and known.factory.__qualname__ != factory.__qualname__:
            raise ValueError(f"model name {name!r} registered twice")
        doc_lines = (factory.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = ModelSpec(
            name=name, input_kind=input_kind, input_size=size, channels=channels,
            description=description or (doc_lines[0] if doc_lines else ""),
            mean=tuple(mean or ()), std=tuple(std or ()), factory=factory,
        )
        return factory

    return decorate


def list_models() -> list[str]:
    """Names of all registered models, in registration order."""
    return list(_REGISTRY)


def get_model_spec(name: str) -> ModelSpec:
    """The spec of model `name`. Raises UnknownModelError listing the known names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UnknownModelError(f"unknown model {name!r}{hint}; known models: {', '.join(_REGISTRY)}") from None


def create_model(name: str, num_classes: int, **kwargs: Any) -> Any:
    """Build model `name` with `num_classes` outputs. Raises UnknownModelError."""
    spec = get_model_spec(name)
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}")
    return spec.factory(num_classes, **kwargs)
