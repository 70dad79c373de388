"""Old import paths of the modules that moved into subpackages keep working.

``import lcpfn.datasets`` or ``from lcpfn.priors import load`` give a module
that forwards every attribute to the module's new home; the new module is
imported only when an old path is.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

MOVED = {
    "lcpfn.priors": "lcpfn.prior.spec",
    "lcpfn.curves": "lcpfn.prior.curves",
    "lcpfn.sampling": "lcpfn.prior.sampler",
    "lcpfn.model": "lcpfn.pfn.model",
    "lcpfn.bars": "lcpfn.pfn.bars",
    "lcpfn.training": "lcpfn.pfn.training",
    "lcpfn.checkpoint": "lcpfn.pfn.checkpoint",
    "lcpfn.mcmc_model": "lcpfn.mcmc.model",
    "lcpfn.posterior": "lcpfn.mcmc.posterior",
    "lcpfn.datasets": "lcpfn.evaluation.datasets",
    "lcpfn.baselines": "lcpfn.evaluation.baselines",
    "lcpfn.metrics": "lcpfn.evaluation.metrics",
    "lcpfn.report": "lcpfn.evaluation.report",
    "lcpfn.real_curves": "lcpfn.evaluation.suite",
    "lcpfn.bench": "lcpfn.evaluation.bench",
    "lcpfn.curve_inputs": "lcpfn.request",
}


class _OldPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name in MOVED else None

    def create_module(self, spec) -> None:
        return None  # a plain module, filled by exec_module

    def exec_module(self, module: types.ModuleType) -> None:
        new = importlib.import_module(MOVED[module.__name__])
        module.__doc__ = f"Moved to ``{new.__name__}``; this name forwards to it."
        module.__getattr__ = lambda name: getattr(new, name)
        module.__dir__ = lambda: dir(new)
        module.__all__ = getattr(new, "__all__", [])


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _OldPaths) for f in sys.meta_path):
        sys.meta_path.append(_OldPaths())
