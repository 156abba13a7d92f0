"""The ``wedgenet`` console script.

``wedgenet demo`` runs the main job on an embedded example.  Until convex fitting lands it is
the worked geometric-algebra example of the paper (section 3.4): the neurons of Theorem 2 as
Hodge duals of the samples and of the basis vectors, cross-checked against clifford.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

__all__ = ["main"]


def _fmt(v: np.ndarray) -> str:
    return "(" + ", ".join(f"{x:g}" for x in v) + ")"


def run_ga_example(*, check_clifford: bool = True, out=sys.stdout) -> dict:
    """Paper section 3.4: ``x1 = (1, 1)``, ``x2 = (0, 2)`` and the basis vectors ``e1, e2``.

    Each candidate neuron of Theorem 2 (p=1, no bias, d=2) is ``w = *x = cross([x])``,
    orthogonal to its generator; the column is ``(X w)_+ / ||w||_1``.  Returns the neurons.
    """
    from . import cross, hodge_star, wedge

    pool = {"x1": np.array([1.0, 1.0]), "x2": np.array([0.0, 2.0]),
            "e1": np.array([1.0, 0.0]), "e2": np.array([0.0, 1.0])}
    X = np.stack([pool["x1"], pool["x2"]])
    print("wedgenet GA example (paper section 3.4): neurons are Hodge duals of samples", file=out)
    print(f"samples X = {X.tolist()}, pool = X plus e1, e2 (THEORY.md G3)\n", file=out)
    neurons = {}
    for name, v in pool.items():
        w = cross(v[None, :])
        assert np.allclose(w, hodge_star(wedge(v[None, :]), 2, 1))
        neurons[name] = w
        col = np.maximum(X @ w, 0) / np.abs(w).sum()
        print(f"  *{name} = cross({_fmt(v)}) = {_fmt(w)}   <w, {name}> = {w @ v:g}   "
              f"K column (Xw)_+/||w||_1 = {_fmt(col)}", file=out)
    if check_clifford:
        from . import from_clifford, to_clifford

        for name, v in pool.items():
            dual = from_clifford(to_clifford(v, 2, 1).dual(), 1)
            assert np.allclose(dual, neurons[name]), name
        print("\nclifford MultiVector.dual() agrees with every neuron above.", file=out)
    return neurons


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wedgenet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the embedded demonstration")
    demo.add_argument("--no-clifford", action="store_true", help="skip the clifford cross-check")
    args = parser.parse_args(argv)
    if args.command == "demo":
        run_ga_example(check_clifford=not args.no_clifford)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
