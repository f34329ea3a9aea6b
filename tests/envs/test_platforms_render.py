"""Rendering: headless rgb_array frames like the original's, subgoal display, human window."""

from __future__ import annotations

import numpy as np
import pytest

from envs.platforms import PlatformsEnv
from envs.platforms.render import SUBGOAL_COLOURS
from platforms_testutil import REF_DIR, load_recording, put_ball, requires_reference

WHITE, BLACK, GREY, TAN = (255, 255, 255), (0, 0, 0), (102, 102, 102), (179, 156, 130)
RED, GREEN = (204, 51, 51), (51, 204, 51)


def pixel(frame: np.ndarray, x: float, y: float, y_top: float = 0.75) -> tuple[int, ...]:
    """Colour at world point (x, y); 400 px per metre, x from -1."""
    return tuple(int(c) for c in frame[int((y_top - y) * 400), int((x + 1.0) * 400)])


def rendered_env(**kwargs: object) -> PlatformsEnv:
    env = PlatformsEnv(render_mode="rgb_array", **kwargs)
    env.reset(seed=0, options={"goal": [-0.25, 0.45]})
    return env


def test_frame_shape_and_scene() -> None:
    env = rendered_env()
    frame = env.render()
    assert frame.shape == (600, 800, 3) and frame.dtype == np.uint8
    assert pixel(frame, 0.9, 0.7) == WHITE
    assert pixel(frame, -0.5, -0.7) == GREY  # ground
    assert pixel(frame, -0.8, 0.35) == GREY  # shelf
    assert pixel(frame, -0.8, -0.52) == BLACK  # ball (its centre carries the grey rotation mark)
    assert pixel(frame, -0.25, 0.45) == WHITE and pixel(frame, -0.25 + 0.045, 0.45) == BLACK  # goal ring
    assert pixel(frame, 0.25, 0.35) == RED  # idle platform1
    assert pixel(frame, -0.25, 0.35) == TAN  # idle platform2 over the shelf
    assert pixel(frame, 0.0, -0.65) == RED  # trigger marker
    put_ball(env, 0.0)
    env.step(np.zeros(1, np.float32))
    frame2 = env.render()
    assert pixel(frame2, 0.0, -0.65) == GREEN and pixel(frame2, 0.25, 0.35) == GREEN
    assert pixel(frame, -0.8, -0.52) == BLACK  # earlier frames are not overwritten


def test_three_platforms_frame_shows_the_upper_ledge() -> None:
    env = rendered_env(third_platform=True)
    frame = env.render()
    assert frame.shape == (720, 800, 3)
    assert pixel(frame, -0.9, 0.85, y_top=1.05) == GREY


def test_subgoals_are_drawn_with_time_bars() -> None:
    env = rendered_env()
    plain = env.render()
    env.set_subgoals([
        {"goal": {"position": (-0.5, 0.0)}, "time_left": 50.0, "tolerance": {}},
        {"goal": {"position": np.array([0.5, 0.1]), "velocity": np.zeros(2)}, "time_left": 25.0,
         "tolerance": {"position": 0.1, "velocity": 0.3}},
        {"goal": {"position": [-0.5, -0.3]}, "time_left": None, "tolerance": {}},
        {"goal": {"velocity": [0.9, 0.9]}, "time_left": 10.0, "tolerance": {}},  # nothing to draw: skipped
    ])  # fmt: skip
    frame = env.render()
    assert pixel(frame, -0.5, 0.0) == SUBGOAL_COLOURS[0] and pixel(frame, -0.5 + 0.045, 0.0) == BLACK
    assert pixel(frame, 0.5 + 0.07, 0.1) == SUBGOAL_COLOURS[1]  # tolerance sets the radius
    assert pixel(frame, -0.5, -0.3) == SUBGOAL_COLOURS[2]

    def bar_width(x: float, y: float, colour: tuple[int, ...]) -> int:
        row = frame[int((0.75 - y) * 400)]
        return int(np.all(row == colour, axis=-1).sum())

    full = bar_width(-0.5, 0.0 + 0.05 + 0.04, SUBGOAL_COLOURS[0])
    half = bar_width(0.5, 0.1 + 0.1 + 0.04, SUBGOAL_COLOURS[1])
    assert abs(full - 200) <= 2 and abs(half - 100) <= 2  # 50 steps -> 0.5 m; proportional to time_left / 50
    assert not np.any(np.all(frame[int((0.75 - (-0.3 + 0.09)) * 400)] == SUBGOAL_COLOURS[2], axis=-1))  # no bar
    env.set_subgoals([])
    np.testing.assert_array_equal(env.render(), plain)


@requires_reference
def test_frame_matches_the_original() -> None:
    """Reference frame after step 240 (0-based) of the recorded scripted episode: measured 83 differing pixels."""
    imageio = pytest.importorskip("imageio.v3")
    reference = imageio.imread(REF_DIR / "Platforms-v1_step240.png")[..., :3]
    rec = load_recording("platforms_scripted")
    env = PlatformsEnv(render_mode="rgb_array")
    env.reset(seed=0, options={"goal": rec["obs"][0, 17:19]})
    for action in rec["actions"][:241]:
        env.step(np.array([action], np.float32))
    differs = np.any(env.render() != reference, axis=-1)
    assert differs.mean() < 0.001


def test_human_mode_opens_a_window(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pygame")
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    env = PlatformsEnv(render_mode="human")
    env.reset(seed=0)
    env.step(np.zeros(1, np.float32))
    assert env.render() is None
    env.close()


def test_render_without_mode_warns() -> None:
    env = PlatformsEnv()
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None
