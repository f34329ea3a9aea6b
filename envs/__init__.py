"""Environments the graph_rl agents are trained and judged on. Importing this package registers the gymnasium ids.

``envs`` is self-contained: it imports nothing from ``graph_rl``.
"""

from __future__ import annotations

from typing import Any

from gymnasium.envs.registration import register, registry

from envs.platforms import PlatformsEnv

PLATFORMS_ENTRY_POINT = "envs.platforms.core:PlatformsEnv"

# No max_episode_steps: the env enforces its own 500-step limit (``truncated``), like the original.
PLATFORMS_IDS: dict[str, dict[str, Any]] = {
    "Platforms-v1": {},
    "EasyPlatforms-v1": {"use_simpler_goal": True},
    "NoisyPlatforms-v1": {"use_freeze": (True, True)},
    "ThreePlatforms-v1": {"third_platform": True},
    "PlatformsTime-v1": {"time_in_observation": True},
}

for _env_id, _kwargs in PLATFORMS_IDS.items():
    if _env_id not in registry:
        register(id=_env_id, entry_point=PLATFORMS_ENTRY_POINT, kwargs=_kwargs)

__all__ = ["PLATFORMS_IDS", "PlatformsEnv"]
