"""The settings of a fit, validated once at the boundary.

:func:`wedgenet.fit`, :func:`wedgenet.fit_path`, :func:`wedgenet.lam_max`, the estimators and the
CLI build one :class:`FitSettings` from their keywords; everything downstream reads it and never
re-validates.  Choices come from the registries (losses, solver back-ends, families).
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, fields, replace
from typing import Any

from ._validation import check_bool, check_choice, check_nonneg_float, check_positive_int
from .solvers.losses import Loss, get_loss

__all__ = ["FitSettings", "DICTIONARY_MODES", "PRICINGS", "DEFAULT_TIME_LIMIT", "DEFAULT_LAM_RATIO"]

DICTIONARY_MODES = ("auto", "explicit", "streamed")
#: where streamed pricing passes run
PRICINGS = ("local", "dask")
#: seconds a fit may plan to spend on pricing passes before it samples candidates instead
DEFAULT_TIME_LIMIT = 120.0
#: the strength used when neither ``lam`` nor ``lam_ratio`` is given
DEFAULT_LAM_RATIO = 0.05
# (bench_real, 3 splits each, held-out score by lam_ratio 0.2 / 0.1 / 0.05 / 0.02 / 0.01, 15 s fits:
#  Boston-12 R^2 .743/.782/.819/.850/.857, diabetes-10 .397/.406/.404/.335/.205,
#  diabetes-3 .366/.373/.367/.355/.341, breast_cancer-2 .886/.881/.888/.888/.879,
#  breast_cancer-30 .963/.963/.960/.963/.960: 0.05 loses at most 0.007 to 0.1 and gains 0.037 on
#  Boston; below it the 10-feature diabetes over-fits.  docs/choosing_settings.md)


def _solver_names() -> tuple[str, ...]:
    from .solvers.backends import BACKENDS

    return ("auto", *BACKENDS)


@dataclass(frozen=True)
class FitSettings:
    """Every option of a fit (see :func:`wedgenet.fit` for their meaning), validated."""

    lam: float | None = None
    lam_ratio: float | None = None
    loss: Loss = None  # type: ignore[assignment]
    reg: str = "l1"
    bias: bool = True
    depth: int = 2
    solver: str = "auto"
    max_columns: int | None = None
    random_state: Any = None
    tol: float = 1e-6
    max_iter: int = 100
    memory_budget: float | None = None
    time_limit: float = DEFAULT_TIME_LIMIT
    standardize: bool = False
    verbose: bool = False
    dictionary_mode: str = "auto"
    pricing: str = "local"
    client: Any = None
    certify_all: bool = False
    feature_names: tuple[str, ...] | None = None
    #: seconds for a certified lower bound on the global optimum after the fit (None: no bound)
    bound_time: float | None = None
    #: column generation beyond a sampled dictionary: None (auto: when fit sampled the candidates
    #: itself), True or False
    column_generation: bool | None = None

    @classmethod
    def build(cls, *, backend: str | None = None, **kw) -> FitSettings:
        """Validate keywords (the names of the fields) into settings; ``ValueError`` names the argument.

        ``backend`` is the former name of ``pricing`` (deprecated).
        """
        if backend is not None:
            warnings.warn("backend= is renamed pricing= (where streamed passes run: 'local' or 'dask')",
                          DeprecationWarning, stacklevel=3)
            if kw.get("pricing", "local") != "local":
                raise ValueError("give pricing= only (backend= is its former name)")
            kw["pricing"] = backend
        names = {f.name for f in fields(cls)}
        unknown = set(kw) - names
        if unknown:
            raise TypeError(f"unknown fit option(s): {sorted(unknown)}")
        kw.setdefault("loss", "squared")
        s = {**{f.name: f.default for f in fields(cls)}, **kw}
        lam, ratio = s["lam"], s["lam_ratio"]
        if lam is not None and ratio is not None:
            raise ValueError("give lam (absolute) or lam_ratio (relative to lam_max), not both")
        if lam is not None:
            lam = check_nonneg_float("lam", lam, strictly_positive=True)
            if lam < 1e-300:
                raise ValueError(f"lam must be a normal positive float (>= 1e-300); got {lam!r}")
        if ratio is not None:
            ratio = check_nonneg_float("lam_ratio", ratio, strictly_positive=True)
            if ratio > 1.0 or ratio < 1e-12:
                raise ValueError(f"lam_ratio must lie in [1e-12, 1] (a fraction of lam_max); got {ratio!r}")
        if lam is None and ratio is None:
            ratio = DEFAULT_LAM_RATIO
        s["lam"], s["lam_ratio"] = lam, ratio
        s["loss"] = get_loss(s["loss"])
        s["reg"] = check_choice("reg", s["reg"], ("l1", "l2"))
        for name in ("bias", "standardize", "verbose", "certify_all"):
            s[name] = check_bool(name, s[name])
        d = s["depth"]
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d not in (2, 3):
            raise ValueError(f"depth must be 2 or 3; got {d!r}")
        s["depth"] = int(d)
        s["solver"] = check_choice("solver", s["solver"], _solver_names())
        if s["max_columns"] is not None:
            s["max_columns"] = check_positive_int("max_columns", s["max_columns"])
        s["tol"] = check_nonneg_float("tol", s["tol"], strictly_positive=True)
        s["max_iter"] = check_positive_int("max_iter", s["max_iter"])
        if s["memory_budget"] is not None:
            s["memory_budget"] = check_nonneg_float("memory_budget", s["memory_budget"], strictly_positive=True)
        if s["time_limit"] is None:
            s["time_limit"] = math.inf
        s["time_limit"] = check_nonneg_float("time_limit", s["time_limit"], strictly_positive=True)
        s["dictionary_mode"] = check_choice("dictionary_mode", s["dictionary_mode"], DICTIONARY_MODES)
        s["pricing"] = check_choice("pricing", s["pricing"], PRICINGS)
        if s["pricing"] == "local" and s["client"] is not None:
            raise ValueError("client= is used only with pricing='dask'")
        if s["pricing"] == "dask" and s["dictionary_mode"] == "explicit":
            raise ValueError("pricing='dask' prices a streamed dictionary; use dictionary_mode='streamed' or 'auto'")
        if s["bound_time"] is not None:
            s["bound_time"] = check_nonneg_float("bound_time", s["bound_time"], strictly_positive=True)
        if s["column_generation"] is not None:
            s["column_generation"] = check_bool("column_generation", s["column_generation"])
        fn = s["feature_names"]
        if fn is not None:
            if isinstance(fn, str) or not all(isinstance(v, str) for v in fn):
                raise ValueError("feature_names must be a sequence of strings")
            s["feature_names"] = tuple(fn)
        return cls(**s)

    def replace(self, **kw) -> FitSettings:
        return replace(self, **kw)
