"""A course on disk: `exercises/NAME/` (what students get, with the manifest
`exercise.toml`) and `solutions/NAME/` (reference module, quiz key, hidden
suites). Everything exercise-specific is read from those folders."""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .errors import GraderError
from .sandbox.isolation import Limits

MANIFEST = "exercise.toml"
# When Gradescope shows a test to students (its own words for it).
GRADESCOPE_VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")


@dataclass(frozen=True)
class Part:
    name: str
    function: str
    points: float
    suite: str
    # Argument lists, as in the manifest, of long calls a test makes (the lab's
    # training run): started before the tests are collected.
    early_calls: tuple = field(default=(), compare=False)
    # The part's reference may be shown to students (the lab gives it): standing
    # in for a wrong function, it runs inside the worker instead of in the grader.
    public_reference: bool = False
    # Argument lists of calls that show whether the student's function answers
    # as the reference does, before a later part's early call relies on it
    # (the reference's answers are sent to the worker: public_reference only).
    early_checks: tuple = field(default=(), compare=False)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    choices: dict


@dataclass(frozen=True)
class GradescopeOptions:
    """The manifest's [gradescope] section: how `grade export gradescope` shows results to students."""

    hidden_tests: str = "after_due_date"  # when the hidden tests' results are shown; the lab's examples always are
    hide_hidden: bool = False  # show hidden tests only as "hidden test N" / "hidden test failed"
    leaderboard: bool = False  # a leaderboard of the total and the parts' scores


@dataclass
class Exercise:
    """One exercise, as its manifest and folders describe it."""

    name: str
    title: str
    folder: Path
    solution_folder: Path | None
    module: str
    parts: list[Part]
    questions: list[Question] = field(default_factory=list)
    quiz_points: float = 0
    quiz_file: str = "quiz.toml"
    limits: Limits = Limits()
    plots: list = field(default_factory=list)
    support: list = field(default_factory=list)  # files of the exercise folder the module may import
    public_suite: str = "public"
    notebook_file: str = ""  # the lab notebook students may work in (default NAME.ipynb)
    notebook_source: str = ""  # what the lab notebook is built from, if it is built
    gradescope: GradescopeOptions = GradescopeOptions()

    def support_files(self) -> dict:
        """name -> text of the support files, copied into every sandbox."""
        return {name: (self.folder / name).read_text(encoding="utf-8")
                for name in self.support if (self.folder / name).is_file()}

    @property
    def max_score(self) -> float:
        return sum(p.points for p in self.parts) + self.quiz_points

    @property
    def module_file(self) -> str:
        return f"{self.module}.py"

    @property
    def reference_file(self) -> Path | None:
        return self.solution_folder / self.module_file if self.solution_folder else None

    @property
    def hidden_suites(self) -> Path | None:
        return self.solution_folder / "tests" if self.solution_folder else None

    @property
    def public_suites(self) -> Path:
        return self.folder / self.public_suite

    @property
    def quiz_key_file(self) -> Path | None:
        return self.solution_folder / "quiz_key.toml" if self.solution_folder else None

    def has_solutions(self) -> bool:
        return self.solution_folder is not None and self.solution_folder.is_dir()


def load_toml(path: Path) -> dict:
    """Parse a TOML file, turning any problem into a one-line GraderError."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise GraderError(f"{path}: file not found") from None
    return parse_toml(data, path)


def parse_toml(data: bytes, path: Path) -> dict:
    """Parse the TOML text `data` read from `path`, turning any problem into a one-line GraderError."""
    try:
        return tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise GraderError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:  # UTF-16 from Notepad, say
        raise GraderError(f"{path}: not UTF-8 text (save it as UTF-8)") from None
    except ValueError:  # an integer of thousands of digits, which Python refuses to convert
        raise GraderError(f"{path}: not valid TOML (a number too long to read)") from None
    except RecursionError:  # q1 = [[[[...]]]], thousands deep
        raise GraderError(f"{path}: not valid TOML (nested too deeply)") from None


def parse_manifest(name: str, folder: Path, solution_folder: Path | None) -> Exercise:
    """Build an Exercise from `folder/exercise.toml`; GraderError when it is malformed."""
    data = load_toml(folder / MANIFEST)
    where = folder / MANIFEST
    try:
        parts = [
            Part(str(p["name"]), str(p.get("function", p["name"])), _number(p["points"], "points"),
                 str(p.get("suite", f"test_{p['name']}.py")),
                 tuple(_early_call(a) for a in _list(p, "early_calls")), _flag(p, "public_reference"),
                 _early_checks(p))
            for p in _tables(data, "parts", required=True)
        ]
        quiz = _table(data, "quiz")
        questions = [
            Question(str(q["id"]), str(q.get("text", "")), {str(k): str(v) for k, v in _table(q, "choices").items()})
            for q in _tables(quiz, "questions")
        ]
        notebook = _table(data, "notebook")
        if "points" in data:
            _number(data["points"], "points")  # `grade check` compares it with the parts' sum
        return Exercise(
            name=name,
            title=str(data.get("title", name)),
            folder=folder,
            solution_folder=solution_folder,
            module=str(data["module"]),
            parts=parts,
            questions=questions,
            quiz_points=_number(quiz.get("points", 0), "quiz points"),
            quiz_file=str(quiz.get("file", "quiz.toml")),
            limits=_limits(_table(data, "limits")),
            plots=_list(data, "plots"),
            support=[str(f) for f in _list(data, "support")],
            notebook_file=str(notebook.get("file", f"{name}.ipynb")),
            notebook_source=str(notebook.get("source", "")),
            gradescope=_gradescope_options(_table(data, "gradescope")),
        )
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise GraderError(f"{where}: malformed manifest ({type(exc).__name__}: {exc})") from None


def _gradescope_options(data: dict) -> GradescopeOptions:
    unknown = sorted(set(data) - set(GradescopeOptions.__dataclass_fields__))
    if unknown:
        raise ValueError(f"[gradescope] has no option {unknown[0]!r}")
    options = GradescopeOptions(**data)
    if options.hidden_tests not in GRADESCOPE_VISIBILITIES:
        raise ValueError(f"[gradescope] hidden_tests must be one of {', '.join(GRADESCOPE_VISIBILITIES)}")
    if not isinstance(options.hide_hidden, bool) or not isinstance(options.leaderboard, bool):
        raise TypeError("[gradescope] hide_hidden and leaderboard are true or false")
    return options


def _table(data: dict, key: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise TypeError(f"{key} must be a table, not {type(value).__name__}")
    return value


def _list(data: dict, key: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise TypeError(f"{key} must be a list, not {type(value).__name__}")
    return value


def _tables(data: dict, key: str, required: bool = False) -> list:
    """The [[key]] tables of `data`."""
    if required and key not in data:
        raise KeyError(key)
    found = _list(data, key)
    if not all(isinstance(t, dict) for t in found):
        raise TypeError(f"every entry of {key} must be a table")
    return found




def _flag(table: dict, key: str) -> bool:
    value = table.get(key, False)
    if type(value) is not bool:
        raise TypeError(f"{key} must be true or false")
    return value


def _early_call(args, key: str = "early_calls") -> list:
    if not isinstance(args, list):
        raise TypeError(f"an entry of {key} must be a list of arguments")
    return args


def _early_checks(part: dict) -> tuple:
    checks = tuple(_early_call(a, "early_checks") for a in _list(part, "early_checks"))
    if checks and part.get("public_reference") is not True:
        raise TypeError("early_checks needs public_reference = true: the reference's answers to them are "
                        "sent to the worker")
    return checks


def _number(value, what: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, not {value}")
    return number


def _limits(given: dict) -> Limits:
    """The [limits] table: only known limits, each a finite number not below 0, of its default's type."""
    defaults = Limits()
    values = {}
    for key, value in given.items():
        if not hasattr(defaults, key):
            raise ValueError(f"unknown limit {key} (known: {', '.join(vars(defaults))})")
        if _number(value, key) < 0:
            raise ValueError(f"{key} must not be negative")
        values[key] = type(getattr(defaults, key))(value)
    return Limits(**values)


class Course:
    """The course root: the folder that holds `exercises/`."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        if not (self.root / "exercises").is_dir():
            raise GraderError(f"{self.root}: not a course root (no exercises/ folder)")

    @classmethod
    def find(cls, start: Path | None = None) -> Course:
        """The nearest folder upward from `start` (default: the current one) holding `exercises/`."""
        here = Path(start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / "exercises").is_dir():
                return cls(folder)
        raise GraderError(f"no course found: neither {here} nor a folder above it holds exercises/ (use --root)")

    def _name_of(self, given: str) -> str:
        path = Path(given)
        if len(path.parts) > 1 and (path / MANIFEST).is_file():
            folder = path.resolve()
            if folder.parent == self.root / "exercises":
                return folder.name
        return given

    def names(self) -> list[str]:
        return sorted(p.name for p in (self.root / "exercises").iterdir() if (p / MANIFEST).is_file())

    def exercise(self, name: str) -> Exercise:
        """The exercise NAME; also found from a path to its folder (`exercises/exercise3/`, tab-completed)."""
        name = self._name_of(name)
        folder = self.root / "exercises" / name
        if not (folder / MANIFEST).is_file():
            import difflib

            known = self.names()
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise GraderError(f"unknown exercise '{name}' ({hint}known: {', '.join(known) or 'none'})")
        solutions = self.root / "solutions" / name
        return parse_manifest(name, folder, solutions if solutions.is_dir() else None)
