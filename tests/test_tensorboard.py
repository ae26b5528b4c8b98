"""The TensorBoard event-file reader against real writers and TensorBoard's own reader.

Files are written by SB3's logger, torch's ``SummaryWriter`` (old and new style scalars,
text, histograms) and TensorBoard's protobuf classes (tensor-encoded scalars of every
dtype), then read by sb3doctor and by ``EventAccumulator`` and compared value by value.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from sb3doctor.errors import InputError
from sb3doctor.model import SourceData
from sb3doctor.sources import read_runs
from sb3doctor.sources import tensorboard as tb
from sb3doctor.sources.tensorboard import EventFileTail, crc32c, masked_crc32c, read_event_file

torch = pytest.importorskip("torch")  # the writers; the reader itself needs neither
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402
from torch.utils.tensorboard import SummaryWriter  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import _gen_events  # noqa: E402

torch.set_num_threads(1)


# ----------------------------------------------------------------------------- helpers


def event_file(folder: Path) -> Path:
    (f,) = sorted(folder.glob("events.out.tfevents.*"))
    return f


def ea_scalars(path: Path) -> dict[str, list[tuple[int, float, float]]]:
    """TensorBoard's view: simple_value scalars plus one-element numeric tensors."""
    ea = EventAccumulator(str(path), size_guidance={"scalars": 0, "tensors": 0})
    ea.Reload()
    out = {tag: [(e.step, e.value, e.wall_time) for e in ea.Scalars(tag)] for tag in ea.Tags()["scalars"]}
    for tag in ea.Tags()["tensors"]:
        if ea.SummaryMetadata(tag).plugin_data.plugin_name not in ("", "scalars"):
            continue
        rows = []
        for e in ea.Tensors(tag):
            arr = tensor_util.make_ndarray(e.tensor_proto)
            if arr.size == 1 and arr.dtype.kind in "fiub":
                rows.append((e.step, float(arr.reshape(())), e.wall_time))
        if rows:
            out[tag] = rows
    return out


def ours(src: SourceData) -> dict[str, list[tuple[int, float, float]]]:
    return {tag: list(zip(s.steps, s.values, s.wall_times, strict=True)) for tag, s in src.metrics.items()}


def same(a: dict, b: dict) -> bool:
    """Equal, with NaN equal to NaN."""

    def norm(d: dict) -> dict:
        return {
            k: [tuple("nan" if isinstance(x, float) and math.isnan(x) else x for x in row) for row in v]
            for k, v in d.items()
        }

    return norm(a) == norm(b)


def records(data: bytes) -> list[tuple[int, int]]:
    """(offset, total size) of each TFRecord of a well-formed file."""
    out, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack_from("<Q", data, pos)
        out.append((pos, n + 16))
        pos += n + 16
    return out


def assert_paths_agree(path: Path, strict: bool = False) -> SourceData:
    """The pure-Python and numpy decoders give identical series and warnings."""
    data = path.read_bytes()
    pure = tb._read_pure(data, path, strict)
    with open(path, "rb") as fh:
        vec = tb._read_numpy(fh, len(data), path, strict)
    assert ours(pure).keys() == ours(vec).keys()
    for tag in pure.metrics:
        a, b = pure.metrics[tag], vec.metrics[tag]
        assert a.steps == b.steps, tag
        assert a.values.tobytes() == b.values.tobytes(), tag  # bit-identical, NaN included
        assert a.wall_times == b.wall_times, tag
    assert pure.warnings == vec.warnings
    return pure


@pytest.fixture(scope="module")
def torch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Old-style scalars (SB3's encoding) mixed with text and histograms, odd steps/values."""
    folder = tmp_path_factory.mktemp("torch")
    w = SummaryWriter(str(folder))
    rng = np.random.default_rng(0)
    for k in range(60):
        step = [0, 1, 127, 128, 2**31, 2**40, -5][k % 7] if k < 7 else k * 2048
        w.add_scalar("rollout/ep_rew_mean", float(rng.normal() * 100), step)
        w.add_scalar(
            "train/approx_kl", [0.0, float("nan"), float("inf"), -1e-30][k % 4] if k < 4 else k / 1e3, step
        )
        w.add_text("info/comment", f"text {k}", step)
        if k % 10 == 0:
            w.add_histogram("hist/actions", rng.normal(size=50), step)
        w.add_scalar("custom/" + "x" * 40 + "/long_tag_name", float(k), step)  # 55-byte tag
        w.add_scalar("ünïcode/ταγ", k * 0.5, step)
    w.close()
    return folder


@pytest.fixture(scope="module")
def sb3_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SB3's own logger writing TensorBoard output the way PPO does (plus a string and hparams)."""
    from stable_baselines3.common.logger import HParam, configure

    folder = tmp_path_factory.mktemp("sb3") / "PPO_1"
    logger = configure(str(folder), ["tensorboard"])
    logger.record("hparams", HParam({"learning_rate": 3e-4, "n_steps": 2048}, {"rollout/ep_rew_mean": 0.0}))
    for it in range(1, 30):
        logger.record("rollout/ep_len_mean", 20.0 + it)
        logger.record("rollout/ep_rew_mean", 20.0 + it * 1.5)
        logger.record("time/fps", 900 + it)
        logger.record("time/iterations", it, exclude="tensorboard")  # stdout-only key, as in SB3
        if it > 1:
            logger.record("train/approx_kl", np.float32(0.01 * it))
            logger.record("train/clip_range", 0.2)
            logger.record("train/learning_rate", 3e-4)
            logger.record("train/entropy_loss", -0.69 + it * 0.01)
            logger.record("train/note", "a string goes to TensorBoard as text")
        logger.dump(it * 2048)
    logger.close()
    return folder


# ----------------------------------------------------------------------------- CRC


def test_crc32c_known_vectors() -> None:
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert crc32c(b"") == 0
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4
    assert masked_crc32c(b"") == 0xA282EAD8


# ----------------------------------------------------------------------------- real writers


def test_sb3_logger_file_matches_event_accumulator(sb3_dir: Path) -> None:
    f = event_file(sb3_dir)
    src = read_event_file(f)
    assert src.kind == "tensorboard" and src.warnings == []
    got = ours(src)
    assert same(got, ea_scalars(f))
    assert "time/iterations" not in got and "train/note" not in got  # excluded key, text
    assert len(got["rollout/ep_rew_mean"]) == 29 and len(got["train/approx_kl"]) == 28
    assert got["train/approx_kl"][0][:2] == (4096, float(np.float32(0.02)))
    # hparams summaries (plugin "hparams") are not scalars
    assert not any(tag.startswith("_hparams_") for tag in got)


def test_torch_writer_mixed_summaries_match_event_accumulator(torch_dir: Path) -> None:
    f = event_file(torch_dir)
    src = read_event_file(f)
    got = ours(src)
    assert same(got, ea_scalars(f))
    assert sorted(got) == sorted(
        ["rollout/ep_rew_mean", "train/approx_kl", "custom/" + "x" * 40 + "/long_tag_name", "ünïcode/ταγ"]
    )
    steps = [row[0] for row in got["rollout/ep_rew_mean"]]
    assert steps[:7] == [0, 1, 127, 128, 2**31, 2**40, -5]  # omitted zero step, long varints, negative
    kl = [row[1] for row in got["train/approx_kl"]][:4]
    assert kl[0] == 0.0 and math.isnan(kl[1]) and kl[2] == math.inf and kl[3] == float(np.float32(-1e-30))
    assert src.warnings == []


def test_new_style_tensor_scalars(tmp_path: Path) -> None:
    w = SummaryWriter(str(tmp_path))
    for k in range(20):
        w.add_scalar("f32", k * 0.1, k * 10, new_style=True)
        w.add_scalar("f64", k * 0.1, k * 10, new_style=True, double_precision=True)
    w.close()
    f = event_file(tmp_path)
    got = ours(read_event_file(f))
    assert same(got, ea_scalars(f))
    assert got["f64"][3][1] == pytest.approx(0.3, abs=0) or got["f64"][3][1] == 3 * 0.1  # double kept
    assert got["f32"][3][1] == float(np.float32(0.3))


def _write_tensor_summaries(folder: Path) -> list[tuple[str, float]]:
    """Tensor-encoded scalars of every numeric dtype, via TensorBoard's own protobuf classes."""
    from torch.utils.tensorboard.writer import FileWriter

    scalar_meta = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
    )
    other_meta = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="custom")
    )
    protos = {
        "int32": tensor_util.make_tensor_proto(np.int32(-7)),  # int_val
        "int64": tensor_util.make_tensor_proto(np.int64(2**40)),  # int64_val
        "half": tensor_util.make_tensor_proto(np.float16(0.5)),  # half_val
        "bool": tensor_util.make_tensor_proto(np.bool_(True)),  # bool_val
        "uint8": tensor_util.make_tensor_proto(np.uint8(200)),
        "content_f32": tensor_pb2.TensorProto(
            dtype=1,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(),
            tensor_content=np.float32(2.5).tobytes(),
        ),
        "content_f64_shape1": tensor_util.make_tensor_proto(np.array([1.25], dtype=np.float64)),
        "content_i64": tensor_pb2.TensorProto(
            dtype=9, tensor_shape=tensor_shape_pb2.TensorShapeProto(), tensor_content=np.int64(-3).tobytes()
        ),
        "vector": tensor_util.make_tensor_proto(np.array([1.0, 2.0], dtype=np.float32)),  # not a scalar
        "string": tensor_util.make_tensor_proto(np.array(b"text", dtype=object)),  # not numeric
    }
    writer = FileWriter(str(folder))
    for step in range(3):
        values = [
            summary_pb2.Summary.Value(tag=tag, tensor=proto, metadata=scalar_meta if step == 0 else None)
            for tag, proto in protos.items()
        ]
        # a scalar tensor of a non-scalar plugin, with metadata on its first value only (as TF2 does)
        values.append(
            summary_pb2.Summary.Value(
                tag="other_plugin",
                tensor=tensor_util.make_tensor_proto(np.float32(1.0)),
                metadata=other_meta if step == 0 else None,
            )
        )
        writer.add_summary(summary_pb2.Summary(value=values), step + 1, walltime=1000.0 + step)
    writer.close()
    return [
        ("int32", -7.0),
        ("int64", float(2**40)),
        ("half", 0.5),
        ("bool", 1.0),
        ("uint8", 200.0),
        ("content_f32", 2.5),
        ("content_f64_shape1", 1.25),
        ("content_i64", -3.0),
    ]


def test_tensor_dtypes_and_plugins(tmp_path: Path) -> None:
    expected = _write_tensor_summaries(tmp_path)
    f = event_file(tmp_path)
    src = read_event_file(f)
    got = ours(src)
    assert same(got, ea_scalars(f))
    assert sorted(got) == sorted(tag for tag, _ in expected)  # no vector, string or other_plugin
    for tag, value in expected:
        assert got[tag] == [(1, value, 1000.0), (2, value, 1001.0), (3, value, 1002.0)], tag
    assert_paths_agree(f)


def test_restarts_in_one_folder_through_read_runs(tmp_path: Path) -> None:
    run = tmp_path / "PPO_1"
    for part, (lo, hi) in enumerate([(1, 6), (4, 11)]):  # the restart overlaps steps 4-5
        scratch = tmp_path / f"scratch{part}"
        w = SummaryWriter(str(scratch))
        for k in range(lo, hi):
            w.add_scalar("rollout/ep_rew_mean", k * 10.0 + part, k * 2048)
            w.add_scalar("train/approx_kl", 0.01 * k, k * 2048)
        w.close()
        run.mkdir(exist_ok=True)
        os.rename(event_file(scratch), run / f"events.out.tfevents.{1700000000 + part}.host.1.{part}")
        scratch.rmdir()
    (r,) = read_runs(tmp_path)
    assert r.name == "PPO_1" and r.sources == ["tensorboard"] and len(r.source_files) == 2
    rew = r.metrics["rollout/ep_rew_mean"]
    # both files are read: the first file's points, then the restart's
    assert list(rew.steps) == sorted([k * 2048 for k in range(1, 6)] + [k * 2048 for k in range(4, 11)])
    assert rew.values[0] == 10.0 and rew.values[-1] == 101.0
    per_file = [ea_scalars(p) for p in sorted(run.glob("events*"))]
    assert len(rew) == sum(len(d["rollout/ep_rew_mean"]) for d in per_file)


# ----------------------------------------------------------------------------- damaged files


def _copy(src: Path, dst_dir: Path, data: bytes | None = None) -> Path:
    dst_dir.mkdir(parents=True, exist_ok=True)
    dst = dst_dir / src.name
    if data is None:
        shutil.copyfile(src, dst)
    else:
        dst.write_bytes(data)
    return dst


def test_truncated_last_record(sb3_dir: Path, tmp_path: Path) -> None:
    f = event_file(sb3_dir)
    data = f.read_bytes()
    recs = records(data)
    full = ours(read_event_file(f))
    last_off, _size = recs[-2]  # the last record is SB3's text summary; cut a scalar one
    for cut in (last_off + 5, last_off + 12, recs[-1][0] - 1):  # in the header, payload, CRC
        g = _copy(f, tmp_path / str(cut), data[:cut])
        src = read_event_file(g)
        assert src.warnings == [
            f"{g}: truncated last record at byte {last_off} (run still being written or killed); "
            f"read {len(recs) - 2} records"
        ]
        got = ours(src)
        n = sum(len(v) for v in got.values())
        assert n == sum(len(v) for v in full.values()) - 1
        # every point but the last one written survives unchanged
        for tag, rows in got.items():
            assert rows == full[tag][: len(rows)]
        assert_paths_agree(g)


def test_corrupt_length_checksum_is_skipped_or_fatal_in_strict(sb3_dir: Path, tmp_path: Path) -> None:
    f = event_file(sb3_dir)
    data = bytearray(f.read_bytes())
    recs = records(bytes(data))
    off, _size = recs[len(recs) // 2]
    data[off + 8] ^= 0xFF  # the length's CRC
    g = _copy(f, tmp_path, bytes(data))
    src = read_event_file(g)
    assert src.warnings == [f"{g}: corrupt record at byte {off} (bad length checksum); skipped it"]
    full = ours(read_event_file(f))
    assert sum(len(v) for v in ours(src).values()) == sum(len(v) for v in full.values()) - 1
    assert_paths_agree(g)
    with pytest.raises(InputError, match=f"corrupt record at byte {off} \\(bad length checksum\\)") as err:
        read_event_file(g, strict=True)
    assert err.value.path == str(g)


def test_corrupt_length_value_resyncs(sb3_dir: Path, tmp_path: Path) -> None:
    """A wrong length (with a CRC that no longer matches) must not misframe the rest."""
    f = event_file(sb3_dir)
    data = bytearray(f.read_bytes())
    recs = records(bytes(data))
    off, _size = recs[5]
    data[off] ^= 0x40
    g = _copy(f, tmp_path, bytes(data))
    src = assert_paths_agree(g)
    assert src.warnings == [f"{g}: corrupt record at byte {off} (bad length checksum); skipped it"]
    full = ours(read_event_file(f))
    assert sum(len(v) for v in ours(src).values()) == sum(len(v) for v in full.values()) - 1


def test_corrupt_payload_needs_strict(sb3_dir: Path, tmp_path: Path) -> None:
    f = event_file(sb3_dir)
    data = bytearray(f.read_bytes())
    recs = records(bytes(data))
    off, size = recs[len(recs) // 2]
    data[off + size - 6] ^= 0x01  # a bit of the float32 value: still a valid Event
    g = _copy(f, tmp_path, bytes(data))
    lenient = read_event_file(g)  # default: payload CRCs are not checked (documented)
    assert lenient.warnings == []
    assert sum(map(len, lenient.metrics.values())) == sum(map(len, read_event_file(f).metrics.values()))
    with pytest.raises(InputError, match=f"corrupt record at byte {off} \\(bad data checksum\\)"):
        read_event_file(g, strict=True)
    with open(g, "rb") as fh, pytest.raises(InputError, match=f"byte {off} "):
        tb._read_numpy(fh, len(data), g, True)


def test_garbage_payload_with_valid_header_is_skipped(sb3_dir: Path, tmp_path: Path) -> None:
    f = event_file(sb3_dir)
    data = bytearray(f.read_bytes())
    off, size = records(bytes(data))[3]
    data[off + 12 : off + size - 4] = b"\xff" * (size - 16)  # not protobuf at all
    g = _copy(f, tmp_path, bytes(data))
    src = assert_paths_agree(g)
    assert src.warnings == [f"{g}: corrupt record at byte {off} (bad data checksum); skipped it"]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "empty file"),
        (b"hello", "5 bytes, shorter than a record header"),
        (b"step,value\n1,2\n3,4\n" * 10, "the first record's length checksum is wrong"),
        (random.Random(0).randbytes(5000), "the first record's length checksum is wrong"),
    ],
)
def test_not_an_event_file(tmp_path: Path, content: bytes, why: str) -> None:
    g = tmp_path / "events.out.tfevents.1.host"
    g.write_bytes(content)
    with pytest.raises(InputError, match="not a TensorBoard event file") as err:
        read_event_file(g)
    assert why in str(err.value) and err.value.path == str(g)


def test_valid_framing_but_not_an_event(tmp_path: Path) -> None:
    g = tmp_path / "events.out.tfevents.1.host"
    g.write_bytes(_gen_events.frame(b"\xff\xff\xff"))
    with pytest.raises(
        InputError, match=r"not a TensorBoard event file \(the first record is not an Event\)"
    ):
        read_event_file(g)


def test_big_random_file_is_rejected_by_the_numpy_path_too(tmp_path: Path) -> None:
    g = tmp_path / "events.out.tfevents.1.host"
    g.write_bytes(random.Random(1).randbytes(tb.NUMPY_THRESHOLD + 1000))
    with pytest.raises(InputError, match="not a TensorBoard event file"):
        read_event_file(g)


def test_event_file_without_scalars_warns(tmp_path: Path) -> None:
    w = SummaryWriter(str(tmp_path))
    w.add_text("notes", "only text here", 0)
    w.add_histogram("h", np.arange(10), 1)
    w.close()
    f = event_file(tmp_path)
    src = read_event_file(f)
    assert src.metrics == {}
    assert src.warnings == [f"{f}: no scalar summaries in this event file (3 records)"]


# ----------------------------------------------------------------------------- numpy path


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    f = tmp_path_factory.mktemp("big") / "PPO_1" / "events.out.tfevents.1700000000.bench.1.0"
    _gen_events.write_ppo_file(f, 60_000, seed=3)  # ~3.4 MB: above NUMPY_THRESHOLD
    assert f.stat().st_size > tb.NUMPY_THRESHOLD
    return f


def test_big_file_numpy_path_equals_pure_path(big_file: Path) -> None:
    src = assert_paths_agree(big_file)
    tags, steps, values, walls = _gen_events.ppo_schedule(60_000, seed=3)
    for i, tag in enumerate(_gen_events.PPO_TAGS):
        s = src.metrics[tag]
        sel = tags == i
        assert list(s.steps) == steps[sel].tolist()
        assert list(s.values) == values[sel].astype(np.float64).tolist()
        assert list(s.wall_times) == walls[sel].tolist()
    # and read_event_file (which takes the numpy path at this size) returns the same
    assert ours(read_event_file(big_file)) == ours(src)


def test_big_file_matches_event_accumulator(big_file: Path) -> None:
    assert same(ours(read_event_file(big_file)), ea_scalars(big_file))


def test_numpy_path_on_mixed_real_files(torch_dir: Path, sb3_dir: Path, tmp_path: Path) -> None:
    """Records off SB3's layout (text, histograms, step 0, tensors) go through the fallback."""
    expected = _write_tensor_summaries(tmp_path / "tensors")
    assert expected
    for f in (event_file(torch_dir), event_file(sb3_dir), event_file(tmp_path / "tensors")):
        assert_paths_agree(f)
        assert_paths_agree(f, strict=True)


def test_numpy_path_small_chunks(big_file: Path, torch_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk boundaries (candidate search and record batches) do not lose or split records."""
    monkeypatch.setattr(tb, "_CHUNK_BYTES", 4099)
    monkeypatch.setattr(tb, "_CHUNK_RECORDS", 333)
    assert_paths_agree(big_file)
    assert_paths_agree(event_file(torch_dir))


def test_numpy_path_damaged_big_file(big_file: Path, tmp_path: Path) -> None:
    data = bytearray(big_file.read_bytes())
    recs = records(bytes(data))
    bad_len = recs[1000][0]
    bad_payload_off, bad_payload_size = recs[30_000]
    data[bad_len + 9] ^= 0x10
    data[bad_payload_off + 12 : bad_payload_off + bad_payload_size - 4] = b"\xff" * (bad_payload_size - 16)
    cut = recs[-1][0] + 20
    g = _copy(big_file, tmp_path, bytes(data[:cut]))
    src = assert_paths_agree(g)
    assert src.warnings == [
        f"{g}: corrupt record at byte {bad_len} (bad length checksum); skipped it",
        f"{g}: corrupt record at byte {bad_payload_off} (bad data checksum); skipped it",
        f"{g}: truncated last record at byte {recs[-1][0]} (run still being written or killed); "
        f"read {len(recs) - 2} records",
    ]
    assert sum(map(len, src.metrics.values())) == 60_000 - 3
    with pytest.raises(InputError, match=f"byte {bad_len} "):
        read_event_file(g, strict=True)


def test_numpy_path_long_and_unusual_tags(tmp_path: Path) -> None:
    tags = ["a", "x" * 33, "y" * 64, "z" * 118, "w" * 119, "v" * 300, "ταγ/üñí", "a" * 8, "a" * 9]
    idx = np.tile(np.arange(len(tags)), 500)
    steps = np.repeat(np.arange(500, dtype=np.int64) * 7, len(tags))
    vals = np.arange(len(idx), dtype=np.float32)
    walls = 1.7e9 + np.arange(len(idx)) * 1e-3
    f = tmp_path / "events.out.tfevents.1.h"
    f.write_bytes(_gen_events.file_version_record(1.7e9) + _gen_events.encode(tags, idx, steps, vals, walls))
    src = assert_paths_agree(f)
    assert sorted(src.metrics) == sorted(tags)
    for i, tag in enumerate(tags):
        assert list(src.metrics[tag].values) == vals[idx == i].astype(float).tolist()
    assert same(ours(src), ea_scalars(f))


# ----------------------------------------------------------------------------- tail


def _points(chunks: list[SourceData]) -> dict[str, list[tuple[int, float, float]]]:
    out: dict[str, list] = {}
    for c in chunks:
        for tag, rows in ours(c).items():
            out.setdefault(tag, []).extend(rows)
    return out


def test_tail_reads_appended_bytes_split_mid_record(sb3_dir: Path, torch_dir: Path, tmp_path: Path) -> None:
    for src_file in (event_file(sb3_dir), event_file(torch_dir)):
        data = src_file.read_bytes()
        grow = tmp_path / src_file.parent.name / "events.out.tfevents.1.host"
        grow.parent.mkdir()
        grow.write_bytes(b"")
        tail = EventFileTail(grow)
        polls = [tail.poll()]  # empty file: nothing yet, no error
        assert polls[0].metrics == {} and polls[0].warnings == []
        rng = random.Random(7)
        pos = 0
        while pos < len(data):
            step = rng.choice([1, 3, 11, 17, 40, 100, 333])
            with open(grow, "ab") as fh:
                fh.write(data[pos : pos + step])
            pos += step
            polls.append(tail.poll())
            assert tail.offset <= pos and all(p.warnings == [] for p in polls)
        assert tail.offset == len(data) and tail.records == len(records(data))
        assert same(_points(polls), ours(read_event_file(src_file)))


def test_tail_follows_a_live_summary_writer(tmp_path: Path) -> None:
    w = SummaryWriter(str(tmp_path))
    w.flush()
    tail = EventFileTail(event_file(tmp_path))
    seen: list[SourceData] = [tail.poll()]
    for k in range(1, 40):
        w.add_scalar("train/loss", 1.0 / k, k * 2048)
        if k % 7 == 0:
            w.flush()
            before = tail.offset
            seen.append(tail.poll())
            assert len(seen[-1].metrics["train/loss"]) == 7 and tail.offset > before
    w.close()
    seen.append(tail.poll())
    assert [row[0] for row in _points(seen)["train/loss"]] == [k * 2048 for k in range(1, 40)]
    assert tail.poll().metrics == {}  # nothing new


def test_tail_rejects_a_non_event_file(tmp_path: Path) -> None:
    g = tmp_path / "events.out.tfevents.1.host"
    g.write_bytes(b"this is not an event file at all\n")
    with pytest.raises(InputError, match="not a TensorBoard event file"):
        EventFileTail(g).poll()


def test_tail_restarts_when_the_file_shrinks(sb3_dir: Path, tmp_path: Path) -> None:
    data = event_file(sb3_dir).read_bytes()
    g = tmp_path / "events.out.tfevents.1.host"
    g.write_bytes(data)
    tail = EventFileTail(g)
    first = tail.poll()
    g.write_bytes(data[: records(data)[20][0]])  # replaced by a shorter file
    again = tail.poll()
    assert again.warnings == [
        f"{g}: file shrank from {len(data)} to {g.stat().st_size} bytes; reading it again"
    ]
    assert ours(again) == ours(read_event_file(g))  # the whole shorter file, once
    assert sum(map(len, first.metrics.values())) > sum(map(len, again.metrics.values())) > 0


# ----------------------------------------------------------------------------- CLI


def test_export_cli_end_to_end(sb3_dir: Path, tmp_path: Path) -> None:
    import csv
    import io

    from sb3doctor.cli import main

    out = tmp_path / "table.csv"
    assert main(["export", str(sb3_dir), "-o", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    expected = ea_scalars(event_file(sb3_dir))
    assert len(rows) == sum(len(v) for v in expected.values())
    kl = [r for r in rows if r["metric"] == "train/approx_kl"]
    assert [int(r["step"]) for r in kl] == [row[0] for row in expected["train/approx_kl"]]
    assert [float(r["value"]) for r in kl] == [row[1] for row in expected["train/approx_kl"]]
    assert all(r["run"] == "PPO_1" and r["wall_time"] for r in rows)


def test_export_cli_rejects_a_non_event_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sb3doctor.cli import main

    g = tmp_path / "run" / "events.out.tfevents.1.host"
    g.parent.mkdir()
    g.write_text("not an event file\n")
    assert main(["export", str(g.parent)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"sb3doctor: error: {g}: not a TensorBoard event file (the first record's length checksum is wrong)"
    ]


def test_garbage_after_a_corrupt_header(sb3_dir: Path, tmp_path: Path) -> None:
    """Nothing valid after a bad header: the rest is skipped with one clear warning."""
    f = event_file(sb3_dir)
    data = f.read_bytes()
    off = records(data)[-3][0]
    g = _copy(f, tmp_path, data[:off] + b"\x07" * 500)
    src = assert_paths_agree(g)
    assert src.warnings == [
        f"{g}: corrupt record at byte {off} (bad length checksum); skipped it",
        f"{g}: no valid record after byte {off}; ignored the last 500 bytes",
    ]
    assert ours(src) == ours(read_event_file(_copy(f, tmp_path / "cut", data[:off])))


def test_tail_first_poll_of_a_big_file_and_garbage_growth(big_file: Path, tmp_path: Path) -> None:
    """A big existing file is read on the first poll (numpy path); garbage warns once."""
    g = _copy(big_file, tmp_path)
    tail = EventFileTail(g)
    first = tail.poll()
    assert ours(first) == ours(read_event_file(big_file)) and first.warnings == []
    size = g.stat().st_size
    with open(g, "ab") as fh:
        fh.write(b"\x07" * 100)  # a writer gone wrong
    warned = tail.poll().warnings
    assert warned == [f"{g}: corrupt record at byte {size} (bad length checksum); skipped it"]
    with open(g, "ab") as fh:
        fh.write(b"\x07" * 50)
    assert tail.poll().warnings == []  # still lost, but already reported
    with open(g, "ab") as fh:
        fh.write(_gen_events.scalar_record("train/loss", 0.5, 99, 1.0))
    again = tail.poll()
    assert ours(again) == {"train/loss": [(99, 0.5, 1.0)]} and again.warnings == []


def test_signalling_nan_in_a_big_file_reads_as_nan_without_a_warning(tmp_path: Path) -> None:
    # A float32 signalling NaN (bits 0x7fa00000: a damaged or hand-made file) on the numpy path:
    # numpy's "invalid value encountered in cast" would print noise before the NaN finding.
    import warnings

    tags, steps, values, walls = _gen_events.ppo_schedule(60_000, seed=5)
    bits = values.astype("<f4").view("<u4").copy()
    bits[100] = 0x7FA00000
    f = tmp_path / "PPO_1" / "events.out.tfevents.1700000000.bench.1.0"
    f.parent.mkdir(parents=True)
    f.write_bytes(
        _gen_events.file_version_record(1.7e9)
        + _gen_events.encode(_gen_events.PPO_TAGS, tags, steps, bits.view("<f4"), walls)
    )
    assert f.stat().st_size > tb.NUMPY_THRESHOLD
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        src = read_event_file(f)
    tag = _gen_events.PPO_TAGS[int(tags[100])]
    s = src.metrics[tag]
    assert any(math.isnan(v) for v in s.values)
