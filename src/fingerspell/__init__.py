"""fingerspell: recognise the American Sign Language alphabet from photos, video and a webcam."""
import os

# albumentations tries the network at import unless told not to (see ../shared/STACK.md).
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

__version__ = "0.1.0"

# The Python API (fingerspell.api), re-exported lazily: `import fingerspell` must not import
# torch, and `fingerspell.train(...)` should still work. Names not here are submodules.
_API = {"Dataset", "evaluate", "import_dataset", "list_models", "load_run_model", "preview_augmentations", "resume",
        "split_dataset", "train"}


def __getattr__(name: str):
    if name in _API:
        import importlib

        api = importlib.import_module("fingerspell.api")
        return getattr(api, name)
    raise AttributeError(f"module 'fingerspell' has no attribute {name!r}")
