"""Letter classifiers on hand-landmark features (`fingerspell.hands.features`).

`landmark-mlp`: float32 [N, FEATURE_SIZE] features -> logits. The first layer is a
BatchNorm without affine parameters, so the model standardises its own input from the
training data's statistics and exports to ONNX as one self-contained graph: a bundle needs no
separate mean/std for landmark features.

MediaPipe's landmarks do not see the background, so this model generalises to new rooms and
people far better than the image models (README: unseen-signer table).
"""
from __future__ import annotations

import torch
from torch import nn

from fingerspell.hands.features import FEATURE_SIZE
from fingerspell.models.registry import register_model


class LandmarkMLP(nn.Module):
    """Standardise -> (Linear, BatchNorm, GELU, Dropout) x (depth-1) -> Linear."""

    def __init__(self, num_classes: int, features: int = FEATURE_SIZE, hidden: int = 256, depth: int = 3,
                 dropout: float = 0.3):
        super().__init__()
        if depth < 1 or hidden < 1 or features < 1:
            raise ValueError("depth, hidden and features must be positive")
        self.features = features
        self.standardise = nn.BatchNorm1d(features, affine=False, momentum=None)  # cumulative mean/var
        layers: list[nn.Module] = []
        width = features
        for _ in range(depth - 1):
            layers += [nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.GELU(), nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.standardise(x))


@register_model(
    "landmark-mlp",
    input_kind="landmarks",
    input_size=FEATURE_SIZE,
    channels=0,
    description="MLP on MediaPipe hand-landmark features (background-free; best on unseen signers)",
)
def landmark_mlp(num_classes: int, hidden: int = 256, depth: int = 3, dropout: float = 0.3) -> LandmarkMLP:
    """MLP on hand-landmark features: two hidden layers of 256, GELU, dropout 0.3 (170 k parameters)."""
    return LandmarkMLP(num_classes, FEATURE_SIZE, hidden=hidden, depth=depth, dropout=dropout)


@register_model(
    "landmark-mlp-small",
    input_kind="landmarks",
    input_size=FEATURE_SIZE,
    channels=0,
    description="smaller landmark MLP (2 layers of 128) for quick runs and tests",
)
def landmark_mlp_small(num_classes: int) -> LandmarkMLP:
    """Landmark MLP with one hidden layer of 128: trains in seconds."""
    return LandmarkMLP(num_classes, FEATURE_SIZE, hidden=128, depth=2, dropout=0.2)
