"""Speed and memory benchmark of the grader (not part of the test suite).

    python bench/run.py [--label NAME] [--students 200] [--repeat 15] [--jobs 1,2]

Builds a realistic set of exercise3 submissions in a temporary folder
(correct in four styles, one realistic bug each, a few hostile ones), then
measures with the real `grade` command:

- single verdict: wall time of `grade exercise3 --submission DIR` for a correct
  vectorized submission, terminal report only, then with --html; and per
  kind: correct, a wrong sigmoid, a wrong cost (vectorized and loop-style),
  and an endless loop;
- batch throughput over the mixed set and over vectorized submissions only,
  at --jobs 1 and --jobs 2, with the bound set by the student code's own
  compute time (sum of time inside student calls / jobs);
- the grader's own overhead per submission in a batch: wall x jobs / N minus
  the mean time inside student calls;
- peak memory of the grading process and of one worker.

Prints a Markdown report (also written to bench/results-LABEL.md).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_corpus import (  # noqa: E402
    BASE,
    BUGS,
    CORPUS,
    DESCENT_OF_LISTS,
    GRADIENT_AS_LIST,
    STABLE_WHERE,
    ZERO_D,
    with_function,
)

HOSTILE = {
    "loops_forever": """
        def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
            import signal
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                pass""",
    "prints_a_flood": """
        def sigmoid(z):
            for _ in range(20000):
                print("x" * 1000)
            return 1 / (1 + np.exp(-z))""",
    "memory_bomb": """
        def compute_cost_logistic(X, y, w, b):
            hoard = []
            while True:
                hoard.append(np.ones(10**7))""",
}
KEY = (ROOT / "solutions" / "exercise3" / "quiz_key.toml").read_text()


LOOPS = (CORPUS / "correct_loops.py").read_text()


def build(folder: Path, count: int, only_vectorized: bool = False) -> list[str]:
    """Write `count` student folders; returns their kinds (for the report):
    a correct style's name, "vectorized: BUG" or "loops: BUG" (one bug in the
    vectorized or the loop-style submission), or a hostile kind."""
    styles = sorted(CORPUS.glob("correct_*.py"))
    kinds = []
    for i in range(count):
        if only_vectorized:
            kind, source = "correct_vectorized", (CORPUS / "correct_vectorized.py").read_text()
        elif i % 20 < 12:
            path = styles[i % len(styles)]
            kind, source = path.stem, path.read_text()
        elif i % 20 < 19:
            name = sorted(BUGS)[i % len(BUGS)]
            loops = (i // 20 + i) % 2 == 1  # half the buggy students write loops
            kind = f"{'loops' if loops else 'vectorized'}: {name}"
            source = with_function(LOOPS if loops else BASE, BUGS[name][1])
        else:
            name = sorted(HOSTILE)[(i // 20) % len(HOSTILE)]
            kind, source = name, with_function(BASE, HOSTILE[name])
        student = folder / f"s{i:03d}"
        student.mkdir(parents=True)
        (student / "logistic_regression.py").write_text(f"# student {i}: {kind}\n{source}")
        (student / "quiz.toml").write_text(KEY)
        kinds.append(kind)
    return kinds


def group(kind: str) -> str | None:
    """The group a kind is compared in: correct or with a wrong sigmoid or cost, loops or vectorized."""
    if kind.startswith("correct_"):
        return "loops, correct" if kind == "correct_loops" else "vectorized, correct"
    style, _, bug = kind.partition(": ")
    if bug in BUGS and BUGS[bug][0] in ("sigmoid", "compute_cost_logistic"):
        return f"{style}, wrong sigmoid or cost"
    return None


def grade_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "grader", *map(str, args)]


def timed(cmd) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def spread(samples) -> str:
    samples = sorted(samples)
    p90 = samples[int(0.9 * (len(samples) - 1))]
    return (f"median {statistics.median(samples):.3f} s (min {samples[0]:.3f}, p90 {p90:.3f}, "
            f"max {samples[-1]:.3f}; n={len(samples)})")


def single_verdicts(tmp: Path, repeat: int) -> dict:
    student = tmp / "one"
    build(student, 1, only_vectorized=True)
    folder = student / "s000"
    timed(grade_cmd("exercise3", "--submission", folder))  # warm the OS caches
    plain = [timed(grade_cmd("exercise3", "--submission", folder)) for _ in range(repeat)]
    html = [timed(grade_cmd("exercise3", "--submission", folder, "--html", tmp / "f.html"))
            for _ in range(max(3, repeat // 3))]
    return {"plain": plain, "html": html}


def batch(tmp: Path, name: str, count: int, jobs: int, only_vectorized: bool) -> dict:
    subs = tmp / f"{name}-subs"
    kinds = build(subs, count, only_vectorized) if not subs.exists() else None
    if kinds is not None:
        (subs.parent / f"{name}-kinds.json").write_text(json.dumps(kinds))
    kinds = json.loads((subs.parent / f"{name}-kinds.json").read_text())
    out = tmp / f"{name}-out-{jobs}"
    shutil.rmtree(out, ignore_errors=True)
    wall = timed(grade_cmd("batch", "exercise3", subs, "--out", out, "--jobs", jobs))
    reports = {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/report.json")}
    inside = [r.get("student_seconds", 0.0) for r in reports.values()]
    graded = [r for r in reports.values() if r.get("status") == "graded"]
    per_group: dict[str, list] = {}
    for student, report in reports.items():
        kind_group = group(kinds[int(student[1:])])
        if kind_group and report.get("status") == "graded":
            per_group.setdefault(kind_group, []).append(report["seconds"])
    return {
        "name": name, "jobs": jobs, "count": len(reports), "graded": len(graded), "wall": wall,
        "rate": len(reports) / wall, "student_total": sum(inside),
        "bound": sum(inside) / jobs,
        "overhead_ms": 1000 * (wall * jobs / len(reports) - statistics.mean(inside)),
        "groups": {g: statistics.median(v) for g, v in per_group.items()},
    }


KINDS = {  # one submission per group of the mixed class, for single verdicts
    "vectorized, correct": BASE,
    "vectorized, wrong sigmoid": with_function(BASE, BUGS["sigmoid_sign_flipped"][1]),
    "vectorized, wrong cost": with_function(BASE, BUGS["cost_missing_1_over_m"][1]),
    "loops, correct": LOOPS,
    "loops, wrong sigmoid": with_function(LOOPS, BUGS["sigmoid_sign_flipped"][1]),
    "loops, wrong cost": with_function(LOOPS, BUGS["cost_missing_1_over_m"][1]),
    "an endless loop (hostile)": with_function(BASE, HOSTILE["loops_forever"]),
    # Right numbers in another form (issue 12): each should take what a correct vectorized one takes.
    "vectorized, stable np.where sigmoid": with_function(BASE, STABLE_WHERE),
    "vectorized, 0-d array sigmoid": with_function(BASE, ZERO_D),
    "vectorized, gradient as a list": with_function(DESCENT_OF_LISTS, GRADIENT_AS_LIST),
}


def single_by_kind(tmp: Path, repeat: int) -> dict:
    """Median single verdict (the `grade` command) per kind, kinds alternated."""
    folders = {}
    for i, (kind, source) in enumerate(KINDS.items()):
        folders[kind] = tmp / f"kind{i}"
        folders[kind].mkdir()
        (folders[kind] / "logistic_regression.py").write_text(source)
        (folders[kind] / "quiz.toml").write_text(KEY)
    times = {kind: [] for kind in KINDS}
    for _ in range(repeat):
        for kind, folder in folders.items():
            times[kind].append(timed(grade_cmd("exercise3", "--submission", folder)))
    return {kind: statistics.median(t) for kind, t in times.items()}


LAB_RUN = """
import sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from correct_vectorized import gradient_descent
X = np.array([[0.5, 1.5], [1, 1], [1.5, 0.5], [3, 0.5], [2, 2], [1, 2.5]])
y = np.array([0, 0, 0, 1, 1, 1])
times = []
for _ in range(5):
    start = time.perf_counter()
    gradient_descent(X, y, np.zeros(2), 0.0, 0.1, 10000)
    times.append(time.perf_counter() - start)
print(sorted(times)[2])
"""


def machine_scaling() -> dict:
    """The student's own code with no grader at all: the lab's 10000-step run
    (vectorized), alone and as two copies at once. The second shows what a
    second job can add on this machine before any grading work."""
    cmd = [sys.executable, "-c", LAB_RUN, str(CORPUS)]
    alone, together = [], []
    for _ in range(3):  # alternated, so that a slow spell of the machine touches both
        alone.append(float(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout))
        pair = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
        together.append(statistics.mean(float(p.communicate()[0]) for p in pair))
    return {"alone": statistics.median(alone), "together": statistics.median(together)}


def memory() -> dict:
    """Peak RSS of a grading process (this one, grading in-process) and of its worker."""
    from grader.course import Course
    from grader.grading import grade
    from grader.sandbox import session
    from grader.submissions import load_submission

    peaks = []
    original = session.Sandbox.close

    def close_and_measure(self):
        pid = getattr(self, "init_pid", None) or (self.proc.pid if getattr(self, "proc", None) else None)
        if pid:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                peaks.append(int(next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1]))
            except (OSError, StopIteration, ValueError):
                pass
        original(self)

    session.Sandbox.close = close_and_measure
    exercise = Course(ROOT).exercise("exercise3")
    folder = Path(tempfile.mkdtemp()) / "m"
    build(folder, 1, only_vectorized=True)
    grade(exercise, load_submission(exercise, folder / "s000"))
    session.Sandbox.close = original
    grader_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"grader_mb": grader_kb / 1024, "worker_mb": (max(peaks) / 1024) if peaks else float("nan")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--label", default="run")
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--jobs", default="1,2", help="the batches' --jobs values, comma-separated")
    args = parser.parse_args()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    tmp = Path(tempfile.mkdtemp(prefix="grader-bench-"))
    try:
        scaling = machine_scaling()
        single = single_verdicts(tmp, args.repeat)
        kinds = single_by_kind(tmp, max(3, args.repeat // 3))
        batches = [batch(tmp, kind, args.students, int(jobs), kind == "vectorized")
                   for kind in ("mixed", "vectorized") for jobs in args.jobs.split(",")]
        mem = memory()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        f"### {args.label}",
        "",
        f"Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average before: {load}. "
        f"Command: `{Path(sys.executable).name} bench/run.py --label {args.label} --students {args.students} "
        f"--repeat {args.repeat} --jobs {args.jobs}`"
        f" ({'a venv' if sys.prefix != sys.base_prefix else 'no venv'}; PYTHONDONTWRITEBYTECODE="
        f"{os.environ.get('PYTHONDONTWRITEBYTECODE', 'unset')})",
        "",
        f"- the student's code alone (lab's 10000-step run, vectorized, no grader): {scaling['alone']:.3f} s; "
        f"{scaling['together']:.3f} s each with two copies at once, so 2 jobs do "
        f"{2 * scaling['alone'] / scaling['together']:.2f}x the work of one, and the run alone caps 2 jobs at "
        f"{2 / scaling['together']:.1f} students/s",
        f"- single verdict, correct vectorized, terminal report: {spread(single['plain'])}",
        f"- single verdict with --html: {spread(single['html'])}",
        f"- peak memory: grading process {mem['grader_mb']:.0f} MB, one worker {mem['worker_mb']:.0f} MB",
        "",
        "| batch | jobs | students | wall | per second | student-code bound | wall / bound | "
        "grader overhead per submission |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for b in batches:
        lines.append(
            f"| {b['name']} | {b['jobs']} | {b['count']} | {b['wall']:.1f} s | {b['rate']:.2f} | {b['bound']:.1f} s | "
            f"{b['wall'] / b['bound']:.2f} | {b['overhead_ms']:.0f} ms |"
        )
    walls = {(b["name"], b["jobs"]): b["wall"] for b in batches}
    for jobs in args.jobs.split(","):
        lines.append(f"\nMixed class / all-correct class at --jobs {jobs}: "
                     f"{walls[('mixed', int(jobs))] / walls[('vectorized', int(jobs))]:.2f}x")
    lines += ["", f"Single verdicts by kind (the `grade` command, median of {max(3, args.repeat // 3)}):", "",
              "| kind | median | / correct of its style |", "|---|---|---|"]
    for kind, seconds in kinds.items():
        style = "loops" if kind.startswith("loops") else "vectorized"
        lines.append(f"| {kind} | {seconds:.3f} s | {seconds / kinds[f'{style}, correct']:.2f}x |")
    for b in batches:
        if b["name"] == "mixed" and b["groups"]:
            lines += ["", f"Mixed batch at --jobs {b['jobs']}, median seconds grading one student (in the batch, "
                      "without the process start), by group:", ""]
            for name, seconds in sorted(b["groups"].items()):
                style = name.split(",")[0]
                base = b["groups"].get(f"{style}, correct")
                lines.append(f"- {name}: {seconds:.3f} s" + (f" ({seconds / base:.2f}x)" if base else ""))
    report = "\n".join(lines) + "\n"
    print(report)
    (ROOT / "bench" / f"results-{args.label}.md").write_text(report)


if __name__ == "__main__":
    main()
