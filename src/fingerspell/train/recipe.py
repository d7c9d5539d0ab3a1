"""Recipe files: everything that makes a sampled landmark model, in one YAML file.

    fingerspell train --recipe recipes/default.yaml      # -> a run folder
    fingerspell export default --out DIR                  # -> a bundle

A recipe names the datasets it trains on (`data`, imported indexes with landmarks; each one is
a source that every epoch samples equally), the letters it learns (`labels`), the training
settings (`train`, the fields of `train.sampled_fit.Recipe`, with `augment` the landmark
augmentation) and what its bundle tells the predictor beyond the training detector
(`bundle`: test-time views for still images, the hand model for video tracking). The shipped
default model is `recipes/default.yaml`. Unknown keys and bad values raise ConfigError naming
the file and the key.
"""
from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fingerspell.errors import ConfigError, FingerspellError
from fingerspell.train.config import _read_yaml, parse_overrides
from fingerspell.train.landmark_inputs import LandmarkAugment
from fingerspell.train.sampled_fit import Recipe

TOP_KEYS = ("name", "model", "labels", "data", "train", "bundle")
BUNDLE_KEYS = ("test_time_views", "tracking_model_complexity")


@dataclass(frozen=True)
class RecipeFile:
    """A parsed recipe file: its name, data list, labels, training recipe and bundle extras."""

    name: str
    data: tuple[str, ...]
    labels: tuple[str, ...]
    train: Recipe
    bundle: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, as config.json records it (and `from_dict` reads it back)."""
        return {"name": self.name, "model": self.train.model, "labels": list(self.labels), "data": list(self.data),
                "train": {k: v for k, v in self.train.to_dict().items() if k != "model"},
                "bundle": dict(self.bundle), "path": self.path}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "saved recipe") -> "RecipeFile":
        """Parse a recipe mapping (a file's content or a saved one). Raises ConfigError."""
        return parse_recipe(data, where)


def _unknown(key: str, valid: list[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key.rsplit(".", 1)[-1], [v.rsplit(".", 1)[-1] for v in valid], n=1, cutoff=0.6)
    match = next((v for v in valid if close and v.rsplit(".", 1)[-1] == close[0]), None)
    hint = f"; did you mean {match!r}?" if match else f"; valid keys: {', '.join(valid)}"
    return ConfigError(f"{where}: unknown key {key!r}{hint}")


def _coerce(key: str, value: Any, default: Any, where: str) -> Any:
    """`value` as the type of the field's default (int, float or str), or ConfigError."""
    kind = type(default)
    if isinstance(value, str) and kind is not str:
        import yaml

        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigError(f"{where}: {key}={value!r} is not a valid value") from None
    if isinstance(value, bool) or (kind is int and isinstance(value, float) and not value.is_integer()):
        raise ConfigError(f"{where}: {key} must be {kind.__name__}, got {value!r}")
    try:
        out = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {key} must be {kind.__name__}, got {value!r}") from None
    if kind in (int, float) and out < 0:
        raise ConfigError(f"{where}: {key} must not be negative, got {value!r}")
    return out


def _train_recipe(values: Any, model: Any, where: str) -> Recipe:
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: train must be a mapping of key: value")
    base = Recipe()
    names = [f.name for f in dataclasses.fields(Recipe) if f.name not in ("model", "augment")]
    aug_names = [f.name for f in dataclasses.fields(LandmarkAugment)]
    valid = [f"train.{n}" for n in names] + [f"train.augment.{n}" for n in aug_names]
    settings: dict[str, Any] = {}
    augment: dict[str, Any] = {}
    for key, value in values.items():
        if key == "augment":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: train.augment must be a mapping of key: value")
            for aug_key, aug_value in value.items():
                if aug_key not in aug_names:
                    raise _unknown(f"train.augment.{aug_key}", valid, where)
                augment[aug_key] = _coerce(f"train.augment.{aug_key}", aug_value, getattr(LandmarkAugment(), aug_key), where)
        elif key in names:
            settings[key] = _coerce(f"train.{key}", value, getattr(base, key), where)
        else:
            raise _unknown(f"train.{key}", valid, where)
    for key in ("epochs", "batch_size"):
        if key in settings and settings[key] < 1:
            raise ConfigError(f"{where}: train.{key} must be at least 1, got {settings[key]}")
    for key in ("probability", "finger_dropout", "mirror"):
        if augment.get(key, 0) > 1:
            raise ConfigError(f"{where}: train.augment.{key} is a probability and must be in [0, 1], got {augment[key]}")
    if settings.get("label_smoothing", 0) >= 1:
        raise ConfigError(f"{where}: train.label_smoothing must be in [0, 1), got {settings['label_smoothing']}")
    if not isinstance(model, str) or not model:
        raise ConfigError(f"{where}: model must be a registered model name (see `fingerspell models`)")
    return Recipe(model=model, augment=LandmarkAugment(**augment), **settings)


def _names(value: Any, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: {key} must be a non-empty list of names, got {value!r}")
    if len(set(value)) != len(value):
        raise ConfigError(f"{where}: {key} names one entry twice")
    return tuple(v.strip() for v in value)


def parse_recipe(data: dict[str, Any], where: str) -> RecipeFile:
    """A RecipeFile from a recipe mapping. Raises ConfigError naming `where` and the key."""
    for key in data:
        if key not in TOP_KEYS + ("path",):
            raise _unknown(str(key), list(TOP_KEYS), where)
    for key in ("name", "model", "labels", "data"):
        if key not in data:
            raise ConfigError(f"{where}: missing key {key!r} (a recipe needs {', '.join(TOP_KEYS[:4])})")
    name = data["name"]
    if not isinstance(name, str):
        raise ConfigError(f"{where}: name must be text, got {name!r}")
    from fingerspell.data.names import dataset_name

    try:
        dataset_name(name)  # the run folder and the bundle are named after it
    except FingerspellError as exc:
        raise ConfigError(f"{where}: name {name!r} cannot name a run folder ({exc})") from None
    bundle = data.get("bundle") or {}
    if not isinstance(bundle, dict):
        raise ConfigError(f"{where}: bundle must be a mapping of key: value")
    for key in bundle:
        if key not in BUNDLE_KEYS:
            raise _unknown(f"bundle.{key}", [f"bundle.{k}" for k in BUNDLE_KEYS], where)
    if "test_time_views" in bundle:
        from fingerspell.hands.attempts import parse_attempt

        views = list(_names(bundle["test_time_views"], "bundle.test_time_views", where))
        for view in views:
            try:
                parse_attempt(view)  # the predictor runs each as a detector attempt
            except FingerspellError as exc:
                raise ConfigError(f"{where}: bundle.test_time_views: {view!r} is not a detector attempt ({exc})") from None
        bundle = {**bundle, "test_time_views": views}
    if "tracking_model_complexity" in bundle and bundle["tracking_model_complexity"] not in (0, 1):
        raise ConfigError(f"{where}: bundle.tracking_model_complexity must be 0 or 1")
    datasets = _names(data["data"], "data", where)
    for entry in datasets:
        try:
            dataset_name(entry)  # an index under FINGERSPELL_HOME/datasets, never a path
        except FingerspellError as exc:
            raise ConfigError(f"{where}: data: {exc}") from None
    return RecipeFile(name=name, data=datasets, labels=_names(data["labels"], "labels", where),
                      train=_train_recipe(data.get("train") or {}, data["model"], where), bundle=bundle,
                      path=str(data.get("path", "")))


def load_recipe(path: str | Path, overrides: dict[str, Any] | list[str] | None = None) -> RecipeFile:
    """Read a recipe file, then `overrides` (dotted keys under `train`, e.g. `epochs=5` or
    `augment.mirror=0.1`; `seed=1`). Raises ConfigError (unreadable file, unknown key, bad value)."""
    path = Path(path)
    data = _read_yaml(path)
    if overrides:
        items = parse_overrides(overrides) if isinstance(overrides, (list, tuple)) else dict(overrides)
        train = dict(data.get("train") or {})
        for key, value in items.items():
            parts = key.removeprefix("train.").split(".")
            if len(parts) == 2 and parts[0] == "augment":
                train["augment"] = {**(train.get("augment") or {}), parts[1]: value}
            elif len(parts) == 1:
                train[parts[0]] = value
            else:
                raise ConfigError(f"command line: unknown key {key!r} (recipe overrides are train keys, e.g. epochs=5)")
        data = {**data, "train": train}
    return parse_recipe({**data, "path": str(path)}, str(path))
