"""Public inference: ``lcpfn.load()`` gives an Extrapolator, ``predict`` a Prediction.

How t is read. The model was trained on curves of ``max_steps`` steps
(t = 1..max_steps, 100 for the shipped models). The user's t may be any
increasing positive values (epochs, optimizer steps, fractions of training),
and ``horizon`` is the planned total length in the same units (default:
``max_steps``). Every t is mapped linearly onto the model's scale,
``t * max_steps / horizon``, so a run planned for 300 epochs is seen as a
100-step curve whose step 1 is epoch 3. A t beyond ``horizon`` is an error.
A curve with more than ``max_steps`` observed points is thinned to
``max_steps`` points evenly spread over its observed points (keeping the
last), since the network never saw more during training; thinning keeps the
prior's noise model intact where averaging would not.

NaN policy: in ``y_obs`` a NaN marks a step that was not observed (ragged
batches); every curve needs at least one observed value. Infinite values are
errors. Outputs never contain NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from lcpfn.errors import InputError
from lcpfn.pfn.bars import BarDistribution
from lcpfn.pfn.checkpoint import load_model
from lcpfn.pfn.curve_scale import CurveScale, curve_scale
from lcpfn.pfn.model import CurvePFN
from lcpfn.pfn.prior_range import PriorRange
from lcpfn.predictive import TransformedPredictive
from lcpfn.request import Request, parse_request, thin
from lcpfn.shipped import shipped_dir
from lcpfn.transforms import Identity, Transform, take

__all__ = ["Extrapolator", "Prediction", "available_models", "load"]

DEFAULT_BATCH_SIZE = 32  # curves per forward pass: larger batches gain nothing on a CPU
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16}  # of the network
MAX_CACHED_BYTES = 2**30  # logits kept in memory up to this size, else recomputed
# model-space values the network can read: prior curves lie in [0, 1] plus
# noise whose scale exp(N(-4, 1)) reaches ~3 at five standard deviations;
# values beyond this say the metric was not mapped (percentages, raw losses)
PRIOR_RANGE = (-20.0, 21.0)


def available_models() -> list[str]:
    """Names of the models shipped in ``pretrained/``."""
    return sorted(p.stem for p in shipped_dir("pretrained").glob("*.safetensors"))


def load(name_or_path: str | Path = "default", device: str = "cpu") -> Extrapolator:
    """Load a shipped model by name, or any exported model by path (no suffix).

    Weights are safetensors; the JSON model card's sha256 is verified. Nothing
    is downloaded or unpickled.

    Raises:
        InputError: no shipped model has that name.
        CheckpointError: a file is missing, corrupted or does not fit its card.
    """
    path = Path(name_or_path)
    if path.parent == Path(".") and not path.suffix and not path.exists():
        path = shipped_dir("pretrained") / path.name
        if not path.with_suffix(".safetensors").exists():
            raise InputError(
                f"name_or_path {str(name_or_path)!r} is not a shipped model "
                f"({', '.join(available_models()) or 'none shipped'}) nor a file"
            )
    elif path.suffix in (".safetensors", ".json"):
        path = path.with_suffix("")
    model, card = load_model(path, device=device)
    return Extrapolator(model, card)


class Extrapolator:
    """A trained CurvePFN behind a NumPy-in, NumPy-out ``predict``.

    Stateless after construction, so one instance may serve many threads.
    """

    def __init__(self, model: CurvePFN, card: dict[str, Any] | None = None) -> None:
        self.model = model.eval()
        self.card = card or {}
        # the range of the prior the model learned (unbounded without a card)
        self.prior_range = PriorRange.of_card(self.card)

    @property
    def max_steps(self) -> int:
        return self.model.config.max_steps

    @property
    def device(self) -> torch.device:
        return self.model.bars.borders.device

    def predict(
        self,
        y_obs: Any,
        t_obs: Any = None,
        t_query: Any = None,
        *,
        horizon: float | None = None,
        transform: Transform | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        precision: str = "float32",
    ) -> Prediction:
        """Posterior predictive of the unobserved part of one curve or a batch.

        Args:
            y_obs: one curve (T,), a batch (B, T) with NaN where not observed,
                or a list of 1-D arrays of any lengths; lists, NumPy, torch or
                pandas (a DataFrame is read row by row: one curve per row).
            t_obs: steps of ``y_obs``: (T,) for all curves or (B, T) each;
                default 1..T. Increasing and positive within each curve.
            t_query: steps to predict: (Q,) for all curves or (B, Q) each;
                default the steps after the batch's width up to ``horizon``.
            horizon: planned total length in the units of t (default: the
                model's ``max_steps``); see the module docstring.
            transform: maps the metric into the prior's increasing-in-[0, 1]
                space (``lcpfn.transforms``); default: values used as they are.
            batch_size: curves per forward pass (memory bound).
            precision: "float32", or "bfloat16" to run the network's matrix
                products in bfloat16: faster only on a CPU with bfloat16
                instructions, much slower on one without, and the bar
                probabilities move slightly; everything after the network is
                float32.

        Returns:
            Prediction; its outputs have shape (Q,) for one curve, (B, Q) for a batch.

        Raises:
            InputError (a ValueError) or TypeError naming the bad argument.
        """
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(
                f"batch_size must be a positive integer; got {batch_size!r}"
            )
        if precision not in PRECISIONS:
            raise InputError(
                f"precision must be one of {sorted(PRECISIONS)}; got {precision!r}"
            )
        request = parse_request(
            y_obs,
            t_obs,
            t_query,
            horizon=horizon,
            transform=transform,
            max_steps=self.max_steps,
        )
        observed = ~np.isnan(request.y)
        z = request.z
        seen = z[observed]
        if not (np.all(seen >= PRIOR_RANGE[0]) and np.all(seen <= PRIOR_RANGE[1])):
            raise InputError(
                f"y_obs lies far outside the prior's [0, 1] after the transform "
                f"(min {np.nanmin(z):.3g}, max {np.nanmax(z):.3g}); pass a "
                f"transform from lcpfn.transforms that maps the metric into [0, 1]"
            )
        scale = self.max_steps / request.horizon
        t_model, z_model, mask = thin(request.t * scale, z, observed, self.max_steps)
        return Prediction(
            self,
            request=request,
            t_obs=torch.from_numpy(t_model).float(),
            y_obs=torch.from_numpy(z_model).float(),
            obs_mask=torch.from_numpy(mask),
            t_query=torch.from_numpy(request.steps * scale).float(),
            batch_size=batch_size,
            precision=precision,
        )

    def bars(
        self, y_obs: Tensor, obs_mask: Tensor, scale: CurveScale | None = None
    ) -> ScaledBars:
        """The output distribution's units for these curves (model space);
        ``scale``: ``curve_scale(y_obs, obs_mask)`` if the caller has it.

        Shapes: y_obs (B, T), obs_mask (B, T) bool, observed points first.
        """
        dev = self.device
        scale = self.model.output_scale(y_obs.to(dev), obs_mask.to(dev), scale)
        return ScaledBars(self.model.bars, scale, self.prior_range)

    def logits(
        self,
        t_obs: Tensor,
        y_obs: Tensor,
        obs_mask: Tensor,
        t_query: Tensor,
        precision: str = "float32",
        scale: CurveScale | None = None,
    ) -> Tensor:
        """The network in model units, without grad, on the model's device;
        ``scale`` as in ``bars``.

        Shapes: (B, T), (B, T), (B, T) bool, (B, Q)  ->  (B, Q, K) float32
        """
        dev = self.device
        low = PRECISIONS[precision]
        with (
            torch.inference_mode(),
            torch.autocast(dev.type, dtype=low or torch.float32, enabled=bool(low)),
        ):
            return self.model(
                t_obs.to(dev), y_obs.to(dev), obs_mask.to(dev), t_query.to(dev), scale
            ).float()


def chunk_order(obs_mask: Tensor) -> np.ndarray:
    """Curves by observed count (stable), the order ``packed_chunks`` takes.

    Shapes: obs_mask (B, T) bool -> (B,) int
    """
    return np.argsort(obs_mask.sum(1).cpu().numpy(), kind="stable")


def packed_chunks(
    inputs: tuple[Tensor, Tensor, Tensor, Tensor], order: np.ndarray, batch_size: int
) -> Iterator[tuple[np.ndarray, tuple[Tensor, Tensor, Tensor, Tensor]]]:
    """The network's inputs, ``batch_size`` curves at a time in ``order``.

    Observed points are packed left, so each chunk is cut to its own longest
    observed count; with ``order`` sorting curves by that count (as
    ``Prediction`` does), little padding is left.

    Shapes: inputs (B, T), (B, T), (B, T) bool, (B, Q); order (B,) ->
        (rows (b,), inputs (b, T_chunk), (b, T_chunk), (b, T_chunk), (b, Q))
    """
    t_obs, y_obs, mask, t_query = inputs
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        width = max(1, int(mask[rows].sum(1).max()))
        yield (
            rows,
            (
                t_obs[rows, :width],
                y_obs[rows, :width],
                mask[rows, :width],
                t_query[rows],
            ),
        )


class ScaledBars:
    """The bar distribution of ``y = loc + scale * z`` with z on the model's bars,
    held to the prior's range guarantee.

    For a model whose bars are in the prior's units (``scale`` None) it is the
    bar distribution itself; for one whose bars are in each curve's own units
    it applies the change of variables exactly (densities divided by scale).
    ``prior_range`` (``lcpfn.pfn.prior_range``) then mirrors back across the
    prior's bounds any mass the Bayes predictive could not have there; where
    the network keeps the guarantee, nothing changes.

    Shapes: logits (B, Q, K) with B the curves of ``scale``; y, v (B, Q);
    quantiles and samples (L, B, Q).
    """

    def __init__(
        self,
        bars: BarDistribution,
        scale: CurveScale | None,
        prior_range: PriorRange,
    ) -> None:
        self.bars = bars
        self.prior_range = prior_range
        self._loc = None if scale is None else scale.loc[:, None].double()  # (B, 1)
        self._scale = None if scale is None else scale.scale[:, None].double()

    def _to_z(self, y: Tensor) -> Tensor:
        if self._loc is None:
            return y
        return ((y.double() - self._loc) / self._scale).float()

    def _to_y(self, z: Tensor) -> Tensor:
        return z if self._loc is None else self._loc + self._scale * z.double()

    def log_prob(self, logits: Tensor, y: Tensor) -> Tensor:
        if not self.prior_range.bounded:
            return self._log_prob(logits, y)
        at = self.prior_range.mirrors(y)  # (4, B, Q)
        return self.prior_range.log_prob(
            *self._cdf_and_sf(logits, at), self._log_prob(logits, at)
        )

    def cdf(self, logits: Tensor, v: Tensor) -> Tensor:
        if not self.prior_range.bounded:
            return self._cdf_and_sf(logits, v)[0]
        at = self.prior_range.mirrors(v)  # (4, B, Q)
        return self.prior_range.cdf(*self._cdf_and_sf(logits, at))

    def quantile(self, logits: Tensor, q: Any) -> Tensor:
        """Shapes: returns (L, B, Q)."""
        q = torch.as_tensor(q, dtype=torch.float64).reshape(-1)
        if not self.prior_range.bounded:
            return self._to_y(self.bars.quantile(logits, q))
        return self.prior_range.quantile(*self._own_quantiles(logits, q))

    def sample(self, logits: Tensor, n_samples: int, generator: torch.Generator):
        """Draws by inverse CDF. Shapes: returns (S, B, Q)."""
        u = torch.rand(
            (n_samples, *logits.shape[:-1]), generator=generator, device=logits.device
        ).clamp(1e-7, 1 - 1e-7)
        if not self.prior_range.bounded:
            return self._to_y(self.bars.inverse_cdf(logits, u))
        # the draws' quantiles and their complements' in one pass over the bars
        both = self._to_y(self.bars.inverse_cdf(logits, torch.cat([u, 1 - u])))
        return self.prior_range.quantile(both[:n_samples], both[n_samples:])

    def own_mean(self, logits: Tensor) -> Tensor:
        """The bars' own mean, before the range guarantee (``mean_shift``).

        Shapes: returns (B, Q).
        """
        return self._to_y(self.bars.mean(logits))

    def mean_shift(
        self, logits: Tensor, inverse: Callable[[np.ndarray], np.ndarray], n_levels: int
    ) -> np.ndarray | float:
        """E[inverse(Y)] with the range guarantee minus E[inverse(Y)] of the bars
        alone, by the midpoint rule over ``n_levels`` quantiles: exactly 0
        where the guarantee moves no mass.

        Shapes: returns (B, Q), or 0.0 for an unbounded prior.
        """
        if not self.prior_range.bounded:
            return 0.0
        levels = (torch.arange(n_levels, dtype=torch.float64) + 0.5) / n_levels
        alone, complement = self._own_quantiles(logits, levels)  # (L, B, Q) each
        held = self.prior_range.quantile(alone, complement)
        alone, held = (a.double().cpu().numpy() for a in (alone, held))
        return (inverse(held) - inverse(alone)).mean(axis=0)

    def _own_quantiles(self, logits: Tensor, q: Tensor) -> tuple[Tensor, Tensor]:
        """The bars' own quantiles at q and at 1 - q, in one pass over the bars.

        Shapes: q (L,) -> (L, B, Q), (L, B, Q).
        """
        both = self._to_y(self.bars.quantile(logits, torch.cat([q, 1 - q])))
        return both[: len(q)], both[len(q) :]

    def _log_prob(self, logits: Tensor, y: Tensor) -> Tensor:
        """The bars' own log-density. Shapes: y (..., B, Q) -> (..., B, Q)."""
        lp = self.bars.log_prob(logits, self._to_z(y))
        return lp if self._scale is None else lp - self._scale.log()

    def _cdf_and_sf(self, logits: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """The bars' own P(Y <= v) and P(Y > v).

        Shapes: v (..., B, Q) -> (..., B, Q) each.
        """
        return self.bars.cdf_and_sf(logits, self._to_z(v))

    def expectations(self, transform: Transform) -> np.ndarray:
        """E[transform.inverse(Y) | bar k] per curve and bar, by Gauss-Legendre
        within each bar. The two tail bars reach infinitely far and map onto
        the metric's steepest part, so they get many more nodes.

        Shapes: returns (B, K) with per-curve units or parameters, else (1, K).
        """
        nodes, weights = (a.cpu().numpy() for a in self.bars.bar_nodes(16))
        tail_nodes, tail_weights = (a.cpu().numpy() for a in self.bars.bar_nodes(256))
        table = self._expected(transform, nodes, weights)  # (rows, K)
        table[:, [0, -1]] = self._expected(transform, tail_nodes[[0, -1]], tail_weights)
        return table

    def _expected(self, transform: Transform, nodes: np.ndarray, weights) -> np.ndarray:
        """Shapes: nodes (K', m) in z, weights (m,)  ->  (rows, K')."""
        K, m = nodes.shape
        if self._loc is not None:  # each curve's own nodes in y: (B, K', m)
            loc, scale = self._loc.cpu().numpy(), self._scale.cpu().numpy()  # (B, 1)
            nodes = loc[:, :, None] + scale[:, :, None] * nodes[None]
        grid = nodes.reshape(-1, K * m)  # (1 | B, K' m)
        rows = max(transform.n_curves() or 1, grid.shape[0])
        grid = np.broadcast_to(grid, (rows, K * m))
        return transform.inverse(grid).reshape(rows, K, m) @ weights


class Prediction(TransformedPredictive):
    """The posterior predictive distribution at each query step, in metric units.

    All methods return NumPy float64 arrays of shape (Q,) for one curve or
    (B, Q) for a batch, with a leading axis for several levels or samples.
    ``steps`` holds the query steps and ``observed`` the (t, y) given, both in
    the user's units ((Q,), (T,) for one curve; (B, Q), (B, T) for a batch).
    The bars predict the prior's space, held to what the prior guarantees
    there (``lcpfn.pfn.prior_range``: no more mass beyond a bound of the
    prior's range than the mirror image holds inside it); ``TransformedPredictive``
    maps them into the metric's units, and ``mean`` integrates ``inverse`` over
    each bar (``ScaledBars.expectations``).

    Large batches are evaluated ``batch_size`` curves at a time; their bar
    logits are kept when they take at most ``MAX_CACHED_BYTES``, otherwise
    each method recomputes them chunk by chunk, so memory stays bounded.
    """

    def __init__(
        self,
        extrapolator: Extrapolator,
        *,
        request: Request,
        t_obs: Tensor,
        y_obs: Tensor,
        obs_mask: Tensor,
        t_query: Tensor,
        batch_size: int,
        precision: str = "float32",
    ) -> None:
        self._x = extrapolator
        self._precision = precision
        self._inputs = (t_obs, y_obs, obs_mask, t_query)
        self.observed = request.observed
        self.steps = request.out(request.steps)
        self.transform = request.transform
        self._single = request.single
        self._batch_size = batch_size
        B, Q = t_query.shape
        self._n_curves = B
        K = extrapolator.model.config.n_bars
        # curves by observed count, so that each chunk is padded to its own
        # longest; _unorder puts the results back in the batch's order
        self._order = chunk_order(obs_mask)
        self._unorder = np.argsort(self._order)
        self._cache: list[Tensor] | None = None
        if B * Q * K * 4 <= MAX_CACHED_BYTES:
            self._cache = [(logits, bars) for _, logits, bars in self._chunks()]

    # ---- the prior-space primitives behind the shared protocol ---------------

    def _metric_mean(self) -> np.ndarray:
        """E[inverse(Z)]: bar by bar for the bars alone (``ScaledBars.expectations``),
        plus the shift of the prior's range guarantee (``ScaledBars.mean_shift``).

        Shapes: returns (B, Q).
        """

        def chunk_mean(lg: Tensor, rows: np.ndarray, bars: ScaledBars) -> np.ndarray:
            transform = take(self.transform, rows)
            if isinstance(transform, Identity):
                exact = bars.own_mean(lg).double().cpu().numpy()
            else:
                table = bars.expectations(transform)  # (Bc|1, K)
                p = torch.softmax(lg.double(), dim=-1).cpu().numpy()  # (Bc, Q, K)
                table = np.broadcast_to(table, p[:, 0].shape)
                exact = np.einsum("bqk,bk->bq", p, table)
            return exact + bars.mean_shift(lg, transform.inverse, self.N_MEAN_LEVELS)

        return self._map_rows(chunk_mean)

    def _prior_quantiles(self, levels: np.ndarray) -> np.ndarray:
        return self._map(lambda lg, bars: bars.quantile(lg, levels), axis=1)

    def _prior_cdf(self, z: np.ndarray) -> np.ndarray:
        return self._map_rows(
            lambda lg, rows, bars: bars.cdf(lg, torch.from_numpy(z[rows]).float())
        )

    def _prior_log_prob(self, z: np.ndarray) -> np.ndarray:
        return self._map_rows(
            lambda lg, rows, bars: bars.log_prob(lg, torch.from_numpy(z[rows]))
        )

    def _prior_sample(self, n_samples: int, seed: int) -> np.ndarray:
        generator = torch.Generator(device=self._x.device).manual_seed(seed)
        return self._map(lambda lg, bars: bars.sample(lg, n_samples, generator), axis=1)

    @property
    def _grid(self) -> tuple[int, int]:
        return tuple(self._inputs[3].shape)

    # ---- for experts --------------------------------------------------------

    @property
    def logits(self) -> Tensor:
        """Bar logits in model units. Shapes: (B, Q, K) (B = 1 for one curve)."""
        logits = torch.cat([lg.cpu() for _, lg, _ in self._all_chunks()])
        return logits[torch.from_numpy(self._unorder)]

    # ---- internals -------------------------------------------------------------

    def _chunks(self) -> Iterator[tuple[np.ndarray, Tensor, ScaledBars]]:
        """Chunks of curves with similar observed counts (less padding), as
        positions in the batch: chunk after chunk, they are ``self._order``."""
        dev = self._x.device
        scale_aware = self._x.model.config.scale_aware
        for rows, (t_obs, y_obs, mask, t_query) in packed_chunks(
            self._inputs, self._order, self._batch_size
        ):
            # the curves' own scale, once for the network and its bars
            scale = curve_scale(y_obs.to(dev), mask.to(dev)) if scale_aware else None
            yield (
                rows,
                self._x.logits(t_obs, y_obs, mask, t_query, self._precision, scale),
                self._x.bars(y_obs, mask, scale),
            )

    def _all_chunks(self) -> Iterator[tuple[np.ndarray, Tensor, ScaledBars]]:
        if self._cache is None:
            yield from self._chunks()
            return
        start = 0
        for logits, bars in self._cache:
            yield self._order[start : start + logits.shape[0]], logits, bars
            start += logits.shape[0]

    def _map(
        self, fn: Callable[[Tensor, ScaledBars], Tensor], axis: int = 0
    ) -> np.ndarray:
        """fn(logits, bars) over the chunks, joined on the curve axis ``axis``."""
        return self._map_rows(lambda lg, rows, bars: fn(lg, bars), axis)

    def _map_rows(self, fn: Callable, axis: int = 0) -> np.ndarray:
        """fn(logits, rows, bars) over the chunks, joined on the curve axis."""
        parts = []
        for rows, logits, bars in self._all_chunks():
            out = fn(logits, rows, bars)
            parts.append(out.double().cpu().numpy() if torch.is_tensor(out) else out)
        return np.take(np.concatenate(parts, axis=axis), self._unorder, axis=axis)
