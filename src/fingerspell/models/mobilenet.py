"""MobileNetV3-small (Howard et al. 2019) in plain torch, the torchvision layout.

torchvision cannot be imported here (its compiled ops want CUDA libraries, see
../shared/STACK.md), so the architecture is written out: about 2.5 M parameters with a
1000-class head, 1.5 M with 26 classes. Weights start random: nothing is downloaded.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from fingerspell.models.registry import register_model


def _make_divisible(value: float, divisor: int = 8) -> int:
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:  # never round down by more than 10%
        new += divisor
    return new


class SqueezeExcitation(nn.Module):
    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = F.adaptive_avg_pool2d(x, 1)
        scale = F.hardsigmoid(self.fc2(F.relu(self.fc1(scale))))
        return x * scale


def _conv_bn_act(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, act: type[nn.Module] | None = nn.Hardswish) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        # torchvision uses momentum 0.01, tuned for ImageNet-length training; with a few hundred
        # steps the running statistics would still sit near their initial values and eval-mode
        # outputs would be noise, so we keep PyTorch's default 0.1
        nn.BatchNorm2d(cout, eps=0.001),
    ]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, kernel: int, expanded: int, cout: int, use_se: bool, activation: str, stride: int):
        super().__init__()
        act = nn.Hardswish if activation == "HS" else nn.ReLU
        self.use_residual = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expanded != cin:
            layers.append(_conv_bn_act(cin, expanded, 1, act=act))
        layers.append(_conv_bn_act(expanded, expanded, kernel, stride, groups=expanded, act=act))
        if use_se:
            layers.append(SqueezeExcitation(expanded, _make_divisible(expanded // 4)))
        layers.append(_conv_bn_act(expanded, cout, 1, act=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        return out + x if self.use_residual else out


# (in, kernel, expanded, out, squeeze-excite, activation, stride) as in the paper's Table 2.
_SMALL = [
    (16, 3, 16, 16, True, "RE", 2),
    (16, 3, 72, 24, False, "RE", 2),
    (24, 3, 88, 24, False, "RE", 1),
    (24, 5, 96, 40, True, "HS", 2),
    (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 120, 48, True, "HS", 1),
    (48, 5, 144, 48, True, "HS", 1),
    (48, 5, 288, 96, True, "HS", 2),
    (96, 5, 576, 96, True, "HS", 1),
    (96, 5, 576, 96, True, "HS", 1),
]


class MobileNetV3Small(nn.Module):
    def __init__(self, num_classes: int, in_channels: int = 3, dropout: float = 0.2, width_mult: float = 1.0):
        super().__init__()
        adjust = lambda c: _make_divisible(c * width_mult)  # noqa: E731
        layers: list[nn.Module] = [_conv_bn_act(in_channels, adjust(16), 3, stride=2)]
        for cin, k, exp, cout, se, act, stride in _SMALL:
            layers.append(InvertedResidual(adjust(cin), k, adjust(exp), adjust(cout), se, act, stride))
        last_conv = 6 * adjust(96)
        layers.append(_conv_bn_act(adjust(96), last_conv, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(last_conv, 1024), nn.Hardswish(), nn.Dropout(dropout), nn.Linear(1024, num_classes),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.classifier(x)


@register_model("mobilenetv3-small", input_kind="image", input_size=224, channels=3,
                mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                description="MobileNetV3-small in plain torch (2.5 M params at 1000 classes), 224x224 RGB")
def mobilenetv3_small(num_classes: int, dropout: float = 0.2, **kwargs) -> nn.Module:
    return MobileNetV3Small(num_classes, dropout=dropout)


@register_model("mobilenetv3-small-96", input_kind="image", input_size=96, channels=3,
                mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                description="MobileNetV3-small at 96x96 RGB: the same net, 5x cheaper, for CPU training")
def mobilenetv3_small_96(num_classes: int, dropout: float = 0.2, **kwargs) -> nn.Module:
    return MobileNetV3Small(num_classes, dropout=dropout)
