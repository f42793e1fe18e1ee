"""The paper's experiments on real data: data sets, models, the training loop, results files
and the command line (``python -m adaptive_methods.experiments``)."""
