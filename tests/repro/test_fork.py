"""``--fork``: a new run from a checkpoint with other graph values, which take effect; the source run is untouched."""

from __future__ import annotations

import json
from pathlib import Path

from tests.repro.tiny import tiny_train

LOW = "level_params_list[0]"


def _learner_rows(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [row for row in rows if row["split"] == "learner"]


def _files(path: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_fork_applies_new_values_in_a_new_directory(tmp_path: Path) -> None:
    source, stopped = tiny_train("HiTS", tmp_path / "source", stop_at=500)
    before = _files(source)
    plain, _ = tiny_train("HiTS", tmp_path / "plain", resume=str(source))
    alpha, _ = tiny_train(
        "HiTS", tmp_path / "alpha", resume=str(source), fork=True,
        graph_extra=(f"{LOW}.model_kwargs.alpha=0.5",),
    )
    lr, _ = tiny_train(
        "HiTS", tmp_path / "lr", resume=str(source), fork=True, graph_extra=(f"{LOW}.model_kwargs.learning_rate=0.01",)
    )
    assert _files(source) == before

    config = json.loads((alpha / "config.json").read_text())
    assert config["forked_from"].startswith(str(source / "checkpoints"))
    assert config["graph_params"]["level_params_list"][0]["model_kwargs"]["alpha"] == 0.5
    assert "forked_from" not in json.loads((plain / "config.json").read_text())

    plain_rows, alpha_rows, lr_rows = _learner_rows(plain), _learner_rows(alpha), _learner_rows(lr)
    assert plain_rows and min(row["step"] for row in plain_rows) > stopped.total_step
    assert all(abs(row["hits_0/alpha"] - 0.5) < 1e-6 for row in alpha_rows)
    assert all(abs(row["hits_0/alpha"] - 0.5) > 0.1 for row in plain_rows)
    assert all(abs(a["hits_0/alpha"] - b["hits_0/alpha"]) < 1e-9 for a, b in zip(lr_rows, plain_rows, strict=True))
    assert [row["hits_0/q_mean"] for row in lr_rows] != [row["hits_0/q_mean"] for row in plain_rows]
