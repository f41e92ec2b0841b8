"""Deadlines and late penalties, applied to grades after grading.

The rule of an exercise lives in the course's `deadlines.toml` (beside
`exercises/`), not in its manifest: the manifest is part of the exercise's
fingerprint, so moving a deadline there would grade the whole class again.

    [exercise3]
    deadline = "2026-12-01T23:59:00+01:00"
    late_penalty = { per_day = 10, max_days = 5 }

`per_day` percent of the exercise's maximum points comes off for every started
day late; more than `max_days` days late scores 0. A student's report keeps the
raw score: only the gradebook and the LMS exports show the penalty.
"""
from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ..course import load_toml
from ..errors import GraderError
from ..submissions.entries import SNAPSHOT_SUFFIXES, Entry

DEADLINES = "deadlines.toml"
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Policy:
    """An exercise's deadline and penalty rule."""

    deadline: datetime
    per_day: float = 0.0  # percent of the maximum points per started day late
    max_days: int | None = None  # more days late than this scores 0; None: no cut-off

    def to_dict(self) -> dict:
        return {"deadline": self.deadline.isoformat(), "per_day": self.per_day, "max_days": self.max_days}

    @classmethod
    def from_dict(cls, data: dict) -> Policy:
        return cls(parse_time(data["deadline"], "the remembered deadline"), data["per_day"], data["max_days"])

    def describe(self) -> str:
        rule = f"{self.per_day:g}% of the points per started day late" if self.per_day else "no penalty"
        cut = "" if self.max_days is None else f", 0 after {self.max_days} {'day' if self.max_days == 1 else 'days'}"
        return f"deadline {self.deadline.isoformat()}: {rule}{cut}"


@dataclass(frozen=True)
class Lateness:
    """What the rule makes of one student's score."""

    raw: float
    deadline: datetime
    submitted: datetime | None  # None: no submission time known, so no penalty
    days: int  # started days late (0: on time)
    penalty: float

    @property
    def final(self) -> float:
        return round(max(self.raw - self.penalty, 0.0), 2)


def parse_time(value, where: str) -> datetime:
    """An ISO 8601 date and time with its UTC offset (or Z), or a TOML datetime; GraderError otherwise.
    Without an offset the time would depend on the machine's time zone, so it is refused."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("z", "Z")) else text)
        except ValueError:
            raise GraderError(f"{where}: {text!r} is not a date and time like 2026-12-01T23:59:00+01:00") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise GraderError(f"{where}: {moment.isoformat()} has no UTC offset (write it like "
                          "2026-12-01T23:59:00+01:00, or end it with Z for UTC)")
    return moment


def load_policy(course_root: Path, exercise: str) -> Policy | None:
    """The rule of `exercise` in the course's deadlines.toml; None when the file or its table is missing."""
    path = Path(course_root) / DEADLINES
    if not path.is_file():
        return None
    table = load_toml(path).get(exercise)
    if table is None:
        return None
    where = f"{path} [{exercise}]"
    if not isinstance(table, dict) or "deadline" not in table:
        raise GraderError(f"{where}: needs deadline = \"2026-12-01T23:59:00+01:00\"")
    unknown = sorted(set(table) - {"deadline", "late_penalty"})
    penalty = table.get("late_penalty", {})
    if unknown or not isinstance(penalty, dict) or set(penalty) - {"per_day", "max_days"}:
        raise GraderError(f"{where}: knows only deadline and late_penalty = {{per_day = 10, max_days = 5}}")
    per_day, max_days = penalty.get("per_day", 0), penalty.get("max_days")
    if isinstance(per_day, bool) or not isinstance(per_day, (int, float)) or not 0 <= per_day <= 100:
        raise GraderError(f"{where}: per_day is a percent of the points, from 0 to 100")
    if max_days is not None and (isinstance(max_days, bool) or not isinstance(max_days, int) or max_days < 0):
        raise GraderError(f"{where}: max_days is a whole number of days, 0 or more")
    return Policy(parse_time(table["deadline"], where), float(per_day), max_days)


def assess(raw: float, max_score: float, policy: Policy, submitted: datetime | None,
           deadline: datetime | None = None) -> Lateness:
    """The penalty for a score `raw` (of `max_score`) submitted at `submitted`; `deadline`: the student's own
    (an extension), else the policy's."""
    deadline = deadline or policy.deadline
    if submitted is None or submitted <= deadline:
        return Lateness(raw, deadline, submitted, 0, 0.0)
    days = math.ceil((submitted - deadline) / DAY)
    if policy.max_days is not None and days > policy.max_days:
        return Lateness(raw, deadline, submitted, days, raw)
    return Lateness(raw, deadline, submitted, days, round(min(raw, max_score * policy.per_day / 100 * days), 2))


def key(student: str) -> str:
    """How ids are compared across files: case and surrounding spaces do not count."""
    return student.strip().casefold()


def read_table(text: str, where: str, needed: tuple, optional: tuple = ()) -> list[dict]:
    """The rows of a CSV file as dicts keyed by lower-case header; GraderError without the `needed` columns.
    `optional`: columns of which at least one must be present (when given)."""
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:  # a cell over the csv module's size limit, say
        raise GraderError(f"{where}: not a readable CSV file ({exc})") from None
    if not rows:
        raise GraderError(f"{where}: empty (expected a header row: {', '.join(needed + optional)})")
    header = [h.strip().casefold() for h in rows[0]]
    missing = [n for n in needed if n not in header]
    if missing or (optional and not set(optional) & set(header)):
        wanted = ", ".join(needed) + (f" and {' or '.join(optional)}" if optional else "")
        raise GraderError(f"{where}: needs the columns {wanted} (found: {', '.join(rows[0]) or 'none'})")
    return [dict(zip(header, row)) for row in rows[1:] if any(cell.strip() for cell in row)]


def read_extensions(text: str, where: str, policy: Policy | None) -> dict[str, datetime]:
    """Student key -> own deadline, from a CSV of `id` and either `deadline` (a date and time) or `days`
    (days added to the exercise's deadline) in each row."""
    extended = {}
    for number, row in enumerate(read_table(text, where, ("id",), ("deadline", "days")), start=2):
        at = f"{where}, line {number}"
        if row.get("deadline", "").strip():
            extended[key(row["id"])] = parse_time(row["deadline"], at)
        elif row.get("days", "").strip():
            if policy is None:
                raise GraderError(f"{at}: extra days need a deadline in the course's {DEADLINES}")
            try:
                days = float(row["days"])
            except ValueError:
                raise GraderError(f"{at}: days must be a number, not {row['days']!r}") from None
            try:
                extended[key(row["id"])] = policy.deadline + timedelta(days=days)
            except (OverflowError, ValueError):  # nan, inf, or past the year 9999
                raise GraderError(f"{at}: {row['days']} days is no extension a calendar can hold") from None
        else:
            raise GraderError(f"{at}: give the student's deadline or days")
    return extended


def read_times(text: str, where: str) -> dict[str, datetime]:
    """Student key -> submission time, from a CSV of `id` and `submitted_at` (say, exported from the LMS)."""
    return {key(row["id"]): parse_time(row["submitted_at"], f"{where}, line {number}")
            for number, row in enumerate(read_table(text, where, ("id", "submitted_at")), start=2)}


def entry_time(entry: Entry) -> datetime | None:
    """When an entry was last changed on disk: a file's modification time, or for a folder the newest of the
    files grading reads (a README touched later does not make it late), else the folder's own. None when it
    is gone."""
    times = []
    if os.path.isdir(entry.path) and not os.path.islink(entry.path):
        for folder, _, files in os.walk(entry.path):
            times += [_mtime(os.path.join(folder, f)) for f in files if f.endswith(SNAPSHOT_SUFFIXES)]
    newest = max((t for t in times if t is not None), default=None)
    if newest is None:
        newest = _mtime(entry.path)
    return None if newest is None else datetime.fromtimestamp(newest).astimezone()


def _mtime(path: str) -> float | None:
    try:
        return os.lstat(path).st_mtime
    except OSError:  # gone meanwhile: the batch reports the entry as it finds it
        return None
