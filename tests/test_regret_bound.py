"""Theorem 4's right-hand side, computed from a run, bounds the run's measured regret.

hypothesis generates the problems: linear losses on a d-dimensional box (simulated exactly
by adaptive_methods.online) and quadratic losses (run through the torch optimizer
AMSGrad(variant="paper"), whose own vhat_t feeds the bound).  Every schedule here is
beta1_t = beta1 * lambda^(t-1), the setting of Corollary 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from adaptive_methods import online
from adaptive_methods.methods import AMSGrad
from adaptive_methods.regret_bound import (
    BoundTerms,
    amsgrad_vhat,
    beta1_schedule,
    corollary1_middle,
    telescoping_weights,
    theorem4_bound,
)


def assert_under(regret: np.ndarray, bound: BoundTerms) -> None:
    slack = 1e-9 * np.maximum(np.abs(bound.total), 1.0)
    bad = regret > bound.total + slack
    assert not bad.any(), f"R_T > bound at T={bound.T[bad][:5]}: {regret[bad][:5]} > {bound.total[bad][:5]}"


@st.composite
def hyperparameters(draw):
    beta1 = draw(st.floats(0.0, 0.95))
    # gamma = beta1 / sqrt(beta2) < 1 with a margin, beta2 < 1
    beta2 = draw(st.floats(min(beta1**2 * 1.05 + 1e-3, 0.999), 0.9999))
    alpha = draw(st.floats(1e-3, 10.0))
    lam = draw(st.floats(0.01, 1.0))
    return alpha, beta1, beta2, lam


@st.composite
def linear_problems(draw):
    d = draw(st.integers(1, 4))
    T = draw(st.integers(1, 300))
    G = draw(st.floats(1e-3, 1e3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["uniform", "biased", "spiky", "sparse"]))
    if kind == "uniform":
        g = rng.uniform(-G, G, size=(d, T))
    elif kind == "biased":
        g = np.clip(rng.uniform(-0.5, 0.5, size=(d, 1)) * G + rng.normal(0, G / 2, size=(d, T)), -G, G)
    elif kind == "spiky":  # the counterexamples' shape: a rare large gradient, small ones otherwise
        g = np.where(rng.random((d, T)) < 0.02, G, -G / 100)
    else:
        g = np.where(rng.random((d, T)) < 0.7, 0.0, rng.uniform(-G, G, size=(d, T)))
    lo = draw(st.floats(-10.0, 9.0))
    width = draw(st.floats(1e-2, 10.0))
    x1 = lo + draw(st.floats(0.0, 1.0)) * width
    return g, (lo, lo + width), min(max(x1, lo), lo + width)


@settings(max_examples=80, deadline=None)
@given(problem=linear_problems(), hp=hyperparameters())
def test_regret_under_bound_linear_losses(problem, hp):
    g, (lo, hi), x1 = problem
    alpha, beta1, beta2, lam = hp
    xs = online.simulate("amsgrad", g, alpha=alpha, beta1=beta1, beta2=beta2, beta1_decay=lam, bounds=(lo, hi), x1=x1)
    regret = online.regret(g, xs, bounds=(lo, hi)).sum(axis=0)
    for version in ("iclr", "arxiv"):
        bound = theorem4_bound(g, alpha=alpha, beta1=beta1, beta2=beta2, diameter=hi - lo, beta1_decay=lam, version=version)
        assert_under(regret, bound)


def quadratic_run(w, z, lo, hi, alpha, beta1, beta2, lam):
    """AMSGrad(variant="paper") on f_t(x) = sum_i w_ti (x_i - z_ti)^2 / 2 over [lo, hi]^d.

    Returns the gradients it saw, its own vhat_t, and the regret R_1 .. R_T."""
    d, T = w.shape
    x = torch.full((d,), (lo + hi) / 2, dtype=torch.float64, requires_grad=True)
    opt = AMSGrad([x], alpha, (beta1, beta2), variant="paper", beta1_decay=lam, bounds=(lo, hi))
    grads, vhats, losses = [], [], []
    for t in range(T):
        xt = x.detach().numpy().copy()
        losses.append(float(np.sum(w[:, t] * (xt - z[:, t]) ** 2) / 2))
        gt = w[:, t] * (xt - z[:, t])
        grads.append(gt)
        x.grad = torch.from_numpy(gt.copy())
        opt.step()
        vhats.append(opt.state[x]["max_exp_avg_sq"].numpy().copy())
    A, B, C = np.cumsum(w, axis=1), np.cumsum(w * z, axis=1), np.cumsum(w * z * z, axis=1)
    xstar = np.clip(np.divide(B, A, out=np.zeros_like(B), where=A > 0), lo, hi)
    best = ((A * xstar**2 - 2 * B * xstar + C) / 2).sum(axis=0)
    return np.stack(grads, axis=1), np.stack(vhats, axis=1), np.cumsum(losses) - best


@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 3), T=st.integers(1, 150), seed=st.integers(0, 2**32 - 1), hp=hyperparameters(),
       box=st.tuples(st.floats(-5.0, 4.0), st.floats(0.05, 5.0)))
def test_regret_under_bound_quadratic_losses_torch_optimizer(d, T, seed, hp, box):
    alpha, beta1, beta2, lam = hp
    lo, hi = box[0], box[0] + box[1]
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.0, 3.0, size=(d, T))
    z = rng.uniform(lo - 2.0, hi + 2.0, size=(d, T))
    g, vhat, regret = quadratic_run(w, z, lo, hi, alpha, beta1, beta2, lam)
    # the optimizer's own vhat is Algorithm 2's recurrence on the gradients it saw
    np.testing.assert_allclose(vhat, amsgrad_vhat(g, beta2), rtol=1e-10, atol=1e-300)
    bound = theorem4_bound(g, alpha=alpha, beta1=beta1, beta2=beta2, diameter=hi - lo, beta1_decay=lam, vhat=vhat)
    assert_under(regret, bound)


def test_terms_by_hand():
    """T = 2, d = 1, g = (2, -1): every term from its formula."""
    alpha, beta1, beta2, D, lam = 0.5, 0.6, 0.5, 3.0, 0.5
    v1 = (1 - beta2) * 4
    v2 = beta2 * v1 + (1 - beta2) * 1
    vhat = np.array([v1, max(v1, v2)])
    b1 = np.array([beta1, beta1 * lam])
    gamma = beta1 / math.sqrt(beta2)
    bound = theorem4_bound([2.0, -1.0], alpha=alpha, beta1=beta1, beta2=beta2, diameter=D, beta1_decay=lam)
    np.testing.assert_allclose(bound.first, D**2 * np.sqrt([1, 2]) / (alpha * (1 - beta1)) * np.sqrt(vhat))
    per = b1 * np.sqrt(vhat) / (alpha / np.sqrt([1, 2]))
    np.testing.assert_allclose(bound.middle, D**2 / (2 * (1 - beta1)) * np.cumsum(per))
    norms = np.sqrt(np.cumsum([4.0, 1.0]))
    coef = alpha * np.sqrt(1 + np.log([1, 2])) / ((1 - beta1) ** 2 * (1 - gamma) * math.sqrt(1 - beta2))
    np.testing.assert_allclose(bound.third, coef * norms)
    arxiv = theorem4_bound([2.0, -1.0], alpha=alpha, beta1=beta1, beta2=beta2, diameter=D, beta1_decay=lam, version="arxiv")
    np.testing.assert_allclose(arxiv.middle, D**2 / (1 - beta1) ** 2 * np.cumsum(per))
    np.testing.assert_allclose(bound.total, bound.first + bound.middle + bound.third)
    only_last = theorem4_bound([2.0, -1.0], alpha=alpha, beta1=beta1, beta2=beta2, diameter=D, beta1_decay=lam, horizons=2)
    assert only_last.T.tolist() == [2] and only_last.total[0] == pytest.approx(bound.total[1])


def test_zero_gradients_give_a_zero_bound_and_no_nan():
    g = np.zeros((3, 50))
    g[1, 10:] = 1.0  # one coordinate wakes up late; the others never move
    bound = theorem4_bound(g, alpha=0.1, beta1=0.9, beta2=0.99, diameter=2.0, beta1_decay=0.9)
    assert np.all(np.isfinite(bound.total))
    assert np.all(bound.total[:10] == 0)
    zero = theorem4_bound(np.zeros(20), alpha=0.1, beta1=0.9, beta2=0.99, diameter=2.0)
    assert np.all(zero.total == 0)
    c = telescoping_weights(amsgrad_vhat(g, 0.99), alpha=0.1, beta1_t=beta1_schedule(50, 0.9, 0.9))
    assert np.all(np.isfinite(c)) and np.all(c[0] == 0)


def test_corollary1_constant_needs_d_over_alpha():
    """The middle term stays under Corollary 1's derived constant, and can exceed the printed one."""
    d, T, G, D, alpha, beta1, lam = 10, 5000, 1.0, 2.0, 0.1, 0.9, 0.99
    g = np.full((d, T), G)
    middle = theorem4_bound(g, alpha=alpha, beta1=beta1, beta2=0.99, diameter=D, beta1_decay=lam, horizons=T).middle[0]
    derived = corollary1_middle(alpha=alpha, beta1=beta1, beta1_decay=lam, diameter=D, grad_bound=G, d=d)
    printed = corollary1_middle(alpha=alpha, beta1=beta1, beta1_decay=lam, diameter=D, grad_bound=G, d=d, printed=True)
    assert middle <= derived
    assert middle > printed
    assert derived == pytest.approx(printed * d / alpha)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(beta1=0.9, beta2=0.8), ValueError, "gamma"),
        (dict(beta2=1.0), ValueError, "beta2"),
        (dict(beta2=0.0), ValueError, "beta2"),
        (dict(alpha=0.0), ValueError, "alpha"),
        (dict(alpha="0.1"), TypeError, "alpha"),
        (dict(diameter=-1.0), ValueError, "diameter"),
        (dict(beta1_decay=0.0), ValueError, "beta1_decay"),
        (dict(beta1_decay=0.9, beta1_t=np.full(5, 0.9)), ValueError, "beta1_decay or beta1_t"),
        (dict(beta1_t=np.array([0.9, 0.95, 0.5, 0.1, 0.0])), ValueError, "beta1_t"),
        (dict(beta1_t=np.full(4, 0.9)), ValueError, "beta1_t"),
        (dict(vhat=np.ones(4)), ValueError, "vhat"),
        (dict(vhat=-np.ones(5)), ValueError, "vhat"),
        (dict(horizons=0), ValueError, "horizons"),
        (dict(horizons=6), ValueError, "horizons"),
        (dict(horizons=2.5), TypeError, "horizons"),
        (dict(version="2019"), ValueError, "version"),
    ],
)
def test_validation_names_the_argument(kwargs, exc, match):
    args = dict(alpha=0.1, beta1=0.5, beta2=0.9, diameter=2.0) | kwargs
    with pytest.raises(exc, match=match):
        theorem4_bound(np.ones(5), **args)


@pytest.mark.parametrize("grads,match", [(np.ones((2, 2, 2)), "shape"), (np.array([1.0, np.nan]), "finite"), ([], "shape"), ("abc", "grads")])
def test_bad_gradients_are_refused(grads, match):
    with pytest.raises((ValueError, TypeError), match=match):
        theorem4_bound(grads, alpha=0.1, beta1=0.5, beta2=0.9, diameter=2.0)


def test_telescoping_weights_validation():
    with pytest.raises(ValueError, match="beta1_t"):
        telescoping_weights(np.ones(3), alpha=0.1, beta1_t=np.ones(3))
    with pytest.raises(ValueError, match="vhat"):
        telescoping_weights(-np.ones(3), alpha=0.1, beta1_t=np.zeros(3))
    with pytest.raises(ValueError, match="alpha"):
        telescoping_weights(np.ones(3), alpha=-1.0, beta1_t=np.zeros(3))
