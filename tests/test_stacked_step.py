"""The stacked step (adaptive_methods.framework.stacked) against the optimizers it stands
for: every setting's parameters and state equal, bit for bit, those of its own optimizer
stepped on the views of the stacked tensors, in float32 and float64, for every kind of
setting it covers; the settings it does not cover are named with the reason."""

from __future__ import annotations

import copy
import random

import pytest
import torch

from adaptive_methods.experiments.optimizers import make_optimizer
from adaptive_methods.framework import stacked
from adaptive_methods.framework.stacked import StackedStep, unsupported

#: (optimizer, lr, beta2, bias correction, schedule, eps, extra): the settings of the
#: presets (Adam and AMSGrad, correction on and off, both schedules, both beta2) and the
#: other kinds the step covers: optax's AMSGrad, eps = 0, a decaying beta1, AdamNC's schedules
SETTINGS = [(name, lr, beta2, bc, schedule, 1e-8, {}) for name in ("adam", "amsgrad") for bc in (True, False)
            for lr, beta2 in ((1e-3, 0.99), (1e-1, 0.999)) for schedule in ("inv_sqrt", "constant")]
SETTINGS += [("amsgrad-optax", 1e-2, 0.99, None, "constant", 1e-8, {}),
             ("amsgrad-paper", 1e-2, 0.99, None, "inv_sqrt", 0.0, {}),
             ("adam", 1e-2, 0.9, False, "constant", 0.0, {}),
             ("adam", 1e-2, 0.999, False, "inv_sqrt", 1e-8, {"beta1_decay": 0.95}),
             ("amsgrad-paper", 1e-2, 0.999, None, "inv_sqrt", 1e-8, {"beta1_decay": 0.9}),
             ("adamnc", 1e-2, None, None, None, None, {})]  # beta2_t = 1 - 1/t, eps = 0
#: the shapes of a model's parameters (a weight, its bias, a second weight)
SHAPES = ((10, 37), (10,), (7, 100))
COPIES = 3


def build(settings, dtype, seed=0):
    """Stacked parameters (copies, settings, *shape) and one optimizer per setting over its views."""
    gen = torch.Generator().manual_seed(seed)
    tensors = [torch.randn(COPIES, 1, *shape, generator=gen, dtype=dtype).repeat(1, len(settings), *[1] * len(shape))
               for shape in SHAPES]
    optimizers = [make_optimizer(name, [t[:, h] for t in tensors], lr=lr, beta1=0.9, beta2=beta2, eps=eps,
                                 bias_correction=bc, schedule=schedule, extra=extra)[0]
                  for h, (name, lr, beta2, bc, schedule, eps, extra) in enumerate(settings)]
    return tensors, optimizers


def gradients(tensors, steps, seed=1):
    """Random gradients, a third of their coordinates 0 and every seventh step all 0 (so that
    v_t = 0 where eps = 0, and the pseudo-inverse, are met)."""
    gen = torch.Generator().manual_seed(seed)
    for k in range(steps):
        yield [torch.randn(t.shape, generator=gen, dtype=t.dtype) * (torch.rand(t.shape, generator=gen) > 0.3)
               * (k % 7 != 3) for t in tensors]


def step_own(optimizers, tensors, grads, columns):
    for h in columns:
        views = optimizers[h].param_groups[0]["params"]
        for view, g in zip(views, grads):
            view.grad = g[:, h]
        optimizers[h].step()
        for view in views:
            view.grad = None


def assert_same(tensors_a, optimizers_a, tensors_b, optimizers_b):
    for a, b in zip(tensors_a, tensors_b):
        assert torch.equal(a, b)
    for oa, ob in zip(optimizers_a, optimizers_b):
        sa, sb = oa.state_dict()["state"], ob.state_dict()["state"]
        assert sa.keys() == sb.keys()
        for key in sa:
            assert sa[key].keys() == sb[key].keys()
            for name in sa[key]:
                value_a, value_b = sa[key][name], sb[key][name]
                assert torch.equal(value_a, value_b) if torch.is_tensor(value_a) else value_a == value_b


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("block_bytes", [None, 512], ids=["blocks-of-the-cache", "tiny-blocks"])
def test_the_stacked_step_is_every_settings_own_step_bit_for_bit(dtype, block_bytes, monkeypatch):
    if block_bytes is not None:  # blocks of one setting of one copy, and parts of a segment
        monkeypatch.setattr(stacked, "_BLOCK_BYTES", block_bytes)
    settings = list(SETTINGS)
    random.Random(3).shuffle(settings)
    own = {0, 5, len(settings) - 1}  # these settings step their own optimizer beside the stacked step
    tensors, optimizers = build(settings, dtype)
    reference, reference_optimizers = build(settings, dtype)
    step = StackedStep([None if h in own else o for h, o in enumerate(optimizers)], tensors)
    for grads in gradients(tensors, 100):
        step.step(grads)
        step_own(optimizers, tensors, grads, sorted(own))
        step_own(reference_optimizers, reference, grads, range(len(settings)))
    assert all(torch.isfinite(t).all() for t in tensors)
    assert not torch.equal(tensors[0][:, 1], tensors[0][:, 2])  # the settings moved differently
    assert_same(tensors, optimizers, reference, reference_optimizers)


def test_a_saved_state_loads_into_a_new_stacked_step_and_continues_the_same():
    tensors, optimizers = build(SETTINGS, torch.float32)
    step = StackedStep(optimizers, tensors)
    grads = list(gradients(tensors, 20))
    for g in grads[:12]:
        step.step(g)
    # state_dict holds references (as torch.optim's does): a copy is what a checkpoint keeps
    saved = [t.clone() for t in tensors], copy.deepcopy([o.state_dict() for o in optimizers])
    for g in grads[12:]:
        step.step(g)
    resumed, resumed_optimizers = build(SETTINGS, torch.float32, seed=5)
    for t, s in zip(resumed, saved[0]):
        t.copy_(s)
    resumed_step = StackedStep(resumed_optimizers, resumed)  # fresh states, linked at step 0
    for optimizer, state in zip(resumed_optimizers, saved[1]):
        optimizer.load_state_dict(state)
    resumed_step.link()
    assert resumed_step.t == 12
    for g in grads[12:]:
        resumed_step.step(g)
    assert_same(tensors, optimizers, resumed, resumed_optimizers)


def test_what_the_stacked_step_does_not_cover_is_named_with_the_reason():
    x = [torch.zeros(3, requires_grad=True)]
    covered = make_optimizer("adam", x, lr=1e-3)[0]
    assert unsupported(covered) is None
    cases = {
        "does not run the foreach path": make_optimizer("adam", x, lr=1e-3, extra={"foreach": False})[0],
        "projects onto a box": make_optimizer("amsgrad-paper", x, lr=1e-3, extra={"bounds": (-1.0, 1.0)})[0],
        "is not a moving average": make_optimizer("rmsprop", x, lr=1e-3)[0],
        "is not one of the stacked kinds": make_optimizer("yogi", x, lr=1e-3)[0],
        "transforms the direction": make_optimizer("adamw", x, lr=1e-3)[0],
        "not an optimizer of the package": torch.optim.Adam(x, lr=1e-3),
    }
    for reason, optimizer in cases.items():
        assert reason in unsupported(optimizer)
    tensors, optimizers = build(SETTINGS[:2], torch.float32)
    with pytest.raises(ValueError, match="optimizer 1 .* does not run the foreach path"):
        StackedStep([optimizers[0], cases["does not run the foreach path"]], tensors)
    with pytest.raises(ValueError, match=r"must hold the views s\[:, 0\]"):
        StackedStep([optimizers[1], optimizers[0]], tensors)
    with pytest.raises(ValueError, match="at least one optimizer"):
        StackedStep([None, None], tensors)
    for view, g in zip(optimizers[1].param_groups[0]["params"], next(gradients(tensors, 1))):
        view.grad = g[:, 1]
    optimizers[1].step()
    with pytest.raises(ValueError, match=r"at different steps \[0, 1\]"):
        StackedStep(optimizers, tensors)
