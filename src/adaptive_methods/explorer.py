"""Chapter 4's explorer: one run of a method on the periodic problem, as two panels.

The periodic problem has the gradient ``C`` once every ``period`` steps and -1 otherwise
(:func:`~adaptive_methods.online.periodic_problem`).  :class:`Explorer` simulates a run
and draws x_t and |R_t|/t; :func:`explorer_panel` puts sliders on it (this needs a running
kernel, e.g. in Binder); :func:`precomputed_panel` flips between frames computed in
advance, which works on a static page.

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
STEP_CHOICES = (10**3, 10**4, 10**5, 10**6)

_REGRET_FLOOR = (
    1e-7  # |R_t|/t is drawn on a log axis; exact zeros are shown at this floor
)


class Explorer:
    """Two panels, x_t and |R_t|/t, for one run on the periodic problem.

    >>> explorer = Explorer()
    >>> x_end, average_regret = explorer.update(beta2=0.999)   # any of DEFAULTS' keys
    >>> frame = explorer.png()                                 # PNG bytes of the figure
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
        """Simulate with ``values`` (keys of :data:`DEFAULTS`; the others keep
        their last value) and update the panels.  Returns (x_{T+1}, R_T / T)."""
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
        """The figure as PNG bytes."""
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
    """Sliders for C, period, beta1, beta2, alpha, steps and method over an :class:`Explorer`.

    Every change of a slider redraws the figure (an ``ipywidgets.Image``) and reports
    x_T, R_T/T and how long the redraw took.  Needs a running kernel."""
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

    The slider drives the Stack through ``jslink``, a link between the two widgets in the
    browser: it works in the widget state embedded in a static page, with no kernel."""
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
