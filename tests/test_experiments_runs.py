"""A result file says exactly what ran (issue 12): the step sizes that ran equal the ones
recorded, for every registered optimizer, schedule and bias correction; a run's identity
covers everything that changes its result; summaries never merge different runs; models are
selected on the validation split; broken files and bad options get errors that name them."""

from __future__ import annotations

import json
import importlib
import math

import pytest
import torch

from adaptive_methods.experiments import data as D
from adaptive_methods.experiments.cli import main
from adaptive_methods.experiments.optimizers import package_methods, step_size
from adaptive_methods.experiments.results import (
    ResultFileError,
    atomic_write_json,
    best_configurations,
    load_results,
    summary_table,
    tune,
)
from adaptive_methods.experiments.training import (
    CheckpointError,
    RunInterrupted,
    _build_optimizer,
    checkpoint_path,
    is_done,
    result_path,
    train,
)
from adaptive_methods.methods import AdamNC
from adaptive_methods.registry import METHODS

from .test_experiments_training import REPO, cfg, data_root, fake_result, keep_threads, make_data  # noqa: F401

TORCH_NAMES = ("torch.adam", "torch.amsgrad", "torch.sgd", "torch.rmsprop")


# ----------------------------------------------------------------------------- the steps that ran (cases 1-3)

def _reference_steps(info: dict, steps: int) -> list[float]:
    """x_t - x_{t+1} for the constant gradient g_t = 1, from the recorded hyperparameters
    only: an independent transcription of each update for that gradient."""
    group = info["param_groups"][0]
    cls = info["class"].rsplit(".", 1)[1]
    lr = info["kwargs"]["lr"]
    eps = group.get("eps", 0.0)
    b1, b2 = group["betas"] if "betas" in group else (None, group.get("beta2", group.get("alpha")))
    decay = group.get("beta1_decay") or 1.0
    if cls == "AdamNC":  # its beta schedules are not parameter-group values: the documented defaults
        b1, decay = 0.9, METHODS["adamnc"].beta1_decay
    corrected = info["bias_correction"]
    m = v = vhat = 0.0
    out = []
    for t in range(1, steps + 1):
        alpha = lr / math.sqrt(t) if info["schedule"] == "inv_sqrt" else lr
        if b1 is None:
            m = 1.0
        else:
            b1_t = b1 * decay ** (t - 1)
            m = b1_t * m + (1 - b1_t)
        if cls == "SGD":
            denominator = 1.0
        elif cls == "Adagrad":  # the sum of g_i^2 (PyTorch's form) or their mean (the paper's)
            denominator = math.sqrt(t if group["form"] == "pytorch" else 1.0) + eps
        elif cls == "AdamNC":  # beta2_t = 1 - 1/t: v_t is the mean of g_i^2 = 1
            denominator = 1.0 + eps
        else:
            v = b2 * v + (1 - b2)
            if cls == "AdamX" and t > 1:
                vhat = max(((1 - b1_t) / (1 - b1 * decay ** (t - 2))) ** 2 * vhat, v)
            else:
                vhat = max(vhat, v)  # Adam's v_t = 1 - b2^t grows, so the max is v_t itself
            denominator = math.sqrt(vhat / (1 - b2 ** t) if corrected else vhat) + eps
        out.append(alpha * (m / (1 - b1 ** t) if corrected else m) / denominator)
    return out


_TRANSCRIBED = {"SGD", "Adagrad", "RMSProp", "RMSprop", "Adam", "AMSGrad", "AdamNC", "AdamX"}


def _replayed_steps(info: dict, steps: int) -> list[float]:
    """The steps of an optimizer built afresh from the record alone (class and keyword
    arguments), for the methods :func:`_reference_steps` has no transcription of."""
    module, name = info["class"].rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in info["kwargs"].items()}
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = cls([p], **kwargs)
    out = []
    for _ in range(steps):
        before = p.item()
        p.grad = torch.ones_like(p)
        optimizer.step()
        out.append(before - p.item())
    return out


def _expected_steps(info: dict, steps: int) -> list[float]:
    if info["class"].rsplit(".", 1)[1] in _TRANSCRIBED:
        return _reference_steps(info, steps)
    return _replayed_steps(info, steps)


def _measured_steps(name, steps=6, **kw) -> tuple[list[float], dict, list[float]]:
    """The training loop's code path on one parameter with gradient 1: displacements, the
    optimizer record a result file gets, and the alpha_t the loop logs."""
    config = cfg("unused", optimizer=name, lr=0.1, **kw)
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer, controller, info = _build_optimizer(config, [p])
    moves, alphas = [], []
    for t in range(1, steps + 1):
        alphas.append(step_size(optimizer, controller, t))
        before = p.item()
        p.grad = torch.ones_like(p)
        optimizer.step()
        moves.append(before - p.item())
    return moves, info, alphas


COMBOS = [(name, schedule, bc) for name in [*package_methods(), *TORCH_NAMES]
          for schedule in (None, "constant", "inv_sqrt") for bc in (None, True, False)]


@pytest.mark.parametrize("name, schedule, bc", COMBOS)
def test_the_steps_that_ran_are_the_recorded_ones(name, schedule, bc):
    """Case 1: every registered optimizer x schedule x bias correction either runs exactly
    what its record says (steps measured on one parameter) or is refused with the reason."""
    try:
        moves, info, alphas = _measured_steps(name, schedule=schedule, bias_correction=bc)
    except ValueError as refused:
        assert name.split("-")[0] in str(refused) and ("bias" in str(refused) or "schedule" in str(refused))
        return
    if schedule is not None:
        assert info["schedule"] == schedule
    if bc is not None:
        assert info["bias_correction"] is bc
    assert moves == pytest.approx(_expected_steps(info, 6), rel=1e-12, abs=1e-15)
    lr = info["kwargs"]["lr"]
    assert alphas == pytest.approx([lr / math.sqrt(t) if info["schedule"] == "inv_sqrt" else lr for t in range(1, 7)])


@pytest.mark.parametrize("name, extra, kw", [
    ("adam", {"beta1_decay": 0.95}, dict(bias_correction=False)),
    ("amsgrad-paper", {"beta1_decay": 0.9}, {}),
    ("adamx", {"beta1_decay": 0.8}, dict(schedule="constant")),
    ("adagrad", {"form": "paper"}, {}),
    ("adam", {"foreach": False}, dict(eps=0.5, schedule="inv_sqrt")),
])
def test_extra_optimizer_arguments_run_as_recorded(name, extra, kw):
    """--opt arguments that no configuration field sets reach the optimizer, and the record
    (read back from it) says what ran."""
    moves, info, _ = _measured_steps(name, optimizer_kwargs=extra, **kw)
    for key, value in extra.items():
        assert info["param_groups"][0][key] == value
    assert moves == pytest.approx(_expected_steps(info, 6), rel=1e-12, abs=1e-15)


def test_each_method_keeps_its_own_schedule_and_eps():
    """Case 1: amsgrad-paper, AdamNC and AdamX run alpha/sqrt(t) with eps 0 once (not lr/t)."""
    for name in ("amsgrad-paper", "adamnc", "adamx"):
        moves, info, alphas = _measured_steps(name)
        assert info["schedule"] == "inv_sqrt" and info["param_groups"][0]["eps"] == 0.0
        assert alphas[1] == pytest.approx(0.1 / math.sqrt(2))
    moves, info, _ = _measured_steps("amsgrad-paper", schedule="constant")
    assert info["schedule"] == "constant" and not info["bias_correction"] and info["param_groups"][0]["eps"] == 0.0


def test_adamnc_by_name_is_adamnc():
    """Case 2: --optimizer adamnc passes no constant betas: it is AdamNC() step for step."""
    torch.manual_seed(0)
    grads = torch.randn(50, 4, dtype=torch.float64)
    a = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    b = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    by_name, _, _ = _build_optimizer(cfg("unused", optimizer="adamnc", lr=0.1), [a])
    direct = AdamNC([b], lr=0.1)
    for g in grads:
        a.grad, b.grad = g.clone(), g.clone()
        by_name.step()
        direct.step()
    assert torch.equal(a, b)


@pytest.mark.parametrize("override, field", [
    ("lr=0.5", "lr"), ("betas=[0.5,0.9]", "beta1/beta2"), ("eps=0.1", "eps"),
    ("bias_correction=false", "bias_correction"), ('step="inv_sqrt"', "schedule"),
])
def test_opt_overrides_of_configuration_fields_are_usage_errors(tmp_path, capsys, override, field):
    """Case 3: an --opt that a configuration field sets (and the controller would fight) is
    refused before anything runs, naming the field to use."""
    with pytest.raises(SystemExit) as usage:
        main(["run", "--optimizer", "torch.adam", "--opt", override, "--out", str(tmp_path / "out")])
    assert usage.value.code == 2
    assert f"set {field} instead" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_every_registered_name_runs_from_the_command_line(data_root, tmp_path, capsys):
    """Issue 11: --optimizer NAME works for every name the registry gives (adamx included)."""
    for name in package_methods():
        out = tmp_path / name
        assert main(["run", "--optimizer", name, "--max-steps", "3", "--data-root", str(data_root), "--offline",
                     "--no-fallback", "--batch-size", "32", "--threads", "1", "--eval-train-limit", "20",
                     "--log-every", "3", "--no-progress", "--out", str(out),
                     "--checkpoint-dir", str(tmp_path / "ck")]) == 0
        result = json.loads(next(out.glob("*.json")).read_text())
        method = package_methods()[name][0]
        assert result["optimizer"]["class"].endswith("." + METHODS[method].cls.__name__)
        assert result["final"]["step"] == 3


# ----------------------------------------------------------------------------- identity (cases 4, 7, 9)

def test_a_run_that_differs_in_any_field_is_not_done(data_root, tmp_path):
    """Case 4: after max_steps=5, max_steps=8 is another run, kept beside the first."""
    short = cfg(data_root, max_steps=5)
    train(short, out_dir=tmp_path, progress=False)
    longer = short.replace(max_steps=8)
    assert is_done(short, tmp_path) and not is_done(longer, tmp_path)
    assert result_path(tmp_path, short) != result_path(tmp_path, longer)
    result = train(longer, out_dir=tmp_path, progress=False)
    assert not result.get("reused") and result["final"]["step"] == 8
    steps = sorted(r["final"]["step"] for r in load_results(tmp_path))
    assert steps == [5, 8]
    assert train(longer, out_dir=tmp_path, progress=False)["reused"] is True


def test_the_thread_count_is_part_of_the_identity(data_root, tmp_path):
    """Case 9: the same configuration with another thread count is not taken as done; its
    result replaces the file and the old one is kept as *.superseded."""
    one = cfg(data_root, max_steps=4, threads=1)
    train(one, out_dir=tmp_path, progress=False)
    two = one.replace(threads=2)
    assert result_path(tmp_path, one) == result_path(tmp_path, two) and not is_done(two, tmp_path)
    result = train(two, out_dir=tmp_path, progress=False)
    assert not result.get("reused") and result["identity"]["threads"] == 2
    assert json.loads(result_path(tmp_path, two).read_text())["identity"]["threads"] == 2
    superseded = list(tmp_path.glob("*.json.superseded"))
    assert len(superseded) == 1 and json.loads(superseded[0].read_text())["identity"]["threads"] == 1


def test_the_data_files_are_part_of_the_identity_and_resume_refuses_other_data(data_root, tmp_path):
    """Case 7: a checkpoint made on other data is refused, listing the differences and the
    flag that starts afresh; other data also make a finished result not done."""
    c = cfg(data_root)
    with pytest.raises(RunInterrupted):
        train(c, checkpoint_dir=tmp_path / "ck", stop_after=3, progress=False)
    train(c.replace(max_steps=2), out_dir=tmp_path / "out", progress=False)
    make_data(data_root, seed=1)  # the same names and sizes, other images
    D.clear_memo()
    with pytest.raises(CheckpointError) as refused:
        train(c, checkpoint_dir=tmp_path / "ck", progress=False)
    message = str(refused.value)
    assert "data.train" in message and "data.test" in message and "--fresh" in message
    assert str(checkpoint_path(tmp_path / "ck", c)) in message
    assert not is_done(c.replace(max_steps=2), tmp_path / "out")
    assert train(c, checkpoint_dir=tmp_path / "ck", resume=False, progress=False)["resumed_at_steps"] == []


def test_the_recorded_configuration_is_read_back_from_the_optimizer(data_root, tmp_path):
    result = train(cfg(data_root, optimizer="amsgrad", bias_correction=False, schedule="inv_sqrt", eps=1e-6,
                       max_steps=3), out_dir=tmp_path, progress=False)
    group = result["optimizer"]["param_groups"][0]
    assert group["variant"] == "paper" and group["bias_correction"] is False
    assert group["eps"] == 1e-6 and group["step"] == "inv_sqrt" and result["optimizer"]["schedule"] == "inv_sqrt"
    assert result["identity"]["optimizer"]["param_groups"] == result["optimizer"]["param_groups"]


# ----------------------------------------------------------------------------- summaries (cases 5, 6)

def test_summaries_never_merge_runs_that_differ_and_warn_on_repeated_seeds():
    """Case 5: runs differing in schedule, beta1 or eps are separate rows; a seed that occurs
    twice within a row is reported."""
    runs = [fake_result("adam", 1e-3, 0, 0.8, schedule="inv_sqrt"), fake_result("adam", 1e-3, 0, 0.7),
            fake_result("adam", 1e-3, 0, 0.75, beta1=0.5), fake_result("adam", 1e-3, 0, 0.72, eps=1e-3)]
    rows = summary_table(runs, by=("optimizer", "lr"), warn=pytest.fail)
    assert len(rows) == 4 and all(r["test_acc"]["n"] == 1 for r in rows)
    assert {"schedule", "beta1", "eps"} <= set(rows[0])
    warnings = []
    twice = runs[:1] + [dict(runs[0], _path="copy.json")]
    rows = summary_table(twice, by=("optimizer", "lr"), warn=warnings.append)
    assert len(rows) == 1 and len(warnings) == 1 and "seeds repeat" in warnings[0] and "[0, 0]" in warnings[0]


def test_best_configuration_is_selected_on_validation_and_reports_test(tmp_path, capsys):
    """Case 6: the row best on validation accuracy is chosen, and its test accuracy shown,
    even where another row has the higher test accuracy; selecting on test is refused."""
    a = [fake_result("adam", 1e-3, s, 0.80) for s in range(2)]
    b = [fake_result("adam", 1e-2, s, 0.82) for s in range(2)]
    for r in b:
        r["final"]["val_acc"] = 0.70  # best on test, worse on validation
    for r in a + b:
        atomic_write_json(tmp_path / f"{r['run_id']}.json", r)
    rows = summary_table(a + b, by=("optimizer", "lr"), metrics=("val_acc", "test_acc"))
    best = best_configurations(rows, per=("optimizer",))
    assert [(r["lr"], r["test_acc"]["mean"]) for r in best] == [(1e-3, pytest.approx(0.80))]
    for metric in ("test_acc", "test_loss"):
        with pytest.raises(ValueError, match="never looks at the test split"):
            best_configurations(rows, metric=metric)
        with pytest.raises(ValueError, match="never looks at the test split"):
            tune(a + b, metric=metric)
    assert main(["summarize", str(tmp_path), "--by", "optimizer,lr", "--best"]) == 0
    captured = capsys.readouterr()
    assert "| adam | 0.001 |" in captured.out and "| adam | 0.01 |" not in captured.out
    assert "selected on val_acc" in captured.err
    with pytest.raises(SystemExit):
        main(["summarize", str(tmp_path), "--best", "--select-on", "test_acc"])
    for r in a + b:
        del r["final"]["val_acc"]
    with pytest.raises(ValueError, match="without a validation split"):
        best_configurations(summary_table(a + b, by=("optimizer", "lr"), metrics=("val_acc",)))


# ----------------------------------------------------------------------------- errors that name the file

@pytest.mark.parametrize("content", [b"", b"not a checkpoint", b"PK\x03\x04truncated"])
def test_a_corrupt_or_empty_checkpoint_names_the_file_and_the_flag(data_root, tmp_path, content):
    c = cfg(data_root)
    path = checkpoint_path(tmp_path, c)
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=rf"{path}.*not readable.*--fresh"):
        train(c, checkpoint_dir=tmp_path, progress=False)


def test_a_checkpoint_without_its_keys_names_the_file_and_the_flag(data_root, tmp_path):
    c = cfg(data_root)
    torch.save({"step": 3}, checkpoint_path(tmp_path, c))
    with pytest.raises(CheckpointError, match=r"lacks .*history.*--fresh"):
        train(c, checkpoint_dir=tmp_path, progress=False)


def test_a_truncated_result_file_names_the_file_and_the_remedy(data_root, tmp_path, capsys):
    c = cfg(data_root, max_steps=2)
    train(c, out_dir=tmp_path, progress=False)
    path = result_path(tmp_path, c)
    path.write_text(path.read_text()[:100])
    with pytest.raises(ResultFileError, match=rf"{path}.*not a readable result file.*delete it"):
        train(c, out_dir=tmp_path, progress=False)
    with pytest.raises(ResultFileError, match=str(path)):
        load_results(tmp_path)
    assert main(["summarize", str(tmp_path)]) == 1
    assert str(path) in capsys.readouterr().err


def test_an_unwritable_out_folder_fails_before_training(data_root, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as usage:
        main(["run", "--data-root", str(data_root), "--offline", "--out", str(blocker / "out"),
              "--checkpoint-dir", str(tmp_path / "ck"), "--no-progress"])
    assert usage.value.code == 2 and "--out" in capsys.readouterr().err
    assert not any((tmp_path / "ck").glob("*.pt"))
    with pytest.raises(ValueError, match="out_dir .* is not a writable folder"):
        train(cfg(data_root), out_dir=blocker / "out", progress=False)


def test_data_that_is_not_pinned_is_refused_by_the_command_line(data_root, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("ADAPTIVE_METHODS_ACCEPT_UNPINNED")
    args = ["run", "--data-root", str(data_root), "--offline", "--no-fallback", "--max-steps", "2", "--threads", "1",
            "--no-progress", "--out", str(tmp_path / "out"), "--checkpoint-dir", str(tmp_path / "ck")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert str(data_root) in err and "--accept-unpinned-data" in err
    assert main(args + ["--accept-unpinned-data"]) == 0


@pytest.mark.parametrize("argv, option", [
    (["run", "--epochs", "-1"], "--epochs"), (["run", "--lr", "nan"], "--lr"), (["run", "--lr", "-1"], "--lr"),
    (["run", "--batch-size", "0"], "--batch-size"), (["run", "--eps", "inf"], "--eps"),
    (["run", "--device", "tpu"], "--device"), (["run", "--threads", "0"], "--threads"),
    (["run", "--stop-after", "0"], "--stop-after"), (["run", "--beta2", "1"], "--beta2"),
    (["run", "--optimizer", "torch.lbfgs"], "--optimizer"), (["run", "--optimizer", "lion"], "--optimizer"),
    (["run", "--optimizer", "amsgrad-paper", "--bias-correction", "on"], "--optimizer"),
    (["run", "--optimizer", "adagrad", "--schedule", "inv_sqrt"], "--optimizer"),
    (["grid", "--preset", "reduced-logreg", "--time-budget", "-1"], "--time-budget"),
    (["grid", "--preset", "reduced-logreg", "--workers", "0"], "--workers"),
    (["grid", "--preset", "nope"], "--preset"),
])
def test_bad_option_values_are_usage_errors_naming_the_option(tmp_path, capsys, argv, option):
    extra = ["--out", str(tmp_path / "out")] if argv[0] == "run" else []
    with pytest.raises(SystemExit) as usage:
        main(argv + extra)
    assert usage.value.code == 2
    err = capsys.readouterr().err
    assert option in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_the_committed_results_before_the_validation_split_are_read_but_never_selected_on(capsys):
    folder = REPO / "results" / "fashion-mnist" / "logreg"
    runs = load_results(folder)
    assert len(runs) == 96 and all("val_acc" not in r["final"] for r in runs)
    rows = summary_table(runs, by=("optimizer", "lr", "beta2", "bias_correction"), warn=pytest.fail)
    assert len(rows) == 32 and all(r["test_acc"]["n"] == 3 for r in rows)
    assert main(["summarize", str(folder), "--best"]) == 1
    assert "without a validation split" in capsys.readouterr().err
