"""Random streams: one seed per run, one named generator per component."""

from graph_rl.rng.registry import RngRegistry, name_to_spawn_key
from graph_rl.rng.seeding import seed_everything

__all__ = ["RngRegistry", "name_to_spawn_key", "seed_everything"]
