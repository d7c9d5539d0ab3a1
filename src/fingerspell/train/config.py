"""Training configuration: typed dataclasses filled from defaults.yaml, a file and overrides.

Resolution order: `train/defaults.yaml` < `--config FILE` < `key=value` overrides. Every key
must exist in the defaults; an unknown one raises ConfigError naming the closest valid key.
Values are parsed (YAML scalars), never evaluated, and checked against the field's type and,
for choices, the allowed values.
"""
from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from fingerspell.errors import ConfigError

DEFAULTS_PATH = Path(__file__).with_name("defaults.yaml")


@dataclass
class AugmentConfig:
    """Augmentation probabilities (0 = off) and magnitudes. See defaults.yaml."""

    hflip: float = 0.0
    rotate: float = 0.0
    rotate_limit: float = 15.0
    shift_scale_rotate: float = 0.5
    shift_limit: float = 0.1
    scale_limit: float = 0.1
    motion_blur: float = 0.0
    blur_limit: int = 5
    random_resized_crop: float = 0.0
    crop_scale: float = 0.7
    brightness_contrast: float = 0.5
    brightness_limit: float = 0.2
    contrast_limit: float = 0.2
    gaussian_noise: float = 0.0
    noise_std: float = 0.05
    hue_saturation: float = 0.0
    coarse_dropout: float = 0.0


# Keys of AugmentConfig that are probabilities, with the short name used in run folder names.
AUGMENT_SHORT_NAMES = {
    "hflip": "flip",
    "rotate": "rot",
    "shift_scale_rotate": "ssr",
    "motion_blur": "blur",
    "random_resized_crop": "rrc",
    "brightness_contrast": "bc",
    "gaussian_noise": "noise",
    "hue_saturation": "hsv",
    "coarse_dropout": "drop",
}


@dataclass
class TrainConfig:
    """Everything a training run depends on besides the data and the model. See defaults.yaml."""

    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adamw"
    lr: float = 0.002
    weight_decay: float = 0.0001
    momentum: float = 0.9
    schedule: str = "onecycle"
    step_size: int = 3
    gamma: float = 0.1
    warmup_pct: float = 0.2
    label_smoothing: float = 0.0
    class_weights: str = "none"
    early_stopping: int = 0
    monitor: str = "val_acc"
    val_fraction: float = 0.1
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    threads: int = 0
    workers: int = 0
    cache: str = "auto"
    crop: str = "auto"
    crop_margin: float = 0.15
    max_train_samples: int = 0
    max_val_samples: int = 0
    progress: bool = True
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def augment_names(self) -> list[str]:
        """Short names of the augmentations switched on (probability > 0), in a fixed order."""
        return [short for key, short in AUGMENT_SHORT_NAMES.items() if getattr(self.augment, key) > 0]


CHOICES: dict[str, tuple[str, ...]] = {
    "optimizer": ("adam", "adamw", "sgd"),
    "schedule": ("none", "step", "cosine", "onecycle"),
    "class_weights": ("none", "balanced"),
    "monitor": ("val_acc", "val_loss"),
    "amp": ("auto", "true", "false"),
    "cache": ("auto", "true", "false"),
    "crop": ("auto", "box", "full"),
}


def _valid_keys() -> list[str]:
    keys = [f.name for f in fields(TrainConfig) if f.name != "augment"]
    keys += [f"augment.{f.name}" for f in fields(AugmentConfig)]
    return keys


# Names people bring from other tools, mapped to ours, so the suggestion is the right one.
ALIASES = {
    "learning_rate": "lr", "bs": "batch_size", "batch": "batch_size", "optim": "optimizer",
    "scheduler": "schedule", "lr_schedule": "schedule", "wd": "weight_decay", "patience": "early_stopping",
    "smoothing": "label_smoothing", "num_workers": "workers", "max_epochs": "epochs",
}


def _unknown(key: str, where: str) -> ConfigError:
    valid = _valid_keys()
    bare = {k.rsplit(".", 1)[-1]: k for k in valid}
    last = key.rsplit(".", 1)[-1]
    close = [ALIASES[last]] if last in ALIASES else difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if not close:  # compare without the `augment.` prefix: `hflip` meant `augment.hflip`
        close = [bare[m] for m in difflib.get_close_matches(last, list(bare), n=1, cutoff=0.6)]
    hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(valid)}"
    return ConfigError(f"{where}: unknown key {key!r}{hint}")


def _coerce(key: str, value: Any, kind: type, where: str) -> Any:
    """Turn a YAML scalar or command-line string into the field's type, or raise ConfigError."""
    if isinstance(value, str) and kind is not str:
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigError(f"{where}: {key}={value!r} is not a valid value") from None
    try:
        if kind is bool:
            if isinstance(value, bool):
                out: Any = value
            elif isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "on", "off", "1", "0"):
                out = value.lower() in ("true", "yes", "on", "1")
            elif isinstance(value, int) and value in (0, 1):
                out = bool(value)
            else:
                raise ValueError
        elif kind is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            out = int(value)
        elif kind is float:
            if isinstance(value, bool):
                raise ValueError
            out = float(value)
        else:
            if isinstance(value, bool):  # YAML reads `amp: true` as a bool; the field is a choice string
                value = "true" if value else "false"
            out = str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {key} must be {kind.__name__}, got {value!r}") from None
    choices = CHOICES.get(key)
    if choices and out not in choices:
        raise ConfigError(f"{where}: {key} must be one of {', '.join(choices)}, got {out!r}")
    return out


def _flatten(data: dict[str, Any], where: str, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if name != "augment":
                raise _unknown(name, where) if name not in _valid_keys() else ConfigError(f"{where}: {name} must be a value, not a mapping")
            out.update(_flatten(value, where, prefix=f"{name}."))
        else:
            out[name] = value
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of key: value")
    return data


def parse_overrides(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`["lr=0.01", "augment.hflip=0.5"]` -> dict. Raises ConfigError for an item without '='."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"command line: {item!r} is not key=value")
        out[key.strip()] = value.strip()
    return out


def apply(config: TrainConfig, values: dict[str, Any], where: str) -> TrainConfig:
    """Set dotted keys on a copy of `config`. Raises ConfigError for unknown keys or bad values."""
    config = dataclasses.replace(config, augment=dataclasses.replace(config.augment))
    valid = set(_valid_keys())
    types = {f.name: f.type for f in fields(TrainConfig)} | {f"augment.{f.name}": f.type for f in fields(AugmentConfig)}
    for key, value in _flatten(values, where).items():
        if key not in valid:
            raise _unknown(key, where)
        kind = {"int": int, "float": float, "str": str, "bool": bool}[types[key] if isinstance(types[key], str) else types[key].__name__]
        parsed = _coerce(key, value, kind, where)
        if key.startswith("augment."):
            setattr(config.augment, key.split(".", 1)[1], parsed)
        else:
            setattr(config, key, parsed)
    _check(config, where)
    return config


def _check(config: TrainConfig, where: str) -> None:
    positive = {"epochs": config.epochs, "batch_size": config.batch_size}
    for key, value in positive.items():
        if value < 1:
            raise ConfigError(f"{where}: {key} must be at least 1, got {value}")
    if not config.lr > 0:
        raise ConfigError(f"{where}: lr must be positive, got {config.lr}")
    if not 0 < config.val_fraction < 1:
        raise ConfigError(f"{where}: val_fraction must be between 0 and 1, got {config.val_fraction}")
    if not 0 <= config.label_smoothing < 1:
        raise ConfigError(f"{where}: label_smoothing must be in [0, 1), got {config.label_smoothing}")
    for key in AUGMENT_SHORT_NAMES:
        p = getattr(config.augment, key)
        if not 0 <= p <= 1:
            raise ConfigError(f"{where}: augment.{key} is a probability and must be in [0, 1], got {p}")


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | list[str] | None = None) -> TrainConfig:
    """Resolve defaults.yaml, then the file at `path`, then `overrides` (a dict, or a list of
    `key=value` strings). Raises ConfigError for unknown keys, bad values or an unreadable file."""
    config = apply(TrainConfig(), _read_yaml(DEFAULTS_PATH), str(DEFAULTS_PATH))
    if path is not None:
        config = apply(config, _read_yaml(Path(path)), str(path))
    if overrides:
        if isinstance(overrides, (list, tuple)):
            overrides = parse_overrides(overrides)
        config = apply(config, overrides, "command line")
    return config


# Keys that older runs saved and that are no longer settings: the tests' crash simulators are
# environment variables now (train/crash_hooks.py). A saved config drops them on reading.
RETIRED_KEYS = ("debug_kill_after_batches", "debug_inf_loss_at_batch")


def config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """Rebuild a saved config (config.json of a run). Raises ConfigError on unknown keys."""
    return apply(TrainConfig(), {k: v for k, v in data.items() if k not in RETIRED_KEYS}, "saved config")
