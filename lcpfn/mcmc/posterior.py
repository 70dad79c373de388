"""The result of ``lcpfn.mcmc.fit_mcmc``: posterior draws, diagnostics, predictive.

``Posterior`` holds the draws of every curve as an ArviZ ``InferenceData``,
their convergence ``Diagnostics`` (r_hat, ESS, divergences, boundary
rejections, with a warning when they are bad) and gives the posterior
predictive as a ``PosteriorPredictive``, which answers the same questions as
the PFN's ``lcpfn.predict.Prediction`` (the protocol of
``lcpfn.predictive.PredictiveDistribution``).

The prior's curve formulas are those of ``lcpfn.mcmc.model``
(``parameter_values``, ``clean_curves``), evaluated here in NumPy: jax is never
needed (the draws are NumPy arrays).

NaN policy: outputs contain no NaN for valid input; ``v`` and ``y`` arguments
must be finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from lcpfn.errors import InputError
from lcpfn.mcmc.arguments import model_steps
from lcpfn.mcmc.model import clean_curves, import_backend, parameter_values
from lcpfn.predictive import PredictiveDistribution
from lcpfn.prior.spec import CurvePrior
from lcpfn.request import Request

__all__ = [
    "Diagnostics",
    "Posterior",
    "PosteriorPredictive",
    "converged",
    "convergence_warning",
    "predictive_mcse",
    "summarize_diagnostics",
]

R_HAT_LIMIT = 1.01
ESS_MIN = 400  # bulk ESS over all chains (Vehtari et al., 2021)
_QUANTILE_TOL = 1e-9  # bisection stops when brackets are this narrow (y units)
_ROWS_PER_PASS = 2**22  # predictive: (curves x draws x queries) per vectorized pass
_MCSE_STEPS = 20  # the predictive's Monte Carlo error is measured at this many steps
_MCSE_LEVELS = (np.arange(20) + 0.5) / 20  # and at these quantiles of it at each


def _arviz() -> Any:
    """arviz, imported lazily; a missing one raises ImportError naming the extra."""
    return import_backend()[2]


@dataclass(frozen=True, kw_only=True)
class Diagnostics:
    """Convergence summary: the worst value over all parameters (and curves).

    ``r_hat_max`` is NaN with a single chain (R-hat compares chains; for SMC,
    the independent runs are the chains and their particles the draws).
    ``boundary_rejection_rate`` is the share of NUTS proposals that left the
    prior's support and were rejected (see ``lcpfn.mcmc``'s module docstring;
    NaN for SMC). SMC only (NaN for NUTS): ``log_evidence_sd``, the standard
    deviation of the runs' log evidence estimates, and ``final_ess_min``, the
    smallest effective sample size of a run's final importance weights.
    """

    r_hat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    n_divergences: int
    boundary_rejection_rate: float
    method: str = "nuts"
    log_evidence_sd: float = math.nan
    final_ess_min: float = math.nan
    predictive_mcse: float = math.nan


def _chain_log_density(log_pdf: np.ndarray, n_chains: int) -> np.ndarray:
    """Each chain's own log predictive density, from its draws' log densities.

    The log of the mean over the chain's draws of their densities.

    Shapes: log_pdf (B, S, ...) with S = chains x draws, chain after chain
    ->  (B, C, ...)
    """
    B, S = log_pdf.shape[:2]
    per_chain = log_pdf.reshape(B, n_chains, S // n_chains, *log_pdf.shape[2:])
    return special.logsumexp(per_chain, axis=2) - math.log(S // n_chains)


def _batch_means_se(per_chain: np.ndarray) -> np.ndarray:
    """The standard error of an estimate pooled over chains, from each chain's.

    Their standard deviation over sqrt(chains) (batch means, with the chains
    as batches: it counts their autocorrelation and any disagreement between
    them, which ArviZ's MCSE sees only where it exceeds the spread of single
    draws). To first order in the spread: where a chain has few draws near
    the point, the log is skewed and the estimate errs high. An infinite
    estimate gives an infinite error; callers need >= 2 chains.

    Shapes: per_chain (B, C, ...)  ->  (B, ...)
    """
    n_chains = per_chain.shape[1]
    with np.errstate(invalid="ignore"):
        spread = per_chain.std(axis=1, ddof=1) / math.sqrt(n_chains)
    return np.nan_to_num(spread, nan=np.inf)


def predictive_mcse(
    loc: np.ndarray, scale: np.ndarray, n_chains: int, rng: np.random.Generator
) -> np.ndarray:
    """The Monte Carlo standard error of the log predictive density, per curve.

    The predictive density at y is the mean over draws s of the Normal
    density N(y; f_s(t), sigma_s); the spread of each chain's own estimate
    gives the error of the pooled one (batch means, with the chains as
    batches). It is averaged over the
    predictive's quantiles at ``_MCSE_LEVELS`` (taken from one predictive
    sample per draw) and over the given steps: a typical point, where a
    curve's held-out values may not fall (``PosteriorPredictive.
    log_likelihood_mcse`` measures it at given values). On low-noise curves
    each draw's density is a spike of width sigma, few draws are near a given
    y, and the error is large. NaN with one chain.

    Shapes: loc (B, S, Q) with S = chains x draws, chain after chain; scale
    (B, S)  ->  (B,)
    """
    B, S, Q = loc.shape
    if n_chains < 2:
        return np.full(B, np.nan)
    samples = loc + scale[..., None] * rng.standard_normal(loc.shape)
    points = np.quantile(samples, _MCSE_LEVELS, axis=1)  # (L, B, Q)
    out = np.empty(B)
    for b in range(B):
        z = (points[None, :, b, :] - loc[b, :, None, :]) / scale[b, :, None, None]
        log_pdf = -0.5 * z**2 - np.log(scale[b, :, None, None])  # (S, L, Q)
        per_chain = _chain_log_density(log_pdf[None], n_chains)  # (1, C, L, Q)
        out[b] = _batch_means_se(per_chain)[0].mean()
    return out


def _curve_diagnostics(
    idata: Any, stats: dict[str, np.ndarray], method: str, mcse: np.ndarray
) -> list[Diagnostics]:
    """One Diagnostics per curve, from an InferenceData with a ``curve`` dim
    and the predictive's MCSE per curve.

    Shapes: stats (B, C, S) each, mcse (B,)  ->  B Diagnostics
    """
    az = _arviz()
    B, C, _ = next(iter(stats.values())).shape

    def worst(dataset: Any, reduce: Callable[..., np.ndarray], nan: float) -> Any:
        # NaN comes from a chain that never moved: count it as the worst value
        per_var = [
            reduce(v.transpose("curve", ...).values.reshape(B, -1), axis=1)
            for v in dataset.data_vars.values()
        ]
        return np.nan_to_num(reduce(np.stack(per_var), axis=0), nan=nan)  # (B,)

    r_hat = (
        worst(az.rhat(idata.posterior), np.max, np.inf) if C > 1 else np.full(B, np.nan)
    )
    ess_bulk = worst(az.ess(idata.posterior, method="bulk"), np.min, 0.0)
    ess_tail = worst(az.ess(idata.posterior, method="tail"), np.min, 0.0)
    if method == "smc":  # per-run statistics, constant along the draws
        divergences = np.zeros(B, dtype=int)
        rejected = np.full(B, np.nan)
        log_z_sd = stats["log_evidence"][:, :, 0].std(axis=1, ddof=1 if C > 1 else 0)
        final_ess = stats["final_ess"][:, :, 0].min(axis=1)
    else:
        divergences = stats["diverging"].sum(axis=(1, 2))
        rejected = stats["boundary_rejected"].mean(axis=(1, 2))
        log_z_sd = final_ess = np.full(B, np.nan)
    return [
        Diagnostics(
            r_hat_max=float(r_hat[b]),
            ess_bulk_min=float(ess_bulk[b]),
            ess_tail_min=float(ess_tail[b]),
            n_divergences=int(divergences[b]),
            boundary_rejection_rate=float(rejected[b]),
            method=method,
            log_evidence_sd=float(log_z_sd[b]),
            final_ess_min=float(final_ess[b]),
            predictive_mcse=float(mcse[b]),
        )
        for b in range(B)
    ]


def summarize_diagnostics(curves: Sequence[Diagnostics]) -> Diagnostics:
    """The worst of each diagnostic over curves (divergences summed)."""

    def nan_worst(values: list[float], reduce: Callable[..., float]) -> float:
        return float("nan") if np.isnan(values).all() else float(reduce(values))

    return Diagnostics(
        r_hat_max=nan_worst([d.r_hat_max for d in curves], np.nanmax),
        ess_bulk_min=min(d.ess_bulk_min for d in curves),
        ess_tail_min=min(d.ess_tail_min for d in curves),
        n_divergences=sum(d.n_divergences for d in curves),
        boundary_rejection_rate=nan_worst(
            [d.boundary_rejection_rate for d in curves], np.nanmean
        ),
        method=curves[0].method,
        log_evidence_sd=nan_worst([d.log_evidence_sd for d in curves], np.nanmax),
        final_ess_min=nan_worst([d.final_ess_min for d in curves], np.nanmin),
        predictive_mcse=nan_worst([d.predictive_mcse for d in curves], np.nanmax),
    )


def converged(d: Diagnostics) -> bool:
    """The convergence criterion: R-hat <= R_HAT_LIMIT (where chains exist),
    bulk ESS >= ESS_MIN and no divergent transition."""
    return (
        not d.r_hat_max > R_HAT_LIMIT
        and d.ess_bulk_min >= ESS_MIN
        and d.n_divergences == 0
    )


def convergence_warning(curves: Sequence[Diagnostics]) -> str | None:
    """A warning message if some curve's sampler did not converge, else None."""
    if all(converged(d) for d in curves):
        return None
    high = sum(d.r_hat_max > R_HAT_LIMIT for d in curves)
    low = sum(d.ess_bulk_min < ESS_MIN for d in curves)
    diverged = sum(d.n_divergences > 0 for d in curves)
    advice = (
        "raise max_particles (more particles where it fails) or n_leapfrog"
        if curves[0].method == "smc"
        else "raise n_warmup and n_samples, or target_accept_prob against divergences"
    )
    return (
        f"{curves[0].method.upper()} may not have converged: r_hat > {R_HAT_LIMIT} "
        f"on {high}, bulk ESS < {ESS_MIN} on {low} and divergent transitions on "
        f"{diverged} of {len(curves)} curve(s) (see Posterior.curve_diagnostics); "
        f"{advice}"
    )


class Posterior:
    """Posterior draws of ``fit_mcmc``, their diagnostics and the predictive.

    Attributes:
        idata: ``arviz.InferenceData`` with groups ``posterior`` (one variable
            per sampled parameter, named as in ``CurveBatch.params``:
            ``"pow3.c"``, ..., plus ``"weights"`` (F,) and ``"log_sigma"``),
            ``posterior_predictive`` (``"y"`` at the observed steps),
            ``observed_data`` (``"y"``), ``constant_data`` (``"t"``, user
            units) and ``sample_stats`` (NUTS: ``diverging``, ``n_steps``,
            ``acceptance_rate``, ``step_size``, ``lp``, ``boundary_rejected``;
            SMC, per run: ``log_evidence``, ``final_ess``, ``n_stages``,
            ``acceptance_rate``, ``final_acceptance``, ``n_particles``).
        method: "nuts" (``fit_mcmc``) or "smc" (``fit_smc``).
        diagnostics: ``Diagnostics``, worst case over all curves.
        curve_diagnostics: one ``Diagnostics`` per curve.
        seconds: sampling wall time per curve (compilation not included).
        compile_seconds: wall time spent compiling (0 when a compiled sampler
            of the same prior, settings and batch shape was reused).
        observed: (t, y) as given, user units: (T,) each, or (B, T) each.

    Shapes:
        idata.posterior: (chain, draw) per scalar parameter for one curve,
        (chain, draw, curve) for a batch; ``weights`` adds a ``family`` axis.
    """

    def __init__(
        self,
        *,
        prior: CurvePrior,
        draws: dict[str, np.ndarray],
        stats: dict[str, np.ndarray],
        request: Request,
        n_steps: int,
        seconds: float,
        compile_seconds: float,
        seed: int,
        method: str = "nuts",
    ) -> None:
        self.prior = prior
        self.method = method
        self.horizon = request.horizon
        self.n_steps = n_steps
        self.seconds = seconds
        self.compile_seconds = compile_seconds
        self.observed = request.observed
        self._request = request
        self._draws = {k: v.astype(np.float64) for k, v in draws.items()}
        B, C, S = next(iter(draws.values())).shape[:3]
        self._n_chains = C
        # per-run statistics (SMC) are repeated along the draws
        stats = {
            k: np.broadcast_to(v[:, :, None], (B, C, S)) if v.ndim == 2 else v
            for k, v in stats.items()
        }
        rng = np.random.default_rng(seed)
        idata = self._inference_data(stats, rng)
        loc, scale = self._components(self._unseen_steps())
        mcse = predictive_mcse(loc, scale, C, rng)
        self.curve_diagnostics = tuple(_curve_diagnostics(idata, stats, method, mcse))
        self.diagnostics = summarize_diagnostics(self.curve_diagnostics)
        self.idata = idata.isel(curve=0) if request.single else idata

    def predict(self, t_query: Any = None) -> PosteriorPredictive:
        """The posterior predictive at ``t_query`` (observation noise included).

        Args:
            t_query: (Q,) for all curves or (B, Q) each, in the units of t (a
                step before the prior's first, ``horizon / n_steps``, is
                answered at it); default: the whole steps after the last
                observed one (the batch's width T when ``t_obs`` was None) up
                to ``horizon``.

        Returns:
            A ``PosteriorPredictive`` with the methods of ``lcpfn.Prediction``.

        Shapes:
            outputs (Q,) for one curve, (B, Q) for a batch.
        """
        request = self._request.at(t_query)
        loc, scale = self._components(self._model_steps(request.steps))
        return PosteriorPredictive(
            loc,
            scale,
            n_chains=self._n_chains,
            steps=request.out(request.steps),
            observed=self.observed,
            single=request.single,
        )

    def curves(self, t_query: Any) -> np.ndarray:
        """The clean curve f_s of every posterior draw at ``t_query`` (no noise).

        Args:
            t_query: (Q,) for all curves or (B, Q) each, in the units of t (a
                step before the prior's first, ``horizon / n_steps``, is
                taken at it).

        Shapes:
            returns (S, Q) for one curve or (S, B, Q) for a batch, with
            S = chains x draws, chain after chain.
        """
        steps = self._request.at(t_query).steps  # (B, Q)
        loc, _ = self._components(self._model_steps(steps))
        return loc[0] if self._request.single else np.moveaxis(loc, 1, 0)

    def _unseen_steps(self) -> np.ndarray:
        """``_MCSE_STEPS`` model steps from the one after the last observed
        to the last of the grid (only the last if none is left).

        Shapes: returns (B, _MCSE_STEPS)
        """
        t = np.where(np.isnan(self._request.y), -np.inf, self._request.t)
        last = self._model_steps(t.max(axis=1, keepdims=True))
        start = np.minimum(np.floor(last) + 1.0, self.n_steps)
        return start + (self.n_steps - start) * np.linspace(0.0, 1.0, _MCSE_STEPS)

    def _model_steps(self, steps: np.ndarray) -> np.ndarray:
        return model_steps(steps, self.n_steps, self.horizon)

    def _components(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Clean curves and noise scales of every draw at model-unit steps ``t``.

        Shapes: t (B, Q)  ->  loc (B, S, Q), scale (B, S) with S = chains x draws
        """
        B = t.shape[0]
        flat = {k: v.reshape(B, -1, *v.shape[3:]) for k, v in self._draws.items()}
        values = parameter_values(self.prior, flat, np)
        with np.errstate(over="ignore"):  # inf inside a formula is harmless (1 / inf)
            loc = clean_curves(self.prior, values, t[:, None, :], np)  # (B, S, Q)
        S = loc.shape[1]
        scale = np.broadcast_to(np.exp(values["log_sigma"]), (B, S))
        return loc, scale

    def _inference_data(self, stats: dict[str, np.ndarray], rng: Any) -> Any:
        """InferenceData with a ``curve`` dim (dropped later for one curve)."""
        az = _arviz()
        t, y = self._request.t, self._request.y
        B, T = y.shape
        C, S = next(iter(stats.values())).shape[1:]
        observed = ~np.isnan(y)
        loc, scale = self._components(self._model_steps(t))
        y_rep = loc + scale[..., None] * rng.standard_normal(loc.shape)  # (B, CS, T)
        y_rep = np.where(observed[:, None, :], y_rep, np.nan).reshape(B, C, S, T)

        def chain_first(a: np.ndarray) -> np.ndarray:
            """(B, C, S, ...) -> (C, S, B, ...), ArviZ's order."""
            return np.moveaxis(a, 0, 2)

        families = [f.name for f in self.prior.families]
        dims: dict[str, list[str]] = {
            k: ["curve", "family"] if k.startswith("weights") else ["curve"]
            for k in self._draws
        }
        stats = {k: v for k, v in stats.items() if k != "in_support"}
        dims.update({k: ["curve"] for k in stats})
        return az.from_dict(
            posterior={k: chain_first(v) for k, v in self._draws.items()},
            posterior_predictive={"y": chain_first(y_rep)},
            observed_data={"y": y},
            constant_data={"t": t},
            sample_stats={k: chain_first(v) for k, v in stats.items()},
            coords={"curve": np.arange(B), "family": families, "step": np.arange(T)},
            dims={**dims, "y": ["curve", "step"], "t": ["curve", "step"]},
        )


class PosteriorPredictive(PredictiveDistribution):
    """The posterior predictive at each query step, with ``Prediction``'s protocol.

    At each step the predictive is the mixture, over the S posterior draws, of
    Normal(f_s(t), sigma_s): the draw's clean curve plus its observation noise.
    Densities and CDFs are exact for that mixture; quantiles solve its CDF
    (safeguarded Newton); ``mean`` averages the clean curves. All methods
    return NumPy float64 arrays of shape (Q,) for one curve or (B, Q) for a
    batch, with a leading axis for several levels or samples. ``steps`` holds
    the query steps and ``observed`` the (t, y) given, in the user's units.
    ``log_likelihood_mcse`` gives the Monte Carlo error of the mean log density
    of given values, from the draws' ``n_chains`` chains (SMC: runs).
    """

    def __init__(
        self,
        loc: np.ndarray,
        scale: np.ndarray,
        *,
        n_chains: int,
        steps: np.ndarray,
        observed: tuple[np.ndarray, np.ndarray],
        single: bool,
    ) -> None:
        self._loc = loc  # (B, S, Q), S = chains x draws, chain after chain
        self._scale = scale  # (B, S)
        self._n_chains = n_chains
        self.steps = steps
        self.observed = observed
        self._single = single

    @property
    def _grid(self) -> tuple[int, int]:
        return self._loc.shape[0], self._loc.shape[2]

    # ---- the protocol shared with lcpfn.predict.Prediction ----------------------

    def mean(self) -> np.ndarray:
        """Shapes: returns (Q,) or (B, Q)."""
        return self._out(self._loc.mean(axis=1))

    def _quantiles(self, levels: np.ndarray) -> np.ndarray:
        """Shapes: levels (L,) -> (L, B, Q)."""
        order = np.argsort(levels)
        x = np.stack([self._solve_cdf(levels[i]) for i in order])  # (L, B, Q)
        # each level is solved to ~1e-12 in probability; this makes ties exact
        return np.maximum.accumulate(x, axis=0)[np.argsort(order)]

    def cdf(self, v: Any) -> np.ndarray:
        """P(y <= v); ``v`` broadcasts against (Q,) or (B, Q)."""
        x = self._broadcast(v, "v")
        return self._out(self._reduce(x, lambda z, s: special.ndtr(z).mean(axis=1)))

    def prob_greater(self, v: Any) -> np.ndarray:
        """P(y > v); ``v`` broadcasts against (Q,) or (B, Q)."""
        x = self._broadcast(v, "v")
        return self._out(self._reduce(x, lambda z, s: special.ndtr(-z).mean(axis=1)))

    def log_prob(self, y: Any) -> np.ndarray:
        """Log-density of ``y``; broadcasts against (Q,) or (B, Q)."""
        x = self._broadcast(y, "y")

        def mixture_log_density(z: np.ndarray, scale: np.ndarray) -> np.ndarray:
            with np.errstate(over="ignore"):  # a y far off every draw: -inf
                square = z**2
            log_pdf = -0.5 * square - np.log(scale)[..., None] - 0.5 * np.log(2 * np.pi)
            return special.logsumexp(log_pdf, axis=1) - np.log(z.shape[1])

        return self._out(self._reduce(x, mixture_log_density))

    def log_likelihood_mcse(self, y: Any) -> np.ndarray:
        """The Monte Carlo standard error of the log-likelihood score of ``y``,
        the mean of ``log_prob(y)`` over the query steps, per curve.

        Batch means, with the chains as batches: the standard deviation of
        each chain's own score (from its own mixture's density) over
        sqrt(chains). On a curve whose values sit where few draws are, the error
        is larger than ``Diagnostics.predictive_mcse``, its value at a typical
        point, and this is the one that says how far the score of these
        values may move from one sampler run to the next. NaN with one chain.

        Shapes: y broadcasts against (Q,) or (B, Q)  ->  () or (B,)
        """
        x = self._broadcast(y, "y")
        if self._n_chains < 2:
            return self._out(np.full(x.shape[0], np.nan))

        def score_mcse(z: np.ndarray, scale: np.ndarray) -> np.ndarray:
            with np.errstate(over="ignore"):
                log_pdf = -0.5 * z**2 - np.log(scale)[..., None]
            per_chain = _chain_log_density(log_pdf, self._n_chains).mean(axis=2)
            return _batch_means_se(per_chain)

        return self._out(self._reduce(x, score_mcse))

    def sample(self, n_samples: int, seed: int = 0) -> np.ndarray:
        """Draws from the predictive: each draw follows one posterior curve.

        Shapes: returns (S, Q) or (S, B, Q) with S = n_samples.
        """
        if not isinstance(n_samples, int) or n_samples < 1:
            raise InputError(f"n_samples must be a positive integer; got {n_samples!r}")
        rng = np.random.default_rng(seed)
        B, S, Q = self._loc.shape
        rows = np.arange(B)
        pick = rng.integers(S, size=(n_samples, B))
        loc = self._loc[rows, pick]  # (n, B, Q)
        noise = rng.standard_normal(loc.shape) * self._scale[rows, pick][..., None]
        return self._stack_out(loc + noise)

    # ---- internals ------------------------------------------------------------------

    def _row_chunks(self) -> list[slice]:
        """Curves per vectorized pass, so (curves, S, Q) temporaries stay bounded."""
        B, S, Q = self._loc.shape
        step = max(1, _ROWS_PER_PASS // (S * Q))
        return [slice(i, min(i + step, B)) for i in range(0, B, step)]

    def _reduce(
        self, x: np.ndarray, fn: Callable[[np.ndarray, np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """``fn(z, scale)`` over curve chunks, z = (x - loc) / scale standardized.

        Shapes: x (B, Q); fn: (b, S, Q), (b, S) -> (b, ...); returns (B, ...)
        """
        parts = []
        for rows in self._row_chunks():
            scale = self._scale[rows]
            z = (x[rows, None, :] - self._loc[rows]) / scale[..., None]
            parts.append(fn(z, scale))
        return np.concatenate(parts)

    def _solve_cdf(self, level: float) -> np.ndarray:
        """The mixture's quantile at ``level`` per curve and step. Returns (B, Q).

        Each component's own quantile brackets the mixture's (the mixture CDF is
        <= level at the smallest, >= level at the largest); Newton steps that
        leave the bracket are replaced by bisection.
        """
        out = np.empty(self._loc.shape[::2])
        z_level = special.ndtri(level)
        for rows in self._row_chunks():
            loc, scale = (
                self._loc[rows],
                self._scale[rows][..., None],
            )  # (b,S,Q), (b,S,1)
            components = loc + scale * z_level
            lo, hi = components.min(axis=1), components.max(axis=1)
            x = components.mean(axis=1)
            for _ in range(100):
                z = (x[:, None, :] - loc) / scale
                excess = special.ndtr(z).mean(axis=1) - level
                density = (np.exp(-0.5 * z**2) / scale).mean(axis=1) / math.sqrt(
                    2 * math.pi
                )
                lo, hi = np.where(excess < 0, x, lo), np.where(excess < 0, hi, x)
                if np.all((np.abs(excess) < 1e-12) | (hi - lo < _QUANTILE_TOL)):
                    break
                with np.errstate(divide="ignore", invalid="ignore"):
                    newton = x - excess / density
                inside = np.isfinite(newton) & (newton > lo) & (newton < hi)
                x = np.where(inside, newton, 0.5 * (lo + hi))
            out[rows] = x
        return out
