"""Typed parameters of an agent graph, in the layout of the original's ``graph_params.json``.

``level_params_list[i]`` configures level ``i`` (0 = lowest). Where the original built each level's
observation/goal specification in env-specific Python factories, the info-hiding spec is plain data
here (``subtask_spec_params.partial_obs_keys`` / ``goal_keys`` / ``goal_thresholds`` / ``env_goal_key``),
so a new env needs a JSON file, not code. Values that the original derived at run time keep their
sentinels: ``max_n_actions = -1`` and ``delta_t_max = -1`` are derived by the builder (reference 4.5, 6.6).

Dropped from the original layout because nothing reads them here: ``subtask_spec_factory``,
``squash_critics`` and ``reward_normalization`` (all configs leave them off), ``power_aux_reward``
(it crashed when enabled, reference 7.2 item 9) and ``goal_achievement_threshold`` (replaced by the
per-key ``goal_thresholds``).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal

from graph_rl.config.sac import SACConfig
from graph_rl.config.schema import ConfigError

__all__ = [
    "AlgoKwargs",
    "SubtaskSpecParams",
    "EATParams",
    "FidelityParams",
    "LevelParams",
    "GraphParams",
    "TIMED_ALGORITHMS",
]

TIMED_ALGORITHMS = ("HiTS", "EAT")
"""Algorithms whose levels below the top pursue timed subgoals."""


def _check(ok: bool, path: str, msg: str) -> None:
    if not ok:
        raise ConfigError(f"{path}: {msg}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


@dataclasses.dataclass(kw_only=True)
class AlgoKwargs:
    """How a level learns: hindsight relabelling, subgoal testing, exploration, replay and schedule."""

    moved_parameters: ClassVar[dict[str, str]] = {
        "flat_algo_kwargs": "moved: its alpha, gamma, tau, auto_alpha, target_entropy and alpha_learning_rate "
        "now live in the level's model_kwargs (one SAC config)",
    }

    flat_algo_name: str = "SAC"
    """Learner behind the node, by its registered name (``SAC``, ``tianshou.TD3``, ...)."""
    goal_sampling_strategy: Literal["future", "episode", "final"] = "future"
    """Where hindsight goals come from within the node episode (HAC) / timed HER (HiTS: future or final)."""
    n_hindsight_goals: int = 4
    batch_size: int = 128
    grad_steps_per_env_step: float = 1.0
    """Gradient steps per env step (every level counts env steps, like the original)."""
    testing_fraction: float = 0.3
    """Probability that an action subgoal-tests the child (ignored by nodes without children)."""
    fully_random_fraction: float = 0.1
    """Probability of a uniformly random action during training (never in a tested sub-hierarchy)."""
    bootstrap_testing_transitions: bool = True
    """If false, testing-penalty transitions are terminal."""
    learning_starts: int = 0
    """No gradient steps before this many env steps."""
    child_failure_penalty: float | None = None
    """Reward of a testing transition; null = -max_n_actions of the level (HiTS lower levels: -1)."""
    buffer_size: int | None = None
    """Replay capacity; null = derived from n_steps like the original runner (reference 6.4)."""
    buffer_size_factor: float = 1.0
    """Scales the derived replay capacity (ignored with an explicit ``buffer_size``)."""

    def validate(self, path: str) -> None:
        _check(self.n_hindsight_goals >= 0, _join(path, "n_hindsight_goals"), "must be >= 0")
        _check(self.batch_size > 0, _join(path, "batch_size"), "must be > 0")
        _check(self.grad_steps_per_env_step >= 0, _join(path, "grad_steps_per_env_step"), "must be >= 0")
        for name in ("testing_fraction", "fully_random_fraction"):
            value = getattr(self, name)
            _check(0 <= value <= 1, _join(path, name), f"must be in [0, 1], got {value}")
        _check(self.learning_starts >= 0, _join(path, "learning_starts"), "must be >= 0")
        _check(self.buffer_size is None or self.buffer_size > 0, _join(path, "buffer_size"), "must be > 0")
        _check(self.buffer_size_factor > 0, _join(path, "buffer_size_factor"), "must be > 0")


@dataclasses.dataclass(kw_only=True)
class SubtaskSpecParams:
    """What a level sees and pursues (info hiding), its budget and its auxiliary rewards."""

    partial_obs_keys: list[str] | None = None
    """Keys of the env's ``observation`` dict this level sees; null = all."""
    goal_keys: list[str] | None = None
    """Partial-observation keys that form this level's goals; null = all partial keys."""
    goal_thresholds: dict[str, float] = dataclasses.field(default_factory=dict)
    """Per goal key: achieved iff the L2 distance is below it. Every goal key needs one."""
    env_goal_key: str | None = None
    """The top level: partial-observation key whose value is the env's achieved goal."""
    max_n_actions: int | None = -1
    """Action budget per node episode: -1 = derived (reference 6.6), null = unlimited."""
    delta_t_max: float | None = None
    """HiTS levels: longest timed subgoal in env steps; -1 = episode length / budget of the level above."""
    delta_t_min: float = 0.0
    """HiTS levels: shortest timed subgoal in env steps."""
    weight_delta_t_ach_aux: float = 0.0
    """Parent of a HiTS level: aux reward -w * T / delta_t_max per emitted timed subgoal."""
    env_reward_weight: float = 0.0
    """Aux reward: this weight times the env rewards collected while an action ran."""
    constant_failure_return: bool = False
    """On env end without success, add -4 per unused action of the budget (reference 3.1)."""
    observe_budget: bool = False
    """The level observes the fraction of its action budget left, and spending it is terminal (not in the
    original, which bootstrapped through budget exhaustion from states that do not show the budget)."""
    learn_goal_ach_thresholds: bool = False
    """This level also chooses the achievement thresholds of its (timed) child's goals."""
    goal_tol_rew: float = 0.0
    """With ``learn_goal_ach_thresholds``: aux reward -goal_tol_rew * mean(chosen thresholds)."""
    max_goal_thresholds: dict[str, float] = dataclasses.field(default_factory=dict)
    """Upper bound per goal key of learnt thresholds (default 1.0 per key)."""
    subgoal_bounds: dict[str, list[list[float]]] = dataclasses.field(default_factory=dict)
    """Per goal key of this level: ``[low, high]`` (one number per dimension each) of the subgoals its parent may
    set. Default: the observation space's bounds of the key, which must then be finite (goal envs such as
    gymnasium-robotics' mazes declare infinite ones)."""

    def validate(self, path: str) -> None:
        for key, bounds in self.subgoal_bounds.items():
            where = _join(path, f"subgoal_bounds.{key}")
            _check(len(bounds) == 2 and len(bounds[0]) == len(bounds[1]) > 0, where, "must be [low, high] lists")
            _check(all(lo < hi for lo, hi in zip(*bounds)), where, "needs low < high in every dimension")
        if self.partial_obs_keys is not None and self.goal_keys is not None:
            extra = sorted(set(self.goal_keys) - set(self.partial_obs_keys))
            _check(not extra, _join(path, "goal_keys"), f"{extra} not in partial_obs_keys")
        if self.goal_keys is not None:
            extra = sorted(set(self.goal_thresholds) - set(self.goal_keys))
            _check(not extra, _join(path, "goal_thresholds"), f"{extra} are not goal keys")
        for key, thr in self.goal_thresholds.items():
            _check(thr > 0, _join(path, f"goal_thresholds.{key}"), f"must be > 0, got {thr}")
        n = self.max_n_actions
        _check(n is None or n == -1 or n > 0, _join(path, "max_n_actions"), f"must be -1, null or > 0, got {n}")
        d = self.delta_t_max
        _check(d is None or d == -1 or d > 0, _join(path, "delta_t_max"), f"must be -1, null or > 0, got {d}")
        _check(self.delta_t_min >= 0, _join(path, "delta_t_min"), "must be >= 0")
        if d is not None and d > 0:
            _check(self.delta_t_min <= d, _join(path, "delta_t_min"), "must be <= delta_t_max")


@dataclasses.dataclass(kw_only=True)
class EATParams:
    """EAT on the top level: when to terminate its running timed subgoal early, and its time-discounted objective."""

    strategy: Literal["never", "changing_q", "changing_q_gap", "changing_target"] = "never"
    """``never``: no termination (with ``time_discounted`` the "dummy" ablation, without it plain HiTS);
    ``changing_q``: Q(fresh) > Q(running, remaining time) + k * running std of Q (the paper's Changing Q);
    ``changing_q_gap`` (ours): the gap Q(fresh) - Q(running) > 0 and > its running mean + k * its running std;
    ``changing_target``: the implied velocities towards the two subgoals differ by more than a relative threshold
    (the paper's Changing target)."""
    warmup_steps: int = 0
    """No termination before this many training env steps (Q statistics are collected from half of it on)."""
    q_std_multiplier: float = 1.0
    """k of ``changing_q`` and ``changing_q_gap``."""
    q_smoothing: float = 0.999
    """Smoothing constant of the running mean and std of Q (``changing_q``) or of the gap (``changing_q_gap``)."""
    target_threshold: float = 0.5
    """Threshold of ``changing_target`` on 2 |v_run - v_new| / (|v_run| + |v_new|) (in [0, 2])."""
    time_discounted: bool = True
    """Top-level reward = discounted env reward collected during the action / reward_normalization, bootstrap with
    gamma ** (env steps it lasted), gamma = the level's ``model_kwargs.gamma``. False keeps HiTS's objective."""
    reward_normalization: float = 1.0
    """c of the time-discounted reward."""
    protect_subgoal_tests: bool = False
    """Never terminate a subgoal that tests the child: it runs to its deadline, so an unreachable subgoal is
    penalised (the original terminated tests too, which leaves the top level's proposals unpenalised)."""
    intra_action_samples: int = 0
    """Per closed top-level action, this many *intra-action transitions* (needs ``time_discounted``): from a state
    ``j`` steps into the action, the same subgoal with ``j`` fewer steps to go, the discounted env reward still to
    come and the action's end state. They teach the critic the value of a running subgoal, the very value
    ``changing_q`` compares with a fresh proposal's. 0 = none (the original)."""

    def validate(self, path: str) -> None:
        _check(self.warmup_steps >= 0, _join(path, "warmup_steps"), "must be >= 0")
        _check(self.q_std_multiplier >= 0, _join(path, "q_std_multiplier"), "must be >= 0")
        _check(0 < self.q_smoothing < 1, _join(path, "q_smoothing"), f"must be in (0, 1), got {self.q_smoothing}")
        _check(self.target_threshold >= 0, _join(path, "target_threshold"), "must be >= 0")
        _check(self.reward_normalization > 0, _join(path, "reward_normalization"), "must be > 0")
        _check(self.intra_action_samples >= 0, _join(path, "intra_action_samples"), "must be >= 0")
        _check(
            self.time_discounted or not self.intra_action_samples,
            _join(path, "intra_action_samples"),
            "needs time_discounted (a HiTS-objective transition has no reward to split)",
        )


@dataclasses.dataclass(kw_only=True)
class FidelityParams:
    """Switches that reproduce defects of the original code, for differential tests against it; all off by default,
    none on in a shipped file. Each names the reference item that documents the defect."""

    tested_subgoals_explore: bool = False
    """A subgoal-tested sub-hierarchy keeps exploring, as in the original, whose policy read a key no algorithm set
    (reference 3.6); off: it acts deterministically, as the HAC paper intends."""
    penalise_interrupted_tests: bool = False
    """EAT: a subgoal test cut short by a termination gets the full failure penalty, as in the original fork, which
    meant to scale it by the elapsed fraction but read the flag from the wrong dict (EAT reference 1.6, 1.9 item 3);
    off: no testing transition, since the child never reached its deadline."""


@dataclasses.dataclass(kw_only=True)
class LevelParams:
    """Everything about one level."""

    algo_kwargs: AlgoKwargs = dataclasses.field(default_factory=AlgoKwargs)
    model_kwargs: SACConfig = dataclasses.field(default_factory=SACConfig)
    """The level's learner: networks, learning rates, discount, entropy coefficient (:class:`SACConfig`)."""
    subtask_spec_params: SubtaskSpecParams = dataclasses.field(default_factory=SubtaskSpecParams)


@dataclasses.dataclass(kw_only=True)
class GraphParams:
    """An agent: which algorithm, how many levels, and each level's parameters (index 0 = lowest)."""

    algorithm: Literal["SAC", "HAC", "HiTS", "EAT"]
    n_layers: int
    level_params_list: list[LevelParams]
    eat: EATParams | None = None
    """EAT only (required there): a HiTS hierarchy whose top level can terminate its running subgoal."""
    fidelity: FidelityParams = dataclasses.field(default_factory=FidelityParams)
    observation_slices: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    """Named ``[start, stop]`` index ranges of a flat-Box ``observation`` (goal envs in the gymnasium-robotics
    shape), usable as observation and goal keys next to ``observation`` and ``achieved_goal``
    (:mod:`graph_rl.spaces.goal_env`)."""
    """Reproduce the original's defects (differential tests only)."""

    def validate(self, path: str) -> None:
        _check(self.n_layers >= 1, _join(path, "n_layers"), f"must be >= 1, got {self.n_layers}")
        _check(
            len(self.level_params_list) == self.n_layers,
            _join(path, "level_params_list"),
            f"has {len(self.level_params_list)} entries but n_layers is {self.n_layers}",
        )
        if self.algorithm == "SAC":
            _check(self.n_layers == 1, _join(path, "n_layers"), "SAC is flat: n_layers must be 1")
        if self.algorithm in TIMED_ALGORITHMS:
            _check(self.n_layers >= 2, _join(path, "n_layers"), f"{self.algorithm} needs at least 2 levels")
        _check(
            (self.eat is not None) == (self.algorithm == "EAT"),
            _join(path, "eat"),
            "required for EAT" if self.eat is None else f"only for EAT, not {self.algorithm}",
        )
        top = len(self.level_params_list) - 1
        for i, level in enumerate(self.level_params_list):
            spec = level.subtask_spec_params
            where = _join(path, f"level_params_list[{i}].subtask_spec_params")
            timed = self.algorithm in TIMED_ALGORITHMS and i < top
            if timed:
                strategy = level.algo_kwargs.goal_sampling_strategy
                _check(
                    strategy in ("future", "final"),
                    _join(path, f"level_params_list[{i}].algo_kwargs.goal_sampling_strategy"),
                    f"HiTS supports the 'future' and 'final' hindsight strategies, not {strategy!r}",
                )
                _check(spec.delta_t_max is not None, _join(where, "delta_t_max"), "HiTS levels need delta_t_max")
                _check(
                    spec.delta_t_max != -1 or i == top - 1,
                    _join(where, "delta_t_max"),
                    "-1 (derived) is only allowed right below the top level",
                )
            else:
                _check(spec.delta_t_max is None, _join(where, "delta_t_max"), "only HiTS levels below the top have one")
            if i == top:
                _check(
                    spec.env_goal_key is not None, _join(where, "env_goal_key"), "the top level needs the env goal key"
                )
            if self.algorithm == "HAC" and 0 < i < top:
                _check(
                    spec.max_n_actions != -1, _join(where, "max_n_actions"), "-1 is only allowed at level 0 and the top"
                )
            if spec.learn_goal_ach_thresholds:
                _check(
                    self.algorithm in TIMED_ALGORITHMS and i > 0,
                    _join(where, "learn_goal_ach_thresholds"),
                    "only a level above a HiTS level can choose its child's thresholds",
                )
