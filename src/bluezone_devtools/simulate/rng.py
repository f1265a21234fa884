"""The campaign simulator: randomness."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np


def _stream(seed: int, *keys: object) -> np.random.Generator:
    """An independent random stream for (seed, keys), stable across runs and platforms."""
    digest = hashlib.sha256("/".join(str(key) for key in keys).encode()).digest()
    return np.random.default_rng(np.random.SeedSequence([seed, *struct.unpack("<4I", digest[:16])]))


def _pick(rng: np.random.Generator, options: Sequence[Any], weights: Sequence[float]) -> Any:
    cumulative = np.cumsum(weights) / sum(weights)
    return options[int(np.searchsorted(cumulative, rng.random(), side="right"))]
