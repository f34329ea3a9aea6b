"""SAC networks as views into one flat parameter buffer, stacked over ``n`` learners.

Why flat: at [32, 32] / batch 512 an update is dominated by per-op dispatch, not FLOPs. With every
parameter of a learner living in one contiguous buffer, Adam and Polyak are a handful of whole-buffer
ops, and copying a learner in or out of a stacked update is a single index op.

Why stacked: ``update_many`` trains several learners in one set of batched matmuls. Member ``i`` of a
stack owns slice ``i`` of every parameter; smaller learners are zero-padded. Padding is exact: padded
inputs are zero and padded weights start at zero, so their gradients (and Adam steps) stay zero. A
single learner is simply a stack of one with no padding.

Layout (parameter-major, each parameter contiguous):
    actor layer l: weight (n, in, out), bias (n, 1, out); the head's out = [mu (act) | log_sigma (act)]
    log_alpha:     (n, 1)
    critic layer l: weight (2n, in, out), bias (2n, 1, out); member i's twins are rows 2i, 2i+1;
                    the first layer's in = [obs | act]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["StackDims", "ParamLayout", "actor_forward", "critic_forward"]


@dataclass(frozen=True)
class StackDims:
    """Shapes shared by all members of a stack (the maximum over members when padded)."""

    n: int
    obs_dim: int
    act_dim: int
    hidden: tuple[int, ...]

    def actor_sizes(self) -> list[int]:
        return [self.obs_dim, *self.hidden, 2 * self.act_dim]

    def critic_sizes(self) -> list[int]:
        return [self.obs_dim + self.act_dim, *self.hidden, 1]


class ParamLayout:
    """Offsets of every parameter in the flat buffer of a stack.

    ``entries`` lists ``(kind, layer, part, shape, offset)`` with kind in {"actor", "log_alpha",
    "critic"} and part in {"w", "b", ""}. The actor and log_alpha come first, the critic last, so
    the critic (the only part with a Polyak target) is the tail slice ``critic_slice``.
    """

    def __init__(self, dims: StackDims) -> None:
        self.dims = dims
        self.entries: list[tuple[str, int, str, tuple[int, ...], int]] = []
        offset = 0

        def add(kind: str, layer: int, part: str, shape: tuple[int, ...]) -> None:
            nonlocal offset
            self.entries.append((kind, layer, part, shape, offset))
            offset += math.prod(shape)

        n = dims.n
        sizes = dims.actor_sizes()
        for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            add("actor", layer, "w", (n, fan_in, fan_out))
            add("actor", layer, "b", (n, 1, fan_out))
        add("log_alpha", 0, "", (n, 1))
        self.critic_start = offset
        sizes = dims.critic_sizes()
        for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            add("critic", layer, "w", (2 * n, fan_in, fan_out))
            add("critic", layer, "b", (2 * n, 1, fan_out))
        self.size = offset
        self.critic_slice = slice(self.critic_start, self.size)

    def views(self, flat: torch.Tensor, kind: str, start: int = 0) -> list[torch.Tensor]:
        """Views of ``kind``'s parameters in ``flat`` (whose element 0 sits at layout offset ``start``)."""
        return [
            flat[off - start : off - start + math.prod(shape)].view(shape)
            for k, _, _, shape, off in self.entries
            if k == kind
        ]

    def init_(self, flat: torch.Tensor, log_alpha: float, generator: torch.Generator) -> None:
        """PyTorch's default Linear init, U(-1/sqrt(fan_in), +1/sqrt(fan_in)), drawn from ``generator``.

        Draws happen on the generator's device in layout order (actor, then both critics at once),
        so a learner's initial weights depend only on its generator state.
        """
        for kind, _, part, shape, off in self.entries:
            target = flat[off : off + math.prod(shape)]
            if kind == "log_alpha":
                target.fill_(log_alpha)
                continue
            fan_in = shape[1] if part == "w" else self._fan_in(kind, off)
            bound = 1.0 / math.sqrt(fan_in)
            draw = torch.rand(target.numel(), generator=generator, device=generator.device)
            target.copy_(draw.mul_(2.0 * bound).sub_(bound))

    def _fan_in(self, kind: str, bias_offset: int) -> int:
        previous = [e for e in self.entries if e[0] == kind and e[4] < bias_offset]
        return previous[-1][3][1]

    def member_index(self, member: int, sub: StackDims) -> np.ndarray:
        """Positions in this layout of every element of a one-member layout ``sub`` placed at ``member``.

        The result is ordered like ``ParamLayout(sub)``'s flat buffer, so ``flat[idx] = sub_flat``
        copies a learner in and ``flat[idx]`` copies it back out.
        """
        d, s = self.dims, sub
        obs_act_in = np.concatenate([np.arange(s.obs_dim), d.obs_dim + np.arange(s.act_dim)])
        mu_ls_out = np.concatenate([np.arange(s.act_dim), d.act_dim + np.arange(s.act_dim)])
        sub_layout = ParamLayout(sub)
        parts = []
        for (kind, layer, part, shape, off), sub_entry in zip(self.entries, sub_layout.entries):
            sub_shape = sub_entry[3]
            rows = np.array([member]) if kind != "critic" else 2 * member + np.arange(2)
            axes = [rows] + [np.arange(k) for k in sub_shape[1:]]
            last = len(sub_shape) - 1
            if kind == "actor" and layer == len(d.hidden):
                axes[last] = mu_ls_out
            if kind == "critic" and layer == 0 and part == "w":
                axes[1] = obs_act_in
            strides = np.cumprod((shape[1:] + (1,))[::-1])[::-1]
            grid = np.ix_(*axes)
            parts.append((off + sum(ax * st for ax, st in zip(grid, strides))).reshape(-1))
        return np.concatenate(parts)


def _mlp(x: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
    """ReLU MLP over a stack: x (m, R, in) with params [w (m, in, out), b (m, 1, out), ...]."""
    last = len(params) - 2
    for i in range(0, len(params), 2):
        x = torch.baddbmm(params[i + 1], x, params[i])
        if i < last:
            x = torch.relu(x)
    return x


def actor_forward(obs: torch.Tensor, params: list[torch.Tensor], act_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu, log_sigma) for obs (n, R, obs_dim), both (n, R, act_dim), clamped as in the original.

    The original clamps mu to [-3, 3] and sigma = exp(.) to [1e-3, 6]; we clamp log_sigma to
    [log 1e-3, log 6] instead, which gives the same values and gradients without a log later.
    """
    head = _mlp(obs, params)
    mu, log_sigma = head.split(act_dim, dim=-1)
    return mu.clamp(-3.0, 3.0), log_sigma.clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX)


def critic_forward(x: torch.Tensor, params: list[torch.Tensor], force_negative: bool) -> torch.Tensor:
    """Both critics of every member: x (n, R, obs+act) -> q (n, 2, R).

    The force-negative head is ``logsigmoid`` (as in the original's NegativeNetwork): Q < 0 everywhere,
    with a non-vanishing gradient for very negative values.
    """
    n, rows, width = x.shape
    x2 = x.unsqueeze(1).expand(n, 2, rows, width).reshape(2 * n, rows, width)
    q = _mlp(x2, params).view(n, 2, rows)
    return torch.nn.functional.logsigmoid(q) if force_negative else q


LOG_SIGMA_MIN = math.log(1e-3)
LOG_SIGMA_MAX = math.log(6.0)
