"""Write SB3-shaped TensorBoard event files fast (numpy), for benchmarks and tests.

The files look exactly like what SB3's ``TensorBoardOutputFormat`` writes through torch's
``SummaryWriter.add_scalar`` (one Event per scalar, ``simple_value``, no metadata):

* first record: ``Event{wall_time, file_version="brain.Event:2",
  source_metadata{writer="tensorboard.summary.writer.event_file_writer"}}``;
* then per scalar ``09 <wall f64> 10 <varint step> 2a L 0a L 0a T <tag> 15 <value f32>``
  (the step field is omitted when the step is 0, as proto3 does);
* TFRecord framing: ``uint64 length``, masked CRC32C of it, payload, masked CRC32C of it.

Dump structure of PPO (``logger.dump()`` writes the keys in sorted order, all at the same
step): the first dump has only ``rollout/ep_len_mean``, ``rollout/ep_rew_mean`` and
``time/fps`` (no update has run yet), later dumps all 12 tags; steps are ``k * 2048``;
wall times are 23 µs apart inside a dump and ~0.7 s apart between dumps.

:func:`check_against_summary_writer` writes the same scalars through torch's
``SummaryWriter`` and asserts the records are byte-identical (``python bench/_gen_events.py
--check``). Records are built column-wise with numpy: 5M scalars take a few seconds.
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sb3doctor.sources.tensorboard import _CRC_TABLE, masked_crc32c  # noqa: E402

PPO_TAGS = [
    "rollout/ep_len_mean",
    "rollout/ep_rew_mean",
    "time/fps",
    "train/approx_kl",
    "train/clip_fraction",
    "train/clip_range",
    "train/entropy_loss",
    "train/explained_variance",
    "train/learning_rate",
    "train/loss",
    "train/policy_gradient_loss",
    "train/value_loss",
]
FIRST_DUMP = PPO_TAGS[:3]
N_STEPS = 2048
WRITER = b"tensorboard.summary.writer.event_file_writer"


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def frame(payload: bytes) -> bytes:
    """One TFRecord: length, masked CRC of the length, payload, masked CRC of the payload."""
    length = struct.pack("<Q", len(payload))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + payload
        + struct.pack("<I", masked_crc32c(payload))
    )


def file_version_record(wall_time: float) -> bytes:
    """The first record every torch/TensorBoard writer puts in an event file."""
    meta = b"\x0a" + _varint(len(WRITER)) + WRITER
    payload = (
        b"\x09"
        + struct.pack("<d", wall_time)
        + b"\x1a\x0dbrain.Event:2"
        + b"\x52"
        + _varint(len(meta))
        + meta
    )
    return frame(payload)


def scalar_record(tag: str, value: float, step: int, wall_time: float) -> bytes:
    """One SB3/torch scalar Event (``add_scalar`` with ``new_style=False``), framed."""
    t = tag.encode()
    payload = b"\x09" + struct.pack("<d", wall_time)
    if step:
        payload += b"\x10" + _varint(step)
    payload += _summary_head(t) + struct.pack("<f", value)
    return frame(payload)


def _summary_head(tag: bytes) -> bytes:
    """``2a L1 0a L2 0a T <tag> 15``: the bytes of a one-scalar summary before the float."""
    value = b"\x0a" + _varint(len(tag)) + tag + b"\x15"
    inner = b"\x0a" + _varint(len(value) + 4) + value
    return b"\x2a" + _varint(len(inner) + 4) + inner


def ppo_schedule(n_scalars: int, start_time: float = 1.7e9, seed: int = 0):
    """Tags (indices into PPO_TAGS), steps, values (float32) and wall times of a PPO run."""
    rng = np.random.default_rng(seed)
    per_dump = len(PPO_TAGS)
    n_dumps = 1 + max(0, -(-(n_scalars - len(FIRST_DUMP)) // per_dump))
    tag_idx = np.concatenate([np.arange(len(FIRST_DUMP)), np.tile(np.arange(per_dump), n_dumps - 1)])[
        :n_scalars
    ]
    dump = np.concatenate([np.zeros(len(FIRST_DUMP), np.int64), np.repeat(np.arange(1, n_dumps), per_dump)])[
        :n_scalars
    ]
    steps = (dump + 1) * N_STEPS
    within = np.concatenate([np.arange(len(FIRST_DUMP)), np.tile(np.arange(per_dump), n_dumps - 1)])[
        :n_scalars
    ]
    walls = start_time + dump * 0.7 + within * 23e-6 + rng.uniform(0, 5e-6, n_scalars)
    # Plausible magnitudes per tag, noisy; stored as float32 like simple_value.
    scale = np.array([200, 150, 900, 0.01, 0.1, 0.2, -0.6, 0.9, 3e-4, 5.0, -0.01, 20.0])
    values = (scale[tag_idx] * (1 + 0.3 * rng.standard_normal(n_scalars))).astype(np.float32)
    values[tag_idx == 5] = np.float32(0.2)  # clip_range is constant
    values[tag_idx == 8] = np.float32(3e-4)  # learning_rate is constant
    return tag_idx, steps.astype(np.int64), values, walls


def _masked_crc_rows(rows: np.ndarray) -> np.ndarray:
    """Masked CRC32C of each row of a (m, L) uint8 matrix, column by column."""
    table = np.array(_CRC_TABLE, dtype=np.uint32)
    crc = np.full(rows.shape[0], 0xFFFFFFFF, dtype=np.uint32)
    for k in range(rows.shape[1]):
        crc = table[(crc ^ rows[:, k]) & 0xFF] ^ (crc >> 8)
    crc ^= np.uint32(0xFFFFFFFF)
    return ((crc >> 15) | (crc << 17)) + np.uint32(0xA282EAD8)


def _varint_len(steps: np.ndarray) -> np.ndarray:
    u = steps.astype(np.uint64)
    n = np.ones(len(u), np.int64)
    for k in range(1, 10):
        n += u >= np.uint64(1) << np.uint64(7 * k)
    n[steps == 0] = 0  # proto3 drops a zero step
    return n


def encode(
    tags: list[str], tag_idx: np.ndarray, steps: np.ndarray, values: np.ndarray, walls: np.ndarray
) -> bytes:
    """Serialize scalar Events (one per point), framed, without the file_version record."""
    m = len(tag_idx)
    tag_bytes = [t.encode() for t in tags]
    # summary{value{tag, simple_value}} up to the float: 2a L1 0a L2 0a T <tag> 15
    heads = [_summary_head(t) for t in tag_bytes]
    hlen = np.array([len(h) for h in heads], np.int64)[tag_idx]
    vlen = _varint_len(steps)
    plen = 9 + np.where(vlen > 0, 1 + vlen, 0) + hlen + 4
    rec = plen + 16
    offsets = np.zeros(m, np.int64)
    np.cumsum(rec[:-1], out=offsets[1:])
    out = np.zeros(int(rec.sum()), np.uint8)
    wall_b = walls.astype("<f8").view(np.uint8).reshape(m, 8)
    val_b = values.astype("<f4").view(np.uint8).reshape(m, 4)
    step_u = steps.astype(np.uint64)
    # Records of one (tag, varint length) share their layout: build each group as a matrix.
    key = tag_idx * 11 + vlen
    for k in np.unique(key).tolist():
        idx = np.flatnonzero(key == k)
        ti, vl = divmod(k, 11)
        n = int(plen[idx[0]])
        mat = np.zeros((len(idx), n + 16), np.uint8)
        mat[:, 0:8] = np.frombuffer(struct.pack("<Q", n), np.uint8)
        mat[:, 8:12] = np.frombuffer(struct.pack("<I", masked_crc32c(struct.pack("<Q", n))), np.uint8)
        c = 12
        mat[:, c] = 0x09
        mat[:, c + 1 : c + 9] = wall_b[idx]
        c += 9
        if vl:
            mat[:, c] = 0x10
            s = step_u[idx]
            for j in range(vl):
                byte = (s >> np.uint64(7 * j)) & np.uint64(0x7F)
                if j < vl - 1:
                    byte |= np.uint64(0x80)
                mat[:, c + 1 + j] = byte.astype(np.uint8)
            c += 1 + vl
        head = heads[ti]
        mat[:, c : c + len(head)] = np.frombuffer(head, np.uint8)
        c += len(head)
        mat[:, c : c + 4] = val_b[idx]
        c += 4
        mat[:, c : c + 4] = _masked_crc_rows(mat[:, 12:c]).astype("<u4").view(np.uint8).reshape(-1, 4)
        out[offsets[idx, None] + np.arange(n + 16)] = mat
    return out.tobytes()


def write_ppo_file(path: Path, n_scalars: int, seed: int = 0) -> Path:
    """Write an SB3 PPO-shaped event file of ``n_scalars`` scalars to ``path``."""
    tag_idx, steps, values, walls = ppo_schedule(n_scalars, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(file_version_record(float(walls[0]) - 1.0))
        fh.write(encode(PPO_TAGS, tag_idx, steps, values, walls))
    return path


def _records(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack_from("<Q", data, pos)
        out.append(data[pos : pos + n + 16])
        pos += n + 16
    return out


def check_against_summary_writer(folder: Path, n_scalars: int = 2000) -> None:
    """Assert that :func:`encode` gives the records torch's ``SummaryWriter`` writes.

    Also checks the first record's layout (same bytes apart from its wall time) and that
    TensorBoard's EventAccumulator reads the generated file with the same values.
    """
    import torch
    from torch.utils.tensorboard import SummaryWriter

    torch.set_num_threads(1)
    tag_idx, steps, values, walls = ppo_schedule(n_scalars, seed=1)
    steps[0] = 0  # exercise the omitted zero step as well
    writer = SummaryWriter(str(folder / "torch"))
    for ti, s, v, w in zip(tag_idx.tolist(), steps.tolist(), values.tolist(), walls.tolist(), strict=True):
        writer.add_scalar(PPO_TAGS[ti], v, s, walltime=w)
    writer.close()
    theirs = _records(next((folder / "torch").glob("events.out.tfevents.*")).read_bytes())
    ours = _records(encode(PPO_TAGS, tag_idx, steps, values, walls))
    assert len(theirs) == len(ours) + 1, (len(theirs), len(ours))
    assert theirs[1:] == ours, "scalar records differ from SummaryWriter's"
    first_theirs = theirs[0]
    first_ours = file_version_record(0.0)
    assert len(first_theirs) == len(first_ours)
    # identical except the 8 wall-time bytes and the payload CRC
    assert first_theirs[:13] == first_ours[:13] and first_theirs[21:-4] == first_ours[21:-4]

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    gen = write_ppo_file(folder / "gen" / "events.out.tfevents.1700000000.bench.1.0", n_scalars, seed=2)
    ea = EventAccumulator(str(gen), size_guidance={"scalars": 0})
    ea.Reload()
    g_idx, g_steps, g_values, _g_walls = ppo_schedule(n_scalars, seed=2)
    assert sorted(ea.Tags()["scalars"]) == PPO_TAGS
    for ti, tag in enumerate(PPO_TAGS):
        evs = ea.Scalars(tag)
        sel = g_idx == ti
        assert [e.step for e in evs] == g_steps[sel].tolist()
        assert [e.value for e in evs] == g_values[sel].astype(np.float64).tolist()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--check", metavar="DIR", help="compare with torch's SummaryWriter in DIR (must be empty)"
    )
    ap.add_argument("--out", metavar="FILE", help="write a PPO-shaped file here")
    ap.add_argument("-n", type=int, default=5859, help="number of scalars (default: a 1M-timestep PPO run)")
    args = ap.parse_args()
    if args.check:
        check_against_summary_writer(Path(args.check))
        print("ok: byte-identical to SummaryWriter records; EventAccumulator reads the generated file")
    if args.out:
        write_ppo_file(Path(args.out), args.n)


if __name__ == "__main__":
    main()
