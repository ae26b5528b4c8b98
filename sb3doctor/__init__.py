"""sb3doctor: diagnose Stable-Baselines3 training runs from the logs they already write.

``import sb3doctor`` is cheap on purpose: no numpy, pandas, torch, SB3 or tensorboard is
imported here. :func:`read_runs` reads any SB3 log path into :class:`Run` objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Finding", "Run", "Series", "__version__", "read_runs"]

if TYPE_CHECKING:  # pragma: no cover
    from sb3doctor.model import Finding, Run, Series
    from sb3doctor.sources import read_runs


def __getattr__(name: str) -> Any:
    # Lazy attributes keep `import sb3doctor` to a few milliseconds.
    if name == "read_runs":
        from sb3doctor.sources import read_runs

        return read_runs
    if name in {"Run", "Series", "Finding"}:
        from sb3doctor import model

        return getattr(model, name)
    raise AttributeError(f"module 'sb3doctor' has no attribute {name!r}")
