"""The PFN: a transformer over (t, y) points with a bar distribution on top.

No positional encoding: each token is ``enc_t(t / max_steps) + enc_y(y)`` for
an observed point and ``enc_t(t / max_steps)`` for a query, so the model is
permutation-equivariant and any set of steps can be observed or asked for.

Scale-aware models (``ModelConfig.scale_aware``) see each curve at its own
scale (``lcpfn.curve_scale``): an observed point is read as ``(y, asinh(z))``
with ``z = (y - loc) / scale``, and the curve's features (location, log noise
scale, log spread) are added to every token. With ``curve_units`` the bars
live in the curve's own units z too: the network predicts z, and the density
of y is that of z divided by ``scale`` (an exact change of variables), so a
curve with noise 1e-3 gets bars a fraction of 1e-3 wide where it is.
Observed points attend to the observed points of their own curve; each query
attends to them and to itself only, so queries never see each other and every
query's answer is the posterior predictive given the observed points alone.
Each curve has its own number of observed points (``obs_mask``), so cutoffs
can be mixed inside a training batch and ragged curves batched at inference.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lcpfn.errors import InputError
from lcpfn.pfn.bars import BarDistribution
from lcpfn.pfn.curve_scale import N_FEATURES, CurveScale, curve_scale

__all__ = ["ModelConfig", "CurvePFN", "query_positions"]


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Size and inputs of a CurvePFN. ``d_ff`` defaults to ``2 * d_model`` as in LC-PFN.

    The defaults are the shipped model's inputs and size (the ablation and
    scaling check behind them: benchmarks/README.md).
    """

    n_layers: int = 3
    n_heads: int = 4
    d_model: int = 96
    d_ff: int | None = None
    n_bars: int = 1000
    max_steps: int = 100  # length of the training curves; t is encoded as t / max_steps
    dropout: float = 0.0
    scale_aware: bool = True  # read each curve at its own scale (pfn.curve_scale)
    curve_units: bool = True  # bars in the curve's own units (needs scale_aware)

    def __post_init__(self) -> None:
        for name in ("n_layers", "n_heads", "d_model", "n_bars", "max_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InputError(f"{name} must be a positive integer; got {value!r}")
        if self.d_model % self.n_heads:
            raise InputError(
                f"d_model % n_heads != 0: {self.d_model=}, {self.n_heads=}"
            )
        if self.n_bars < 3:
            raise InputError(f"n_bars must be >= 3; got {self.n_bars}")
        if not 0.0 <= self.dropout < 1.0:
            raise InputError(f"dropout must lie in [0, 1); got {self.dropout}")
        if self.curve_units and not self.scale_aware:
            raise InputError(
                "curve_units=True needs scale_aware=True: the network must see "
                "the scale its bars are in"
            )

    @property
    def ff_width(self) -> int:
        return self.d_ff if self.d_ff is not None else 2 * self.d_model


class _Block(nn.Module):
    """Pre-norm transformer block with PyTorch's fused attention."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_heads = cfg.n_heads
        self.dropout = cfg.dropout
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.ff = nn.Sequential(
            nn.Linear(cfg.d_model, cfg.ff_width),
            nn.GELU(),
            nn.Linear(cfg.ff_width, cfg.d_model),
        )

    def forward(self, h: Tensor, mask: Tensor) -> Tensor:
        """Shapes: h (B, L, D), mask (B, 1, L, L) bool -> (B, L, D)."""
        B, L, D = h.shape
        q, k, v = (
            self.qkv(self.norm1(h))
            .view(B, L, 3, self.n_heads, D // self.n_heads)
            .unbind(2)
        )
        a = F.scaled_dot_product_attention(
            q.transpose(1, 2),
            k.transpose(1, 2),
            v.transpose(1, 2),  # (B, H, L, Dh)
            attn_mask=mask,
            dropout_p=self.dropout if self.training else 0.0,
        )
        h = h + self.proj(a.transpose(1, 2).reshape(B, L, D))
        return h + self.ff(self.norm2(h))

    def forward_split(
        self, h: Tensor, obs_mask: Tensor, queries_only: bool = False
    ) -> Tensor:
        """``forward`` for T observed then Q query tokens, with ``attention_mask``'s
        pattern computed directly: the observed tokens attend among themselves
        (T x T), each query to the real observed points and to itself (Q x T
        and Q x 1) instead of the masked (T + Q) x (T + Q) of ``forward``.
        ``queries_only`` returns the query tokens alone and skips the observed
        tokens' own update, which no later layer reads in the last block.

        Shapes: h (B, T + Q, D), obs_mask (B, T) bool -> (B, T + Q, D),
            or (B, Q, D) with ``queries_only``
        """
        B, L, D = h.shape
        T = obs_mask.shape[1]
        q, k, v = (
            self.qkv(self.norm1(h))
            .view(B, L, 3, self.n_heads, D // self.n_heads)
            .transpose(1, 3)  # (B, H, 3, L, Dh)
            .unbind(2)
        )
        p = self.dropout if self.training else 0.0
        q_qry, k_qry, v_qry = q[:, :, T:], k[:, :, T:], v[:, :, T:]
        q_qry = q_qry * q.shape[-1] ** -0.5
        to_obs = q_qry @ k[:, :, :T].transpose(-1, -2)  # (B, H, Q, T)
        to_obs.masked_fill_(~obs_mask[:, None, None, :], -torch.inf)
        to_self = (q_qry * k_qry).sum(-1, keepdim=True)  # (B, H, Q, 1)
        w = F.dropout(torch.softmax(torch.cat([to_obs, to_self], -1), -1), p)
        a = w[..., :T] @ v[:, :, :T] + w[..., T:] * v_qry  # (B, H, Q, Dh)
        if queries_only:
            h = h[:, T:]
        else:
            eye = torch.eye(T, dtype=torch.bool, device=h.device)
            a_obs = F.scaled_dot_product_attention(
                q[:, :, :T],
                k[:, :, :T],
                v[:, :, :T],
                attn_mask=(obs_mask[:, None, :] | eye[None]).unsqueeze(1),
                dropout_p=p,
            )  # (B, H, T, Dh)
            a = torch.cat([a_obs, a], dim=2)  # (B, H, L, Dh)
        h = h + self.proj(a.transpose(1, 2).reshape(B, h.shape[1], D))
        return h + self.ff(self.norm2(h))


class CurvePFN(nn.Module):
    """Transformer PFN mapping observed points and query steps to bar logits."""

    def __init__(self, config: ModelConfig, borders: Tensor) -> None:
        super().__init__()
        if borders.shape != (config.n_bars + 1,):
            raise InputError(
                f"borders must have n_bars + 1 = {config.n_bars + 1} entries; "
                f"got {tuple(borders.shape)}"
            )
        self.config = config
        self.enc_t = nn.Linear(1, config.d_model)
        self.enc_y = nn.Linear(2 if config.scale_aware else 1, config.d_model)
        if config.scale_aware:
            self.enc_curve = nn.Linear(N_FEATURES, config.d_model)
        self.blocks = nn.ModuleList(_Block(config) for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.n_bars)
        self.bars = BarDistribution(borders)

    def forward(
        self,
        t_obs: Tensor,
        y_obs: Tensor,
        obs_mask: Tensor,
        t_query: Tensor,
        scale: CurveScale | None = None,
    ) -> Tensor:
        """Bar logits for every query step (in the units of ``output_scale``).

        ``scale`` is ``curve_scale(y_obs, obs_mask)`` when the caller has it
        already (computed here otherwise; unused by a model that is not
        scale-aware).

        Shapes:
            t_obs, y_obs: (B, T) float; obs_mask: (B, T) bool, False = padding,
            observed points first in each row (padding's y_obs is ignored and
            may be anything finite); t_query: (B, Q)  ->  logits (B, Q, K)
        """
        if not self.config.scale_aware:
            scale = None
        elif scale is None:
            scale = curve_scale(y_obs, obs_mask)
        obs = self._encode_t(t_obs) + self._encode_y(y_obs, scale)
        qry = self._encode_t(t_query)
        if scale is not None:
            curve = self.enc_curve(scale.features)[:, None]  # (B, 1, D)
            obs, qry = obs + curve, qry + curve
        h = torch.cat([obs, qry], dim=1)  # (B, T + Q, D)
        *inner, last = self.blocks
        for block in inner:
            h = block.forward_split(h, obs_mask)
        h = last.forward_split(h, obs_mask, queries_only=True)  # (B, Q, D)
        return self.head(self.norm(h))  # (B, Q, K)

    def forward_packed(self, t: Tensor, y: Tensor, n_obs: Tensor) -> Tensor:
        """Training form: step ``i`` is observed if ``i < n_obs``, else a query.

        Each position is one token, so a batch of cutoffs costs one sequence of
        length T instead of T observed + T query tokens. The head runs on the
        query positions only, in the row-major order of ``query_positions``.

        Shapes:
            t, y: (B, T); n_obs: (B,) long in 0..T  ->  logits (N, K), N queries
        """
        B, T = y.shape
        is_obs = ~query_positions(n_obs, T)  # (B, T)
        scale = curve_scale(y, is_obs) if self.config.scale_aware else None
        h = self._encode_t(t) + self._encode_y(y, scale) * is_obs.unsqueeze(-1)
        if scale is not None:
            h = h + self.enc_curve(scale.features)[:, None]
        eye = torch.eye(T, dtype=torch.bool, device=y.device)
        mask = (is_obs[:, None, :] | eye[None]).unsqueeze(1)  # (B, 1, T, T)
        h = self._run_blocks(h, mask)[~is_obs]  # (N, D)
        return self.head(self.norm(h))

    def output_scale(
        self, y_obs: Tensor, obs_mask: Tensor, scale: CurveScale | None = None
    ) -> CurveScale | None:
        """The per-curve units of the bars (None: the prior's own units);
        ``scale`` as in ``forward``.

        Shapes: y_obs, obs_mask (B, T)  ->  CurveScale of (B,) tensors, or None
        """
        if not self.config.curve_units:
            return None
        return scale if scale is not None else curve_scale(y_obs, obs_mask)

    def _encode_t(self, t: Tensor) -> Tensor:
        return self.enc_t(t.unsqueeze(-1) * (1.0 / self.config.max_steps))

    def _encode_y(self, y: Tensor, scale: CurveScale | None) -> Tensor:
        """Shapes: y (B, T) -> (B, T, D)."""
        if scale is None:
            return self.enc_y(y.unsqueeze(-1))
        return self.enc_y(torch.stack([y, torch.asinh(scale.normalize(y))], dim=-1))

    def _run_blocks(self, h: Tensor, mask: Tensor) -> Tensor:
        for block in self.blocks:
            h = block(h, mask)
        return h

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def query_positions(n_obs: Tensor, n_steps: int) -> Tensor:
    """Which positions of the packed form are queries. (B,) -> (B, T) bool."""
    return torch.arange(n_steps, device=n_obs.device)[None, :] >= n_obs[:, None]


def attention_mask(obs_mask: Tensor, n_query: int) -> Tensor:
    """Who may attend to whom in a sequence of T observed then Q query tokens.

    Every token sees the real observed points; a query also sees itself (so a
    curve with no observed point still gets the prior predictive).

    Shapes:
        obs_mask (B, T) bool  ->  (B, 1, T + Q, T + Q) bool
    """
    B, T = obs_mask.shape
    L = T + n_query
    keys = torch.cat([obs_mask, obs_mask.new_zeros(B, n_query)], dim=1)  # (B, L)
    eye = torch.eye(L, dtype=torch.bool, device=obs_mask.device)
    return (keys[:, None, :] | eye[None]).unsqueeze(1)
