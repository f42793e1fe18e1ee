"""The claims of chapter 03 (Gamma_t), checked beyond the single run the chapter executes.

* Proposition "Where Gamma_t enters the regret": the inequality holds along real runs of
  Algorithm 1 (beta1 = 0, box projection), and its PSD form holds for AMSGrad;
* Proposition "Adam's learning rate grows after every large gradient": for several C > 2;
* Proposition "No growth during the first beta2 / (1 - beta2) steps" and its tightness;
* PyTorch's AMSGrad: c_t >= 1 and a learning rate never exceeds max_t c_t times an earlier one;
* Exercise "When AMSGrad's learning rate cannot grow": optax's variant never raises one;
* ``GammaTracker(rtol=...)``, the option the chapter uses to ignore float rounding.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from adaptive_methods import AMSGrad, Adam
from adaptive_methods.gamma import GammaTracker, gamma, inverse_learning_rates
from adaptive_methods.registry import METHODS

from .method_table import TABLE

# the simulated methods whose learning rate never grows, by the one test table
NON_INCREASING = [n for n, row in TABLE.items() if row.never_increasing and METHODS[n].recurrence]

gradient = st.floats(min_value=-50.0, max_value=50.0, allow_nan=False, allow_infinity=False)


def feed(optimizer, param, grads):
    """Apply a fixed gradient sequence (T x d); return iterates x_1..x_{T+1} and the
    inverse learning rate after each step, both float64 arrays."""
    xs, inv = [param.detach().clone().numpy()], []
    for g in grads:
        param.grad = torch.as_tensor(g, dtype=torch.float64)
        optimizer.step()
        xs.append(param.detach().clone().numpy())
        inv.append(optimizer.inverse_learning_rates()[0].clone().numpy())
    return np.array(xs), np.array(inv)


# --- Proposition: where Gamma_t enters the regret --------------------------------------------


@pytest.mark.parametrize("method", ["adam", "amsgrad"])
@pytest.mark.parametrize("seed", range(5))
def test_regret_decomposition_holds_along_a_run(method, seed):
    rng = np.random.default_rng(seed)
    T, d, alpha, beta2 = 400, 4, 0.3, 0.6
    grads = rng.normal(size=(T, d)) * np.where(rng.random((T, d)) < 0.05, 20.0, 1.0) + 0.3
    x = torch.zeros(d, dtype=torch.float64, requires_grad=True)
    opt = METHODS[method].paper([x], alpha, beta1=0.0, beta2=beta2)
    xs, inv = feed(opt, x, grads)  # inv[t-1] = sqrt(v_t) / alpha_t
    x_star = -np.sign(grads.sum(axis=0))  # the minimiser of sum_t <g_t, x> over the box
    t = np.arange(1, T + 1)[:, None]
    alpha_t = alpha / np.sqrt(t)
    sqrt_v = inv * alpha_t
    lhs = np.sum(grads * (xs[:-1] - x_star))
    first = np.sum(inv[0] * (xs[0] - x_star) ** 2) / 2
    middle = np.sum(np.diff(inv, axis=0) * (xs[1:-1] - x_star) ** 2) / 2
    last = np.sum(alpha_t / 2 * grads**2 / sqrt_v)
    assert lhs <= first + middle + last + 1e-9 * abs(lhs)
    if method in NON_INCREASING:  # Gamma_t >= 0: the first two terms telescope
        D = 2.0
        assert first + middle <= D**2 / 2 * inv[-1].sum() + 1e-9
    else:
        assert (np.diff(inv, axis=0) < 0).any(), "the Adam case should exercise negative Gamma entries"


# --- Proposition: Theorem 1's sequence ---------------------------------------------------------


@pytest.mark.parametrize("C", [2.05, 2.5, 3.0, 5.0, 10.0])
@pytest.mark.parametrize("step", ["inv_sqrt", "constant"])
def test_learning_rate_grows_after_every_large_gradient(C, step):
    T = 900
    t = np.arange(1, T + 1)
    grads = np.where(t % 3 == 1, C, -1.0)
    beta2 = 1.0 / (1.0 + C**2)
    inv = inverse_learning_rates("adam", grads, alpha=0.7, beta2=beta2, step=step)
    large = t[(t % 3 == 1) & (t < T)]
    growth = inv[large - 1] / inv[large]
    bound = C / 2 if step == "inv_sqrt" else C / math.sqrt(2)
    assert np.all(growth >= bound * (1 - 1e-12))
    assert np.all(gamma("adam", grads, alpha=0.7, beta2=beta2, step=step)[large - 1] < 0)
    for method in NON_INCREASING:
        assert np.all(gamma(method, grads, beta2=beta2) >= -1e-12), method


# --- Proposition: no growth during the first beta2 / (1 - beta2) steps -------------------------


@settings(max_examples=60, deadline=None)
@given(grads=st.lists(gradient, min_size=2, max_size=120), beta2=st.floats(0.0, 0.99))
def test_no_growth_before_beta2_over_one_minus_beta2(grads, beta2):
    inv = inverse_learning_rates("adam", grads, beta2=beta2)
    gam = gamma("adam", grads, beta2=beta2)  # gam[k] = Gamma_{t+1} with t = k + 1
    t = np.arange(1, len(grads))
    protected = t <= beta2 / (1 - beta2)
    assert np.all(gam[protected] >= -1e-12 * inv[1:][protected])


@pytest.mark.parametrize("beta2", [0.5, 0.9, 0.95, 0.99])
def test_onset_bound_is_tight(beta2):
    grads = np.zeros(400)
    grads[0] = 1.0
    inv = inverse_learning_rates("adam", grads, beta2=beta2)
    negative = gamma("adam", grads, beta2=beta2) < -1e-12 * inv[1:]
    t = np.arange(1, len(grads))
    np.testing.assert_array_equal(negative, t > beta2 / (1 - beta2) + 1e-9)


# --- PyTorch's AMSGrad: bounded growth; optax's: none ------------------------------------------


def pytorch_factor(beta1, beta2, steps):
    t = np.arange(1, steps + 1)
    return (1 - beta1**t) / np.sqrt(1 - beta2**t)


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.9, 0.99), (0.5, 0.9)])
def test_pytorch_bias_correction_factor_stays_above_one(betas):
    c = pytorch_factor(*betas, 10**6)
    assert np.all(c >= 1.0 - 1e-12)  # (0.9, 0.99): c_1 = 0.1 / sqrt(0.01) = 1 exactly
    assert c[-1] == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(grads=st.lists(st.lists(gradient, min_size=2, max_size=2), min_size=2, max_size=60),
       eps=st.sampled_from([0.0, 1e-8, 1e-3]))
def test_pytorch_amsgrad_learning_rate_grows_at_most_by_max_c(grads, eps):
    betas = (0.9, 0.999)
    x = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    _, inv = feed(AMSGrad([x], 0.1, betas, eps=eps, variant="pytorch"), x, grads)
    c_max = pytorch_factor(*betas, 10**5).max()
    with np.errstate(divide="ignore", invalid="ignore"):
        # lr_s / lr_t = inv_t / inv_s for every s > t (entries where inv_s = 0 never moved)
        ratio = inv[:, None, :] / inv[None, :, :]
    later = np.triu(np.ones((len(inv), len(inv)), dtype=bool), k=1)[:, :, None] & (inv[None, :, :] > 0)
    assert np.all(ratio[np.broadcast_to(later, ratio.shape)] <= c_max * (1 + 1e-12))


@settings(max_examples=40, deadline=None)
@given(grads=st.lists(st.lists(gradient, min_size=2, max_size=2), min_size=2, max_size=60),
       eps=st.sampled_from([0.0, 1e-8, 1e-3]))
def test_optax_amsgrad_never_raises_a_learning_rate(grads, eps):
    x = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    _, inv = feed(AMSGrad([x], 0.1, (0.9, 0.999), eps=eps, variant="optax"), x, grads)
    assert np.all(np.diff(inv, axis=0) >= -1e-12 * inv[1:])


# --- GammaTracker(rtol=...) --------------------------------------------------------------------


def test_gamma_tracker_rtol_ignores_only_changes_below_it():
    x = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = Adam([x], 0.1, (0.0, 0.5), eps=0.0, bias_correction=False)
    strict, tolerant = GammaTracker(opt), GammaTracker(opt, rtol=1e-3)
    # v_1 = (0.5, 0.5); then coordinate 0's v halves (its inverse lr falls by 29%) and
    # coordinate 1's falls by 2e-6 relative (its inverse lr by 1e-6)
    for g in ([1.0, 1.0], [0.0, math.sqrt(0.5 - 2e-6)]):
        x.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        strict.update()
        tolerant.update()
    assert strict.negative_fraction == [1.0]
    assert tolerant.negative_fraction == [0.5]
    assert strict.most_negative == tolerant.most_negative


@pytest.mark.parametrize("rtol", [-1e-6, float("nan"), float("inf")])
def test_gamma_tracker_rejects_bad_rtol(rtol):
    x = torch.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match="rtol must be a finite number >= 0"):
        GammaTracker(Adam([x]), rtol=rtol)


def test_gamma_tracker_rtol_must_be_a_number():
    x = torch.zeros(1, requires_grad=True)
    with pytest.raises(TypeError, match="rtol must be a real number"):
        GammaTracker(Adam([x]), rtol="1e-6")
