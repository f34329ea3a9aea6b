"""The SAC update for a stack of ``n`` learners, one set of batched torch ops for all of them.

A single :class:`~graph_rl.learners.sac.SACLearner` owns a stack of one; ``update_many`` copies several
learners into a padded stack, runs the same :meth:`SACStack.update`, and copies them back. Keeping one
code path is what makes ``update_many`` equal to sequential updates.

All state of a stack lives in one flat buffer ``state`` (see :class:`StateLayout`), so moving a learner in
or out of a stack is one index op.

Update semantics (per member; one gradient step):
    a', logpi' ~ pi(s'), a~, logpi ~ pi(s)              (one actor pass over [s; s'], noise given)
    y = r + (1 - done) * gamma**k * (min_j Q'_j(s', a') - alpha * logpi')     k = discount exponent
    L_critic = sum_j mean_b (Q_j(s, a) - y)^2            (sum over the twins = separate MSEs per critic)
    L_actor  = mean_b (alpha * logpi - min_j Q_j(s, a~))  (critic weights detached)
    L_alpha  = -log_alpha * (mean_b logpi + target_entropy)    (auto temperature only)
All three gradients come from one backward pass at the pre-step parameters (as acme's SAC does), so the
actor sees the critics before, not after, this step's critic update; then one Adam step and Polyak on the
critics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from graph_rl.learners.networks import ParamLayout, StackDims, actor_forward, critic_forward
from graph_rl.learners.optim import adam_bias_corrections, adam_step_

if TYPE_CHECKING:
    from graph_rl.learners.sac import SACConfig

__all__ = ["STAT_NAMES", "SACStack", "StateLayout"]

STAT_NAMES = ("loss_critic", "loss_actor", "alpha", "entropy", "q_mean", "loss_alpha")
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_2 = math.log(2.0)


class StateLayout:
    """The flat state of a stack: ``[params | adam exp_avg | adam exp_avg_sq | target critic | stat sums]``."""

    def __init__(self, dims: StackDims) -> None:
        self.dims = dims
        self.params = ParamLayout(dims)
        p = self.params.size
        self.critic_size = p - self.params.critic_start
        self.slices = {
            "params": slice(0, p),
            "exp_avg": slice(p, 2 * p),
            "exp_avg_sq": slice(2 * p, 3 * p),
            "target_critic": slice(3 * p, 3 * p + self.critic_size),
            "stat_sums": slice(3 * p + self.critic_size, 3 * p + self.critic_size + len(STAT_NAMES) * dims.n),
        }
        self.size = self.slices["stat_sums"].stop

    def member_index(self, member: int, sub: StackDims) -> torch.Tensor:
        """Positions in this state of every element of a one-member state ``sub`` placed at ``member``."""
        p_idx = torch.from_numpy(self.params.member_index(member, sub))
        p = self.params.size
        sub_critic_start = ParamLayout(sub).critic_start
        target = p_idx[sub_critic_start:] - self.params.critic_start + 3 * p
        stats = self.slices["stat_sums"].start + len(STAT_NAMES) * member + torch.arange(len(STAT_NAMES))
        return torch.cat([p_idx, p_idx + p, p_idx + 2 * p, target, stats])


class SACStack:
    """Parameters, optimiser state and update of ``n`` SAC learners padded to common ``dims``."""

    def __init__(
        self,
        dims: StackDims,
        configs: Sequence[SACConfig],
        member_dims: Sequence[StackDims],
        device: torch.device,
    ) -> None:
        self.dims = dims
        self.layout = StateLayout(dims)
        self.device = device
        self.state = torch.zeros(self.layout.size, device=device)
        s = self.layout.slices
        self.params = self.state[s["params"]]
        self.exp_avg = self.state[s["exp_avg"]]
        self.exp_avg_sq = self.state[s["exp_avg_sq"]]
        self.target = self.state[s["target_critic"]]
        self.stat_sums = self.state[s["stat_sums"]].view(dims.n, len(STAT_NAMES))
        pl = self.layout.params
        self.critic_params = self.params[pl.critic_slice]
        # Leaf views that autograd differentiates; the plain views feed the actor loss (detached critic).
        self.actor = [v.requires_grad_() for v in pl.views(self.params, "actor")]
        self.log_alpha = pl.views(self.params, "log_alpha")[0].requires_grad_()
        self.critic = [v.requires_grad_() for v in pl.views(self.params, "critic")]
        self.critic_detached = pl.views(self.params, "critic")
        self.target_critic = pl.views(self.target, "critic", start=pl.critic_start)
        self._set_hyperparameters(configs, member_dims)

    def _set_hyperparameters(self, configs: Sequence[SACConfig], member_dims: Sequence[StackDims]) -> None:
        """Per-member constants as broadcastable tensors (python-side flags choose which ops run)."""
        dims, dev = self.dims, self.device

        def column(values: list[float]) -> torch.Tensor:
            return torch.tensor(values, dtype=torch.float32, device=dev).view(-1, 1)

        self.gamma = column([c.gamma for c in configs])
        self.target_entropy = column(
            [-float(d.act_dim) if c.target_entropy is None else c.target_entropy for c, d in zip(configs, member_dims)]
        )
        auto = [c.auto_alpha for c in configs]
        self.any_auto = any(auto)
        self.auto_mask = None if all(auto) or not self.any_auto else column([float(a) for a in auto])
        negative = [c.force_negative for c in configs]
        self.all_negative = all(negative)
        self.negative_mask = (
            None
            if self.all_negative or not any(negative)
            else torch.tensor(negative, device=dev).repeat_interleave(2).view(-1, 1, 1)
        )
        # logpi constant per member: sum over real action dims of -0.5 log(2 pi) - 2 log 2 (tanh term).
        self.logpi_const = column([-d.act_dim * (_HALF_LOG_2PI + 2.0 * _LOG_2) for d in member_dims])
        padded = any(d.act_dim < dims.act_dim for d in member_dims)
        self.act_mask = (
            torch.stack([(torch.arange(dims.act_dim) < d.act_dim).float() for d in member_dims]).view(dims.n, 1, -1).to(dev)
            if padded
            else None
        )
        lr = torch.empty(self.layout.params.size)
        member_of = torch.empty(self.layout.params.size, dtype=torch.long)
        for kind, _, _, shape, off in self.layout.params.entries:
            per_row = math.prod(shape[1:])
            rows_per_member = 2 if kind == "critic" else 1
            for i, c in enumerate(configs):
                chunk = slice(off + i * rows_per_member * per_row, off + (i + 1) * rows_per_member * per_row)
                lr[chunk] = c.alpha_learning_rate if kind == "log_alpha" else c.learning_rate
                member_of[chunk] = i
        self.lr = lr.to(dev)
        self.member_of = member_of.to(dev)
        taus = [c.tau for c in configs]
        critic_member = self.member_of[self.layout.params.critic_slice]
        self.tau: torch.Tensor | float = (
            taus[0] if len(set(taus)) == 1 else torch.tensor(taus, device=dev)[critic_member]
        )

    def _bias_terms(self, steps: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor | float]:
        """Adam step sizes (lr / (1 - beta1^t)) and 1 / (1 - beta2^t) per element for 1-based ``steps``."""
        if len(steps) == 1:
            c1, c2 = adam_bias_corrections(steps[0])
            return self.lr * c1, c2
        corr = torch.tensor([adam_bias_corrections(t) for t in steps], dtype=torch.float32, device=self.device)
        corr = corr.index_select(0, self.member_of)
        return self.lr * corr[:, 0], corr[:, 1]

    def update(
        self,
        obs2: torch.Tensor,
        obs_act: torch.Tensor,
        rew: torch.Tensor,
        done: torch.Tensor,
        discount_exponent: torch.Tensor,
        eps: torch.Tensor,
        steps: Sequence[int],
    ) -> None:
        """One gradient step for every member (see the module docstring).

        Args:
            obs2: (n, 2B, obs) = [obs; next_obs] along the batch axis.
            obs_act: (n, B, obs + act) = [obs | act] of the batch.
            rew, done, discount_exponent: (n, B).
            eps: (n, 2B, act) standard normal noise for [a~; a'], zero in padded action dims.
            steps: 1-based Adam step of each member after this update.
        """
        dims = self.dims
        batch = rew.shape[1]
        negative = self.all_negative
        with torch.no_grad():
            alpha = self.log_alpha.exp()
            noise_logp = torch.add(self.logpi_const, eps.square().sum(-1), alpha=-0.5)
        mu, log_sigma = actor_forward(obs2, self.actor, dims.act_dim)
        u = torch.addcmul(mu, log_sigma.exp(), eps)
        action = torch.tanh(u)
        neg2u = u * -2.0
        # log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), stable where tanh saturates.
        per_dim = torch.add(log_sigma, neg2u).sub_(F.softplus(neg2u), alpha=2.0)
        if self.act_mask is not None:
            per_dim = per_dim * self.act_mask
        logpi = noise_logp - per_dim.sum(-1)
        obs, next_obs = obs2[:, :batch], obs2[:, batch:]
        with torch.no_grad():
            x_next = torch.cat([next_obs, action[:, batch:]], dim=-1)
            q_next = self._critic(x_next, self.target_critic, negative).amin(1)
            soft_next = torch.addcmul(q_next, alpha, logpi[:, batch:], value=-1.0)
            y = torch.pow(self.gamma, discount_exponent).mul_(1.0 - done).mul_(soft_next).add_(rew)
        q = self._critic(obs_act, self.critic, negative)
        loss_critic = (q - y.unsqueeze(1)).square().sum((1, 2)) / batch
        logpi_cur = logpi[:, :batch]
        q_pi = self._critic(torch.cat([obs, action[:, :batch]], dim=-1), self.critic_detached, negative).amin(1)
        loss_actor = torch.addcmul(-q_pi, alpha, logpi_cur).mean(-1)
        total = loss_critic.sum() + loss_actor.sum()
        logpi_mean = logpi_cur.detach().mean(-1, keepdim=True)
        leaves = [*self.actor, *self.critic]
        if self.any_auto:
            loss_alpha = -self.log_alpha * (logpi_mean + self.target_entropy)
            if self.auto_mask is not None:
                loss_alpha = loss_alpha * self.auto_mask
            total = total + loss_alpha.sum()
            leaves.insert(len(self.actor), self.log_alpha)
        grads = list(torch.autograd.grad(total, leaves))
        with torch.no_grad():
            if not self.any_auto:
                grads.insert(len(self.actor), torch.zeros_like(self.log_alpha))
            flat_grad = torch.cat([g.view(-1) for g in grads])
            step_size, inv_bias2 = self._bias_terms(steps)
            adam_step_(self.params, flat_grad, self.exp_avg, self.exp_avg_sq, step_size, inv_bias2)
            self.target.lerp_(self.critic_params, self.tau)
            loss_alpha_stat = loss_alpha.view(-1) if self.any_auto else torch.zeros_like(loss_actor)
            stats = torch.stack(
                [loss_critic, loss_actor, alpha.view(-1), -logpi_mean.view(-1), q.mean((1, 2)), loss_alpha_stat],
                dim=1,
            )
            self.stat_sums.add_(stats)

    def _critic(self, x: torch.Tensor, params: list[torch.Tensor], negative: bool) -> torch.Tensor:
        """Twin critics with this stack's force-negative setting (per member when mixed)."""
        q = critic_forward(x, params, negative)
        if self.negative_mask is not None:
            q2 = q.view(-1, 1, x.shape[1])
            q = torch.where(self.negative_mask, F.logsigmoid(q2), q2).view_as(q)
        return q
