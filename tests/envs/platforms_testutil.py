"""Shared helpers for the Platforms tests: recordings of the original, replay, scripted controller loading."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from envs.platforms import PlatformsEnv

REF_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "platforms_ref"
DT = 1.0 / 60.0

# Recorded episode -> constructor kwargs of the variant it was recorded on.
RECORDING_KWARGS: dict[str, dict[str, Any]] = {
    "platforms_zero": {},
    "platforms_scripted": {},
    "easy_scripted": {"use_simpler_goal": True},
    "three_zero": {"third_platform": True},
}

requires_reference = pytest.mark.skipif(
    not REF_DIR.is_dir(), reason=f"reference recordings not found at {REF_DIR} (shared/ beside the clone)"
)


def load_recording(name: str) -> dict[str, np.ndarray]:
    with np.load(REF_DIR / f"{name}.npz") as data:
        return {key: data[key] for key in data.files}


def flat(obs: dict[str, Any]) -> np.ndarray:
    """Observation in the recordings' 21-column layout."""
    inner = obs["observation"]
    keys = ("position", "velocity", "ang_vel", "platform0", "platform1", "platform2")
    return np.concatenate([inner[k] for k in keys] + [obs["desired_goal"], obs["achieved_goal"]]).astype(np.float64)


def replay(name: str) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Replay a recording open loop with its goal pinned; returns (recording, observations, rewards)."""
    rec = load_recording(name)
    env = PlatformsEnv(**RECORDING_KWARGS[name])
    obs, _ = env.reset(seed=0, options={"goal": rec["obs"][0, 17:19]})
    rows, rewards = [flat(obs)], []
    for action in rec["actions"]:
        obs, reward, _, _, _ = env.step(np.array([action], dtype=np.float32))
        rows.append(flat(obs))
        rewards.append(reward)
    return rec, np.array(rows), np.array(rewards)


def load_controller_module() -> ModuleType:
    """The reference scripted controller (test tool, read from shared/, not part of the package)."""
    spec = importlib.util.spec_from_file_location("platforms_scripted_controller", REF_DIR / "scripted_controller.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lift(n: int, centre: float) -> tuple[float, float]:
    """Spec 1.5: continuous lift centre and velocity at t = n*dt (no freezes)."""
    phase = 3.0 * n * DT - 0.8 * math.pi
    return centre + 0.25 * math.sin(phase), 0.75 * math.cos(phase)


def put_ball(env: PlatformsEnv, x: float, y: float = -0.545) -> None:
    """Teleport the ball (at rest) between steps; white-box hook for trigger tests."""
    world = env._world
    world.x, world.y = x, y
    world.vx = world.vy = world.w = 0.0
