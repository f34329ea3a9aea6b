"""The tutorial notebook runs end to end (every cell, no error) and shows what its lessons claim."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "hrl_debugging_tutorial.ipynb"


def _text(cell: dict) -> str:
    return "".join(out.get("text", "") for out in cell.get("outputs", []) if out.get("output_type") == "stream")


def test_notebook_outputs_are_not_committed() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_tutorial_executes_and_its_lessons_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "runs"
    monkeypatch.setenv("GRAPH_RL_TUTORIAL_DIR", str(out))
    monkeypatch.delenv("GRAPH_RL_TUTORIAL_ARTIFACT", raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    for name in ("lesson1_alpha.png", "lesson2_budget.png", "lesson3_rng.png", "lesson4_eat.gif", "lesson5_resume.png"):
        assert (out / name).stat().st_size > 10_000, name
    texts = "\n".join(_text(c) for c in nb.cells if c.cell_type == "code")
    assert texts.count("byte-identical") == 4 and texts.count("DIFFERS") == 1
    assert "another component's stream: metrics.jsonl DIFFERS" in texts
    assert "stopped + resumed == uninterrupted: True" in texts
    assert "terminations marked: 0" not in texts
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 4
    assert os.path.isdir(out / "resume-pieces" / "checkpoints")
