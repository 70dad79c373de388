"""``LCPFN``: a drop-in for the class of the reference ``lcpfn`` package (2023).

Existing code such as::

    model = lcpfn.LCPFN()
    mean = model.predict_mean(x_train, y_train, x_test)              # (n_test, 1)
    qs = model.predict_quantiles(x_train, y_train, x_test, [0.05, 0.5, 0.95])
                                                                     # (n_test, 3)

keeps working, with the same argument and return shapes (torch tensors), on
this package's shipped model. ``x`` are steps 1..100 as in the reference
models; ``y`` values of one increasing curve in [0, 1].
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from lcpfn.predict import Extrapolator, Prediction, load

__all__ = ["LCPFN"]

_REFERENCE_NAMES = (
    "EMSIZE512_NLAYERS12_NBUCKETS1000",
    "EMSIZE256_NLAYERS6_NBUCKETS1000",
    "EMSIZE128_NLAYERS3_NBUCKETS1000",
)


class LCPFN(torch.nn.Module):
    """The reference package's model class, backed by ``lcpfn.load``.

    Args:
        model_name: a shipped model's name or a path; the reference package's
            names (``EMSIZE512_NLAYERS12_NBUCKETS1000`` ...) load this
            package's default model, with a warning.

    Shapes:
        x_train, y_train: (n_train, 1) or (n_train,); x_test: (n_test, 1) or (n_test,)
    """

    def __init__(self, model_name: str = "default") -> None:
        super().__init__()
        if model_name in _REFERENCE_NAMES:
            warnings.warn(
                f"{model_name} is a model of the 2023 reference package; using "
                f"lcpfn's default model instead",
                stacklevel=2,
            )
            model_name = "default"
        self.extrapolator: Extrapolator = load(model_name)
        self.model = self.extrapolator.model

    def _predict(self, x_train: Tensor, y_train: Tensor, x_test: Tensor) -> Prediction:
        return self.extrapolator.predict(
            _flat(y_train), t_obs=_flat(x_train), t_query=_flat(x_test)
        )

    @torch.no_grad()
    def predict_mean(self, x_train: Tensor, y_train: Tensor, x_test: Tensor) -> Tensor:
        """Posterior predictive mean. Shapes: returns (n_test, 1)."""
        return _tensor(self._predict(x_train, y_train, x_test).mean()[:, None])

    @torch.no_grad()
    def predict_quantiles(
        self, x_train: Tensor, y_train: Tensor, x_test: Tensor, qs: Sequence[float]
    ) -> Tensor:
        """Quantiles at levels ``qs``. Shapes: returns (n_test, len(qs))."""
        q = self._predict(x_train, y_train, x_test).quantile(list(qs))  # (L, n_test)
        return _tensor(q.T)

    @torch.no_grad()
    def nll_loss(
        self, x_train: Tensor, y_train: Tensor, x_test: Tensor, y_test: Tensor
    ) -> Tensor:
        """Negative log-density of ``y_test``. Shapes: returns (n_test, 1)."""
        lp = self._predict(x_train, y_train, x_test).log_prob(_flat(y_test))
        return _tensor(-lp[:, None])

    def forward(self, x_train: Tensor, y_train: Tensor, x_test: Tensor) -> Tensor:
        """Bar logits, as the reference returned. Shapes: (n_test, 1, K)."""
        return self._predict(x_train, y_train, x_test).logits.transpose(0, 1)


def _flat(a) -> np.ndarray:
    if torch.is_tensor(a):
        a = a.detach().cpu().numpy()
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(-1) if a.ndim == 2 and a.shape[1] == 1 else a


def _tensor(a: np.ndarray) -> Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).float()
