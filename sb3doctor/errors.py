"""Errors that the CLI turns into one line on stderr and exit code 2."""

from __future__ import annotations

import re
from pathlib import Path

# C0 controls except tab and newline, DEL, C1 controls (0x9b is an 8-bit CSI on some
# terminals) and the bidirectional overrides that reorder what a terminal shows. Built once:
# str.translate with a table is far cheaper than a regex over every report line.
_UNSAFE = [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]
_UNSAFE += [0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_ESCAPES = {c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}" for c in _UNSAFE}
_ESCAPES[0x0D] = "\\r"
_ESCAPES_LINE = {**_ESCAPES, 0x0A: "\\n", 0x09: "\\t"}
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def printable(text: str, *, one_line: bool = False, keep_sgr: bool = False) -> str:
    """``text`` with control characters escaped (``\\x1b``, ``\\r``), safe to show on a terminal.

    Tags, csv headers, folder names and messages come from files anyone can write: an escape
    code in a folder name could set the terminal title or clear the screen. Every line the CLI
    prints from such text goes through here.

    :param one_line: also escape newlines and tabs (error and warning lines stay one line)
    :param keep_sgr: keep colour codes (``ESC [ ... m``) that a report rendered itself
    """
    if text.isprintable():
        return text  # the common case: no control character at all (isprintable is C code)
    table = _ESCAPES_LINE if one_line else _ESCAPES
    if not keep_sgr or "\x1b" not in text:
        return text.translate(table)
    out, pos = [], 0
    for m in _SGR.finditer(text):
        out.append(text[pos : m.start()].translate(table))
        out.append(m.group(0))
        pos = m.end()
    out.append(text[pos:].translate(table))
    return "".join(out)


def quoted_path(path: str | Path) -> str:
    """A path for a one-line message: as is when plain, else quoted with its controls escaped."""
    text = str(path)
    if text.isprintable():
        return text
    return "'" + printable(text, one_line=True).replace("'", "\\'") + "'"


class SB3DoctorError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""

    exit_code = 2

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else str(path)
        self.message = message

    def __str__(self) -> str:
        message = printable(self.message, one_line=True)
        return f"{quoted_path(self.path)}: {message}" if self.path else message


class InputError(SB3DoctorError):
    """A path that does not exist, cannot be read, or holds no SB3 log."""


class NoLogFound(InputError):
    """A path that exists and can be read but holds no SB3 log (yet: ``watch`` waits for one)."""


class ConfigError(SB3DoctorError):
    """A bad ``sb3doctor.yaml`` / ``[tool.sb3doctor]`` / ``--expect`` / rule file."""


#: The exit code a command has decided on before it writes its output: if the reader of stdout
#: goes away meanwhile (``sb3doctor analyze ... | head -1``), the CLI still exits with it.
PENDING_EXIT: dict[str, int] = {"code": 0}
