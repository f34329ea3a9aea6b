"""pymunk world of the Platforms family, stepped like Box2D 2.3 so that it tracks the original closely.

Box2D (the original's engine) finds contacts at the positions a step starts from, integrates velocities,
solves velocity constraints, moves bodies with the solved velocity and finally pushes overlapping bodies apart
with a sequential position solver (NGS). Chipmunk (pymunk) moves bodies first, with the previous velocity, and
corrects overlap through bias velocities. The emulation, per step:

* The ball is placed at ``p - v*dt`` and each platform at ``pos - vel*dt``, so that Chipmunk's own position
  update puts them back at ``p`` / ``pos`` before collision detection. Chipmunk's bias correction is off.
* A pre-solve callback on every ball contact (a) moves the contact point to Box2D's, midway between the
  polygon skin and the ball surface, which sets the friction lever arm; (b) applies restitution only above
  Box2D's 1 m/s approach-speed threshold, measured after gravity and the action force are integrated; (c)
  records the contact (closest core point and normal) for the position solver.
* After ``space.step`` the ball is moved with the solved velocity and the recorded contacts are corrected with
  Box2D's position solver (Baumgarte 0.2, slop 0.005, up to 8 iterations), against the platforms' moved
  positions.
* Contacts that separate are forgotten at once (``collision_persistence = 1``): Chipmunk would otherwise carry
  stale accumulated impulses into a renewed contact and exceed the friction bound.

Geometry is Box2D's: ball radius 0.05, polygon skin 0.01 (b2_polygonRadius), so a resting ball sits 0.055 above
a surface. Measured against the original's recordings: zero-action and scripted EasyPlatforms episodes agree to
float32 precision, the scripted Platforms episode to 3e-5 m over all 296 steps (same success step). Not
emulated: Box2D's continuous-collision sub-steps, which could only fire on landings faster than about 0.8 m/s.

Speed: the per-step calls go straight to the bundled Chipmunk functions (``pymunk._chipmunk_cffi.lib``) on the
bodies' C handles; pymunk's property wrappers cost about a microsecond per attribute access (pymunk 7.x).
"""

from __future__ import annotations

import pymunk
from pymunk._chipmunk_cffi import ffi, lib

from envs.platforms.level import (
    ANG_VEL_CLAMP,
    BALL_FRICTION,
    BALL_MASS,
    BALL_MOMENT,
    BALL_RADIUS,
    BALL_RESTITUTION,
    BALL_START,
    DT,
    GRAVITY,
    LEVEL_FRICTION,
    PLATFORM_SIZE,
    PLATFORM_X,
    STATIC_BOXES,
    VEL_CLAMP,
)

POLYGON_SKIN = 0.01  # b2_polygonRadius
CONTACT_DISTANCE = BALL_RADIUS + POLYGON_SKIN
LINEAR_SLOP = 0.005  # b2_linearSlop
BAUMGARTE = 0.2  # b2_baumgarte
MAX_CORRECTION = 0.2  # b2_maxLinearCorrection
POSITION_ITERATIONS = 8
VELOCITY_ITERATIONS = 10
RESTITUTION_THRESHOLD = 1.0  # b2_velocityThreshold

_BALL_TYPE = 1
_STATIC_TYPE = 2
_PLATFORM_TYPES = (3, 4, 5)


class PlatformsWorld:
    """The level, three kinematic platforms and the ball in one ``pymunk.Space``.

    The ball state lives in plain floats (``x, y, angle, vx, vy, w``); the body is positioned from them before
    every step. :meth:`reset` rebuilds the space, so an episode never depends on contact caches or spatial
    index history of earlier episodes (bitwise reproducibility per seed).
    """

    def __init__(self) -> None:
        self.platform_vy = [0.0, 0.0, 0.0]
        self._contacts: list[tuple[float, float, float, float, int]] = []
        self.reset()

    def reset(self) -> None:
        """Fresh space; ball at the start, at rest."""
        space = pymunk.Space()
        space.gravity = (0.0, GRAVITY)
        space.iterations = VELOCITY_ITERATIONS
        space.collision_bias = 1.0  # no bias velocities: overlap is resolved by the Box2D position solver
        space.collision_persistence = 1
        for cx, cy, w, h in STATIC_BOXES:
            body = pymunk.Body(body_type=pymunk.Body.STATIC)
            body.position = (cx, cy)
            space.add(body, self._box(body, w, h, _STATIC_TYPE))
        self.platforms: list[pymunk.Body] = []
        for i, x in enumerate(PLATFORM_X):
            body = pymunk.Body(body_type=pymunk.Body.KINEMATIC)
            body.position = (x, 0.0)
            space.add(body, self._box(body, *PLATFORM_SIZE, _PLATFORM_TYPES[i]))
            self.platforms.append(body)
        ball = pymunk.Body(BALL_MASS, BALL_MOMENT)
        shape = pymunk.Circle(ball, BALL_RADIUS)
        shape.friction = BALL_FRICTION / LEVEL_FRICTION  # Chipmunk multiplies frictions: 1.0 * 0.2
        shape.elasticity = BALL_RESTITUTION
        shape.collision_type = _BALL_TYPE
        space.add(ball, shape)
        space.on_collision(_BALL_TYPE, _STATIC_TYPE, pre_solve=self._pre_solve, data=-1)
        for i, ctype in enumerate(_PLATFORM_TYPES):
            space.on_collision(_BALL_TYPE, ctype, pre_solve=self._pre_solve, data=i)
        self.space = space
        self.ball = ball
        self._space_ptr = space._space
        self._ball_ptr = ball._body
        self._platform_ptrs = [body._body for body in self.platforms]
        self._platform_set: list[tuple[float, float] | None] = [None, None, None]
        self.x, self.y = BALL_START
        self.vx = self.vy = self.angle = self.w = 0.0
        self.force_x = 0.0
        self.platform_vy[:] = (0.0, 0.0, 0.0)

    @staticmethod
    def _box(body: pymunk.Body, w: float, h: float, ctype: int) -> pymunk.Poly:
        shape = pymunk.Poly.create_box(body, (w, h), radius=POLYGON_SKIN)
        shape.friction = LEVEL_FRICTION
        shape.elasticity = 1.0
        shape.collision_type = ctype
        return shape

    def step(self, force_x: float, ys: tuple[float, float, float], vys: tuple[float, float, float]) -> None:
        """One physics step: platforms at centres ``ys`` moving with ``vys``, horizontal force on the ball."""
        platform_set = self._platform_set
        for i in range(3):
            state = (ys[i], vys[i])
            # a resting platform keeps its pose: skip the redundant writes (a moving one, even frozen, would drift)
            if vys[i] != 0.0 or platform_set[i] != state:
                platform_set[i] = state
                ptr = self._platform_ptrs[i]
                lib.cpBodySetPosition(ptr, (PLATFORM_X[i], ys[i] - vys[i] * DT))
                lib.cpBodySetVelocity(ptr, (0.0, vys[i]))
        self.platform_vy[:] = vys
        ball = self._ball_ptr
        vx, vy = self.vx, self.vy
        lib.cpBodySetPosition(ball, (self.x - vx * DT, self.y - vy * DT))
        lib.cpBodySetVelocity(ball, (vx, vy))
        lib.cpBodySetAngularVelocity(ball, self.w)
        lib.cpBodySetForce(ball, (force_x, 0.0))
        self.force_x = force_x
        self._contacts.clear()
        lib.cpSpaceStep(self._space_ptr, DT)
        velocity = lib.cpBodyGetVelocity(ball)
        vx, vy = velocity.x, velocity.y
        w = lib.cpBodyGetAngularVelocity(ball)
        self.x += vx * DT
        self.y += vy * DT
        self.angle += w * DT
        if self._contacts:
            self._solve_positions()
        self.vx = min(max(vx, -VEL_CLAMP), VEL_CLAMP)
        self.vy = min(max(vy, -VEL_CLAMP), VEL_CLAMP)
        self.w = min(max(w, -ANG_VEL_CLAMP), ANG_VEL_CLAMP)

    def _pre_solve(self, arbiter: pymunk.Arbiter, space: pymunk.Space, platform: int) -> None:
        """Box2D contact point, restitution threshold, and a record for the position solver."""
        arb = arbiter._arbiter
        point_set = lib.cpArbiterGetContactPointSet(arb)
        normal = point_set.normal  # from the ball to the other shape
        nx, ny = normal.x, normal.y
        contact = point_set.points[0]
        d = contact.distance + CONTACT_DISTANCE  # ball centre to the other shape's core
        lever = 0.5 * d + 0.5 * (BALL_RADIUS - POLYGON_SKIN)
        mid = (self.x + nx * lever, self.y + ny * lever)
        contact.pointA = mid
        contact.pointB = mid
        lib.cpArbiterSetContactPointSet(arb, ffi.addressof(point_set))
        self._contacts.append((self.x + nx * d, self.y + ny * d, -nx, -ny, platform))

        other_vy = self.platform_vy[platform] if platform >= 0 else 0.0
        pre = -self.vx * nx + (other_vy - self.vy) * ny
        post = pre - (self.force_x / BALL_MASS * DT) * nx - GRAVITY * DT * ny
        if post < -RESTITUTION_THRESHOLD:
            # Chipmunk bounces with restitution x the pre-integration approach speed; rescale to Box2D's target.
            lib.cpArbiterSetRestitution(arb, BALL_RESTITUTION * post / pre)
        else:
            lib.cpArbiterSetRestitution(arb, 0.0)

    def _solve_positions(self) -> None:
        """Box2D's sequential position correction of the ball against the recorded contact planes."""
        x, y = self.x, self.y
        shifts = [vy * DT for vy in self.platform_vy]
        for _ in range(POSITION_ITERATIONS):
            min_separation = 0.0
            for qx, qy, nx, ny, platform in self._contacts:
                if platform >= 0:
                    qy_now = qy + shifts[platform]
                else:
                    qy_now = qy
                separation = (x - qx) * nx + (y - qy_now) * ny - CONTACT_DISTANCE
                min_separation = min(min_separation, separation)
                correction = min(max(BAUMGARTE * (separation + LINEAR_SLOP), -MAX_CORRECTION), 0.0)
                x -= correction * nx
                y -= correction * ny
            if min_separation >= -3.0 * LINEAR_SLOP:
                break
        self.x, self.y = x, y
