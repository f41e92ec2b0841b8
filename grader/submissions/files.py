"""A submission's files, each opened once and judged as opened.

A path is only a name: between a check of it and a read of it a student can
swap what it names (a link to the solutions, say). So the folder is opened
once, every file in it is opened relative to that descriptor without
following links, and what is judged (where the file really is, which file it
is) is the opened file itself, which is then what is read.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..errors import GraderError
from .entries import within

_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)


class Protected:
    """The course's files that no submission may be: its solutions and hidden
    tests, known by place and by identity (a hard link or a bind mount has
    another place but is the same file)."""

    def __init__(self, folders):
        self.folders = [os.path.realpath(f) for f in folders if f is not None and os.path.isdir(f)]
        self._files = None

    def holds(self, fd: int) -> bool:
        """Whether the open file or folder `fd` is, or lies in, one of the folders."""
        where = _real_path(fd)
        if where is not None and any(within(where, f) for f in self.folders):
            return True
        info = os.fstat(fd)
        return (info.st_dev, info.st_ino) in self._identities()

    def _identities(self):
        if self._files is None:
            self._files = set()
            for folder in self.folders:
                for parent, _, names in os.walk(folder):
                    for name in names:
                        try:
                            info = os.stat(os.path.join(parent, name), follow_symlinks=False)
                        except OSError:
                            continue
                        self._files.add((info.st_dev, info.st_ino))
        return self._files


class Folder:
    """One folder of a submission, opened once; its files are read through it."""

    def __init__(self, path: Path, protected: Protected):
        self.path = Path(path)
        self.protected = protected
        try:
            self.fd = os.open(self.path, _DIR_FLAGS)
        except OSError as exc:
            raise GraderError(f"{self.path}: cannot be read ({exc.strerror})") from None
        if protected.holds(self.fd):
            self.close()
            raise GraderError(f"{self.path}: it is in the course's solutions, not a submission")
        self.real = _real_path(self.fd) or os.path.realpath(self.path)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def names(self) -> list[str]:
        """The entries of the folder, sorted."""
        return sorted(os.listdir(self.fd))

    def read(self, name: str, limit: int) -> bytes | None:
        """The bytes of file `name` (None when there is no such file), at most
        `limit` of them. A link is followed only to a file of this folder; the
        file opened must not be one of the course's protected ones."""
        fd = self._open(name)
        if fd is None:
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return None
            if self.protected.holds(fd):
                raise GraderError(f"{self.path / name}: it is a file of the course's solutions, not a submission")
            if info.st_size > limit:
                raise GraderError(f"{self.path / name}: larger than {limit // 1024} KB")
            chunks, size = [], 0
            while size <= limit:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if size > limit:  # it grew since fstat
                raise GraderError(f"{self.path / name}: larger than {limit // 1024} KB")
            return b"".join(chunks)
        finally:
            os.close(fd)

    def is_file(self, name: str) -> bool:
        """Whether `name` is a regular file here (a link is one if it is to a file)."""
        try:
            return stat.S_ISREG(os.stat(name, dir_fd=self.fd).st_mode)
        except OSError:
            return False

    def _open(self, name):
        try:
            return os.open(name, _FILE_FLAGS, dir_fd=self.fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise GraderError(f"{self.path / name}: cannot be read ({exc.strerror})") from None
        # A link: opened (following it) and judged by where the opened file is, not by where the link pointed.
        try:
            fd = os.open(name, _FILE_FLAGS & ~os.O_NOFOLLOW, dir_fd=self.fd)
        except OSError:
            return None
        where = _real_path(fd)
        if where is None or not within(where, self.real):
            os.close(fd)
            raise GraderError(f"{self.path / name}: a symbolic link to a place outside the submission")
        return fd


def _real_path(fd: int) -> str | None:
    """Where the open file `fd` is (Linux: its /proc link), or None where that cannot be told."""
    try:
        where = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None
    return where if where.startswith(os.sep) and not where.endswith(" (deleted)") else None
