"""Augmentations with albumentations, each switched on by a probability in the config.

The pipeline works on the image already cropped and resized to the model's input size
(HxWxC uint8), so every augmentation costs the same whatever the source resolution.
Randomness comes only from `seed_for(...)` values passed in per sample, which makes an epoch
replay identically after a resume and does not depend on DataLoader workers.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from fingerspell.train.config import AugmentConfig

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")


def build_augmentation(aug: AugmentConfig, size: tuple[int, int], channels: int) -> Any | None:
    """An albumentations Compose for `aug`, or None when every probability is 0.

    `size` is (height, width) of the model input; hue/saturation needs colour and is skipped
    for greyscale models.
    """
    import albumentations as A
    import cv2

    h, w = size
    steps: list[Any] = []
    if aug.hflip > 0:
        steps.append(A.HorizontalFlip(p=aug.hflip))
    if aug.random_resized_crop > 0:
        steps.append(A.RandomResizedCrop(size=(h, w), scale=(aug.crop_scale, 1.0), ratio=(0.8, 1.25), p=aug.random_resized_crop))
    if aug.shift_scale_rotate > 0:
        steps.append(A.Affine(
            scale=(1 - aug.scale_limit, 1 + aug.scale_limit),
            translate_percent=(-aug.shift_limit, aug.shift_limit),
            rotate=(-aug.rotate_limit, aug.rotate_limit),
            border_mode=cv2.BORDER_REPLICATE, p=aug.shift_scale_rotate,
        ))
    if aug.rotate > 0:
        steps.append(A.Rotate(limit=aug.rotate_limit, border_mode=cv2.BORDER_REPLICATE, p=aug.rotate))
    if aug.brightness_contrast > 0:
        steps.append(A.RandomBrightnessContrast(brightness_limit=aug.brightness_limit, contrast_limit=aug.contrast_limit, p=aug.brightness_contrast))
    if aug.hue_saturation > 0 and channels == 3:
        steps.append(A.HueSaturationValue(hue_shift_limit=10, sat_shift_limit=25, val_shift_limit=15, p=aug.hue_saturation))
    if aug.motion_blur > 0:
        steps.append(A.MotionBlur(blur_limit=(3, max(3, aug.blur_limit | 1)), p=aug.motion_blur))
    if aug.gaussian_noise > 0:
        steps.append(A.GaussNoise(std_range=(aug.noise_std / 2, aug.noise_std), p=aug.gaussian_noise))
    if aug.coarse_dropout > 0:
        steps.append(A.CoarseDropout(num_holes_range=(1, 4), hole_height_range=(0.05, 0.2), hole_width_range=(0.05, 0.2), fill=0, p=aug.coarse_dropout))
    if not steps:
        return None
    return A.Compose(steps)


def seed_for(seed: int, epoch: int, index: int) -> int:
    """A per-sample seed that depends only on the run seed, the epoch and the sample position."""
    return int(np.random.SeedSequence([seed, epoch, index]).generate_state(1)[0])


def apply_augmentation(pipeline: Any | None, image: np.ndarray, seed: int) -> np.ndarray:
    """Run `pipeline` on an HxWxC uint8 image with its random state set from `seed`."""
    if pipeline is None:
        return image
    pipeline.set_random_seed(seed)  # reseeds the compose and every transform in it
    out = pipeline(image=image)["image"]
    if out.ndim == 2:
        out = out[:, :, None]
    return out
