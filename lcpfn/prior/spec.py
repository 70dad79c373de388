"""Prior specifications over learning curves, as data.

A prior is a TOML file (see ``priors/lcpfn.toml``) that says which curve
families are mixed, the distribution of each parameter, of the mixing weights
and of the noise, and which clean curves are rejected. ``load`` turns a file
into a validated, frozen ``CurvePrior``; the sampler (``lcpfn.prior.sampler``) and
the MCMC model (``lcpfn.mcmc``) both read that one object.

The generative model of a prior with families ``f_1..f_F``::

    w_k ~ weights.prior            (divided by their sum if weights.normalize)
    theta_k ~ families.<f_k>       (each parameter independently)
    f(t) = sum_k w_k f_k(t; theta_k)                       t = 1..n_steps
    reject unless f is finite, lies in [y_min, y_max] at every t and, if
        constraints.increasing, f(t_last) > f(t_first)
    log sigma ~ noise.log_sigma;   y(t) = f(t) + sigma * eps(t),  eps ~ N(0, 1)
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from lcpfn.errors import InputError, PriorSpecError
from lcpfn.prior.curves import FAMILIES
from lcpfn.shipped import shipped_dir

__all__ = ["ParamDist", "FamilyPrior", "CurvePrior", "load", "from_dict", "available"]

# distribution kind -> its arguments, in order. Value = shift + multiplier * X.
DIST_ARGS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),  # X ~ U(low, high)
    "normal": ("mu", "sigma"),  # X ~ N(mu, sigma^2)
    "lognormal": ("mu", "sigma"),  # log X ~ N(mu, sigma^2)
    "loguniform": ("log_low", "log_high"),  # log X ~ U(log_low, log_high)
    "constant": ("value",),  # X = value
}
_AFFINE = ("shift", "multiplier")


@dataclass(frozen=True, kw_only=True)
class ParamDist:
    """A scalar distribution: ``shift + multiplier * X`` with X of kind ``dist``.

    Shapes:
        sample(n) -> (n,)
    """

    dist: str
    args: tuple[float, ...]
    shift: float = 0.0
    multiplier: float = 1.0

    def __post_init__(self) -> None:
        if self.dist not in DIST_ARGS:
            raise PriorSpecError(
                f"unknown distribution {self.dist!r}; "
                f"expected one of {sorted(DIST_ARGS)}"
            )
        names = DIST_ARGS[self.dist]
        if len(self.args) != len(names):
            raise PriorSpecError(f"{self.dist} takes {names}; got {self.args}")
        if not all(math.isfinite(a) for a in (*self.args, self.shift, self.multiplier)):
            raise PriorSpecError(f"{self.dist} arguments must be finite; got {self}")
        if self.dist in ("uniform", "loguniform") and not self.args[0] < self.args[1]:
            raise PriorSpecError(
                f"{self.dist} needs {names[0]} < {names[1]}; got {self.args}"
            )
        if self.dist in ("normal", "lognormal") and not self.args[1] > 0:
            raise PriorSpecError(
                f"{self.dist} needs sigma > 0; got sigma={self.args[1]}"
            )
        if self.multiplier == 0:
            raise PriorSpecError("multiplier must be non-zero (use dist = 'constant')")

    def named_args(self) -> dict[str, float]:
        return dict(zip(DIST_ARGS[self.dist], self.args, strict=True))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log-density at ``x`` (``normal`` and ``uniform`` kinds).

        Shapes: x (n,) -> (n,); -inf outside a uniform's support.

        Raises:
            InputError: another kind of distribution.
        """
        if self.dist not in ("normal", "uniform"):
            raise InputError(
                f"log_prob is defined for normal and uniform distributions; "
                f"got {self.dist!r}"
            )
        m = abs(self.multiplier)
        u = (x.double() - self.shift) / self.multiplier
        a = self.args
        if self.dist == "normal":
            lp = -0.5 * ((u - a[0]) / a[1]) ** 2 - math.log(
                a[1] * math.sqrt(2 * math.pi)
            )
        else:
            inside = (u >= a[0]) & (u <= a[1])
            lp = torch.where(inside, -math.log(a[1] - a[0]), -math.inf)
        return (lp - math.log(m)).to(x.dtype)

    def sample(
        self, n: int, generator: torch.Generator, device: torch.device | str = "cpu"
    ) -> torch.Tensor:
        """Draw ``n`` values as float32 on ``device``.

        Shapes:
            returns (n,)
        """
        kind, a = self.dist, self.args
        if kind == "constant":
            x = torch.full((n,), a[0], device=device)
        elif kind in ("uniform", "loguniform"):
            x = torch.rand(n, generator=generator, device=device) * (a[1] - a[0]) + a[0]
        else:
            x = torch.randn(n, generator=generator, device=device) * a[1] + a[0]
        if kind in ("lognormal", "loguniform"):
            x = x.exp_()
        if self.multiplier != 1.0 or self.shift != 0.0:
            x = x * self.multiplier + self.shift
        return x


@dataclass(frozen=True, kw_only=True)
class FamilyPrior:
    """One family of the mixture and the distribution of each of its parameters."""

    name: str
    params: Mapping[str, ParamDist]


@dataclass(frozen=True, kw_only=True)
class CurvePrior:
    """A validated prior over learning curves (see the module docstring)."""

    name: str
    families: tuple[FamilyPrior, ...]
    weight: ParamDist
    normalize_weights: bool
    log_sigma: ParamDist
    increasing: bool
    y_min: float
    y_max: float
    description: str = ""
    source: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The spec as a JSON-serialisable dict (the format ``from_dict`` reads)."""
        return {
            "name": self.name,
            "description": self.description,
            "noise": {"log_sigma": _dist_to_dict(self.log_sigma)},
            "weights": {
                "prior": _dist_to_dict(self.weight),
                "normalize": self.normalize_weights,
            },
            "constraints": {
                "increasing": self.increasing,
                "y_min": self.y_min,
                "y_max": self.y_max,
            },
            "families": {
                f.name: {p: _dist_to_dict(d) for p, d in f.params.items()}
                for f in self.families
            },
        }

    def hash(self) -> str:
        """sha256 of the canonical JSON of the spec: equal priors, equal hashes."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _dist_to_dict(d: ParamDist) -> dict[str, Any]:
    out: dict[str, Any] = {"dist": d.dist, **d.named_args()}
    if d.shift != 0.0:
        out["shift"] = d.shift
    if d.multiplier != 1.0:
        out["multiplier"] = d.multiplier
    return out


def available() -> list[str]:
    """Names of the priors shipped in ``priors/``."""
    return sorted(p.stem for p in shipped_dir("priors").glob("*.toml"))


def load(name_or_path: str | Path = "lcpfn") -> CurvePrior:
    """Load and validate a prior: a shipped name (``"lcpfn"``) or a ``.toml`` path.

    Raises:
        PriorSpecError: the file is missing, not TOML, or not a valid spec; the
            message names the file and the offending key.
    """
    text, where = _read_spec(name_or_path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PriorSpecError(f"{where}: not valid TOML: {err}") from err
    return from_dict(data, where=where)


def _read_spec(name_or_path: str | Path) -> tuple[str, str]:
    """A bare name ("lcpfn") is a shipped prior; anything path-like is a file."""
    is_path = isinstance(name_or_path, Path) or any(
        s in str(name_or_path) for s in ("/", "\\", ".toml")
    )
    if is_path:
        path = Path(name_or_path)
        try:
            return path.read_text(), str(path)
        except (OSError, UnicodeDecodeError) as err:
            raise PriorSpecError(f"{path}: cannot read prior spec: {err}") from err
    name = str(name_or_path)
    shipped = shipped_dir("priors") / f"{name}.toml"
    if not shipped.is_file():
        raise PriorSpecError(
            f"no shipped prior named {name!r} (give a path ending in .toml for a "
            f"file); shipped priors: {available()}"
        )
    return shipped.read_text(), f"priors/{name}.toml"


def from_dict(data: Mapping[str, Any], *, where: str = "<dict>") -> CurvePrior:
    """Validate a spec given as nested mappings (the parsed TOML).

    Raises:
        PriorSpecError: naming ``where`` and the key path that is wrong.
    """
    _check_keys(
        data,
        where,
        "",
        required={"name", "families"},
        optional={"description", "noise", "weights", "constraints"},
    )
    noise = _table(data, "noise", where)
    _check_keys(noise, where, "noise.", required={"log_sigma"}, optional=set())
    weights = _table(data, "weights", where)
    _check_keys(weights, where, "weights.", required={"prior"}, optional={"normalize"})
    constraints = _table(data, "constraints", where)
    _check_keys(
        constraints,
        where,
        "constraints.",
        required=set(),
        optional={"increasing", "y_min", "y_max"},
    )
    families = _table(data, "families", where)
    if not families:
        raise PriorSpecError(f"{where}: 'families' is empty; give at least one family")

    family_priors = []
    for fname, params in families.items():
        if fname not in FAMILIES:
            raise PriorSpecError(
                f"{where}: families.{fname}: unknown curve family; "
                f"expected one of {sorted(FAMILIES)}"
            )
        if not isinstance(params, Mapping):
            raise PriorSpecError(f"{where}: families.{fname} must be a table")
        needed = FAMILIES[fname].params
        missing = [p for p in needed if p not in params]
        extra = [p for p in params if p not in needed]
        if missing or extra:
            raise PriorSpecError(
                f"{where}: families.{fname}: parameters must be {list(needed)}; "
                f"missing {missing}, unknown {extra}"
            )
        dists = {
            p: _parse_dist(params[p], where, f"families.{fname}.{p}") for p in needed
        }
        family_priors.append(FamilyPrior(name=fname, params=dists))

    y_min = _number(constraints.get("y_min", -math.inf), where, "constraints.y_min")
    y_max = _number(constraints.get("y_max", math.inf), where, "constraints.y_max")
    if not y_min < y_max:
        raise PriorSpecError(
            f"{where}: constraints need y_min < y_max; got {y_min}, {y_max}"
        )
    return CurvePrior(
        name=_string(data["name"], where, "name"),
        description=_string(data.get("description", ""), where, "description"),
        families=tuple(family_priors),
        weight=_parse_dist(weights["prior"], where, "weights.prior"),
        normalize_weights=_bool(
            weights.get("normalize", False), where, "weights.normalize"
        ),
        log_sigma=_parse_dist(noise["log_sigma"], where, "noise.log_sigma"),
        increasing=_bool(
            constraints.get("increasing", False), where, "constraints.increasing"
        ),
        y_min=y_min,
        y_max=y_max,
        source=where,
    )


def _parse_dist(spec: Any, where: str, key: str) -> ParamDist:
    if not isinstance(spec, Mapping) or "dist" not in spec:
        raise PriorSpecError(
            f"{where}: {key}: expected a table like "
            f'{{ dist = "uniform", low = 0, high = 1 }}; got {spec!r}'
        )
    kind = spec["dist"]
    if kind not in DIST_ARGS:
        raise PriorSpecError(
            f"{where}: {key}: unknown distribution {kind!r}; "
            f"expected one of {sorted(DIST_ARGS)}"
        )
    names = DIST_ARGS[kind]
    missing = [n for n in names if n not in spec]
    extra = [n for n in spec if n not in (*names, *_AFFINE, "dist")]
    if missing or extra:
        raise PriorSpecError(
            f"{where}: {key}: {kind} takes {list(names)} "
            f"(and optional {list(_AFFINE)}); missing {missing}, unknown {extra}"
        )
    try:
        return ParamDist(
            dist=kind,
            args=tuple(_number(spec[n], where, f"{key}.{n}") for n in names),
            shift=_number(spec.get("shift", 0.0), where, f"{key}.shift"),
            multiplier=_number(spec.get("multiplier", 1.0), where, f"{key}.multiplier"),
        )
    except PriorSpecError as err:
        if str(err).startswith(where):
            raise
        raise PriorSpecError(f"{where}: {key}: {err}") from err


def _check_keys(
    table: Mapping[str, Any],
    where: str,
    prefix: str,
    *,
    required: set[str],
    optional: set[str],
) -> None:
    missing = sorted(required - table.keys())
    unknown = sorted(table.keys() - required - optional)
    if missing or unknown:
        raise PriorSpecError(
            f"{where}: {prefix or 'top level'}: missing keys {missing}, unknown keys "
            f"{unknown}; allowed: {sorted(required | optional)}"
        )


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise PriorSpecError(f"{where}: {key} must be a table; got {value!r}")
    return value


def _number(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PriorSpecError(f"{where}: {key} must be a number; got {value!r}")
    if math.isnan(value):
        raise PriorSpecError(f"{where}: {key} must not be NaN")
    return float(value)


def _bool(value: Any, where: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise PriorSpecError(f"{where}: {key} must be true or false; got {value!r}")
    return value


def _string(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str):
        raise PriorSpecError(f"{where}: {key} must be a string; got {value!r}")
    return value
