"""Torch model -> single-file ONNX bytes, and an onnxruntime session over such bytes: what
`export_run` and the recipe bundles (`export.recipe_bundle`) both write and check with."""
from __future__ import annotations

import io
import warnings
from typing import Any

from fingerspell.errors import ExportError

# The opset of `fingerspell export` bundles (recipe bundles use 20: export.recipe_bundle).
OPSET = 17


def session(model_bytes: bytes, threads: int = 1) -> Any:
    """An onnxruntime CPU session over `model_bytes`, quiet, with `threads` intra-op threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])

def to_onnx_bytes(model: Any, example: Any, input_name: str, opset: int = OPSET) -> bytes:
    """Export a torch model to single-file ONNX bytes (weights inside, dynamic batch axis).
    The bytes depend on the weights, the graph and the opset, not on the example's values or
    batch size. Raises ExportError when torch cannot export the graph."""
    import torch

    buffer = io.BytesIO()
    try:
        # The TorchScript exporter is deprecated in favour of torch.export, but it is fast, needs
        # no example-driven shape guards for a dynamic batch, and writes one file; its parity
        # is checked by every caller (export_run, export_recipe_run).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                model,
                (example,),
                buffer,
                input_names=[input_name],
                output_names=["logits"],
                dynamic_axes={input_name: {0: "batch"}, "logits": {0: "batch"}},
                opset_version=opset,
                dynamo=False,
                external_data=False,
            )
    except Exception as exc:  # torch raises many unrelated types for unsupported graphs
        raise ExportError(f"torch.onnx.export failed: {exc}") from None
    return buffer.getvalue()
