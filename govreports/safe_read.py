"""Reading one input file without trusting it: never from outside the landing folder (a symlink out of it),
never from a FIFO or device (it would block), never more than a size limit.  Report files (``govreports.batch``)
and manifests (``govreports.readers.manifest``) are read the same way; the reasons are quarantine reason codes.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

NOT_A_REGULAR_FILE = "not_a_regular_file"
OUTSIDE_LANDING = "outside_landing"
UNREADABLE = "unreadable"


def within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def read_limited(abs_path: Path, max_bytes: int, root: Path | None = None, *,
                 follow_symlinks: bool = False) -> bytes | tuple[str, str]:
    """The file's bytes, or (reason, message) when it must not or cannot be read: it resolves outside ``root``,
    is not a regular file, or holds more than ``max_bytes``.  Never reads more than ``max_bytes + 1`` bytes and
    never blocks on a FIFO.  ``follow_symlinks`` (only without ``root``): a symlink is the user's own, read
    where it points."""
    target = abs_path
    if root is not None:
        try:
            target = abs_path.resolve(strict=True)
            inside = within(target, root.resolve())
        except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop
            return UNREADABLE, f"{type(error).__name__}: {error}"
        if not inside:
            return OUTSIDE_LANDING, "the path resolves outside the landing folder; it was not read"
    no_follow = 0 if follow_symlinks and root is None else getattr(os, "O_NOFOLLOW", 0)
    flags = os.O_RDONLY | no_follow | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target, flags)
    except OSError as error:
        if error.errno == errno.ELOOP and no_follow:
            return OUTSIDE_LANDING, "the file was replaced by a symlink after it was scanned; it was not read"
        return UNREADABLE, f"{type(error).__name__}: {error}"
    with open(fd, "rb", buffering=0) as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return NOT_A_REGULAR_FILE, f"not a regular file (mode {stat.filemode(info.st_mode)}); it was not read"
        if info.st_size > max_bytes:
            return "too_large", f"{info.st_size} bytes exceeds the limit of {max_bytes}"
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = handle.read(min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    if len(data) > max_bytes:
        return "too_large", f"the file grew past the limit of {max_bytes} bytes while it was read"
    return data
