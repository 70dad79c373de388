"""The Riemann ("bar") distribution: the PFN's output distribution over y.

``K`` bars with borders ``b_0 < b_1 < ... < b_K`` and one logit each. Inner bars
``1..K-2`` spread their probability uniformly over ``[b_k, b_k+1]``. The two
outer bars give full support: bar 0 is a half-normal that decays to the left
of ``b_1``, bar ``K-1`` one that decays to the right of ``b_K-1``, each with
the scale that puts half of its mass within the outer bar's width (as in
Mueller et al.'s PFN code). Borders are equal-mass quantiles of prior values
(``make_borders``), so every bar is about equally likely a priori.

All methods are batched over any leading axes of ``logits`` and stable for
any finite logits and any finite y (log-densities far out in a tail are
floored at ``LOG_PROB_FLOOR`` instead of underflowing to -inf).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from lcpfn.errors import InputError

__all__ = ["BarDistribution", "make_borders", "make_curve_borders"]

LOG_PROB_FLOOR = -1e30
_HALF_MASS_Z = 0.6744897501960817  # Phi^-1(0.75): half a half-normal lies below this
_SQRT2 = math.sqrt(2.0)
_F32 = torch.finfo(torch.float32)


def make_borders(values: Tensor, n_bars: int) -> Tensor:
    """Borders of ``n_bars`` equal-mass bars from a sample of prior values.

    Shapes:
        values: (N,) any shape, flattened  ->  returns (n_bars + 1,) float32
    """
    if n_bars < 3:
        raise InputError(
            f"n_bars must be >= 3 (two tails and an inner bar); got {n_bars}"
        )
    flat = values.detach().flatten().double()
    flat = flat[torch.isfinite(flat)]
    if flat.numel() < 2 * n_bars:
        raise InputError(
            f"need at least {2 * n_bars} finite values for {n_bars} bars; "
            f"got {flat.numel()}"
        )
    q = torch.linspace(0.0, 1.0, n_bars + 1, dtype=torch.float64)
    borders = torch.quantile(flat.sort().values[:: max(1, flat.numel() // 2**24)], q)
    # equal quantiles (ties in the sample) would give zero-width bars
    gap = (borders[-1] - borders[0]) * 1e-6
    for i in range(1, n_bars + 1):
        borders[i] = torch.maximum(borders[i], borders[i - 1] + gap)
    return borders.float()


def make_curve_borders(n_bars: int, z_max: float = 2e4, z_fine: float = 0.5) -> Tensor:
    """Borders in a curve's own units ``z``: ``z_fine * sinh(u)``, u evenly spaced.

    Bars are ``z_fine * du`` wide near 0 and grow in proportion to ``|z|`` far
    out (relative width ``du = 2 asinh(z_max / z_fine) / n_bars``), so the
    resolution follows the distance from the curve's last value, from a
    fraction of its noise to the whole prior range (|z| up to ``z_max``).

    Shapes:
        returns (n_bars + 1,) float32, symmetric around 0
    """
    if n_bars < 3:
        raise InputError(
            f"n_bars must be >= 3 (two tails and an inner bar); got {n_bars}"
        )
    u_max = math.asinh(z_max / z_fine)
    u = torch.linspace(-u_max, u_max, n_bars + 1, dtype=torch.float64)
    return (z_fine * torch.sinh(u)).float()


class BarDistribution(nn.Module):
    """Riemann distribution with half-normal tails; borders travel in the state dict.

    Shapes:
        logits: (..., K); y, v: (...) matching the leading axes of logits.
    """

    borders: Tensor

    def __init__(self, borders: Tensor) -> None:
        super().__init__()
        if borders.ndim != 1 or borders.numel() < 4:
            raise InputError(
                f"borders must be 1-D with >= 4 entries; got {tuple(borders.shape)}"
            )
        if not bool((borders[1:] > borders[:-1]).all()):
            raise InputError("borders must be strictly increasing")
        self.register_buffer("borders", borders.float().clone())

    @property
    def n_bars(self) -> int:
        return self.borders.numel() - 1

    def widths(self) -> Tensor:
        """Width of each bar. Shapes: returns (K,)."""
        return self.borders[1:] - self.borders[:-1]

    def _tail_scales(self) -> tuple[Tensor, Tensor]:
        w = self.widths()
        return w[0] / _HALF_MASS_Z, w[-1] / _HALF_MASS_Z

    def log_prob(self, logits: Tensor, y: Tensor) -> Tensor:
        """Log-density of ``y``. Shapes: logits (..., K), y (...) -> (...)."""
        # the softmax before broadcasting: y may stack several points per logits row
        logp, y = _broadcast(torch.log_softmax(logits.float(), dim=-1), y)
        b, w = self.borders, self.widths()
        k = (torch.searchsorted(b, y.float().contiguous(), right=True) - 1).clamp(
            0, self.n_bars - 1
        )
        inner = logp.gather(-1, k.unsqueeze(-1)).squeeze(-1) - w.log()[k]
        s_left, s_right = self._tail_scales()
        y64 = y.double()
        left = logp[..., 0] + _half_normal_log_pdf(b[1].double() - y64, s_left)
        right = logp[..., -1] + _half_normal_log_pdf(y64 - b[-2].double(), s_right)
        out = torch.where(
            y64 <= b[1], left, torch.where(y64 >= b[-2], right, inner.double())
        )
        return out.clamp_min(LOG_PROB_FLOOR).float()

    def cdf(self, logits: Tensor, v: Tensor) -> Tensor:
        """P(Y <= v). Shapes: logits (..., K), v (...) -> (...), broadcast."""
        return self.cdf_and_sf(logits, v)[0].float()

    def cdf_and_sf(self, logits: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """P(Y <= v) and P(Y > v) in float64, each summed from its own end of
        the bars, so each is accurate where it is small (float32 keeps 1 minus
        the other only to 6e-8).

        Shapes: logits (..., K), v (...) -> (...), (...), broadcast.
        """
        p = torch.softmax(logits.float(), dim=-1)
        up_to = torch.cumsum(p, dim=-1)  # (..., K) mass up to each bar's end
        # from the right, in reversed bar order: bar k is at K - 1 - k
        from_reversed = torch.cumsum(torch.flip(p, [-1]), dim=-1)
        b, w = self.borders.double(), self.widths().double()
        v = torch.as_tensor(v, device=logits.device).float()
        k = (torch.searchsorted(self.borders, v.contiguous(), right=True) - 1).clamp(
            0, self.n_bars - 1
        )
        p, k = _broadcast(p, k)
        up_to, from_reversed = (_broadcast(x, k)[0] for x in (up_to, from_reversed))
        p_k, up_to_k, from_k = (
            x.gather(-1, i.unsqueeze(-1)).squeeze(-1).double()
            for x, i in ((p, k), (up_to, k), (from_reversed, self.n_bars - 1 - k))
        )
        before_k, after_k = up_to_k - p_k, from_k - p_k  # beside bar k
        v = v.expand(k.shape).double()
        frac = ((v - b[k]) / w[k]).clamp(0.0, 1.0)
        s_left, s_right = (s.double() for s in self._tail_scales())
        # the share of each tail bar's half-normal beyond v
        left_beyond = torch.special.erfc((b[1] - v).clamp_min(0) / (s_left * _SQRT2))
        right_beyond = torch.special.erfc((v - b[-2]).clamp_min(0) / (s_right * _SQRT2))
        p_0, p_last = p[..., 0].double(), p[..., -1].double()
        in_left, in_right = v <= b[1], v >= b[-2]
        cdf = torch.where(
            in_left,
            p_0 * left_beyond,
            torch.where(in_right, 1 - p_last * right_beyond, before_k + frac * p_k),
        )
        sf = torch.where(
            in_left,
            1 - p_0 * left_beyond,
            torch.where(in_right, p_last * right_beyond, after_k + (1 - frac) * p_k),
        )
        return cdf.clamp(0.0, 1.0), sf.clamp(0.0, 1.0)

    def quantile(self, logits: Tensor, q: Sequence[float] | Tensor) -> Tensor:
        """Inverse CDF at levels ``q`` in (0, 1).

        Shapes:
            logits (..., K), q (L,)  ->  (L, ...)
        """
        q = torch.as_tensor(q, dtype=torch.float64, device=logits.device).reshape(-1)
        if not bool(((q > 0) & (q < 1)).all()):
            raise InputError(f"quantile levels must lie in (0, 1); got {q.tolist()}")
        # float32 levels: those within 6e-8 of 0 or 1 go to the nearest in (0, 1)
        q = q.float().clamp(_F32.tiny, 1 - _F32.eps / 2)
        levels = q.reshape(-1, *([1] * (logits.ndim - 1))).expand(
            -1, *logits.shape[:-1]
        )
        return self.inverse_cdf(logits, levels)

    def inverse_cdf(self, logits: Tensor, levels: Tensor) -> Tensor:
        """The quantile at each level (of uniform draws: samples).

        Shapes: logits (..., K), levels (L, ...) in (0, 1)  ->  (L, ...).
        """
        p = torch.softmax(logits.float(), dim=-1)  # (..., K)
        cum = torch.cumsum(p, dim=-1)
        at = torch.movedim(levels, 0, -1).contiguous()  # (..., L): all levels at once
        k = torch.searchsorted(cum, at).clamp(0, self.n_bars - 1)  # (..., L)
        p_k = p.gather(-1, k)
        before = cum.gather(-1, k) - p_k
        k, p_k, before = (torch.movedim(x, -1, 0) for x in (k, p_k, before))
        u = ((levels - before) / p_k.clamp_min(1e-30)).clamp(0.0, 1.0)  # (L, ...)
        b, w = self.borders, self.widths()
        inner = b[k] + u * w[k]
        s_left, s_right = self._tail_scales()
        tiny = torch.finfo(torch.float32).tiny
        # left tail: P(Y <= y) = p_0 * P(H >= b_1 - y); right: via P(H <= y - b_K-1)
        left = b[1] + s_left * torch.special.ndtri((u / 2).clamp_min(tiny))
        right = b[-2] - s_right * torch.special.ndtri(((1 - u) / 2).clamp_min(tiny))
        return torch.where(
            k == 0, left, torch.where(k == self.n_bars - 1, right, inner)
        )

    def mean(self, logits: Tensor) -> Tensor:
        """Expected value. Shapes: logits (..., K) -> (...)."""
        p = torch.softmax(logits.float(), dim=-1)
        return p @ self.bar_means()

    def bar_nodes(self, n_nodes: int = 16) -> tuple[Tensor, Tensor]:
        """Gauss-Legendre nodes within each bar, for E[g(Y)] of any smooth g.

        Node j of bar k is the bar's own quantile at level u_j, so
        ``E[g(Y) | bar k] ~= sum_j weights[j] * g(nodes[k, j])`` (uniform inner
        bars; the tails by the same rule in probability space).

        Shapes:
            returns nodes (K, n_nodes) float64, weights (n_nodes,) float64 summing to 1
        """
        x, w = np.polynomial.legendre.leggauss(n_nodes)
        u = torch.as_tensor((x + 1) / 2, device=self.borders.device)  # (m,) in (0, 1)
        weights = torch.as_tensor(w / 2, device=self.borders.device)
        b, width = self.borders.double(), self.widths().double()
        nodes = b[:-1, None] + width[:, None] * u[None, :]  # (K, m)
        s_left, s_right = (s.double() for s in self._tail_scales())
        nodes[0] = b[1] + s_left * torch.special.ndtri(u / 2)
        nodes[-1] = b[-2] - s_right * torch.special.ndtri((1 - u) / 2)
        return nodes, weights

    def bar_means(self) -> Tensor:
        """Mean of each bar's own distribution. Shapes: returns (K,)."""
        b = self.borders
        centers = (b[1:] + b[:-1]) / 2
        s_left, s_right = self._tail_scales()
        half_normal_mean = math.sqrt(2 / math.pi)
        centers[0] = b[1] - s_left * half_normal_mean
        centers[-1] = b[-2] + s_right * half_normal_mean
        return centers


def _broadcast(logits: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Shapes: (..., K) and (...) -> both expanded to their common leading shape
    (views, not copies)."""
    y = torch.as_tensor(y, device=logits.device)
    shape = torch.broadcast_shapes(logits.shape[:-1], y.shape)
    return logits.expand(*shape, logits.shape[-1]), y.expand(shape)


def _half_normal_log_pdf(x: Tensor, scale: Tensor) -> Tensor:
    """log pdf of a half-normal at ``x >= 0`` (x is float64 to square big values)."""
    s = scale.double()
    return math.log(2.0) - 0.5 * math.log(2 * math.pi) - s.log() - 0.5 * (x / s) ** 2
