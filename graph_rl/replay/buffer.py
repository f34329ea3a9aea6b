"""A preallocated ring of flat transitions, sampled with the buffer's own generator.

Each transition is one packed float32 row ``[obs | next_obs | act | rew | done | discount_exponent]``,
so ``add`` is a few slice writes into existing memory (no allocation), and ``sample`` is one index
draw plus one ``index_select``. The buffer only stores; what to store (hindsight relabelling, timed
goals) is decided by the node algorithms.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch

__all__ = ["ReplayBatch", "ReplayBuffer"]


class ReplayBatch(NamedTuple):
    """A batch of transitions on the learner's device.

    ``obs``/``next_obs`` are (B, obs_dim), ``act`` is (B, act_dim) in [-1, 1]; ``rew``, ``done`` (0. or 1.)
    and ``discount_exponent`` are float32 of shape (B,). The bootstrap factor of a transition is
    ``(1 - done) * gamma ** discount_exponent``; the exponent is the number of env steps an action
    lasted for time-discounted levels, and 1 otherwise. Tensors may be strided views of one block.
    """

    obs: torch.Tensor
    act: torch.Tensor
    rew: torch.Tensor
    next_obs: torch.Tensor
    done: torch.Tensor
    discount_exponent: torch.Tensor


class ReplayBuffer:
    """Uniform replay over the most recent ``capacity`` transitions.

    Args:
        capacity: number of transitions kept; older ones are overwritten first.
        obs_dim, act_dim: widths of the flat observation and action vectors.
        rng: the only source of randomness for sampling (a named stream of the RNG registry).
        device: where sampled batches are put; storage stays in host memory so ``add`` stays cheap.
    """

    def __init__(
        self,
        capacity: int,
        obs_dim: int,
        act_dim: int,
        rng: np.random.Generator,
        device: str | torch.device = "cpu",
    ) -> None:
        for name, value in (("capacity", capacity), ("obs_dim", obs_dim), ("act_dim", act_dim)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
        self.rng = rng
        self.obs_dim, self.act_dim = int(obs_dim), int(act_dim)
        self.device = torch.device(device)
        d, a = self.obs_dim, self.act_dim
        self._next_obs = slice(d, 2 * d)
        self._act = slice(2 * d, 2 * d + a)
        self._rew, self._done, self._disc = 2 * d + a, 2 * d + a + 1, 2 * d + a + 2
        self._width = 2 * d + a + 3
        self._split = [d, d, a, 3]
        self._data = np.zeros((int(capacity), self._width), dtype=np.float32)
        self._data_t = torch.from_numpy(self._data)
        self._ptr = 0
        self._size = 0

    @property
    def capacity(self) -> int:
        return self._data.shape[0]

    def __len__(self) -> int:
        return self._size

    def add(
        self,
        obs: np.ndarray,
        act: np.ndarray,
        rew: float,
        next_obs: np.ndarray,
        done: bool,
        discount_exponent: float = 1.0,
    ) -> None:
        """Store one transition, overwriting the oldest when full."""
        row = self._data[self._ptr]
        row[: self.obs_dim] = obs
        row[self._next_obs] = next_obs
        row[self._act] = act
        row[self._rew] = rew
        row[self._done] = done
        row[self._disc] = discount_exponent
        self._ptr = (self._ptr + 1) % self.capacity
        if self._size < self.capacity:
            self._size += 1

    def add_batch(
        self,
        obs: np.ndarray,
        act: np.ndarray,
        rew: np.ndarray,
        next_obs: np.ndarray,
        done: np.ndarray,
        discount_exponent: np.ndarray | None = None,
    ) -> None:
        """Store ``n`` transitions in order (as ``n`` calls of :meth:`add`, but vectorised)."""
        n = len(obs)
        if n == 0:
            return
        keep = slice(max(0, n - self.capacity), n)
        rows = (self._ptr + np.arange(keep.start, n)) % self.capacity
        block = np.empty((len(rows), self._width), dtype=np.float32)
        block[:, : self.obs_dim] = np.asarray(obs)[keep]
        block[:, self._next_obs] = np.asarray(next_obs)[keep]
        block[:, self._act] = np.asarray(act)[keep]
        block[:, self._rew] = np.asarray(rew)[keep]
        block[:, self._done] = np.asarray(done)[keep]
        block[:, self._disc] = 1.0 if discount_exponent is None else np.asarray(discount_exponent)[keep]
        self._data[rows] = block
        self._ptr = (self._ptr + n) % self.capacity
        self._size = min(self.capacity, self._size + n)

    def sample(self, batch_size: int) -> ReplayBatch:
        """``batch_size`` transitions drawn uniformly with replacement, indices from ``self.rng``."""
        if self._size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = torch.from_numpy(self.rng.integers(0, self._size, size=batch_size))
        rows = self._data_t.index_select(0, idx)
        if self.device.type != "cpu":
            rows = rows.to(self.device, non_blocking=True)
        return self._as_batch(rows)

    def transitions(self) -> ReplayBatch:
        """Every stored transition as views on host memory, in slot order (the ring's, not time order once it has
        wrapped). For inspecting what a level learns from; training draws through :meth:`sample`."""
        return self._as_batch(self._data_t[: self._size])

    def _as_batch(self, rows: torch.Tensor) -> ReplayBatch:
        obs, next_obs, act, scalars = rows.split(self._split, dim=1)
        rew, done, discount_exponent = scalars.unbind(1)
        return ReplayBatch(obs, act, rew, next_obs, done, discount_exponent)

    def state_dict(self) -> dict[str, Any]:
        """The filled rows and the ring position (the sampling generator is saved by the RNG registry)."""
        return {
            "obs_dim": self.obs_dim,
            "act_dim": self.act_dim,
            "capacity": self.capacity,
            "rows": torch.from_numpy(self._data[: self._size].copy()),
            "ptr": self._ptr,
            "size": self._size,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output of a buffer with the same widths and capacity."""
        for key in ("obs_dim", "act_dim", "capacity"):
            if int(state[key]) != getattr(self, key):
                raise ValueError(f"replay state has {key}={state[key]}, buffer has {getattr(self, key)}")
        rows = torch.as_tensor(state["rows"], dtype=torch.float32).cpu().numpy()
        size, ptr = int(state["size"]), int(state["ptr"])
        if rows.shape != (size, self._width) or not 0 <= ptr < self.capacity:
            raise ValueError(f"malformed replay state: rows {tuple(rows.shape)}, size {size}, ptr {ptr}")
        self._data.fill(0.0)
        self._data[:size] = rows
        self._size, self._ptr = size, ptr
