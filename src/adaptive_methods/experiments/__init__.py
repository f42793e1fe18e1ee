"""The paper's experiments on real data: data sets, models, the training loop, result files,
grids and the command line (``python -m adaptive_methods.experiments``).

The submodules import torch-heavy pieces only when used; the names below are the API the
chapters and the tests rely on.
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
