"""Turning dataset samples into model inputs, one builder per model input kind.

`register_input_kind(kind, builder)` with `builder(dataset, split, spec, config, training)
-> torch.utils.data.Dataset` yielding `(tensor, class_index)`, where class_index indexes
`dataset.classes`. `split` is a split name, None (all samples) or an explicit list of
`Sample`s (the in-memory val split carved from train); `select_samples` resolves all three.

Optional extras a built dataset may offer, used by training and evaluation when present:
`set_epoch(epoch)` (reseed per-sample randomness), `display(i) -> HxWx3 uint8 | None` (what to
draw in a mistakes gallery), `samples` (the `Sample` list), `labels` (class indexes).

The `image` kind lives here; `landmarks` lives in train/landmark_inputs.py, imported on first
use by `get_input_builder`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fingerspell.data.index import Dataset, Sample
from fingerspell.errors import TrainingError
from fingerspell.train.augment import apply_augmentation, build_augmentation, seed_for
from fingerspell.train.config import TrainConfig
from fingerspell.train.splits import select_samples

Builder = Callable[..., Any]
_BUILDERS: dict[str, Builder] = {}

CACHE_LIMIT_BYTES = 2 * 1024**3


def register_input_kind(kind: str, builder: Builder) -> None:
    """Register the dataset builder for models whose spec says `input_kind == kind`."""
    _BUILDERS[kind] = builder


def get_input_builder(kind: str) -> Builder:
    """The builder for `kind`. Raises TrainingError when no module provides one."""
    if kind == "landmarks" and kind not in _BUILDERS:
        # Imported on first use, by name, so that a renamed module fails loudly here.
        from fingerspell.train.landmark_inputs import landmark_builder

        _BUILDERS[kind] = landmark_builder
    try:
        return _BUILDERS[kind]
    except KeyError:
        raise TrainingError(f"no input builder for model input kind {kind!r}; known kinds: {', '.join(_BUILDERS)}") from None


def build_inputs(dataset: Dataset, split: str | Sequence[Sample] | None, spec: Any, config: TrainConfig, training: bool) -> Any:
    """Build the torch Dataset for `spec.input_kind`. Raises TrainingError."""
    return get_input_builder(spec.input_kind)(dataset, split, spec, config, training)


def _crop_box(sample: Sample, image: np.ndarray, config: TrainConfig) -> np.ndarray:
    """Crop to the (first) hand box plus a margin, made square so the hand keeps its shape."""
    if config.crop == "full" or not sample.boxes:  # crop=box without a box: the whole image is the best crop
        return image
    box = sample.boxes[0]
    h, w = image.shape[:2]
    cx, cy = (box.xmin + box.xmax) / 2, (box.ymin + box.ymax) / 2
    side = max(box.xmax - box.xmin, box.ymax - box.ymin) * (1 + 2 * config.crop_margin)
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    x1, y1 = int(round(cx + side / 2)), int(round(cy + side / 2))
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return image
    return image[y0:y1, x0:x1]


def prepare_image(dataset: Dataset, sample: Sample, spec: Any, config: TrainConfig) -> np.ndarray:
    """Read a sample, crop it to its hand box (if configured), convert to the model's channels
    and resize to its input size: HxWxC uint8. Raises CorruptImageError naming the file."""
    import cv2

    image = dataset.image(sample)
    image = _crop_box(sample, image, config)
    if image.ndim == 2:
        image = image[:, :, None]
    if spec.channels == 1 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, :, None]
    elif spec.channels == 3 and image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    h, w = spec.input_size
    if image.shape[:2] != (h, w):
        shrink = image.shape[0] > h or image.shape[1] > w
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        if image.ndim == 2:
            image = image[:, :, None]
    return np.ascontiguousarray(image)


class ImageInputs:
    """Images as the model eats them: prepared (crop, channels, size), augmented when
    training (seeded per epoch and sample), normalised to float32 CHW."""

    def __init__(self, dataset: Dataset, samples: list[Sample], spec: Any, config: TrainConfig, training: bool):
        import torch

        self.dataset = dataset
        self.samples = samples
        self.spec = spec
        self.config = config
        self.training = training
        index = {c: i for i, c in enumerate(dataset.classes)}
        self.labels = [index[s.label] for s in samples]
        self.pipeline = build_augmentation(config.augment, spec.input_size, spec.channels) if training else None
        self.epoch = 0
        self.mean = np.asarray(spec.mean, dtype=np.float32).reshape(-1, 1, 1) * 255.0
        self.scale = 1.0 / (np.asarray(spec.std, dtype=np.float32).reshape(-1, 1, 1) * 255.0)
        self._torch = torch
        h, w = spec.input_size
        wanted = config.cache == "true" or (config.cache == "auto" and len(samples) * h * w * spec.channels < CACHE_LIMIT_BYTES)
        self.cache: list[np.ndarray] | None = None
        if wanted:
            self.cache = [self._prepare(i) for i in _progress(range(len(samples)), config, f"loading {dataset.name}")]

    def _prepare(self, i: int) -> np.ndarray:
        return prepare_image(self.dataset, self.samples[i], self.spec, self.config)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.samples)

    def display(self, i: int) -> np.ndarray:
        """The prepared image (before augmentation and normalisation) as HxWx3 uint8."""
        image = self.cache[i] if self.cache is not None else self._prepare(i)
        return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image

    def __getitem__(self, i: int) -> tuple[Any, int]:
        image = self.cache[i] if self.cache is not None else self._prepare(i)
        if self.pipeline is not None:
            image = apply_augmentation(self.pipeline, image, seed_for(self.config.seed, self.epoch, i))
        chw = (image.transpose(2, 0, 1).astype(np.float32) - self.mean) * self.scale
        return self._torch.from_numpy(np.ascontiguousarray(chw)), self.labels[i]

    def reopen(self) -> None:
        """Open a fresh connection to the index: a SQLite connection must not cross a fork
        (DataLoader workers call this when they start)."""
        if not isinstance(self.dataset, str):
            self.dataset = Dataset.load(self.dataset.name)

    def __getstate__(self) -> dict[str, Any]:
        # DataLoader workers (spawn) pickle the dataset: sqlite connections do not travel, so
        # workers reopen the index by name.
        state = dict(self.__dict__)
        state["dataset"] = self.dataset.name
        state["_torch"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        import torch

        self.__dict__.update(state)
        self.dataset = Dataset.load(state["dataset"])
        self._torch = torch


def _progress(items: Any, config: TrainConfig, desc: str) -> Any:
    if not config.progress or len(items) < 2000:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, leave=False, unit="img")


def image_builder(dataset: Dataset, split: str | Sequence[Sample] | None, spec: Any, config: TrainConfig, training: bool) -> ImageInputs:
    """The `image` input kind. Raises TrainingError for a dataset without images."""
    if not dataset.has_images:
        raise TrainingError(f"dataset {dataset.name!r} holds landmarks, not images: pick a landmark model")
    return ImageInputs(dataset, select_samples(dataset, split), spec, config, training)


register_input_kind("image", image_builder)
