"""The paper's experiments on real data: data sets, models, the training loop, result files,
grids and the command line (``python -m adaptive_methods.experiments``).

The submodules import torch-heavy pieces only when used; the names below are the API the
chapters and the tests rely on, each documented where it is defined:

- data sets: :class:`~.data.Dataset`, :func:`~.data.load_dataset`,
  :func:`~.data.load_train_test`, :func:`~.data.split_validation` and their errors;
- models: :data:`~.models.MODELS`, :func:`~.models.build_model`;
- one run: :class:`~.config.RunConfig`, :func:`~.training.train`,
  :func:`~.training.resolve_device`;
- optimizers by name: :func:`~.optimizers.resolve_optimizer`,
  :func:`~.optimizers.make_optimizer`, :func:`~.optimizers.package_methods`;
- grids: :class:`~.grid.GridSpec`, :data:`~.grid.PRESETS`, :func:`~.grid.expand`,
  :func:`~.grid.run_grid`;
- results: :func:`~.results.load_results`, :func:`~.results.summary_table`,
  :func:`~.results.best_configurations`, :func:`~.results.format_table`.

Batched training (:mod:`.batched`) and a grid across the machines of a Slurm cluster
(:mod:`.slurm`) are submodules of their own.

Examples
--------
>>> from adaptive_methods.experiments import PRESETS, RunConfig, expand
>>> config = expand(PRESETS["fashion-logreg"])[0]
>>> isinstance(config, RunConfig), config.model, config.dataset, config.schedule
(True, 'logreg', 'fashion-mnist', 'inv_sqrt')
"""

from .checkpoints import CheckpointError
from .config import RunConfig
from .data import (Dataset, DatasetFormatError, DatasetUnavailableError, UnpinnedDataError, load_dataset,
                   load_train_test, split_validation)
from .grid import PRESETS, GridSpec, expand, run_grid
from .models import MODELS, CifarNet, LogisticRegression, MLP, build_model
from .optimizers import make_optimizer, package_methods, resolve_optimizer
from .results import ResultFileError, best_configurations, format_table, load_results, summary_table
from .training import RunInterrupted, resolve_device, train

__all__ = [
    "Dataset", "DatasetFormatError", "DatasetUnavailableError", "UnpinnedDataError", "load_dataset",
    "load_train_test", "split_validation",
    "PRESETS", "GridSpec", "expand", "run_grid",
    "MODELS", "CifarNet", "LogisticRegression", "MLP", "build_model",
    "make_optimizer", "package_methods", "resolve_optimizer",
    "ResultFileError", "best_configurations", "format_table", "load_results", "summary_table",
    "CheckpointError", "RunConfig", "RunInterrupted", "resolve_device", "train",
]
