# Plain serial references for the hydrology ops: priority-flood depression filling, written from
# the definition (Barnes et al. 2014, Algorithm 1), for the tests' small rasters.
import heapq

import numpy as np

NEIGHBOURS = [(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)]


def outlets(void):
    """Cells water leaves the raster from: valid cells on the edge or next to a void (8 ways)."""
    h, w = void.shape
    padded = np.pad(void, 1, constant_values=True)
    near_void = np.zeros_like(void)
    for dx, dy in NEIGHBOURS:
        near_void |= padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
    return near_void & ~void


def priority_flood(z, void):
    """Every valid cell raised to the lowest level from which it drains to an outlet (float32)."""
    h, w = z.shape
    z = z.astype(np.float32)
    out = z.copy()
    closed = void.copy()
    heap = []
    for y, x in zip(*np.nonzero(outlets(void))):
        closed[y, x] = True
        heap.append((float(z[y, x]), int(y), int(x)))
    heapq.heapify(heap)
    while heap:
        level, y, x = heapq.heappop(heap)
        for dx, dy in NEIGHBOURS:
            ny, nx = y + dy, x + dx
            if 0 <= ny < h and 0 <= nx < w and not closed[ny, nx]:
                closed[ny, nx] = True
                out[ny, nx] = max(out[ny, nx], np.float32(level))
                heapq.heappush(heap, (float(out[ny, nx]), ny, nx))
    return out


def downstream(p, nodata, outlets=None):
    """Each cell's next cell (linear index) along TauDEM-coded D8 directions `p`, itself where its
    flow stops: code 0, off the raster, into a nodata cell; also at an outlet (outlets != 0), and
    a cell flowing into a nodata outlet goes on to it."""
    h, w = p.shape
    dx = np.array([0, 1, 1, 0, -1, -1, -1, 0, 1])  # index = code; 0: none
    dy = np.array([0, 0, -1, -1, -1, 0, 1, 1, 1])
    valid = p != nodata
    code = np.where(valid & (p >= 1) & (p <= 8), p, 0).astype(np.int64)
    ys, xs = np.indices((h, w))
    nx, ny = xs + dx[code], ys + dy[code]
    inside = (nx >= 0) & (ny >= 0) & (nx < w) & (ny < h)
    target = np.where(inside, ny * w + nx, 0)
    here = (ys * w + xs).ravel()
    goes = (valid & inside & (code > 0)).ravel()
    target = target.ravel()
    is_outlet = np.zeros(h * w, bool) if outlets is None else (outlets != 0).ravel()
    on = goes & (valid.ravel()[target] | is_outlet[target]) & ~is_outlet
    return np.where(on, target, here)


def basins(p, nodata, outlets=None):
    """Watershed labels by their definition (Int32, nodata -2147483647): without outlets, a
    label per cell where flow stops, numbered 1, 2, ... in raster order; with outlets (ids, 0 for
    none), the id of the first outlet downstream, nodata where flow reaches none."""
    nxt = downstream(p, nodata, outlets)
    while True:  # pointer doubling: each step halves what is left of every path
        further = nxt[nxt]
        if np.array_equal(further, nxt):
            break
        nxt = further
    valid = (p != nodata).ravel()
    if outlets is None:
        stops = np.unique(nxt[valid])
        labels = np.searchsorted(stops, nxt) + 1
        return np.where(valid, labels, -2147483647).reshape(p.shape).astype(np.int32)
    ids = outlets.ravel().astype(np.int64)
    labels = np.where(ids[nxt] != 0, ids[nxt], -2147483647)
    return labels.reshape(p.shape).astype(np.int32)
