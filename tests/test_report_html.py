"""``sb3doctor report`` (the page, without a browser) and ``sb3doctor plot``; the data behind them."""

from __future__ import annotations

import json
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from sb3doctor.cli import main
from sb3doctor.model import Series
from sb3doctor.report import data as rd
from sb3doctor.report.html import script_json

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
RUNS = ROOT / "bench" / "benchmark" / "runs"


def page_data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="sb3doctor-data">(.*?)</script>', html, re.S)
    assert m is not None
    return json.loads(m.group(1))


def test_ema_is_tensorboards_debiased_moving_average() -> None:
    y = [1.0, 2.0, float("nan"), 3.0]
    w = 0.6
    # TensorBoard: last = last * w + (1 - w) * v; smoothed = last / (1 - w ** k), k = finite count
    last1 = 0.4 * 1.0
    last2 = last1 * 0.6 + 0.4 * 2.0
    last3 = last2 * 0.6 + 0.4 * 3.0
    out = rd.ema(y, w)
    assert out[0] == pytest.approx(last1 / (1 - 0.6))  # == 1.0: debiasing keeps the first point
    assert out[1] == pytest.approx(last2 / (1 - 0.6**2))
    assert np.isnan(out[2])
    assert out[3] == pytest.approx(last3 / (1 - 0.6**3))
    assert rd.ema(y, 0.0)[1] == 2.0


def test_minmax_decimation_keeps_every_spike() -> None:
    rng = np.random.default_rng(0)
    x = np.arange(100_000, dtype=float)
    y = rng.normal(0, 1, len(x))
    spikes = [123, 45_678, 99_999]
    y[spikes] = [50.0, -60.0, 70.0]
    new_x, (dec,) = rd.minmax_decimate(x, [y], buckets=500)
    assert len(new_x) == len(dec) == 1000
    assert dec.max() == 70.0 and dec.min() == -60.0 and 50.0 in dec
    assert (np.diff(new_x) >= 0).all()
    x0, dx, (dec2,) = rd.minmax_buckets(x, [y], buckets=500)
    assert len(dec2) == 1000 and x0 == 0.0 and dx == pytest.approx(99_999 / 500)
    assert set(dec2[np.isfinite(dec2)]) == set(dec)
    # Within a bucket the two points keep their order in time.
    xb = np.arange(8, dtype=float)
    _, (d,) = rd.minmax_decimate(xb, [np.array([5.0, 9.0, 1.0, 4.0, 0.0, 2.0, 8.0, 3.0])], buckets=2)
    assert d.tolist() == [9.0, 1.0, 0.0, 8.0]


def test_curve_payload_raw_constant_and_decimated() -> None:
    small = Series.from_points(range(0, 500, 5), [float(i) for i in range(100)])
    p = rd.curve_payload(small)
    assert p["n"] == 100 and len(p["x"]) == len(p["raw"]) == 100
    const = Series.from_points(range(5000), [3e-4] * 5000)
    p = rd.curve_payload(const)
    assert p["raw"] == [3e-4, 3e-4] and p["x"] == [0, 4999]
    big = Series.from_points(range(0, 50_000, 10), [float(np.sin(i / 50)) for i in range(5000)])
    p = rd.curve_payload(big)
    assert set(p["levels"]) == {str(w) for w in rd.LEVELS}
    assert all(len(v) == 2 * rd.BUCKETS for v in p["levels"].values())
    assert "x" not in p and p["x0"] == 0


def test_script_json_cannot_close_the_script_element() -> None:
    text = script_json({"name": "</script><script>alert(1)</script>", "x": "a & b <!--"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)["name"] == "</script><script>alert(1)</script>"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)


def test_untrusted_names_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = tmp_path / '<img src=x onerror="alert(1)">'
    shutil.copytree(FIXTURES / "ppo_lr_high" / "PPO_1", evil)
    out = tmp_path / "r.html"
    assert main(["report", str(evil), "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    parser = _Text()
    parser.feed(html)
    assert "img" not in parser.tags
    assert page_data(html)["runs"][0]["id"] == "r0"


@pytest.fixture(scope="module")
def fixtures_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    out = tmp_path_factory.mktemp("report") / "r.html"
    assert main(["report", str(FIXTURES), "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    return html, page_data(html)


def test_report_is_self_contained(fixtures_report: tuple[str, dict]) -> None:
    html, _ = fixtures_report
    # No network: nothing is loaded from anywhere, every script and style is inline.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert re.search(r"https?://(?!github\.com/leeoniya)", html) is None
    assert html.count("<script") == 3  # the data, uPlot, the page's script
    assert "uPlot" in html


def test_report_lists_every_run_and_finding(fixtures_report: tuple[str, dict], capsys) -> None:
    html, data = fixtures_report
    assert main(["analyze", str(FIXTURES), "--format", "json", "--fail-on", "never"]) == 0
    doc = json.loads(capsys.readouterr().out)
    from html import escape

    for run in doc["runs"]:
        assert f">{escape(run['name'])}</a>" in html
        for f in run["findings"]:
            assert f">{f['rule']}</a>" in html  # in the summary, linked to the finding
    assert len(data["runs"]) == len(doc["runs"])
    # The root cause comes first in the summary, its consequences after it.
    lr_high = re.search(r'href="#r\d+">ppo_lr_high/PPO_1</a>.*?</tr>', html, re.S)
    assert lr_high is not None
    rules = re.findall(r'<li class="(root|consequence)">.*?>([A-Z0-9-]+)</a></li>', lr_high.group(0))
    assert rules[0][0] == "root"


def test_report_windows_bands_and_groups(fixtures_report: tuple[str, dict]) -> None:
    html, data = fixtures_report
    by_metric = {}
    for run in data["runs"]:
        for chart in run["charts"]:
            by_metric.setdefault(chart["metric"], []).append(chart)
    kl = [c for c in by_metric["train/approx_kl"] if c.get("windows")]
    assert kl, "a KL finding's window is on the approx_kl chart"
    w = kl[0]["windows"][0]
    assert w["from"] <= w["to"] and f'id="{w["anchor"]}"' in html
    assert all(c["band"]["low"] == 0.01 and c["band"]["high"] == 0.03 for c in by_metric["train/approx_kl"])
    # fixtures/ppo_seeds holds three seeds: one group, mean and band over them.
    seeds = [g for g in data["groups"] if len(g["runs"]) == 3]
    assert seeds and set(seeds[0]["levels"]) == {str(x) for x in rd.LEVELS}
    lv = seeds[0]["levels"]["0.6"]
    assert len(lv["seeds"]) == 3
    assert all(lo <= m <= hi for lo, m, hi in zip(lv["lo"], lv["mean"], lv["hi"], strict=True))
    assert 'id="comparison"' in html


def test_report_hyperparameter_sources(fixtures_report: tuple[str, dict]) -> None:
    html, _ = fixtures_report
    for source in ("config.json", "rl-zoo config", "logs", "assumed default (SB3)"):
        assert f">{source}</td>" in html
    rows = dict(
        (name, src)
        for name, src in re.findall(
            r"<tr><td><code>([a-z_]+)</code></td><td>[^<]*</td><td[^>]*>([^<]+)</td>", html
        )
    )
    assert rows  # at least one table parsed


def test_hyperparam_sources_of_an_rl_zoo_run() -> None:
    from sb3doctor.sources import read_runs

    run = read_runs(RUNS / "healthy-ppo-cartpole-s1")[0]
    src = {k: s for k, _, s in rd.hyperparam_sources(run)}
    assert src["n_epochs"] == "rl-zoo config"  # config.yml says 20
    assert src["env_id"] == "rl-zoo config"
    assert src["action_space"] == "logs"
    assert src["vf_coef"] == "assumed default"
    assert src["n_actions"] == "logs"


def test_report_in_chinese(tmp_path: Path) -> None:
    out = tmp_path / "zh.html"
    assert main(["report", str(FIXTURES / "ppo_lr_high"), "-o", str(out), "--lang", "zh"]) == 0
    html = out.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    for text in ("汇总", "最终回报", "平滑", "超参数", "健康范围"):
        assert text in html
    assert "高于" in html  # the rules' own Chinese messages


def test_report_of_ten_runs_of_a_million_steps_stays_under_3_mb(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import _gen_events as gen

    rng = np.random.default_rng(0)
    for i in range(10):
        run = tmp_path / "runs" / f"seed{i}" / "PPO_1"
        run.mkdir(parents=True)
        # 256-step rollouts: 3,906 dumps of PPO's 12 keys over 1M steps (every series decimated).
        n_dumps = 1_000_000 // 256
        tags, steps, values, walls = gen.ppo_schedule(3 + (n_dumps - 1) * 12, seed=i)
        steps = steps // gen.N_STEPS * 256
        (run / "events.out.tfevents.1700000000.bench.1.0").write_bytes(
            gen.file_version_record(float(walls[0]) - 1.0)
            + gen.encode(gen.PPO_TAGS, tags, steps, values, walls)
        )
        # 20,000 Monitor episodes.
        lens = rng.integers(20, 80, 20_000)
        rew = rng.normal(100, 30, 20_000)
        t = np.cumsum(lens) / 5000.0
        lines = [f"{r:.6g},{n},{s:.6f}" for r, n, s in zip(rew, lens, t, strict=True)]
        (run / "monitor.csv").write_text(
            '#{"t_start": 1700000000.0, "env_id": "CartPole-v1"}\nr,l,t\n' + "\n".join(lines) + "\n"
        )
    out = tmp_path / "big.html"
    assert main(["report", str(tmp_path / "runs"), "-o", str(out)]) == 0
    size = out.stat().st_size
    assert size < 3_000_000, size
    data = page_data(out.read_text(encoding="utf-8"))
    assert len(data["runs"]) == 10
    assert all("levels" in c for c in data["runs"][0]["charts"] if c["metric"] != "train/learning_rate")


def test_plot_png_and_svg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "kl.png"
    run = str(FIXTURES / "ppo_lr_high")
    assert main(["plot", run, "--metric", "train/approx_kl", "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "kl.svg"
    assert main(["plot", run, "--metric", "train/approx_kl", "-o", str(svg), "--smoothing", "0.9"]) == 0
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    # The finding windows on approx_kl are labelled with their rule ids, the band with its rules.
    assert "PPO-KL-HIGH" in text and "DIVERGED-KL" in text
    # Same input, same bytes (no creation date in the SVG).
    svg2 = tmp_path / "kl2.svg"
    assert main(["plot", run, "--metric", "train/approx_kl", "-o", str(svg2), "--smoothing", "0.9"]) == 0
    assert svg2.read_bytes() == svg.read_bytes()
    capsys.readouterr()


def test_plot_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = str(FIXTURES / "ppo_lr_high")
    assert main(["plot", run, "--metric", "train/aprox_kl", "-o", str(tmp_path / "x.png")]) == 2
    assert "did you mean train/approx_kl" in capsys.readouterr().err
    assert main(["plot", run, "-o", str(tmp_path / "x.jpg")]) == 2
    assert ".png, .svg" in capsys.readouterr().err
    assert main(["plot", str(FIXTURES / "ppo_seeds"), "-o", str(tmp_path / "x.png")]) == 2
    assert "--run NAME" in capsys.readouterr().err
    assert main(["plot", str(FIXTURES / "ppo_seeds"), "--run", "PPO_2", "-o", str(tmp_path / "x.png")]) == 0
