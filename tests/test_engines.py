"""The three engines that run a method agree on its paper form.

For every registered method the simulator scans: the torch optimizer (the registry's
paper form, box projection), :func:`adaptive_methods.online.simulate` and Gamma_t from
:mod:`adaptive_methods.gamma` give the same iterates and the same inverse learning rates,
to 1e-12, over 2,000 steps of hypothesis-generated 1-D linear problems -- V_t = 0
included (beta2 = 0 after a zero gradient, where the coordinate must stay put).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adaptive_methods import gamma, online
from adaptive_methods.registry import METHODS

SIMULATED = [name for name, info in METHODS.items() if info.recurrence is not None]
T = 2000
ROWS = 3  # independent problems per example, as the coordinates of one parameter

value = st.floats(-50.0, 50.0, allow_nan=False, allow_infinity=False, width=32)
pattern = st.lists(st.one_of(st.just(0.0), value), min_size=1, max_size=40)


@st.composite
def problems(draw):
    """ROWS gradient sequences of length T: a periodic counterexample, or a random
    pattern (zeros likely) tiled to T steps."""
    rows = []
    for _ in range(ROWS):
        if draw(st.booleans()):
            C = draw(st.floats(0.5, 2000.0))
            period = draw(st.integers(1, 150))
            rows.append(online.periodic_problem(C, period, draw(st.floats(-20.0, -0.01))).grads(T))
        else:
            p = np.array(draw(pattern), dtype=np.float64)
            rows.append(np.resize(p, T))
    return np.stack(rows)


hyper = dict(
    alpha=st.floats(1e-3, 2.0),
    beta1=st.floats(0.0, 0.99),
    beta2=st.one_of(st.just(0.0), st.floats(0.0, 0.999)),
    beta1_decay=st.one_of(st.none(), st.just(1.0), st.floats(0.5, 1.0)),
    x1=st.floats(-1.0, 1.0),
)


def run_torch(name, grads, *, alpha, beta1, beta2, beta1_decay, x1):
    """The registry's paper form on x in [-1, 1]^ROWS, one step per column of grads."""
    x = torch.full((grads.shape[0],), x1, dtype=torch.float64, requires_grad=True)
    opt = METHODS[name].paper([x], alpha, beta1=beta1, beta2=beta2, beta1_decay=beta1_decay,
                              bounds=(-1.0, 1.0), foreach=False)
    xs, inverse = [x.detach().clone()], []
    for g in torch.from_numpy(grads.T.copy()):
        x.grad = g
        opt.step()
        xs.append(x.detach().clone())
        inverse.append(opt.inverse_learning_rates()[0].clone())
    return torch.stack(xs, 1).numpy(), torch.stack(inverse, 1).numpy()


@pytest.mark.parametrize("name", SIMULATED)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grads=problems(), **hyper)
@example(grads=np.resize(np.array([1.0, 0.0, 0.0, -1.0]), (ROWS, T)), alpha=0.5, beta1=0.9, beta2=0.0,
         beta1_decay=None, x1=0.0)
def test_torch_optimizer_simulator_and_gamma_agree(name, grads, alpha, beta1, beta2, beta1_decay, x1):
    xs_torch, inverse_torch = run_torch(name, grads, alpha=alpha, beta1=beta1, beta2=beta2,
                                        beta1_decay=beta1_decay, x1=x1)
    xs_sim = online.simulate(name, grads, alpha=alpha, beta1=beta1, beta2=beta2, beta1_decay=beta1_decay, x1=x1)
    np.testing.assert_allclose(xs_sim, xs_torch, rtol=0, atol=1e-12, err_msg=f"{name}: simulate != torch")
    inverse = gamma.inverse_learning_rates(name, grads, alpha=alpha, beta1=beta1, beta2=beta2, beta1_decay=beta1_decay)
    np.testing.assert_allclose(inverse, inverse_torch, rtol=1e-12, atol=1e-300, err_msg=f"{name}: gamma != torch")


@pytest.mark.parametrize("name", SIMULATED)
def test_zero_second_moment_keeps_the_iterate_in_every_engine(name):
    """beta2 = 0: the zero gradient at t = 2 makes v_2 = 0 while m_2 = beta1 m_1 != 0."""
    grads = np.array([[1.0, 0.0, 0.0, 2.0]])
    xs_torch, _ = run_torch(name, grads, alpha=0.5, beta1=0.9, beta2=0.0, beta1_decay=None, x1=0.0)
    xs_sim = online.simulate(name, grads, alpha=0.5, beta1=0.9, beta2=0.0)
    np.testing.assert_allclose(xs_sim, xs_torch, rtol=0, atol=1e-15)
    assert np.isfinite(xs_torch).all()
    recurrence = METHODS[name].recurrence
    if recurrence.second == "moving_average":
        assert xs_torch[0, 2] == xs_torch[0, 1], "V_2 = 0: the iterate must not move"


def test_every_engine_claims_only_registered_methods():
    """Nothing outside the registry: the simulator takes exactly the methods it scans."""
    g = np.ones(5)
    for name, info in METHODS.items():
        if info.recurrence is None:
            with pytest.raises(ValueError, match=name):
                online.simulate(name, g, alpha=0.1)
        else:
            assert online.simulate(name, g, alpha=0.1).shape == (6,)
    with pytest.raises(ValueError, match="method must be one of"):
        online.simulate("adamw-unregistered", g, alpha=0.1)
