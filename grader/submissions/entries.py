"""The entries of a submissions folder, one per student, read with suspicion.

An entry is a folder, a .py file, a .ipynb notebook or a .zip of one of those;
its name without the extension is the student's id. Nothing is followed or
unpacked blindly: symbolic links may not leave the submissions folder, special
files are refused, and a zip is unpacked only when no member has an absolute
or `../` path, none is a link, and the sizes stay within limits.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from ..errors import GraderError

KINDS = {".py": "py", ".ipynb": "ipynb", ".zip": "zip"}
IGNORED = {"__MACOSX", "Thumbs.db", "desktop.ini"}
MAX_FILES = 2000  # in a folder or a zip
MAX_ZIP_BYTES = 50 * 1024 * 1024  # unpacked, in total
CHUNK = 1 << 20
SNAPSHOT_SUFFIXES = (".py", ".ipynb", ".toml")  # of a folder, what grading reads (and so copies); the rest is hashed


@dataclass
class Entry:
    """One student's entry; `problem` says why it cannot be graded at all."""

    id: str
    path: str
    kind: str = ""
    problem: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def within(path: str, folder: str) -> bool:
    """Whether `path` is `folder` or lies below it (both resolved)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in IGNORED


def scan(folder: Path, skip: tuple = ()) -> list[Entry]:
    """The entries of `folder`, sorted by id; `skip` lists paths to leave out (the output folder)."""
    root = os.path.realpath(folder)
    skipped = {os.path.realpath(p) for p in skip}
    by_id: dict[str, list[Entry]] = {}
    for path in sorted(Path(folder).iterdir()):
        if _ignored(path.name) or os.path.realpath(path) in skipped:
            continue
        entry = _classify(path, root)
        by_id.setdefault(entry.id, []).append(entry)
    entries = []
    for sid, found in sorted(by_id.items()):
        if len(found) > 1:
            names = ", ".join(quoted(Path(e.path).name) for e in found)
            entries.append(Entry(sid, found[0].path, "", f"more than one entry for this student: {names}"))
        else:
            entries.append(found[0])
    return entries


def _classify(path: Path, root: str) -> Entry:
    suffix = path.suffix.lower()
    kind = KINDS.get(suffix, "")
    sid = student_id(path.name if path.is_dir() else path.stem)
    if path.is_symlink() and not within(os.path.realpath(path), root):
        return Entry(sid, str(path), "", "a symbolic link to a place outside the submissions folder")
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return Entry(sid, str(path), "", f"cannot be read ({exc.strerror})")
    if stat.S_ISDIR(mode):
        return Entry(student_id(path.name), str(path), "folder")
    if not stat.S_ISREG(mode):
        return Entry(sid, str(path), "", "not a regular file")
    if not kind:
        return Entry(sid, str(path), "", "not a folder, a .py file, a .ipynb notebook or a .zip file")
    return Entry(sid, str(path), kind)


def student_id(name: str) -> str:
    """The id of an entry named `name`: bytes that are not UTF-8 (a name from a Latin-1 system) become U+FFFD,
    so that the id can be written in every report (the entry itself is still read from its real name)."""
    return _encoded(name).decode("utf-8", "replace")


def digest(entry: Entry) -> str:
    """A hash of the entry's content: file names and bytes, and the text of links (which are never
    followed, except that a link inside a folder to a file grading reads is hashed with its content)."""
    return _read(entry, None)[1]


def snapshot(entry: Entry, folder: Path) -> tuple[Entry, str]:
    """Copy what grading reads of `entry` into `folder` in one pass (a single file; of a folder, its
    .py, .ipynb and .toml files), hashing the very bytes copied. Returns the copy, as an entry, and
    its digest, which is digest(entry) when nothing changed meanwhile: grading the copy and recording
    that digest keeps every report true to the content it records, however the entry changes during
    a batch. GraderError for what open_entry would refuse, or more than MAX_ZIP_BYTES to copy."""
    if entry.problem:
        raise GraderError(entry.problem)
    folder.mkdir(parents=True, exist_ok=True)
    return _read(entry, folder)


def _read(entry: Entry, dest: Path | None) -> tuple[Entry | None, str]:
    """digest(entry) and, with `dest`, snapshot(entry, dest): one walk for both, so their hashes agree."""
    h = hashlib.sha256()
    path = entry.path
    if os.path.islink(path):
        h.update(b"link:" + _encoded(os.readlink(path)))
        if entry.problem:
            return None, h.hexdigest()
        path = os.path.realpath(path)
    target = None if dest is None else dest / os.path.basename(entry.path)
    if os.path.isdir(path):
        _read_folder(h, path, target)
    elif os.path.isfile(path):
        _read_file(h, path, target, [MAX_ZIP_BYTES], f"larger than {MAX_ZIP_BYTES // 2**20} MB")
    elif target is not None:
        raise GraderError("could not be read (it is gone)")
    return (None if target is None else Entry(entry.id, str(target), entry.kind)), h.hexdigest()


def _read_folder(h, folder: str, target: Path | None) -> None:
    root = os.path.realpath(folder)
    found = _walk(folder)
    if target is not None:
        if len(found) > MAX_FILES:
            raise GraderError(f"holds more than {MAX_FILES} files")
        target.mkdir()
    budget = [MAX_ZIP_BYTES]
    too_much = f"its {', '.join(SNAPSHOT_SUFFIXES)} files add up to more than {MAX_ZIP_BYTES // 2**20} MB"
    for rel, full in found:
        h.update(b"\0name:" + _encoded(rel))
        wanted = rel.endswith(SNAPSHOT_SUFFIXES)
        copy = target / rel if target is not None and wanted else None
        try:
            mode = os.lstat(full).st_mode
        except OSError:  # gone since the walk: it changes while being read
            h.update(b"gone")
            if target is not None:
                raise GraderError(f"{quoted(rel)} could not be read (it is gone)") from None
            continue
        if stat.S_ISLNK(mode):
            h.update(b"link:" + _encoded(os.readlink(full)))
            inside = within(os.path.realpath(full), root)
            if target is not None and not inside:
                raise GraderError(f"{quoted(rel)} is a symbolic link to a place outside the submission")
            if wanted and inside and os.path.isfile(full):  # read through the link: grading reads it so
                _read_file(h, os.path.realpath(full), copy, budget, too_much, rel)
        elif stat.S_ISREG(mode):
            _read_file(h, full, copy, budget, too_much, rel)
        elif stat.S_ISDIR(mode):
            pass  # only a link to a folder is listed, and it was taken above
        elif target is not None:
            raise GraderError(f"{quoted(rel)} is not a regular file")
        else:
            h.update(b"special:%d" % stat.S_IFMT(mode))


def _read_file(h, path: str, copy: Path | None, budget: list, too_much: str, rel: str = "") -> None:
    """Hash the regular file at `path` and, with `copy`, write the same bytes there; `budget[0]` bytes may be
    copied. Never follows a link swapped in meanwhile, nor waits on a pipe."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        h.update(b"unreadable:%d" % (exc.errno or 0))
        if copy is not None:
            raise GraderError(f"{quoted(rel or os.path.basename(path))} could not be read ({exc.strerror})") from None
        return
    with open(fd, "rb") as src:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            h.update(b"special")
            if copy is not None:
                raise GraderError(f"{quoted(rel or os.path.basename(path))} is not a regular file")
            return
        out = None
        if copy is not None:
            copy.parent.mkdir(parents=True, exist_ok=True)
            out = open(copy, "wb")
        try:
            for chunk in iter(lambda: src.read(CHUNK), b""):
                h.update(chunk)
                if out is not None:
                    budget[0] -= len(chunk)
                    if budget[0] < 0:
                        raise GraderError(too_much)
                    out.write(chunk)
        finally:
            if out is not None:
                out.close()


def _encoded(name: str) -> bytes:
    return name.encode("utf-8", "surrogateescape")


def _walk(folder: str):
    """(relative path, full path) of everything under `folder`, sorted, links not followed."""
    found = []
    for here, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(here, d))]:
            full = os.path.join(here, name)
            found.append((os.path.relpath(full, folder), full))
        if len(found) > MAX_FILES:
            break
    return sorted(found)


def open_entry(entry: Entry, scratch: Path) -> Path:
    """The path to give load_submission for `entry` (unpacking a zip into `scratch`); GraderError if unsafe."""
    if entry.problem:
        raise GraderError(entry.problem)
    if entry.kind == "folder":
        check_folder(Path(entry.path))
        return Path(entry.path)
    if entry.kind == "zip":
        unpack_zip(Path(entry.path), scratch)
        return submission_root(scratch)
    return Path(entry.path)


def check_folder(folder: Path) -> None:
    """Refuse a folder holding links that leave it, special files, or too many files."""
    root = os.path.realpath(folder)
    entries = _walk(str(folder))
    if len(entries) > MAX_FILES:
        raise GraderError(f"holds more than {MAX_FILES} files")
    for rel, full in entries:
        if os.path.islink(full) and not within(os.path.realpath(full), root):
            raise GraderError(f"{rel} is a symbolic link to a place outside the submission")
        mode = os.lstat(full).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            raise GraderError(f"{rel} is not a regular file")


def _member_path(info: zipfile.ZipInfo) -> PurePosixPath:
    # Some Windows tools store backslashes; read them as separators, then judge the path.
    return PurePosixPath(info.filename.replace("\\", "/"))


def _member_problem(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if _member_path(info).is_absolute() or re.match(r"^[A-Za-z]:", name):
        return f"an absolute path ({quoted(name)})"
    if ".." in _member_path(info).parts:
        return f"a ../ path ({quoted(name)})"
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"a symbolic link ({quoted(name)})"
    if info.flag_bits & 0x1:
        return f"an encrypted file ({quoted(name)})"
    return ""


def quoted(name: str, limit: int = 120) -> str:
    """A file name as an error message may show it: one printable line, cut when long."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in name)
    return text if len(text) <= limit else text[:limit] + "…"


def unpack_zip(path: Path, dest: Path) -> None:
    """Unpack `path` into `dest` after checking every member; nothing is written for a hostile zip."""
    try:
        archive = zipfile.ZipFile(path)
        everything = archive.infolist()
    except Exception as exc:  # noqa: BLE001 - a damaged archive raises many unrelated types (struct.error, ...)
        raise GraderError(f"not a readable zip file ({_reason(exc)})") from None
    with archive:
        if len(everything) > MAX_FILES:
            raise GraderError(f"the zip holds more than {MAX_FILES} files")
        for info in everything:
            problem = _member_problem(info)
            if problem:
                raise GraderError(f"the zip was refused: it holds {problem}")
        members = [m for m in everything if not any(_ignored(p) for p in _member_path(m).parts)]
        if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise GraderError(f"the zip unpacks to more than {MAX_ZIP_BYTES // 2**20} MB")
        budget = [MAX_ZIP_BYTES]
        for info in members:
            try:
                _extract(archive, info, dest.joinpath(*_member_path(info).parts), budget)
            except GraderError:
                raise
            except Exception as exc:  # noqa: BLE001 - damaged data raises zlib.error, EOFError, ...; a name, OSError
                raise GraderError(f"the zip could not be unpacked ({quoted(info.filename)}: {_reason(exc)})") from None


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: list) -> None:
    """Write one member at `target`, counting what really comes out against `budget[0]` (declared sizes can lie)."""
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(info) as src, open(target, "wb") as out:
        for chunk in iter(lambda: src.read(CHUNK), b""):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise GraderError(f"the zip unpacks to more than {MAX_ZIP_BYTES // 2**20} MB")
            out.write(chunk)


def _reason(exc: Exception) -> str:
    """Why reading failed, in one line and without the scratch folder's paths (OSError: its strerror)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return quoted(str(exc) or type(exc).__name__, 200)


def submission_root(folder: Path) -> Path:
    """What a zip held: its single file, or the folder under any single wrapping folders."""
    while True:
        items = [p for p in folder.iterdir() if not _ignored(p.name)]
        if len(items) == 1 and items[0].is_dir():
            folder = items[0]
            continue
        if not items:
            raise GraderError("the zip is empty")
        if len(items) == 1:
            return items[0]
        return folder
