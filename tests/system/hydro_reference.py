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
