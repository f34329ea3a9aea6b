"""Exact platform logic (spec 5.5 tier 0): kinematics, platform1 trigger, freezes with injected draws."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pytest

from envs.platforms import PlatformsEnv
from platforms_testutil import DT, lift, load_recording, put_ball, requires_reference

ZERO = np.zeros(1, np.float32)


def p1_state(active: int, moving: bool) -> tuple[float, float]:
    """Spec 1.5: platform1 centre and (Q3) velocity after ``active`` updates of its cycle."""
    return 0.1 + 0.25 * math.cos(2 * active * DT), (-0.75 * math.sin(2 * active * DT) if moving else 0.0)


def observed(y: float, vy: float) -> float:
    """Q2: the observed centre is one kinematic integration ahead of the set one."""
    return y + vy * DT


def run(env: PlatformsEnv, steps: int) -> list[dict[str, np.ndarray]]:
    return [env.step(ZERO)[0]["observation"] for _ in range(steps)]


@pytest.mark.parametrize("third", [False, True])
def test_platform_kinematics_follow_the_motion_laws(third: bool) -> None:
    env = PlatformsEnv(third_platform=third)
    env.reset(seed=0)
    for n, obs in enumerate(run(env, 500)):
        y0, v0 = lift(n, -0.4)
        np.testing.assert_allclose(obs["platform0"], [0.75, observed(y0, v0), 0.0, v0], atol=1e-6)
        np.testing.assert_allclose(obs["platform1"], [0.25, 0.35, 0.0, 0.0], atol=1e-6)
        y2, v2 = lift(n, 0.6) if third else (0.35, 0.0)
        np.testing.assert_allclose(obs["platform2"], [-0.25, observed(y2, v2), 0.0, v2], atol=1e-6)


@requires_reference
@pytest.mark.parametrize(("name", "third"), [("platforms_zero", False), ("three_zero", True)])
def test_platform_columns_match_recording(name: str, third: bool) -> None:
    rec = load_recording(name)
    env = PlatformsEnv(third_platform=third)
    env.reset(seed=0, options={"goal": rec["obs"][0, 17:19]})
    for n, obs in enumerate(run(env, 500), start=1):
        ours = np.concatenate([obs["platform0"], obs["platform1"], obs["platform2"]])
        np.testing.assert_allclose(ours, rec["obs"][n, 5:17], atol=1e-6)


def test_trigger_runs_one_cycle_of_189_updates() -> None:
    env = PlatformsEnv()
    env.reset(seed=0)
    put_ball(env, 0.0)  # inside the zone: triggers in the update of step 0
    trace = [env.step(ZERO)[0]["observation"]["platform1"]]
    put_ball(env, -0.5)
    trace += [obs["platform1"] for obs in run(env, 230)]
    trigger = env._trigger1
    assert not trigger.active and trigger.time_since_act == 189
    # step 1 uses A = 0 (still at the top), platform1 moves from step 2 on, A = step index - 1
    for step, obs in enumerate(trace[:191]):
        y, vy = p1_state(max(step - 1, 0), moving=1 <= step <= 189)
        np.testing.assert_allclose(obs[1], observed(y, vy), atol=1e-6)
        np.testing.assert_allclose(obs[3], vy, atol=1e-6)
    ys = np.array([obs[1] for obs in trace])
    assert ys[1] == np.float32(0.35) and ys[2] < 0.35
    assert abs(ys.min() - (-0.150)) < 5e-4 and abs(int(ys.argmin()) - 94) <= 1
    assert np.abs([obs[3] for obs in trace]).max() == pytest.approx(0.75, abs=1e-3)  # Q3: 1.5 x the 0.5 m/s rate
    # after the cycle it rests at A = 189 (centre 0.34996), not exactly at the top
    np.testing.assert_allclose(ys[190:], np.float32(0.1 + 0.25 * math.cos(2 * 189 * DT)), atol=1e-7)
    assert ys[190] == pytest.approx(0.34996, abs=1e-5)


def test_active_for_exactly_189_updates_and_retriggers_in_the_same_update() -> None:
    env = PlatformsEnv()
    env.reset(seed=0)
    put_ball(env, 0.0)
    flags, phases = [], []
    for _ in range(400):
        put_ball(env, 0.0)  # held in the zone
        env.step(ZERO)
        flags.append(env._trigger1.active)
        phases.append(env._trigger1.time_since_act)
    assert all(flags)  # re-triggers in the update that ends the cycle
    assert phases[188] == 188 and phases[189] == 0 and phases[378] == 0 and phases[377] == 188


@pytest.mark.parametrize(("x", "triggers"), [(0.049, True), (-0.049, True), (0.051, False), (-0.051, False)])
def test_trigger_zone_is_strict(x: float, triggers: bool) -> None:
    env = PlatformsEnv()
    env.reset(seed=0)
    put_ball(env, x)
    env.step(ZERO)  # one step moves a resting ball by well under a millimetre
    assert env._trigger1.active == triggers


def inject(env: PlatformsEnv, true_at: dict[int, Iterable[int]]) -> dict[int, int]:
    """Replace the freeze draws: draw k (0-based, per trigger) succeeds iff k is in ``true_at[trigger]``."""
    counts = {0: 0, 1: 0}
    wanted = {t: set(v) for t, v in true_at.items()}

    def draw(trigger: int) -> bool:
        k = counts[trigger]
        counts[trigger] += 1
        return k in wanted.get(trigger, set())

    env._draw_freeze = draw  # type: ignore[method-assign]
    return counts


def noisy(**kwargs: object) -> PlatformsEnv:
    env = PlatformsEnv(use_freeze=(True, True), **kwargs)
    env.reset(seed=0)
    return env


def test_platform0_freezes_for_50_updates_with_velocity_kept() -> None:
    env = noisy()
    counts = inject(env, {0: [9, 19]})
    trace, bodies = [], []
    for _ in range(500):
        trace.append(env.step(ZERO)[0]["observation"])
        bodies.append(env._world.platforms[0].position.y)  # the physical body, set to pos(tau) - vel*dt + vel*dt
    y = np.array([obs["platform0"][1] for obs in trace])
    vy = np.array([obs["platform0"][3] for obs in trace])
    # first freeze starts in the update of step 9: steps 9..59 observe one pose, step 60 moves on
    assert np.all(y[9:60] == y[9]) and y[60] != y[9] and y[8] != y[9]
    assert np.all(vy[9:60] == vy[9]) and vy[9] != 0.0  # Q4: frozen but still reporting (and applying) velocity
    np.testing.assert_allclose(bodies[9:60], lift(9, -0.4)[0], atol=1e-12)  # teleported back every step: no drift
    # draws: steps 0..9, none while frozen nor on the unfreezing update, then 10 more -> second freeze at step 69
    assert np.all(y[69:120] == y[69]) and y[120] != y[69]
    assert counts[0] == 20 and env._freeze0.n_freezes == 2 and env._freeze0.total_frozen == 100
    # after the freezes platform0 runs 100 steps behind the clock
    n = 499
    np.testing.assert_allclose(y[n], observed(*lift(n - 100, -0.4)), atol=1e-6)


def test_at_most_two_freezes_per_trigger_and_episode() -> None:
    env = noisy()
    counts = inject(env, {0: range(1000)})
    run(env, 500)
    assert counts[0] == 2 and env._freeze0.n_freezes == 2 and env._freeze0.total_frozen == 100
    env.reset(seed=1)  # counters restart each episode
    counts = inject(env, {0: range(1000)})
    run(env, 80)  # freezes start at steps 0 and 51 (the unfreezing update at step 50 draws nothing)
    assert counts[0] == 2 and env._freeze0.total_frozen == 50 + 29


def test_third_platform_freezes_with_platform0() -> None:
    env = noisy(third_platform=True)
    inject(env, {0: [0]})
    trace = run(env, 120)
    y0 = np.array([obs["platform0"][1] for obs in trace])
    y2 = np.array([obs["platform2"][1] for obs in trace])
    np.testing.assert_allclose(y2 - y0, 1.0, atol=1e-6)  # same phase and freeze, 1 m higher
    assert np.all(y2[0:51] == y2[0])


def activate_platform1(env: PlatformsEnv) -> None:
    put_ball(env, 0.0)
    env.step(ZERO)
    put_ball(env, -0.5)


def test_platform1_freeze_stops_it_and_extends_the_cycle() -> None:
    env = noisy()
    counts = inject(env, {1: [4]})
    activate_platform1(env)  # no trigger-1 draw while inactive
    assert counts[1] == 0
    trace = run(env, 300)
    # trigger-1 draws start with the update of step 1; the 5th (step 5) freezes platform1, so steps 6..55
    # (rows 5..54) see it frozen: zero velocity, one pose
    p1 = np.array([obs["platform1"] for obs in trace])  # row i = step i + 1
    assert np.all(p1[5:55, 3] == 0.0) and np.all(p1[5:55, 1] == p1[5, 1])
    assert p1[4, 3] != 0.0 and p1[55, 3] != 0.0
    np.testing.assert_allclose(p1[5, 1], p1_state(4, moving=False)[0], atol=1e-7)
    trigger = env._trigger1
    assert not trigger.active and trigger.time_since_act == 239  # the cycle is extended by the 50 frozen updates
    assert trigger.active_steps == 189  # and ends where an unfrozen cycle ends
    assert counts[1] == 238 - 50  # one draw per active update, except the 50 frozen/unfreezing ones


def test_second_activation_starts_a_clean_cycle() -> None:
    env = noisy()
    inject(env, {1: [4]})
    activate_platform1(env)
    run(env, 260)
    activate_platform1(env)  # second activation, same episode
    trigger = env._trigger1
    assert trigger.active and trigger.active_steps == 0 and trigger.max_act_time == pytest.approx(60 * math.pi)
    obs = env.step(ZERO)[0]["observation"]
    assert obs["platform1"][1] == np.float32(0.35)


def test_legacy_quirks_keep_the_platform1_state_leaks() -> None:
    env = noisy(legacy_quirks=True)
    inject(env, {1: [4]})
    activate_platform1(env)
    run(env, 260)
    activate_platform1(env)
    trigger = env._trigger1
    assert trigger.active_steps == -50  # Q6: re-activation starts at negative phase (the platform jumps)
    assert trigger.max_act_time == pytest.approx(60 * math.pi + 50)
    env.reset(seed=0)
    assert trigger.max_act_time == pytest.approx(60 * math.pi + 50)  # Q5: survives the episode
    fixed = noisy()
    inject(fixed, {1: [4]})
    activate_platform1(fixed)
    run(fixed, 260)
    fixed.reset(seed=0)
    assert fixed._trigger1.max_act_time == pytest.approx(60 * math.pi)


def test_freeze_draws_use_the_env_generator() -> None:
    def draws(seed: int) -> list[bool]:
        env = PlatformsEnv(use_freeze=True)
        env.reset(seed=seed)
        return [env._draw_freeze(0) for _ in range(5000)]

    first = draws(4)
    assert first == draws(4) and 5 <= sum(first) <= 50  # Bernoulli(0.005): 25 expected
    assert first != draws(5)

