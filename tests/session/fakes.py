"""A tiny env and a stand-in graph that exercise everything the session relies on, in milliseconds.

The stand-in draws from named registry streams while acting, learning and in its episode metrics, keeps numpy
and torch state, and ends episodes early through a budget, so the session's seeding, checkpointing and resume
logic is tested without the real algorithms.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from graph_rl.rng import RngRegistry

ENV_ID = "ToyReach-v0"


class ToyReach(gym.Env):
    """Move a point on a line towards a random target; reward -1 per step, 0 on arrival (terminated)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._state = self.np_random.uniform(-1.0, 1.0, 2).astype(np.float32)
        return self._state.copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self._state[0] = np.clip(self._state[0] + 0.25 * float(np.asarray(action).reshape(-1)[0]), -1.0, 1.0)
        done = abs(self._state[0] - self._state[1]) < 0.1
        return self._state.copy(), 0.0 if done else -1.0, bool(done), False, {}


if ENV_ID not in gym.registry:
    gym.register(ENV_ID, entry_point=ToyReach, max_episode_steps=30)


class FakeGraph:
    """Noisy proportional controller with a 'learnt' gain; every random number comes from its named streams."""

    def __init__(self, rng: RngRegistry, name: str = "low", budget: int = 25) -> None:
        self.name, self.budget = name, budget
        self.explore = rng.numpy(f"node/{name}/explore")
        self.replay = rng.numpy(f"node/{name}/replay")
        init = rng.torch(f"node/{name}/init")
        self.weights = torch.randn(3, generator=init)
        self.gain = 1.0
        self.buffer = np.zeros((0, 2), dtype=np.float32)
        self.n_actions = 0
        self.actions: list[float] = []

    def reset(self) -> None:
        self.n_actions = 0
        self.actions = []

    def act(self, env_obs: np.ndarray, *, ep_step: int, total_step: int, testing: bool) -> np.ndarray:
        action = self.gain * (env_obs[1] - env_obs[0]) + float(self.weights[0]) * 0.01
        if not testing:
            action += self.explore.normal(0.0, 0.5)
            self.buffer = np.concatenate([self.buffer, env_obs[None]])
        self.n_actions += 1
        self.actions.append(float(action))
        return np.array([action], dtype=np.float32)

    def observe(self, new_obs: Any, reward: float, terminated: bool, truncated: bool, info: dict, *,
                ep_step: int, total_step: int, testing: bool) -> bool:
        return self.n_actions >= self.budget

    def learn(self, total_step: int) -> dict[str, float]:
        if len(self.buffer) < 10:
            return {}
        batch = self.buffer[self.replay.integers(0, len(self.buffer), 8)]
        self.gain = 0.9 * self.gain + 0.1 * (1.0 + float(batch.std()))
        return {f"{self.name}/gain": self.gain, f"{self.name}/batch_mean": float(batch.mean())}

    def episode_metrics(self) -> dict[str, float]:
        return {f"{self.name}/mean_action": float(np.mean(self.actions)), f"{self.name}/n_actions": self.n_actions}

    def state_dict(self) -> dict[str, Any]:
        return {"gain": self.gain, "buffer": self.buffer.copy(), "weights": self.weights.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["buffer"].shape[1:] != (2,):
            raise ValueError("buffer shape mismatch")
        self.gain, self.buffer, self.weights = state["gain"], state["buffer"].copy(), state["weights"].clone()


def fake_graph_factory(config: Any, env: gym.Env, rng: RngRegistry) -> FakeGraph:
    return FakeGraph(rng)


RUN_PARAMS = {
    "env": ENV_ID,
    "n_steps": 400,
    "test_frequency": 3,
    "n_test_episodes": 2,
    "model_save_frequency": 150,
    "success_reward": 0.0,
    "seed": 5,
}
GRAPH_PARAMS = {
    "algorithm": "SAC",
    "n_layers": 1,
    "level_params_list": [{"subtask_spec_params": {"env_goal_key": "target"}}],
}


def make_data_root(tmp_path: Path) -> Path:
    """``<tmp>/data/Toy/SAC/{run,graph,wandb}_params.json`` for runner tests with the fake graph."""
    params = tmp_path / "data" / "Toy" / "SAC"
    params.mkdir(parents=True)
    (params / "run_params.json").write_text(json.dumps(RUN_PARAMS))
    (params / "graph_params.json").write_text(json.dumps(GRAPH_PARAMS))
    (params / "wandb_params.json").write_text(json.dumps({"project": "graph_rl-tests"}))
    return tmp_path / "data"
