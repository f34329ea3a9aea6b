"""Agent graphs: the forward/backward passes over nodes, and builders for SAC, HAC and HiTS."""

from graph_rl.graph.builders import EnvSpec, build_graph
from graph_rl.graph.graph import Graph

__all__ = ["Graph", "build_graph", "EnvSpec"]
