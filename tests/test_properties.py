"""Gamma_t along random gradient sequences (hypothesis).

For SGD, Adagrad and AMSGrad with a non-increasing alpha_t the learning rate never grows
(Gamma_t is PSD); for Adam hypothesis must find a sequence where it does.  Checked on the
torch optimizers themselves (through ``inverse_learning_rates``) and on the sequence
formulas of :mod:`adaptive_methods.gamma`.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from adaptive_methods import Adam, AMSGrad
from adaptive_methods.gamma import GammaTracker, gamma, inverse_learning_rates

from .method_table import TABLE

gradient = st.floats(min_value=-100.0, max_value=100.0, allow_nan=False, allow_infinity=False)
sequences = st.lists(st.lists(gradient, min_size=3, max_size=3), min_size=2, max_size=40)


def inverse_lr_trajectory(make, grads):
    """Feed a fixed gradient sequence (T x 3) to an optimizer; inverse lr after each step."""
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = make([p])
    out = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        out.append(opt.inverse_learning_rates()[0].clone())
    return torch.stack(out)


# the settings of the one test table whose learning rate never grows
NON_INCREASING = {f"{name}-{setting}": make for name, row in TABLE.items()
                  for setting, make in row.never_increasing.items()}


@pytest.mark.parametrize("name", sorted(NON_INCREASING))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(grads=sequences)
def test_learning_rate_never_increases(name, grads):
    inv = inverse_lr_trajectory(NON_INCREASING[name], grads)
    gam = inv[1:] - inv[:-1]
    # Gamma_t >= 0 up to rounding of the running sums
    assert torch.all(gam >= -1e-12 * inv[1:].abs().clamp_min(1.0)), gam.min()


def test_adam_learning_rate_can_increase():
    """hypothesis finds a gradient sequence where Adam's Gamma_t has a negative entry."""

    def has_negative_gamma(grads):
        inv = inverse_lr_trajectory(lambda p: Adam(p, 0.1, (0.9, 0.5), eps=0.0, bias_correction=False, step="inv_sqrt"), grads)
        return bool(((inv[1:] - inv[:-1]) < 0).any())

    example = find(sequences, has_negative_gamma, settings=settings(max_examples=500, deadline=None))
    assert has_negative_gamma(example)


def test_pytorch_amsgrad_learning_rate_can_increase_early():
    """PyTorch's AMSGrad divides by sqrt(1 - beta2^t) after the max: with a constant lr (and
    beta1 = 0, so that the first-moment correction does not mask it) its effective learning
    rate grows while 1 - beta2^t does (a reason the book separates the three AMSGrads)."""
    inv = inverse_lr_trajectory(lambda p: AMSGrad(p, 0.1, (0.0, 0.999), eps=0.0), [[1.0, 1.0, 1.0]] + [[0.0, 0.0, 0.0]] * 5)
    assert ((inv[1:] - inv[:-1]) < 0).any()


@settings(max_examples=80, deadline=None)
@given(grads=st.lists(gradient, min_size=2, max_size=60), beta2=st.floats(0.0, 0.999))
def test_sequence_gamma_signs(grads, beta2):
    assert np.all(gamma("amsgrad", grads, beta2=beta2) >= -1e-9 * np.abs(inverse_learning_rates("amsgrad", grads, beta2=beta2)[1:]).clip(1))
    assert np.all(gamma("adagrad", grads) >= -1e-9 * np.abs(inverse_learning_rates("adagrad", grads)[1:]).clip(1))
    assert np.all(gamma("sgd", grads) >= 0)


def test_sequence_gamma_agrees_with_the_optimizers():
    rng = np.random.default_rng(0)
    g = rng.normal(size=50) * rng.choice([1.0, 30.0], size=50)
    seq = inverse_learning_rates("adam", g, alpha=0.1, beta2=0.9)
    inv = inverse_lr_trajectory(lambda p: Adam(p, 0.1, (0.5, 0.9), eps=0.0, bias_correction=False, step="inv_sqrt"),
                                [[x, x, x] for x in g])
    np.testing.assert_allclose(inv[:, 0].numpy(), seq, rtol=1e-10)
    seq = inverse_learning_rates("amsgrad", g, alpha=0.1, beta2=0.9)
    inv = inverse_lr_trajectory(lambda p: AMSGrad(p, 0.1, (0.5, 0.9), variant="paper"), [[x, x, x] for x in g])
    np.testing.assert_allclose(inv[:, 0].numpy(), seq, rtol=1e-10)


def test_theorem1_sequence_gives_adam_negative_gamma():
    """The gradient pattern of Theorem 1 (C, -1, -1, ...) makes Adam's Gamma negative after
    every large gradient, and AMSGrad's never."""
    C = 3.0
    g = np.tile([C, -1.0, -1.0], 20)
    assert (gamma("adam", g, beta2=1 / (1 + C**2)) < 0).sum() >= 19
    assert (gamma("amsgrad", g, beta2=1 / (1 + C**2)) < -1e-12).sum() == 0


def test_gamma_tracker_counts_negative_entries(data):
    from .conftest import make_mlp

    m = make_mlp()
    opt = Adam(m.parameters(), 0.01, (0.9, 0.9))
    tracker = GammaTracker(opt)
    X, Y = data
    for i in range(30):
        opt.zero_grad()
        ((m(X[i % 6 * 16:(i % 6 + 1) * 16]) - Y[i % 6 * 16:(i % 6 + 1) * 16]) ** 2).mean().backward()
        opt.step()
        tracker.update()
    assert len(tracker.negative_fraction) == 29
    assert max(tracker.negative_fraction) > 0.0
    m2 = make_mlp()
    opt2 = AMSGrad(m2.parameters(), 0.01, (0.9, 0.9), variant="paper")
    tracker2 = GammaTracker(opt2)
    for i in range(30):
        opt2.zero_grad()
        ((m2(X[i % 6 * 16:(i % 6 + 1) * 16]) - Y[i % 6 * 16:(i % 6 + 1) * 16]) ** 2).mean().backward()
        opt2.step()
        tracker2.update()
    assert max(tracker2.negative_fraction) == 0.0
    with pytest.raises(TypeError, match="optimizer must be a GenericAdaptive"):
        GammaTracker(torch.optim.Adam(m.parameters()))
