"""Library code (graph_rl/, envs/) never draws from a global RNG: a source scan.

The behavioural half (reseeding the global RNGs before building and after every episode changes no metric) is in
test_determinism.py. Python's ``random``, numpy's legacy ``np.random.*`` functions, torch's sampling functions
without ``generator=``, in-place samplers (``tensor.uniform_``) and ``nn.init`` without ``generator=`` all count.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("graph_rl", "envs")

NUMPY_OK = {"default_rng", "Generator", "SeedSequence", "PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937", "BitGenerator"}
NUMPY_STATE = {"seed", "get_state", "set_state"}
ALLOWED_GLOBAL_STATE = {
    "graph_rl/rng/seeding.py": "seed_everything seeds the globals as a safety net",
    "graph_rl/learners/tianshou_adapter.py": "seeds torch/numpy globals from a named stream inside fork_rng, restores them",
}
"""Files that may seed/save/restore (never draw from) the global RNGs, and why."""
CONTAINED_DRAWS = {
    ("graph_rl/learners/tianshou_adapter.py", "torch.randn_like(action)"): "runs inside _global_rng_from(explore stream)",
}
"""Individual draws that run while the global RNG is temporarily seeded from a named stream, and why."""

PATTERNS = {
    "numpy": re.compile(r"\b(?:np|numpy)\.random\.(\w+)\("),
    "python": re.compile(r"(?<![\w.])random\.(\w+)\("),
    "torch": re.compile(
        r"\btorch\.(rand|randn|randint|randperm|normal|bernoulli|multinomial|poisson|rand_like|randn_like|randint_like)\("
    ),
    "inplace": re.compile(r"\.(uniform_|normal_|bernoulli_|random_|exponential_|geometric_|cauchy_|log_normal_)\("),
    "init": re.compile(r"\binit\.(\w+_)\("),
}


def _call_text(source: str, open_paren: int) -> str:
    """The argument text of the call whose '(' is at ``open_paren`` (handles nesting and newlines)."""
    depth = 0
    for i in range(open_paren, len(source)):
        depth += {"(": 1, ")": -1}.get(source[i], 0)
        if depth == 0:
            return source[open_paren : i + 1]
    return source[open_paren:]


def find_global_rng_uses(path: Path, relative: str) -> list[str]:
    """``file:line: snippet`` for every global-RNG use in ``path`` that is not allowed."""
    source = path.read_text(encoding="utf-8")
    found = []
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(source):
            name = match.group(1)
            if kind == "numpy" and (name in NUMPY_OK or (name in NUMPY_STATE and relative in ALLOWED_GLOBAL_STATE)):
                continue
            if kind == "python" and name == "seed" and relative in ALLOWED_GLOBAL_STATE:
                continue
            if kind in ("torch", "inplace", "init") and "generator=" in _call_text(source, match.end() - 1):
                continue
            line = source.count("\n", 0, match.start()) + 1
            text = source.splitlines()[line - 1].strip()
            if any(file == relative and snippet in text for file, snippet in CONTAINED_DRAWS):
                continue
            found.append(f"{relative}:{line}: {text}")
    return found


def test_library_source_uses_no_global_rng() -> None:
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    assert files, "no library sources found"
    offenders = [hit for p in files for hit in find_global_rng_uses(p, p.relative_to(ROOT).as_posix())]
    assert not offenders, "global RNG used in library code:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "snippet",
    [
        "x = np.random.rand(3)",
        "i = random.randint(0, 4)",
        "z = torch.randn(2, 3)",
        "w.data.uniform_(-1, 1)",
        "nn.init.kaiming_uniform_(w, a=5)",
        "np.random.seed(0)",
        "e = torch.normal(\n    mu,\n    std,\n)",
    ],
)
def test_scan_catches(tmp_path: Path, snippet: str) -> None:
    path = tmp_path / "m.py"
    path.write_text(snippet + "\n")
    assert find_global_rng_uses(path, "graph_rl/m.py")


@pytest.mark.parametrize(
    "snippet",
    [
        "g = np.random.default_rng(np.random.SeedSequence(1))",
        "v = self.np_random.random()",
        "z = torch.randn(\n    2, 3, generator=gen,\n)",
        "w.uniform_(-1, 1, generator=g)",
        "nn.init.kaiming_uniform_(w, a=5, generator=g)",
    ],
)
def test_scan_accepts_generator_draws(tmp_path: Path, snippet: str) -> None:
    path = tmp_path / "m.py"
    path.write_text(snippet + "\n")
    assert not find_global_rng_uses(path, "graph_rl/m.py")
