"""Model bundles: `Bundle.load` (bundle.py) reads and validates one; `export_run` (onnx.py)
writes one from a trained run, checked against PyTorch. Importing this package does not import
torch (the predictor needs only bundle.py)."""
from fingerspell.export.bundle import Bundle, HandSettings, InputSpec

__all__ = ["Bundle", "HandSettings", "InputSpec", "export_run"]


def __getattr__(name: str):
    if name == "export_run":  # lazy: onnx.py pulls in the training code when it runs
        from fingerspell.export.onnx import export_run

        return export_run
    raise AttributeError(name)
