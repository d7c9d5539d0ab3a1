"""Every registered model: output shape, finite values, ONNX export that onnxruntime agrees
with; every image model: one epoch of training on real images, checkpoint reloads."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from fingerspell.errors import UnknownModelError
from fingerspell.models import create_model, get_model_spec, list_models
from fingerspell.train.checkpoint import load_run_model
from fingerspell.train.loop import train

IMAGE_MODELS = [m for m in list_models() if get_model_spec(m).input_kind == "image"]


def test_registry_lists_the_seed_models_and_rejects_unknown_names():
    names = list_models()
    for seed in ("digitalocean-cnn", "debuggercafe-cnn", "datacamp-cnn", "mobilenetv3-small", "letters-cnn"):
        assert seed in names
    with pytest.raises(UnknownModelError) as err:
        create_model("mobilenet-v3-smal", 26)
    assert "mobilenetv3-small" in str(err.value) and "digitalocean-cnn" in str(err.value)


def test_mobilenetv3_small_has_the_published_parameter_count():
    model = create_model("mobilenetv3-small", 1000)
    assert sum(p.numel() for p in model.parameters()) == 2_542_856  # torchvision's count


@pytest.mark.parametrize("name", list_models())
def test_model_shape_finite_and_onnx_export(name, tmp_path):
    import onnxruntime as ort

    spec = get_model_spec(name)
    torch.manual_seed(0)
    model = create_model(name, 24).eval()
    x = torch.randn(2, *spec.sample_shape())
    with torch.no_grad():
        y = model(x)
    assert y.shape == (2, 24)
    assert torch.isfinite(y).all()
    path = tmp_path / f"{name}.onnx"
    torch.onnx.export(model, (x,), str(path), input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)
    assert not list(tmp_path.glob("*.data"))  # single file, no external data
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x3 = torch.randn(3, *spec.sample_shape())
    with torch.no_grad():
        expected = model(x3).numpy()
    got = session.run(None, {"input": x3.numpy()})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_one_epoch_of_training_on_real_images(name, mnist_tiny, alphabet_tiny):
    spec = get_model_spec(name)
    big = spec.input_size[0] >= 200
    # Greyscale 28x28 models train on Sign-MNIST rows, colour models on ASL Alphabet photos;
    # 224x224 models get small batches so the test stays in seconds.
    data = mnist_tiny if spec.channels == 1 else alphabet_tiny
    run = train(data, name, epochs=1, batch_size=8 if big else 32, progress=False, threads=1)
    # a few hundred real images: 264 Sign-MNIST rows or 160 photos (the rest carved off for val)
    assert f"train {264 if spec.channels == 1 else 160} samples" in (run.path / "train.log").read_text()
    assert run.epochs_done == 1
    metrics = run.history[0]
    assert np.isfinite(metrics["train_loss"]) and np.isfinite(metrics["val_loss"])
    assert 0.0 <= metrics["val_acc"] <= 1.0
    for f in ("best.safetensors", "best.json", "last.safetensors", "last.json", "config.json", "curves.png", "train.log"):
        assert (run.path / f).is_file(), f
    assert list(run.path.glob("events.out.tfevents.*"))
    model, info = load_run_model(run.path)
    assert info.labels == run.labels and info.model == name
    with torch.no_grad():
        out = model(torch.zeros(1, *spec.sample_shape()))
    assert out.shape == (1, len(run.labels))
