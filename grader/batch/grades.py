"""The class's grades beyond the raw scores: late penalties (late.py) and the LMS import file (render/lms.py).

`grade batch` and `grade publish` take --roster, --lms, --extensions and --submitted-at. The output folder
remembers them in DIR/.grades.json, together with the course's deadline rule and each entry's file time as
`grade batch` last saw them, so that `grade publish DIR` (which sees neither the course nor the submissions)
writes the same files, and an option given again replaces only its own setting. Every setting is checked when
it is given, before any grading, so a bad roster is one line and not a stopped batch.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..errors import GraderError
from ..render import lms
from ..results import GradeResult, unwritable, write_atomic
from ..submissions import entries as entry_files
from . import late

SETTINGS = ".grades.json"
NOTES = "grades.txt"  # what the last export found (unmatched students, penalties), as printed


def read_option_file(path: Path | None, what: str) -> dict | None:
    """An option's file, as the settings keep it (its name and text); GraderError when it cannot be read."""
    if path is None:
        return None
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise GraderError(f"{path}: the {what} cannot be read ({exc.strerror})") from None
    try:
        return {"file": str(path), "text": data.decode("utf-8-sig")}  # utf-8-sig: Excel's "CSV UTF-8" has a BOM
    except UnicodeDecodeError:
        raise GraderError(f"{path}: the {what} is not UTF-8 text (save it as CSV UTF-8)") from None


def option_settings(roster: Path | None, lms_name: str | None, extensions: Path | None,
                    submitted_at: Path | None) -> dict:
    """The settings that options given on the command line replace."""
    given = {"roster": read_option_file(roster, "roster"), "lms": lms_name,
             "extensions": read_option_file(extensions, "extensions file"),
             "submitted_at": read_option_file(submitted_at, "submission times file")}
    return {k: v for k, v in given.items() if v is not None}


def batch_settings(course_root: Path, exercise: str, submissions: Path, out: Path, given: dict) -> dict:
    """What `grade batch` records besides its options: the course's deadline rule for `exercise` (None, which
    forgets an earlier one, when deadlines.toml has none) and then the file time of every entry in
    `submissions`."""
    policy = late.load_policy(course_root, exercise)
    if policy is None:
        return {**given, "late": None}
    times = {}
    for entry in entry_files.scan(submissions, skip=(out,)):
        moment = late.entry_time(entry)
        if moment is not None:
            times[entry.id] = moment.isoformat()
    return {**given, "late": policy.to_dict(), "entry_times": times}


def settings(out: Path) -> dict:
    """The settings `out` remembers ({} for none)."""
    try:
        data = json.loads((Path(out) / SETTINGS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise GraderError(f"{Path(out) / SETTINGS}: unreadable ({exc}); remove it and give the options again, "
                          "and run `grade batch` again for the entries' file times") from None
    return data if isinstance(data, dict) else {}


def remember(out: Path, changes: dict) -> bool:
    """Merge `changes` into the remembered settings (entry times are added to those known; None forgets a
    setting) after checking the result; returns whether anything changed."""
    current = settings(out)
    merged = {k: v for k, v in {**current, **changes}.items() if v is not None}
    if "entry_times" in changes:
        merged["entry_times"] = {**current.get("entry_times", {}), **changes["entry_times"]}
    _Settings.parse(merged, Path(out))
    if merged == current:
        return False
    try:
        write_atomic(Path(out) / SETTINGS, json.dumps(merged, indent=1, sort_keys=True))
    except OSError as exc:
        raise GraderError(unwritable(exc, Path(out))) from None
    return True


def notes(out: Path) -> str:
    """The notes of the last export in `out`, as written to DIR/grades.txt ("" for none)."""
    try:
        return (Path(out) / NOTES).read_text(encoding="utf-8").rstrip("\n")
    except FileNotFoundError:
        return ""


def gradebook_stamp(path: Path) -> tuple | None:
    """Tells one version of a file from the next: write_atomic gives every version a new inode."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_ino, found.st_mtime_ns


@dataclass
class _Settings:
    """The remembered settings, parsed."""

    policy: late.Policy | None = None
    roster: lms.Roster | None = None
    lms: str | None = None
    extensions: dict = field(default_factory=dict)  # student key -> deadline
    submitted_at: dict = field(default_factory=dict)  # student key -> time, from --submitted-at
    entry_times: dict = field(default_factory=dict)  # entry id -> time, from the files

    @classmethod
    def parse(cls, data: dict, out: Path) -> _Settings:
        """GraderError for a setting that cannot be used (a roster without identities, --lms without one)."""
        try:
            return cls._parse(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a file edited by hand
            raise GraderError(f"{out / SETTINGS}: not as grade writes it ({type(exc).__name__}: {exc}); remove it "
                              "and give the options again") from None

    @classmethod
    def _parse(cls, data: dict) -> _Settings:
        found = cls(late.Policy.from_dict(data["late"]) if data.get("late") else None, lms=data.get("lms"))
        if data.get("roster"):
            found.roster = lms.parse_roster(data["roster"]["text"], data["roster"]["file"])
        if (found.roster is None) != (found.lms is None):
            raise GraderError("--roster CSV and --lms canvas|moodle go together (once given, the output folder "
                              "remembers both)")
        if found.roster:
            lms.require(found.roster, found.lms)
        if data.get("extensions"):
            found.extensions = late.read_extensions(data["extensions"]["text"], data["extensions"]["file"],
                                                    found.policy)
        if data.get("submitted_at"):
            found.submitted_at = late.read_times(data["submitted_at"]["text"], data["submitted_at"]["file"])
        found.entry_times = {sid: datetime.fromisoformat(t) for sid, t in data.get("entry_times", {}).items()}
        return found

    def submitted(self, student: str) -> datetime | None:
        return self.submitted_at.get(late.key(student)) or self.entry_times.get(student)


@dataclass
class Exports:
    """What the class files need beyond the raw results: each student's lateness (None without a deadline),
    the LMS file by name, and the notes to print."""

    late: dict | None = None
    files: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def write(self, out: Path) -> None:
        for name, text in self.files.items():
            write_atomic(Path(out) / name, text)
        if self.notes:
            write_atomic(Path(out) / NOTES, "\n".join(self.notes) + "\n")
        else:
            (Path(out) / NOTES).unlink(missing_ok=True)  # notes of settings no longer in force would mislead


def exports(out: Path, results: list[GradeResult]) -> Exports:
    """Lateness, the LMS file and the notes for `results`, as the settings `out` remembers ask."""
    found = _Settings.parse(settings(out), Path(out))
    made = Exports()
    if found.policy:
        made.late = {r.student: late.assess(r.score, r.max_score, found.policy, found.submitted(r.student),
                                            found.extensions.get(late.key(r.student))) for r in results}
        made.notes += _late_notes(found, made.late)
    elif found.extensions or found.submitted_at:
        made.notes.append(f"no deadline for this exercise in the course's {late.DEADLINES} (as `grade batch` last "
                          "read it): the extensions and submission times change nothing")
    if found.roster:
        name = f"{found.lms}.csv"
        matching = lms.match(found.roster, [r.student for r in results])
        grades = {r.student: (made.late[r.student].final if made.late else r.score) if r.status == "graded" else None
                  for r in results}
        exercise = results[0].exercise if results else ""
        if found.lms == "canvas":
            made.files[name] = lms.render_canvas(found.roster, matching, grades, exercise,
                                                 max((r.max_score for r in results), default=0.0))
        else:
            feedback = {sid: penalty_text(lateness, found.policy) for sid, lateness in (made.late or {}).items()}
            made.files[name] = lms.render_moodle(found.roster, matching, grades, feedback, exercise)
        ungraded = sorted(sid for sid in matching.students.values() if grades[sid] is None)
        made.notes += lms.report(found.roster, matching, found.lms, name, ungraded)
        made.notes.append(f"  wrote {Path(out) / name}")
    return made


def penalty_text(lateness: late.Lateness, policy: late.Policy) -> str:
    """The penalty in words, for the student's feedback ("" when on time)."""
    if not lateness.days:
        return ""
    days = f"{lateness.days} started {'day' if lateness.days == 1 else 'days'} late"
    if policy.max_days is not None and lateness.days > policy.max_days:
        return f"0 points: {days}, more than {policy.max_days} (deadline {lateness.deadline.isoformat()})"
    return (f"{lateness.raw:g} points minus {lateness.penalty:g} for {days} "
            f"(deadline {lateness.deadline.isoformat()}): {lateness.final:g}")


def _late_notes(found: _Settings, lateness: dict) -> list[str]:
    students = {late.key(sid) for sid in lateness}
    penalised = sorted(sid for sid, x in lateness.items() if x.days)
    unknown = sorted(sid for sid, x in lateness.items() if x.submitted is None)
    extended = sorted(sid for sid in lateness if late.key(sid) in found.extensions)
    lines = [found.policy.describe(),
             f"  late: {len(penalised)}" + (f" ({', '.join(penalised[:10])}{', ...' if len(penalised) > 10 else ''})"
                                            if penalised else "") + f"; with an extension: {len(extended)}"]
    if unknown:
        lines.append(f"  no submission time, so not penalised: {', '.join(unknown)}")
    for what, keys in (("extensions", found.extensions), ("submission times", found.submitted_at)):
        stray = sorted(set(keys) - students)
        if stray:
            lines.append(f"  {what} for students with no report (ignored): {', '.join(stray)}")
    return lines
