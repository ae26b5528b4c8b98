"""``sb3doctor report fixtures/`` opened in a real browser (headless Chromium).

Chromium comes from the OS packages: ``.ci/run`` installs it, locally
``apt-get update && apt-get install -y chromium``. In CI (``CI`` set, as the CI runner sets
it) a missing Chromium fails this test; on a developer's machine without it the test is
skipped with that reason, so the README's test command passes on a fresh machine, where a
browser is not the code's failure.

Checks: no console message (the page logs none, so any is an error or an uncaught
exception), every run and finding rule id in the rendered DOM, every chart drawn (its canvas
has painted pixels) with as many plotted series as expected. The screenshot is saved in the
test's temp folder, and copied to ``bench/report-screenshot.png`` when
``SB3DOCTOR_SAVE_SCREENSHOT=1`` (CI keeps it as an artifact).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html import escape
from pathlib import Path

import pytest

from sb3doctor.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SCREENSHOT = ROOT / "bench" / "report-screenshot.png"
FLAGS = [
    "--headless=new",
    "--disable-gpu",
    "--no-sandbox",
    "--no-first-run",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1400,4000",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    why = "headless Chromium is needed for this test: apt-get update && apt-get install -y chromium"
    if os.environ.get("CI"):
        pytest.fail(f"{why} (.ci/run installs it)")
    pytest.skip(f"{why}; CI runs it")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "r.html"
    assert main(["report", str(FIXTURES), "-o", str(out)]) == 0
    return out


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # A fresh profile per call: nothing from another Chromium session leaks in.
    profile = cwd / f"profile-{len(list(cwd.glob('profile-*')))}"
    return subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
    )


def _attrs(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag))


def test_report_renders_in_headless_chromium(report: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proc = _run(["--enable-logging=stderr", "--v=0", "--dump-dom", report.as_uri()], report.parent)
    assert proc.returncode == 0, proc.stderr[-3000:]
    console = [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]
    assert console == [], "console messages:\n" + "\n".join(console)
    dom = proc.stdout
    assert 'id="render-summary"' in dom

    # Every run and every finding (rule id), from analyze's own JSON.
    assert main(["analyze", str(FIXTURES), "--format", "json", "--fail-on", "never"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["runs"]) >= 20
    for run in doc["runs"]:
        assert f">{escape(run['name'])}</a>" in dom, run["name"]
        assert f"<h2>{escape(run['name'])}</h2>" in dom, run["name"]
        for f in run["findings"]:
            assert f">{f['rule']}</a>" in dom and f'<b class="rule">{f["rule"]}</b>' in dom, f["rule"]

    # Every chart drawn: uPlot made its canvas, the script counted the series with data and
    # found painted pixels in the plot area.
    charts = [_attrs(m) for m in re.findall(r'<div class="chart"[^>]*>', dom)]
    assert len(charts) >= 100
    assert dom.count("<canvas") >= len(charts)
    for chart in charts:
        assert chart.get("data-series-count") == chart["data-expected-series"], chart
        assert int(chart.get("data-painted", "0")) > 0, chart
    runs = [c for c in charts if c["data-kind"] == "run"]
    groups = [c for c in charts if c["data-kind"] == "group"]
    assert all(c["data-series-count"] == "2" for c in runs)  # raw + smoothed
    # fixtures/ppo_seeds: 3 seeds + mean + the band's two edges.
    assert "6" in {c["data-series-count"] for c in groups}
    summary = _attrs(re.search(r'<div id="render-summary"[^>]*>', dom).group(0))  # type: ignore[union-attr]
    assert summary["data-charts"] == summary["data-painted-charts"] == str(len(charts))
    assert int(summary["data-series"]) == sum(int(c["data-expected-series"]) for c in charts)


def test_report_screenshot(report: Path) -> None:
    shot = report.parent / "report.png"
    proc = _run([f"--screenshot={shot}", report.as_uri()], report.parent)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1400, 4000)
    assert len(data) > 100_000  # a page of tables and curves, not a blank one
    if os.environ.get("SB3DOCTOR_SAVE_SCREENSHOT"):
        shutil.copyfile(shot, SCREENSHOT)


def test_page_smoothing_is_tensorboards_ema(report: Path) -> None:
    """Opened at ?smoothing=0.9, each chart of raw points is smoothed in the page exactly as
    Python (and TensorBoard) smooths it; decimated ones use the precomputed 0.9 curve."""
    from sb3doctor.report.data import ema

    html = report.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="sb3doctor-data">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    proc = _run(["--dump-dom", report.as_uri() + "?smoothing=0.9"], report.parent)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = _attrs(re.search(r'<div id="render-summary"[^>]*>', proc.stdout).group(0))  # type: ignore[union-attr]
    assert summary["data-smoothing"] == "0.9"
    shown = {a["id"]: a for a in (_attrs(m) for m in re.findall(r'<div class="chart"[^>]*>', proc.stdout))}
    checked = 0
    for run in data["runs"]:
        for chart in run["charts"]:
            if "raw" not in chart or len(chart["raw"]) < 3:
                continue
            expected = [v for v in ema([float("nan") if v is None else v for v in chart["raw"]], 0.9)]
            expected = [v for v in expected if v == v]
            assert float(shown[chart["id"]]["data-last-smoothed"]) == pytest.approx(expected[-1], rel=1e-9)
            checked += 1
    assert checked >= 50
