"""The simulator's compiled engine ("jit", numba) against the reference loop, and the
fallback where numba is not installed."""

from __future__ import annotations

import os
import re
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from adaptive_methods.online import figure1_problem, jit, simulate
from adaptive_methods.online.reference import reference_simulate

from .test_online import SIMULATED_METHODS, TOL, configurations, reference_rows

needs_numba = pytest.mark.skipif(not jit.available(), reason="numba is not installed")


@needs_numba
@pytest.mark.parametrize("method", SIMULATED_METHODS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configurations())
def test_jit_agrees_with_the_loop(method, config):
    grads, B, kwargs = config
    expected = reference_rows(method, grads, B, kwargs)
    got = simulate(method, grads, engine="jit", **kwargs)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.reshape(expected.shape), expected, rtol=0, atol=TOL)
    final = simulate(method, grads, engine="jit", trajectory=False, **kwargs)
    assert np.shape(final) == np.shape(got)[:-1]
    np.testing.assert_allclose(np.reshape(final, -1), expected[:, -1], rtol=0, atol=TOL)


@needs_numba
@pytest.mark.parametrize("method", SIMULATED_METHODS)
@pytest.mark.parametrize("beta1_decay", [0.9999, None])
def test_jit_long_runs_are_the_python_loop_bit_for_bit(method, beta1_decay):
    grads = figure1_problem().grads(6000)
    kwargs = dict(alpha=0.5, beta1=0.9, beta2=0.99, beta1_decay=beta1_decay)
    got = simulate(method, grads, engine="jit", **kwargs)
    np.testing.assert_allclose(got, reference_simulate(method, grads, **kwargs), rtol=0, atol=TOL)
    np.testing.assert_array_equal(got, simulate(method, grads, engine="loop", **kwargs))


@needs_numba
def test_auto_takes_the_jit_engine_for_large_work(monkeypatch):
    calls = []
    compiled = jit.scan_jit
    monkeypatch.setattr(jit, "scan_jit", lambda *a: calls.append(1) or compiled(*a))
    g = figure1_problem().grads(2000)
    simulate("adam", g, alpha=1.0)
    simulate("amsgrad", np.tile(g, (3, 1)), alpha=np.array([0.1, 0.5, 1.0]), trajectory=False)
    assert calls == [1, 1]
    simulate("adam", g[:100], alpha=1.0)  # a short run stays the Python loop
    simulate("adam", g, alpha=1.0, block=10)  # a block length asks for the NumPy scans
    assert calls == [1, 1]


def test_without_numba_auto_uses_numpy_and_jit_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    monkeypatch.setattr(jit, "_numba", None)
    assert not jit.available()
    g = figure1_problem().grads(3000)
    expected = reference_simulate("adam", g, alpha=1.0)
    np.testing.assert_allclose(simulate("adam", g, alpha=1.0), expected, rtol=0, atol=TOL)
    grid = simulate("adam", g, alpha=1.0, beta1=np.linspace(0.0, 0.9, 200), trajectory=False)
    assert grid.shape == (200,)
    with pytest.raises(ImportError, match=r"the 'jit' engine needs numba: pip install numba"):
        simulate("adam", g, alpha=1.0, engine="jit")


def test_importing_the_package_does_not_import_numba():
    """numba is imported (and the loop compiled) on the jit engine's first use only."""
    import subprocess

    code = "import sys, adaptive_methods, adaptive_methods.online, adaptive_methods.explorer; print('numba' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@needs_numba
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e200])
@pytest.mark.parametrize("rows", [1, 5])
def test_jit_refuses_a_bad_gradient_as_the_other_engines_do(bad, rows):
    """The jit loop checks each gradient as it reads it; its error is the other engines'."""
    g = np.tile(figure1_problem().grads(3000), (rows, 1))
    g[rows - 1, 2500] = bad
    kwargs = dict(alpha=np.linspace(0.1, 1.0, rows), beta1=0.9, beta2=0.99)
    where = f"at index {(rows - 1, 2500) if rows > 1 else (2500,)}"
    for engine in ("jit", "vector", "loop"):
        with pytest.raises(ValueError, match=r"grads must be finite with \|g\| <= 1e\+150 .* " + re.escape(where)):
            simulate("amsgrad", g if rows > 1 else g[0], engine=engine, **kwargs)


@needs_numba
def test_each_kind_of_loop_is_cached_apart(tmp_path):
    """Every kind of recurrence compiles a loop of its own, cached on disk under its flags:
    a second process, loading the loops from the cache, still runs each method's own."""
    import subprocess

    code = (
        "import numpy as np\n"
        "from adaptive_methods.online import figure1_problem, jit, simulate\n"
        "from adaptive_methods.online.reference import reference_simulate\n"
        "g = figure1_problem().grads(2000)\n"
        "for method in ('adam', 'amsgrad', 'adagrad', 'sgd'):\n"
        "    got = simulate(method, g, alpha=0.5, engine='jit')\n"
        "    np.testing.assert_allclose(got, reference_simulate(method, g, alpha=0.5), rtol=0, atol=1e-12)\n"
        "print(len(jit._loops))\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    counts = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
              .stdout.strip() for _ in range(2)]
    assert counts == ["4", "4"]
    assert len(list(tmp_path.rglob("*.nbi"))) >= 1 and len(list(tmp_path.rglob("*.nbc"))) >= 4
