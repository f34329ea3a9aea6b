"""The SAC update for a stack of ``n`` learners: one set of batched torch ops for all of them.

A single :class:`~graph_rl.learners.sac.SACLearner` owns a stack of one; ``update_many`` copies several
learners into a padded stack, runs the same :meth:`SACStack.update` and copies them back. One code path
is what makes ``update_many`` equal to sequential updates.

Semantics per member, one gradient step (B = batch size):
    a~, logpi ~ pi(s) and a', logpi' ~ pi(s')       one actor pass over [s; s'] with the given noise
    y = r + (1 - done) * gamma**k * (min_j Q'_j(s', a') - alpha * logpi')    (k = discount exponent)
    L_critic = sum_j mean_b (Q_j(s, a) - y)^2      (the sum gives each twin exactly its own MSE gradient)
    L_actor  = mean_b (alpha * logpi - min_j Q_j(s, a~))           (critic weights held fixed)
    L_alpha  = -log_alpha * (mean_b logpi + target_entropy)         (auto temperature only)
All gradients are taken at the pre-step parameters (as in acme's SAC), i.e. the actor sees the critics
before, not after, this step's critic update; then one Adam step on everything and Polyak on the critics.

Why no autograd: at [32, 32] / 512 the update is dispatch-bound. The backward pass is written out by
hand (ReLU MLPs, tanh-Gaussian head), which lets the actor-loss pass share the critic's forward and
backward matmuls, writes weight gradients straight into one flat gradient buffer, and keeps every
activation in preallocated buffers (no allocator churn). ``tests/learners`` checks it against autograd.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from graph_rl.learners.networks import LOG_SIGMA_MAX, LOG_SIGMA_MIN, MU_BOUND, ParamLayout, StackDims, head_forward, hidden_forward
from graph_rl.learners.optim import adam_bias_corrections, adam_step_

if TYPE_CHECKING:
    from graph_rl.learners.sac import SACConfig

__all__ = ["STAT_NAMES", "SACStack", "StateLayout", "UpdateBuffers"]

STAT_NAMES = ("loss_critic", "loss_actor", "alpha", "entropy", "q_mean", "loss_alpha")
# Per real action dim: -0.5 log(2 pi) from the Gaussian and -2 log 2 from log(1 - tanh(u)^2).
_LOGPI_CONST_PER_DIM = -0.5 * math.log(2.0 * math.pi) - 2.0 * math.log(2.0)
_relu_backward_ = torch.ops.aten.threshold_backward.grad_input


class StateLayout:
    """The flat state of a stack: ``[params | adam exp_avg | adam exp_avg_sq | target critic | stat sums]``."""

    def __init__(self, dims: StackDims) -> None:
        self.params = ParamLayout(dims)
        p = self.params.size
        critic = p - self.params.critic_start
        n_stats = len(STAT_NAMES) * dims.n
        bounds = [0, p, 2 * p, 3 * p, 3 * p + critic, 3 * p + critic + n_stats]
        names = ("params", "exp_avg", "exp_avg_sq", "target_critic", "stat_sums")
        self.slices = {name: slice(lo, hi) for name, lo, hi in zip(names, bounds[:-1], bounds[1:])}
        self.size = bounds[-1]

    def member_index(self, member: int, sub: StackDims) -> torch.Tensor:
        """Positions in this state of every element of a one-member state ``sub`` placed at ``member``."""
        p_idx = torch.from_numpy(self.params.member_index(member, sub))
        p = self.params.size
        target = p_idx[ParamLayout(sub).critic_start :] - self.params.critic_start + 3 * p
        stats = self.slices["stat_sums"].start + len(STAT_NAMES) * member + torch.arange(len(STAT_NAMES))
        return torch.cat([p_idx, p_idx + p, p_idx + 2 * p, target, stats])


class UpdateBuffers:
    """Inputs, activations and gradients of one update for a fixed batch size, allocated once.

    Callers fill ``obs2`` (n, 2B, obs) = [s; s'], the observation columns of ``critic_in``
    (n, 2 twins, 2B, obs + act) = [(s, a); (s, a~)] and ``target_in`` (n, 2, B, obs + act) = (s', a'),
    the batch actions of ``critic_in`` and the noise ``eps`` (n, act, 2B): columns [:B] for a~, [B:] for a'.
    Padded entries stay zero.
    """

    def __init__(self, dims: StackDims, batch: int, device: torch.device) -> None:
        n, d, a, hidden = dims.n, dims.obs_dim, dims.act_dim, dims.hidden

        def zeros(*shape: int) -> torch.Tensor:
            return torch.zeros(*shape, device=device)

        self.obs2 = zeros(n, 2 * batch, d)
        self.critic_in = zeros(n, 2, 2 * batch, d + a)
        self.target_in = zeros(n, 2, batch, d + a)
        self.eps = zeros(n, a, 2 * batch)
        self.actor_h = [zeros(n, 2 * batch, h) for h in hidden]
        self.actor_g = [zeros(n, batch, h) for h in hidden]
        self.actor_head = zeros(n, 2 * a, 2 * batch)
        self.actor_head_g = zeros(n, 2 * a, batch)
        self.critic_h = [zeros(2 * n, 2 * batch, h) for h in hidden]
        self.critic_g = [zeros(2 * n, 2 * batch, h) for h in hidden]
        self.critic_z = zeros(2 * n, 1, 2 * batch)
        self.critic_zg = zeros(2 * n, 1, 2 * batch)
        self.target_h = [zeros(2 * n, batch, h) for h in hidden]
        self.target_z = zeros(2 * n, 1, batch)


class SACStack:
    """Parameters, optimiser state and update of ``n`` SAC learners padded to common ``dims``."""

    def __init__(self, dims: StackDims, configs: Sequence[SACConfig], member_dims: Sequence[StackDims], device: torch.device) -> None:
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
        self.grad = torch.zeros_like(self.params)
        pl = self.layout.params
        self.critic_params = self.params[pl.critic_slice]
        self.actor = pl.views(self.params, "actor")
        self.log_alpha = pl.views(self.params, "log_alpha")[0]
        self.critic = pl.views(self.params, "critic")
        self.target_critic = pl.views(self.target, "critic", start=pl.critic_start)
        self.actor_grad = pl.views(self.grad, "actor")
        self.log_alpha_grad = pl.views(self.grad, "log_alpha")[0]
        self.critic_grad = pl.views(self.grad, "critic")
        self._buffers: dict[int, UpdateBuffers] = {}
        self._set_hyperparameters(configs, member_dims)

    def _set_hyperparameters(self, configs: Sequence[SACConfig], member_dims: Sequence[StackDims]) -> None:
        """Per-member constants as broadcastable tensors; python flags choose which optional ops run."""
        dims, dev = self.dims, self.device

        def column(values: list[float]) -> torch.Tensor:
            return torch.tensor(values, dtype=torch.float32, device=dev).view(-1, 1)

        self.gamma = column([c.gamma for c in configs])
        self.target_entropy = column(
            [-float(d.act_dim) if c.target_entropy is None else c.target_entropy for c, d in zip(configs, member_dims)]
        )
        auto = [c.auto_alpha for c in configs]
        self.any_auto = any(auto)
        self.auto_mask = None if all(auto) or not self.any_auto else column([float(x) for x in auto])
        negative = [c.force_negative for c in configs]
        self.any_negative = any(negative)
        self.negative_mask = None if all(negative) or not self.any_negative else torch.tensor(negative, device=dev).view(-1, 1, 1)
        self.logpi_const = column([d.act_dim * _LOGPI_CONST_PER_DIM for d in member_dims])
        padded = any(d.act_dim < dims.act_dim for d in member_dims)
        self.act_mask = (
            torch.stack([(torch.arange(dims.act_dim) < d.act_dim).float() for d in member_dims]).view(dims.n, -1, 1).to(dev)
            if padded
            else None
        )
        lr = torch.empty(self.layout.params.size)
        member_of = torch.empty(self.layout.params.size, dtype=torch.long)
        for e in self.layout.params.entries:
            rows = 2 if e.kind == "critic" else 1
            per_member = rows * math.prod(e.shape[1:])
            for i, c in enumerate(configs):
                chunk = slice(e.offset + i * per_member, e.offset + (i + 1) * per_member)
                lr[chunk] = c.alpha_learning_rate if e.kind == "log_alpha" else c.learning_rate
                member_of[chunk] = i
        self.lr = lr.to(dev)
        self.member_of = member_of.to(dev)
        taus = [c.tau for c in configs]
        critic_member = self.member_of[self.layout.params.critic_slice]
        self.tau: torch.Tensor | float = taus[0] if len(set(taus)) == 1 else torch.tensor(taus, device=dev)[critic_member]

    def buffers(self, batch: int) -> UpdateBuffers:
        """The update buffers for batch size ``batch`` (created on first use)."""
        buf = self._buffers.get(batch)
        if buf is None:
            buf = self._buffers[batch] = UpdateBuffers(self.dims, batch, self.device)
        return buf

    def _q(self, z: torch.Tensor) -> torch.Tensor:
        """Critic head output -> Q, applying logsigmoid for force-negative members. z (2n, 1, R) -> (n, 2, R)."""
        z = z.view(self.dims.n, 2, -1)
        if not self.any_negative:
            return z
        if self.negative_mask is None:
            return F.logsigmoid(z)
        return torch.where(self.negative_mask, F.logsigmoid(z), z)

    def update(self, buf: UpdateBuffers, rew: torch.Tensor, done: torch.Tensor, discount_exponent: torch.Tensor, steps: Sequence[int]) -> None:
        """One gradient step for every member on the filled ``buf``; rew/done/discount_exponent are (n, B).

        ``steps`` are the members' 1-based Adam steps after this update.
        """
        self.compute_gradients(buf, rew, done, discount_exponent)
        step_size, inv_bias2 = self._bias_terms(steps)
        adam_step_(self.params, self.grad, self.exp_avg, self.exp_avg_sq, step_size, inv_bias2)
        self.target.lerp_(self.critic_params, self.tau)

    def _bias_terms(self, steps: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor | float]:
        """Per-element Adam step size lr / (1 - beta1^t) and 1 / (1 - beta2^t)."""
        if len(steps) == 1:
            c1, c2 = adam_bias_corrections(steps[0])
            return self.lr * c1, c2
        corr = torch.tensor([adam_bias_corrections(t) for t in steps], dtype=torch.float32, device=self.device)
        corr = corr.index_select(0, self.member_of)
        return self.lr * corr[:, 0], corr[:, 1]

    def compute_gradients(self, buf: UpdateBuffers, rew: torch.Tensor, done: torch.Tensor, discount_exponent: torch.Tensor) -> None:
        """Fill ``self.grad`` with d(L_critic + L_actor + L_alpha)/d(params) and add this step's stats."""
        n, d, a = self.dims.n, self.dims.obs_dim, self.dims.act_dim
        batch = rew.shape[1]
        head = head_forward(hidden_forward(buf.obs2, self.actor, buf.actor_h)[-1], self.actor[-2], self.actor[-1], buf.actor_head)
        mu_raw, ls_raw = head[:, :a], head[:, a:]
        mu = mu_raw.clamp(-MU_BOUND, MU_BOUND)
        log_sigma = ls_raw.clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX)
        sigma_eps = log_sigma.exp().mul_(buf.eps)
        u = mu + sigma_eps
        action = torch.tanh(u)  # (n, act, 2B)
        neg2u = u * -2.0
        # log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)): stable where tanh saturates.
        per_dim = torch.add(log_sigma, neg2u).sub_(F.softplus(neg2u), alpha=2.0)
        if self.act_mask is not None:
            per_dim.mul_(self.act_mask)
        noise = torch.add(self.logpi_const, buf.eps.square().sum(1), alpha=-0.5)
        logpi = noise.sub_(per_dim.sum(1))  # (n, 2B)
        logpi_cur, logpi_next = logpi[:, :batch], logpi[:, batch:]
        alpha = self.log_alpha.exp()  # (n, 1)

        buf.target_in[..., d:].copy_(action[:, :, batch:].transpose(1, 2).unsqueeze(1))
        x_t = buf.target_in.view(2 * n, batch, d + a)
        h_t = hidden_forward(x_t, self.target_critic, buf.target_h)[-1]
        q_next = self._q(head_forward(h_t, self.target_critic[-2], self.target_critic[-1], buf.target_z)).amin(1)
        soft_next = torch.addcmul(q_next, alpha, logpi_next, value=-1.0)
        y = torch.pow(self.gamma, discount_exponent).mul_(1.0 - done).mul_(soft_next).add_(rew)

        buf.critic_in[:, :, batch:, d:].copy_(action[:, :, :batch].transpose(1, 2).unsqueeze(1))
        x_c = buf.critic_in.view(2 * n, 2 * batch, d + a)
        h_c = hidden_forward(x_c, self.critic, buf.critic_h)
        q = self._q(head_forward(h_c[-1], self.critic[-2], self.critic[-1], buf.critic_z))  # (n, 2, 2B)
        q_data, q_pi = q[..., :batch], q[..., batch:]

        # dL/dQ: critic rows 2 (Q - y) / B; actor rows -1/B on the smaller twin.
        gz = buf.critic_zg.view(n, 2, 2 * batch)
        diff = torch.sub(q_data, y.unsqueeze(1), out=gz[..., :batch])
        loss_critic = diff.square().sum((1, 2)).div_(batch)
        diff.mul_(2.0 / batch)
        first_min = q_pi[:, 0] <= q_pi[:, 1]
        torch.mul(first_min, -1.0 / batch, out=gz[:, 0, batch:])
        torch.add(gz[:, 0, batch:], 1.0 / batch, out=gz[:, 1, batch:]).neg_()
        q_pi_min = torch.minimum(q_pi[:, 0], q_pi[:, 1])
        if self.any_negative:  # d logsigmoid(z)/dz = 1 - exp(Q)
            slope = torch.expm1(q).neg_()
            gz.mul_(slope if self.negative_mask is None else torch.where(self.negative_mask, slope, 1.0))
        g_act = self._critic_backward(buf, x_c, h_c, batch)  # (n, B, act)

        # Actor: dL/da from the critic, dL/dlogpi = alpha / B.
        coef = alpha.unsqueeze(-1) / batch  # (n, 1, 1)
        a_cur = action[:, :, :batch]
        g_u = torch.rsub(a_cur.square(), 1.0).mul_(g_act.transpose(1, 2)).add_(a_cur * (2.0 * coef))
        g_head = buf.actor_head_g
        torch.mul(g_u, mu_raw[..., :batch] == mu[..., :batch], out=g_head[:, :a])
        g_ls = torch.mul(g_u, sigma_eps[..., :batch]).sub_(coef)
        torch.mul(g_ls, ls_raw[..., :batch] == log_sigma[..., :batch], out=g_head[:, a:])
        if self.act_mask is not None:
            g_head[:, a:].mul_(self.act_mask)
        self._actor_backward(buf, batch)

        logpi_mean = logpi_cur.mean(-1, keepdim=True)  # (n, 1)
        if self.any_auto:
            torch.add(logpi_mean, self.target_entropy, out=self.log_alpha_grad).neg_()
            if self.auto_mask is not None:
                self.log_alpha_grad.mul_(self.auto_mask)
            loss_alpha = (self.log_alpha * self.log_alpha_grad).view(-1)
        else:
            loss_alpha = torch.zeros_like(loss_critic)
        loss_actor = torch.addcmul(-q_pi_min, alpha, logpi_cur).mean(-1)
        stats = [loss_critic, loss_actor, alpha.view(-1), -logpi_mean.view(-1), q_data.mean((1, 2)), loss_alpha]
        self.stat_sums.add_(torch.stack(stats, dim=1))

    def _critic_backward(self, buf: UpdateBuffers, x_c: torch.Tensor, h_c: list[torch.Tensor], batch: int) -> torch.Tensor:
        """Critic weight gradients from the data rows; returns dL/d(policy action) (n, B, act)."""
        n, d, a = self.dims.n, self.dims.obs_dim, self.dims.act_dim
        params, grads = self.critic, self.critic_grad
        gz = buf.critic_zg  # (2n, 1, 2B)
        torch.bmm(gz[..., :batch], h_c[-1][:, :batch], out=grads[-2])
        torch.sum(gz[..., :batch], dim=-1, keepdim=True, out=grads[-1])
        g = torch.mul(gz.transpose(1, 2), params[-2], out=buf.critic_g[-1])
        _relu_backward_(g, h_c[-1], 0.0, grad_input=g)
        for layer in reversed(range(len(h_c))):
            x_in = x_c if layer == 0 else h_c[layer - 1]
            torch.bmm(x_in[:, :batch].transpose(1, 2), g[:, :batch], out=grads[2 * layer])
            torch.sum(g[:, :batch], dim=1, keepdim=True, out=grads[2 * layer + 1])
            if layer > 0:
                g = torch.bmm(g, params[2 * layer].transpose(1, 2), out=buf.critic_g[layer - 1])
                _relu_backward_(g, h_c[layer - 1], 0.0, grad_input=g)
        g_act = torch.bmm(g[:, batch:], params[0][:, d:].transpose(1, 2))  # (2n, B, act)
        return g_act.view(n, 2, batch, a).sum(1)

    def _actor_backward(self, buf: UpdateBuffers, batch: int) -> None:
        """Actor weight gradients from ``buf.actor_head_g`` over the current-state rows."""
        params, grads = self.actor, self.actor_grad
        h = [x[:, :batch] for x in buf.actor_h]
        g_head = buf.actor_head_g
        torch.bmm(g_head, h[-1], out=grads[-2])
        torch.sum(g_head, dim=-1, keepdim=True, out=grads[-1])
        g = torch.bmm(g_head.transpose(1, 2), params[-2], out=buf.actor_g[-1])
        _relu_backward_(g, h[-1], 0.0, grad_input=g)
        for layer in reversed(range(len(h))):
            x_in = buf.obs2[:, :batch] if layer == 0 else h[layer - 1]
            torch.bmm(x_in.transpose(1, 2), g, out=grads[2 * layer])
            torch.sum(g, dim=1, keepdim=True, out=grads[2 * layer + 1])
            if layer > 0:
                g = torch.bmm(g, params[2 * layer].transpose(1, 2), out=buf.actor_g[layer - 1])
                _relu_backward_(g, h[layer - 1], 0.0, grad_input=g)
