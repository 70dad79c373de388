"""Running a per-curve JAX sampler over many curves: compiled once per chunk shape.

Both samplers (``sampler.fit_mcmc``, ``smc.fit_smc``) build a pure function
``runner(keys, t, y, mask)`` vmapped over curves. ``run_in_chunks`` cuts the
curves into equal chunks, so one compiled executable serves every chunk, and
keeps executables per (builder, prior, settings, shape) for the process.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from lcpfn.mcmc.model import import_backend
from lcpfn.prior.spec import CurvePrior

__all__ = ["run_in_chunks"]

Builder = Callable[[CurvePrior, Any], Callable[..., Any]]
_COMPILED: dict[tuple[Any, ...], Callable[..., Any]] = {}


def _compiled_runner(
    build: Builder, prior: CurvePrior, settings: Any, shapes: tuple[int, int]
) -> tuple[Callable[..., Any], float]:
    """``build(prior, settings)`` compiled for (B, T)-shaped chunks, and the
    seconds compiling took (0 when it was compiled before in this process).

    ``settings`` is the sampler's frozen, hashable settings dataclass.
    """
    jax, _, _ = import_backend()
    key = (build, prior.hash(), settings, shapes)
    if key in _COMPILED:
        return _COMPILED[key], 0.0
    B, T = shapes
    start = time.perf_counter()
    lowered = jax.jit(build(prior, settings)).lower(
        jax.random.split(jax.random.key(0), B),
        jax.ShapeDtypeStruct((B, T), "float32"),
        jax.ShapeDtypeStruct((B, T), "float32"),
        jax.ShapeDtypeStruct((B, T), "bool"),
    )
    _COMPILED[key] = lowered.compile()
    return _COMPILED[key], time.perf_counter() - start


def run_in_chunks(
    build: Builder,
    prior: CurvePrior,
    settings: Any,
    batch_size: int,
    keys: Any,
    t: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float, float]:
    """Run the sampler ``build(prior, settings)`` over equal chunks of curves.

    The B curves are cut into ceil(B / batch_size) chunks of equal size (the
    last padded with copies of its last curve), so one compilation serves all.

    Shapes:
        keys (B,), t, y, mask (B, T)  ->  draws {site: (B, ...)},
        stats {name: (B, ...)}, sampling seconds per curve, compile seconds
    """
    import jax

    B, T = y.shape
    n_chunks = math.ceil(B / batch_size)
    size = math.ceil(B / n_chunks)
    run, compile_seconds = _compiled_runner(build, prior, settings, (size, T))
    parts = []
    start = time.perf_counter()
    for first in range(0, B, size):
        rows = np.minimum(np.arange(first, first + size), B - 1)
        out = run(keys[rows], t[rows], y[rows], mask[rows])
        parts.append(jax.tree.map(lambda a, k=B - first: np.asarray(a)[:k], out))
    seconds = (time.perf_counter() - start) / B
    draws, stats = (
        {k: np.concatenate([p[i][k] for p in parts]) for k in parts[0][i]}
        for i in (0, 1)
    )
    return draws, stats, seconds, compile_seconds
