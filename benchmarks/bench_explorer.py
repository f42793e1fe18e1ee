"""Redraw time of Chapter 4's explorer panel (adaptive_methods.explorer) at 10^5 steps.

A redraw is what happens when a slider moves: simulate the run, compute the regret,
update the two panels and produce the PNG the panel shows.  Two ways of producing the
PNG are timed on the same figure, in alternation, over the same slider positions:

* ``full``: draw the whole figure and ``savefig`` it (what a plain Matplotlib panel does);
* ``blit``: :class:`adaptive_methods.plotting.BlitRenderer` (what the panel does): the
  axes are drawn once per state of their limits and titles, then only the curves.

Rows print the median seconds per redraw of each and ``ratio = full / blit``.  Target:
``blit`` under 0.2 s per redraw (the issue's "fast enough to drag").

    python benchmarks/bench_explorer.py
"""

from __future__ import annotations

import io
import statistics
import time

import matplotlib

matplotlib.use("Agg")

from adaptive_methods.explorer import DEFAULTS, Explorer  # noqa: E402


def redraw_seconds(explorer: Explorer, values: dict, full: bool) -> float:
    start = time.perf_counter()
    explorer.update(**values)
    if full:
        explorer.figure.savefig(io.BytesIO(), format="png", dpi=explorer.figure.dpi)
    else:
        explorer.png()
    return time.perf_counter() - start


def main() -> None:
    explorer = Explorer()
    explorer.png()  # warm: fonts, mathtext, the first background
    cases = [
        ("drag beta2 (Adam, 1e5 steps)", [{**DEFAULTS, "beta2": 0.99 - 0.0002 * i} for i in range(15)]),
        ("drag C (Adam, 1e5 steps)", [{**DEFAULTS, "C": 101.0 + 2.0 * i} for i in range(15)]),
        ("switch method (1e5 steps)", [{**DEFAULTS, "method": m} for m in ("adam", "amsgrad", "rmsprop") * 5]),
    ]
    print(f"{'case':<34} {'blit_s':>9} {'full_s':>9} {'ratio':>7}  {'target':<14} result")
    for name, positions in cases:
        blit, full = [], []
        for values in positions:
            full.append(redraw_seconds(explorer, values, full=True))
            blit.append(redraw_seconds(explorer, values, full=False))
        b, f = statistics.median(blit), statistics.median(full)
        print(f"{name:<34} {b:>9.4f} {f:>9.4f} {f / b:>7.1f}  {'blit < 0.2 s':<14} {'met' if b < 0.2 else 'MISSED'}")


if __name__ == "__main__":
    main()
