"""The analyzer is light: heavy libraries stay out of `import sb3doctor`, analyze and export.

The report's libraries (scipy, matplotlib: the ``[report]`` extra) load only inside ``report``,
``compare`` and ``plot``, which say which extra to install when they are missing.
"""

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
    "scipy",
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


def test_help_does_not_import_the_report_libraries() -> None:
    result = probe("--help")
    assert result["code"] == 0 and result["imported"] == []


# Hides the [report] extra's libraries (a None entry in sys.modules makes find_spec say "missing").
WITHOUT_REPORT = """
import sys
sys.modules["scipy"] = None
sys.modules["matplotlib"] = None
from sb3doctor.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    ("command", "missing"),
    [
        (["report", "fixtures/ppo_cartpole", "-o", "{tmp}/r.html"], "scipy"),
        (["compare", "fixtures/ppo_cartpole", "fixtures/ppo_seeds"], "scipy"),
        (["plot", "fixtures/ppo_cartpole", "-o", "{tmp}/p.png"], "scipy, matplotlib"),
    ],
)
def test_report_commands_name_the_extra_when_it_is_missing(
    command: list[str], missing: str, tmp_path: Path
) -> None:
    args = [a.format(tmp=tmp_path) for a in command]
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_REPORT, *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"needs {missing}" in lines[0] and 'pip install "sb3doctor[report]"' in lines[0]
    assert not list(tmp_path.iterdir())  # nothing written
