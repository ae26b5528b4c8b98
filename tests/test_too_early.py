"""A run too short for any check is told "too early to judge", never "no problems found".

The crashed run is real: SAC on Pendulum at learning rate 0.1 (bench/benchmark, seed 11), which
SB3 stopped with NaN actions after 600 steps, before its first log table: monitor.csv holds 3
episodes and the event file no scalar. The "written so far" run is the first tables of a real
fixture's progress.csv, as a run that has just started leaves it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sb3doctor.cli import main
from sb3doctor.model import Run
from sb3doctor.reporters import MIN_EPISODES, MIN_UPDATES, RunReport, run_evidence
from sb3doctor.sources import read_runs

ROOT = Path(__file__).resolve().parents[1]
CRASHED = ROOT / "bench" / "benchmark" / "runs" / "diverged-sac-pendulum-lr0.1-s11"


#: A real PPO run's progress.csv (rl-zoo's CartPole settings, 97 tables).
PPO_PROGRESS = next((ROOT / "fixtures" / "ppo_cartpole").glob("PPO_*/progress.csv"))


def young_run(tmp_path: Path) -> Run:
    """The run as its first two tables leave it: a progress.csv with its header and 2 rows."""
    lines = PPO_PROGRESS.read_text(encoding="utf-8").splitlines(keepends=True)
    young = tmp_path / "young"
    young.mkdir()
    (young / "progress.csv").write_text("".join(lines[:3]), encoding="utf-8")
    (run,) = read_runs(young)
    return run


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_crashed_run_holds_too_little_for_any_check() -> None:
    (run,) = read_runs(CRASHED)
    ev = run_evidence(run)
    assert (ev.updates, ev.episodes) == (0, 3)
    assert not ev.enough
    text = RunReport(run).clean_text("en")
    assert text.startswith("too early to judge: 0 training updates and 3 episodes")
    assert f"{MIN_UPDATES} updates or {MIN_EPISODES} episodes" in text


@pytest.mark.parametrize("fmt", ["terminal", "markdown"])
def test_analyze_says_too_early_not_healthy(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(capsys, "analyze", str(CRASHED), "--fail-on", "never", "--format", fmt)
    assert code == 0
    assert "too early to judge" in out
    assert "no problems found" not in out
    assert "No findings." not in out


def test_json_report_records_the_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(capsys, "analyze", str(CRASHED), "--fail-on", "never", "--format", "json")
    assert code == 0
    (run,) = json.loads(out)["runs"]
    assert run["findings"] == []
    assert run["judged_on"] == {"updates": 0, "episodes": 3, "enough": False}


def test_html_report_marks_the_run_too_early(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    code, _ = run_cli(capsys, "report", str(CRASHED), "-o", str(out))
    assert code == 0
    html = out.read_text(encoding="utf-8")
    assert 'class="early">too early to judge' in html
    assert 'class="ok"' not in html


def test_a_run_that_has_just_started_then_one_with_enough(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first two tables of a real PPO run (progress.csv only) are too early; the whole run
    is judged, and a clean verdict there reads "no problems found"."""
    run = young_run(tmp_path)
    assert run_evidence(run).updates == 2
    assert not run_evidence(run).enough

    whole = tmp_path / "whole"
    shutil.copytree(PPO_PROGRESS.parent, whole)
    (run,) = read_runs(whole)
    ev = run_evidence(run)
    assert ev.enough and ev.updates >= MIN_UPDATES
    code, out = run_cli(capsys, "analyze", str(whole), "--fail-on", "never")
    assert code == 0
    assert "no problems found" in out
    assert "too early to judge" not in out


def test_compare_names_a_group_too_short_to_judge(capsys: pytest.CaptureFixture[str]) -> None:
    """A group whose runs hold too little for any check is "too early to judge" in compare's
    diagnosis column; a group with a judged run keeps its own verdict."""
    fixture = ROOT / "fixtures" / "td3_pendulum"
    code, table = run_cli(capsys, "compare", str(CRASHED), str(fixture), "--format", "markdown")
    assert code == 0
    crashed_row = next(line for line in table.splitlines() if "diverged-sac-pendulum-lr0.1-s11" in line)
    fixture_row = next(line for line in table.splitlines() if "td3_pendulum" in line)
    assert crashed_row.rstrip(" |").endswith("too early to judge")
    assert "too early to judge" not in fixture_row


def test_event_file_alone_counts_tables_not_episodes(tmp_path: Path) -> None:
    """Without monitor.csv the returns come from SB3's logged tables, each a running mean over
    up to 100 episodes: the text says tables, so 2 of them are not read as 2 episodes."""
    run = young_run(tmp_path)
    ev = run_evidence(run)
    assert ev.episodes_are_tables and ev.episodes == 2
    assert "2 tables of episode returns" in RunReport(run).clean_text("en")
    (crashed,) = read_runs(CRASHED)
    assert not run_evidence(crashed).episodes_are_tables


def test_a_clean_run_with_an_unknown_env_says_what_was_not_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Silence on a run whose env is unknown does not cover the returns (they are judged
    against random play and rl-zoo's return): the clean verdict says so, and with --env it
    does not."""
    whole = tmp_path / "PPO_1"  # the whole real run's progress.csv alone: no Monitor, no config
    whole.mkdir()
    shutil.copy(PPO_PROGRESS, whole / "progress.csv")
    code, out = run_cli(capsys, "analyze", str(whole), "--fail-on", "never")
    assert code == 0 and "env: unknown" in out
    assert (
        "no problems found (the returns were not compared with a reference: env unknown, give --env)" in out
    )
    code, out = run_cli(capsys, "analyze", str(whole), "--fail-on", "never", "--env", "CartPole-v1")
    assert code == 0 and "env unknown" not in out


def test_a_clean_run_on_an_env_without_reference_numbers_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--env naming an env sb3doctor has no random-play or rl-zoo numbers for (a custom env)
    keeps the caveat, with the env named."""
    whole = tmp_path / "PPO_1"
    whole.mkdir()
    shutil.copy(PPO_PROGRESS, whole / "progress.csv")
    code, out = run_cli(capsys, "analyze", str(whole), "--fail-on", "never", "--env", "MyReach-v0")
    assert code == 0
    assert "not compared with a reference: sb3doctor has none for MyReach-v0" in " ".join(out.split())
