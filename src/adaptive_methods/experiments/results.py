"""Result files: one JSON file per run, written atomically, and the tables made from them.

A result file holds the metrics logged during the run and everything needed to say how it
was made: the full configuration, the data set really loaded, the optimizer class that
ran, the command line, the git commit, the library versions, the device and the wall time.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

__all__ = [
    "SCHEMA",
    "ResultFileError",
    "read_result",
    "differing_fields",
    "atomic_write_bytes",
    "atomic_write_json",
    "environment_info",
    "git_info",
    "load_results",
    "group_results",
    "summary_table",
    "best_configurations",
    "table_columns",
    "SELECTION_METRICS",
    "format_table",
    "mean_curve",
    "tune",
    "paired_differences",
]

SCHEMA = "adaptive-methods/experiment-result/2"
#: result files written before runs had an identity and a validation split (still readable)
OLD_SCHEMAS = ("adaptive-methods/experiment-result/1",)
_REPO = Path(__file__).resolve().parents[3]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a reader (or a crash) never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, torch.Tensor) and obj.numel() == 1:
        return obj.item()
    raise TypeError(f"cannot write {type(obj).__name__} to a result file")


def atomic_write_json(path: str | os.PathLike, obj) -> Path:
    text = json.dumps(obj, indent=1, sort_keys=False, default=_json_default, allow_nan=False)
    return atomic_write_bytes(path, (text + "\n").encode())


def git_info(repo: str | os.PathLike | None = None) -> dict:
    """``{"commit": sha or "uncommitted", "dirty": bool or None}`` of the package's checkout."""
    repo = Path(repo) if repo is not None else _REPO
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                                timeout=20)
        if commit.returncode != 0:
            return {"commit": "uncommitted", "dirty": None}
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                                capture_output=True, text=True, timeout=20)
        return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": "uncommitted", "dirty": None}


def environment_info(device: torch.device) -> dict:
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
    else:
        info["device_name"] = _cpu_name()
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# --------------------------------------------------------------------------- reading

class ResultFileError(ValueError):
    """A result file that cannot be read (truncated, not JSON, not a result).

    The message names the file and the remedy (delete it, or run its configuration again).
    A ``ValueError``.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> with open(f"{folder.name}/half.json", "w") as file:
    ...     _ = file.write('{"schema": "adaptive-methods/exp')
    >>> try:
    ...     load_results(folder.name)
    ... except ResultFileError as error:
    ...     print(str(error).split(": ", 1)[1][:26])
    not a readable JSON file (
    >>> folder.cleanup()
    """


def read_result(path: str | os.PathLike) -> dict:
    """One result file; a broken one raises :class:`ResultFileError` naming it and the remedy."""
    path = Path(path)
    remedy = "delete it (or run with --force) to run it again"
    try:
        obj = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultFileError(f"{path}: not a readable result file ({type(exc).__name__}: {exc}); {remedy}") from exc
    if not isinstance(obj, dict) or obj.get("schema") not in (SCHEMA, *OLD_SCHEMAS):
        raise ResultFileError(f"{path}: not a result file of this package (schema "
                              f"{obj.get('schema') if isinstance(obj, dict) else None!r}, expected {SCHEMA!r}); {remedy}")
    missing = [k for k in ("run_id", "config", "final", "metrics") if k not in obj]
    if missing:
        raise ResultFileError(f"{path}: result file lacks {', '.join(missing)}; {remedy}")
    return obj


def load_results(*folders: str | os.PathLike) -> list[dict]:
    """Every result file under the folders, sorted by experiment and run id.

    The folders are searched recursively for ``*.json``; JSON files of another schema are
    skipped. Each result gets ``"_path"``, the file it was read from.

    Parameters
    ----------
    *folders : str or os.PathLike
        Folders of result files (those that
        :func:`~adaptive_methods.experiments.training.train` and a grid write).

    Returns
    -------
    list of dict
        The results, as :func:`read_result` reads them.

    Raises
    ------
    ResultFileError
        If a ``*.json`` file is not readable JSON, or is a result file that lacks a part.

    Examples
    --------
    >>> import json, tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> for run_id in ("b", "a"):
    ...     result = {"schema": SCHEMA, "experiment": "demo", "run_id": run_id,
    ...               "config": {}, "final": {}, "metrics": {}}
    ...     with open(f"{folder.name}/{run_id}.json", "w") as file:
    ...         json.dump(result, file)
    >>> with open(f"{folder.name}/notes.json", "w") as file:  # not a result: skipped
    ...     json.dump({"note": "hello"}, file)
    >>> [r["run_id"] for r in load_results(folder.name)]
    ['a', 'b']
    >>> folder.cleanup()
    """
    out = []
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.json")):
            try:
                obj = json.loads(path.read_text())
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ResultFileError(f"{path}: not a readable JSON file ({type(exc).__name__}: {exc}); delete it "
                                      f"or run its configuration again") from exc
            if isinstance(obj, dict) and obj.get("schema") in (SCHEMA, *OLD_SCHEMAS):
                obj = read_result(path)
                obj["_path"] = str(path)
                out.append(obj)
    return sorted(out, key=lambda r: (r["experiment"], r["run_id"]))


_KEY_FIELDS = ("model", "dataset", "optimizer", "lr", "beta1", "beta2", "bias_correction", "schedule", "eps")
# what the optimizer really ran, read back from it (schema 2); shown under these names
_RAN = {"ran.class": ("optimizer", "class"), "ran.schedule": ("optimizer", "schedule"),
        "ran.bias_correction": ("optimizer", "bias_correction")}
_NEVER_GROUPED = ("seed", "device", "threads", "data_root", "download", "checkpoint_every", "accept_unpinned_data")


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def _value(result: dict, name: str):
    if name == "dataset":
        return result["dataset"]["train"]["name"]
    if name == "data_sha256":
        return _hashable(result.get("identity", {}).get("data")) or _hashable(
            sorted(f["sha256"] for f in result["dataset"]["train"].get("files", [])))
    if name in ("threads", "device_type", "world_size") and "identity" in result:
        return result["identity"][name]
    if name.startswith("optimizer_kwargs.") and "optimizer_kwargs" in result["config"]:
        return _hashable(result["config"]["optimizer_kwargs"].get(name.split(".", 1)[1]))
    if name in _RAN:
        section, key = _RAN[name]
        return _hashable(result.get(section, {}).get(key))
    if name.startswith("ran.group"):
        index, key = name[len("ran.group"):].split(".", 1)
        groups = result.get("optimizer", {}).get("param_groups") or []
        return _hashable(groups[int(index)].get(key)) if int(index) < len(groups) else None
    if name in result["config"]:
        return _hashable(result["config"][name])
    if name in result["final"]:
        return result["final"][name]
    raise KeyError(f"result {result['run_id']} has no field {name!r}")


def _candidate_fields(results: Sequence[dict]) -> list[str]:
    names = []
    for r in results:
        groups = r.get("optimizer", {}).get("param_groups") or []
        ran = [f"ran.group{i}.{k}" for i, g in enumerate(groups) for k in g]
        for k in list(r["config"]) + ["data_sha256", "threads", "device_type", "world_size", *_RAN, *ran]:
            if k == "optimizer_kwargs":
                names += [f"optimizer_kwargs.{key}" for key in r["config"][k]]
            elif k not in _NEVER_GROUPED and k not in names:
                names.append(k)
    return list(dict.fromkeys(names))


def differing_fields(results: Sequence[dict]) -> list[str]:
    """Every configuration field (and what ran: data hashes, threads, the optimizer's
    hyperparameters read back) whose value is not the same in all results, the seed aside."""
    results = list(results)
    out = []
    for name in _candidate_fields(results):
        values = set()
        for r in results:
            try:
                values.add(_value(r, name))
            except KeyError:
                values.add(None)
        if len(values) > 1:
            out.append(name)
    return out


def group_results(results: Iterable[dict], by: Sequence[str] = _KEY_FIELDS, *,
                  warn=None) -> dict[tuple, list[dict]]:
    """Results grouped by the ``by`` fields and by every other field that differs between
    them (so runs of different configurations are never merged), the seed aside. The keys
    are tuples of the ``by`` fields' values, followed by the other differing fields' values.
    ``warn(message)`` is called for every group in which a seed occurs twice."""
    results = list(results)
    extra = [f for f in differing_fields(results) if f not in by]
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        key = tuple(_value(r, k) for k in by) + tuple(_value(r, k) for k in extra)
        groups.setdefault(key, []).append(r)
    for key, group in groups.items():
        seeds = [int(r["config"]["seed"]) for r in group]
        if len(set(seeds)) < len(seeds):
            message = (f"seeds repeat within the group {dict(zip(list(by) + extra, key))}: {sorted(seeds)}; the "
                       f"same run was made twice (files {sorted(r.get('_path', r['run_id']) for r in group)})")
            (warn or _warn)(message)
    return groups


def _warn(message: str) -> None:
    import warnings

    warnings.warn(message, stacklevel=3)


def _stats(values: list[float]) -> dict:
    arr = np.asarray(values, dtype=float)
    return {
        "mean": float(arr.mean()),
        "std": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
        "min": float(arr.min()),
        "max": float(arr.max()),
        "n": int(len(arr)),
    }


def _final(result: dict, metric: str) -> float:
    """A final metric as a number: a diverged loss (null) is inf, a metric the run did not
    record (no validation split) is NaN."""
    if metric not in result["final"]:
        return math.nan
    value = result["final"][metric]
    if value is None:
        return math.nan if metric.endswith("acc") else math.inf
    return float(value)


def summary_table(results: Iterable[dict], by: Sequence[str] = _KEY_FIELDS,
                  metrics: Sequence[str] = ("test_acc", "test_loss", "train_loss"), *, warn=None) -> list[dict]:
    """One row per configuration, with statistics over its seeds of each final metric.

    Runs are grouped by the ``by`` fields and by every other field that differs between
    the results (:func:`group_results`), so runs of different configurations are never
    merged. A run that diverged (its loss became non-finite, stored as ``null``) enters with
    loss ``inf`` and the accuracy it really had, and the row counts it under
    ``"diverged"``, so that a mean never hides a failed seed; a metric a run did not
    record (no validation split) enters as NaN.

    Parameters
    ----------
    results : iterable of dict
        Results, as :func:`load_results` gives them.
    by : sequence of str, default: the fields that name a configuration
        Configuration fields to group by; the default is ``model``, ``dataset`` (the name
        of the data set that was loaded), ``optimizer``, ``lr``, ``beta1``, ``beta2``,
        ``bias_correction``, ``schedule`` and ``eps``.
    metrics : sequence of str, default ("test_acc", "test_loss", "train_loss")
        Final metrics (keys of ``result["final"]``) to summarise.
    warn : callable or None, default None
        Called with a message for every group in which a seed occurs twice; None: a
        ``UserWarning``.

    Returns
    -------
    list of dict
        One row per group: the ``by`` fields, the other differing fields, ``"seeds"``,
        each metric as ``{"mean", "std", "min", "max", "n"}`` and ``"diverged"``.

    Raises
    ------
    KeyError
        If a ``by`` field is neither a configuration field nor a final metric of a result.

    Examples
    --------
    Two seeds of Adam and one of AMSGrad, as minimal hand-made results:

    >>> def run(optimizer, seed, test_acc):
    ...     config = dict(model="logreg", dataset="mnist", optimizer=optimizer, lr=0.01,
    ...                   beta1=0.9, beta2=0.999, bias_correction=True,
    ...                   schedule="inv_sqrt", eps=1e-8, seed=seed)
    ...     return dict(run_id=f"{optimizer}-{seed}", config=config,
    ...                 dataset={"train": {"name": "MNIST"}},
    ...                 final=dict(test_acc=test_acc, test_loss=0.3, train_loss=0.3))
    >>> runs = [run("adam", 0, 0.91), run("adam", 1, 0.93), run("amsgrad", 0, 0.92)]
    >>> rows = summary_table(runs, by=("optimizer", "lr"), metrics=("test_acc",))
    >>> [(r["optimizer"], r["seeds"], round(r["test_acc"]["mean"], 3)) for r in rows]
    [('adam', [0, 1], 0.92), ('amsgrad', [0], 0.92)]
    """
    results = list(results)
    columns = list(by) + [f for f in differing_fields(results) if f not in by]
    rows = []
    for key, group in group_results(results, by, warn=warn).items():
        row = dict(zip(columns, key))
        row["seeds"] = sorted(int(r["config"]["seed"]) for r in group)
        for m in metrics:
            row[m] = _stats([_final(r, m) for r in group])
        row["diverged"] = sum(bool(r["final"].get("diverged")) for r in group)
        rows.append(row)
    return rows


def table_columns(rows: list[dict], by: Sequence[str]) -> list[str]:
    """The ``by`` columns, then the other configuration columns that :func:`summary_table` added."""
    fields = [k for k in (rows[0] if rows else {}) if k not in ("seeds", "diverged") and not isinstance(rows[0][k], dict)]
    return list(by) + [k for k in fields if k not in by]


#: the metrics a model may be selected on: never the test split's
SELECTION_METRICS = ("val_acc", "val_loss", "train_loss", "train_acc")


def best_configurations(rows: list[dict], *, per: Sequence[str] = ("optimizer",), metric: str = "val_acc",
                        maximize: bool | None = None) -> list[dict]:
    """For each value of the ``per`` fields, the row with the best mean ``metric``.

    Selecting on the test split is refused: the test metrics of the selected rows are then
    an estimate of new data, not the maximum of noisy values. Rows whose ``metric`` is NaN
    (runs without a validation split) are passed over.

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`summary_table` that summarise ``metric``.
    per : sequence of str, default ("optimizer",)
        The fields that each get their own best row (``("optimizer", "bias_correction")``
        picks one per optimizer and bias correction).
    metric : {"val_acc", "val_loss", "train_loss", "train_acc"}, default "val_acc"
        A metric of :data:`SELECTION_METRICS`, never the test split's.
    maximize : bool or None, default None
        Whether larger is better; None: an accuracy is maximised, a loss minimised.

    Returns
    -------
    list of dict
        The best row of each value of ``per``, sorted by that value.

    Raises
    ------
    ValueError
        If ``metric`` is not a selection metric, or no row has it (runs made without a
        validation split).

    Examples
    --------
    >>> rows = [
    ...     {"optimizer": "adam", "lr": 0.01, "val_acc": {"mean": 0.91}},
    ...     {"optimizer": "adam", "lr": 0.1, "val_acc": {"mean": 0.92}},
    ...     {"optimizer": "amsgrad", "lr": 0.01, "val_acc": {"mean": 0.92}},
    ...     {"optimizer": "amsgrad", "lr": 0.1, "val_acc": {"mean": 0.90}},
    ... ]
    >>> [(row["optimizer"], row["lr"]) for row in best_configurations(rows)]
    [('adam', 0.1), ('amsgrad', 0.01)]
    >>> best_configurations(rows, metric="test_acc")
    Traceback (most recent call last):
    ...
    ValueError: metric must be one of (...) (a selection never looks at the test split), ...
    """
    if metric not in SELECTION_METRICS:
        raise ValueError(f"metric must be one of {SELECTION_METRICS} (a selection never looks at the test split), "
                         f"got {metric!r}")
    if maximize is None:
        maximize = metric.endswith("acc")
    if rows and all(math.isnan(row[metric]["mean"]) for row in rows):
        raise ValueError(f"no result has {metric!r}: these runs were made without a validation split; select on "
                         f"train_loss, or run them again (a validation split is held out by default)")
    best: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[p] for p in per)
        value = row[metric]["mean"]
        if math.isnan(value):
            continue
        if key not in best or (value > best[key][metric]["mean"] if maximize else value < best[key][metric]["mean"]):
            best[key] = row
    return [best[k] for k in sorted(best, key=str)]


def _fmt(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def mean_curve(results: Sequence[dict], metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(steps, mean, min, max)`` of a logged metric over runs (seeds) logged at the same
    steps; a non-finite value (``null``) enters as NaN, so a diverged seed shows as a gap."""
    if not results:
        raise ValueError("results must hold at least one run, got none")
    steps = results[0]["metrics"]["step"]
    for r in results[1:]:
        if r["metrics"]["step"] != steps:
            raise ValueError(f"runs {results[0]['run_id']} and {r['run_id']} were logged at different steps")
    values = np.array([[np.nan if v is None else v for v in r["metrics"][metric]] for r in results], dtype=float)
    with np.errstate(all="ignore"):
        return np.asarray(steps), values.mean(0), values.min(0), values.max(0)


def tune(results: Iterable[dict], *, by: Sequence[str] = ("lr", "beta2"), metric: str = "train_loss",
         maximize: bool = False, **fixed) -> tuple[dict, list[dict]]:
    """The best setting of the ``by`` fields among the runs whose config matches ``fixed``
    (e.g. ``optimizer="adam", bias_correction=True``), judged by the mean over seeds of the
    final ``metric`` (one of :data:`SELECTION_METRICS`: never the test split's); returns
    ``(setting, runs of that setting)``."""
    if metric not in SELECTION_METRICS:
        raise ValueError(f"metric must be one of {SELECTION_METRICS} (a selection never looks at the test split), "
                         f"got {metric!r}")
    chosen = [r for r in results if all(r["config"][k] == v for k, v in fixed.items())]
    if not chosen:
        raise ValueError(f"no run matches {fixed}")
    best_key, best_value, groups = None, None, group_results(chosen, by)
    for key, group in groups.items():
        value = float(np.mean([_final(r, metric) for r in group]))
        if math.isnan(value):
            continue
        if maximize:
            value = -value
        if best_value is None or value < best_value:
            best_key, best_value = key, value
    if best_key is None:
        raise ValueError(f"no run matching {fixed} has {metric!r}")
    return dict(zip(by, best_key)), groups[best_key]


def paired_differences(results: Iterable[dict], metric: str = "test_acc", *, first: str = "adam",
                       second: str = "amsgrad", by: Sequence[str] = ("bias_correction", "lr", "beta2")) -> list[dict]:
    """Optimizer ``second`` against ``first``, configuration by configuration and seed by seed.

    Two runs are a pair when their configurations are equal in every field but the optimizer
    (same step size, beta2, bias correction, data, length, and the same seed, hence the same
    initialization and minibatches). One row per configuration that has pairs: the ``by``
    fields, ``first`` and ``second`` (the final ``metric`` over the paired seeds, as
    :func:`summary_table` gives it) and ``diff``, the statistics over seeds of
    ``second - first``: its standard deviation is the spread of the paired difference, which
    the seed-to-seed spread of each optimizer alone overstates when both move together.
    """
    runs: dict[str, dict[str, dict]] = {}
    for r in results:
        optimizer = r["config"]["optimizer"]
        if optimizer not in (first, second):
            continue
        rest = {k: v for k, v in r["config"].items() if k not in ("optimizer", "device", "threads", "data_root",
                                                                   "download", "checkpoint_every")}
        key = json.dumps(rest, sort_keys=True, default=str)
        if optimizer in runs.setdefault(key, {}):
            raise ValueError(f"two runs of {optimizer} with the same configuration: {r['run_id']} and "
                             f"{runs[key][optimizer]['run_id']}")
        runs[key][optimizer] = r
    rows: dict[tuple, dict] = {}
    for pair in runs.values():
        if len(pair) < 2:
            continue
        a, b = pair[first], pair[second]
        key = tuple(_hashable(a["config"][k]) for k in by)
        row = rows.setdefault(key, {**dict(zip(by, key)), "_a": [], "_b": [], "seeds": []})
        row["_a"].append(_final(a, metric))
        row["_b"].append(_final(b, metric))
        row["seeds"].append(int(a["config"]["seed"]))
    out = []
    for key in sorted(rows, key=str):
        row = rows[key]
        va, vb = row.pop("_a"), row.pop("_b")
        row[first], row[second] = _stats(va), _stats(vb)
        row["diff"] = _stats([y - x for x, y in zip(va, vb)])
        out.append(row)
    return out


def _metric_cell(stats: dict, metric: str, percent: Sequence[str]) -> str:
    scale, unit = (100.0, "%") if metric in percent else (1.0, "")
    digits = 2 if metric in percent else 4
    return f"{stats['mean'] * scale:.{digits}f} ± {stats['std'] * scale:.{digits}f}{unit} (n={stats['n']})"


def format_table(rows: list[dict], columns: Sequence[str], *, metric_columns: Sequence[str] = ("test_acc",),
                 percent: Sequence[str] = ("test_acc", "train_acc", "val_acc"), labels: dict | None = None,
                 fmt: str = "markdown") -> str:
    """A table, one row per configuration: the columns as they are, each metric as
    ``mean ± std (n=...)`` over seeds.

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`summary_table` (or :func:`best_configurations`).
    columns : sequence of str
        The fields shown as they are (a bool as on/off, a float in ``%g``).
    metric_columns : sequence of str, default ("test_acc",)
        The metrics shown as ``mean ± std (n=...)``.
    percent : sequence of str, default ("test_acc", "train_acc", "val_acc")
        The metrics shown in percent, with 2 decimals (the others with 4).
    labels : dict or None, default None
        Column headings by field name; a field without one is headed by its name.
    fmt : {"markdown", "html"}, default "markdown"
        The table's format.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``fmt`` is neither ``"markdown"`` nor ``"html"``.
    KeyError
        If a row lacks a column or a metric.

    Examples
    --------
    >>> rows = [{"optimizer": "adam", "bias_correction": True,
    ...          "test_acc": {"mean": 0.9123, "std": 0.0012, "n": 3}}]
    >>> print(format_table(rows, ["optimizer", "bias_correction"],
    ...                    labels={"bias_correction": "bias correction"}))
    | optimizer | bias correction | test_acc |
    |---|---|---|
    | adam | on | 91.23 ± 0.12% (n=3) |
    """
    if fmt not in ("markdown", "html"):
        raise ValueError(f"fmt must be 'markdown' or 'html', got {fmt!r}")
    labels = labels or {}
    head = [labels.get(c, c) for c in columns] + [labels.get(m, m) for m in metric_columns]
    body = [[_fmt(row[c]) for c in columns] + [_metric_cell(row[m], m, percent) for m in metric_columns]
            for row in rows]
    if fmt == "markdown":
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines)
    import html

    def tr(cells, tag):
        return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"

    return ("<table class=\"table\">\n<thead>" + tr(head, "th") + "</thead>\n<tbody>\n"
            + "\n".join(tr(cells, "td") for cells in body) + "\n</tbody>\n</table>")


def command_line() -> str:
    """The command that started this process, as a shell would show it."""
    import shlex

    argv = list(sys.argv)
    if argv and argv[0].endswith("__main__.py") and "adaptive_methods" in argv[0]:
        argv = ["python", "-m", "adaptive_methods.experiments"] + argv[1:]
    return shlex.join(argv)
