"""torch.optim behaviour: state_dict round trips, param groups, closures, schedulers,
lazy state, devices, and clear errors for bad input."""

from __future__ import annotations

import math

import pytest
import torch

from adaptive_methods import SGD, Adagrad, Adam, AdamNC, AMSGrad, GenericAdaptive, RMSProp
from adaptive_methods.framework import (
    LastGradient,
    MomentRule,
    MovingAverage,
    MovingAverageOfSquares,
    RunningMax,
    Transform,
)

from .conftest import flat, make_mlp, train
from .method_table import TABLE

# every setting of every method in the one test table
RESUMABLE = {f"{name}-{setting}": make for name, row in TABLE.items() for setting, make in row.settings().items()}


@pytest.mark.parametrize("foreach", [False, True], ids=["reference", "foreach"])
@pytest.mark.parametrize("name", sorted(RESUMABLE))
def test_state_dict_resume_is_bit_identical(name, foreach, data, tmp_path):
    make = RESUMABLE[name]
    straight = make_mlp()
    train(straight, make(straight.parameters(), foreach), 100, data)

    first = make_mlp()
    opt1 = make(first.parameters(), foreach)
    train(first, opt1, 50, data)
    torch.save({"model": first.state_dict(), "opt": opt1.state_dict()}, tmp_path / "ckpt.pt")
    del first, opt1

    ckpt = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    resumed = make_mlp(seed=123)  # different init: everything must come from the checkpoint
    resumed.load_state_dict(ckpt["model"])
    opt2 = make(resumed.parameters(), foreach)
    opt2.load_state_dict(ckpt["opt"])
    train(resumed, opt2, 50, data, start=50)
    assert torch.equal(flat(straight), flat(resumed))


def test_state_is_lazy_and_minimal():
    model = make_mlp()
    opt = AMSGrad(model.parameters(), 0.01)
    assert len(opt.state) == 0
    model(torch.zeros(1, 6, dtype=torch.float64)).sum().backward()
    opt.step()
    for p in model.parameters():
        state = opt.state[p]
        assert set(state) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
        assert state["step"] == 1
    sgd = SGD(model.parameters(), 0.1)
    sgd.step()
    assert all(set(sgd.state[p]) == {"step"} for p in model.parameters())


def test_param_groups_have_their_own_hyperparameters(data):
    torch.manual_seed(0)
    a = make_mlp()
    b = make_mlp()
    groups = lambda m: [  # noqa: E731
        {"params": m[0].parameters(), "lr": 0.02, "betas": (0.5, 0.9)},
        {"params": m[2].parameters()},
    ]
    train(a, Adam(groups(a), lr=0.001), 80, data)
    train(b, torch.optim.Adam(groups(b), lr=0.001), 80, data)
    torch.testing.assert_close(flat(a), flat(b), rtol=1e-6, atol=1e-12)


def test_closure_returns_loss_and_is_evaluated_with_grad(data):
    model = make_mlp()
    opt = Adam(model.parameters(), 0.01)
    X, Y = data

    def closure():
        opt.zero_grad()
        loss = ((model(X) - Y) ** 2).mean()
        loss.backward()
        return loss

    first = opt.step(closure)
    for _ in range(20):
        last = opt.step(closure)
    assert isinstance(first, torch.Tensor) and last < first


def test_lr_scheduler_drives_lr(data):
    a, b = make_mlp(), make_mlp()
    oa = AMSGrad(a.parameters(), 0.01)
    ob = torch.optim.Adam(b.parameters(), 0.01, amsgrad=True)
    train(a, oa, 60, data, scheduler=torch.optim.lr_scheduler.StepLR(oa, step_size=10, gamma=0.5))
    train(b, ob, 60, data, scheduler=torch.optim.lr_scheduler.StepLR(ob, step_size=10, gamma=0.5))
    assert oa.param_groups[0]["lr"] == pytest.approx(0.01 * 0.5**6)
    torch.testing.assert_close(flat(a), flat(b), rtol=1e-6, atol=1e-12)


def test_generic_with_explicit_rules_is_amsgrad(data):
    a, b = make_mlp(), make_mlp()
    train(a, GenericAdaptive(a.parameters(), 0.05, phi=MovingAverage(0.9), psi=RunningMax(MovingAverageOfSquares(0.99)),
                             alpha=__import__("adaptive_methods").framework.InverseSqrt()), 100, data)
    train(b, AMSGrad(b.parameters(), 0.05, (0.9, 0.99), variant="paper"), 100, data)
    assert torch.equal(flat(a), flat(b))


def test_box_projection_keeps_iterates_inside(data):
    model = make_mlp()
    train(model, SGD(model.parameters(), 1.0, bounds=(-0.05, 0.05)), 30, data)
    assert flat(model).abs().max() <= 0.05


def test_zero_gradients_give_no_nan_in_paper_form():
    p = torch.zeros(4, requires_grad=True)
    opt = AMSGrad([p], 0.1, variant="paper")  # eps = 0: 0/0 must become "no step"
    p.grad = torch.zeros(4)
    opt.step()
    assert torch.equal(p.detach(), torch.zeros(4))
    p.grad = torch.tensor([1.0, 0.0, -1.0, 0.0])
    opt.step()
    assert torch.isfinite(p).all() and p[1] == 0 and p[0] < 0 < p[2]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("foreach", [False, True])
def test_cuda_matches_torch(foreach):
    torch.manual_seed(0)
    a = torch.nn.Linear(64, 32).cuda().double()
    b = torch.nn.Linear(64, 32).cuda().double()
    b.load_state_dict(a.state_dict())
    X = torch.randn(128, 64, device="cuda", dtype=torch.float64)
    oa, ob = AMSGrad(a.parameters(), 0.01, foreach=foreach), torch.optim.Adam(b.parameters(), 0.01, amsgrad=True)
    for _ in range(200):
        for m, o in ((a, oa), (b, ob)):
            o.zero_grad()
            m(X).pow(2).mean().backward()
            o.step()
    torch.testing.assert_close(flat(a), flat(b), rtol=1e-6, atol=1e-12)


# ---- bad input ---------------------------------------------------------------------------


def params():
    return [torch.zeros(2, requires_grad=True)]


@pytest.mark.parametrize(
    "make,exc,match",
    [
        (lambda: Adam(params(), lr=-0.1), ValueError, r"lr must be a finite number >= 0, got -0.1"),
        (lambda: Adam(params(), lr=math.nan), ValueError, r"lr must be a finite number >= 0, got nan"),
        (lambda: SGD(params(), lr=math.inf), ValueError, r"lr must be a finite number >= 0, got inf"),
        (lambda: Adam(params(), lr="0.1"), TypeError, r"lr must be a real number, got str"),
        (lambda: Adam(params(), betas=(1.0, 0.999)), ValueError, r"betas\[0\] must be in \[0, 1\), got 1.0"),
        (lambda: Adam(params(), betas=(0.9, -0.1)), ValueError, r"betas\[1\] must be in \[0, 1\), got -0.1"),
        (lambda: AMSGrad(params(), betas=(0.9, math.nan)), ValueError, r"betas\[1\] must be in \[0, 1\), got nan"),
        (lambda: Adam(params(), betas=(0.9,)), TypeError, r"betas must be a pair"),
        (lambda: RMSProp(params(), beta2=1.5), ValueError, r"beta2 must be in \[0, 1\), got 1.5"),
        (lambda: AdamNC(params(), beta1=2.0), ValueError, r"beta1 must be in \[0, 1\), got 2.0"),
        (lambda: Adam(params(), eps=-1e-8), ValueError, r"eps must be a finite number >= 0, got -1e-08"),
        (lambda: Adagrad(params(), eps=math.nan), ValueError, r"eps must be a finite number >= 0, got nan"),
        (lambda: AMSGrad(params(), variant="keras"), ValueError, r"variant must be one of \('pytorch', 'optax', 'paper'\), got 'keras'"),
        (lambda: AMSGrad(params(), beta1_decay=0.9), ValueError, r"beta1_decay and beta1_schedule need variant='paper'"),
        (lambda: AMSGrad(params(), variant="paper", beta1_decay=1.5), ValueError, r"beta1_decay must be in \(0, 1\], got 1.5"),
        (lambda: Adagrad(params(), form="optax"), ValueError, r"form must be 'pytorch' or 'paper', got 'optax'"),
        (lambda: SGD(params(), step="cosine"), ValueError, r"step must be one of \['constant', 'inv_sqrt'\], got 'cosine'"),
        (lambda: SGD(params(), bounds=(1.0, -1.0)), ValueError, r"bounds must satisfy lo < hi, got \(1.0, -1.0\)"),
        (lambda: SGD(params(), bounds=3), TypeError, r"bounds must be None or a pair"),
        (lambda: SGD(params(), foreach="yes"), TypeError, r"foreach must be None, True or False"),
        (lambda: GenericAdaptive(params(), 0.1), TypeError, r"GenericAdaptive needs phi and psi"),
        (lambda: GenericAdaptive(params(), 0.1, phi=LastGradient()), TypeError, r"phi and psi must be given together"),
        (lambda: GenericAdaptive(params(), 0.1, phi=LastGradient(), psi="v"), TypeError, r"psi must be a MomentRule, got str"),
        (lambda: GenericAdaptive(params(), 0.1, phi=LastGradient(), psi=LastGradient(), eps_placement="under"),
         ValueError, r"eps_placement must be 'outside' or 'inside', got 'under'"),
    ],
)
def test_bad_hyperparameters_raise_naming_the_argument(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


@pytest.mark.parametrize("name", sorted(RESUMABLE))
def test_sparse_gradients_are_rejected(name):
    emb = torch.nn.Embedding(10, 3, sparse=True)
    opt = RESUMABLE[name](emb.parameters(), None)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(TypeError, match=r"does not support sparse gradients"):
        opt.step()


def test_schedule_returning_bad_beta_is_reported():
    p = torch.zeros(2, requires_grad=True)
    opt = AdamNC([p], 0.1, beta2=lambda t: 1.0)
    p.grad = torch.ones(2)
    with pytest.raises(ValueError, match=r"beta2 schedule must return values in \[0, 1\), got 1.0 at t=1"):
        opt.step()


def test_zero_second_moment_does_not_move_the_coordinate():
    """beta2 = 0 and eps = 0: a zero gradient gives v_t = 0 while m_t != 0.  V_t^{-1/2}
    is the pseudo-inverse (0 where V_t = 0): the coordinate stays where it is, as in the
    1-D simulator, instead of taking an infinite step."""
    for foreach in (False, True):
        p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        opt = Adam([p], 0.1, (0.9, 0.0), eps=0.0, bias_correction=False, foreach=foreach)
        p.grad = torch.tensor([1.0, 1.0], dtype=torch.float64)
        opt.step()
        after_first = p.detach().clone()
        p.grad = torch.tensor([0.0, 2.0], dtype=torch.float64)
        opt.step()
        assert opt.state[p]["exp_avg"][0] != 0 and opt.state[p]["exp_avg_sq"][0] == 0
        assert p[0] == after_first[0], "v_t = 0: the coordinate must not move"
        assert p[1] != after_first[1] and torch.isfinite(p).all()


def test_nan_gradient_is_not_swallowed():
    for foreach in (False, True):
        p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        opt = AMSGrad([p], 0.1, variant="paper", foreach=foreach)
        p.grad = torch.tensor([float("nan"), 1.0], dtype=torch.float64)
        opt.step()
        assert torch.isnan(p[0]) and torch.isfinite(p[1])


class FactoredSecondMoment(MomentRule):
    """Adafactor's second moment (Shazeer & Stern 2018, Alg. 4, beta2 constant): row and
    column averages of g^2 instead of a full matrix, V_t = R_t C_t / sum(R_t)."""

    buffers = ("row", "col")

    def __init__(self, beta: float, eps: float = 1e-30):
        self.beta, self.eps = beta, eps

    def init(self, param):
        return {"row": param.new_zeros(param.shape[0]), "col": param.new_zeros(param.shape[1])}

    def apply_foreach(self, grads, states, ctx):
        out = []
        for g, s in zip(grads, states):
            sq = g * g + self.eps
            s["row"].mul_(self.beta).add_(sq.mean(dim=1), alpha=1 - self.beta)
            s["col"].mul_(self.beta).add_(sq.mean(dim=0), alpha=1 - self.beta)
            out.append(torch.outer(s["row"], s["col"]) / s["row"].mean())
        return out, 1.0


class ClipByRms(Transform):
    """Adafactor's update clipping: u / max(1, RMS(u) / d)."""

    def __init__(self, d: float):
        self.d = d

    def apply(self, direction, param, state, ctx):
        rms = direction.pow(2).mean().sqrt()
        return direction / torch.clamp(rms / self.d, min=1.0)


def test_a_factored_second_moment_and_a_transform_compose(data):
    """State buffers of any shape and a transform after the division: Adafactor's core
    (no momentum) in a few lines, equal to a direct transcription on both paths."""
    W0 = torch.randn(3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    grads = [torch.randn(3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(i)) for i in range(1, 31)]
    for foreach in (False, True):
        w = W0.clone().requires_grad_()
        opt = GenericAdaptive([w], 0.05, phi=LastGradient(), psi=FactoredSecondMoment(0.9), post=[ClipByRms(1.0)],
                              foreach=foreach)
        for g in grads:
            w.grad = g.clone()
            opt.step()
        assert opt.state[w]["row"].shape == (3,) and opt.state[w]["col"].shape == (6,)
        # the transcription
        x, R, C = W0.clone(), torch.zeros(3, dtype=torch.float64), torch.zeros(6, dtype=torch.float64)
        for g in grads:
            sq = g * g + 1e-30
            R = 0.9 * R + 0.1 * sq.mean(dim=1)
            C = 0.9 * C + 0.1 * sq.mean(dim=0)
            u = g / torch.sqrt(torch.outer(R, C) / R.mean())
            u = u / max(1.0, float(u.pow(2).mean().sqrt()))
            x = x - 0.05 * u
        torch.testing.assert_close(w.detach(), x, rtol=1e-12, atol=1e-14)
