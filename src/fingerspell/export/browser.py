"""`browser.onnx`: raw MediaPipe landmarks in, letter logits out, for the browser app.

The live page runs MediaPipe Hands and onnxruntime-web in the browser. Rather than keep a
second copy of the landmark features in JavaScript (which would drift from
`fingerspell.hands.features`), the feature recipe is written once more in torch ops,
exported to ONNX, and composed in front of the bundle's own `model.onnx`, whose nodes and
weights are copied in unchanged. One graph:

    inputs   landmarks   float32 [N, 21, 3]  MediaPipe's normalised x, y and relative z
             mirror      float32 [N]         1 where MediaPipe's handedness is "Right"
                                             (`features.MIRRORED_HANDEDNESS`), else 0
             image_size  float32 [N, 2]      (width, height) of the frame in pixels
    output   logits      float32 [N, classes]

`tests/infer/test_browser_export.py` checks it against numpy features + model.onnx on real
landmarks. Regenerate the default bundle's copy with

    python -m fingerspell.export.browser src/fingerspell/models/default

`fingerspell export` writes it into every landmark bundle it makes.
"""
from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from fingerspell.atomic import write_bytes
from fingerspell.errors import ExportError, FingerspellError

BROWSER_MODEL_NAME = "browser.onnx"
INPUT_NAMES = ("landmarks", "mirror", "image_size")
# Prefix for the feature graph's internal names, so they cannot collide with model.onnx's.
_PREFIX = "lm_features/"
_EPS = 1e-6


def _feature_module() -> Any:
    """The lm-v1 recipe of `hands/features.py` as a torch module (same steps, same order)."""
    import torch

    from fingerspell.hands import features as F

    pair_i, pair_j = np.triu_indices(21, k=1)
    joints = np.array([(f[k - 1] if k > 0 else F.WRIST, f[k], f[k + 1]) for f in F.FINGERS for k in range(3)])
    bases = [f[0] if f is not F.THUMB else 2 for f in F.FINGERS]

    def norm(v: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(torch.sum(v * v, dim=-1))

    def unit(v: torch.Tensor) -> torch.Tensor:
        return v / torch.clamp(norm(v), min=_EPS).unsqueeze(-1)

    def cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        # Written out: torch.linalg.cross has no ONNX symbolic in the TorchScript exporter.
        ax, ay, az = a[..., 0], a[..., 1], a[..., 2]
        bx, by, bz = b[..., 0], b[..., 1], b[..., 2]
        return torch.stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx], dim=-1)

    class LandmarkFeatures(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("pair_i", torch.as_tensor(pair_i, dtype=torch.int64))
            self.register_buffer("pair_j", torch.as_tensor(pair_j, dtype=torch.int64))
            self.register_buffer("joint_a", torch.as_tensor(joints[:, 0], dtype=torch.int64))
            self.register_buffer("joint_b", torch.as_tensor(joints[:, 1], dtype=torch.int64))
            self.register_buffer("joint_c", torch.as_tensor(joints[:, 2], dtype=torch.int64))
            self.register_buffer("tips", torch.as_tensor(F.TIPS, dtype=torch.int64))
            self.register_buffer("bases", torch.as_tensor(bases, dtype=torch.int64))

        def forward(self, landmarks: torch.Tensor, mirror: torch.Tensor, image_size: torch.Tensor) -> torch.Tensor:
            n = landmarks.shape[0]
            # 1. Pixels (z is on x's scale).  2. Mirror "Right" hands: x -> -x.
            sign = 1.0 - 2.0 * mirror
            w, h = image_size[:, 0], image_size[:, 1]
            scale = torch.stack([w * sign, h, w], dim=-1).unsqueeze(1)
            p = landmarks * scale
            # 3. Wrist-centred, palm-size-normalised.
            p = p - p[:, F.WRIST:F.WRIST + 1, :]
            palm = (norm(p[:, 5]) + norm(p[:, 9]) + norm(p[:, 17]) + norm(p[:, 5] - p[:, 17])) / 4.0
            p = p / torch.clamp(palm, min=_EPS).reshape(-1, 1, 1)
            # 4. Palm frame.
            up = unit(p[:, 9])
            normal = unit(cross(p[:, 5], p[:, 17]))
            side = unit(cross(up, normal))
            normal = cross(side, up)
            frame = torch.stack([side, up, normal], dim=1)  # rows are the axes
            local = torch.matmul(p, frame.transpose(1, 2))
            # 5. Angles, distances, directions.
            a, b, c = p[:, self.joint_a], p[:, self.joint_b], p[:, self.joint_c]
            cos = torch.sum(unit(a - b) * unit(c - b), dim=-1)
            angles = torch.acos(torch.clamp(cos, -1.0, 1.0)) / np.pi
            distances = norm(p[:, self.pair_i] - p[:, self.pair_j])
            fingers = unit(p[:, self.tips] - p[:, self.bases])
            return torch.cat([p.reshape(n, 63), local.reshape(n, 63), angles, distances,
                              fingers.reshape(n, 15), normal, up], dim=1)

    return LandmarkFeatures().eval()


def feature_graph_bytes(opset: int) -> bytes:
    """The feature recipe alone as ONNX bytes (inputs INPUT_NAMES, output "features")."""
    import torch

    module = _feature_module()
    example = (torch.rand(2, 21, 3), torch.tensor([0.0, 1.0]), torch.tensor([[640.0, 480.0], [400.0, 400.0]]))
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module, example, buffer, input_names=list(INPUT_NAMES), output_names=["features"],
                dynamic_axes={**{name: {0: "batch"} for name in INPUT_NAMES}, "features": {0: "batch"}},
                opset_version=opset, dynamo=False, external_data=False,
            )
    except Exception as exc:  # torch raises many unrelated types for unsupported graphs
        raise ExportError(f"exporting the landmark features to ONNX failed: {exc}") from None
    return buffer.getvalue()


def _prefixed(graph: Any, keep: set[str]) -> None:
    """Prefix every node, value and initializer name of `graph` except those in `keep`."""
    def rename(name: str) -> str:
        return name if not name or name in keep else _PREFIX + name

    for node in graph.node:
        node.name = rename(node.name)
        node.input[:] = [rename(v) for v in node.input]
        node.output[:] = [rename(v) for v in node.output]
    for init in graph.initializer:
        init.name = rename(init.name)
    for info in list(graph.value_info) + list(graph.output):
        info.name = rename(info.name)


def build_browser_model(model_bytes: bytes, feature_size: int) -> bytes:
    """Compose the feature graph in front of a landmark model. Returns the ONNX bytes.

    Raises ExportError when the letter model does not take one [N, feature_size] input.
    """
    import onnx
    from onnx import compose

    letters = onnx.load_from_string(model_bytes)
    if len(letters.graph.input) != 1:
        raise ExportError(f"the letter model has {len(letters.graph.input)} inputs; a landmark model has one")
    letter_input = letters.graph.input[0].name
    dims = [d.dim_value for d in letters.graph.input[0].type.tensor_type.shape.dim]
    if len(dims) != 2 or dims[1] != feature_size:
        raise ExportError(f"the letter model's input has shape {dims}; expected [N, {feature_size}] landmark features")
    opset = next(o.version for o in letters.opset_import if o.domain in ("", "ai.onnx"))
    features = onnx.load_from_string(feature_graph_bytes(opset))
    features.ir_version = letters.ir_version
    _prefixed(features.graph, keep=set(INPUT_NAMES))
    try:
        merged = compose.merge_models(features, letters, io_map=[(_PREFIX + "features", letter_input)],
                                      doc_string="landmark features (lm-v1) + letter model")
        onnx.checker.check_model(merged)
    except Exception as exc:  # onnx raises ValueError / ValidationError for a bad composition
        raise ExportError(f"composing the browser model failed: {exc}") from None
    return merged.SerializeToString()


def write_browser_model(bundle_dir: str | Path) -> Path:
    """Write `browser.onnx` beside a landmark bundle's model.onnx (atomically); return its path.

    Raises BundleError for a missing or invalid bundle, ExportError for an image bundle, a
    feature recipe this fingerspell does not compute, or a failed export.
    """
    from fingerspell.export.bundle import Bundle
    from fingerspell.hands.features import FEATURE_SIZE, FEATURES_VERSION

    bundle = Bundle.load(bundle_dir)
    if bundle.input.kind != "landmarks":
        raise ExportError(f"{bundle.path}: browser.onnx is for landmark bundles; this one takes images")
    if bundle.input.features != FEATURES_VERSION:
        raise ExportError(f"{bundle.path}: the model wants features {bundle.input.features!r}, "
                          f"this fingerspell computes {FEATURES_VERSION!r}")
    data = build_browser_model(bundle.model_path.read_bytes(), FEATURE_SIZE)
    target = bundle.path / BROWSER_MODEL_NAME
    write_bytes(target, data)
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m fingerspell.export.browser BUNDLE_DIR", file=sys.stderr)
        return 2
    try:
        path = write_browser_model(argv[0])
    except FingerspellError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
