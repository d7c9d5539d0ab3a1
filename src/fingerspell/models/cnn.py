"""The seed tutorials' CNNs, as they describe them, plus a stronger small CNN for 28x28 letters.

- `digitalocean-cnn`: DigitalOcean's "translate sign language into English" net: three 3x3
  convolutions (6, 6, 16 channels, two max-pools) and three linear layers (120, 48, classes)
  on 28x28 greyscale Sign-MNIST.
- `debuggercafe-cnn`: DebuggerCafe's CustomCNN for the ASL Alphabet: four convolutions
  (16, 32, 64, 128 channels; kernels 5, 5, 3, 5) each followed by ReLU and 2x2 max-pool, global
  average pooling, then 256 -> classes, on 224x224 RGB.
- `datacamp-cnn`: DataCamp's tiny Keras net: Conv(5 filters, 5x5, same) + MaxPool(4),
  Conv(15 filters, 5x5, same) + MaxPool(4), Flatten, Dense(classes) on 50x50 RGB.
- `letters-cnn`: ours, a small VGG-style net with batch norm for 28x28 greyscale letters,
  sized to train to >= 99.8% Sign-MNIST test accuracy on two CPU cores in minutes.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from fingerspell.models.registry import register_model


class DigitalOceanNet(nn.Module):
    def __init__(self, num_classes: int):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 6, 3)
        self.conv3 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 48)
        self.fc3 = nn.Linear(48, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = self.pool(F.relu(self.conv2(x)))
        x = self.pool(F.relu(self.conv3(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class DebuggerCafeCNN(nn.Module):
    def __init__(self, num_classes: int):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 5)
        self.conv2 = nn.Conv2d(16, 32, 5)
        self.conv3 = nn.Conv2d(32, 64, 3)
        self.conv4 = nn.Conv2d(64, 128, 5)
        self.fc1 = nn.Linear(128, 256)
        self.fc2 = nn.Linear(256, num_classes)
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = self.pool(F.relu(self.conv3(x)))
        x = self.pool(F.relu(self.conv4(x)))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


class DataCampNet(nn.Module):
    def __init__(self, num_classes: int):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 5, 5, padding=2)
        self.conv2 = nn.Conv2d(5, 15, 5, padding=2)
        self.pool = nn.MaxPool2d(4)
        self.fc = nn.Linear(15 * 3 * 3, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))  # Keras ends in softmax; we return logits


def _conv_bn(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class LettersCNN(nn.Module):
    """conv-bn-relu x2, pool, x2, pool, one more block, global average pool, dropout, linear."""

    def __init__(self, num_classes: int, width: int = 24, in_channels: int = 1, dropout: float = 0.2, stem_stride: int = 1):
        super().__init__()
        w = width
        # a strided stem halves larger inputs first (64x64 -> 32x32) so they cost what 32x32 does
        stem = nn.Sequential(nn.Conv2d(in_channels, w, 3, stride=stem_stride, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True))
        self.features = nn.Sequential(
            stem, _conv_bn(w, w), nn.MaxPool2d(2),
            _conv_bn(w, 2 * w), _conv_bn(2 * w, 2 * w), nn.MaxPool2d(2),
            _conv_bn(2 * w, 4 * w),
        )
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(4 * w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(self.dropout(x))


@register_model("digitalocean-cnn", input_kind="image", input_size=28, channels=1,
                description="DigitalOcean tutorial: 3 conv + 3 fc on 28x28 greyscale (Sign-MNIST)")
def digitalocean_cnn(num_classes: int, **kwargs) -> nn.Module:
    return DigitalOceanNet(num_classes)


@register_model("debuggercafe-cnn", input_kind="image", input_size=224, channels=3,
                mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                description="DebuggerCafe CustomCNN: 4 conv + 2 fc on 224x224 RGB (ASL Alphabet)")
def debuggercafe_cnn(num_classes: int, **kwargs) -> nn.Module:
    return DebuggerCafeCNN(num_classes)


@register_model("datacamp-cnn", input_kind="image", input_size=50, channels=3,
                description="DataCamp tiny Keras net: 2 conv + dense on 50x50 RGB")
def datacamp_cnn(num_classes: int, **kwargs) -> nn.Module:
    return DataCampNet(num_classes)


@register_model("letters-cnn", input_kind="image", input_size=28, channels=1,
                description="small batch-norm CNN for 28x28 greyscale letters (Sign-MNIST >= 99.8%)")
def letters_cnn(num_classes: int, width: int = 24, dropout: float = 0.2, **kwargs) -> nn.Module:
    return LettersCNN(num_classes, width=width, dropout=dropout)


@register_model("letters-cnn-64", input_kind="image", input_size=64, channels=3,
                description="the letters CNN for 64x64 RGB hand crops (photos), strided stem, width 32")
def letters_cnn_64(num_classes: int, width: int = 32, dropout: float = 0.3, **kwargs) -> nn.Module:
    return LettersCNN(num_classes, width=width, in_channels=3, dropout=dropout, stem_stride=2)
