"""Flat layouts of dict observations and actions, and the affine map of a Box onto [-1, 1].

Networks take flat float32 vectors. A :class:`DictLayout` fixes, once, where each key of a dict of
1-D boxes sits in the flat vector (sorted key order, like the original's ``DictSpace``), so per env
step flattening is one ``np.concatenate`` over precomputed keys and sub-vectors are plain slices.
Replay buffers store actions in [-1, 1]; :class:`UnitMap` converts between that and a Box.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import gymnasium as gym
import numpy as np

__all__ = ["DictLayout", "UnitMap", "box_bounds"]


def box_bounds(space: gym.spaces.Space, name: str = "space") -> tuple[np.ndarray, np.ndarray]:
    """Flat float32 ``(low, high)`` of a 1-D (or flattenable) Box."""
    if not isinstance(space, gym.spaces.Box):
        raise TypeError(f"{name}: expected a Box, got {type(space).__name__}")
    return space.low.astype(np.float32).ravel(), space.high.astype(np.float32).ravel()


class DictLayout:
    """Where each key of a flat dict of boxes lives in one float32 vector (keys sorted).

    Args:
        boxes: key -> (low, high) flat bounds.
    """

    def __init__(self, boxes: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> None:
        self.keys: tuple[str, ...] = tuple(sorted(boxes))
        self.slices: dict[str, slice] = {}
        lows, highs, start = [], [], 0
        for key in self.keys:
            low, high = (np.asarray(b, dtype=np.float32).ravel() for b in boxes[key])
            if low.shape != high.shape:
                raise ValueError(f"{key}: low and high shapes differ")
            self.slices[key] = slice(start, start + low.size)
            start += low.size
            lows.append(low)
            highs.append(high)
        self.dim = start
        self.low = np.concatenate(lows) if lows else np.zeros(0, np.float32)
        self.high = np.concatenate(highs) if highs else np.zeros(0, np.float32)

    @classmethod
    def from_space(cls, space: gym.spaces.Dict, keys: Sequence[str] | None = None) -> DictLayout:
        """Layout of ``keys`` (default: all) of a gymnasium Dict of Boxes."""
        chosen = list(space.spaces) if keys is None else list(keys)
        missing = [k for k in chosen if k not in space.spaces]
        if missing:
            raise KeyError(f"keys {missing} not in observation space (has {sorted(space.spaces)})")
        return cls({k: box_bounds(space.spaces[k], k) for k in chosen})

    def sub(self, keys: Sequence[str]) -> DictLayout:
        """Layout of a subset of this layout's keys."""
        return DictLayout({k: (self.low[self.slices[k]], self.high[self.slices[k]]) for k in keys})

    def indices(self, keys: Sequence[str]) -> np.ndarray:
        """Flat indices of ``keys`` (in sorted order) within this layout's vector."""
        return np.concatenate([np.arange(self.slices[k].start, self.slices[k].stop) for k in sorted(keys)])

    def flatten(self, value: Mapping[str, np.ndarray]) -> np.ndarray:
        """Dict -> flat float32 vector (a new array)."""
        return np.concatenate([np.asarray(value[k], dtype=np.float32).ravel() for k in self.keys])


class UnitMap:
    """Affine map between a finite Box ``[low, high]`` and ``[-1, 1]``.

    Raises:
        ValueError: if a bound is infinite (a policy cannot emit such an action).
    """

    def __init__(self, low: np.ndarray, high: np.ndarray) -> None:
        low = np.asarray(low, dtype=np.float32)
        high = np.asarray(high, dtype=np.float32)
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise ValueError(f"action bounds must be finite, got low={low}, high={high}")
        self.low, self.high = low, high
        self.scale = ((high - low) / 2).astype(np.float32)
        self.offset = ((high + low) / 2).astype(np.float32)
        self.dim = low.size

    def from_unit(self, unit: np.ndarray) -> np.ndarray:
        """[-1, 1] -> Box (works on batches)."""
        return (unit * self.scale + self.offset).astype(np.float32, copy=False)

    def to_unit(self, value: np.ndarray) -> np.ndarray:
        """Box -> [-1, 1], clipped (works on batches)."""
        return np.clip((value - self.offset) / self.scale, -1.0, 1.0).astype(np.float32, copy=False)
