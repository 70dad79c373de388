"""Brute force: the posterior predictive by importance sampling from the prior.

Draws from the truncated prior (``lcpfn.prior.sampler``, the PFN's torch
sampler, which shares no code path with the NumPyro model the samplers move
in) are weighted by the likelihood of the observed points; the predictive
density at a query point is the weighted mixture of the draws' noise
densities there::

    w_i = prod_t N(y_obs(t); f_i(t), sigma_i)           (observed t)
    p(y | data) = sum_i w_i N(y; f_i(t_q), sigma_i) / sum_i w_i

Draws are streamed in chunks and reduced with running log-sum-exps, so memory
stays bounded however many millions are drawn. The estimate is exact in the
limit and trustworthy where the effective sample size
``(sum w)^2 / sum w^2`` is large; on sharp posteriors (many low-noise
observations) it collapses, which ``ImportanceResult.ess`` says.

Steps are the prior's grid (integers 1..n_steps): the reference is for prior
curves, observed and queried on that grid.

Shapes: B curves, T observed steps, Q query steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from lcpfn.errors import InputError
from lcpfn.prior.sampler import iter_curves
from lcpfn.prior.spec import CurvePrior

__all__ = ["ImportanceResult", "importance_predictive"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class ImportanceResult:
    """Shapes: log_density (B, Q), ess (B,); n_draws prior draws per curve."""

    log_density: np.ndarray
    ess: np.ndarray
    n_draws: int


def _normal_logpdf(y: torch.Tensor, mean: torch.Tensor, log_sigma: torch.Tensor):
    return -0.5 * ((y - mean) / log_sigma.exp()) ** 2 - log_sigma - _HALF_LOG_2PI


def importance_predictive(
    prior: CurvePrior,
    y_obs: np.ndarray,
    y_query: np.ndarray,
    *,
    n_draws: int = 4_000_000,
    n_steps: int = 100,
    seed: int = 0,
    chunk_size: int = 65_536,
) -> ImportanceResult:
    """Posterior-predictive log density of ``y_query`` given ``y_obs``, by brute force.

    Args:
        y_obs: observed values on the grid t = 1..n_steps, NaN where not
            observed (each curve needs one observed value).
        y_query: values whose predictive density is wanted, NaN where not
            asked (the result is 0 there).
        n_draws: prior draws, shared by all curves (common random numbers).

    Shapes:
        y_obs (B, n_steps), y_query (B, n_steps)  ->  ImportanceResult with
        log_density (B, n_steps)
    """
    y_obs = np.asarray(y_obs, dtype=np.float64)
    y_query = np.asarray(y_query, dtype=np.float64)
    if y_obs.ndim != 2 or y_obs.shape[1] != n_steps:
        raise InputError(f"y_obs must have shape (B, {n_steps}); got {y_obs.shape}")
    if y_query.shape != y_obs.shape:
        raise InputError(
            f"y_query must have y_obs's shape {y_obs.shape}; got {y_query.shape}"
        )
    if (~np.isnan(y_obs)).sum(axis=1).min() < 1:
        raise InputError("y_obs: every curve needs one observed value")
    obs = torch.from_numpy(~np.isnan(y_obs))  # (B, T)
    asked = torch.from_numpy(~np.isnan(y_query))
    yo = torch.from_numpy(np.nan_to_num(y_obs))
    yq = torch.from_numpy(np.nan_to_num(y_query))
    B = y_obs.shape[0]
    log_w_sum = torch.full((B,), -math.inf, dtype=torch.float64)
    log_w2_sum = torch.full((B,), -math.inf, dtype=torch.float64)
    log_num = torch.full((B, n_steps), -math.inf, dtype=torch.float64)
    for batch in iter_curves(prior, n_draws, n_steps, seed=seed, chunk_size=chunk_size):
        f = batch.y_clean.double()  # (N, T)
        log_sigma = batch.log_sigma.double()[:, None]  # (N, 1)
        for b in range(B):
            cols = obs[b]
            log_w = _normal_logpdf(yo[b, cols], f[:, cols], log_sigma).sum(1)  # (N,)
            log_w_sum[b] = torch.logaddexp(log_w_sum[b], torch.logsumexp(log_w, 0))
            log_w2_sum[b] = torch.logaddexp(
                log_w2_sum[b], torch.logsumexp(2 * log_w, 0)
            )
            q = asked[b]
            term = log_w[:, None] + _normal_logpdf(yq[b, q], f[:, q], log_sigma)
            log_num[b, q] = torch.logaddexp(log_num[b, q], torch.logsumexp(term, 0))
    log_density = torch.where(asked, log_num - log_w_sum[:, None], 0.0)
    ess = torch.exp(2 * log_w_sum - log_w2_sum)
    return ImportanceResult(
        log_density=log_density.numpy(), ess=ess.numpy(), n_draws=n_draws
    )
