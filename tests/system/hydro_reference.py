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


# TauDEM's directions from 1 (east) counter-clockwise, and d8flowdir's order of trial.
D8_DX = [1, 1, 0, -1, -1, -1, 0, 1]
D8_DY = [0, -1, -1, -1, 0, 1, 1, 1]
TRIAL = [0, 2, 4, 6, 1, 3, 5, 7]


def flow_directions(z, void, ewres=30.0, nsres=-30.0):
    """flowdir by its documented rule, serially (TauDEM codes, nodata -32768): the steepest
    descent as d8flowdir chooses it; nodata on the edge and next to voids; on a flat (a cell with
    no lower neighbour), the first neighbour of its height that is not on a flat, else the
    steepest descent of 2 low - high over its flat (low: breadth-first steps from the flat cells
    beside such an outlet, counted from 1; high: from the flat cells beside higher terrain,
    from 0; 2 low alone on a flat without higher terrain); 0 on a flat without an outlet."""
    from collections import deque
    h, w = z.shape
    z = np.where(void, np.nan, z).astype(np.float32)
    factor = [1.0 / np.sqrt(D8_DX[k] ** 2 * ewres ** 2 + D8_DY[k] ** 2 * nsres ** 2)
              for k in range(8)]
    p = np.full((h, w), -32768, np.int16)
    flat = np.zeros((h, w), bool)
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            if void[y, x] or any(void[y + D8_DY[k], x + D8_DX[k]] for k in range(8)):
                continue
            best, chosen = np.float32(0), 0
            for k in TRIAL:
                drop = np.float32(z[y, x] - z[y + D8_DY[k], x + D8_DX[k]])
                slope = np.float32(factor[k] * float(drop))
                if slope > best:
                    best, chosen = slope, k + 1
            p[y, x] = chosen
            flat[y, x] = chosen == 0

    def neighbours(y, x):
        for k in TRIAL:
            ny, nx = y + D8_DY[k], x + D8_DX[k]
            if 0 <= ny < h and 0 <= nx < w and not void[ny, nx]:
                yield k, ny, nx

    def is_outlet(y, x, ny, nx):
        return not flat[ny, nx] and z[ny, nx] == z[y, x]

    def distances(source, start):
        dist = np.full((h, w), -1, np.int64)
        queue = deque()
        for y, x in zip(*np.nonzero(flat)):
            if any(source(y, x, ny, nx) for _, ny, nx in neighbours(y, x)):
                dist[y, x] = start
                queue.append((y, x))
        while queue:
            y, x = queue.popleft()
            for _, ny, nx in neighbours(y, x):
                if flat[ny, nx] and z[ny, nx] == z[y, x] and dist[ny, nx] < 0:
                    dist[ny, nx] = dist[y, x] + 1
                    queue.append((ny, nx))
        return dist

    low = distances(is_outlet, 1)
    high = distances(lambda y, x, ny, nx: z[ny, nx] > z[y, x], 0)
    for y, x in zip(*np.nonzero(flat)):
        if low[y, x] < 0:
            continue
        outlet = [k for k, ny, nx in neighbours(y, x) if is_outlet(y, x, ny, nx)]
        if outlet:
            p[y, x] = outlet[0] + 1
            continue
        mask = lambda cy, cx: 2 * low[cy, cx] - (high[cy, cx] if high[y, x] >= 0 else 0)
        best, chosen = 0.0, 0
        for k, ny, nx in neighbours(y, x):
            if flat[ny, nx] and z[ny, nx] == z[y, x]:
                slope = factor[k] * float(mask(y, x) - mask(ny, nx))
                if slope > best:
                    best, chosen = slope, k + 1
        p[y, x] = chosen
    return p


def drains(p, nodata=-32768):
    """Whether every valid cell's flow along TauDEM codes `p` leaves the raster or reaches a
    nodata cell: no code 0, no cycle."""
    return not (p == 0).any() and not cycles(p, nodata)


def cycles(p, nodata=-32768):
    """Whether directions `p` hold a cycle (a cell whose flow comes back to it)."""
    nxt = downstream(p, nodata)
    here = np.arange(p.size)
    moving = nxt != here
    at = nxt.copy()
    for _ in range(p.size.bit_length() + 1):
        at = at[at]
    # After 2^k >= p.size steps a path that has not stopped is on a cycle.
    return bool((moving[at]).any())
