"""tools/level_swap.py: the crossed agents really carry each checkpoint's parts, and mismatched runs are refused."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tools"))

import level_swap  # noqa: E402  (tools/ is not a package)
from saved_runs import saved_run  # noqa: E402


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "level_swap.py"), *args],
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("level_swap")
    return saved_run(directory, "EasyPlatforms", "HiTS"), saved_run(directory, "EasyPlatforms", "HiTS", seed=2)


def _leaves(state: Any, path: str = "") -> Iterator[tuple[str, np.ndarray]]:
    """Every tensor and array in a nested state, by path."""
    if isinstance(state, dict):
        for key, value in state.items():
            yield from _leaves(value, f"{path}/{key}")
    elif isinstance(state, (list, tuple)):
        for i, value in enumerate(state):
            yield from _leaves(value, f"{path}/{i}")
    elif isinstance(state, torch.Tensor):
        yield path, state.detach().cpu().numpy()
    elif isinstance(state, np.ndarray):
        yield path, state


def _same(a: Any, b: Any) -> bool:
    left, right = dict(_leaves(a)), dict(_leaves(b))
    return left.keys() == right.keys() and all(np.array_equal(left[k], right[k]) for k in left)


def test_a_crossed_agent_has_its_own_top_level_and_the_other_runs_lower_level(two_runs: tuple[Path, Path]) -> None:
    import envs  # noqa: F401
    from graph_rl.session.evaluate import load_agent

    first, second = (load_agent(run) for run in two_runs)
    a, b = first.checkpoint.state["graph"], second.checkpoint.state["graph"]
    root, low = first.graph.root.name, first.graph.root.children[0].name
    assert not _same(a["nodes"][low], b["nodes"][low]) and not _same(a["nodes"][root], b["nodes"][root])
    first.graph.load_state_dict(level_swap.crossed_state(a, b, root))
    crossed = first.graph.state_dict()["nodes"]
    assert _same(crossed[root], a["nodes"][root]) and _same(crossed[low], b["nodes"][low])


def test_the_four_runs_match_evaluate(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    import envs  # noqa: F401
    from graph_rl.session.evaluate import evaluate, load_agent

    out = tmp_path / "swap.json"
    proc = _cli(str(two_runs[0]), str(two_runs[1]), "--episodes", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert json.loads(out.read_text()) == report and report["eval_seed"] == 1 and report["episodes"] == 2
    runs = {(r["top"], r["lower"]): r for r in report["runs"]}
    assert set(runs) == {("first", "first"), ("second", "second"), ("first", "second"), ("second", "first")}
    for name, run in (("first", two_runs[0]), ("second", two_runs[1])):
        own = evaluate(load_agent(run), n_episodes=2, seed=1)
        assert runs[(name, name)]["success_rate"] == own.success_rate
        assert runs[(name, name)]["mean_return"] == round(own.mean_return, 3)


def test_each_run_evaluates_the_parts_it_names(two_runs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import graph_rl.session.evaluate as evaluation

    seen: list[tuple[dict[str, Any], int]] = []
    real = evaluation.evaluate

    def recording(agent: Any, **kwargs: Any) -> Any:
        seen.append((copy.deepcopy(agent.graph.state_dict()["nodes"]), agent.config.seed))
        return real(agent, **kwargs)

    monkeypatch.setattr(evaluation, "evaluate", recording)
    assert level_swap.main([str(two_runs[0]), str(two_runs[1]), "--episodes", "1"]) == 0
    import envs  # noqa: F401
    from graph_rl.checkpoint import load_checkpoint

    saved = {seed: load_checkpoint(run).state["graph"]["nodes"] for seed, run in zip((1, 2), two_runs)}
    expected = ((1, 1), (2, 2), (1, 2), (2, 1))  # (top's run seed, lower's run seed) per run, in report order
    assert len(seen) == 4
    for (nodes, agent_seed), (top, lower) in zip(seen, expected):
        assert agent_seed == top
        assert _same(nodes["hac_1"], saved[top]["hac_1"]) and _same(nodes["hits_0"], saved[lower]["hits_0"])


def test_lower_levels_that_would_read_another_layout_are_found() -> None:
    config = json.loads((ROOT / "data" / "EasyPlatforms" / "HiTS" / "graph_params.json").read_text())
    first = {"algo": "HiTS", "run_params": {"env": "EasyPlatforms-v1", "env_kwargs": {}}, "graph_params": config}
    top_changed = copy.deepcopy(first)
    top_changed["graph_params"]["level_params_list"][1]["model_kwargs"]["alpha"] = 1.0
    top_changed["graph_params"]["level_params_list"][1]["subtask_spec_params"]["max_n_actions"] = 10
    assert level_swap.lower_level_mismatch(first, top_changed) is None
    low_changed = copy.deepcopy(first)
    low_changed["graph_params"]["level_params_list"][0]["subtask_spec_params"]["goal_keys"] = ["position"]
    message = level_swap.lower_level_mismatch(first, low_changed)
    assert message is not None and message.startswith("graph_params.level_params_list[0].subtask_spec_params")
    other_env = copy.deepcopy(first)
    other_env["run_params"]["env"] = "Platforms-v1"
    assert str(level_swap.lower_level_mismatch(first, other_env)).startswith("run_params.env differs")


def test_mismatched_runs_and_flat_agents_are_one_line_errors(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    wider_goal = saved_run(tmp_path, "EasyPlatforms", "HiTS",
                           overrides=["level_params_list[0].subtask_spec_params.goal_thresholds.position=0.1"])
    flat = saved_run(tmp_path / "sac", "EasyPlatforms", "SAC")
    cases = ((two_runs[0], wider_goal, "level_params_list[0].subtask_spec_params differs"),
             (flat, two_runs[0], "no lower level"),
             (two_runs[0], tmp_path / "missing", "no such checkpoint"))
    for first, second, message in cases:
        proc = _cli(str(first), str(second), "--episodes", "1")
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stderr.startswith("level_swap.py: error:") and message in proc.stderr and proc.stdout == ""
