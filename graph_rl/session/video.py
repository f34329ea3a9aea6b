"""Episode frames with the agent's running subgoals drawn in (and, in red, the frames right after a running action was
ended early, e.g. an EAT termination): used by ``evaluate.py --video``, test videos and the notebook API.

Recording only reads state (``graph.subgoals()``, ``env.render()``) and draws no random numbers, so a recorded
episode is the same episode as an unrecorded one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

__all__ = ["FrameRecorder", "write_gif"]


class FrameRecorder:
    """Collects every ``every``-th ``env.render()`` frame with the graph's running subgoals drawn in.

    GIF encoding costs tens of milliseconds per 800x600 frame, so recording every step of long episodes is slow;
    every 2nd step at 30 fps plays the Platforms envs (60 steps/s) in real time.
    """

    def __init__(self, env: gym.Env, graph: Any, every: int = 1, mark_frames: int = 2) -> None:
        self.env = env
        self.graph = graph
        self.every = every
        self.mark_frames = mark_frames
        """A red border on this many frames after an action was ended early (an EAT termination); 0: none."""
        self.frames: list[np.ndarray] = []
        self.n_marked_events = 0
        self._set_subgoals = getattr(env.unwrapped, "set_subgoals", None)
        self._count = 0
        self._interruptions = 0
        self._marking = 0

    def on_act(self) -> None:
        self._count += 1
        now = sum(getattr(node, "interruptions", 0) for node in getattr(self.graph, "nodes", ()))
        if now > self._interruptions:
            self.n_marked_events += 1
            self._marking = self.mark_frames
        self._interruptions = now
        if (self._count - 1) % self.every:
            return
        if self._set_subgoals is not None:
            self._set_subgoals(self.graph.subgoals())
        self._grab()

    def on_episode_end(self) -> None:
        self._count = self._interruptions = 0
        if self._set_subgoals is not None:
            self._set_subgoals([])
        self._grab()
        self._marking = 0

    def _grab(self) -> None:
        frame = self.env.render()
        if frame is None:
            return
        frame = np.asarray(frame)
        if self._marking > 0:
            self._marking -= 1
            frame = frame.copy()
            width = max(2, min(frame.shape[:2]) // 60)
            for edge in (frame[:width], frame[-width:], frame[:, :width], frame[:, -width:]):
                edge[...] = (220, 30, 30)
        self.frames.append(frame)


def write_gif(path: Path, frames: Sequence[np.ndarray], fps: float) -> None:
    """A looping GIF at ``fps`` frames per second (imageio's pillow plugin: no extra dependency)."""
    import imageio.v3 as iio

    iio.imwrite(path, list(frames), duration=1000 / fps, loop=0)
