"""Level geometry, ball constants and platform motion laws of the Platforms family.

All numbers are in world units (metres, seconds, kilograms); y points up. Observations use the same units
(the original's position scaling 2/level_width is exactly 1), except the angular velocity, which is divided
by ``MAX_ANG_VEL``.
"""

from __future__ import annotations

import math

DT = 1.0 / 60.0
GRAVITY = -9.8
MAX_EPISODE_LENGTH = 500

# Heights of the level (surface tops): GROUND = -0.6; L1 = -0.1, the highest top of platform0 and lowest of
# platform1; L2 = 0.4, the shelf and resting platform1; L3 = 0.9, the upper ledge. Play area x in [-1, 1].
THICKNESS = 0.1

# Static boxes (centre x, centre y, width, height), in the original's creation order S0..S5.
STATIC_BOXES: tuple[tuple[float, float, float, float], ...] = (
    (0.0, -1.5, 2.0, 1.0),  # pit floor
    (-0.25, -0.95, 1.5, 0.7),  # ground
    (-1.5, 0.0, 1.0, 10.0),  # left wall
    (1.5, 0.0, 1.0, 10.0),  # right wall
    (-0.5, 0.35, 1.0, THICKNESS),  # shelf
    (-0.75, 0.85, 0.5, THICKNESS),  # upper ledge (fork only; unreachable unless third platform)
)
PLATFORM_SIZE = (0.5, THICKNESS)
PLATFORM_X = (0.75, 0.25, -0.25)
LEVEL_FRICTION = 0.2

BALL_RADIUS = 0.05
BALL_MASS = math.pi * BALL_RADIUS**2  # density 1
BALL_MOMENT = 0.5 * BALL_MASS * BALL_RADIUS**2
BALL_FRICTION = 0.2
BALL_RESTITUTION = 0.4
BALL_START = (-0.8, -0.55)

MAX_FORCE = 0.1
MAX_VEL_COMP = 1.0
MAX_ANG_VEL = MAX_VEL_COMP / BALL_RADIUS  # 20 rad/s, the observation normaliser
VEL_EPS = 0.1
VEL_CLAMP = MAX_VEL_COMP - VEL_EPS  # 0.9 m/s per component
ANG_VEL_CLAMP = MAX_ANG_VEL - VEL_EPS  # 19.9 rad/s

GOAL_RADIUS = 0.05
GOAL_OFFSET_RANGE = 0.1
GOAL_DEFAULT = (-0.25, 0.45)  # on the shelf's right half: L2 + GOAL_RADIUS
GOAL_EASY = (0.75, -0.1)  # in the band swept by a ball riding platform0: L1
GOAL_THREE = (-0.75, 0.95)  # on the upper ledge: L3 + GOAL_RADIUS

TRIGGER_CENTRE = (0.0, -0.55)
TRIGGER_HALF_SIZE = 0.05

# Motion laws: platform0/platform2 are sinusoids with omega1 = 3 rad/s and phase -0.8 pi; platform1 runs one
# cosine cycle with omega2 = 2 rad/s per activation.
OMEGA1 = 3.0
OMEGA2 = 2.0
PHASE1 = -0.8 * math.pi
AMPLITUDE = 0.25  # half of the 0.5 m stroke between levels
P0_CENTRE = -0.4  # top sweeps [GROUND, L1]
P1_CENTRE = 0.1  # the cycle starts and ends with the top at L2
P2_STATIC_Y = 0.35  # idle platform2 overlaps the shelf's right half
P2_CENTRE = 0.6  # top sweeps [L2, L3]
P1_CYCLE_STEPS = 2.0 * math.pi / (DT * OMEGA2)  # 60 pi ~ 188.5 updates per activation


def lift_state(phase_steps: int, centre: float) -> tuple[float, float]:
    """Centre y and velocity y of a continuous lift (platform0, moving platform2) after ``phase_steps`` steps.

    ``phase_steps`` is the step index minus the number of steps the lift has been frozen.
    """
    phase = OMEGA1 * phase_steps * DT + PHASE1
    return centre + AMPLITUDE * math.sin(phase), AMPLITUDE * OMEGA1 * math.cos(phase)


def platform1_state(active_steps: int, moving: bool) -> tuple[float, float]:
    """Centre y and velocity y of platform1 after ``active_steps`` updates of its cycle.

    The velocity amplitude uses omega1 = 3 while the position uses omega2 = 2 (original quirk Q3, kept: the
    reported and physical velocity is 1.5x the true rate of change).
    """
    angle = OMEGA2 * active_steps * DT
    velocity = -AMPLITUDE * OMEGA1 * math.sin(angle) if moving else 0.0
    return P1_CENTRE + AMPLITUDE * math.cos(angle), velocity
