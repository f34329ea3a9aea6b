"""Any gymnasium goal env in the one observation shape the graph reads.

The graph reads ``{"observation": {key: array}, "achieved_goal": array, "desired_goal": array}``: named entries a
level can see (``partial_obs_keys``) or aim at (``goal_keys``). Goal envs come in three shapes, and
:func:`adapt_goal_env` brings each to it:

* the Platforms shape (``observation`` is already a Dict of Boxes): used as it is, no wrapper, no per-step cost;
* the gymnasium-robotics / Fetch shape (``observation`` is a flat Box): ``observation`` becomes the key
  ``"observation"`` (the whole vector), plus one key per named slice (``"position": [0, 2]`` = indices 0 and 1),
  plus ``"achieved_goal"``, so by default a level aims at the env's own achieved goal;
* a flat Dict of Boxes with ``achieved_goal`` and ``desired_goal`` beside the other keys: each other key becomes
  an entry of ``observation``, plus ``"achieved_goal"``.

Anything else (no ``desired_goal``, a non-Box entry, a slice outside the vector) is a one-line error naming it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

__all__ = ["GoalEnvShapeError", "GoalObservation", "adapt_goal_env", "is_canonical"]


class GoalEnvShapeError(ValueError):
    """The env's observations cannot be read as a goal env's (one line naming the culprit)."""


def is_canonical(space: gym.spaces.Space) -> bool:
    """Already the graph's shape: a Dict with ``desired_goal`` and a Dict-of-Boxes ``observation``."""
    if not isinstance(space, gym.spaces.Dict) or "desired_goal" not in space.spaces:
        return False
    inner = space.spaces.get("observation")
    return isinstance(inner, gym.spaces.Dict) and all(isinstance(s, gym.spaces.Box) for s in inner.spaces.values())


def _box(space: gym.spaces.Space, name: str) -> gym.spaces.Box:
    if not isinstance(space, gym.spaces.Box):
        raise GoalEnvShapeError(f"env: observation entry {name!r} is a {type(space).__name__}, expected a Box")
    return space


def _flat_box(space: gym.spaces.Box) -> gym.spaces.Box:
    return gym.spaces.Box(space.low.astype(np.float32).ravel(), space.high.astype(np.float32).ravel(), dtype=np.float32)


class GoalObservation(gym.ObservationWrapper):
    """Reads a flat-Box or flat-Dict goal env as the graph's nested Dict (see the module docstring).

    Args:
        env: a goal env whose observation space is not already canonical.
        slices: name -> ``[start, stop]`` index range of a flat ``observation`` Box.
    """

    def __init__(self, env: gym.Env, slices: Mapping[str, Sequence[int]] | None = None) -> None:
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Dict) or "desired_goal" not in space.spaces:
            raise GoalEnvShapeError(
                f"env: a goal env needs Dict observations with 'desired_goal' (and 'achieved_goal'), got "
                f"{type(space).__name__}"
            )
        if "achieved_goal" not in space.spaces:
            raise GoalEnvShapeError("env: observations have 'desired_goal' but no 'achieved_goal'")
        goal = _flat_box(_box(space["achieved_goal"], "achieved_goal"))
        desired = _flat_box(_box(space["desired_goal"], "desired_goal"))
        entries: dict[str, gym.spaces.Space] = {}
        self._sources: list[tuple[str, str, slice | None]] = []
        slices = dict(slices or {})
        inner = space.spaces.get("observation")
        if isinstance(inner, gym.spaces.Box):
            whole = _flat_box(inner)
            entries["observation"] = whole
            self._sources.append(("observation", "observation", None))
            for name, bounds in slices.items():
                start, stop = self._check_slice(name, bounds, whole.shape[0])
                entries[name] = gym.spaces.Box(whole.low[start:stop], whole.high[start:stop], dtype=np.float32)
                self._sources.append((name, "observation", slice(start, stop)))
        else:
            if slices:
                raise GoalEnvShapeError("graph_params.observation_slices: only for a flat Box 'observation'")
            for name, sub in space.spaces.items():
                if name not in ("achieved_goal", "desired_goal"):
                    entries[name] = _flat_box(_box(sub, name))
                    self._sources.append((name, name, None))
        if "achieved_goal" in entries:
            raise GoalEnvShapeError("env: an observation entry is named 'achieved_goal'; rename the slice")
        entries["achieved_goal"] = goal
        self._sources.append(("achieved_goal", "achieved_goal", None))
        self.observation_space = gym.spaces.Dict(
            {"observation": gym.spaces.Dict(entries), "achieved_goal": goal, "desired_goal": desired}
        )

    @staticmethod
    def _check_slice(name: str, bounds: Sequence[int], size: int) -> tuple[int, int]:
        if len(bounds) != 2 or not all(isinstance(b, int) for b in bounds) or not 0 <= bounds[0] < bounds[1] <= size:
            raise GoalEnvShapeError(
                f"graph_params.observation_slices.{name}: {list(bounds)!r} must be [start, stop] with "
                f"0 <= start < stop <= {size} (the observation's length)"
            )
        return int(bounds[0]), int(bounds[1])

    def observation(self, observation: Any) -> dict[str, Any]:
        inner = {}
        for name, source, part in self._sources:
            value = np.asarray(observation[source], dtype=np.float32).ravel()
            inner[name] = value if part is None else value[part]
        return {
            "observation": inner,
            "achieved_goal": inner["achieved_goal"],
            "desired_goal": np.asarray(observation["desired_goal"], dtype=np.float32).ravel(),
        }


def adapt_goal_env(env: gym.Env, slices: Mapping[str, Sequence[int]] | None = None) -> gym.Env:
    """``env`` itself if already in the graph's shape (and no slices are asked for), else wrapped."""
    if is_canonical(env.observation_space) and not slices:
        return env
    if is_canonical(env.observation_space):
        raise GoalEnvShapeError("graph_params.observation_slices: only for a flat Box 'observation'")
    return GoalObservation(env, slices)
