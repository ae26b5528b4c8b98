"""progress.csv / progress.json written by SB3's logger. (being written)"""

from __future__ import annotations

from pathlib import Path

from sb3doctor.model import SourceData


def read_progress_csv(path: Path) -> SourceData:
    """Read progress.csv."""
    raise NotImplementedError


def read_progress_json(path: Path) -> SourceData:
    """Read progress.json."""
    raise NotImplementedError
