"""gymnasium / goal-env API of the Platforms family: registration, spaces, goals, rewards, episode ends, RNG."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs
from envs.platforms import PlatformsEnv
from platforms_testutil import lift

ALL_IDS = sorted(envs.PLATFORMS_IDS)
REPO_ROOT = Path(__file__).resolve().parents[2]


def test_registered_variants() -> None:
    assert set(ALL_IDS) == {
        "Platforms-v1", "EasyPlatforms-v1", "NoisyPlatforms-v1", "ThreePlatforms-v1", "PlatformsTime-v1"
    }  # fmt: skip
    three = gym.make("ThreePlatforms-v1").unwrapped
    assert three.third_platform and three.goal_centre == (-0.75, 0.95)  # Q7: not silently plain Platforms
    assert gym.make("EasyPlatforms-v1").unwrapped.goal_centre == (0.75, -0.1)
    assert gym.make("NoisyPlatforms-v1").unwrapped.use_freeze == (True, True)
    assert "time" in gym.make("PlatformsTime-v1").observation_space["observation"].spaces
    plain = gym.make("Platforms-v1").unwrapped
    assert plain.max_episode_length == 500 and plain.time_step == pytest.approx(1 / 60)
    assert PlatformsEnv(third_platform=[True]).third_platform
    assert not PlatformsEnv(third_platform=[False]).third_platform
    combined = PlatformsEnv(use_simpler_goal=True, third_platform=True, use_freeze=True, time_in_observation=True)
    assert combined.goal_centre == (0.75, -0.1)  # simpler goal wins, as in the original


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_check_env(env_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")  # the render check also opens a "human" env
    env = gym.make(env_id, render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.filterwarnings("error")
        # platform velocities are unbounded in the original's spaces (spec 2)
        warnings.filterwarnings("ignore", message=".*infinity.*")
        check_env(env.unwrapped)
    env.close()


def test_spaces() -> None:
    env = PlatformsEnv(time_in_observation=True)
    space = env.observation_space
    assert list(space.spaces) == ["achieved_goal", "desired_goal", "observation"]
    inner = space["observation"]
    shapes = {"position": 2, "velocity": 2, "ang_vel": 1, "time": 1, **{f"platform{i}": 4 for i in range(3)}}
    assert {k: s.shape for k, s in inner.spaces.items()} == {k: (n,) for k, n in shapes.items()}
    for box in [*inner.spaces.values(), space["desired_goal"], space["achieved_goal"]]:
        assert box.dtype == np.float32
    np.testing.assert_array_equal(inner["platform0"].low, [-1, -1, -np.inf, -np.inf])
    np.testing.assert_array_equal(inner["position"].high, [1, 1])
    assert "time" not in PlatformsEnv().observation_space["observation"].spaces
    action = env.action_space
    assert action.shape == (1,) and action.dtype == np.float32 and action.low[0] == -1 and action.high[0] == 1

    obs, _ = env.reset(seed=0)
    order = ["position", "velocity", "ang_vel", "platform0", "platform1", "platform2", "time"]
    assert list(obs["observation"]) == order  # the original's insertion order
    assert all(v.dtype == np.float32 for v in obs["observation"].values())


def test_observations_are_fresh_arrays() -> None:
    env = PlatformsEnv()
    first, _ = env.reset(seed=0)
    snapshot = {k: v.copy() for k, v in first["observation"].items()}
    first["achieved_goal"][:] = first["desired_goal"]  # mutating a returned array must not reach the env
    obs, reward, *_ = env.step(np.ones(1, np.float32))
    assert reward == -1.0
    for key, value in snapshot.items():
        np.testing.assert_array_equal(first["observation"][key], value)
    assert not np.shares_memory(obs["achieved_goal"], obs["observation"]["position"])


@pytest.mark.parametrize(
    ("kwargs", "centre"),
    [({}, (-0.25, 0.45)), ({"use_simpler_goal": True}, (0.75, -0.1)), ({"third_platform": True}, (-0.75, 0.95)),
     ({"use_freeze": True}, (-0.25, 0.45)), ({"time_in_observation": True}, (-0.25, 0.45))],
)  # fmt: skip
def test_goal_range(kwargs: dict, centre: tuple[float, float]) -> None:
    env = PlatformsEnv(**kwargs)
    goals = np.array([env.reset(seed=s)[0]["desired_goal"] for s in range(200)])
    np.testing.assert_array_equal(goals[:, 1], np.float32(centre[1]))
    offsets = goals[:, 0] - np.float32(centre[0])
    assert offsets.min() >= -0.1 - 1e-6 and offsets.max() <= 0.1 + 1e-6
    assert offsets.min() < -0.09 and offsets.max() > 0.09 and abs(offsets.mean()) < 0.02


def test_goal_pinned_and_stream_unchanged() -> None:
    env = PlatformsEnv()
    obs, _ = env.reset(seed=3, options={"goal": [0.1, 0.2]})
    np.testing.assert_array_equal(obs["desired_goal"], np.float32([0.1, 0.2]))
    pinned_next = env.reset()[0]["desired_goal"]
    env.reset(seed=3)
    free_next = env.reset()[0]["desired_goal"]
    np.testing.assert_array_equal(pinned_next, free_next)  # pinning still consumes the goal draw


def test_no_global_rng_use() -> None:
    np.random.seed(1)
    random.seed(1)
    np_state, py_state = np.random.get_state(), random.getstate()
    env = PlatformsEnv(use_freeze=True, third_platform=True)
    for seed in range(3):
        env.reset(seed=seed)
        for _ in range(500):
            env.step(np.zeros(1, np.float32))
    after = np.random.get_state()
    assert all(np.array_equal(a, b) for a, b in zip(np_state[1:3], after[1:3]))
    assert random.getstate() == py_state


def test_compute_reward_boundary_and_batches() -> None:
    env = PlatformsEnv()
    assert env.compute_reward(np.array([0.0, 0.0]), np.array([0.05, 0.0]), {}) == 0.0
    assert env.compute_reward(np.array([0.0, 0.0]), np.array([0.0501, 0.0]), {}) == -1.0
    assert env.compute_reward([0.3, 0.4], [0.33, 0.44], None) == 0.0  # distance exactly 0.05
    assert isinstance(env.compute_reward([0.0, 0.0], [0.0, 0.0], {}), float)
    achieved = np.zeros((4, 2), np.float32)
    desired = np.array([[0.0, 0.0], [0.04, 0.03], [0.0, 0.0501], [1.0, 1.0]], np.float32)
    np.testing.assert_array_equal(env.compute_reward(achieved, desired, [{}] * 4), [0.0, 0.0, -1.0, -1.0])
    batched = env.compute_reward(np.zeros((2, 3, 2)), np.full((2, 3, 2), 0.1), None)
    assert batched.shape == (2, 3) and np.all(batched == -1.0)


def test_success_terminates_and_matches_compute_reward() -> None:
    env = PlatformsEnv()
    env.reset(seed=0, options={"goal": [-0.8, -0.545]})  # the ball starts 5 mm below this point
    obs, reward, terminated, truncated, info = env.step(np.zeros(1, np.float32))
    assert (reward, terminated, truncated, info["is_success"]) == (0.0, True, False, True)
    assert env.compute_reward(obs["achieved_goal"], obs["desired_goal"], info) == reward


def test_truncation_at_500_steps() -> None:
    env = PlatformsEnv()
    env.reset(seed=0)
    for n in range(1, 501):
        _, reward, terminated, truncated, info = env.step(np.zeros(1, np.float32))
        assert reward == -1.0 and not terminated and not info["is_success"]
        assert truncated == (n == 500)


def test_success_on_last_step_is_terminated_not_truncated() -> None:
    env = PlatformsEnv()
    env.reset(seed=0, options={"goal": [0.9, 0.9]})
    for _ in range(499):
        assert env.step(np.zeros(1, np.float32))[1] == -1.0
    env._goal = (-0.8, -0.545)  # move the goal under the resting ball before the 500th step
    _, reward, terminated, truncated, _ = env.step(np.zeros(1, np.float32))
    assert (reward, terminated, truncated) == (0.0, True, False)


@pytest.mark.parametrize("third", [False, True])
def test_reset_observation_reports_platforms_at_t0(third: bool) -> None:
    env = PlatformsEnv(third_platform=third)
    y0, v0 = lift(0, -0.4)
    expected = {"platform0": [0.75, y0, 0.0, v0], "platform1": [0.25, 0.35, 0.0, 0.0]}
    expected["platform2"] = [-0.25, *lift(0, 0.6)[:1], 0.0, v0] if third else [-0.25, 0.35, 0.0, 0.0]
    first, _ = env.reset(seed=0)
    for _ in range(137):
        env.step(np.ones(1, np.float32))
    again, _ = env.reset(seed=0)
    for key, value in expected.items():
        np.testing.assert_allclose(first["observation"][key], value, atol=1e-7)
        np.testing.assert_array_equal(again["observation"][key], first["observation"][key])


def test_legacy_reset_observation_is_stale() -> None:
    env = PlatformsEnv(legacy_quirks=True)
    first, _ = env.reset(seed=0)
    np.testing.assert_array_equal(first["observation"]["platform0"], np.zeros(4, np.float32))
    for _ in range(10):
        last = env.step(np.zeros(1, np.float32))[0]
    again, _ = env.reset(seed=0)
    np.testing.assert_array_equal(again["observation"]["platform0"], last["observation"]["platform0"])


def test_time_key() -> None:
    env = gym.make("PlatformsTime-v1")
    obs, _ = env.reset(seed=0)
    assert obs["observation"]["time"][0] == -1.0
    for n in range(1, 501):
        obs = env.step(np.zeros(1, np.float32))[0]
        assert obs["observation"]["time"][0] == np.float32((n / 500 - 0.5) * 2)


def test_map_to_achieved_goal() -> None:
    env = PlatformsEnv()
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(env.map_to_achieved_goal(obs), obs["achieved_goal"])
    np.testing.assert_array_equal(env.map_to_achieved_goal(obs["observation"]), obs["observation"]["position"])
    assert env.achieved_goal_key == "position"


def _trajectory_digest(env_id: str, seed: int, steps: int) -> str:
    env = gym.make(env_id).unwrapped
    actions = np.random.default_rng(seed).uniform(-1, 1, (steps, 1)).astype(np.float32)
    digest = hashlib.sha256()
    obs, _ = env.reset(seed=seed)
    for action in actions:
        for part in (obs["observation"], obs):
            for value in part.values():
                if isinstance(value, np.ndarray):
                    digest.update(value.tobytes())
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            obs, _ = env.reset()
    return digest.hexdigest()


@pytest.mark.parametrize("env_id", ["NoisyPlatforms-v1", "ThreePlatforms-v1"])
def test_determinism_in_process(env_id: str) -> None:
    reference = _trajectory_digest(env_id, 7, 1200)
    assert _trajectory_digest(env_id, 7, 1200) == reference
    assert _trajectory_digest(env_id, 8, 1200) != reference


def test_determinism_same_env_after_other_history() -> None:
    def episode(env: PlatformsEnv) -> np.ndarray:
        obs, _ = env.reset(seed=11)
        rows = []
        for action in np.random.default_rng(0).uniform(-1, 1, 300):
            obs = env.step(np.array([action], np.float32))[0]
            rows.append(np.concatenate(list(obs["observation"].values())))
        return np.array(rows)

    fresh = episode(PlatformsEnv(use_freeze=True))
    used = PlatformsEnv(use_freeze=True)
    used.reset(seed=5)
    for _ in range(321):
        used.step(np.ones(1, np.float32))
    np.testing.assert_array_equal(episode(used), fresh)


def test_determinism_across_processes() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "from test_platforms_api import _trajectory_digest;"
        "print(_trajectory_digest('NoisyPlatforms-v1', 7, 1200))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(REPO_ROOT), str(Path(__file__).parent)],
        capture_output=True, text=True, check=True, env=env, timeout=120,
    )  # fmt: skip
    assert out.stdout.strip() == _trajectory_digest("NoisyPlatforms-v1", 7, 1200)
