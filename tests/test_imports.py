"""The analyzer is light: heavy libraries stay out of `import sb3doctor`, analyze and export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = [
    "torch",
    "stable_baselines3",
    "gymnasium",
    "matplotlib",
    "tensorboard",
    "tbparse",
    "pandas",
]

# Runs the CLI in-process, then reports which forbidden modules got imported.
PROBE = """
import json, sys
from sb3doctor.cli import main
code = main(sys.argv[1:])
bad = sorted(set(m.split('.')[0] for m in sys.modules) & set(json.loads(FORBIDDEN)))
sys.stdout.flush()
print("\\nPROBE", json.dumps(dict(code=code, imported=bad)))
"""


def probe(*args: str) -> dict:
    code = f"FORBIDDEN = {json.dumps(FORBIDDEN)!r}\n" + PROBE
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("PROBE ")]
    assert line, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(line[-1][len("PROBE ") :])


def test_import_sb3doctor_is_light() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, sb3doctor; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            + repr([*FORBIDDEN, "numpy", "rich", "yaml"])
            + "))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("command", ["analyze", "export"])
def test_cli_paths_do_not_import_heavy_libraries(command: str) -> None:
    result = probe(command, str(ROOT / "fixtures" / "ppo_cartpole"))
    assert result["code"] in (0, 1), result
    assert result["imported"] == []
