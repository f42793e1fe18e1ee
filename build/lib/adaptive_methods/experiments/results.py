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
    "atomic_write_bytes",
    "atomic_write_json",
    "environment_info",
    "git_info",
    "load_results",
    "group_results",
    "summary_table",
    "best_configurations",
    "format_table",
    "mean_curve",
    "tune",
]

SCHEMA = "adaptive-methods/experiment-result/1"
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

def load_results(*folders: str | os.PathLike) -> list[dict]:
    """Every result file (``*.json`` with our schema) under the folders, sorted by run id."""
    out = []
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.json")):
            try:
                obj = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise ValueError(f"{path}: not a readable JSON result file: {exc}") from exc
            if isinstance(obj, dict) and obj.get("schema") == SCHEMA:
                obj["_path"] = str(path)
                out.append(obj)
    return sorted(out, key=lambda r: (r["experiment"], r["run_id"]))


_KEY_FIELDS = ("model", "dataset", "optimizer", "lr", "beta1", "beta2", "bias_correction", "schedule", "eps")


def _value(result: dict, name: str):
    if name == "dataset":
        return result["dataset"]["train"]["name"]
    if name in result["config"]:
        return result["config"][name]
    if name in result["final"]:
        return result["final"][name]
    raise KeyError(f"result {result['run_id']} has no field {name!r}")


def group_results(results: Iterable[dict], by: Sequence[str] = _KEY_FIELDS) -> dict[tuple, list[dict]]:
    """Results with equal ``by`` fields (all but the seed, by default) grouped together."""
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        groups.setdefault(tuple(_value(r, k) for k in by), []).append(r)
    return groups


def _stats(values: list[float]) -> dict:
    arr = np.asarray(values, dtype=float)
    return {
        "mean": float(arr.mean()),
        "std": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
        "min": float(arr.min()),
        "max": float(arr.max()),
        "n": int(len(arr)),
    }


def summary_table(results: Iterable[dict], by: Sequence[str] = _KEY_FIELDS,
                  metrics: Sequence[str] = ("test_acc", "test_loss", "train_loss")) -> list[dict]:
    """One row per configuration: the ``by`` fields and mean/std/min/max/n over seeds of
    each final metric. A run that diverged (its loss became non-finite, stored as ``null``)
    enters with loss ``inf`` and the accuracy it really had, and the row counts it under
    ``diverged``, so that a mean never hides a failed seed."""
    rows = []
    for key, group in group_results(results, by).items():
        row = dict(zip(by, key))
        row["seeds"] = sorted(int(r["config"]["seed"]) for r in group)
        for m in metrics:
            row[m] = _stats([math.inf if r["final"][m] is None else float(r["final"][m]) for r in group])
        row["diverged"] = sum(bool(r["final"].get("diverged")) for r in group)
        rows.append(row)
    return rows


def best_configurations(rows: list[dict], *, per: Sequence[str] = ("optimizer",), metric: str = "test_acc",
                        maximize: bool = True) -> list[dict]:
    """For each value of the ``per`` fields, the row with the best mean ``metric``."""
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
    final ``metric``; returns ``(setting, runs of that setting)``."""
    chosen = [r for r in results if all(r["config"][k] == v for k, v in fixed.items())]
    if not chosen:
        raise ValueError(f"no run matches {fixed}")
    best_key, best_value, groups = None, None, group_results(chosen, by)
    for key, group in groups.items():
        vals = [math.inf if r["final"][metric] is None else float(r["final"][metric]) for r in group]
        value = float(np.mean(vals))
        if maximize:
            value = -value
        if best_value is None or value < best_value:
            best_key, best_value = key, value
    return dict(zip(by, best_key)), groups[best_key]


def _metric_cell(stats: dict, metric: str, percent: Sequence[str]) -> str:
    scale, unit = (100.0, "%") if metric in percent else (1.0, "")
    digits = 2 if metric in percent else 4
    return f"{stats['mean'] * scale:.{digits}f} ± {stats['std'] * scale:.{digits}f}{unit} (n={stats['n']})"


def format_table(rows: list[dict], columns: Sequence[str], *, metric_columns: Sequence[str] = ("test_acc",),
                 percent: Sequence[str] = ("test_acc", "train_acc"), labels: dict | None = None,
                 fmt: str = "markdown") -> str:
    """A table, one row per configuration: the ``columns`` as they are, each metric as
    ``mean ± std (n)`` over seeds. ``fmt``: ``"markdown"`` or ``"html"``."""
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
