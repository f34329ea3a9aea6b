"""Helpers for the core tests: a stub learner and hand-wiring of nodes on the point envs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from graph_rl.algorithms import HAC, Algorithm, HiTS  # noqa: E402
from graph_rl.config.graph_params import AlgoKwargs  # noqa: E402
from graph_rl.replay import ReplayBuffer  # noqa: E402
from graph_rl.spaces import UnitMap  # noqa: E402
from graph_rl.subtasks import Subtask  # noqa: E402


class StubLearner:
    """Acts with zeros (or ``action``), values every action at ``q``, counts updates."""

    def __init__(
        self, act_dim: int, action: np.ndarray | None = None, q: float = 0.0, device: str = "cpu"
    ) -> None:
        self.act_dim = act_dim
        self.device = torch.device(device)
        self.q_input_devices: list[torch.device] = []
        self.action = np.zeros(act_dim, np.float32) if action is None else np.asarray(action, np.float32)
        self.q = q
        self.n_updates = 0
        self.calls: list[tuple[np.ndarray, bool]] = []

    def act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        self.calls.append((obs.copy(), deterministic))
        return self.action.copy()

    def q_values(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        self.q_input_devices += [obs.device, act.device]
        return torch.full((len(obs),), self.q)

    def update(self, batch: Any) -> None:
        self.n_updates += 1

    def pop_stats(self) -> dict[str, float]:
        return {"n_updates": float(self.n_updates)} if self.n_updates else {}

    def state_dict(self) -> dict[str, Any]:
        return {"n_updates": self.n_updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.n_updates = state["n_updates"]


class Recorder:
    """A policy that returns scripted unit actions and records who acted when."""

    def __init__(self, log: list, name: str, actions: Any, child: Any = 0) -> None:
        self.log, self.name, self.actions, self.child = log, name, actions, child
        self.n = 0

    def __call__(self, obs: np.ndarray, deterministic: bool) -> tuple[int, np.ndarray]:
        self.log.append((self.name, self.n))
        action = self.actions(self.n, obs) if callable(self.actions) else self.actions
        child = self.child(self.n) if callable(self.child) else self.child
        self.n += 1
        return child, np.asarray(action, dtype=np.float32)


def make_algorithm(
    subtask: Subtask, bounds: tuple[Any, Any], *, cls: type[Algorithm] = HAC, seed: int = 0,
    learner: Any = None, capacity: int = 1000, **params: Any,
) -> Algorithm:
    """An algorithm with a stub learner, a real buffer and generators seeded from ``seed``."""
    amap = UnitMap(np.asarray(bounds[0], np.float32), np.asarray(bounds[1], np.float32))
    extra = {k: params.pop(k) for k in ("child_failure_penalty", "hindsight_columns", "fidelity") if k in params}
    if cls is not HiTS:
        extra.pop("hindsight_columns", None)
    learner = StubLearner(amap.dim) if learner is None else learner
    buffer = ReplayBuffer(capacity, subtask.obs_dim, amap.dim, np.random.default_rng(seed + 1))
    return cls(
        subtask, amap, learner, buffer, AlgoKwargs(**params), np.random.default_rng(seed + 2),
        np.random.default_rng(seed + 3), **extra,
    )


@pytest.fixture
def log() -> list:
    return []


class SpyHAC(HAC):
    """HAC that keeps every relabelled batch it stores."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list = []
        self.episodes: list = []

    def relabel(self, episode: list) -> Any:
        self.episodes.append(list(episode))
        batch = super().relabel(episode)
        self.batches.append(batch)
        return batch


def run_episode(graph: Any, env: Any, *, testing: bool = False, total_step: int = 0, max_steps: int = 1000) -> dict:
    """Drive one episode; returns per-step done flags and the env actions."""
    obs, _ = env.reset(seed=0)
    graph.reset()
    dones, actions, step = [], [], 0
    while step < max_steps:
        action = graph.act(obs, ep_step=step, total_step=total_step + step, testing=testing)
        actions.append(np.array(action))
        obs, reward, terminated, truncated, info = env.step(action)
        step += 1
        done = graph.observe(obs, reward, terminated, truncated, info, ep_step=step, total_step=total_step + step,
                             testing=testing)
        dones.append(done)
        if done or terminated or truncated:
            break
    return {"dones": dones, "actions": actions, "steps": step}
