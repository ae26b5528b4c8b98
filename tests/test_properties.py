"""Property-based tests: every reader and the condition engine on arbitrary input.

A reader may refuse its input only with :class:`~sb3doctor.errors.InputError` (the CLI turns
it into one line and exit 2); anything else is a crash. The condition engine must take any
float series (NaN, inf, 1e308, subnormals) without raising. Examples are bounded so that the
whole file runs in seconds in CI; ``bench/fuzz.py`` covers the command line at length.
"""

from __future__ import annotations

import csv
import io
import json
import math
import struct
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings  # the [dev] extra installs it
from hypothesis import strategies as st

from sb3doctor.errors import InputError
from sb3doctor.model import Run, Series
from sb3doctor.sources import build_run, progress
from sb3doctor.sources import tensorboard as tb
from sb3doctor.sources.monitor import read_monitor
from sb3doctor.sources.stdout import KNOWN_KEYS, StdoutParser, read_stdout

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import _gen_events  # noqa: E402

BOUNDED = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
KEYS = sorted(KNOWN_KEYS)

# Numbers as a log may print them: ordinary, non-finite, huge, out of float range, words, junk.
nasty_floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5e-324, 0.0, -0.0, 2.0**63, -(2.0**63), 2.0**53 + 1]),
)
number_text = st.one_of(
    nasty_floats.map(repr),
    st.integers(min_value=-(10**400), max_value=10**400).map(str),
    st.sampled_from(["inf", "-inf", "nan", "NaN", "1e400", "True", "False", "", "x", "1,5", '"']),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=40))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), nasty_floats, st.integers(), st.text(max_size=20)),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def only_input_errors(read: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``read``; an InputError is a refusal (fine), anything else propagates (a crash)."""
    try:
        return read(*args, **kwargs)
    except InputError:
        return None


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@BOUNDED
@given(
    header=st.lists(keys, min_size=1, max_size=6).map(lambda h: ["time/total_timesteps", *h]),
    rows=st.lists(st.lists(number_text, min_size=0, max_size=8), max_size=12),
    tail=st.sampled_from(["", "\n", "12", "\x00", "\ufffd"]),
)
def test_progress_csv(
    tmp_path_factory: pytest.TempPathFactory, header: list[str], rows: list, tail: str
) -> None:
    path = write(tmp_path_factory.mktemp("csv"), "progress.csv", csv_text(header, rows) + tail)
    src = only_input_errors(progress.read_progress_csv, path)
    if src is not None:
        for series in src.metrics.values():
            assert all(isinstance(s, int) for s in series.steps)


@BOUNDED
@given(st.binary(max_size=600))
def test_progress_csv_raw_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = write(tmp_path_factory.mktemp("csv"), "progress.csv", b"time/total_timesteps,a\n" + data)
    only_input_errors(progress.read_progress_csv, path)


@BOUNDED
@given(
    objects=st.lists(
        st.one_of(
            st.dictionaries(keys, json_values, max_size=6),
            st.fixed_dictionaries(
                {"time/total_timesteps": nasty_floats}, optional={"train/loss": nasty_floats}
            ),
            json_values,
        ),
        max_size=10,
    ),
    junk=st.lists(st.text(max_size=30), max_size=3),
)
def test_progress_json(tmp_path_factory: pytest.TempPathFactory, objects: list, junk: list[str]) -> None:
    lines = [json.dumps(o) for o in objects] + junk  # json.dumps writes NaN/Infinity, as SB3 does
    path = write(tmp_path_factory.mktemp("json"), "progress.json", "\n".join(lines) + "\n")
    only_input_errors(progress.read_progress_json, path)


def table(values: dict[str, str]) -> str:
    rows = [f"| {k:<24} | {v:<12} |" for k, v in values.items()]
    width = max((len(r) for r in rows), default=20)
    border = "-" * width
    return "\n".join([border, *rows, border]) + "\n"


@BOUNDED
@given(
    tables=st.lists(st.dictionaries(keys, number_text, min_size=1, max_size=6), max_size=6),
    noise=st.lists(st.text(max_size=40), max_size=4),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=6),
)
def test_stdout_tables_in_any_chunks(tables: list[dict[str, str]], noise: list[str], cuts: list[int]) -> None:
    text = "".join(table({"time/": "", "   total_timesteps": v.get(KEYS[0], "1"), **v}) for v in tables)
    text += "\n".join(noise)
    parser = StdoutParser()
    pos = 0
    for cut in sorted(set(cuts)):
        parser.feed(text[pos:cut])
        pos = max(pos, cut)
    parser.feed(text[pos:])
    for run in parser.finish():
        for series in run.metrics.values():
            assert len(series.steps) == len(series.values)


@BOUNDED
@given(st.binary(max_size=2000))
def test_stdout_raw_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    head = table({"time/": "", "   total_timesteps": "100"}).encode()
    path = write(tmp_path_factory.mktemp("log"), "stdout.log", head + data)
    only_input_errors(read_stdout, path)


@BOUNDED
@given(
    header=st.one_of(st.dictionaries(st.text(max_size=8), json_values, max_size=4), json_values),
    t_start=nasty_floats,
    columns=st.lists(st.text(max_size=8), max_size=3),
    rows=st.lists(st.lists(number_text, min_size=3, max_size=5), max_size=10),
)
def test_monitor_csv(
    tmp_path_factory: pytest.TempPathFactory, header: Any, t_start: float, columns: list[str], rows: list
) -> None:
    if isinstance(header, dict):
        header = {**header, "t_start": t_start}
    text = "#" + json.dumps(header) + "\n" + csv_text(["r", "l", "t", *columns], rows)
    path = write(tmp_path_factory.mktemp("mon"), "monitor.csv", text)
    only_input_errors(read_monitor, [path])


scalar_records = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(KEYS), st.text(max_size=30)),
        st.one_of(st.floats(width=32), st.sampled_from([math.inf, -math.inf, math.nan])),
        st.integers(min_value=0, max_value=2**64 - 1),
        nasty_floats,
    ),
    max_size=30,
)


@BOUNDED
@given(
    records=scalar_records,
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=7)), max_size=4),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
    numpy_path=st.booleans(),
    strict=st.booleans(),
)
def test_event_files(
    tmp_path_factory: pytest.TempPathFactory,
    records: list,
    flips: list[tuple[int, int]],
    cut: int | None,
    numpy_path: bool,
    strict: bool,
) -> None:
    data = bytearray(_gen_events.file_version_record(1.7e9))
    for tag, value, step, wall in records:
        data += _gen_events.scalar_record(tag, value, step, wall)
    for pos, bit in flips:
        data[pos % len(data)] ^= 1 << bit
    if cut is not None:
        del data[cut % (len(data) + 1) :]
    path = write(tmp_path_factory.mktemp("tb"), "events.out.tfevents.1.host", bytes(data))
    saved = tb.NUMPY_THRESHOLD
    tb.NUMPY_THRESHOLD = 0 if numpy_path else saved  # the numpy decoder on small files too
    try:
        src = only_input_errors(tb.read_event_file, path, strict=strict)
    finally:
        tb.NUMPY_THRESHOLD = saved
    if src is not None:
        for series in src.metrics.values():
            assert len(series.steps) == len(series.values) == len(series.wall_times)


@BOUNDED
@given(config=json_values, raw=st.one_of(st.none(), st.text(max_size=50)))
def test_config_json_and_hyperparameter_recovery(
    tmp_path_factory: pytest.TempPathFactory, config: Any, raw: str | None
) -> None:
    from sb3doctor.sources import _read_config

    folder = tmp_path_factory.mktemp("cfg")
    path = write(folder, "config.json", raw if raw is not None else json.dumps(config))
    loaded = only_input_errors(_read_config, [path])
    if loaded is None:
        return
    src = progress.read_progress_csv(write(folder, "progress.csv", "time/total_timesteps,train/loss\n1,2\n"))
    build_run(folder, "run", [src], loaded)


ALGOS = ["PPO", "A2C", "DQN", "SAC", "TD3", "TRPO", "ARS", None]


@pytest.fixture(scope="module")
def rules() -> list[Any]:
    from sb3doctor.rules_path import builtin_rules_dir
    from sb3doctor.ruleset import load_rules

    return load_rules([builtin_rules_dir()])


@BOUNDED
@given(
    algo=st.sampled_from(ALGOS),
    series=st.dictionaries(
        st.sampled_from([*KEYS, "episode/reward", "episode/length"]),
        st.lists(nasty_floats, max_size=40),
        max_size=10,
    ),
    stride=st.integers(min_value=1, max_value=2**40),
)
def test_condition_engine_on_any_floats(
    rules: list[Any], algo: str | None, series: dict[str, list[float]], stride: int
) -> None:
    from sb3doctor.engine import evaluate
    from sb3doctor.sources.hyperparams import recover_hyperparams

    metrics = {
        key: Series.from_points([(i + 1) * stride for i in range(len(values))], values)
        for key, values in series.items()
    }
    run = Run(path=Path("run"), name="run", algo=algo, metrics=metrics)
    run.hyperparams = recover_hyperparams(run, {})
    for finding in evaluate(run, rules):
        assert finding.rule


@BOUNDED
@given(
    values=st.lists(
        st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([1e308, -1e308]), max_size=50
    )
)
def test_statistics_on_any_finite_floats(values: list[float]) -> None:
    # stat() takes finite values (callers drop NaN/inf first); huge ones must not overflow it.
    from sb3doctor.conditions import stat

    for name in ("last", "mean", "median", "min", "max", "std", "abs_median"):
        if values:
            assert isinstance(stat(name, values), float)


def test_the_float32_packing_used_above_is_sound() -> None:
    # scalar_records relies on struct packing any float32-representable value (and inf/nan).
    for value in (math.inf, -math.inf, math.nan, 3.4e38):
        struct.pack("<f", value)
