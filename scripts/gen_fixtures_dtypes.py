"""Generate tests/fixtures/dtypes.lua: PyTorch's answers for Lucid's integer
and bool dtypes (int64, int32, uint8, bool beside float32, float64): type
promotion of the binary ops, integer wrapping, integer division and its
signs, reductions of integer tensors, and the conversions between dtypes.

Run from anywhere with Debian's PyTorch 1.13 (the ``python3`` first on PATH
may lack torch):

    /usr/bin/python3 scripts/gen_fixtures_dtypes.py

Only needed to regenerate the checked-in fixture; the specs do not need
Python. Deterministic (no random data, all values written out by hand):
rerunning leaves the file unchanged.

PyTorch's default dtype stays float32 here (Lucid's default), since it
decides the result of an integer tensor with a float number (int + 2.5).
Every value is written in its own dtype's Lua form (integers as integer
literals, floats with %.17g, bools as true/false); the format is in HEADER,
which is copied into the generated file.

What PyTorch 1.13 does not do, and how the cases stand in for it:
  * ``mean`` of an integer or bool tensor raises there ("could not infer
    output dtype"); Lucid's contract is NumPy's (the default float dtype),
    so those cases record ``torch.mean(t, dtype=torch.float32)``.
  * ``maximum`` takes no Python number; the number form records
    ``torch.maximum(t, torch.tensor(n))`` (a 0-d int64 or default-float
    tensor, which promotes as the number does: checked against
    ``torch.result_type(t, n)``).
  * ``argmax``/``argmin`` of a bool tensor are not implemented ("argmax_cpu"
    not implemented for 'Bool'): no case, rather than a required error.
  * ``frac``, ``hypot`` and ``logaddexp`` of integer or bool tensors raise
    there ("not implemented for 'Long'"); Lucid computes them in the default
    float dtype, as every other float op of integers, so the cases record
    the op of the tensors converted to float32.
  * ``heaviside`` takes no Python number: the number form records
    ``torch.heaviside(t, torch.tensor(n, dtype=t.dtype))`` (checked to be
    the dtype ``torch.result_type(t, n)`` gives).
Every other PyTorch error (sub or neg of bools, integer division by zero,
floor_divide/remainder/fmod of two bools) is a case with ``error = true``.
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_lua as lua  # noqa: E402

OUT_PATH = lua.FIXTURES / "dtypes.lua"

assert torch.get_default_dtype() == torch.float32

DTYPES = ["float32", "float64", "int64", "int32", "uint8", "bool"]
TORCH = {"float32": torch.float32, "float64": torch.float64,
         "int64": torch.int64, "int32": torch.int32,
         "uint8": torch.uint8, "bool": torch.bool}
NAME = {v: k for k, v in TORCH.items()}
FLOATS = ("float32", "float64")
INTS = ("int64", "int32", "uint8", "bool")  # the "integer pairs" (bool too)

NAN, INF = float("nan"), float("inf")
I64_MAX, I64_MIN = 2 ** 63 - 1, -2 ** 63
I32_MAX, I32_MIN = 2 ** 31 - 1, -2 ** 31
BIG = 2 ** 53  # integers past this are not exact in a double (5.1, LuaJIT)


# ----------------------------------------------------------------------------
# the promotion table's values (valid in every dtype of their kind)

def kind(dtype):
    if dtype in FLOATS:
        return "float"
    return {"int64": "signed", "int32": "signed"}.get(dtype, dtype)


# left operand a, right operand b: ties at position 3 for eq, lt, maximum;
# b has no zero, so the integer divisions have answers (division by zero has
# its own cases)
A = {"float": [-7.0, 0.5, 3.0], "signed": [-7, 0, 3], "uint8": [7, 0, 3],
     "bool": [True, False, True]}
B = {"float": [2.0, -1.5, 3.0], "signed": [2, -3, 3], "uint8": [2, 5, 3],
     "bool": [True, False, True]}
# div, floor_divide, remainder, fmod divide by a bool b of all true
B_DIVISOR_BOOL = [True, True, True]
# the 0-d right operand
ZERODIM = {"float": 2.5, "signed": -2, "uint8": 2, "bool": True}
NUMBERS = [2, 2.5]  # Lua numbers: lucid.add(t, 2), lucid.add(t, 2.5)
COND = [True, False, True]  # where's condition

BINARY = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
    "eq": torch.eq, "lt": torch.lt, "maximum": torch.maximum,
    "floor_divide": torch.floor_divide, "remainder": torch.remainder,
    "fmod": torch.fmod,
}
DIVISIONS = ("div", "floor_divide", "remainder", "fmod")
ALL_PAIRS_OPS = ["add", "sub", "mul", "div", "eq", "lt", "where", "maximum"]
INT_PAIRS_OPS = ["floor_divide", "remainder", "fmod"]


def tensor(values, dtype):
    return torch.tensor(values, dtype=TORCH[dtype])


def a_values(dtype):
    return A[kind(dtype)]


def b_values(dtype, op):
    if dtype == "bool" and op in DIVISIONS:
        return B_DIVISOR_BOOL
    return B[kind(dtype)]


# ----------------------------------------------------------------------------
# cases

PROMOTION = []
EDGES = []


def run(fn, operands):
    """PyTorch's result tensor (or boolean: allclose, equal), or None where
    it raises."""
    try:
        out = fn(*operands)
    except (RuntimeError, TypeError, ZeroDivisionError):
        return None
    assert isinstance(out, (torch.Tensor, bool))
    return out


def add_case(into, name, op, form, inputs, fn, args=(), operands=None,
             expect_dtype=None, post=None):
    """Run ``fn`` on ``operands`` (default: the inputs) and record the case.
    ``inputs`` are what the Lua side passes (tensors and numbers, in order),
    ``args`` trailing Lua arguments (to's dtype name); ``expect_dtype`` a
    torch dtype the result must have (checked); ``post`` maps PyTorch's
    result to the recorded one (argmax's 1-based indices)."""
    assert all(c["name"] != name for c in PROMOTION + EDGES), "duplicate " + name
    out = run(fn, inputs if operands is None else operands)
    entry = {"name": name, "op": op, "form": form, "inputs": list(inputs),
             "args": list(args), "out": None}
    if isinstance(out, bool):
        entry["out"] = out
    elif out is not None:
        if expect_dtype is not None:
            assert out.dtype == expect_dtype, (name, out.dtype, expect_dtype)
        assert out.dim() <= 1, name
        entry["out"] = post(out) if post else out
    into.append(entry)


def promotion_case(op, form, a, b, name):
    cond = tensor(COND, "bool")
    if op == "where":
        add_case(PROMOTION, name, op, form, [cond, a, b], torch.where)
        return
    fn, operands, expect = BINARY[op], None, None
    if op == "maximum" and form == "number":
        # torch.maximum takes no number: a 0-d tensor that promotes like it
        operands = [a, torch.tensor(b)]
        expect = None if run(fn, operands) is None else torch.result_type(a, b)
    add_case(PROMOTION, name, op, form, [a, b], fn, operands=operands,
             expect_dtype=expect)


def build_promotion():
    for op in ALL_PAIRS_OPS + INT_PAIRS_OPS:
        pairs_of = INTS if op in INT_PAIRS_OPS else DTYPES
        # tensor op tensor (same shape)
        for da in pairs_of:
            for db in pairs_of:
                promotion_case(op, "tensor", tensor(a_values(da), da),
                               tensor(b_values(db, op), db),
                               "%s %s %s" % (op, da, db))
        # 1-D tensor op 0-d tensor
        for da in pairs_of:
            for db in pairs_of:
                promotion_case(op, "zerodim", tensor(a_values(da), da),
                               tensor(ZERODIM[kind(db)], db),
                               "%s %s zerodim %s" % (op, da, db))
        # tensor op Lua number
        for da in pairs_of:
            for n in NUMBERS:
                if op in INT_PAIRS_OPS and isinstance(n, float):
                    continue  # an integer op: the integer number only
                promotion_case(op, "number", tensor(a_values(da), da), n,
                               "%s %s number %s" % (op, da, n))


def binary_edge(op, da, av, bv, name, db=None):
    """A tensor-tensor case (b in db, default da) or, with bv a number, a
    tensor-number case."""
    a = tensor(av, da)
    if isinstance(bv, (int, float)):
        add_case(EDGES, name, op, "number", [a, bv], BINARY[op])
    else:
        add_case(EDGES, name, op, "tensor", [a, tensor(bv, db or da)], BINARY[op])


def unary_edge(op, t, fn, name, args=(), expect_dtype=None, post=None):
    add_case(EDGES, name, op, "unary", [t], fn, args=args,
             expect_dtype=expect_dtype, post=post)


def build_wrapping():
    binary_edge("add", "int64", [I64_MAX, I64_MIN, 5], [1, -1, 1],
                "add int64 wraps at max and min")
    binary_edge("sub", "int64", [I64_MIN, I64_MAX], [1, -1], "sub int64 wraps")
    binary_edge("mul", "int64", [2 ** 62, 3037000500, -(2 ** 62)], [2, 3037000500, 4],
                "mul int64 wraps")
    binary_edge("add", "int64", [I64_MAX, 2 ** 53], 1, "add int64 number wraps")
    binary_edge("add", "int32", [I32_MAX, I32_MIN, 5], [1, -1, 1],
                "add int32 wraps at max and min")
    binary_edge("mul", "int32", [I32_MAX, 65536, -65536], [2, 65536, 65536],
                "mul int32 wraps")
    binary_edge("add", "int32", [I32_MAX, 0], 1, "add int32 number wraps")
    binary_edge("mul", "int32", [I32_MAX, -3], 2, "mul int32 number wraps")
    binary_edge("add", "uint8", [250, 255, 3], [10, 1, 4], "add uint8 wraps")
    binary_edge("sub", "uint8", [0, 5, 9], [1, 10, 4], "sub uint8 wraps below 0")
    binary_edge("mul", "uint8", [16, 200, 3], [16, 2, 5], "mul uint8 wraps")
    binary_edge("add", "uint8", [255, 250], 10, "add uint8 number wraps")
    binary_edge("sub", "uint8", [0, 1], 1, "sub uint8 number wraps")
    for dtype, values in (("int64", [I64_MIN, I64_MAX, 0, -5]),
                          ("int32", [I32_MIN, I32_MAX, 0, -5]),
                          ("uint8", [1, 0, 255, 128]),
                          ("float32", [1.5, -0.0, 0.0, -2.0]),
                          ("bool", [True, False])):
        unary_edge("neg", tensor(values, dtype), torch.neg, "neg %s" % dtype)
    # int64 past 2^53: exact on 5.3+, where a double would round
    binary_edge("add", "int64", [2 ** 53, 2 ** 62 + 3, I64_MIN, 2 ** 53 + 1],
                [1, 1, 1, -1], "add int64 past 2^53")
    binary_edge("sub", "int64", [2 ** 53 + 1, 2 ** 62 + 3], [2 ** 53, 2 ** 62],
                "sub int64 past 2^53")
    binary_edge("eq", "int64", [2 ** 53 + 1, 2 ** 62 + 3], [2 ** 53, 2 ** 62 + 3],
                "eq int64 past 2^53")
    binary_edge("lt", "int64", [2 ** 53, 2 ** 62 + 2], [2 ** 53 + 1, 2 ** 62 + 3],
                "lt int64 past 2^53")


def build_division():
    num = [-7, 7, -7, 7, -6, 6, 0, 5]
    den = [-2, -2, 2, 2, 3, -3, 5, 7]
    for op in ("floor_divide", "remainder", "fmod"):
        for dtype in ("int64", "int32", "float32", "float64"):
            binary_edge(op, dtype, num, den, "%s %s signs" % (op, dtype))
        binary_edge(op, "float32", [-7.5, 7.5, -7.5, 7.5], [2.0, 2.0, -2.0, -2.0],
                    "%s float32 fractional signs" % op)
        binary_edge(op, "uint8", [7, 250, 0, 255], [2, 7, 3, 16], "%s uint8" % op)
        binary_edge(op, "int64", [-7, 7, 0], -2, "%s int64 by number -2" % op)
        binary_edge(op, "int64", [-7, 7, 0], 2, "%s int64 by number 2" % op)
        # by zero: an error in the integers, inf or NaN in the floats
        for dtype in ("int64", "int32", "uint8"):
            binary_edge(op, dtype, [1, 2], [1, 0], "%s %s by zero" % (op, dtype))
        binary_edge(op, "int64", [1, 2], 0, "%s int64 by number 0" % op)
        binary_edge(op, "float32", [1.0, -1.0, 0.0], [0.0, 0.0, 0.0],
                    "%s float32 by zero" % op)
    # true division of integers: float32 (the default float dtype)
    for dtype in ("int64", "int32"):
        binary_edge("div", dtype, [7, -7, 1, 0, 6], [2, 2, 3, 5, -4],
                    "div %s gives float32" % dtype)
    binary_edge("div", "uint8", [7, 1, 255], [2, 3, 4], "div uint8 gives float32")
    binary_edge("div", "bool", [True, False], [True, True], "div bool gives float32")
    binary_edge("div", "int64", [7, -7, 1], 2, "div int64 by number 2")
    binary_edge("div", "int64", [1, -1, 0], [0, 0, 0], "div int64 by zero")
    binary_edge("div", "int64", [2 ** 53 + 1, -(2 ** 62)], [1, 2],
                "div int64 past 2^53")


def build_reductions():
    i64 = torch.int64
    for name, values, dtype in (
            ("sum int32 (no wrap)", [1, -2, 3, I32_MAX], "int32"),
            ("sum uint8 (no wrap)", [200, 100, 255], "uint8"),
            ("sum bool counts", [True, False, True, True], "bool"),
            ("sum int64", [5, -3, 7], "int64"),
            ("sum int64 wraps", [2 ** 62, 2 ** 62], "int64")):
        unary_edge("sum", tensor(values, dtype), torch.sum, name, expect_dtype=i64)
    for name, values, dtype in (
            ("prod int32 (no wrap)", [65536, 65536, 3], "int32"),
            ("prod uint8 (no wrap)", [16, 16, 2], "uint8"),
            ("prod bool all true", [True, True, True], "bool"),
            ("prod bool one false", [True, False, True], "bool"),
            ("prod int64", [-3, 4, 5], "int64"),
            ("prod int64 wraps to 0", [2 ** 32, 2 ** 32], "int64")):
        unary_edge("prod", tensor(values, dtype), torch.prod, name, expect_dtype=i64)
    for name, values, dtype in (("mean int32", [1, 2, 4], "int32"),
                                ("mean int64", [1, 2], "int64"),
                                ("mean uint8", [255, 254, 1], "uint8"),
                                ("mean bool", [True, False, False, True], "bool")):
        unary_edge("mean", tensor(values, dtype),
                   lambda t: torch.mean(t, dtype=torch.float32), name,
                   expect_dtype=torch.float32)
    for dtype, values in (("int64", [3, -7, 5, 5, -7]),
                          ("int32", [3, -7, 5, 5, -7]),
                          ("uint8", [7, 255, 0, 255, 0]),
                          ("bool", [False, True, False]),
                          ("float32", [1.5, -2.5, 4.0, 4.0, -2.5])):
        t = tensor(values, dtype)
        for op in ("max", "min", "amax", "amin"):
            unary_edge(op, t, getattr(torch, op), "%s %s" % (op, dtype),
                       expect_dtype=TORCH[dtype])
        if dtype != "bool":  # "argmax_cpu" not implemented for 'Bool'
            for op in ("argmax", "argmin"):  # ties: the first
                unary_edge(op, t, getattr(torch, op), "%s %s" % (op, dtype),
                           expect_dtype=i64, post=lambda r: r + 1)
    # past 2^53: 2^53 + 1 and 2^53 are one double, not one int64
    big = tensor([2 ** 53, 2 ** 53 + 1, 2 ** 62 + 3, 2 ** 62 + 1], "int64")
    for op in ("max", "min", "amax", "amin"):
        unary_edge(op, big, getattr(torch, op), "%s int64 past 2^53" % op,
                   expect_dtype=i64)
    for op in ("argmax", "argmin"):
        unary_edge(op, tensor([2 ** 53, 2 ** 53 + 1, 2 ** 53 - 1], "int64"),
                   getattr(torch, op), "%s int64 past 2^53" % op,
                   expect_dtype=i64, post=lambda r: r + 1)
    unary_edge("sum", tensor([2 ** 53, 1, 1], "int64"), torch.sum,
               "sum int64 past 2^53", expect_dtype=i64)


def conversion_sources(src, dst):
    """The values converted from src to dst (what C defines: no float out of
    an integer dtype's range)."""
    if src in FLOATS:
        if dst == "uint8":
            return [0.0, 0.5, 0.7, 1.7, 2.5, 100.9, 255.5]
        base = [-1.7, -0.5, -0.0, 0.0, 0.5, 1.7, 2.5, -100.9]
        if dst == "bool" or dst in FLOATS:
            base = base + [NAN, INF, -INF]
        if dst in FLOATS:
            base = base + [0.1, 16777217.0, 1e300, -1e-300]
        if dst == "int32":
            base = base + [2147483520.0]
        return base
    if src == "int64":
        return [-1, 0, 1, 127, 128, 255, 256, -129, 2 ** 31, -(2 ** 31) - 1,
                16777217, 2 ** 32 + 7]
    if src == "int32":
        return [-1, 0, 1, 255, 256, -129, 16777217, I32_MAX, I32_MIN]
    if src == "uint8":
        return [0, 1, 127, 128, 255]
    return [True, False]


def build_conversions():
    for src in DTYPES:
        for dst in DTYPES:
            t = tensor(conversion_sources(src, dst), src)
            unary_edge("to", t, lambda x, d=dst: x.to(TORCH[d]),
                       "to %s from %s" % (dst, src), args=[dst],
                       expect_dtype=TORCH[dst])
    big = tensor([2 ** 53 + 1, 2 ** 62 + 3, I64_MIN, I64_MAX, -(2 ** 53) - 3], "int64")
    for dst in DTYPES:
        unary_edge("to", big, lambda x, d=dst: x.to(TORCH[d]),
                   "to %s from int64 past 2^53" % dst, args=[dst],
                   expect_dtype=TORCH[dst])


# ----------------------------------------------------------------------------
# Lua serialisation

def fmt_int(v):
    """An integer literal that reads back exactly on 5.3+ (-2^63 has no
    literal: 9223372036854775808 would read as a float)."""
    assert I64_MIN <= v <= I64_MAX, v
    if v == I64_MIN:
        return "(-9223372036854775807 - 1)"
    return "%d" % v


def fmt_value(v, dtype):
    if dtype == "bool":
        return "true" if v else "false"
    if dtype in FLOATS:
        return lua.fmt_num(v, nonfinite=True)
    return fmt_int(int(v))


def fmt_tensor(t):
    dtype = NAME[t.dtype]
    assert t.dim() <= 1
    values = t.reshape(-1).tolist()
    shape = "{" + ", ".join(str(d) for d in t.shape) + "}"
    return '{dtype = "%s", shape = %s, data = {%s}}' % (
        dtype, shape, ", ".join(fmt_value(v, dtype) for v in values))


def fmt_input(x):
    if isinstance(x, torch.Tensor):
        return fmt_tensor(x)
    if isinstance(x, bool):
        raise TypeError(x)
    if isinstance(x, int):
        return fmt_int(x)
    assert x != int(x), x  # a whole float would read back as an integer
    return lua.fmt_num(x)


def is_big(entry):
    """Whether an integer value (of an integer dtype, or an integer number)
    is past 2^53 in magnitude: not exact as a double."""
    for x in entry["inputs"] + ([entry["out"]] if entry["out"] is not None else []):
        if isinstance(x, bool):
            continue
        if isinstance(x, torch.Tensor):
            if x.dtype in (torch.int64, torch.int32, torch.uint8):
                if any(abs(v) > BIG for v in x.reshape(-1).tolist()):
                    return True
        elif isinstance(x, int) and abs(x) > BIG:
            return True
    return False


def write_cases(lines, key, cases):
    lines.append("  %s = {" % key)
    for c in cases:
        lines.append("    {")
        lines.append("      name = %s, op = %s, form = %s," % (
            lua.fmt_lua(c["name"]), lua.fmt_lua(c["op"]), lua.fmt_lua(c["form"])))
        lines.append("      inputs = {")
        for x in c["inputs"]:
            lines.append("        %s," % fmt_input(x))
        lines.append("      },")
        if c["args"]:
            lines.append("      args = %s," % lua.fmt_lua(c["args"]))
        if c["out"] is None:
            lines.append("      error = true,")
        elif isinstance(c["out"], bool):
            lines.append("      out = %s," % lua.fmt_lua(c["out"]))
        else:
            lines.append("      out = %s," % fmt_tensor(c["out"]))
        if is_big(c):
            lines.append("      big = true,")
        lines.append("    },")
    lines.append("  },")


HEADER = """\
-- Generated by scripts/gen_fixtures_dtypes.py (PyTorch 1.13, default dtype
-- float32). Do not edit by hand; regenerate with:
--   /usr/bin/python3 scripts/gen_fixtures_dtypes.py
--
-- tensor: {dtype = "int64", shape = {n} or {} (0-d), data = {flat values}}
--   values in their dtype's Lua form: integers as integer literals (-2^63 as
--   (-9223372036854775807 - 1)), floats with %.17g (0/0 is NaN, math.huge,
--   -math.huge, -1 / math.huge is -0.0), bools as true/false.
-- dtypes: the six dtype names.
-- promotion[i], edges[i]: {name, op, form, inputs = {...}, args = {...},
--                          out = tensor | error = true, big = true}
--   form "tensor": lucid.<op>(inputs..., args...), two tensors of one shape;
--        "zerodim": the same with inputs[2] a 0-d tensor;
--        "number": inputs[2] is a Lua number (2 or 2.5);
--        "unary": inputs[1]:<op>(args...) (neg, sum, prod, mean, max, min,
--          amax, amin, argmax, argmin, to).
--   op "where": lucid.where(inputs[1], inputs[2], inputs[3]) (inputs[1] the
--     bool condition; inputs[3] a tensor, a 0-d tensor or a number by form).
--   out: PyTorch's result, its dtype and values; argmax/argmin indices are
--     1-based (PyTorch's + 1); a Lua boolean for allclose and equal.
--     error = true: PyTorch raises.
--   big = true: an integer value is past 2^53 in magnitude (exact only with
--     Lua 5.3+'s integers; elsewhere the literals read as rounded doubles).
--   mean of integer and bool tensors: PyTorch 1.13 raises; the values are
--     torch.mean(t, dtype=torch.float32), Lucid's contract (as NumPy).
--   maximum with a number: PyTorch's maximum with a 0-d tensor that
--     promotes as the number does; heaviside with a number: with a 0-d
--     tensor of the tensor's dtype (the one the number promotes to).
--   frac, hypot, logaddexp of integer or bool tensors: PyTorch 1.13 raises;
--     the values are the op of the tensors as float32 (Lucid computes every
--     float op of integers in the default float dtype).
"""


def self_check():
    names = [c["name"] for c in PROMOTION + EDGES]
    assert len(set(names)) == len(names)
    ops = {c["op"] for c in PROMOTION + EDGES}
    for op in ALL_PAIRS_OPS + INT_PAIRS_OPS + ["neg", "sum", "prod", "mean", "max",
                                                 "min", "amax", "amin", "argmax",
                                                 "argmin", "to"]:
        assert op in ops, op
    for c in PROMOTION:
        assert c["form"] in ("tensor", "zerodim", "number"), c["name"]


FLOAT_UNARY = ["tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
               "erf", "erfc", "erfinv", "lgamma", "digamma", "exp2", "log2", "log10",
               "logit", "frac"]
AS_FLOAT = {"frac", "hypot", "logaddexp"}  # PyTorch raises for integers: see above


def as_float(fn):
    """fn of its arguments as float32 tensors (Lucid's contract where
    PyTorch 1.13 raises; a number becomes a 0-d tensor, which promotes as
    the number would)."""
    return lambda *ts: fn(*[torch.as_tensor(t).to(torch.float32) for t in ts])


def build_new_ops():
    """The ops added with the special functions, heaviside, the bitwise ops
    and the predicates, on integer and bool tensors. Last, like every
    addition."""
    f32 = torch.float32
    for op in FLOAT_UNARY:
        fn = getattr(torch, op)
        if op in AS_FLOAT:
            fn = as_float(fn)
        for dtype, values in (("int64", [-2, 0, 1, 3]), ("uint8", [0, 1, 2, 200]),
                              ("bool", [True, False])):
            unary_edge(op, tensor(values, dtype), fn, "%s %s" % (op, dtype),
                       expect_dtype=f32)
    # trunc and nan_to_num keep integers (trunc refuses bool, as floor does)
    for dtype, values in (("int64", [I64_MIN, -5, 0, I64_MAX]), ("int32", [I32_MIN, 7]),
                          ("uint8", [0, 255]), ("bool", [True, False])):
        t = tensor(values, dtype)
        unary_edge("trunc", t, torch.trunc, "trunc %s" % dtype)
        unary_edge("nan_to_num", t, torch.nan_to_num, "nan_to_num %s" % dtype)
        unary_edge("isfinite", t, torch.isfinite, "isfinite %s" % dtype,
                   expect_dtype=torch.bool)
        unary_edge("bitwise_not", t, torch.bitwise_not, "bitwise_not %s" % dtype)
    unary_edge("nan_to_num", tensor([3, -4], "int64"), lambda t: torch.nan_to_num(t, 1.0, 2.0, 3.0),
               "nan_to_num int64 with values", args=[1.0, 2.0, 3.0])
    unary_edge("bitwise_not", tensor([1.5, -2.0], "float32"), torch.bitwise_not,
               "bitwise_not float32")

    # binary ops of integers: copysign and xlogy compute in float32 (as
    # PyTorch), hypot and logaddexp too (PyTorch raises), heaviside keeps
    # the dtype and wants one dtype of two tensors
    for op in ("copysign", "xlogy", "hypot", "logaddexp"):
        fn = getattr(torch, op)
        if op in AS_FLOAT:
            fn = as_float(fn)
        for dtype in ("int64", "uint8", "bool"):
            a, b = tensor(a_values(dtype), dtype), tensor(b_values(dtype, op), dtype)
            add_case(EDGES, "%s %s" % (op, dtype), op, "tensor", [a, b], fn,
                     expect_dtype=f32)
        add_case(EDGES, "%s int64 number 2" % op, op, "number", [tensor([-3, 0, 4], "int64"), 2],
                 fn, expect_dtype=f32)
    for dtype in INTS:
        a = tensor(a_values(dtype), dtype)
        add_case(EDGES, "heaviside %s" % dtype, "heaviside", "tensor",
                 [a, tensor(b_values(dtype, "heaviside"), dtype)], torch.heaviside,
                 expect_dtype=TORCH[dtype])
    assert torch.result_type(tensor([1], "int64"), 5) == torch.int64
    add_case(EDGES, "heaviside int64 number 5", "heaviside", "number",
             [tensor([-3, 0, 4], "int64"), 5], torch.heaviside,
             operands=[tensor([-3, 0, 4], "int64"), torch.tensor(5)], expect_dtype=torch.int64)
    add_case(EDGES, "heaviside int64 int32", "heaviside", "tensor",
             [tensor([1, 0], "int64"), tensor([2, 3], "int32")], torch.heaviside)
    add_case(EDGES, "heaviside float32 float64", "heaviside", "tensor",
             [tensor([1.5, 0.0], "float32"), tensor([2.5, 3.5], "float64")], torch.heaviside)

    # bitwise ops: every pair of integer and bool dtypes (promoted), numbers,
    # and floats refused
    for op in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        fn = getattr(torch, op)
        for da in INTS:
            for db in INTS:
                add_case(EDGES, "%s %s %s" % (op, da, db), op, "tensor",
                         [tensor(a_values(da), da), tensor(b_values(db, op), db)], fn)
        add_case(EDGES, "%s int64 signs" % op, op, "tensor",
                 [tensor([-7, 7, I64_MIN, -1], "int64"), tensor([5, -5, -1, I64_MAX], "int64")], fn)
        add_case(EDGES, "%s uint8 number -1" % op, op, "number", [tensor([5, 250], "uint8"), -1],
                 fn)
        add_case(EDGES, "%s bool number 3" % op, op, "number", [tensor([True, False], "bool"), 3],
                 fn)
        add_case(EDGES, "%s int64 number 2.5" % op, op, "number", [tensor([1, 2], "int64"), 2.5],
                 fn)
        add_case(EDGES, "%s float32" % op, op, "tensor",
                 [tensor([1.0, 2.0], "float32"), tensor([3.0, 4.0], "float32")], fn)

    # isclose, allclose, equal of integers: tolerances in the default float
    # dtype, exact equality when both are 0; one dtype (isclose)
    big_a, big_b = tensor([BIG + 1, 5], "int64"), tensor([BIG, 5], "int64")
    for name, a, b, args in (
            ("int64 defaults", tensor([1, 100000, -3], "int64"), tensor([1, 100001, 3], "int64"), []),
            ("int64 atol 2.5", tensor([1, 100000, -3], "int64"), tensor([1, 100001, 3], "int64"),
             [0.0, 2.5]),
            ("uint8 atol 2.5", tensor([3, 5, 0], "uint8"), tensor([5, 3, 200], "uint8"), [0.0, 2.5]),
            ("bool atol 1.5", tensor([True, False], "bool"), tensor([False, False], "bool"),
             [0.0, 1.5]),
            ("int64 past 2^53 exact", big_a, big_b, [0.0, 0.0]),
            ("int64 past 2^53 rtol", big_a, big_b, [1e-5, 0.0])):
        add_case(EDGES, "isclose " + name, "isclose", "tensor", [a, b],
                 lambda x, y, args=args: torch.isclose(x, y, *args), args=args)
        add_case(EDGES, "allclose " + name, "allclose", "tensor", [a, b],
                 lambda x, y, args=args: torch.allclose(x, y, *args), args=args)
    add_case(EDGES, "isclose int64 float32", "isclose", "tensor",
             [tensor([1, 2], "int64"), tensor([1.0, 2.0], "float32")], torch.isclose)
    add_case(EDGES, "isclose int32 int64", "isclose", "tensor",
             [tensor([1, 2], "int32"), tensor([1, 2], "int64")], torch.isclose)
    for name, a, b in (("int64 float32", tensor([1, 2], "int64"), tensor([1.0, 2.0], "float32")),
                       ("bool int64", tensor([True, False], "bool"), tensor([1, 0], "int64")),
                       ("uint8 int32 not", tensor([1, 255], "uint8"), tensor([1, -1], "int32")),
                       ("int64 past 2^53", big_a, big_b)):
        add_case(EDGES, "equal " + name, "equal", "tensor", [a, b], torch.equal)


def main():
    build_promotion()
    build_wrapping()
    build_division()
    build_reductions()
    build_conversions()
    build_new_ops()
    self_check()
    body = ["  dtypes = {%s}," % ", ".join('"%s"' % d for d in DTYPES)]
    write_cases(body, "promotion", PROMOTION)
    write_cases(body, "edges", EDGES)
    n_err = sum(c["out"] is None for c in PROMOTION + EDGES)
    n_big = sum(is_big(c) for c in PROMOTION + EDGES)
    lua.write_chunk(OUT_PATH, HEADER, body,
                    "%d promotion cases, %d edge cases, %d errors, %d big" % (
                        len(PROMOTION), len(EDGES), n_err, n_big))


if __name__ == "__main__":
    main()
