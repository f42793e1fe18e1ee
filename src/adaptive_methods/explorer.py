"""Chapter 4's explorer: one run of a method on the periodic problem, as two panels.

The periodic problem has the gradient ``C`` once every ``period`` steps and -1 otherwise
(:func:`~adaptive_methods.online.periodic_problem`).  :class:`Explorer` simulates a run
and draws x_t and ``|R_t| / t``; :func:`explorer_panel` puts sliders on it (this needs a
running kernel, e.g. in Binder); :func:`precomputed_panel` flips between frames computed
in advance, which works on a static page.

A redraw has to be fast enough to drag a slider (``benchmarks/bench_explorer.py`` times
it).  The simulator is exact and vectorised, and
:class:`~adaptive_methods.plotting.BlitRenderer` redraws only the curves: the axes are
drawn again only when their limits or titles change, and the limits of the regret panel
are whole decades, so that they rarely do.
"""

from __future__ import annotations

import math
import time
from numbers import Integral

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .online import SIMULATED, periodic_problem, regret, simulate
from .plotting import BlitRenderer, book_style, log_index, method_color, method_label

__all__ = [
    "DEFAULTS",
    "STEP_CHOICES",
    "Explorer",
    "explorer_panel",
    "precomputed_panel",
]

#: Figure 1's online problem divided by 10 (Adam and AMSGrad without eps do not see the
#: scale of the gradients), with the paper's beta1, beta2 and alpha_t = 1 / sqrt(t).
DEFAULTS = {
    "C": 101.0,
    "period": 101,
    "beta1": 0.9,
    "beta2": 0.99,
    "alpha": 1.0,
    "steps": 100_000,
    "method": "adam",
}
#: The run lengths (steps) that the slider of :func:`explorer_panel` offers.
STEP_CHOICES = (10**3, 10**4, 10**5, 10**6)

_REGRET_FLOOR = (
    1e-7  # |R_t|/t is drawn on a log axis; exact zeros are shown at this floor
)


class Explorer:
    """Two panels, x_t and ``|R_t| / t``, for one run on the periodic problem.

    The run is :func:`~adaptive_methods.online.simulate` of ``values["method"]`` (the
    paper's form, alpha_t = alpha / sqrt(t), x_1 = 0, on [-1, 1]) on
    :func:`~adaptive_methods.online.periodic_problem` ``(C, period)``: the gradient C
    at t = 1, 1 + period, ... and -1 otherwise.  The left panel draws x_t with the
    optimum dotted, the right one ``|R_t| / t``
    (:func:`~adaptive_methods.online.regret`) on log axes, both at ``points`` steps spaced evenly in log t.  The constructor runs
    :data:`DEFAULTS` (100,000 steps of Adam), drawn on a matplotlib ``Figure`` with an
    Agg canvas: no display is needed.

    Parameters
    ----------
    points : int, default 1200
        How many steps of the run the curves draw, >= 2.
    dpi : int, default 80
        The resolution of the figure (7.4 x 3.0 inches), >= 10.

    Attributes
    ----------
    values : dict
        The settings of the run drawn (the keys of :data:`DEFAULTS`).
    figure : matplotlib.figure.Figure
        The figure, with ``axes`` (the two panels) and ``lines`` (its curves by name).
    renderer : BlitRenderer
        Redraws only the curves when the axes have not changed.

    Raises
    ------
    ValueError
        If ``points`` is not an int >= 2 or ``dpi`` not an int >= 10 (a bool is not an
        int here).

    Examples
    --------
    >>> explorer = Explorer(points=50, dpi=20)
    >>> explorer.values["method"], explorer.values["steps"]
    ('adam', 100000)
    >>> x_end, average_regret = explorer.update(steps=1000, beta2=0.999)
    >>> round(x_end, 4), explorer.values["beta2"]
    (0.4589, 0.999)
    """

    def __init__(self, *, points: int = 1200, dpi: int = 80):
        if isinstance(points, bool) or not isinstance(points, Integral) or points < 2:
            raise ValueError(f"points must be an int >= 2, got {points!r}")
        if isinstance(dpi, bool) or not isinstance(dpi, Integral) or dpi < 10:
            raise ValueError(f"dpi must be an int >= 10, got {dpi!r}")
        self.points = int(points)
        with book_style():
            self.figure = Figure(
                figsize=(7.4, 3.0), dpi=dpi
            )  # 592 x 240 pixels at dpi 80
            FigureCanvasAgg(self.figure)
            self.figure.subplots_adjust(
                left=0.09, right=0.98, bottom=0.17, top=0.88, wspace=0.3
            )
            self.axes = self.figure.subplots(1, 2)
            x_ax, r_ax = self.axes
            self.lines = {
                "x": x_ax.plot([], [])[0],
                "R": r_ax.plot([], [])[0],
                "optimum": x_ax.plot([1, 1e9], [-1, -1], "k:", lw=1)[0],
            }
            x_ax.set(xscale="log", ylim=(-1.05, 1.05), xlabel="step $t$")
            r_ax.set(xscale="log", yscale="log", xlabel="step $t$", title="$|R_t| / t$")
            for ax in self.axes:
                ax.minorticks_off()  # a third of the time to draw the axes, and not needed to read them
        self.renderer = BlitRenderer(self.figure, list(self.lines.values()))
        self.values = dict(DEFAULTS)
        self.update()

    def update(self, **values) -> tuple[float, float]:
        """Simulate with new ``values`` and update the panels.

        Parameters
        ----------
        **values
            Any of the keys of :data:`DEFAULTS`; the others keep their last value.
            ``C`` (finite), ``period`` (int >= 1) as for
            :func:`~adaptive_methods.online.periodic_problem`; ``beta1``, ``beta2`` in
            [0, 1), ``alpha`` > 0 and ``method`` (a simulated method) as for
            :func:`~adaptive_methods.online.simulate`; ``steps``, the number of steps T,
            an int >= 1.

        Returns
        -------
        (float, float)
            x_{T+1} and R_T / T.

        Raises
        ------
        TypeError
            If a key is not one of :data:`DEFAULTS`, or a value other than ``steps`` has
            the wrong type.
        ValueError
            If a value is out of its range, or ``steps`` is not an int >= 1.  After an
            error the explorer keeps its values.

        Examples
        --------
        >>> explorer = Explorer(points=50, dpi=20)
        >>> x_end, average_regret = explorer.update(steps=1000, method="amsgrad")
        >>> round(x_end, 4), round(average_regret, 4)
        (-0.4424, 0.2446)
        """
        unknown = sorted(set(values) - set(DEFAULTS))
        if unknown:
            raise TypeError(
                f"update() got unknown parameters {unknown}; "
                f"the parameters are {sorted(DEFAULTS)}"
            )
        v = {**self.values, **values}
        steps = v["steps"]
        if isinstance(steps, bool) or not isinstance(steps, Integral) or steps < 1:
            raise ValueError(f"steps must be an int >= 1, got {steps!r}")
        steps = int(steps)
        problem = periodic_problem(v["C"], v["period"])
        g = problem.grads(steps)
        xs = simulate(
            v["method"], g, alpha=v["alpha"], beta1=v["beta1"], beta2=v["beta2"]
        )
        R = regret(g, xs)
        self.values = v
        idx = log_index(steps, self.points)
        t = idx + 1.0
        average = np.maximum(np.abs(R[idx]) / t, _REGRET_FLOOR)
        self.lines["x"].set_data(t, xs[idx])
        self.lines["R"].set_data(t, average)
        for key in ("x", "R"):
            self.lines[key].set_color(method_color(v["method"]))
        self.lines["optimum"].set_ydata([problem.optimum, problem.optimum])
        x_ax, r_ax = self.axes
        for ax in self.axes:
            ax.set_xlim(1, max(steps, 2))
        top = float(average.max())
        r_ax.set_ylim(
            10.0 ** math.floor(math.log10(max(top * 1e-4, _REGRET_FLOOR))),
            10.0 ** math.ceil(math.log10(top * 1.5)),
        )
        with book_style():
            x_ax.set_title(f"{method_label(v['method'])}: $x_t$ (dotted: optimum)")
        return float(xs[-1]), float(R[-1] / steps)

    def png(self) -> bytes:
        """The figure as PNG bytes (what the panels' ``ipywidgets.Image`` shows).

        Returns
        -------
        bytes

        Examples
        --------
        >>> Explorer(points=50, dpi=20).png()[:4]
        b'\\x89PNG'
        """
        return self.renderer.png()


def _widgets():
    try:
        import ipywidgets
    except ImportError as error:  # the package itself does not need ipywidgets
        raise ImportError(
            "the explorer panels need ipywidgets: pip install 'adaptive-methods[book]'"
        ) from error
    return ipywidgets


def _frame_widget(widgets, explorer: Explorer, **kwargs):
    """An ``ipywidgets.Image`` for the explorer's PNG frames, shown at their own width: a
    flex box would stretch the image, and blur it, to the width of the page."""
    width = explorer.renderer.canvas.get_width_height()[0]
    return widgets.Image(
        format="png",
        layout=widgets.Layout(width=f"{width}px", max_width="100%"),
        **kwargs,
    )


def explorer_panel(explorer: Explorer | None = None):
    """Sliders for C, period, beta1, beta2, alpha, steps and method over an Explorer.

    Every change of a slider redraws the figure (an ``ipywidgets.Image``) and reports
    x_T, R_T/T and how long the redraw took; that needs a running kernel (in Binder, or
    JupyterLab).  The sliders cover C in [1, 10^4] (log scale), period in [2, 2000],
    beta1 in [0, 0.999], beta2 in [0, 0.9999], alpha in [10^-3, 10] (log scale), steps
    in :data:`STEP_CHOICES` and the methods of
    :data:`~adaptive_methods.online.SIMULATED`; they start at the explorer's values.

    Parameters
    ----------
    explorer : Explorer or None, default None
        The explorer to drive (its ``values["steps"]`` one of :data:`STEP_CHOICES`);
        None builds ``Explorer()``.

    Returns
    -------
    ipywidgets.VBox
        The panel, drawn once, with the attributes ``controls`` (the sliders by name),
        ``image`` and ``status`` (for tests and readers' code).

    Raises
    ------
    ImportError
        If ipywidgets is not installed (``pip install 'adaptive-methods[book]'``).

    Examples
    --------
    >>> panel = explorer_panel(Explorer(points=50, dpi=20))
    >>> sorted(panel.controls)
    ['C', 'alpha', 'beta1', 'beta2', 'method', 'period', 'steps']
    >>> panel.controls["method"].value
    'adam'
    """
    widgets = _widgets()
    explorer = explorer if explorer is not None else Explorer()
    image = _frame_widget(widgets, explorer)
    status = widgets.Label()
    v = explorer.values
    controls = {
        # no step: on a grid of exponents the browser would move C = 101 to 10^2 = 100
        "C": widgets.FloatLogSlider(
            value=v["C"], base=10, min=0, max=4, step=None, description="C"
        ),
        "period": widgets.IntSlider(
            value=v["period"], min=2, max=2000, description="period"
        ),
        "beta1": widgets.FloatSlider(
            value=v["beta1"],
            min=0.0,
            max=0.999,
            step=0.001,
            readout_format=".3f",
            description="β1",
        ),
        "beta2": widgets.FloatSlider(
            value=v["beta2"],
            min=0.0,
            max=0.9999,
            step=0.0001,
            readout_format=".4f",
            description="β2",
        ),
        "alpha": widgets.FloatLogSlider(
            value=v["alpha"], base=10, min=-3, max=1, step=0.05, description="α"
        ),
        "steps": widgets.SelectionSlider(
            options=list(STEP_CHOICES), value=v["steps"], description="steps"
        ),
        "method": widgets.Dropdown(
            options=list(SIMULATED), value=v["method"], description="method"
        ),
    }

    def redraw(change=None):
        start = time.perf_counter()
        x_end, average = explorer.update(
            **{name: w.value for name, w in controls.items()}
        )
        image.value = explorer.png()
        elapsed = time.perf_counter() - start
        status.value = f"x_T = {x_end:+.3f}, R_T/T = {average:.2e}   (redraw {1e3 * elapsed:.0f} ms)"

    for w in controls.values():
        w.observe(redraw, names="value")
    redraw()
    left = widgets.VBox([controls[k] for k in ("C", "period", "steps", "method")])
    right = widgets.VBox([controls[k] for k in ("beta1", "beta2", "alpha")])
    panel = widgets.VBox([widgets.HBox([left, right]), image, status])
    panel.controls, panel.image, panel.status = (
        controls,
        image,
        status,
    )  # for tests and for readers' code
    return panel


def precomputed_panel(
    beta2_values=(0.9, 0.97, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999), start: int = 2
):
    """Frames of Adam at the defaults for a few beta2, in a Stack that a slider flips.

    The frames are :class:`Explorer` runs of :data:`DEFAULTS` with each beta2, computed
    when the panel is built.  The slider drives the Stack through ``jslink``, a link
    between the two widgets in the browser: it works in the widget state embedded in a
    static page, with no kernel.

    Parameters
    ----------
    beta2_values : sequence of float, default eight values from 0.9 to 0.9999
        The beta2 of the frames, each in [0, 1); not empty.  The default is
        (0.9, 0.97, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999).
    start : int, default 2
        The index of the frame shown first, 0 <= start < len(beta2_values).

    Returns
    -------
    ipywidgets.VBox
        The slider, a Stack of notes (x_T and R_T/T of each frame) and a Stack of
        images.

    Raises
    ------
    ImportError
        If ipywidgets is not installed (``pip install 'adaptive-methods[book]'``).
    ValueError
        If ``beta2_values`` is empty, ``start`` is not an index into it, or a beta2 is
        outside [0, 1).

    Examples
    --------
    >>> panel = precomputed_panel([0.999], start=0)
    >>> slider, notes, images = panel.children
    >>> notes.children[0].value
    'Adam, β2 = 0.999: x_T = ...'
    """
    widgets = _widgets()
    beta2_values = tuple(beta2_values)
    if not beta2_values:
        raise ValueError("beta2_values must not be empty")
    if (
        isinstance(start, bool)
        or not isinstance(start, Integral)
        or not 0 <= start < len(beta2_values)
    ):
        raise ValueError(
            f"start must be an index into beta2_values (0 .. {len(beta2_values) - 1}), got {start!r}"
        )
    explorer = Explorer()
    images, notes = [], []
    for b2 in beta2_values:
        x_end, average = explorer.update(beta2=b2)
        images.append(_frame_widget(widgets, explorer, value=explorer.png()))
        notes.append(
            widgets.Label(
                f"Adam, β2 = {b2:g}: x_T = {x_end:+.3f}, R_T/T = {average:.2e}"
            )
        )
    slider = widgets.SelectionSlider(
        options=[(f"{b2:g}", i) for i, b2 in enumerate(beta2_values)],
        value=start,
        description="β2",
        continuous_update=True,
    )
    image_stack = widgets.Stack(images, selected_index=start)
    note_stack = widgets.Stack(notes, selected_index=start)
    widgets.jslink((slider, "index"), (image_stack, "selected_index"))
    widgets.jslink((slider, "index"), (note_stack, "selected_index"))
    return widgets.VBox([slider, note_stack, image_stack])
