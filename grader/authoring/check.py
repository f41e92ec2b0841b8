"""`grade check NAME`: the instructor's lint for one exercise.

It checks, in order: the manifest (parts, files, functions, points that add
up), that the reference scores full marks through the real sandboxed path (the
canary) with tests in every part, that the untouched stubs score 0, that the
quiz key answers every question, and finally the hidden tests themselves, by
mutation analysis (grader/mutation.py). Exit status 1 when anything is wrong.
"""
from __future__ import annotations

import ast
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from ..course import MANIFEST, Course, Exercise, load_toml
from ..errors import GraderError
from ..grading.quiz import normalise

EQUIVALENT_FILE = "equivalent_mutants.toml"


@dataclass
class Finding:
    """One line of the report: a check, whether it passed, and what it found."""

    title: str
    ok: bool = True
    lines: list[str] = field(default_factory=list)  # details shown under the title

    def fail(self, line: str):
        self.ok = False
        self.lines.append(line)


@dataclass
class Report:
    exercise: str
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    def render(self, color: bool = False) -> str:
        def paint(text, **style):
            return click.style(text, **style) if color else text

        out = [paint(f"grade check {self.exercise}", bold=True)]
        for f in self.findings:
            mark = paint("✓", fg="green") if f.ok else paint("✗", fg="red")
            out.append(f"  {mark} {f.title}")
            out.extend(f"      {line}" for line in f.lines)
        problems = sum(not f.ok for f in self.findings)
        verdict = "check passed" if self.ok else f"{problems} check{'s' * (problems != 1)} failed"
        out.append(paint(f"{verdict} ({self.seconds:.1f} s)", bold=True, fg="green" if self.ok else "red"))
        return "\n".join(out)


def _defined_functions(path: Path) -> set[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError as exc:
        raise GraderError(f"{path}: syntax error on line {exc.lineno}") from None
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def check_manifest(exercise: Exercise) -> Finding:
    """Parts, files and points, read from the manifest and the folders."""
    points = ", ".join([f"{p.name} {p.points:g}" for p in exercise.parts]
                       + [f"quiz {exercise.quiz_points:g}"] * bool(exercise.questions))
    finding = Finding(f"manifest: {len(exercise.parts)} part{'s' * (len(exercise.parts) != 1)}"
                      f"{' and a quiz' * bool(exercise.questions)}, "
                      f"{exercise.max_score:g} points ({points})")
    if not exercise.parts:
        finding.fail("no [[parts]]")
    for what, values in (("part name", [p.name for p in exercise.parts]), ("suite", [p.suite for p in exercise.parts]),
                         ("question id", [q.id for q in exercise.questions])):
        for value in sorted({v for v in values if values.count(v) > 1}):
            finding.fail(f"{what} '{value}' appears more than once")
    for part in exercise.parts:
        if part.points <= 0:
            finding.fail(f"part {part.name}: points must be positive, not {part.points:g}")
    if exercise.questions and exercise.quiz_points <= 0:
        finding.fail("the quiz has questions but no points")
    if exercise.quiz_points > 0 and not exercise.questions:
        finding.fail(f"the quiz has {exercise.quiz_points:g} points but no questions")
    declared = load_toml(exercise.folder / MANIFEST).get("points")
    if declared is not None and float(declared) != exercise.max_score:
        finding.fail(f"points = {declared} is declared, but the parts and quiz add up to {exercise.max_score:g}")
    if not exercise.module.isidentifier():
        finding.fail(f"module '{exercise.module}' is not a Python module name")
    stub = exercise.folder / exercise.module_file
    files = [("stub module", stub)]
    if not exercise.has_solutions():
        finding.fail(f"no solutions/{exercise.name}/ folder (reference, quiz key, hidden suites)")
    else:
        files += [("reference", exercise.reference_file)]
        files += [(f"hidden suite of {p.name}", exercise.hidden_suites / p.suite) for p in exercise.parts]
    files += [(f"support file {name}", exercise.folder / name) for name in exercise.support]
    for what, path in files:
        if not path.is_file():
            finding.fail(f"{what}: {path} is missing")
    for what, path in files[:2]:
        if path.is_file():
            defined = _defined_functions(path)
            for part in exercise.parts:
                if part.function not in defined:
                    finding.fail(f"{what} {path.name} defines no function {part.function}() (part {part.name})")
    for q in exercise.questions:
        if len(q.choices) < 2:
            finding.fail(f"question {q.id} has fewer than two choices")
    return finding


def check_reference(exercise: Exercise) -> tuple[Finding, ...]:
    """The canary: the reference (and the key) must score full marks through the sandbox, with tests in every part;
    and every early call the manifest declares is one a test makes."""
    from ..grading import canary

    result, problems = canary.run(exercise)
    finding = Finding(f"reference scores {result.score:g} / {result.max_score:g} "
                      f"through the sandbox ({result.isolation})")
    for problem in problems:
        finding.fail(problem)
    counts = {p.name: len(result.part(p.name).tests) for p in exercise.parts}
    suites = Finding("hidden tests: " + ", ".join(f"{name} {n}" for name, n in counts.items()))
    for part in exercise.parts:
        if counts.get(part.name, 0) == 0:
            suites.fail(f"part {part.name} has no tests in {part.suite}")
    declared = {p.function: len(p.early_calls) for p in exercise.parts if p.early_calls}
    if not declared:
        return (suites, finding, *_check_early_checks(exercise))
    early = Finding("early calls taken by the tests: " + ", ".join(f"{fn} {n}" for fn, n in declared.items()))
    for fn in result.artifacts.get("unused_early_calls", []):
        early.fail(f"no test of {fn}() makes the early call the manifest declares for it (it only costs time): compare "
                   "the arguments with the test's, values and types (1.0 where the test passes a float)")
    return (suites, finding, early, *_check_early_checks(exercise))


def _check_early_checks(exercise: Exercise) -> tuple[Finding, ...]:
    """Every early check must be a call the reference answers, with a value the
    worker can be sent (else the check fails for every student, and the early
    call never runs early). Checks that no later early call uses are noted."""
    import numpy as np

    from ..grading.reference import load_reference, manifest_args
    from ..sandbox import wire

    checked = [p for p in exercise.parts if p.early_checks]
    if not checked:
        return ()
    module = load_reference(exercise.reference_file).module
    finding = Finding("early checks the reference answers: " +
                      ", ".join(f"{p.function} {len(p.early_checks)}" for p in checked))
    for part in checked:
        for raw in part.early_checks:
            try:
                with np.errstate(all="ignore"):
                    answer = getattr(module, part.function)(*manifest_args(raw))
            except Exception as exc:  # noqa: BLE001 - any error is the finding
                finding.fail(f"the reference's {part.function}() refuses the early check {raw}: "
                             f"{type(exc).__name__}: {exc}"[:300])
                continue
            if not _plain(wire.decode(wire.encode(answer)), wire.Opaque):
                finding.fail(f"the reference's {part.function}() answers the early check {raw} with a "
                             f"{type(answer).__name__}, which the worker cannot be sent: the check would fail "
                             "for every student")
    for part in checked:
        later = exercise.parts[exercise.parts.index(part) + 1:]
        if not any(p.early_calls for p in later):  # harmless, so a note rather than a failure
            finding.lines.append(f"note: {part.function}()'s early checks are never made: no later part "
                                 "declares an early call for them to guard")
    return (finding,)


def _plain(value, opaque) -> bool:
    if isinstance(value, (tuple, list)):
        return all(_plain(v, opaque) for v in value)
    return not isinstance(value, opaque)


def check_stubs(exercise: Exercise) -> Finding:
    """The files students start from must score nothing."""
    from ..grading.grade import grade
    from ..submissions.load import load_submission

    result = grade(exercise, load_submission(exercise, exercise.folder), student="(untouched stubs)")
    finding = Finding(f"untouched stubs score {result.score:g} / {result.max_score:g}")
    for part in result.parts:
        if part.score:
            finding.fail(f"{part.name} scores {part.score:g} with the untouched stubs")
    return finding


def check_quiz(exercise: Exercise) -> Finding:
    """The key answers every question with one of its choices; the students' quiz file lists them all."""
    if not exercise.questions:
        return Finding("quiz: none")
    finding = Finding(f"quiz key answers {', '.join(q.id for q in exercise.questions)}")
    key = {str(k): v for k, v in load_toml(exercise.quiz_key_file).items()}
    for q in exercise.questions:
        answer = normalise(key.get(q.id, ""))
        if not answer:
            finding.fail(f"{q.id}: no answer in {exercise.quiz_key_file.name}")
        elif q.choices and answer not in q.choices:
            finding.fail(f"{q.id}: the key's answer '{answer}' is not one of the choices {', '.join(q.choices)}")
    ids = {q.id for q in exercise.questions}
    for extra in sorted(set(key) - ids):
        finding.fail(f"{extra}: in the key but not a question of the manifest")
    template = exercise.folder / exercise.quiz_file
    if not template.is_file():
        finding.fail(f"{template} is missing (students answer there)")
    else:
        missing = sorted(ids - set(load_toml(template)))
        if missing:
            finding.fail(f"{template.name} has no line for {', '.join(missing)}")
    return finding


def check_mutants(exercise: Exercise, jobs: int | None = None) -> Finding:
    """Mutation analysis: every mutant that keeps full marks in its part is a hole,
    unless acknowledged as equivalent."""
    from ..grading.forkpool import cores
    from .mutation import grade_mutants, make_mutants

    mutants = make_mutants(exercise.reference_file.read_text(encoding="utf-8"))
    ack_file = exercise.solution_folder / EQUIVALENT_FILE
    acknowledged = {str(k): str(v) for k, v in load_toml(ack_file).items()} if ack_file.is_file() else {}
    verdicts = grade_mutants(exercise, mutants, jobs)
    killed = [v for v in verdicts if v.killed]
    survived = [v for v in verdicts if not v.killed]
    holes = [v for v in survived if v.mutant.key not in acknowledged]
    equivalent = [v for v in survived if v.mutant.key in acknowledged]
    total = len(mutants)
    score = 100.0 * len(killed) / total if total else 100.0
    counted = total - len(equivalent)
    adjusted = (f"; {100.0 * len(killed) / counted:.1f}% of the {counted} not equivalent"
                if equivalent and counted else "")
    finding = Finding(f"mutation analysis: {total} mutants, {len(killed)} killed, {len(survived)} survived "
                      f"({len(equivalent)} acknowledged equivalent): mutation score {score:.1f}%{adjusted} "
                      f"[{jobs or cores()} processes]")
    for v in holes:
        finding.fail(f"survived: {v.mutant.describe()}")
    if holes:
        finding.lines.append(f"(a survivor gets full marks in its part: add a hidden test that it fails or, "
                             f"if it computes the same as the reference, add \"<function>: <edit>\" = \"why\" to "
                             f"solutions/{exercise.name}/{EQUIVALENT_FILE})")
    for v in equivalent:
        finding.lines.append(f"equivalent: {v.mutant.describe()} ({acknowledged[v.mutant.key]})")
    known = {m.key for m in mutants}
    for key in acknowledged:
        if key not in known:
            finding.lines.append(f"note: {EQUIVALENT_FILE} lists '{key}', which is no longer a mutant")
        elif any(v.killed and v.mutant.key == key for v in verdicts):
            finding.lines.append(f"note: '{key}' is listed as equivalent but the hidden tests kill it")
    return finding


def check_exercise(course: Course, name: str, mutation: bool = True, jobs: int | None = None) -> Report:
    """Run every check on exercise `name`; the checks that depend on a failed one are not run."""
    started = time.perf_counter()
    if name not in course.names():
        course.exercise(name)  # raises the one-line "unknown exercise" error
    report = Report(name)
    try:
        exercise = course.exercise(name)
    except GraderError as exc:
        exercise = None
        report.findings.append(Finding("manifest", False, [str(exc)]))
    if exercise is not None:
        report.findings.append(_guarded("manifest", check_manifest, exercise))
    if report.ok:
        quiz = _guarded("quiz key", check_quiz, exercise)
        canary = _guarded("reference", check_reference, exercise)
        canary = list(canary) if isinstance(canary, tuple) else [canary]
        report.findings += canary + [_guarded("stubs", check_stubs, exercise), quiz]
        # Mutants are judged against the hidden tests, which must first give the reference full marks.
        if mutation and all(f.ok for f in canary):
            report.findings.append(_guarded("mutation analysis", lambda ex: check_mutants(ex, jobs), exercise))
        elif mutation:
            report.findings.append(Finding("mutation analysis: not run until the reference scores full marks", False))
    report.seconds = time.perf_counter() - started
    return report


def _guarded(title, run, exercise):
    """run(exercise), with a configuration error turned into a failed finding."""
    try:
        return run(exercise)
    except GraderError as exc:
        return Finding(title, False, [str(exc)])
