"""Where the built-in rules live.

The wheel ships the repository's top-level ``rules/`` folder as ``sb3doctor/rules/``
(hatch ``force-include`` in pyproject.toml); a source checkout or an editable install has
no such folder inside the package, so we fall back to ``<repo>/rules``.
"""

from __future__ import annotations

from pathlib import Path

from sb3doctor.errors import ConfigError

_PACKAGE_DIR = Path(__file__).resolve().parent


def builtin_rules_dir() -> Path:
    """The folder holding the built-in ``*.yaml`` rules.

    :raises ConfigError: neither the packaged folder nor the checkout's ``rules/`` exists
        (a broken installation)
    """
    for candidate in (_PACKAGE_DIR / "rules", _PACKAGE_DIR.parent / "rules"):
        if candidate.is_dir():
            return candidate
    raise ConfigError("the built-in rules are missing from this installation", _PACKAGE_DIR / "rules")
