"""Small goal envs in the shapes of other libraries, for the goal-env door's tests (no MuJoCo needed).

``BoxPoint``: a 2-D point, gymnasium-robotics shape (flat Box ``observation`` = position + velocity,
``achieved_goal``, ``desired_goal``), 0/1 reward, ``info["success"]``, never terminates (like PointMaze's
continuing task). Options: unbounded spaces, a -1/0 reward, no success flag in info.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

RADIUS = 0.1


class BoxPoint(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(self, unbounded: bool = False, reward: str = "0/1", info_flag: bool = True,
                 render_mode: str | None = None) -> None:
        bound = np.inf if unbounded else 1.0
        box = lambda n, b: gym.spaces.Box(-b, b, (n,), np.float64)  # noqa: E731
        self.observation_space = gym.spaces.Dict(
            {"observation": box(4, bound), "achieved_goal": box(2, bound), "desired_goal": box(2, bound)}
        )
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.reward_kind, self.info_flag, self.render_mode = reward, info_flag, render_mode
        self.pos = np.zeros(2)
        self.vel = np.zeros(2)
        self.goal = np.zeros(2)

    def compute_reward(self, achieved_goal: Any, desired_goal: Any, info: Any) -> np.ndarray:
        hit = (np.linalg.norm(np.asarray(achieved_goal) - np.asarray(desired_goal), axis=-1) < RADIUS).astype(float)
        return hit if self.reward_kind == "0/1" else hit - 1.0

    def _obs(self) -> dict[str, np.ndarray]:
        return {"observation": np.concatenate([self.pos, self.vel]), "achieved_goal": self.pos.copy(),
                "desired_goal": self.goal.copy()}

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[dict[str, np.ndarray], dict]:
        super().reset(seed=seed)
        self.pos = self.np_random.uniform(-0.8, 0.8, 2)
        self.goal = self.np_random.uniform(-0.8, 0.8, 2)
        self.vel = np.zeros(2)
        return self._obs(), {}

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict]:
        self.vel = 0.1 * np.clip(action, -1, 1)
        self.pos = np.clip(self.pos + self.vel, -1, 1)
        reward = float(self.compute_reward(self.pos, self.goal, {}))
        info = {"success": bool(np.linalg.norm(self.pos - self.goal) < RADIUS)} if self.info_flag else {}
        return self._obs(), reward, False, False, info

    def render(self) -> np.ndarray | None:
        return np.zeros((32, 32, 3), np.uint8) if self.render_mode == "rgb_array" else None


def register() -> None:
    if "BoxPoint-v0" not in gym.registry:
        gym.register("BoxPoint-v0", entry_point=BoxPoint, max_episode_steps=50)


register()  # importing the module registers its env, which is what gymnasium's "toy_envs:BoxPoint-v0" relies on
