"""Chapter 4's explorer and the blitting renderer under it."""

from __future__ import annotations

import io
import time

import ipywidgets as widgets
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from adaptive_methods.explorer import DEFAULTS, Explorer, explorer_panel, precomputed_panel
from adaptive_methods.online import periodic_problem, regret, simulate
from adaptive_methods.plotting import BlitRenderer, log_index


@pytest.fixture(scope="module")
def explorer():
    return Explorer()


def full_draw(explorer):
    explorer.renderer.canvas.draw()
    return np.asarray(explorer.renderer.canvas.buffer_rgba()).copy()


@pytest.mark.parametrize("values", [{}, {"beta2": 0.999}, {"method": "amsgrad", "steps": 10**4}, {"C": 3.0, "period": 3}])
def test_a_frame_is_the_full_drawing(explorer, values):
    explorer.update(**{**DEFAULTS, **values})
    frame = np.asarray(Image.open(io.BytesIO(explorer.png())))
    assert frame.shape == (240, 592, 4)
    full = full_draw(explorer)
    # the curves are drawn over the spines instead of under them: a few pixels differ
    assert np.mean(np.any(frame != full, axis=2)) < 2e-3
    np.testing.assert_array_equal(frame, explorer.renderer.rgba())


def test_update_reports_the_simulated_run(explorer):
    values = {**DEFAULTS, "beta2": 0.995, "steps": 5000, "method": "amsgrad"}
    x_end, average = explorer.update(**values)
    g = periodic_problem(values["C"], values["period"]).grads(5000)
    xs = simulate("amsgrad", g, alpha=1.0, beta1=0.9, beta2=0.995)
    assert x_end == xs[-1]
    assert average == regret(g, xs)[-1] / 5000
    t, y = explorer.lines["x"].get_data()
    idx = log_index(5000, explorer.points)
    np.testing.assert_array_equal(t, idx + 1)
    np.testing.assert_array_equal(y, xs[idx])


def test_backgrounds_are_drawn_once_per_axes_state(explorer):
    renderer = explorer.renderer
    explorer.update(**DEFAULTS)
    explorer.png()
    before = renderer.background_draws
    for b2 in (0.9899, 0.9898, 0.9897):  # same axes, new curves
        explorer.update(beta2=b2)
        explorer.png()
    assert renderer.background_draws == before
    explorer.update(steps=10**4)  # new x limits
    explorer.png()
    explorer.update(steps=10**5, method="rmsprop")  # new title
    explorer.png()
    assert renderer.background_draws == before + 2
    explorer.update(**DEFAULTS)  # seen before: reused
    explorer.png()
    assert renderer.background_draws == before + 2


def test_only_the_most_recent_backgrounds_are_kept():
    fig = Figure()
    ax = fig.subplots()
    line = ax.plot([0, 1], [0, 1])[0]
    renderer = BlitRenderer(fig, [line], max_backgrounds=2)
    for limit in (1, 2, 3, 1):
        ax.set_xlim(0, limit)
        renderer.png()
    assert renderer.background_draws == 4  # 1 was dropped when 3 came in
    renderer.png()
    assert renderer.background_draws == 4
    renderer.invalidate()
    renderer.png()
    assert renderer.background_draws == 5


def test_a_redraw_at_1e5_steps_takes_under_0_2_s(explorer):
    explorer.update(**DEFAULTS)
    explorer.png()
    times = []
    for i in range(7):
        start = time.perf_counter()
        explorer.update(beta2=0.99 - 0.0001 * i)
        explorer.png()
        times.append(time.perf_counter() - start)
    assert np.median(times) < 0.2, times


def test_the_panel_redraws_when_a_slider_moves():
    panel = explorer_panel()
    assert set(panel.controls) == set(DEFAULTS)
    first, status = panel.image.value, panel.status.value
    assert bytes(first).startswith(b"\x89PNG") and status.startswith("x_T = ")
    panel.controls["beta2"].value = 0.9999
    assert bytes(panel.image.value) != bytes(first) and panel.status.value != status
    panel.controls["method"].value = "amsgrad"
    assert "redraw" in panel.status.value


def test_the_precomputed_panel_links_a_slider_to_its_frames():
    panel = precomputed_panel(beta2_values=(0.99, 0.9999), start=1)
    slider, notes, images = panel.children
    assert isinstance(images, widgets.Stack) and len(images.children) == 2 and images.selected_index == 1
    assert all(bytes(child.value).startswith(b"\x89PNG") for child in images.children)
    assert bytes(images.children[0].value) != bytes(images.children[1].value)
    assert "β2 = 0.9999" in notes.children[1].value


BAD_CALLS = [
    (lambda e: e.update(steps=0), ValueError, "steps"),
    (lambda e: e.update(steps=1.5), ValueError, "steps"),
    (lambda e: e.update(method="adamw"), ValueError, "method"),
    (lambda e: e.update(beta2=1.0), ValueError, "beta2"),
    (lambda e: e.update(period=0), ValueError, "period"),
    (lambda e: e.update(gamma=0.1), TypeError, "gamma"),
    (lambda e: Explorer(points=1), ValueError, "points"),
    (lambda e: Explorer(dpi=True), ValueError, "dpi"),
    (lambda e: BlitRenderer(e.figure, [Figure().subplots().plot([0], [0])[0]]), ValueError, "animated"),
    (lambda e: BlitRenderer(e.figure, []), ValueError, "animated"),
    (lambda e: BlitRenderer(e.figure.axes[0], e.lines.values()), TypeError, "fig"),
    (lambda e: BlitRenderer(e.figure, e.lines.values(), max_backgrounds=0), ValueError, "max_backgrounds"),
    (lambda e: BlitRenderer(e.figure, e.lines.values(), compress_level=10), ValueError, "compress_level"),
    (lambda e: log_index(0), ValueError, "T"),
    (lambda e: log_index(10, n=0), ValueError, "n"),
    (lambda e: precomputed_panel(beta2_values=()), ValueError, "beta2_values"),
    (lambda e: precomputed_panel(beta2_values=(0.9,), start=1), ValueError, "start"),
]


@pytest.mark.parametrize("call, error, words", BAD_CALLS, ids=[f"{i}-{w}" for i, (_, _, w) in enumerate(BAD_CALLS)])
def test_bad_input_is_named(explorer, call, error, words):
    values = dict(explorer.values)
    with pytest.raises(error) as info:
        call(explorer)
    assert words in str(info.value)
    assert explorer.values == values  # a failed update changes nothing
