"""A deliberately plain, per-curve sampler of the LC-PFN prior, for reference.

It follows the definition in DESIGN.md line by line, with its own hard-coded
parameter values and its own formulas (``**`` powers), so it shares nothing
with ``lcpfn.priors`` or ``lcpfn.curves`` that it is used to check. Slow on
purpose: one curve, one Python loop iteration at a time.
"""

from __future__ import annotations

import numpy as np


def plain_curve(rng: np.random.Generator, n_steps: int = 100) -> tuple[dict, int]:
    """Draw one accepted curve; returns (values, number of draws it took)."""
    t = np.arange(1, n_steps + 1, dtype=np.float64)
    draws = 0
    while True:
        draws += 1
        w_pow3, w_ilog2, w_jan = rng.uniform(0.0, 1.0, size=3)
        c_p = rng.uniform(0.0, 1.25)
        a_p = rng.uniform(-0.6, 0.6)
        alpha_p = np.exp(rng.normal(0.0, 2.0))
        c_i = rng.uniform(0.0, 1.0)
        a_i = rng.uniform(-0.5, 0.5)
        alpha_j = rng.uniform(0.0, 1.0)
        beta_j = rng.uniform(0.0, 2.0)
        kappa_j = np.exp(rng.normal(-2.0, 1.0))
        delta_j = np.exp(rng.normal(0.0, 0.5))
        with np.errstate(all="ignore"):
            pow3 = c_p - a_p * t ** (-alpha_p)
            ilog2 = c_i - a_i / np.log(t + 1)
            janoschek = alpha_j - (alpha_j - beta_j) * np.exp(-kappa_j * t**delta_j)
            f = w_pow3 * pow3 + w_ilog2 * ilog2 + w_jan * janoschek
        if np.isnan(f).any() or f[-1] <= f[0] or f.min() < 0 or f.max() > 1:
            continue
        log_sigma = rng.normal(-4.0, 1.0)
        y = f + np.exp(log_sigma) * rng.normal(size=n_steps)
        return {"y": y, "y_clean": f, "log_sigma": log_sigma}, draws


def plain_curves(n_curves: int, n_steps: int = 100, seed: int = 0) -> dict:
    """Shapes: y, y_clean (B, T); log_sigma (B,); plus the total draws."""
    rng = np.random.default_rng(seed)
    out = [plain_curve(rng, n_steps) for _ in range(n_curves)]
    return {
        "y": np.stack([o["y"] for o, _ in out]),
        "y_clean": np.stack([o["y_clean"] for o, _ in out]),
        "log_sigma": np.array([o["log_sigma"] for o, _ in out]),
        "n_proposed": sum(d for _, d in out),
    }
