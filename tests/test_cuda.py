"""The same equivalences on a CUDA device (run where one exists; skipped elsewhere)."""

from __future__ import annotations

import pytest
import torch

from adaptive_methods import Adam, AMSGrad
from adaptive_methods.framework.optimizer import _default_foreach

from adaptive_methods.registry import METHODS

from .method_table import TABLE

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def make_model(device):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.Tanh(), torch.nn.Linear(64, 8)).to(device).double()


def run(make_opt, device, steps=200):
    model = make_model(device)
    opt = make_opt(model.parameters())
    g = torch.Generator(device=device).manual_seed(1)
    X = torch.randn(256, 32, generator=g, device=device, dtype=torch.float64)
    Y = torch.randn(256, 8, generator=g, device=device, dtype=torch.float64)
    for i in range(steps):
        sl = slice((i % 8) * 32, (i % 8 + 1) * 32)
        opt.zero_grad()
        ((model(X[sl]) - Y[sl]) ** 2).mean().backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@pytest.mark.parametrize("foreach", [False, True], ids=["reference", "foreach"])
@pytest.mark.parametrize("name", list(METHODS))
def test_matches_its_reference_on_cuda(name, foreach):
    for setting, (ours, reference) in TABLE[name].references.items():
        torch.testing.assert_close(run(lambda p: ours(p, foreach), "cuda"), run(reference, "cuda"), rtol=1e-6,
                                   atol=1e-12, msg=lambda m: f"{name} {setting}: {m}")


@pytest.mark.parametrize("name", list(METHODS))
def test_reference_equals_foreach_on_cuda(name):
    for setting, make in TABLE[name].settings().items():
        a = run(lambda p: make(p, False), "cuda")
        b = run(lambda p: make(p, True), "cuda")
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-14, msg=lambda m: f"{name} {setting}: {m}")


def test_foreach_is_the_default_on_cuda_and_cpu():
    p = torch.zeros(3, device="cuda", requires_grad=True)
    assert _default_foreach([p]) is True
    assert _default_foreach([torch.zeros(3, requires_grad=True)]) is True  # the CPU too


def test_float32_cuda_foreach_is_bitwise_torch():
    out = []
    for make in (lambda p: AMSGrad(p, 1e-3, foreach=True), lambda p: torch.optim.Adam(p, 1e-3, amsgrad=True, foreach=True)):
        torch.manual_seed(0)
        model = torch.nn.Linear(512, 512).cuda()
        opt = make(model.parameters())
        x = torch.randn(64, 512, device="cuda", generator=torch.Generator(device="cuda").manual_seed(2))
        for _ in range(50):
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
        out.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(out[0], out[1])


def test_state_dict_moves_between_devices():
    model = make_model("cuda")
    opt = Adam(model.parameters(), 1e-3)
    model(torch.zeros(1, 32, device="cuda", dtype=torch.float64)).sum().backward()
    opt.step()
    cpu_model = make_model("cpu")
    cpu_opt = Adam(cpu_model.parameters(), 1e-3)
    cpu_opt.load_state_dict(opt.state_dict())
    state = next(iter(cpu_opt.state.values()))
    assert state["exp_avg"].device.type == "cpu" and state["step"] == 1
