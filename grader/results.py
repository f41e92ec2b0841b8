"""The one results model. Every report (terminal, JSON, HTML, Gradescope,
gradebook) is rendered from a `GradeResult`; no renderer computes a score."""
from __future__ import annotations

import errno
import json
import os
import statistics
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

IMPORT_TEST = "import"  # the one test of every part when the student's module could not be imported


@dataclass
class TestResult:
    """One test's verdict."""

    name: str
    passed: bool
    score: float
    max_score: float
    message: str = ""
    hidden: bool = True
    output: str = ""
    # The known mistake's advice, when one was recognised (also the message's
    # "hint:" line), and what the failure comes down to ("NameError at line 16
    # of sigmoid()"): reports show failures with one cause once (see grouping.py).
    hint: str = ""
    cause: str = ""
    # The student's own functions, wrong in their own parts, that this test
    # passed with only: with the reference's standing in for them it failed,
    # so two mistakes cancel out here (see `PartResult.leans_on`).
    leans_on: list[str] = field(default_factory=list)


@dataclass
class PartResult:
    """One graded part (a function, or the quiz): the sum of its tests."""

    name: str
    max_score: float
    tests: list[TestResult] = field(default_factory=list)
    note: str = ""

    @property
    def score(self) -> float:
        return round(min(sum(t.score for t in self.tests), self.max_score), 2)

    @property
    def leans_on(self) -> list[str]:
        """The wrong functions of other parts that some passed test of this part relies on."""
        return sorted({name for t in self.tests if t.passed for name in t.leans_on})


@dataclass
class GradeResult:
    """A whole submission's grade, plus what renderers need to show it."""

    exercise: str
    max_score: float
    parts: list[PartResult] = field(default_factory=list)
    student: str = ""
    status: str = "graded"  # "graded" or "error" (the grader could not grade it)
    error: str = ""
    public_only: bool = False  # only the public self-checks ran; not the grade
    isolation: str = ""
    seconds: float = 0.0
    student_seconds: float = 0.0
    artifacts: dict = field(default_factory=dict)  # plain data for plots

    @property
    def score(self) -> float:
        return round(sum(p.score for p in self.parts), 2)

    def part(self, name: str) -> PartResult:
        return next(p for p in self.parts if p.name == name)

    def to_dict(self) -> dict:
        data = {"exercise": self.exercise, "score": self.score, "max_score": self.max_score}
        data["parts"] = [
            {"name": p.name, "score": p.score, "max_score": p.max_score, "note": p.note,
             "tests": [asdict(t) for t in p.tests]}
            for p in self.parts
        ]
        for key in ("student", "status", "error", "public_only", "isolation", "seconds", "student_seconds",
                    "artifacts"):
            data[key] = getattr(self, key)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> GradeResult:
        parts = [
            PartResult(p["name"], p["max_score"], [TestResult(**t) for t in p["tests"]], p.get("note", ""))
            for p in data["parts"]
        ]
        keys = ("student", "status", "error", "public_only", "isolation", "seconds", "student_seconds", "artifacts")
        return cls(data["exercise"], data["max_score"], parts, **{k: data[k] for k in keys if k in data})


@dataclass
class PartStatistics:
    """One part across a class: its mean score and how many students have full marks."""

    name: str
    max_score: float
    mean: float
    full: int
    count: int


@dataclass
class ClassStatistics:
    """The scores of a class's graded students (status "graded"), summed up."""

    graded: int = 0
    mean: float = 0.0
    median: float = 0.0
    lowest: float = 0.0
    highest: float = 0.0
    parts: list[PartStatistics] = field(default_factory=list)


def class_statistics(results: list[GradeResult]) -> ClassStatistics:
    """Totals and per-part figures of the graded results (parts in the order they first appear)."""
    graded = [r for r in results if r.status == "graded"]
    if not graded:
        return ClassStatistics()
    totals = [r.score for r in graded]
    by_part: dict[str, list[PartResult]] = {}
    for result in graded:
        for part in result.parts:
            by_part.setdefault(part.name, []).append(part)
    parts = [PartStatistics(name, found[0].max_score, statistics.mean(p.score for p in found),
                            sum(p.score >= p.max_score for p in found), len(found)) for name, found in by_part.items()]
    return ClassStatistics(len(graded), statistics.mean(totals), statistics.median(totals),
                           min(totals), max(totals), parts)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see the old content or the new, never half; nothing is left
    behind when it fails, and an OSError then names `path` (a full disk fails in a write, which names
    no file, or names the temporary file)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except FileExistsError:  # a file where a folder on the way should be
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path)) from None
    except OSError as exc:
        exc.filename, exc.filename2 = str(path), None
        raise
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; a report should get the usual mode
        # A lone surrogate (a file name that is not UTF-8) is written escaped rather than failing the write.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        os.unlink(tmp)
        if isinstance(exc, OSError):
            exc.filename, exc.filename2 = str(path), None
        raise


def unwritable(exc: OSError, where: Path) -> str:
    """Why an output could not be written, in one line."""
    return f"cannot write {exc.filename or where}: {exc.strerror or exc}"


def save_json(result: GradeResult, path: Path) -> None:
    write_atomic(path, json.dumps(result.to_dict(), indent=2))


def load_json(path: Path) -> GradeResult:
    return GradeResult.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
