"""``python -m adaptive_methods.experiments``: run one configuration, run a grid, summarise.

Examples::

    python -m adaptive_methods.experiments run --model mlp --optimizer amsgrad --lr 1e-3 --out results/scratch/one
    python -m adaptive_methods.experiments grid --preset fashion-logreg --workers 2
    python -m adaptive_methods.experiments summarize results/fashion-mnist/logreg
    python -m adaptive_methods.experiments grid --preset fashion-logreg --shard 0/4
    python -m adaptive_methods.experiments slurm --preset fashion-logreg --tasks 4 --cpus-per-task 2 --submit
    torchrun --nproc_per_node 2 -m adaptive_methods.experiments run --model mlp --out results/scratch/ddp
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]


def _kv(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {value}")
        return value
    parse.__name__ = f"integer >= {low}"
    return parse


def _number(*, low: float, low_open: bool, high: float | None = None, what: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        ok = math.isfinite(value) and (value > low if low_open else value >= low) and (high is None or value < high)
        if not ok:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value
    parse.__name__ = what
    return parse


_POSITIVE = _number(low=0.0, low_open=True, what="a finite number > 0")
_NONNEGATIVE = _number(low=0.0, low_open=False, what="a finite number >= 0")
_BETA = _number(low=0.0, low_open=False, high=1.0, what="a number in [0, 1)")


def _device(text: str) -> str:
    if text in ("auto", "cpu", "cuda") or (text.startswith("cuda:") and text[5:].isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"must be auto, cpu, cuda or cuda:N, got {text!r}")


def _optimizer(text: str) -> str:
    from .optimizers import resolve_optimizer

    try:
        resolve_optimizer(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _on_off(text: str) -> bool:
    if text not in ("on", "off"):
        raise argparse.ArgumentTypeError(f"must be on or off, got {text!r}")
    return text == "on"


def _datasets() -> list[str]:
    from .data import FALLBACKS

    return list(FALLBACKS)


def _final_metrics() -> list[str]:
    from .checkpoints import METRICS

    return [m for m in METRICS if m.endswith(("_acc", "_loss"))]


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", type=_device, default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--threads", type=_int_at_least(1), default=None, help="torch CPU threads per process")
    p.add_argument("--data-root", default=None, help="folder with the data files (else ADAPTIVE_METHODS_DATA)")
    p.add_argument("--offline", action="store_true", help="never try to download")
    p.add_argument("--accept-unpinned-data", action="store_true",
                   help="use data files whose SHA-256 is not the pinned one (recorded in the result)")
    p.add_argument("--nondeterministic", action="store_true",
                   help="allow non-deterministic kernels (cudnn.benchmark) for speed on a GPU")
    p.add_argument("--checkpoint-dir", default=None, help="where checkpoints go (default results/scratch/checkpoints)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar / per-run lines")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m adaptive_methods.experiments",
                                     description="The experiments of 'On the Convergence of Adam and Beyond'.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub.add_parser("run", help="train one configuration"))
    _add_grid(sub.add_parser("grid", help="run a preset grid (skips runs whose result exists)"))
    _add_summarize(sub.add_parser("summarize", help="tables from result files"))
    _add_slurm(sub.add_parser("slurm", help="write (and submit) a Slurm job array that runs a grid in shards"))
    sub.add_parser("presets", help="list the grid presets")
    d = sub.add_parser("data", help="show which data set each name loads here")
    d.add_argument("names", nargs="*", default=_datasets(), help=f"any of {', '.join(_datasets())}")
    d.add_argument("--data-root", default=None)
    d.add_argument("--offline", action="store_true")
    d.add_argument("--accept-unpinned-data", action="store_true")
    return parser


def _add_run(p: argparse.ArgumentParser) -> None:
    from .models import MODELS
    from .optimizers import SCHEDULES, package_methods

    p.add_argument("--model", default="logreg", choices=sorted(MODELS))
    p.add_argument("--dataset", default="fashion-mnist", choices=_datasets())
    p.add_argument("--optimizer", type=_optimizer, default="adam",
                   help=f"{', '.join(package_methods())}, or torch.<name> (a torch.optim class)")
    p.add_argument("--lr", type=_POSITIVE, default=1e-3)
    p.add_argument("--beta1", type=_BETA, default=None, help="default: the optimizer's own")
    p.add_argument("--beta2", type=_BETA, default=None, help="default: the optimizer's own")
    p.add_argument("--eps", type=_NONNEGATIVE, default=None, help="default: the optimizer's own")
    bc = p.add_mutually_exclusive_group()
    bc.add_argument("--bias-correction", type=_on_off, default=None, metavar="{on,off}",
                    help="default: the optimizer's own")
    bc.add_argument("--no-bias-correction", dest="bias_correction", action="store_false", default=None,
                    help="the same as --bias-correction off")
    p.add_argument("--schedule", default=None, choices=SCHEDULES, help="default: the optimizer's own")
    p.add_argument("--batch-size", type=_int_at_least(1), default=128)
    p.add_argument("--epochs", type=_int_at_least(1), default=1)
    p.add_argument("--max-steps", type=_int_at_least(1), default=None)
    p.add_argument("--seed", type=_int_at_least(0), default=0)
    p.add_argument("--log-every", type=_int_at_least(1), default=100)
    p.add_argument("--train-limit", type=_int_at_least(1), default=None)
    p.add_argument("--test-limit", type=_int_at_least(1), default=None)
    p.add_argument("--validation-size", type=_int_at_least(0), default=None,
                   help="training images held out for validation (default: a sixth; 0: none)")
    p.add_argument("--eval-train-limit", type=_int_at_least(1), default=10000)
    p.add_argument("--no-fallback", action="store_true", help="fail instead of loading another data set")
    p.add_argument("--opt", action="append", type=_kv, default=[], metavar="KEY=VALUE",
                   help="extra optimizer argument (JSON value), e.g. --opt foreach=false")
    p.add_argument("--out", required=True, help="folder for the result JSON file")
    p.add_argument("--experiment", default="single")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--force", action="store_true", help="run even if the result file exists")
    p.add_argument("--keep-checkpoint", action="store_true")
    p.add_argument("--stop-after", type=_int_at_least(1), default=None,
                   help="stop (checkpointed) after this many steps")
    _add_common(p)


def _add_grid(g: argparse.ArgumentParser) -> None:
    g.add_argument("--preset", required=False, help="a name from `presets`")
    g.add_argument("--list", action="store_true", help="list the runs and exit")
    g.add_argument("--out", default=None, help="results folder (default: the preset's)")
    g.add_argument("--workers", type=_int_at_least(1), default=1)
    g.add_argument("--time-budget", type=_POSITIVE, default=None, help="start no run after this many seconds")
    g.add_argument("--fresh", action="store_true", help="start every run afresh, ignoring checkpoints")
    g.add_argument("--batched", action="store_true",
                   help="train the runs of logistic regression and the MLP as batched models, in this process")
    g.add_argument("--max-batch-runs", type=_int_at_least(1), default=None,
                   help="with --batched: at most this many runs in one batched model (whole seeds first)")
    g.add_argument("--epochs", type=_int_at_least(1), default=None)
    g.add_argument("--max-steps", type=_int_at_least(1), default=None)
    g.add_argument("--seeds", type=_int_at_least(0), nargs="+", default=None)
    g.add_argument("--lrs", type=_POSITIVE, nargs="+", default=None)
    g.add_argument("--beta2s", type=_BETA, nargs="+", default=None)
    g.add_argument("--optimizers", type=_optimizer, nargs="+", default=None)
    g.add_argument("--bias-correction", type=_on_off, nargs="+", default=None, metavar="{on,off}")
    g.add_argument("--dataset", default=None, choices=_datasets())
    _add_shard_option(g)
    _add_common(g)


def _add_summarize(s: argparse.ArgumentParser) -> None:
    s.add_argument("folders", nargs="+")
    s.add_argument("--by", default="model,dataset,optimizer,lr,beta2,bias_correction",
                   help="comma-separated fields shown first (every other field that differs is added)")
    s.add_argument("--metric", default="test_acc", choices=_final_metrics(), help="the first metric column")
    s.add_argument("--best", action="store_true",
                   help="per model, data set, optimizer and bias correction, only the configuration best on "
                        "--select-on; its test metrics are reported")
    s.add_argument("--select-on", default="val_acc", choices=["val_acc", "val_loss", "train_loss", "train_acc"],
                   help="what --best selects on (never the test split)")
    s.add_argument("--format", choices=["markdown", "json"], default="markdown")


def _is_main_rank() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


class UsageError(Exception):
    """A bad option value found after parsing (exit status 2, like argparse's own)."""


def _config_from(args):
    from .config import RunConfig

    try:
        return RunConfig(
            model=args.model, dataset=args.dataset, optimizer=args.optimizer, lr=args.lr, beta1=args.beta1,
            beta2=args.beta2, eps=args.eps, bias_correction=args.bias_correction, schedule=args.schedule,
            batch_size=args.batch_size, epochs=args.epochs, max_steps=args.max_steps, seed=args.seed,
            log_every=args.log_every, train_limit=args.train_limit, test_limit=args.test_limit,
            validation_size=args.validation_size, eval_train_limit=args.eval_train_limit, device=args.device,
            deterministic=not args.nondeterministic, threads=args.threads, data_root=args.data_root,
            download=False if args.offline else None, fallback=not args.no_fallback,
            accept_unpinned_data=args.accept_unpinned_data, optimizer_kwargs=dict(args.opt))
    except (TypeError, ValueError) as exc:
        raise UsageError(f"invalid configuration: {exc}") from None


def _check_optimizer(config) -> None:
    """Build the optimizer on a stand-in parameter, so that a combination it refuses (a
    schedule or a bias correction it does not have, an --opt that a field sets) is a usage
    error before any data is loaded."""
    import torch

    from .optimizers import make_optimizer

    try:
        make_optimizer(config.optimizer, [torch.nn.Parameter(torch.zeros(1))], lr=config.lr, beta1=config.beta1,
                       beta2=config.beta2, eps=config.eps, bias_correction=config.bias_correction,
                       schedule=config.schedule, extra=config.optimizer_kwargs)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--optimizer {config.optimizer} with these options: {exc}") from None


def _check_folders(**folders) -> None:
    from .training import check_writable

    for option, folder in folders.items():
        try:
            check_writable(folder, "--" + option.replace("_", "-"))
        except ValueError as exc:
            raise UsageError(str(exc)) from None


def _cmd_run(args) -> int:
    from .results import command_line
    from .training import RunInterrupted, result_path, train

    config = _config_from(args)
    _check_optimizer(config)
    ckpt_dir = args.checkpoint_dir or str(Path("results") / "scratch" / "checkpoints" / args.experiment)
    _check_folders(out=args.out, checkpoint_dir=ckpt_dir)
    out = result_path(args.out, config)
    try:
        result = train(config, out_dir=args.out, checkpoint_dir=ckpt_dir, resume=not args.fresh,
                       keep_checkpoint=args.keep_checkpoint, stop_after=args.stop_after,
                       progress=not args.no_progress, experiment=args.experiment, command=command_line(),
                       force=args.force)
    except RunInterrupted as stop:
        if _is_main_rank():
            print(f"stopped after step {stop.step}; run the same command again to resume from {stop.checkpoint}")
        return 3
    if not _is_main_rank():
        return 0
    if result.get("reused"):
        print(f"{out} holds this very run (same configuration, data and threads); nothing to do. "
              f"--force runs it again.")
        return 0
    f, world = result["final"], result["distributed"]["world_size"]
    val = f" val acc {f['val_acc']:.4f}," if f.get("val_acc") is not None else ""
    print(f"{config.run_id}: data {result['dataset']['train']['name']},{val} test acc {f['test_acc']:.4f}, "
          f"test loss {f['test_loss']}, {result['wall_time_s']:.1f} s on {result['environment']['device']}"
          f"{' x' + str(world) if world > 1 else ''} -> {out}")
    return 0


def _grid_spec(args):
    from .grid import PRESETS

    if not args.preset:
        raise UsageError("grid needs --preset NAME; `presets` lists them")
    if args.preset not in PRESETS:
        raise UsageError(f"argument --preset: unknown preset {args.preset!r}; choose from {sorted(PRESETS)}")
    spec = PRESETS[args.preset]
    base, axes = {}, {}
    for name, value in (("epochs", args.epochs), ("max_steps", args.max_steps), ("dataset", args.dataset)):
        if value is not None:
            base[name] = value
    base.update(device=args.device, deterministic=not args.nondeterministic, data_root=args.data_root,
                accept_unpinned_data=args.accept_unpinned_data)
    if args.offline:
        base["download"] = False
    for name, value in (("seed", args.seeds), ("lr", args.lrs), ("beta2", args.beta2s),
                        ("optimizer", args.optimizers), ("bias_correction", args.bias_correction)):
        if value is not None:
            axes[name] = value
    return spec.with_overrides(base, axes)


def _cmd_grid(args) -> int:
    from .grid import expand, run_grid
    from .results import command_line

    spec = _grid_spec(args)
    try:
        configs = expand(spec)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"invalid grid: {exc}") from None
    for config in configs:
        _check_optimizer(config)
    configs = _shard_of(configs, args.shard)
    out = args.out or spec.default_out
    if args.list:
        for c in configs:
            print(c.run_id)
        print(f"{len(configs)} runs -> {out}")
        return 0
    ckpt_dir = args.checkpoint_dir or str(Path("results") / "scratch" / "checkpoints" / spec.name)
    _check_folders(out=out, checkpoint_dir=ckpt_dir)
    summary = run_grid(configs, out, checkpoint_dir=ckpt_dir, workers=args.workers, threads=args.threads,
                       experiment=spec.name, command=command_line(), time_budget_s=args.time_budget,
                       progress=not args.no_progress, fresh=args.fresh, batched=args.batched,
                       max_batch_runs=args.max_batch_runs)
    return 1 if summary["failed"] or summary["interrupted"] else 0


# ----------------------------------------------------------------------------- shards, Slurm

def _shard(text: str):
    from .slurm import parse_shard

    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_shard_option(g: argparse.ArgumentParser) -> None:
    g.add_argument("--shard", type=_shard, default=None, metavar="I/N",
                   help="run only shard I of N: the runs at positions I, I+N, I+2N, ... of the grid")


def _shard_of(configs: list, shard) -> list:
    from .slurm import select_shard

    return select_shard(configs, shard)


def _add_slurm(s: argparse.ArgumentParser) -> None:
    from .slurm import add_slurm_arguments

    add_slurm_arguments(s, _int_at_least)


def _cmd_slurm(args) -> int:
    from .slurm import slurm_command

    def grid_runs(grid_argv: list[str]) -> int:
        """The number of runs of ``grid GRID_ARGV``, the options checked as `grid` checks them."""
        from .grid import expand

        complaint = io.StringIO()
        try:
            with contextlib.redirect_stderr(complaint):
                grid = build_parser().parse_args(["grid", *grid_argv])
        except SystemExit:
            why = (complaint.getvalue().strip().splitlines()[-1:] or [""])[0].split("error: ", 1)[-1]
            raise UsageError(f"the grid options {grid_argv[2:]!r} are not valid options of `grid` ({why})") from None
        return len(expand(_grid_spec(grid)))

    try:
        return slurm_command(args, grid_runs)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _cmd_summarize(args) -> int:
    from .results import best_configurations, format_table, load_results, summary_table, table_columns

    results = load_results(*args.folders)
    if not results:
        print(f"no result files under {args.folders}", file=sys.stderr)
        return 1
    by = [b.strip() for b in args.by.split(",") if b.strip()]
    metrics = list(dict.fromkeys([args.metric, "val_acc", "test_acc", "test_loss", "train_loss"]))
    rows = summary_table(results, by=by, metrics=metrics,
                         warn=lambda message: print(f"warning: {message}", file=sys.stderr))
    if args.best:
        per = [p for p in ("model", "dataset", "bias_correction", "optimizer") if p in by]
        try:
            rows = best_configurations(rows, per=per, metric=args.select_on)
        except ValueError as exc:
            print(f"error: --best: {exc}", file=sys.stderr)
            return 1
        print(f"best configuration per {', '.join(per)}, selected on {args.select_on}; test metrics of the "
              f"selected configurations", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(rows, indent=1, default=list))
    else:
        print(format_table(rows, table_columns(rows, by), metric_columns=metrics))
    return 0


def _cmd_presets(args) -> int:
    from .grid import PRESETS, expand

    for name, spec in PRESETS.items():
        print(f"{name:18s} {len(expand(spec)):4d} runs  -> {spec.default_out}\n{'':18s} {spec.description}")
    return 0


def _cmd_data(args) -> int:
    import warnings

    from .data import DatasetFormatError, DatasetUnavailableError, load_train_test

    unknown = [n for n in args.names if n not in _datasets()]
    if unknown:
        raise UsageError(f"argument names: {unknown} are not data sets; choose from {_datasets()}")
    for name in args.names:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            try:
                train, test = load_train_test(name, root=args.data_root, download=False if args.offline else None,
                                              accept_unpinned=args.accept_unpinned_data or None)
            except (DatasetUnavailableError, DatasetFormatError) as exc:
                print(f"{name:14s} -> unavailable: {exc}")
                continue
        print(f"{name:14s} -> {train.name}: {len(train):,} train / {len(test):,} test, {train.input_shape}, "
              f"from {train.source}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run a command; a bad option value exits with status 2 (usage), a file or data problem
    with status 1, each with a message that names what to change."""
    from .data import DatasetFormatError, DatasetUnavailableError
    from .results import ResultFileError
    from .training import CheckpointError

    parser = build_parser()
    args = parser.parse_args(argv)
    handler = {"run": _cmd_run, "grid": _cmd_grid, "summarize": _cmd_summarize, "presets": _cmd_presets,
               "data": _cmd_data, "slurm": _cmd_slurm}[args.command]
    try:
        return handler(args)
    except UsageError as exc:
        parser.error(f"{args.command}: {exc}")
    except (CheckpointError, ResultFileError, DatasetFormatError, DatasetUnavailableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
