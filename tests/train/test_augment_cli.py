"""Augmentations (each one does something, seeded), the preview grid, the commands' help."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from fingerspell.cli import build_parser
from fingerspell.train.augment import apply_augmentation, build_augmentation
from fingerspell.train.config import AUGMENT_SHORT_NAMES, load_config


@pytest.mark.parametrize("key", list(AUGMENT_SHORT_NAMES))
def test_each_augmentation_changes_a_real_photo_and_replays_with_its_seed(key, datasets_root):
    from fingerspell.data.images import read_image
    import cv2

    photo = sorted((datasets_root / "asl-alphabet/asl_alphabet_train/A").glob("*.jpg"))[0]
    image = cv2.resize(read_image(photo), (64, 64))
    cfg = load_config(overrides=["augment.shift_scale_rotate=0", "augment.brightness_contrast=0", f"augment.{key}=1"])
    pipeline = build_augmentation(cfg.augment, (64, 64), 3)
    outs = [apply_augmentation(pipeline, image, seed) for seed in (1, 2, 1)]
    assert outs[0].shape == image.shape and outs[0].dtype == np.uint8
    assert not np.array_equal(outs[0], image) or not np.array_equal(outs[1], image)
    assert np.array_equal(outs[0], outs[2])


def test_preview_grid_png(alphabet_tiny, tmp_path):
    out = tmp_path / "grid.png"
    cfg = tmp_path / "aug.yaml"
    cfg.write_text("augment:\n  hflip: 0.5\n  motion_blur: 0.5\n")
    proc = subprocess.run([sys.executable, "-m", "fingerspell", "augment", "preview", "--data", alphabet_tiny, "--config", str(cfg),
                           "--out", str(out), "--samples", "3", "--copies", "4"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    import matplotlib.image as mpimg

    grid = mpimg.imread(out)
    assert grid.shape[1] > grid.shape[0]  # 5 columns, 3 rows


def test_models_command_lists_the_registry():
    proc = subprocess.run([sys.executable, "-m", "fingerspell", "models"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "mobilenetv3-small" in proc.stdout and "224x224x3" in proc.stdout and "28x28x1" in proc.stdout


def test_my_commands_have_help():
    parser = build_parser()
    actions = {a.dest: a for a in parser._actions}
    commands = actions["command"].choices
    for name in ("models", "augment", "train", "eval"):
        assert commands[name].description, name
    preview = commands["augment"]._subparsers._group_actions[0].choices["preview"]
    assert preview.description


def test_cli_train_then_resume_of_missing_run(mnist_tiny):
    proc = subprocess.run([sys.executable, "-m", "fingerspell", "train", "--data", mnist_tiny, "--model", "datacamp-cnn", "epochs=1",
                           "progress=false"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "run: " in proc.stdout and "datacamp-cnn_mnist-tiny_e1_ssr+bc" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "fingerspell", "train", "--resume", "nope"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "error: no run 'nope'" in proc.stderr
