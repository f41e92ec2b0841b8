"""What an endless loop costs a student, next to a correct verdict, in two trees of the project side by side.

For each submission (the reference; the lab's loop-style correct solution;
the reference with an endless loop in one function, for each of the four) it
runs `grade exercise3 --submission S --json` ROUNDS times in each tree,
alternating the trees, and prints the median wall time, the loop's cost over
the reference's verdict in the same tree, and the totals (which must not
differ between the trees, nor with --hog, which keeps a CPU-bound process
running beside every grade).

    .venv/bin/python bench/loop_cost.py --before /path/to/other/checkout [--rounds 5] [--hog]

Make the other checkout with `git worktree add /tmp/before COMMIT`.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = (ROOT / "solutions" / "exercise3" / "logistic_regression.py").read_text()
KEY = (ROOT / "solutions" / "exercise3" / "quiz_key.toml").read_text()
FUNCTIONS = ["sigmoid", "compute_cost_logistic", "compute_gradient_logistic", "gradient_descent"]


def looping(fn: str) -> str:
    """The reference with `fn`'s body replaced by an endless loop."""
    start = REFERENCE.index(f"def {fn}(")
    end = REFERENCE.find("\ndef ", start + 5)
    header = REFERENCE[start:REFERENCE.index(":\n", start) + 2]
    return REFERENCE[:start] + header + "    while True:\n        pass\n\n" + (REFERENCE[end:] if end > 0 else "")


def submissions(folder: Path) -> dict:
    sources = {"reference": REFERENCE, "loop-style correct": (ROOT / "tests/corpus/correct_loops.py").read_text()}
    sources.update({f"loop in {fn}": looping(fn) for fn in FUNCTIONS})
    made = {}
    for i, (name, source) in enumerate(sources.items()):
        sub = folder / f"s{i}"
        sub.mkdir()
        (sub / "logistic_regression.py").write_text(source)
        (sub / "quiz.toml").write_text(KEY)
        made[name] = sub
    return made


def grade(tree: Path, sub: Path, out: Path) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "grader", "exercise3", "--root", str(tree), "--submission", str(sub),
                           "--json", str(out)], cwd=tree, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return wall, json.loads(out.read_text())["score"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, required=True, help="another checkout of the project")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--hog", action="store_true", help="a CPU-bound process beside every grade")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": ROOT}
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.hog else None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            subs = submissions(Path(tmp))
            walls = {(t, s): [] for t in trees for s in subs}
            scores = {}
            for _ in range(args.rounds):
                for name, sub in subs.items():
                    for tree_name, tree in trees.items():
                        wall, score = grade(tree, sub, Path(tmp) / "report.json")
                        walls[tree_name, name].append(wall)
                        scores.setdefault((tree_name, name), set()).add(score)
    finally:
        if hog:
            hog.kill()
    print(f"rounds: {args.rounds}, hog: {'yes' if args.hog else 'no'}; median wall in s (cost over the reference)\n")
    print("| submission | before | after | total before | total after |")
    print("|---|---|---|---|---|")
    for name in subs:
        cells = []
        for tree_name in trees:
            median = statistics.median(walls[tree_name, name])
            base = statistics.median(walls[tree_name, "reference"])
            cells.append(f"{median:.2f}" + ("" if name == "reference" else f" (+{median - base:.2f})"))
        totals = [",".join(f"{s:g}" for s in sorted(scores[t, name])) for t in trees]
        print(f"| {name} | {cells[0]} | {cells[1]} | {totals[0]} | {totals[1]} |")
    if any(scores["before", n] != scores["after", n] or len(scores["after", n]) > 1 for n in subs):
        print("\nVERDICTS DIFFER")


if __name__ == "__main__":
    sys.exit(main())
