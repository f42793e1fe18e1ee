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

    ``beta1``, ``beta2``, ``eps``, ``bias_correction`` and ``schedule`` left at None take the
    optimizer's own defaults (AdamNC's beta schedules, ``amsgrad-paper``'s eps 0 and
    alpha/sqrt(t), ...); the result file records the values that ran.
    ``validation_size``: images held out of the training split for model selection (None:
    a sixth of it; 0: none).
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
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "RunConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown configuration fields {unknown}; allowed: {sorted(names)}")
        return cls(**values)

    def replace(self, **changes) -> "RunConfig":
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
