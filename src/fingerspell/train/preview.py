"""`preview_augmentations`: a picture of what the augmentations do to a dataset's images, as
training prepares them (`fingerspell augment`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fingerspell.train.augment import apply_augmentation, build_augmentation, seed_for
from fingerspell.train.config import TrainConfig, load_config
from fingerspell.train.inputs import prepare_image
from fingerspell.train.splits import select_samples


def preview_augmentations(data: str, config: TrainConfig | str | Path | None = None, out: str | Path = "augment-preview.png",
                          *, model: str | None = None, samples: int = 6, copies: int = 5, split: str | None = "train",
                          overrides: dict[str, Any] | list[str] | None = None) -> Path:
    """Draw a grid: one row per sample, the original then `copies` augmented versions.

    The images are prepared as training sees them (hand crop, model input size and channels;
    the default model is letters-cnn for 28x28 data and mobilenetv3-small otherwise).
    Raises DatasetNotFoundError, ConfigError or UnknownModelError.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fingerspell import atomic
    from fingerspell.data import Dataset
    from fingerspell.models import get_model_spec

    if not isinstance(config, TrainConfig):
        config = load_config(config, overrides)
    ds = Dataset.load(data)
    chosen = select_samples(ds, split if split in ds.splits() else None)
    if not chosen:
        from fingerspell.errors import TrainingError

        raise TrainingError(f"dataset {data!r} has no samples to preview")
    rng = np.random.default_rng(config.seed)
    picks = [chosen[i] for i in sorted(rng.choice(len(chosen), size=min(samples, len(chosen)), replace=False))]
    if model is None:
        model = "letters-cnn" if (picks[0].width or 0) <= 32 else "mobilenetv3-small"
    spec = get_model_spec(model)
    pipeline = build_augmentation(config.augment, spec.input_size, spec.channels)
    fig, axes = plt.subplots(len(picks), copies + 1, figsize=(1.6 * (copies + 1), 1.7 * len(picks)), squeeze=False)
    for row, sample in enumerate(picks):
        base = prepare_image(ds, sample, spec, config)
        for col in range(copies + 1):
            img = base if col == 0 else apply_augmentation(pipeline, base, seed_for(config.seed, col, sample.id))
            ax = axes[row][col]
            ax.imshow(img[:, :, 0] if img.shape[2] == 1 else img, cmap="gray" if img.shape[2] == 1 else None, vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_title(f"{sample.label} original", fontsize=8)
            elif row == 0:
                ax.set_title(f"augmented {col}", fontsize=8)
    on = ", ".join(f"{k}={getattr(config.augment, k)}" for k in ("hflip", "rotate", "shift_scale_rotate", "motion_blur", "random_resized_crop",
                                                                 "brightness_contrast", "gaussian_noise", "hue_saturation", "coarse_dropout")
                   if getattr(config.augment, k) > 0) or "no augmentation"
    fig.suptitle(f"{data} for {model}: {on}", fontsize=8)
    fig.tight_layout()
    path = atomic.save_figure(fig, out, dpi=110)
    plt.close(fig)
    ds.close()
    return path
