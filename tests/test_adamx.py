"""AdamX (Tran & Phong 2019, Algorithm 2): the properties of its rule.  Its step-by-step
equality with a transcription of the published update is in test_equivalence.py:

    m_t    = b1t m_{t-1} + (1 - b1t) g_t
    v_t    = b2 v_{t-1} + (1 - b2) g_t^2
    vhat_1 = v_1,  vhat_t = max((1 - b1t)^2 / (1 - b1(t-1))^2 vhat_{t-1}, v_t)   (t >= 2)
    x_{t+1} = Pi_F(x_t - alpha_t m_t / sqrt(vhat_t)),   alpha_t = alpha / sqrt(t)
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adaptive_methods.framework import MovingAverage, MovingAverageOfSquares, RescaledRunningMax, StepContext
from adaptive_methods.methods import AdamX, AMSGrad
from adaptive_methods.registry import METHODS
from adaptive_methods.regret_bound import telescoping_weights

from .conftest import flat, make_mlp, train

STEPS = 240


def test_adamx_differs_from_amsgrad_with_decaying_beta1(data):
    """The rescaling is not a no-op: with a decaying beta1_t the trajectories separate."""
    a, b = make_mlp(), make_mlp()
    train(a, AdamX(a.parameters(), 0.05, (0.9, 0.99), beta1_decay=0.9), STEPS, data)
    train(b, AMSGrad(b.parameters(), 0.05, (0.9, 0.99), variant="paper", beta1_decay=0.9), STEPS, data)
    assert (flat(a) - flat(b)).abs().max() > 1e-6


@pytest.mark.parametrize("foreach", [False, True], ids=["reference", "foreach"])
def test_adamx_with_constant_beta1_is_paper_amsgrad(foreach, data):
    a, b = make_mlp(), make_mlp()
    train(a, AdamX(a.parameters(), 0.05, (0.9, 0.99), beta1_decay=1.0, foreach=foreach), STEPS, data)
    train(b, AMSGrad(b.parameters(), 0.05, (0.9, 0.99), variant="paper", foreach=foreach), STEPS, data)
    torch.testing.assert_close(flat(a), flat(b), rtol=1e-12, atol=1e-14)


def test_rule_factor_is_the_published_ratio():
    """The factor reads beta1_t from the step's first-moment rule, not from a second copy."""
    rule = RescaledRunningMax(MovingAverageOfSquares(0.99))
    phi = MovingAverage(lambda t: 0.9 * 0.5 ** (t - 1))
    assert rule.factor(StepContext(1, phi)) == 1.0
    assert rule.factor(StepContext(2, phi)) == pytest.approx((1 - 0.45) ** 2 / (1 - 0.9) ** 2)
    assert rule.factor(StepContext(5, phi)) == pytest.approx((1 - 0.9 * 0.5**4) ** 2 / (1 - 0.9 * 0.5**3) ** 2)
    assert rule.factor(StepContext(7, MovingAverage(0.9))) == 1.0


def test_by_name_and_state_dict_roundtrip(data):
    assert METHODS["adamx"].cls is AdamX
    a = make_mlp()
    opt = AdamX(a.parameters(), 0.05, (0.9, 0.99), beta1_decay=0.95)
    train(a, opt, 30, data)
    b = make_mlp()
    b.load_state_dict(a.state_dict())
    opt_b = AdamX(b.parameters(), 0.05, (0.9, 0.99), beta1_decay=0.95)
    # a deep copy, as a checkpoint file would be: load_state_dict keeps matching tensors shared
    opt_b.load_state_dict(copy.deepcopy(opt.state_dict()))
    train(a, opt, 30, data, start=30)
    train(b, opt_b, 30, data, start=30)
    torch.testing.assert_close(flat(a), flat(b), rtol=0, atol=0)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(beta1_decay=0.0), ValueError, "beta1_decay"),
        (dict(beta1_decay=1.5), ValueError, "beta1_decay"),
        (dict(beta1_decay=0.9, beta1_schedule=lambda t: 0.9), ValueError, "beta1_decay or beta1_schedule"),
        (dict(beta1_schedule=0.9), TypeError, "beta1_schedule"),
        (dict(betas=(0.9, 1.0)), ValueError, r"betas\[1\]"),
        (dict(betas=(lambda t: 0.9, 0.99)), TypeError, r"betas\[0\]"),
        (dict(lr=-1.0), ValueError, "lr"),
        (dict(eps=-1e-8), ValueError, "eps"),
        (dict(step="cosine"), ValueError, "step"),
    ],
)
def test_validation_names_the_argument(kwargs, exc, match):
    p = torch.zeros(3, requires_grad=True)
    with pytest.raises(exc, match=match):
        AdamX([p], **kwargs)


def test_schedule_out_of_range_is_refused_at_step():
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = AdamX([p], 0.1, beta1_schedule=lambda t: 0.9 if t == 1 else 1.2)
    p.grad = torch.ones_like(p)
    opt.step()
    with pytest.raises(ValueError, match="beta1"):
        opt.step()


def test_zero_gradients_do_not_move_or_produce_nan():
    p = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    opt = AdamX([p], 0.1, (0.9, 0.99))
    for k in range(5):
        p.grad = torch.tensor([0.0, 1.0, 0.0, -2.0 if k else 0.0], dtype=torch.float64)
        opt.step()
    assert torch.all(torch.isfinite(p))
    assert p[0] == 0 and p[2] == 0


gradient = st.floats(min_value=-50.0, max_value=50.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(grads=st.lists(st.lists(gradient, min_size=2, max_size=2), min_size=2, max_size=40),
       decay=st.floats(min_value=0.05, max_value=1.0))
def test_adamx_restores_the_inequality_the_proof_needs(grads, decay):
    """sqrt(vhat_t) / (alpha_t (1 - beta1_t)) never decreases along an AdamX run."""
    beta1, alpha = 0.9, 0.1
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = AdamX([p], alpha, (beta1, 0.99), beta1_decay=decay)
    vhats = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        vhats.append(opt.state[p]["max_exp_avg_sq"].clone().numpy())
    vhat = np.stack(vhats, axis=-1)
    b1t = beta1 * decay ** np.arange(vhat.shape[-1])
    c = telescoping_weights(vhat, alpha=alpha, beta1_t=b1t)
    assert np.all(np.diff(c, axis=-1) >= -1e-9 * np.maximum(c[:, 1:], 1.0))


def test_amsgrad_breaks_the_inequality_on_tran_phong_example():
    """Example 3.2 of Tran & Phong: AMSGrad's weight drops from t = 1 to t = 2; AdamX's does not."""
    beta1, lam, beta2, alpha = 0.9, 0.001, 0.999, 0.001
    b1t = beta1 * lam ** np.arange(3)
    out = {}
    for name, make in {
        "amsgrad": lambda p: AMSGrad(p, alpha, (beta1, beta2), variant="paper", beta1_decay=lam, bounds=(-1.0, 1.0)),
        "adamx": lambda p: AdamX(p, alpha, (beta1, beta2), beta1_decay=lam, bounds=(-1.0, 1.0)),
    }.items():
        x = torch.ones(1, dtype=torch.float64, requires_grad=True)
        opt = make([x])
        xs, vh = [x.item()], []
        for g in (1010.0, -10.0, -10.0):
            x.grad = torch.tensor([g], dtype=torch.float64)
            opt.step()
            xs.append(x.item())
            vh.append(opt.state[x]["max_exp_avg_sq"].item())
        out[name] = (xs, telescoping_weights(np.array(vh), alpha=alpha, beta1_t=b1t))
    xs, c = out["amsgrad"]
    # the iterates the paper reports, x_2 ~ 0.99684 and x_3 ~ 0.99706
    assert xs[1] == pytest.approx(0.99684, abs=5e-6) and xs[2] == pytest.approx(0.99706, abs=5e-6)
    assert c[1] < c[0]
    assert np.all(np.diff(out["adamx"][1]) >= 0)
