# System test: `tessera dem` on n43.dt0 reproduces the gdaldem checksums GDAL's own test suite publishes (tests/data/PROVENANCE.md).
import os
import re
import sys
import tempfile

import systest

ROW = re.compile(r"^\|\s*((?:hillshade|slope|aspect|TRI|TPI|roughness|color-relief)\b[^|]*?)\s*\|\s*([\d /]+?)\s*(?:\([^)]*\))?\s*\|$")


def published_checksums(provenance):
    """[(gdaldem words after the mode's input, [checksum per band])] from the PROVENANCE.md table."""
    rows = []
    with open(provenance, encoding="utf-8") as f:
        for line in f:
            m = ROW.match(line.strip())
            if m:
                rows.append((m.group(1).split(), [int(v) for v in m.group(2).split("/")]))
    return rows


def command_words(args, words, src, out):
    """tessera/gdaldem arguments: the table writes 'color-relief n43 color_file.txt' for the colour case."""
    mode, flags = words[0], words[1:]
    if mode == "color-relief":
        color = os.path.join(args.data, flags[-1])
        return [mode, src, color, out, "-q"]
    return [mode, src, out] + flags + ["-q"]


def checksums(path):
    return [b["checksum"] for b in systest.Raster(path).bands]


def main():
    args = systest.parse_args("tessera dem on n43.dt0 against GDAL's published checksums")
    rows = published_checksums(os.path.join(args.data, "PROVENANCE.md"))
    if len(rows) < 10:
        systest.fail(f"found only {len(rows)} checksum rows in PROVENANCE.md")
    src = os.path.join(args.data, "n43.dt0")
    failures = []
    with tempfile.TemporaryDirectory(prefix="tessera-n43-") as tmp:
        for i, (words, expected) in enumerate(rows):
            ref = os.path.join(tmp, f"ref{i}.tif")
            oracle = systest.run([args.gdaldem] + command_words(args, words, src, ref), args.timeout)
            oracle_sums = checksums(ref) if oracle.returncode == 0 else "failed"
            for ranks in (0, 2):
                out = os.path.join(tmp, f"out{i}_{ranks}.tif")
                label = f"{' '.join(words)} [{'np=2' if ranks else 'alone'}]"
                res = systest.tessera(args, ["dem"] + command_words(args, words, src, out), ranks)
                if res.returncode != 0 or not os.path.exists(out):
                    failures.append(label)
                    print(f"FAIL {label}: {res.describe()}")
                    continue
                got = checksums(out)
                ok = got == expected
                if not ok:
                    failures.append(label)
                print(f"{'ok  ' if ok else 'FAIL'} {label}: {got} (published {expected}, "
                      f"this gdaldem {oracle_sums})")
    if failures:
        systest.fail(f"{len(failures)} checksum mismatches, first: {failures[0]}")
    print(f"{len(rows)} published checksums reproduced, alone and on 2 ranks")


if __name__ == "__main__":
    sys.exit(main())
