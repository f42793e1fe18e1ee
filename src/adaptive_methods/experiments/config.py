"""The configuration of one training run, and what makes two runs the same run.

A :class:`RunConfig` is what was asked for. A run's *identity* (:func:`run_identity`) is
what it computes from: every configuration field that changes the result, the
hyperparameters read back from the constructed optimizer, the SHA-256 of every data file,
the size of the validation split, the number of CPU threads, the device type and the
number of processes. A result file or a checkpoint counts as the run only when its recorded
identity equals the requested one; :func:`differences` says where two identities differ.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field

__all__ = ["RunConfig", "run_identity", "differences", "NOT_IDENTITY", "SCHEDULES"]

SCHEDULES = ("constant", "inv_sqrt")

#: configuration fields that do not change what is computed (where the data files lie, whether
#: they may be downloaded, how often a checkpoint is written; the device and the thread count
#: enter the identity resolved, as the device type and the number of threads that ran)
NOT_IDENTITY = ("device", "threads", "data_root", "download", "checkpoint_every", "accept_unpinned_data")


def _positive_int(name, value, allow_none=False):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int{' or None' if allow_none else ''}, got {value!r}")


def _unit(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1) or None (the method's own), got {value!r}")
    return float(value)


@dataclass
class RunConfig:
    """Everything that defines one training run; ``run_id`` names its files.

    The fields are checked when the configuration is made (and by :meth:`validate`); the
    names of the model, the data set, the optimizer and the device when the run starts.
    ``beta1``, ``beta2``, ``eps``, ``bias_correction`` and ``schedule`` left at None take
    the optimizer's own defaults (AdamNC's beta schedules, ``amsgrad-paper``'s eps 0 and
    alpha/sqrt(t), ...); the result file records the values that ran. The fields of
    :data:`NOT_IDENTITY` do not change what is computed, the others do
    (:meth:`identity`).

    Parameters
    ----------
    model : {"logreg", "mlp", "cifarnet"}, default "logreg"
        The model (:func:`~adaptive_methods.experiments.models.build_model`).
    dataset : str, default "fashion-mnist"
        The data set (:func:`~adaptive_methods.experiments.data.load_dataset`).
    optimizer : str, default "adam"
        An optimizer name of
        :func:`~adaptive_methods.experiments.optimizers.resolve_optimizer`
        (``"amsgrad-paper"``, ``"torch.adam"``, ...).
    lr : float, default 1e-3
        The step size alpha, finite and > 0.
    beta1, beta2 : float or None, default None
        In [0, 1), or None for the method's own.
    eps : float or None, default None
        Finite and >= 0, or None for the method's own.
    bias_correction : bool or None, default None
        Adam's bias correction on or off, or None for the method's own.
    schedule : {"constant", "inv_sqrt"} or None, default None
        alpha_t = alpha or alpha / sqrt(t), or None for the method's own.
    batch_size : int, default 128
        The minibatch size, >= 1.
    epochs : int, default 1
        Passes over the training split, >= 1.
    max_steps : int or None, default None
        Stop after this many steps (>= 1) if it comes before the last epoch's end.
    seed : int, default 0
        >= 0: the initialization, the minibatch order and dropout.
    log_every : int, default 100
        Steps between two evaluations (>= 1); the last step is always evaluated.
    checkpoint_every : int or None, default None
        Steps between two checkpoints (>= 1); None: every ``log_every`` steps.
    train_limit, test_limit : int or None, default None
        Use only the first so many (>= 1) images of the training and the test split.
    validation_size : int or None, default None
        Images held out of the training split for model selection (>= 0); None: a sixth
        of it, 0: none.
    eval_train_limit : int or None, default 10000
        Training images (>= 1) the training loss and accuracy are evaluated on; None: all.
    eval_batch_size : int, default 1000
        Images per batch of an evaluation, >= 1.
    device : str, default "auto"
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    deterministic : bool, default True
        Deterministic kernels; False lets a GPU pick faster ones.
    threads : int or None, default None
        torch CPU threads (>= 1); None: torch's default.
    data_root : str or None, default None
        A folder with the data files
        (:func:`~adaptive_methods.experiments.data.load_dataset`).
    download : bool or None, default None
        Allow a download of the data; None: unless ``ADAPTIVE_METHODS_OFFLINE`` is set.
    fallback : bool, default True
        Load a stand-in data set, with a warning, when the one asked for is missing.
    accept_unpinned_data : bool, default False
        Use data files that are not the pinned ones (recorded in the result).
    optimizer_kwargs : dict, default {}
        Further constructor arguments of the optimizer (not those that fields set).

    Raises
    ------
    ValueError
        If a number is out of its range or ``schedule`` is not allowed (the message names
        the field, its value and what is allowed).
    TypeError
        If a flag is not a bool or ``optimizer_kwargs`` not a dict.

    Examples
    --------
    >>> config = RunConfig(model="mlp", optimizer="amsgrad", lr=1e-3, beta2=0.999)
    >>> config.run_id
    'mlp_fashion-mnist_amsgrad_lr0.001_b2-0.999_s0_...'
    >>> config.replace(seed=1).run_id == config.run_id
    False
    >>> config.replace(threads=4).run_id == config.run_id  # not part of the identity
    True
    >>> RunConfig.from_dict(config.to_dict()) == config
    True
    >>> RunConfig(lr=0)
    Traceback (most recent call last):
    ...
    ValueError: lr must be a finite number > 0, got 0
    """

    model: str = "logreg"
    dataset: str = "fashion-mnist"
    optimizer: str = "adam"
    lr: float = 1e-3
    beta1: float | None = None
    beta2: float | None = None
    eps: float | None = None
    bias_correction: bool | None = None
    schedule: str | None = None
    batch_size: int = 128
    epochs: int = 1
    max_steps: int | None = None
    seed: int = 0
    log_every: int = 100
    checkpoint_every: int | None = None
    train_limit: int | None = None
    test_limit: int | None = None
    validation_size: int | None = None
    eval_train_limit: int | None = 10000
    eval_batch_size: int = 1000
    device: str = "auto"
    deterministic: bool = True
    threads: int | None = None
    data_root: str | None = None
    download: bool | None = None
    fallback: bool = True
    accept_unpinned_data: bool = False
    optimizer_kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Check every field (see the class's Raises); numbers are stored as floats."""
        for name in ("batch_size", "epochs", "log_every", "eval_batch_size"):
            _positive_int(name, getattr(self, name))
        for name in ("max_steps", "checkpoint_every", "train_limit", "test_limit", "eval_train_limit", "threads"):
            _positive_int(name, getattr(self, name), allow_none=True)
        for name in ("seed",) + (("validation_size",) if self.validation_size is not None else ()):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be an int >= 0, got {v!r}")
        if isinstance(self.lr, bool) or not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        self.beta1, self.beta2 = _unit("beta1", self.beta1), _unit("beta2", self.beta2)
        if self.eps is not None:
            if isinstance(self.eps, bool) or not (isinstance(self.eps, (int, float)) and math.isfinite(self.eps)
                                                  and self.eps >= 0):
                raise ValueError(f"eps must be a finite number >= 0 or None (the method's own), got {self.eps!r}")
            self.eps = float(self.eps)
        if self.schedule is not None and self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES} or None (the method's own), got {self.schedule!r}")
        for name in ("bias_correction",):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True, False or None (the method's own), got {getattr(self, name)!r}")
        for name in ("deterministic", "fallback", "accept_unpinned_data"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not isinstance(self.optimizer_kwargs, dict):
            raise TypeError(f"optimizer_kwargs must be a dict, got {type(self.optimizer_kwargs).__name__}")
        self.lr = float(self.lr)

    def to_dict(self) -> dict:
        """Every field, as a dict of JSON values (what a result file records)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "RunConfig":
        """The configuration of :meth:`to_dict`'s dict; unknown fields are a ValueError."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown configuration fields {unknown}; allowed: {sorted(names)}")
        return cls(**values)

    def replace(self, **changes) -> "RunConfig":
        """A copy with the given fields changed (and checked)."""
        return dataclasses.replace(self, **changes)

    def identity(self) -> dict:
        """The configuration fields that decide what the run computes."""
        return {k: v for k, v in self.to_dict().items() if k not in NOT_IDENTITY}

    @property
    def run_id(self) -> str:
        """Readable (model, data, optimizer, the hyperparameters set, seed) and unique: the
        last part is a digest of every identity field, so two configurations that differ in
        anything (epochs, batch size, data limits ...) never share a file name."""
        parts = [self.model, self.dataset, self.optimizer.replace(".", "_"), f"lr{self.lr:g}"]
        for label, value in (("b1-", self.beta1), ("b2-", self.beta2), ("eps", self.eps)):
            if value is not None:
                parts.append(f"{label}{value:g}")
        if self.bias_correction is not None:
            parts.append("bc" if self.bias_correction else "nobc")
        if self.schedule is not None:
            parts.append(self.schedule)
        parts.append(f"s{self.seed}")
        digest = hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()
        return "_".join(parts) + "_" + digest[:8]


def run_identity(config: RunConfig, *, optimizer_info: dict, train_files, test_files, validation_size: int,
                 threads: int, device_type: str, world_size: int) -> dict:
    """Everything a run's result depends on (see the module docstring), as JSON values."""
    return {
        "config": config.identity(),
        "optimizer": {k: optimizer_info[k] for k in ("class", "param_groups", "schedule", "bias_correction",
                                                     "bias_correction_mode")},
        "data": {"train": sorted(f["sha256"] for f in train_files), "test": sorted(f["sha256"] for f in test_files),
                 "validation_size": validation_size},
        "threads": threads,
        "device_type": device_type,
        "world_size": world_size,
    }


def _flatten(obj, prefix=""):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: obj}


def differences(recorded: dict, requested: dict) -> list[str]:
    """``"field: recorded -> requested"`` for every field where two identities differ."""
    a, b = _flatten(json.loads(json.dumps(recorded))), _flatten(json.loads(json.dumps(requested)))
    return [f"{k}: {a.get(k, '(absent)')!r} -> {b.get(k, '(absent)')!r}" for k in sorted(set(a) | set(b))
            if a.get(k, "(absent)") != b.get(k, "(absent)")]
