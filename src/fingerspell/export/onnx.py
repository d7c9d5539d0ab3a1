"""Export a trained run to a bundle: one ONNX file checked against PyTorch, plus its manifest.

    from fingerspell.export.onnx import export_run
    bundle_dir = export_run("mlp_massey_e10_noaug", quantize=True)

The check runs PyTorch and onnxruntime on the run's evaluation split (the dataset's `test`
split if it has one, else the run's validation split) and refuses a model whose logits differ
by more than 1e-4 or whose top-1 differs on any sample. With `quantize=True` the bundle holds
an int8 dynamically quantised model (weights int8, activations quantised on the fly by
onnxruntime) and the accuracy change against the float model is measured and reported.
"""
from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fingerspell import __version__
from fingerspell.atomic import write_bytes
from fingerspell.errors import ExportError
from fingerspell.export.bundle import MODEL_NAME, Bundle, HandSettings, InputSpec
from fingerspell.export.hand_settings import hand_settings_for_run
from fingerspell.export.onnx_bytes import OPSET, to_onnx_bytes
from fingerspell.export.onnx_bytes import session as _session

MAX_ABS_DIFF = 1e-4
# Hand-detector settings recorded in every bundle: the lite MediaPipe model is what makes the
# 15 ms per-frame budget on a laptop CPU; robust retries only cost time when a hand is missed.
DEFAULT_HANDS = HandSettings(model_complexity=0, min_detection_confidence=0.5, robust=True)


@dataclass
class ParityReport:
    """PyTorch vs onnxruntime on the evaluation split."""

    split: str
    samples: int
    max_abs_diff: float
    top1_mismatches: int
    torch_accuracy: float
    onnx_accuracy: float
    int8_accuracy: float | None = None
    int8_top1_agreement: float | None = None
    int8_max_abs_diff: float | None = None
    latency_ms: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.max_abs_diff <= MAX_ABS_DIFF and self.top1_mismatches == 0

    def lines(self) -> list[str]:
        out = [
            f"parity on {self.split} ({self.samples} samples): max |torch - onnx| = {self.max_abs_diff:.2e} "
            f"(limit {MAX_ABS_DIFF:.0e}), top-1 differs on {self.top1_mismatches} "
            f"-> {'OK' if self.passed else 'FAILED'}",
            f"accuracy: torch {self.torch_accuracy:.2%}, onnx {self.onnx_accuracy:.2%}",
        ]
        if self.int8_accuracy is not None:
            change = self.int8_accuracy - self.onnx_accuracy
            out.append(
                f"int8: accuracy {self.int8_accuracy:.2%} ({change * 100:+.2f} points vs float), "
                f"top-1 agrees with float on {self.int8_top1_agreement:.2%}, max |float - int8| = {self.int8_max_abs_diff:.3g}"
            )
        if self.latency_ms:
            out.append("latency, one sample, 1 thread: " + ", ".join(f"{k} {v:.3f} ms" for k, v in self.latency_ms.items()))
        return out


def _evaluation_inputs(info: Any, max_samples: int) -> tuple[str, Any]:
    """The run's evaluation split as the training input builder makes it (no augmentation)."""
    from fingerspell.data.index import Dataset
    from fingerspell.models import get_model_spec
    from fingerspell.train.config import config_from_dict
    from fingerspell.train.inputs import build_inputs
    from fingerspell.train.loop import resolve_splits

    ds = Dataset.load(info.data)
    cfg = config_from_dict(dict(info.config))
    spec = get_model_spec(info.model)
    if "test" in ds.splits() and ds.count("test") > 0:
        split_name, samples = "test", list(ds.samples(split="test"))
    else:
        split_name, samples = "val", resolve_splits(ds, cfg).val
    if max_samples and len(samples) > max_samples:
        # An even spread keeps every class represented without randomness.
        picks = np.linspace(0, len(samples) - 1, max_samples).round().astype(int)
        samples = [samples[i] for i in sorted(set(picks.tolist()))]
    return split_name, build_inputs(ds, samples, spec, cfg, training=False)


def _batches(inputs: Any, size: int = 64) -> Any:
    import torch

    xs, ys = [], []
    for i in range(len(inputs)):
        x, y = inputs[i]
        xs.append(x)
        ys.append(int(y))
        if len(xs) == size:
            yield torch.stack(xs), np.array(ys)
            xs, ys = [], []
    if xs:
        yield torch.stack(xs), np.array(ys)


def _time_ms(fn: Callable[[], Any], repeats: int = 200) -> float:
    for _ in range(10):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return float(statistics.median(times))


def quantize_int8(model_bytes: bytes, workdir: Path) -> bytes:
    """Dynamic int8 quantisation with onnxruntime (weights int8; activations at run time)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantiser logs a pre-processing hint through the root logger on every call.
    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
    src, dst = workdir / "float.onnx", workdir / "int8.onnx"
    src.write_bytes(model_bytes)
    attempts: list[list[str] | None] = [None, ["MatMul", "Gemm"]]
    last_error: Exception | None = None
    for ops in attempts:
        try:
            quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, op_types_to_quantize=ops)
            data = dst.read_bytes()
            _session(data)  # some quantised ops (ConvInteger) lack CPU kernels: check it loads
            return data
        except Exception as exc:  # try the next, narrower op set
            last_error = exc
    raise ExportError(f"int8 quantisation failed: {last_error}")


def export_run(
    run: str | Path,
    out: str | Path | None = None,
    quantize: bool = False,
    which: str = "best",
    max_samples: int = 2000,
    name: str | None = None,
    echo: Callable[[str], None] | None = print,
    crop: str = "hand",
) -> Path:
    """Export a run's model to a bundle folder and return its path.

    out: the bundle folder (default FINGERSPELL_HOME/models/<run name>[-int8]).
    quantize: store an int8 dynamically quantised model; the float model is still checked.
    max_samples: evaluation samples used for the check (an even spread of the split).
    echo: where the check's lines are printed (None: silent).
    crop: image models only: what the predictor feeds the model, "hand" (a square around the
        detected hand, with the run's crop_margin) or "center" (the centre square of the frame,
        no hand detection: the DigitalOcean webcam recipe).

    A recipe run (`fingerspell train --recipe`) is written by `export.recipe_bundle` instead:
    the bundle its recipe describes (no quantize, no crop), checked on its training samples.

    Raises RunNotFoundError / TrainingError for a bad run, ExportError when the export fails or
    onnxruntime disagrees with PyTorch beyond 1e-4 or on any top-1.
    """
    import tempfile

    import torch

    from fingerspell.home import models_dir
    from fingerspell.train.checkpoint import load_run_model

    say = echo or (lambda _line: None)
    if crop not in ("hand", "center"):
        raise ExportError(f"crop must be 'hand' or 'center', not {crop!r}")
    model, info = load_run_model(run, which=which)
    model = model.float().eval()
    from fingerspell.export.recipe_bundle import export_recipe_run, is_recipe_run
    from fingerspell.train.checkpoint import read_run_config

    run_config = read_run_config(info.path)
    if is_recipe_run(run_config):
        if quantize or crop != "hand":
            raise ExportError(f"run {info.name}: a recipe run exports as it was trained (no --quantize, no --crop)")
        folder = Path(out).expanduser() if out else models_dir() / (name or info.name)
        return export_recipe_run(model, info, run_config, folder, name, max_samples, say)
    spec = dict(info.spec)
    kind = spec.get("input_kind")
    if kind not in ("landmarks", "image"):
        raise ExportError(f"run {info.name}: cannot export a model with input kind {kind!r} (landmarks or image only)")
    split_name, inputs = _evaluation_inputs(info, max_samples)
    if len(inputs) == 0:
        raise ExportError(f"run {info.name}: the {split_name} split is empty; nothing to check the export against")
    example = inputs[0][0].unsqueeze(0).float()
    input_name = "features" if kind == "landmarks" else "image"
    model_bytes = to_onnx_bytes(model, example, input_name)

    session = _session(model_bytes)
    diffs, mismatches, torch_correct, onnx_correct, seen = 0.0, 0, 0, 0, 0
    int8_session = None
    int8_bytes = None
    int8_correct = int8_agree = 0
    int8_diff = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        if quantize:
            int8_bytes = quantize_int8(model_bytes, Path(tmp))
            int8_session = _session(int8_bytes)
    with torch.no_grad():
        for x, y in _batches(inputs):
            x = x.float()
            ref = model(x).numpy()
            got = session.run(None, {input_name: x.numpy()})[0]
            diffs = max(diffs, float(np.abs(ref - got).max()))
            mismatches += int((ref.argmax(1) != got.argmax(1)).sum())
            torch_correct += int((ref.argmax(1) == y).sum())
            onnx_correct += int((got.argmax(1) == y).sum())
            seen += len(y)
            if int8_session is not None:
                q = int8_session.run(None, {input_name: x.numpy()})[0]
                int8_correct += int((q.argmax(1) == y).sum())
                int8_agree += int((q.argmax(1) == got.argmax(1)).sum())
                int8_diff = max(int8_diff, float(np.abs(q - got).max()))
    report = ParityReport(
        split=split_name, samples=seen, max_abs_diff=diffs, top1_mismatches=mismatches,
        torch_accuracy=torch_correct / seen, onnx_accuracy=onnx_correct / seen,
    )
    one = example.numpy()
    report.latency_ms["onnx_float"] = _time_ms(lambda: session.run(None, {input_name: one}))
    if int8_session is not None:
        report.int8_accuracy = int8_correct / seen
        report.int8_top1_agreement = int8_agree / seen
        report.int8_max_abs_diff = int8_diff
        report.latency_ms["onnx_int8"] = _time_ms(lambda: int8_session.run(None, {input_name: one}))
    for line in report.lines():
        say(line)
    if not report.passed:
        raise ExportError(
            f"run {info.name}: onnxruntime disagrees with PyTorch (max abs diff {report.max_abs_diff:.2e}, "
            f"{report.top1_mismatches} top-1 differences); bundle not written"
        )

    bundle_name = name or (info.name + ("-int8" if quantize else ""))
    folder = Path(out).expanduser() if out else models_dir() / bundle_name
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "landmarks":
        from fingerspell.hands.features import FEATURES_VERSION

        input_spec = InputSpec(kind="landmarks", shape=[1, int(example.shape[1])], names=[input_name],
                               features=FEATURES_VERSION)
        normalisation = None
        extra: dict[str, Any] = {}
    else:
        size = [int(v) for v in spec["input_size"]]
        channels = int(spec["channels"])
        input_spec = InputSpec(kind="image", shape=[1, channels, *size], names=[input_name], size=size,
                               channels=channels, crop=crop)
        normalisation = {"mean": [float(v) for v in spec["mean"]], "std": [float(v) for v in spec["std"]]}
        extra = {"crop_margin": float(info.config.get("crop_margin", 0.15))}
    benchmarks = {
        "split": split_name,
        "samples": seen,
        "max_abs_diff": report.max_abs_diff,
        "top1_mismatches": report.top1_mismatches,
        "torch_accuracy": report.torch_accuracy,
        "onnx_accuracy": report.onnx_accuracy,
        "latency_ms": report.latency_ms,
        "checkpoint": {"which": which, "epoch": info.checkpoint.get("epoch"), "metrics": info.checkpoint.get("metrics")},
    }
    if quantize:
        benchmarks.update({
            "int8_accuracy": report.int8_accuracy,
            "int8_accuracy_change": (report.int8_accuracy or 0.0) - report.onnx_accuracy,
            "int8_top1_agreement": report.int8_top1_agreement,
        })
    bundle = Bundle(
        path=folder,
        name=bundle_name,
        version="1",
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        labels=list(info.labels),
        input=input_spec,
        hands=hand_settings_for_run(info.path, DEFAULT_HANDS) if kind == "landmarks" else DEFAULT_HANDS,
        normalisation=normalisation,
        benchmarks=benchmarks,
        extra={
            **extra,
            "quantized": "int8-dynamic" if quantize else None,
            "run": {"name": info.name, "model": info.model, "data": info.data, "path": str(info.path)},
            "fingerspell_version": __version__,
        },
    )
    write_bytes(folder / MODEL_NAME, int8_bytes if quantize and int8_bytes is not None else model_bytes)
    (folder / f"{MODEL_NAME}.data").unlink(missing_ok=True)
    bundle.save_manifest()
    Bundle.load(folder)  # what we wrote must load: fail here, not in a user's predictor
    if kind == "landmarks":
        from fingerspell.export.browser import write_browser_model

        # The browser app's graph (raw landmarks in, features computed inside, same weights).
        say(f"browser model: {write_browser_model(folder)}")
    say(f"bundle written to {folder}")
    return folder
