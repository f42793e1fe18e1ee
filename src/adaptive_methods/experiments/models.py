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
    """Multiclass logistic regression: one linear map from pixels to class scores.

    The paper's first model (Reddi et al., Section 5); with the cross-entropy loss the
    problem is convex.

    Parameters
    ----------
    input_shape : (int, int, int), default (1, 28, 28)
        The shape ``(C, H, W)`` of one image.
    num_classes : int, default 10
        The number of class scores.

    Examples
    --------
    >>> import torch
    >>> model = LogisticRegression((1, 28, 28), num_classes=10)
    >>> model(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    >>> sum(p.numel() for p in model.parameters())
    7850
    """

    def __init__(self, input_shape=(1, 28, 28), num_classes: int = 10):
        super().__init__()
        c, h, w = input_shape
        self.linear = nn.Linear(c * h * w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits (N, num_classes) of images x of shape (N, C, H, W)."""
        return self.linear(x.flatten(1))


class MLP(nn.Module):
    """One hidden layer of ``hidden`` ReLU units (100 in the paper), then class scores.

    Parameters
    ----------
    input_shape : (int, int, int), default (1, 28, 28)
        The shape ``(C, H, W)`` of one image.
    num_classes : int, default 10
        The number of class scores.
    hidden : int, default 100
        The number of hidden ReLU units.

    Examples
    --------
    >>> import torch
    >>> model = MLP((1, 28, 28), hidden=100)
    >>> model(torch.zeros(3, 1, 28, 28)).shape
    torch.Size([3, 10])
    >>> model.hidden.out_features
    100
    """

    def __init__(
        self, input_shape=(1, 28, 28), num_classes: int = 10, hidden: int = 100
    ):
        super().__init__()
        c, h, w = input_shape
        self.hidden = nn.Linear(c * h * w, hidden)
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits (N, num_classes) of images x of shape (N, C, H, W)."""
        return self.out(torch.relu(self.hidden(x.flatten(1))))


_SAME_6 = (2, 3, 2, 3)  # left, right, top, bottom: TensorFlow's "SAME" for a 6x6 kernel


class CifarNet(nn.Module):
    """CIFARNET as the paper describes it.

    Two convolutions with 64 channels and 6x6 kernels, each followed by a ReLU; 2x2 max
    pooling and local response normalisation between and after them; fully connected
    layers of 384 and 192 ReLU units with dropout (keep probability 0.5) between them; a
    linear output layer. The convolutions pad to keep the image size (TensorFlow's
    "same" padding: 2 pixels before and 3 after for a 6-wide kernel), so the first fully
    connected layer sees ``64 * (H/4) * (W/4)`` features: 4096 on 32x32 CIFAR-10 images,
    3136 on 28x28 ones. The LRN constants are those of the TensorFlow CIFAR-10 model the
    name comes from (window 9, alpha 0.001 over the window, beta 0.75, k 1).

    Parameters
    ----------
    input_shape : (int, int, int), default (3, 32, 32)
        The shape ``(C, H, W)`` of one image; H and W multiples of 4.
    num_classes : int, default 10
        The number of class scores.
    dropout : float, default 0.5
        The probability of dropping a unit between the fully connected layers.

    Raises
    ------
    ValueError
        If the height or the width is not a multiple of 4.

    Examples
    --------
    >>> import torch
    >>> model = CifarNet((1, 28, 28)).eval()
    >>> model(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    >>> model.classifier[1].in_features
    3136
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
        """The logits (N, num_classes) of images x of shape (N, C, H, W)."""
        return self.classifier(self.features(x))


#: The models by the name :func:`build_model` and the command line take.
#:
#: :meta hide-value:
MODELS = {"logreg": LogisticRegression, "mlp": MLP, "cifarnet": CifarNet}
_ALIASES = {
    "logistic": "logreg",
    "logistic-regression": "logreg",
    "cifar-net": "cifarnet",
}


def build_model(name: str, input_shape=(1, 28, 28), num_classes: int = 10) -> nn.Module:
    """The model ``name`` of :data:`MODELS`, for images of shape ``input_shape``.

    Parameters
    ----------
    name : {"logreg", "mlp", "cifarnet"}
        The model (case ignored; ``"logistic"``, ``"logistic-regression"`` and
        ``"cifar-net"`` are aliases).
    input_shape : (int, int, int), default (1, 28, 28)
        The shape ``(C, H, W)`` of one image, positive ints (CIFARNET: H and W multiples
        of 4).
    num_classes : int, default 10
        The number of class scores.

    Returns
    -------
    torch.nn.Module
        A freshly initialized model (from torch's global random generator).

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If ``name`` is not a model, or ``input_shape`` is not three positive ints.

    Examples
    --------
    >>> type(build_model("logistic", (3, 32, 32))).__name__
    'LogisticRegression'
    >>> count_parameters(build_model("cifarnet", (3, 32, 32)))
    1803594
    >>> build_model("resnet")
    Traceback (most recent call last):
    ...
    ValueError: model must be one of ['cifarnet', 'logreg', 'mlp'], got 'resnet'
    """
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
    """The number of parameters of ``model`` (entries of all its parameter tensors).

    Examples
    --------
    >>> count_parameters(build_model("mlp"))
    79510
    """
    return sum(p.numel() for p in model.parameters())
