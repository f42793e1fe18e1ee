"""The book's figure style, shared by every chapter.

One style per method (colour, line style, marker, read from the method registry), used
in every figure, so that "Adam is orange" holds across the book; one function that sets
Matplotlib's defaults; and :class:`BlitRenderer`, which
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

from .registry import METHODS

__all__ = [
    "VARIANT_STYLES",
    "BOOK_STYLE",
    "method_style",
    "method_color",
    "method_label",
    "use_book_style",
    "book_style",
    "new_figure",
    "log_index",
    "BlitRenderer",
]

#: The implementations of one method that figures compare (AMSGrad in PyTorch, in optax,
#: in the paper): the grey, yellow and purple of the same colour-blind-safe palette as
#: the methods' colours (:data:`~adaptive_methods.registry.METHODS`).
VARIANT_STYLES = {
    "torch": {"color": "#6E6E6E", "linestyle": "-", "marker": "o", "label": "PyTorch"},
    "pytorch": {"color": "#6E6E6E", "linestyle": "-", "marker": "o", "label": "PyTorch"},
    "optax": {"color": "#B8A200", "linestyle": "--", "marker": "s", "label": "optax"},
    "paper": {"color": "#882255", "linestyle": "-.", "marker": "^", "label": "paper"},
}
_UNKNOWN = {"color": "#4D4D4D", "linestyle": "-", "marker": "o"}


def method_style(name: str) -> dict:
    """Colour, line style, marker and label of a method or of an implementation variant.

    Methods come from the registry (one colour, line style and marker per method across
    the book); a name that is neither gets a dark grey and its own name as label.

    Parameters
    ----------
    name : str
        A method of :data:`~adaptive_methods.registry.METHODS` (``"adam"``,
        ``"amsgrad"``, ...), a variant of :data:`VARIANT_STYLES` (``"torch"``,
        ``"pytorch"``, ``"optax"``, ``"paper"``), in any case, or any other string.

    Returns
    -------
    dict
        A new dict (changing it changes no other figure's style) with the keys
        ``"color"``, ``"linestyle"``, ``"marker"`` and ``"label"``, to pass to
        ``Axes.plot`` as keyword arguments.

    Raises
    ------
    TypeError
        If ``name`` is not a str.

    Examples
    --------
    >>> method_style("AMSGrad")["label"]
    'AMSGrad'
    >>> method_style("optax")
    {'color': '#B8A200', 'linestyle': '--', 'marker': 's', 'label': 'optax'}
    >>> method_style("my variant")["label"]
    'my variant'
    """
    if not isinstance(name, str):
        raise TypeError(
            f"name must be a str (a method or variant), got {type(name).__name__}: {name!r}"
        )
    key = name.lower()
    if key in METHODS:
        return dict(METHODS[key].style)
    if key in VARIANT_STYLES:
        return dict(VARIANT_STYLES[key])
    return {**_UNKNOWN, "label": name}


def method_color(name: str) -> str:
    """The colour of a method or variant (case-insensitive).

    Parameters
    ----------
    name : str
        A method, a variant or any other string, as for :func:`method_style`.

    Returns
    -------
    str
        A hex colour ``"#RRGGBB"``; dark grey for a name that is neither.

    Raises
    ------
    TypeError
        If ``name`` is not a str.

    Examples
    --------
    >>> method_color("Adam") == method_color("adam")
    True
    >>> method_color("no such method")
    '#4D4D4D'
    """
    return method_style(name)["color"]


def method_label(name: str) -> str:
    """The printed name of a method ("amsgrad" -> "AMSGrad").

    Parameters
    ----------
    name : str
        A method, a variant or any other string, as for :func:`method_style`.

    Returns
    -------
    str
        The name as the book prints it; a name that is neither a method nor a variant
        is returned as it is.

    Raises
    ------
    TypeError
        If ``name`` is not a str.

    Examples
    --------
    >>> method_label("amsgrad"), method_label("torch")
    ('AMSGrad', 'PyTorch')
    """
    return method_style(name)["label"]


#: The Matplotlib defaults of every figure of the book (``rcParams`` names and values),
#: set by :func:`use_book_style` and, for one ``with`` block, by :func:`book_style`.
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
    """Set the Matplotlib defaults every figure of the book uses.

    Updates ``matplotlib.rcParams`` with :data:`BOOK_STYLE` for the rest of the
    session (use :func:`book_style` to leave the global defaults alone).

    Examples
    --------
    >>> import matplotlib
    >>> with matplotlib.rc_context():  # only to restore the defaults afterwards
    ...     use_book_style()
    ...     matplotlib.rcParams["axes.spines.top"]
    False
    """
    mpl.rcParams.update(BOOK_STYLE)


def book_style():
    """The book's defaults for a ``with`` block only (for code that must not change
    global state).

    Returns
    -------
    contextlib.AbstractContextManager
        ``matplotlib.rc_context(BOOK_STYLE)``: :data:`BOOK_STYLE` holds inside the
        block, and the previous defaults are back after it.

    Examples
    --------
    >>> import matplotlib
    >>> with book_style():
    ...     matplotlib.rcParams["legend.frameon"]
    False
    """
    return mpl.rc_context(BOOK_STYLE)


def new_figure(ncols: int = 1, nrows: int = 1, **kwargs):
    """A figure with the book's style applied; ``(fig, axes)`` like ``plt.subplots``.

    Sets the book's defaults globally first (:func:`use_book_style`) and lays the axes
    out with Matplotlib's constrained layout.

    Parameters
    ----------
    ncols : int, default 1
        Columns of axes, >= 1.
    nrows : int, default 1
        Rows of axes, >= 1.
    width : float, optional
        Figure width in inches, > 0; default 7.0 for one column, 3.6 per column else.
    height : float, optional
        Figure height in inches, > 0; default 3.2 per row.
    **kwargs
        Passed on to ``matplotlib.pyplot.subplots`` (``sharex``, ``sharey``, ...).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The new figure (in pyplot's list of figures: ``plt.close(fig)`` frees it).
    axes : matplotlib.axes.Axes or numpy.ndarray of Axes
        One Axes for one column and one row, else an array, as ``plt.subplots``
        returns them.

    Raises
    ------
    TypeError
        If ``ncols`` or ``nrows`` is not an int.
    ValueError
        If ``ncols`` or ``nrows`` is < 1.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> with matplotlib.rc_context():  # new_figure sets the book's style globally
    ...     fig, axes = new_figure(ncols=2)
    >>> axes.shape, fig.get_size_inches().tolist()
    ((2,), [7.2, 3.2])
    >>> plt.close(fig)
    """
    for name, value in (("ncols", ncols), ("nrows", nrows)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int >= 1, got {type(value).__name__}: {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    use_book_style()
    width = kwargs.pop("width", 3.6 * ncols if ncols > 1 else 7.0)
    height = kwargs.pop("height", 3.2 * nrows)
    return plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained", **kwargs)


def log_index(T: int, n: int = 1500) -> np.ndarray:
    """About ``n`` indices 0 .. T-1, evenly spaced on a log scale (for log-time plots).

    A log-time axis cannot show more than a few hundred distinct points per decade, so
    plotting every one of 10^7 steps only costs time.

    Parameters
    ----------
    T : int
        The number of points of the full series (steps 1 .. T), >= 1.
    n : int, default 1500
        How many points to pick at most, >= 1; fewer where the log scale puts several
        on the same integer (near the start).

    Returns
    -------
    numpy.ndarray of int64
        Increasing distinct indices into a series of length ``T``, from 0 and (for
        ``n`` >= 2) to ``T - 1``: ``series[log_index(T)]`` thins it.

    Raises
    ------
    ValueError
        If ``T`` or ``n`` is not an int >= 1.

    Examples
    --------
    >>> log_index(10**6, n=7)
    array([     0,      9,     99,    999,   9999,  99999, 999999])
    >>> log_index(5, n=100)
    array([0, 1, 2, 3, 4])
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be an int >= 1, got {T!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    return np.unique(np.geomspace(1, T, n).astype(np.int64)) - 1


class BlitRenderer:
    """PNG frames of a figure whose axes change less often than its data.

    Drawing the axes -- ticks, tick labels, titles, the grid -- is most of the time it
    takes to render a small figure (``benchmarks/bench_explorer.py`` compares the two).
    The renderer draws the figure without the ``animated`` artists once for each state
    of its axes (limits, scales, titles, labels, figure size), keeps that background,
    and for a frame restores it and draws only the animated artists on top:
    Matplotlib's blitting, into a PNG instead of a window.

    Everything that is not animated must change only through the axes state above (or
    be followed by :meth:`invalidate`).  Animated artists are drawn over everything
    else, the spines included.  The ``max_backgrounds`` most recently used backgrounds are kept.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to render; its canvas is used if it is an Agg canvas, else an Agg
        canvas is attached to it.
    animated : iterable of matplotlib.artist.Artist
        The artists that change from frame to frame (lines, markers, texts), at least
        one, all of them in ``fig``.
    max_backgrounds : int, default 32
        How many backgrounds (axes states) to keep, >= 1.
    compress_level : int, default 1
        The zlib level of the PNG frames, 0 .. 9 (1 encodes about 5 times faster than
        6, in files about 1.5 times larger).

    Attributes
    ----------
    background_draws : int
        The full draws so far: one per axes state not among the kept backgrounds.

    Raises
    ------
    TypeError
        If ``fig`` is not a Matplotlib Figure.
    ValueError
        If ``animated`` is empty or holds something that is not an artist of ``fig``,
        or ``max_backgrounds`` or ``compress_level`` is out of its range.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 1.5), dpi=50)
    >>> ax = fig.add_subplot()
    >>> (line,) = ax.plot([0, 1], [0, 1])
    >>> renderer = BlitRenderer(fig, [line])
    >>> frames = []
    >>> for slope in (0.5, 0.8):
    ...     line.set_ydata([0, slope])
    ...     frames.append(renderer.png())
    >>> frames[0][:8] == b"\\x89PNG\\r\\n\\x1a\\n", frames[0] != frames[1]
    (True, True)
    >>> renderer.background_draws  # the axes stayed put: drawn once
    1
    >>> renderer.rgba().shape
    (75, 100, 4)
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
        """What the background depends on: figure size and, per axes, limits, scales and
        texts.

        Returns
        -------
        tuple
            The figure's size in inches and dpi, then per axes its x and y limits and
            scales, its x and y labels and its three titles; hashable, equal for two
            states that share a background.

        Examples
        --------
        >>> from matplotlib.figure import Figure
        >>> fig = Figure()
        >>> (line,) = fig.add_subplot().plot([0, 1])
        >>> renderer = BlitRenderer(fig, [line])
        >>> before = renderer.axes_state()
        >>> _ = fig.axes[0].set_ylim(0, 2)
        >>> renderer.axes_state() == before
        False
        """
        state = [tuple(self.fig.get_size_inches()), self.fig.dpi]
        for ax in self.fig.axes:
            state.append((ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale(), ax.get_xlabel(),
                          ax.get_ylabel(), *(ax.get_title(loc) for loc in ("left", "center", "right"))))
        return tuple(state)

    def invalidate(self) -> None:
        """Forget every background (after changing something that is not in
        :meth:`axes_state`).

        Examples
        --------
        >>> from matplotlib.figure import Figure
        >>> fig = Figure(figsize=(2, 1.5), dpi=50)
        >>> ax = fig.add_subplot()
        >>> (line,) = ax.plot([0, 1])
        >>> renderer = BlitRenderer(fig, [line])
        >>> renderer.render()
        >>> _ = ax.axhline(0.5)  # a new static artist: not part of the axes state
        >>> renderer.invalidate()
        >>> renderer.render()
        >>> renderer.background_draws
        2
        """
        self._backgrounds.clear()

    def render(self) -> None:
        """Bring the canvas up to date: the background for the current axes state, then
        the animated artists.

        The background is drawn (with the animated artists hidden) when the axes state
        has none kept, else restored; the visible animated artists are drawn on top.

        Examples
        --------
        >>> from matplotlib.figure import Figure
        >>> fig = Figure(figsize=(2, 1.5), dpi=50)
        >>> (line,) = fig.add_subplot().plot([0, 1])
        >>> renderer = BlitRenderer(fig, [line])
        >>> renderer.render()
        >>> renderer.render()
        >>> renderer.background_draws
        1
        """
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
        """The current frame as an (height, width, 4) uint8 array.

        Returns
        -------
        numpy.ndarray of uint8, shape (height, width, 4)
            The frame's RGBA pixels (a copy: later frames do not change it).

        Examples
        --------
        >>> from matplotlib.figure import Figure
        >>> fig = Figure(figsize=(2, 1), dpi=50)
        >>> (line,) = fig.add_subplot().plot([0, 1])
        >>> frame = BlitRenderer(fig, [line]).rgba()
        >>> frame.shape, frame.dtype
        ((50, 100, 4), dtype('uint8'))
        """
        self.render()
        return np.asarray(self.canvas.buffer_rgba()).copy()

    def png(self) -> bytes:
        """The current frame as PNG bytes.

        Returns
        -------
        bytes
            The frame as an RGBA PNG file, compressed at ``compress_level``.

        Examples
        --------
        >>> import io
        >>> from matplotlib.figure import Figure
        >>> from PIL import Image
        >>> fig = Figure(figsize=(2, 1), dpi=50)
        >>> (line,) = fig.add_subplot().plot([0, 1])
        >>> Image.open(io.BytesIO(BlitRenderer(fig, [line]).png())).size
        (100, 50)
        """
        self.render()
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=self.compress_level)
        return buffer.getvalue()
