"""The README's CI recipe: the GitHub Actions and GitLab snippets are ci/gate-example.sh verbatim,
and its gate and report steps do what the README says on real runs.

The install and train steps (build the wheel, train three seeds) run end to end in ``.ci/run``;
here the steps after them run on a bundled fixture copied to ``logs/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "ci" / "gate-example.sh"
README = ROOT / "README.md"


def script_steps() -> dict[str, str]:
    """``# step: NAME`` sections of the recipe script -> their commands (no trailing blank lines)."""
    steps: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []
    for line in SCRIPT.read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"# step: (\w+)", line)
        if m:
            if name is not None:
                steps[name] = "\n".join(lines).strip("\n")
            name, lines = m.group(1), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        steps[name] = "\n".join(lines).strip("\n")
    return steps


def readme_yaml(heading: str) -> dict:
    """The first ```yaml block after ``heading`` in the README, parsed."""
    text = README.read_text(encoding="utf-8")
    after = text[text.index(heading) :]
    m = re.search(r"```yaml\n(.*?)```", after, re.S)
    assert m is not None, f"no yaml block under {heading!r}"
    doc = yaml.safe_load(m.group(1))
    assert isinstance(doc, dict)
    return doc


def test_script_has_the_four_steps_and_is_valid_bash() -> None:
    steps = script_steps()
    assert list(steps) == ["install", "train", "gate", "reports"]
    assert all(steps.values())
    assert "python -m build" in steps["install"] and "dist/sb3doctor-*.whl" in steps["install"]
    bash = shutil.which("bash")
    if bash is not None:
        subprocess.run([bash, "-n", str(SCRIPT)], check=True)


def test_github_actions_snippet_is_the_script_verbatim() -> None:
    steps = script_steps()
    job = readme_yaml("### GitHub Actions")["jobs"]["gate"]
    runs = {s["name"]: s["run"].rstrip("\n") for s in job["steps"] if "run" in s}
    assert runs == steps
    # The reports must be written even when the gate step failed the job.
    reports = next(s for s in job["steps"] if s.get("name") == "reports")
    assert reports.get("if") == "always()"


def test_gitlab_snippet_is_the_script_verbatim() -> None:
    steps = script_steps()
    script = [item.rstrip("\n") for item in readme_yaml("### GitLab CI")["learning-gate"]["script"]]
    assert script == [steps["install"], steps["train"], steps["gate"]]


def test_readme_never_installs_from_an_index_it_is_not_on() -> None:
    text = README.read_text(encoding="utf-8")
    # sb3doctor is not on PyPI: `pip install sb3doctor[...]` fails with "No matching distribution".
    assert not re.search(r"pip install [\"']?sb3doctor\b", text)
    assert 'pip install ".[train]"' in text and "pip install ." in text


def _run_step(step: str, cwd: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run one recipe step with bash, with this interpreter's ``sb3doctor`` first on PATH."""
    env = {**os.environ, **(extra_env or {})}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", step],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_gate_step_fails_a_broken_run_and_writes_junit(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "fixtures" / "ppo_lr_high", tmp_path / "logs")
    proc = _run_step(script_steps()["gate"], tmp_path)
    assert proc.returncode == 1, proc.stderr
    root = ET.parse(tmp_path / "report.xml").getroot()
    assert root.tag == "testsuites" and int(root.get("failures", "0")) >= 1
    assert "ERROR" in proc.stdout  # the human view goes to the job log


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_reports_step_never_fails_and_writes_every_report(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "fixtures" / "ppo_lr_high", tmp_path / "logs")
    proc = _run_step(script_steps()["reports"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^::error file=logs/PPO_1/", proc.stdout, re.M)
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("#") and "PPO-KL-HIGH" in summary
    sarif = json.loads((tmp_path / "sb3doctor.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
