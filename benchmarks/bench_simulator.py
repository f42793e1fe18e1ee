"""Speed of the 1-D simulator (adaptive_methods.online.simulate) against plain loops.

The reference is the plain sequential Python loop
``adaptive_methods.online.reference.reference_simulate``, the one the tests check the
simulator against to 1e-12.  Each
row is measured in this one run: ``ours_s`` and ``ref_s`` are seconds (best of a few
repeats) for the same work, per configuration-step where the row says so;
``ratio = ref_s / ours_s`` (how many times faster the simulator is).  Rows:

* single runs of Adam on the paper's Figure 1 problem, T = 1 .. 10^7 steps, full
  trajectories (target: ratio >= 1, i.e. never slower than the loop; up to 1000 steps
  the two are timed in alternation, many calls per timing);
* batches of B = 1024 configurations x 10^4 steps, full trajectories, per
  configuration-step (target >= 20); the loop runs 32 of the 1024 configurations;
* a 64 x 64 grid of (beta1, beta2) x 10^5 steps, final iterates (target: ours < 10 s);
  the loop's time is its per configuration-step time on 4 configurations, times 4096;
* the jit engine (numba) on Adam, a single run of 10^7 steps per step (target <= 15 ns)
  and a batch of 1024 problems x 10^4 steps per configuration-step (target <= 8 ns),
  against the same recurrence as a plain C loop built here with ``cc -O3`` (IEEE
  arithmetic: no -ffast-math, no fused multiply-add; ``C/jit`` is 1 at the compiled
  limit, the issue asks >= 0.5) where a C compiler exists, and against the reference
  Python loop (``ref/jit``); the jit engine's iterates must equal the C loop's to 1e-12;
* a loop over torch.optim.Adam on a one-element tensor (with the projection), per step,
  against the simulator's per-step time in the 10^6-step single run (reported only).

    python benchmarks/bench_simulator.py [--quick]

``--quick`` stops the single runs at 10^6 steps.  It writes nothing but its table.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np
import torch

from adaptive_methods.online import figure1_problem, jit, simulate
from adaptive_methods.online.reference import reference_simulate as reference


def best_of(fn, repeats: int, number: int = 1) -> float:
    """Seconds per call of ``fn``: the best of ``repeats`` timings of ``number`` calls."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def interleaved(ours, ref, repeats: int, number: int) -> tuple[float, float]:
    """Best per-call seconds of two functions timed in alternation, so that a slow
    stretch of a shared machine does not fall on one side only."""
    best_ours = best_ref = float("inf")
    for _ in range(repeats):
        best_ours = min(best_ours, best_of(ours, 1, number))
        best_ref = min(best_ref, best_of(ref, 1, number))
    return best_ours, best_ref


# Adam's recurrence (paper form: no bias correction, eps = 0, alpha_t = alpha / sqrt(t)) as
# a plain C loop, the compiled limit the jit engine is measured against.  IEEE arithmetic
# (no -ffast-math, no fused multiply-add), as exactness to 1e-12 needs.
C_SOURCE = r"""
#include <math.h>
void adam(const double *g, long shared, long B, long T, const double *alpha, const double *b1,
          const double *b2, double lo, double hi, double *out) {
    for (long b = 0; b < B; b++) {
        const double *row = g + (shared ? 0 : b * T);
        double *o = out + b * (T + 1);
        double x = 0.0, m = 0.0, v = 0.0;
        o[0] = x;
        for (long i = 0; i < T; i++) {
            double gt = row[i];
            m = b1[b] * m + (1.0 - b1[b]) * gt;
            v = b2[b] * v + (1.0 - b2[b]) * (gt * gt);
            double den = sqrt(v);
            double a_t = alpha[b] / sqrt((double)(i + 1));
            double q = den != 0.0 ? (a_t * m) / den : 0.0;
            x = x - q;
            x = x < lo ? lo : (x > hi ? hi : x);
            o[i + 1] = x;
        }
    }
}
"""


def compiled_c_loop(workdir: str):
    """The C loop built with ``cc -O3`` in ``workdir``, or None where no C compiler exists."""
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        return None
    src, lib = os.path.join(workdir, "adam.c"), os.path.join(workdir, "adam.so")
    with open(src, "w") as f:
        f.write(C_SOURCE)
    subprocess.run([cc, "-O3", "-ffp-contract=off", "-fno-fast-math", "-shared", "-fPIC", src, "-o", lib, "-lm"],
                   check=True)
    fn = ctypes.CDLL(lib).adam
    fn.restype = None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_long, ctypes.c_long, ctypes.c_long] + [ctypes.c_void_p] * 3 + [
        ctypes.c_double, ctypes.c_double, ctypes.c_void_p]

    def run(g, alpha, b1, b2):
        g = np.ascontiguousarray(g, dtype=np.float64)
        B = alpha.size
        T = g.shape[-1]
        out = np.empty((B, T + 1))
        fn(g.ctypes.data, int(g.ndim == 1), B, T, alpha.ctypes.data, b1.ctypes.data, b2.ctypes.data, -1.0, 1.0,
           out.ctypes.data)
        return out

    return run


def row(name: str, ours: float, ref: float, target: str, ok: bool | None) -> None:
    verdict = "" if ok is None else ("met" if ok else "MISSED")
    print(f"{name:<66} {ours:>11.3e} {ref:>11.3e} {ref / ours:>9.2f}  {target:<12} {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="single runs up to 10^6 steps only")
    args = parser.parse_args()
    problem = figure1_problem()
    alpha = 1.0
    print(f"{'name':<66} {'ours_s':>11} {'ref_s':>11} {'ratio':>9}  {'target':<12} result")

    # single runs
    per_step_1e6 = None
    sizes = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000] + ([] if args.quick else [10_000_000])
    for T in sizes:
        g = problem.grads(T)
        if T <= 1_000:
            ours, ref = interleaved(lambda: simulate("adam", g, alpha=alpha), lambda: reference("adam", g, alpha=alpha),
                                    repeats=15, number=max(1, 20_000 // T))
        else:
            reps = 5 if T <= 100_000 else 2
            ours = best_of(lambda: simulate("adam", g, alpha=alpha), reps)
            ref = best_of(lambda: reference("adam", g, alpha=alpha), 1 if T >= 1_000_000 else reps)
        row(f"single run, Adam, T={T:.0e}, trajectory", ours, ref, ">= 1", ref / ours >= 1)
        if T == 1_000_000:
            per_step_1e6 = ours / T

    # batches of 1024 configurations x 10^4 steps, per configuration-step
    B, T, sample = 1024, 10_000, 32
    rng = np.random.default_rng(0)
    stochastic = figure1_problem(stochastic=True)
    seeds = stochastic.grads(T, seed=1, n=B)
    shared = problem.grads(T)
    own = rng.normal(size=(B, T)) * rng.uniform(0.1, 10.0, size=(B, 1))
    a, b1, b2 = rng.uniform(0.01, 1.0, B), rng.uniform(0.0, 0.95, B), rng.uniform(0.9, 0.9999, B)
    batches = [
        ("batch 1024 seeds (stochastic), shared hyperparams", seeds, dict(alpha=alpha)),
        ("batch 1024 (alpha,b1,b2) on one gradient sequence", shared, dict(alpha=a, beta1=b1, beta2=b2)),
        ("batch 1024 problems x own (alpha,b1,b2)", own, dict(alpha=a, beta1=b1, beta2=b2)),
    ]
    for name, grads, kw in batches:
        ours = best_of(lambda: simulate("adam", grads, **kw), 3) / (B * T)

        def ref_sample():
            for i in range(sample):
                gi = grads if grads.ndim == 1 else grads[i]
                ki = {k: (v[i] if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
                reference("adam", gi, **ki)

        ref = best_of(ref_sample, 1) / (sample * T)
        row(f"{name}, per config-step", ours, ref, ">= 20", ref / ours >= 20)

    # 64 x 64 grid of (beta1, beta2) x 10^5 steps, final iterates
    T = 100_000
    g = problem.grads(T)
    beta1, beta2 = np.meshgrid(np.linspace(0.0, 0.99, 64), np.linspace(0.5, 0.9999, 64), indexing="ij")
    beta1, beta2 = beta1.ravel(), beta2.ravel()
    ours = best_of(lambda: simulate("adam", g, alpha=alpha, beta1=beta1, beta2=beta2, trajectory=False), 2)
    picks = [0, 1000, 2500, 4095]
    ref_each = best_of(lambda: [reference("adam", g, alpha=alpha, beta1=beta1[i], beta2=beta2[i]) for i in picks], 1)
    ref = ref_each / len(picks) * beta1.size
    row("grid 64x64 (b1,b2) x 1e5 steps, final x (ref scaled)", ours, ref, "ours < 10 s", ours < 10.0)

    jit_rows(problem, args.quick)

    # torch.optim.Adam on a one-element tensor, per step
    n = 20_000
    grads = [torch.tensor([float(x)], dtype=torch.float64) for x in problem.grads(n)]
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=1e-3, betas=(0.9, 0.99))

    def torch_loop():
        for gt in grads:
            p.grad = gt
            opt.step()
            with torch.no_grad():
                p.clamp_(-1.0, 1.0)

    torch_per_step = best_of(torch_loop, 1) / n
    row("torch.optim.Adam loop (1 elem) vs our 1e6 run, per step", per_step_1e6, torch_per_step, "(reported)", None)


def jit_rows(problem, quick: bool) -> None:
    """The jit engine against the C loop (ratio = C / jit: 1 is the compiled limit, the
    target >= 0.5) and against the reference Python loop (ratio = ref / jit)."""
    if not jit.available():
        print("jit engine: numba is not installed, no rows")
        return
    T1 = 1_000_000 if quick else 10_000_000
    B, T = 1024, 10_000
    rng = np.random.default_rng(0)
    g1 = problem.grads(T1)
    gb = rng.normal(size=(B, T)) * rng.uniform(0.1, 10.0, size=(B, 1))
    a, b1, b2 = rng.uniform(0.01, 1.0, B), rng.uniform(0.0, 0.95, B), rng.uniform(0.9, 0.9999, B)
    one = np.ones(1)
    single = lambda: simulate("adam", g1, alpha=1.0, beta1=0.9, beta2=0.99, engine="jit")
    batch = lambda: simulate("adam", gb, alpha=a, beta1=b1, beta2=b2, engine="jit")
    single(), batch()  # compile or load the cache
    ours_1 = best_of(single, 7) / T1
    ours_b = best_of(batch, 7) / (B * T)
    with tempfile.TemporaryDirectory() as workdir:
        c_loop = compiled_c_loop(workdir)
        if c_loop is None:
            print("jit engine vs C: no C compiler, no rows")
        else:
            c1 = lambda: c_loop(g1, one, one * 0.9, one * 0.99)
            cb = lambda: c_loop(gb, a, b1, b2)
            for ours_fn, c_fn in ((single, c1), (batch, cb)):
                assert np.max(np.abs(ours_fn().reshape(-1) - c_fn().reshape(-1))) <= 1e-12
            c_1 = best_of(c1, 7) / T1
            c_b = best_of(cb, 7) / (B * T)
            print(f"{'name':<66} {'jit_s':>11} {'C_s':>11} {'C/jit':>9}  {'target':<12} result")
            row(f"jit, single run, Adam, T={T1:.0e}, per step", ours_1, c_1, "jit <= 15ns", ours_1 <= 15e-9)
            row(f"jit, batch {B} problems x own (alpha,b1,b2), T={T:.0e}, per config-step", ours_b, c_b,
                "jit <= 8ns", ours_b <= 8e-9)
    sample = 32
    ref_1 = best_of(lambda: reference("adam", g1[:1_000_000], alpha=1.0), 1) / 1_000_000
    ref_b = best_of(lambda: [reference("adam", gb[i], alpha=a[i], beta1=b1[i], beta2=b2[i]) for i in range(sample)],
                    1) / (sample * T)
    print(f"{'name':<66} {'jit_s':>11} {'ref_s':>11} {'ref/jit':>9}  {'target':<12} result")
    row("jit vs reference loop, single run, per step", ours_1, ref_1, "(reported)", None)
    row("jit vs reference loop, batch, per config-step", ours_b, ref_b, "(reported)", None)


if __name__ == "__main__":
    main()
