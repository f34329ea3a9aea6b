"""Logger fan-out and file sinks: deterministic lines, split routing, truncation for resume."""

import json
import math
from pathlib import Path

import numpy as np
import torch

from graph_rl.logging import ConsoleSink, CsvSink, JsonlSink, Logger, TimingSink, metrics_line, truncate_after_step


def test_metrics_line_is_canonical() -> None:
    line = metrics_line("train", 5, {"b": 0.1, "a": 2, "n/x": None})
    assert line == '{"step": 5, "split": "train", "a": 2, "b": 0.1, "n/x": null}\n'


def test_logger_converts_scalars_and_routes_splits(tmp_path: Path) -> None:
    printed: list[str] = []
    with Logger([JsonlSink(tmp_path / "m.jsonl"), TimingSink(tmp_path / "t.jsonl"), ConsoleSink(printed.append)]) as log:
        log.log("train", 3, {"r": np.float32(0.5), "ok": np.int64(1), "nan": math.nan, "t": torch.tensor(2.0)})
        log.log("timing", 3, {"steps_per_s": 10.0})
        log.log("test", 3, {"success": 1.0, "return": -3.0})
    lines = (tmp_path / "m.jsonl").read_text().splitlines()
    assert json.loads(lines[0]) == {"step": 3, "split": "train", "r": 0.5, "ok": 1, "nan": None, "t": 2.0}
    assert len(lines) == 2 and "steps_per_s" not in lines[1]
    timing = json.loads((tmp_path / "t.jsonl").read_text())
    assert timing["steps_per_s"] == 10.0 and "wall_s" in timing
    assert printed == ["step         3  test  success 1  return -3"]


def test_csv_sink_fixed_columns_and_header_once(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    for step in (1, 2):
        sink = CsvSink(path, "train", ["return", "success"])
        sink.write("train", step, {"return": -1.5, "success": 0, "extra": 9})
        sink.close()
    assert path.read_text() == "step,return,success\n1,-1.5,0\n2,-1.5,0\n"


def test_truncate_after_step_drops_later_and_torn_lines(tmp_path: Path) -> None:
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text("".join(metrics_line("train", s, {}) for s in (1, 5, 9)) + '{"step": 12, "spl')
    assert truncate_after_step(jsonl, 5) == 2
    assert [json.loads(x)["step"] for x in jsonl.read_text().splitlines()] == [1, 5]
    csv = tmp_path / "s.csv"
    csv.write_text("step,return\n1,0.5\n7,0.25\n")
    truncate_after_step(csv, 5)
    assert csv.read_text() == "step,return\n1,0.5\n"
    assert truncate_after_step(tmp_path / "absent.jsonl", 3) == 0
