# System test: `tessera run` of a job file (jobs/terrain.toml) gives the same pixels as the matching `tessera dem` commands.
import os
import sys
import tempfile
import tomllib

import numpy as np

import systest

# Job-file option -> gdaldem flag (booleans are flags without a value).
FLAGS = {
    "z": "-z", "scale": "-s", "azimuth": "-az", "altitude": "-alt", "alg": "-alg",
    "combined": "-combined", "multidirectional": "-multidirectional", "igor": "-igor",
    "compute_edges": "-compute_edges", "trigonometric": "-trigonometric",
    "zero_for_flat": "-zero_for_flat", "alpha": "-alpha",
    "exact_color_entry": "-exact_color_entry", "nearest_color_entry": "-nearest_color_entry",
}
STEP_KEYS = {"id", "op", "in"}


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise ValueError(f"cannot write {v!r} back as TOML")


def toml_table(header, table):
    return [header] + [f"{k} = {toml_value(v)}" for k, v in table.items()] + [""]


def relocated_job(job, job_dir, out_dir):
    """The job with input paths made absolute and outputs moved into out_dir, as TOML text."""
    lines = []
    for name, spec in job.get("input", {}).items():
        spec = dict(spec, path=os.path.join(job_dir, spec["path"]))
        lines += toml_table(f"[input.{name}]", spec)
    for step in job.get("step", []):
        lines += toml_table("[[step]]", step)
    for i, output in enumerate(job.get("output", [])):
        output = dict(output, path=os.path.join(out_dir, f"job{i}_{os.path.basename(output['path'])}"))
        lines += toml_table("[[output]]", output)
    if "run" in job:
        lines += toml_table("[run]", job["run"])
    return "\n".join(lines)


def dem_words(job, job_dir, step, out):
    """The `tessera dem` words equivalent to one step, or None when the step reads another step."""
    inputs = job.get("input", {})
    if step["in"] not in inputs:
        return None
    source = inputs[step["in"]]
    words = ["dem", step["op"], os.path.join(job_dir, source["path"])]
    options = {k: v for k, v in step.items() if k not in STEP_KEYS}
    if "color_file" in options:
        words.append(os.path.join(job_dir, options.pop("color_file")))
    words.append(out)
    if "band" in source:
        words += ["-b", str(source["band"])]
    for key, value in options.items():
        if key == "units":
            words += ["-p"] if value == "percent" else []
        elif key not in FLAGS:
            systest.fail(f"step '{step['id']}': no gdaldem flag known for option '{key}'")
        elif isinstance(value, bool):
            words += [FLAGS[key]] if value else []
        else:
            words += [FLAGS[key], str(value)]
    return words + ["-q"]


def band_of(raster, index):
    b = raster.bands[index]
    return b["array"], b["type"], b["nodata"]


def compare_output(args, job, job_dir, output, path, tmp):
    """Problems between one job output and the `tessera dem` runs of the steps it holds."""
    steps = {s["id"]: s for s in job.get("step", [])}
    sources = output["from"] if isinstance(output["from"], list) else [output["from"]]
    got = systest.Raster(path)
    problems, compared = [], 0
    expected_bands = len(sources)
    for i, step_id in enumerate(sources):
        ref_path = os.path.join(tmp, f"dem_{step_id}.tif")
        words = dem_words(job, job_dir, steps[step_id], ref_path)
        if words is None:
            print(f"     step '{step_id}' reads another step: no single tessera dem equivalent, not compared")
            continue
        res = systest.tessera(args, words)
        if res.returncode != 0:
            problems.append(f"tessera dem for '{step_id}' failed: {res.describe()}")
            continue
        ref = systest.Raster(ref_path)
        if got.size[:2] != ref.size[:2] or i >= got.size[2]:
            problems.append(f"'{step_id}': size {got.size} vs dem {ref.size}")
            continue
        a, ta, na = band_of(ref, 0)
        b, tb, nb = band_of(got, i)
        if ta != tb or not (na == nb or (na != na and nb != nb)):
            problems.append(f"'{step_id}': type/nodata {tb}/{nb} vs dem {ta}/{na}")
        elif not np.array_equal(a, b, equal_nan=np.issubdtype(a.dtype, np.floating)):
            problems.append(f"'{step_id}': {int(np.count_nonzero(a != b))} cells differ from tessera dem")
        if got.geotransform != ref.geotransform or not got.srs or not got.srs.IsSame(ref.srs):
            problems.append(f"'{step_id}': georeferencing differs from tessera dem")
        compared += 1
    wanted = output.get("compress")
    if wanted and (got.compression or "").lower() != wanted.lower():
        problems.append(f"compression {got.compression}, the job asks for {wanted}")
    if got.size[2] != expected_bands:
        problems.append(f"{got.size[2]} bands, expected {expected_bands}")
    return problems, compared


def main():
    args = systest.parse_args("tessera run of a job against tessera dem",
                              lambda p: p.add_argument("--job", required=True))
    job_dir = os.path.dirname(os.path.abspath(args.job))
    with open(args.job, "rb") as f:
        job = tomllib.load(f)
    failures, compared = [], 0
    with tempfile.TemporaryDirectory(prefix="tessera-job-") as tmp:
        job_path = os.path.join(tmp, os.path.basename(args.job))
        with open(job_path, "w") as f:
            f.write(relocated_job(job, job_dir, tmp))
        res = systest.tessera(args, ["run", job_path, "-q"], ranks=2)
        if res.returncode != 0:
            systest.fail(f"tessera run failed: {res.describe()}")
        for i, output in enumerate(job.get("output", [])):
            path = os.path.join(tmp, f"job{i}_{os.path.basename(output['path'])}")
            if not os.path.exists(path):
                failures.append(f"no output {output['path']}")
                continue
            problems, n = compare_output(args, job, job_dir, output, path, tmp)
            compared += n
            print(f"{'ok  ' if not problems else 'FAIL'} {output['path']} (from {output['from']})"
                  + (f": {'; '.join(problems)}" if problems else ": identical to tessera dem"))
            failures += problems
    if failures or compared == 0:
        systest.fail(f"{len(failures)} problems; {compared} bands compared")
    print(f"{compared} bands of {args.job} (run on 2 ranks) identical to tessera dem (alone)")


if __name__ == "__main__":
    sys.exit(main())
