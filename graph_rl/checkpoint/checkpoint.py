"""Checkpoints: the whole training state in one directory, written atomically, validated on load.

Layout of a run directory's ``checkpoints/``::

    step-<N>/checkpoint.json   format version, step, versions, sha256 of state.pt (read first, small)
    step-<N>/state.pt          graph state, RNG registry, env RNG states, session counters (torch, weights_only)
    step-<N>/config.json       the resolved run config (enough to rebuild the graph and envs)
    latest                     text file naming the newest ``step-<N>``

Checkpoints are taken at episode boundaries only, so no mid-episode env state (physics) is needed: the envs are
restored through their RNG states and the next episode starts with a fresh ``reset()``.
A directory is first written under a temporary name and renamed into place, and ``latest`` is replaced
atomically, so a crash never leaves a half-written checkpoint behind a valid name.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

import graph_rl
from graph_rl.checkpoint.codec import decode, encode

__all__ = [
    "FORMAT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "save_checkpoint",
    "load_checkpoint",
    "find_checkpoint",
    "list_checkpoints",
    "point_latest",
    "remove_checkpoints",
]

FORMAT_VERSION = 2
"""2: compressed replay, EAT state in its algorithm (format 1 predates them)."""
META_FILE = "checkpoint.json"
STATE_FILE = "state.pt"
CONFIG_FILE = "config.json"
LATEST_FILE = "latest"
STATE_KEYS = ("graph", "rng", "envs", "session")


class CheckpointError(Exception):
    """A checkpoint is missing, corrupt or does not fit; the message is one line naming the culprit."""


@dataclass(frozen=True)
class Checkpoint:
    """A loaded, validated checkpoint."""

    path: Path
    step: int
    meta: dict[str, Any]
    config: dict[str, Any]
    state: dict[str, Any]
    """``{"graph", "rng", "envs": {"train", "test"}, "session"}``."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def save_checkpoint(root: Path, step: int, state: Mapping[str, Any], config: Mapping[str, Any]) -> Path:
    """Write ``root/step-<step>/`` atomically and point ``root/latest`` at it; returns the directory.

    An existing directory of the same name (left by an abandoned run that was rewound by a resume) is replaced.
    """
    missing = [key for key in STATE_KEYS if key not in state]
    if missing:
        raise ValueError(f"checkpoint state lacks {missing}")
    root.mkdir(parents=True, exist_ok=True)
    name = f"step-{step}"
    tmp = root / f".tmp-{name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    with open(tmp / STATE_FILE, "wb") as f:
        torch.save(encode(dict(state)), f)
        f.flush()
        os.fsync(f.fileno())
    _write_json(tmp / CONFIG_FILE, config)
    meta = {
        "format_version": FORMAT_VERSION,
        "step": step,
        "graph_rl_version": graph_rl.__version__,
        "torch_version": torch.__version__,
        "state_sha256": _sha256(tmp / STATE_FILE),
    }
    _write_json(tmp / META_FILE, meta)
    final = root / name
    if final.exists():
        stale = root / f".old-{name}-{os.getpid()}"
        os.rename(final, stale)
        os.rename(tmp, final)
        shutil.rmtree(stale)
    else:
        os.rename(tmp, final)
    point_latest(root, final)
    return final


def point_latest(root: Path, checkpoint: Path) -> None:
    """Atomically make ``root/latest`` name ``checkpoint`` (a directory inside ``root``)."""
    pointer = root / f".{LATEST_FILE}.tmp"
    pointer.write_text(checkpoint.name + "\n", encoding="utf-8")
    os.replace(pointer, root / LATEST_FILE)
    _fsync_dir(root)


def list_checkpoints(root: Path) -> list[tuple[int, Path]]:
    """``(step, dir)`` of every complete checkpoint under ``root``, oldest first."""
    found = []
    for path in root.glob("step-*") if root.is_dir() else []:
        suffix = path.name[len("step-") :]
        if suffix.isdigit() and (path / META_FILE).is_file():
            found.append((int(suffix), path))
    return sorted(found)


def remove_checkpoints(root: Path, *, keep_last: int | None = None, after_step: int | None = None) -> None:
    """Delete all but the ``keep_last`` newest checkpoints, and/or those after ``after_step``.

    ``after_step`` serves a rewind: resuming a run from an older checkpoint abandons the later ones.
    The checkpoint ``latest`` points to is never deleted.
    """
    found = list_checkpoints(root)
    pointer = root / LATEST_FILE
    latest = pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else None
    doomed = [path for step, path in found if after_step is not None and step > after_step]
    if keep_last is not None:
        doomed += [path for _, path in found[: max(len(found) - keep_last, 0)]]
    for path in doomed:
        if path.name != latest and path.exists():
            shutil.rmtree(path)


def find_checkpoint(path: Path) -> Path:
    """The checkpoint directory meant by ``path``: a checkpoint itself, a ``checkpoints/`` dir, or a run dir."""
    if (path / META_FILE).is_file():
        return path
    root = path / "checkpoints" if (path / "checkpoints").is_dir() else path
    pointer = root / LATEST_FILE
    if pointer.is_file():
        target = root / pointer.read_text(encoding="utf-8").strip()
        if not (target / META_FILE).is_file():
            raise CheckpointError(f"{pointer}: points to missing checkpoint {target.name!r}")
        return target
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint or run directory")
    raise CheckpointError(f"{path}: not a checkpoint or run directory (no {META_FILE} and no checkpoints/latest)")


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing {what}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: corrupt {what} ({err})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: corrupt {what} (not a JSON object)")
    return data


def load_checkpoint_config(path: Path) -> dict[str, Any]:
    """The ``config.json`` of the checkpoint meant by ``path``, without reading its (large) state."""
    return _read_json(find_checkpoint(Path(path)) / CONFIG_FILE, CONFIG_FILE)


def load_checkpoint(path: Path) -> Checkpoint:
    """Load and validate the checkpoint meant by ``path`` (see :func:`find_checkpoint`).

    Raises:
        CheckpointError: missing files, unknown format version, checksum mismatch or missing state entries.
    """
    directory = find_checkpoint(Path(path))
    meta = _read_json(directory / META_FILE, META_FILE)
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{directory}: checkpoint format version {version!r}, this graph_rl reads {FORMAT_VERSION}"
        )
    state_path = directory / STATE_FILE
    if not state_path.is_file():
        raise CheckpointError(f"{state_path}: missing")
    if _sha256(state_path) != meta.get("state_sha256"):
        raise CheckpointError(f"{state_path}: corrupt (checksum mismatch)")
    try:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure means the same thing to the user
        raise CheckpointError(f"{state_path}: cannot be read ({type(err).__name__})") from None
    missing = [key for key in STATE_KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        raise CheckpointError(f"{state_path}: incomplete checkpoint (no {missing[0]!r} entry)")
    config = _read_json(directory / CONFIG_FILE, CONFIG_FILE)
    step = meta.get("step")
    if not isinstance(step, int) or step != state["session"].get("total_step"):
        raise CheckpointError(f"{directory / META_FILE}: step {step!r} does not match the saved session")
    return Checkpoint(path=directory, step=step, meta=meta, config=config, state=decode(state))
