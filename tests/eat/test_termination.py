"""Termination strategies on hand-set Q values and proposals: terminate / don't at the thresholds, gating, statistics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from graph_rl.config.graph_params import EATParams
from graph_rl.algorithms.eat import ChangingQ, ChangingQGap, ChangingTarget, RunningMoments, make_termination
from tests.eat.helpers import Chain, ScriptedLearner, StepTermination, unit

T_RUN, G_RUN = 8.0, 0.5     # the running subgoal: position 0.5 due 8 steps after it was emitted at step 0




def started(chain: Chain) -> dict[str, Any]:
    """Begin the root's first subgoal (T_RUN, G_RUN) at step 0 from the env's first observation."""
    obs, _ = chain.env.reset(seed=0)
    chain.root.begin(None, obs, 0, deterministic=False)
    pending = chain.root.act(obs, 0, testing=False)
    chain.leaf.begin(pending.action, obs, 0, deterministic=False)
    return obs


def moved(chain: Chain, position: float) -> dict[str, Any]:
    chain.env.pos = np.array([position], np.float32)
    return chain.env._obs()


def chain_with(fresh: list[float], q: tuple[float, float] = (0.0, 0.0)) -> tuple[Chain, ScriptedLearner]:
    """A chain running its first subgoal (T_RUN, G_RUN); its root learner proposes that subgoal at position 0 and
    ``fresh`` (unit) elsewhere, and values (running, fresh) pairs at ``q``. Records only calls after the start."""
    chain = Chain(lambda n: [0.0, 0.0])
    running = unit(T_RUN, G_RUN)
    chain.root_algo.learner = ScriptedLearner(lambda o, d: running)
    started(chain)
    learner = ScriptedLearner(lambda o, d: running if o[0] == 0.0 else fresh, lambda o, a: np.array(q))
    chain.root_algo.learner = learner
    return chain, learner


def changing_q(chain: Chain, warmup: int = 0, multiplier: float = 1.5, frozen: bool = False) -> ChangingQ:
    policy = ChangingQ(chain.child_task, chain.root_map, chain.root_algo.learner, warmup, chain.root_task.obs_dim,
                       multiplier=multiplier, smoothing=0.9)
    if frozen:
        policy.stats_start = 10**9
    return policy


def call(policy: Any, chain: Chain, obs: dict, step: int, total_step: int = 100, testing: bool = False) -> bool:
    """Ask ``policy`` about the root's running action as the root's algorithm would after env step ``step``."""
    root = chain.root
    return policy(root.current.pending, lambda: root.observation(obs, step), lambda: root._child_finished(obs, step),
                  obs, ep_step=step, total_step=total_step, testing=testing)


def test_running_moments_are_the_bias_corrected_weighted_mean_and_variance() -> None:
    xs = np.array([0.3, -1.2, 0.7, 2.0, -0.4])
    stats = RunningMoments(0.8)
    assert stats.std == np.inf
    for x in xs:
        stats.update(float(x))
    w = 0.8 ** np.arange(len(xs))[::-1]
    w /= w.sum()
    mean = float(w @ xs)
    assert stats.mean == pytest.approx(mean) and stats.std == pytest.approx(np.sqrt(w @ (xs - mean) ** 2))
    copy = RunningMoments(0.8)
    copy.load_state_dict(stats.state_dict())
    copy.update(1.0)
    stats.update(1.0)
    assert copy.state_dict() == stats.state_dict()


@pytest.mark.parametrize(("q_fresh", "fires"), [(-0.625, False), (-0.6249, True), (-0.9, False)])
def test_changing_q_fires_strictly_above_k_sigma(q_fresh: float, fires: bool) -> None:
    chain, _ = chain_with([0.0, 0.0], (-1.0, q_fresh))
    policy = changing_q(chain, frozen=True)    # statistics frozen at the hand-set sigma = 0.25; k = 1.5
    policy.stats.load_state_dict({"n": 10, "mean": -1.0, "var": 0.0625, "decay": 0.5})
    assert call(policy, chain, moved(chain, 0.1), step=1) is fires


def test_changing_q_never_fires_before_two_statistics_samples() -> None:
    chain, _ = chain_with([0.0, 0.0], (-1.0, 5.0))
    policy = changing_q(chain)
    assert call(policy, chain, moved(chain, 0.1), step=1, testing=True) is False  # no samples: sigma infinite
    assert policy.stats.n == 0                                                   # testing collects nothing
    assert call(policy, chain, moved(chain, 0.1), step=1) is False               # judged before its sample
    assert call(policy, chain, moved(chain, 0.1), step=2) is False               # one sample: sigma still inf
    assert policy.stats.n == 2 and policy.stats.std == 0.0                       # two equal samples: sigma 0
    assert call(policy, chain, moved(chain, 0.2), step=3) is True


@pytest.mark.parametrize(("q_running", "q_fresh", "fires"), [
    (-1.0, -0.625, False),    # gap 0.375 = mean 0.25 + 0.5 * std 0.25
    (-1.0, -0.6249, True),
    (-3.0, -2.6249, True),    # only the gap counts, not the level of Q
])
def test_changing_q_gap_fires_on_gaps_above_their_usual_size(q_running: float, q_fresh: float, fires: bool) -> None:
    chain, _ = chain_with([0.0, 0.0], (q_running, q_fresh))
    policy = ChangingQGap(chain.child_task, chain.root_map, chain.root_algo.learner, 0, chain.root_task.obs_dim,
                          multiplier=0.5, smoothing=0.9)
    policy.stats_start = 10**9
    policy.stats.load_state_dict({"n": 10, "mean": 0.25, "var": 0.0625, "decay": 0.5})
    assert call(policy, chain, moved(chain, 0.1), step=1) is fires


def test_changing_q_gap_never_fires_on_a_negative_gap_and_learns_the_gaps() -> None:
    chain, _ = chain_with([0.0, 0.0], (-1.0, -1.5))
    policy = ChangingQGap(chain.child_task, chain.root_map, chain.root_algo.learner, 0, chain.root_task.obs_dim,
                          multiplier=0.0, smoothing=0.9)
    policy.stats.load_state_dict({"n": 10, "mean": -2.0, "var": 0.0, "decay": 0.5})
    assert call(policy, chain, moved(chain, 0.1), step=1) is False              # above the usual gap, but < 0
    assert policy.stats.n == 11 and -2.0 < policy.stats.mean < -0.5               # it recorded the gap -0.5
    assert policy.metrics()["q_gap_mean"] == policy.stats.mean


def test_critic_sees_the_running_action_with_its_remaining_time_and_the_fresh_one_in_one_batch() -> None:
    fresh = [0.3, -0.2]
    chain, learner = chain_with(fresh, (-1.0, -1.0))
    policy = changing_q(chain)
    for step in (1, 2, 5):
        call(policy, chain, moved(chain, 0.1 * step), step=step)
    assert len(learner.q_inputs) == 3
    obs, act = learner.q_inputs[-1]
    now = chain.root_task.observe(moved(chain, 0.5), chain.root.current.goal, 5)
    np.testing.assert_allclose(obs, [now, now])
    np.testing.assert_allclose(act, [unit(T_RUN - 5, G_RUN), fresh], atol=1e-6)
    # the running action is recomputed from its own observation once per action, the fresh one every step
    assert len(learner.acts) == 1 + 3


@pytest.mark.parametrize(("fresh_goal", "fresh_steps", "threshold", "fires"), [
    (0.5, T_RUN - 2, 0.0, False),    # the same plan, re-timed: velocities equal (remaining time is used)
    (0.2, 4.0, 0.9, True),           # 2 * |0.4/6 - 0.1/4| / (0.066666 + 0.025) = 0.909
    (0.2, 4.0, 0.91, False),
])
def test_changing_target_compares_implied_velocities(
    fresh_goal: float, fresh_steps: float, threshold: float, fires: bool
) -> None:
    chain, _ = chain_with(unit(fresh_steps, fresh_goal))
    policy = ChangingTarget(chain.child_task, chain.root_map, chain.root_algo.learner, 0, threshold=threshold)
    assert call(policy, chain, moved(chain, 0.1), step=2) is fires  # position 0.1, 6 of 8 steps left


def test_difference_of_velocities_by_hand() -> None:
    chain, _ = chain_with([0.0, 0.0])
    policy = ChangingTarget(chain.child_task, chain.root_map, chain.root_algo.learner, 0, threshold=0.5)
    here = np.array([0.1], np.float32)
    running, fresh = np.array([6.0 / 5 - 1, 0.5], np.float32), np.array([4.0 / 5 - 1, 0.2], np.float32)  # T 6, 4
    v_run, v_new = 0.4 / 6, 0.1 / 4
    assert policy.difference(running, fresh, here) == pytest.approx(2 * (v_run - v_new) / (v_run + v_new), rel=1e-5)
    assert policy.difference(running, running, here) == 0.0
    assert policy.difference(np.array([-1.0, 0.1], np.float32), np.array([-1.0, 0.1], np.float32), here) == 0.0


def test_gating_first_step_warmup_and_deadline() -> None:
    chain, learner = chain_with([0.0, 0.0], (-1.0, 10.0))
    policy = StepTermination(chain.child_task, chain.root_map, learner, set(range(100)), warmup_steps=50)
    assert call(policy, chain, moved(chain, 0.0), step=0, total_step=100) is False  # the state it was chosen on
    assert call(policy, chain, moved(chain, 0.1), step=1, total_step=49) is False   # warm-up
    assert call(policy, chain, moved(chain, 0.1), step=1, total_step=50) is True
    assert call(policy, chain, moved(chain, 0.8), step=8, total_step=100) is False  # the deadline passes anyway
    q = changing_q(chain, warmup=50)   # statistics from half the warm-up on
    q.stats.load_state_dict({"n": 10, "mean": 0.0, "var": 0.0, "decay": 0.5})
    assert q.stats_start == q.first_step == 25
    assert call(q, chain, moved(chain, 0.1), step=1, total_step=24) is False and q.stats.n == 10  # not even scored
    assert call(q, chain, moved(chain, 0.1), step=1, total_step=30) is False and q.stats.n == 11  # scored, gated
    assert call(q, chain, moved(chain, 0.1), step=1, total_step=50) is True
    assert learner.acts


def test_factory_builds_each_strategy_from_its_parameters() -> None:
    chain, learner = chain_with([0.0, 0.0])
    args = (chain.child_task, chain.root_map, learner, chain.root_task.obs_dim)
    assert make_termination(EATParams(), *args) is None
    q = make_termination(EATParams(strategy="changing_q", warmup_steps=40), *args)
    assert type(q) is ChangingQ and q.stats_start == 20 and q.first_step == 20 and not q.protect_tests
    gap = make_termination(EATParams(strategy="changing_q_gap", q_std_multiplier=3.0, q_smoothing=0.9,
                                     protect_subgoal_tests=True), *args)
    assert type(gap) is ChangingQGap and gap.multiplier == 3.0 and gap.stats.smoothing == 0.9 and gap.protect_tests
    target = make_termination(EATParams(strategy="changing_target", target_threshold=0.3), *args)
    assert type(target) is ChangingTarget and target.threshold == 0.3 and target.learner is learner
