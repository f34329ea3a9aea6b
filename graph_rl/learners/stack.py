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

import torch

from graph_rl.config.sac import SACConfig
from graph_rl.learners.buffers import UpdateBuffers
from graph_rl.learners.networks import LOG_SIGMA_MAX, LOG_SIGMA_MIN, MU_BOUND, ParamLayout, StackDims, hidden_forward
from graph_rl.learners.optim import FlatAdam

__all__ = ["STAT_NAMES", "SACStack", "StateLayout"]

STAT_NAMES = ("loss_critic", "loss_actor", "alpha", "entropy", "q_mean", "loss_alpha")
# Per real action dim: -0.5 log(2 pi) from the Gaussian and -2 log 2 from log(1 - tanh(u)^2).
LOGPI_CONST_PER_DIM = -0.5 * math.log(2.0 * math.pi) - 2.0 * math.log(2.0)
_aten = torch.ops.aten
_relu_backward = _aten.threshold_backward.grad_input
_hardtanh = torch._C._nn.hardtanh
_softplus = torch._C._nn.softplus


def _hidden_backward(
    grads: list[torch.Tensor],
    g_weight: list[torch.Tensor],
    g: list[torch.Tensor],
    h: list[torch.Tensor],
    x_t: torch.Tensor,
    h_t: list[torch.Tensor],
    w_t: list[torch.Tensor],
) -> None:
    """Weight and bias gradients of the hidden layers of an MLP stack, last to first, in place.

    ``g[l]``: gradient at layer ``l``'s pre-activation (filled for the last hidden layer on entry), ``g_weight[l]``
    the rows of it that weight gradients sum over (a view of ``g[l]``, or ``g[l]`` itself); ``h``/``h_t``: the
    hidden activations and their transposes; ``x_t``: the transposed input; ``w_t[l]``: layer ``l``'s transposed
    weights.
    """
    for layer in reversed(range(len(g))):
        torch.bmm(x_t if layer == 0 else h_t[layer - 1], g_weight[layer], out=grads[2 * layer])
        torch.sum(g_weight[layer], 1, keepdim=True, out=grads[2 * layer + 1])
        if layer > 0:
            torch.bmm(g[layer], w_t[layer], out=g[layer - 1])
            _relu_backward(g[layer - 1], h[layer - 1], 0.0, grad_input=g[layer - 1])


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


class SACStack:
    """Parameters, optimiser state and update of ``n`` SAC learners padded to common ``dims``."""

    def __init__(
        self, dims: StackDims, configs: Sequence[SACConfig], member_dims: Sequence[StackDims], device: torch.device
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
        self.log_alpha_flat, self.log_alpha_grad_flat = self.log_alpha.view(-1), self.log_alpha_grad.view(-1)
        # Transposed weight views for the backward pass (views stay valid: updates are in place).
        self.actor_w_t = [w.transpose(1, 2) for w in self.actor[:-2:2]]
        self.critic_w_t = [w.transpose(1, 2) for w in self.critic[:-2:2]]
        self.critic_act_w_t = self.critic[0][:, dims.obs_dim :].transpose(1, 2)
        self._buffers: dict[int, UpdateBuffers] = {}
        self._set_hyperparameters(configs, member_dims)

    def _set_hyperparameters(self, configs: Sequence[SACConfig], member_dims: Sequence[StackDims]) -> None:
        """Per-member constants as broadcastable tensors; python flags choose which optional ops run."""
        dims, dev = self.dims, self.device

        def column(values: list[float]) -> torch.Tensor:
            return torch.tensor(values, dtype=torch.float32, device=dev).view(-1, 1)

        self.gamma = column([c.gamma for c in configs])
        self.neg_target_entropy = column(
            [float(d.act_dim) if c.target_entropy is None else -c.target_entropy for c, d in zip(configs, member_dims)]
        )
        auto = [c.auto_alpha for c in configs]
        self.any_auto = any(auto)
        self.auto_mask = None if all(auto) or not self.any_auto else column([float(x) for x in auto])
        negative = [c.force_negative for c in configs]
        self.any_negative = any(negative)
        mixed_negative = self.any_negative and not all(negative)
        self.negative_mask = torch.tensor(negative, device=dev).view(-1, 1, 1) if mixed_negative else None
        self.logpi_const = column([d.act_dim * LOGPI_CONST_PER_DIM for d in member_dims])
        padded = any(d.act_dim < dims.act_dim for d in member_dims)
        real_dims = [(torch.arange(dims.act_dim) < d.act_dim).float() for d in member_dims]
        self.act_mask = torch.stack(real_dims).view(dims.n, -1, 1).to(dev) if padded else None
        lr = torch.empty(self.layout.params.size)
        member_of = torch.empty(self.layout.params.size, dtype=torch.long)
        for e in self.layout.params.entries:
            rows = 2 if e.kind == "critic" else 1
            per_member = rows * math.prod(e.shape[1:])
            for i, c in enumerate(configs):
                chunk = slice(e.offset + i * per_member, e.offset + (i + 1) * per_member)
                lr[chunk] = c.alpha_learning_rate if e.kind == "log_alpha" else c.learning_rate
                member_of[chunk] = i
        self.adam = FlatAdam(lr.to(dev), member_of.to(dev))
        taus = [c.tau for c in configs]
        critic_member = self.adam.member_of[self.layout.params.critic_slice]
        self.tau: torch.Tensor | float = (
            taus[0] if len(set(taus)) == 1 else torch.tensor(taus, device=dev)[critic_member]
        )

    def buffers(self, batch: int) -> UpdateBuffers:
        """The update buffers for batch size ``batch`` (created on first use)."""
        buf = self._buffers.get(batch)
        if buf is None:
            buf = self._buffers[batch] = UpdateBuffers(self.dims, batch, self.device, self.any_negative)
        return buf

    def update(
        self,
        buf: UpdateBuffers,
        rew: torch.Tensor,
        done: torch.Tensor,
        discount_exponent: torch.Tensor,
        steps: Sequence[int],
    ) -> None:
        """One gradient step for every member on the filled ``buf``.

        Args:
            rew, done, discount_exponent: (n, B), or (B,) for a stack of one.
            steps: the members' 1-based Adam steps after this update.
        """
        self.compute_gradients(buf, rew, done, discount_exponent)
        self.adam.step_(self.params, self.grad, self.exp_avg, self.exp_avg_sq, steps)
        self.target.lerp_(self.critic_params, self.tau)

    def _q_(self, z: torch.Tensor, q: torch.Tensor, ls_buffer: torch.Tensor) -> None:
        """Q from the critic head output: ``logsigmoid`` for force-negative members (``q`` is ``z`` otherwise)."""
        if not self.any_negative:
            return
        _aten.log_sigmoid_forward.output(z, output=q, buffer=ls_buffer)
        if self.negative_mask is not None:
            torch.where(self.negative_mask, q, z, out=q)

    def compute_gradients(
        self, buf: UpdateBuffers, rew: torch.Tensor, done: torch.Tensor, discount_exponent: torch.Tensor
    ) -> None:
        """Fill ``self.grad`` with d(L_critic + L_actor + L_alpha)/d(params) and add this step's stats."""
        # Actor over [s; s']: tanh-Gaussian sample and log-probability by hand.
        hidden_forward(buf.obs2, self.actor, buf.actor_h)
        torch.baddbmm(self.actor[-1], self.actor[-2], buf.actor_h_last_t, out=buf.head)
        _hardtanh(buf.mu_raw, -MU_BOUND, MU_BOUND, out=buf.mu)
        _hardtanh(buf.ls_raw, LOG_SIGMA_MIN, LOG_SIGMA_MAX, out=buf.log_sigma)
        torch.exp(buf.log_sigma, out=buf.sigma_eps).mul_(buf.eps)
        torch.add(buf.mu, buf.sigma_eps, out=buf.u)
        torch.tanh(buf.u, out=buf.action)
        # log pi = const - sum_act (log_sigma + 0.5 eps^2 - 2u - 2 softplus(-2u)), using
        # log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), which is stable where tanh saturates.
        torch.mul(buf.u, buf.neg_two, out=buf.neg2u)
        _softplus(buf.neg2u, out=buf.softplus)  # type: ignore[call-arg]  # torch stubs lack out=
        torch.add(buf.log_sigma, buf.neg2u, out=buf.per_dim).sub_(buf.softplus, alpha=2.0)
        buf.per_dim.addcmul_(buf.eps, buf.eps, value=0.5)
        if self.act_mask is not None:
            buf.per_dim.mul_(self.act_mask)
        if self.dims.act_dim > 1:  # for one action dim, per_dim_sum is a view of per_dim
            torch.sum(buf.per_dim, 1, out=buf.per_dim_sum)
        torch.sub(self.logpi_const, buf.per_dim_sum, out=buf.logpi)
        torch.exp(self.log_alpha, out=buf.alpha)

        # Target y = r + (1 - done) gamma^k (min_j Q'_j(s', a') - alpha log pi(a'|s')).
        buf.target_act.copy_(buf.action_next_rows)
        hidden_forward(buf.x_target, self.target_critic, buf.target_h)
        torch.baddbmm(self.target_critic[-1], self.target_critic[-2], buf.target_h_last_t, out=buf.target_z)
        self._q_(buf.target_z_twins, buf.target_q, buf.target_ls_buffer)
        torch.amin(buf.target_q, 1, out=buf.target_min)
        torch.addcmul(buf.target_min, buf.alpha, buf.logpi_next, value=-1.0, out=buf.soft_next)
        torch.pow(self.gamma, discount_exponent, out=buf.discount)
        buf.discount.addcmul_(buf.discount, done, value=-1.0)
        torch.addcmul(rew, buf.discount, buf.soft_next, out=buf.y)

        # Online critic over [(s, a); (s, a~)] and dL/dQ: 2 (Q - y) / B on batch rows, -1/B on the
        # smaller twin of the policy rows.
        buf.critic_act_policy.copy_(buf.action_cur_rows)
        hidden_forward(buf.x_critic, self.critic, buf.critic_h)
        torch.baddbmm(self.critic[-1], self.critic[-2], buf.critic_h_last_t, out=buf.critic_z)
        self._q_(buf.critic_z_twins, buf.critic_q, buf.critic_ls_buffer)
        diff = torch.sub(buf.q_data, buf.y_rows, out=buf.critic_zg_q_data)
        torch.sum(diff.square(), (1, 2), out=buf.loss_critic_sum)
        diff.mul_(buf.two_over_b)
        q0, q1 = buf.q_policy
        g0, g1 = buf.critic_zg_policy
        torch.le(q0, q1, out=g0).mul_(buf.neg_inv_b)
        torch.sub(buf.neg_inv_b, g0, out=g1)
        torch.minimum(q0, q1, out=buf.q_policy_min)
        if self.any_negative:
            self._logsigmoid_backward(buf)
        self._critic_backward(buf)

        # Actor: dL/da from the critic; dL/dlogpi = alpha / B; d logpi/du = 2 tanh(u); d logpi/dlog_sigma = -1.
        torch.mul(buf.alpha_3d, buf.inv_b, out=buf.coef)
        torch.mul(buf.alpha_3d, buf.two_over_b, out=buf.coef2)
        _aten.tanh_backward.grad_input(buf.g_act_t, buf.action_cur, grad_input=buf.g_u)
        buf.g_u.addcmul_(buf.action_cur, buf.coef2)
        _aten.hardtanh_backward.grad_input(buf.g_u, buf.mu_raw_cur, -MU_BOUND, MU_BOUND, grad_input=buf.head_g_mu)
        torch.mul(buf.g_u, buf.sigma_eps_cur, out=buf.g_ls_pre).sub_(buf.coef)
        _aten.hardtanh_backward.grad_input(
            buf.g_ls_pre, buf.ls_raw_cur, LOG_SIGMA_MIN, LOG_SIGMA_MAX, grad_input=buf.head_g_ls
        )
        if self.act_mask is not None:
            buf.head_g_ls.mul_(self.act_mask)
        self._actor_backward(buf)

        # Temperature gradient -(mean logpi + target_entropy) and summed statistics (scaled in stat_scale).
        torch.sum(buf.logpi_cur, -1, keepdim=True, out=buf.logpi_cur_sum)
        if self.any_auto:
            torch.add(self.neg_target_entropy, buf.logpi_cur_sum, alpha=-1.0 / buf.batch, out=self.log_alpha_grad)
            if self.auto_mask is not None:
                self.log_alpha_grad.mul_(self.auto_mask)
            torch.mul(self.log_alpha_flat, self.log_alpha_grad_flat, out=buf.loss_alpha)
        torch.sum(buf.q_policy_min, -1, out=buf.q_policy_sum)
        torch.addcmul(buf.q_policy_sum, buf.alpha_flat, buf.logpi_cur_sum_flat, value=-1.0, out=buf.loss_actor_sum)
        torch.sum(buf.q_data, (1, 2), out=buf.q_data_sum)
        self.stat_sums.addcmul_(buf.stats, buf.stat_scale)

    def _logsigmoid_backward(self, buf: UpdateBuffers) -> None:
        """Chain dL/dQ through Q = logsigmoid(z) for force-negative members."""
        grad = buf.critic_zg_twins
        if self.negative_mask is None:
            _aten.log_sigmoid_backward.grad_input(grad, buf.critic_z_twins, buf.critic_ls_buffer, grad_input=grad)
        else:
            through = _aten.log_sigmoid_backward(grad, buf.critic_z_twins, buf.critic_ls_buffer)
            torch.where(self.negative_mask, through, grad, out=grad)

    def _critic_backward(self, buf: UpdateBuffers) -> None:
        """Critic weight gradients from the batch rows; dL/d(policy action) into ``buf.g_act``."""
        grads, w = self.critic_grad, self.critic
        torch.bmm(buf.critic_zg_data, buf.critic_h_data[-1], out=grads[-2])
        torch.sum(buf.critic_zg_data, -1, keepdim=True, out=grads[-1])
        torch.mul(buf.critic_zg_rows, w[-2], out=buf.critic_g[-1])
        _relu_backward(buf.critic_g[-1], buf.critic_h[-1], 0.0, grad_input=buf.critic_g[-1])
        _hidden_backward(
            grads,
            buf.critic_g_data,
            buf.critic_g,
            buf.critic_h,
            buf.x_critic_data_t,
            buf.critic_h_data_t,
            self.critic_w_t,
        )
        torch.bmm(buf.critic_g_policy_first, self.critic_act_w_t, out=buf.g_act_twins)
        torch.sum(buf.g_act_twins_split, 1, out=buf.g_act)

    def _actor_backward(self, buf: UpdateBuffers) -> None:
        """Actor weight gradients from ``buf.head_g`` over the current-state rows."""
        grads = self.actor_grad
        torch.bmm(buf.head_g, buf.actor_h_cur[-1], out=grads[-2])
        torch.sum(buf.head_g, -1, keepdim=True, out=grads[-1])
        torch.bmm(buf.head_g_rows, self.actor[-2], out=buf.actor_g[-1])
        _relu_backward(buf.actor_g[-1], buf.actor_h_cur[-1], 0.0, grad_input=buf.actor_g[-1])
        _hidden_backward(
            grads, buf.actor_g, buf.actor_g, buf.actor_h_cur, buf.obs_cur_t, buf.actor_h_cur_t, self.actor_w_t
        )
