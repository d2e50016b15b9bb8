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


# fill's epsilon (docs/hydrology.md, "fill's epsilon"): in keys, integers of the same order as the
# Float32 heights in which consecutive Float32 values are one apart, the least surface S with
# S = K at the outlets and S(c) = max(K(c), min over valid neighbours n of S(n) + 1) elsewhere.

LARGEST_KEY = 0x7F7FFFFF  # the key of the largest finite Float32 (3.4028235e38)


def float_keys(z):
    """Float32 heights as int64 keys: a value's bits from +0 up, minus its magnitude's bits below
    0, so that -0 and +0 are one key and consecutive Float32 values are one apart."""
    bits = np.array(z, dtype=np.float32).view(np.uint32).astype(np.int64)
    magnitude = bits & 0x7FFFFFFF
    return np.where((bits >> 31) == 1, -magnitude, magnitude)


def from_keys(keys):
    """The Float32 values of float_keys()'s keys (0 is +0)."""
    keys = np.asarray(keys, np.int64)
    bits = np.where(keys < 0, 0x80000000 | -keys, keys).astype(np.uint32)
    return bits.view(np.float32)


def _padded(void):
    """The raster's cells in a grid with a ring of voids around it, and the 8 neighbours' offsets
    in that grid: (linear index of each raster cell, valid mask of the padded grid, offsets)."""
    h, w = void.shape
    valid = np.pad(~void, 1, constant_values=False)
    index = ((np.arange(h)[:, None] + 1) * (w + 2) + np.arange(w)[None, :] + 1).ravel()
    return index, valid.ravel(), [dy * (w + 2) + dx for dx, dy in NEIGHBOURS]


def epsilon_keys(z, void):
    """The least surface's keys (int64, voids' keys meaningless), by Dijkstra's algorithm on the
    keys: pop the least key, relax each neighbour not done with max(K(n), key + 1). The relaxation
    never lowers a key and always raises it, so the first key popped at a cell is its least."""
    index, valid, offsets = _padded(void)
    keys = np.zeros(valid.size, np.int64)
    keys[index] = float_keys(z).ravel()
    base = keys.tolist()
    best = [None] * valid.size
    done = bytearray(valid.size)
    heap = []
    for i in index[outlets(void).ravel()].tolist():
        best[i] = base[i]
        heap.append((base[i], i))
    heapq.heapify(heap)
    ok = valid.tolist()
    while heap:
        key, c = heapq.heappop(heap)
        if done[c]:
            continue
        done[c] = 1
        for d in offsets:
            n = c + d
            if not ok[n] or done[n]:
                continue
            v = max(base[n], key + 1)
            if best[n] is None or v < best[n]:
                best[n] = v
                heapq.heappush(heap, (v, n))
    out = np.array([b if b is not None else -1 for b in best], np.int64)
    return out[index].reshape(z.shape)


def epsilon_fill(z, void, nodata=None):
    """fill with epsilon as Float32 (voids NaN); raises ValueError where a cell would pass the
    largest finite Float32 or be raised onto `nodata`, which the op refuses (docs/hydrology.md)."""
    keys = epsilon_keys(z, void)
    if (keys[~void] > LARGEST_KEY).any():
        raise ValueError("a cell would pass the largest finite Float32")
    surface = from_keys(np.where(void, 0, keys))
    if nodata is not None and (surface[~void] == np.float32(nodata)).any():
        raise ValueError("a cell would be raised onto the nodata value")
    return np.where(void, np.float32(np.nan), surface)


def _neighbour_min(keys, void, big):
    """Each cell's least neighbour key over valid neighbours (`big` where none)."""
    h, w = keys.shape
    p = np.pad(np.where(void, big, keys), 1, constant_values=big)
    m = np.full((h, w), big, np.int64)
    for dx, dy in NEIGHBOURS:
        m = np.minimum(m, p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w])
    return m


def epsilon_by_relaxation(start, base, void):
    """Kleene's iteration of S <- max(base, min over valid neighbours of S + 1) at the valid cells
    that are not outlets (outlets keep `base`), from keys `start`, until nothing changes: the
    least surface whenever start <= T(start) and start is at most it (fill's keys are), found
    with no order of visits at all. For small rasters: one sweep per key of the largest raise."""
    big = np.int64(2) ** 62
    fixed = void | outlets(void)
    s = np.where(void, big, start).astype(np.int64)
    while True:
        nxt = np.where(fixed, s, np.maximum(base, _neighbour_min(s, void, big) + 1))
        if np.array_equal(nxt, s):
            return s
        s = nxt


def is_epsilon_surface(keys, base, void):
    """Whether `keys` satisfy the equation: outlets at `base`, every other valid cell at
    max(base, its least neighbour + 1)."""
    big = np.int64(2) ** 62
    seeds = outlets(void)
    want = np.where(seeds, base, np.maximum(base, _neighbour_min(keys, void, big) + 1))
    return bool(np.array_equal(keys[~void], want[~void]))


def drains_strictly(surface, void):
    """Whether every valid cell that is not an outlet has a valid neighbour strictly lower, as
    Float32 values compare."""
    h, w = surface.shape
    p = np.pad(np.where(void, np.inf, surface).astype(np.float32), 1, constant_values=np.inf)
    lowest = np.full((h, w), np.inf, np.float32)
    for dx, dy in NEIGHBOURS:
        lowest = np.minimum(lowest, p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w])
    inner = ~void & ~outlets(void)
    return bool((lowest[inner] < surface[inner]).all())


def pit_queue_epsilon_keys(z, void):
    """Priority-Flood+epsilon in the order of Barnes et al. 2014, Algorithm 3 (as RichDEM runs it),
    on keys: a cell is given max(K, key + 1) of the cell that first reaches it, the pit queue
    (first in, first out) taken before the priority queue unless the priority queue's least key
    equals the pit queue's first. Not the least surface in general (docs/hydrology.md)."""
    from collections import deque
    index, valid, offsets = _padded(void)
    keys = np.zeros(valid.size, np.int64)
    keys[index] = float_keys(z).ravel()
    base = keys.tolist()
    level = list(base)
    closed = bytearray(valid.size)
    ok = valid.tolist()
    heap, pit, order = [], deque(), 0
    for i in index[outlets(void).ravel()].tolist():
        closed[i] = 1
        heap.append((base[i], order, i))
        order += 1
    heapq.heapify(heap)
    while heap or pit:
        if pit and heap and heap[0][0] == level[pit[0]]:
            c = heapq.heappop(heap)[2]
        elif pit:
            c = pit.popleft()
        else:
            c = heapq.heappop(heap)[2]
        for d in offsets:
            n = c + d
            if not ok[n] or closed[n]:
                continue
            closed[n] = 1
            if base[n] <= level[c] + 1:
                level[n] = level[c] + 1
                pit.append(n)
            else:
                heapq.heappush(heap, (base[n], order, n))
                order += 1
    return np.array(level, np.int64)[index].reshape(z.shape)


# The tile-graph method for fill's epsilon as designed (docs/hydrology.md), in Python on small
# rasters, so that its exactness is checked before it is built.

def epsilon_bound_keys(fel, void, p=None):
    """An upper bound U of the least surface from fill's surface `fel`: along each cell's flow
    path (flowdir's rule on `fel`: the steepest descent, flats drained to their outlets; or the
    TauDEM-coded directions `p` given) the raise composes as U(c) = max(K(c), U(next) + 1), U = K
    where the flow leaves the raster. Any path to an outlet bounds S so; a cell with U = K keeps
    its height (S = K)."""
    if p is None:
        p = flow_directions(fel, void)
    keys = float_keys(fel)
    h, w = fel.shape
    if (p[~void] == 0).any():
        raise ValueError("a flat without an outlet: not a filled surface")
    # the cell each code points at (a valid cell: flow leaves only where the code is nodata)
    moving = ((p >= 1) & (p <= 8) & ~void).ravel()
    code = np.where(moving.reshape(h, w), p, 1).astype(np.int64) - 1
    ys, xs = np.indices((h, w))
    nxt = ((ys + np.array(D8_DY)[code]) * w + xs + np.array(D8_DX)[code]).ravel()
    nxt = np.where(moving, nxt, np.arange(h * w))
    k = keys.ravel()
    u = k.copy()
    while True:
        grown = np.where(moving, np.maximum(k, u[nxt] + 1), u)
        if np.array_equal(grown, u):
            return u.reshape(h, w)
        u = grown


def _tile_windows(h, w, tile):
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            yield y0, x0, min(h, y0 + tile), min(w, x0 + tile)


def _local_dijkstra(keys, sources, free, window, h, w):
    """Least arrivals over the free cells of `window` (y0, x0, y1, x1) from `sources`, a dict of
    cell (y, x) -> key (any cells), each step max(K, key + 1), never leaving the window."""
    y0, x0, y1, x1 = window
    best = dict(sources)
    heap = [(v, c) for c, v in sources.items()]
    heapq.heapify(heap)
    done = set()
    while heap:
        v, (y, x) = heapq.heappop(heap)
        if (y, x) in done:
            continue
        done.add((y, x))
        for dx, dy in NEIGHBOURS:
            ny, nx = y + dy, x + dx
            if not (y0 <= ny < y1 and x0 <= nx < x1) or not free[ny, nx] or (ny, nx) in done:
                continue
            a = max(int(keys[ny, nx]), v + 1)
            if a < best.get((ny, nx), a + 1):
                best[(ny, nx)] = a
                heapq.heappush(heap, (a, (ny, nx)))
    return best


def _fronts(keys, bound, free, window, start):
    """The front of (L, H) pairs from perimeter cell `start` to every free cell of the window,
    over paths through the window's free cells: entered at v, a path arrives at max(v + L, H). A
    pair is dropped where even the earliest entry (v = K(start)) arrives above the cell's bound."""
    y0, x0, y1, x1 = window
    floor = int(keys[start])
    lowest_h = {start: -(1 << 62)}
    labels = {start: [(0, -(1 << 62))]}
    level = {start: -(1 << 62)}
    length = 0
    while level:
        length += 1
        reached = {}
        for (y, x), hh in level.items():
            for dx, dy in NEIGHBOURS:
                ny, nx = y + dy, x + dx
                if not (y0 <= ny < y1 and x0 <= nx < x1) or not free[ny, nx]:
                    continue
                h2 = max(hh + 1, int(keys[ny, nx]))
                if max(floor + length, h2) > int(bound[ny, nx]):
                    continue
                if lowest_h.get((ny, nx), h2 + 1) <= h2 or reached.get((ny, nx), h2 + 1) <= h2:
                    continue
                reached[(ny, nx)] = h2
        for c, h2 in reached.items():
            labels.setdefault(c, []).append((length, h2))
            lowest_h[c] = h2
        level = reached
    return labels


def epsilon_by_tiles(z, void, tile):
    """fill's epsilon by the designed tile-graph method: fill's surface F and the bound U first
    (their own passes); cells with U = K(F) are fixed; phase 1 per tile: the least arrivals at its
    free perimeter cells from fixed cells (its own and its ring's) through its free cells, and the
    fronts between its free perimeter cells; phase 2: Dijkstra over every tile's free perimeter
    cells (one step across a tile edge, the fronts inside a tile); phase 3 per tile: Dijkstra from
    its fixed cells and its perimeter's solved keys. Returns (keys, pairs kept in fronts, free
    perimeter cells, the most pairs in one front)."""
    h, w = z.shape
    fel = priority_flood(z, void)
    keys = float_keys(fel)
    bound = epsilon_bound_keys(fel, void)
    free = ~void & (bound > keys)
    fixed = ~void & ~free

    def ring_and_own_fixed(window):
        y0, x0, y1, x1 = window
        return {(y, x): int(keys[y, x])
                for y in range(max(0, y0 - 1), min(h, y1 + 1))
                for x in range(max(0, x0 - 1), min(w, x1 + 1)) if fixed[y, x]}

    def perimeter(window):
        y0, x0, y1, x1 = window
        return [(y, x) for y in range(y0, y1) for x in range(x0, x1)
                if free[y, x] and (y in (y0, y1 - 1) or x in (x0, x1 - 1))]

    def tile_of(c):
        return (c[0] // tile, c[1] // tile)

    # phase 1
    start, fronts, pairs, longest = {}, {}, 0, 0
    windows = list(_tile_windows(h, w, tile))
    for window in windows:
        local = _local_dijkstra(keys, ring_and_own_fixed(window), free, window, h, w)
        cells = perimeter(window)
        for p in cells:
            if p in local:
                start[p] = local[p]
            labels = _fronts(keys, bound, free, window, p)
            fronts[p] = {q: labels[q] for q in cells if q != p and q in labels}
            pairs += sum(len(v) for v in fronts[p].values())
            longest = max([longest] + [len(v) for v in fronts[p].values()])
    # phase 2
    solved = {}
    heap = [(v, p) for p, v in start.items()]
    heapq.heapify(heap)
    best = dict(start)
    while heap:
        v, p = heapq.heappop(heap)
        if p in solved:
            continue
        solved[p] = v
        moves = [(q, min(max(v + L, H) for L, H in labels)) for q, labels in fronts[p].items()]
        for dx, dy in NEIGHBOURS:
            q = (p[0] + dy, p[1] + dx)
            if q in fronts and tile_of(q) != tile_of(p):
                moves.append((q, max(int(keys[q]), v + 1)))
        for q, a in moves:
            if q not in solved and a < best.get(q, a + 1):
                best[q] = a
                heapq.heappush(heap, (a, q))
    # phase 3
    out = np.where(void, -1, keys).astype(np.int64)
    for window in windows:
        sources = ring_and_own_fixed(window)
        sources.update({p: solved[p] for p in perimeter(window) if p in solved})
        for (y, x), v in _local_dijkstra(keys, sources, free, window, h, w).items():
            if window[0] <= y < window[2] and window[1] <= x < window[3]:
                out[y, x] = v
    return out, pairs, len(fronts), longest
