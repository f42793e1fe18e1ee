"""Batched training (adaptive_methods.experiments.batched) against the sequential runs it
stands for: the same logged metrics and final parameters to rtol 1e-6 in float64, the same
result files and identities, resumption after an interruption, and the grid's --batched."""

from __future__ import annotations

import json
import math

import pytest
import torch

from adaptive_methods.experiments import data as D
from adaptive_methods.experiments.batched import BATCHED_MODELS, split_batches, train_batched
from adaptive_methods.experiments.config import RunConfig
from adaptive_methods.experiments.grid import run_grid
from adaptive_methods.experiments.training import RunInterrupted, is_done, result_path, train

from .test_experiments_training import make_data

#: optimizer, lr, beta2, bias correction: both methods, both beta2, correction on and off
SETTINGS = [("adam", 1e-2, 0.999, True), ("adam", 1e-1, 0.99, False), ("amsgrad", 3e-2, 0.99, True),
            ("amsgrad", 1e-2, 0.999, False)]
SEEDS = (0, 1)


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTIVE_METHODS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ADAPTIVE_METHODS_OFFLINE", "1")
    monkeypatch.setenv("ADAPTIVE_METHODS_ACCEPT_UNPINNED", "1")  # the files written here are not the pinned ones
    D.clear_memo()
    threads = torch.get_num_threads()
    yield make_data(tmp_path / "data")
    torch.set_num_threads(threads)
    D.clear_memo()


@pytest.fixture
def float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def grid(root, model: str, **kw) -> list[RunConfig]:
    schedule = "inv_sqrt" if model == "logreg" else "constant"
    base = dict(model=model, dataset="fashion-mnist", data_root=str(root), download=False, fallback=False,
                batch_size=32, epochs=3, log_every=4, eval_train_limit=100, eval_batch_size=50, threads=1,
                validation_size=40, beta1=0.9, eps=1e-8, schedule=schedule)
    return [RunConfig(**{**base, **kw}, optimizer=o, lr=lr, beta2=b2, bias_correction=bc, seed=s)
            for o, lr, b2, bc in SETTINGS for s in SEEDS]


def assert_metrics_close(batched: dict, sequential: dict, rtol=1e-6):
    assert batched.keys() == sequential.keys()
    for key in batched:
        if key == "wall_time_s":
            continue
        a, b = batched[key], sequential[key]
        assert len(a) == len(b), key
        for u, v in zip(a, b):
            assert (u is None) == (v is None), key
            if u is not None:
                assert math.isclose(u, v, rel_tol=rtol, abs_tol=1e-12), (key, u, v)


@pytest.mark.parametrize("model", BATCHED_MODELS)
def test_batched_runs_equal_sequential_runs_in_float64(data_root, tmp_path, float64, model):
    configs = grid(data_root, model)
    results, models = train_batched(configs, out_dir=tmp_path / "batched", return_models=True, log=lambda _: None)
    for config, result, batched_model in zip(configs, results, models):
        seq, seq_model = train(config, out_dir=tmp_path / "seq", progress=False, return_model=True)
        assert result["run_id"] == seq["run_id"] == config.run_id
        assert result["identity"] == seq["identity"]
        assert result["steps"] == seq["steps"] and result["steps"]["done"] == 18
        assert result["metrics"]["step"] == seq["metrics"]["step"] == [0, 4, 8, 12, 16, 18]
        assert_metrics_close(result["metrics"], seq["metrics"])
        for name, tensor in seq_model.state_dict().items():
            assert tensor.dtype == torch.float64
            torch.testing.assert_close(batched_model.state_dict()[name], tensor, rtol=1e-6, atol=1e-12)
        assert set(result) - set(seq) == {"batched"} and set(seq) <= set(result)
        assert result["batched"]["runs"] == len(configs) and result["batched"]["seeds"] == list(SEEDS)
        assert result["batched"]["update"] == "stacked"
        assert result["optimizer"] == seq["optimizer"]
    # every run computed its own numbers (no setting or seed took another's)
    finals = {round(r["final"]["train_loss"], 9) for r in results}
    assert len(finals) == len(configs)


def test_a_setting_the_stacked_step_does_not_cover_steps_its_own_optimizer(data_root, tmp_path, float64):
    configs = grid(data_root, "mlp", epochs=1)
    configs[2:4] = [c.replace(optimizer_kwargs={"foreach": False}) for c in configs[2:4]]  # the reference path
    results, models = train_batched(configs, log=lambda _: None, return_models=True)
    for config, result, batched_model in zip(configs, results, models):
        seq, seq_model = train(config, progress=False, return_model=True)
        assert_metrics_close(result["metrics"], seq["metrics"])
        for name, tensor in seq_model.state_dict().items():
            torch.testing.assert_close(batched_model.state_dict()[name], tensor, rtol=1e-6, atol=1e-12)
        own = "its own optimizer (it does not run the foreach path)"
        assert result["batched"]["update"] == (own if config.optimizer_kwargs else "stacked")


def test_a_batched_result_counts_as_the_sequential_run_and_back(data_root, tmp_path):
    configs = grid(data_root, "logreg", epochs=1)
    train_batched(configs[:2], out_dir=tmp_path / "a", log=lambda _: None)
    assert all(is_done(c, tmp_path / "a") for c in configs[:2])
    assert not is_done(configs[2], tmp_path / "a")
    reused = train(configs[0], out_dir=tmp_path / "a", progress=False)
    assert reused.get("reused") and "batched" in reused


def test_an_interrupted_batch_resumes_to_the_uninterrupted_numbers(data_root, tmp_path):
    configs = grid(data_root, "mlp")
    whole = train_batched(configs, log=lambda _: None)
    with pytest.raises(RunInterrupted) as stop:
        train_batched(configs, checkpoint_dir=tmp_path / "ckpt", stop_after=7, log=lambda _: None)
    assert stop.value.step == 7 and stop.value.checkpoint.is_file()
    resumed = train_batched(configs, out_dir=tmp_path / "out", checkpoint_dir=tmp_path / "ckpt",
                            log=lambda _: None)
    assert not stop.value.checkpoint.exists()
    for a, b in zip(whole, resumed):
        assert b["resumed_at_steps"] == [7]
        assert {k: v for k, v in a["metrics"].items() if k != "wall_time_s"} == \
               {k: v for k, v in b["metrics"].items() if k != "wall_time_s"}
        assert a["parameters_sha256"] == b["parameters_sha256"]


def test_a_diverging_run_stops_where_its_sequential_run_stops(data_root, tmp_path):
    configs = [c.replace(lr=1e30, bias_correction=False, optimizer="adam", beta2=0.99, seed=s)
               for s, c in zip(SEEDS, grid(data_root, "mlp", epochs=3))]
    configs += [c.replace(lr=1e-3) for c in configs]
    results = train_batched(configs, log=lambda _: None)
    for config, result in zip(configs, results):
        seq = train(config, progress=False)
        assert result["final"]["diverged"] == seq["final"]["diverged"]
        assert result["final"]["diverged_at_step"] == seq["final"]["diverged_at_step"]
        assert result["metrics"]["step"] == seq["metrics"]["step"]
    assert [r["final"]["diverged"] for r in results] == [True, True, False, False]


def test_split_batches_makes_rectangles_and_caps_them(data_root):
    configs = grid(data_root, "logreg")
    assert [len(b) for b in split_batches(configs)] == [8]
    assert [len(b) for b in split_batches(configs, max_runs=4)] == [4, 4]
    assert [[c.seed for c in b] for b in split_batches(configs, max_runs=4)] == [[0] * 4, [1] * 4]
    assert [len(b) for b in split_batches(configs, max_runs=3)] == [3, 1, 3, 1]
    mixed = configs + [configs[0].replace(epochs=1)]
    assert sorted(len(b) for b in split_batches(mixed)) == [1, 8]
    ragged = configs[:-1]  # the last setting lacks seed 1: a rectangle of its own
    assert sorted(len(b) for b in split_batches(ragged)) == [1, 6]
    with pytest.raises(ValueError, match="max_runs must be a positive int or None, got 0"):
        split_batches(configs, max_runs=0)


def test_bad_batches_are_refused_with_the_reason(data_root):
    configs = grid(data_root, "logreg")
    with pytest.raises(ValueError, match="not one batch"):
        train_batched(configs + [configs[0].replace(epochs=1)])
    with pytest.raises(ValueError, match="the same run twice"):
        train_batched(configs + configs[:1])
    with pytest.raises(ValueError, match="model 'cifarnet' cannot be batched"):
        train_batched([c.replace(model="cifarnet") for c in configs])
    with pytest.raises(ValueError, match="torch.optim class"):
        train_batched([c.replace(optimizer="torch.adam", bias_correction=None, schedule=None) for c in configs[:2]])
    with pytest.raises(ValueError, match="stop_after needs a checkpoint_dir"):
        train_batched(configs, stop_after=3)


def test_the_batched_grid_writes_the_sequential_grids_files_and_resumes(data_root, tmp_path):
    configs = grid(data_root, "logreg", epochs=1)
    lines = []
    summary = run_grid(configs, tmp_path / "out", checkpoint_dir=tmp_path / "ckpt", batched=True, threads=1,
                       max_batch_runs=4, log=lines.append)
    assert summary["finished"] == len(configs) and summary["remaining"] == 0 and not summary["interrupted"]
    assert sum("trained as one batched model" in line for line in lines) == 2
    for config in configs:
        result = json.loads(result_path(tmp_path / "out", config).read_text())
        assert result["batched"]["runs"] == 4
    again = run_grid(configs, tmp_path / "out", checkpoint_dir=tmp_path / "ckpt", batched=True, threads=1,
                     log=lines.append)
    assert again["finished"] == 0 and again["remaining"] == 0
    assert not list((tmp_path / "out" / ".claims").glob("*.claim"))


def test_paired_differences_pair_the_same_configuration_and_seed(data_root, tmp_path):
    from adaptive_methods.experiments.results import paired_differences

    configs = grid(data_root, "logreg", epochs=1)
    results = train_batched(configs, log=lambda _: None)
    rows = paired_differences(results)
    # SETTINGS pair nothing (each optimizer has its own lr/beta2/bc): make Adam's twins
    assert rows == []
    twins = [c.replace(optimizer="amsgrad") for c in configs if c.optimizer == "adam"]
    results += train_batched(twins, log=lambda _: None)
    rows = paired_differences(results)
    assert len(rows) == 2 and all(row["seeds"] == list(SEEDS) for row in rows)
    for row in rows:
        runs = {(r["config"]["optimizer"], r["config"]["seed"]): r["final"]["test_acc"] for r in results
                if (r["config"]["lr"], r["config"]["beta2"], r["config"]["bias_correction"])
                == (row["lr"], row["beta2"], row["bias_correction"])}
        diffs = [runs["amsgrad", s] - runs["adam", s] for s in SEEDS]
        assert row["diff"]["mean"] == pytest.approx(sum(diffs) / 2)
        assert row["diff"]["n"] == 2 and row["adam"]["n"] == 2
    with pytest.raises(ValueError, match="two runs of amsgrad with the same configuration"):
        paired_differences(results + results[-1:])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_far_apart_logits_give_torchs_loss_and_gradient_with_no_subnormal_entry(dtype):
    """Logits far apart (a diverging run's): the written-out backpropagation gives
    F.cross_entropy's loss and autograd's gradient, and no gradient entry is subnormal,
    though class 0's probabilities, exp(log(tiny) - 8 +- 3), are (exp's slow path), in
    float32 and float64."""
    from adaptive_methods.experiments.batched import _gradients

    seeds, settings, classes, n_in, batch = 2, 3, 10, 7, 16
    gen = torch.Generator().manual_seed(0)
    tiny = torch.finfo(dtype).tiny
    weight = torch.randn(seeds, settings, classes, n_in, generator=gen, dtype=dtype) * 0.5
    bias = torch.zeros(seeds, settings, classes, dtype=dtype)
    bias[..., 0] = math.log(tiny) - 8.0
    x = torch.rand(seeds, batch, n_in, generator=gen, dtype=dtype)
    y = torch.randint(1, classes, (seeds, batch), generator=gen)  # class 0 is no example's
    params = {"linear.weight": weight, "linear.bias": bias}
    grads, loss_sums = _gradients(params, ("linear",), x, y)
    for s in range(seeds):
        for h in range(settings):
            w = weight[s, h].clone().requires_grad_(True)
            b = bias[s, h].clone().requires_grad_(True)
            logits = x[s] @ w.T + b
            probabilities = torch.softmax(logits, 1)[:, 0]
            assert ((probabilities > 0) & (probabilities < tiny)).all()
            loss = torch.nn.functional.cross_entropy(logits, y[s])
            loss.backward()
            assert torch.allclose(loss_sums[s, h] / batch, loss.detach(), rtol=1e-5 if dtype == torch.float32 else 1e-12)
            scale = w.grad.abs().max()
            assert torch.allclose(grads["linear.weight"][s, h], w.grad, rtol=1e-5, atol=1e-6 * scale)
            assert torch.allclose(grads["linear.bias"][s, h], b.grad, rtol=1e-5, atol=1e-6 * scale)
    for g in grads.values():
        assert not ((g != 0) & (g.abs() < tiny)).any()
    assert (grads["linear.bias"][..., 0] == 0).all()
