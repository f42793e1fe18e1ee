"""One-dimensional online and stochastic linear problems, and an exact fast simulator.

The counterexamples of Reddi, Kale & Kumar (ICLR 2018) are linear losses
``f_t(x) = g_t x`` on a box ``F = [lo, hi]``.  The gradient ``g_t`` of a linear loss does
not depend on the point ``x_t`` where it is evaluated, so every moment estimate
(``m_t``, ``v_t``, ``vhat_t``, ...) and every unprojected step of an adaptive method can be
computed before a single iterate is known.  What remains is

    x_{t+1} = min(max(x_t - q_t, lo), hi),      q_t = alpha_t m_t / sqrt(V_t)

a *clipped* running sum.  Both halves are scans:

* the moments are linear recurrences ``y_t = a_t y_{t-1} + c_t`` (``scipy.signal.lfilter``
  for constant coefficients, a blocked scan otherwise);
* the maps ``x -> min(max(x + a, l), h)`` are closed under composition, so a block of
  steps composes into one map of the same form; the blocked scan composes each block,
  carries the state across blocks, then replays every block from its exact start.

:func:`simulate` runs a batch of ``B`` configurations (problems or hyperparameter
settings) together.  A ``(B, T)`` gradient array with shared hyperparameters is also how a
``d``-dimensional problem on a box with diagonal ``V_t`` is simulated: the weighted
projection onto a box is a coordinate-wise clip, so the coordinates never interact; use
the rows as coordinates and sum :func:`regret` over them.

The methods are the paper's forms: no bias correction, no ``eps`` (unless asked for),
``alpha_t = alpha / sqrt(t)`` unless ``step="constant"``.  Where ``sqrt(V_t + eps) = 0``
the step is 0 (``V_t^(-1/2)`` taken as the pseudo-inverse; see :func:`simulate`).

Which recurrences a method runs is what :data:`adaptive_methods.registry.METHODS`
declares for it (its ``recurrence``); the simulator never branches on a method's name.

Modules: :mod:`~adaptive_methods.online.problems` (the problems of the paper),
:mod:`~adaptive_methods.online.checks` (input checks),
:mod:`~adaptive_methods.online.recurrences` (m_t and V_t along time),
:mod:`~adaptive_methods.online.scans` (the clipped running sum),
:mod:`~adaptive_methods.online.jit` (the whole recurrence as one compiled loop, where
numba is installed),
:mod:`~adaptive_methods.online.api` (the public functions) and
:mod:`~adaptive_methods.online.reference` (the step-by-step loop the tests hold the
simulator to).
"""

from .api import drift, moments, period_drift, regret, simulate
from .checks import ENGINES, SIMULATED, STEPS
from .problems import (
    Counterexample,
    LinearProblem,
    figure1_problem,
    periodic_problem,
    stochastic_problem,
    theorem1_problem,
    theorem2_conditions,
    theorem2_period,
    theorem2_problem,
    theorem3_problem,
)
from .reference import reference_simulate

__all__ = [
    "SIMULATED",
    "STEPS",
    "ENGINES",
    "simulate",
    "regret",
    "moments",
    "drift",
    "period_drift",
    "reference_simulate",
    "LinearProblem",
    "Counterexample",
    "periodic_problem",
    "stochastic_problem",
    "figure1_problem",
    "theorem1_problem",
    "theorem2_conditions",
    "theorem2_period",
    "theorem2_problem",
    "theorem3_problem",
]
