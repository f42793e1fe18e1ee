"""Models, the optimizer registry, the training loop, checkpoint/resume (bit-identical,
also after a real SIGKILL), result files, summaries and the command line, on small data
written in the real IDX format."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from adaptive_methods.experiments import data as D
from adaptive_methods.experiments.cli import main
from adaptive_methods.experiments.data import write_idx
from adaptive_methods.experiments.grid import PRESETS, expand, pending_runs, run_grid
from adaptive_methods.experiments.models import CifarNet, build_model, count_parameters
from adaptive_methods.experiments.optimizers import StepController, make_optimizer, package_methods, resolve_optimizer
from adaptive_methods.methods import AMSGrad, Adam
from adaptive_methods.registry import METHODS
from adaptive_methods.experiments.results import (
    SCHEMA,
    atomic_write_json,
    best_configurations,
    format_table,
    load_results,
    mean_curve,
    summary_table,
    tune,
)
from adaptive_methods.experiments.training import CheckpointError, RunConfig, RunInterrupted, resolve_device, train

REPO = Path(__file__).resolve().parents[1]
NAMES = {"train_images": "train-images-idx3-ubyte.gz", "train_labels": "train-labels-idx1-ubyte.gz",
         "test_images": "t10k-images-idx3-ubyte.gz", "test_labels": "t10k-labels-idx1-ubyte.gz"}


def make_data(root: Path, n_train=203, n_test=64, size=28, seed=0) -> Path:
    """A learnable 10-class problem: each class brightens its own band of rows."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("test", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, size, size)).astype(np.uint8)
        band = max(1, size // 10)
        for i, c in enumerate(labels):
            images[i, (c * band) % size:(c * band) % size + band, :] += 150
        write_idx(root / "fashion-mnist" / NAMES[f"{split}_images"], images)
        write_idx(root / "fashion-mnist" / NAMES[f"{split}_labels"], labels)
    return root


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTIVE_METHODS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ADAPTIVE_METHODS_OFFLINE", "1")
    monkeypatch.setenv("ADAPTIVE_METHODS_ACCEPT_UNPINNED", "1")  # the files written here are not the pinned ones
    D.clear_memo()
    yield make_data(tmp_path / "data")
    D.clear_memo()


@pytest.fixture(autouse=True)
def keep_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def cfg(root, **kw) -> RunConfig:
    base = dict(model="logreg", dataset="fashion-mnist", data_root=str(root), download=False, fallback=False,
                batch_size=32, epochs=2, log_every=5, eval_train_limit=100, threads=1, optimizer="torch.adam")
    return RunConfig(**(base | kw))


def same_history(a, b):
    keys = [k for k in a if k != "wall_time_s"]
    return all(a[k] == b[k] for k in keys)


# ----------------------------------------------------------------------------- models

@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
@pytest.mark.parametrize("name", ["logreg", "mlp", "cifarnet"])
def test_models_map_images_to_ten_scores(name, shape):
    model = build_model(name, shape)
    assert model(torch.rand(5, *shape)).shape == (5, 10)


def test_model_sizes_follow_the_paper():
    assert count_parameters(build_model("logreg")) == 784 * 10 + 10
    assert count_parameters(build_model("mlp")) == 784 * 100 + 100 + 100 * 10 + 10
    net = CifarNet((3, 32, 32))
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [(64, (6, 6)), (64, (6, 6))]
    linears = [m.out_features for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert linears == [384, 192, 10] and net.classifier[1].in_features == 64 * 8 * 8
    assert sum(isinstance(m, torch.nn.LocalResponseNorm) for m in net.modules()) == 2
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in net.modules()) == 2
    assert [m.p for m in net.modules() if isinstance(m, torch.nn.Dropout)] == [0.5]
    assert CifarNet((1, 28, 28)).classifier[1].in_features == 64 * 7 * 7


@pytest.mark.parametrize("args, exc, match", [
    (("resnet",), ValueError, "model must be one of"),
    ((3,), TypeError, "model name must be a string"),
    (("mlp", (28, 28)), ValueError, "input_shape must be"),
    (("cifarnet", (1, 30, 30)), ValueError, "multiples of 4"),
])
def test_build_model_errors(args, exc, match):
    with pytest.raises(exc, match=match):
        build_model(*args)


# ----------------------------------------------------------------------------- optimizers

def test_registry_names():
    assert resolve_optimizer("torch.adam").cls is torch.optim.Adam
    spec = resolve_optimizer("torch.amsgrad")
    assert spec.cls is torch.optim.Adam and spec.fixed_kwargs == {"amsgrad": True}
    assert resolve_optimizer("torch.RMSprop").cls is torch.optim.RMSprop
    assert resolve_optimizer("adam").cls is Adam
    spec = resolve_optimizer("amsgrad-paper")
    assert spec.cls is AMSGrad and spec.fixed_kwargs == {"variant": "paper"}
    # every registered method and each of its variants has a name, and nothing else does
    names = package_methods()
    assert {resolve_optimizer(n).cls for n in names} == {info.cls for info in METHODS.values()}
    assert set(names) == set(METHODS) | {f"{m}-{v}" for m, info in METHODS.items() for v in info.variants}
    with pytest.raises(ValueError, match="optimizer must be one of"):
        resolve_optimizer("lion")
    with pytest.raises(ValueError, match="not a class of torch.optim"):
        resolve_optimizer("torch.lion")
    with pytest.raises(ValueError, match="needs a closure"):
        resolve_optimizer("torch.lbfgs")


def test_make_optimizer_maps_betas_to_each_signature():
    p = [torch.nn.Parameter(torch.zeros(3))]
    opt, ctl, info = make_optimizer("torch.rmsprop", p, lr=0.1, beta2=0.95)
    assert opt.defaults["alpha"] == 0.95 and info["class"] == "torch.optim.rmsprop.RMSprop"
    opt, ctl, info = make_optimizer("torch.sgd", p, lr=0.1)
    assert info["kwargs"] == {"lr": 0.1} and ctl is not None and not info["bias_correction"]
    opt, ctl, info = make_optimizer("torch.amsgrad", p, lr=0.1, beta1=0.8, beta2=0.9)
    assert opt.defaults["amsgrad"] and opt.defaults["betas"] == (0.8, 0.9)
    with pytest.raises(ValueError, match="has no bias correction"):
        make_optimizer("torch.sgd", p, lr=0.1, bias_correction=True)
    opt, ctl, info = make_optimizer("adam", p, lr=0.1, beta2=0.99)
    assert ctl is None and info["param_groups"][0]["betas"] == [0.9, 0.99]


def _first_step(optimizer) -> float:
    """x_1 - x_2 on the gradient g_1 = 1 from x_1 = 0."""
    p = optimizer.param_groups[0]["params"][0]
    p.grad = torch.ones_like(p)
    optimizer.step()
    return -p.item()


# the later methods' names of the experiments, with their forms ("adabound-paper")
_LATER_NAMES = sorted(n for n, (method, _) in package_methods().items() if METHODS[method].loop)


@pytest.mark.parametrize("name", _LATER_NAMES)
def test_later_methods_record_the_bias_correction_they_run(name):
    """A result file's ``bias_correction`` is what the update does: on g_1 = 1 with
    (beta1, beta2) = (0.9, 0.999), dividing by 1 - beta^t makes the first step about lr
    (mhat_1 = vhat_1 = 1), not dividing makes it about (1 - beta1) / sqrt(1 - beta2) =
    3.2 lr. A request the method cannot honour is refused, not recorded wrongly."""
    lr = 0.01

    def build(**kw):
        p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        optimizer, _, info = make_optimizer(name, [p], lr=lr, beta1=0.9, beta2=0.999, **kw)
        return _first_step(optimizer) / lr, info["bias_correction"]

    ratio, corrected = build()
    assert (ratio < 2.0) is corrected and 0.5 < ratio < 4.0, (ratio, corrected)
    try:
        ratio, switched = build(bias_correction=not corrected)
    except ValueError as refused:
        assert f"{'always' if corrected else 'never'} corrects the bias" in str(refused)
    else:
        assert switched is (not corrected) and (ratio < 2.0) is switched, (ratio, switched)


def test_adabound_forms_have_names_and_adamw_takes_adams_options():
    assert resolve_optimizer("adabound-paper").fixed_kwargs == {"form": "paper"}
    assert resolve_optimizer("amsbound-code").fixed_kwargs == {"form": "code"}
    p = [torch.nn.Parameter(torch.zeros(3))]
    assert make_optimizer("adabound-paper", p, lr=0.1, schedule="inv_sqrt")[2]["schedule"] == "inv_sqrt"
    with pytest.raises(ValueError, match="runs the schedule 'constant'"):
        make_optimizer("adabound-code", p, lr=0.1, schedule="inv_sqrt")
    # "adabound" without bias correction is its paper form, as "amsgrad" is AMSGrad's
    info = make_optimizer("adabound", p, lr=0.1, bias_correction=False)[2]
    assert info["kwargs"]["form"] == "paper" and info["schedule"] == "inv_sqrt"
    # AdamW passes step= and bias_correction= on to Adam through **adam_options
    opt, _, info = make_optimizer("adamw", p, lr=0.1, schedule="inv_sqrt", bias_correction=False)
    assert info["schedule"] == "inv_sqrt" and info["bias_correction"] is False
    assert opt.param_groups[0]["weight_decay"] == 1e-2


def _reference_no_bias_correction(x0, grads_fn, steps, lr, b1, b2, eps, amsgrad):
    x = x0.clone()
    m = torch.zeros_like(x)
    v = torch.zeros_like(x)
    vmax = torch.zeros_like(x)
    for _ in range(steps):
        g = grads_fn(x)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = torch.maximum(vmax, v)
        x = x - lr * m / ((vmax if amsgrad else v).sqrt() + eps)
    return x


@pytest.mark.parametrize("name, amsgrad", [("torch.adam", False), ("torch.amsgrad", True), ("adam", False),
                                           ("amsgrad", True)])
def test_bias_correction_off_is_the_uncorrected_update(name, amsgrad):
    target = torch.linspace(-1, 1, 7, dtype=torch.float64)

    def grad(x):
        return (x - target) * torch.arange(1, 8, dtype=torch.float64) + 0.3 * torch.sin(5 * x)

    x0 = torch.full((7,), 0.5, dtype=torch.float64)
    p = torch.nn.Parameter(x0.clone())
    opt, ctl, info = make_optimizer(name, [p], lr=0.01, beta1=0.9, beta2=0.99, eps=1e-3, bias_correction=False)
    assert info["bias_correction_mode"] == ("rescaled-lr-eps" if name.startswith("torch.") else "native")
    assert info["bias_correction"] is False
    for t in range(1, 41):
        if ctl is not None:
            ctl.before_step(t)
        opt.zero_grad()
        p.grad = grad(p.detach())
        opt.step()
    ref = _reference_no_bias_correction(x0, grad, 40, 0.01, 0.9, 0.99, 1e-3, amsgrad)
    torch.testing.assert_close(p.detach(), ref, rtol=1e-10, atol=1e-12)


def test_step_controller_schedules():
    p = [torch.nn.Parameter(torch.zeros(1))]
    opt = torch.optim.SGD(p, lr=1.0)
    ctl = StepController(opt, lr=0.5, schedule="inv_sqrt")
    assert ctl.before_step(4) == 0.25 and opt.param_groups[0]["lr"] == 0.25
    assert StepController(opt, lr=0.5).before_step(9) == 0.5
    with pytest.raises(ValueError, match="schedule must be"):
        StepController(opt, lr=0.5, schedule="cosine")
    with pytest.raises(ValueError, match="exact only for Adam's update form"):
        StepController(opt, lr=0.5, bias_correction_mode="rescaled-lr-eps")
    decayed = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0, weight_decay=0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        StepController(decayed, lr=0.5, bias_correction_mode="rescaled-lr-eps")
    with pytest.raises(ValueError, match="t must be >= 1"):
        ctl.before_step(0)


# ----------------------------------------------------------------------------- configuration

@pytest.mark.parametrize("kw, exc, match", [
    (dict(lr=0.0), ValueError, "lr must be a finite number > 0, got 0.0"),
    (dict(beta2=1.0), ValueError, r"beta2 must be a number in \[0, 1\) or None \(the method.s own\), got 1.0"),
    (dict(batch_size=0), ValueError, "batch_size must be a positive int"),
    (dict(schedule="cosine"), ValueError, r"schedule must be one of \('constant', 'inv_sqrt'\)"),
    (dict(eps=math.inf), ValueError, "eps must be a finite number >= 0"),
    (dict(validation_size=-1), ValueError, "validation_size must be an int >= 0"),
    (dict(seed=-1), ValueError, "seed must be an int >= 0"),
    (dict(bias_correction="no"), TypeError, "bias_correction must be True, False or None"),
])
def test_config_validation(kw, exc, match):
    with pytest.raises(exc, match=match):
        RunConfig(**kw)


def test_config_round_trip_and_run_id():
    c = RunConfig(model="mlp", optimizer="torch.amsgrad", lr=3e-4, beta2=0.99, bias_correction=False, seed=4)
    assert RunConfig.from_dict(c.to_dict()) == c
    assert c.run_id.startswith("mlp_fashion-mnist_torch_amsgrad_lr0.0003_b2-0.99_nobc_s4_")
    assert c.replace(device="cuda", threads=3).identity() == c.identity()
    assert c.replace(device="cuda", threads=3).run_id == c.run_id
    # every identity field is in the name's digest (issue 12, case 4)
    assert len({c.replace(**{k: v}).run_id for k, v in dict(
        epochs=2, max_steps=5, batch_size=64, eps=1e-7, train_limit=9, test_limit=9, eval_train_limit=9,
        validation_size=0, log_every=7, beta1=0.8).items()} | {c.run_id}) == 11
    with pytest.raises(ValueError, match="unknown configuration fields"):
        RunConfig.from_dict({"model": "mlp", "momentum": 0.9})


def test_resolve_device(monkeypatch):
    assert resolve_device("auto") == torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda:0")
    assert resolve_device("auto", local_rank=1) == torch.device("cuda:1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(ValueError, match="torch.cuda.is_available"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("tpu-ish")


# ----------------------------------------------------------------------------- training

def test_training_learns_and_logs(data_root, tmp_path):
    c = cfg(data_root, model="mlp", lr=3e-3, epochs=4)
    result = train(c, out_dir=tmp_path / "out", progress=False)
    m = result["metrics"]
    assert m["step"][0] == 0 and m["step"][-1] == 4 * 6 == result["final"]["step"]
    assert m["step"] == sorted(set(m["step"]))
    assert m["test_loss"][-1] < m["test_loss"][0] and result["final"]["test_acc"] > 0.5
    assert all(a is None for a in m["alpha"][:1]) and m["alpha"][-1] == 3e-3
    assert result["dataset"]["train"]["name"] == "Fashion-MNIST"
    assert result["dataset"]["train"]["size"] == 203 - 33 and result["steps"]["per_epoch"] == 6
    assert result["dataset"]["validation"]["size"] == 33 and result["final"]["val_acc"] > 0.5


def test_inv_sqrt_schedule_is_logged(data_root):
    result = train(cfg(data_root, lr=0.2, schedule="inv_sqrt", epochs=1), progress=False)
    t = result["metrics"]["step"][-1]
    assert result["metrics"]["alpha"][-1] == pytest.approx(0.2 / math.sqrt(t))


def test_training_is_deterministic(data_root):
    a = train(cfg(data_root, model="mlp"), progress=False)
    b = train(cfg(data_root, model="mlp"), progress=False)
    assert a["parameters_sha256"] == b["parameters_sha256"] and same_history(a["metrics"], b["metrics"])
    c = train(cfg(data_root, model="mlp", seed=1), progress=False)
    assert c["parameters_sha256"] != a["parameters_sha256"]


@pytest.mark.parametrize("model, optimizer, bc, stop", [
    ("logreg", "torch.adam", True, 5),
    ("mlp", "torch.amsgrad", False, 8),
    ("mlp", "amsgrad", True, 11),
    ("cifarnet", "adam", True, 3),
])
def test_stop_and_resume_is_bit_identical(data_root, tmp_path, model, optimizer, bc, stop):
    """A run stopped half-way and resumed ends exactly where an uninterrupted run ends."""
    extra = dict(max_steps=8, batch_size=16, eval_train_limit=32) if model == "cifarnet" else {}
    c = cfg(data_root, model=model, optimizer=optimizer, bias_correction=bc, lr=2e-3, **extra)
    whole = train(c, progress=False)
    ckpt_dir = tmp_path / "ckpt"
    with pytest.raises(RunInterrupted) as stopped:
        train(c, checkpoint_dir=ckpt_dir, stop_after=stop, progress=False)
    assert stopped.value.step == stop and stopped.value.checkpoint.is_file()
    resumed = train(c, out_dir=tmp_path / "out", checkpoint_dir=ckpt_dir, progress=False)
    assert resumed["resumed_at_steps"] == [stop]
    assert resumed["parameters_sha256"] == whole["parameters_sha256"]
    assert same_history(resumed["metrics"], whole["metrics"]) and resumed["final"] == whole["final"]
    assert not stopped.value.checkpoint.exists()  # removed once the run is complete


def test_resume_refuses_another_configuration(data_root, tmp_path):
    c = cfg(data_root)
    with pytest.raises(RunInterrupted):
        train(c, checkpoint_dir=tmp_path, stop_after=3, progress=False)
    other = c.replace(eval_train_limit=50)
    (tmp_path / f"{other.run_id}.pt").write_bytes((tmp_path / f"{c.run_id}.pt").read_bytes())
    with pytest.raises(CheckpointError, match=r"another run.*config.eval_train_limit: 100 -> 50.*--fresh"):
        train(other, checkpoint_dir=tmp_path, progress=False)


def test_divergence_is_recorded_not_swallowed(data_root, tmp_path):
    result = train(cfg(data_root, model="mlp", optimizer="torch.sgd", lr=1e30), out_dir=tmp_path, progress=False)
    assert result["final"]["diverged"] and result["final"]["diverged_at_step"] == 5
    assert result["final"]["test_loss"] is None and result["final"]["step"] == 5
    saved = json.loads((tmp_path / f"{result['run_id']}.json").read_text())
    assert saved["final"]["diverged"] is True
    rows = summary_table([saved])
    assert rows[0]["diverged"] == 1 and rows[0]["test_loss"]["mean"] == math.inf


# ----------------------------------------------------------------------------- a real kill

KILL_SCRIPT = """
import sys
from adaptive_methods.experiments.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigkill_then_resume_matches_an_uninterrupted_run(data_root, tmp_path):
    args = ["run", "--model", "logreg", "--optimizer", "torch.adam", "--dataset", "fashion-mnist", "--data-root",
            str(data_root), "--offline", "--no-fallback", "--batch-size", "8", "--epochs", "60", "--log-every", "25",
            "--eval-train-limit", "50", "--threads", "1", "--lr", "0.01", "--out", str(tmp_path / "out"),
            "--checkpoint-dir", str(tmp_path / "ckpt"), "--no-progress"]
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    ckpts = tmp_path / "ckpt"
    deadline = time.time() + 60
    while time.time() < deadline and not any(ckpts.glob("*.pt")) and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stdout.read().decode()
    assert not any((tmp_path / "out").glob("*.json")), "the run finished before it could be killed"
    assert any(ckpts.glob("*.pt"))
    out = subprocess.run([sys.executable, "-c", KILL_SCRIPT, *args], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    resumed = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    assert resumed["resumed_at_steps"] and resumed["resumed_at_steps"][0] % 25 == 0
    c = cfg(data_root, batch_size=8, epochs=60, log_every=25, eval_train_limit=50, lr=0.01)
    whole = train(c, progress=False)
    assert resumed["config"] == json.loads(json.dumps(c.to_dict()))
    assert resumed["identity"]["threads"] == 1
    assert resumed["parameters_sha256"] == whole["parameters_sha256"]
    assert same_history(resumed["metrics"], whole["metrics"])


# ----------------------------------------------------------------------------- result files

def test_result_file_has_the_provenance(data_root, tmp_path):
    result = train(cfg(data_root), out_dir=tmp_path / "out", progress=False, experiment="unit", command="pytest")
    files = list((tmp_path / "out").iterdir())
    assert [f.name for f in files] == [f"{result['run_id']}.json"]  # no temporary file left behind
    saved = json.loads(files[0].read_text())
    assert saved["schema"] == SCHEMA and saved["experiment"] == "unit" and saved["command"] == "pytest"
    assert saved["config"]["lr"] == 1e-3 and saved["config"]["model"] == "logreg"
    assert saved["identity"]["data"]["train"] == sorted(f["sha256"] for f in saved["dataset"]["train"]["files"])
    assert saved["optimizer"]["param_groups"][0]["betas"] == [0.9, 0.999]
    env = saved["environment"]
    assert env["torch"] == torch.__version__ and env["numpy"] == np.__version__ and env["python"]
    assert env["device"] == "cpu" and env["device_name"]
    assert saved["git"]["commit"] and "dirty" in saved["git"]
    assert saved["wall_time_s"] > 0 and saved["started_at"] <= saved["finished_at"]
    assert saved["optimizer"]["class"] == "torch.optim.adam.Adam"
    assert saved["dataset"]["test"]["name"] == "Fashion-MNIST"
    assert files[0].stat().st_size < 20_000


def test_atomic_write_refuses_nan_and_keeps_the_old_file(tmp_path):
    path = atomic_write_json(tmp_path / "r.json", {"a": 1})
    with pytest.raises(ValueError):
        atomic_write_json(path, {"a": float("nan")})
    assert json.loads(path.read_text()) == {"a": 1} and len(list(tmp_path.iterdir())) == 1


def fake_result(opt, lr, seed, acc, bc=True, **config):
    c = RunConfig(optimizer=opt, lr=lr, seed=seed, bias_correction=bc, beta2=0.999, **config)
    return {"schema": SCHEMA, "experiment": "x", "run_id": c.run_id, "config": c.to_dict(),
            "dataset": {"train": {"name": "Fashion-MNIST"}},
            "metrics": {"step": [0, 10, 20], "test_loss": [2.3, 1.5 - seed / 10, None if acc <= 0.7 else 1 - acc]},
            "final": {"test_acc": acc, "test_loss": 1 - acc, "train_loss": 1 - acc, "val_acc": acc - 0.01,
                      "diverged": False}}


def test_summaries_and_best_configurations(tmp_path):
    rs = [fake_result("adam", 1e-3, s, 0.80 + 0.01 * s) for s in range(3)]
    rs += [fake_result("adam", 1e-2, s, 0.70) for s in range(3)]
    rs += [fake_result("amsgrad", 1e-3, s, 0.81) for s in range(2)]
    for r in rs:
        atomic_write_json(tmp_path / f"{r['run_id']}.json", r)
    (tmp_path / "other.json").write_text('{"not": "a result"}')
    loaded = load_results(tmp_path)
    assert len(loaded) == 8
    rows = summary_table(loaded, by=("optimizer", "lr"))
    adam = next(r for r in rows if r["optimizer"] == "adam" and r["lr"] == 1e-3)
    assert adam["test_acc"]["mean"] == pytest.approx(0.81) and adam["test_acc"]["std"] == pytest.approx(0.01)
    assert adam["seeds"] == [0, 1, 2] and adam["test_acc"]["n"] == 3
    rows = summary_table(loaded, by=("optimizer", "lr"), metrics=("val_acc", "test_acc", "test_loss", "train_loss"))
    best = best_configurations(rows, per=("optimizer",))
    assert [(b["optimizer"], b["lr"]) for b in best] == [("adam", 1e-3), ("amsgrad", 1e-3)]
    table = format_table(best, ["optimizer", "lr"])
    assert "| adam | 0.001 | 81.00 ± 1.00% (n=3) |" in table
    html = format_table(best, ["optimizer", "lr"], fmt="html", labels={"lr": "step size"})
    assert "<th>step size</th>" in html and "<td>81.00 ± 1.00% (n=3)</td>" in html
    setting, group = tune(loaded, optimizer="adam", metric="train_loss")
    assert setting == {"lr": 1e-3, "beta2": 0.999} and len(group) == 3
    assert tune(loaded, by=("lr",), optimizer="adam", metric="val_acc", maximize=True)[0] == {"lr": 1e-3}
    steps, mean, lo, hi = mean_curve(group, "test_loss")
    assert steps.tolist() == [0, 10, 20] and mean[1] == pytest.approx(1.4) and (lo[1], hi[1]) == (1.3, 1.5)
    steps, mean, lo, hi = mean_curve(tune(loaded, optimizer="adam", by=("lr",), metric="val_acc")[1], "test_loss")
    assert math.isnan(mean[-1])  # a missing (diverged) value is a gap, not a number
    with pytest.raises(ValueError, match="no run matches"):
        tune(loaded, optimizer="sgd")


# ----------------------------------------------------------------------------- grids and the command line

def test_presets_expand_in_the_documented_order():
    runs = expand(PRESETS["fashion-logreg"])
    assert len(runs) == 2 * 4 * 2 * 2 * 3
    assert all(r.bias_correction for r in runs[:48]) and not any(r.bias_correction for r in runs[48:])
    assert [r.seed for r in runs[:16]] == [0] * 16
    assert {r.schedule for r in runs} == {"inv_sqrt"}
    assert {r.schedule for r in expand(PRESETS["fashion-mlp"])} == {"constant"}
    assert len({r.run_id for r in runs}) == len(runs)
    assert all(r.dataset == "fashion-mnist" and not r.fallback for r in expand(PRESETS["fashion-cifarnet"]))


def test_the_later_methods_run_on_the_validation_grid_of_chapter_6():
    """fashion-logreg-later is fashion-logreg-validation with the later methods: the same
    base, step sizes, beta2 and seeds; each method's own eps and bias correction."""
    later, validation = PRESETS["fashion-logreg-later"], PRESETS["fashion-logreg-validation"]
    assert later.base == {**validation.base, "eps": None}
    assert {k: v for k, v in later.axes.items() if k != "optimizer"} == {
        k: v for k, v in validation.axes.items() if k not in ("optimizer", "bias_correction")}
    assert {resolve_optimizer(name).cls for name in later.axes["optimizer"]} == {
        info.cls for info in METHODS.values() if info.loop}
    runs = expand(later)
    assert len(runs) == len(later.axes["optimizer"]) * 3 * 3 and [r.seed for r in runs[:21]] == [0] * 21
    p = [torch.nn.Parameter(torch.zeros(3))]
    for run in runs[:len(later.axes["optimizer"]) * 3]:
        info = make_optimizer(run.optimizer, p, lr=run.lr, beta1=run.beta1, beta2=run.beta2, eps=run.eps,
                              bias_correction=run.bias_correction, schedule=run.schedule)[2]
        assert info["schedule"] == "inv_sqrt" and info["param_groups"][0]["betas"] == [0.9, 0.999]


def test_grid_runs_in_parallel_and_skips_done_runs(data_root, tmp_path):
    spec = PRESETS["reduced-logreg"].with_overrides(
        dict(dataset="fashion-mnist", data_root=str(data_root), download=False, train_limit=None, test_limit=None, eval_train_limit=50),
        dict(lr=[1e-2], beta2=[0.99]))
    configs = expand(spec)
    lines = []
    summary = run_grid(configs, tmp_path / "out", checkpoint_dir=tmp_path / "ck", workers=2, threads=1,
                       experiment="t", log=lines.append)
    assert summary["finished"] == 2 and not summary["failed"]
    assert not pending_runs([c.replace(threads=1) for c in configs], tmp_path / "out")
    again = run_grid(configs, tmp_path / "out", checkpoint_dir=tmp_path / "ck", workers=2, threads=1,
                     log=lines.append)
    assert again["finished"] == 0 and "2 already done, 0 to run" in "".join(lines)


def test_cli_run_summarize_and_skip(data_root, tmp_path, capsys):
    common = ["--data-root", str(data_root), "--offline", "--no-fallback", "--batch-size", "32", "--threads", "1",
              "--eval-train-limit", "50", "--no-progress", "--checkpoint-dir", str(tmp_path / "ck")]
    out = str(tmp_path / "res")
    assert main(["run", "--optimizer", "torch.amsgrad", "--lr", "0.01", "--out", out, *common]) == 0
    assert main(["run", "--optimizer", "torch.adam", "--lr", "0.01", "--out", out, *common]) == 0
    assert main(["run", "--optimizer", "torch.adam", "--lr", "0.01", "--out", out, *common]) == 0
    text = capsys.readouterr().out
    assert "test acc" in text and "nothing to do" in text
    assert main(["run", "--optimizer", "torch.adam", "--lr", "0.01", "--out", out, "--stop-after", "2", "--force",
                 *common]) == 3
    assert "run the same command again to resume" in capsys.readouterr().out
    assert main(["summarize", out, "--by", "optimizer,lr"]) == 0
    table = capsys.readouterr().out
    assert "| torch.adam | 0.01 |" in table and "| torch.amsgrad | 0.01 |" in table
    assert main(["summarize", out, "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert main(["grid", "--preset", "fashion-cifarnet", "--list", "--seeds", "0", "--bias-correction", "on"]) == 0
    assert capsys.readouterr().out.strip().endswith("12 runs -> results/fashion-mnist/cifarnet")
    assert main(["presets"]) == 0 and "fashion-mlp" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:
        main(["grid", "--preset", "nope"])
    assert usage.value.code == 2
