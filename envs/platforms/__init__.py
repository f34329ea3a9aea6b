"""Platforms family: a port of the Box2D "Platforms" environments (HiTS/HERALD fork of dyn-rl-benchmarks) to
pymunk 7 and gymnasium 1.x.

A ball (horizontal force 0.1*a N) must reach a goal on a shelf by riding a continuously moving lift
(platform0) and a lift triggered by rolling across a zone on the ground (platform1). Variants, combinable via
constructor kwargs of :class:`PlatformsEnv`: EasyPlatforms (``use_simpler_goal``), NoisyPlatforms
(``use_freeze``), ThreePlatforms (``third_platform``), PlatformsTime (``time_in_observation``).

Physics follows Box2D's step order, contact points and position solver (see :mod:`envs.platforms.physics`): the
provided recordings of the original are replayed to within 3e-5 m over whole episodes, and the scripted controller
succeeds in the same departure-phase window [1.8, 2.45] rad with the same episode lengths.

Quirks of the original kept on purpose (agents were trained with them):

* Q2: observed platform positions are one step ahead, ``pos(t) + vel(t)*dt`` (the kinematic body moves inside
  the physics step before being teleported back).
* Q3: platform1's velocity uses omega1 = 3 while its position uses omega2 = 2, so the reported (and physical)
  velocity is 1.5x the true rate of change; the ball hops while riding it up.
* Q4: a frozen platform0/platform2 keeps its non-zero velocity (it pushes the ball and reports the velocity).
* Q9: the action is not clipped; |a| > 1 gives a proportionally larger force.
* The upper ledge exists in every variant; outside ThreePlatforms platform2 idles inside the shelf and only
  adds an observation key. ``use_simpler_goal`` takes precedence over ``third_platform``.
* Velocity clamp (0.9 m/s per component, 19.9 rad/s) after each physics step; success is a position-only test
  (distance <= 0.05); a success on the last step counts as terminated, not truncated.

Bugs and API gaps fixed (``legacy_quirks=True`` restores the history-dependent ones, marked *):

* Q1*: ``reset()`` reported the platforms' state from the end of the previous episode (zeros in a fresh env),
  so equal seeds could give different reset observations; now it reports their state at t = 0.
* Q5*: platform1's cycle length grew by 50 steps per freeze and was never reset, so NoisyPlatforms drifted
  across episodes; it now restarts at 188.5 updates with every activation and episode.
* Q6*: platform1's frozen-time offset survived re-activation (the platform jumped); it now restarts too.
* Q7: ``ThreePlatforms-v1`` was registered without kwargs and thus was plain Platforms, and
  ``third_platform`` only worked as the list ``[True]``; it is registered with ``third_platform=True`` and
  accepts a bool (or a one-element list).
* Q8: ``compute_reward`` is vectorised over leading axes (it took one norm over the whole batch).
* Q10/Q11: observations are float32 as the spaces declare; ``rgb_array`` frames are H x W x 3 RGB uint8
  (the original returned BGRA via a temporary file in the working directory).
* Randomness: the goal offset and the freeze draws use the env's own ``np_random`` (seeded through
  ``reset(seed=...)``), never the global numpy RNG; the constructor draws nothing. ``reset(options={"goal":
  [x, y]})`` pins the goal; the offset is drawn anyway so the stream stays aligned. Freeze draws go through
  ``PlatformsEnv._draw_freeze`` (one Bernoulli draw per eligible update, as in the original).
* ``reset()`` rebuilds the physics world: the original kept Box2D contacts (warm-start impulses) across
  episodes, so an episode depended on the previous one.
* PlatformsTime accepted no other kwargs; ``time_in_observation`` combines with every variant.
* gymnasium API: ``terminated``/``truncated`` replace ``done`` and ``info["TimeLimit.truncated"]``; ``info``
  carries ``is_success``. The frame for ThreePlatforms is taller (800 x 720) so the upper ledge and its goal,
  which the original cut off, are visible. Subgoals are shown through :meth:`PlatformsEnv.set_subgoals`
  (replacing ``update_subgoals``/``update_timed_subgoals``), without the original's velocity arrows.
"""

from envs.platforms.core import PlatformsEnv

__all__ = ["PlatformsEnv"]
