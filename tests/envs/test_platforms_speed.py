"""Raw step throughput target (excluded from the default run: ``pytest -m benchmark tests/envs``)."""

from __future__ import annotations

import time

import numpy as np
import pytest

import envs
from envs.platforms import PlatformsEnv


@pytest.mark.benchmark
@pytest.mark.parametrize("env_id", sorted(envs.PLATFORMS_IDS))
def test_raw_step_throughput(env_id: str) -> None:
    env = PlatformsEnv(**envs.PLATFORMS_IDS[env_id])
    actions = np.random.default_rng(0).uniform(-1, 1, (20_000, 1)).astype(np.float32)
    env.reset(seed=0)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    assert len(actions) / (time.perf_counter() - start) >= 10_000
