"""Flat layouts for dict observations/actions and the [-1, 1] action normalisation."""

from graph_rl.spaces.goal_env import GoalEnvShapeError, GoalObservation, adapt_goal_env
from graph_rl.spaces.layout import DictLayout, UnitMap, box_bounds

__all__ = ["DictLayout", "UnitMap", "box_bounds", "GoalEnvShapeError", "GoalObservation", "adapt_goal_env"]
