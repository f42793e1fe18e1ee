"""adaptive_methods: the optimizer package of the book "On the Convergence of Adam and Beyond".

Layers, bottom up: :mod:`~adaptive_methods.framework` (Algorithm 1 as composable rules),
:mod:`~adaptive_methods.methods` (SGD, Adagrad, RMSProp, Adam, AMSGrad, AdamNC, AdamX),
:mod:`~adaptive_methods.online` (the exact 1-D simulator of the theorems),
:mod:`~adaptive_methods.gamma` (Gamma_t along trajectories) and
:mod:`~adaptive_methods.experiments` (data, models, training, results); beside them
:mod:`~adaptive_methods.plotting` (the book's figure style) and
:mod:`~adaptive_methods.explorer` (Chapter 4's interactive panel).
"""

from .framework import GenericAdaptive
from .methods import SGD, Adagrad, Adam, AdamNC, AdamX, AMSGrad, RMSProp

__version__ = "0.1.0"

__all__ = ["GenericAdaptive", "SGD", "Adagrad", "RMSProp", "Adam", "AMSGrad", "AdamNC", "AdamX", "__version__"]
