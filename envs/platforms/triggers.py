"""Trigger and freeze state machines that drive the kinematic platforms.

Both are plain Python (no physics): the original tests the ball centre against the trigger box once per step,
after the physics step, and advances every counter by one update per step.
"""

from __future__ import annotations

from collections.abc import Callable

from envs.platforms.level import P1_CYCLE_STEPS, TRIGGER_CENTRE, TRIGGER_HALF_SIZE

FreezeDraw = Callable[[int], bool]
"""Bernoulli draw ``draw(trigger_index) -> bool``; the env's own generator in production, injectable in tests."""


class FreezeState:
    """Random freezes of one trigger (NoisyPlatforms): at most ``max_freezes`` per episode, each ``duration`` updates.

    One Bernoulli draw is made on every update on which a freeze could start (not frozen, freezes left), so the
    number of draws per episode varies exactly like in the original; the update that ends a freeze draws nothing.
    """

    __slots__ = ("index", "max_freezes", "duration", "frozen", "time_since_frozen", "total_frozen", "n_freezes")

    def __init__(self, index: int, max_freezes: int, duration: int) -> None:
        self.index = index
        self.max_freezes = max_freezes
        self.duration = duration
        self.reset()

    def reset(self) -> None:
        self.frozen = False
        self.time_since_frozen = 0
        self.total_frozen = 0
        self.n_freezes = 0

    def unfreeze(self) -> None:
        self.frozen = False
        self.time_since_frozen = 0

    def update(self, draw: FreezeDraw) -> bool:
        """Advance one update; returns True if this update counts as a frozen one."""
        if self.n_freezes < self.max_freezes and self.time_since_frozen == 0 and draw(self.index):
            self.n_freezes += 1
            self.frozen = True
        if self.frozen and self.time_since_frozen >= self.duration:
            self.unfreeze()
        if self.frozen:
            self.time_since_frozen += 1
            self.total_frozen += 1
            return True
        return False


class Platform1Trigger:
    """Activation of platform1 by the ball crossing the trigger zone, optionally with freezes.

    Each activation runs one cosine cycle of ``P1_CYCLE_STEPS`` updates, extended by one update per frozen
    update so that the platform still returns to its start. With ``legacy_state=False`` (default) the cycle
    length and the frozen-time offset restart with every activation and every episode; with ``True`` they keep
    the original's state leaks (quirks Q5, Q6 in the package docstring).
    """

    __slots__ = ("freeze", "legacy_state", "active", "time_since_act", "max_act_time")

    def __init__(self, freeze: FreezeState | None, legacy_state: bool = False) -> None:
        self.freeze = freeze
        self.legacy_state = legacy_state
        self.max_act_time = P1_CYCLE_STEPS
        self.reset()

    def reset(self) -> None:
        self.active = False
        self.time_since_act = 0
        if not self.legacy_state:
            self.max_act_time = P1_CYCLE_STEPS
        if self.freeze is not None:
            self.freeze.reset()

    @property
    def frozen(self) -> bool:
        return self.freeze is not None and self.freeze.frozen

    @property
    def active_steps(self) -> int:
        """Phase of the cycle in updates: time since activation minus time spent frozen."""
        if self.freeze is None:
            return self.time_since_act
        return self.time_since_act - self.freeze.total_frozen

    @property
    def moving(self) -> bool:
        return self.active and not self.frozen

    def update(self, x: float, y: float, draw: FreezeDraw) -> None:
        """One update with the ball centre (x, y) after the physics step."""
        if self.active:
            self.time_since_act += 1
            if self.time_since_act >= self.max_act_time:
                self.active = False
        freeze = self.freeze
        if self.active and freeze is not None and freeze.update(draw):
            self.max_act_time += 1
        if not self.active:
            if freeze is not None and freeze.frozen:
                freeze.unfreeze()
            if abs(x - TRIGGER_CENTRE[0]) < TRIGGER_HALF_SIZE and abs(y - TRIGGER_CENTRE[1]) < TRIGGER_HALF_SIZE:
                self.active = True
                self.time_since_act = 0
                if not self.legacy_state:
                    self.max_act_time = P1_CYCLE_STEPS
                    if freeze is not None:
                        freeze.total_frozen = 0
