"""A model bundle: `model.onnx` (one file, no external data) + `bundle.json` (the manifest).

The manifest says everything a predictor needs to turn a picture into a letter without the
training code: the labels in output order, what the model eats (landmark features of a named
recipe, or an image of a given size, channels, crop and normalisation), how to run the hand
detector, and the numbers measured when the bundle was made. See docs/ARCHITECTURE.md section 5.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fingerspell.atomic import write_json
from fingerspell.errors import BundleError
from fingerspell.export.spelling_params import SpellingParams, check_calibration
from fingerspell.export.still_params import StillParams

MANIFEST_NAME = "bundle.json"
MODEL_NAME = "model.onnx"
INPUT_KINDS = ("landmarks", "image")
CROPS = ("hand", "center")


@dataclass(frozen=True)
class InputSpec:
    """What the ONNX model takes: landmark features or a normalised image tensor."""

    kind: str  # "landmarks" | "image"
    shape: list[int]  # e.g. [1, 84] or [1, 3, 224, 224]; the first axis is the batch
    names: list[str] = field(default_factory=lambda: ["input"])
    features: str | None = None  # landmark bundles: the FEATURES_VERSION of the recipe
    size: list[int] | None = None  # image bundles: [H, W]
    channels: int | None = None  # image bundles: 1 (grey) or 3 (RGB)
    crop: str | None = None  # image bundles: "hand" (around the detected hand) | "center"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class HandSettings:
    """How to run the hand detector in front of the model (`fingerspell.hands.HandDetector`)."""

    model_complexity: int = 0
    min_detection_confidence: float = 0.5
    robust: bool = True
    # Optional: another hand model for video / camera tracking (0 is about twice as fast per
    # frame as 1); None = the same as model_complexity.
    tracking_model_complexity: int | None = None
    # Still images: passes through the tracking graph that refit a found hand, and whether grey
    # photos are tinted before detection (`HandDetector`). Bundles written before these
    # existed were trained on landmarks without them, hence the defaults.
    refine_steps: int = 0
    tint_grey: bool = False
    # Still images: a hand small in the frame is looked for again in a crop this many times its
    # box (0 = off, as for bundles written before it existed).
    zoom: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.tracking_model_complexity is None:
            data.pop("tracking_model_complexity")
        return data


@dataclass
class Bundle:
    """A loaded, validated bundle folder. Build one with `Bundle.load(path)`."""

    path: Path
    name: str
    version: str
    labels: list[str]
    input: InputSpec
    hands: HandSettings
    created: str = ""
    normalisation: dict[str, list[float]] | None = None
    benchmarks: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # any other manifest keys, kept as-is

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_NAME

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST_NAME

    @property
    def spelling(self) -> SpellingParams:
        """The spelling rules' parameters ("spelling"; defaults where absent)."""
        return SpellingParams.from_dict(self.extra.get("spelling"), str(self.manifest_path))

    @property
    def temperature(self) -> float:
        """The calibration temperature: probabilities are softmax(logits / T) (1 where absent)."""
        return check_calibration(self.extra.get("calibration"), str(self.manifest_path))

    @property
    def still(self) -> StillParams:
        """Still-image settings ("still": cascade bar, temperatures, default threshold)."""
        return StillParams.from_dict(self.extra.get("still"), str(self.manifest_path), self.temperature)

    def manifest(self) -> dict[str, Any]:
        """The manifest as written to bundle.json."""
        data: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "created": self.created,
            "labels": list(self.labels),
            "input": self.input.to_dict(),
            "hands": self.hands.to_dict(),
        }
        if self.normalisation is not None:
            data["normalisation"] = self.normalisation
        data["benchmarks"] = self.benchmarks
        data.update(self.extra)
        return data

    def save_manifest(self) -> Path:
        """Write bundle.json atomically."""
        return write_json(self.manifest_path, self.manifest())

    @classmethod
    def load(cls, path: str | Path) -> "Bundle":
        """Read and validate a bundle folder (or its bundle.json / model.onnx).

        Raises BundleError naming the file and the problem: missing folder, missing or
        unparsable bundle.json, missing model.onnx, a model with external data, missing or
        wrongly typed keys, labels that do not match the shape, an unknown input kind, a
        malformed "spelling" or "calibration" object.
        """
        path = Path(path).expanduser()
        if path.is_file() and path.name in (MANIFEST_NAME, MODEL_NAME):
            path = path.parent
        if not path.exists():
            raise BundleError(f"{path}: no such model bundle (a folder with model.onnx and bundle.json)")
        if not path.is_dir():
            raise BundleError(f"{path}: not a bundle folder (expected a folder with model.onnx and bundle.json)")
        manifest_path = path / MANIFEST_NAME
        if not manifest_path.is_file():
            raise BundleError(f"{manifest_path}: bundle manifest is missing")
        model_path = path / MODEL_NAME
        if not model_path.is_file():
            raise BundleError(f"{model_path}: bundle model is missing")
        if model_path.stat().st_size == 0:
            raise BundleError(f"{model_path}: bundle model is empty")
        # A model written with external weights would silently need a second file.
        leftovers = sorted(p.name for p in path.glob(f"{MODEL_NAME}.data"))
        if leftovers:
            raise BundleError(f"{path}: model has external data ({leftovers[0]}); bundles must be one file")
        try:
            data = json.loads(manifest_path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise BundleError(f"{manifest_path}: not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise BundleError(f"{manifest_path}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
        return cls.from_manifest(path, data)

    @classmethod
    def from_manifest(cls, path: Path, data: Any) -> "Bundle":
        """Validate a parsed manifest. Raises BundleError naming bundle.json and the key."""
        where = path / MANIFEST_NAME
        if not isinstance(data, dict):
            raise BundleError(f"{where}: manifest must be a JSON object")

        def need(obj: dict, key: str, kind: type | tuple[type, ...], ctx: str = "") -> Any:
            if key not in obj:
                raise BundleError(f"{where}: missing key '{ctx}{key}'")
            value = obj[key]
            if not isinstance(value, kind) or isinstance(value, bool) and bool not in _as_tuple(kind):
                raise BundleError(f"{where}: '{ctx}{key}' has the wrong type ({type(value).__name__})")
            return value

        labels = need(data, "labels", list)
        if not labels or not all(isinstance(x, str) and x for x in labels):
            raise BundleError(f"{where}: 'labels' must be a non-empty list of names")
        if len(set(labels)) != len(labels):
            raise BundleError(f"{where}: 'labels' has duplicates")
        raw_input = need(data, "input", dict)
        kind = need(raw_input, "kind", str, "input.")
        if kind not in INPUT_KINDS:
            raise BundleError(f"{where}: 'input.kind' is '{kind}', expected one of {', '.join(INPUT_KINDS)}")
        shape = need(raw_input, "shape", list, "input.")
        if not shape or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in shape):
            raise BundleError(f"{where}: 'input.shape' must be a list of positive integers")
        names = raw_input.get("names", ["input"])
        if not isinstance(names, list) or not names or not all(isinstance(x, str) for x in names):
            raise BundleError(f"{where}: 'input.names' must be a list of input names")
        normalisation = data.get("normalisation")
        if kind == "landmarks":
            features = need(raw_input, "features", str, "input.")
            if len(shape) != 2:
                raise BundleError(f"{where}: landmark bundles need 'input.shape' [1, F], got {shape}")
            spec = InputSpec(kind=kind, shape=shape, names=names, features=features)
        else:
            size = need(raw_input, "size", list, "input.")
            if len(size) != 2 or not all(isinstance(x, int) and x > 0 for x in size):
                raise BundleError(f"{where}: 'input.size' must be [H, W]")
            channels = need(raw_input, "channels", int, "input.")
            if channels not in (1, 3):
                raise BundleError(f"{where}: 'input.channels' must be 1 or 3, got {channels}")
            crop = raw_input.get("crop", "hand")
            if crop not in CROPS:
                raise BundleError(f"{where}: 'input.crop' is '{crop}', expected one of {', '.join(CROPS)}")
            if len(shape) != 4 or shape[1] != channels or shape[2:] != size:
                raise BundleError(f"{where}: 'input.shape' {shape} does not match channels {channels} and size {size}")
            spec = InputSpec(kind=kind, shape=shape, names=names, size=size, channels=channels, crop=crop)
            if normalisation is None:
                raise BundleError(f"{where}: image bundles need 'normalisation' (mean and std)")
        if normalisation is not None:
            if not isinstance(normalisation, dict):
                raise BundleError(f"{where}: 'normalisation' must be an object with mean and std")
            for key in ("mean", "std"):
                values = normalisation.get(key)
                if not isinstance(values, list) or not values or not all(isinstance(v, (int, float)) for v in values):
                    raise BundleError(f"{where}: 'normalisation.{key}' must be a list of numbers")
                if key == "std" and any(v == 0 for v in values):
                    raise BundleError(f"{where}: 'normalisation.std' has a zero")
        raw_hands = data.get("hands", {})
        if not isinstance(raw_hands, dict):
            raise BundleError(f"{where}: 'hands' must be an object")
        try:
            hands = HandSettings(
                model_complexity=int(raw_hands.get("model_complexity", 0)),
                min_detection_confidence=float(raw_hands.get("min_detection_confidence", 0.5)),
                robust=bool(raw_hands.get("robust", True)),
                tracking_model_complexity=(None if raw_hands.get("tracking_model_complexity") is None
                                           else int(raw_hands["tracking_model_complexity"])),
                refine_steps=int(raw_hands.get("refine_steps", 0)),
                tint_grey=bool(raw_hands.get("tint_grey", False)),
                zoom=float(raw_hands.get("zoom", 0.0)),
            )
        except (TypeError, ValueError):
            raise BundleError(f"{where}: 'hands' settings must be numbers / booleans") from None
        if not 0 <= hands.refine_steps <= 5:
            raise BundleError(f"{where}: 'hands.refine_steps' must be 0-5")
        if not (hands.zoom == 0 or 1.5 <= hands.zoom <= 10):
            raise BundleError(f"{where}: 'hands.zoom' must be 0 (off) or 1.5-10")
        if hands.model_complexity not in (0, 1):
            raise BundleError(f"{where}: 'hands.model_complexity' must be 0 or 1")
        if hands.tracking_model_complexity not in (None, 0, 1):
            raise BundleError(f"{where}: 'hands.tracking_model_complexity' must be 0 or 1")
        benchmarks = data.get("benchmarks", {})
        if not isinstance(benchmarks, dict):
            raise BundleError(f"{where}: 'benchmarks' must be an object")
        # Optional keys of the spelling rules and the calibration: checked here so a malformed
        # one fails at load, not mid-stream (absent = defaults / T = 1).
        SpellingParams.from_dict(data.get("spelling"), str(where))
        check_calibration(data.get("calibration"), str(where))
        known = {"name", "version", "created", "labels", "input", "hands", "normalisation", "benchmarks"}
        return cls(
            path=path,
            name=str(data.get("name", path.name)),
            version=str(data.get("version", "1")),
            created=str(data.get("created", "")),
            labels=list(labels),
            input=spec,
            hands=hands,
            normalisation=normalisation,
            benchmarks=benchmarks,
            extra={k: v for k, v in data.items() if k not in known},
        )


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def check_model_matches(bundle: Bundle, session: Any) -> None:
    """Check an onnxruntime session against the manifest (input rank and width, output size).

    Raises BundleError naming model.onnx when they disagree.
    """
    inputs = session.get_inputs()
    outputs = session.get_outputs()
    if not inputs or not outputs:
        raise BundleError(f"{bundle.model_path}: model has no inputs or outputs")
    shape = inputs[0].shape
    if len(shape) != len(bundle.input.shape):
        raise BundleError(
            f"{bundle.model_path}: model input has rank {len(shape)}, manifest says shape {bundle.input.shape}"
        )
    for got, want in zip(shape[1:], bundle.input.shape[1:]):
        if isinstance(got, int) and got != want:
            raise BundleError(f"{bundle.model_path}: model input shape {shape} does not match manifest {bundle.input.shape}")
    out_shape = outputs[0].shape
    if out_shape and isinstance(out_shape[-1], int) and out_shape[-1] != len(bundle.labels):
        raise BundleError(
            f"{bundle.model_path}: model gives {out_shape[-1]} outputs but the manifest has {len(bundle.labels)} labels"
        )
