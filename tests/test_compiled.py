"""The compiled path (``fused=True``): equal to the reference path at float32 rounding for
several compositions, and a clear fallback to the foreach path where it cannot compile."""

from __future__ import annotations

import warnings

import pytest
import torch

from adaptive_methods import (
    SGD,
    AdaBelief,
    AdaBound,
    Adam,
    AdamNC,
    AdamW,
    AdamX,
    AMSBound,
    AMSGrad,
    GenericAdaptive,
    NAdam,
    RAdam,
    Yogi,
)
from adaptive_methods.framework import CompiledPathWarning, Identity, MomentRule, compiled

from .conftest import flat, make_mlp, train
from .method_table import TABLE

STEPS = 60
# every compiled setting of the method table, as (method, setting)
COMPILED_SETTINGS = [(m, s) for m, row in TABLE.items() for s in sorted(row.compiled)]



def float32(model):
    return model.float()


@pytest.mark.parametrize("method,setting", COMPILED_SETTINGS, ids=lambda x: x)
def test_compiled_path_equals_reference_path(method, setting, data):
    X, Y = (t.float() for t in data)
    make = TABLE[method].compiled[setting]
    a, b = float32(make_mlp()), float32(make_mlp())
    opt_a, opt_b = make(a.parameters(), fused=True), make(b.parameters(), foreach=False)
    train(a, opt_a, STEPS, (X, Y))
    train(b, opt_b, STEPS, (X, Y))
    assert opt_a.param_groups[0]["fused"] is True, "the compiled path must not have fallen back"
    torch.testing.assert_close(flat(a), flat(b), rtol=2e-5, atol=1e-6)
    assert not torch.equal(flat(a), flat(float32(make_mlp())))


def test_without_a_compiler_the_step_falls_back_with_a_warning(data, monkeypatch):
    def no_compiler(key):
        def fail(*args, **kwargs):
            raise RuntimeError("no C++ compiler found")
        return fail

    monkeypatch.setattr(compiled, "compiled_step_function", no_compiler)
    a, b = make_mlp(), make_mlp()
    opt = Adam(a.parameters(), 0.01, fused=True)
    with pytest.warns(CompiledPathWarning, match=r"fused=True: torch.compile could not build the step "
                                                 r"\(RuntimeError: no C\+\+ compiler found\); running the foreach path"):
        train(a, opt, STEPS, data)
    assert opt.param_groups[0]["fused"] is False
    train(b, Adam(b.parameters(), 0.01, foreach=True), STEPS, data)
    assert torch.equal(flat(a), flat(b))


def test_a_rule_without_tensor_update_falls_back_naming_it(data):
    class Halved(MomentRule):
        def apply_foreach(self, grads, states, ctx):
            return [g / 2 for g in grads], 1.0

        def __repr__(self):
            return "Halved()"

    a, b = make_mlp(), make_mlp()
    opt = GenericAdaptive(a.parameters(), 0.1, phi=Halved(), psi=Identity(), fused=True)
    with pytest.warns(CompiledPathWarning, match=r"the phi rule Halved\(\) has no update\(\) written for the compiled"):
        train(a, opt, 5, data)
    train(b, GenericAdaptive(b.parameters(), 0.1, phi=Halved(), psi=Identity(), foreach=True), 5, data)
    assert torch.isfinite(flat(a)).all() and torch.equal(flat(a), flat(b))


def test_foreach_and_fused_together_are_refused():
    with pytest.raises(ValueError, match="foreach and fused cannot both be True"):
        Adam([torch.zeros(1, requires_grad=True)], foreach=True, fused=True)
    with pytest.raises(TypeError, match="fused must be None, True or False, got 'yes'"):
        Adam([torch.zeros(1, requires_grad=True)], fused="yes")


# twelve settings of one structure each: only numbers differ (lr, eps, beta2, bounds)
SWEEPS = {
    "adam": lambda k, p, **path: Adam(p, 1e-3 * (k + 1), (0.9, 0.99 - 0.01 * k), eps=1e-8 * (k + 1), **path),
    "adabelief": lambda k, p, **path: AdaBelief(p, 0.01, (0.9, 0.999 - 0.001 * k), eps=1e-12 * 10**k, **path),
    "sgd-box": lambda k, p, **path: SGD(p, 0.1 * (k + 1), bounds=(-0.3 - 0.01 * k, 0.3 + 0.01 * k), **path),
}


@pytest.mark.parametrize("sweep", sorted(SWEEPS))
def test_new_hyperparameter_values_do_not_recompile_the_step(sweep, data):
    """A grid over lr, eps or betas in one process compiles the step once: past
    torch._dynamo's recompile limit (8) every step would otherwise run uncompiled."""
    X, Y = (t.float() for t in data)
    make = SWEEPS[sweep]

    def run(k, **path):
        model = float32(make_mlp())
        opt = make(k, model.parameters(), **path)
        train(model, opt, 5, (X, Y))
        return flat(model), opt

    run(0, fused=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompiledPathWarning)
        # a recompilation now raises inside the step, which would then fall back
        with torch.compiler.set_stance("fail_on_recompile"):
            fused = [run(k, fused=True) for k in range(1, 12)]
    for k, (weights, opt) in enumerate(fused, start=1):
        assert opt.param_groups[0]["fused"] is True
        torch.testing.assert_close(weights, run(k, foreach=False)[0], rtol=2e-5, atol=1e-6)


def count_entries_into_torch_compile(monkeypatch) -> list:
    """From now on, the compiled keys of every step that calls torch.compile's function."""
    entries = []
    build = compiled.compiled_step_function

    def counted(key):
        inner = build(key)

        def call(*args):
            entries.append(key)
            return inner(*args)
        return call

    monkeypatch.setattr(compiled, "compiled_step_function", counted)
    return entries


def test_after_its_first_step_the_compiled_step_runs_without_entering_torch_compile(data, monkeypatch):
    """Steps after the first call the graph Inductor built directly: dynamo's entry (its
    guards over every tensor and rule) is not called again, and 60 steps still equal
    the reference path."""
    X, Y = (t.float() for t in data)
    a, b = float32(make_mlp()), float32(make_mlp())
    opt_a, opt_b = AMSGrad(a.parameters(), 0.01, fused=True), AMSGrad(b.parameters(), 0.01, foreach=False)
    train(a, opt_a, 1, (X, Y))
    entries = count_entries_into_torch_compile(monkeypatch)
    train(a, opt_a, STEPS - 1, (X, Y), start=1)
    train(b, opt_b, STEPS, (X, Y))
    assert entries == []
    torch.testing.assert_close(flat(a), flat(b), rtol=2e-5, atol=1e-6)


def test_a_gradient_laid_out_otherwise_goes_through_torch_compile_and_steps_right(data, monkeypatch):
    """The direct call checks each tensor's dtype, shape and strides: a weight whose
    gradient arrives transposed in memory is stepped through torch.compile (which compiles
    for that layout), then the direct path resumes; every step equals the reference."""
    X, Y = (t.float() for t in data)
    a, b = float32(make_mlp()), float32(make_mlp())
    opt_a, opt_b = Adam(a.parameters(), 0.01, fused=True), Adam(b.parameters(), 0.01, foreach=False)
    train(a, opt_a, 5, (X, Y))
    train(b, opt_b, 5, (X, Y))
    entries = count_entries_into_torch_compile(monkeypatch)
    for model, opt in ((a, opt_a), (b, opt_b)):
        opt.zero_grad()
        ((model(X[:16]) - Y[:16]) ** 2).mean().backward()
        weight = model[0].weight
        weight.grad = weight.grad.t().contiguous().t()  # same values, column-major
        assert not weight.grad.is_contiguous()
        opt.step()
    assert len(entries) == 1
    torch.testing.assert_close(flat(a), flat(b), rtol=2e-5, atol=1e-6)
    train(a, opt_a, 5, (X, Y), start=6)
    train(b, opt_b, 5, (X, Y), start=6)
    assert len(entries) == 1
    torch.testing.assert_close(flat(a), flat(b), rtol=2e-5, atol=1e-6)


def test_a_training_step_compiled_whole_steps_the_compiled_path_right(data):
    """Inside a function torch.compile traces (a whole training step), each step's numbers
    (alpha_t, the bias corrections) are traced as the step's own, not read from the CPU
    tensor that each step rewrites in place: 12 steps equal the reference path."""
    X, Y = (t.float()[:16] for t in data)

    def run(compiled_step, **path):
        model = float32(make_mlp())
        opt = Adam(model.parameters(), 0.01, **path)

        def train_step():
            opt.zero_grad()
            ((model(X) - Y) ** 2).mean().backward()
            opt.step()

        step = torch.compile(train_step) if compiled_step else train_step
        for _ in range(12):
            step()
        return flat(model)

    torch.testing.assert_close(run(True, fused=True), run(False, foreach=False), rtol=2e-5, atol=1e-6)
