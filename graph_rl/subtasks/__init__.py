"""Subtasks: what a node observes, pursues and is rewarded for (HAC shortest path, HiTS timed goals, env goal)."""

from graph_rl.subtasks.aux_rewards import AuxReward, DeltaTAchReward, EnvReward, GoalTolReward
from graph_rl.subtasks.base import Goal, GoalCriterion, Outcome, PartialObs, Subtask
from graph_rl.subtasks.env_goal import EnvGoalSubtask
from graph_rl.subtasks.shortest_path import ShortestPathSubtask
from graph_rl.subtasks.timed_goal import TimedGoalSubtask, TimeScale

__all__ = [
    "AuxReward",
    "DeltaTAchReward",
    "EnvReward",
    "GoalTolReward",
    "Goal",
    "GoalCriterion",
    "Outcome",
    "PartialObs",
    "Subtask",
    "EnvGoalSubtask",
    "ShortestPathSubtask",
    "TimedGoalSubtask",
    "TimeScale",
]
