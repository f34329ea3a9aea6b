"""Preallocated tensors (and every slice of them) for one SAC update of a stack at one batch size.

Why: at [32, 32] / 512 the update is dispatch-bound, and on this CPU a slice or transpose costs 3-6 us,
a fresh 128 KiB activation can cost a page fault per 4 KiB, and a Python-float operand costs a dtype
conversion. So the update writes every intermediate into a buffer allocated here once, reads it through
views made here once, and takes its constants as 0-dim float32 tensors.

Naming: B = batch size. Row blocks ``[:B]`` and ``[B:]`` of the actor are the current (s) and next (s')
states; of the online critic, the batch pairs (s, a) and the policy pairs (s, a~).
"""

from __future__ import annotations

import torch

from graph_rl.learners.networks import StackDims

__all__ = ["UpdateBuffers"]


class UpdateBuffers:
    """Inputs, activations, gradients and their views for batch size ``batch``.

    Callers fill, per member, ``obs2`` = [s; s'], ``critic_obs`` (s in both row blocks of both twins),
    ``critic_act_data`` (batch actions), ``target_obs`` (s') and ``eps`` (noise: columns [:B] for a~,
    [B:] for a'). Padded entries stay zero.
    """

    def __init__(self, dims: StackDims, batch: int, device: torch.device, negative: bool) -> None:
        n, d, a, b = dims.n, dims.obs_dim, dims.act_dim, batch

        def zeros(*shape: int) -> torch.Tensor:
            return torch.zeros(*shape, device=device)

        def const(value: float) -> torch.Tensor:
            return torch.tensor(value, dtype=torch.float32, device=device)

        self.batch = b
        self.inv_b, self.two_over_b, self.neg_inv_b = const(1.0 / b), const(2.0 / b), const(-1.0 / b)
        self.neg_two, self.one = const(-2.0), const(1.0)
        # Scale of each summed statistic (see SACStack.compute_gradients).
        self.stat_scale = torch.tensor([1.0 / b, -1.0 / b, 1.0, -1.0 / b, 0.5 / b, 1.0], device=device)

        # Inputs.
        self.obs2 = zeros(n, 2 * b, d)
        self.obs_cur_t = self.obs2[:, :b].transpose(1, 2)
        critic_in = zeros(n, 2, 2 * b, d + a)
        self.critic_obs = critic_in.view(n, 2, 2, b, d + a)[..., :d]
        self.critic_act_data = critic_in[:, :, :b, d:]
        self.critic_act_policy = critic_in[:, :, b:, d:]
        self.x_critic = critic_in.view(2 * n, 2 * b, d + a)
        self.x_critic_data_t = self.x_critic[:, :b].transpose(1, 2)
        target_in = zeros(n, 2, b, d + a)
        self.target_obs = target_in[..., :d]
        self.target_act = target_in[..., d:]
        self.x_target = target_in.view(2 * n, b, d + a)
        self.eps = zeros(n, a, 2 * b)
        self._member_views: dict[tuple[int, int, int], tuple[torch.Tensor, ...]] = {}

        # Actor forward over [s; s'].
        self.actor_h = [zeros(n, 2 * b, h) for h in dims.hidden]
        self.actor_h_cur = [h[:, :b] for h in self.actor_h]
        self.actor_h_cur_t = [h.transpose(1, 2) for h in self.actor_h_cur]
        self.actor_h_last_t = self.actor_h[-1].transpose(1, 2)
        self.head = zeros(n, 2 * a, 2 * b)
        self.mu_raw_cur, self.ls_raw_cur = self.head[:, :a, :b], self.head[:, a:, :b]
        self.mu_raw, self.ls_raw = self.head[:, :a], self.head[:, a:]
        self.mu, self.log_sigma, self.sigma_eps, self.u = (zeros(n, a, 2 * b) for _ in range(4))
        self.sigma_eps_cur = self.sigma_eps[..., :b]
        self.action = zeros(n, a, 2 * b)
        self.action_cur = self.action[..., :b]
        self.action_cur_rows = self.action[..., :b].transpose(1, 2).unsqueeze(1)
        self.action_next_rows = self.action[..., b:].transpose(1, 2).unsqueeze(1)
        self.neg2u, self.softplus, self.per_dim = (zeros(n, a, 2 * b) for _ in range(3))
        self.per_dim_sum = self.per_dim.view(n, 2 * b) if a == 1 else zeros(n, 2 * b)
        self.logpi = zeros(n, 2 * b)
        self.logpi_cur, self.logpi_next = self.logpi[:, :b], self.logpi[:, b:]
        # One step's summed statistics, one column per STAT_NAMES entry (scaled by stat_scale), written
        # in place by the ops that produce them: [sum (Q - y)^2, sum min Q~ - alpha sum logpi, alpha,
        # sum logpi, sum Q(s, a), loss_alpha].
        self.stats = zeros(n, 6)
        self.loss_critic_sum, self.loss_actor_sum = self.stats[:, 0], self.stats[:, 1]
        self.alpha = self.stats[:, 2:3]
        self.alpha_flat, self.alpha_3d = self.stats[:, 2], self.alpha.view(n, 1, 1)
        self.logpi_cur_sum = self.stats[:, 3:4]
        self.logpi_cur_sum_flat = self.stats[:, 3]
        self.q_data_sum, self.loss_alpha = self.stats[:, 4], self.stats[:, 5]
        self.coef, self.coef2 = zeros(n, 1, 1), zeros(n, 1, 1)

        # Target critic over (s', a').
        self.target_h = [zeros(2 * n, b, h) for h in dims.hidden]
        self.target_h_last_t = self.target_h[-1].transpose(1, 2)
        self.target_z = zeros(2 * n, 1, b)
        self.target_z_twins = self.target_z.view(n, 2, b)
        self.target_q = zeros(n, 2, b) if negative else self.target_z_twins
        self.target_ls_buffer = zeros(n, 2, b)
        self.target_min, self.soft_next, self.discount, self.y = (zeros(n, b) for _ in range(4))
        self.y_rows = self.y.unsqueeze(1)

        # Online critic over [(s, a); (s, a~)] and its backward pass.
        self.critic_h = [zeros(2 * n, 2 * b, h) for h in dims.hidden]
        self.critic_h_data = [h[:, :b] for h in self.critic_h]
        self.critic_h_data_t = [h.transpose(1, 2) for h in self.critic_h_data]
        self.critic_h_last_t = self.critic_h[-1].transpose(1, 2)
        self.critic_z = zeros(2 * n, 1, 2 * b)
        self.critic_z_twins = self.critic_z.view(n, 2, 2 * b)
        self.critic_q = zeros(n, 2, 2 * b) if negative else self.critic_z_twins
        self.critic_ls_buffer = zeros(n, 2, 2 * b)
        self.q_data = self.critic_q[..., :b]
        self.q_policy = (self.critic_q[:, 0, b:], self.critic_q[:, 1, b:])
        self.q_policy_min = zeros(n, b)
        self.critic_zg = zeros(2 * n, 1, 2 * b)
        self.critic_zg_rows = self.critic_zg.transpose(1, 2)
        self.critic_zg_data = self.critic_zg[..., :b]
        zg = self.critic_zg.view(n, 2, 2 * b)
        self.critic_zg_twins = zg
        self.critic_zg_q_data = zg[..., :b]
        self.critic_zg_policy = (zg[:, 0, b:], zg[:, 1, b:])
        self.critic_g = [zeros(2 * n, 2 * b, h) for h in dims.hidden]
        self.critic_g_data = [g[:, :b] for g in self.critic_g]
        self.critic_g_policy_first = self.critic_g[0][:, b:]
        self.g_act_twins = zeros(2 * n, b, a)
        self.g_act_twins_split = self.g_act_twins.view(n, 2, b, a)
        self.g_act = zeros(n, b, a)
        self.g_act_t = self.g_act.transpose(1, 2)

        # Actor backward over the current-state rows.
        self.g_u, self.g_ls_pre = zeros(n, a, b), zeros(n, a, b)
        self.head_g = zeros(n, 2 * a, b)
        self.head_g_mu, self.head_g_ls = self.head_g[:, :a], self.head_g[:, a:]
        self.head_g_rows = self.head_g.transpose(1, 2)
        self.actor_g = [zeros(n, b, h) for h in dims.hidden]
        self.q_policy_sum = zeros(n)

    def member_views(self, i: int, obs_dim: int, act_dim: int) -> tuple[torch.Tensor, ...]:
        """Destinations of member ``i``'s batch: (s rows, s' rows, critic s, critic a, target s', noise)."""
        key = (i, obs_dim, act_dim)
        views = self._member_views.get(key)
        if views is None:
            b = self.batch
            views = self._member_views[key] = (
                self.obs2[i, :b, :obs_dim],
                self.obs2[i, b:, :obs_dim],
                self.critic_obs[i, ..., :obs_dim],
                self.critic_act_data[i, ..., :act_dim],
                self.target_obs[i, ..., :obs_dim],
                self.eps[i, :act_dim],
            )
        return views
