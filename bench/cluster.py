"""The cluster path of `grade batch` against the local one (not part of the test suite).

    python bench/cluster.py [--students 200] [--small 20] [--workers 2] [--repeat 1] [--label NAME]

Builds STUDENTS correct vectorized exercise3 submissions (folders with a
quiz.toml), then times the real `grade batch` command on them, each run into
a fresh output folder:

- `--jobs W` and `--cluster local:W`, on STUDENTS and on SMALL students
  (REPEAT times each, in alternating order; the median is shown). The
  difference of the two sizes gives each mode's cost per student (its slope)
  and its fixed cost (start-up, canaries), without one blurring the other;
- the client's own CPU time in the cluster runs (read from /proc while it
  runs; with local:W the scheduler and the nannies live in the client, so
  this is an upper bound for a client of an external cluster);
- in this process, what the client does per result: parse the results
  model, render and write the student's three files and the state file
  (what caps a cluster's throughput however many workers it has), and the
  bytes that travel per student each way.

Prints a Markdown report (also written to bench/results-cluster-LABEL.md).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SOURCE = (ROOT / "tests" / "corpus" / "correct_vectorized.py").read_text()
KEY = (ROOT / "solutions" / "exercise3" / "quiz_key.toml").read_text()
TICKS = os.sysconf("SC_CLK_TCK")


def build(folder: Path, count: int) -> Path:
    for i in range(count):
        student = folder / f"s{i:03d}"
        student.mkdir(parents=True)
        (student / "logistic_regression.py").write_text(f"# student {i}\n{SOURCE}")
        (student / "quiz.toml").write_text(KEY)
    return folder


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of process `pid` itself (all its threads, not its children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def run_batch(subs: Path, out: Path, mode: list[str]) -> dict:
    """Wall time of one `grade batch` run, and the CPU of the client process (last reading before it exits)."""
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "grader", "batch", "exercise3", str(subs), "--out", str(out),
                             *mode], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    cpu = 0.0
    while proc.poll() is None:
        cpu = cpu_seconds(proc.pid) or cpu
        time.sleep(0.1)
    wall = time.perf_counter() - start
    stdout = proc.stdout.read()
    if proc.returncode != 0 or f"graded {len(list(subs.iterdir()))}," not in stdout:
        raise SystemExit(f"batch {mode} failed (exit {proc.returncode}):\n{stdout}")
    return {"wall": wall, "client_cpu": cpu}


def client_costs(out: Path, count: int) -> dict:
    """Per result, in this process: from the JSON text a worker sends back to the files on disk."""
    from grader.batch.run import Batch, record
    from grader.course import Course
    from grader.render import charts
    from grader.results import GradeResult

    exercise = Course(ROOT).exercise("exercise3")
    texts = [json.dumps(json.loads(p.read_text())) for p in sorted(out.glob("*/report.json"))][:count]
    target = Path(tempfile.mkdtemp(prefix="grader-bench-writes-"))
    batch = Batch(exercise, target, target, False, "bench")
    charts.preload()
    record(batch, {"entry": {"id": "warm"}, "digest": ""}, GradeResult.from_dict(json.loads(texts[0])))
    start, cpu = time.perf_counter(), time.process_time()
    for i, text in enumerate(texts):
        record(batch, {"entry": {"id": f"s{i:03d}"}, "digest": ""}, GradeResult.from_dict(json.loads(text)))
    per_result = (time.perf_counter() - start) / len(texts)
    cpu_per_result = (time.process_time() - cpu) / len(texts)
    sizes = [p.stat().st_size for p in target.glob("s*/*")]
    shutil.rmtree(target)
    return {"per_result": per_result, "cpu_per_result": cpu_per_result,
            "result_bytes": statistics.mean(len(t.encode()) for t in texts),
            "written_bytes": sum(sizes) / len(texts), "files_per_result": len(sizes) / len(texts)}


def dask_round_trips(count: int, workers: int, out_bytes: int, back_bytes: int) -> float:
    """Seconds per task of Dask alone, with the cluster path's sizes: `count` tasks carrying `out_bytes` and
    returning `back_bytes`, submitted at once and collected as they complete (each result released)."""
    import logging
    import operator

    from distributed import Client, LocalCluster, as_completed

    with LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                      silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
        text = "x" * out_bytes
        client.submit(operator.mul, text, 1).result()  # warm
        start = time.perf_counter()
        futures = [client.submit(operator.mul, text, max(1, back_bytes // out_bytes), pure=False)
                   for _ in range(count)]
        for future in as_completed(futures):
            future.result()
            future.release()
        return (time.perf_counter() - start) / count


def slope(big: dict, small: dict, key: str, n_big: int, n_small: int) -> tuple[float, float]:
    """(per student, fixed) of `key` from the runs at two sizes."""
    per = (big[key] - small[key]) / (n_big - n_small)
    return per, small[key] - per * n_small


def main():
    from grader.batch.transfer import pack
    from grader.submissions.entries import scan

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--small", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each batch (their median is shown)")
    parser.add_argument("--label", default="run")
    args = parser.parse_args()
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="grader-bench-cluster-"))
    try:
        sizes = {"big": args.students, "small": args.small}
        subs = {k: build(tmp / f"subs-{k}", n) for k, n in sizes.items()}
        modes = {"local": ["--jobs", str(args.workers)], "cluster": ["--cluster", f"local:{args.workers}"]}
        samples = {}
        for turn in range(args.repeat):
            for size in ("small", "big"):  # the modes alternate, so that a slow spell touches both
                for mode in (list(modes) if turn % 2 == 0 else list(modes)[::-1]):
                    run = run_batch(subs[size], tmp / f"out-{mode}-{size}", modes[mode])
                    samples.setdefault((mode, size), []).append(run)
        runs = {key: {k: statistics.median(r[k] for r in found) for k in found[0]} for key, found in samples.items()}
        costs = client_costs(tmp / "out-cluster-big", 100)
        payload = statistics.mean(len(pack(e)) for e in scan(subs["big"])[:20])
        dask_task = dask_round_trips(args.students, args.workers, int(payload), int(costs["result_bytes"]))
    finally:
        load_after = os.getloadavg()
        shutil.rmtree(tmp, ignore_errors=True)
    n, m, w = args.students, args.small, args.workers
    lines = [f"# Cluster path vs local batch ({args.label})", "",
             f"{n} and {m} correct vectorized students, {w} workers / jobs, median of {args.repeat} "
             f"{'run' if args.repeat == 1 else 'runs'} each, {os.cpu_count()} CPUs; load average "
             f"{load_before[0]:.2f} before, {load_after[0]:.2f} after.", "",
             "| run | wall | students/s | client CPU |", "|---|---|---|---|"]
    for (mode, size), r in runs.items():
        count = sizes[size]
        flags = " ".join(modes[mode])
        lines.append(f"| {flags}, {count} students | {r['wall']:.1f} s | {count / r['wall']:.2f} | "
                     + (f"{r['client_cpu']:.1f} s |" if mode == "cluster" else "- |"))
    per = {mode: slope(runs[mode, "big"], runs[mode, "small"], "wall", n, m) for mode in modes}
    client_per, client_fixed = slope(runs["cluster", "big"], runs["cluster", "small"], "client_cpu", n, m)
    rate_per_core = 1 / (per["cluster"][0] * w)
    client_cap = 1 / costs["per_result"]
    lines += ["",
              "| per student (slope between the two sizes) | --jobs | --cluster |", "|---|---|---|",
              f"| wall per student | {1000 * per['local'][0]:.0f} ms | {1000 * per['cluster'][0]:.0f} ms |",
              f"| fixed cost (start-up, canaries, class files) | {per['local'][1]:.1f} s | {per['cluster'][1]:.1f} s |",
              "",
              f"- cluster overhead per student: {1000 * (per['cluster'][0] - per['local'][0]):+.0f} ms of wall "
              f"({100 * (per['cluster'][0] / per['local'][0] - 1):+.0f}%)",
              f"- students/s per worker core (cluster slope): {rate_per_core:.2f}",
              f"- client CPU per student (cluster runs, scheduler included): {1000 * client_per:.1f} ms; "
              f"fixed {client_fixed:.1f} s",
              f"- Dask alone, per task of these sizes ({args.students} at once, {w} workers): "
              f"{1000 * dask_task:.1f} ms",
              f"- client per result in-process (parse, render, write 4 files with fsync): "
              f"{1000 * costs['per_result']:.1f} ms ({1000 * costs['cpu_per_result']:.1f} ms of CPU) "
              f"-> at most {client_cap:.0f} results/s, "
              f"{costs['files_per_result']:.0f} files and {costs['written_bytes'] / 1024:.0f} KB written per student",
              f"- bytes per student: {payload / 1024:.1f} KB out (the entry, packed), "
              f"{costs['result_bytes'] / 1024:.1f} KB back (the results model as JSON)",
              f"- workers before the client saturates: about {client_cap / rate_per_core:.0f} worker cores"]
    report = "\n".join(lines) + "\n"
    print(report)
    (ROOT / "bench" / f"results-cluster-{args.label}.md").write_text(report)


if __name__ == "__main__":
    main()
