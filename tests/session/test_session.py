"""The session loop with a stand-in graph: schedule, budgets, checkpoints at episode ends, exact resume."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from graph_rl.config import from_dict
from graph_rl.config.run_params import RunParams
from graph_rl.logging import JsonlSink, Logger
from graph_rl.rng import RngRegistry
from graph_rl.session import EpisodeStats, Session
from tests.session.fakes import ENV_ID, RUN_PARAMS, FakeGraph


def _session(path: Path, *, overrides: dict | None = None, **kwargs: Any) -> tuple[Session, list]:
    params = from_dict(RunParams, {**RUN_PARAMS, **(overrides or {})})
    rng = RngRegistry(params.seed)
    saved: list = []
    session = Session(
        FakeGraph(rng), train_env=gym.make(ENV_ID), test_env=gym.make(ENV_ID), params=params, rng=rng,
        logger=Logger([JsonlSink(path)]), checkpoint=lambda step, state: saved.append((step, state)), **kwargs,
    )
    return session, saved


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_schedule_and_budget(tmp_path: Path) -> None:
    session, saved = _session(tmp_path / "m.jsonl")
    result = session.run()
    session.logger.close()
    lines = _lines(tmp_path / "m.jsonl")
    train = [x for x in lines if x["split"] == "train"]
    tests = [x for x in lines if x["split"] == "test"]
    assert result.stop_reason == "n_steps" and 400 <= result.total_step < 430
    assert [x["episode"] for x in train] == list(range(1, len(train) + 1))
    assert sum(x["length"] for x in train) == result.total_step == train[-1]["step"]
    assert len(tests) == len(train) // 3 and all(x["episodes"] == 2 for x in tests)
    assert all(x["step"] == train[3 * i + 2]["step"] for i, x in enumerate(tests))
    assert any(x["split"] == "learner" for x in lines)
    assert set(train[0]) >= {"return", "length", "success", "low/mean_action", "low/n_actions"}
    assert {"success", "return_success", "low/n_actions"} <= set(tests[0])
    steps = [s for s, _ in saved]
    assert steps[-1] == result.total_step and all(b > a for a, b in zip(steps, steps[1:]))
    assert [s // 150 for s in steps[:-1]] == [1, 2] and steps[0] >= 150
    assert lines == sorted(lines, key=lambda x: x["step"])


def test_resume_from_midway_checkpoint_reproduces_the_rest(tmp_path: Path) -> None:
    full, saved = _session(tmp_path / "full.jsonl")
    full.run()
    full.logger.close()
    step, state = saved[0]
    resumed, _ = _session(tmp_path / "resumed.jsonl")
    resumed.load_state_dict(state)
    assert resumed.counters.total_step == step
    resumed.run()
    resumed.logger.close()
    expected = [line for line in (tmp_path / "full.jsonl").read_text().splitlines() if json.loads(line)["step"] > step]
    assert (tmp_path / "resumed.jsonl").read_text().splitlines() == expected


def test_stop_at_gives_the_checkpoint_an_uninterrupted_run_passes_through(tmp_path: Path) -> None:
    full, full_saved = _session(tmp_path / "a.jsonl")
    full.run()
    part, part_saved = _session(tmp_path / "b.jsonl", stop_at=200)
    result = part.run()
    assert result.stop_reason == "stop_at" and 200 <= result.total_step < 230
    resumed, _ = _session(tmp_path / "c.jsonl")
    resumed.load_state_dict(part_saved[-1][1])
    resumed.run()
    for s in (full, part, resumed):
        s.logger.close()
    combined = (tmp_path / "b.jsonl").read_text() + (tmp_path / "c.jsonl").read_text()
    assert combined == (tmp_path / "a.jsonl").read_text()


def test_reseeding_global_rngs_changes_nothing(tmp_path: Path) -> None:
    def scramble(session: Session, stats: EpisodeStats) -> None:
        random.seed(stats.episode)
        np.random.seed(stats.episode)
        torch.manual_seed(stats.episode)

    plain, _ = _session(tmp_path / "a.jsonl")
    plain.run()
    noisy, _ = _session(tmp_path / "b.jsonl", callbacks=[scramble])
    noisy.run()
    plain.logger.close()
    noisy.logger.close()
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_seed_changes_metrics(tmp_path: Path) -> None:
    a, _ = _session(tmp_path / "a.jsonl")
    b, _ = _session(tmp_path / "b.jsonl", overrides={"seed": 6})
    for s in (a, b):
        s.run()
        s.logger.close()
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "b.jsonl").read_bytes()


def test_callback_stop_and_runtime_budget(tmp_path: Path) -> None:
    seen: list[EpisodeStats] = []

    def stop_after_two(session: Session, stats: EpisodeStats) -> None:
        seen.append(stats)
        if stats.episode == 2:
            session.request_stop("callback")

    session, saved = _session(tmp_path / "a.jsonl", callbacks=[stop_after_two])
    result = session.run()
    assert result.stop_reason == "callback" and result.train_episodes == 2 and saved[-1][0] == result.total_step
    assert seen[1].total_step == result.total_step and seen[0].length + seen[1].length == result.total_step
    ticks = iter(range(1000))
    timed, _ = _session(tmp_path / "b.jsonl", overrides={"max_runtime": 5.0}, clock=lambda: float(next(ticks)))
    assert timed.run().stop_reason == "max_runtime"


def test_no_tests_and_no_success_metric(tmp_path: Path) -> None:
    session, _ = _session(tmp_path / "a.jsonl", overrides={"n_test_episodes": 0, "success_reward": None, "n_steps": 60})
    session.run()
    session.logger.close()
    lines = _lines(tmp_path / "a.jsonl")
    assert {x["split"] for x in lines} <= {"train", "learner"} and all("success" not in x for x in lines)


def test_env_states_in_checkpoint(tmp_path: Path) -> None:
    session, saved = _session(tmp_path / "a.jsonl", overrides={"n_steps": 5, "test_frequency": 100})
    session.run()
    envs = saved[-1][1]["envs"]
    assert envs["train"]["pending_seed"] is None and envs["train"]["np_random"]["bit_generator"] == "PCG64"
    assert envs["test"] == {"pending_seed": RngRegistry(5).int_seed("env/test"), "np_random": None}


@pytest.mark.parametrize("bad", [{"n_steps": 0}, {"test_frequency": 0}])
def test_invalid_params_rejected(bad: dict) -> None:
    from graph_rl.config import ConfigError

    with pytest.raises(ConfigError):
        from_dict(RunParams, {**RUN_PARAMS, **bad})
