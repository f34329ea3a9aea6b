"""Smoke test: every registered Platforms id builds, resets and steps."""

import gymnasium as gym
import numpy as np
import pytest

import envs


@pytest.mark.parametrize("env_id", sorted(envs.PLATFORMS_IDS))
def test_make_reset_step(env_id: str) -> None:
    env = gym.make(env_id)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    obs, reward, terminated, truncated, _ = env.step(np.zeros(1, np.float32))
    assert env.observation_space.contains(obs)
    assert reward == -1.0 and not terminated and not truncated
