"""Soft actor-critic for one node: config, learner, and stacked updates of several learners.

The learner knows nothing of nodes, goals or hierarchy: it maps flat float32 observations to actions in
[-1, 1]^act_dim and takes gradient steps on :class:`~graph_rl.replay.ReplayBatch` es. Randomness comes
only from the two generators it is given (initialisation and exploration), never from global RNGs.
The update math lives in :mod:`graph_rl.learners.stack`; its docstring states the exact losses.

Where we differ from the original Graph-RL SAC (tianshou 0.3.1), and why:
    * The actor's gradient is taken at the critics' pre-step weights (as acme's SAC does), not after
      the critic step: all three losses then share one forward/backward pass and one optimiser step,
      instead of a second critic forward pass after the critic update.
    * log sigma is clamped to [log 1e-3, log 6] instead of sigma to [1e-3, 6]: same values and gradients.
    * log(1 - tanh(u)^2) is computed exactly as 2 (log 2 - u - softplus(-2u)) instead of with an added
      epsilon, so saturated actions get no spurious log-probability bonus.
    * The critic loss is the sum of the twins' MSEs (identical gradients to two separate optimisers).
    * The target uses gamma ** discount_exponent per transition (EAT's time-discounted levels).
Adam uses torch's defaults (betas 0.9/0.999, eps 1e-8); ``config`` is read once, at construction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from graph_rl.config.sac import SACConfig
from graph_rl.learners.buffers import UpdateBuffers
from graph_rl.learners.networks import (
    LOG_SIGMA_MAX,
    LOG_SIGMA_MIN,
    MU_BOUND,
    SingleRowActor,
    StackDims,
    critic_forward,
    hidden_forward,
)
from graph_rl.learners.stack import LOGPI_CONST_PER_DIM, STAT_NAMES, SACStack
from graph_rl.replay.buffer import ReplayBatch

__all__ = ["SACConfig", "SACLearner", "update_many"]


class SACLearner:
    """Tanh-Gaussian actor and twin critics with target copies, trained by :meth:`update`.

    Args:
        obs_dim, act_dim: flat observation and action widths.
        config: hyperparameters.
        init_generator: source of every initial weight.
        explore_generator: source of all sampling noise (acting and inside updates); must live on
            ``device``.
        device: where parameters and computation live.
    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        config: SACConfig,
        *,
        init_generator: torch.Generator,
        explore_generator: torch.Generator,
        device: str | torch.device = "cpu",
    ) -> None:
        if obs_dim < 1 or act_dim < 1:
            raise ValueError(f"obs_dim and act_dim must be >= 1, got {obs_dim=}, {act_dim=}")
        config.validate("config")
        self._device = torch.device(device)
        if explore_generator.device.type != self._device.type:
            raise ValueError(f"explore_generator is on {explore_generator.device}, learner on {self._device}")
        self._config = config
        self._explore = explore_generator
        self._dims = StackDims(1, int(obs_dim), int(act_dim), tuple(config.hidden_layers))
        self._stack = SACStack(self._dims, [config], [self._dims], self._device)
        self._stack.layout.params.init_(self._stack.params, math.log(config.alpha), init_generator)
        self._stack.target.copy_(self._stack.critic_params)
        self._n_updates = 0
        self._n_pending = 0
        # Host-side input row for single-observation calls, written through a numpy view (no torch op).
        self._host_in = torch.zeros(1, obs_dim)
        self._host_np = self._host_in.numpy().reshape(-1)
        on_cpu = self._device.type == "cpu"
        self._obs_row = self._host_in if on_cpu else torch.zeros(1, obs_dim, device=self._device)
        self._policy = SingleRowActor(self._stack.actor, act_dim)
        self._workspaces: dict[tuple[int, ...], Any] = {}

    @property
    def obs_dim(self) -> int:
        return self._dims.obs_dim

    @property
    def act_dim(self) -> int:
        return self._dims.act_dim

    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def config(self) -> SACConfig:
        return self._config

    def act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        """Action in [-1, 1]^act_dim for one observation; ``tanh(mu)`` when deterministic."""
        self._host_np[:] = obs
        if self._obs_row is not self._host_in:
            self._obs_row.copy_(self._host_in)
        action = self._policy(self._obs_row, deterministic, self._explore)
        return action[0].cpu().numpy().copy()

    def q_values(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """min(Q1, Q2) for a batch: obs (B, obs_dim), act (B, act_dim) -> (B,), without grad."""
        with torch.no_grad():
            x = torch.cat([obs, act], dim=-1).unsqueeze(0)
            return critic_forward(x, self._stack.critic, self._config.force_negative).amin(1).view(-1)

    @property
    def alpha(self) -> float:
        """The entropy coefficient now (synchronises)."""
        return float(self._stack.params[self._stack.layout.params.log_alpha_offset].exp())

    def sample_with_log_prob(
        self, obs: torch.Tensor, n_samples: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n_samples`` actions per observation from the online actor and their log-probabilities, without grad:
        obs (B, obs_dim) -> actions (B, n, act_dim), log pi (B, n).

        For diagnostics (the entropy term ``-alpha log pi`` next to Q); the noise comes from ``generator``, so
        probing a learner never moves its exploration stream. Same clamps and stable ``log(1 - tanh^2)`` as the
        update.
        """
        with torch.no_grad():
            hidden = hidden_forward(obs.unsqueeze(0), self._stack.actor)[-1][0]
            head = hidden @ self._stack.actor[-2][0].t() + self._stack.actor[-1][0].view(1, -1)
            mu = head[:, : self.act_dim].clamp(-MU_BOUND, MU_BOUND).unsqueeze(1)
            log_sigma = head[:, self.act_dim :].clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX).unsqueeze(1)
            eps = torch.randn(obs.shape[0], n_samples, self.act_dim, generator=generator, device=obs.device)
            u = mu + log_sigma.exp() * eps
            # The update's log pi (stack.py): const - sum_act (log_sigma + 0.5 eps^2 - 2u - 2 softplus(-2u)).
            per_dim = log_sigma + 0.5 * eps**2 - 2 * u - 2 * torch.nn.functional.softplus(-2 * u)
            return torch.tanh(u), self.act_dim * LOGPI_CONST_PER_DIM - per_dim.sum(-1)

    def update(self, batch: ReplayBatch) -> None:
        """One gradient step on ``batch`` (critics, actor, alpha if auto, Polyak); never synchronises."""
        buf = self._stack.buffers(batch.rew.shape[0])
        _fill_member(buf, 0, self, batch)
        self._n_updates += 1
        self._n_pending += 1
        self._stack.update(buf, batch.rew, batch.done, batch.discount_exponent, [self._n_updates])

    def pop_stats(self) -> dict[str, float]:
        """Means over the updates since the last call (one device sync); empty if there were none.

        Keys: ``loss_critic`` (sum of the twins' MSEs), ``loss_actor``, ``alpha`` (the value used in the
        step), ``entropy`` (mean -log pi of the actor-loss actions), ``q_mean`` (mean Q of the batch
        actions over both twins), ``loss_alpha`` (auto alpha only) and ``n_updates`` (how many updates).
        """
        if self._n_pending == 0:
            return {}
        sums = self._stack.stat_sums[0].tolist()
        self._stack.stat_sums.zero_()
        stats = {name: s / self._n_pending for name, s in zip(STAT_NAMES, sums)}
        if not self._config.auto_alpha:
            del stats["loss_alpha"]
        stats["n_updates"] = float(self._n_pending)
        self._n_pending = 0
        return stats

    def state_dict(self) -> dict[str, Any]:
        """Networks, target critics, Adam moments, log alpha, stat sums and counters (tensors/ints)."""
        pl = self._stack.layout.params
        params = self._stack.params
        alpha_at = pl.log_alpha_offset
        return {
            "obs_dim": self.obs_dim,
            "act_dim": self.act_dim,
            "hidden_layers": list(self._dims.hidden),
            "actor": params[:alpha_at].clone(),
            "log_alpha": params[alpha_at].clone(),
            "critic": params[pl.critic_slice].clone(),
            "target_critic": self._stack.target.clone(),
            "adam_exp_avg": self._stack.exp_avg.clone(),
            "adam_exp_avg_sq": self._stack.exp_avg_sq.clone(),
            "adam_step": self._n_updates,
            "stat_sums": self._stack.stat_sums[0].clone(),
            "stat_count": self._n_pending,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output of a learner with the same dimensions."""
        shape = (state["obs_dim"], state["act_dim"], list(state["hidden_layers"]))
        if shape != (self.obs_dim, self.act_dim, list(self._dims.hidden)):
            raise ValueError(f"learner state is for (obs, act, hidden)={shape}, learner has {self._dims}")
        pl = self._stack.layout.params
        alpha_at = pl.log_alpha_offset
        params = self._stack.params
        params[:alpha_at].copy_(state["actor"])
        if self._config.auto_alpha:
            params[alpha_at].copy_(state["log_alpha"])
        else:  # a fixed alpha is configuration, not state: a forked run may change it
            params[alpha_at].fill_(math.log(self._config.alpha))
        params[pl.critic_slice].copy_(state["critic"])
        self._stack.target.copy_(state["target_critic"])
        self._stack.exp_avg.copy_(state["adam_exp_avg"])
        self._stack.exp_avg_sq.copy_(state["adam_exp_avg_sq"])
        self._stack.stat_sums[0].copy_(state["stat_sums"])
        self._n_updates = int(state["adam_step"])
        self._n_pending = int(state["stat_count"])


def _fill_member(buf: UpdateBuffers, i: int, learner: SACLearner, batch: ReplayBatch) -> None:
    """Write member ``i``'s batch and fresh noise into the (possibly padded) update buffers."""
    obs, next_obs, critic_obs, critic_act, target_obs, eps = buf.member_views(i, learner.obs_dim, learner.act_dim)
    obs.copy_(batch.obs)
    next_obs.copy_(batch.next_obs)
    critic_obs.copy_(batch.obs)
    critic_act.copy_(batch.act)
    target_obs.copy_(batch.next_obs)
    torch.randn(eps.shape, generator=learner._explore, device=learner.device, out=eps)


class _Workspace:
    """A padded stack for a fixed tuple of learners (its update buffers are allocated once)."""

    def __init__(self, learners: Sequence[SACLearner]) -> None:
        dims = [lrn._dims for lrn in learners]
        hidden = tuple(max(h) for h in zip(*(d.hidden for d in dims)))
        self.dims = StackDims(len(dims), max(d.obs_dim for d in dims), max(d.act_dim for d in dims), hidden)
        device = learners[0].device
        self.learners = tuple(learners)
        self.stack = SACStack(self.dims, [lrn.config for lrn in learners], dims, device)
        self.index = [self.stack.layout.member_index(i, d).to(device) for i, d in enumerate(dims)]


def _stackable_key(learner: SACLearner, batch: ReplayBatch) -> tuple[Any, ...]:
    if not isinstance(learner, SACLearner):  # e.g. a tianshou adapter: same interface, own update
        return ("own-update", id(learner))
    return (len(learner._dims.hidden), batch.rew.shape[0], learner.device)


def update_many(learners: Sequence[Any], batches: Sequence[ReplayBatch]) -> None:
    """One gradient step per learner, stacked into shared batched ops where possible.

    Learners with the same number of hidden layers, batch size and device are zero-padded to common
    widths and updated together. Every learner draws the same noise from its own generator and runs the
    same ops as in ``learners[i].update(batches[i])``, so results agree up to float rounding (batched
    matmuls may pick other kernels than a stack of one; about 1 ulp per step). A learner listed twice,
    or alone in its group, is updated on its own; so is any learner that only shares the interface
    (e.g. a tianshou adapter).
    """
    if len(learners) != len(batches):
        raise ValueError(f"got {len(learners)} learners but {len(batches)} batches")
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, (lrn, batch) in enumerate(zip(learners, batches)):
        groups.setdefault(_stackable_key(lrn, batch), []).append(i)
    for members in groups.values():
        group = [learners[i] for i in members]
        if len(members) == 1 or len({id(lrn) for lrn in group}) < len(group):
            for i in members:
                learners[i].update(batches[i])
        else:
            _update_stacked(group, [batches[i] for i in members])


def _update_stacked(learners: list[SACLearner], batches: list[ReplayBatch]) -> None:
    key = tuple(id(lrn) for lrn in learners)
    ws = learners[0]._workspaces.get(key)
    if ws is None:
        ws = learners[0]._workspaces[key] = _Workspace(learners)
    buf = ws.stack.buffers(batches[0].rew.shape[0])
    for i, (lrn, batch) in enumerate(zip(learners, batches)):
        ws.stack.state.scatter_(0, ws.index[i], lrn._stack.state)
        _fill_member(buf, i, lrn, batch)
    rew = torch.stack([b.rew for b in batches])
    done = torch.stack([b.done for b in batches])
    disc = torch.stack([b.discount_exponent for b in batches])
    ws.stack.update(buf, rew, done, disc, [lrn._n_updates + 1 for lrn in learners])
    for i, lrn in enumerate(learners):
        torch.index_select(ws.stack.state, 0, ws.index[i], out=lrn._stack.state)
        lrn._n_updates += 1
        lrn._n_pending += 1
