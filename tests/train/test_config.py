"""Configuration: defaults file, overrides, unknown keys with a suggestion, saved config."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fingerspell.errors import ConfigError
from fingerspell.train.config import DEFAULTS_PATH, TrainConfig, load_config
from fingerspell.train.loop import train


def test_defaults_file_documents_every_key_on_its_own_line():
    import yaml

    data = yaml.safe_load(DEFAULTS_PATH.read_text())
    flat = {k for k in data if k != "augment"} | {f"augment.{k}" for k in data["augment"]}
    expected = {f for f in TrainConfig.__dataclass_fields__ if f != "augment"}
    expected |= {f"augment.{f}" for f in TrainConfig().augment.__dataclass_fields__}
    assert flat == expected
    for line in DEFAULTS_PATH.read_text().splitlines():
        if line.strip() and not line.startswith("#") and not line.rstrip().endswith(":"):
            assert "#" in line, f"undocumented key: {line}"


@pytest.mark.parametrize("key, suggestion", [
    ("learning_rate", "lr"), ("epoch", "epochs"), ("hflip", "augment.hflip"), ("augment.motionblur", "augment.motion_blur"),
    ("lable_smoothing", "label_smoothing"),
])
def test_unknown_key_names_the_closest_valid_one(key, suggestion):
    with pytest.raises(ConfigError) as err:
        load_config(overrides=[f"{key}=1"])
    assert f"unknown key {key!r}" in str(err.value)
    assert f"did you mean {suggestion!r}" in str(err.value)


def test_unknown_key_in_a_config_file_names_the_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("epochs: 3\naugment:\n  hflp: 0.5\n")
    with pytest.raises(ConfigError, match=r"mine.yaml: unknown key 'augment.hflp'; did you mean 'augment.hflip'"):
        load_config(path)


def test_bad_values_are_refused_with_the_rule():
    with pytest.raises(ConfigError, match="epochs must be int"):
        load_config(overrides=["epochs=two"])
    with pytest.raises(ConfigError, match="optimizer must be one of adam, adamw, sgd"):
        load_config(overrides=["optimizer=rmsprop"])
    with pytest.raises(ConfigError, match=r"augment.hflip is a probability"):
        load_config(overrides=["augment.hflip=2"])


def test_file_then_overrides_take_precedence(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("epochs: 3\nlr: 0.01\naugment:\n  hflip: 0.5\n")
    cfg = load_config(path, ["lr=1e-3", "schedule=cosine"])
    assert (cfg.epochs, cfg.lr, cfg.schedule, cfg.augment.hflip) == (3, 0.001, "cosine", 0.5)


def test_cli_unknown_key_exits_2_with_suggestion(mnist_tiny):
    proc = subprocess.run([sys.executable, "-m", "fingerspell", "train", "--data", mnist_tiny, "--model", "letters-cnn", "learning_rate=0.1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "error: command line: unknown key 'learning_rate'; did you mean 'lr'?" in proc.stderr


def test_run_saves_the_resolved_config_and_is_named_from_it(mnist_tiny):
    first = train(mnist_tiny, "digitalocean-cnn", epochs=1, progress=False, **{"augment.hflip": 0.5, "augment.motion_blur": 0.2})
    assert first.name == "digitalocean-cnn_mnist-tiny_e1_flip+ssr+blur+bc"
    saved = json.loads((first.path / "config.json").read_text())
    assert saved["config"]["augment"]["hflip"] == 0.5 and saved["config"]["epochs"] == 1
    assert saved["labels"][:3] == ["A", "B", "C"] and saved["spec"]["input_size"] == [28, 28]
    assert saved["splits"]["val"] == 24  # carved from train: one per letter
    second = train(mnist_tiny, "digitalocean-cnn", epochs=1, progress=False, **{"augment.hflip": 0.5, "augment.motion_blur": 0.2})
    assert second.name == first.name + "-2"
    log = (first.path / "train.log").read_text()
    assert "no val split in 'mnist-tiny': carved 24 samples" in log
