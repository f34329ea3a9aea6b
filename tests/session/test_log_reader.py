"""Reading logs back: records in file order, a killed run's torn last line skipped, wall time over resumed pieces."""

from __future__ import annotations

import json
from pathlib import Path

from graph_rl.logging import cumulative_wall_s, read_metrics


def _write(path: Path, records: list[dict], torn: str = "") -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + torn, encoding="utf-8")


def test_metrics_in_file_order_by_split_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    records = [{"step": 5, "split": "train", "return": -1.0}, {"step": 5, "split": "test", "success": 0.5},
               {"step": 9, "split": "train", "return": -2.0}]
    _write(tmp_path / "metrics.jsonl", records, torn='{"step": 12, "spl')
    assert read_metrics(tmp_path) == records
    assert read_metrics(tmp_path, "train") == [records[0], records[2]]


def test_wall_time_adds_up_over_resumed_pieces(tmp_path: Path) -> None:
    # piece 1 ran to step 30 (checkpoint at 20), piece 2 resumed from 20 with its own clock
    _write(tmp_path / "timing.jsonl", [
        {"step": 10, "wall_s": 1.0}, {"step": 20, "wall_s": 2.0}, {"step": 30, "wall_s": 3.5},
        {"step": 20, "wall_s": 0.01, "resumed_from_step": 20}, {"step": 30, "wall_s": 1.0}, {"step": 40, "wall_s": 2.0},
    ])
    assert cumulative_wall_s(tmp_path) == {10: 1.0, 20: 2.0, 30: 4.5, 40: 5.5}
