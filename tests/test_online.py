"""The 1-D simulator (:mod:`adaptive_methods.online`) against a plain sequential loop.

``adaptive_methods.online.reference.reference_simulate`` is the reference: Algorithm 1 of
the paper written out one step at a time for one configuration, in Python floats.  The
simulator must agree with it to 1e-12 on random problems, batches, hyperparameters and
every engine, for every registered method with a recurrence; the benchmark
(benchmarks/bench_simulator.py) measures the simulator's speed against this same loop.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adaptive_methods import online, registry
from adaptive_methods.online import api
from adaptive_methods.online import (
    drift,
    figure1_problem,
    moments,
    period_drift,
    periodic_problem,
    regret,
    simulate,
    stochastic_problem,
    theorem1_problem,
    theorem2_conditions,
    theorem2_period,
    theorem2_problem,
    theorem3_problem,
)
from adaptive_methods.online.reference import reference_simulate
from adaptive_methods.registry import METHODS, MethodInfo, Recurrence

TOL = 1e-12
SIMULATED_METHODS = [name for name, info in METHODS.items() if info.recurrence]


# --------------------------------------------------------------------------------------
# Agreement with the loop
# --------------------------------------------------------------------------------------

gradient = st.one_of(st.just(0.0), st.floats(-200.0, 200.0, allow_nan=False, allow_subnormal=False))
betas = st.one_of(st.just(0.0), st.floats(0.0, 0.999))  # beta2 = 0 lets V_t be 0 after a zero gradient


@st.composite
def configurations(draw):
    B = draw(st.integers(1, 4))
    T = draw(st.integers(1, 260))
    shared = draw(st.booleans())
    grads = draw(hnp.arrays(np.float64, (T,) if shared else (B, T), elements=gradient))
    per_row = draw(st.booleans())

    def param(strategy):
        if per_row:
            return np.asarray(draw(st.lists(strategy, min_size=B, max_size=B)))
        return draw(strategy)

    lo = draw(st.floats(-2.0, 0.5))
    hi = lo + draw(st.floats(0.05, 2.0))
    kwargs = dict(
        alpha=param(st.floats(1e-3, 3.0)),
        beta1=param(betas),
        beta2=param(betas),
        step=draw(st.sampled_from(online.STEPS)),
        bounds=(lo, hi),
        x1=param(st.floats(0.0, 1.0).map(lambda u: lo + u * (hi - lo))),
        beta1_decay=draw(st.sampled_from([None, 1.0, param(st.floats(0.5, 1.0))])),  # None: the method's own
        eps=draw(st.sampled_from([0.0, 1e-8, 0.5])),
    )
    if shared and not per_row:
        B = 1
    return grads, B, kwargs


def reference_rows(method, grads, B, kwargs):
    rows = []
    for b in range(B):
        kw = {k: (v[b] if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
        g = grads if grads.ndim == 1 else grads[b]
        rows.append(reference_simulate(method, g, **kw))
    return np.asarray(rows)


ENGINES = st.sampled_from([("auto", None), ("loop", None), ("vector", None), ("blocked", None), ("blocked", 1),
                           ("blocked", 5), ("blocked", 64)])


@pytest.mark.parametrize("method", SIMULATED_METHODS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configurations(), engine_block=ENGINES, window=st.sampled_from([None, None, 1, 7, 50]))
def test_simulate_agrees_with_the_loop(method, config, engine_block, window):
    grads, B, kwargs = config
    engine, block = engine_block
    expected = reference_rows(method, grads, B, kwargs)
    got = simulate(method, grads, engine=engine, block=block, window=window, **kwargs)
    assert got.dtype == np.float64
    got = got.reshape(expected.shape)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)
    final = simulate(method, grads, engine=engine, block=block, window=window, trajectory=False, **kwargs)
    np.testing.assert_allclose(np.reshape(final, -1), expected[:, -1], rtol=0, atol=TOL)


@pytest.mark.parametrize("method", SIMULATED_METHODS)
@pytest.mark.parametrize("engine, window", [("loop", None), ("vector", None), ("vector", 1000), ("blocked", None),
                                            ("blocked", 999)])
@pytest.mark.parametrize("beta1_decay", [0.9999, None])
def test_long_runs_agree_with_the_loop(method, engine, window, beta1_decay):
    # the Figure 1 problem, long enough for many blocks, windows and clips at both ends
    grads = figure1_problem().grads(6000)
    kwargs = dict(alpha=0.5, beta1=0.9, beta2=0.99, beta1_decay=beta1_decay)
    expected = reference_simulate(method, grads, **kwargs)
    got = simulate(method, grads, engine=engine, window=window, **kwargs)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


def test_short_plain_runs_skip_the_general_checks(monkeypatch):
    """A short run in plain Python numbers is checked inline (it must not cost more than
    the loop); anything else, NumPy scalars included, goes through the general checks."""
    calls = []
    general = api.spec
    monkeypatch.setattr(api, "spec", lambda *a, **k: calls.append(1) or general(*a, **k))
    g = figure1_problem().grads(10)
    simulate("adam", g, alpha=1.0)
    simulate("amsgrad", g, alpha=1, beta1=0, bounds=(-1, 1), x1=0, trajectory=False)
    short = simulate("adamnc", g, alpha=1.0)  # its own beta1 decay, from the registry
    assert calls == []
    np.testing.assert_array_equal(short, simulate("adamnc", g, alpha=1.0, engine="loop"))
    calls.clear()
    simulate("adam", g, alpha=np.float64(1.0))
    simulate("adam", g, alpha=1.0, beta1_decay=1)  # an int decay takes the general path
    simulate("adam", g.tolist(), alpha=1.0)
    simulate("adam", g, alpha=1.0, engine="loop")
    assert len(calls) == 4


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(SIMULATED_METHODS), hnp.arrays(np.float64, st.integers(1, 40), elements=gradient),
       st.sampled_from([1, 0.5, 2]), st.sampled_from([0, 0.9]), st.sampled_from([0.99, 0]),
       st.sampled_from([(-1, 1), (-1.0, 1), (0, 2.5)]), st.sampled_from([0, 1]), st.sampled_from(online.STEPS))
def test_plain_ints_give_the_general_paths_float64_result(method, grads, alpha, beta1, beta2, bounds, x1, step):
    kwargs = dict(alpha=alpha, beta1=beta1, beta2=beta2, bounds=bounds, x1=x1, step=step)
    got = simulate(method, grads, **kwargs)
    general = simulate(method, grads, engine="loop", **kwargs)
    assert got.dtype == np.float64 and got.shape == (grads.size + 1,)
    np.testing.assert_array_equal(got, general)
    np.testing.assert_allclose(got, reference_simulate(method, grads, **kwargs), rtol=0, atol=TOL)
    final = simulate(method, grads, trajectory=False, **kwargs)
    assert final.dtype == np.float64 and final.shape == () and final == got[-1]


@pytest.mark.parametrize("method", SIMULATED_METHODS)
def test_large_batch_agrees(method):
    rng = np.random.default_rng(3)
    B, T = 400, 30
    grads = rng.normal(size=(B, T)) * 5
    kwargs = dict(alpha=rng.uniform(0.1, 1, B), beta1=rng.uniform(0, 0.95, B), beta2=rng.uniform(0.5, 0.999, B),
                  beta1_decay=rng.choice([1.0, 0.9, 0.99], B))
    got = simulate(method, grads, **kwargs)
    for b in range(0, B, 37):
        ref = reference_simulate(method, grads[b], **{k: v[b] for k, v in kwargs.items()})
        np.testing.assert_allclose(got[b], ref, rtol=0, atol=TOL)


def test_rows_as_coordinates_of_a_box():
    """A (d, T) gradient array with shared hyperparameters is a d-dimensional problem."""
    rng = np.random.default_rng(4)
    grads = rng.normal(size=(3, 500))
    bounds = (np.array([-1.0, -2.0, 0.0]), np.array([1.0, 0.5, 3.0]))
    together = simulate("adam", grads, alpha=0.3, bounds=bounds, x1=np.array([0.0, -1.0, 1.0]))
    for i in range(3):
        alone = simulate("adam", grads[i], alpha=0.3, bounds=(bounds[0][i], bounds[1][i]), x1=[0.0, -1.0, 1.0][i])
        np.testing.assert_allclose(together[i], alone, rtol=0, atol=TOL)
    total = regret(grads, together, bounds=bounds).sum(axis=0)
    assert total.shape == (500,)


# --------------------------------------------------------------------------------------
# Shapes and the zero-denominator convention
# --------------------------------------------------------------------------------------


def test_shapes():
    g = np.ones(7)
    assert simulate("adam", g, alpha=0.1).shape == (8,)
    assert simulate("adam", np.ones((3, 7)), alpha=0.1).shape == (3, 8)
    assert simulate("adam", g, alpha=np.array([0.1, 0.2])).shape == (2, 8)
    assert simulate("adam", g, alpha=0.1, beta2=np.array([0.9, 0.99, 0.999])).shape == (3, 8)
    assert simulate("adam", g, alpha=0.1, trajectory=False).shape == ()
    assert simulate("adam", np.ones((3, 7)), alpha=0.1, trajectory=False).shape == (3,)
    xs = simulate("sgd", g, alpha=0.1, x1=0.25)
    assert xs[0] == 0.25


@pytest.mark.parametrize("method", SIMULATED_METHODS)
@pytest.mark.parametrize("engine", ["loop", "vector", "blocked"])
def test_zero_gradients_give_zero_steps_not_nan(method, engine):
    grads = np.zeros(50)
    xs = simulate(method, grads, alpha=1.0, x1=0.3, engine=engine)
    assert np.all(xs == 0.3)


@pytest.mark.parametrize("method", SIMULATED_METHODS)
@pytest.mark.parametrize("engine", ["loop", "vector", "blocked"])
def test_zero_second_moment_gives_a_zero_step(method, engine):
    """Where V_t = 0 (beta2 = 0 after a zero gradient) the iterate stays, whatever m_t is."""
    grads = np.array([0.0, 1.0, 0.0, 0.0, 2.0, 0.0, -1.0, 0.0, 0.5])
    kwargs = dict(alpha=0.1, beta1=0.5, beta2=0.0, x1=0.2)
    xs = simulate(method, grads, engine=engine, **kwargs)
    m, V = moments(method, grads, beta1=0.5, beta2=0.0)
    assert np.all(np.isfinite(xs))
    np.testing.assert_array_equal(xs[1:][V == 0], xs[:-1][V == 0])
    assert np.all(xs[1:][(V > 0) & (m != 0)] != xs[:-1][(V > 0) & (m != 0)])
    np.testing.assert_allclose(xs, reference_simulate(method, grads, **kwargs), rtol=0, atol=TOL)
    if METHODS[method].recurrence == Recurrence("moving_average", "moving_average"):
        assert np.any((V == 0) & (m != 0))  # the case that matters: momentum left, V_t = 0


@pytest.mark.parametrize("engine", ["loop", "vector", "blocked"])
def test_huge_steps_saturate(engine):
    # tiny v against a large momentum: |q| overflows to inf, the iterate sits on the bound
    grads = np.array([1.0] + [1e-150] * 40 + [-1.0] + [1e-150] * 40)
    ref = reference_simulate("adam", grads, alpha=1.0, beta1=0.99, beta2=0.01)
    got = simulate("adam", grads, alpha=1.0, beta1=0.99, beta2=0.01, engine=engine, block=7)
    np.testing.assert_allclose(got, ref, rtol=0, atol=TOL)
    assert got[-1] in (-1.0, 1.0)


# --------------------------------------------------------------------------------------
# Moments, regret, drift
# --------------------------------------------------------------------------------------


def test_adamnc_second_moment_is_the_running_mean():
    """Algorithm 3 with beta2_t = 1 - 1/t: the recurrence gives the mean of g^2 (Corollary 2)."""
    g = np.random.default_rng(5).normal(size=3000) * 7
    v = 0.0
    recurrence = []
    for t, gt in enumerate(g, start=1):
        b2t = 1.0 - 1.0 / t
        v = b2t * v + (1.0 - b2t) * gt * gt
        recurrence.append(v)
    _, V = moments("adamnc", g, beta1=0.9)
    np.testing.assert_allclose(V, recurrence, rtol=1e-12)
    np.testing.assert_allclose(V, np.cumsum(g * g) / np.arange(1, 3001), rtol=1e-14)


@pytest.mark.parametrize("beta1_decay", [0.99, 0.9, 1.0])
def test_adamx_second_moment_is_the_rescaled_running_max(beta1_decay):
    """Tran & Phong's vhat_t = max(((1 - b1t)/(1 - b1_{t-1}))^2 vhat_{t-1}, v_t), step by step,
    against the vectorised (1 - b1t)^2 max_s v_s / (1 - b1_s)^2."""
    g = np.random.default_rng(8).normal(size=5000) * np.exp(np.linspace(3, -3, 5000))
    v = vhat = 0.0
    recurrence = []
    for t, gt in enumerate(g, start=1):
        b1t, b1_previous = 0.9 * beta1_decay ** (t - 1), 0.9 * beta1_decay ** max(t - 2, 0)
        v = 0.99 * v + 0.01 * gt * gt
        vhat = max(((1 - b1t) / (1 - b1_previous)) ** 2 * vhat, v)
        recurrence.append(vhat)
    _, V = moments("adamx", g, beta1=0.9, beta2=0.99, beta1_decay=beta1_decay)
    # the loop rounds once per step while it carries vhat (the telescoped form does not):
    # a relative drift of about 1e-16 per carried step
    np.testing.assert_allclose(V, recurrence, rtol=1e-12, atol=0)
    _, amsgrad = moments("amsgrad", g, beta1=0.9, beta2=0.99)
    if beta1_decay == 1.0:  # a constant beta1: every factor is 1, AMSGrad's running max
        np.testing.assert_array_equal(V, amsgrad)
    else:
        assert np.all(V >= amsgrad) and np.max(V / amsgrad) > 1.01


@pytest.mark.parametrize("method", SIMULATED_METHODS)
def test_beta1_decay_none_is_the_methods_own(method):
    """One name is one method: beta1_decay=None is the registry's decay (1.0: a constant beta1)."""
    g = figure1_problem().grads(2000)
    own = METHODS[method].beta1_decay
    default = simulate(method, g, alpha=0.5)
    np.testing.assert_array_equal(default, simulate(method, g, alpha=0.5, beta1_decay=1.0 if own is None else own))
    np.testing.assert_array_equal(moments(method, g)[1], moments(method, g, beta1_decay=own)[1])
    if own is not None:
        assert np.max(np.abs(default - simulate(method, g, alpha=0.5, beta1_decay=1.0))) > 1e-3


@pytest.mark.parametrize("first", registry.FIRST_MOMENTS)
@pytest.mark.parametrize("second", registry.SECOND_MOMENTS)
def test_every_recurrence_kind_is_scanned(monkeypatch, first, second):
    """Every pair of kinds the registry allows, registered or not, runs in every engine as in the reference."""
    info = MethodInfo("pair", registry.METHODS["adam"].cls, "Pair", "#000000", "-", "o", lambda b1, b2, decay: {},
                      Recurrence(first, second), beta1_decay=0.995)
    monkeypatch.setattr(registry, "METHODS", type(registry.METHODS)({**registry.METHODS, "pair": info}))
    grads = np.random.default_rng(9).normal(size=(3, 400)) * np.array([[1.0], [30.0], [0.01]])
    grads[:, 100:130] = 0.0
    kwargs = dict(alpha=0.3, beta1=np.array([0.0, 0.9, 0.99]), beta2=np.array([0.0, 0.9, 0.999]), x1=0.1)
    expected = reference_rows("pair", grads, 3, kwargs)
    for engine in ("loop", "vector", "blocked"):
        got = simulate("pair", grads, engine=engine, window=150, **kwargs)
        np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


def test_a_method_without_a_recurrence_is_refused(monkeypatch):
    unscanned = MethodInfo("factored", registry.METHODS["adam"].cls, "Factored", "#000000", "-", "o",
                           lambda b1, b2, decay: {}, None, not_simulated="its V_t is a matrix factorisation")
    monkeypatch.setattr(registry, "METHODS", type(registry.METHODS)({**registry.METHODS, "factored": unscanned}))
    for call in (lambda: simulate("factored", np.ones(5), alpha=0.1), lambda: moments("factored", np.ones(5)),
                 lambda: period_drift("factored", np.ones(3)), lambda: reference_simulate("factored", [1.0], alpha=0.1)):
        with pytest.raises(ValueError, match=r"method 'factored' cannot be simulated: its V_t is a matrix factorisation"):
            call()


def test_moments_shapes_and_amsgrad_monotone():
    g = np.random.default_rng(6).normal(size=(2, 100))
    m, V = moments("amsgrad", g, beta1=0.9, beta2=0.9)
    assert m.shape == V.shape == (2, 100)
    assert np.all(np.diff(V, axis=1) >= 0)
    m1, V1 = moments("adam", g[0], beta1=np.array([0.0, 0.9]), beta2=0.99)
    assert m1.shape == (2, 100)
    np.testing.assert_array_equal(m1[0], g[0])
    m2, _ = moments("adam", g[0], beta1=0.9, beta1_decay=0.5)
    b1t = 0.9 * 0.5 ** np.arange(100)
    ref, mm = [], 0.0
    for t in range(100):
        mm = b1t[t] * mm + (1 - b1t[t]) * g[0, t]
        ref.append(mm)
    np.testing.assert_allclose(m2, ref, rtol=0, atol=1e-14)


def test_regret_matches_its_definition():
    rng = np.random.default_rng(7)
    g = rng.normal(size=40)
    xs = rng.uniform(-1, 1, size=41)
    R = regret(g, xs)
    for t in (1, 7, 40):
        played = sum(g[s] * xs[s] for s in range(t))
        best = min(sum(g[:t]) * -1.0, sum(g[:t]) * 1.0)
        assert R[t - 1] == pytest.approx(played - best, abs=1e-12)
    np.testing.assert_allclose(regret(g, xs[:40]), R)
    # the best point of the box has zero regret against itself
    best_x = -1.0 if g.sum() > 0 else 1.0
    assert regret(g, np.full(40, best_x))[-1] == pytest.approx(0.0, abs=1e-12)
    assert regret(g, np.tile(xs, (3, 1))).shape == (3, 40)
    assert regret(np.tile(g, (2, 1)), xs[None, :]).shape == (2, 40)
    assert np.all(regret(g, xs, bounds=(-2.0, 3.0)) >= regret(g, xs) - 1e-12)


def test_drift_sign_on_the_stochastic_problem():
    # Theorem 3's problem with a large C pushes Adam up; a small C with delta large does not
    big = theorem3_problem(0.9, 0.99, delta=0.1, C=2000.0).problem.grads(200_000, seed=1)
    assert drift("adam", big, beta1=0.9, beta2=0.99, burn_in=1000) > 0
    small = stochastic_problem(2.0, 0.6).grads(200_000, seed=2)
    assert drift("adam", small, beta1=0.9, beta2=0.99, burn_in=1000) < 0


# period_drift's stationary formulas: a constant beta1, and a V_t with a periodic regime
STATIONARY = [name for name in SIMULATED_METHODS if METHODS[name].beta1_decay is None
              and METHODS[name].recurrence.second in ("identity", "moving_average", "running_max")]


@pytest.mark.parametrize("method", SIMULATED_METHODS)
def test_period_drift_is_the_late_per_period_move(method):
    """D = sum over one stationary period of -m_t/sqrt(V_t): compare with the moments late in a long run."""
    problem = periodic_problem(40.0, 40)
    if method not in STATIONARY:
        with pytest.raises(ValueError, match=f"no stationary formula for method '{method}'"):
            period_drift(method, problem)
        return
    D = period_drift(method, problem, beta1=0.9, beta2=0.95)
    g = problem.grads(40 * 2000)
    m, V = moments(method, g, beta1=0.9, beta2=0.95)
    late = -np.sum(m[-40:] / np.sqrt(V[-40:]))
    assert D == pytest.approx(late, rel=1e-9, abs=1e-12)


def test_period_drift_sign_says_where_the_method_ends():
    problem = periodic_problem(40.0, 40)
    # the sign decides where Adam ends (alpha_t = 1/sqrt(t), long run)
    b2 = np.array([0.5, 0.999])
    D = period_drift("adam", problem, beta1=0.0, beta2=b2)
    ends = simulate("adam", problem.grads(40 * 20_000), alpha=1.0, beta1=0.0, beta2=b2, trajectory=False)
    assert np.all(np.sign(D) == np.sign(ends)) and D[0] > 0 > D[1]
    # a pattern given as an array; AMSGrad and SGD move against the period sum
    pattern = np.array([5.0, -1.0, -1.0, -2.0])
    assert period_drift("sgd", pattern) == pytest.approx(-1.0)
    assert period_drift("amsgrad", pattern, beta1=0.5, beta2=0.9) < 0


# --------------------------------------------------------------------------------------
# The problems of the paper
# --------------------------------------------------------------------------------------


def test_periodic_and_figure1_problems():
    g = periodic_problem(5.0, 3).grads(9)
    np.testing.assert_array_equal(g, [5, -1, -1, 5, -1, -1, 5, -1, -1])
    f1 = figure1_problem()
    g = f1.grads(303)
    assert g[0] == 1010 and g[101] == 1010 and g[202] == 1010 and np.sum(g == 1010) == 3
    assert np.all(g[1:101] == -10)
    assert f1.mean_gradient == pytest.approx(10 / 101) and f1.optimum == -1.0
    s = figure1_problem(stochastic=True)
    assert s.p == 0.01 and s.C == 1010 and s.small == -10 and s.optimum == -1.0


def test_stochastic_problem_is_seeded():
    p = stochastic_problem(10.0, 0.1)
    a, b = p.grads(1000, seed=3), p.grads(1000, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, p.grads(1000, seed=4))
    many = p.grads(20_000, seed=5, n=4)
    assert many.shape == (4, 20_000)
    assert np.mean(many == 10.0) == pytest.approx(0.1, abs=0.01)


def test_theorem1_construction_and_the_proof_claims():
    ce = theorem1_problem(C=3.0)
    assert ce.beta1 == 0.0 and ce.beta2 == pytest.approx(1 / 10) and ce.alpha_max == pytest.approx(math.sqrt(0.9))
    T = 3000
    g = ce.problem.grads(T)
    xs = simulate("adam", g, alpha=0.99 * ce.alpha_max, beta1=ce.beta1, beta2=ce.beta2, x1=1.0)
    # the induction of the proof: x_{3t+1} = 1 and every iterate positive
    assert np.all(xs[0::3] == 1.0) and np.all(xs > 0)
    # regret at least 2C - 4 per period of three steps
    R = regret(g, xs)
    k = np.arange(1, T // 3 + 1)
    assert np.all(R[3 * k - 1] >= (2 * 3.0 - 4) * k - 1e-9)
    ams = simulate("amsgrad", g, alpha=0.99 * ce.alpha_max, beta1=0.0, beta2=ce.beta2, x1=1.0)
    assert ams[-1] < -0.9


def test_theorem2_conditions_and_period():
    for b1, b2 in [(0.0, 0.5), (0.5, 0.5), (0.9, 0.99), (0.9, 0.999), (0.99, 0.9999)]:
        C = theorem2_period(b1, b2)
        assert C % 2 == 0
        assert all(v for v in theorem2_conditions(b1, b2, C).values())
        smaller = np.arange(2, C, 2)
        if smaller.size:
            ok = np.logical_and.reduce(list(theorem2_conditions(b1, b2, smaller).values()))
            assert not ok.any()
        # limit is the largest C searched: the smallest C is found at limit = C, none below
        assert theorem2_period(b1, b2, limit=C) == C
        with pytest.raises(ValueError, match=rf"no even C <= {C - 1} satisfies the Theorem 2 conditions"):
            theorem2_period(b1, b2, limit=C - 1)
        # the construction's period lies where Adam's stationary drift per period is upward
        assert period_drift("adam", periodic_problem(float(C), C), beta1=b1, beta2=b2) > 0
    ce = theorem2_problem(0.5, 0.5)
    assert ce.problem.period == ce.problem.C and ce.problem.small == -1.0
    # the mean gradient per period is +1/C > 0, so -1 is optimal
    assert ce.problem.optimum == -1.0


def test_theorem2_adam_goes_to_the_worst_point():
    ce = theorem2_problem(0.5, 0.5)
    g = ce.problem.grads(ce.problem.period * 400)
    xs = simulate("adam", g, alpha=1.0, beta1=ce.beta1, beta2=ce.beta2)
    assert xs[-1] == 1.0
    # one period's gradients sum to +1, so sitting at +1 costs 2 per period: R_T / T -> 2 / C
    assert regret(g, xs)[-1] / g.size > 1.5 / ce.problem.C
    ams = simulate("amsgrad", g, alpha=1.0, beta1=ce.beta1, beta2=ce.beta2)
    assert ams[-1] < -0.9


def test_theorem3_construction():
    ce = theorem3_problem(0.9, 0.99, delta=0.1, C=500.0)
    assert ce.problem.p == pytest.approx(1.1 / 501)
    assert ce.problem.mean_gradient == pytest.approx(0.1)
    assert ce.problem.optimum == -1.0


# --------------------------------------------------------------------------------------
# Bad input: each error names the argument
# --------------------------------------------------------------------------------------

G = np.ones(5)

BAD_CALLS = [
    (lambda: simulate("adamw", G, alpha=0.1), ValueError, "method"),
    (lambda: simulate(3, G, alpha=0.1), TypeError, "method"),
    (lambda: simulate(["adam"], G, alpha=0.1), TypeError, "method"),
    (lambda: simulate("adam", G, alpha=0.1, step=None), TypeError, "step"),
    (lambda: simulate("adam", G, alpha=0, bounds=(-1, 1)), ValueError, "alpha"),
    (lambda: simulate("adam", G, alpha=1, x1=3), ValueError, "x1"),
    (lambda: simulate("adam", G, alpha=0.1, bounds=(1, -1)), ValueError, "lo < hi"),
    (lambda: simulate("adam", G, alpha=0.1, bounds=(-1.0, float("inf"))), ValueError, "bounds"),
    (lambda: simulate("adam", G, alpha=0.1, bounds=(-1.0, 1.0, 2.0)), TypeError, "bounds"),
    (lambda: simulate("adam", G, alpha=0.1, step="cosine"), ValueError, "step"),
    (lambda: simulate("adam", G, alpha=0.0), ValueError, "alpha"),
    (lambda: simulate("adam", G, alpha=-1.0), ValueError, "alpha"),
    (lambda: simulate("adam", G, alpha=float("nan")), ValueError, "alpha"),
    (lambda: simulate("adam", G, alpha=float("inf")), ValueError, "alpha"),
    (lambda: simulate("adam", G, alpha="0.1"), TypeError, "alpha"),
    (lambda: simulate("adam", G, alpha=True), TypeError, "alpha"),
    (lambda: simulate("adam", G, alpha=np.ones((2, 2))), ValueError, "alpha"),
    (lambda: simulate("adam", G, alpha=0.1, beta1=1.0), ValueError, "beta1"),
    (lambda: simulate("adam", G, alpha=0.1, beta1=-0.1), ValueError, "beta1"),
    (lambda: simulate("adam", G, alpha=0.1, beta2=1.5), ValueError, "beta2"),
    (lambda: simulate("adam", G, alpha=0.1, beta2=float("nan")), ValueError, "beta2"),
    (lambda: simulate("adam", G, alpha=0.1, beta1_decay=0.0), ValueError, "beta1_decay"),
    (lambda: simulate("adam", G, alpha=0.1, beta1_decay=1.5), ValueError, "beta1_decay"),
    (lambda: simulate("adam", G, alpha=0.1, eps=-1e-8), ValueError, "eps"),
    (lambda: simulate("adam", G, alpha=0.1, bounds=(1.0, -1.0)), ValueError, "lo < hi"),
    (lambda: simulate("adam", G, alpha=0.1, bounds=(0.0, 0.0)), ValueError, "lo < hi"),
    (lambda: simulate("adam", G, alpha=0.1, bounds=1.0), TypeError, "bounds"),
    (lambda: simulate("adam", G, alpha=0.1, bounds=(float("nan"), 1.0)), ValueError, "bounds"),
    (lambda: simulate("adam", G, alpha=0.1, x1=2.0), ValueError, "x1"),
    (lambda: simulate("adam", np.array([1.0, np.nan]), alpha=0.1), ValueError, "grads"),
    (lambda: simulate("adam", np.array([1.0, np.inf]), alpha=0.1), ValueError, "grads"),
    (lambda: simulate("adam", np.array([1.0, 1e200]), alpha=0.1), ValueError, "grads"),
    (lambda: simulate("adam", np.ones((2, 2, 2)), alpha=0.1), ValueError, "grads"),
    (lambda: simulate("adam", np.ones(0), alpha=0.1), ValueError, "grads"),
    (lambda: simulate("adam", np.array(["a"]), alpha=0.1), TypeError, "grads"),
    (lambda: simulate("adam", np.array([True, False]), alpha=0.1), TypeError, "grads"),
    (lambda: simulate("adam", np.ones((3, 5)), alpha=np.ones(2)), ValueError, "batch sizes"),
    (lambda: simulate("adam", G, alpha=np.ones(2), beta1=np.full(3, 0.5)), ValueError, "batch sizes"),
    (lambda: simulate("adam", G, alpha=0.1, engine="gpu"), ValueError, "engine"),
    (lambda: simulate("adam", G, alpha=0.1, block=0), ValueError, "block"),
    (lambda: simulate("adam", G, alpha=0.1, window=2.5), ValueError, "window"),
    (lambda: simulate("adam", G, alpha=0.1, trajectory="yes"), TypeError, "trajectory"),
    (lambda: regret(G, np.ones(9)), ValueError, "xs"),
    (lambda: regret(G, np.full(6, 2.0)), ValueError, "bounds"),
    (lambda: regret(G, np.full(6, np.nan)), ValueError, "xs"),
    (lambda: regret(np.ones((2, 5)), np.zeros((3, 6))), ValueError, "batch sizes"),
    (lambda: moments("adam", G, beta2=1.0), ValueError, "beta2"),
    (lambda: drift("adam", G, burn_in=5), ValueError, "burn_in"),
    (lambda: period_drift("adagrad", G), ValueError, "method 'adagrad'"),
    (lambda: period_drift("adamnc", G), ValueError, "averages over all time"),
    (lambda: period_drift("adamx", G), ValueError, "schedule of beta1_t"),
    (lambda: period_drift("adam", stochastic_problem(3.0, 0.5)), TypeError, "pattern"),
    (lambda: period_drift("adam", np.ones((2, 3))), ValueError, "pattern"),
    (lambda: period_drift("adam", G, beta1=1.2), ValueError, "beta1"),
    (lambda: periodic_problem(3.0, period=0), ValueError, "period"),
    (lambda: periodic_problem(3.0, period=2.5), TypeError, "period"),
    (lambda: stochastic_problem(3.0, p=1.5), ValueError, "p"),
    (lambda: stochastic_problem(3.0, p=0.5).grads(10), ValueError, "seed"),
    (lambda: periodic_problem(3.0).grads(0), ValueError, "T"),
    (lambda: periodic_problem(3.0).grads(5, n=2), ValueError, "n"),
    (lambda: theorem1_problem(2.0), ValueError, "C"),
    (lambda: theorem2_problem(0.9, 0.8), ValueError, "beta1 < sqrt(beta2)"),
    (lambda: theorem2_conditions(0.5, 1.0, 4), ValueError, "beta2"),
    (lambda: theorem3_problem(0.5, 0.5, delta=0.0, C=10.0), ValueError, "delta"),
    (lambda: theorem3_problem(0.5, 0.5, delta=2.0, C=1.0), ValueError, "C"),
]


@pytest.mark.parametrize("call, error, words", BAD_CALLS, ids=[f"{i}-{w}" for i, (_, _, w) in enumerate(BAD_CALLS)])
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error, match=None) as info:
        call()
    assert words in str(info.value)
