"""Bad input raises ValueError naming the offending argument."""

from __future__ import annotations

import numpy as np
import pytest

import wedgenet as wn

X4 = np.arange(20.0).reshape(5, 4)
IDX = np.array([[0, 1, 2], [1, 2, 3]])
NAN_V = np.array([[1.0, np.nan, 0.0], [0.0, 1.0, 0.0]])
INF_V = np.array([[1.0, np.inf, 0.0], [0.0, 1.0, 0.0]])

CASES = [
    # cross
    ("cross NaN", lambda: wn.cross(NAN_V), "V"),
    ("cross inf", lambda: wn.cross(INF_V), "V"),
    ("cross square", lambda: wn.cross(np.eye(3)), "V"),
    ("cross 1-D", lambda: wn.cross(np.ones(2)), "V"),
    ("cross scalar", lambda: wn.cross(1.0), "V"),
    ("cross too many rows", lambda: wn.cross(np.ones((4, 3))), "V"),
    ("cross dimension 0", lambda: wn.cross(np.ones((2, 0))), "V"),
    ("cross empty batch", lambda: wn.cross(np.ones((0, 2, 3))), "V"),
    ("cross strings", lambda: wn.cross([["a", "b"]]), "V"),
    ("cross ragged", lambda: wn.cross([[1.0, 2.0], [3.0]]), "V"),
    ("cross rtol<0", lambda: wn.cross([[1.0, 2.0]], rtol=-1e-3), "rtol"),
    ("cross rtol nan", lambda: wn.cross([[1.0, 2.0]], rtol=float("nan")), "rtol"),
    ("cross rtol str", lambda: wn.cross([[1.0, 2.0]], rtol="1e-3"), "rtol"),
    # wedge
    ("wedge 1-D", lambda: wn.wedge(np.ones(3)), "V"),
    ("wedge k > d", lambda: wn.wedge(np.ones((4, 3))), "V"),
    ("wedge empty", lambda: wn.wedge(np.ones((0, 3))), "V"),
    ("wedge empty batch", lambda: wn.wedge(np.ones((0, 2, 3))), "V"),
    ("wedge NaN", lambda: wn.wedge(NAN_V), "V"),
    # hodge_star
    ("hodge bad k", lambda: wn.hodge_star(np.ones(3), 3, 4), "k"),
    ("hodge k<0", lambda: wn.hodge_star(np.ones(3), 3, -1), "k"),
    ("hodge k float", lambda: wn.hodge_star(np.ones(3), 3, 1.0), "k"),
    ("hodge k bool", lambda: wn.hodge_star(np.ones(3), 3, True), "k"),
    ("hodge d=0", lambda: wn.hodge_star(np.ones(1), 0, 0), "d"),
    ("hodge d float", lambda: wn.hodge_star(np.ones(3), 3.0, 1), "d"),
    ("hodge wrong length", lambda: wn.hodge_star(np.ones(4), 3, 1), "B"),
    ("hodge NaN", lambda: wn.hodge_star([1.0, np.nan, 0.0], 3, 1), "B"),
    ("hodge empty", lambda: wn.hodge_star(np.ones((0, 3)), 3, 1), "B"),
    # signed_volume
    ("volume not square", lambda: wn.signed_volume(np.ones((2, 3))), "V"),
    ("volume 1-D", lambda: wn.signed_volume(np.ones(3)), "V"),
    ("volume inf", lambda: wn.signed_volume([[1.0, np.inf], [0.0, 1.0]]), "V"),
    ("volume empty batch", lambda: wn.signed_volume(np.ones((0, 2, 2))), "V"),
    # distances
    ("span x wrong d", lambda: wn.dist_to_span(np.ones(4), np.eye(3)[1:]), "x"),
    ("span x scalar", lambda: wn.dist_to_span(1.0, np.eye(3)[1:]), "x"),
    ("span x NaN", lambda: wn.dist_to_span([np.nan, 0.0, 0.0], np.eye(3)[1:]), "x"),
    ("span x empty", lambda: wn.dist_to_span(np.ones((0, 3)), np.eye(3)[1:]), "x"),
    ("span U square", lambda: wn.dist_to_span(np.ones(3), np.eye(3)), "U"),
    ("span U NaN", lambda: wn.dist_to_span(np.ones(3), NAN_V), "U"),
    ("span U 1-D", lambda: wn.dist_to_span(np.ones(3), np.ones(3)), "U"),
    ("span rtol<0", lambda: wn.dist_to_span(np.ones(3), np.eye(3)[1:], rtol=-1.0), "rtol"),
    ("affine U not square", lambda: wn.dist_to_affine(np.ones(3), np.eye(3)[1:]), "U"),
    ("affine x wrong d", lambda: wn.dist_to_affine(np.ones(2), np.eye(3)), "x"),
    ("affine U inf", lambda: wn.dist_to_affine(np.ones(2), [[np.inf, 0.0], [0.0, 1.0]]), "U"),
    ("affine rtol<0", lambda: wn.dist_to_affine(np.ones(3), np.eye(3), rtol=-1.0), "rtol"),
    # cross_from_indices
    ("cfi idx float", lambda: wn.cross_from_indices(X4, IDX.astype(float)), "idx"),
    ("cfi idx bool", lambda: wn.cross_from_indices(X4, IDX > 0), "idx"),
    ("cfi idx 1-D", lambda: wn.cross_from_indices(X4, np.array([0, 1, 2])), "idx"),
    ("cfi idx out of range", lambda: wn.cross_from_indices(X4, np.array([[0, 1, 5]])), "idx"),
    ("cfi idx negative", lambda: wn.cross_from_indices(X4, np.array([[0, 1, -1]])), "idx"),
    ("cfi idx wrong width", lambda: wn.cross_from_indices(X4, np.array([[0, 1]])), "idx"),
    ("cfi affine width", lambda: wn.cross_from_indices(X4, IDX, affine=True), "idx"),
    ("cfi idx empty", lambda: wn.cross_from_indices(X4, np.zeros((0, 3), dtype=int)), "idx"),
    ("cfi X NaN", lambda: wn.cross_from_indices(np.full((5, 4), np.nan), IDX), "X"),
    ("cfi X 3-D", lambda: wn.cross_from_indices(np.ones((2, 5, 4)), IDX), "X"),
    ("cfi rtol<0", lambda: wn.cross_from_indices(X4, IDX, rtol=-1.0), "rtol"),
    # combinations
    ("n_comb n<0", lambda: wn.algebra.n_combinations(-1, 2), "n"),
    ("n_comb k float", lambda: wn.algebra.n_combinations(5, 2.0), "k"),
    ("chunk k>n", lambda: wn.algebra.combinations_chunk(3, 4, 0, 1), "k"),
    ("chunk k<0", lambda: wn.algebra.combinations_chunk(3, -1, 0, 1), "k"),
    ("chunk n=0", lambda: wn.algebra.combinations_chunk(0, 0, 0, 1), "n"),
    ("chunk stop>total", lambda: wn.algebra.combinations_chunk(5, 2, 0, 11), "stop"),
    ("chunk start>stop", lambda: wn.algebra.combinations_chunk(5, 2, 4, 3), "start"),
    ("chunk start<0", lambda: wn.algebra.combinations_chunk(5, 2, -1, 3), "start"),
    ("chunk start float", lambda: wn.algebra.combinations_chunk(5, 2, 0.0, 3), "start"),
    ("unrank rank too big", lambda: wn.algebra.unrank_combinations([10], 5, 2), "ranks"),
    ("unrank negative", lambda: wn.algebra.unrank_combinations([-1], 5, 2), "ranks"),
    ("unrank float", lambda: wn.algebra.unrank_combinations([1.0], 5, 2), "ranks"),
    ("unrank empty", lambda: wn.algebra.unrank_combinations([], 5, 2), "ranks"),
    ("unrank 2-D", lambda: wn.algebra.unrank_combinations([[1]], 5, 2), "ranks"),
    ("unrank k>n", lambda: wn.algebra.unrank_combinations([0], 2, 3), "k"),
    ("rank out of range", lambda: wn.algebra.rank_combinations([[0, 5]], 5), "combos"),
    ("rank unsorted", lambda: wn.algebra.rank_combinations([[2, 1]], 5), "combos"),
    ("rank repeated", lambda: wn.algebra.rank_combinations([[1, 1]], 5), "combos"),
    ("rank float", lambda: wn.algebra.rank_combinations([[0.0, 1.0]], 5), "combos"),
    ("rank empty", lambda: wn.algebra.rank_combinations(np.zeros((0, 2), dtype=int), 5), "combos"),
    ("rank k>n", lambda: wn.algebra.rank_combinations([[0, 1, 2]], 2), "k"),
    # clifford interop
    ("to_clifford grade>d", lambda: wn.to_clifford([1.0], 2, 3), "grade"),
    ("to_clifford grade<0", lambda: wn.to_clifford([1.0], 2, -1), "grade"),
    ("to_clifford wrong length", lambda: wn.to_clifford([1.0, 2.0], 3, 1), "coeffs"),
    ("to_clifford NaN", lambda: wn.to_clifford([1.0, np.nan, 0.0], 3, 1), "coeffs"),
    ("to_clifford 2-D", lambda: wn.to_clifford(np.ones((1, 3)), 3, 1), "coeffs"),
    ("to_clifford d=0", lambda: wn.to_clifford([1.0], 0, 0), "d"),
    ("from_clifford not mv", lambda: wn.from_clifford(np.ones(4)), "mv"),
]


@pytest.mark.parametrize("call, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_value_error_naming_argument(call, match):
    with pytest.raises(ValueError, match=rf"\b{match}\b"):
        call()


def test_from_clifford_bad_grade():
    pytest.importorskip("clifford")
    mv = wn.to_clifford([1.0, 2.0, 3.0], 3, 1)
    with pytest.raises(ValueError, match="grade"):
        wn.from_clifford(mv, grade=4)
    with pytest.raises(ValueError, match="grade"):
        wn.from_clifford(mv, grade=-1)
    with pytest.raises(ValueError, match="grade"):
        wn.from_clifford(mv, grade=1.5)


def test_valid_edge_inputs_are_accepted():
    # integer and list input are converted; a (d-1, d) stack of ints works
    np.testing.assert_array_equal(wn.cross([[0, 2]]), [2.0, 0.0])
    assert wn.cross(np.ones((1, 2), dtype=np.int32)).dtype == np.float64
    # rtol = 0 and integer rtol are valid
    wn.cross([[1.0, 2.0]], rtol=0)
    # numpy integer scalars are valid n, k, start, stop
    out = wn.algebra.combinations_chunk(np.int64(5), np.int32(2), np.int64(0), np.int64(3))
    assert out.shape == (3, 2)
