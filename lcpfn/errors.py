"""Exception types of lcpfn.

Every error the library raises on purpose is one of these, so callers can catch
``LcpfnError`` for all of them or ``ValueError`` for bad input.
"""


class LcpfnError(Exception):
    """Base class of every error lcpfn raises on purpose."""


class InputError(LcpfnError, ValueError):
    """An argument has the wrong value: the message names it and what arrived."""


class PriorSpecError(InputError):
    """A prior specification (TOML file or mapping) is invalid."""


class SamplingError(LcpfnError, RuntimeError):
    """The sampler could not produce the requested curves (acceptance too low)."""


class CheckpointError(LcpfnError, ValueError):
    """A weights or checkpoint file is missing, corrupted or does not match."""
