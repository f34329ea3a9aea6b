"""The hand-written SAC backward pass against an autograd reference written from the loss formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from graph_rl.learners import SACConfig, SACLearner
from graph_rl.learners.sac import _fill_member
from graph_rl.replay import ReplayBatch
from torch_threads import one_torch_thread  # noqa: E402,F401  (autouse: one torch thread)


def make_batch(obs_dim: int, act_dim: int, size: int, seed: int) -> ReplayBatch:
    g = torch.Generator().manual_seed(seed)
    return ReplayBatch(
        obs=torch.randn(size, obs_dim, generator=g),
        act=torch.rand(size, act_dim, generator=g) * 2 - 1,
        rew=-torch.rand(size, generator=g),
        next_obs=torch.randn(size, obs_dim, generator=g),
        done=(torch.rand(size, generator=g) < 0.3).float(),
        discount_exponent=torch.randint(1, 4, (size,), generator=g).float(),
    )


def mlp(x: torch.Tensor, params: list[torch.Tensor], row: int) -> torch.Tensor:
    """Plain 2-D forward through member/twin ``row`` of stacked hidden params; returns the last hidden."""
    for i in range(0, len(params) - 2, 2):
        x = torch.relu(x @ params[i][row] + params[i + 1][row])
    return x


def reference_gradient(learner: SACLearner, batch: ReplayBatch, eps: torch.Tensor) -> torch.Tensor:
    """d(L_critic + L_actor + L_alpha)/d(flat params) by autograd, from the documented formulas."""
    cfg, stack, a_dim = learner.config, learner._stack, learner.act_dim
    layout = stack.layout.params
    flat = stack.params.detach().clone().requires_grad_()
    actor = layout.views(flat, "actor")
    log_alpha = layout.views(flat, "log_alpha")[0][0, 0]
    critic = layout.views(flat, "critic")
    critic_fixed = [p.detach() for p in critic]
    target = [p.clone() for p in stack.target_critic]
    size = batch.rew.shape[0]

    def policy(obs: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = mlp(obs, actor, 0) @ actor[-2][0].T + actor[-1][0].T
        mu = out[:, :a_dim].clamp(-3.0, 3.0)
        sigma = out[:, a_dim:].exp().clamp(1e-3, 6.0)
        u = mu + sigma * noise
        log_tanh_jac = 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))
        logp = torch.distributions.Normal(mu, sigma).log_prob(u).sum(-1) - log_tanh_jac.sum(-1)
        return torch.tanh(u), logp

    def q_min(obs: torch.Tensor, act: torch.Tensor, params: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([obs, act], -1)
        qs = torch.stack([(mlp(x, params, j) @ params[-2][j].T + params[-1][j]).squeeze(-1) for j in range(2)])
        qs = F.logsigmoid(qs) if cfg.force_negative else qs
        return qs, qs.min(0).values

    alpha = log_alpha.exp().detach()
    with torch.no_grad():
        a_next, logp_next = policy(batch.next_obs, eps[0, :, size:].T)
        _, q_next = q_min(batch.next_obs, a_next, target)
        discount = (1 - batch.done) * cfg.gamma**batch.discount_exponent
        y = batch.rew + discount * (q_next - alpha * logp_next)
    qs, _ = q_min(batch.obs, batch.act, critic)
    loss = ((qs - y) ** 2).mean(-1).sum()
    a_pi, logp = policy(batch.obs, eps[0, :, :size].T)
    _, q_pi = q_min(batch.obs, a_pi, critic_fixed)
    loss = loss + (alpha * logp - q_pi).mean()
    if cfg.auto_alpha:
        target_entropy = -a_dim if cfg.target_entropy is None else cfg.target_entropy
        loss = loss - (log_alpha * (logp.detach() + target_entropy)).mean()
    (grad,) = torch.autograd.grad(loss, flat)
    return grad


@pytest.mark.parametrize(
    "obs_dim, act_dim, kwargs",
    [
        (5, 1, {}),
        (7, 3, {"auto_alpha": True, "hidden_layers": [16, 8]}),
        (4, 2, {"force_negative": True, "auto_alpha": True, "target_entropy": 0.5, "hidden_layers": [12]}),
        (6, 2, {"force_negative": True, "gamma": 0.9, "hidden_layers": [10, 12, 9]}),
    ],
)
@pytest.mark.parametrize("saturate", [False, True])
def test_gradients_match_autograd(obs_dim: int, act_dim: int, kwargs: dict, saturate: bool) -> None:
    learner = SACLearner(
        obs_dim,
        act_dim,
        SACConfig(**kwargs),
        init_generator=torch.Generator().manual_seed(3),
        explore_generator=torch.Generator().manual_seed(4),
    )
    if saturate:  # push mu and log_sigma into their clamps for some rows, so clamp gradients are exercised
        with torch.no_grad():
            learner._stack.actor[-2].mul_(40.0)
    batch = make_batch(obs_dim, act_dim, 64, seed=5)
    stack = learner._stack
    buf = stack.buffers(64)
    _fill_member(buf, 0, learner, batch)
    eps = buf.eps.clone()
    stack.compute_gradients(buf, batch.rew.view(1, -1), batch.done.view(1, -1), batch.discount_exponent.view(1, -1))
    expected = reference_gradient(learner, batch, eps)
    np.testing.assert_allclose(stack.grad.numpy(), expected.numpy(), rtol=2e-4, atol=2e-6)
