"""tools/differential/compare.py without the original: its draw tape, matching and replay env on synthetic data.

The end-to-end run needs the original's Python 3.8 venv (``tools/differential/run.sh``) and is not part of the suite.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from graph_rl.config import apply_overrides, from_dict
from graph_rl.config.graph_params import GraphParams

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("differential_compare", ROOT / "tools" / "differential" / "compare.py")
assert _spec is not None and _spec.loader is not None
diff = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(diff)


def test_timed_hindsight_draws_are_served_in_graph_rls_order() -> None:
    # the original, per transition: frac draw, goal indices, one time shift per goal
    values = [("rand", 0.3), ("randint", [0, 1]), ("rand", 0.5), ("rand", 0.7), ("rand", 0.9), ("randint", [1]),
              ("rand", 0.2), ("rand", 0.4)]
    rng, used = diff.parse_timed_her(values, 2)
    assert used == 7
    assert rng.random(2).tolist() == [0.3, 0.9]
    assert rng.integers(np.array([0, 0, 1]), 2).tolist() == [0, 1, 1]
    assert rng.random(3).tolist() == [0.5, 0.7, 0.2]
    with pytest.raises(IndexError):
        rng.random(1)


def test_a_draw_of_another_shape_is_a_mismatch() -> None:
    rng, _ = diff.parse_her([("randint", [2, 3]), ("randint", [])], 2)
    with pytest.raises(RuntimeError, match="draw mismatch"):
        rng.integers(np.array([1, 1, 1]), 4)


def _tr(rew: float, **changes: object) -> dict:
    tr = {"kind": "real", "obs": np.zeros(3), "act": np.ones(2) * 0.5, "rew": rew, "done": False,
          "next_obs": np.ones(3), "emitted_act": None}
    tr.update(changes)
    return tr


def test_matching_is_one_to_one_and_catches_a_changed_reward() -> None:
    n, lone_theirs, lone_ours = diff.match([_tr(-1.0), _tr(-1.0)], [_tr(-1.0), _tr(-1.0 + 1e-3)])
    assert n == 1 and len(lone_theirs) == 1 and len(lone_ours) == 1
    pairs, only_t, only_o = diff.pair_up(lone_theirs, lone_ours)
    assert len(pairs) == 1 and not only_t and not only_o
    n, _, _ = diff.match([_tr(0.0, done=True)], [_tr(0.0, done=False)])
    assert n == 0


def test_replay_env_serves_the_recording_and_reads_its_ends() -> None:
    import gymnasium as gym

    episode = {
        "reset": {"observation": {"position": [0.0, 0.0]}, "desired_goal": [1.0, 1.0], "achieved_goal": [0.0, 0.0]},
        "steps": [
            {"action": [0.5], "obs": {"observation": {"position": [0.1, 0.0]}, "desired_goal": [1.0, 1.0],
                                       "achieved_goal": [0.1, 0.0]}, "reward": -1.0, "done": False},
            {"action": [0.5], "obs": {"observation": {"position": [1.0, 1.0]}, "desired_goal": [1.0, 1.0],
                                       "achieved_goal": [1.0, 1.0]}, "reward": 0.0, "done": True},
        ],
    }
    env = diff.ReplayEnv(gym.make("EasyPlatforms-v1"))
    env.load(episode)
    obs, _ = env.reset()
    assert obs["observation"]["position"].dtype == np.float32
    _, reward, terminated, truncated, _ = env.step(np.array([0.5], np.float32))
    assert (reward, terminated, truncated) == (-1.0, False, False)
    _, reward, terminated, truncated, info = env.step(np.array([0.25], np.float32))
    assert (reward, terminated, truncated, info["is_success"]) == (0.0, True, False, True)
    assert env.action_errors == [0.0, 0.25]


@pytest.mark.parametrize("env", ["EasyPlatforms", "Platforms"])
def test_run_sh_undoes_the_tuned_hits_files(env: str) -> None:
    """run.sh replays the original's values, so its overrides must turn each tuned file back into the reference one."""
    script = (ROOT / "tools" / "differential" / "run.sh").read_text()
    arrays = script[script.index("AS_ORIGINAL=(") : script.index("scenario() {")]
    printed = subprocess.run(
        ["bash", "-c", arrays + 'printf "%s\\n" "${AS_ORIGINAL_BUDGET[@]}"'], capture_output=True, text=True, check=True
    ).stdout.split()

    def load(name: str) -> dict:
        return json.loads((ROOT / "data" / name / "HiTS" / "graph_params.json").read_text())

    assert from_dict(GraphParams, apply_overrides(load(env), printed)) == from_dict(GraphParams, load("NoisyPlatforms"))
