"""The landmark classifier: registry, training on the real asl-landmarks set, mirroring,
the `landmarks` input kind under train()/evaluate(), and ONNX export."""
from __future__ import annotations

import time

import numpy as np
import pytest

from fingerspell.evaluate.protocols import LandmarkSet, Recipe, fit_landmark_model, predict_set, score_set
from fingerspell.hands.features import FEATURE_SIZE
from fingerspell.models import create_model, get_model_spec, list_models

LETTERS = [chr(c) for c in range(65, 91)]


@pytest.fixture(scope="module")
def webcam_set(datasets_root) -> LandmarkSet:
    """The shared asl-landmarks set: one signer's webcam frames, 26 letters."""
    with np.load(datasets_root / "asl-landmarks" / "landmarks.npz", allow_pickle=False) as data:
        x, y = data["x"].astype(np.float32), data["y"].astype(str)
    n = len(y)
    return LandmarkSet("asl-landmarks", y, np.full(n, ""), x, np.full(n, "", dtype="<U5"),
                       np.tile([640.0, 480.0], (n, 1)), np.ones(n, bool))


def _halves(data: LandmarkSet, per_letter: int) -> tuple[LandmarkSet, LandmarkSet]:
    """Interleaved halves (even / odd frames) of the first `per_letter` frames of each letter."""
    picks = np.concatenate([np.flatnonzero(data.labels == letter)[:per_letter] for letter in LETTERS])
    train = np.zeros(len(data), bool)
    test = np.zeros(len(data), bool)
    train[picks[::2]] = True
    test[picks[1::2]] = True
    return data.subset(train), data.subset(test)


def test_landmark_models_are_registered_with_the_feature_size():
    for name in ("landmark-mlp", "landmark-mlp-small"):
        assert name in list_models()
        spec = get_model_spec(name)
        assert spec.input_kind == "landmarks"
        assert tuple(spec.input_size) == (FEATURE_SIZE,)


def test_classifier_trains_in_seconds_on_the_landmark_set(webcam_set):
    import torch

    torch.set_num_threads(1)
    train, test = _halves(webcam_set, per_letter=120)
    started = time.perf_counter()
    model = fit_landmark_model(train, LETTERS, Recipe(model="landmark-mlp-small", epochs=12, batch_size=64))
    seconds = time.perf_counter() - started
    score = score_set(model, test, LETTERS)
    assert seconds < 90, f"training took {seconds:.1f} s"  # a floor (about 10 s on an idle core); busy CI passes
    assert score.n == len(test) == 26 * 60
    assert score.top1 > 0.9, score.worst_letters()


def test_mirrored_left_hand_gives_the_same_prediction_as_the_right(webcam_set):
    train, test = _halves(webcam_set, per_letter=60)
    train.handedness[:] = "Right"  # the webcam set's 3-D shape says "Right" (a mirrored preview)
    test.handedness[:] = "Right"
    model = fit_landmark_model(train, LETTERS, Recipe(model="landmark-mlp-small", epochs=8, batch_size=64))
    mirrored = LandmarkSet(test.name, test.labels, test.groups, test.points.copy(), np.full(len(test), "Left"),
                           test.image_size, test.found)
    mirrored.points[:, :, 0] = 1.0 - mirrored.points[:, :, 0]  # the same frames flipped left-right
    pred, probs = predict_set(model, test)
    pred_mirrored, probs_mirrored = predict_set(model, mirrored)
    assert (pred == pred_mirrored).all()
    np.testing.assert_allclose(probs, probs_mirrored, atol=1e-4)
    assert score_set(model, mirrored, LETTERS).top1 > 0.8


def test_no_hand_counts_as_wrong(webcam_set):
    train, test = _halves(webcam_set, per_letter=40)
    model = fit_landmark_model(train, LETTERS, Recipe(model="landmark-mlp-small", epochs=6, batch_size=64))
    full = score_set(model, test, LETTERS)
    test.found[::4] = False  # pretend MediaPipe missed every fourth hand
    test.points[~test.found] = 0
    missed = score_set(model, test, LETTERS)
    assert missed.no_hand == int((~test.found).sum())
    assert missed.n == full.n
    assert missed.top1 <= full.top1 - 0.2  # a quarter of the samples became wrong


@pytest.mark.parametrize("name", ["landmark-mlp", "landmark-mlp-small"])
def test_landmark_model_exports_to_onnx_and_agrees_with_torch(name, tmp_path):
    import onnxruntime as ort
    import torch

    model = create_model(name, 26)
    model.train()
    model(torch.randn(64, FEATURE_SIZE) * 3 + 1)  # give the input standardisation real statistics
    model.eval()
    x = torch.randn(5, FEATURE_SIZE)
    with torch.no_grad():
        expected = model(x).numpy()
    assert expected.shape == (5, 26) and np.isfinite(expected).all()
    path = tmp_path / "model.onnx"
    torch.onnx.export(model, (x,), str(path), input_names=["features"], output_names=["logits"],
                      dynamic_axes={"features": {0: "n"}, "logits": {0: "n"}}, dynamo=False)
    assert not list(tmp_path.glob("*.data"))  # one self-contained file
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(["logits"], {"features": x.numpy()})[0]
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_train_and_evaluate_a_landmark_model_through_the_training_api(datasets_root, tmp_path):
    """The `landmarks` input kind: `train()` and `evaluate()` on an imported landmark dataset."""
    from fingerspell.data.importer import import_dataset
    from fingerspell.evaluate.report import evaluate
    from fingerspell.train.loop import train

    with np.load(datasets_root / "asl-landmarks" / "landmarks.npz", allow_pickle=False) as data:
        x, y = data["x"], data["y"]
    picks = np.concatenate([np.flatnonzero(y == letter)[:30] for letter in "ABCDE"])
    folder = tmp_path / "webcam"
    folder.mkdir()
    np.savez(folder / "landmarks.npz", x=x[picks], y=y[picks])
    ds = import_dataset(folder / "landmarks.npz", name="webcam")
    ids = [s.id for s in ds.samples()]
    ds.assign_splits({i: ("test" if k % 5 == 0 else "val" if k % 5 == 1 else "train") for k, i in enumerate(ids)})
    ds.close()
    run = train("webcam", "landmark-mlp-small", epochs=4, batch_size=16, progress=False, threads=1)
    report = evaluate(run.path, "webcam", split="test", progress=False)
    assert report.n == 30
    assert report.top1 > 0.8
    assert (run.path / "best.safetensors").exists()


def test_evaluate_counts_samples_without_a_hand_as_wrong(datasets_root, tmp_path):
    """evaluate() on a landmark run: samples whose hand was not found stay in `n`, count as
    wrong and are reported as `no_hand`."""
    from fingerspell.data.importer import import_dataset
    from fingerspell.data.index import Dataset
    from fingerspell.evaluate.report import evaluate
    from fingerspell.train.loop import train

    with np.load(datasets_root / "asl-landmarks" / "landmarks.npz", allow_pickle=False) as data:
        x, y = data["x"], data["y"]
    picks = np.concatenate([np.flatnonzero(y == letter)[:30] for letter in "ABC"])
    folder = tmp_path / "webcam"
    folder.mkdir()
    np.savez(folder / "landmarks.npz", x=x[picks], y=y[picks])
    ds = import_dataset(folder / "landmarks.npz", name="webcam3")
    ids = [s.id for s in ds.samples()]
    test_ids = [i for k, i in enumerate(ids) if k % 3 == 0]
    ds.assign_splits({i: ("test" if i in test_ids else "train") for i in ids})
    run = train("webcam3", "landmark-mlp-small", epochs=4, batch_size=16, progress=False, threads=1)
    before = evaluate(run.path, "webcam3", split="test", progress=False)
    # MediaPipe "missed" five test hands: the cache says no hand for them.
    missed = test_ids[:5]
    ds.db.executemany("UPDATE landmarks SET found = 0, points = NULL, world = NULL WHERE sample_id = ?",
                      [(i,) for i in missed])
    ds.db.commit()
    ds.close()
    after = evaluate(run.path, "webcam3", split="test", progress=False)
    assert after.n == before.n == 30
    assert after.no_hand == 5
    assert after.top1 <= before.top1 - 5 / 30 + 1e-9
    assert sum(m["predicted"] == "no hand" for m in after.mistakes) == 5
    assert sum(sum(row) for row in after.confusion) == 25


def test_landmark_inputs_leave_out_missed_hands_in_training_and_flag_them_in_evaluation(datasets_root, tmp_path):
    """Real images through MediaPipe: a blank image has no hand."""
    import cv2

    from fingerspell.data.importer import import_dataset
    from fingerspell.hands.extract import extract_landmarks
    from fingerspell.models import get_model_spec
    from fingerspell.train.config import load_config
    from fingerspell.train.inputs import build_inputs

    root = tmp_path / "tiny"
    for letter in "ab":
        (root / letter).mkdir(parents=True)
        for f in sorted((datasets_root / "massey" / "asl_dataset" / letter).glob("hand1_*"))[:2]:
            (root / letter / f.name).write_bytes(f.read_bytes())
    cv2.imwrite(str(root / "b" / "blank.jpg"), np.zeros((200, 200, 3), np.uint8))
    ds = import_dataset(root, name="tiny")
    extract_landmarks(ds, progress=False, workers=1)
    spec = get_model_spec("landmark-mlp-small")
    cfg = load_config(None, {})
    training = build_inputs(ds, None, spec, cfg, training=True)
    evaluation = build_inputs(ds, None, spec, cfg, training=False)
    assert len(training) == 4 and training.found.all()
    assert len(evaluation) == 5 and int((~evaluation.found).sum()) == 1
    blank = int(np.flatnonzero(~evaluation.found)[0])
    assert evaluation.samples[blank].source.endswith("blank.jpg")
    features, label = evaluation[blank]
    assert float(features.abs().sum()) == 0.0 and ds.classes[label] == "B"
    ds.close()


def test_bundled_default_model_matches_the_feature_recipe_and_recognises_real_hands(webcam_set):
    """The shipped bundle: A-Z labels, this package's FEATURES_VERSION, one ONNX file, and it
    reads real landmarks through today's feature code (a recipe change without retraining fails)."""
    import onnxruntime as ort

    from fingerspell.export.bundle import Bundle
    from fingerspell.hands.features import FEATURES_VERSION
    from fingerspell.home import default_bundle_dir

    bundle = Bundle.load(default_bundle_dir())
    assert bundle.labels == LETTERS
    assert bundle.input.kind == "landmarks" and bundle.input.features == FEATURES_VERSION
    assert bundle.input.shape == [1, FEATURE_SIZE] and bundle.input.names == ["features"]
    assert bundle.benchmarks, "bundle.json should carry its benchmark numbers"
    session = ort.InferenceSession(str(bundle.model_path), providers=["CPUExecutionProvider"])
    picks = np.concatenate([np.flatnonzero(webcam_set.labels == letter)[::40] for letter in LETTERS])
    sample = webcam_set.subset(np.isin(np.arange(len(webcam_set)), picks))
    logits = session.run(["logits"], {"features": sample.features()})[0]
    predicted = np.array(bundle.labels)[logits.argmax(1)]
    assert (predicted == sample.labels).mean() > 0.9
