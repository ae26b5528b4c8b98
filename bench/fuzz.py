"""Fuzz the ``sb3doctor`` command line with mutated copies of the repository's fixtures.

Every case is a fresh temporary folder holding a copy of one fixture (a run folder, a stdout
log, a rule file, a config file) with one or more mutations applied: truncations (also inside
the first record), bit flips, huge lengths and fields, non-finite and huge numbers as steps
and values, deep nesting (JSON, YAML, TOML), other encodings (UTF-16, BOM, latin-1, NUL
bytes), empty and header-only files, and file-system traps (symlink loops, FIFOs, unreadable
files and folders, deep folders, long names, names with control characters or newlines).

Each case runs the CLI once in a subprocess (``analyze`` in various formats, ``--config``,
``--rules-dir``, ``rules --check``, ``export``, ``watch`` with an idle timeout, odd
``--group-by`` and ``--expect`` values) under a wall-clock timeout and an address-space cap,
and is classified:

* crash: a Python traceback or an "internal error" line on stderr (the catch-all in
  ``cli.main`` hides a bug, it does not fix it), an exit code outside {0, 1, 2}, or exit 1
  without any report on stdout;
* hang: the timeout was reached;
* memory: ``MemoryError``, ENOMEM, or killed by the kernel under the cap;
* silent: the input holds no readable data, yet the exit code is not 2 with exactly one
  stderr line naming the file;
* writes: a file under the case folder changed (content, size, mode or mtime) or appeared.

Prints exactly one summary line, ``fuzz: N inputs, C crashes, H hangs, S silent, M memory,
W writes`` (with ``--verbose``, one block per failing case below it) and exits 0 only when
every count is 0. Cases are deterministic for a given ``--seed`` (each case draws from its
own generator seeded with ``(seed, index)``, so ``--jobs`` does not change them).

Usage::

    python bench/fuzz.py                     # 200 cases, 1 worker
    python bench/fuzz.py --n 2000 --jobs 2 --keep /tmp/fuzz-fails --verbose
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
sys.path.insert(0, str(ROOT / "bench"))

from _gen_events import file_version_record, scalar_record  # noqa: E402

from sb3doctor.sources.tensorboard import masked_crc32c  # noqa: E402

# os.walk and shutil.rmtree recurse once per folder level, and the traps go 1,100 deep.
sys.setrecursionlimit(20_000)

MEMORY_CAP = 3 << 30  # bytes of address space per case (RLIMIT_AS)
LOG_NAMES = ("progress.csv", "progress.json", "monitor.csv", "stdout.log")
CLASSES = ("crashes", "hangs", "silent", "memory", "writes")


# ----------------------------------------------------------------------------- seeds


def _run_folders() -> list[Path]:
    """Every fixture folder that directly holds a log file."""
    found = []
    for folder in sorted(p for p in FIXTURES.rglob("*") if p.is_dir()):
        names = [f.name for f in folder.iterdir() if f.is_file()]
        if any("tfevents" in n or n in LOG_NAMES or n.endswith((".monitor.csv", ".log")) for n in names):
            found.append(folder)
    return found


RUN_FOLDERS = _run_folders()
STDOUT_LOGS = sorted(FIXTURES.glob("stdout/*.log")) + sorted((ROOT / "tests" / "data").glob("*.log"))
RULE_FILES = sorted((ROOT / "rules").glob("*.yaml"))
SIMPLE_RUN = FIXTURES / "ppo_lr_high" / "PPO_1"
CONFIG_YAML = """\
fail_on: error
lang: en
aggregate: median
expect:
  - "rollout/ep_rew_mean:last>=10"
  - "train/approx_kl:median@last20%<0.5"
disable: [PERF-FPS-LOW]
rules:
  PPO-KL-HIGH:
    severity: error
    condition: {value: 0.04}
"""
PYPROJECT = """\
[project]
name = "x"

[tool.sb3doctor]
fail_on = "warning"
expect = ["rollout/ep_rew_mean:last>=10"]

[tool.sb3doctor.rules.PPO-KL-HIGH]
severity = "error"
"""


# ----------------------------------------------------------------------------- a case


@dataclass
class Case:
    """One generated input and how to run it."""

    index: int
    kind: str
    dir: Path
    args: list[str]
    no_data: str | None = None  # the file name an exit-2 line must name (input holds no data)
    notes: list[str] = field(default_factory=list)
    stdin: bytes | None = None


@dataclass
class Result:
    """How one case ended."""

    case: Case
    verdict: str | None  # one of CLASSES, or None when fine
    code: int | None
    stdout: str
    stderr: str
    seconds: float
    detail: str = ""


# ----------------------------------------------------------------------------- mutations of bytes

NASTY_NUMBERS = [
    "inf",
    "-inf",
    "nan",
    "NaN",
    "1e308",
    "-1e308",
    "1e400",
    str(10**400),
    "1e30",
    "-0",
    "9" * 40,
]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def m_truncate(rng: random.Random, data: bytes) -> bytes:
    """Cut the file anywhere, often inside its first line or record."""
    if not data:
        return data
    first = data.find(b"\n")
    if rng.random() < 0.4 and first > 1:
        return data[: rng.randrange(1, first + 1)]
    return data[: rng.randrange(0, len(data))]


def m_bitflip(rng: random.Random, data: bytes) -> bytes:
    """Flip a few random bits."""
    if not data:
        return data
    b = bytearray(data)
    for _ in range(rng.choice([1, 2, 8, 64])):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def m_nonfinite(rng: random.Random, data: bytes) -> bytes:
    """Replace numbers (cells, values after ``|``, JSON values) with inf, nan and huge ones."""
    text = data.decode("utf-8", "replace")
    import re

    numbers = list(re.finditer(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])", text))
    if not numbers:
        return data
    chosen = rng.sample(numbers, min(len(numbers), rng.choice([1, 3, 20, 200])))
    out = text
    for m in sorted(chosen, key=lambda m: m.start(), reverse=True):
        out = out[: m.start()] + rng.choice(NASTY_NUMBERS) + out[m.end() :]
    return out.encode()


def m_huge_field(rng: random.Random, data: bytes) -> bytes:
    """A line or field far longer than any real one (csv field limit, line buffers)."""
    lines = _lines(data)
    i = rng.randrange(len(lines))
    size = rng.choice([140_000, 1_000_000, 5_000_000])
    blob = rng.choice([b"x", b"1", b"|", b",", b'"', b"-"]) * size
    lines[i] = lines[i] + blob if rng.random() < 0.5 else blob
    return b"\n".join(lines)


def m_deep_json(rng: random.Random, data: bytes) -> bytes:
    """A JSON value nested thousands deep, in place of one line."""
    depth = rng.choice([200, 1000, 5000, 50_000])
    deep = b'{"a":' * depth + b"1" + b"}" * depth if rng.random() < 0.5 else b"[" * depth + b"]" * depth
    lines = _lines(data)
    i = rng.randrange(len(lines))
    if lines[i].startswith(b"#"):
        lines[i] = b"#" + deep
    else:
        lines[i] = deep
    return b"\n".join(lines)


def m_encoding(rng: random.Random, data: bytes) -> bytes:
    """Another encoding, a BOM, latin-1 bytes, or NUL bytes."""
    text = data.decode("utf-8", "replace")
    choice = rng.randrange(5)
    if choice == 0:
        return text.encode("utf-16")
    if choice == 1:
        return b"\xef\xbb\xbf" + data
    if choice == 2:
        return text.replace("e", "\xe9").encode("latin-1", "replace")
    if choice == 3:
        b = bytearray(data)
        for _ in range(rng.choice([1, 5])):
            b.insert(rng.randrange(len(b) + 1), 0)
        return bytes(b)
    return text.encode("utf-16-be")


def m_control_chars(rng: random.Random, data: bytes) -> bytes:
    """Terminal escape codes and control characters inside keys, headers and tags."""
    evil = rng.choice(
        [b"\x1b]0;pwned\x07", b"\x1b[2J", b"\x1b[31m", b"\x07", b"\x08\x08", b"\r", b"\x9b31m", b"\x00"]
    )
    lines = _lines(data)
    i = rng.randrange(min(len(lines), 4))
    j = rng.randrange(len(lines[i]) + 1)
    lines[i] = lines[i][:j] + evil + lines[i][j:]
    return b"\n".join(lines)


def m_duplicate(rng: random.Random, data: bytes) -> bytes:
    """Repeat the file (two runs in one log, duplicated rows)."""
    return data * rng.choice([2, 3])


ALIAS_BOMB = "\n".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
)

BYTE_MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "truncate": m_truncate,
    "bitflip": m_bitflip,
    "nonfinite": m_nonfinite,
    "huge_field": m_huge_field,
    "deep_json": m_deep_json,
    "encoding": m_encoding,
    "control_chars": m_control_chars,
    "duplicate": m_duplicate,
}


# ----------------------------------------------------------------------------- event files


def _records(data: bytes) -> list[tuple[int, int]]:
    """(offset, end) of every well-framed record."""
    out = []
    pos = 0
    while pos + 12 <= len(data):
        (n,) = struct.unpack_from("<Q", data, pos)
        end = pos + 12 + n + 4
        if end > len(data):
            break
        out.append((pos, end))
        pos = end
    return out


def m_event(rng: random.Random, data: bytes) -> bytes:
    """Event-file specific damage: huge lengths with a valid length CRC, odd scalars."""
    recs = _records(data)
    choice = rng.randrange(5)
    if choice == 0 and recs:
        # a header claiming a gigantic payload, with a correct length checksum
        pos, _ = rng.choice(recs)
        n = rng.choice([2**31, 2**40, 2**63 - 1, 2**64 - 1])
        length = struct.pack("<Q", n)
        return data[:pos] + length + struct.pack("<I", masked_crc32c(length)) + data[pos + 12 :]
    if choice == 1:
        # scalars with non-finite values and huge or negative steps
        tail = b"".join(
            scalar_record(
                rng.choice(["rollout/ep_rew_mean", "train/approx_kl", "time/fps", "train/loss"]),
                rng.choice([float("inf"), float("nan"), -float("inf"), 3.4e38, 0.0]),
                rng.choice([0, 1, 2**53 + 1, 2**62, 2**64 - 1]),
                rng.choice([1.7e9, float("nan"), float("inf"), -1e308]),
            )
            for _ in range(rng.choice([1, 10, 100]))
        )
        return data + tail
    if choice == 2 and recs:
        # only the version record: a writer that was killed before the first dump
        return data[: recs[0][1]]
    if choice == 3:
        # a tag holding terminal escape codes
        return data + scalar_record("rollout/\x1b]0;pwned\x07ep\x1b[2J", 1.0, 100, 1.7e9)
    # sparse: the size says gigabytes, the disk holds kilobytes
    return data  # handled by the caller (needs a file to truncate)


# ----------------------------------------------------------------------------- helpers


def _copy(src: Path, dst: Path) -> Path:
    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return dst


def _log_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not p.is_symlink()
        and (p.suffix in (".csv", ".json", ".log", ".yml") or "tfevents" in p.name)
    )


def _mutate_file(rng: random.Random, path: Path, notes: list[str]) -> None:
    data = path.read_bytes()
    if "tfevents" in path.name and rng.random() < 0.5:
        if rng.random() < 0.15:
            # a sparse file: gigabytes long, kilobytes on disk
            size = rng.choice([3 << 30, 8 << 30])
            with open(path, "r+b") as fh:
                fh.truncate(size)
            notes.append(f"{path.name}: sparse to {size} bytes")
            return
        notes.append(f"{path.name}: event")
        path.write_bytes(m_event(rng, data))
        return
    if path.suffix == ".yml" and rng.random() < 0.3:
        # rl-zoo's config.yml / args.yml: a billion-laughs document
        notes.append(f"{path.name}: alias bomb")
        path.write_text(ALIAS_BOMB + "\n" + data.decode("utf-8", "replace"))
        return
    name = rng.choice(sorted(BYTE_MUTATIONS))
    notes.append(f"{path.name}: {name}")
    path.write_bytes(BYTE_MUTATIONS[name](rng, data))


def _analyze_args(rng: random.Random, target: Path, outdir: Path) -> list[str]:
    fmt = rng.choice(["terminal", "terminal", "json", "junit", "sarif", "github", "markdown"])
    args = ["analyze", str(target), "--format", fmt]
    if rng.random() < 0.1:
        args += ["-o", str(outdir / f"report.{fmt}")]
    if rng.random() < 0.1:
        args.append("--strict")
    return args


def _invocation(rng: random.Random, target: Path, outdir: Path) -> list[str]:
    r = rng.random()
    if r < 0.7:
        return _analyze_args(rng, target, outdir)
    if r < 0.85:
        return ["export", str(target)] + (["-o", str(outdir / "table.csv")] if rng.random() < 0.5 else [])
    return ["watch", str(target), "--format", "jsonl", "--idle-timeout", "0.5", "--interval", "0.1"]


# ----------------------------------------------------------------------------- case kinds


def case_mutated_run(rng: random.Random, case: Case) -> None:
    """A fixture run folder (or one of its files) with 1-3 damaged files."""
    src = rng.choice(RUN_FOLDERS)
    run = _copy(src, case.dir / "data" / src.name)
    files = _log_files(run)
    for path in rng.sample(files, min(len(files), rng.choice([1, 1, 2, 3]))):
        _mutate_file(rng, path, case.notes)
    target = run
    if rng.random() < 0.3:
        logs = [p for p in _log_files(run) if p.suffix != ".yml" and p.name != "config.json"]
        if logs:
            target = rng.choice(logs)
    case.args = _invocation(rng, target, case.dir.parent / f"out{case.index}")


def case_stdout_log(rng: random.Random, case: Case) -> None:
    """A captured stdout log, damaged, given as a file or on stdin."""
    src = rng.choice(STDOUT_LOGS)
    path = _copy(src, case.dir / "data" / src.name)
    for _ in range(rng.choice([1, 2])):
        _mutate_file(rng, path, case.notes)
    if rng.random() < 0.15:
        case.stdin = path.read_bytes()
        case.args = rng.choice([["analyze", "-"], ["watch", "-", "--format", "jsonl"]])
        return
    case.args = _invocation(rng, path, case.dir.parent / f"out{case.index}")


def _first_record_cut(rng: random.Random, data: bytes) -> bytes:
    recs = _records(data)
    end = recs[0][1] if recs else len(data)
    return data[: rng.randrange(1, end)]


def case_no_data(rng: random.Random, case: Case) -> None:
    """One log file that holds nothing to analyze; the CLI must say so (exit 2)."""
    folder = case.dir / "data" / "PPO_1"
    folder.mkdir(parents=True)
    src_run = SIMPLE_RUN
    kind = rng.choice(
        [
            "csv_empty",
            "csv_header",
            "json_empty",
            "monitor_header",
            "monitor_empty",
            "event_version",
            "event_cut",
            "stdout_no_table",
            "json_blank_lines",
        ]
    )
    if kind.startswith("csv"):
        name = "progress.csv"
        header = (src_run / "progress.csv").read_bytes().split(b"\n", 1)[0] + b"\n"
        data = b"" if kind == "csv_empty" else header
    elif kind.startswith("json"):
        name = "progress.json"
        data = b"" if kind == "json_empty" else b"\n\n  \n"
    elif kind.startswith("monitor"):
        name = "monitor.csv"
        head = b'#{"t_start": 1700000000.0, "env_id": "CartPole-v1"}\n'
        data = head + b"r,l,t\n" if kind == "monitor_header" else (head if rng.random() < 0.5 else b"")
    elif kind.startswith("event"):
        name = "events.out.tfevents.1700000000.host.1.0"
        full = file_version_record(1.7e9) + scalar_record("rollout/ep_rew_mean", 1.0, 100, 1.7e9)
        data = file_version_record(1.7e9) if kind == "event_version" else _first_record_cut(rng, full)
    else:
        name = "stdout.log"
        data = b"Using cpu device\nWrapping the env with a `Monitor` wrapper\n"
    (folder / name).write_bytes(data)
    case.notes.append(f"{name}: {kind}")
    case.no_data = name
    target = folder / name if rng.random() < 0.4 else folder
    case.args = _analyze_args(rng, target, case.dir.parent / f"out{case.index}")
    if rng.random() < 0.2:
        case.args = ["export", str(target)]


def _trap_loop(rng: random.Random, run: Path, case: Case) -> Path:
    os.symlink(".", run / "loop")
    os.symlink("..", run / "up")
    os.symlink(run / "a", run / "b")
    os.symlink(run / "b", run / "a")  # a <-> b: ELOOP on every access
    return run


def _trap_fifo(rng: random.Random, run: Path, case: Case) -> Path:
    name = rng.choice(["progress.csv", "stdout.log", "events.out.tfevents.1.h", "monitor.csv", "config.json"])
    fifo = run / name
    if fifo.exists():
        fifo.unlink()
    os.mkfifo(fifo)
    return fifo if rng.random() < 0.5 else run


def _trap_unreadable(rng: random.Random, run: Path, case: Case) -> Path:
    victim = rng.choice(_log_files(run))
    victim.chmod(0)
    if rng.random() < 0.3:
        sub = run.parent / "locked"
        sub.mkdir()
        _copy(SIMPLE_RUN / "progress.csv", sub / "progress.csv")
        sub.chmod(0)
        return run.parent
    return run


def _trap_deep(rng: random.Random, run: Path, case: Case) -> Path:
    depth = rng.choice([50, 300, 1100])
    deep = run.parent / "deep"
    path = deep
    for _ in range(depth):
        path = path / "d"
    try:
        # One level at a time: Path.mkdir(parents=True) recurses once per level.
        level = str(deep)
        for _ in range(depth + 1):
            os.mkdir(level)
            level = os.path.join(level, "d")
        _copy(SIMPLE_RUN / "progress.csv", path / "progress.csv")
    except OSError:
        case.notes.append("could not build the deep folder")
    return deep


def _trap_long_name(rng: random.Random, run: Path, case: Case) -> Path:
    # A component longer than NAME_MAX (255) cannot exist: the argument itself is the trap.
    return run.parent / ("x" * rng.choice([256, 300, 5000])) / "PPO_1"


def _trap_control_name(rng: random.Random, run: Path, case: Case) -> Path:
    evil = rng.choice(["PPO_\x1b]0;pwned\x07_1", "PPO\n1", "PPO_\x1b[2J1", "PPO\r_1", "PPO_\t1", "PPO_\x7f1"])
    new = run.parent / evil
    run.rename(new)
    return new.parent if rng.random() < 0.5 else new


def _trap_empty_dir(rng: random.Random, run: Path, case: Case) -> Path:
    for p in _log_files(run):
        p.unlink()
    return run


TRAPS: dict[str, Callable[[random.Random, Path, Case], Path]] = {
    "symlink_loop": _trap_loop,
    "fifo": _trap_fifo,
    "unreadable": _trap_unreadable,
    "deep": _trap_deep,
    "long_name": _trap_long_name,
    "control_name": _trap_control_name,
    "empty_dir": _trap_empty_dir,
}


def case_fs_trap(rng: random.Random, case: Case) -> None:
    """File-system traps around an intact run folder."""
    src = rng.choice(RUN_FOLDERS)
    run = _copy(src, case.dir / "data" / src.name)
    trap = rng.choice(sorted(TRAPS))
    case.notes.append(f"trap: {trap}")
    target = TRAPS[trap](rng, run, case)
    case.args = _invocation(rng, target, case.dir.parent / f"out{case.index}")


def _mutate_text(rng: random.Random, text: str, kind: str) -> str:
    choice = rng.randrange(9)
    if choice == 0:
        return text + "\n" + text  # duplicate keys
    if choice == 1:
        return ALIAS_BOMB + "\n" + text if kind != "toml" else text + "\n" + "x = " + "[" * 5000
    if choice == 2:
        depth = rng.choice([100, 2000, 20000])
        return text + (
            "\nz: " + "[" * depth + "]" * depth if kind == "yaml" else "\nz = " + "[" * depth + "]" * depth
        )
    if choice == 3:
        return text[: rng.randrange(len(text))]
    if choice == 4:
        return m_bitflip(rng, text.encode()).decode("utf-8", "replace")
    if choice == 5:
        return m_nonfinite(rng, text.encode()).decode()
    if choice == 6:
        many = "\n".join(f'  - "rollout/ep_rew_mean:last>={i}"' for i in range(rng.choice([1000, 200_000])))
        return (
            (text + "\nexpect_more:\n" + many)
            if kind == "rule"
            else text.replace("expect:", "expect:\n" + many, 1)
        )
    if choice == 7:
        fields = [
            "{observed.__class__}",
            "{hp[x].y}",
            "{n:>999999999}",
            "{observed!r}",
            "{0}",
            "{",
            "{unknown}",
        ]
        return text.replace("{observed:.3g}", rng.choice(fields)).replace(
            "severity = ", "severity = " + rng.choice(fields)
        )
    return text.replace("error", rng.choice(["[1, 2]", "{a: 1}", "null", "1e400", "'\x1b]0;x\x07'"]), 1)


def case_config(rng: random.Random, case: Case) -> None:
    """A damaged sb3doctor.yaml or pyproject.toml given with --config."""
    folder = case.dir / "data"
    run = _copy(SIMPLE_RUN, folder / "PPO_1")
    if rng.random() < 0.5:
        cfg = folder / "sb3doctor.yaml"
        cfg.write_text(_mutate_text(rng, CONFIG_YAML, "yaml"), encoding="utf-8", errors="replace")
    else:
        cfg = folder / "pyproject.toml"
        cfg.write_text(_mutate_text(rng, PYPROJECT, "toml"), encoding="utf-8", errors="replace")
    case.notes.append(f"config: {cfg.name}")
    if rng.random() < 0.2:
        case.args = ["watch", str(run), "--config", str(cfg), "--format", "jsonl", "--idle-timeout", "0.5"]
    else:
        case.args = ["analyze", str(run), "--config", str(cfg), "--format", rng.choice(["json", "terminal"])]


def case_rule(rng: random.Random, case: Case) -> None:
    """A damaged rule file, checked with `rules --check` or loaded with --rules-dir."""
    src = rng.choice(RULE_FILES)
    rules = case.dir / "data" / "rules"
    rules.mkdir(parents=True)
    path = rules / (src.stem + "-X.yaml")
    text = src.read_text(encoding="utf-8").replace(f"id: {src.stem}", f"id: {src.stem}-X")
    path.write_text(_mutate_text(rng, text, "rule"), encoding="utf-8", errors="replace")
    run = _copy(SIMPLE_RUN, case.dir / "data" / "PPO_1")
    case.notes.append(f"rule: {src.name}")
    if rng.random() < 0.5:
        case.args = ["rules", "--check", str(path)]
    else:
        case.args = ["analyze", str(run), "--rules-dir", str(rules), "--format", "json"]


BAD_GROUP_BY = [
    "(a+)+$",
    "(a|a)*b",
    "(.*)*x",
    "a{99999999999}",
    "([a-z]+)*@",
    "(x+x+)+y",
    "^(\\w+\\s?)*$",
    "(" * 500 + ")" * 500,
    "a" * 100_000,
    "[",
    "(?P<x>",
    "\\",
    "glob:[",
    "glob:" + "*" * 5000,
]
BAD_EXPECT = [
    "rollout/ep_rew_mean:last@last" + "9" * 400 + ">1",
    "x:mean@last1e400%>1",
    "rollout/ep_rew_mean:last>=1e400",
    "rollout/ep_rew_mean:last>=nan",
    "train/loss:std@first0%<inf",
    "a" * 100_000,
    "::>",
    "train/loss:mean@last-5>0",
    "rollout/ep_rew_mean:last>=" + "9" * 5000,
]


def case_cli_args(rng: random.Random, case: Case) -> None:
    """Hostile option values: catastrophic --group-by regexes, absurd --expect windows."""
    run = _copy(FIXTURES / "ppo_seeds", case.dir / "data" / "ppo_seeds")
    # Long names make a backtracking regex explode: (a+)+$ on 'aaaa...!' is exponential.
    first = run / "PPO_1"
    first.rename(run / ("a" * 40 + "!"))
    if rng.random() < 0.5:
        pattern = rng.choice(BAD_GROUP_BY)
        case.args = [
            "analyze",
            str(run),
            "--aggregate",
            "median",
            "--group-by",
            pattern,
            "--expect",
            "rollout/ep_rew_mean:last>=10",
        ]
        case.notes.append(f"group-by {pattern[:60]!r}")
    else:
        expr = rng.choice(BAD_EXPECT)
        case.args = ["analyze", str(run), "--expect", expr, "--format", "json"]
        case.notes.append(f"expect {expr[:60]!r}")
    if rng.random() < 0.2:
        case.args += ["--env", rng.choice(["\x1b]0;x\x07", "x" * 10_000, "CartPole-v1\n"])]


KINDS: list[tuple[str, Callable[[random.Random, Case], None], float]] = [
    ("mutated_run", case_mutated_run, 0.34),
    ("stdout_log", case_stdout_log, 0.12),
    ("no_data", case_no_data, 0.14),
    ("fs_trap", case_fs_trap, 0.16),
    ("config", case_config, 0.08),
    ("rule", case_rule, 0.08),
    ("cli_args", case_cli_args, 0.08),
]


def make_case(seed: int, index: int, base: Path) -> Case:
    """Build case ``index`` under ``base`` (deterministic for a seed)."""
    rng = random.Random(f"{seed}:{index}")
    kind, build, _ = rng.choices(KINDS, weights=[w for *_, w in KINDS])[0]
    case = Case(index, kind, base / f"case{index}", [])
    case.dir.mkdir(parents=True)
    (base / f"out{index}").mkdir()
    build(rng, case)
    return case


# ----------------------------------------------------------------------------- running


def snapshot(folder: Path) -> dict[str, tuple]:
    """Type, size, mode, mtime and content hash of everything under ``folder`` (no symlink following)."""
    out: dict[str, tuple] = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            p = os.path.join(root, name)
            try:
                st = os.lstat(p)
            except OSError as exc:
                out[p] = ("error", exc.errno)
                continue
            digest = ""
            if stat.S_ISREG(st.st_mode) and st.st_blocks * 512 >= min(st.st_size, 1):
                try:
                    with open(p, "rb") as fh:
                        h = hashlib.sha256()
                        while chunk := fh.read(1 << 20):
                            h.update(chunk)
                        digest = h.hexdigest()
                except OSError:
                    digest = "unreadable"
            out[p] = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mode, st.st_mtime_ns, digest)
    return out


def _limits() -> None:
    os.setsid()  # a process group of its own, so a timeout kills its children too
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _has_findings_output(args: list[str], stdout: str) -> bool:
    if not stdout.strip():
        return False
    json_on_stdout = "-o" not in args  # with -o, stdout shows the terminal view
    if (
        json_on_stdout
        and "--format" in args
        and args[args.index("--format") + 1] == "json"
        and args[0] == "analyze"
    ):
        try:
            doc = json.loads(stdout)
        except ValueError:
            return False
        findings = [f for r in doc.get("runs", []) for f in r.get("findings", [])] + doc.get("findings", [])
        return bool(findings) or bool(doc.get("expectations"))
    return True


def classify(
    case: Case, code: int | None, out: str, err: str, before: dict, after: dict
) -> tuple[str | None, str]:
    """The failure class of a finished case (None: fine) and a short reason."""
    if code is None:
        return "hangs", "timeout"
    if any(s in err for s in ("MemoryError", "Cannot allocate memory", "out of memory")) or code == -9:
        return "memory", f"exit {code}"
    if "Traceback (most recent call last)" in err:
        return "crashes", "traceback"
    if "internal error" in err:
        return "crashes", "internal error"
    if code not in (0, 1, 2):
        return "crashes", f"exit {code}"
    if code == 1 and not _has_findings_output(case.args, out):
        return "crashes", "exit 1 without findings"
    if case.no_data is not None:
        lines = err.strip().splitlines()
        if code != 2:
            return "silent", f"exit {code} on a file without data"
        if len(lines) != 1 or case.no_data not in lines[0]:
            return "silent", f"exit 2 but {len(lines)} stderr lines / not naming {case.no_data}"
    if before != after:
        changed = sorted(set(before) ^ set(after)) + sorted(
            k for k in before if k in after and before[k] != after[k]
        )
        return "writes", "changed: " + ", ".join(changed[:3])
    return None, ""


def run_case(case: Case, timeout: float, cache: Path) -> Result:
    """Run one case's command and classify it."""
    before = snapshot(case.dir)
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(cache),
        "PYTHONDONTWRITEBYTECODE": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "COLUMNS": "100",
    }
    env.pop("SB3DOCTOR_DEBUG", None)
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sb3doctor", *case.args],
        stdin=subprocess.PIPE if case.stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=case.dir.parent / f"out{case.index}",
        env=env,
        preexec_fn=_limits,
    )
    try:
        out_b, err_b = proc.communicate(case.stdin, timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out_b, err_b = proc.communicate()
        code = None
    seconds = time.monotonic() - t0
    out, err = out_b.decode("utf-8", "replace"), err_b.decode("utf-8", "replace")
    verdict, detail = classify(case, code, out, err, before, snapshot(case.dir))
    return Result(case, verdict, code, out, err, seconds, detail)


def _restore_permissions(folder: Path) -> None:
    """chmod 0 folders and files back so that they can be copied and removed."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                with contextlib.suppress(OSError):
                    os.chmod(p, 0o755)
    for root, dirs, _ in os.walk(folder, followlinks=False):
        for name in dirs:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                with contextlib.suppress(OSError):
                    os.chmod(p, 0o755)


def _keep(result: Result, keep: Path) -> None:
    case = result.case
    dest = keep / f"case{case.index}-{result.verdict}"
    if dest.exists():
        shutil.rmtree(dest, ignore_errors=True)
    _restore_permissions(case.dir)
    with contextlib.suppress(OSError, shutil.Error, RecursionError):
        shutil.copytree(
            case.dir,
            dest / "case",
            symlinks=True,
            ignore_dangling_symlinks=True,
            ignore=lambda d, names: [n for n in names if stat.S_ISFIFO(os.lstat(os.path.join(d, n)).st_mode)],
        )
    (dest / "result.json").write_text(
        json.dumps(
            {
                "kind": case.kind,
                "args": case.args,
                "notes": case.notes,
                "verdict": result.verdict,
                "detail": result.detail,
                "code": result.code,
                "stderr": result.stderr[-4000:],
                "stdout": result.stdout[-2000:],
                "seconds": round(result.seconds, 2),
            },
            indent=2,
        )
    )


def one(seed: int, index: int, timeout: float, keep: Path | None) -> Result:
    """Generate, run and clean up case ``index``."""
    base = Path(tempfile.mkdtemp(prefix=f"sb3fuzz{index}-"))
    try:
        case = make_case(seed, index, base)
        result = run_case(case, timeout, base / "cache")
        if result.verdict and keep is not None:
            _keep(result, keep)
        return result
    finally:
        _restore_permissions(base)
        shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Run the fuzz campaign; print the one-line summary; exit 0 only when all counts are 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="number of cases (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="campaign seed (default 0)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per case (default 20)")
    parser.add_argument("--jobs", type=int, default=1, help="cases run at once (default 1)")
    parser.add_argument("--keep", type=Path, default=None, help="copy failing cases into this folder")
    parser.add_argument("--start", type=int, default=0, help="first case index (to replay one case)")
    parser.add_argument("--verbose", action="store_true", help="details of each failing case")
    args = parser.parse_args(argv)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    indices = range(args.start, args.start + args.n)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda i: one(args.seed, i, args.timeout, args.keep), indices))
    counts = {c: sum(r.verdict == c for r in results) for c in CLASSES}
    print(
        f"fuzz: {len(results)} inputs, {counts['crashes']} crashes, {counts['hangs']} hangs, "
        f"{counts['silent']} silent, {counts['memory']} memory, {counts['writes']} writes"
    )
    if args.verbose:
        for r in results:
            if r.verdict:
                last = r.stderr.strip().splitlines()[-3:]
                head = f"case {r.case.index} [{r.case.kind}] {r.verdict}: {r.detail}"
                print(f"\n{head} (exit {r.code}, {r.seconds:.1f} s)")
                print("  notes: " + "; ".join(r.case.notes))
                print(
                    "  args: "
                    + " ".join(repr(a) if len(a) < 80 else repr(a[:77] + "...") for a in r.case.args)
                )
                for line in last:
                    print("  | " + line[:300])
    return 0 if not any(counts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
