"""The one test table: a row per registered method.

Each row holds the method's independent references (``torch.optim`` where the API says
``==``, a transcription of the published algorithm otherwise), further settings that the
reference and foreach paths must agree on, and the settings whose learning rate can never
grow (Gamma_t positive semi-definite).  ``test_equivalence.py``, ``test_engines.py``,
``test_optimizer_api.py`` and ``test_properties.py`` read it; a registered method without
a row fails ``test_every_registered_method_has_a_row``.

A constructor here is ``make(params, foreach)``; a reference is ``reference(params)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from adaptive_methods import (
    SGD,
    AdaBelief,
    AdaBound,
    Adagrad,
    Adam,
    AdamNC,
    AdamW,
    AdamX,
    AMSBound,
    AMSGrad,
    NAdam,
    RAdam,
    RMSProp,
    Yogi,
)

from .transcriptions import (
    AdaBeliefTranscription,
    AdaBoundCode,
    AdaBoundPaper,
    AdamXTranscription,
    OptaxAMSGrad,
    PaperAlgorithm,
    YogiTranscription,
)

Make = Callable[..., torch.optim.Optimizer]


@dataclass(frozen=True)
class Row:
    references: dict[str, tuple[Make, Make]]
    paths: dict[str, Make] = field(default_factory=dict)
    never_increasing: dict[str, Make] = field(default_factory=dict)
    # settings on which the compiled path (fused=True) must equal the reference path;
    # a constructor here is make(params, **path), path being fused=True or foreach=False
    compiled: dict[str, Callable[..., torch.optim.Optimizer]] = field(default_factory=dict)

    def settings(self) -> dict[str, Make]:
        """Every setting of the row: the references' own and the extra ones."""
        return {**{k: ours for k, (ours, _) in self.references.items()}, **self.paths}


def _geometric(b1, lam):
    return lambda t: b1 * lam ** (t - 1)


def _const(value):
    return lambda t: value


TABLE: dict[str, Row] = {
    "sgd": Row(
        references={
            "0.1": (lambda p, f: SGD(p, lr=0.1, foreach=f), lambda p: torch.optim.SGD(p, lr=0.1)),
            "0.02": (lambda p, f: SGD(p, lr=0.02, foreach=f), lambda p: torch.optim.SGD(p, lr=0.02)),
        },
        paths={"inv-sqrt-box": lambda p, f: SGD(p, 0.5, step="inv_sqrt", bounds=(-0.2, 0.2), foreach=f)},
        never_increasing={
            "constant": lambda p, f=None: SGD(p, 0.1, foreach=f),
            "inv-sqrt": lambda p, f=None: SGD(p, 0.1, step="inv_sqrt", foreach=f),
        },
        compiled={"inv-sqrt": lambda p, **k: SGD(p, 0.1, step="inv_sqrt", **k)},
    ),
    "adagrad": Row(
        references={
            "0.1": (lambda p, f: Adagrad(p, lr=0.1, foreach=f), lambda p: torch.optim.Adagrad(p, lr=0.1)),
            "0.05-eps1e-3": (lambda p, f: Adagrad(p, lr=0.05, eps=1e-3, foreach=f),
                             lambda p: torch.optim.Adagrad(p, lr=0.05, eps=1e-3)),
        },
        paths={"paper": lambda p, f: Adagrad(p, 0.05, eps=0.0, form="paper", foreach=f)},
        never_increasing={
            "pytorch": lambda p, f=None: Adagrad(p, 0.1, foreach=f),
            "paper": lambda p, f=None: Adagrad(p, 0.1, eps=0.0, form="paper", foreach=f),
        },
    ),
    "rmsprop": Row(
        references={
            "0.01": (lambda p, f: RMSProp(p, lr=0.01, foreach=f), lambda p: torch.optim.RMSprop(p, lr=0.01)),
            "0.003-0.9-eps1e-4": (lambda p, f: RMSProp(p, lr=0.003, beta2=0.9, eps=1e-4, foreach=f),
                                  lambda p: torch.optim.RMSprop(p, lr=0.003, alpha=0.9, eps=1e-4)),
        },
        paths={"inv-sqrt": lambda p, f: RMSProp(p, 0.01, step="inv_sqrt", foreach=f)},
    ),
    "adam": Row(
        references={
            "default": (lambda p, f: Adam(p, lr=1e-3, foreach=f), lambda p: torch.optim.Adam(p, lr=1e-3)),
            "0.01-(0.5,0.9)": (lambda p, f: Adam(p, 0.01, (0.5, 0.9), foreach=f),
                               lambda p: torch.optim.Adam(p, 0.01, (0.5, 0.9))),
            "0.003-(0,0.99)-eps1e-3": (lambda p, f: Adam(p, 0.003, (0.0, 0.99), 1e-3, foreach=f),
                                       lambda p: torch.optim.Adam(p, 0.003, (0.0, 0.99), 1e-3)),
            "paper-decay": (
                lambda p, f: Adam(p, 0.05, (0.9, 0.99), 0.0, bias_correction=False, beta1_decay=0.95,
                                  step="inv_sqrt", foreach=f),
                lambda p: PaperAlgorithm(p, 0.05, _geometric(0.9, 0.95), _const(0.99), amsgrad=False),
            ),
        },
        paths={"no-bias-correction": lambda p, f: Adam(p, 0.01, bias_correction=False, foreach=f)},
    ),
    "amsgrad": Row(
        references={
            "pytorch-default": (lambda p, f: AMSGrad(p, lr=1e-3, foreach=f),
                                lambda p: torch.optim.Adam(p, lr=1e-3, amsgrad=True)),
            "pytorch-0.01-(0.9,0.99)": (lambda p, f: AMSGrad(p, 0.01, (0.9, 0.99), foreach=f),
                                        lambda p: torch.optim.Adam(p, 0.01, (0.9, 0.99), amsgrad=True)),
            "pytorch-0.005-(0.8,0.9)-eps1e-4": (lambda p, f: AMSGrad(p, 0.005, (0.8, 0.9), 1e-4, foreach=f),
                                                lambda p: torch.optim.Adam(p, 0.005, (0.8, 0.9), 1e-4, amsgrad=True)),
            "optax-default": (lambda p, f: AMSGrad(p, 1e-3, (0.9, 0.999), 1e-8, variant="optax", foreach=f),
                              lambda p: OptaxAMSGrad(p, 1e-3, 0.9, 0.999, 1e-8)),
            "optax-0.02-(0.5,0.9)": (lambda p, f: AMSGrad(p, 0.02, (0.5, 0.9), 1e-3, variant="optax", foreach=f),
                                     lambda p: OptaxAMSGrad(p, 0.02, 0.5, 0.9, 1e-3)),
            "paper-constant-b1": (lambda p, f: AMSGrad(p, 0.05, (0.9, 0.99), variant="paper", foreach=f),
                                  lambda p: PaperAlgorithm(p, 0.05, _const(0.9), _const(0.99), amsgrad=True)),
            "paper-b1-decay": (
                lambda p, f: AMSGrad(p, 0.05, (0.9, 0.999), variant="paper", beta1_decay=0.99, foreach=f),
                lambda p: PaperAlgorithm(p, 0.05, _geometric(0.9, 0.99), _const(0.999), amsgrad=True),
            ),
            "paper-b1-over-t-bounded": (
                lambda p, f: AMSGrad(p, 0.1, (0.9, 0.99), variant="paper", beta1_schedule=lambda t: 0.9 / t,
                                     bounds=(-0.3, 0.3), foreach=f),
                lambda p: PaperAlgorithm(p, 0.1, lambda t: 0.9 / t, _const(0.99), amsgrad=True, bounds=(-0.3, 0.3)),
            ),
        },
        paths={"paper-decay-box": lambda p, f: AMSGrad(p, 0.05, variant="paper", beta1_decay=0.9,
                                                       bounds=(-0.5, 0.5), foreach=f)},
        never_increasing={
            "paper": lambda p, f=None: AMSGrad(p, 0.1, (0.9, 0.99), variant="paper", foreach=f),
            "paper-constant-step-eps": lambda p, f=None: AMSGrad(p, 0.1, (0.9, 0.99), eps=1e-8, variant="paper",
                                                                 step="constant", foreach=f),
        },
        compiled={"pytorch": lambda p, **k: AMSGrad(p, 0.01, **k),
                  "paper-decay-box": lambda p, **k: AMSGrad(p, 0.05, variant="paper", beta1_decay=0.95,
                                                             bounds=(-0.5, 0.5), **k)},
    ),
    "adamnc": Row(
        references={
            "corollary2": (lambda p, f: AdamNC(p, 0.05, foreach=f),
                           lambda p: PaperAlgorithm(p, 0.05, _geometric(0.9, 0.99), lambda t: 1 - 1 / t, amsgrad=False)),
            "custom": (lambda p, f: AdamNC(p, 0.02, beta1=0.5, beta2=lambda t: 1 - 0.5 / t, foreach=f),
                       lambda p: PaperAlgorithm(p, 0.02, _const(0.5), lambda t: 1 - 0.5 / t, amsgrad=False)),
        },
        # beta2_t = 1 - 1/t: V_t is the mean of g^2, so sqrt(V_t)/alpha_t = sqrt(sum g^2)/alpha
        never_increasing={"corollary2": lambda p, f=None: AdamNC(p, 0.1, foreach=f)},
        compiled={"default": lambda p, **k: AdamNC(p, 0.05, **k)},
    ),
    "adamx": Row(
        references={
            "geometric-0.99": (lambda p, f: AdamX(p, 0.05, (0.9, 0.999), beta1_decay=0.99, foreach=f),
                               lambda p: AdamXTranscription(p, 0.05, _geometric(0.9, 0.99), 0.999)),
            "default-schedule": (lambda p, f: AdamX(p, 0.05, (0.9, 0.99), foreach=f),
                                 lambda p: AdamXTranscription(p, 0.05, _geometric(0.9, 0.99), 0.99)),
            "fast-decay-0.5": (lambda p, f: AdamX(p, 0.02, (0.8, 0.99), beta1_decay=0.5, foreach=f),
                               lambda p: AdamXTranscription(p, 0.02, _geometric(0.8, 0.5), 0.99)),
            "beta1-over-t-boxed": (
                lambda p, f: AdamX(p, 0.1, (0.9, 0.99), beta1_schedule=lambda t: 0.9 / t, bounds=(-0.3, 0.3),
                                   foreach=f),
                lambda p: AdamXTranscription(p, 0.1, lambda t: 0.9 / t, 0.99, bounds=(-0.3, 0.3)),
            ),
        },
        never_increasing={"default": lambda p, f=None: AdamX(p, 0.1, (0.9, 0.99), foreach=f)},
        compiled={"(0.9,0.99)": lambda p, **k: AdamX(p, 0.05, (0.9, 0.99), **k)},
    ),
}

# The methods that followed AMSGrad (chapter 7).
TABLE.update({
    "yogi": Row(
        references={
            "paper-defaults": (lambda p, f: Yogi(p, foreach=f), lambda p: YogiTranscription(p, 1e-2, 0.9, 0.999, 1e-3)),
            "0.003-(0.5,0.99)-eps1e-6": (lambda p, f: Yogi(p, 0.003, (0.5, 0.99), 1e-6, foreach=f),
                                         lambda p: YogiTranscription(p, 0.003, 0.5, 0.99, 1e-6)),
            "bias-corrected": (lambda p, f: Yogi(p, 0.01, (0.9, 0.99), 1e-3, bias_correction=True, foreach=f),
                               lambda p: YogiTranscription(p, 0.01, 0.9, 0.99, 1e-3, bias_correction=True)),
        },
        paths={"paper-form": lambda p, f: Yogi(p, 0.05, (0.9, 0.99), 0.0, step="inv_sqrt", bounds=(-0.5, 0.5),
                                                foreach=f)},
        compiled={"default": lambda p, **k: Yogi(p, 0.01, **k)},
    ),
    "adabound": Row(
        references={
            "code-defaults": (lambda p, f: AdaBound(p, foreach=f),
                              lambda p: AdaBoundCode(p, 1e-3, 0.9, 0.999, 0.1, 1e-3, 1e-8, amsbound=False)),
            "code-0.01-(0.5,0.9)-final0.05-gamma0.1": (
                lambda p, f: AdaBound(p, 0.01, (0.5, 0.9), final_lr=0.05, gamma=0.1, eps=1e-4, foreach=f),
                lambda p: AdaBoundCode(p, 0.01, 0.5, 0.9, 0.05, 0.1, 1e-4, amsbound=False)),
            "paper": (lambda p, f: AdaBound(p, 0.05, (0.9, 0.99), final_lr=0.1, form="paper", foreach=f),
                      lambda p: AdaBoundPaper(p, 0.05, 0.9, 0.99, 0.1, 0.01, amsbound=False)),
            "paper-gamma0.2-boxed": (
                lambda p, f: AdaBound(p, 0.1, (0.8, 0.9), final_lr=0.02, gamma=0.2, form="paper", bounds=(-0.3, 0.3),
                                      foreach=f),
                lambda p: AdaBoundPaper(p, 0.1, 0.8, 0.9, 0.02, 0.2, amsbound=False, bounds=(-0.3, 0.3))),
        },
        compiled={"final-lr-0.05": lambda p, **k: AdaBound(p, 0.01, final_lr=0.05, **k)},
    ),
    "amsbound": Row(
        references={
            "code-defaults": (lambda p, f: AMSBound(p, foreach=f),
                              lambda p: AdaBoundCode(p, 1e-3, 0.9, 0.999, 0.1, 1e-3, 1e-8, amsbound=True)),
            "code-0.01-(0.5,0.9)-final0.05-gamma0.1": (
                lambda p, f: AMSBound(p, 0.01, (0.5, 0.9), final_lr=0.05, gamma=0.1, eps=1e-4, foreach=f),
                lambda p: AdaBoundCode(p, 0.01, 0.5, 0.9, 0.05, 0.1, 1e-4, amsbound=True)),
            "paper": (lambda p, f: AMSBound(p, 0.05, (0.9, 0.99), final_lr=0.1, form="paper", foreach=f),
                      lambda p: AdaBoundPaper(p, 0.05, 0.9, 0.99, 0.1, 0.01, amsbound=True)),
        },
        compiled={"paper": lambda p, **k: AMSBound(p, 0.05, form="paper", **k)},
    ),
    "adabelief": Row(
        references={
            "default": (lambda p, f: AdaBelief(p, foreach=f),
                        lambda p: AdaBeliefTranscription(p, 1e-3, 0.9, 0.999, 1e-16)),
            "0.01-(0.5,0.99)-eps1e-8": (lambda p, f: AdaBelief(p, 0.01, (0.5, 0.99), 1e-8, foreach=f),
                                        lambda p: AdaBeliefTranscription(p, 0.01, 0.5, 0.99, 1e-8)),
            "paper-form": (
                lambda p, f: AdaBelief(p, 0.05, (0.9, 0.99), 1e-8, bias_correction=False, step="inv_sqrt",
                                       bounds=(-0.5, 0.5), foreach=f),
                lambda p: AdaBeliefTranscription(p, 0.05, 0.9, 0.99, 1e-8, bias_correction=False, step="inv_sqrt",
                                                 bounds=(-0.5, 0.5))),
        },
        compiled={"default": lambda p, **k: AdaBelief(p, 0.01, **k)},
    ),
    "radam": Row(
        references={
            "default": (lambda p, f: RAdam(p, foreach=f), lambda p: torch.optim.RAdam(p)),
            "0.01-(0.8,0.99)-eps1e-4": (lambda p, f: RAdam(p, 0.01, (0.8, 0.99), 1e-4, foreach=f),
                                        lambda p: torch.optim.RAdam(p, 0.01, (0.8, 0.99), 1e-4)),
            # beta2 = 0.9: rho_t passes 5 at t = 7, so both phases run
            "0.003-(0.5,0.9)": (lambda p, f: RAdam(p, 0.003, (0.5, 0.9), foreach=f),
                                lambda p: torch.optim.RAdam(p, 0.003, (0.5, 0.9))),
        },
        paths={"paper-form": lambda p, f: RAdam(p, 0.05, (0.9, 0.99), 0.0, step="inv_sqrt", bounds=(-0.5, 0.5),
                                                 foreach=f)},
        # beta2 = 0.9: V_t = I for the first steps, then the rectified rate
        compiled={"(0.9,0.9)": lambda p, **k: RAdam(p, 0.01, (0.9, 0.9), **k)},
    ),
    "nadam": Row(
        references={
            "default": (lambda p, f: NAdam(p, foreach=f), lambda p: torch.optim.NAdam(p)),
            "0.01-(0.8,0.99)-eps1e-4": (lambda p, f: NAdam(p, 0.01, (0.8, 0.99), 1e-4, foreach=f),
                                        lambda p: torch.optim.NAdam(p, 0.01, (0.8, 0.99), 1e-4)),
            "momentum-decay-0.05": (lambda p, f: NAdam(p, 0.005, (0.9, 0.999), momentum_decay=0.05, foreach=f),
                                    lambda p: torch.optim.NAdam(p, 0.005, (0.9, 0.999), momentum_decay=0.05)),
        },
        paths={"paper-form": lambda p, f: NAdam(p, 0.05, (0.9, 0.99), 0.0, step="inv_sqrt", bounds=(-0.5, 0.5),
                                                 foreach=f)},
        compiled={"default": lambda p, **k: NAdam(p, 0.01, **k)},
    ),
    "adamw": Row(
        references={
            "default": (lambda p, f: AdamW(p, foreach=f), lambda p: torch.optim.AdamW(p)),
            "0.01-(0.5,0.9)-wd0.1": (lambda p, f: AdamW(p, 0.01, (0.5, 0.9), weight_decay=0.1, foreach=f),
                                     lambda p: torch.optim.AdamW(p, 0.01, (0.5, 0.9), weight_decay=0.1)),
            "0.003-(0,0.99)-eps1e-3-wd0": (lambda p, f: AdamW(p, 0.003, (0.0, 0.99), 1e-3, weight_decay=0.0, foreach=f),
                                           lambda p: torch.optim.AdamW(p, 0.003, (0.0, 0.99), 1e-3, weight_decay=0.0)),
        },
        paths={"paper-form": lambda p, f: AdamW(p, 0.05, (0.9, 0.99), 0.0, weight_decay=0.01, bias_correction=False,
                                                 step="inv_sqrt", bounds=(-0.5, 0.5), foreach=f)},
        compiled={"decay-0.1": lambda p, **k: AdamW(p, 0.01, weight_decay=0.1, **k)},
    ),
})
