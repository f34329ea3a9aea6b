"""Tiny goal-reaching envs with the Platforms observation layout, for control-flow and learning tests."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class PointGoalEnv(gym.Env):
    """A point on [-1, 1]^dim moved by ``step_size * action``; reach ``desired_goal`` within ``radius``.

    Observation: ``{"observation": {"position", "velocity"}, "desired_goal", "achieved_goal"}``;
    reward 0 on success else -1 (vectorised ``compute_reward``), terminated on success, truncated after
    ``max_episode_length`` steps. ``goal`` fixes the goal (else uniform in ``goal_range``).
    """

    def __init__(
        self, dim: int = 1, max_episode_length: int = 20, step_size: float = 0.1, radius: float = 0.05,
        goal: np.ndarray | None = None, goal_range: float = 0.8,
    ) -> None:
        self.dim, self.max_episode_length, self.step_size, self.radius = dim, max_episode_length, step_size, radius
        self.fixed_goal = None if goal is None else np.asarray(goal, dtype=np.float32)
        self.goal_range = goal_range
        box = gym.spaces.Box(-1.0, 1.0, (dim,), np.float32)
        self.observation_space = gym.spaces.Dict({
            "observation": gym.spaces.Dict({"position": box, "velocity": box}),
            "desired_goal": box,
            "achieved_goal": box,
        })
        self.action_space = gym.spaces.Box(-1.0, 1.0, (dim,), np.float32)
        self.subgoals_shown: list[Any] = []

    def compute_reward(self, achieved: np.ndarray, desired: np.ndarray, info: Any) -> np.ndarray:
        dist = np.linalg.norm(np.asarray(achieved) - np.asarray(desired), axis=-1)
        return np.where(dist <= self.radius, 0.0, -1.0)

    def _obs(self) -> dict[str, Any]:
        return {
            "observation": {"position": self.pos.copy(), "velocity": self.vel.copy()},
            "desired_goal": self.goal.copy(),
            "achieved_goal": self.pos.copy(),
        }

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        self.t = 0
        self.pos = np.zeros(self.dim, np.float32)
        self.vel = np.zeros(self.dim, np.float32)
        if self.fixed_goal is not None:
            self.goal = self.fixed_goal.copy()
        else:
            self.goal = self.np_random.uniform(-self.goal_range, self.goal_range, self.dim).astype(np.float32)
        return self._obs(), {}

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        self.vel = (self.step_size * np.clip(action, -1, 1)).astype(np.float32)
        self.pos = np.clip(self.pos + self.vel, -1.0, 1.0).astype(np.float32)
        self.t += 1
        reward = float(self.compute_reward(self.pos, self.goal, {}))
        terminated = reward == 0.0
        truncated = self.t >= self.max_episode_length and not terminated
        return self._obs(), reward, terminated, truncated, {}

    def set_subgoals(self, subgoals: list[dict]) -> None:
        self.subgoals_shown = subgoals


class FakePlatformsEnv(PointGoalEnv):
    """The Platforms observation/action layout on top of a 2-D point (dynamics are irrelevant here)."""

    def __init__(self) -> None:
        super().__init__(dim=2, max_episode_length=500)
        box = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        platform = gym.spaces.Box(np.array([-1, -1, -np.inf, -np.inf], np.float32), np.array([1, 1, np.inf, np.inf], np.float32))
        self.observation_space = gym.spaces.Dict({
            "observation": gym.spaces.Dict({
                "position": box, "velocity": box, "ang_vel": gym.spaces.Box(-1.0, 1.0, (1,), np.float32),
                "platform0": platform, "platform1": platform, "platform2": platform,
            }),
            "desired_goal": box,
            "achieved_goal": box,
        })
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def _obs(self) -> dict[str, Any]:
        obs = super()._obs()
        plat = np.zeros(4, np.float32)
        obs["observation"].update(ang_vel=np.zeros(1, np.float32), platform0=plat, platform1=plat, platform2=plat)
        return obs

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        return super().step(np.array([action[0], 0.0], np.float32))
