"""The paper's experiments on real data: data sets, models, the training loop, result files,
grids and the command line (``python -m adaptive_methods.experiments``).

The submodules import torch-heavy pieces only when used; the names below are the API the
chapters and the tests rely on.
"""

from .data import Dataset, DatasetFormatError, DatasetUnavailableError, load_dataset, load_train_test
from .grid import PRESETS, GridSpec, expand, run_grid
from .models import MODELS, CifarNet, LogisticRegression, MLP, build_model
from .optimizers import make_optimizer, resolve_optimizer
from .results import best_configurations, format_table, load_results, summary_table
from .training import RunConfig, RunInterrupted, resolve_device, train

__all__ = [
    "Dataset", "DatasetFormatError", "DatasetUnavailableError", "load_dataset", "load_train_test",
    "PRESETS", "GridSpec", "expand", "run_grid",
    "MODELS", "CifarNet", "LogisticRegression", "MLP", "build_model",
    "make_optimizer", "resolve_optimizer",
    "best_configurations", "format_table", "load_results", "summary_table",
    "RunConfig", "RunInterrupted", "resolve_device", "train",
]
