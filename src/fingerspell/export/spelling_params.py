"""The spelling rules' parameters and the probability calibration, as kept in bundle.json.

Two optional manifest keys (a bundle without them loads with the defaults below):

- "spelling": the parameters of the rules that turn a stream of per-frame probabilities and
  landmarks into text (`fingerspell.infer.spelling.Spelling`, and the same rules in the browser:
  `web/static/js/spelling.js`). Times are in seconds and distances in palm sizes (wrist to the
  middle finger's knuckle), so the rules behave the same at 15 fps in a browser and at a video
  file's 30 fps. "motion" holds the J/Z motion model (a logistic regression over the fingertip
  trajectory, `fingerspell.infer.motion`); without it J and Z are never committed.
- "calibration": {"temperature": T, ...}: the model's probabilities are softmax(logits / T),
  T fitted on held-out signers (missing = 1).

The defaults are the ones tuned by `bench/bench_spelling.py --tune`; spelling.js carries the
same numbers (tests/infer/test_spelling_parity.py checks that both agree).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from fingerspell.errors import BundleError

# One documented default a line; the browser's spelling.js has the same table.
DEFAULTS: dict[str, Any] = {
    "threshold": 0.5,        # calibrated probability below which a letter is withheld (never committed)
    "tau": 0.08,             # s: time constant of the moving average of the probabilities
    "min_hold": 0.1,        # s: a letter must lead, with the hand steady, this long before it commits
    "switch_hold": 0.6,      # s: ... this long to replace the held letter when the hand has not moved
    "speed_lag": 0.1,        # s: hand speed = landmark displacement over this lag
    "still_speed": 1.8,      # palm sizes / s: below it the hand is steady (a hold)
    "move_speed": 2.0,       # palm sizes / s: above it the hand is changing letter (or bouncing)
    "change_distance": 0.12, # palm sizes: a hand shape this different from the held letter's is a new letter
    "bounce_distance": 0.35, # palm sizes the hand moves within bounce_time for a double letter
    "bounce_time": 0.4,      # s: ... (slower drift is no bounce)
    "slide_distance": 1.0,   # palm sizes the hand slides (not back) within bounce_time: also a double
    "depth_change": 0.1,     # fraction the palm size may change by in a double (more: the hand moved to a new place)
    "release": 0.3,          # s without a hand: the hold ends (the same letter then commits again)
    "space_after": 0.5,      # s without a hand: the word ends (a space before the next letter)
    "motion_letters": ["J", "Z"],  # letters signed as movements: committed only by the motion model
    "motion_window": 1.0,    # s of fingertip trajectory the motion model looks at
    "motion_threshold": 0.8,  # motion model probability that commits J / Z
    "motion_refractory": 1.3,  # s after a J / Z before the next one can commit
    "motion_min_path": 0.8,  # palm sizes the fingertip must travel in the window
    "motion_gate": 0.3,      # probability the letter's hand shapes must reach at some frame of the window
    "motion_shapes": {"J": ["I", "J"], "Z": ["Z"]},  # the hand shapes each motion letter is drawn with
    "ignore": ["nothing"],   # classes treated as no hand
}
NUMBER_KEYS = ("threshold", "tau", "min_hold", "switch_hold", "speed_lag", "still_speed", "move_speed", "change_distance",
               "bounce_distance", "bounce_time", "slide_distance", "depth_change", "release", "space_after", "motion_window",
               "motion_threshold", "motion_refractory", "motion_min_path", "motion_gate")
MOTION_KEYS = ("classes", "points", "tips", "mean", "std", "weights", "bias")


@dataclass
class SpellingParams:
    """The spelling rules' parameters (see DEFAULTS for what each means)."""

    threshold: float = DEFAULTS["threshold"]
    tau: float = DEFAULTS["tau"]
    min_hold: float = DEFAULTS["min_hold"]
    switch_hold: float = DEFAULTS["switch_hold"]
    speed_lag: float = DEFAULTS["speed_lag"]
    still_speed: float = DEFAULTS["still_speed"]
    move_speed: float = DEFAULTS["move_speed"]
    change_distance: float = DEFAULTS["change_distance"]
    bounce_distance: float = DEFAULTS["bounce_distance"]
    bounce_time: float = DEFAULTS["bounce_time"]
    slide_distance: float = DEFAULTS["slide_distance"]
    depth_change: float = DEFAULTS["depth_change"]
    release: float = DEFAULTS["release"]
    space_after: float = DEFAULTS["space_after"]
    motion_letters: list[str] = field(default_factory=lambda: list(DEFAULTS["motion_letters"]))
    motion_window: float = DEFAULTS["motion_window"]
    motion_threshold: float = DEFAULTS["motion_threshold"]
    motion_refractory: float = DEFAULTS["motion_refractory"]
    motion_min_path: float = DEFAULTS["motion_min_path"]
    motion_gate: float = DEFAULTS["motion_gate"]
    motion_shapes: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in DEFAULTS["motion_shapes"].items()})
    ignore: list[str] = field(default_factory=lambda: list(DEFAULTS["ignore"]))
    motion: dict[str, Any] | None = None  # the J/Z motion model (see fingerspell.infer.motion)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if data["motion"] is None:
            data.pop("motion")
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str = "spelling") -> "SpellingParams":
        """Parameters from a bundle's "spelling" object; missing keys take the defaults.

        Raises BundleError naming `where` and the key for an unknown key, a wrong type or a
        value out of range.
        """
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise BundleError(f"{where}: 'spelling' must be an object")
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise BundleError(f"{where}: unknown key 'spelling.{key}'")
        values: dict[str, Any] = {}
        for key in NUMBER_KEYS:
            if key in data:
                value = data[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise BundleError(f"{where}: 'spelling.{key}' must be a number")
                if value < 0 or (key in ("threshold", "motion_threshold", "motion_gate") and value > 1):
                    raise BundleError(f"{where}: 'spelling.{key}' is out of range ({value})")
                values[key] = float(value)
        for key in ("tau", "speed_lag", "motion_window"):
            if key in values and values[key] <= 0:
                raise BundleError(f"{where}: 'spelling.{key}' must be above 0")
        for key in ("motion_letters", "ignore"):
            if key in data:
                value = data[key]
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise BundleError(f"{where}: 'spelling.{key}' must be a list of class names")
                values[key] = list(value)
        if "motion_shapes" in data:
            shapes = data["motion_shapes"]
            if not isinstance(shapes, dict) or not all(
                    isinstance(k, str) and isinstance(v, list) and all(isinstance(c, str) for c in v)
                    for k, v in shapes.items()):
                raise BundleError(f"{where}: 'spelling.motion_shapes' must map letters to lists of class names")
            values["motion_shapes"] = {k: list(v) for k, v in shapes.items()}
        if data.get("motion") is not None:
            values["motion"] = check_motion_model(data["motion"], where)
        return cls(**values)


def check_motion_model(model: Any, where: str) -> dict[str, Any]:
    """Check the shape of a motion model object. Raises BundleError naming the problem."""
    if not isinstance(model, dict):
        raise BundleError(f"{where}: 'spelling.motion' must be an object")
    for key in MOTION_KEYS:
        if key not in model:
            raise BundleError(f"{where}: missing key 'spelling.motion.{key}'")
    classes, points, tips = model["classes"], model["points"], model["tips"]
    if not isinstance(classes, list) or len(classes) < 2 or not all(isinstance(c, str) for c in classes):
        raise BundleError(f"{where}: 'spelling.motion.classes' must be a list of names")
    if isinstance(points, bool) or not isinstance(points, int) or not 2 <= points <= 64:
        raise BundleError(f"{where}: 'spelling.motion.points' must be an integer 2-64")
    if not isinstance(tips, list) or not tips or not all(isinstance(i, int) and 0 <= i < 21 for i in tips):
        raise BundleError(f"{where}: 'spelling.motion.tips' must be landmark indices 0-20")
    width = len(tips) * (points * 2 + 1) + 5  # trajectories + path lengths + 5 finger extensions
    vectors = {"mean": width, "std": width, "bias": len(classes)}
    for key, size in vectors.items():
        value = model[key]
        if not isinstance(value, list) or len(value) != size or not all(_number(v) for v in value):
            raise BundleError(f"{where}: 'spelling.motion.{key}' must be {size} numbers")
    if any(v <= 0 for v in model["std"]):
        raise BundleError(f"{where}: 'spelling.motion.std' must be positive")
    weights = model["weights"]
    if (not isinstance(weights, list) or len(weights) != len(classes)
            or not all(isinstance(row, list) and len(row) == width and all(_number(v) for v in row) for row in weights)):
        raise BundleError(f"{where}: 'spelling.motion.weights' must be {len(classes)} rows of {width} numbers")
    return model


def check_calibration(data: Any, where: str) -> float:
    """The temperature of a bundle's "calibration" object (None -> 1). Raises BundleError."""
    if data is None:
        return 1.0
    if not isinstance(data, dict):
        raise BundleError(f"{where}: 'calibration' must be an object")
    value = data.get("temperature")
    if not _number(value) or not 0.05 <= value <= 20:
        raise BundleError(f"{where}: 'calibration.temperature' must be a number between 0.05 and 20")
    return float(value)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
