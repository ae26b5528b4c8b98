"""The README says what the program does: the JSON schema, shell completion, no machine paths."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sb3doctor.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def documented_schema() -> dict[str, set[str]]:
    """The README's JSON schema block: object kind -> its keys."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```text\n(document:.*?)```", text, re.S)
    assert block is not None, "no schema block starting with 'document:'"
    schema: dict[str, set[str]] = {}
    kind = ""
    for line in block.group(1).splitlines():
        m = re.match(r"^(\w+):\s+(.*)$", line)
        rest = line
        if m:
            kind, rest = m.group(1), m.group(2)
            schema[kind] = set()
        rest = re.sub(r"\(.*?\)", "", rest)  # remarks: "(only with --expect)"
        schema[kind] |= {k.strip() for k in rest.split(",") if k.strip()}
    return schema


def _analyze_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    main(["analyze", str(ROOT / "fixtures" / "ppo_lr_high"), "--format", "json", "--fail-on", "never", *args])
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def test_documented_json_schema_is_the_real_output(capsys: pytest.CaptureFixture[str]) -> None:
    schema = documented_schema()
    assert set(schema) == {
        "document",
        "run",
        "env",
        "judged_on",
        "finding",
        "advice",
        "expectation",
        "summary",
    }
    doc = _analyze_json(capsys, "--expect", "rollout/ep_rew_mean:last>=475")
    assert set(doc) == schema["document"]
    run = doc["runs"][0]
    assert set(run) == schema["run"]
    assert set(run["env"]) == schema["env"]
    assert set(run["judged_on"]) == schema["judged_on"]
    findings = run["findings"] + doc["findings"]
    assert findings and all(set(f) == schema["finding"] for f in findings)
    advice = [a for f in findings for a in f["advice"]]
    assert advice and all(set(a) == schema["advice"] for a in advice)
    assert doc["expectations"] and all(set(e) == schema["expectation"] for e in doc["expectations"])
    assert set(doc["summary"]) == schema["summary"]
    # "expectations (only with --expect)": absent without one
    assert "expectations" not in _analyze_json(capsys)


def test_readme_has_no_paths_from_a_developer_machine() -> None:
    text = README.read_text(encoding="utf-8")
    found = re.findall(r"(?:/home/\w+|/Users/\w+|/root/|/work/\w+|/tmp/\w+|[A-Z]:\\\\Users)", text)
    assert found == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_documented_shell_completion_works(shell: str) -> None:
    text = README.read_text(encoding="utf-8")
    assert f"_SB3DOCTOR_COMPLETE={shell}_source sb3doctor" in text
    exe = Path(sys.executable).parent / "sb3doctor"
    if not exe.exists():
        pytest.skip("the sb3doctor script is not installed next to this interpreter")
    env = {**os.environ, "_SB3DOCTOR_COMPLETE": f"{shell}_source"}
    out = subprocess.run([str(exe)], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "_SB3DOCTOR_COMPLETE" in out.stdout


def test_completion_offers_the_formats() -> None:
    exe = Path(sys.executable).parent / "sb3doctor"
    if not exe.exists():
        pytest.skip("the sb3doctor script is not installed next to this interpreter")
    env = {
        **os.environ,
        "_SB3DOCTOR_COMPLETE": "bash_complete",
        "COMP_WORDS": "sb3doctor analyze --format j",
        "COMP_CWORD": "3",
    }
    out = subprocess.run([str(exe)], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["plain,json", "plain,junit"]
