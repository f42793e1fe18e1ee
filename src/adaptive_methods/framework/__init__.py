"""Algorithm 1 of Reddi, Kale & Kumar (2018): the generic adaptive method.

    g_t     = grad f_t(x_t)
    m_t     = phi_t(g_1, ..., g_t)              first moment  (a vector)
    V_t     = psi_t(g_1, ..., g_t)              second moment (diagonal: V_t = diag(v_t))
    x_{t+1} = Pi_{F, sqrt(V_t)}(x_t - alpha_t m_t / sqrt(v_t))

An optimizer is the choice of a few small rules, in the spirit of optax's composable
gradient transformations (:mod:`.rules`):

* a **phi rule** (:class:`LastGradient`, :class:`MovingAverage`, wrapped in
  :class:`Debiased` for Adam's bias correction),
* a **psi rule** (:class:`Identity`, :class:`SumOfSquares`, :class:`MeanOfSquares`,
  :class:`MovingAverageOfSquares`, wrapped in :class:`Debiased` and/or
  :class:`RunningMax` -- the latter is all that separates AMSGrad from Adam); it sees the
  step's context, m_t included,
* optional **transforms** of the preconditioned direction (:class:`Transform`),
* the rules of the methods that followed AMSGrad (:mod:`.later_rules`: Yogi's,
  AdaBelief's, AdaBound's, RAdam's and NAdam's moments, AdamW's decoupled weight decay),
* an **alpha schedule** (:class:`Constant`, :class:`InverseSqrt`),

composed by :class:`GenericAdaptive`, a ``torch.optim.Optimizer`` (:mod:`.optimizer`).
"""

from .compiled import CompiledPathWarning
from .optimizer import GenericAdaptive, project_box
from .rules import (
    Constant,
    Debiased,
    Identity,
    InverseSqrt,
    LastGradient,
    MeanOfSquares,
    MomentRule,
    MovingAverage,
    MovingAverageOfSquares,
    RescaledRunningMax,
    Rules,
    RunningMax,
    StepContext,
    StepSchedule,
    SumOfSquares,
    Transform,
    preconditioned,
    sqrt_v,
)
from .later_rules import (
    BeliefSquares,
    BoundedLearningRate,
    DecoupledWeightDecay,
    NesterovMomentum,
    Rectified,
    SignControlledSquares,
)
from .validation import Schedule, beta_at, check_beta, check_bounds, check_eps, check_lr

__all__ = [
    "Schedule",
    "StepContext",
    "MomentRule",
    "LastGradient",
    "MovingAverage",
    "Identity",
    "SumOfSquares",
    "MeanOfSquares",
    "MovingAverageOfSquares",
    "Debiased",
    "RunningMax",
    "RescaledRunningMax",
    "Transform",
    "StepSchedule",
    "Constant",
    "InverseSqrt",
    "Rules",
    "SignControlledSquares",
    "BeliefSquares",
    "BoundedLearningRate",
    "Rectified",
    "NesterovMomentum",
    "DecoupledWeightDecay",
    "GenericAdaptive",
    "preconditioned",
    "sqrt_v",
    "project_box",
    "CompiledPathWarning",
    "check_lr",
    "check_beta",
    "check_eps",
    "check_bounds",
    "beta_at",
]
