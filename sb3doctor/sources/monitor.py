"""monitor.csv written by SB3's Monitor wrapper. (being written)"""

from __future__ import annotations

from pathlib import Path

from sb3doctor.model import SourceData


def read_monitor(paths: list[Path]) -> SourceData:
    """Read one or several monitor.csv files of one run."""
    raise NotImplementedError
