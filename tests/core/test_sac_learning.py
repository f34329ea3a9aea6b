"""The flat SAC node (SAC + hindsight goals) learns a tiny goal-reaching task within seconds."""

from __future__ import annotations

import pytest
from point_env import PointGoalEnv

from graph_rl.config import from_dict
from graph_rl.config.graph_params import GraphParams
from graph_rl.graph import build_graph
from graph_rl.rng import RngRegistry

PARAMS = {
    "algorithm": "SAC", "n_layers": 1,
    "level_params_list": [{
        "algo_kwargs": {"batch_size": 64,
                        "n_hindsight_goals": 3, "learning_starts": 200, "grad_steps_per_env_step": 1.0,
                        "fully_random_fraction": 0.1},
        "model_kwargs": {"learning_rate": 1e-3, "hidden_layers": [32, 32], "force_negative": True, "alpha": 0.02,
                         "gamma": 0.9, "tau": 0.02},
        "subtask_spec_params": {"env_goal_key": "position"},
    }],
}


def evaluate(graph, env, episodes: int) -> float:
    """Success rate of deterministic episodes on goals from seeds 100, 101, ..."""
    wins = 0
    for k in range(episodes):
        obs, _ = env.reset(seed=100 + k)
        graph.reset()
        for step in range(env.max_episode_length):
            action = graph.act(obs, ep_step=step, total_step=0, testing=True)
            obs, r, term, trunc, info = env.step(action)
            graph.observe(obs, r, term, trunc, info, ep_step=step + 1, total_step=0, testing=True)
            if term or trunc:
                break
        wins += term
    return wins / episodes


def train_episode(graph, env, obs, total: int):
    """One exploring episode from ``obs`` (the graph learns only when the caller says); returns the reset
    observation of the next episode and the new env-step total."""
    graph.reset()
    step = 0
    while True:
        action = graph.act(obs, ep_step=step, total_step=total, testing=False)
        obs, r, term, trunc, info = env.step(action)
        step += 1
        total += 1
        if graph.observe(obs, r, term, trunc, info, ep_step=step, total_step=total, testing=False) or term or trunc:
            break
    return env.reset()[0], total


@pytest.mark.slow
def test_flat_sac_reaches_random_goals() -> None:
    env = PointGoalEnv(dim=1, max_episode_length=20, step_size=0.1, radius=0.05)
    test_env = PointGoalEnv(dim=1, max_episode_length=20, step_size=0.1, radius=0.05)
    graph = build_graph("SAC", env, from_dict(GraphParams, PARAMS), RngRegistry(0), n_steps=6000)
    assert evaluate(graph, test_env, 20) < 0.5  # untrained: mostly fails
    obs, _ = env.reset(seed=0)
    total, success, next_eval = 0, [], 1000
    while total < 5000:
        obs, total = train_episode(graph, env, obs, total)
        graph.learn(total)
        if total >= next_eval:
            next_eval += 500
            success.append(evaluate(graph, test_env, 20))
            if success[-1] >= 0.95:
                break
    assert success and max(success) >= 0.95, success
