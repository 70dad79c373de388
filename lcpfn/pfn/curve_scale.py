"""Each curve's own location and scale, from its observed points.

A scale-aware CurvePFN sees every curve at its own scale and, optionally,
predicts in the curve's own units ``z = (y - loc) / scale``:

- ``loc``: the last observed value.
- ``scale``: a robust estimate of the noise standard deviation, from the
  second differences of consecutive observed points (for white noise of
  standard deviation sigma they have standard deviation sqrt(6) sigma; the
  median absolute value makes the estimate robust to the curve's own
  curvature at a few points): ``1.4826 * median |d2| / sqrt(6)``, clamped to
  ``[SCALE_MIN, 1]``. With fewer than three observed points there is no
  second difference and ``scale = SCALE_DEFAULT``.
- ``features``: (loc, log scale, log spread of the observed values, whether
  the scale was estimated), scaled to order one, given to every token so that
  the absolute level (which the prior's bounds depend on) stays visible.

Everything is computed in float32 from the observed prefix of each row, so
the packed training form and the inference form agree exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["CurveScale", "curve_scale", "N_FEATURES"]

SCALE_MIN = 1e-4  # below the prior's noise (log sigma ~ N(-4, 1): -9 is 5 sd out)
SCALE_DEFAULT = math.exp(-4.0)  # the prior's median noise, when none can be estimated
N_FEATURES = 4
_MAD_TO_SD = 1.482602218505602 / math.sqrt(6.0)


@dataclass(frozen=True)
class CurveScale:
    """Shapes: loc (B,), scale (B,), features (B, N_FEATURES)."""

    loc: Tensor
    scale: Tensor
    features: Tensor

    def normalize(self, y: Tensor) -> Tensor:
        """``(y - loc) / scale`` per curve. Shapes: y (B, ...) -> (B, ...)."""
        shape = (-1,) + (1,) * (y.ndim - 1)
        return (y - self.loc.view(shape)) / self.scale.view(shape)


@torch.no_grad()
def curve_scale(y: Tensor, obs_mask: Tensor) -> CurveScale:
    """Location, scale and summary features of each curve's observed points.

    Args:
        y: values in the prior's space; entries outside the mask are ignored.
        obs_mask: True on observed points, which fill a prefix of each row
            (as in the packed training form and after ``lcpfn.request.thin``).

    Shapes:
        y (B, T) float, obs_mask (B, T) bool  ->  CurveScale of (B,) and (B, 4)
    """
    y = y.float()
    if y.shape[1] == 0:  # no observed column at all: one unobserved one
        y, obs_mask = y.new_zeros(y.shape[0], 1), obs_mask.new_zeros(y.shape[0], 1)
    n = obs_mask.sum(dim=1)  # (B,)
    last = y.gather(1, (n - 1).clamp_min(0)[:, None]).squeeze(1)  # (B,)
    last = torch.where(n > 0, last, 0.0)  # no point: nothing to read (prior predictive)
    if y.shape[1] >= 3:
        d2 = (y[:, 2:] - 2 * y[:, 1:-1] + y[:, :-2]).abs()  # (B, T - 2)
        # prefix masks: point i + 2 observed means i and i + 1 are too
        d2 = torch.where(obs_mask[:, 2:], d2, torch.nan)
        noise = torch.nanmedian(d2, dim=1).values * _MAD_TO_SD  # NaN if n < 3
    else:
        noise = torch.full_like(last, torch.nan)
    estimated = n >= 3
    scale = torch.where(
        estimated,
        torch.nan_to_num(noise, nan=SCALE_DEFAULT).clamp(SCALE_MIN, 1.0),
        torch.full_like(last, SCALE_DEFAULT),
    )
    big = torch.finfo(y.dtype).max
    hi = torch.where(obs_mask, y, -big).amax(dim=1)
    lo = torch.where(obs_mask, y, big).amin(dim=1)
    spread = (hi - lo).clamp_min(0.0) + SCALE_MIN
    features = torch.stack(
        [
            last,
            (scale.log() + 5.0) / 3.0,
            (spread.log() + 5.0) / 3.0,
            estimated.float(),
        ],
        dim=1,
    )  # (B, 4)
    return CurveScale(loc=last, scale=scale, features=features)
