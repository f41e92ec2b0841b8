"""Reading a student's submission from disk: only the expected files are taken."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .course import Exercise, GraderError, load_toml

MAX_SOURCE_BYTES = 2 * 1024 * 1024


@dataclass
class Submission:
    """The student's module source and quiz answers, as plain text and data."""

    source: str
    origin: Path
    quiz: dict | None = None
    quiz_error: str = ""

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()


def read_text(path: Path) -> str:
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise GraderError(f"{path}: larger than {MAX_SOURCE_BYTES // 1024} KB")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise GraderError(f"{path}: not UTF-8 text") from None


def read_quiz(path: Path) -> tuple[dict | None, str]:
    """Answers from a quiz.toml, or (None, reason) when it cannot be read."""
    if not path.is_file():
        return None, ""
    try:
        data = load_toml(path)
    except GraderError as exc:
        return None, f"quiz.toml could not be read: {exc}"
    return {str(k): str(v) for k, v in data.items()}, ""


def load_submission(exercise: Exercise, path: Path) -> Submission:
    """A folder holding the module (and maybe quiz.toml) or a single .py file."""
    path = Path(path)
    if not path.exists():
        raise GraderError(f"{path}: no such file or folder")
    if path.is_dir():
        module = path / exercise.module_file
        if not module.is_file():
            raise GraderError(f"{path}: holds no {exercise.module_file}")
        quiz, problem = read_quiz(path / exercise.quiz_file)
        return Submission(read_text(module), path, quiz, problem)
    if path.suffix == ".py":
        return Submission(read_text(path), path)
    raise GraderError(f"{path}: expected a folder or a .py file")
