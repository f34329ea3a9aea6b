"""The Platforms environment: a ball that must ride moving platforms up to a goal (gymnasium goal-env API)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.platforms.level import (
    DT,
    GOAL_DEFAULT,
    GOAL_EASY,
    GOAL_OFFSET_RANGE,
    GOAL_RADIUS,
    GOAL_THREE,
    MAX_ANG_VEL,
    MAX_EPISODE_LENGTH,
    MAX_FORCE,
    P0_CENTRE,
    P2_CENTRE,
    P2_STATIC_Y,
    PLATFORM_X,
    lift_state,
    platform1_state,
)
from envs.platforms.physics import PlatformsWorld
from envs.platforms.triggers import FreezeState, Platform1Trigger

PLATFORM_KEYS = ("platform0", "platform1", "platform2")
GOAL_RADIUS_SQ = GOAL_RADIUS * GOAL_RADIUS


def _flag(value: Any, name: str) -> bool:
    """Accept a bool or the original's one-element list (``third_platform=[True]``, quirk Q7)."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"{name} must be a bool or a one-element list, got {value!r}")
        value = value[0]
    return bool(value)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _freeze_flags(value: bool | Sequence[bool]) -> tuple[bool, bool]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"use_freeze must be a bool or a pair of bools, got {value!r}")
        return bool(value[0]), bool(value[1])
    return bool(value), bool(value)


class PlatformsEnv(gym.Env):
    """Platforms family (Platforms, EasyPlatforms, NoisyPlatforms, ThreePlatforms, PlatformsTime) in one class.

    Keyword arguments (combinable): ``use_simpler_goal`` (Easy goal above platform0; wins over
    ``third_platform``), ``use_freeze`` (bool or pair: random freezes of platform0/2 and of platform1),
    ``third_platform`` (platform2 becomes a lift to the upper ledge, with its own goal), ``time_in_observation``
    (adds ``observation/time``), ``legacy_quirks`` (restores the original's history-dependent state, see the
    package docstring). The episode limit is enforced here: ``truncated`` after ``max_episode_length`` steps.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 60}
    time_step = DT
    goal_radius = GOAL_RADIUS
    achieved_goal_key = "position"

    def __init__(
        self,
        render_mode: str | None = None,
        use_simpler_goal: bool = False,
        use_freeze: bool | Sequence[bool] = (False, False),
        third_platform: bool | Sequence[bool] = False,
        time_in_observation: bool = False,
        freeze_probability: float = 0.005,
        max_number_of_freezes: int = 2,
        max_freeze_time: int = 50,
        max_episode_length: int = MAX_EPISODE_LENGTH,
        subgoal_radius: float = GOAL_RADIUS,
        legacy_quirks: bool = False,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None")
        self.render_mode = render_mode
        self.use_simpler_goal = bool(use_simpler_goal)
        self.third_platform = _flag(third_platform, "third_platform")
        self.use_freeze = _freeze_flags(use_freeze)
        self.time_in_observation = bool(time_in_observation)
        self.freeze_probability = float(freeze_probability)
        self.max_episode_length = int(max_episode_length)
        self.subgoal_radius = float(subgoal_radius)
        self.legacy_quirks = bool(legacy_quirks)
        if self.use_simpler_goal:
            self.goal_centre = GOAL_EASY
        elif self.third_platform:
            self.goal_centre = GOAL_THREE
        else:
            self.goal_centre = GOAL_DEFAULT

        self._freeze0 = FreezeState(0, max_number_of_freezes, max_freeze_time) if self.use_freeze[0] else None
        freeze1 = FreezeState(1, max_number_of_freezes, max_freeze_time) if self.use_freeze[1] else None
        self._trigger1 = Platform1Trigger(freeze1, legacy_state=self.legacy_quirks)
        self._world = PlatformsWorld()
        self.current_step = 0
        self._goal = (0.0, 0.0)
        self._platform_obs = [0.0] * 12
        self._subgoals: list[tuple[float, float, float | None, float | None]] = []
        self._renderer: Any = None

        def unit(n: int) -> spaces.Box:
            return spaces.Box(-1.0, 1.0, (n,), np.float32)

        low = np.array([-1.0, -1.0, -np.inf, -np.inf], np.float32)
        obs_spaces: dict[str, spaces.Space] = {
            "position": unit(2),
            "velocity": unit(2),
            "ang_vel": unit(1),
            **{key: spaces.Box(low, -low, (4,), np.float32) for key in PLATFORM_KEYS},
        }
        if self.time_in_observation:
            obs_spaces["time"] = unit(1)
        # gymnasium's Dict sorts the keys (as gym's did); observations keep the original's insertion order
        self.observation_space = spaces.Dict(
            {"observation": spaces.Dict(obs_spaces), "desired_goal": unit(2), "achieved_goal": unit(2)}
        )
        self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)

    # ----------------------------------------------------------------------------------------------------------
    # gymnasium API

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        """Start an episode; ``options={"goal": [x, y]}`` pins the goal (the offset is still drawn, so the
        generator's stream does not depend on the option)."""
        super().reset(seed=seed)
        offset = float(self.np_random.uniform(-GOAL_OFFSET_RANGE, GOAL_OFFSET_RANGE))
        goal = (options or {}).get("goal")
        if goal is None:
            goal = (self.goal_centre[0] + offset, self.goal_centre[1])
        gx, gy = np.asarray(goal, dtype=np.float32).reshape(2).tolist()
        self._goal = (gx, gy)
        self.current_step = 0
        if self._freeze0 is not None:
            self._freeze0.reset()
        self._trigger1.reset()
        self._world.reset()
        if not self.legacy_quirks:
            ys, vys = self._platform_targets(0)
            self._set_platform_obs(ys, vys, 0.0)
        if self.render_mode == "human":
            self.render()
        return self._observation(), {}

    def step(self, action: Any) -> tuple[dict, float, bool, bool, dict]:
        """One physics step with horizontal force 0.1*action[0] (not clipped, as in the original)."""
        n = self.current_step
        ys, vys = self._platform_targets(n)
        world = self._world
        world.step(MAX_FORCE * float(action[0]), ys, vys)
        x, y = world.x, world.y
        if self._freeze0 is not None:
            self._freeze0.update(self._draw_freeze)
        self._trigger1.update(x, y, self._draw_freeze)
        self.current_step = n + 1
        self._set_platform_obs(ys, vys, DT)
        obs = self._observation()
        ag = obs["achieved_goal"].tolist()
        dx = ag[0] - self._goal[0]
        dy = ag[1] - self._goal[1]
        success = dx * dx + dy * dy <= GOAL_RADIUS_SQ  # same arithmetic as compute_reward: bitwise consistent
        truncated = not success and n + 1 >= self.max_episode_length
        if self.render_mode == "human":
            self.render()
        return obs, 0.0 if success else -1.0, success, truncated, {"is_success": success}

    @property
    def frozen_platforms(self) -> tuple[bool, bool]:
        """Whether (platform0 or platform2, platform1) is frozen now: the events EAT's terminations should follow."""
        return (self._freeze0 is not None and self._freeze0.frozen, self._trigger1.frozen)

    def compute_reward(self, achieved_goal: Any, desired_goal: Any, info: Any = None) -> np.ndarray | float:
        """0 where ||achieved - desired|| <= 0.05 else -1, over the last axis (scalar in, scalar out)."""
        d = np.asarray(achieved_goal, dtype=np.float64) - np.asarray(desired_goal, dtype=np.float64)
        reward = np.where((d * d).sum(axis=-1) <= GOAL_RADIUS_SQ, 0.0, -1.0)
        return float(reward) if reward.ndim == 0 else reward

    def map_to_achieved_goal(self, observation: dict[str, Any]) -> np.ndarray:
        """Achieved goal of an ``observation`` dict (inner or full): the ball position."""
        inner = observation.get("observation", observation)
        return np.array(inner[self.achieved_goal_key], dtype=np.float32)

    def set_subgoals(self, subgoals: Sequence[dict[str, Any]]) -> None:
        """Replace the subgoals drawn in the next frames.

        Each entry: ``{"goal": {key: value}, "time_left": float | None, "tolerance": {key: float}}``, as
        ``graph_rl`` hands over a running subgoal. The ``position`` goal is drawn (entries without one are skipped:
        a goal of velocities only has no place); ``time_left`` (steps) as a bar proportional to time_left / 50, the
        position's tolerance as the marker radius (default ``subgoal_radius``). ``set_subgoals([])`` clears.
        """
        parsed = []
        for sg in subgoals:
            if "position" not in sg["goal"]:
                continue
            px, py = np.asarray(sg["goal"]["position"], dtype=np.float64).reshape(-1)[:2].tolist()
            tolerance = (sg.get("tolerance") or {}).get("position")
            parsed.append((px, py, _optional_float(sg.get("time_left")), _optional_float(tolerance)))
        self._subgoals = parsed

    def render(self) -> np.ndarray | None:
        """``rgb_array``: the current frame (H x W x 3 uint8); ``human``: shows it in a pygame window."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'human'.")
            return None
        if self._renderer is None:
            from envs.platforms.render import PlatformsRenderer

            self._renderer = PlatformsRenderer(self.render_mode, tall=self.third_platform)
        return self._renderer.render(self._render_state())

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # ----------------------------------------------------------------------------------------------------------
    # internals

    def _draw_freeze(self, trigger: int) -> bool:
        """Bernoulli(freeze_probability) draw for freeze trigger ``trigger`` (0: platform0/2, 1: platform1).

        All freeze randomness goes through this method, so tests can patch it with a scripted sequence.
        """
        return bool(self.np_random.random() < self.freeze_probability)

    def _platform_targets(self, n: int) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """Platform centres and velocities set before physics step ``n``, from the trigger states."""
        lift_steps = n - (self._freeze0.total_frozen if self._freeze0 is not None else 0)
        p0y, p0v = lift_state(lift_steps, P0_CENTRE)
        trigger = self._trigger1
        p1y, p1v = platform1_state(trigger.active_steps, trigger.moving)
        if self.third_platform:
            p2y, p2v = lift_state(lift_steps, P2_CENTRE)
        else:
            p2y, p2v = P2_STATIC_Y, 0.0
        return (p0y, p1y, p2y), (p0v, p1v, p2v)

    def _set_platform_obs(self, ys: Sequence[float], vys: Sequence[float], dt: float) -> None:
        """Observed platform state: kinematic bodies move by vel*dt inside the step (quirk Q2, kept)."""
        obs = self._platform_obs
        for i in range(3):
            obs[4 * i] = PLATFORM_X[i]
            obs[4 * i + 1] = ys[i] + vys[i] * dt
            obs[4 * i + 2] = 0.0
            obs[4 * i + 3] = vys[i]

    def _observation(self) -> dict[str, Any]:
        """Fresh float32 arrays (one buffer per call, one disjoint slice per key)."""
        w = self._world
        values = [w.x, w.y, w.vx, w.vy, w.w / MAX_ANG_VEL, *self._platform_obs]
        if self.time_in_observation:
            values.append((self.current_step / self.max_episode_length - 0.5) * 2.0)
        values += (self._goal[0], self._goal[1], w.x, w.y)
        buf = np.array(values, dtype=np.float32)
        inner = {
            "position": buf[0:2],
            "velocity": buf[2:4],
            "ang_vel": buf[4:5],
            "platform0": buf[5:9],
            "platform1": buf[9:13],
            "platform2": buf[13:17],
        }
        if self.time_in_observation:
            inner["time"] = buf[17:18]
        return {"observation": inner, "desired_goal": buf[-4:-2], "achieved_goal": buf[-2:]}

    def _render_state(self) -> dict[str, Any]:
        w = self._world
        trigger = self._trigger1
        return {
            "ball": (w.x, w.y, w.angle, w.vx, w.vy),
            "platforms": [tuple(self._platform_obs[4 * i : 4 * i + 2]) for i in range(3)],
            "platform0_frozen": self.frozen_platforms[0],
            "platform1_state": "frozen" if trigger.frozen else ("active" if trigger.active else "idle"),
            "trigger_active": trigger.active,
            "goal": self._goal,
            "subgoals": list(self._subgoals),
            "subgoal_radius": self.subgoal_radius,
        }
