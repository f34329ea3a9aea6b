"""Headless numpy rasteriser for the Platforms family; pygame is imported only for ``render_mode="human"``.

The frame reproduces the original's pyglet view: 800 x 600 px, 400 px per metre, x in [-1, 1], y in
[-0.75, 0.75], white background. With the third platform the view is extended upwards to y = 1.05 (800 x 720)
so that the upper ledge and its goal are visible (the original cut them off).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.platforms.level import BALL_RADIUS, GOAL_RADIUS, PLATFORM_SIZE, STATIC_BOXES, TRIGGER_HALF_SIZE

PX_PER_M = 400.0
WIDTH = 800
Y_TOP, Y_TOP_TALL, Y_BOTTOM = 0.75, 1.05, -0.75

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GREY = (102, 102, 102)  # static level, 0.4 grey
TAN = (179, 156, 130)  # platforms
RED = (204, 51, 51)
GREEN = (51, 204, 51)
BLUE = (51, 51, 204)
BALL_MARK = (128, 128, 128)
# matplotlib's default colour cycle, as used by the original for the subgoals of successive levels.
SUBGOAL_COLOURS = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
)  # fmt: skip
TRIGGER_MARK_Y = -0.65
TIME_BAR_HEIGHT = 0.03
TIME_BAR_BORDER = 0.01
TIME_BAR_M_PER_STEP = 0.01  # 50 steps (a full subgoal horizon) -> 0.5 m


class Canvas:
    """An RGB image addressed in world coordinates (metres)."""

    def __init__(self, y_top: float) -> None:
        self.y_top = y_top
        self.height = round((y_top - Y_BOTTOM) * PX_PER_M)
        self.image = np.full((self.height, WIDTH, 3), 255, dtype=np.uint8)

    def _px(self, x: float, y: float) -> tuple[float, float]:
        return (x + 1.0) * PX_PER_M, (self.y_top - y) * PX_PER_M

    def rect(self, cx: float, cy: float, w: float, h: float, colour: tuple[int, int, int]) -> None:
        c0, r0 = self._px(cx - w / 2, cy + h / 2)
        c1, r1 = self._px(cx + w / 2, cy - h / 2)
        r0, r1 = max(round(r0), 0), min(round(r1), self.height)
        c0, c1 = max(round(c0), 0), min(round(c1), WIDTH)
        if r0 < r1 and c0 < c1:
            self.image[r0:r1, c0:c1] = colour

    def _region(self, x0: float, y0: float, x1: float, y1: float):
        """Pixel window covering the world box and its pixel-centre coordinates in metres, or None."""
        c0, r0 = self._px(x0, y1)
        c1, r1 = self._px(x1, y0)
        c0, r0 = max(int(np.floor(c0)), 0), max(int(np.floor(r0)), 0)
        c1, r1 = min(int(np.ceil(c1)) + 1, WIDTH), min(int(np.ceil(r1)) + 1, self.height)
        if c0 >= c1 or r0 >= r1:
            return None
        xs = (np.arange(c0, c1) + 0.5) / PX_PER_M - 1.0
        ys = self.y_top - (np.arange(r0, r1) + 0.5) / PX_PER_M
        return self.image[r0:r1, c0:c1], xs[None, :], ys[:, None]

    def disc(self, cx: float, cy: float, r: float, colour: tuple[int, int, int]) -> None:
        region = self._region(cx - r, cy - r, cx + r, cy + r)
        if region is not None:
            window, xs, ys = region
            window[(xs - cx) ** 2 + (ys - cy) ** 2 <= r * r] = colour

    def segment(self, x0: float, y0: float, x1: float, y1: float, width: float, colour: tuple[int, int, int]) -> None:
        hw = width / 2
        region = self._region(min(x0, x1) - hw, min(y0, y1) - hw, max(x0, x1) + hw, max(y0, y1) + hw)
        if region is None:
            return
        window, xs, ys = region
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0.0 else np.clip(((xs - x0) * dx + (ys - y0) * dy) / length2, 0.0, 1.0)
        window[(xs - x0 - t * dx) ** 2 + (ys - y0 - t * dy) ** 2 <= hw * hw] = colour

    def triangle(self, pts: list[tuple[float, float]], colour: tuple[int, int, int]) -> None:
        xs_, ys_ = zip(*pts)
        region = self._region(min(xs_), min(ys_), max(xs_), max(ys_))
        if region is None:
            return
        window, xs, ys = region
        (ax, ay), (bx, by), (cx, cy) = pts
        sides = [
            (bx - ax) * (ys - ay) - (by - ay) * (xs - ax),
            (cx - bx) * (ys - by) - (cy - by) * (xs - bx),
            (ax - cx) * (ys - cy) - (ay - cy) * (xs - cx),
        ]
        inside = ((sides[0] >= 0) & (sides[1] >= 0) & (sides[2] >= 0)) | (
            (sides[0] <= 0) & (sides[1] <= 0) & (sides[2] <= 0)
        )
        window[inside] = colour

    def arrow(self, x: float, y: float, dx: float, dy: float, colour: tuple[int, int, int]) -> None:
        """Arrow from (x, y) along (dx, dy): shaft 0.02 wide, head 0.05 long."""
        length = float(np.hypot(dx, dy))
        if length < 1e-6:
            return
        ux, uy = dx / length, dy / length
        head = min(0.05, length)
        bx, by = x + dx - ux * head, y + dy - uy * head
        self.segment(x, y, bx, by, 0.02, colour)
        half = head / 2
        self.triangle([(x + dx, y + dy), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)], colour)


class PlatformsRenderer:
    """Draws env state dicts (see ``PlatformsEnv._render_state``) into frames; shows them for ``"human"``."""

    def __init__(self, render_mode: str, tall: bool = False) -> None:
        self.render_mode = render_mode
        background = Canvas(Y_TOP_TALL if tall else Y_TOP)
        for cx, cy, w, h in STATIC_BOXES:
            background.rect(cx, cy, w, h, GREY)
        self.background = background.image
        self.y_top = background.y_top
        self._window: Any = None
        self._clock: Any = None

    def render(self, state: dict[str, Any]) -> np.ndarray | None:
        frame = self.draw(state)
        if self.render_mode == "rgb_array":
            return frame
        self._show(frame)
        return None

    def draw(self, state: dict[str, Any]) -> np.ndarray:
        canvas = Canvas(self.y_top)
        canvas.image[:] = self.background
        colours = [BLUE if state["platform0_frozen"] else TAN, self._platform1_colour(state["platform1_state"]), TAN]
        for (px, py), colour in zip(state["platforms"], colours):
            canvas.rect(px, py, *PLATFORM_SIZE, colour)
        side = 2 * TRIGGER_HALF_SIZE
        canvas.rect(0.0, TRIGGER_MARK_Y, side, side, GREEN if state["trigger_active"] else RED)
        gx, gy = state["goal"]
        canvas.disc(gx, gy, GOAL_RADIUS, BLACK)
        canvas.disc(gx, gy, 0.8 * GOAL_RADIUS, WHITE)
        for i, (sx, sy, time_left, tolerance) in enumerate(state["subgoals"]):
            colour = SUBGOAL_COLOURS[i % len(SUBGOAL_COLOURS)]
            radius = state["subgoal_radius"] if tolerance is None else tolerance
            if time_left is not None:
                bar_w = max(time_left, 0.0) * TIME_BAR_M_PER_STEP
                bar_y = sy + radius + 0.04
                b = TIME_BAR_BORDER
                canvas.rect(sx, bar_y, bar_w + 2 * b, TIME_BAR_HEIGHT + 2 * b, BLACK)
                canvas.rect(sx, bar_y, bar_w, TIME_BAR_HEIGHT, colour)
            canvas.disc(sx, sy, radius, BLACK)
            canvas.disc(sx, sy, 0.8 * radius, colour)
        x, y, angle, vx, vy = state["ball"]
        canvas.disc(x, y, BALL_RADIUS, BLACK)
        ex, ey = BALL_RADIUS * np.cos(angle), BALL_RADIUS * np.sin(angle)
        canvas.segment(x - ex, y - ey, x + ex, y + ey, 0.005, BALL_MARK)
        canvas.arrow(x, y, 0.2 * vx, 0.2 * vy, BALL_MARK)
        return canvas.image

    @staticmethod
    def _platform1_colour(status: str) -> tuple[int, int, int]:
        return {"frozen": BLUE, "active": GREEN}.get(status, RED)

    def _show(self, frame: np.ndarray) -> None:
        import pygame

        if self._window is None:
            pygame.display.init()  # display only: no audio device needed
            pygame.display.set_caption("Platforms")
            self._window = pygame.display.set_mode((frame.shape[1], frame.shape[0]))
            self._clock = pygame.time.Clock()
        pygame.event.pump()
        pygame.surfarray.blit_array(self._window, frame.transpose(1, 0, 2))
        pygame.display.flip()
        self._clock.tick(60)

    def close(self) -> None:
        if self._window is not None:
            import pygame

            pygame.display.quit()
            self._window = None
