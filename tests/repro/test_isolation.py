"""Isolation: a component that draws random numbers does not change the numbers any other component draws.

Streams are keyed by stable names (``node/<name>/init``, ``node/<name>/explore``, ...), never by creation order,
so an extra node, or anything drawing from its own stream in between, leaves every other node's numbers alone.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from graph_rl.config import from_dict
from graph_rl.config.graph_params import GraphParams
from graph_rl.graph import build_graph
from graph_rl.rng import RngRegistry
from tests.repro.tiny import DATA


def _params(algo: str) -> dict[str, Any]:
    return json.loads((DATA / "EasyPlatforms" / algo / "graph_params.json").read_text())


def _tensors(state: Any, prefix: str = "") -> dict[str, torch.Tensor]:
    if isinstance(state, dict):
        return {k: v for key, sub in state.items() for k, v in _tensors(sub, f"{prefix}/{key}").items()}
    return {prefix: state} if isinstance(state, torch.Tensor) else {}


def test_extra_node_leaves_other_nodes_initialisation_unchanged() -> None:
    two = _params("HAC")
    three = copy.deepcopy(two)
    middle = copy.deepcopy(two["level_params_list"][0])
    middle["subtask_spec_params"]["max_n_actions"] = 10
    three["level_params_list"].insert(1, middle)
    three["n_layers"] = 3
    env = gym.make("EasyPlatforms-v1")
    small = build_graph("HAC", env, from_dict(GraphParams, two), RngRegistry(3), n_steps=1000)
    big = build_graph("HAC", env, from_dict(GraphParams, three), RngRegistry(3), n_steps=1000)
    assert [n.name for n in big.nodes] == ["hac_2", "hac_1", "hac_0"]
    a = _tensors(small.state_dict()["nodes"]["hac_0"])
    b = _tensors(big.state_dict()["nodes"]["hac_0"])
    assert a.keys() == b.keys() and any(t.numel() > 100 for t in a.values())
    assert all(torch.equal(a[k], b[k]) for k in a)


def _rollout(rng: RngRegistry, extra: bool, steps: int = 120) -> tuple[list[np.ndarray], dict[str, torch.Tensor]]:
    """Build HiTS and act in training mode; with ``extra``, another component draws between every step."""
    if extra:
        rng.numpy("node/extra/init").random(1000)
    env = gym.make("EasyPlatforms-v1")
    graph = build_graph("HiTS", env, from_dict(GraphParams, _params("HiTS")), rng, n_steps=1000)
    obs, _ = env.reset(seed=rng.int_seed("env/train"))
    graph.reset()
    actions = []
    for t in range(steps):
        if extra:
            rng.numpy("node/extra/explore").random(7)
            torch.rand(3, generator=rng.torch("node/extra/explore"))
        action = graph.act(obs, ep_step=t, total_step=t, testing=False)
        actions.append(np.asarray(action).copy())
        obs, reward, terminated, truncated, info = env.step(action)
        if graph.observe(obs, reward, terminated, truncated, info, ep_step=t + 1, total_step=t + 1, testing=False):
            break
    return actions, _tensors(graph.state_dict())


def test_component_drawing_in_between_leaves_graph_draws_unchanged() -> None:
    plain_actions, plain_state = _rollout(RngRegistry(4), extra=False)
    extra_actions, extra_state = _rollout(RngRegistry(4), extra=True)
    assert len(plain_actions) > 20
    np.testing.assert_array_equal(np.stack(plain_actions), np.stack(extra_actions))
    assert plain_state.keys() == extra_state.keys()
    assert all(torch.equal(plain_state[k], extra_state[k]) for k in plain_state)
