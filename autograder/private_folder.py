"""A folder under a shared place (``/tmp``) that only this user can reach.

Anyone on the machine can create a name in ``/tmp`` first: a folder that is a
link, another user's, or open to others could hand the grader a planted file
(a course's checks, a socket that answers for the warm checker). So the
folder is made 0700, and used only when it is still exactly that.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["private_folder"]


def private_folder(path: Path) -> Path:
    """``path``, made 0700 if missing; ``PermissionError`` unless it is a folder of this user's alone."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(f"{path} is not a folder of this user's alone (a link, another user's, or open to others)")
    return path
