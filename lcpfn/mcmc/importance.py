"""Brute force: the posterior predictive by importance sampling from the prior.

Draws from the truncated prior (``lcpfn.prior.sampler``, the PFN's torch
sampler: it shares the curve formulas and the support test of
``lcpfn.prior`` with the NumPyro model the samplers move in, not the
parameterization, the moves or the handling of the truncation) are weighted
by the likelihood of the observed points; the predictive density at a query
point is the weighted mixture of the draws' noise densities there::

    w_i = prod_t N(y_obs(t); f_i(t), sigma_i)           (observed t)
    p(y | data) = sum_i w_i N(y; f_i(t_q), sigma_i) / sum_i w_i

Draws are streamed in chunks, each reduced to its log-sum-exps (B x Q values),
so memory grows with the number of chunks, not with the millions drawn. The
estimate is exact in the limit and trustworthy where the effective sample
size ``(sum w)^2 / sum w^2`` is large; on sharp posteriors (many low-noise
observations) it collapses, which ``ImportanceResult.ess`` says.

Its Monte Carlo error comes from the chunks, which are independent batches of
draws: the score S = mean over a curve's query steps of log p(y | data) is a
smooth function of the chunks' sums of w_i and of w_i N(y; f_i, sigma_i), so
to first order S - E S = sum_g z_g with, for chunk g,
``z_g = mean_q num_g(q) / num(q) - den_g / den``, and its standard error is
``sqrt(G / (G - 1) * sum_g z_g^2)`` over the G chunks
(``ImportanceResult.score_mcse``; NaN with a single chunk). Like the
estimate, it is only as good as the ESS: with few effective draws it is too
small.

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
_ELEMENTS_PER_PASS = 2**24  # (curves x draws x steps) of one numerator pass


@dataclass(frozen=True)
class ImportanceResult:
    """Shapes: log_density (B, Q), ess (B,), score_mcse (B,) (the Monte Carlo
    standard error of the mean of a curve's ``log_density`` over its query
    steps); n_draws prior draws per curve."""

    log_density: np.ndarray
    ess: np.ndarray
    score_mcse: np.ndarray
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
    obs = torch.from_numpy(~np.isnan(y_obs)).double()  # (B, T), 1 where observed
    asked = torch.from_numpy(~np.isnan(y_query))
    yo = torch.from_numpy(np.nan_to_num(y_obs))
    yq = torch.from_numpy(np.nan_to_num(y_query))
    B = y_obs.shape[0]
    cols = asked.any(0)  # (T,) the steps some curve asks for
    n_obs = obs.sum(1, keepdim=True)  # (B, 1)
    yo_sq = (obs * yo**2).sum(1, keepdim=True)  # (B, 1)
    log_w2_sum = torch.full((B,), -math.inf, dtype=torch.float64)
    chunk_den, chunk_num = [], []  # per chunk: log sum w (B,), log numerator (B, Q)
    for batch in iter_curves(prior, n_draws, n_steps, seed=seed, chunk_size=chunk_size):
        f = batch.y_clean.double()  # (N, T)
        log_sigma = batch.log_sigma.double()  # (N,)
        # sum_t obs (y - f)^2 expanded into matrix products: (B, N)
        sq = yo_sq - 2 * (obs * yo) @ f.T + obs @ (f**2).T
        log_w = -0.5 * sq.clamp(min=0) * torch.exp(-2 * log_sigma) - n_obs * (
            log_sigma + _HALF_LOG_2PI
        )
        chunk_den.append(torch.logsumexp(log_w, 1))
        log_w2_sum = torch.logaddexp(log_w2_sum, torch.logsumexp(2 * log_w, 1))
        # the numerator needs (curves, draws, queries): a few curves at a time
        fq = f[:, cols]  # (N, Q)
        block = max(1, _ELEMENTS_PER_PASS // fq.numel())
        chunk_num.append(torch.empty((B, fq.shape[1]), dtype=torch.float64))
        for lo in range(0, B, block):
            part = slice(lo, lo + block)
            term = log_w[part, :, None] + _normal_logpdf(
                yq[part, None][..., cols], fq[None], log_sigma[None, :, None]
            )  # (b, N, Q)
            chunk_num[-1][part] = torch.logsumexp(term, 1)
    den, num = torch.stack(chunk_den), torch.stack(chunk_num)  # (G, B), (G, B, Q)
    log_w_sum, log_num = den.logsumexp(0), num.logsumexp(0)
    log_density = torch.zeros((B, n_steps), dtype=torch.float64)
    log_density[:, cols] = log_num - log_w_sum[:, None]
    log_density = torch.where(asked, log_density, 0.0)
    ess = torch.exp(2 * log_w_sum - log_w2_sum)
    return ImportanceResult(
        log_density=log_density.numpy(),
        ess=ess.numpy(),
        score_mcse=_score_mcse(den, num, asked[:, cols]).numpy(),
        n_draws=n_draws,
    )


def _score_mcse(
    log_den: torch.Tensor, log_num: torch.Tensor, asked: torch.Tensor
) -> torch.Tensor:
    """The delta-method standard error of each curve's mean log density over
    its asked steps, with the chunks as independent batches (module docstring);
    NaN with one chunk or for a curve that asks for no step.

    Shapes: log_den (G, B), log_num (G, B, Q), asked (B, Q)  ->  (B,)
    """
    G = log_den.shape[0]
    share_den = torch.exp(log_den - torch.logsumexp(log_den, 0))  # (G, B)
    share_num = torch.exp(log_num - torch.logsumexp(log_num, 0))  # (G, B, Q)
    n_asked = asked.sum(1)
    z = (share_num * asked).sum(2) / n_asked.clamp(min=1) - share_den  # (G, B)
    se = torch.sqrt(G / max(G - 1, 1) * (z**2).sum(0))
    return torch.where((n_asked > 0) & (G > 1), se, math.nan)
