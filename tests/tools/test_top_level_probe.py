"""tools/top_level_probe.py: the statistics on a hand-made critic, and a real HiTS checkpoint end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tools"))

import top_level_probe as tlp  # noqa: E402  (tools/ is not a package)
from saved_runs import saved_run  # noqa: E402


class _BowlLearner:
    """Q(s, a) = s_0 - 10 |a - best|^2; the actor's deterministic action is ``offset`` away from ``best``."""

    act_dim = 2
    alpha = 0.5

    def __init__(self, offset: float) -> None:
        self.best = torch.tensor([0.5, -0.5])
        self.offset = offset

    def act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        assert deterministic
        return (self.best + self.offset).numpy()

    def q_values(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        return obs[:, 0] - 10 * ((act - self.best) ** 2).sum(-1)

    def sample_with_log_prob(self, obs: torch.Tensor, n: int, generator: torch.Generator):
        actions = (self.best + 0.1 * torch.randn(obs.shape[0], n, 2, generator=generator)).clamp(-1, 1)
        return actions, torch.full((obs.shape[0], n), 1.5)


@pytest.mark.parametrize("offset", [0.0, 0.4])
def test_probe_reads_the_critic_around_the_actor(offset: float) -> None:
    obs = torch.tensor([[-3.0, 0.0], [-1.0, 0.0], [-2.0, 0.0]])
    report = tlp.probe(_BowlLearner(offset), obs, 256, torch.Generator().manual_seed(0))
    assert report["states"] == 3 and report["alpha"] == 0.5
    assert report["q_deterministic"]["mean"] == pytest.approx(-2.0 - 10 * 2 * offset**2, abs=1e-4)
    assert report["q_deterministic"]["std_over_states"] == pytest.approx(1.0, abs=1e-4)
    gap = report["q_best_uniform_minus_deterministic"]
    if offset == 0.0:  # the actor sits on the critic's maximum: no uniform action beats it
        assert -0.5 < gap <= 0.0
    else:  # the actor lags its critic by 10 * 2 * 0.4^2 = 3.2
        assert 2.5 < gap < 3.2
    assert report["log_pi"] == 1.5 and report["entropy_term"] == -0.75
    assert report["q_spread_uniform"] > 5 * report["q_spread_policy"] > 0
    assert report["abs_tanh_mu_per_dim"] == pytest.approx([abs(0.5 + offset), abs(-0.5 + offset)], abs=1e-3)
    assert report["sample_std_per_dim"] == pytest.approx([0.1, 0.1], abs=0.02)


class _GoalBlindInDim1:
    """Deterministic action (goal_0, 0.3): the first dimension follows the goal, the second ignores it."""

    act_dim = 2

    def act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        return np.array([obs[1], 0.3], np.float32)


def test_goal_sensitivity_tells_a_goal_conditioned_dimension_from_a_blind_one() -> None:
    obs = torch.tensor([[5.0, -0.5], [6.0, 0.5], [7.0, 0.5]])  # goal in column 1: two distinct goals
    assert tlp.goal_sensitivity(_GoalBlindInDim1(), obs, slice(1, 2)) == pytest.approx([0.5, 0.0])
    assert tlp.goal_sensitivity(_GoalBlindInDim1(), obs[1:], slice(1, 2)) == [0.0, 0.0]  # one goal: nothing to swap


class _LogitLearner:
    """A critic whose logit is the observation's first entry: Q = logsigmoid(obs_0) when force-negative."""

    def __init__(self, force_negative: bool) -> None:
        self.config = type("Config", (), {"force_negative": force_negative})()

    def q_values(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        z = obs[:, 0]
        return torch.nn.functional.logsigmoid(z) if self.config.force_negative else z


def test_critic_saturation_counts_the_logits_past_each_threshold() -> None:
    obs = torch.tensor([[-10.0], [0.0], [4.9], [6.0], [9.0], [12.0], [30.0], [200.0]])  # 200: Q rounds to 0
    act = torch.zeros(len(obs), 1)
    report = tlp.critic_saturation(_LogitLearner(True), obs, act)
    assert report == {"transitions": 8, "share_logit_above_5": 5 / 8, "share_logit_above_10": 3 / 8}
    assert tlp.critic_saturation(_LogitLearner(False), obs, act) is None  # a linear head does not saturate


def _probe_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "top_level_probe.py"), *args],
                          capture_output=True, text=True, timeout=300, check=False)


def test_a_saved_hits_agent_is_probed_at_its_top_level_decisions(tmp_path: Path) -> None:
    out = tmp_path / "probe.json"
    run = saved_run(tmp_path, "EasyPlatforms", "HiTS")
    proc = _probe_cli(str(run), "--episodes", "2", "--samples", "8", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert json.loads(out.read_text()) == report
    assert report["algo"] == "HiTS" and report["episodes"] == 2 and report["step"] >= 600
    # One top-level decision per subgoal: at least one per episode, at most the budget (20) per episode.
    assert 2 <= report["states"] <= 40
    shipped = json.loads((ROOT / "data" / "EasyPlatforms" / "HiTS" / "graph_params.json").read_text())
    alpha = shipped["level_params_list"][1]["model_kwargs"]["alpha"]
    assert report["alpha"] == pytest.approx(alpha, abs=1e-3)
    assert report["q_deterministic"]["mean"] <= 0.0  # force-negative critic
    assert len(report["abs_tanh_mu_per_dim"]) == len(report["sample_std_per_dim"]) == 5
    assert len(report["goal_sensitivity_per_dim"]) == 5 and min(report["goal_sensitivity_per_dim"]) >= 0.0
    assert report["entropy_term_bound"] == pytest.approx(alpha * 5 * np.log(2), abs=1e-2)
    saturation = report["critic_saturation"]  # the top level's critic is force-negative in the shipped file
    assert saturation["transitions"] >= report["states"]
    assert 0.0 <= saturation["share_logit_above_10"] <= saturation["share_logit_above_5"] <= 1.0


def test_flat_agents_and_missing_checkpoints_are_one_line_errors(tmp_path: Path) -> None:
    flat = saved_run(tmp_path, "EasyPlatforms", "SAC")
    for source, message in ((tmp_path / "missing", "no such checkpoint"), (flat, "no top level")):
        proc = _probe_cli(str(source))
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stderr.startswith("top_level_probe.py: error:") and message in proc.stderr


def test_an_unwritable_out_is_refused_before_anything_is_loaded(tmp_path: Path) -> None:
    proc = _probe_cli(str(tmp_path / "missing"), "--out", str(tmp_path / "missing-dir" / "probe.json"))
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("top_level_probe.py: error: --out") and "no directory" in last and "missing-dir" in last
