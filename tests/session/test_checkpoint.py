"""Checkpoint files: exact round trip (numpy included), atomic replacement, one-line errors for bad input."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from graph_rl.checkpoint import CheckpointError, find_checkpoint, load_checkpoint, save_checkpoint
from graph_rl.checkpoint.codec import decode, encode


def _state(step: int = 10) -> dict:
    rng = np.random.default_rng(0)
    return {
        "graph": {"buf": rng.random((4, 3)).astype(np.float32), "flags": np.array([True, False]), "w": torch.ones(2)},
        "rng": {"seed": 1, "numpy": {"a": rng.bit_generator.state}},
        "envs": {"train": rng.bit_generator.state, "test": None},
        "session": {"total_step": step, "episodes": 2, "scalar": np.float64(0.5), "names": np.array(["a", "bc"])},
    }


def test_codec_round_trip_is_exact() -> None:
    state = _state()
    back = decode(encode(state))
    np.testing.assert_array_equal(back["graph"]["buf"], state["graph"]["buf"])
    assert back["graph"]["buf"].dtype == np.float32 and back["graph"]["flags"].dtype == bool
    assert isinstance(back["session"]["scalar"], np.float64) and back["session"]["names"].tolist() == ["a", "bc"]
    assert back["envs"]["train"] == state["envs"]["train"]


def test_save_load_latest_and_replace(tmp_path: Path) -> None:
    root = tmp_path / "run" / "checkpoints"
    save_checkpoint(root, 10, _state(10), {"algo": "HiTS"})
    path = save_checkpoint(root, 20, _state(20), {"algo": "HiTS"})
    assert find_checkpoint(tmp_path / "run") == path == find_checkpoint(root)
    ckpt = load_checkpoint(tmp_path / "run")
    assert ckpt.step == 20 and ckpt.config == {"algo": "HiTS"} and torch.equal(ckpt.state["graph"]["w"], torch.ones(2))
    save_checkpoint(root, 10, _state(10), {"algo": "again"})  # rewound run overwrites its old step-10
    assert load_checkpoint(root / "step-10").config == {"algo": "again"}
    assert sorted(p.name for p in root.iterdir()) == ["latest", "step-10", "step-20"]


@pytest.mark.parametrize("damage", ["missing", "not_ckpt", "flip", "meta_json", "version", "no_state"])
def test_bad_checkpoints_give_one_line_errors(tmp_path: Path, damage: str) -> None:
    path = save_checkpoint(tmp_path / "c", 10, _state(), {})
    expected = {
        "missing": "no such checkpoint",
        "not_ckpt": "not a checkpoint",
        "flip": r"corrupt \(checksum mismatch\)",
        "meta_json": "corrupt checkpoint.json",
        "version": "format version 99",
        "no_state": "state.pt: missing",
    }[damage]
    target = path
    if damage == "missing":
        target = tmp_path / "nope"
    elif damage == "not_ckpt":
        target = tmp_path
    elif damage == "flip":
        data = bytearray((path / "state.pt").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (path / "state.pt").write_bytes(bytes(data))
    elif damage == "meta_json":
        (path / "checkpoint.json").write_text("{oops")
    elif damage == "version":
        meta = json.loads((path / "checkpoint.json").read_text())
        (path / "checkpoint.json").write_text(json.dumps({**meta, "format_version": 99}))
    else:
        (path / "state.pt").unlink()
    with pytest.raises(CheckpointError, match=expected) as info:
        load_checkpoint(target)
    assert "\n" not in str(info.value)


def test_remove_checkpoints_keeps_newest_and_latest(tmp_path: Path) -> None:
    from graph_rl.checkpoint import list_checkpoints, remove_checkpoints

    for step in (10, 20, 30, 40):
        save_checkpoint(tmp_path, step, _state(step), {})
    remove_checkpoints(tmp_path, keep_last=2)
    assert [s for s, _ in list_checkpoints(tmp_path)] == [30, 40]
    (tmp_path / "latest").write_text("step-30\n")
    remove_checkpoints(tmp_path, after_step=25)
    assert [s for s, _ in list_checkpoints(tmp_path)] == [30]
