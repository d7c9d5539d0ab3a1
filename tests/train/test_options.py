"""Training options users reach for: optimisers, schedules, class weights, early stopping;
and a landmark model going through the same train -> evaluate path."""
from __future__ import annotations

import json

import pytest

from fingerspell.evaluate import evaluate
from fingerspell.models import get_model_spec, list_models
from fingerspell.train.loop import class_weights, train


@pytest.mark.parametrize("optimizer, schedule", [("sgd", "step"), ("adam", "cosine"), ("adamw", "none")])
def test_optimisers_and_schedules_train(mnist_tiny, optimizer, schedule):
    run = train(mnist_tiny, "digitalocean-cnn", epochs=2, optimizer=optimizer, schedule=schedule, step_size=1, lr=0.01,
                progress=False, class_weights="balanced", label_smoothing=0.1)
    assert run.epochs_done == 2
    lrs = [h["lr"] for h in run.history]
    if schedule == "step":
        assert lrs[1] == pytest.approx(lrs[0] * 0.1)  # dropped once more after epoch 2
    elif schedule == "none":
        assert lrs == [0.01, 0.01]
    else:
        assert lrs[1] < lrs[0]
    assert "class weights (balanced)" in (run.path / "train.log").read_text()


def test_balanced_class_weights_follow_inverse_frequency():
    weights = class_weights([0, 0, 0, 1], 3, "balanced").tolist()
    assert weights == pytest.approx([4 / 6, 4 / 2, 0.0])
    assert class_weights([0, 1], 2, "none") is None


def test_early_stopping_stops_when_val_stops_improving(mnist_tiny):
    # lr so small nothing changes: val accuracy never beats epoch 1
    run = train(mnist_tiny, "digitalocean-cnn", epochs=6, lr=1e-12, schedule="none", early_stopping=2, progress=False)
    assert run.epochs_done == 3 and run.stopped_early
    assert "early stopping: val_acc has not improved for 2 epochs" in (run.path / "train.log").read_text()
    assert json.loads((run.path / "best.json").read_text())["epoch"] == 1


LANDMARK_MODELS = [m for m in list_models() if get_model_spec(m).input_kind == "landmarks"]


@pytest.mark.skipif(not LANDMARK_MODELS, reason="no landmark model registered")
def test_landmark_model_trains_and_gets_a_report(datasets_root):
    from tests.train.helpers import make_landmarks

    make_landmarks(datasets_root).close()
    run = train("landmarks-tiny", LANDMARK_MODELS[0], epochs=3, batch_size=32, progress=False, lr=0.01)
    report = evaluate(run.path, "landmarks-tiny", "test", progress=False)
    assert [r["letter"] for r in report.per_class] == list("ABCDE") and report.n == 50
    assert report.top1 > 0.5
    assert (report.out / "mistakes.png").is_file() and (report.out / "report.html").is_file()


def test_dataloader_workers_give_the_same_run_as_the_main_process(mnist_tiny):
    import torch
    from safetensors.torch import load_file

    args = dict(epochs=1, batch_size=32, progress=False, cache="false", **{"augment.hflip": 0.5})
    inline = train(mnist_tiny, "letters-cnn", workers=0, **args)
    workers = train(mnist_tiny, "letters-cnn", workers=2, **args)
    a, b = load_file(str(inline.path / "last.safetensors")), load_file(str(workers.path / "last.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a if k.startswith("model."))


def test_best_checkpoint_ties_on_val_accuracy_go_to_the_lower_val_loss():
    from fingerspell.train.trainer import is_better as _better, selection_key as _selection_key

    first = _selection_key({"val_acc": 1.0, "val_loss": 0.30}, "val_acc")
    later = _selection_key({"val_acc": 1.0, "val_loss": 0.10}, "val_acc")
    assert _better(later, first) and not _better(first, later)
    assert _better(_selection_key({"val_acc": 0.5, "val_loss": 0.2}, "val_loss"), _selection_key({"val_acc": 0.9, "val_loss": 0.3}, "val_loss"))
    assert not _better(_selection_key({"val_acc": 1.0, "val_loss": 0.30}, "val_acc"), first)  # equal is not better
