"""update_many must equal sequential updates (exactly in stats layout, up to float rounding in values)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graph_rl.learners import SACConfig, SACLearner, update_many
from graph_rl.replay import ReplayBatch
from torch_threads import one_torch_thread  # noqa: E402,F401  (autouse: one torch thread)


def make(obs_dim: int, act_dim: int, seed: int, **kwargs) -> SACLearner:
    return SACLearner(
        obs_dim,
        act_dim,
        SACConfig(**kwargs),
        init_generator=torch.Generator().manual_seed(seed),
        explore_generator=torch.Generator().manual_seed(seed + 100),
    )


def batch(obs_dim: int, act_dim: int, size: int, g: torch.Generator) -> ReplayBatch:
    return ReplayBatch(
        obs=torch.randn(size, obs_dim, generator=g),
        act=torch.rand(size, act_dim, generator=g) * 2 - 1,
        rew=-torch.rand(size, generator=g),
        next_obs=torch.randn(size, obs_dim, generator=g),
        done=(torch.rand(size, generator=g) < 0.2).float(),
        discount_exponent=torch.randint(1, 4, (size,), generator=g).float(),
    )


SPECS = {
    "same_dims": [(6, 2, {}), (6, 2, {})],
    "padded_obs_act": [(18, 1, {}), (15, 5, {})],
    "mixed_configs": [
        (5, 3, {"auto_alpha": True, "force_negative": True, "tau": 0.01}),
        (8, 1, {"gamma": 0.9, "learning_rate": 1e-3, "alpha_learning_rate": 1e-2}),
        (4, 2, {"hidden_layers": [16, 40], "auto_alpha": True, "target_entropy": 0.3}),
    ],
    "different_depths": [(5, 2, {}), (5, 2, {"hidden_layers": [8]}), (3, 1, {"hidden_layers": [8]})],
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_update_many_equals_sequential(name: str) -> None:
    specs = SPECS[name]
    stacked = [make(d, a, i, **kw) for i, (d, a, kw) in enumerate(specs)]
    sequential = [make(d, a, i, **kw) for i, (d, a, kw) in enumerate(specs)]
    g = torch.Generator().manual_seed(7)
    for _ in range(15):
        batches = [batch(d, a, 32, g) for d, a, _ in specs]
        update_many(stacked, batches)
        for learner, b in zip(sequential, batches):
            learner.update(b)
    for s, q in zip(stacked, sequential):
        state_s, state_q = s.state_dict(), q.state_dict()
        for key, value in state_s.items():
            if isinstance(value, torch.Tensor):
                np.testing.assert_allclose(value.numpy(), state_q[key].numpy(), rtol=1e-4, atol=1e-6, err_msg=key)
            else:
                assert value == state_q[key], key
        assert torch.equal(s._explore.get_state(), q._explore.get_state())
        stats_s, stats_q = s.pop_stats(), q.pop_stats()
        assert stats_s.keys() == stats_q.keys()
        for key in stats_s:
            assert stats_s[key] == pytest.approx(stats_q[key], rel=1e-4, abs=1e-6)


def test_update_many_with_repeated_learner_is_sequential() -> None:
    a, b = make(4, 2, 0), make(4, 2, 0)
    g = torch.Generator().manual_seed(1)
    batches = [batch(4, 2, 16, g) for _ in range(2)]
    update_many([a, a], batches)
    for x in batches:
        b.update(x)
    for key, value in a.state_dict().items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, b.state_dict()[key]), key


def test_update_many_then_single_updates_mix() -> None:
    """Learners keep their own state between stacked updates, so single updates may interleave."""
    pair = [make(6, 2, 0), make(3, 1, 1)]
    ref = [make(6, 2, 0), make(3, 1, 1)]
    g = torch.Generator().manual_seed(2)
    for step in range(6):
        batches = [batch(6, 2, 16, g), batch(3, 1, 16, g)]
        if step % 2:
            pair[0].update(batches[0])
            pair[1].update(batches[1])
        else:
            update_many(pair, batches)
        for learner, x in zip(ref, batches):
            learner.update(x)
    for s, q in zip(pair, ref):
        np.testing.assert_allclose(s.state_dict()["actor"].numpy(), q.state_dict()["actor"].numpy(), atol=1e-6)
        assert s.state_dict()["adam_step"] == q.state_dict()["adam_step"] == 6


def test_update_many_rejects_length_mismatch() -> None:
    with pytest.raises(ValueError, match="learners"):
        update_many([make(4, 2, 0)], [])
