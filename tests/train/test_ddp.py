"""Two processes under DistributedDataParallel with gloo on the CPU."""
from __future__ import annotations

import json

from fingerspell.train.checkpoint import load_run_model
from fingerspell.train.spawn import spawn_train


def test_two_process_gloo_run_completes(mnist_tiny):
    run = spawn_train(2, mnist_tiny, "letters-cnn", epochs=2, batch_size=16, threads=1, progress=False)
    assert run.epochs_done == 2
    saved = json.loads((run.path / "config.json").read_text())
    assert saved["world_size"] == 2 and saved["device"] == "cpu"
    # each process saw half of the 264 training samples an epoch; rank 0 logged the summed metrics
    log = (run.path / "train.log").read_text()
    assert "x2" in log and "epoch 2/2" in log
    model, info = load_run_model(run.path)
    assert info.labels == run.labels
    assert not any(k.startswith("module.") for k in model.state_dict())  # saved unwrapped
