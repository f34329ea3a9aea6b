"""Same seed, same bytes: SAC, HAC, HiTS and EAT on EasyPlatforms; other seeds differ; global RNGs are irrelevant;
test blocks leave training untouched; a run stopped halfway and resumed writes the same metrics as the
uninterrupted one."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from graph_rl.session import EpisodeStats, Session
from graph_rl.session.run import LOG_FILES, default_graph_factory
from tests.repro.tiny import tiny_train

ALGOS = ("SAC", "HAC", "HiTS", "EAT")


def _scramble_globals(tag: int) -> None:
    random.seed(tag)
    np.random.seed(tag)
    torch.manual_seed(tag)


def scrambling_factory(config: Any, env: Any, rng: Any) -> Any:
    """The real graph, built after the global RNGs were moved somewhere else."""
    _scramble_globals(12345)
    return default_graph_factory(config, env, rng)


def scramble_after_episode(session: Session, stats: EpisodeStats) -> None:
    """Move the global RNGs, and let an extra component draw from its own registry streams."""
    _scramble_globals(1000 + stats.episode)
    session.rng.numpy("node/extra/explore").random(stats.episode)
    torch.rand(5, generator=session.rng.torch("node/extra/init"))


@pytest.mark.parametrize("algo", ALGOS)
def test_same_seed_identical_other_seed_differs_globals_and_extra_streams_irrelevant(algo: str, tmp_path: Path) -> None:
    plain, _ = tiny_train(algo, tmp_path / "plain")
    scrambled, _ = tiny_train(
        algo, tmp_path / "scrambled", graph_factory=scrambling_factory, callbacks=(scramble_after_episode,)
    )
    other, _ = tiny_train(algo, tmp_path / "other", seed=1)
    metrics = (plain / "metrics.jsonl").read_bytes()
    assert b'"split": "learner"' in metrics and b'"split": "test"' in metrics
    assert (scrambled / "metrics.jsonl").read_bytes() == metrics
    assert (other / "metrics.jsonl").read_bytes() != metrics


def _training_rows(run_dir: Path) -> list[str]:
    return [line for line in (run_dir / "metrics.jsonl").read_text().splitlines() if '"split": "test"' not in line]


@pytest.mark.parametrize("algo", ALGOS)
def test_test_blocks_do_not_change_training(algo: str, tmp_path: Path) -> None:
    """Other test blocks (more episodes, other times; test episodes end activations too) change nothing in
    training: train episodes and learner updates are byte-identical."""
    one, _ = tiny_train(algo, tmp_path / "one")
    three, _ = tiny_train(algo, tmp_path / "three", run_extra=("n_test_episodes=3", "test_frequency=3"))
    rows = _training_rows(one)
    assert any('"split": "learner"' in row for row in rows)
    assert _training_rows(three) == rows
    assert (three / "metrics.jsonl").read_text() != (one / "metrics.jsonl").read_text()


@pytest.mark.parametrize("algo", ALGOS)
def test_stop_halfway_and_resume_equals_uninterrupted(algo: str, tmp_path: Path) -> None:
    full, _ = tiny_train(algo, tmp_path / "full")
    part, stopped = tiny_train(algo, tmp_path / "part", stop_at=500)
    assert stopped.stop_reason == "stop_at" and stopped.total_step < 1000
    _, resumed = tiny_train(algo, None, resume=str(part))
    assert resumed.stop_reason == "n_steps"
    for name in LOG_FILES:
        assert (part / name).read_bytes() == (full / name).read_bytes(), name
