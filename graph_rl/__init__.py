"""graph_rl: hierarchical reinforcement learning with agents as graphs of nodes.

A node = a policy (acts) + a subtask (observation, goal, reward, termination) + an algorithm (learns).
Ships flat SAC, HAC, HiTS and EAT node types; see README.md for the tour.
"""

from graph_rl.rng import RngRegistry, seed_everything

__version__ = "0.2.0"

__all__ = ["RngRegistry", "seed_everything", "__version__"]
