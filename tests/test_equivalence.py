"""Every registered method against its independent reference, step by step, on both
code paths; and the fast path == the reference path for every setting of the table."""

from __future__ import annotations

import pytest
import torch

from adaptive_methods import Adagrad, AMSGrad
from adaptive_methods.registry import METHODS

from .conftest import flat, make_mlp, train
from .method_table import TABLE

STEPS = 240


def test_every_registered_method_has_a_row():
    assert set(TABLE) == set(METHODS), "each registered method needs one row of tests/method_table.py"
    for name, row in TABLE.items():
        assert row.references, f"{name} has no independent reference"


@pytest.mark.parametrize("foreach", [False, True], ids=["reference", "foreach"])
@pytest.mark.parametrize("name", list(METHODS))
def test_matches_its_independent_reference(name, foreach, data):
    """torch.optim where the API says ==, the published algorithm's transcription otherwise."""
    for setting, (ours, reference) in TABLE[name].references.items():
        a = make_mlp()
        train(a, ours(a.parameters(), foreach), STEPS, data)
        b = make_mlp()
        train(b, reference(b.parameters()), STEPS, data)
        torch.testing.assert_close(flat(a), flat(b), rtol=1e-6, atol=1e-12, msg=lambda m: f"{name} {setting}: {m}")
        assert not torch.equal(flat(a), flat(make_mlp())), "training must have moved the parameters"


@pytest.mark.parametrize("name", list(METHODS))
def test_reference_path_equals_foreach_path(name, data):
    for setting, make in TABLE[name].settings().items():
        a, b = make_mlp(), make_mlp()
        train(a, make(a.parameters(), False), STEPS, data)
        train(b, make(b.parameters(), True), STEPS, data)
        torch.testing.assert_close(flat(a), flat(b), rtol=1e-10, atol=1e-14, msg=lambda m: f"{name} {setting}: {m}")


def test_eps_inside_the_root_both_paths(data):
    from adaptive_methods.framework import GenericAdaptive, MovingAverage, MovingAverageOfSquares

    def make(params, foreach):
        return GenericAdaptive(params, 0.01, phi=MovingAverage(0.9), psi=MovingAverageOfSquares(0.99),
                               eps=1e-3, eps_placement="inside", foreach=foreach)

    a, b = make_mlp(), make_mlp()
    train(a, make(a.parameters(), False), STEPS, data)
    train(b, make(b.parameters(), True), STEPS, data)
    torch.testing.assert_close(flat(a), flat(b), rtol=1e-10, atol=1e-14)
    # and eps inside differs from eps outside: the option is not ignored
    c = make_mlp()
    train(c, GenericAdaptive(c.parameters(), 0.01, phi=MovingAverage(0.9), psi=MovingAverageOfSquares(0.99), eps=1e-3), STEPS, data)
    assert (flat(a) - flat(c)).abs().max() > 1e-6


def test_paper_adagrad_is_pytorch_adagrad_without_eps(data):
    """(mean of squares, alpha/sqrt(t)) and (sum of squares, alpha) give the same rate."""
    a, b = make_mlp(), make_mlp()
    train(a, Adagrad(a.parameters(), 0.05, eps=0.0, form="paper"), STEPS, data)
    train(b, Adagrad(b.parameters(), 0.05, eps=0.0), STEPS, data)
    torch.testing.assert_close(flat(a), flat(b), rtol=1e-10, atol=1e-14)


def test_three_amsgrads_are_different_algorithms(data):
    finals = {}
    for variant in ("pytorch", "optax", "paper"):
        m = make_mlp()
        train(m, AMSGrad(m.parameters(), 0.01, (0.9, 0.99), variant=variant), STEPS, data)
        finals[variant] = flat(m)
    assert (finals["pytorch"] - finals["optax"]).abs().max() > 1e-6
    assert (finals["pytorch"] - finals["paper"]).abs().max() > 1e-6


def test_unused_parameter_and_mixed_steps_match_torch(data):
    """A parameter without a gradient is skipped and keeps its own step count, as in torch."""
    def run(make):
        torch.manual_seed(3)
        a, b = torch.nn.Linear(6, 3).double(), torch.nn.Linear(6, 3).double()
        opt = make(list(a.parameters()) + list(b.parameters()))
        X, Y = data
        for i in range(60):
            opt.zero_grad()
            out = a(X[:16]) if i % 3 else a(X[:16]) + b(X[16:32])
            ((out - Y[:16]) ** 2).mean().backward()
            opt.step()
        return torch.cat([p.detach().flatten() for p in [*a.parameters(), *b.parameters()]])

    for foreach in (False, True):
        ours = run(lambda p: AMSGrad(p, 0.01, foreach=foreach))
        theirs = run(lambda p: torch.optim.Adam(p, 0.01, amsgrad=True))
        torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-12)


def test_float32_foreach_is_bitwise_torch_foreach(data):
    """Same kernels in the same order: the fast path reproduces torch's foreach Adam exactly."""
    X, Y = (t.float() for t in data)
    results = []
    for make in (lambda p: AMSGrad(p, 0.01, foreach=True), lambda p: torch.optim.Adam(p, 0.01, amsgrad=True, foreach=True)):
        torch.manual_seed(0)
        m = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
        opt = make(m.parameters())
        for i in range(100):
            opt.zero_grad()
            ((m(X[:32]) - Y[:32]) ** 2).mean().backward()
            opt.step()
        results.append(flat(m))
    assert torch.equal(results[0], results[1])
