"""The hyperparameters of one SAC learner: its one home, read by the learner, the stacked update and the adapters.

It is also the ``model_kwargs`` section of each level in ``graph_params.json``, so a JSON file, an override and a
learner built by hand name every setting the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graph_rl.config.schema import ConfigError

__all__ = ["SACConfig"]


@dataclass(kw_only=True)
class SACConfig:
    """Hyperparameters of one SAC learner (defaults follow the original Graph-RL runner)."""

    hidden_layers: list[int] = field(default_factory=lambda: [32, 32])
    """Hidden ReLU layer widths, shared by actor and both critics."""
    learning_rate: float = 3e-4
    """Adam learning rate of actor and critics."""
    gamma: float = 0.99
    """Discount per unit of a transition's discount exponent."""
    tau: float = 0.005
    """Polyak rate of the target critics, applied after every gradient step."""
    alpha: float = 0.2
    """Entropy coefficient; the initial value when ``auto_alpha``."""
    auto_alpha: bool = False
    """Tune alpha towards ``target_entropy`` (Haarnoja et al. 2018b, eq. 18)."""
    target_entropy: float | None = None
    """Entropy target of auto alpha; ``None`` means ``-act_dim``."""
    alpha_learning_rate: float = 3e-4
    """Adam learning rate of log alpha."""
    force_negative: bool = False
    """Critic head ``logsigmoid``, so Q <= 0 (for rewards that are never positive, e.g. -1 per step)."""

    def validate(self, path: str = "") -> None:
        """Raise :class:`ConfigError` naming ``path.<field>`` of the first bad value (learners call it on build)."""

        def fail(name: str, msg: str) -> None:
            raise ConfigError(f"{path}.{name}: {msg}" if path else f"{name}: {msg}")

        if not self.hidden_layers or not all(isinstance(h, int) and h > 0 for h in self.hidden_layers):
            fail("hidden_layers", f"must be a non-empty list of positive ints, got {self.hidden_layers!r}")
        for name in ("learning_rate", "alpha", "alpha_learning_rate"):
            if not getattr(self, name) > 0:
                fail(name, f"must be > 0, got {getattr(self, name)!r}")
        for name in ("gamma", "tau"):
            if not 0.0 < getattr(self, name) <= 1.0:
                fail(name, f"must be in (0, 1], got {getattr(self, name)!r}")
