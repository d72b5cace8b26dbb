"""Compiled inner loops of the accessibility engine (numba).

Everything here works on plain arrays with nodes numbered 0..n-1; the public functions in
:mod:`linli.access.engine` map labels to indices and back.  Functions are compiled with
``nogil=True`` so that blocks of sources run in parallel threads, and with ``cache=True`` so
that the compile cost (a few seconds) is paid once per machine.

The searches are bounded Dijkstra searches with a binary heap and lazy deletion: a node is
pushed only when its tentative minutes improve and stay within the cutoff, so the work and
memory of one search grow with the nodes it reaches, not with the size of the city.  A stale
heap entry is recognised by its key being larger than the node's current minutes (a node is
pushed again only with a strictly smaller key), so no "settled" flags are needed.  The
per-thread scratch arrays are allocated once by the caller and reset through a list of
touched nodes.

The heap operations are written out in each kernel, and every buffer is allocated by the
caller at a size that cannot overflow: measured on a 1,000,000-node grid, growing arrays
inside the loop (a reassigned array variable) or heap helper functions that take arrays made
the searches ~2.5x slower.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_INF = np.inf


@njit(cache=True, nogil=True)
def within_block(  # type: ignore[no-untyped-def]
    indptr,
    adj,
    weight,
    seed_ptr,
    seed_node,
    seed_cost,
    tgt_ptr,
    tgt_dest,
    tgt_cost,
    direct_ptr,
    direct_dest,
    direct_cost,
    cutoff,
    lo,
    hi,
    dist,
    touched,
    best,
    dtouched,
    hk,
    hv,
    counts,
    out_dest,
    out_min,
):
    """Bounded searches for sources ``lo..hi-1``; return per-source counts and the pairs.

    Source ``s`` starts from the nodes ``seed_node[seed_ptr[s]:seed_ptr[s+1]]`` at the given
    costs.  Destination ``d`` hangs off node ``k`` at cost ``tgt_cost`` (CSR ``tgt_ptr`` by
    node), and ``direct_*`` (CSR by source) lists destinations reachable without entering the
    graph (same street).  A pair is kept when its minutes are ``<= cutoff``.

    ``dist``/``touched`` (length n_nodes), ``best``/``dtouched`` (length n_dest) and the
    heap ``hk``/``hv`` (length n_edges + seeds of a source: the most pushes a search can
    make) are the caller's scratch: ``dist`` and ``best`` all ``inf`` on entry, and left so
    on return, so one thread reuses them for every block.  Pairs go to ``out_dest`` /
    ``out_min`` and per-source counts to ``counts[s - lo]``; the kernel stops before a
    source whose pairs might not fit (fewer than n_dest places left) and returns
    ``(next_source, n_out)`` so that the caller can continue with fresh buffers.
    """
    n_out = 0
    n_dest = best.shape[0]
    for s in range(lo, hi):
        if out_dest.shape[0] - n_out < n_dest:
            return s, n_out
        nt = 0
        ndt = 0
        hs = 0
        for j in range(seed_ptr[s], seed_ptr[s + 1]):
            node = seed_node[j]
            c = seed_cost[j]
            if c <= cutoff and c < dist[node]:
                if dist[node] == _INF:
                    touched[nt] = node
                    nt += 1
                dist[node] = c
                i = hs
                while i > 0:
                    p = (i - 1) >> 1
                    if hk[p] <= c:
                        break
                    hk[i] = hk[p]
                    hv[i] = hv[p]
                    i = p
                hk[i] = c
                hv[i] = node
                hs += 1
        for j in range(direct_ptr[s], direct_ptr[s + 1]):
            d = direct_dest[j]
            c = direct_cost[j]
            if c <= cutoff and c < best[d]:
                if best[d] == _INF:
                    dtouched[ndt] = d
                    ndt += 1
                best[d] = c
        while hs > 0:
            du = hk[0]
            u = hv[0]
            hs -= 1
            if hs > 0:
                key = hk[hs]
                val = hv[hs]
                i = 0
                while True:
                    ch = 2 * i + 1
                    if ch >= hs:
                        break
                    if ch + 1 < hs and hk[ch + 1] < hk[ch]:
                        ch += 1
                    if hk[ch] >= key:
                        break
                    hk[i] = hk[ch]
                    hv[i] = hv[ch]
                    i = ch
                hk[i] = key
                hv[i] = val
            if du > dist[u]:
                continue
            for j in range(tgt_ptr[u], tgt_ptr[u + 1]):
                d = tgt_dest[j]
                c = du + tgt_cost[j]
                if c <= cutoff and c < best[d]:
                    if best[d] == _INF:
                        dtouched[ndt] = d
                        ndt += 1
                    best[d] = c
            for j in range(indptr[u], indptr[u + 1]):
                v = adj[j]
                nd = du + weight[j]
                if nd <= cutoff and nd < dist[v]:
                    if dist[v] == _INF:
                        touched[nt] = v
                        nt += 1
                    dist[v] = nd
                    i = hs
                    while i > 0:
                        p = (i - 1) >> 1
                        if hk[p] <= nd:
                            break
                        hk[i] = hk[p]
                        hv[i] = hv[p]
                        i = p
                    hk[i] = nd
                    hv[i] = v
                    hs += 1
        for k in range(ndt):
            d = dtouched[k]
            out_dest[n_out] = d
            out_min[n_out] = best[d]
            n_out += 1
            best[d] = _INF
        counts[s - lo] = ndt
        for k in range(nt):
            dist[touched[k]] = _INF
    return hi, n_out


@njit(cache=True, nogil=True)
def within_block_nodes(  # type: ignore[no-untyped-def]
    indptr, adj, weight, sources, cutoff, lo, hi, dist, touched, hk, hv, counts, out_dest, out_min
):
    """Bounded searches from single nodes to every node: the fast path for node queries.

    Same as :func:`within_block` with one seed per source at cost 0 and every node a
    destination of itself, without the indirection.
    """
    n_out = 0
    n = dist.shape[0]
    for s in range(lo, hi):
        if out_dest.shape[0] - n_out < n:
            return s, n_out
        src = sources[s]
        nt = 1
        touched[0] = src
        dist[src] = 0.0
        hk[0] = 0.0
        hv[0] = src
        hs = 1
        start = n_out
        while hs > 0:
            du = hk[0]
            u = hv[0]
            hs -= 1
            if hs > 0:
                key = hk[hs]
                val = hv[hs]
                i = 0
                while True:
                    ch = 2 * i + 1
                    if ch >= hs:
                        break
                    if ch + 1 < hs and hk[ch + 1] < hk[ch]:
                        ch += 1
                    if hk[ch] >= key:
                        break
                    hk[i] = hk[ch]
                    hv[i] = hv[ch]
                    i = ch
                hk[i] = key
                hv[i] = val
            if du > dist[u]:
                continue
            out_dest[n_out] = u
            out_min[n_out] = du
            n_out += 1
            for j in range(indptr[u], indptr[u + 1]):
                v = adj[j]
                nd = du + weight[j]
                if nd <= cutoff and nd < dist[v]:
                    if dist[v] == _INF:
                        touched[nt] = v
                        nt += 1
                    dist[v] = nd
                    i = hs
                    while i > 0:
                        p = (i - 1) >> 1
                        if hk[p] <= nd:
                            break
                        hk[i] = hk[p]
                        hv[i] = hv[p]
                        i = p
                    hk[i] = nd
                    hv[i] = v
                    hs += 1
        counts[s - lo] = n_out - start
        for k in range(nt):
            dist[touched[k]] = _INF
    return hi, n_out


@njit(cache=True, nogil=True)
def labelled_multi_source(indptr, adj, weight, seed_node, seed_cost, seed_label, cutoff):  # type: ignore[no-untyped-def]
    """One Dijkstra search from many labelled seeds at once (a Voronoi partition in minutes).

    Returns, per node, the minutes to the nearest seed (``inf`` beyond the cutoff) and that
    seed's label (``-1`` beyond the cutoff).  Run on the reversed graph it gives every
    node's minutes to its nearest destination.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, _INF)
    label = np.full(n, -1, dtype=np.int64)
    # Lazy deletion pushes at most once per seed and once per edge relaxation.
    cap = adj.shape[0] + seed_node.shape[0] + 1
    hk = np.empty(cap, dtype=np.float64)
    hv = np.empty(cap, dtype=np.int32)
    hs = 0
    for j in range(seed_node.shape[0]):
        node = seed_node[j]
        c = seed_cost[j]
        if c <= cutoff and c < dist[node]:
            dist[node] = c
            label[node] = seed_label[j]
            i = hs
            while i > 0:
                p = (i - 1) >> 1
                if hk[p] <= c:
                    break
                hk[i] = hk[p]
                hv[i] = hv[p]
                i = p
            hk[i] = c
            hv[i] = node
            hs += 1
    while hs > 0:
        du = hk[0]
        u = hv[0]
        hs -= 1
        if hs > 0:
            key = hk[hs]
            val = hv[hs]
            i = 0
            while True:
                ch = 2 * i + 1
                if ch >= hs:
                    break
                if ch + 1 < hs and hk[ch + 1] < hk[ch]:
                    ch += 1
                if hk[ch] >= key:
                    break
                hk[i] = hk[ch]
                hv[i] = hv[ch]
                i = ch
            hk[i] = key
            hv[i] = val
        if du > dist[u]:
            continue
        lu = label[u]
        for j in range(indptr[u], indptr[u + 1]):
            v = adj[j]
            nd = du + weight[j]
            if nd <= cutoff and nd < dist[v]:
                dist[v] = nd
                label[v] = lu
                i = hs
                while i > 0:
                    p = (i - 1) >> 1
                    if hk[p] <= nd:
                        break
                    hk[i] = hk[p]
                    hv[i] = hv[p]
                    i = p
                hk[i] = nd
                hv[i] = v
                hs += 1
    return dist, label
