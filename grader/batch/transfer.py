"""An entry as bytes, so that a cluster worker needs no shared file system.

The client packs what the local batch would read: a file entry (.py, .ipynb,
.zip) as its own bytes, a folder as a zip it makes of the folder's files
after the same checks as the local batch (no link leaving the folder, no
special file). The worker unpacks it under the entry's own name in a scratch
folder, and grades that copy with the same code as a local batch; a student's
zip is still only opened there, with all of its checks.
"""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path, PurePosixPath

from ..submissions import entries as entry_files
from ..submissions.entries import Entry


def header(entry: Entry) -> dict:
    """What the worker needs besides the bytes: the student's id, the entry's name and kind."""
    return {"id": entry.id, "name": Path(entry.path).name, "kind": entry.kind}


def pack(entry: Entry) -> bytes:
    """The entry's content; GraderError when the local batch would refuse the folder, OSError when unreadable."""
    if entry.kind != "folder":
        with open(entry.path, "rb") as f:
            return f.read()
    entry_files.check_folder(Path(entry.path))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for here, folders, files in os.walk(entry.path):  # links to folders are not followed, nor read
            folders.sort()
            for name in sorted(files):
                full = os.path.join(here, name)
                if os.path.isfile(full):  # a link to a file inside the folder is read through, as loading would
                    archive.write(full, os.path.relpath(full, entry.path))
    return buffer.getvalue()


def unpack(head: dict, data: bytes, scratch: Path) -> Entry:
    """The entry rebuilt in `scratch` from `pack`'s bytes, under its own name."""
    name = head["name"]
    if name in ("", ".", "..") or "/" in name or os.sep in name:
        raise ValueError(f"not an entry name: {name!r}")
    path = scratch / name
    if head["kind"] != "folder":
        path.write_bytes(data)
        return Entry(head["id"], str(path), head["kind"])
    path.mkdir()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            parts = PurePosixPath(info.filename).parts
            if not parts or PurePosixPath(info.filename).is_absolute() or ".." in parts:
                raise ValueError(f"not a path inside the entry: {info.filename!r}")
            target = path.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
    return Entry(head["id"], str(path), "folder")
