"""fingerspell: recognise the American Sign Language alphabet from photos, video and a webcam.

    import fingerspell as fs
    ds = fs.import_dataset(path, name="massey"); fs.split_dataset(ds, by="group")
    run = fs.train_model(ds, "letters-cnn"); report = fs.evaluate_model(run, ds)
    bundle = fs.export_model(run); predictions = fs.predict("photos/", bundle)

(see fingerspell/api.py).
"""
from __future__ import annotations

import os
from typing import Any

# albumentations tries the network at import unless told not to (see ../shared/STACK.md).
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

__version__ = "0.1.0"

# The Python API (fingerspell.api), re-exported lazily: `import fingerspell` must not import
# torch. None of these names is also a subpackage (`fingerspell.train` is the package that
# trains; `fs.train_model` the function), so importing a subpackage never hides one.
_API = {"Dataset", "evaluate_model", "export_model", "import_dataset", "list_models", "load_predictor",
        "load_run_model", "predict", "preview_augmentations", "resume", "split_dataset", "train_model", "train_recipe"}
_TYPES = {"Bundle": "fingerspell.export.bundle", "Prediction": "fingerspell.infer.predictor",
          "Predictor": "fingerspell.infer.predictor", "Report": "fingerspell.evaluate.report",
          "Run": "fingerspell.train.run"}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _API:
        return getattr(importlib.import_module("fingerspell.api"), name)
    if name in _TYPES:
        return getattr(importlib.import_module(_TYPES[name]), name)
    raise AttributeError(f"module 'fingerspell' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API | set(_TYPES))
