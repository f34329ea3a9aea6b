"""EAT (emergency termination of a running high-level action), all of it in one place.

* :mod:`~graph_rl.algorithms.eat.algorithm`: the top level's algorithm: HAC relabelling with the time-discounted
  objective, intra-action transitions, termination bookkeeping; it plugs into its node as the node's
  :class:`~graph_rl.algorithms.base.ActionHook`.
* :mod:`~graph_rl.algorithms.eat.termination`: when a running timed subgoal has become obsolete (Changing Q, our
  Changing Q gap, Changing target).
* :mod:`~graph_rl.algorithms.eat.discounting`: the top level's subtask, reward = discounted env reward per action.
"""

from graph_rl.algorithms.eat.algorithm import EAT, ActionTrace, IntraRows
from graph_rl.algorithms.eat.discounting import DiscountedEnvGoalSubtask
from graph_rl.algorithms.eat.termination import (
    ChangingQ,
    ChangingQGap,
    ChangingTarget,
    RunningMoments,
    TerminationPolicy,
    make_termination,
)

__all__ = [
    "EAT",
    "ActionTrace",
    "IntraRows",
    "DiscountedEnvGoalSubtask",
    "ChangingQ",
    "ChangingQGap",
    "ChangingTarget",
    "RunningMoments",
    "TerminationPolicy",
    "make_termination",
]
