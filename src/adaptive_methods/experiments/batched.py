"""Many runs of a small model trained as one batched model.

The runs of a grid that share everything but the optimizer's hyperparameters and the seed
(same model, data, epochs, batch size, logging) are trained together: every parameter of the
model is stacked into one tensor of shape ``(seeds, settings, *shape)``, and grouped matrix
products compute every run's loss and gradient in one pass (:func:`_gradients`, the
backpropagation of the chain of linear layers that :mod:`.models` builds, written out
because ``torch.func``'s ``vmap`` of ``grad`` was the slower way on a CPU). A run with seed ``s`` starts from
the initialization and sees the minibatches of a sequential run with seed ``s``
(:func:`~.training.train`): the runs of one seed share their minibatches, so a step reads
one batch per seed and multiplies it by all the settings' weights at once.

The update is the package's optimizer's: each optimizer setting (class, step size, beta2,
bias correction, ...) gets the optimizer that :func:`~.optimizers.make_optimizer` builds
for a sequential run, over the views ``stacked[:, h]`` of its slice of the stacked
parameters (every update of Adam and AMSGrad is coordinate-wise, so one tensor holding a
parameter of several seeds is updated as the separate tensors would be). The settings that
:class:`~adaptive_methods.framework.stacked.StackedStep` covers (Adam's and AMSGrad's
compositions) are stepped by it, all at once, over the stacked tensors, each setting's
numbers broadcast over its slice: the same operations as their optimizers' own step, bit
for bit, with the state kept in those optimizers (as views). Any other setting steps its
own optimizer; the result's ``"batched"`` section says which update a run had. Metrics are logged
at the same steps, with the same definitions, as a sequential run; a run whose loss becomes
non-finite stops being recorded at that step, as a sequential run stops there.

Each run's result file is the one a sequential run writes (same schema, metrics and
identity, so :func:`~.training.is_done` treats them alike), plus a ``"batched"`` section.
``tests/test_experiments_batched.py`` checks, in float64, that the logged metrics and the
final parameters equal those of sequential runs to rtol 1e-6.

A batch writes one checkpoint (every parameter, every optimizer's state and every run's
logged metrics) at the first log step after every ``checkpoint_interval_s`` seconds, and on
SIGTERM or SIGINT (then it raises :class:`~.training.RunInterrupted`); the same batch
started again resumes from it and ends with the same numbers as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..framework.stacked import StackedStep, unsupported
from ..reproducibility import seed_everything
from .checkpoints import CheckpointError, Progress
from .config import RunConfig, differences
from .distributed import DistContext
from .models import build_model
from .optimizers import resolve_optimizer, step_size
from .results import atomic_write_bytes
from .training import (RunInterrupted, _build_optimizer, _epoch_order, _identity, _load_data, _Run, _result,
                       _utc_now, _write_result, check_writable, pixels, resolve_device, result_path)

__all__ = ["BATCHED_MODELS", "SWEPT_FIELDS", "batch_key", "split_batches", "train_batched", "batch_checkpoint_path"]

#: the models small enough that many copies train at once on a CPU
BATCHED_MODELS = ("logreg", "mlp")
#: the fields that may differ between the runs of one batch (the optimizer's and the seed)
SWEPT_FIELDS = ("optimizer", "lr", "beta1", "beta2", "eps", "bias_correction", "schedule", "optimizer_kwargs",
                "seed")
_SETTING_FIELDS = SWEPT_FIELDS[:-1]


def batch_key(config: RunConfig) -> str:
    """What the runs of one batch share: every identity field but the swept ones.

    Two configurations can train in one batch only when their keys are equal: the same
    model, data, length, batch size, logging and thread count; they may differ in the
    :data:`SWEPT_FIELDS`.

    Parameters
    ----------
    config : RunConfig
        A run.

    Returns
    -------
    str
        The shared fields as sorted JSON.

    Examples
    --------
    >>> from adaptive_methods.experiments import RunConfig
    >>> adam = RunConfig(optimizer="adam", lr=1e-3, seed=0)
    >>> batch_key(adam) == batch_key(adam.replace(optimizer="amsgrad", lr=1e-2, seed=3))
    True
    >>> batch_key(adam) == batch_key(adam.replace(epochs=2))
    False
    """
    shared = {k: v for k, v in config.identity().items() if k not in SWEPT_FIELDS}
    shared["threads"] = config.threads
    return json.dumps(shared, sort_keys=True)


def _setting(config: RunConfig) -> str:
    return json.dumps({k: getattr(config, k) for k in _SETTING_FIELDS}, sort_keys=True)


def split_batches(configs: list[RunConfig], max_runs: int | None = None) -> list[list[RunConfig]]:
    """The configurations as batches that :func:`train_batched` takes, in the order given.

    A batch is a rectangle: its runs share :func:`batch_key`, and every optimizer setting in
    it has the same seeds.

    Parameters
    ----------
    configs : list of RunConfig
        The runs, of models in :data:`BATCHED_MODELS`.
    max_runs : int or None, default None
        The most runs in a batch (>= 1). A batch too large is split by its seeds (whole
        seeds first, so that a grid stopped early has whole seeds done), or by its
        settings when even one seed has more runs than that. None: no cap.

    Returns
    -------
    list of list of RunConfig
        The batches; every configuration is in exactly one.

    Raises
    ------
    ValueError
        If ``max_runs`` is not a positive int or None.

    Examples
    --------
    >>> from adaptive_methods.experiments import GridSpec, expand
    >>> grid = expand(GridSpec("demo", base=dict(model="logreg"), axes=dict(
    ...     optimizer=["adam", "amsgrad"], lr=[0.01, 0.1], seed=[0, 1, 2])))
    >>> [len(batch) for batch in split_batches(grid)]
    [12]
    >>> [len(batch) for batch in split_batches(grid, max_runs=8)]  # two seeds, then one
    [8, 4]
    >>> [len(b) for b in split_batches(grid + [grid[0].replace(epochs=2)])]
    [12, 1]
    """
    if max_runs is not None and (isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 1):
        raise ValueError(f"max_runs must be a positive int or None, got {max_runs!r}")
    by_key: dict[str, dict[str, list[RunConfig]]] = {}
    for c in configs:
        by_key.setdefault(batch_key(c), {}).setdefault(_setting(c), []).append(c)
    batches = []
    for settings in by_key.values():
        by_seeds: dict[tuple, list[list[RunConfig]]] = {}
        for runs in settings.values():
            by_seeds.setdefault(tuple(r.seed for r in runs), []).append(runs)
        for seeds, rows in by_seeds.items():
            if max_runs is None or len(rows) * len(seeds) <= max_runs:
                batches.append([run for row in rows for run in row])
            elif len(rows) <= max_runs:  # whole settings, a few seeds at a time
                step = max_runs // len(rows)
                batches += [[run for row in rows for run in row[s0:s0 + step]] for s0 in range(0, len(seeds), step)]
            else:  # one seed at a time, and the settings in parts
                batches += [[row[s0] for row in rows[r0:r0 + max_runs]] for s0 in range(len(seeds))
                            for r0 in range(0, len(rows), max_runs)]
    return batches


def batch_checkpoint_path(checkpoint_dir, configs: list[RunConfig]) -> Path:
    """The file of a batch's checkpoint: named by its model, its size and its run ids.

    Parameters
    ----------
    checkpoint_dir : str or os.PathLike
        The checkpoint folder.
    configs : list of RunConfig
        The batch's runs (their order does not matter), at least one.

    Returns
    -------
    pathlib.Path
        ``checkpoint_dir/batch-<model>-<n>runs-<digest of the run ids>.pt``.

    Examples
    --------
    >>> from adaptive_methods.experiments import RunConfig
    >>> runs = [RunConfig(lr=0.01), RunConfig(lr=0.1)]
    >>> path = batch_checkpoint_path("checkpoints", runs)
    >>> path.name.startswith("batch-logreg-2runs-"), path.suffix
    (True, '.pt')
    >>> path == batch_checkpoint_path("checkpoints", runs[::-1])
    True
    """
    digest = hashlib.sha256("\n".join(sorted(c.run_id for c in configs)).encode()).hexdigest()[:16]
    return Path(checkpoint_dir) / f"batch-{configs[0].model}-{len(configs)}runs-{digest}.pt"


def _check_batch(configs) -> None:
    if not isinstance(configs, (list, tuple)) or not configs:
        raise ValueError(f"configs must be a non-empty list of RunConfig, got {configs!r}")
    for c in configs:
        if not isinstance(c, RunConfig):
            raise TypeError(f"configs must hold RunConfig objects, got {type(c).__name__}")
    if configs[0].model not in BATCHED_MODELS:
        raise ValueError(f"model {configs[0].model!r} cannot be batched; batched training takes "
                         f"{BATCHED_MODELS}")
    for c in configs:
        if not resolve_optimizer(c.optimizer).is_package:
            raise ValueError(f"optimizer {c.optimizer!r} is a torch.optim class; batched training takes the "
                             f"package's optimizers, whose schedule and bias correction are their own")
    ids = [c.run_id for c in configs]
    if len(set(ids)) < len(ids):
        raise ValueError(f"configs hold the same run twice: {sorted(i for i in set(ids) if ids.count(i) > 1)}")
    if len(split_batches(list(configs))) != 1:
        raise ValueError("configs are not one batch: they must differ only in "
                         f"{', '.join(SWEPT_FIELDS)}, with the same seeds for every optimizer setting "
                         "(split_batches makes batches)")


@dataclass
class _Setting:
    """One optimizer setting of the batch: its runs (one per seed) and their optimizer."""

    configs: list
    optimizer: torch.optim.Optimizer
    opt_info: dict
    views: dict
    #: None where the stacked step updates the setting, else why it steps on its own
    own_step: str | None = None


class _Stop:
    """Turns SIGTERM and SIGINT into a request to stop at the next step, after a checkpoint."""

    def __init__(self):
        self.requested = None
        self._old = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: signals stay as they are
                pass
        return self

    def _handle(self, signum, frame):
        self.requested = signum

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)


class _Batch:
    def __init__(self, configs: list[RunConfig], checkpoint_dir, session_start: float):
        self.session_start = session_start
        first = configs[0]
        self.device = resolve_device(first.device)
        if first.threads is not None:
            torch.set_num_threads(first.threads)
        self.data = _load_data(first)
        splits = (("train", self.data.train), ("validation", self.data.validation), ("test", self.data.test))
        self.x = {k: d.x.to(self.device) for k, d in splits if d is not None}
        self.y = {k: d.y.to(self.device) for k, d in splits if d is not None}
        rows: dict[str, list[RunConfig]] = {}
        for c in configs:
            rows.setdefault(_setting(c), []).append(c)
        self.seeds = [c.seed for c in next(iter(rows.values()))]
        self.model = build_model(first.model, self.data.train.input_shape, self.data.train.num_classes)
        self.model.to(self.device)
        inits = []
        for seed in self.seeds:
            seed_everything(seed, deterministic=first.deterministic)
            inits.append(build_model(first.model, self.data.train.input_shape, self.data.train.num_classes))
        names = [n for n, _ in self.model.named_parameters()]
        per_seed = {n: torch.stack([dict(m.named_parameters())[n].detach() for m in inits]) for n in names}
        # (settings, seeds, *shape); plain tensors, so that their views are leaves for the optimizers
        self.params = {n: per_seed[n].unsqueeze(1).repeat(1, len(rows), *([1] * (per_seed[n].dim() - 1))).to(self.device)
                       for n in names}
        self.settings = []
        for h, runs in enumerate(rows.values()):
            views = {n: self.params[n][:, h] for n in names}
            optimizer, controller, info = _build_optimizer(runs[0], list(views.values()))
            if controller is not None:
                raise ValueError(f"optimizer {runs[0].optimizer!r} is a torch.optim class; batched training "
                                 f"takes the package's optimizers, whose schedule is their own")
            self.settings.append(_Setting(runs, optimizer, info, views, unsupported(optimizer)))
        stacked = [None if s.own_step else s.optimizer for s in self.settings]
        self.stacked_step = StackedStep(stacked, list(self.params.values())) \
            if any(o is not None for o in stacked) else None
        self.configs = [c for s in self.settings for c in s.configs]
        self.ctx = DistContext()
        self.identities = [_identity(c, self.data, s.opt_info, self.device, 1)
                           for s in self.settings for c in s.configs]
        self.steps_per_epoch = math.ceil(len(self.data.train) / first.batch_size)
        self.total = first.epochs * self.steps_per_epoch if first.max_steps is None else min(
            first.epochs * self.steps_per_epoch, first.max_steps)
        self.n_eval_train = min(first.eval_train_limit or len(self.data.train), len(self.data.train))
        self.checkpoint = batch_checkpoint_path(checkpoint_dir, self.configs) if checkpoint_dir is not None else None
        self.config = first

        self.layers = _LAYERS[first.model]
        self.shape = (len(self.seeds), len(self.settings))
        # per run: its Progress, the flat index of the run being (h * seeds + s)
        self.progress = [Progress(started_at=_utc_now()) for _ in self.configs]
        self.loss_sum = torch.zeros(self.shape, dtype=torch.float64, device=self.device)
        self.frozen: dict[int, dict] = {}  # the parameters of a run at the step it diverged
        self.step = 0
        self.pending_count = 0  # minibatch samples since the last log point, not yet in loss_count
        self.grad_buffers = {f"{self.layers[0]}.weight": torch.empty_like(self.params[f"{self.layers[0]}.weight"])}
        self.prior_wall = 0.0
        self.resumed_at: list[int] = []
        self.last_checkpoint = time.perf_counter()

    def wall(self) -> float:
        return self.prior_wall + time.perf_counter() - self.session_start

    def active(self, i: int) -> bool:
        return self.progress[i].diverged_at is None

    # -- metrics -------------------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self, split: str, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean cross-entropy and accuracy of every run over a split, shape (seeds, settings)."""
        x_u8, y = self.x[split][:limit], self.y[split][:limit]
        sums = torch.zeros((3, *self.shape), dtype=torch.float64, device=self.device)
        size = self.config.eval_batch_size
        for start in range(0, len(y), size):
            xb, yb = pixels(x_u8[start:start + size]), y[start:start + size]
            # (seeds, settings, n, classes)
            out = _forward(self.params, self.layers, xb.flatten(1))[-1].transpose(-1, -2)
            losses = F.cross_entropy(out.reshape(-1, out.shape[-1]), yb.repeat(self.shape[0] * self.shape[1]),
                                     reduction="none").view(*self.shape, -1)
            sums[0] += losses.sum(-1).double()
            sums[1] += (out.argmax(-1) == yb).sum(-1).double()
            sums[2] += len(yb)
        return sums[0] / sums[2], sums[1] / sums[2]

    def log_point(self, alphas: list) -> None:
        self._add_pending_counts()
        train = self.evaluate("train", self.n_eval_train)
        val = self.evaluate("validation") if "validation" in self.x else None
        test = self.evaluate("test")
        wall = round(self.wall(), 3)
        seeds = self.shape[0]
        for i, progress in enumerate(self.progress):
            if not self.active(i):
                continue
            h, s = divmod(i, seeds)
            count = progress.loss_count
            batch_loss = _finite(float(self.loss_sum[s, h] / count)) if count > 0 else None
            values = dict(step=self.step, epoch=self.step / self.steps_per_epoch, alpha=alphas[h],
                          batch_loss=batch_loss, train_loss=_finite(float(train[0][s, h])),
                          train_acc=float(train[1][s, h]),
                          val_loss=None if val is None else _finite(float(val[0][s, h])),
                          val_acc=None if val is None else float(val[1][s, h]),
                          test_loss=_finite(float(test[0][s, h])), test_acc=float(test[1][s, h]), wall_time_s=wall)
            for key, value in values.items():
                progress.history.setdefault(key, []).append(value)
            progress.loss_count = 0
            progress.step = self.step
            diverged = batch_loss is None or values["train_loss"] is None or values["test_loss"] is None or (
                val is not None and values["val_loss"] is None)
            if self.step > 0 and diverged:
                progress.diverged_at = self.step
                self.frozen[i] = {n: p[s, h].clone() for n, p in self.params.items()}
        self.loss_sum.zero_()

    # -- training ------------------------------------------------------------------------

    def train_step(self) -> None:
        config = self.config
        epoch, pos = divmod(self.step, self.steps_per_epoch)
        if epoch != getattr(self, "_order_epoch", -1):
            self._orders = torch.stack([_epoch_order(s, epoch, len(self.data.train)) for s in self.seeds])
            self._orders, self._order_epoch = self._orders.to(self.device), epoch
        idx = self._orders[:, pos * config.batch_size:(pos + 1) * config.batch_size]  # (seeds, batch)
        # whole images by one index_select: the same bytes as x[idx], copied row by row
        x = pixels(self.x["train"].flatten(1).index_select(0, idx.reshape(-1)).view(*idx.shape, -1))
        y = self.y["train"][idx]
        grads, loss_sums = _gradients(self.params, self.layers, x, y, self.grad_buffers)
        if self.stacked_step is not None:
            self.stacked_step.step([grads[name] for name in self.params])
        for h, setting in enumerate(self.settings):
            if setting.own_step is None:
                continue
            for name, view in setting.views.items():
                view.grad = grads[name][:, h]
            setting.optimizer.step()
            for view in setting.views.values():
                view.grad = None
        self.loss_sum += loss_sums.double()
        # the active runs change only at log points: their sample counts are added there
        self.pending_count += idx.shape[1]
        self.step += 1

    def alphas(self) -> list:
        """alpha_t of every setting at the step just done."""
        return [step_size(s.optimizer, None, self.step) for s in self.settings]

    def _add_pending_counts(self) -> None:
        for i, progress in enumerate(self.progress):
            if self.active(i):
                progress.loss_count += self.pending_count
        self.pending_count = 0

    # -- checkpoints ---------------------------------------------------------------------

    def save_checkpoint(self) -> None:
        if self.checkpoint is None:
            return
        self._add_pending_counts()
        buf = io.BytesIO()
        torch.save({
            "format": "batched-1", "identities": self.identities, "run_ids": [c.run_id for c in self.configs],
            "step": self.step, "params": self.params,
            "optimizers": [s.optimizer.state_dict() for s in self.settings],
            "progress": [asdict(p) for p in self.progress], "loss_sum": self.loss_sum, "frozen": self.frozen,
            "wall_time_s": self.wall(), "resumed_at": self.resumed_at, "rng": torch.get_rng_state(),
        }, buf)
        atomic_write_bytes(self.checkpoint, buf.getvalue())
        self.last_checkpoint = time.perf_counter()

    def load_checkpoint(self) -> None:
        path = self.checkpoint
        remedy = "delete it, or start afresh with --fresh (train_batched(..., resume=False))"
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch.load raises many types for a truncated or foreign file
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            raise CheckpointError(f"checkpoint {path} is not readable ({type(exc).__name__}: {first}); {remedy}") \
                from exc
        if not isinstance(state, dict) or state.get("format") != "batched-1":
            raise CheckpointError(f"checkpoint {path} is not a checkpoint of a batch; {remedy}")
        if state["run_ids"] != [c.run_id for c in self.configs]:
            raise CheckpointError(f"checkpoint {path} holds other runs ({len(state['run_ids'])}, not this batch's "
                                  f"{len(self.configs)}); {remedy}")
        for recorded, wanted, config in zip(state["identities"], self.identities, self.configs):
            diff = differences(recorded, wanted)
            if diff:
                raise CheckpointError(f"checkpoint {path} holds another run {config.run_id}; it differs (recorded "
                                      f"-> this run) in " + "; ".join(diff) + f". {remedy}")
        for name, tensor in state["params"].items():
            self.params[name].copy_(tensor)
        for setting, opt_state in zip(self.settings, state["optimizers"]):
            setting.optimizer.load_state_dict(opt_state)
        if self.stacked_step is not None:
            self.stacked_step.link()  # the loaded states into the stacked buffers
        self.progress = [Progress(**p) for p in state["progress"]]
        self.loss_sum.copy_(state["loss_sum"])
        self.frozen = {int(k): v for k, v in state["frozen"].items()}
        self.step = state["step"]
        self.prior_wall = state["wall_time_s"]
        self.resumed_at = state["resumed_at"] + [self.step]
        torch.set_rng_state(state["rng"])

    # -- results -------------------------------------------------------------------------

    def results(self, experiment: str, command: str | None) -> list[dict]:
        out, models = [], []
        seeds = self.shape[0]
        batch_id = hashlib.sha256("\n".join(sorted(c.run_id for c in self.configs)).encode()).hexdigest()[:16]
        for i, (config, progress) in enumerate(zip(self.configs, self.progress)):
            h, s = divmod(i, seeds)
            setting = self.settings[h]
            model = build_model(config.model, self.data.train.input_shape, self.data.train.num_classes)
            final = self.frozen.get(i) or {n: p[s, h] for n, p in self.params.items()}
            with torch.no_grad():
                for name, param in model.named_parameters():
                    param.copy_(final[name])
            progress.prior_wall, progress.resumed_at = 0.0, list(self.resumed_at)
            run = _Run(config, self.ctx, self.device, self.data, self.x, self.y, model, model, setting.optimizer,
                       None, setting.opt_info, self.identities[i], None, self.total, self.steps_per_epoch,
                       self.n_eval_train, self.session_start)
            result = _result(run, progress, experiment, command)
            result["wall_time_s"] = round(self.wall(), 3)
            result["batched"] = {"batch_id": batch_id, "runs": len(self.configs), "settings": self.shape[1],
                                 "seeds": list(self.seeds), "note": "trained with the other runs of its batch "
                                 "as one batched model; wall_time_s is the batch's",
                                 "update": "stacked" if setting.own_step is None else
                                 f"its own optimizer ({setting.own_step})"}
            out.append(result)
            models.append(model)
        return out, models


#: each batched model as its chain of linear layers, with a ReLU between two of them (the
#: models of :mod:`.models`; the test compares the batched runs with runs of those modules)
_LAYERS = {"logreg": ("linear",), "mlp": ("hidden", "out")}


def _first_layer(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``W x^T`` of every run, shape (seeds, settings, out, n): ``x`` is (n, in), the same
    images for every run, or (seeds, n, in), each seed's minibatch; ``weight`` is
    (seeds, settings, out, in). One matrix product per seed (or one for all): the settings'
    weights one above the other are one (settings * out, in) matrix."""
    seeds, settings, n_out, n_in = weight.shape
    stacked = weight.reshape(seeds, -1, n_in)
    out = torch.matmul(stacked, x.T) if x.dim() == 2 else torch.bmm(stacked, x.transpose(1, 2))
    return out.view(seeds, settings, n_out, -1)


def _forward(params: dict, layers: tuple, x: torch.Tensor) -> list[torch.Tensor]:
    """The pre-activations of every layer (the last one: the logits) of every run, each of
    shape (seeds, settings, features, n): features by examples, the layout in which every
    product below reads and writes contiguous memory."""
    outs = []
    for k, name in enumerate(layers):
        weight, bias = params[f"{name}.weight"], params[f"{name}.bias"]
        z = _first_layer(x, weight) if k == 0 else torch.matmul(weight, torch.relu(outs[-1]))
        outs.append(z.add_(bias.unsqueeze(-1)))
    return outs


def _gradients(params: dict, layers: tuple, x: torch.Tensor, y: torch.Tensor,
               out: dict | None = None) -> tuple[dict, torch.Tensor]:
    """The gradient of every run's mean cross-entropy over its minibatch, by backpropagation
    written out with grouped matrix products, and every run's summed loss. ``x``: (seeds,
    batch, in), ``y``: (seeds, batch). ``out``: tensors to write the first layer's weight
    gradients into, by name (a tensor of a few megabytes allocated at every step costs its
    page faults again)."""
    outs = _forward(params, layers, x)
    logits = outs[-1]  # (seeds, settings, classes, batch)
    seeds, settings, classes, batch = logits.shape
    target = y.view(seeds, 1, 1, batch).expand(seeds, settings, 1, batch)
    # log_softmax as its kernel computes it, z - log(sum(exp(z))) with z = logits - max,
    # written out over the classes (dimension -2 here)
    # in place: the logits are not read again
    z = logits.sub_(logits.amax(-2, keepdim=True))
    picked = z.gather(-2, target)
    # exp leaves its vectorized path where its value is below the smallest normal number
    # (a diverging run's logits reach -1e3), and is then 15-40 times slower there: an
    # exp(z) at most cutoff = tiny * classes * batch (1e-35 in float32) is 0 instead, so
    # that no entry of the softmax or of d(loss)/d(logits) is subnormal. The sum it joins
    # is >= 1, so the loss does not move, and a weight's gradient moves by less than
    # batch * classes * tiny * max|x| (about 1e-34). z is clamped a little below
    # log(cutoff), whose exp is still normal, and threshold (ReLU's kernel, vectorized,
    # unlike a masked fill) zeroes every value <= cutoff
    cutoff = torch.finfo(z.dtype).tiny * classes * batch
    e = F.threshold_(z.clamp_(min=math.log(cutoff) - 1.0).exp_(), cutoff, 0.0)
    total = e.sum(-2, keepdim=True)
    loss_sums = (total.log() - picked).squeeze(-2).sum(-1)
    # d(mean loss)/d(logits) = (softmax - one-hot) / batch
    delta = e.div_(total).scatter_add_(-2, target, torch.full(target.shape, -1.0, dtype=logits.dtype))
    delta.mul_(1.0 / batch)
    grads, out = {}, out or {}
    for k in range(len(layers) - 1, -1, -1):
        name = layers[k]
        weight = f"{name}.weight"
        shape = params[weight].shape
        if k == 0:
            flat, buffer = delta.reshape(seeds, -1, batch), out.get(weight)  # (seeds, settings * out, batch)
            grads[weight] = (torch.bmm(flat, x) if buffer is None else
                             torch.bmm(flat, x, out=buffer.view(seeds, -1, shape[-1]))).view(shape)
        else:
            grads[weight] = torch.matmul(delta, torch.relu(outs[k - 1]).transpose(-1, -2))
        grads[f"{name}.bias"] = delta.sum(-1)
        if k > 0:
            delta = torch.matmul(params[weight].transpose(-1, -2), delta).mul_(outs[k - 1] > 0)
    return grads, loss_sums.detach()


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def train_batched(configs: list[RunConfig], *, out_dir=None, checkpoint_dir=None, resume: bool = True,
                  stop_after: int | None = None, checkpoint_interval_s: float = 300.0, experiment: str = "batched",
                  command: str | None = None, progress: bool = False, log=print, return_models: bool = False):
    """Train one batch of runs as one batched model; returns their results.

    Each result is the one a sequential run of
    :func:`~adaptive_methods.experiments.training.train` writes (same schema, metrics and
    identity), plus a ``"batched"`` section, and each is written to ``out_dir`` as a
    sequential run's would be.

    Parameters
    ----------
    configs : list of RunConfig
        One batch (:func:`split_batches`): runs of a model in :data:`BATCHED_MODELS`, with
        the package's optimizers, that differ only in :data:`SWEPT_FIELDS`, with the same
        seeds for every optimizer setting.
    out_dir : str or os.PathLike or None, default None
        Where the result files go (none are written when None).
    checkpoint_dir : str or os.PathLike or None, default None
        Where the batch's checkpoint goes (none is written when None).
    resume : bool, default True
        Continue from a checkpoint of this batch found in ``checkpoint_dir``.
    stop_after : int or None, default None
        Stop once this many steps (>= 1) are done, after a checkpoint, and raise
        :class:`~adaptive_methods.experiments.training.RunInterrupted` (what SIGTERM
        does); needs ``checkpoint_dir``.
    checkpoint_interval_s : float, default 300.0
        Seconds (>= 0) after which the next log step writes a checkpoint.
    experiment : str, default "batched"
        The experiment's name, recorded in the results.
    command : str or None, default None
        The command line recorded in the results; None: this process's.
    progress : bool, default False
        Log a line at every checkpoint.
    log : callable, default print
        Called with each line logged.
    return_models : bool, default False
        Return ``(results, models)``: also each run's final parameters, in the model a
        sequential run builds.

    Returns
    -------
    list of dict or (list of dict, list of torch.nn.Module)
        The results, in the order of ``configs``.

    Raises
    ------
    TypeError
        If ``configs`` holds something other than a RunConfig.
    ValueError
        If ``configs`` is empty or not one batch, its model cannot be batched, it names a
        ``torch.optim`` class, or ``stop_after`` or ``checkpoint_interval_s`` is out of
        range.
    CheckpointError
        If the checkpoint found cannot be resumed (``resume=True``).
    RunInterrupted
        When ``stop_after``, SIGTERM or SIGINT stops the batch.

    Examples
    --------
    Four runs (two step sizes, two seeds) on a tiny MNIST-format folder; each ends as the
    sequential run of its configuration does:

    >>> import tempfile
    >>> import numpy as np
    >>> from adaptive_methods.experiments.data import write_idx
    >>> folder = tempfile.TemporaryDirectory()
    >>> rng = np.random.default_rng(0)
    >>> for prefix, n in (("train", 60), ("t10k", 20)):
    ...     images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    ...     labels = rng.integers(0, 10, n, dtype=np.uint8)
    ...     _ = write_idx(f"{folder.name}/{prefix}-images-idx3-ubyte", images)
    ...     _ = write_idx(f"{folder.name}/{prefix}-labels-idx1-ubyte", labels)
    >>> from adaptive_methods.experiments import GridSpec, expand, train
    >>> base = dict(dataset="mnist", data_root=folder.name, download=False,
    ...             fallback=False, accept_unpinned_data=True, validation_size=20,
    ...             batch_size=20, log_every=2, threads=1)
    >>> batch = expand(GridSpec("demo", base, dict(lr=[1e-3, 1e-2], seed=[0, 1])))
    >>> results = train_batched(batch)
    >>> [r["final"]["step"] for r in results]
    [2, 2, 2, 2]
    >>> import math
    >>> sequential = train(batch[3], progress=False)
    >>> math.isclose(results[3]["final"]["train_loss"], sequential["final"]["train_loss"],
    ...              rel_tol=1e-5)
    True
    >>> train_batched(batch[:3])
    Traceback (most recent call last):
    ...
    ValueError: configs are not one batch: they must differ only in ...
    >>> folder.cleanup()
    """
    _check_batch(list(configs))
    if stop_after is not None:
        if checkpoint_dir is None:
            raise ValueError("stop_after needs a checkpoint_dir to stop into, got checkpoint_dir=None")
        if isinstance(stop_after, bool) or not isinstance(stop_after, int) or stop_after < 1:
            raise ValueError(f"stop_after must be a positive int or None, got {stop_after!r}")
    if isinstance(checkpoint_interval_s, bool) or not isinstance(checkpoint_interval_s, (int, float)) \
            or not checkpoint_interval_s >= 0:
        raise ValueError(f"checkpoint_interval_s must be a number >= 0, got {checkpoint_interval_s!r}")
    for folder, what in ((out_dir, "out_dir"), (checkpoint_dir, "checkpoint_dir")):
        if folder is not None:
            check_writable(folder, what)
    batch = _Batch(list(configs), checkpoint_dir, time.perf_counter())
    if batch.checkpoint is not None and resume and batch.checkpoint.is_file():
        batch.load_checkpoint()
        log(f"batch of {len(batch.configs)} runs: resumed at step {batch.step} of {batch.total}")
    with _Stop() as stop:
        if batch.step == 0 and not batch.progress[0].history["step"]:
            batch.log_point([None] * len(batch.settings))
        log_every = batch.config.log_every
        while batch.step < batch.total and any(batch.active(i) for i in range(len(batch.configs))):
            batch.train_step()
            if batch.step % log_every == 0 or batch.step == batch.total:
                batch.log_point(batch.alphas())
                if batch.step < batch.total and time.perf_counter() - batch.last_checkpoint >= checkpoint_interval_s:
                    batch.save_checkpoint()
                    if progress:
                        log(f"batch of {len(batch.configs)} runs: step {batch.step} of {batch.total}, "
                            f"{batch.wall():.0f} s")
            if (stop.requested is not None or (stop_after is not None and batch.step >= stop_after)) \
                    and batch.step < batch.total:
                if batch.checkpoint is None:
                    raise RunInterrupted(batch.step, None)
                batch.save_checkpoint()
                raise RunInterrupted(batch.step, batch.checkpoint)
    results, models = batch.results(experiment, command)
    if out_dir is not None:
        for config, result in zip(batch.configs, results):
            _write_result(result_path(out_dir, config), result)
    if batch.checkpoint is not None and batch.checkpoint.is_file():
        batch.checkpoint.unlink()
    order = {c.run_id: (r, m) for c, r, m in zip(batch.configs, results, models)}
    results, models = [order[c.run_id][0] for c in configs], [order[c.run_id][1] for c in configs]
    return (results, models) if return_models else results
