"""The ``lcpfn`` command line: ``lcpfn predict|sample|train|export|evaluate|bench``."""

from lcpfn.cli.main import main

__all__ = ["main"]
