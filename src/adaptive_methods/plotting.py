"""The book's figure style, shared by every chapter.

One colour per method, used in every figure, so that "Adam is orange" holds across the
book; and one function that sets Matplotlib's defaults.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

METHOD_COLORS = {
    "sgd": "#4C72B0",
    "adagrad": "#55A868",
    "rmsprop": "#8172B2",
    "adam": "#DD8452",
    "amsgrad": "#C44E52",
    "adamnc": "#937860",
    "adamx": "#DA8BC3",
    "torch": "#8C8C8C",
    "optax": "#CCB974",
    "paper": "#C44E52",
}

METHOD_LABELS = {
    "sgd": "SGD",
    "adagrad": "Adagrad",
    "rmsprop": "RMSProp",
    "adam": "Adam",
    "amsgrad": "AMSGrad",
    "adamnc": "AdamNC",
    "adamx": "AdamX",
}


def method_color(method: str) -> str:
    """The colour of a method (case-insensitive); grey for a name the book has no colour for."""
    return METHOD_COLORS.get(method.lower(), "#4D4D4D")


def method_label(method: str) -> str:
    """The printed name of a method ("amsgrad" -> "AMSGrad")."""
    return METHOD_LABELS.get(method.lower(), method)


def use_book_style() -> None:
    """Set the Matplotlib defaults every figure of the book uses."""
    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 3.6),
            "figure.dpi": 110,
            "savefig.dpi": 110,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "lines.linewidth": 1.6,
            "font.family": "DejaVu Sans",
            # svg would embed text as paths anyway; png keeps pages light and deterministic
            "svg.hashsalt": "adaptive-methods",
        }
    )


def new_figure(ncols: int = 1, nrows: int = 1, **kwargs):
    """A figure with the book's style applied; returns ``(fig, axes)`` like ``plt.subplots``."""
    use_book_style()
    width = kwargs.pop("width", 3.6 * ncols if ncols > 1 else 7.0)
    height = kwargs.pop("height", 3.2 * nrows)
    return plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained", **kwargs)
