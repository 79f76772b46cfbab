"""Text from submissions made safe to print, store and render.

Anything a submission controls (its file names, exception messages, the
``repr`` of what it returns) may hold terminal escape codes, other control
characters, lone surrogates or invalid UTF-8. ``printable`` turns all of them
into visible escapes, so that what reaches a terminal, an HTML page, a CSV or
JSON file or the gradebook is plain text that encodes as UTF-8 everywhere.
"""

from __future__ import annotations

import re

__all__ = ["printable"]

# C0 and C1 controls except newline and tab, DEL, and lone surrogates
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, limit: int | None = None) -> str:
    """``text`` as a string with every unsafe character escaped, cut at ``limit``."""
    s = text if isinstance(text, str) else str(text)
    s = _UNSAFE.sub(_escape, s)
    if limit is not None and len(s) > limit:
        s = s[: max(0, limit - 20)] + " ... [cut]"
    return s
