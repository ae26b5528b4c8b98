"""TensorBoard event files (TFRecord framing), read without tensorboard. (being written)"""

from __future__ import annotations

from pathlib import Path

from sb3doctor.model import SourceData


def read_event_file(path: Path, *, strict: bool = False) -> SourceData:
    """Read every scalar of one event file."""
    raise NotImplementedError
