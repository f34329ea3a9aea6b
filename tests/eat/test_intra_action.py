"""EAT's intra-action transitions: the running subgoal, re-timed, from the states it passed through."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from graph_rl.algorithms import Transition
from graph_rl.algorithms.eat import ActionTrace, IntraRows
from tests.eat.helpers import GAMMA, Chain, StepTermination, unit
from tests.eat.test_eat_config import build




def spy_rows(algorithm: Any) -> list[tuple[list[Transition], Any, list[Any]]]:
    """Record every (node episode, relabelled batch, intra-action rows per transition) the algorithm stores."""
    seen: list[tuple[list[Transition], Any, list[Any]]] = []
    relabel = algorithm.relabel

    def recording(episode: list[Transition]) -> Any:
        batch = relabel(episode)
        seen.append((list(episode), batch, list(algorithm.intra)))
        return batch

    algorithm.relabel = recording
    return seen


def test_every_step_of_a_subgoal_gives_a_retimed_transition_with_the_rest_of_its_reward() -> None:
    # three 4-step subgoals towards 0.9 while the leaf moves +0.1 per step: all fail, so each real transition
    # carries the hindsight action (reached position, elapsed time 4 - u)
    chain = Chain([unit(4, 0.9)], intra_samples=3, normalization=4.0, goal=-0.75, episode_length=12)
    root_seen = spy_rows(chain.root_algo)
    chain.run_episode()
    (episode, batch, rows), = root_seen
    assert len(episode) == 3 and len(batch) == 3 + 3 + 9              # real, hindsight goals (future), intra-action
    intra = slice(6, 15)
    time = chain.child_task.time
    np.testing.assert_allclose(batch.obs[intra, 0], [0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.9, 1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(batch.obs[intra, 2], -0.75)                 # the env goal, as the level saw it
    for i, tr in enumerate(episode):
        np.testing.assert_array_equal(rows[i].offset, [1, 2, 3])
        rows_i = slice(6 + 3 * i, 9 + 3 * i)
        hindsight = tr.child_hindsight
        expected_time = time.convert(time.unconvert(hindsight[0]) - np.array([1, 2, 3]))
        np.testing.assert_allclose(batch.act[rows_i, 0], expected_time, atol=1e-6)
        np.testing.assert_allclose(batch.act[rows_i, 1], hindsight[1])      # the same (reached) subgoal
        np.testing.assert_array_equal(batch.next_obs[rows_i], np.tile(batch.next_obs[i], (3, 1)))
    rest = -np.array([1 + GAMMA + GAMMA**2, 1 + GAMMA, 1.0]) / 4.0       # -1 per step still to come, discounted
    np.testing.assert_allclose(batch.rew[intra], np.tile(rest, 3), rtol=1e-6)
    np.testing.assert_array_equal(batch.discount_exponent[intra], np.tile([3, 2, 1], 3))
    assert not batch.done.any()


def test_the_last_intra_transition_before_the_goal_is_terminal_and_earns_the_rest() -> None:
    # the env goal is reached a few steps into the first subgoal, which ends the episode mid-subgoal
    chain = Chain([unit(5, 0.9)], intra_samples=4, normalization=4.0, goal=0.35)
    root_seen = spy_rows(chain.root_algo)
    rewards = chain.run_episode()
    (episode, batch, rows), = root_seen
    assert len(episode) == 1 and rewards[-1] == 0.0
    k = len(rewards)
    np.testing.assert_array_equal(rows[0].offset, np.arange(1, k))
    n_real = len(batch) - (k - 1)
    intra = slice(n_real, len(batch))
    np.testing.assert_array_equal(batch.done[intra], 1.0)                  # the action's end is terminal
    expected = [sum(GAMMA**(t - j) * rewards[t] for t in range(j, k)) / 4.0 for j in range(1, k)]
    np.testing.assert_allclose(batch.rew[intra], expected, rtol=1e-6)
    np.testing.assert_array_equal(batch.discount_exponent[intra], k - np.arange(1, k))


def test_samples_are_drawn_without_replacement_from_the_node_stream() -> None:
    chain = Chain([unit(10, 0.9)], intra_samples=2, goal=-0.75, episode_length=20)
    root_seen = spy_rows(chain.root_algo)
    chain.run_episode()
    (episode, _, rows), = root_seen
    rng = np.random.default_rng(7)                                          # Chain's intra stream: seed + 7
    assert len(rows) == len(episode) == 2
    for row in rows:
        np.testing.assert_array_equal(row.offset, np.sort(rng.choice(9, 2, replace=False)) + 1)
        assert len(row.obs) == len(row.rest) == 2


def test_test_episodes_draw_nothing_from_the_intra_stream() -> None:
    chain = Chain([unit(10, 0.9)], intra_samples=2, goal=-0.75, episode_length=20)
    before = chain.root_algo.intra_rng.bit_generator.state
    chain.run_episode(testing=True)
    assert chain.root_algo.intra_rng.bit_generator.state == before
    chain.run_episode()
    assert chain.root_algo.intra_rng.bit_generator.state != before


def test_a_failed_test_gives_retimed_testing_transitions_and_a_terminated_subgoal_its_elapsed_part() -> None:
    chain = Chain([unit(6, 0.5)], lambda child, amap, lrn: StepTermination(child, amap, lrn, {3}), intra_samples=8,
                  normalization=4.0, goal=-0.75, episode_length=10, testing_fraction=1.0)
    root_seen = spy_rows(chain.root_algo)
    chain.run_episode()
    (episode, batch, rows), = root_seen
    assert [(tr.t0, tr.t1, tr.interrupted) for tr in episode] == [(0, 3, True), (3, 9, False), (9, 10, False)]
    np.testing.assert_array_equal(rows[0].offset, [1, 2])                 # only the steps that really passed
    np.testing.assert_array_equal(rows[1].offset, [1, 2, 3, 4, 5])
    assert rows[2] is None                                                 # a one-step action has no inside
    # the completed subgoal failed its test: besides its 5 intra-action transitions, 5 testing ones with the
    # original action re-timed and the penalty (the terminated one was not tested: no penalty)
    penalised = np.flatnonzero(batch.rew == -5.0)
    assert len(penalised) == 1 + 5
    time = chain.child_task.time
    retimed = batch.act[penalised[1:]]
    np.testing.assert_allclose(retimed[:, 0], time.convert(6.0 - np.arange(1, 6)), atol=1e-6)
    np.testing.assert_allclose(retimed[:, 1], 0.5, atol=1e-6)
    np.testing.assert_array_equal(batch.discount_exponent[penalised[1:]], 6 - np.arange(1, 6))


def test_trace_and_pending_intra_rows_survive_a_checkpoint() -> None:
    trace = ActionTrace(3, capacity=2)
    for j in range(5):                                                       # grows past its capacity
        trace.record(np.full(3, j, np.float32), -float(j), GAMMA**j)
    again = ActionTrace(3)
    again.load_state_dict(trace.state_dict())
    for a, b in zip(trace.intra(5, -5.0), again.intra(5, -5.0)):
        np.testing.assert_array_equal(a, b)
    obs, offset, rest = trace.intra(5, -5.0)
    np.testing.assert_array_equal(offset, [1, 2, 3, 4])
    np.testing.assert_allclose(rest, [-5.0 / GAMMA**j + j / GAMMA**j for j in range(4)], rtol=1e-6)
    assert trace.intra(1, 0.0) is None
    chain = Chain([unit(4, 0.9)], intra_samples=2, goal=-0.75, episode_length=12)
    algo = chain.root_algo
    algo.trace.load_state_dict(trace.state_dict())
    algo.intra = [None, IntraRows(obs, offset, rest)]
    other = Chain([unit(4, 0.9)], intra_samples=2, goal=-0.75, episode_length=12).root_algo
    other.load_state_dict(algo.state_dict())
    assert other.trace.n == 5 and other.intra[0] is None
    for a, b in zip(other.intra[1], algo.intra[1]):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype


def test_builder_wires_intra_actions_and_validates_them() -> None:
    root = build("eat.intra_action_samples=3").nodes[0]
    assert root.algorithm.trace is not None and root.algorithm.intra_samples == 3
    plain = build("eat.intra_action_samples=0").nodes[0]
    assert plain.algorithm.trace is None and plain.algorithm.intra_samples == 0
    from graph_rl.config import ConfigError

    with pytest.raises(ConfigError, match="eat.intra_action_samples: needs time_discounted"):
        build("eat.intra_action_samples=2", "eat.time_discounted=false")
    with pytest.raises(ConfigError, match="eat.intra_action_samples: must be >= 0"):
        build("eat.intra_action_samples=-1")
