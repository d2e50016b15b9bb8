"""numpy references for focal.*: the block arithmetic docs/jobs.md states for the running windows
(square mean, sum, count, variance, stddev, min, max, range), and plain window statistics for
the others."""
import numpy as np


def valid_of(a, nodata):
    """Cells that count: not NaN and not the nodata value (compared in the cells' type)."""
    valid = ~np.isnan(a) if a.dtype.kind == "f" else np.ones(a.shape, bool)
    if nodata is not None and not np.isnan(nodata):
        valid &= a != a.dtype.type(nodata)
    return valid


def blocked(v, r, ufunc, empty, axis):
    """Each position's window [i - r, i + r] (clipped to the axis) of v along `axis`, combined
    from blocks of w = 2r + 1 positions from 0: prefixes accumulated from a block's start,
    suffixes from its end, then P(b), S(a) or S(a) + P(b)."""
    v = np.moveaxis(v, axis, 0)
    n, w = v.shape[0], 2 * r + 1
    blocks = -(-n // w)
    padded = np.full((blocks * w,) + v.shape[1:], empty)
    padded[:n] = v
    shaped = padded.reshape((blocks, w) + v.shape[1:])
    prefix = ufunc.accumulate(shaped, axis=1).reshape(padded.shape)
    # Suffixes run from the last position inside the raster: padding never enters them.
    suffix = np.empty_like(padded)
    for k in range(blocks):
        lo, hi = k * w, min(n, (k + 1) * w)
        suffix[lo:hi] = ufunc.accumulate(padded[lo:hi][::-1], axis=0)[::-1]
    i = np.arange(n)
    a, b = np.maximum(0, i - r), np.minimum(n - 1, i + r)
    out = ufunc(suffix[a], prefix[b])
    aligned, same = a % w == 0, (a // w == b // w) & (a % w != 0)
    out[aligned] = prefix[b[aligned]]
    out[same] = suffix[a[same]]
    return np.moveaxis(out, 0, axis)


def window(a, valid, r, term, ufunc, empty):
    v = np.where(valid, term(a.astype(np.float64)), empty)
    return blocked(blocked(v, r, ufunc, empty, 0), r, ufunc, empty, 1)


def running(a, nodata, r, stat):
    """Float32 result of a running method, nodata -9999, as the kernel computes it."""
    valid = valid_of(a, nodata)
    one = lambda x: np.ones_like(x)
    with np.errstate(all="ignore"):
        if stat in ("min", "max", "range"):
            lo = window(a, valid, r, lambda x: x, np.minimum, np.inf)
            hi = window(a, valid, r, lambda x: x, np.maximum, -np.inf)
            out = {"min": lo, "max": hi, "range": hi - lo}[stat]
        else:
            s = window(a, valid, r, lambda x: x, np.add, 0.0)
            n = window(a, valid, r, one, np.add, 0.0)
            if stat == "mean":
                out = s / n
            elif stat == "sum":
                out = s
            elif stat == "count":
                out = n
            else:
                q = window(a, valid, r, lambda x: x * x, np.add, 0.0)
                out = np.maximum(0.0, (q - s * (s / n)) / n)
                if stat == "stddev":
                    out = np.sqrt(out)
    return np.where(valid, out, np.nan)


def windows_of(a, valid, r, circle):
    """Every cell's (2r + 1)^2 window as a view, NaN outside the raster and on invalid cells,
    and the mask of the window's shape."""
    padded = np.pad(np.where(valid, a.astype(np.float64), np.nan), r, constant_values=np.nan)
    views = np.lib.stride_tricks.sliding_window_view(padded, (2 * r + 1, 2 * r + 1))
    d = np.arange(-r, r + 1)
    mask = (d[:, None] ** 2 + d[None, :] ** 2 <= r * r) if circle else np.ones((2 * r + 1,) * 2, bool)
    return views, mask


def nanquantile_last(values, q):
    """np.nanquantile(values, q, axis=-1) (method "linear", type 7) with the same bits, for the
    whole array at once: numpy takes the windows one at a time through apply_along_axis, a Python
    call per cell (20-30 s for the four order statistics of focal_methods.py on SRTM). Sorted
    NaNs go last; the n valid values' virtual index (n - 1) * q, its floor and the next index
    (both the last valid value past it) and numpy's _lerp, which from a weight of 0.5 on counts
    from the upper value."""
    q = np.float64(q)
    ordered_values = np.sort(values, axis=-1)
    n = (~np.isnan(values)).sum(axis=-1)
    virtual = (n - 1) * q
    previous = np.floor(virtual)
    above = virtual >= n - 1
    lo = np.where(above, n - 1, previous).clip(0).astype(np.intp)
    hi = np.where(above, n - 1, previous + 1).clip(0).astype(np.intp)
    gamma = virtual - previous
    a = np.take_along_axis(ordered_values, lo[..., None], axis=-1)[..., 0]
    b = np.take_along_axis(ordered_values, hi[..., None], axis=-1)[..., 0]
    diff = b - a
    out = a + diff * gamma
    upper = gamma >= 0.5
    out[upper] = (b - diff * (1 - gamma))[upper]
    out[n == 0] = np.nan
    return out


def ordered(a, nodata, r, circle, q):
    """The q-quantile (0..1) of each window's valid cells, linear between ranks (type 7)."""
    valid = valid_of(a, nodata)
    views, mask = windows_of(a, valid, r, circle)
    values = views[:, :, mask]
    with np.errstate(all="ignore"):
        out = nanquantile_last(values, q)
        # numpy's own nanquantile on every 7th window each way (its pace: a second or so) must
        # give the same bits: the vectorised one stands in for it on the rest.
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sample = np.nanquantile(values[::7, ::7], q, axis=2)
    if not np.array_equal(out[::7, ::7], sample, equal_nan=True):
        raise AssertionError("nanquantile_last differs from np.nanquantile")
    return np.where(valid, out, np.nan)


def classes(a, nodata, r, circle, stat):
    """mode, minority (the smallest class on ties) or diversity of each window's valid cells."""
    valid = valid_of(a, nodata)
    views, mask = windows_of(a, valid, r, circle)
    values = views[:, :, mask]
    present = np.unique(a[valid])
    counts = np.stack([(values == c).sum(axis=2) for c in present], axis=2)
    if stat == "diversity":
        out = (counts > 0).sum(axis=2).astype(np.float64)
    elif stat == "mode":
        out = present[np.argmax(counts, axis=2)].astype(np.float64)
    else:
        big = np.iinfo(np.int64).max
        out = present[np.argmin(np.where(counts > 0, counts, big), axis=2)].astype(np.float64)
    return np.where(valid, out, np.nan)


def to_type(values, dtype, nodata):
    """values (NaN for nodata) as tessera stores them: rounded half away from zero and
    saturated into integer types."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        out = values.astype(dtype)
    else:
        info = np.iinfo(dtype)
        rounded = np.sign(values) * np.floor(np.abs(values) + 0.5)
        out = np.clip(np.nan_to_num(rounded), info.min, info.max).astype(dtype)
    if nodata is not None:
        out[np.isnan(values)] = nodata
    return out
