"""Safetensors fixtures for tests/serialize_spec.lua, and a checker for files Lucid writes.

The `safetensors` Python package is not needed: the format is implemented here
by hand (struct + json + numpy bytes), as an implementation of the spec
independent of lua/lucid/serialize.lua:

    8 bytes   little-endian unsigned header length N
    N bytes   JSON object {name: {"dtype", "shape", "data_offsets": [begin, end]},
              "__metadata__": {str: str}}; offsets count from the byte after
              the header; the reference writer pads the header with spaces
    data      every tensor contiguous, row-major, little-endian

Usage (Debian's Python, which has torch and numpy):

    /usr/bin/python3 scripts/gen_fixtures_serialize.py
        writes tests/fixtures/interop.safetensors (F32 and F64 tensors, among
        them a 0-d and two empty ones) and tests/fixtures/dtypes.safetensors
        (the other dtypes torch and numpy know: integers, bool, F16, BF16).
        The values are listed in EXPECTED below and asserted in the spec.
        The output is deterministic: rerunning leaves the files unchanged.

    /usr/bin/python3 scripts/gen_fixtures_serialize.py --check PATH
        reads PATH (a file lucid.save wrote), asserts that it follows the
        format strictly (and Lucid's own conventions: header padded to 8
        bytes, names sorted, "format": "pt" metadata, every tensor aligned to
        its element size, the data tiled exactly), loads every tensor into
        torch, and prints one JSON object to stdout:
            {"metadata": {...}, "tensors": {name: {"dtype": "F32",
             "shape": [...], "values": [flat row-major values]}}}
        Non-finite values print as the strings "nan", "inf", "-inf". The exit
        status is 0 when every assertion holds.
"""

import json
import math
import struct
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "tests" / "fixtures"

NUMPY_DTYPE = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
ITEMSIZE = {name: dt.itemsize for name, dt in NUMPY_DTYPE.items()}
ITEMSIZE["BF16"] = 2


def tensor_bytes(t):
    """The little-endian bytes of a torch tensor, and its safetensors dtype."""
    t = t.contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: take the raw 16 bits
        return t.view(torch.int16).numpy().astype("<i2").tobytes(), "BF16"
    name = {
        torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
        torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
        torch.uint8: "U8", torch.bool: "BOOL",
    }[t.dtype]
    return t.numpy().astype(NUMPY_DTYPE[name]).tobytes(), name


def write_safetensors(path, tensors, metadata=None):
    """tensors: a list of (name, torch tensor or (numpy array, dtype name)), written
    in that order (not sorted: a reader must not rely on the order)."""
    header = OrderedDict()
    if metadata is not None:
        header["__metadata__"] = metadata
    chunks, offset = [], 0
    for name, t in tensors:
        if isinstance(t, tuple):
            arr, dtype = t
            data, shape = arr.astype(NUMPY_DTYPE[dtype]).tobytes(), list(arr.shape)
        else:
            (data, dtype), shape = tensor_bytes(t), list(t.shape)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # as the reference implementation pads
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


# The fixtures' contents. The spec asserts the same values (as Lua numbers).
def interop_tensors():
    f32_tricky = torch.tensor([0.1, -0.0, math.inf, -math.inf, 3.4028234663852886e38,
                               1.401298464324817e-45, -2.5], dtype=torch.float32)
    return [
        # deliberately neither sorted nor grouped by dtype
        ("weight", (torch.arange(6, dtype=torch.float32) * 0.5 - 1.25).reshape(2, 3)),
        ("scalar", torch.tensor(math.pi, dtype=torch.float64)),
        ("empty", torch.zeros(0, dtype=torch.float32)),
        ("third", torch.tensor([1 / 3, -2 / 3, 1e-300, 2.0 ** 60], dtype=torch.float64)),
        ("empty2d", torch.zeros(2, 0, dtype=torch.float64)),
        ("block.0.bias", torch.tensor([[[1.0], [2.0]], [[3.0], [4.0]]], dtype=torch.float32)),
        ("f32_tricky", f32_tricky),
    ]


def dtypes_tensors():
    return [
        ("i64", torch.tensor([-(2 ** 40), -1, 0, 7], dtype=torch.int64)),
        ("i32", torch.tensor([-2147483648, 2147483647], dtype=torch.int32)),
        ("i16", torch.tensor([[-32768], [32767]], dtype=torch.int16)),
        ("i8", torch.tensor([-128, 127, 0], dtype=torch.int8)),
        ("u8", torch.tensor([0, 255], dtype=torch.uint8)),
        ("u16", (np.array([65535, 1]), "U16")),
        ("u32", (np.array([4294967295, 2]), "U32")),
        ("u64", (np.array([18446744073709551615, 5], dtype=np.uint64), "U64")),
        ("bool", torch.tensor([True, False, True])),
        ("f16", torch.tensor([1.0, -2.5, 65504.0, 2.0 ** -24, math.inf, -0.0, 0.099975586],
                             dtype=torch.float16)),
        ("bf16", torch.tensor([1.0, -3.140625, 2.0 ** -130, -math.inf], dtype=torch.bfloat16)),
    ]


def generate():
    FIXTURES.mkdir(parents=True, exist_ok=True)
    write_safetensors(FIXTURES / "interop.safetensors", interop_tensors(),
                      {"format": "pt", "source": "scripts/gen_fixtures_serialize.py"})
    write_safetensors(FIXTURES / "dtypes.safetensors", dtypes_tensors())
    print("wrote", FIXTURES / "interop.safetensors", "and", FIXTURES / "dtypes.safetensors")


# ---------------------------------------------------------------------------
# --check

def fail(msg):
    print("gen_fixtures_serialize.py --check: " + msg, file=sys.stderr)
    sys.exit(1)


def json_value(x):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def check(path):
    raw = Path(path).read_bytes()
    if len(raw) < 8:
        fail("file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        fail("header length %d larger than the file" % n)
    if (8 + n) % 8 != 0:
        fail("header not padded to a multiple of 8 bytes (length %d)" % n)
    text = raw[8:8 + n].decode("utf-8")
    if not text.startswith("{"):
        fail("header does not start with '{'")

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            fail("duplicate keys in the header")
        return OrderedDict(pairs)

    header = json.loads(text, object_pairs_hook=no_duplicates)
    if not isinstance(header, dict):
        fail("header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        fail("__metadata__ must map strings to strings")
    if metadata.get("format") != "pt":
        fail('__metadata__ lacks "format": "pt"')
    if "lucid.layout" in metadata:
        json.loads(metadata["lucid.layout"])  # must itself be JSON
    names = list(header)
    if names != sorted(names):
        fail("tensor names are not sorted in the header: %r" % names)

    data = raw[8 + n:]
    spans, out = [], OrderedDict()
    for name, info in header.items():
        if set(info) != {"dtype", "shape", "data_offsets"}:
            fail("tensor %r: unexpected fields %r" % (name, sorted(info)))
        dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in ("F32", "F64"):
            fail("tensor %r: Lucid writes F32 or F64, not %s" % (name, dtype))
        size = ITEMSIZE[dtype]
        numel = math.prod(shape)
        if end - begin != numel * size:
            fail("tensor %r: offsets [%d, %d] do not hold shape %r of %s" % (name, begin, end, shape, dtype))
        if begin % size != 0:
            fail("tensor %r: offset %d not aligned to %d bytes" % (name, begin, size))
        spans.append((begin, end, name))
        arr = np.frombuffer(data[begin:end], dtype=NUMPY_DTYPE[dtype]).reshape(shape)
        t = torch.from_numpy(arr.copy())
        assert t.dtype == (torch.float32 if dtype == "F32" else torch.float64)
        assert list(t.shape) == shape
        out[name] = {"dtype": dtype, "shape": shape,
                     "values": [json_value(float(v)) for v in t.reshape(-1).tolist()]}
    expected = 0
    for begin, end, name in sorted(spans):
        if begin != expected:
            fail("tensor %r starts at %d, expected %d (overlap or gap)" % (name, begin, expected))
        expected = end
    if expected != len(data):
        fail("%d bytes of data, the tensors cover %d" % (len(data), expected))
    print(json.dumps({"metadata": metadata, "tensors": out}, allow_nan=False))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    elif len(sys.argv) == 1:
        generate()
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
