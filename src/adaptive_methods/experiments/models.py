"""The three models of the paper's Section 5: logistic regression, a one-hidden-layer MLP and
CIFARNET. Each takes the input shape ``(C, H, W)`` so that CIFARNET also runs on 1-channel
28x28 images (the Fashion-MNIST stand-in used where CIFAR-10 cannot be had)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "LogisticRegression",
    "MLP",
    "CifarNet",
    "MODELS",
    "build_model",
    "count_parameters",
]


class LogisticRegression(nn.Module):
    """Multiclass logistic regression: one linear map from pixels to class scores."""

    def __init__(self, input_shape=(1, 28, 28), num_classes: int = 10):
        super().__init__()
        c, h, w = input_shape
        self.linear = nn.Linear(c * h * w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(1))


class MLP(nn.Module):
    """One hidden layer of ``hidden`` ReLU units (100 in the paper)."""

    def __init__(
        self, input_shape=(1, 28, 28), num_classes: int = 10, hidden: int = 100
    ):
        super().__init__()
        c, h, w = input_shape
        self.hidden = nn.Linear(c * h * w, hidden)
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x.flatten(1))))


_SAME_6 = (2, 3, 2, 3)  # left, right, top, bottom: TensorFlow's "SAME" for a 6x6 kernel


class CifarNet(nn.Module):
    """CIFARNET as the paper describes it.

    Two convolutions with 64 channels and 6x6 kernels, each followed by a ReLU; 2x2 max
    pooling and local response normalisation between and after them; fully connected
    layers
    of 384 and 192 ReLU units with dropout (keep probability 0.5) between them; a linear
    output layer. The convolutions pad to keep the image size (TensorFlow's "same"
    padding:
    2 pixels before and 3 after for a 6-wide kernel), so the
    first fully connected layer sees ``64 * (H/4) * (W/4)`` features: 4096 on 32x32
    CIFAR-10
    images, 3136 on 28x28 ones. The LRN constants are those of the TensorFlow CIFAR-10
    model the name comes from (window 9, alpha 0.001 over the window, beta 0.75, k 1).
    """

    def __init__(
        self, input_shape=(3, 32, 32), num_classes: int = 10, dropout: float = 0.5
    ):
        super().__init__()
        c, h, w = input_shape
        if h % 4 or w % 4:
            raise ValueError(
                "input_shape height and width must be multiples of 4, "
                f"got {input_shape}"
            )
        self.features = nn.Sequential(
            nn.ZeroPad2d(_SAME_6),
            nn.Conv2d(c, 64, kernel_size=6),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.LocalResponseNorm(size=9, alpha=0.001, beta=0.75, k=1.0),
            nn.ZeroPad2d(_SAME_6),
            nn.Conv2d(64, 64, kernel_size=6),
            nn.ReLU(),
            nn.LocalResponseNorm(size=9, alpha=0.001, beta=0.75, k=1.0),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * (h // 4) * (w // 4), 384),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(384, 192),
            nn.ReLU(),
            nn.Linear(192, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


MODELS = {"logreg": LogisticRegression, "mlp": MLP, "cifarnet": CifarNet}
_ALIASES = {
    "logistic": "logreg",
    "logistic-regression": "logreg",
    "cifar-net": "cifarnet",
}


def build_model(name: str, input_shape=(1, 28, 28), num_classes: int = 10) -> nn.Module:
    """``"logreg"``, ``"mlp"`` or ``"cifarnet"`` for images of shape ``input_shape`` (C, H, W)."""
    if not isinstance(name, str):
        raise TypeError(f"model name must be a string, got {type(name).__name__}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, got {name!r}")
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(
            f"input_shape must be (channels, height, width) of positive ints, got {input_shape!r}"
        )
    return MODELS[key](shape, num_classes)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
