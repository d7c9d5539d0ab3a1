"""The hand-detector settings a bundle records: those its training landmarks were made with.

A landmark model only reads landmarks right when the predictor's detector makes them the way
the training landmarks were made (model complexity, padding retries, refinement passes, grey
tint, zoom). Training records that detector in the run's config.json as "hands"
(`fingerspell.train.loop.training_hand_settings`); `export_run` copies it into bundle.json.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fingerspell.errors import ExportError
from fingerspell.export.bundle import HandSettings


def hand_settings_for_run(run_dir: Path, default: HandSettings) -> HandSettings:
    """The run's recorded training detector as bundle HandSettings, or `default` when the run
    recorded none (image models, landmarks imported with their dataset, runs trained before
    the record existed).

    Raises RunNotFoundError for an unreadable config.json and ExportError for a recorded
    detector the bundle format cannot express (custom attempt lists or video mode).
    """
    from fingerspell.train.checkpoint import read_run_config

    recorded: dict[str, Any] | None = read_run_config(Path(run_dir)).get("hands")
    if not recorded:
        return default
    if recorded.get("mode", "image") != "image":
        raise ExportError(f"run {Path(run_dir).name}: training landmarks came from a {recorded['mode']!r}-mode detector; "
                          "bundles describe an image-mode one")
    _check_default_attempts(recorded, Path(run_dir).name)
    try:
        return HandSettings(
            model_complexity=int(recorded["model_complexity"]),
            min_detection_confidence=float(recorded["min_detection_confidence"]),
            robust=bool(recorded["robust"]),
            refine_steps=int(recorded.get("refine_steps", 0)),
            tint_grey=bool(recorded.get("tint_grey", False)),
            zoom=float(recorded.get("zoom", 0.0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportError(f"run {Path(run_dir).name}: config.json 'hands' is malformed ({exc})") from None


def _check_default_attempts(recorded: dict[str, Any], run_name: str) -> None:
    """A bundle names no attempt list: its predictor uses the default chain (robust) or the
    plain attempt. Landmarks from any other chain would be read by a different detector."""
    from fingerspell.hands.detector import HandDetector

    reference = HandDetector(robust=bool(recorded.get("robust", True))).settings  # parses only
    for key in ("attempts", "small_attempts"):
        if key in recorded and list(recorded[key]) != reference[key]:
            raise ExportError(f"run {run_name}: its training landmarks used a custom detector attempt list "
                              f"({key}); a bundle can only describe the default chain")
