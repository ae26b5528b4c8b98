"""SB3 stdout tables (HumanOutputFormat). (being written)"""

from __future__ import annotations

from pathlib import Path

from sb3doctor.model import SourceData


def read_stdout(path: Path) -> list[SourceData]:
    """Read a captured stdout log (``Path('-')`` = stdin): one SourceData per printed run."""
    raise NotImplementedError
