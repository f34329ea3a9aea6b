"""tianshou 2.x off-policy algorithms behind the :class:`~graph_rl.learners.SACLearner` interface.

A node picks its learner by ``flat_algo_name``: ``"SAC"`` is our lean SAC (the default and the fastest),
``"tianshou.SAC"``, ``"tianshou.TD3"``, ``"tianshou.DDPG"`` and ``"tianshou.REDQ"`` wrap tianshou's algorithms
with tianshou's stock networks (:mod:`graph_rl.learners.registry` names them).

How the adapter drives tianshou (reference: sac_performance.md, gotchas G1-G8):
    * Batches come from our replay buffer and go straight into ``Algorithm._update_with_batch``; the TD target
      ``y = r + (1 - done) * gamma**discount_exponent * target_q(s')`` is computed here from tianshou's own
      target hooks, because tianshou's return computation only knows one scalar gamma.
    * tianshou samples from the global torch RNG (and numpy's, for REDQ's critic subsets). Every call that draws
      runs inside a forked global RNG seeded from ``explore_generator`` (network init: from ``init_generator``),
      so no global state leaks in or out and runs are reproducible per node. DDPG/TD3 acting noise is Gaussian
      like tianshou's ``GaussianNoise``, but drawn from torch inside that scope.
    * ``state_dict`` adds what tianshou's misses: AutoAlpha's optimiser and the TD3/REDQ delay counters.
tianshou is imported on first use only: importing it costs seconds, and lean-SAC runs never pay that.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from collections.abc import Iterator
from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from graph_rl.config.schema import ConfigError
from graph_rl.learners.sac import SACConfig
from graph_rl.replay.buffer import ReplayBatch

__all__ = ["TIANSHOU_ALGOS", "TianshouConfig", "TianshouLearner"]

TIANSHOU_ALGOS = ("SAC", "TD3", "DDPG", "REDQ")


@dataclasses.dataclass(kw_only=True)
class TianshouConfig(SACConfig):
    """SAC's hyperparameters plus the knobs only TD3, DDPG and REDQ have (tianshou's defaults)."""

    exploration_noise: float = 0.1
    """DDPG/TD3: std of the Gaussian acting noise in [-1, 1] action units."""
    policy_noise: float = 0.2
    """TD3: std of the target-policy smoothing noise."""
    noise_clip: float = 0.5
    """TD3: clip of the target-policy smoothing noise (0 disables clipping)."""
    update_actor_freq: int = 2
    """TD3: critic updates per actor update."""
    ensemble_size: int = 10
    """REDQ: number of critics."""
    subset_size: int = 2
    """REDQ: critics drawn per target."""
    actor_delay: int = 20
    """REDQ: critic updates per actor update."""

    def validate(self, path: str = "") -> None:
        super().validate(path)
        where = f"{path}: " if path else ""
        if self.exploration_noise < 0 or self.policy_noise < 0:
            raise ConfigError(f"{where}noise must be >= 0, got {self.exploration_noise=}, {self.policy_noise=}")
        if min(self.update_actor_freq, self.actor_delay) < 1 or not 0 < self.subset_size <= self.ensemble_size:
            raise ConfigError(
                f"{where}need update_actor_freq, actor_delay >= 1 and 0 < subset_size <= ensemble_size, got {self}"
            )


def _draw_seed(generator: torch.Generator) -> int:
    return int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device).item())


@contextlib.contextmanager
def _global_rng_from(generator: torch.Generator, with_numpy: bool = False) -> Iterator[None]:
    """Run the body with the global torch (and numpy) RNG seeded from ``generator``, restoring it afterwards.

    numpy only on request: saving and restoring its global state costs about 0.1 ms, and only REDQ draws from it.
    """
    seed = _draw_seed(generator)
    cuda = generator.device.type == "cuda"
    np_state = np.random.get_state() if with_numpy else None
    with torch.random.fork_rng(devices=[generator.device.index or 0] if cuda else [], device_type="cuda"):
        torch.default_generator.manual_seed(seed)
        if cuda:
            torch.cuda.default_generators[generator.device.index or 0].manual_seed(seed)
        if np_state is not None:
            np.random.seed(seed % 2**32)
        try:
            yield
        finally:
            if np_state is not None:
                np.random.set_state(np_state)


class _NegativeCritic(torch.nn.Module):
    """``logsigmoid`` head, so Q < 0 (the same force-negative head as the lean SAC)."""

    def __init__(self, critic: torch.nn.Module) -> None:
        super().__init__()
        self.critic = critic

    def forward(self, obs: torch.Tensor, act: torch.Tensor | None = None, info: Any = None) -> torch.Tensor:
        return F.logsigmoid(self.critic(obs, act))


def _entropy_tap(alpha: Any) -> Any:
    """Wrap a tianshou ``Alpha`` so the entropy it is updated with is recorded (tianshou does not report it)."""
    from tianshou.algorithm.modelfree.sac import Alpha

    class EntropyTap(torch.nn.Module, Alpha):
        def __init__(self, inner: Alpha) -> None:
            super().__init__()
            self.inner = inner
            self.entropy: list[torch.Tensor] = []

        @property
        def value(self) -> float:
            return self.inner.value

        def update(self, entropy: torch.Tensor) -> float | None:
            self.entropy.append(entropy.mean())
            return self.inner.update(entropy)

    return EntropyTap(alpha)


def _build_algorithm(name: str, obs_dim: int, act_dim: int, cfg: TianshouConfig) -> Any:
    """tianshou's algorithm ``name`` with stock networks; twin critics are initialised separately (G1)."""
    import gymnasium as gym
    from tianshou.algorithm import DDPG, REDQ, SAC, TD3
    from tianshou.algorithm.modelfree.ddpg import ContinuousDeterministicPolicy
    from tianshou.algorithm.modelfree.redq import REDQPolicy
    from tianshou.algorithm.modelfree.sac import Alpha, AutoAlpha, SACPolicy
    from tianshou.algorithm.optim import AdamOptimizerFactory
    from tianshou.utils.net.common import EnsembleLinear, Net
    from tianshou.utils.net.continuous import (
        ContinuousActorDeterministic,
        ContinuousActorProbabilistic,
        ContinuousCritic,
    )

    space = gym.spaces.Box(-1.0, 1.0, (act_dim,), dtype=np.float32)
    hidden = list(cfg.hidden_layers)

    def optim() -> AdamOptimizerFactory:
        return AdamOptimizerFactory(lr=cfg.learning_rate)

    def critic(ensemble: int = 0) -> torch.nn.Module:
        linear = partial(EnsembleLinear, ensemble) if ensemble else torch.nn.Linear
        net = Net(state_shape=obs_dim, action_shape=act_dim, hidden_sizes=hidden, concat=True, linear_layer=linear)
        module = ContinuousCritic(preprocess_net=net, linear_layer=linear, flatten_input=not ensemble)
        return _NegativeCritic(module) if cfg.force_negative else module

    common: dict[str, Any] = dict(policy_optim=optim(), critic_optim=optim(), tau=cfg.tau, gamma=cfg.gamma)
    if name in ("SAC", "REDQ"):
        # unbounded mu and state-dependent sigma: the SAC parametrisation (G3).
        actor = ContinuousActorProbabilistic(
            preprocess_net=Net(state_shape=obs_dim, hidden_sizes=hidden),
            action_shape=act_dim,
            unbounded=True,
            conditioned_sigma=True,
        )
        target_entropy = -float(act_dim) if cfg.target_entropy is None else cfg.target_entropy
        alpha = _entropy_tap(
            AutoAlpha(target_entropy, math.log(cfg.alpha), AdamOptimizerFactory(lr=cfg.alpha_learning_rate))
            if cfg.auto_alpha
            else Alpha.from_float_or_instance(float(cfg.alpha))
        )
        if name == "SAC":
            sac_policy = SACPolicy(actor=actor, action_space=space, action_scaling=False)
            return SAC(
                policy=sac_policy, critic=critic(), critic2=critic(), critic2_optim=optim(), alpha=alpha, **common
            )
        redq_policy = REDQPolicy(actor=actor, action_space=space, action_scaling=False, action_bound_method=None)
        return REDQ(
            policy=redq_policy,
            critic=critic(cfg.ensemble_size),
            ensemble_size=cfg.ensemble_size,
            subset_size=cfg.subset_size,
            actor_delay=cfg.actor_delay,
            alpha=alpha,
            **common,
        )
    det_actor = ContinuousActorDeterministic(
        preprocess_net=Net(state_shape=obs_dim, hidden_sizes=hidden), action_shape=act_dim, max_action=1.0
    )
    policy = ContinuousDeterministicPolicy(
        actor=det_actor, action_space=space, action_scaling=False, action_bound_method=None
    )
    if name == "TD3":
        return TD3(
            policy=policy,
            critic=critic(),
            critic2=critic(),
            critic2_optim=optim(),
            policy_noise=cfg.policy_noise,
            update_actor_freq=cfg.update_actor_freq,
            noise_clip=cfg.noise_clip,
            **common,
        )
    return DDPG(policy=policy, critic=critic(), **common)


class TianshouLearner:
    """A tianshou algorithm with :class:`~graph_rl.learners.SACLearner`'s interface (act, update, stats, state).

    Args:
        algo: one of :data:`TIANSHOU_ALGOS`.
        obs_dim, act_dim: flat observation and action widths.
        config: hyperparameters (a plain :class:`SACConfig` takes tianshou's defaults for the extra knobs).
        init_generator: seeds network initialisation.
        explore_generator: seeds every random draw of acting and updating; must live on ``device``.
        device: where networks and computation live.
    """

    _COUNTERS = ("_cnt", "_last", "critic_gradient_step", "_last_actor_loss")
    """Plain attributes of TD3 (actor delay) and REDQ (actor delay) that are state but not in ``state_dict``."""

    def __init__(
        self,
        algo: str,
        obs_dim: int,
        act_dim: int,
        config: SACConfig,
        *,
        init_generator: torch.Generator,
        explore_generator: torch.Generator,
        device: str | torch.device = "cpu",
    ) -> None:
        if algo not in TIANSHOU_ALGOS:
            raise ValueError(f"unknown tianshou algorithm {algo!r}; choose from {', '.join(TIANSHOU_ALGOS)}")
        if obs_dim < 1 or act_dim < 1:
            raise ValueError(f"obs_dim and act_dim must be >= 1, got {obs_dim=}, {act_dim=}")
        self._device = torch.device(device)
        if explore_generator.device.type != self._device.type:
            raise ValueError(f"explore_generator is on {explore_generator.device}, learner on {self._device}")
        if not isinstance(config, TianshouConfig):
            config = TianshouConfig(**{f.name: getattr(config, f.name) for f in dataclasses.fields(SACConfig)})
        config.validate("config")
        self._name, self._obs_dim, self._act_dim, self._config = algo, int(obs_dim), int(act_dim), config
        self._explore = explore_generator
        from tianshou.data import Batch
        from tianshou.utils.torch_utils import policy_within_training_step

        self._batch_cls, self._training_step = Batch, policy_within_training_step
        with _global_rng_from(init_generator):
            self.algorithm = _build_algorithm(algo, self._obs_dim, self._act_dim, config)
        # Train mode once: no dropout/batch norm here, so tianshou's per-update mode toggling (G6) is skipped.
        self.algorithm.to(self._device).train()
        self.policy = self.algorithm.policy
        self._sums: dict[str, torch.Tensor | float] = {}
        self._counts: dict[str, int] = {}

    @property
    def obs_dim(self) -> int:
        return self._obs_dim

    @property
    def act_dim(self) -> int:
        return self._act_dim

    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def config(self) -> TianshouConfig:
        return self._config

    @property
    def algo_name(self) -> str:
        return "tianshou." + self._name

    def _obs_batch(self, obs: torch.Tensor) -> Any:
        return self._batch_cls(obs=obs, info=self._batch_cls())

    def act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        """Action in [-1, 1]^act_dim for one observation (the distribution's mode / no noise when deterministic)."""
        x = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self._device).view(1, -1)
        # The deterministic path draws nothing, so test episodes leave the exploration stream untouched.
        rng = contextlib.nullcontext() if deterministic else _global_rng_from(self._explore)
        with torch.no_grad(), rng, self._training_step(self.policy, enabled=not deterministic):
            batch = self._obs_batch(x)
            action = self.policy(batch).act
            if not deterministic and self._name in ("DDPG", "TD3"):
                action = (action + self._config.exploration_noise * torch.randn_like(action)).clamp_(-1.0, 1.0)
        return action.view(-1).cpu().numpy()

    def q_values(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """The value the actor maximises, (B,): min of twin critics, ensemble mean for REDQ, the critic for DDPG."""
        algo = self.algorithm
        with torch.no_grad():
            q = algo.critic(obs, act)
            if self._name == "REDQ":
                return q.mean(0).view(-1)
            if self._name in ("SAC", "TD3"):
                q = torch.min(q, algo.critic2(obs, act))
            return q.view(-1)

    def update(self, batch: ReplayBatch) -> None:
        """One gradient step of the tianshou algorithm on ``batch`` with per-transition discounts."""
        algo = self.algorithm
        with _global_rng_from(self._explore, with_numpy=self._name == "REDQ"), self._training_step(self.policy):
            with torch.no_grad():
                next_batch = self._obs_batch(batch.next_obs)
                target_q = algo._target_q_compute_value(next_batch, algo._target_q_compute_action(next_batch)).flatten()
                bootstrap = torch.pow(self._config.gamma, batch.discount_exponent) * (1.0 - batch.done)
                returns = (batch.rew + bootstrap * target_q).unsqueeze(-1)
            ts_batch = self._batch_cls(obs=batch.obs, act=batch.act, returns=returns, info=self._batch_cls())
            stats = algo._update_with_batch(ts_batch)
        self._record(stats, ts_batch)

    def _add(self, name: str, value: torch.Tensor | float) -> None:
        self._sums[name] = self._sums.get(name, 0.0) + value
        self._counts[name] = self._counts.get(name, 0) + 1

    def _record(self, stats: Any, ts_batch: Any) -> None:
        """Accumulate stats under the lean SAC's names; loss_critic sums the critics' MSEs like the lean SAC."""
        if self._name == "REDQ":
            self._add("loss_critic", stats.critic_loss * self._config.ensemble_size)
        elif self._name == "DDPG":
            self._add("loss_critic", stats.critic_loss)
        else:
            self._add("loss_critic", stats.critic1_loss + stats.critic2_loss)
        self._add("loss_actor", stats.actor_loss)
        # td = Q - y per sample (critic mean for twins/ensembles), so Q = y + td.
        self._add("q_mean", (ts_batch.returns.flatten() + ts_batch.weight.detach()).mean())
        if self._name in ("SAC", "REDQ"):
            self._add("alpha", stats.alpha)
            if stats.alpha_loss is not None:
                self._add("loss_alpha", stats.alpha_loss)
            tap = self.algorithm.alpha
            for entropy in tap.entropy:
                self._add("entropy", entropy)
            tap.entropy.clear()
        self._add("n_updates", 1.0)

    def pop_stats(self) -> dict[str, float]:
        """Means over the updates since the last call (``n_updates`` is their count); empty if there were none."""
        if not self._counts:
            return {}
        stats = {k: float(v) / (1 if k == "n_updates" else self._counts[k]) for k, v in self._sums.items()}
        self._sums.clear()
        self._counts.clear()
        return stats

    def state_dict(self) -> dict[str, Any]:
        """A deep copy of networks, targets, all optimisers (AutoAlpha's included) and the delay counters."""
        alpha = getattr(self.algorithm, "alpha", None)
        alpha_optim = getattr(getattr(alpha, "inner", None), "_optim", None)
        return copy.deepcopy(
            {
                "algo_name": self.algo_name,
                "obs_dim": self._obs_dim,
                "act_dim": self._act_dim,
                "algorithm": self.algorithm.state_dict(),
                "alpha_optim": None if alpha_optim is None else alpha_optim.state_dict(),
                "counters": {k: getattr(self.algorithm, k) for k in self._COUNTERS if hasattr(self.algorithm, k)},
                "stats": {"sums": self._sums, "counts": self._counts},
            }
        )

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output of a learner with the same algorithm and dimensions."""
        found = (state["algo_name"], state["obs_dim"], state["act_dim"])
        if found != (self.algo_name, self._obs_dim, self._act_dim):
            raise ValueError(
                f"learner state is for (algo, obs, act)={found}, learner is {(self.algo_name, self._obs_dim, self._act_dim)}"
            )
        state = copy.deepcopy(state)
        self.algorithm.load_state_dict(state["algorithm"])
        if state["alpha_optim"] is not None:
            self.algorithm.alpha.inner._optim.load_state_dict(state["alpha_optim"])
        for key, value in state["counters"].items():
            setattr(self.algorithm, key, value)
        self._sums, self._counts = state["stats"]["sums"], state["stats"]["counts"]
