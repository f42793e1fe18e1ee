"""``python -m adaptive_methods.experiments``: run one configuration, run a grid, summarise.

Examples::

    python -m adaptive_methods.experiments run --model mlp --optimizer amsgrad --lr 1e-3 --out results/scratch/one
    python -m adaptive_methods.experiments grid --preset fashion-logreg --workers 2
    python -m adaptive_methods.experiments summarize results/fashion-mnist/logreg
    torchrun --nproc_per_node 2 -m adaptive_methods.experiments run --model mlp --out results/scratch/ddp
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]


def _float_list(text: str) -> list[float]:
    return [float(v) for v in text.replace(",", " ").split()]


def _kv(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads per process")
    p.add_argument("--data-root", default=None, help="folder with the data files (else ADAPTIVE_METHODS_DATA)")
    p.add_argument("--offline", action="store_true", help="never try to download")
    p.add_argument("--nondeterministic", action="store_true",
                   help="allow non-deterministic kernels (cudnn.benchmark) for speed on a GPU")
    p.add_argument("--checkpoint-dir", default=None, help="where checkpoints go (default results/scratch/checkpoints)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar / per-run lines")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m adaptive_methods.experiments",
                                     description="The experiments of 'On the Convergence of Adam and Beyond'.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="train one configuration")
    p.add_argument("--model", default="logreg", choices=["logreg", "mlp", "cifarnet"])
    p.add_argument("--dataset", default="fashion-mnist",
                   help="mnist, fashion-mnist, cifar10, mnist-subset or auto")
    p.add_argument("--optimizer", default="adam", help="adam, amsgrad, amsgrad-optax, ..., or torch.<name>")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.999)
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--no-bias-correction", action="store_true")
    p.add_argument("--schedule", default="constant", choices=["constant", "inv_sqrt"])
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--train-limit", type=int, default=None)
    p.add_argument("--test-limit", type=int, default=None)
    p.add_argument("--eval-train-limit", type=int, default=10000)
    p.add_argument("--no-fallback", action="store_true", help="fail instead of loading another data set")
    p.add_argument("--opt", action="append", type=_kv, default=[], metavar="KEY=VALUE",
                   help="extra optimizer argument (JSON value), e.g. --opt variant='\"paper\"'")
    p.add_argument("--out", required=True, help="folder for the result JSON file")
    p.add_argument("--experiment", default="single")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--force", action="store_true", help="run even if the result file exists")
    p.add_argument("--keep-checkpoint", action="store_true")
    p.add_argument("--stop-after", type=int, default=None, help="stop (checkpointed) after this many steps")
    _add_common(p)

    g = sub.add_parser("grid", help="run a preset grid (skips runs whose result exists)")
    g.add_argument("--preset", required=False, help="a name from `presets`")
    g.add_argument("--list", action="store_true", help="list the runs and exit")
    g.add_argument("--out", default=None, help="results folder (default: the preset's)")
    g.add_argument("--workers", type=int, default=1)
    g.add_argument("--time-budget", type=float, default=None, help="start no run after this many seconds")
    g.add_argument("--epochs", type=int, default=None)
    g.add_argument("--max-steps", type=int, default=None)
    g.add_argument("--seeds", type=int, nargs="+", default=None)
    g.add_argument("--lrs", type=float, nargs="+", default=None)
    g.add_argument("--beta2s", type=float, nargs="+", default=None)
    g.add_argument("--optimizers", nargs="+", default=None)
    g.add_argument("--bias-correction", nargs="+", choices=["on", "off"], default=None)
    g.add_argument("--dataset", default=None)
    _add_common(g)

    s = sub.add_parser("summarize", help="tables from result files")
    s.add_argument("folders", nargs="+")
    s.add_argument("--by", default="model,dataset,optimizer,lr,beta2,bias_correction",
                   help="comma-separated fields that define a configuration")
    s.add_argument("--metric", default="test_acc")
    s.add_argument("--best", action="store_true", help="only the best configuration per optimizer (and bias correction)")
    s.add_argument("--format", choices=["markdown", "json"], default="markdown")

    sub.add_parser("presets", help="list the grid presets")

    d = sub.add_parser("data", help="show which data set each name loads here")
    d.add_argument("names", nargs="*", default=["mnist", "fashion-mnist", "cifar10", "mnist-subset", "auto"])
    d.add_argument("--data-root", default=None)
    d.add_argument("--offline", action="store_true")
    return parser


def _is_main_rank() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _cmd_run(args) -> int:
    from .training import RunConfig, RunInterrupted, result_path, train
    from .results import command_line

    config = RunConfig(
        model=args.model, dataset=args.dataset, optimizer=args.optimizer, lr=args.lr, beta1=args.beta1,
        beta2=args.beta2, eps=args.eps, bias_correction=not args.no_bias_correction, schedule=args.schedule,
        batch_size=args.batch_size, epochs=args.epochs, max_steps=args.max_steps, seed=args.seed,
        log_every=args.log_every, train_limit=args.train_limit, test_limit=args.test_limit,
        eval_train_limit=args.eval_train_limit, device=args.device, deterministic=not args.nondeterministic,
        threads=args.threads, data_root=args.data_root, download=False if args.offline else None,
        fallback=not args.no_fallback, optimizer_kwargs=dict(args.opt))
    out = result_path(args.out, config)
    if out.is_file() and not args.force:
        existing = json.loads(out.read_text())
        same = RunConfig.from_dict(existing["config"]).identity() == config.identity()
        if same:
            if _is_main_rank():
                print(f"{out} exists (same configuration); nothing to do. --force runs it again.")
            return 0
        print(f"{out} exists with another configuration; use --force or another --out", file=sys.stderr)
        return 2
    ckpt_dir = args.checkpoint_dir or str(Path("results") / "scratch" / "checkpoints" / args.experiment)
    try:
        result = train(config, out_dir=args.out, checkpoint_dir=ckpt_dir, resume=not args.fresh,
                       keep_checkpoint=args.keep_checkpoint, stop_after=args.stop_after,
                       progress=not args.no_progress, experiment=args.experiment, command=command_line())
    except RunInterrupted as stop:
        if _is_main_rank():
            print(f"stopped after step {stop.step}; run the same command again to resume from {stop.checkpoint}")
        return 3
    if _is_main_rank():
        f = result["final"]
        print(f"{config.run_id}: data {result['dataset']['train']['name']}, test acc {f['test_acc']:.4f}, "
              f"test loss {f['test_loss']}, {result['wall_time_s']:.1f} s on {result['environment']['device']}"
              f"{' x' + str(result['distributed']['world_size']) if result['distributed']['world_size'] > 1 else ''}"
              f" -> {out}")
    return 0


def _cmd_grid(args) -> int:
    from .grid import PRESETS, expand, run_grid
    from .results import command_line

    if not args.preset:
        print("grid needs --preset NAME; `presets` lists them", file=sys.stderr)
        return 2
    if args.preset not in PRESETS:
        print(f"unknown preset {args.preset!r}; choose from {sorted(PRESETS)}", file=sys.stderr)
        return 2
    spec = PRESETS[args.preset]
    base, axes = {}, {}
    for name, value in (("epochs", args.epochs), ("max_steps", args.max_steps), ("dataset", args.dataset)):
        if value is not None:
            base[name] = value
    base.update(device=args.device, deterministic=not args.nondeterministic, data_root=args.data_root)
    if args.offline:
        base["download"] = False
    for name, value in (("seed", args.seeds), ("lr", args.lrs), ("beta2", args.beta2s),
                        ("optimizer", args.optimizers)):
        if value is not None:
            axes[name] = value
    if args.bias_correction is not None:
        axes["bias_correction"] = [v == "on" for v in args.bias_correction]
    spec = spec.with_overrides(base, axes)
    configs = expand(spec)
    out = args.out or spec.default_out
    if args.list:
        for c in configs:
            print(c.run_id)
        print(f"{len(configs)} runs -> {out}")
        return 0
    summary = run_grid(configs, out, checkpoint_dir=args.checkpoint_dir, workers=args.workers, threads=args.threads,
                       experiment=spec.name, command=command_line(), time_budget_s=args.time_budget,
                       progress=not args.no_progress)
    return 1 if summary["failed"] else 0


def _cmd_summarize(args) -> int:
    from .results import best_configurations, format_table, load_results, summary_table

    results = load_results(*args.folders)
    if not results:
        print(f"no result files under {args.folders}", file=sys.stderr)
        return 1
    by = [b.strip() for b in args.by.split(",") if b.strip()]
    metrics = [args.metric] + [m for m in ("test_acc", "test_loss", "train_loss") if m != args.metric]
    rows = summary_table(results, by=by, metrics=metrics)
    if args.best:
        per = [p for p in ("model", "dataset", "bias_correction", "optimizer") if p in by]
        rows = best_configurations(rows, per=per, metric=args.metric, maximize=args.metric.endswith("acc"))
    if args.format == "json":
        print(json.dumps(rows, indent=1))
    else:
        print(format_table(rows, by, metric_columns=metrics))
    return 0


def _cmd_presets(args) -> int:
    from .grid import PRESETS, expand

    for name, spec in PRESETS.items():
        print(f"{name:18s} {len(expand(spec)):4d} runs  -> {spec.default_out}\n{'':18s} {spec.description}")
    return 0


def _cmd_data(args) -> int:
    import warnings

    from .data import DatasetUnavailableError, load_train_test

    for name in args.names:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            try:
                train, test = load_train_test(name, root=args.data_root, download=False if args.offline else None)
            except DatasetUnavailableError as exc:
                print(f"{name:14s} -> unavailable: {exc}")
                continue
        print(f"{name:14s} -> {train.name}: {len(train):,} train / {len(test):,} test, {train.input_shape}, "
              f"from {train.source}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {"run": _cmd_run, "grid": _cmd_grid, "summarize": _cmd_summarize, "presets": _cmd_presets,
               "data": _cmd_data}[args.command]
    return handler(args)
