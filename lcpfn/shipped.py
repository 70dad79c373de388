"""Where the files shipped with the package (priors, pretrained weights) are.

In an installed wheel they sit inside the package (``lcpfn/_priors``,
``lcpfn/_pretrained``, see pyproject.toml); in a source checkout or an editable
install they are the top-level ``priors/`` and ``pretrained/`` folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir(kind: str) -> Path:
    """The folder of shipped ``kind`` files: ``"priors"`` or ``"pretrained"``."""
    if kind not in ("priors", "pretrained"):
        raise ValueError(f"kind must be 'priors' or 'pretrained'; got {kind!r}")
    for candidate in (_PACKAGE / f"_{kind}", _PACKAGE.parent / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"shipped {kind} folder not found next to {_PACKAGE}")
