"""What several commands share: JSON files read into configs, the machine's name.

A config file is a JSON object of a config dataclass's fields. Each mistake in
one (unreadable file, unknown key, value of the wrong type, value the config
refuses) is an ``InputError`` that names the file and the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import platform
import types
import typing
from pathlib import Path
from typing import Any

import torch

from lcpfn.errors import InputError

T = typing.TypeVar("T")


def default_device() -> str:
    """``"cuda"`` where a GPU is visible, else ``"cpu"``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def read_json(path: str | Path, flag: str | None = None) -> Any:
    """The parsed contents of JSON file ``path`` (given on the command line as
    ``flag``, which the error message then names).

    Raises:
        InputError: the file cannot be read or is not JSON.
    """
    where = f"{flag} {path}" if flag else str(path)
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{where}: cannot read JSON: {err}") from err


def config_fields(cls: type, path: str | None, flag: str) -> dict[str, Any]:
    """The fields of config dataclass ``cls`` in JSON file ``path`` ({} if None),
    checked by name and type; build the config with ``make_config``.

    Raises:
        InputError: naming the file (and the key) of any mistake.
    """
    if path is None:
        return {}
    data = read_json(path, flag)
    check_fields(cls, data, f"{flag} {path}")
    return data


def check_fields(cls: type, data: Any, source: str) -> None:
    """Check that ``data`` is a mapping of ``cls``'s field names to values of
    the fields' types (a JSON number fits a float field; null an optional one).

    Raises:
        InputError: starting with ``source``, naming the key and what arrived.
    """
    if not isinstance(data, dict):
        raise InputError(
            f"{source}: a config is a JSON object of {cls.__name__} fields; "
            f"got {type(data).__name__}"
        )
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls) if f.init]
    for key, value in data.items():
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(
                f"{source}: unknown key {key!r}{hint}; {cls.__name__} has {known}"
            )
        if not _fits(value, hints[key]):
            raise InputError(
                f"{source}: key {key!r} must be {_type_name(hints[key])}; got {value!r}"
            )


def make_config(cls: type[T], fields: dict[str, Any], source: str) -> T:
    """``cls(**fields)``, with a refused value's message prefixed by ``source``.

    ``fields`` must have passed ``check_fields``: a TypeError from here on is
    a bug, not a user's mistake, and is left alone.
    """
    try:
        return cls(**fields)
    except InputError as err:
        raise InputError(f"{source}: {err}") from err


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value fits a field annotated ``hint``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    return True  # a field type JSON cannot be checked against: the config decides


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(h) for h in typing.get_args(hint))
    return "null" if hint is type(None) else getattr(hint, "__name__", str(hint))
