"""The NumPy loops of the later methods' paper forms equal the registry's torch optimizers.

:func:`adaptive_methods.later_loops.paper_loop` is what chapter 7 runs for the methods the
simulator cannot scan; here it is checked against ``METHODS[name].paper(...)`` step by
step (iterates to 1e-10, inverse learning rates to 1e-9 relative) on the paper's periodic
problems and on random gradients, with beta1 = 0 and beta2 small included.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from adaptive_methods import online
from adaptive_methods.later_loops import LOOPED, paper_loop
from adaptive_methods.registry import METHODS

T = 1500


def torch_paper_form(name, grads, alpha, beta1, beta2, x1):
    x = torch.tensor(x1, dtype=torch.float64, requires_grad=True)
    opt = METHODS[name].paper([x], alpha, beta1=beta1, beta2=beta2, foreach=False)
    xs, inverse = [x.detach().numpy().copy()], []
    for g in torch.from_numpy(grads.T.copy()):
        x.grad = g
        opt.step()
        xs.append(x.detach().numpy().copy())
        inverse.append(opt.inverse_learning_rates()[0].numpy().copy())
    return np.stack(xs, 1), np.stack(inverse, 1)


def problems():
    rng = np.random.default_rng(16)
    return {
        "figure1": (np.stack([online.figure1_problem().grads(T)] * 2), 1.0, 0.9, 0.99, [0.0, 0.5]),
        "theorem1": (np.stack([1.37 * online.theorem1_problem(3.0).problem.grads(T)] * 2), 0.9, 0.0, 0.1, [1.0, -0.2]),
        "random": (rng.normal(0.3, 2.0, size=(2, T)), 0.2, 0.5, 0.9, [0.0, 0.0]),
    }


@pytest.mark.parametrize("problem", ["figure1", "theorem1", "random"])
@pytest.mark.parametrize("name", LOOPED)
def test_loop_equals_the_torch_optimizer(name, problem):
    grads, alpha, beta1, beta2, x1 = problems()[problem]
    xs, inverse = paper_loop(name, grads, alpha=alpha, beta1=beta1, beta2=beta2, x1=np.array(x1))
    xs_torch, inverse_torch = torch_paper_form(name, grads, alpha, beta1, beta2, x1)
    np.testing.assert_allclose(xs, xs_torch, rtol=0, atol=1e-10, err_msg=f"{name} on {problem}: iterates")
    np.testing.assert_allclose(inverse, inverse_torch, rtol=1e-9, atol=1e-300, err_msg=f"{name} on {problem}: 1/lr")
    assert np.ptp(xs) > 1e-3, "the run must move"


def test_rows_are_independent_problems():
    """Per-row hyperparameters: a batch of two equals the two runs alone."""
    g = np.stack([online.figure1_problem().grads(400), online.theorem2_problem(0.5, 0.5).problem.grads(400)])
    both, _ = paper_loop("adabound", g, alpha=np.array([1.0, 0.3]), beta1=np.array([0.9, 0.5]),
                         beta2=np.array([0.99, 0.5]))
    alone, _ = paper_loop("adabound", g[1], alpha=0.3, beta1=0.5, beta2=0.5)
    np.testing.assert_array_equal(both[1], alone)


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    (dict(method="adam"), ValueError, "method must be one of"),
    (dict(alpha=0.0), ValueError, "alpha must be > 0"),
    (dict(beta1=1.0), ValueError, r"beta1 must be in \[0.0, 1.0\), got 1.0"),
    (dict(beta2=np.array([0.5, 0.9, 0.99])), ValueError, r"beta2 must be a number or an array of shape \(2,\)"),
    (dict(x1=2.0), ValueError, r"x1 must be in \[-1.0, 1.0\], got 2.0"),
    (dict(grads=np.array([[1.0, np.nan]] * 2)), ValueError, "grads must be finite"),
    (dict(alpha="0.1"), TypeError, "alpha must be a number"),
])
def test_bad_input_is_named(kwargs, exc, match):
    args = dict(method="yogi", grads=np.ones((2, 5)), alpha=0.1, beta1=0.9, beta2=0.99, x1=0.0) | kwargs
    with pytest.raises(exc, match=match):
        paper_loop(args.pop("method"), args.pop("grads"), **args)
