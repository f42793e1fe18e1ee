"""Our methods == torch.optim, step by step, and the fast path == the reference path."""

from __future__ import annotations

import math

import pytest
import torch

from adaptive_methods import SGD, Adagrad, Adam, AdamNC, AMSGrad, RMSProp

from .conftest import flat, make_mlp, train

STEPS = 240

# (our constructor, torch constructor) for several hyperparameter settings each
TORCH_PAIRS = {
    "sgd-0.1": (lambda p, **k: SGD(p, lr=0.1, **k), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd-0.02": (lambda p, **k: SGD(p, lr=0.02, **k), lambda p: torch.optim.SGD(p, lr=0.02)),
    "adagrad-0.1": (lambda p, **k: Adagrad(p, lr=0.1, **k), lambda p: torch.optim.Adagrad(p, lr=0.1)),
    "adagrad-0.05-eps1e-3": (lambda p, **k: Adagrad(p, lr=0.05, eps=1e-3, **k), lambda p: torch.optim.Adagrad(p, lr=0.05, eps=1e-3)),
    "rmsprop-0.01": (lambda p, **k: RMSProp(p, lr=0.01, **k), lambda p: torch.optim.RMSprop(p, lr=0.01)),
    "rmsprop-0.003-0.9-eps1e-4": (
        lambda p, **k: RMSProp(p, lr=0.003, beta2=0.9, eps=1e-4, **k),
        lambda p: torch.optim.RMSprop(p, lr=0.003, alpha=0.9, eps=1e-4),
    ),
    "adam-default": (lambda p, **k: Adam(p, lr=1e-3, **k), lambda p: torch.optim.Adam(p, lr=1e-3)),
    "adam-0.01-(0.5,0.9)": (lambda p, **k: Adam(p, 0.01, (0.5, 0.9), **k), lambda p: torch.optim.Adam(p, 0.01, (0.5, 0.9))),
    "adam-0.003-(0,0.99)-eps1e-3": (
        lambda p, **k: Adam(p, 0.003, (0.0, 0.99), 1e-3, **k),
        lambda p: torch.optim.Adam(p, 0.003, (0.0, 0.99), 1e-3),
    ),
    "amsgrad-default": (lambda p, **k: AMSGrad(p, lr=1e-3, **k), lambda p: torch.optim.Adam(p, lr=1e-3, amsgrad=True)),
    "amsgrad-0.01-(0.9,0.99)": (
        lambda p, **k: AMSGrad(p, 0.01, (0.9, 0.99), **k),
        lambda p: torch.optim.Adam(p, 0.01, (0.9, 0.99), amsgrad=True),
    ),
    "amsgrad-0.005-(0.8,0.9)-eps1e-4": (
        lambda p, **k: AMSGrad(p, 0.005, (0.8, 0.9), 1e-4, **k),
        lambda p: torch.optim.Adam(p, 0.005, (0.8, 0.9), 1e-4, amsgrad=True),
    ),
}


@pytest.mark.parametrize("foreach", [False, True], ids=["reference", "foreach"])
@pytest.mark.parametrize("name", sorted(TORCH_PAIRS))
def test_matches_torch_optim(name, foreach, data):
    ours, theirs = TORCH_PAIRS[name]
    a = make_mlp()
    train(a, ours(a.parameters(), foreach=foreach), STEPS, data)
    b = make_mlp()
    train(b, theirs(b.parameters()), STEPS, data)
    torch.testing.assert_close(flat(a), flat(b), rtol=1e-6, atol=1e-12)
    assert not torch.equal(flat(a), flat(make_mlp())), "training must have moved the parameters"


# ---- independent transcriptions of the published algorithms ---------------------------


class OptaxAMSGrad:
    """optax.scale_by_amsgrad + scale(-lr), transcribed from optax/_src/transform.py:
    mu_hat = mu / (1 - b1^t); nu_hat = nu / (1 - b2^t); nu_max = max(nu_max, nu_hat);
    update = -lr * mu_hat / (sqrt(nu_max + eps_root) + eps)."""

    def __init__(self, params, lr, b1, b2, eps, eps_root=0.0):
        self.params = list(params)
        self.lr, self.b1, self.b2, self.eps, self.eps_root = lr, b1, b2, eps, eps_root
        self.mu = [torch.zeros_like(p) for p in self.params]
        self.nu = [torch.zeros_like(p) for p in self.params]
        self.nu_max = [torch.zeros_like(p) for p in self.params]
        self.count = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.count += 1
        for i, p in enumerate(self.params):
            g = p.grad
            self.mu[i] = (1 - self.b1) * g + self.b1 * self.mu[i]
            self.nu[i] = (1 - self.b2) * g**2 + self.b2 * self.nu[i]
            mu_hat = self.mu[i] / (1 - self.b1**self.count)
            nu_hat = self.nu[i] / (1 - self.b2**self.count)
            self.nu_max[i] = torch.maximum(self.nu_max[i], nu_hat)
            p -= self.lr * mu_hat / (torch.sqrt(self.nu_max[i] + self.eps_root) + self.eps)


class PaperAlgorithm:
    """Algorithms 2 (AMSGrad) and 3 (AdamNC) of Reddi et al., transcribed:

        m_t = b1t m_{t-1} + (1 - b1t) g_t
        v_t = b2t v_{t-1} + (1 - b2t) g_t^2
        vhat_t = max(vhat_{t-1}, v_t)           (AMSGrad only; AdamNC uses v_t)
        x_{t+1} = Pi_F(x_t - alpha_t m_t / sqrt(vhat_t)),   alpha_t = alpha / sqrt(t)
    """

    def __init__(self, params, alpha, b1t, b2t, amsgrad, bounds=None):
        self.params = list(params)
        self.alpha, self.b1t, self.b2t, self.amsgrad, self.bounds = alpha, b1t, b2t, amsgrad, bounds
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.vhat = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        t = self.t
        b1, b2 = self.b1t(t), self.b2t(t)
        alpha_t = self.alpha / math.sqrt(t)
        for i, p in enumerate(self.params):
            g = p.grad
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            self.vhat[i] = torch.maximum(self.vhat[i], self.v[i])
            denom = self.vhat[i] if self.amsgrad else self.v[i]
            p -= alpha_t * self.m[i] / torch.sqrt(denom)
            if self.bounds is not None:
                p.clamp_(*self.bounds)


@pytest.mark.parametrize("foreach", [False, True], ids=["reference", "foreach"])
@pytest.mark.parametrize("lr,betas,eps", [(1e-3, (0.9, 0.999), 1e-8), (0.01, (0.9, 0.99), 1e-6), (0.02, (0.5, 0.9), 1e-3)])
def test_optax_amsgrad_matches_transcription(lr, betas, eps, foreach, data):
    a = make_mlp()
    train(a, AMSGrad(a.parameters(), lr, betas, eps, variant="optax", foreach=foreach), STEPS, data)
    b = make_mlp()
    train(b, OptaxAMSGrad(b.parameters(), lr, *betas, eps), STEPS, data)
    torch.testing.assert_close(flat(a), flat(b), rtol=1e-6, atol=1e-12)


PAPER_CASES = {
    "amsgrad-constant-b1": (
        lambda p, f: AMSGrad(p, 0.05, (0.9, 0.99), variant="paper", foreach=f),
        lambda p: PaperAlgorithm(p, 0.05, lambda t: 0.9, lambda t: 0.99, amsgrad=True),
    ),
    "amsgrad-b1-decay": (
        lambda p, f: AMSGrad(p, 0.05, (0.9, 0.999), variant="paper", beta1_decay=0.99, foreach=f),
        lambda p: PaperAlgorithm(p, 0.05, lambda t: 0.9 * 0.99 ** (t - 1), lambda t: 0.999, amsgrad=True),
    ),
    "amsgrad-b1-over-t-bounded": (
        lambda p, f: AMSGrad(p, 0.1, (0.9, 0.99), variant="paper", beta1_schedule=lambda t: 0.9 / t, bounds=(-0.3, 0.3), foreach=f),
        lambda p: PaperAlgorithm(p, 0.1, lambda t: 0.9 / t, lambda t: 0.99, amsgrad=True, bounds=(-0.3, 0.3)),
    ),
    "adamnc-corollary2": (
        lambda p, f: AdamNC(p, 0.05, foreach=f),
        lambda p: PaperAlgorithm(p, 0.05, lambda t: 0.9 * 0.99 ** (t - 1), lambda t: 1 - 1 / t, amsgrad=False),
    ),
    "adamnc-custom": (
        lambda p, f: AdamNC(p, 0.02, beta1=0.5, beta2=lambda t: 1 - 0.5 / t, foreach=f),
        lambda p: PaperAlgorithm(p, 0.02, lambda t: 0.5, lambda t: 1 - 0.5 / t, amsgrad=False),
    ),
}


@pytest.mark.parametrize("foreach", [False, True], ids=["reference", "foreach"])
@pytest.mark.parametrize("name", sorted(PAPER_CASES))
def test_paper_algorithms_match_transcription(name, foreach, data):
    ours, transcription = PAPER_CASES[name]
    a = make_mlp()
    train(a, ours(a.parameters(), foreach), STEPS, data)
    b = make_mlp()
    train(b, transcription(b.parameters()), STEPS, data)
    torch.testing.assert_close(flat(a), flat(b), rtol=1e-6, atol=1e-12)


# ---- reference path == foreach path, for every method and option ----------------------

ALL_METHODS = {
    "sgd": lambda p, f: SGD(p, 0.05, foreach=f),
    "sgd-inv-sqrt-box": lambda p, f: SGD(p, 0.5, step="inv_sqrt", bounds=(-0.2, 0.2), foreach=f),
    "adagrad": lambda p, f: Adagrad(p, 0.05, foreach=f),
    "adagrad-paper": lambda p, f: Adagrad(p, 0.05, eps=0.0, form="paper", foreach=f),
    "rmsprop": lambda p, f: RMSProp(p, 0.01, foreach=f),
    "rmsprop-inv-sqrt": lambda p, f: RMSProp(p, 0.01, step="inv_sqrt", foreach=f),
    "adam": lambda p, f: Adam(p, 0.01, foreach=f),
    "adam-no-bias-correction": lambda p, f: Adam(p, 0.01, bias_correction=False, foreach=f),
    "amsgrad-pytorch": lambda p, f: AMSGrad(p, 0.01, foreach=f),
    "amsgrad-optax": lambda p, f: AMSGrad(p, 0.01, variant="optax", foreach=f),
    "amsgrad-paper": lambda p, f: AMSGrad(p, 0.05, variant="paper", foreach=f),
    "amsgrad-paper-decay-box": lambda p, f: AMSGrad(p, 0.05, variant="paper", beta1_decay=0.9, bounds=(-0.5, 0.5), foreach=f),
    "adamnc": lambda p, f: AdamNC(p, 0.05, foreach=f),
}


@pytest.mark.parametrize("name", sorted(ALL_METHODS))
def test_reference_path_equals_foreach_path(name, data):
    make = ALL_METHODS[name]
    a, b = make_mlp(), make_mlp()
    train(a, make(a.parameters(), False), STEPS, data)
    train(b, make(b.parameters(), True), STEPS, data)
    torch.testing.assert_close(flat(a), flat(b), rtol=1e-10, atol=1e-14)


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
