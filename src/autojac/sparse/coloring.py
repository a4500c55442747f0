"""Graph coloring of sparsity patterns: which columns (or rows) may share one pass.

- ``column_coloring(P)``: columns that share no row get one color (distance-2 coloring of the
  bipartite graph): ``J @ S`` (forward mode, one tangent per color) holds every entry of ``J``.
- ``row_coloring(P)``: the same on ``P.T``; ``S.T @ J`` (reverse mode, one cotangent per color).
- ``star_coloring(P)``: for a symmetric pattern (a Hessian): a distance-1 coloring in which every
  path on four vertices uses at least three colors (Gebremedhin, Manne, Pothen, "What color is
  your Jacobian?", SIAM Review 2005), so that ``H @ S`` determines ``H`` directly.

Greedy colorings in several orderings (natural, largest-first, smallest-last); the fewest colors win,
and the search stops as soon as one meets the clique lower bound (the most nonzeros in a row).

>>> import numpy as np, scipy.sparse as sp
>>> from autojac.sparse.coloring import column_coloring
>>> tri = sp.diags_array([np.ones(5), np.ones(6), np.ones(5)], offsets=[-1, 0, 1]).astype(bool)
>>> column_coloring(tri)
array([0, 1, 2, 0, 1, 2])
"""

from __future__ import annotations

import numpy as np

__all__ = ["column_coloring", "row_coloring", "star_coloring", "check_column_coloring", "check_star_coloring"]


def _csr(P):
    import scipy.sparse as sp

    P = sp.csr_array(P, dtype=bool)
    P.sum_duplicates()
    return P


def _conflicts(P):
    """The column intersection graph ``P.T @ P`` (off-diagonal), as CSR index arrays."""
    import scipy.sparse as sp

    P = _csr(P)
    G = sp.csr_array(P.T.astype(np.int32) @ P.astype(np.int32))
    G.setdiag(0)
    G.eliminate_zeros()
    return G.indptr, G.indices


def largest_first(indptr: np.ndarray) -> np.ndarray:
    """Vertices by decreasing degree (ties: by number)."""
    deg = np.diff(indptr)
    return np.argsort(-deg, kind="stable")


def smallest_last(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Matula-Beck: repeatedly remove a vertex of smallest remaining degree; color in reverse."""
    n = indptr.size - 1
    deg = np.diff(indptr).tolist()
    ptr, idx = indptr.tolist(), indices.tolist()
    maxd = max(deg, default=0)
    buckets: list = [set() for _ in range(maxd + 1)]
    for v, d in enumerate(deg):
        buckets[d].add(v)
    removed = [False] * n
    order = []
    low = 0
    for _ in range(n):
        low = max(low - 1, 0)
        while not buckets[low]:
            low += 1
        v = buckets[low].pop()
        removed[v] = True
        order.append(v)
        for u in idx[ptr[v]:ptr[v + 1]]:
            if not removed[u]:
                d = deg[u]
                buckets[d].discard(u)
                deg[u] = d - 1
                buckets[d - 1].add(u)
    return np.array(order[::-1], dtype=np.int64)


def greedy(indptr: np.ndarray, indices: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Give each vertex, in ``order``, the smallest color none of its neighbors has."""
    n = indptr.size - 1
    ptr, idx = indptr.tolist(), indices.tolist()
    colors = [-1] * n
    for v in order.tolist():
        used = {colors[u] for u in idx[ptr[v]:ptr[v + 1]]}
        c = 0
        while c in used:
            c += 1
        colors[v] = c
    return np.array(colors, dtype=np.int64)


def bipartite_greedy(P, order: np.ndarray) -> np.ndarray:
    """Greedy distance-2 column coloring on the bipartite graph itself: each row keeps a bitmask of
    the colors its columns took, so a column's forbidden colors are the OR of its rows' masks
    (no column intersection graph is built; a few integer operations per nonzero)."""
    C = P.tocsc()
    ptr, idx = C.indptr.tolist(), C.indices.tolist()
    masks = [0] * P.shape[0]
    colors = [0] * P.shape[1]
    for v in order.tolist():
        rows = idx[ptr[v]:ptr[v + 1]]
        used = 0
        for r in rows:
            used |= masks[r]
        bit = ~used & (used + 1)  # the lowest free color
        colors[v] = bit.bit_length() - 1
        for r in rows:
            masks[r] |= bit
    return np.array(colors, dtype=np.int64)


def _lattice_coloring(P, k: int) -> np.ndarray | None:
    """An optimal coloring (``k`` colors, the lower bound) of a pattern with grid structure, if one of
    the cheap candidates fits: ``j mod k`` (banded patterns), then ``(b + t a) mod k`` with
    ``j = a w + b`` for the widths ``w`` seen in the densest row (2-D stencils on a ``w``-wide grid).
    Each candidate costs one vectorized check."""
    n = P.shape[1]
    rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
    j = np.arange(n)

    def fits(colors):
        key = rows * k + colors[P.indices]
        return np.bincount(key, minlength=P.shape[0] * k).max(initial=0) <= 1

    c = j % k
    if fits(c):
        return c
    r = int(np.argmax(np.diff(P.indptr)))
    cols = P.indices[P.indptr[r]:P.indptr[r + 1]]
    for w in np.unique(np.abs(cols[:, None] - cols[None, :])).tolist()[:16]:
        if 2 <= w < n:
            a, b = np.divmod(j, w)
            for t in range(1, k):
                c = (b + t * a) % k
                if fits(c):
                    return c
    return None


def column_coloring(P, order: str = "auto") -> np.ndarray:
    """A color per column of ``P`` such that columns sharing a row differ (forward mode).

    ``order``: ``"natural"``, ``"largest_first"``, ``"smallest_last"`` or ``"auto"``: first the grid
    candidates of ``_lattice_coloring`` (optimal when they fit), then greedy in natural,
    largest-first and smallest-last order, stopping as soon as one meets the lower bound (the most
    nonzeros in a row) and keeping the fewest colors.
    """
    P = _csr(P)
    n = P.shape[1]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    bound = int(np.diff(P.indptr).max(initial=1))
    if order == "auto":
        colors = _lattice_coloring(P, bound)
        if colors is not None:
            return colors
    best = None
    for name in ("natural", "largest_first", "smallest_last") if order == "auto" else (order,):
        if name == "natural":
            ordering = np.arange(n)
        elif name == "largest_first":  # by distance-2 degree (counted with repeats: cheap, and close)
            ordering = np.argsort(-(P.T.astype(np.int64) @ np.diff(P.indptr)), kind="stable")
        elif name == "smallest_last":
            ordering = smallest_last(*_conflicts(P))
        else:
            raise ValueError(f"column_coloring(): unknown order '{order}'")
        colors = bipartite_greedy(P, ordering)
        if best is None or colors.max() < best.max():
            best = colors
        if best.max() + 1 <= bound:
            break
    return best


def row_coloring(P) -> np.ndarray:
    """A color per row of ``P`` such that rows sharing a column differ (reverse mode)."""
    return column_coloring(_csr(P).T)


def check_column_coloring(P, colors: np.ndarray) -> bool:
    """Whether no row of ``P`` holds two columns of one color."""
    P = _csr(P)
    rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
    key = rows * (int(colors.max(initial=0)) + 1) + colors[P.indices]
    return np.unique(key).size == key.size


def star_coloring(P) -> np.ndarray:
    """A star coloring of the symmetric pattern ``P`` (the diagonal is ignored).

    Greedy (Algorithm 4.1 of Gebremedhin et al.): a vertex may not take the color of a neighbor,
    nor, through an uncolored neighbor, the color of a vertex two steps away, nor a color that
    would close a two-colored path on four vertices.
    """
    import scipy.sparse as sp

    S = _csr(P)
    S = _csr(S + S.T)
    S.setdiag(False)
    S.eliminate_zeros()
    n = S.shape[0]
    deg = np.diff(S.indptr)
    bound = int(deg.max(initial=0)) + 1
    if n and bound <= 2 * int(np.median(deg)) + 1:
        # no hubs (banded, stencils): a distance-2 coloring is a star coloring, and the grid candidates
        # find an optimal one in a few vectorized checks
        S1 = _csr(S + sp.eye_array(n, dtype=bool))
        lattice = _lattice_coloring(S1, int(np.diff(S1.indptr).max()))
        if lattice is not None:
            return lattice
    best = None
    for order in (largest_first(S.indptr), smallest_last(S.indptr, S.indices)):
        c = _star_greedy(S.indptr, S.indices, order)
        if best is None or c.max(initial=-1) < best.max(initial=-1):
            best = c
        if best.max(initial=-1) + 1 <= bound:
            break
    return best if n else np.zeros(0, dtype=np.int64)


def _star_greedy(indptr, indices, order) -> np.ndarray:
    n = indptr.size - 1
    ptr, idx = indptr.tolist(), indices.tolist()
    adj = [idx[ptr[v]:ptr[v + 1]] for v in range(n)]
    color = [-1] * n
    forbidden: dict = {}
    for v in order.tolist():
        forbidden.clear()
        for w in adj[v]:
            cw = color[w]
            if cw >= 0:
                forbidden[cw] = True
            for x in adj[w]:
                if x == v:
                    continue
                cx = color[x]
                if cx < 0:
                    continue
                if cw < 0:
                    forbidden[cx] = True  # v and x would both touch w: a distance-2 clash
                else:
                    for y in adj[x]:  # v-w-x-y with colors (?, cw, cx, cw): v must not take cx
                        if y != w and color[y] == cw:
                            forbidden[cx] = True
                            break
        c = 0
        while c in forbidden:
            c += 1
        color[v] = c
    return np.array(color, dtype=np.int64)


def check_star_coloring(P, colors: np.ndarray) -> bool:
    """Whether ``colors`` is a distance-1 coloring of ``P`` with direct recovery for every entry."""
    try:
        star_recovery(P, colors)
    except ValueError:
        return False
    return True


def star_recovery(P, colors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each stored entry ``(i, j)`` of the symmetric ``P`` (CSR order), where ``H @ S`` holds it:
    ``(row, color)`` with ``H[i, j] = (H @ S)[row, color]``.

    ``(i, c(j))`` when ``j`` is the only vertex of its color among ``i`` and its neighbors, else
    ``(j, c(i))``; a star coloring makes one of the two hold. Raises ``ValueError`` otherwise.
    """
    P = _csr(P)
    k = int(colors.max(initial=0)) + 1
    rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
    cols = P.indices
    # how many of i's neighbors and i itself have each color (each stored entry is one distinct vertex,
    # the CSR being canonical; i itself is added where its diagonal is not stored)
    n = P.shape[0]
    stored = np.zeros(n, dtype=bool)
    stored[rows[rows == cols]] = True
    own = np.flatnonzero(~stored)
    counts = np.bincount(np.concatenate([rows * k + colors[cols], own * k + colors[own]]), minlength=n * k)
    direct = counts[rows * k + colors[cols]] == 1
    swapped = counts[cols * k + colors[rows]] == 1
    if not np.all(direct | swapped):
        raise ValueError("the coloring is not a star coloring of the pattern")
    r = np.where(direct, rows, cols)
    c = np.where(direct, colors[cols], colors[rows])
    return r, c
