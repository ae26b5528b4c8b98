"""TensorBoard event files, read without tensorboard, protobuf or TensorFlow.

An event file is a TFRecord stream: each record is ``uint64 length``, ``uint32 masked
CRC32C of the length bytes``, ``length`` bytes of a serialized ``tensorflow.Event``, and
``uint32 masked CRC32C of those bytes``. SB3's ``TensorBoardOutputFormat`` (torch's
``SummaryWriter.add_scalar``) writes one Event per scalar::

    09 <8B wall_time> 10 <varint step> 2a L 0a L 0a T <T bytes tag> 15 <4B float32>

Two decoders share the framing rules:

* a pure-Python one (``struct`` only) for small files, the common case: a typical
  1M-timestep PPO run is ~340 KB, and importing numpy would cost more than reading it;
* a numpy one for files above :data:`NUMPY_THRESHOLD`: record starts are found and
  validated (header CRC, chaining) with array operations, and the fields of records with
  SB3's fixed layout are gathered through unaligned strided views. Any record that does
  not match that layout (the ``file_version`` record, tensor-encoded scalars, histograms,
  a step of 0, ...) and any gap in the chain is handed to the pure-Python decoder, so
  both paths return identical results.

What counts as a scalar: ``Summary.Value.simple_value`` (SB3, torch's default), and
numeric one-element tensors (``add_scalar(new_style=True)``, TensorBoardX, TF2 writers),
unless the value's plugin (from its metadata, remembered per tag as TensorBoard does) is
not ``scalars``. Histograms, images, audio and text summaries are ignored.

Checks: the header (length) CRC of every record is verified, since a wrong length would
misframe the rest of the file; the payload CRC only with ``strict=True`` (checking it in
pure Python costs ~3x the decode). A truncated last record is a run still being written
(or killed): the file is read up to its last complete record, with a warning. A corrupt
record in the middle is skipped with a warning and the reader resynchronises on the next
valid header (``strict=True`` raises :class:`~sb3doctor.errors.InputError` instead).
"""

from __future__ import annotations

import os
import struct
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sb3doctor.errors import InputError, printable
from sb3doctor.model import Series, SourceData

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np

__all__ = ["NUMPY_THRESHOLD", "EventFileTail", "crc32c", "masked_crc32c", "read_event_file"]

#: Files larger than this (bytes) are read with the numpy decoder. Below it the
#: pure-Python decoder finishes before numpy would even be imported (~60-160 ms).
NUMPY_THRESHOLD = 2 * 1024 * 1024

_HEADER = struct.Struct("<QI")  # length, masked CRC32C of the 8 length bytes
_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")
_F32 = struct.Struct("<f")
_unpack_header = _HEADER.unpack_from
_unpack_u32 = _U32.unpack_from
_unpack_f64 = _F64.unpack_from
_unpack_f32 = _F32.unpack_from

_KIND = "tensorboard"

# ---------------------------------------------------------------------------------------
# CRC32C (Castagnoli), table driven. google_crc32c is not a dependency; zlib.crc32 is the
# IEEE polynomial and cannot be used.


def _make_crc_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _make_crc_table()
_MASK_DELTA = 0xA282EAD8


def crc32c(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC32C (Castagnoli) of ``data``, continuing from ``crc``."""
    table = _CRC_TABLE
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc32c(data: bytes | bytearray | memoryview) -> int:
    """The masked CRC32C that TFRecord stores: ``rotr15(crc) + 0xa282ead8`` (mod 2**32)."""
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xFFFFFFFF


# The header CRC depends only on the length, and SB3 files hold a few dozen distinct
# lengths: caching it makes the header check a dict lookup per record.
_LENGTH_CRC: dict[int, int] = {}


def _length_crc(n: int) -> int:
    c = _LENGTH_CRC.get(n)
    if c is None:
        c = masked_crc32c(n.to_bytes(8, "little"))
        if len(_LENGTH_CRC) < 65536:
            _LENGTH_CRC[n] = c
    return c


# ---------------------------------------------------------------------------------------
# Protobuf wire decoding of the Event subset we need.


class _Malformed(Exception):
    """A payload that is not a valid serialized Event."""


def _varint(data: Any, p: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        b = data[p]
        p += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, p
        shift += 7
        if shift >= 70:
            raise _Malformed("varint too long")


def _skip(data: Any, p: int, wire: int) -> int:
    """Position after a field of wire type ``wire`` whose key ended at ``p``."""
    if wire == 0:
        return _varint(data, p)[1]
    if wire == 1:
        return p + 8
    if wire == 2:
        n, p = _varint(data, p)
        return p + n
    if wire == 5:
        return p + 4
    raise _Malformed(f"unsupported wire type {wire}")


def _fields(data: Any, p: int, end: int) -> Any:
    """Yield ``(field, wire, start, stop)`` for each field of the message in ``[p, end)``.

    For wire type 2 ``start:stop`` is the content; for the others it is the raw value.
    """
    while p < end:
        key = data[p]
        if key < 0x80:
            p += 1
        else:
            key, p = _varint(data, p)
        field, wire = key >> 3, key & 7
        if wire == 2:
            n, start = _varint(data, p)
            p = start + n
        else:
            start = p
            p = _skip(data, p, wire)
        if p > end:
            raise _Malformed("field runs past the end of its message")
        yield field, wire, start, p


# TensorFlow DataType enum values that can hold a numeric scalar.
_DT_FLOAT, _DT_DOUBLE, _DT_INT32, _DT_UINT8, _DT_INT16, _DT_INT8 = 1, 2, 3, 4, 5, 6
_DT_INT64, _DT_BOOL, _DT_BFLOAT16, _DT_UINT16, _DT_HALF, _DT_UINT32, _DT_UINT64 = 9, 10, 14, 17, 19, 22, 23
# dtype -> struct format of one element in tensor_content (little endian)
_CONTENT_FORMAT = {
    _DT_FLOAT: "<f",
    _DT_DOUBLE: "<d",
    _DT_INT32: "<i",
    _DT_UINT8: "<B",
    _DT_INT16: "<h",
    _DT_INT8: "<b",
    _DT_INT64: "<q",
    _DT_BOOL: "<?",
    _DT_UINT16: "<H",
    _DT_HALF: "<e",
    _DT_UINT32: "<I",
    _DT_UINT64: "<Q",
}
# dtype -> TensorProto field holding its values when tensor_content is empty
_VAL_FIELD = {
    _DT_FLOAT: 5,
    _DT_DOUBLE: 6,
    _DT_INT32: 7,
    _DT_UINT8: 7,
    _DT_INT16: 7,
    _DT_INT8: 7,
    _DT_UINT16: 7,
    _DT_INT64: 10,
    _DT_BOOL: 11,
    _DT_HALF: 13,
    _DT_BFLOAT16: 13,
    _DT_UINT32: 16,
    _DT_UINT64: 17,
}


def _signed32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def _signed64(v: int) -> int:
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >= 1 << 63 else v


def _shape_size(data: Any, p: int, end: int) -> int:
    """Number of elements of a TensorShapeProto (1 for a scalar shape)."""
    size = 1
    for field, _wire, a, b in _fields(data, p, end):
        if field == 2:  # dim
            dim = 0
            for f2, _w2, a2, _b2 in _fields(data, a, b):
                if f2 == 1:
                    dim = _signed64(_varint(data, a2)[0])
            size *= dim
        elif field == 3 and _varint(data, a)[0]:  # unknown_rank
            return -1
    return size


def _tensor_scalar(data: Any, p: int, end: int) -> float | None:
    """The value of a one-element numeric TensorProto, else None."""
    dtype = 0
    size = 1
    content: tuple[int, int] | None = None
    vals: dict[int, tuple[int, int, int]] = {}
    for field, wire, a, b in _fields(data, p, end):
        if field == 1:
            dtype = _varint(data, a)[0]
        elif field == 2:
            size = _shape_size(data, a, b)
        elif field == 4:
            content = (a, b)
        elif field not in vals:
            vals[field] = (wire, a, b)
    if size != 1 or dtype not in _VAL_FIELD:
        return None
    if content is not None and content[1] > content[0]:
        if dtype == _DT_BFLOAT16:
            if content[1] - content[0] != 2:
                return None
            bits = data[content[0]] | data[content[0] + 1] << 8
            return float(_F32.unpack((bits << 16).to_bytes(4, "little"))[0])
        fmt = _CONTENT_FORMAT[dtype]
        if content[1] - content[0] != struct.calcsize(fmt):
            return None
        return float(struct.unpack_from(fmt, data, content[0])[0])
    got = vals.get(_VAL_FIELD[dtype])
    if got is None:
        return None
    wire, a, b = got
    if dtype == _DT_FLOAT:
        # packed (wire 2) or a single unpacked fixed32 (wire 5)
        return float(_unpack_f32(data, a)[0]) if b - a >= 4 else None
    if dtype == _DT_DOUBLE:
        return float(_unpack_f64(data, a)[0]) if b - a >= 8 else None
    if wire == 2 and b == a:
        return None
    v = _varint(data, a)[0]
    if dtype in (_DT_HALF, _DT_BFLOAT16):
        bits = v & 0xFFFF
        if dtype == _DT_HALF:
            return float(struct.unpack("<e", bits.to_bytes(2, "little"))[0])
        return float(_F32.unpack((bits << 16).to_bytes(4, "little"))[0])
    if dtype == _DT_INT64:
        return float(_signed64(v))
    if dtype in (_DT_UINT32, _DT_UINT64, _DT_BOOL):
        return float(v)
    return float(_signed32(v))


def _plugin_name(data: Any, p: int, end: int) -> str | None:
    """``SummaryMetadata.plugin_data.plugin_name``, or ``scalars`` for DATA_CLASS_SCALAR."""
    name = None
    for field, _wire, a, b in _fields(data, p, end):
        if field == 1:
            for f2, _w2, a2, b2 in _fields(data, a, b):
                if f2 == 1:
                    name = bytes(data[a2:b2]).decode("utf-8", "replace")
        elif field == 4 and _varint(data, a)[0] == 1:
            return "scalars"
    return name


Emit = Callable[[bytes, int, float, float], None]


def _decode_event(data: Any, p: int, end: int, emit: Emit, plugins: dict[bytes, str]) -> int:
    """Decode the Event in ``data[p:end]`` and ``emit(tag, step, value, wall)`` per scalar.

    :param plugins: tag -> plugin name, filled from value metadata. TF2 writers attach the
        metadata to the first value of a tag only, so it is remembered across records.
    :returns: the number of scalars emitted
    :raises _Malformed: the bytes are not a serialized Event
    """
    wall = 0.0
    step = 0
    summaries: list[tuple[int, int]] = []
    try:
        for field, wire, a, b in _fields(data, p, end):
            if field == 1 and wire == 1:
                wall = _unpack_f64(data, a)[0]
            elif field == 2 and wire == 0:
                step = _signed64(_varint(data, a)[0])
            elif field == 5 and wire == 2:
                summaries.append((a, b))
        found = 0
        for sa, sb in summaries:
            for field, wire, a, b in _fields(data, sa, sb):
                if field != 1 or wire != 2:
                    continue
                tag = b""
                simple: float | None = None
                tensor: tuple[int, int] | None = None
                plugin: str | None = None
                for f2, w2, a2, b2 in _fields(data, a, b):
                    if f2 == 1 and w2 == 2:
                        tag = bytes(data[a2:b2])
                    elif f2 == 2 and w2 == 5:
                        simple = _unpack_f32(data, a2)[0]
                    elif f2 == 8 and w2 == 2:
                        tensor = (a2, b2)
                    elif f2 == 9 and w2 == 2:
                        plugin = _plugin_name(data, a2, b2)
                if plugin is not None:
                    plugins.setdefault(tag, plugin)
                if simple is not None:
                    emit(tag, step, simple, wall)
                    found += 1
                elif tensor is not None and plugins.get(tag, "scalars") == "scalars":
                    value = _tensor_scalar(data, tensor[0], tensor[1])
                    if value is not None:
                        emit(tag, step, value, wall)
                        found += 1
        return found
    except (IndexError, struct.error, ValueError) as exc:
        raise _Malformed(str(exc)) from exc


# ---------------------------------------------------------------------------------------
# Framing: the record walk shared by both decoders.


class _Sink:
    """Per-tag point arrays, filled in file order."""

    def __init__(self) -> None:
        self.series: dict[bytes, tuple[array, array, array]] = {}
        self.plugins: dict[bytes, str] = {}

    def emit(self, tag: bytes, step: int, value: float, wall: float) -> None:
        s = self.series.get(tag)
        if s is None:
            s = self.series[tag] = (array("q"), array("d"), array("d"))
        s[0].append(step)
        s[1].append(value)
        s[2].append(wall)


class _Walk:
    """State of one pass over a byte range of an event file (pure-Python framing)."""

    def __init__(self, data: Any, path: Path, strict: bool, sink: _Sink, warnings: list[str]) -> None:
        self.data = data
        self.path = path
        self.strict = strict
        self.sink = sink
        self.warnings = warnings
        self.records = 0  # complete records read
        self.truncated_at: int | None = None  # offset of an incomplete last record
        #: the data is the whole file (False: a tail that may still grow)
        self.final = True
        #: file offset of ``data[0]`` (a tail reads from the middle), for messages
        self.base = 0
        #: a corrupt header was followed by no valid header: resynchronise silently
        #: at the start of the next run (a tail polled again)
        self.lost_sync = False

    def corrupt(self, pos: int, what: str) -> None:
        pos += self.base
        if self.strict:
            raise InputError(f"corrupt record at byte {pos} ({what})", self.path)
        self.warnings.append(f"{self.path}: corrupt record at byte {pos} ({what}); skipped it")

    def resync(self, pos: int, end: int) -> int | None:
        """Offset of the next valid record header after ``pos``, or None."""
        data = self.data
        q = pos + 1
        while True:
            # A real length is < 4 GiB, so its 4 high bytes are zero: jump between such
            # spots instead of testing the CRC at every byte.
            z = data.find(b"\x00\x00\x00\x00", q + 4, end)
            if z < 0 or z - 4 + 12 > end:
                return None
            q = z - 4
            n, c = _unpack_header(data, q)
            if c == _length_crc(n):
                return q
            q += 1

    def run(self, pos: int, end: int, limit: int | None = None) -> int:
        """Read records from ``pos`` while ``pos < limit`` (default ``end``).

        Returns the offset reached: after the last complete record read, or the start of
        an incomplete one (``truncated_at`` is set then) when the data ends inside it.
        """
        data = self.data
        sink = self.sink
        series = sink.series
        plugins = sink.plugins
        emit = sink.emit
        strict = self.strict
        length_crc = _LENGTH_CRC
        if limit is None:
            limit = end
        records = 0
        start = pos
        quiet = self.lost_sync
        self.lost_sync = False
        try:
            while pos < limit:
                if pos + 12 > end:
                    self.truncated_at = pos
                    break
                n, hcrc = _unpack_header(data, pos)
                expect = length_crc.get(n)
                if expect is None:
                    expect = _length_crc(n)
                if hcrc != expect:
                    if not (quiet and pos == start):
                        self.corrupt(pos, "bad length checksum")
                    nxt = self.resync(pos, end)
                    if nxt is None:
                        if self.final:
                            self.warnings.append(
                                f"{self.path}: no valid record after byte {pos}; "
                                f"ignored the last {end - pos} bytes"
                            )
                            pos = end
                        else:
                            # Nothing valid follows yet: keep the last 11 bytes, where a
                            # header may be arriving, and resync quietly next time.
                            self.lost_sync = True
                            pos = max(pos + 1, end - 11)
                        break
                    pos = nxt
                    continue
                p = pos + 12
                q = p + n
                if q + 4 > end:
                    self.truncated_at = pos
                    break
                if strict and _unpack_u32(data, q)[0] != masked_crc32c(memoryview(data)[p:q]):
                    self.corrupt(pos, "bad data checksum")
                records += 1
                # Fast path: SB3's one-scalar Event layout (see the module docstring); the
                # same test as the numpy decoder's, so both take the same records.
                if n >= 22 and data[p] == 0x09 and data[p + 9] == 0x10:
                    i = p + 10
                    step = data[i]
                    i += 1
                    fast = True
                    if step >= 0x80:
                        step &= 0x7F
                        shift = 7
                        while i < p + 20:
                            b = data[i]
                            i += 1
                            step |= (b & 0x7F) << shift
                            if b < 0x80:
                                break
                            shift += 7
                        else:
                            fast = False  # an over-long varint: let the full decoder judge
                        step = _signed64(step)
                    if fast and data[i] == 0x2A and data[i + 2] == 0x0A and data[i + 4] == 0x0A:
                        t = data[i + 5]
                        t0 = i + 6
                        t1 = t0 + t
                        if (
                            t1 + 5 == q
                            and data[t1] == 0x15
                            and data[i + 1] == t + 9
                            and data[i + 3] == t + 7
                            and t < 0x77
                        ):
                            tag = bytes(data[t0:t1])
                            s = series.get(tag)
                            if s is None:
                                s = series[tag] = (array("q"), array("d"), array("d"))
                            s[0].append(step)
                            s[1].append(_unpack_f32(data, t1 + 1)[0])
                            s[2].append(_unpack_f64(data, p + 1)[0])
                            pos = q + 4
                            continue
                try:
                    _decode_event(data, p, q, emit, plugins)
                except _Malformed:
                    self.malformed(pos, p, q)
                pos = q + 4
        finally:
            self.records += records
        return pos

    def malformed(self, pos: int, p: int, q: int) -> None:
        if not self.strict and _unpack_u32(self.data, q)[0] != masked_crc32c(memoryview(self.data)[p:q]):
            self.corrupt(pos, "bad data checksum")
        else:
            self.corrupt(pos, "not a valid Event")


def _check_first_record(data: Any, size: int, path: Path) -> None:
    """Raise InputError unless the file starts with a valid TFRecord holding an Event."""
    if size == 0:
        raise InputError("not a TensorBoard event file (empty file)", path)
    if size < 12:
        raise InputError(f"not a TensorBoard event file ({size} bytes, shorter than a record header)", path)
    n, c = _unpack_header(data, 0)
    if c != _length_crc(n):
        raise InputError("not a TensorBoard event file (the first record's length checksum is wrong)", path)
    if 12 + n + 4 <= size:
        try:
            _decode_event(data, 12, 12 + n, lambda *a: None, {})
        except _Malformed as exc:
            raise InputError("not a TensorBoard event file (the first record is not an Event)", path) from exc


def _tag_name(tag: bytes) -> str:
    """A tag as a metric name: escape codes in it must not reach a terminal."""
    return printable(tag.decode("utf-8", "replace"), one_line=True)


def _to_source(path: Path, sink: _Sink, warnings: list[str]) -> SourceData:
    src = SourceData(_KIND, path, warnings=warnings)
    for tag, (steps, values, walls) in sink.series.items():
        src.metrics[_tag_name(tag)] = Series(steps, values, walls)
    return src


def _truncation_warning(path: Path, walk: _Walk) -> None:
    if walk.truncated_at is not None:
        walk.warnings.append(
            f"{path}: truncated last record at byte {walk.truncated_at} "
            f"(run still being written or killed); read {walk.records} records"
        )


def read_event_file(path: Path, *, strict: bool = False) -> SourceData:
    """Read every scalar of one TensorBoard event file.

    :param path: an ``events.out.tfevents.*`` file
    :param strict: verify every record's payload CRC and raise on any corrupt record
        (default: verify header CRCs only, skip corrupt records with a warning)
    :returns: kind ``"tensorboard"``; one series per tag, in file order, with wall times
    :raises InputError: the file cannot be read, is not an event file, or (strict) holds a
        corrupt record
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            size = st.st_size
            hole = _first_hole(fh.fileno(), st) if size > NUMPY_THRESHOLD else size
            if hole < size:
                # Writers append; they never leave holes. A sparse file (truncate -s 8G) would
                # make the reader allocate its whole size for zeros: read up to the hole.
                size = hole
                notes = [f"{path}: a hole (unwritten bytes) from byte {hole} on: read the data before it"]
            else:
                notes = []
            if size > NUMPY_THRESHOLD:
                src = _read_numpy(fh, size, path, strict)
                src.warnings[:0] = notes
                return src
            data = fh.read(size)
    except PermissionError as exc:
        raise InputError("permission denied: cannot read it", path) from exc
    except IsADirectoryError as exc:
        raise InputError("is a folder, not an event file", path) from exc
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror or exc})", path) from exc
    src = _read_pure(data, path, strict)
    src.warnings[:0] = notes
    return src


def _first_hole(fd: int, st: os.stat_result, start: int = 0) -> int:
    """Offset of the first hole at or after ``start`` in a sparse file, or its size (no hole,
    or no way to tell). Leaves the file position at ``start``."""
    if st.st_blocks * 512 >= st.st_size:
        return st.st_size  # every byte is on disk: the common case, no system call
    try:
        hole = os.lseek(fd, start, os.SEEK_HOLE)
        os.lseek(fd, start, os.SEEK_SET)
    except (OSError, AttributeError):  # no SEEK_HOLE (macOS < 10.x, some file systems)
        return st.st_size
    return min(hole, st.st_size)


def _read_pure(data: bytes, path: Path, strict: bool) -> SourceData:
    _check_first_record(data, len(data), path)
    warnings: list[str] = []
    sink = _Sink()
    walk = _Walk(data, path, strict, sink, warnings)
    walk.run(0, len(data))
    return _finish(path, sink, walk)


def _finish(path: Path, sink: _Sink, walk: _Walk) -> SourceData:
    _truncation_warning(path, walk)
    if not sink.series:
        walk.warnings.append(f"{path}: no scalar summaries in this event file ({walk.records} records)")
    return _to_source(path, sink, walk.warnings)


# ---------------------------------------------------------------------------------------
# The numpy decoder for big files.

_PAD = 256  # zero bytes after the data, so that fixed-width gathers never go out of bounds
_CHUNK_BYTES = 8 << 20  # candidate search window
_CHUNK_RECORDS = 1 << 17  # records decoded per vectorised batch (keeps temporaries small)
_LUT_LENGTHS = 1 << 16  # header CRCs of lengths below this come from a lookup table


def _padded_read(fh: Any, size: int) -> tuple[bytearray, int]:
    """Read ``size`` bytes into a buffer followed by ``_PAD`` zero bytes (one copy)."""
    # The zero tail lets every gather read a fixed width past a record's end.
    data = bytearray(size + _PAD)
    got = fh.readinto(memoryview(data)[:size]) or 0
    return data, got


def _read_numpy(fh: Any, size: int, path: Path, strict: bool) -> SourceData:
    data, size = _padded_read(fh, size)
    _check_first_record(data, size, path)
    warnings: list[str] = []
    walk = _Walk(data, path, strict, _Sink(), warnings)
    acc, _pos = _walk_numpy(walk, size)
    walk.data = data = bytearray()  # free the file bytes before building the result arrays
    _truncation_warning(path, walk)
    src = SourceData(_KIND, path, warnings=warnings)
    for tag, series in acc.finish().items():
        src.metrics[_tag_name(tag)] = series
    if not src.metrics:
        warnings.append(f"{path}: no scalar summaries in this event file ({walk.records} records)")
    return src


def _walk_numpy(walk: _Walk, size: int) -> tuple[_NpAccumulator, int]:
    """Read the records of ``walk.data[:size]`` (followed by ``_PAD`` zero bytes) with numpy.

    Returns the points, per tag in file order, and the offset reached (as :meth:`_Walk.run`).
    """
    import numpy as np

    data = walk.data
    sink = walk.sink
    buf = np.frombuffer(data, dtype=np.uint8)
    acc = _NpAccumulator(np)

    starts, lengths = _candidate_starts(np, buf, data, size)
    ends = starts + lengths + 16
    # chain[i]: candidate i is followed directly by candidate i+1.
    breaks = np.flatnonzero(ends[:-1] != starts[1:]) if len(starts) > 1 else np.zeros(0, np.int64)
    ncand = len(starts)
    pos = 0
    while pos < size:
        k = int(np.searchsorted(starts, pos))
        if k < ncand and int(starts[k]) == pos:
            b = int(np.searchsorted(breaks, k))
            j = int(breaks[b]) if b < len(breaks) else ncand - 1
            if int(ends[j]) > size:  # the run's last record is incomplete
                j -= 1
            if j >= k:
                _decode_run(np, acc, walk, buf, data, starts[k : j + 1], lengths[k : j + 1])
                pos = int(ends[j])
                continue
            limit = int(ends[k])
        else:
            limit = int(starts[k]) if k < ncand else size
        # Not at a validated start (a record without the usual 0x09 first byte, a
        # corrupt record, the truncated tail): the pure-Python walk takes over.
        pos = walk.run(pos, size, limit)
        acc.flush_sink(sink)
        if walk.truncated_at is not None or walk.lost_sync:
            break
    return acc, pos


def _strided(np: Any, data: bytearray, size: int, dtype: str) -> np.ndarray:
    """An unaligned view where element ``i`` is the value whose first byte is ``data[i]``."""
    item = np.dtype(dtype).itemsize
    return np.ndarray(shape=(size + _PAD - item + 1,), dtype=dtype, buffer=data, strides=(1,))


def _candidate_starts(np: Any, buf: np.ndarray, data: bytearray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of probable record starts and their lengths, in order.

    A candidate has an Event's usual first byte (``0x09``, wall_time) 12 bytes in, a
    length below 4 GiB and a header CRC that matches it: with 32 bits of CRC a random
    offset passes with probability 2**-32, so candidates are the real starts. Records
    that are not candidates are found by the pure-Python walk through the chain gaps.
    """
    u32 = _strided(np, data, size, "<u4")
    u64 = _strided(np, data, size, "<u8")
    lut = np.zeros(_LUT_LENGTHS, dtype=np.uint32)
    known = np.zeros(_LUT_LENGTHS, dtype=bool)
    out_s: list[np.ndarray] = []
    out_l: list[np.ndarray] = []
    last = size - 16  # a start needs at least a header, a 1-byte payload... and its CRC
    for lo in range(0, max(last + 1, 0), _CHUNK_BYTES):
        hi = min(lo + _CHUNK_BYTES, last + 1)
        c = np.flatnonzero(buf[lo + 12 : hi + 12] == 0x09)
        c += lo
        c = c[u32[c + 4] == 0]
        n = u64[c]
        crc = u32[c + 8]
        small = n < _LUT_LENGTHS
        ns = n[small].astype(np.int64)
        missing = np.unique(ns[~known[ns]])
        for length in missing.tolist():
            lut[length] = _length_crc(length)
            known[length] = True
        ok = np.zeros(len(c), dtype=bool)
        ok[small] = lut[ns] == crc[small]
        for i in np.flatnonzero(~small).tolist():
            ok[i] = int(crc[i]) == _length_crc(int(n[i]))
        out_s.append(c[ok].astype(np.int64))
        out_l.append(n[ok].astype(np.int64))
    if not out_s:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_s), np.concatenate(out_l)


def _decode_run(
    np: Any,
    acc: _NpAccumulator,
    walk: _Walk,
    buf: np.ndarray,
    data: bytearray,
    starts: np.ndarray,
    lengths: np.ndarray,
) -> None:
    """Decode a chain of complete records, vectorised where they have SB3's layout."""
    size = len(buf) - _PAD
    f64 = _strided(np, data, size, "<f8")
    f32 = _strided(np, data, size, "<f4")
    u64 = _strided(np, data, size, "<u8")
    u32 = _strided(np, data, size, "<u4")
    for lo in range(0, len(starts), _CHUNK_RECORDS):
        s = starts[lo : lo + _CHUNK_RECORDS]
        n = lengths[lo : lo + _CHUNK_RECORDS]
        p = s + 12
        q = p + n
        walk.records += len(s)
        if walk.strict:
            bad = _payload_crc_np(np, buf, u32, p, n)
            for i in np.flatnonzero(bad).tolist():
                walk.corrupt(int(s[i]), "bad data checksum")
        # One unaligned 64-bit read gives the step's key byte (0x10) and up to 7 varint
        # bytes (steps < 2**49; longer varints take the fallback). The varint ends at the
        # first of those bytes whose high bit is clear.
        w9 = u64[p + 9]
        stop = ~w9 & np.uint64(0x8080808080808000)
        lowbit = stop & (~stop + np.uint64(1))
        vlen = np.frexp(lowbit.astype(np.float64))[1] // 8 - 1  # exact: lowbit is 2**k
        vlen = np.maximum(vlen, 1)  # lowbit == 0 (no stop byte): rejected via `stop` below
        raw = (w9 >> np.uint64(8)) & (
            (np.uint64(1) << (vlen.astype(np.uint64) * np.uint64(8))) - np.uint64(1)
        )
        step = np.zeros(len(s), dtype=np.uint64)
        for k in range(7):
            step |= ((raw >> np.uint64(8 * k)) & np.uint64(0x7F)) << np.uint64(7 * k)
        i = p + 10 + vlen
        # 2a L1 0a L2 0a T, checked as one 48-bit word: L1 = T + 9, L2 = T + 7
        wi = u64[i]
        t64 = (wi >> np.uint64(40)) & np.uint64(0xFF)
        head = (
            np.uint64(0x0A000A002A)
            | ((t64 + np.uint64(9)) << np.uint64(8))
            | ((t64 + np.uint64(7)) << np.uint64(24))
            | (t64 << np.uint64(40))
        )
        t = t64.astype(np.int64)
        t1 = i + 6 + t
        ok = (
            (lowbit != 0)
            & (buf[p] == 0x09)
            & ((w9 & np.uint64(0xFF)) == 0x10)
            & ((wi & np.uint64(0xFFFFFFFFFFFF)) == head)
            & (t < 0x77)
            & (buf[np.minimum(t1, size)] == 0x15)
            & (t1 + 5 == q)
        )
        step = step.view(np.int64)
        slow = np.flatnonzero(~ok)
        fast = np.flatnonzero(ok)
        walls = f64[p[fast] + 1]
        # A signalling NaN (a damaged or hand-made file) widens to a quiet NaN; numpy's
        # 'invalid value' warning would only print noise before the NaN finding.
        with np.errstate(invalid="ignore"):
            values = f32[t1[fast] + 1].astype(np.float64)
        steps = step[fast]
        offsets = s[fast]
        groups = _group_tags(np, u64, i[fast] + 6, t[fast])
        if len(slow):
            sub = _Sink()
            sub.plugins = walk.sink.plugins
            slow_rows: list[tuple[int, bytes, int, float, float]] = []
            for r in slow.tolist():
                off = int(s[r])
                sub.series.clear()
                walk_p, walk_q = int(p[r]), int(q[r])
                try:
                    _decode_event(data, walk_p, walk_q, sub.emit, sub.plugins)
                except _Malformed:
                    walk.malformed(off, walk_p, walk_q)
                    continue
                for tag, (ss, vv, ww) in sub.series.items():
                    slow_rows.extend((off, tag, st, va, wa) for st, va, wa in zip(ss, vv, ww, strict=True))
            acc.add_chunk(groups, steps, values, walls, offsets, data, slow_rows)
        else:
            acc.add_chunk(groups, steps, values, walls, offsets, data, [])


def _payload_crc_np(np: Any, buf: np.ndarray, u32: np.ndarray, p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """True where a record's stored payload CRC does not match, computed column-wise."""
    table = np.array(_CRC_TABLE, dtype=np.uint32)
    bad = np.zeros(len(p), dtype=bool)
    for length in np.unique(n).tolist():
        idx = np.flatnonzero(n == length)
        starts = p[idx]
        crc = np.full(len(idx), 0xFFFFFFFF, dtype=np.uint32)
        for k in range(length):
            crc = table[(crc ^ buf[starts + k]) & 0xFF] ^ (crc >> 8)
        crc ^= np.uint32(0xFFFFFFFF)
        masked = ((crc >> 15) | (crc << 17)) + np.uint32(_MASK_DELTA)
        bad[idx] = masked != u32[starts + length]
    return bad


def _group_tags(np: Any, u64: np.ndarray, t0: np.ndarray, t: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Group records by exact tag bytes: ``[(first_tag_offset, member_indices), ...]``.

    Tags are packed into 64-bit words (bytes past the tag masked off) and hashed. The few
    distinct hashes (SB3 logs ~10 tags) are learnt from a prefix, every record is located
    among them with ``searchsorted``, and a stable radix argsort gathers the members, in
    file order. Every record's words are then compared with its group's first record, so
    a hash collision can never merge two tags.
    """
    m = len(t0)
    if m == 0:
        return []
    nwords = (int(t.max()) + 7) // 8 or 1
    words = []
    h = t.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for w in range(nwords):
        keep = np.clip(t - 8 * w, 0, 8).astype(np.uint64) * np.uint64(8)
        # mask = 2**keep - 1, without shifting by 64 (undefined)
        low = (np.uint64(1) << (keep & np.uint64(63))) - np.uint64(1)
        word = u64[t0 + 8 * w] & np.where(keep >= 64, np.uint64(0xFFFFFFFFFFFFFFFF), low)
        words.append(word)
        h = (h ^ word) * np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(31)
    uniq = np.unique(h[:4096])
    while True:
        gid = np.minimum(np.searchsorted(uniq, h), len(uniq) - 1)
        miss = uniq[gid] != h
        if not miss.any():
            break
        uniq = np.union1d(uniq, h[miss])
    # Small integer keys: numpy's stable argsort is a radix sort then (linear time).
    order = np.argsort(gid.astype(np.uint16) if len(uniq) < 65536 else gid, kind="stable")
    counts = np.bincount(gid, minlength=len(uniq))
    bounds = np.cumsum(counts)[:-1]
    firsts = order[np.concatenate([[0], bounds])]
    same = t == t[firsts][gid]
    for word in words:
        same &= word == word[firsts][gid]
    groups = list(zip(firsts.tolist(), np.split(order, bounds), strict=True))
    if same.all():
        return [(int(t0[first]), members) for first, members in groups]
    # A 64-bit hash collision (practically never): split the affected groups exactly.
    exact: list[tuple[int, np.ndarray]] = []
    for first, members in groups:
        if same[members].all():
            exact.append((int(t0[first]), members))
            continue
        keys: dict[bytes, list[int]] = {}
        for r in members.tolist():
            key = b"".join(int(word[r]).to_bytes(8, "little") for word in words) + bytes([int(t[r])])
            keys.setdefault(key, []).append(r)
        exact.extend((int(t0[v[0]]), np.array(v, dtype=np.int64)) for v in keys.values())
    return exact


def _raw(a: Any) -> memoryview:
    """The bytes of a contiguous numpy array, without a copy."""
    return memoryview(a).cast("B")


class _NpAccumulator:
    """Per-tag lists of array pieces, appended in file order and joined at the end."""

    def __init__(self, np: Any) -> None:
        self.np = np
        self.pieces: dict[bytes, list[tuple[Any, Any, Any]]] = {}

    def _put(self, tag: bytes, steps: Any, values: Any, walls: Any) -> None:
        self.pieces.setdefault(tag, []).append((steps, values, walls))

    def flush_sink(self, sink: _Sink) -> None:
        """Move the points the pure-Python walk collected into the pieces."""
        np = self.np
        for tag, (s, v, w) in sink.series.items():
            if len(s):
                self._put(
                    tag,
                    np.frombuffer(s, np.int64).copy(),
                    np.frombuffer(v, np.float64).copy(),
                    np.frombuffer(w, np.float64).copy(),
                )
        sink.series.clear()

    def add_chunk(
        self,
        groups: list[tuple[int, Any]],
        steps: Any,
        values: Any,
        walls: Any,
        offsets: Any,
        data: bytearray,
        slow_rows: list[tuple[int, bytes, int, float, float]],
    ) -> None:
        """Add one vectorised batch; ``slow_rows`` (offset, tag, ...) are merged in by offset."""
        np = self.np
        by_tag: dict[bytes, list[tuple[Any, Any, Any, Any]]] = {}
        for tag_off, members in groups:
            tlen = data[tag_off - 1]
            tag = bytes(data[tag_off : tag_off + tlen])
            by_tag.setdefault(tag, []).append(
                (offsets[members], steps[members], values[members], walls[members])
            )
        for off, tag, st, va, wa in slow_rows:
            by_tag.setdefault(tag, []).append(
                (np.array([off], np.int64), np.array([st], np.int64), np.array([va]), np.array([wa]))
            )
        for tag, parts in by_tag.items():
            if len(parts) == 1:
                _o, s, v, w = parts[0]
            else:
                o = np.concatenate([x[0] for x in parts])
                order = np.argsort(o, kind="stable")
                s = np.concatenate([x[1] for x in parts])[order]
                v = np.concatenate([x[2] for x in parts])[order]
                w = np.concatenate([x[3] for x in parts])[order]
            self._put(tag, s, v, w)

    def finish(self) -> dict[bytes, Series]:
        """Join the pieces into one :class:`Series` per tag."""
        np = self.np
        out: dict[bytes, Series] = {}
        for tag in list(self.pieces):
            parts = self.pieces.pop(tag)
            series = Series()
            for s, v, w in parts:
                series.steps.frombytes(_raw(np.ascontiguousarray(s, dtype=np.int64)))
                series.values.frombytes(_raw(np.ascontiguousarray(v, dtype=np.float64)))
                series.wall_times.frombytes(_raw(np.ascontiguousarray(w, dtype=np.float64)))
            out[tag] = series
        return out


# ---------------------------------------------------------------------------------------
# Incremental reading for `sb3doctor watch`.


class EventFileTail:
    """Follow an event file that is still being written, reading only appended bytes.

    Each :meth:`poll` reads from the end of the last complete record seen so far to the
    current end of the file, and returns the scalars of the records completed since the
    previous poll. A record cut by the writer (or by the file system between two
    ``write()`` calls) is left for the next poll, never misread. The cost of a poll is
    proportional to the bytes appended (plus the unread part of an incomplete record).

    >>> tail = EventFileTail(path)          # doctest: +SKIP
    >>> new = tail.poll()                   # all scalars so far
    >>> more = tail.poll()                  # only those written since

    The file is checked to be an event file on the first poll that sees a complete
    header; an empty file (the writer has not flushed yet) gives an empty result. If the
    file shrinks (replaced or rewritten), reading restarts from its beginning with a
    warning.
    """

    def __init__(self, path: str | Path, *, strict: bool = False) -> None:
        self.path = Path(path)
        self.strict = strict
        #: offset of the first byte not yet consumed (start of a record)
        self.offset = 0
        #: complete records read so far
        self.records = 0
        self._sink = _Sink()  # keeps the tag -> plugin map across polls
        self._checked = False
        self._lost_sync = False
        self._hole_warned = False

    def poll(self) -> SourceData:
        """Scalars of the records completed since the last poll (kind ``"tensorboard"``).

        A first poll on a big existing file (more than :data:`NUMPY_THRESHOLD` new bytes)
        uses the numpy decoder; small increments use the pure-Python one.

        :raises InputError: the file cannot be read or is not an event file (or, with
            ``strict``, holds a corrupt record)
        """
        warnings: list[str] = []
        try:
            with open(self.path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size < self.offset:
                    warnings.append(
                        f"{self.path}: file shrank from {self.offset} to {size} bytes; reading it again"
                    )
                    self.offset = 0
                    self.records = 0
                    self._checked = False
                    self._lost_sync = False
                    self._sink.plugins.clear()
                fh.seek(self.offset)
                if size - self.offset > NUMPY_THRESHOLD:
                    st = os.fstat(fh.fileno())
                    hole = _first_hole(fh.fileno(), st, self.offset)
                    if hole < size:
                        # As read_event_file: never allocate gigabytes of unwritten zeros.
                        if not self._hole_warned:
                            warnings.append(
                                f"{self.path}: a hole (unwritten bytes) from byte {hole} on: "
                                "read the data before it"
                            )
                            self._hole_warned = True
                        size = hole
                big = size - self.offset > NUMPY_THRESHOLD
                data: Any
                if big:
                    data, nbytes = _padded_read(fh, size - self.offset)
                else:
                    data = fh.read(size - self.offset)
                    nbytes = len(data)
        except PermissionError as exc:
            raise InputError("permission denied: cannot read it", self.path) from exc
        except OSError as exc:
            raise InputError(f"cannot read it ({exc.strerror or exc})", self.path) from exc
        sink = self._sink
        sink.series = {}
        if not self._checked and self.offset == 0:
            if nbytes < 12:
                return SourceData(_KIND, self.path, warnings=warnings)
            n, c = _unpack_header(data, 0)
            if nbytes >= 12 + n + 4 or c != _length_crc(n):
                _check_first_record(data, nbytes, self.path)
                self._checked = True
        walk = _Walk(data, self.path, self.strict, sink, warnings)
        walk.final = False
        walk.base = self.offset
        walk.lost_sync = self._lost_sync
        src = SourceData(_KIND, self.path, warnings=warnings)
        if big:
            acc, consumed = _walk_numpy(walk, nbytes)
            for tag, series in acc.finish().items():
                src.metrics[_tag_name(tag)] = series
        else:
            consumed = walk.run(0, nbytes)
            src = _to_source(self.path, sink, warnings)
        self._lost_sync = walk.lost_sync
        self.offset += consumed
        self.records += walk.records
        return src
