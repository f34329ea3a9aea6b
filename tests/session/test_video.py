"""Test videos: the subgoal marker lands where world->pixel mapping puts it; the recorder keeps every k-th frame."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

import envs  # noqa: F401 - registers the Platforms environments
from envs.platforms.render import PX_PER_M, SUBGOAL_COLOURS, Y_TOP
from graph_rl.session.video import FrameRecorder

SUBGOAL = {"goal": {"position": (0.5, 0.3)}, "time_left": 20.0, "tolerance": {}}


def _pixel(x: float, y: float) -> tuple[int, int]:
    """(row, column) of a world point in an 800 x 600 Platforms frame."""
    return int((Y_TOP - y) * PX_PER_M), int((x + 1.0) * PX_PER_M)


class _Subgoals:
    """The only graph method the recorder calls."""

    def subgoals(self) -> list[dict[str, Any]]:
        return [SUBGOAL]


def test_subgoal_marker_is_drawn_at_its_position() -> None:
    env = gym.make("EasyPlatforms-v1", render_mode="rgb_array")
    env.reset(seed=0)
    env.unwrapped.set_subgoals([])
    plain = env.render()
    env.unwrapped.set_subgoals([SUBGOAL])
    marked = env.render()
    assert plain.shape == marked.shape == (600, 800, 3) and plain.dtype == np.uint8
    row, col = _pixel(*SUBGOAL["goal"]["position"])
    assert tuple(marked[row, col]) == SUBGOAL_COLOURS[0] and tuple(plain[row, col]) != SUBGOAL_COLOURS[0]
    changed = np.argwhere((plain != marked).any(axis=-1))
    assert len(changed) > 100 and np.abs(changed - [row, col]).max() < 0.2 * PX_PER_M  # marker + time bar only


def test_recorder_keeps_every_kth_frame_and_clears_subgoals_at_the_end() -> None:
    env = gym.make("EasyPlatforms-v1", render_mode="rgb_array")
    env.reset(seed=0)
    recorder = FrameRecorder(env, _Subgoals(), every=3)
    for _ in range(7):
        recorder.on_act()
        env.step(np.zeros(env.action_space.shape, dtype=env.action_space.dtype))
    recorder.on_episode_end()
    assert len(recorder.frames) == 4  # steps 1, 4, 7 and the final state
    row, col = _pixel(*SUBGOAL["goal"]["position"])
    assert [tuple(frame[row, col]) == SUBGOAL_COLOURS[0] for frame in recorder.frames] == [True, True, True, False]


class _Interrupting(_Subgoals):
    """A graph whose one node ends its running action early at chosen steps."""

    def __init__(self, at: set[int]) -> None:
        self.node = type("N", (), {"interruptions": 0})()
        self.nodes = [self.node]
        self.at, self.step = at, 0

    def tick(self) -> None:
        self.step += 1
        self.node.interruptions += self.step in self.at


def test_frames_after_an_early_end_get_a_red_border() -> None:
    env = gym.make("EasyPlatforms-v1", render_mode="rgb_array")
    env.reset(seed=0)
    graph = _Interrupting({3})
    recorder = FrameRecorder(env, graph, every=1, mark_frames=2)
    for _ in range(6):
        graph.tick()
        recorder.on_act()
    red = [bool((f[0, :, :3] == (220, 30, 30)).all()) for f in recorder.frames]
    assert red == [False, False, True, True, False, False] and recorder.n_marked_events == 1
