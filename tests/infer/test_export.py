"""Export tiny real training runs to ONNX: parity with PyTorch, manifests, int8, and prediction."""
from __future__ import annotations

import json

import pytest

from fingerspell.cli import main
from fingerspell.data.images import read_image
from fingerspell.errors import RunNotFoundError
from fingerspell.export.bundle import Bundle
from fingerspell.export.onnx import MAX_ABS_DIFF, export_run
from fingerspell.infer.predictor import Predictor


@pytest.fixture()
def landmark_run(datasets_root):
    import torch

    from fingerspell.data.importer import import_dataset
    from fingerspell.train.loop import train

    torch.set_num_threads(1)
    import_dataset(datasets_root / "asl-landmarks" / "landmarks.npz", name="lm")
    return train("lm", "landmark-mlp-small", epochs=1, max_train_samples=600, max_val_samples=200,
                 progress=False, threads=1)


def test_landmark_run_exports_with_parity_and_int8(landmark_run, tmp_path, capsys, datasets_root):
    out = export_run(landmark_run.path, out=tmp_path / "lm-bundle", quantize=True)
    printed = capsys.readouterr().out
    assert "parity on val (2" in printed and "-> OK" in printed and "int8: accuracy" in printed
    bundle = Bundle.load(out)
    bench = bundle.benchmarks
    assert bench["max_abs_diff"] <= MAX_ABS_DIFF and bench["top1_mismatches"] == 0 and bench["samples"] >= 200
    assert bench["torch_accuracy"] == bench["onnx_accuracy"] > 0.3
    assert abs(bench["int8_accuracy_change"]) < 0.1
    assert bundle.input.kind == "landmarks" and bundle.input.features
    assert bundle.extra["quantized"] == "int8-dynamic" and bundle.extra["run"]["model"] == "landmark-mlp-small"
    assert not (out / "model.onnx.data").exists()
    # The exported bundle runs in the predictor on a real photo (MediaPipe -> features -> ONNX).
    photo = read_image(sorted((datasets_root / "massey" / "asl_dataset" / "b").iterdir())[0])
    with Predictor(out, conf=0.0) as predictor:
        p = predictor.predict_image(photo)
    assert p.hand and p.letter in bundle.labels and len(p.top5) == 5


def test_image_run_exports_and_predicts(datasets_root, tmp_path, capsys):
    import torch

    from fingerspell.data.importer import import_dataset
    from fingerspell.train.loop import train

    torch.set_num_threads(1)
    import_dataset(datasets_root / "massey" / "asl_dataset", name="massey")
    run = train("massey", "letters-cnn", epochs=1, max_train_samples=150, max_val_samples=72,
                progress=False, threads=1)
    out = tmp_path / "cnn-bundle"
    assert main(["export", str(run.path), "--out", str(out)]) == 0
    assert "-> OK" in capsys.readouterr().out
    manifest = json.loads((out / "bundle.json").read_text())
    assert manifest["input"]["kind"] == "image" and manifest["input"]["size"] == [28, 28]
    assert manifest["input"]["channels"] == 1 and manifest["normalisation"]["std"]
    assert manifest["benchmarks"]["max_abs_diff"] <= MAX_ABS_DIFF
    photo = read_image(sorted((datasets_root / "massey" / "asl_dataset" / "c").iterdir())[0])
    with Predictor(out, conf=0.0) as predictor:
        p = predictor.predict_image(photo)
    assert p.letter in manifest["labels"] and p.timings["model"] > 0 and p.hand
    # The centre-crop recipe runs the model on the frame's centre without a hand detector.
    centre = tmp_path / "cnn-centre"
    assert main(["export", str(run.path), "--out", str(centre), "--crop", "center"]) == 0
    with Predictor(centre, conf=0.0) as predictor:
        p = predictor.predict_image(photo)
    assert p.letter in manifest["labels"] and p.timings["hands"] == 0 and not p.hand


def test_export_of_a_missing_run():
    with pytest.raises(RunNotFoundError, match="no run 'nope'"):
        export_run("nope")
