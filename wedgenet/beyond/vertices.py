"""Neurons at vertices of the hyperplane arrangement, named by the constraints tight at them.

A two-layer p=1 neuron ``(w, b)`` with ``||w||_1 = 1`` lives in the augmented space
``v = (w, b)`` of dimension ``D = d + 1`` (``D = d`` without hidden biases, ``b = 0``).  The
*rows* of the arrangement are

* the sample rows ``x~_i = (x_i, 1)`` (``x_i`` without biases): ``x~_i . v = 0`` puts ``x_i`` on
  the neuron's breakline;
* the basis rows ``e~_k = (e_k, 0)``: ``e~_k . v = 0`` is the face ``w_k = 0`` of the l1 ball.

A candidate neuron of the wedge dictionary (docs/conventions.md, "Dictionaries") is the null
vector of ``D - 1`` independent rows, both orientations: for p=1 with bias, an anchor ``x_a`` and
the generators ``x_l - x_a`` (the other sample rows) and ``e_k`` (the basis rows), i.e.
``w = +-cross(x_l - x_a, ..., e_k, ...) / ||.||_1``, ``b = -w . x_a`` (Thm 16).  For p=2 the
sample-only row sets are the Thm 3/5 candidates; row sets with basis rows are still valid
neurons (every neuron is), only not members of the p=2 dictionary.

Everything is computed in scaled coordinates ``x' = (x - c) / R`` (``c`` the mean of the
data, ``R`` the largest ``|x - c|`` entry; ``c = 0`` without biases, which the translation
would need), so that products are O(1) whatever the scale of ``X``: a neuron ``(w', b')`` there
is ``w = w' / R``, ``b = b' - w . c`` on the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._linalg import relu_layer, row_norms
from ..algebra import cross

__all__ = ["Geometry", "VertexRecord"]

#: a row is tight at a neuron when ``|row . v| <= TIGHT_RTOL * ||v||`` (scaled coordinates)
TIGHT_RTOL = 1e-9


@dataclass(frozen=True)
class VertexRecord:
    """Provenance of a neuron found beyond the dictionary (the fields ``WedgeNetwork`` reads)."""

    samples: tuple[int, ...]
    kinds: tuple[str, ...]
    expression: str
    theorem: str
    orientation: int
    rows: tuple[int, ...]  # the tight rows: samples 0..n-1, basis e_k as n + k


class Geometry:
    """Scaled data and the rows of the arrangement for ``(X, bias, reg)``."""

    def __init__(self, X: np.ndarray, *, bias: bool, reg: str = "l1") -> None:
        X = np.asarray(X, dtype=np.float64)
        self.n, self.d = X.shape
        self.bias = bool(bias)
        self.reg = reg
        self.p = 1 if reg == "l1" else 2
        if self.bias:
            self.center = X.mean(axis=0)
        else:
            self.center = np.zeros(self.d)
        Xc = X - self.center
        self.R = float(np.abs(Xc).max()) if Xc.size else 0.0
        if not self.R > 0:
            self.R = 1.0
        self.Xs = Xc / self.R  # |entries| <= 1
        self.D = self.d + 1 if self.bias else self.d
        rows_s = np.hstack([self.Xs, np.ones((self.n, 1))]) if self.bias else self.Xs
        rows_b = np.hstack([np.eye(self.d), np.zeros((self.d, 1))]) if self.bias else np.eye(self.d)
        self.rows = np.ascontiguousarray(np.vstack([rows_s, rows_b]))  # (n + d, D)
        self.A = np.ascontiguousarray(rows_s)  # pre-activations: A @ v

    # ------------------------------------------------------------------ coordinates
    def wnorm(self, V: np.ndarray) -> np.ndarray:
        """``||w'||_p`` of scaled neurons ``V`` (rows ``(w', b')``)."""
        W = V[..., : self.d]
        return row_norms(W.reshape(-1, self.d), self.p).reshape(W.shape[:-1])

    def to_data(self, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scaled neurons (rows) -> ``(W, b)`` on the data, normalised to ``||w||_p = 1``."""
        V = np.atleast_2d(V)
        Wd = V[:, : self.d] / self.R
        b = (V[:, self.d] if self.bias else np.zeros(V.shape[0])) - Wd @ self.center
        nrm = row_norms(Wd, self.p)
        nrm = np.where(nrm > 0, nrm, 1.0)
        return Wd / nrm[:, None], b / nrm

    def from_data(self, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``(W, b)`` on the data -> scaled neurons ``(w', b')`` (not normalised)."""
        W = np.atleast_2d(np.asarray(W, dtype=np.float64))
        b = np.asarray(b, dtype=np.float64).reshape(-1)
        Ws = W * self.R
        if not self.bias:
            return Ws
        return np.hstack([Ws, (b + W @ self.center)[:, None]])

    def scores(self, V: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Signed scores ``sum_i theta_i (w . x_i + b)_+`` of unit-norm data neurons for scaled ``V``."""
        V = np.atleast_2d(V)
        nrm = self.wnorm(V)
        H = relu_layer(self.A, V)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (theta @ H) * self.R / nrm
        return np.where(nrm > 0, s, 0.0)

    # ------------------------------------------------------------------ vertices
    def null_vector(self, rows: np.ndarray) -> np.ndarray | None:
        """The unit null vector of the ``D - 1`` rows ``rows`` (indices), or ``None`` if dependent."""
        M = self.rows[np.asarray(rows, dtype=np.int64)]
        if M.shape[0] != self.D - 1:
            return None
        if self.D == 1:
            return np.ones(1)
        _, s, vt = np.linalg.svd(M, full_matrices=True)
        if s.size and s[-1] <= 1e-10 * max(s[0], 1e-300):
            return None
        v = vt[-1]
        return v / np.linalg.norm(v)

    def tight_rows(self, v: np.ndarray, *, rtol: float = TIGHT_RTOL, force: bool = True) -> np.ndarray | None:
        """``D - 1`` independent rows nearly tight at ``v``, the tightest first.

        With ``force`` the nearest rows complete the set when fewer than ``D - 1`` are tight
        (snapping a neuron that is not at a vertex, as polishing does); otherwise ``None``.
        """
        v = np.asarray(v, dtype=np.float64)
        res = np.abs(self.rows @ v) / max(float(np.linalg.norm(v)), 1e-300)
        if self.wnorm(v[None])[0] <= 0:
            return None
        order = np.argsort(res, kind="stable")
        chosen: list[int] = []
        basis = np.zeros((0, self.D))
        for r in order:
            if len(chosen) == self.D - 1:
                break
            if not force and res[r] > rtol:
                return None
            row = self.rows[r]
            resid = row - basis.T @ (basis @ row) if basis.shape[0] else row.copy()
            nr = float(np.linalg.norm(resid))
            if nr <= 1e-9 * float(np.linalg.norm(row)):
                continue
            basis = np.vstack([basis, resid / nr])
            chosen.append(int(r))
        if len(chosen) != self.D - 1:
            return None
        return np.array(chosen, dtype=np.int64)

    def snap(self, v0: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """``(rows, v)``: ``v0`` snapped to the vertex of its :meth:`tight_rows` (the ``D - 1`` rows
        nearest it, completed by the nearest ones), oriented like ``v0``; ``None`` when no such
        vertex exists."""
        rows = self.tight_rows(v0)
        v = self.vertex(rows, sign_ref=v0) if rows is not None else None
        return None if v is None else (rows, v)

    def cell_vertex(self, v0: np.ndarray, theta: np.ndarray) -> np.ndarray | None:
        """The vertex of ``v0``'s cell with the largest dual violation (``p = 1`` only; else ``None``).

        The cell is the set of neurons with ``v0``'s activation pattern (``x~_i . v >= 0`` where
        ``x~_i . v0 > 0``, ``<= 0`` elsewhere) and the sign pattern ``s = sign(w0)`` of its weights
        (``s_k w_k >= 0``).  On the slice ``s . w = ||w||_1 = 1`` the score
        ``sg sum_{i active} theta_i x~_i . v`` (``sg`` the sign of ``v0``'s score) is linear, so
        the linear program ``max sg theta_act^T A_act v`` over the cell (``|b'| <= 2`` keeps it
        bounded; a breakline inside the scaled data has ``|b'| <= 1``) is solved at a vertex whose
        violation is at least that of ``v0`` normalised (scipy ``linprog``, HiGHS).  Returns the
        scaled solution (:meth:`snap` gives its rows), or ``None``
        when the program fails or ``p = 2``.
        """
        from scipy.optimize import linprog

        if self.p != 1:
            return None
        v0 = np.asarray(v0, dtype=np.float64)
        z = self.A @ v0
        act = z > 0
        sg = 1.0 if float(theta[act] @ z[act]) >= 0 else -1.0
        s = np.where(v0[: self.d] >= 0, 1.0, -1.0)
        c = -sg * (theta[act] @ self.A[act])
        sgn_rows = np.where(act, -1.0, 1.0)[:, None] * self.A  # <= 0
        W_rows = np.zeros((self.d, self.D))
        W_rows[np.arange(self.d), np.arange(self.d)] = -s  # -s_k w_k <= 0
        A_ub = np.vstack([sgn_rows, W_rows])
        A_eq = np.zeros((1, self.D))
        A_eq[0, : self.d] = s
        bounds = [(None, None)] * self.d + ([(-2.0, 2.0)] if self.bias else [])
        try:
            r = linprog(c, A_ub=A_ub, b_ub=np.zeros(A_ub.shape[0]), A_eq=A_eq, b_eq=[1.0], bounds=bounds,
                        method="highs")
        except ValueError:
            return None
        if r.status != 0 or r.x is None:
            return None
        return np.asarray(r.x, dtype=np.float64)

    def vertex(self, rows: np.ndarray, sign_ref: np.ndarray | None = None) -> np.ndarray | None:
        """The scaled neuron of the row set ``rows`` oriented like ``sign_ref`` (default: as computed)."""
        v = self.null_vector(rows)
        if v is None or self.wnorm(v[None])[0] <= 1e-12:
            return None
        if sign_ref is not None and float(v @ sign_ref) < 0:
            v = -v
        return v

    def record(self, rows: np.ndarray, v: np.ndarray, theorem: str) -> VertexRecord:
        """Provenance of the vertex neuron ``v`` of ``rows`` (anchor = lowest sample row)."""
        rows = np.sort(np.asarray(rows, dtype=np.int64))
        samp = [int(r) for r in rows if r < self.n]
        basis = [int(r) - self.n for r in rows if r >= self.n]
        gens: list[np.ndarray] = []
        names: list[str] = []
        kinds: list[str] = []
        anchor = None
        if self.bias and samp:
            anchor = samp[0]
            for s in samp[1:]:
                gens.append(self.Xs[s] - self.Xs[anchor])
                names.append(f"(x{s} - x{anchor})")
                kinds.append("difference")
        else:
            for s in samp:
                gens.append(self.Xs[s])
                names.append(f"x{s}")
                kinds.append("sample")
        for k in basis:
            e = np.zeros(self.d)
            e[k] = 1.0
            gens.append(e)
            names.append(f"e{k + 1}")
            kinds.append("basis")
        if anchor is not None:
            kinds.append("anchor")
        if gens:
            c = cross(np.array(gens)[None])[0] if self.d > 1 else np.ones(1)
        else:
            c = np.ones(self.d)
        orient = 1 if float(c @ v[: self.d]) >= 0 else -1
        part = "+" if orient > 0 else "-"
        xs = "x" if anchor is None else f"x - x{anchor}"
        args = ", ".join(names)
        norm = " ^ ".join(names) if names else "1"
        pn = "1" if self.p == 1 else "2"
        expr = f"Vol{part}(P({xs}{', ' + args if args else ''})) / ||{norm}||_{pn}"
        return VertexRecord(tuple(sorted(set(samp))), tuple(kinds), expr, theorem, orient, tuple(int(r) for r in rows))
