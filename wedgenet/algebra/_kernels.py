"""Numba kernels for generalized cross products (internal: inputs are assumed valid).

The generalized cross product ``c = cross(v_1, ..., v_{d-1})`` is defined by
``<c, y> = det[y; v_1; ...; v_{d-1}]`` (docs/conventions.md#geometric-algebra).  It is computed in
``O(d^3)`` from one Householder QR of the ``d x (d-1)`` matrix ``V^T = Q R``:
``c = prod(diag R) * q_d`` where ``q_d`` is the last column of ``Q``.

Proof of the sign: ``det[y, V^T] = det(Q) det[Q^T y, R]``.  ``R`` has a zero last row,
so expanding along it gives ``(-1)^(d+1) (q_d . y) prod(diag R)``.  Each of the ``d-1``
Householder reflections is applied (never skipped), so ``det(Q) = (-1)^(d-1)`` and the
two signs cancel.

For d = 4 and d = 5 the cofactors are expanded row by row with every minor shared (14 and 35
products of two numbers, no workspace), which beats the QR's constant and allocations at
these sizes; d >= 6 uses the QR.  For d = 2 and d = 3 the closed forms ``(a_2, -a_1)`` and
the numpy cross product are used; they are exact in floating point for exactly representable products (d = 2 is
always exact: it is returned before any scaling).

Feature equilibration: first every column j is divided by an exact power of two ``2^f_j`` so
that its largest |entry| lies in ``[0.5, 1)``; the product of the scaled rows ``V D`` is mapped
back by ``cross(V) = det(D)^{-1} D cross(V D)`` (from ``det[y D; V D] = det(D) det[y; V]``).
This makes the dependence test below, and the hyperplane, exactly invariant under
power-of-two rescalings of features (units) and of the whole input; the closed forms give the
same bits as without it (every term of a minor carries the same scale factor).  So for d = 3..5
:func:`_cross_plain` skips it (it cost half the time at d = 5) when that provably changes no bit:
every nonzero entry within ``[2^-100, 2^100]`` and a Hadamard test that accepts with a margin
covering any column scaling; near-dependent or extreme-scale inputs take the equilibrated path.

Dependent rows: the result is set to exactly 0 when some row of the equilibrated ``V D`` is
within relative distance ``rtol`` of the span of the rows before it,

    min_k  dist(v_k, Span(v_1, ..., v_{k-1})) / ||v_k||_2  <=  rtol,

i.e. ``min_k |R_kk| / ||v_k||`` for the QR above (the "sine" of each row against the previous
ones).  The product of these sines is the Hadamard ratio ``||c||_2 / prod_i ||v_i||_2 <= 1``;
it is NOT used as the test because it shrinks geometrically with ``d`` (about 3e-14 for
Gaussian rows in R^65, which a ``1e-12`` threshold on it would wrongly call dependent).  The
closed forms (d <= 5) accept at once when the Hadamard ratio exceeds ``rtol`` (then every sine
does); otherwise the QR decides.

Range safety: when a row norm is outside ``(1e-75, 1e75)`` or their product is outside
``(1e-150, 1e150)``, each row is first divided by an exact power of two so that its norm lies
in ``[0.5, 1)``, and the result is multiplied back by the product of those powers (the cross
product is multilinear).  Power-of-two scaling is exact, so results are bit-for-bit the same
as without it unless something over- or underflows.  It keeps sums of squares from
overflowing or underflowing (``cross([[1e200, 1e200]])`` used to return 0; a row with an
entry of 1e160 gave NaN in d >= 4; dependent rows of size 1e5 in d = 32 were not zeroed;
independent rows of size 1e-5 in d = 38 were zeroed), and the dependence test above is
evaluated on numbers in ``[2^-(d-1), 1]``.

Results beyond the float64 range: :func:`_cross_core` returns the product as ``out * 2**E``
with finite ``out``; :func:`_cross_one` applies ``2**E`` (over/underflowing like any float
kernel), the batch kernels apply it when the result stays normal and return it otherwise, and
the public functions raise ``ValueError`` rather than return a silent ``inf`` or ``0``.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True, inline="always")
def _scale_pow2(x: np.ndarray, e: int) -> None:
    """``x *= 2**e`` (exact unless the result over- or underflows)."""
    if -1021 <= e <= 1021:
        f = math.ldexp(1.0, e)
        for j in range(x.shape[0]):
            x[j] *= f
    else:
        for j in range(x.shape[0]):
            x[j] = math.ldexp(x[j], e)


@nb.njit(cache=True)
def _normalize_rows(A: np.ndarray) -> tuple[int, float]:
    """Divide each row of ``A`` by an exact power of two so that its norm lies in ``[0.5, 1)``.

    Returns ``(E, prod_norms)``: the total exponent removed and the product of the new row
    norms, or ``(0, 0.0)`` as soon as a row is exactly zero.
    """
    m = A.shape[0]
    d = A.shape[1]
    E = 0
    prod_norms = 1.0
    for i in range(m):
        amax = 0.0
        for j in range(d):
            a = abs(A[i, j])
            if a > amax:
                amax = a
        if amax == 0.0:
            return 0, 0.0
        e = math.frexp(amax)[1]  # max |A[i]| * 2^-e lies in [0.5, 1)
        _scale_pow2(A[i], -e)
        s = 0.0
        for j in range(d):
            s += A[i, j] * A[i, j]
        nrm = np.sqrt(s)  # in [0.5, sqrt(d))
        f = math.frexp(nrm)[1]
        if f != 0:
            _scale_pow2(A[i], -f)
            nrm = math.ldexp(nrm, -f)
        E += e + f
        prod_norms *= nrm
    return E, prod_norms


@nb.njit(cache=True)
def _cross_qr(A: np.ndarray, out: np.ndarray, rtol: float) -> bool:
    """Householder-QR cross product of the rows of ``A`` (overwritten) into ``out``.

    Returns whether the rows are dependent: ``min_k |R_kk| / ||v_k|| <= rtol``.
    """
    m = A.shape[0]
    d = A.shape[1]
    # Householder QR of A^T (columns of A^T are the rows of A).  Row i of A holds column i of
    # the matrix being factorised; reflection k acts on coordinates k..d-1.
    vs = np.zeros((m, d))
    vvs = np.empty(m)
    diag_prod = 1.0
    min_sine = 1.0
    for k in range(m):
        normx = 0.0
        for j in range(k, d):
            normx += A[k, j] * A[k, j]
        normx = np.sqrt(normx)
        if normx == 0.0:
            # R_kk = 0: the rows are dependent and the product is exactly 0
            for j in range(d):
                out[j] = 0.0
            return True
        # ||v_k|| is the norm of the reflected row k (reflections are orthogonal)
        full = normx * normx
        for j in range(k):
            full += A[k, j] * A[k, j]
        sine = normx / np.sqrt(full)
        if sine < min_sine:
            min_sine = sine
        x0 = A[k, k]
        alpha = -normx if x0 >= 0.0 else normx
        # v = x - alpha e_k ; H = I - 2 v v^T / (v^T v) is always applied (det H = -1)
        vs[k, k] = x0 - alpha
        for j in range(k + 1, d):
            vs[k, j] = A[k, j]
        vv = 0.0
        for j in range(k, d):
            vv += vs[k, j] * vs[k, j]
        vvs[k] = vv
        diag_prod *= alpha
        for i in range(k + 1, m):
            dot = 0.0
            for j in range(k, d):
                dot += vs[k, j] * A[i, j]
            f = 2.0 * dot / vv
            for j in range(k, d):
                A[i, j] -= f * vs[k, j]
    # q_d = H_0 H_1 ... H_{m-1} e_{d-1}
    for j in range(d):
        out[j] = 0.0
    out[d - 1] = 1.0
    for k in range(m - 1, -1, -1):
        dot = 0.0
        for j in range(k, d):
            dot += vs[k, j] * out[j]
        f = 2.0 * dot / vvs[k]
        for j in range(k, d):
            out[j] -= f * vs[k, j]
    for j in range(d):
        out[j] *= diag_prod
    return min_sine <= rtol


@nb.njit(cache=True, inline="always")
def _ldexp_entry(x: float, e: int) -> float:
    """``x * 2**e``, exact unless the result over- or underflows."""
    if -1021 <= e <= 1021:
        return x * math.ldexp(1.0, e)
    return math.ldexp(x, e)


@nb.njit(cache=True)
def _equilibrate_columns(A: np.ndarray, g: np.ndarray) -> tuple[int, bool]:
    """Divide column j of ``A`` by ``2^f_j`` so that its largest |entry| lies in ``[0.5, 1)``.

    Writes ``g_j = f_j - min_k f_k >= 0`` to ``g`` (a zero column gets ``g_j = 0``) and returns
    ``((d-1) min_k f_k + sum_j g_j, all_zero)``.  Since ``cross(V D) = det(D) D^{-1} cross(V)``,
    ``cross(V)_j = 2^(returned exponent) * 2^(-g_j) * cross(V D)_j`` with ``D = diag(2^-f_j)``.
    """
    m = A.shape[0]
    d = A.shape[1]
    fmin = 1 << 30
    for j in range(d):
        amax = 0.0
        for i in range(m):
            a = abs(A[i, j])
            if a > amax:
                amax = a
        if amax == 0.0:
            g[j] = np.nan  # marker: zero column
            continue
        f = math.frexp(amax)[1]
        g[j] = f
        if f < fmin:
            fmin = f
        if f != 0:
            if -1021 <= f <= 1021:
                fac = math.ldexp(1.0, -f)  # one power of two per column, exact products
                for i in range(m):
                    A[i, j] *= fac
            else:
                for i in range(m):
                    A[i, j] = math.ldexp(A[i, j], -f)
    if fmin == 1 << 30:
        return 0, True
    gsum = 0
    for j in range(d):
        if np.isnan(g[j]):
            g[j] = 0.0
        else:
            g[j] = g[j] - fmin
            gsum += int(g[j])
    return (d - 1) * fmin + gsum, False


@nb.njit(cache=True)
def _cross_core(A: np.ndarray, out: np.ndarray, rtol: float) -> int:
    """Cross product of the rows of ``A`` (shape ``(d-1, d)``, overwritten) as ``out * 2**E``.

    :func:`_cross_equilibrated`, with :func:`_cross_plain` first for ``d`` in 3..5: the plain
    closed form gives the same bits whenever it accepts."""
    d = A.shape[1]
    if 3 <= d <= 5 and _cross_plain(A, out, rtol):
        return 0
    return _cross_equilibrated(A, out, rtol)


#: every nonzero |entry| within [2^-100, 2^100]: for d <= 5 no intermediate of the closed forms
#: (products of d-1 entries, their sums and cancellations) then leaves the normal float64 range,
#: with or without the column equilibration (which scales each entry by at most 2^+-101)
_PLAIN_LO = 2.0**-100
_PLAIN_HI = 2.0**100


@nb.njit(cache=True)
def _cross_plain(A: np.ndarray, out: np.ndarray, rtol: float) -> bool:
    """Closed-form cross product of the rows of ``A`` (``d`` in 3..5) without the column
    equilibration, written to ``out`` (as ``out * 2**0``) only when it provably equals
    :func:`_cross_equilibrated`'s result bit for bit; returns whether it did.  ``A`` is only read.

    Conditions: every nonzero |entry| lies in ``[2^-100, 2^100]`` and no column is zero (then the
    power-of-two column scaling ``D = diag(2^-f_j)`` commutes exactly with every operation of the
    closed forms, so the equilibrated cofactors are ``det(D) c_j / D_jj`` exactly, and mapping
    them back gives ``c``), and the Hadamard test accepts with a margin that covers the scaling:
    with ``a_j`` the column maxima, ``2^-f_j`` lies in ``(1/(2 a_j), 1/a_j]``, so the Hadamard
    ratio of ``V D`` is at least ``h(V) min_j a_j^d / (2^d prod_j a_j)``.  Accepting when
    ``||c|| > rtol * prod_i ||v_i|| * 2^(d+1) * prod_j (a_j / min_k a_k)`` (a further factor 2
    for rounding in the norms) therefore implies the equilibrated test accepts too.  Otherwise
    the caller runs :func:`_cross_equilibrated`, so decisions near ``rtol`` are unchanged.
    """
    m = A.shape[0]
    d = A.shape[1]
    amin_col = math.inf
    spread = 1.0
    for j in range(d):
        amax = 0.0
        for i in range(m):
            a = abs(A[i, j])
            if a != 0.0 and not (_PLAIN_LO <= a <= _PLAIN_HI):
                return False
            if a > amax:
                amax = a
        if amax == 0.0:
            return False
        out[j] = amax  # workspace: column maxima
        if amax < amin_col:
            amin_col = amax
    for j in range(d):
        spread *= out[j] / amin_col  # prod_j (a_j / min a) <= 2^(200 d): finite
    prod_norms = 1.0
    for i in range(m):
        s = 0.0
        for j in range(d):
            s += A[i, j] * A[i, j]
        prod_norms *= np.sqrt(s)  # in [2^-100, sqrt(d) 2^100] per row: no over/underflow
    c0, c1, c2, c3, c4 = _closed_form(A)
    if _hadamard_dependent(c0, c1, c2, c3, c4, prod_norms, rtol * spread * 2.0 ** (d + 1)):
        return False
    out[0] = c0
    out[1] = c1
    out[2] = c2
    if d >= 4:
        out[3] = c3
    if d == 5:
        out[4] = c4
    return True


@nb.njit(cache=True)
def _cross_equilibrated(A: np.ndarray, out: np.ndarray, rtol: float) -> int:
    """Cross product of the rows of ``A`` (shape ``(d-1, d)``, overwritten) as ``out * 2**E``.

    Returns ``E``; ``out`` is exactly 0 for dependent rows.  The columns are first scaled by
    powers of two (:func:`_equilibrate_columns`) and the rows as in the module docstring, so
    the dependence test and the result are exactly invariant under power-of-two scalings of
    features and of the whole input.
    """
    m = A.shape[0]
    d = A.shape[1]
    if d == 1:
        out[0] = 1.0
        return 0
    if d == 2:
        # exact, no arithmetic; ||c|| = ||v||, so the dependence test is "v = 0 or rtol >= 1"
        if (A[0, 0] == 0.0 and A[0, 1] == 0.0) or rtol >= 1.0:
            out[0] = 0.0
            out[1] = 0.0
        else:
            out[0] = A[0, 1]
            out[1] = 0.0 - A[0, 0]
        return 0
    # out holds the column exponents g_j until the product is written
    Ecol, all_zero = _equilibrate_columns(A, out)
    if all_zero:
        for j in range(d):
            out[j] = 0.0
        return 0
    # Fast path: every row norm and their product are far from over/underflow, and the rows are
    # used as given.  Otherwise divide row i by 2^(e_i) (exact) so that its norm lies in
    # [0.5, 1).  Both give identical bits whenever the fast path applies.
    E = 0
    prod_norms = 1.0
    safe = True
    for i in range(m):
        s = 0.0
        for j in range(d):
            s += A[i, j] * A[i, j]
        if not (1e-150 < s < 1e150):  # also false for a zero (or underflowed) row
            safe = False
        prod_norms *= np.sqrt(s)
    if not (safe and 1e-150 < prod_norms < 1e150):
        E, prod_norms = _normalize_rows(A)
        if prod_norms == 0.0:
            # a zero row: the rows are dependent and the product is exactly 0
            for j in range(d):
                out[j] = 0.0
            return 0
    E += Ecol
    if d <= 5:
        c0, c1, c2, c3, c4 = _closed_form(A)
        if not _hadamard_dependent(c0, c1, c2, c3, c4, prod_norms, rtol):
            out[0] = c0 if out[0] == 0.0 else _ldexp_entry(c0, -int(out[0]))
            out[1] = c1 if out[1] == 0.0 else _ldexp_entry(c1, -int(out[1]))
            out[2] = c2 if out[2] == 0.0 else _ldexp_entry(c2, -int(out[2]))
            if d >= 4:
                out[3] = c3 if out[3] == 0.0 else _ldexp_entry(c3, -int(out[3]))
            if d == 5:
                out[4] = c4 if out[4] == 0.0 else _ldexp_entry(c4, -int(out[4]))
            return E
    # d >= 6, or a Hadamard ratio <= rtol: the QR computes the product and decides dependence
    # by the per-row sines (the closed forms above only read A, so it is still intact)
    g = out.copy()
    dependent = _cross_qr(A, out, rtol)
    if dependent:
        for j in range(d):
            out[j] = 0.0
        return 0
    for j in range(d):
        if g[j] != 0.0:
            out[j] = _ldexp_entry(out[j], -int(g[j]))
    return E


@nb.njit(cache=True, inline="always")
def _closed_form(A: np.ndarray) -> tuple[float, float, float, float, float]:
    """Cofactors ``(c0, ..., c4)`` of the rows of ``A`` (shape ``(d-1, d)``, ``d`` in 3..5; unused
    entries 0) by Laplace expansion along the rows, every minor shared.  Only reads ``A``."""
    d = A.shape[1]
    c0 = 0.0
    c1 = 0.0
    c2 = 0.0
    c3 = 0.0
    c4 = 0.0
    if d == 3:
        c0 = A[0, 1] * A[1, 2] - A[0, 2] * A[1, 1]
        c1 = A[0, 2] * A[1, 0] - A[0, 0] * A[1, 2]
        c2 = A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0]
    elif d == 4:  # Laplace expansion along the rows, sharing every minor
        # entries loaded once: the same arithmetic, far fewer indexing operations to compile
        a00 = A[0, 0]
        a01 = A[0, 1]
        a02 = A[0, 2]
        a03 = A[0, 3]
        a10 = A[1, 0]
        a11 = A[1, 1]
        a12 = A[1, 2]
        a13 = A[1, 3]
        a20 = A[2, 0]
        a21 = A[2, 1]
        a22 = A[2, 2]
        a23 = A[2, 3]
        m01 = a10 * a21 - a11 * a20
        m02 = a10 * a22 - a12 * a20
        m03 = a10 * a23 - a13 * a20
        m12 = a11 * a22 - a12 * a21
        m13 = a11 * a23 - a13 * a21
        m23 = a12 * a23 - a13 * a22
        c3 = -(a00 * m12 - a01 * m02 + a02 * m01)
        c2 = a00 * m13 - a01 * m03 + a03 * m01
        c1 = -(a00 * m23 - a02 * m03 + a03 * m02)
        c0 = a01 * m23 - a02 * m13 + a03 * m12
    else:  # d == 5: Laplace expansion along the rows, sharing every minor
        a00 = A[0, 0]
        a01 = A[0, 1]
        a02 = A[0, 2]
        a03 = A[0, 3]
        a04 = A[0, 4]
        a10 = A[1, 0]
        a11 = A[1, 1]
        a12 = A[1, 2]
        a13 = A[1, 3]
        a14 = A[1, 4]
        a20 = A[2, 0]
        a21 = A[2, 1]
        a22 = A[2, 2]
        a23 = A[2, 3]
        a24 = A[2, 4]
        a30 = A[3, 0]
        a31 = A[3, 1]
        a32 = A[3, 2]
        a33 = A[3, 3]
        a34 = A[3, 4]
        m01 = a20 * a31 - a21 * a30
        m02 = a20 * a32 - a22 * a30
        m03 = a20 * a33 - a23 * a30
        m04 = a20 * a34 - a24 * a30
        m12 = a21 * a32 - a22 * a31
        m13 = a21 * a33 - a23 * a31
        m14 = a21 * a34 - a24 * a31
        m23 = a22 * a33 - a23 * a32
        m24 = a22 * a34 - a24 * a32
        m34 = a23 * a34 - a24 * a33
        m012 = a10 * m12 - a11 * m02 + a12 * m01
        m013 = a10 * m13 - a11 * m03 + a13 * m01
        m014 = a10 * m14 - a11 * m04 + a14 * m01
        m023 = a10 * m23 - a12 * m03 + a13 * m02
        m024 = a10 * m24 - a12 * m04 + a14 * m02
        m034 = a10 * m34 - a13 * m04 + a14 * m03
        m123 = a11 * m23 - a12 * m13 + a13 * m12
        m124 = a11 * m24 - a12 * m14 + a14 * m12
        m134 = a11 * m34 - a13 * m14 + a14 * m13
        m234 = a12 * m34 - a13 * m24 + a14 * m23
        c4 = a00 * m123 - a01 * m023 + a02 * m013 - a03 * m012
        c3 = -(a00 * m124 - a01 * m024 + a02 * m014 - a04 * m012)
        c2 = a00 * m134 - a01 * m034 + a03 * m014 - a04 * m013
        c1 = -(a00 * m234 - a02 * m034 + a03 * m024 - a04 * m023)
        c0 = a01 * m234 - a02 * m134 + a03 * m124 - a04 * m123
    return c0, c1, c2, c3, c4


@nb.njit(cache=True, inline="always")
def _hadamard_dependent(c0: float, c1: float, c2: float, c3: float, c4: float, prod_norms: float, rtol: float) -> bool:
    """``||c||_2 <= rtol * prod_norms`` for ``c = (c0..c4)`` (unused entries 0), without underflow."""
    thr = rtol * prod_norms
    amax = max(abs(c0), abs(c1), abs(c2), abs(c3), abs(c4))
    if amax == 0.0:
        return True
    if amax > thr:  # ||c|| >= max |c_i|
        return False
    r0 = c0 / amax
    r1 = c1 / amax
    r2 = c2 / amax
    r3 = c3 / amax
    r4 = c4 / amax
    return amax * np.sqrt(r0 * r0 + r1 * r1 + r2 * r2 + r3 * r3 + r4 * r4) <= thr


@nb.njit(cache=True)
def _cross_one(A: np.ndarray, out: np.ndarray, rtol: float) -> None:
    """Cross product of the rows of ``A`` (shape ``(d-1, d)``), written to ``out``.

    ``A`` is overwritten (it is used as workspace).  A result beyond the float64 range
    over- or underflows here; the batch kernels return it as mantissa and exponent.
    """
    E = _cross_core(A, out, rtol)
    if E != 0:
        _scale_pow2(out, E)


#: products per parallel task in the batch kernels: one small workspace is allocated per block,
#: not per product (an allocation cost about a fifth of a d = 5 product)
_BLOCK = 256


@nb.njit(cache=True, inline="always")
def _apply_exponent_if_normal(out: np.ndarray, E: int) -> int:
    """Apply ``2**E`` to ``out`` when every nonzero entry of the result stays a normal float64
    (then return 0); otherwise leave ``out`` and return ``E``: a subnormal entry would keep only a
    few digits, and callers that want the direction (``unit=True``) read ``out`` unscaled."""
    if E == 0:
        return 0
    amax = 0.0
    amin = math.inf
    for j in range(out.shape[0]):
        a = abs(out[j])
        if a > amax:
            amax = a
        if 0.0 < a < amin:
            amin = a
    if amax == 0.0:
        return 0
    total = E + math.frexp(amax)[1]
    lowest = E + math.frexp(amin)[1]
    if -1021 <= lowest and total <= 1024:
        _scale_pow2(out, E)
        return 0
    return E


@nb.njit(cache=True, parallel=True)
def cross_batch_exp(V: np.ndarray, rtol: float) -> tuple[np.ndarray, np.ndarray]:
    """Cross products of a batch ``V`` of shape ``(N, d-1, d)``, as finite ``M`` ``(N, d)`` and
    exponents ``E`` ``(N,)``: product ``t`` is ``M[t] * 2**E[t]`` (:func:`_cross_core`; ``E = 0`` whenever the plain
    kernel would not over- or underflow: ``M`` then is the product itself)."""
    N = V.shape[0]
    m = V.shape[1]
    d = V.shape[2]
    out = np.empty((N, d))
    E = np.empty(N, dtype=np.int64)
    for blk in nb.prange((N + _BLOCK - 1) // _BLOCK):
        A = np.empty((m, d))  # one workspace per block of products
        for t in range(blk * _BLOCK, min(N, (blk + 1) * _BLOCK)):
            for i in range(m):
                for j in range(d):
                    A[i, j] = V[t, i, j]
            E[t] = _apply_exponent_if_normal(out[t], _cross_core(A, out[t], rtol))
    return out, E


@nb.njit(cache=True, parallel=True)
def cross_rows_exp(X: np.ndarray, idx: np.ndarray, rtol: float, affine: bool) -> tuple[np.ndarray, np.ndarray]:
    """Cross products of rows ``X[idx[t]]`` for an ``(N, d-1)`` index array (``affine=False``), or
    of differences ``X[idx[t, i]] - X[idx[t, d-1]]`` for an ``(N, d)`` one (``affine=True``: the
    normal of the affine hull of the ``d`` rows), as ``M * 2**E`` (:func:`_cross_core`); the
    ``(N, d-1, d)`` stack is never built.  Affine differences must not overflow:
    the caller halves ``X`` when ``max |X| >= 2^1023``."""
    N = idx.shape[0]
    d = X.shape[1]
    m = d - 1
    out = np.empty((N, d))
    E = np.empty(N, dtype=np.int64)
    for blk in nb.prange((N + _BLOCK - 1) // _BLOCK):
        A = np.empty((m, d))  # one workspace per block of products
        for t in range(blk * _BLOCK, min(N, (blk + 1) * _BLOCK)):
            if affine:
                last = idx[t, m]
                for i in range(m):
                    r = idx[t, i]
                    for j in range(d):
                        A[i, j] = X[r, j] - X[last, j]
            else:
                for i in range(m):
                    r = idx[t, i]
                    for j in range(d):
                        A[i, j] = X[r, j]
            E[t] = _apply_exponent_if_normal(out[t], _cross_core(A, out[t], rtol))
    return out, E
