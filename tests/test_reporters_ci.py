"""The CI report formats: JUnit XML, SARIF 2.1.0, GitHub workflow commands, Markdown.

Reports are built from real SB3 runs (the fixture event files, one of them truncated) and
real expectation verdicts; one rule finding is written by hand to carry advice and the
awkward characters (``| < & % , : newline``, an ANSI escape) every format must escape.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest

from sb3doctor.expect import evaluate_expectations, parse_expectations
from sb3doctor.model import Advice, Finding, Run
from sb3doctor.reporters import Report, RunReport, render
from sb3doctor.reporters.github import escape_data, escape_property
from sb3doctor.reporters.markdown import cell
from sb3doctor.sources import read_runs

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
# A hand-written SUBSET of the official SARIF 2.1.0 schema (see its description): the
# network is closed on test machines and no installed package ships the official file.
SARIF_SUBSET_SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0-subset.schema.json"

EXPECTATIONS = [
    "rollout/ep_rew_mean:last>=475",
    "train/approx_kl:max<0.1",
    "train/explained_variance:median@last20%>0.5",
]
AWKWARD = 'approx_kl | median 0.08 > 0.05 & "rising"\n100%, a:b \x1b[31mred\x1b[0m'


def event_file(folder: Path) -> Path:
    (path,) = folder.glob("events.out.tfevents.*")
    return path


@pytest.fixture()
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Run]:
    """PPO and A2C CartPole runs read from their event files; the A2C copy is truncated."""
    monkeypatch.chdir(tmp_path)  # report paths are relative to the working folder
    for name, folder in (("ppo", "ppo_cartpole/PPO_1"), ("a2c", "a2c_cartpole/A2C_1")):
        dest = tmp_path / "logs" / Path(folder).name
        dest.mkdir(parents=True)
        src = event_file(FIXTURES / folder)
        data = src.read_bytes()
        # Cut the A2C file inside its last record: read up to there, with a warning.
        (dest / src.name).write_bytes(data if name == "ppo" else data[:-7])
    out = [*read_runs("logs/PPO_1"), *read_runs("logs/A2C_1")]
    assert [r.algo for r in out] == ["PPO", "A2C"]
    assert not out[0].warnings and out[1].warnings
    return out


def kl_finding(severity: str = "warning") -> Finding:
    return Finding(
        rule="PPO-KL-HIGH",
        name="approx-kl-too-high",
        category="lr_too_high",
        severity=severity,
        metric="train/approx_kl",
        message=AWKWARD,
        observed=0.08,
        threshold=0.05,
        window="last20",
        steps=(1024, 2048),
        # as the engine renders it: the text starts with "param current -> suggested"
        advice=[
            Advice("learning_rate", 0.0003, 0.00015, "learning_rate 3e-4 -> 1.5e-4: halve the learning rate")
        ],
    )


def build_report(
    runs: list[Run],
    *,
    fail_on: str | None = "error",
    aggregate: str | None = None,
    extra: Finding | None = None,
) -> Report:
    """What analyze builds: per-run findings + checked rules, aggregate verdicts separately."""
    exps = parse_expectations(EXPECTATIONS)
    per_run = evaluate_expectations(runs, exps)
    results = list(per_run)
    loose: list[Finding] = []
    if aggregate:
        grouped = evaluate_expectations(runs, exps, aggregate, "glob:*")
        results += grouped
        loose = [r.finding for r in grouped if r.finding is not None]
    reports = []
    for run in runs:
        findings = [r.finding for r in per_run if r.run is run and r.finding is not None]
        if run.algo == "PPO":
            findings.append(extra or kl_finding())
        checked = ["PPO-KL-HIGH", "PPO-CLIP-HIGH"] if run.algo == "PPO" else ["A2C-EV-LOW"]
        reports.append(RunReport(run, findings, checked=checked))
    return Report(reports, loose, results, fail_on=fail_on)


# --------------------------------------------------------------------------- JUnit


def parse_junit(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_structure_is_what_gitlab_and_jenkins_read(runs: list[Run]) -> None:
    report = build_report(runs, aggregate="median")
    root = parse_junit(render(report, "junit"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["logs/PPO_1", "logs/A2C_1", "*"]
    total = failures = 0
    for suite in suites:
        cases = suite.findall("testcase")
        failed = [c for c in cases if c.find("failure") is not None]
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == len(failed)
        assert suite.get("errors") == "0" and suite.get("skipped") == "0"
        float(suite.get("time", "x"))
        for case in cases:
            assert case.get("classname") == suite.get("name")
            assert case.get("name")
            float(case.get("time", "x"))
            for failure in case.findall("failure"):
                assert failure.get("message") and failure.get("type") in ("error", "warning", "info")
                assert failure.text
        total += len(cases)
        failures += len(failed)
    assert int(root.get("tests", "-1")) == total and int(root.get("failures", "-1")) == failures
    assert failures > 0

    # One test case per run x (rule checked or expectation), plus "logs read".
    names = {s.get("name"): [c.get("name") for c in s.findall("testcase")] for s in suites}
    expect_ids = [f"EXPECT:{e}" for e in EXPECTATIONS]
    assert sorted(names["logs/PPO_1"]) == sorted(["logs read", "PPO-KL-HIGH", "PPO-CLIP-HIGH", *expect_ids])
    assert sorted(names["logs/A2C_1"]) == sorted(["logs read", "A2C-EV-LOW", *expect_ids])
    assert sorted(names["*"]) == sorted(expect_ids)


def test_junit_failures_match_the_verdicts(runs: list[Run]) -> None:
    report = build_report(runs, aggregate="median")
    root = parse_junit(render(report, "junit"))
    by_key = {
        (s.get("name"), c.get("name")): c for s in root.findall("testsuite") for c in s.findall("testcase")
    }
    for res in report.expectations:
        suite = "*" if res.aggregate else f"logs/{res.subject}"
        case = by_key[(suite, res.rule)]
        failure = case.find("failure")
        assert (failure is None) is res.passed
        if failure is not None:
            assert res.finding is not None
            assert failure.get("message") == res.finding.message and failure.get("type") == "error"
            if res.aggregate:
                assert "spread" in failure.get("message", "") or "nothing to measure" in failure.get(
                    "message", ""
                )
                for name in res.per_run:
                    assert name in (failure.text or "")
        else:
            out = case.find("system-out")
            assert out is not None and "passed" in (out.text or "")
    # A rule that was checked and did not fire is a passing case.
    clip = by_key[("logs/PPO_1", "PPO-CLIP-HIGH")]
    assert list(clip) == []
    # Read warnings of the truncated run are in its suite's system-err.
    a2c = next(s for s in root.findall("testsuite") if s.get("name") == "logs/A2C_1")
    err = a2c.find("system-err")
    assert err is not None and "truncated" in (err.text or "")


@pytest.mark.parametrize(
    ("severity", "fail_on", "is_failure"),
    [
        ("warning", "error", False),
        ("warning", "warning", True),
        ("error", "error", True),
        ("info", "info", True),
        ("info", "warning", False),
        ("warning", None, True),
        ("warning", "never", True),
    ],
)
def test_junit_failure_means_the_finding_reaches_fail_on(
    runs: list[Run], severity: str, fail_on: str | None, is_failure: bool
) -> None:
    report = build_report(runs, fail_on=fail_on, extra=kl_finding(severity))
    root = parse_junit(render(report, "junit"))
    case = next(c for c in root.iter("testcase") if (c.get("name") or "").startswith("PPO-KL-HIGH"))
    failure = case.find("failure")
    assert (failure is not None) is is_failure
    if failure is not None:
        assert failure.get("type") == severity
        # Escaped on write, restored on parse; the ANSI escape character is dropped (not XML).
        assert failure.get("message") == AWKWARD.replace("\x1b", "")
        assert "learning_rate 3e-4 -> 1.5e-4" in (failure.text or "")
    else:
        out = case.find("system-out")
        assert out is not None and f"[{severity}]" in (out.text or "") and "a:b" in (out.text or "")


# --------------------------------------------------------------------------- SARIF


def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SARIF_SUBSET_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def test_sarif_validates_and_points_at_the_log_files(runs: list[Run]) -> None:
    report = build_report(runs, aggregate="median")
    text = render(report, "sarif")
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    sarif_validator().validate(doc)
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "sb3doctor"
    rules = driver["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    results = run["results"]
    findings = report.all_findings()
    assert len(results) == len(findings)
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for res in results:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
    for f in findings:
        match = [r for r in results if r["ruleId"] == f.rule and r["message"]["text"].startswith(f.message)]
        assert match, f.rule
        assert match[0]["level"] == levels[f.severity]
    for res in results:
        (loc,) = res["locations"]
        uri = loc["physicalLocation"]["artifactLocation"]["uri"]
        parts = urlsplit(uri)
        assert not parts.scheme and " " not in uri  # a relative URI reference
        target = Path(unquote(parts.path))
        assert target.is_file() and target.name.startswith("events.out.tfevents.")
        # no line number on a binary event file
        assert "region" not in loc["physicalLocation"]
    fingerprints = [r["partialFingerprints"]["sb3doctor/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)
    # The same report renders the same fingerprints (stable alerts across CI runs).
    assert text == render(report, "sarif")
    # The advice computed from the run's own values follows the message.
    kl = next(r for r in results if r["ruleId"] == "PPO-KL-HIGH")
    assert kl["message"]["text"].count("learning_rate 3e-4 -> 1.5e-4") == 1
    assert "Advice: learning_rate 3e-4 -> 1.5e-4: halve" in kl["message"]["text"]
    assert kl["properties"]["advice"][0]["suggested"] == 0.00015
    # The group verdict lists every run of the group.
    group = [r for r in results if r["properties"].get("aggregate") == "median"]
    assert group and all(set(r["properties"]["perRun"]) == {"PPO_1", "A2C_1"} for r in group)
    assert all(len(r["relatedLocations"]) == 1 for r in group)
    # The truncated log is reported as a tool execution notification.
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) == 1 and "truncated" in notes[0]["message"]["text"]


def test_sarif_spells_nan_as_a_string(runs: list[Run]) -> None:
    f = kl_finding()
    f.observed = math.nan
    text = render(build_report(runs, extra=f), "sarif")
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    sarif_validator().validate(doc)
    kl = next(r for r in doc["runs"][0]["results"] if r["ruleId"] == "PPO-KL-HIGH")
    assert kl["properties"]["observed"] == "nan"


def test_sarif_schema_subset_is_not_vacuous(runs: list[Run]) -> None:
    doc = json.loads(render(build_report(runs), "sarif"))
    validator = sarif_validator()
    broken = [
        lambda d: d.update(version="2.0.0"),
        lambda d: d["runs"][0]["results"][0].update(level="fatal"),
        lambda d: d["runs"][0]["results"][0].pop("message"),
        lambda d: d["runs"][0]["results"][0].update(unknownProperty=1),
        lambda d: d["runs"][0]["tool"]["driver"].pop("name"),
        lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"].update(
            region={"startLine": 0}
        ),
        lambda d: d["runs"][0]["invocations"][0].pop("executionSuccessful"),
    ]
    for breaker in broken:
        copy = json.loads(json.dumps(doc))
        breaker(copy)
        assert not validator.is_valid(copy)


# --------------------------------------------------------------------------- GitHub

COMMAND_RE = re.compile(r"^::(?P<cmd>error|warning|notice)(?: (?P<props>[^:]*))?::(?P<msg>.*)$")


def unescape(text: str) -> str:
    return (
        text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


def test_github_escaping_follows_actions_core() -> None:
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert escape_data("a:b,c") == "a:b,c"  # the message keeps ':' and ','
    assert escape_property("logs/a,b:c%\n") == "logs/a%2Cb%3Ac%25%0A"
    # '%' is escaped first, so an existing '%0A' in the text is not turned into a newline.
    assert unescape(escape_property("100%0A, x")) == "100%0A, x"


def test_github_commands_one_per_finding_and_read_warning(runs: list[Run]) -> None:
    # --fail-on info: every finding is annotated.
    report = build_report(runs, aggregate="median", fail_on="info")
    lines = render(report, "github").splitlines()
    commands = [COMMAND_RE.match(line) for line in lines[:-1]]
    assert all(commands), lines
    findings = report.all_findings()
    read_warnings = sum(len(r.warnings) for r in runs)
    assert len(commands) == len(findings) + read_warnings
    kinds = {"error": "error", "warning": "warning", "info": "notice"}
    messages = []
    for m in commands:
        assert m is not None
        assert "\n" not in m["msg"] and "\r" not in m["msg"]
        props = dict(p.split("=", 1) for p in m["props"].split(","))
        assert set(props) <= {"file", "title"} and Path(unescape(props["file"])).is_file()
        messages.append((m["cmd"], unescape(m["msg"]), unescape(props["title"])))
    for f in findings:
        assert any(cmd == kinds[f.severity] and msg.startswith(f.message) for cmd, msg, _ in messages), f.rule
    kl = next(msg for cmd, msg, title in messages if title.startswith("PPO-KL-HIGH"))
    assert kl.startswith(AWKWARD) and "advice: learning_rate 3e-4 -> 1.5e-4" in kl
    assert any(cmd == "warning" and "truncated" in msg for cmd, msg, _ in messages)
    assert lines[-1].startswith("sb3doctor: 2 run(s)") and "gate failed (--fail-on info)" in lines[-1]


@pytest.mark.parametrize(
    ("fail_on", "annotated"),
    [
        ("error", {"error"}),
        ("warning", {"error", "warning"}),
        ("never", {"error", "warning"}),  # not gating: what a reader would want to see
        (None, {"error", "warning"}),
        ("info", {"error", "warning", "notice"}),
    ],
)
def test_github_fail_on_decides_which_findings_are_annotations(
    runs: list[Run], fail_on: str | None, annotated: set[str]
) -> None:
    info = Finding(
        rule="RET-TOO-EARLY",
        name="too-early-to-judge",
        category="reward_plateau",
        severity="info",
        metric="rollout/ep_rew_mean",
        message="too early to judge the returns",
    )
    report = build_report(runs[:1], fail_on=fail_on)
    report.runs[0].findings.append(info)
    by_severity = {f.severity for f in report.all_findings()}
    assert by_severity == {"error", "warning", "info"}  # the case is not vacuous
    lines = render(report, "github").splitlines()
    commands = [m for m in map(COMMAND_RE.match, lines) if m]
    assert {m["cmd"] for m in commands} == annotated
    # The summary still counts every finding, annotated or not.
    assert "1 info" in lines[-1]


# --------------------------------------------------------------------------- Markdown


def table_blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def cells(row: str) -> list[str]:
    # Split on pipes that are not escaped, like GitHub does.
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def test_markdown_tables_keep_their_shape(runs: list[Run]) -> None:
    report = build_report(runs, aggregate="median")
    text = render(report, "markdown")
    blocks = table_blocks(text)
    assert len(blocks) >= 4  # runs, expectations, findings of two runs and of the group
    for block in blocks:
        width = len(cells(block[0]))
        assert re.fullmatch(r"\|(?:-+:?\|)+", block[1].replace(" ", "")), block[1]
        assert all(len(cells(row)) == width for row in block), block

    runs_table = next(b for b in blocks if cells(b[0])[0] == "Run")
    assert [cells(r)[0] for r in runs_table[2:]] == ["`logs/PPO_1`", "`logs/A2C_1`"]
    expectation_table = next(b for b in blocks if cells(b[0])[0] == "Expectation")
    assert len(expectation_table) - 2 == len(report.expectations)
    group_rows = [cells(r) for r in expectation_table[2:] if "(median of 2)" in r]
    assert len(group_rows) == len(EXPECTATIONS)
    assert any("PPO_1" in row[4] and "A2C_1" in row[4] for row in group_rows)

    kl_row = next(r for b in blocks for r in b if "`PPO-KL-HIGH`" in r)
    assert "\\|" in kl_row and "<br>" in kl_row and "&gt; 0.05" in kl_row
    assert "❌ **Gate failed** (`--fail-on error`)" in text
    assert "- learning_rate 3e-4 -&gt; 1.5e-4: halve the learning rate (`PPO-KL-HIGH`)" in text  # -> escaped
    assert "truncated" in text


def test_markdown_verdict_and_language(runs: list[Run]) -> None:
    passing = Report([RunReport(runs[0], [], checked=["PPO-KL-HIGH"])], fail_on="error")
    text = render(passing, "markdown")
    assert "✅ **Gate passed**" in text and "No findings." in text
    assert "ℹ️ **Not gating**" in render(Report([RunReport(runs[0], [])]), "markdown")
    zh = render(build_report(runs), "markdown", lang="zh")
    assert "❌ **检查未通过**" in zh and "| 运行 |" in zh


def test_markdown_cell_escaping() -> None:
    assert cell("a|b\nc\\d <b>") == "a\\|b<br>c\\\\d &lt;b&gt;"


def test_markdown_run_heading_survives_backticks_and_newlines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder name with a backtick, a pipe or a newline keeps its per-run heading one line and
    one code span (the runs table escapes the same name for its cell)."""
    from sb3doctor.cli import main

    for name in ("pipe|b`c", "nl\nline"):
        shutil.copytree(FIXTURES / "ppo_lr_high" / "PPO_1", tmp_path / name / "PPO_1")
        assert main(["analyze", str(tmp_path / name), "--format", "markdown", "--fail-on", "never"]) == 0
        headings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("####")]
        assert len(headings) == 1 and headings[0].count("`") == 2, headings
        assert headings[0].endswith("/PPO_1`")


# --------------------------------------------------------------------------- all formats


def test_output_format_stays_light(tmp_path: Path) -> None:
    """Rendering a CI format imports neither rich nor any heavy library."""
    logs = tmp_path / "PPO_1"
    logs.mkdir()
    shutil.copy(event_file(FIXTURES / "ppo_cartpole" / "PPO_1"), logs)
    code = f"""
import sys
from sb3doctor.sources import read_runs
from sb3doctor.expect import evaluate_expectations, parse_expectations
from sb3doctor.reporters import Report, RunReport, render
runs = read_runs({str(logs)!r})
res = evaluate_expectations(runs, parse_expectations(["rollout/ep_rew_mean:last>=1"]))
report = Report([RunReport(r) for r in runs], expectations=res)
for fmt in ("junit", "sarif", "github", "markdown"):
    assert render(report, fmt)
heavy = {{"rich", "torch", "pandas", "tensorboard", "stable_baselines3", "gymnasium", "matplotlib"}}
print(sorted(heavy & {{m.split(".")[0] for m in sys.modules}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- the CLI gate


def final_reward(run_dir: Path) -> float:
    """The last rollout/ep_rew_mean of a run, read from its progress.csv independently."""
    import csv

    with (run_dir / "progress.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("rollout/ep_rew_mean")]
    return float(rows[-1]["rollout/ep_rew_mean"])


def cli(*args: str) -> int:
    from sb3doctor.cli import main

    return main(list(args))


@pytest.fixture()
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A logs/ folder holding a copy of the real PPO CartPole run (all its files)."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(FIXTURES / "ppo_cartpole" / "PPO_1", tmp_path / "logs" / "PPO_1")
    return Path("logs")


def test_cli_expectation_passes_and_fails(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    final = final_reward(logs / "PPO_1")
    assert cli("analyze", str(logs), "--expect", f"rollout/ep_rew_mean:last>={final - 1}") == 0
    capsys.readouterr()
    assert cli("analyze", str(logs), "--expect", f"rollout/ep_rew_mean:last>={final + 1}") == 1
    out = capsys.readouterr().out
    assert f"expected >= {final + 1:g}" in out
    # The gate level applies to expectations too: --fail-on never reports but passes.
    assert (
        cli("analyze", str(logs), "--fail-on", "never", "--expect", f"rollout/ep_rew_mean:last>={final + 1}")
        == 0
    )


def test_cli_report_file_and_human_view(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    final = final_reward(logs / "PPO_1")
    code = cli(
        "analyze", str(logs), "--format", "junit", "--output", "report.xml",
        "--expect", f"rollout/ep_rew_mean:last>={final + 1}", "--expect", "train/approx_kl:max<10",
    )  # fmt: skip
    assert code == 1
    out = capsys.readouterr().out
    assert "<testsuites" not in out and "PPO_1" in out  # the terminal still shows the human view
    root = parse_junit(Path("report.xml").read_text(encoding="utf-8"))
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases[f"EXPECT:rollout/ep_rew_mean:last>={final + 1}"].find("failure") is not None
    assert cases["EXPECT:train/approx_kl:max<10"].find("failure") is None
    assert int(root.get("failures", "0")) >= 1

    assert cli("analyze", str(logs), "--format", "sarif", "--output", "report.sarif") in (0, 1)
    sarif_validator().validate(json.loads(Path("report.sarif").read_text(encoding="utf-8")))
    # Never written over a log that was read.
    csv_log = str(logs / "PPO_1" / "progress.csv")
    before = Path(csv_log).read_bytes()
    assert cli("analyze", str(logs), "--format", "json", "--output", csv_log) == 2
    assert Path(csv_log).read_bytes() == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--expect", "rollout/ep_rew_mean:average>=475"], "unknown statistic 'average'"),
        (["--expect", "rollout/ep_rew_mean:last>="], "no value after the comparison"),
        (["--aggregate", "mode", "--expect", "rollout/ep_rew_mean:last>=1"], "mode"),
        (
            ["--aggregate", "median", "--group-by", "PPO(", "--expect", "rollout/ep_rew_mean:last>=1"],
            "--group-by",
        ),
    ],
)
def test_cli_bad_expectation_options_exit_2(
    logs: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    assert cli("analyze", str(logs), *args) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_cli_never_passes_when_a_log_cannot_be_read(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = ["--expect", "rollout/ep_rew_mean:last>=0"]
    assert cli("analyze", str(logs), *good) == 0
    # A second path that does not exist, a folder without logs, a corrupt event file: exit 2.
    assert cli("analyze", str(logs), "missing_logs", *good) == 2
    Path("empty").mkdir()
    assert cli("analyze", str(logs), "empty", *good) == 2
    bad = Path("bad") / "PPO_9"
    bad.mkdir(parents=True)
    (bad / "events.out.tfevents.1700000000.host.1.0").write_bytes(b"this is not a TFRecord file at all")
    assert cli("analyze", str(logs), "bad", *good) == 2
    err = capsys.readouterr().err
    assert "missing_logs" in err and "empty" in err and "events.out.tfevents.1700000000" in err


def test_cli_expectations_from_config(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    final = final_reward(logs / "PPO_1")
    Path("sb3doctor.yaml").write_text(
        f"fail_on: error\nexpect:\n  - 'rollout/ep_rew_mean:last>={final + 1}'\n", encoding="utf-8"
    )
    assert cli("analyze", str(logs), "--config", "sb3doctor.yaml") == 1
    # The command line wins over the file.
    assert cli("analyze", str(logs), "--config", "sb3doctor.yaml", "--fail-on", "never") == 0
    Path("bad.yaml").write_text("expect:\n  - 'rollout/ep_rew_mean:lst>=1'\n", encoding="utf-8")
    assert cli("analyze", str(logs), "--config", "bad.yaml") == 2
    assert "bad.yaml" in capsys.readouterr().err
    Path("unknown.yaml").write_text("expectations: []\n", encoding="utf-8")
    assert cli("analyze", str(logs), "--config", "unknown.yaml") == 2


def test_cli_aggregates_real_seeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """fixtures/ppo_seeds: several seeds of one PPO config gated on their median / min."""
    monkeypatch.chdir(tmp_path)
    seeds = tmp_path / "ppo_seeds"
    shutil.copytree(FIXTURES / "ppo_seeds", seeds)
    finals = sorted(final_reward(d) for d in seeds.iterdir() if (d / "progress.csv").exists())
    assert len(finals) >= 3 and finals[0] < finals[-1]
    lo, mid, hi = finals[0], finals[len(finals) // 2], finals[-1]
    lenient = "median" if lo < mid else "max"
    threshold = (lo + (mid if lo < mid else hi)) / 2
    expect = f"rollout/ep_rew_mean:last>={threshold!r}"
    assert (
        cli("analyze", "ppo_seeds", "--expect", expect, "--aggregate", lenient, "--format", "markdown") == 0
    )
    out = capsys.readouterr().out
    assert "✅ pass" in out and f"({lenient} of {len(finals)})" in out
    assert cli("analyze", "ppo_seeds", "--expect", expect, "--aggregate", "min") == 1
    assert cli("analyze", "ppo_seeds", "--expect", expect) == 1  # per run, the worst seed fails
