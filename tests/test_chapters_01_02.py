"""Claims made in the chapters "The generic adaptive method" and "Recovering SGD, Adagrad,
RMSProp and Adam" that tests/test_equivalence.py does not already cover."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from adaptive_methods import SGD, Adagrad, Adam, AMSGrad, RMSProp
from adaptive_methods.framework import (
    GenericAdaptive,
    InverseSqrt,
    MovingAverage,
    MovingAverageOfSquares,
    RunningMax,
    project_box,
)

from .conftest import flat, make_mlp, train


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one thread, so that a busy machine does not oversubscribe."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def weighted_box_projection(y, A, lo, hi):
    """argmin over the box of (x - y)^T A (x - y), by L-BFGS-B (exact up to tolerance)."""
    result = minimize(lambda x: ((x - y) @ A @ (x - y), 2 * A @ (x - y)), np.clip(y, lo, hi), jac=True,
                      method="L-BFGS-B", bounds=[(lo, hi)] * len(y), options={"ftol": 1e-15, "gtol": 1e-12})
    return result.x


def play(make_optimizer, grads):
    """The points x_1..x_T played on the linear losses f_t(x) = g_t x (x_1 = 0)."""
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([x])
    played = np.empty(len(grads))
    for t, g in enumerate(grads):
        played[t] = x.item()
        x.grad = torch.tensor([g], dtype=torch.float64)
        optimizer.step()
    return played


def periodic(T, C=3.0):
    t = np.arange(1, T + 1)
    return np.where(t % 3 == 1, C, -1.0)


# ---- chapter 1 ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_projection_on_a_box_with_diagonal_weights_is_a_clip(seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(scale=2.0, size=6)
    weights = rng.uniform(0.01, 100.0, size=6)
    expected = weighted_box_projection(y, np.diag(weights), -1.0, 1.0)
    p = torch.tensor(y)
    project_box([p], (-1.0, 1.0))
    np.testing.assert_allclose(p.numpy(), expected, atol=1e-7)


def test_projection_with_non_diagonal_weights_is_not_a_clip():
    """The exercise's example: y = (2, 0.5), A = [[2, 1], [1, 2]] projects to (1, 1)."""
    y, A = np.array([2.0, 0.5]), np.array([[2.0, 1.0], [1.0, 2.0]])
    np.testing.assert_allclose(weighted_box_projection(y, A, -1.0, 1.0), [1.0, 1.0], atol=1e-7)
    np.testing.assert_allclose(weighted_box_projection(y, np.diag([1.0, 10.0]), -1.0, 1.0), [1.0, 0.5], atol=1e-7)


def test_hand_made_rules_are_the_package_methods():
    C = 3.0
    beta1, beta2, alpha = 0.0, 1.0 / (1.0 + C**2), 0.5
    grads = periodic(600, C)
    box = (-1.0, 1.0)
    adam_by_hand = play(lambda p: GenericAdaptive(p, alpha, phi=MovingAverage(beta1), psi=MovingAverageOfSquares(beta2),
                                                  alpha=InverseSqrt(), bounds=box), grads)
    adam = play(lambda p: Adam(p, alpha, (beta1, beta2), eps=0.0, bias_correction=False, step="inv_sqrt", bounds=box), grads)
    np.testing.assert_array_equal(adam_by_hand, adam)
    ams_by_hand = play(lambda p: GenericAdaptive(p, alpha, phi=MovingAverage(beta1),
                                                 psi=RunningMax(MovingAverageOfSquares(beta2)),
                                                 alpha=InverseSqrt(), bounds=box), grads)
    ams = play(lambda p: AMSGrad(p, alpha, (beta1, beta2), variant="paper", bounds=box), grads)
    np.testing.assert_array_equal(ams_by_hand, ams)


@pytest.mark.parametrize("seed", range(3))
def test_online_gradient_descent_regret_bound(seed):
    """R_T <= D^2 sqrt(T) / (2 alpha) + alpha G^2 (sqrt(T) - 1/2) for every T, on [-1, 1]."""
    rng = np.random.default_rng(seed)
    T, alpha = 1500, 0.3
    grads = periodic(T) if seed == 0 else rng.uniform(-2.0, 2.0, size=T) + rng.choice([-0.5, 0.5])
    xs = play(lambda p: SGD(p, alpha, step="inv_sqrt", bounds=(-1.0, 1.0)), grads)
    regret = np.cumsum(grads * xs) + np.abs(np.cumsum(grads))
    ts = np.arange(1, T + 1)
    D, G = 2.0, np.abs(grads).max()
    bound = D**2 * np.sqrt(ts) / (2 * alpha) + alpha * G**2 * (np.sqrt(ts) - 0.5)
    assert np.all(regret <= bound + 1e-9)


def test_paper_adam_on_theorem_1_problem_has_large_average_regret():
    """The chapter's figure: Adam's average regret stays near 2(C - 2)/3, SGD's falls."""
    C, T = 3.0, 3000
    grads = periodic(T, C)
    box = (-1.0, 1.0)
    adam = play(lambda p: Adam(p, 0.5, (0.0, 1 / (1 + C**2)), eps=0.0, bias_correction=False,
                               step="inv_sqrt", bounds=box), grads)
    sgd = play(lambda p: SGD(p, 0.5, step="inv_sqrt", bounds=box), grads)
    average = {name: (np.sum(grads * xs) + abs(grads.sum())) / T for name, xs in (("adam", adam), ("sgd", sgd))}
    assert average["adam"] > 0.9 * 2 * (C - 2) / 3
    assert average["sgd"] < 0.05


# ---- chapter 2 ------------------------------------------------------------------------


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.999])
def test_moving_average_closed_form(beta):
    """m_t = beta m_{t-1} + (1 - beta) g_t equals (1 - beta) sum_i beta^(t-i) g_i; weights sum to 1 - beta^t."""
    rng = np.random.default_rng(0)
    g = rng.normal(size=(40, 3))
    rule, state = MovingAverage(beta), {"exp_avg": torch.zeros(3, dtype=torch.float64)}
    for t in range(1, len(g) + 1):
        m = rule.apply(torch.tensor(g[t - 1]), state, t).numpy()
        weights = (1 - beta) * beta ** (t - np.arange(1, t + 1))
        np.testing.assert_allclose(m, weights @ g[:t], rtol=1e-12, atol=1e-15)
        assert math.isclose(weights.sum(), 1 - beta**t, rel_tol=1e-12)


@pytest.mark.parametrize("foreach", [False, True], ids=["reference", "foreach"])
@pytest.mark.parametrize("eps", [0.0, 1e-3])
def test_rmsprop_is_uncorrected_adam_with_beta1_zero(eps, foreach, data):
    a, b = make_mlp(), make_mlp()
    train(a, RMSProp(a.parameters(), 0.01, 0.9, eps=eps, foreach=foreach), 120, data)
    train(b, Adam(b.parameters(), 0.01, (0.0, 0.9), eps=eps, bias_correction=False, foreach=foreach), 120, data)
    torch.testing.assert_close(flat(a), flat(b), rtol=1e-12, atol=1e-14)


def test_debiased_adam_with_beta1_zero_is_rmsprop_with_warm_up(data):
    beta2 = 0.99
    a, b = make_mlp(), make_mlp()
    train(a, Adam(a.parameters(), 0.01, (0.0, beta2), eps=0.0), 120, data)
    opt = RMSProp(b.parameters(), 0.01, beta2, eps=0.0)
    warm_up = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: math.sqrt(1 - beta2 ** (k + 1)))
    train(b, opt, 120, data, scheduler=warm_up)
    torch.testing.assert_close(flat(a), flat(b), rtol=1e-10, atol=1e-13)
    c = make_mlp()
    train(c, RMSProp(c.parameters(), 0.01, beta2, eps=0.0), 120, data)
    assert (flat(a) - flat(c)).abs().max() > 1e-3, "without the warm-up the two differ"


@pytest.mark.parametrize("eps", [0.0, 1e-10, 0.1])
def test_adagrad_paper_form_has_eps_growing_like_sqrt_t(eps):
    """Paper form: x -= alpha g / (sqrt(S_t) + sqrt(t) eps); PyTorch form: x -= alpha g / (sqrt(S_t) + eps)."""
    rng = np.random.default_rng(1)
    grads, alpha = rng.normal(size=200), 0.1
    paper = play(lambda p: Adagrad(p, alpha, eps=eps, form="paper"), grads)
    pytorch = play(lambda p: Adagrad(p, alpha, eps=eps, form="pytorch"), grads)
    S = np.cumsum(grads**2)
    t = np.arange(1, len(grads) + 1)
    expected_paper = np.concatenate([[0.0], -np.cumsum(alpha * grads / (np.sqrt(S) + np.sqrt(t) * eps))])[:-1]
    expected_pytorch = np.concatenate([[0.0], -np.cumsum(alpha * grads / (np.sqrt(S) + eps))])[:-1]
    np.testing.assert_allclose(paper, expected_paper, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(pytorch, expected_pytorch, rtol=1e-10, atol=1e-12)
    if eps == 0.0:
        np.testing.assert_allclose(paper, pytorch, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.9, 0.99), (0.5, 0.9)])
def test_effective_step_with_and_without_bias_correction(betas):
    """Constant gradient: corrected steps have length lr; uncorrected (1 - b1^t) / sqrt(1 - b2^t) lr."""
    T, lr = 300, 1e-3
    ones = np.ones(T)
    corrected = np.diff(play(lambda p: Adam(p, lr, betas, eps=0.0), np.append(ones, 1.0)))
    uncorrected = np.diff(play(lambda p: Adam(p, lr, betas, eps=0.0, bias_correction=False), np.append(ones, 1.0)))
    t = np.arange(1, T + 1)
    np.testing.assert_allclose(-corrected / lr, 1.0, rtol=1e-9)
    np.testing.assert_allclose(-uncorrected / lr, (1 - betas[0] ** t) / np.sqrt(1 - betas[1] ** t), rtol=1e-9)


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.9, 0.99), (0.9, 0.95), (0.5, 0.9), (0.0, 0.5), (0.99, 0.9999)])
def test_first_uncorrected_step_is_longer_than_lr_exactly_when_one_minus_beta1_squared_exceeds_one_minus_beta2(betas):
    """Chapter 2's summary: without bias correction Adam's first step on a constant gradient
    has length lr (1 - b1) / sqrt(1 - b2), longer than lr iff (1 - b1)^2 > 1 - b2."""
    b1, b2 = betas
    lr = 1e-3
    first = -np.diff(play(lambda p: Adam(p, lr, betas, eps=0.0, bias_correction=False), np.ones(2)))[0]
    np.testing.assert_allclose(first / lr, (1 - b1) / math.sqrt(1 - b2), rtol=1e-12)
    assert (first > lr) == ((1 - b1) ** 2 > 1 - b2)
