"""Generate tests/fixtures/reduce.lua: PyTorch reference values for Lucid's
reduction ops (prod, var, std, max, min, argmax, argmin, logsumexp, norm,
softmax, log_softmax, cumsum).

Run from anywhere with Debian's PyTorch (1.13):

    /usr/bin/python3 scripts/gen_fixtures_reduce.py

Deterministic (fixed seed, float64 everywhere): rerunning leaves the file
unchanged. Random data is continuous, so it has no ties; the cases that test
ties (max/min/argmax/norm inf) write their data out by hand.

The format is described in HEADER below (it is copied into the generated
file). Each case says how to call the op in Lua (``args``: positional
arguments in Lua conventions, ``kwargs``: the trailing table of PyTorch's
names) and, separately, how PyTorch computes it, so the Lua side checks the
argument parsing as much as the numbers.
"""

import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_lua as lua  # noqa: E402
from fixture_lua import DTYPE, lua_dim  # noqa: E402

SEED = 20240611
MAX_ELEMENTS = 60

OUT_PATH = lua.FIXTURES / "reduce.lua"

torch.manual_seed(SEED)
torch.set_default_dtype(DTYPE)
DRAW = lua.Draws(SEED)
randn = DRAW.randn
INF = math.inf
NAN = math.nan


def positive(*shape):
    """Values in [0.5, 1.5), so a product of many stays moderate."""
    return DRAW.rand(*shape) + 0.5


def T(data):
    return torch.tensor(data, dtype=DTYPE)


# ----------------------------------------------------------------------------
# Lua serialisation

def fmt_num(x):
    return lua.fmt_num(x, nonfinite=True)  # inf is math.huge, NaN 0/0


def fmt_tensor(t, indent):
    if t.dtype == torch.int64:  # argmax / argmin
        t = t.to(DTYPE)
    return lua.fmt_tensor(t, indent, MAX_ELEMENTS, num=fmt_num)


def fmt_lua(v):
    """Lua literal: ints, floats, bools, strings, lists, dicts (name keys)."""
    return lua.fmt_lua(v, num=fmt_num)


# ----------------------------------------------------------------------------
# cases

CASES = []


def case(name, op, x, fn, args=(), kwargs=None, transpose=None, grad=True,
         no_f32=False, expect=None):
    """One case. ``fn`` computes the op in PyTorch on the (maybe transposed)
    input and returns a tensor or (values, indices). ``transpose`` = (d0, d1)
    in Lua dims: both sides transpose the leaf before the op, so the op sees
    a non-contiguous view. ``grad`` = False for ops without a gradient."""
    assert all(c["name"] != name for c in CASES), "duplicate name " + name
    leaf = x.detach().clone().requires_grad_(grad)
    v = leaf
    if transpose is not None:
        v = leaf.transpose(transpose[0] - 1, transpose[1] - 1)
        assert not v.is_contiguous() or v.numel() <= 1, name
    res = fn(v)
    indices = None
    if isinstance(res, tuple):
        res, indices = res
        indices = indices + 1  # Lua's indices count from 1
    if expect is not None:
        assert tuple(res.shape) == tuple(expect), (name, res.shape, expect)
    c = {"name": name, "op": op, "input": leaf.detach(), "args": list(args),
         "kwargs": kwargs, "transpose": transpose, "output": res.detach(),
         "indices": indices, "no_f32": no_f32}
    if res.dtype == torch.int64:  # argmax / argmin: 1-based, no gradient
        c["output"] = res + 1
        grad = False
    if grad:
        seed = randn(*res.shape)
        res.backward(seed)
        assert leaf.grad is not None and leaf.grad.shape == leaf.shape, name
        c["seed"] = seed
        c["grad"] = leaf.grad
    CASES.append(c)


def alldims(x):
    return tuple(range(x.dim()))


def build():
    x234 = lambda: randn(2, 3, 4)

    # --- the dim forms every reduction shares: (Lua args, kwargs, torch dim, keepdim)
    dim_forms = [
        ("dim 1", [1], None, 0, False),
        ("dim 2 keepdim", [2, True], None, 1, True),
        ("dim -1", [-1], None, -1, False),
        ("table dim 3 keepdim", [], {"dim": 3, "keepdim": True}, 2, True),
        ("dim -3 keepdim false", [-3, False], None, -3, False),
    ]

    # --- prod ----------------------------------------------------------------
    case("prod all (2,3,4)", "prod", positive(2, 3, 4), lambda x: x.prod(), expect=())
    for label, args, kw, d, k in dim_forms:
        case("prod %s (2,3,4)" % label, "prod", positive(2, 3, 4),
             lambda x, d=d, k=k: x.prod(d, keepdim=k), args, kw)
    case("prod all transposed (3,4)", "prod", positive(3, 4), lambda x: x.prod(),
         transpose=(1, 2))
    case("prod dim 1 transposed (3,4)", "prod", positive(3, 4),
         lambda x: x.prod(0), [1], transpose=(1, 2))
    case("prod dim 2 transposed 3-d (2,3,4) t(1,3)", "prod", positive(2, 3, 4),
         lambda x: x.prod(1), [2], transpose=(1, 3))
    case("prod all one zero", "prod", T([[1.5, 0.0, 2.0], [0.5, -3.0, 1.25]]),
         lambda x: x.prod())
    case("prod all two zeros", "prod", T([[1.5, 0.0, 2.0], [0.5, 0.0, 1.25]]),
         lambda x: x.prod())
    case("prod dim 2 zeros per row", "prod",
         T([[1.5, 0.0, 2.0, 3.0], [0.0, 0.0, 1.25, 2.0], [1.0, 2.0, 3.0, 0.5]]),
         lambda x: x.prod(1), [2])
    case("prod dim 1 zeros per column", "prod",
         T([[1.5, 0.0, 2.0, 3.0], [0.0, 0.0, 1.25, 2.0], [1.0, 2.0, 3.0, 0.5]]),
         lambda x: x.prod(0), [1])
    case("prod 0-d", "prod", T(1.75), lambda x: x.prod())
    case("prod 0-d dim 1", "prod", T(1.75), lambda x: x.prod(0), [1])
    case("prod empty dim 1 (0,3)", "prod", torch.zeros(0, 3),
         lambda x: x.prod(0), [1], expect=(3,))
    case("prod empty all (0,)", "prod", torch.zeros(0), lambda x: x.prod())

    # --- var, std ------------------------------------------------------------------
    for op in ("var", "std"):
        f = getattr(torch, op)
        case("%s all (2,3,4)" % op, op, x234(), lambda x, f=f: f(x))
        case("%s all unbiased false" % op, op, x234(),
             lambda x, f=f: f(x, unbiased=False), [False])
        case("%s dim 2" % op, op, x234(), lambda x, f=f: f(x, 1), [2])
        case("%s dim 2 unbiased false keepdim" % op, op, x234(),
             lambda x, f=f: f(x, 1, unbiased=False, keepdim=True), [2, False, True])
        case("%s dim -1 unbiased true" % op, op, x234(),
             lambda x, f=f: f(x, -1, unbiased=True), [-1, True])
        case("%s table dim 1 unbiased false keepdim" % op, op, x234(),
             lambda x, f=f: f(x, 0, unbiased=False, keepdim=True), [],
             {"dim": 1, "unbiased": False, "keepdim": True})
        case("%s table dim 3 correction 0" % op, op, x234(),
             lambda x, f=f: f(x, 2, correction=0), [], {"dim": 3, "correction": 0})
        case("%s dim 1 table correction 2" % op, op, x234(),
             lambda x, f=f: f(x, 0, correction=2), [1], {"correction": 2})
        case("%s all table correction 2" % op, op, x234(),
             lambda x, f=f: f(x, alldims(x), correction=2), [], {"correction": 2})
        case("%s dim 1 transposed (3,4)" % op, op, randn(3, 4),
             lambda x, f=f: f(x, 0), [1], transpose=(1, 2))
        case("%s all transposed (3,4)" % op, op, randn(3, 4),
             lambda x, f=f: f(x), [], transpose=(1, 2))
        case("%s dim 2 of size 1 is nan" % op, op, randn(3, 1),
             lambda x, f=f: f(x, 1), [2])
        case("%s 0-d population" % op, op, T(0.75),
             lambda x, f=f: f(x, unbiased=False), [False])
        case("%s empty dim 1 (0,3)" % op, op, torch.zeros(0, 3),
             lambda x, f=f: f(x, 0), [1], expect=(3,))
    case("std dim 2 constant row has zero gradient", "std",
         T([[1.0, 1.0, 1.0], [2.0, 3.0, 4.5]]), lambda x: x.std(1), [2])

    # --- max, min -----------------------------------------------------------------
    for op in ("max", "min"):
        f = getattr(torch, op)
        case("%s all (2,3,4)" % op, op, x234(), lambda x, f=f: f(x))
        for label, args, kw, d, k in dim_forms:
            case("%s %s (2,3,4)" % (op, label), op, x234(),
                 lambda x, f=f, d=d, k=k: tuple(f(x, d, keepdim=k)), args, kw)
        case("%s dim 1 transposed (3,4)" % op, op, randn(3, 4),
             lambda x, f=f: tuple(f(x, 0)), [1], transpose=(1, 2))
        case("%s dim 2 transposed (3,4)" % op, op, randn(3, 4),
             lambda x, f=f: tuple(f(x, 1)), [2], transpose=(1, 2))
        case("%s all transposed (3,4)" % op, op, randn(3, 4),
             lambda x, f=f: f(x), [], transpose=(1, 2))
        ties = T([[1.0, 3.0, 3.0, -2.0], [-2.0, -2.0, 0.5, 3.0], [3.0, -2.0, 0.0, 3.0]])
        case("%s all ties share the gradient" % op, op, ties, lambda x, f=f: f(x))
        case("%s dim 2 ties take the first" % op, op, ties,
             lambda x, f=f: tuple(f(x, 1)), [2])
        case("%s dim 1 ties take the first" % op, op, ties,
             lambda x, f=f: tuple(f(x, 0)), [1])
        nans = T([[1.0, NAN, 2.0], [0.5, -1.0, NAN]])
        case("%s dim 2 nan wins" % op, op, nans, lambda x, f=f: tuple(f(x, 1)), [2])
        case("%s 0-d" % op, op, T(-0.5), lambda x, f=f: f(x))
        case("%s 0-d dim -1" % op, op, T(-0.5), lambda x, f=f: tuple(f(x, -1)), [-1])
        case("%s empty other dim (0,3) dim 2" % op, op, torch.zeros(0, 3),
             lambda x, f=f: tuple(f(x, 1)), [2], expect=(0,))

    # --- argmax, argmin --------------------------------------------------------------
    for op in ("argmax", "argmin"):
        f = getattr(torch, op)
        case("%s all (2,3,4)" % op, op, x234(), lambda x, f=f: f(x))
        for label, args, kw, d, k in dim_forms:
            case("%s %s (2,3,4)" % (op, label), op, x234(),
                 lambda x, f=f, d=d, k=k: f(x, d, keepdim=k), args, kw)
        case("%s all keepdim" % op, op, randn(3, 4),
             lambda x, f=f: f(x, keepdim=True), [], {"keepdim": True})
        case("%s dim 1 transposed (3,4)" % op, op, randn(3, 4),
             lambda x, f=f: f(x, 0), [1], transpose=(1, 2))
        case("%s all transposed (3,4)" % op, op, randn(3, 4),
             lambda x, f=f: f(x), [], transpose=(1, 2))
        ties = T([[1.0, 3.0, 3.0, -2.0], [-2.0, -2.0, 0.5, 3.0], [3.0, -2.0, 0.0, 3.0]])
        case("%s all ties take the first" % op, op, ties, lambda x, f=f: f(x))
        case("%s dim 2 ties take the first" % op, op, ties, lambda x, f=f: f(x, 1), [2])
        case("%s 0-d" % op, op, T(2.0), lambda x, f=f: f(x))

    # --- logsumexp ----------------------------------------------------------------------
    case("logsumexp all (2,3,4)", "logsumexp", x234(),
         lambda x: torch.logsumexp(x, alldims(x)))
    for label, args, kw, d, k in dim_forms:
        case("logsumexp %s (2,3,4)" % label, "logsumexp", x234(),
             lambda x, d=d, k=k: torch.logsumexp(x, d, keepdim=k), args, kw)
    case("logsumexp dim 1 transposed (3,4)", "logsumexp", randn(3, 4),
         lambda x: torch.logsumexp(x, 0), [1], transpose=(1, 2))
    case("logsumexp large values are stable", "logsumexp",
         T([[1000.0, 1001.0, 999.5], [-1000.0, -1002.0, -999.0]]),
         lambda x: torch.logsumexp(x, 1), [2], no_f32=True)
    case("logsumexp with -inf", "logsumexp", T([[-INF, 0.5, 1.0], [2.0, -INF, -1.0]]),
         lambda x: torch.logsumexp(x, 1), [2])
    case("logsumexp 0-d dim 1", "logsumexp", T(0.25), lambda x: torch.logsumexp(x, 0), [1])
    case("logsumexp empty dim 1 (0,3) is -inf", "logsumexp", torch.zeros(0, 3),
         lambda x: torch.logsumexp(x, 0), [1], expect=(3,))

    # --- norm ---------------------------------------------------------------------------
    case("norm all default p (2,3,4)", "norm", x234(), lambda x: x.norm())
    case("norm all fro", "norm", x234(), lambda x: x.norm("fro"), ["fro"])
    case("norm all p 1", "norm", x234(), lambda x: x.norm(1), [1])
    case("norm all p inf", "norm", x234(), lambda x: x.norm(INF), [INF])
    case("norm all p 0.5", "norm", x234(), lambda x: x.norm(0.5), [0.5])
    case("norm dim 2 p 2", "norm", x234(), lambda x: x.norm(2, 1), [2, 2])
    case("norm dim -1 p 1 keepdim", "norm", x234(),
         lambda x: x.norm(1, -1, keepdim=True), [1, -1, True])
    case("norm dim 1 p 3", "norm", x234(), lambda x: x.norm(3, 0), [3, 1])
    case("norm dim 3 p 1.5", "norm", x234(), lambda x: x.norm(1.5, 2), [1.5, 3])
    case("norm dim 2 p inf", "norm", x234(), lambda x: x.norm(INF, 1), [INF, 2])
    case("norm dim 2 p 0.5", "norm", x234(), lambda x: x.norm(0.5, 1), [0.5, 2])
    case("norm table p 2 dim -1 keepdim", "norm", x234(),
         lambda x: x.norm(2, -1, keepdim=True), [], {"p": 2, "dim": -1, "keepdim": True})
    case("norm table dim 1 (default p)", "norm", x234(),
         lambda x: x.norm(dim=0), [], {"dim": 1})
    case("norm dim 1 transposed (3,4)", "norm", randn(3, 4),
         lambda x: x.norm(2, 0), [2, 1], transpose=(1, 2))
    case("norm all p 3 transposed (3,4)", "norm", randn(3, 4),
         lambda x: x.norm(3), [3], transpose=(1, 2))
    zrow = T([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])
    case("norm p 2 of zeros has zero gradient", "norm", zrow, lambda x: x.norm(2, 1), [2, 2])
    case("norm p 2 all zeros has zero gradient", "norm", torch.zeros(2, 3), lambda x: x.norm())
    case("norm p 3 of zeros has zero gradient", "norm", zrow, lambda x: x.norm(3, 1), [3, 2])
    case("norm p 1.5 of zeros has zero gradient", "norm", zrow,
         lambda x: x.norm(1.5, 1), [1.5, 2])
    case("norm p 1 at zero elements", "norm", zrow, lambda x: x.norm(1, 1), [1, 2])
    case("norm p 0.5 with a zero element", "norm", T([[0.0, 2.0, -0.5], [1.0, -2.0, 0.5]]),
         lambda x: x.norm(0.5, 1), [0.5, 2])
    case("norm p inf ties share the gradient", "norm",
         T([[1.0, -3.0, 3.0, 2.0], [-2.0, 2.0, 0.5, -1.0]]), lambda x: x.norm(INF, 1), [INF, 2])
    case("norm p inf all ties", "norm", T([[1.0, -3.0, 3.0], [2.0, -2.0, 3.0]]),
         lambda x: x.norm(INF), [INF])
    case("norm 0-d", "norm", T(-1.5), lambda x: x.norm())
    case("norm empty dim 2 (2,0) is 0", "norm", torch.zeros(2, 0),
         lambda x: x.norm(2, 1), [2, 2], expect=(2,))

    # --- softmax, log_softmax --------------------------------------------------------------
    for op in ("softmax", "log_softmax"):
        f = getattr(torch, op)
        for d in (0, 1, -1):
            case("%s dim %d (2,3,4)" % (op, lua_dim(d)), op, x234(),
                 lambda x, f=f, d=d: f(x, d), [lua_dim(d)])
        case("%s table dim 2 (2,3,4)" % op, op, x234(), lambda x, f=f: f(x, 1), [],
             {"dim": 2})
        case("%s dim 1 (5,)" % op, op, randn(5), lambda x, f=f: f(x, 0), [1])
        case("%s dim 2 transposed (3,4)" % op, op, randn(3, 4),
             lambda x, f=f: f(x, 1), [2], transpose=(1, 2))
        case("%s dim 1 transposed (3,4)" % op, op, randn(3, 4),
             lambda x, f=f: f(x, 0), [1], transpose=(1, 2))
        case("%s dim 3 transposed 3-d (2,3,4) t(1,3)" % op, op, x234(),
             lambda x, f=f: f(x, 2), [3], transpose=(1, 3))
        case("%s large values are stable" % op, op,
             T([[1000.0, 1001.0, 999.5], [-1000.0, -1002.0, -999.0]]),
             lambda x, f=f: f(x, 1), [2], no_f32=True)
        case("%s with -inf" % op, op, T([[-INF, 0.5, 1.0], [2.0, -INF, -1.0]]),
             lambda x, f=f: f(x, 1), [2])
        case("%s 0-d" % op, op, T(0.3), lambda x, f=f: f(x, 0), [1])
        case("%s empty (0,3) dim 1" % op, op, torch.zeros(0, 3),
             lambda x, f=f: f(x, 0), [1], expect=(0, 3))

    # --- cumsum ---------------------------------------------------------------------------
    for d in (0, 1, 2, -1):
        case("cumsum dim %d (2,3,4)" % lua_dim(d), "cumsum", x234(),
             lambda x, d=d: x.cumsum(d), [lua_dim(d)])
    case("cumsum table dim 2 (2,3,4)", "cumsum", x234(), lambda x: x.cumsum(1), [],
         {"dim": 2})
    case("cumsum dim 1 (5,)", "cumsum", randn(5), lambda x: x.cumsum(0), [1])
    case("cumsum dim 1 transposed (3,4)", "cumsum", randn(3, 4),
         lambda x: x.cumsum(0), [1], transpose=(1, 2))
    case("cumsum dim 2 transposed (3,4)", "cumsum", randn(3, 4),
         lambda x: x.cumsum(1), [2], transpose=(1, 2))
    case("cumsum 0-d", "cumsum", T(0.3), lambda x: x.cumsum(0), [1])
    case("cumsum empty (2,0) dim 2", "cumsum", torch.zeros(2, 0), lambda x: x.cumsum(1), [2])


# ----------------------------------------------------------------------------
# output

HEADER = """\
-- Generated by scripts/gen_fixtures_reduce.py (PyTorch 1.13, float64). Do not
-- edit by hand; regenerate with: /usr/bin/python3 scripts/gen_fixtures_reduce.py
--
-- tensor: {shape = {...}, data = {flat row-major values}} (0-d: shape = {});
--   inf is math.huge, NaN is 0/0.
-- cases[i]: {
--   name, op       -- op is the Lua name: lucid[op](x, ...) and x:op(...)
--   input = T      -- the leaf (requires_grad when the op has a gradient)
--   transpose = {d0, d1} or nil
--                  -- when set, the op gets leaf:transpose(d0, d1), a
--                  -- non-contiguous view; the gradient is still the leaf's
--   args = {...}   -- positional arguments after the tensor, Lua conventions
--                  -- (1-based dims, negative dims unchanged, p = math.huge)
--   kwargs = {...} or nil   -- a trailing table of PyTorch's argument names
--   output = T     -- the (first) result; for argmax/argmin the 1-based indices
--   indices = T or nil      -- max/min over a dim: the second result, 1-based
--   seed = T, grad = T      -- grad is d(sum(output * seed))/d input; both
--                  -- absent for argmax/argmin, which have no gradient
--   no_f32 = true or nil    -- skip in the float32 pass (inputs that float32
--                  -- cannot hold closely enough, e.g. 1000 + small values)
-- }
"""


def write(lines):
    lines.append("  cases = {")
    for c in CASES:
        lines.append("    {")
        lines.append("      name = %s," % fmt_lua(c["name"]))
        lines.append("      op = %s," % fmt_lua(c["op"]))
        lines.append("      input = %s," % fmt_tensor(c["input"], 6))
        if c["transpose"] is not None:
            lines.append("      transpose = %s," % fmt_lua(list(c["transpose"])))
        lines.append("      args = %s," % fmt_lua(c["args"]))
        if c["kwargs"] is not None:
            lines.append("      kwargs = %s," % fmt_lua(c["kwargs"]))
        lines.append("      output = %s," % fmt_tensor(c["output"], 6))
        if c["indices"] is not None:
            lines.append("      indices = %s," % fmt_tensor(c["indices"], 6))
        if "seed" in c:
            lines.append("      seed = %s," % fmt_tensor(c["seed"], 6))
            lines.append("      grad = %s," % fmt_tensor(c["grad"], 6))
        if c["no_f32"]:
            lines.append("      no_f32 = true,")
        lines.append("    },")
    lines.append("  },")


def self_check():
    ops = {c["op"] for c in CASES}
    assert ops == {"prod", "var", "std", "max", "min", "argmax", "argmin", "logsumexp",
                   "norm", "softmax", "log_softmax", "cumsum", "amax", "amin"}, ops
    for c in CASES:
        if "seed" in c:
            assert c["seed"].shape == c["output"].shape, c["name"]
            assert c["grad"].shape == c["input"].shape, c["name"]
        if c["indices"] is not None:
            assert c["indices"].shape == c["output"].shape, c["name"]


def build_amax():
    """amax and amin: max and min without indices, ties sharing the
    gradient. Added last, so the draws of the cases above are unchanged."""
    dim_forms = [("dim 1", [1], None, 0, False), ("dim 2 keepdim", [2, True], None, 1, True),
                 ("dim -1", [-1], None, -1, False),
                 ("table dim 3 keepdim", [], {"dim": 3, "keepdim": True}, 2, True)]
    ties = T([[1.0, 3.0, 3.0, -2.0], [-2.0, -2.0, 0.5, 3.0], [3.0, -2.0, 0.0, 3.0]])
    for op in ("amax", "amin"):
        f = getattr(torch, op)
        case("%s all (2,3,4)" % op, op, randn(2, 3, 4), lambda x, f=f: f(x))
        for label, args, kw, d, k in dim_forms:
            case("%s %s (2,3,4)" % (op, label), op, randn(2, 3, 4),
                 lambda x, f=f, d=d, k=k: f(x, d, keepdim=k), args, kw)
        case("%s dim 1 transposed (3,4)" % op, op, randn(3, 4),
             lambda x, f=f: f(x, 0), [1], transpose=(1, 2))
        case("%s all ties share the gradient" % op, op, ties, lambda x, f=f: f(x))
        case("%s dim 2 ties share the gradient" % op, op, ties, lambda x, f=f: f(x, 1), [2])
        case("%s dim 1 ties share the gradient" % op, op, ties, lambda x, f=f: f(x, 0), [1])
        case("%s 0-d" % op, op, T(-0.5), lambda x, f=f: f(x))


def main():
    build()
    build_amax()
    self_check()
    body = []
    write(body)
    lua.write_chunk(OUT_PATH, HEADER, body, "%d cases" % len(CASES))


if __name__ == "__main__":
    main()
