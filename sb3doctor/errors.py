"""Errors that the CLI turns into one line on stderr and exit code 2."""

from __future__ import annotations

from pathlib import Path


class SB3DoctorError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""

    exit_code = 2

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else str(path)
        self.message = message

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InputError(SB3DoctorError):
    """A path that does not exist, cannot be read, or holds no SB3 log."""


class ConfigError(SB3DoctorError):
    """A bad ``sb3doctor.yaml`` / ``[tool.sb3doctor]`` / ``--expect`` / rule file."""


#: The exit code a command has decided on before it writes its output: if the reader of stdout
#: goes away meanwhile (``sb3doctor analyze ... | head -1``), the CLI still exits with it.
PENDING_EXIT: dict[str, int] = {"code": 0}
