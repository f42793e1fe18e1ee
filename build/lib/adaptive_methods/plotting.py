"""The book's figure style, shared by every chapter.

One colour per method, used in every figure, so that "Adam is orange" holds across the
book; one function that sets Matplotlib's defaults; and :class:`BlitRenderer`, which
renders a figure whose axes stay put to PNG fast enough for a slider.
"""

from __future__ import annotations

import io
from collections import OrderedDict

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

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


BOOK_STYLE = {
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


def use_book_style() -> None:
    """Set the Matplotlib defaults every figure of the book uses."""
    mpl.rcParams.update(BOOK_STYLE)


def book_style():
    """The book's defaults for a ``with`` block only (for code that must not change global state)."""
    return mpl.rc_context(BOOK_STYLE)


def new_figure(ncols: int = 1, nrows: int = 1, **kwargs):
    """A figure with the book's style applied; returns ``(fig, axes)`` like ``plt.subplots``."""
    use_book_style()
    width = kwargs.pop("width", 3.6 * ncols if ncols > 1 else 7.0)
    height = kwargs.pop("height", 3.2 * nrows)
    return plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained", **kwargs)


def log_index(T: int, n: int = 1500) -> np.ndarray:
    """About ``n`` indices 0 .. T-1, evenly spaced on a log scale (for log-time plots).

    A log-time axis cannot show more than a few hundred distinct points per decade, so
    plotting every one of 10^7 steps only costs time.
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be an int >= 1, got {T!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    return np.unique(np.geomspace(1, T, n).astype(np.int64)) - 1


class BlitRenderer:
    """PNG frames of a figure whose axes change less often than its data.

    Drawing the axes -- ticks, tick labels, titles, the grid -- is most of the time it takes
    to render a small figure (``benchmarks/bench_explorer.py`` compares the two).  The renderer
    draws the figure without the ``animated`` artists once for each state of its axes
    (limits, scales, titles, labels, figure size), keeps that background, and for a frame
    restores it and draws only the animated artists on top: Matplotlib's blitting, into a
    PNG instead of a window.

    Everything that is not animated must change only through the axes state above (or be
    followed by :meth:`invalidate`).  Animated artists are drawn over everything else, the
    spines included.  The ``max_backgrounds`` most recently used backgrounds are kept.
    """

    def __init__(self, fig: Figure, animated, *, max_backgrounds: int = 32, compress_level: int = 1):
        if not isinstance(fig, Figure):
            raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
        animated = list(animated)
        for artist in animated:
            if not isinstance(artist, Artist) or artist.figure is not fig:
                raise ValueError(f"animated must hold artists of fig, got {artist!r}")
        if not animated:
            raise ValueError("animated must hold at least one artist")
        if isinstance(max_backgrounds, bool) or not isinstance(max_backgrounds, int) or max_backgrounds < 1:
            raise ValueError(f"max_backgrounds must be an int >= 1, got {max_backgrounds!r}")
        if isinstance(compress_level, bool) or not isinstance(compress_level, int) or not 0 <= compress_level <= 9:
            raise ValueError(f"compress_level must be an int in 0..9, got {compress_level!r}")
        self.fig = fig
        self.animated = animated
        self.max_backgrounds = max_backgrounds
        self.compress_level = compress_level  # zlib level: 1 encodes ~5x faster than 6, files ~1.5x larger
        self.canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        self._backgrounds: OrderedDict = OrderedDict()
        self.background_draws = 0  # full draws so far: one per new axes state

    def axes_state(self) -> tuple:
        """What the background depends on: figure size and, per axes, limits, scales, texts."""
        state = [tuple(self.fig.get_size_inches()), self.fig.dpi]
        for ax in self.fig.axes:
            state.append((ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale(), ax.get_xlabel(),
                          ax.get_ylabel(), *(ax.get_title(loc) for loc in ("left", "center", "right"))))
        return tuple(state)

    def invalidate(self) -> None:
        """Forget every background (after changing something that is not in :meth:`axes_state`)."""
        self._backgrounds.clear()

    def render(self) -> None:
        """Bring the canvas up to date: the background for the current axes state, then the animated artists."""
        key = self.axes_state()
        background = self._backgrounds.get(key)
        if background is None:
            visible = [artist.get_visible() for artist in self.animated]
            for artist in self.animated:
                artist.set_visible(False)
            try:
                self.canvas.draw()
            finally:
                for artist, shown in zip(self.animated, visible):
                    artist.set_visible(shown)
            background = self.canvas.copy_from_bbox(self.fig.bbox)
            self.background_draws += 1
            self._backgrounds[key] = background
            while len(self._backgrounds) > self.max_backgrounds:
                self._backgrounds.popitem(last=False)
        else:
            self._backgrounds.move_to_end(key)
            self.canvas.restore_region(background)
        for artist in self.animated:
            if artist.get_visible():
                (artist.axes or self.fig).draw_artist(artist)

    def rgba(self) -> np.ndarray:
        """The current frame as an (height, width, 4) uint8 array."""
        self.render()
        return np.asarray(self.canvas.buffer_rgba()).copy()

    def png(self) -> bytes:
        """The current frame as PNG bytes."""
        self.render()
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=self.compress_level)
        return buffer.getvalue()
