"""Adam on one flat buffer, written out so that it costs a fixed handful of ops.

``torch.optim.Adam`` loops over parameter tensors and adds Python overhead per step; our learners keep
all parameters in one buffer, so the whole step is eight whole-buffer ops. Per-element learning rates
(actor/critics vs. temperature, and different learners in a stack) and per-member bias corrections are
plain tensors, so stacked learners are updated by the same ops as a single one.
"""

from __future__ import annotations

import torch

__all__ = ["ADAM_BETAS", "ADAM_EPS", "adam_bias_corrections", "adam_step_"]

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


def adam_bias_corrections(step: int) -> tuple[float, float]:
    """(1 / (1 - beta1^t), 1 / (1 - beta2^t)) for 1-based step ``t``, as in Kingma & Ba (2015), Alg. 1."""
    beta1, beta2 = ADAM_BETAS
    return 1.0 / (1.0 - beta1**step), 1.0 / (1.0 - beta2**step)


def adam_step_(
    param: torch.Tensor,
    grad: torch.Tensor,
    exp_avg: torch.Tensor,
    exp_avg_sq: torch.Tensor,
    step_size: torch.Tensor,
    inv_bias2: torch.Tensor | float,
) -> None:
    """One Adam step in place (no weight decay, no amsgrad).

    Args:
        step_size: learning rate times 1 / (1 - beta1^t), per element (or broadcastable).
        inv_bias2: 1 / (1 - beta2^t), per element or a scalar.
    """
    beta1, beta2 = ADAM_BETAS
    exp_avg.lerp_(grad, 1.0 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
    denom = exp_avg_sq.mul(inv_bias2).sqrt_().add_(ADAM_EPS)
    param.addcdiv_(exp_avg.mul(step_size), denom, value=-1.0)
