"""Adam on one flat buffer, written out so that a step is a fixed handful of whole-buffer ops.

``torch.optim.Adam`` loops over parameter tensors and adds Python overhead per step; our learners keep
all parameters in one buffer. Learning rates (actor/critics vs. temperature, and different learners in a
stack) and per-member bias corrections are per-element tensors, so stacked learners are updated by
exactly the same ops, in the same order, as a single one. Python floats are never passed as tensor
operands (each would cost a dtype conversion on the hot path).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["ADAM_BETAS", "ADAM_EPS", "FlatAdam"]

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


class FlatAdam:
    """Adam (Kingma & Ba 2015, Alg. 1; no weight decay) over a flat buffer with per-element learning rate.

    The bias corrections are folded in: with c1 = 1 / (1 - beta1^t) and c2 = 1 / (1 - beta2^t),
        p -= lr * c1 * m / (sqrt(c2 * v) + eps)  ==  p -= (lr * c1 / sqrt(c2)) * m / (sqrt(v) + eps / sqrt(c2)).

    Args:
        lr: per-element learning rate, shape (P,).
        member_of: member index of every element, shape (P,) (members may be at different steps).
    """

    def __init__(self, lr: torch.Tensor, member_of: torch.Tensor) -> None:
        self.lr = lr
        self.member_of = member_of
        self._step_scale = torch.zeros((), device=lr.device)
        self._eps_hat = torch.zeros((), device=lr.device)
        self._step_size = torch.zeros_like(lr)
        self._scratch = torch.zeros_like(lr)
        self._denom = torch.zeros_like(lr)

    @staticmethod
    def _scales(step: int) -> tuple[float, float]:
        beta1, beta2 = ADAM_BETAS
        root_c2 = math.sqrt(1.0 / (1.0 - beta2**step))
        return (1.0 / (1.0 - beta1**step)) / root_c2, ADAM_EPS / root_c2

    def step_(
        self,
        param: torch.Tensor,
        grad: torch.Tensor,
        exp_avg: torch.Tensor,
        exp_avg_sq: torch.Tensor,
        steps: Sequence[int],
    ) -> None:
        """One step in place; ``steps`` are the members' 1-based step counts after this step.

        Members at the same step (always the case for a single learner) share one scalar correction;
        the per-element gather is only needed when a stack mixes step counts.
        """
        beta1, beta2 = ADAM_BETAS
        if len(set(steps)) == 1:
            step_scale, eps_hat = self._scales(steps[0])
            self._step_scale.fill_(step_scale)
            self._eps_hat.fill_(eps_hat)
            torch.mul(self.lr, self._step_scale, out=self._step_size)
            eps: torch.Tensor = self._eps_hat
        else:
            per_member = torch.tensor([self._scales(t) for t in steps], device=self.lr.device)
            per_element = per_member.index_select(0, self.member_of)
            torch.mul(self.lr, per_element[:, 0], out=self._step_size)
            eps = per_element[:, 1]
        exp_avg.lerp_(grad, 1.0 - beta1)
        torch.mul(grad, grad, out=self._scratch)
        exp_avg_sq.lerp_(self._scratch, 1.0 - beta2)
        torch.sqrt(exp_avg_sq, out=self._denom).add_(eps)
        torch.mul(exp_avg, self._step_size, out=self._scratch)
        param.addcdiv_(self._scratch, self._denom, value=-1.0)
