"""SAC networks as views into one flat parameter buffer, stacked over ``n`` learners.

Why flat: at [32, 32] / batch 512 an update is dominated by per-op dispatch, not FLOPs. With every
parameter of a learner in one contiguous buffer, Adam and Polyak are a handful of whole-buffer ops, and
copying a learner in or out of a stacked update is a single index op.

Why stacked: ``update_many`` trains several learners with one set of batched matmuls. Member ``i`` owns
slice ``i`` of every parameter; smaller learners are zero-padded. Padding is exact: padded inputs are
zero and padded weights start at zero, so their gradients (and Adam steps) stay zero. A single learner
is a stack of one without padding.

Layout (parameter-major, each parameter contiguous; R = rows of a batch):
    actor hidden l: weight (n, in, out), bias (n, 1, out)
    actor head:     weight (n, 2 act, h), bias (n, 2 act, 1)   rows [mu | log_sigma]; transposed so the
                    head is a (2 act x h) @ (h x R) product (a thin-output matmul is ~5x slower on CPU)
    log_alpha:      (n, 1)
    critic hidden l: weight (2n, in, out), bias (2n, 1, out)   member i's twins are 2i, 2i+1; the first
                    layer's input is [obs | act]
    critic head:    weight (2n, 1, h), bias (2n, 1, 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "LOG_SIGMA_MAX",
    "LOG_SIGMA_MIN",
    "ParamLayout",
    "SingleRowActor",
    "StackDims",
    "critic_forward",
    "hidden_forward",
]

# The original clamps sigma = exp(.) to [1e-3, 6]; clamping log_sigma instead gives the same values and
# gradients without a log in the log-probability.
LOG_SIGMA_MIN = math.log(1e-3)
LOG_SIGMA_MAX = math.log(6.0)
MU_BOUND = 3.0


@dataclass(frozen=True)
class StackDims:
    """Shapes shared by all members of a stack (the maximum over members when padded)."""

    n: int
    obs_dim: int
    act_dim: int
    hidden: tuple[int, ...]


class Entry(NamedTuple):
    kind: str  # "actor", "log_alpha" or "critic"
    layer: int  # 0 .. len(hidden); len(hidden) is the head
    part: str  # "w", "b" or ""
    shape: tuple[int, ...]
    offset: int
    fan_in: int


class ParamLayout:
    """Offsets of every parameter in the flat buffer of a stack (actor, log_alpha, then critic)."""

    def __init__(self, dims: StackDims) -> None:
        self.dims = dims
        self.entries: list[Entry] = []
        n, a, hidden = dims.n, dims.act_dim, dims.hidden
        self._offset = 0
        sizes = [dims.obs_dim, *hidden]
        for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            self._add("actor", layer, "w", (n, fan_in, fan_out), fan_in)
            self._add("actor", layer, "b", (n, 1, fan_out), fan_in)
        self._add("actor", len(hidden), "w", (n, 2 * a, sizes[-1]), sizes[-1])
        self._add("actor", len(hidden), "b", (n, 2 * a, 1), sizes[-1])
        self._add("log_alpha", 0, "", (n, 1), 0)
        self.critic_start = self._offset
        sizes = [dims.obs_dim + a, *hidden]
        for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            self._add("critic", layer, "w", (2 * n, fan_in, fan_out), fan_in)
            self._add("critic", layer, "b", (2 * n, 1, fan_out), fan_in)
        self._add("critic", len(hidden), "w", (2 * n, 1, sizes[-1]), sizes[-1])
        self._add("critic", len(hidden), "b", (2 * n, 1, 1), sizes[-1])
        self.size = self._offset
        self.critic_slice = slice(self.critic_start, self.size)
        self.log_alpha_offset = next(e.offset for e in self.entries if e.kind == "log_alpha")

    def _add(self, kind: str, layer: int, part: str, shape: tuple[int, ...], fan_in: int) -> None:
        self.entries.append(Entry(kind, layer, part, shape, self._offset, fan_in))
        self._offset += math.prod(shape)

    def views(self, flat: torch.Tensor, kind: str, start: int = 0) -> list[torch.Tensor]:
        """Views [w0, b0, w1, b1, ...] of ``kind`` in ``flat`` (whose element 0 is layout offset ``start``)."""
        return [
            flat[e.offset - start : e.offset - start + math.prod(e.shape)].view(e.shape)
            for e in self.entries
            if e.kind == kind
        ]

    def init_(self, flat: torch.Tensor, log_alpha: float, generator: torch.Generator) -> None:
        """PyTorch's default Linear init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn from ``generator``.

        Draws happen on the generator's device in layout order (both critics at once), so a learner's
        initial weights depend only on its generator state.
        """
        for e in self.entries:
            target = flat[e.offset : e.offset + math.prod(e.shape)]
            if e.kind == "log_alpha":
                target.fill_(log_alpha)
                continue
            bound = 1.0 / math.sqrt(e.fan_in)
            draw = torch.rand(target.numel(), generator=generator, device=generator.device)
            target.copy_(draw.mul_(2.0 * bound).sub_(bound))

    def member_index(self, member: int, sub: StackDims) -> np.ndarray:
        """Positions in this layout of every element of a one-member layout ``sub`` placed at ``member``.

        Ordered like ``ParamLayout(sub)``'s buffer: ``flat[idx] = sub_flat`` copies a learner in and
        ``flat[idx]`` copies it out. Observation and action parts are padded separately, so the critic
        input [obs | act] and the actor head rows [mu | log_sigma] keep their meaning.
        """
        d = self.dims
        obs_act = np.concatenate([np.arange(sub.obs_dim), d.obs_dim + np.arange(sub.act_dim)])
        mu_sigma = np.concatenate([np.arange(sub.act_dim), d.act_dim + np.arange(sub.act_dim)])
        parts = []
        for e, sub_e in zip(self.entries, ParamLayout(sub).entries):
            rows = 2 * member + np.arange(2) if e.kind == "critic" else np.array([member])
            axes = [rows] + [np.arange(k) for k in sub_e.shape[1:]]
            if e.kind == "actor" and e.layer == len(d.hidden):
                axes[1] = mu_sigma
            if e.kind == "critic" and e.layer == 0 and e.part == "w":
                axes[1] = obs_act
            strides = np.cumprod((e.shape[1:] + (1,))[::-1])[::-1]
            grid = np.ix_(*axes)
            parts.append((e.offset + sum(ax * st for ax, st in zip(grid, strides))).reshape(-1))
        return np.concatenate(parts)


def hidden_forward(
    x: torch.Tensor, params: list[torch.Tensor], outs: list[torch.Tensor] | None = None
) -> list[torch.Tensor]:
    """ReLU hidden layers over a stack: x (m, R, in) -> activations [(m, R, h1), ...] (into ``outs``)."""
    acts = []
    for i in range(0, len(params) - 2, 2):
        x = torch.baddbmm(params[i + 1], x, params[i], out=None if outs is None else outs[i // 2])
        x.relu_()
        acts.append(x)
    return acts


def critic_forward(x: torch.Tensor, params: list[torch.Tensor], force_negative: bool) -> torch.Tensor:
    """Both critics of every member, for evaluation (no buffers): x (n, R, obs + act) -> q (n, 2, R).

    The force-negative head is ``logsigmoid`` (as in the original's NegativeNetwork): Q <= 0 everywhere
    with a gradient that does not vanish for very negative values.
    """
    n, rows, width = x.shape
    x2 = x.unsqueeze(1).expand(n, 2, rows, width).reshape(2 * n, rows, width)
    h = hidden_forward(x2, params)[-1]
    q = torch.baddbmm(params[-1], params[-2], h.transpose(1, 2)).view(n, 2, rows)
    return F.logsigmoid(q) if force_negative else q


class SingleRowActor:
    """Acting for one observation of a stack of one: 2-D matmuls into preallocated rows.

    Acting happens once per node and env step, so it is kept to about ten ops with no allocation.
    """

    def __init__(self, actor_params: list[torch.Tensor], act_dim: int) -> None:
        device = actor_params[0].device
        self.layers = [(w[0], b[0]) for w, b in zip(actor_params[:-2:2], actor_params[1:-2:2])]
        self.hidden = [torch.zeros(1, w.shape[1], device=device) for w, _ in self.layers]
        self.head_w = actor_params[-2][0].t()
        self.head_b = actor_params[-1][0].view(1, -1)
        self.head = torch.zeros(1, 2 * act_dim, device=device)
        self.mu_raw, self.ls_raw = self.head[:, :act_dim], self.head[:, act_dim:]
        self.mu, self.sigma, self.noise, self.action = (torch.zeros(1, act_dim, device=device) for _ in range(4))

    def __call__(self, obs: torch.Tensor, deterministic: bool, generator: torch.Generator) -> torch.Tensor:
        """tanh(mu) or a tanh-Gaussian sample for obs (1, obs_dim); returns a reused (1, act) buffer."""
        x = obs
        for (w, b), h in zip(self.layers, self.hidden):
            x = torch.addmm(b, x, w, out=h).relu_()
        torch.addmm(self.head_b, x, self.head_w, out=self.head)
        torch._C._nn.hardtanh(self.mu_raw, -MU_BOUND, MU_BOUND, out=self.mu)
        if not deterministic:
            torch._C._nn.hardtanh(self.ls_raw, LOG_SIGMA_MIN, LOG_SIGMA_MAX, out=self.sigma).exp_()
            torch.randn(self.noise.shape, generator=generator, device=self.noise.device, out=self.noise)
            self.mu.addcmul_(self.sigma, self.noise)
        return torch.tanh(self.mu, out=self.action)
