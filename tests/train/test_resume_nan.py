"""A killed run resumes to the same final weights; a NaN loss stops training cleanly."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from fingerspell.errors import ConfigError, TrainingError
from fingerspell.train.crash_hooks import INF_LOSS_AT_BATCH, KILL_AFTER_BATCHES
from fingerspell.train.loop import resume, train

ARGS = {"epochs": 3, "batch_size": 32, "threads": 1, "seed": 3, "progress": False,
        "augment.hflip": 0.5, "augment.coarse_dropout": 0.3}


def _weights(path):
    return {k: v for k, v in load_file(str(path)).items() if k.startswith("model.")}


def test_resume_after_a_kill_gives_the_same_weights_as_an_uninterrupted_run(mnist_tiny, fs_home):
    reference = train(mnist_tiny, "letters-cnn", **ARGS)
    # The same run in a separate process, SIGKILLed in the middle of epoch 2 (8 batches an epoch).
    overrides = [f"{k}={v}" for k, v in ARGS.items()]
    proc = subprocess.run([sys.executable, "-m", "fingerspell", "train", "--data", mnist_tiny, "--model", "letters-cnn", *overrides],
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "FINGERSPELL_HOME": str(fs_home), KILL_AFTER_BATCHES: "12"})
    assert proc.returncode == -9, proc.stderr
    killed = fs_home / "runs" / (reference.name + "-2")
    assert json.loads((killed / "last.json").read_text())["epoch"] == 1  # epoch 2 was lost mid-way
    resumed = resume(killed.name)
    assert resumed.epochs_done == 3
    a, b = _weights(reference.path / "last.safetensors"), _weights(killed / "last.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert [h["val_loss"] for h in resumed.history] == [h["val_loss"] for h in reference.history]
    assert "resuming" in (killed / "train.log").read_text()


def test_resume_of_a_finished_run_changes_nothing(mnist_tiny):
    run = train(mnist_tiny, "digitalocean-cnn", epochs=1, progress=False)
    before = (run.path / "last.safetensors").read_bytes()
    again = resume(run.path)
    assert again.epochs_done == 1
    assert (run.path / "last.safetensors").read_bytes() == before


def test_infinite_loss_stops_training_and_keeps_the_last_good_checkpoint(mnist_tiny, fs_home, monkeypatch):
    monkeypatch.setenv(INF_LOSS_AT_BATCH, "11")
    with pytest.raises(TrainingError) as err:
        train(mnist_tiny, "letters-cnn", epochs=3, batch_size=32, progress=False)
    message = str(err.value)
    assert "loss became inf at epoch 2, batch 3" in message
    assert "last good checkpoint (end of epoch 1) is kept" in message
    run_dir = next((fs_home / "runs").iterdir())
    assert json.loads((run_dir / "last.json").read_text())["epoch"] == 1
    weights = _weights(run_dir / "last.safetensors")
    assert all(torch.isfinite(v).all() for v in weights.values() if v.is_floating_point())
    assert "loss became inf" in (run_dir / "train.log").read_text()


def test_a_huge_learning_rate_is_reported_not_crashed_on(mnist_tiny):
    with pytest.raises(TrainingError, match=r"loss became (nan|inf) at epoch 1.*no checkpoint was written yet.*Lower lr"):
        train(mnist_tiny, "digitalocean-cnn", epochs=2, lr=1e30, optimizer="sgd", schedule="none", progress=False)


def test_crash_hooks_are_not_user_settings(mnist_tiny, monkeypatch):
    # The tests' crash simulators live in the environment, not in the config a user writes.
    with pytest.raises(ConfigError, match="unknown key 'debug_kill_after_batches'"):
        train(mnist_tiny, "letters-cnn", epochs=1, progress=False, debug_kill_after_batches=1)
    monkeypatch.setenv(KILL_AFTER_BATCHES, "soon")
    with pytest.raises(ConfigError, match=KILL_AFTER_BATCHES):
        train(mnist_tiny, "letters-cnn", epochs=1, progress=False)
