"""Generate tests/fixtures/elementwise.lua: PyTorch reference values for the
elementwise ops of Lucid (unary math and activations, clamp, isnan/isinf,
maximum/minimum/atan2, comparisons, where, the dtype conversion to, log,
division, logic; trigonometric, hyperbolic and special functions, logit,
nan_to_num, hypot, copysign, xlogy, logaddexp, heaviside, isclose, allclose,
equal).

Run from anywhere with Debian's PyTorch 1.13 (the ``python3`` first on PATH
may lack torch):

    /usr/bin/python3 scripts/gen_fixtures_elementwise.py

Only needed to regenerate the checked-in fixture; the specs do not need
Python. Deterministic (fixed seed, float64 everywhere): rerunning leaves the
file unchanged.

The format is core_ops.lua's (see scripts/gen_fixtures.py), with these
additions, also described in the generated file's header:
  * numbers may be ``0/0`` (NaN), ``math.huge`` or ``-math.huge``;
  * ``transpose = {i, ...}``: input i is stored transposed; the spec makes
    the leaf from the stored (2-D) values and passes ``leaf:transpose(1, 2)``
    (a non-contiguous view) to the op. grads[i] is the stored leaf's grad.
  * ``expand = {[i] = {sizes}}``: the op gets ``leaf:expand(sizes)`` (0
    strides); grads[i] is the leaf's grad.
  * ``requires_grad = false``: the output records no graph (masks, where of
    constants); there is then no seed and every grad is false.
  * ``f32 = false``: the entry is skipped by the float32 pass (values whose
    float32 rounding changes the answer by more than its tolerance).
  * ``in_dtype = "float32"`` or ``"float64"``: the inputs are made in that
    dtype, and the entry runs only in that dtype's pass (the dtype changes
    of ``to``); their values (float32 ones exactly representable) are
    written as float64 like all the others, and grads[i] is in in_dtype.
  * ``out_dtype = "..."``: the output, and so the seed, has this dtype
    instead of the inputs' (``to``); the seed's values are exact in it.
  * ``output = true`` or ``false``: the op answers with a Lua boolean
    (allclose, equal), and records nothing.
  * op names: a plain name is ``lucid.<op>(inputs..., args...)`` (where is
    ``lucid.where(inputs[1], inputs[2], inputs[3])``); ``<op>_scalar`` is
    ``lucid.<op>(inputs[1], args[1])`` and ``r<op>_scalar`` is
    ``lucid.<op>(args[1], inputs[1])``; ``where_scalar_a`` / ``_b`` replace
    where's a / b by args[1].
Masks are written as float64 1.0/0.0 (Lucid has no bool dtype: its masks
have the input's dtype). A where condition is a float tensor; PyTorch gets
``cond != 0``.
"""

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_lua as lua  # noqa: E402
from fixture_lua import DTYPE, shp  # noqa: E402

SEED = 20240611
MAX_ELEMENTS = 60

OUT_PATH = lua.FIXTURES / "elementwise.lua"

torch.set_default_dtype(DTYPE)

NAN, INF = float("nan"), float("inf")
# every unary op also runs over these (kinks, signed zeros, NaN, infinities)
SPECIALS = [NAN, -INF, INF, -0.0, 0.0, -2.5, -1.0, 0.5, 1.5, 3.0]


# ----------------------------------------------------------------------------
# random data (all drawn from GEN, in a fixed order)

DRAW = lua.Draws(SEED)
GEN = DRAW.gen
randn, uniform = DRAW.randn, DRAW.uniform
positive = DRAW.positive  # away from sqrt's and rsqrt's pole at 0
nonzero = DRAW.nonzero  # for reciprocal


def small_ints(lo, hi, *shape):
    """Whole numbers in [lo, hi] as float64: ties for comparisons and maximum."""
    return torch.randint(lo, hi + 1, shape, generator=GEN).to(DTYPE)


def with_zeros(x, every=3):
    """x with every `every`-th element set to 0 (the kink of relu, abs, sign)."""
    x = x.clone()
    x.view(-1)[::every] = 0.0
    return x


def mask(*shape):
    """A 0/1 float mask."""
    return (DRAW.rand(*shape) < 0.5).to(DTYPE)


def specials():
    return torch.tensor(SPECIALS, dtype=DTYPE)


# ----------------------------------------------------------------------------
# Lua serialisation

def fmt_num(x):
    return lua.fmt_num(x, nonfinite=True)  # NaN and infinities are cases too


def fmt_tensor(t, indent):
    if t.dtype == torch.bool:
        t = t.to(DTYPE)
    return lua.fmt_tensor(t, indent, MAX_ELEMENTS, num=fmt_num)


def fmt_lua(v):
    """Lua literal: ints, floats, bools, strings, lists, dicts (ordered)."""
    return lua.fmt_lua(v, num=fmt_num)


# ----------------------------------------------------------------------------
# cases

OPS = []


LUA_DTYPES = {torch.float32: "float32", torch.float64: "float64"}


def case(name, op, inputs, fn, args=(), expect=None, transpose=(), expand=None,
         f32=True, in_dtype=None):
    """Add a case. ``fn`` applies the op, PyTorch style, to the operands:
    the leaves, transposed (1-based positions in ``transpose``) or expanded
    (``expand`` = {position: sizes}) first. ``args`` is the Lua argument list
    written to the fixture; ``expect`` the output shape (checked). With
    ``in_dtype`` (a torch dtype) the leaves are made in it (rounded), and the
    entry says so; tensors are written as float64 either way."""
    assert all(c["name"] != name for c in OPS), "duplicate name " + name
    expand = expand or {}
    if in_dtype is not None:
        inputs = [t.to(in_dtype) for t in inputs]
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    operands = []
    for i, leaf in enumerate(leaves, 1):
        x = leaf
        if i in transpose:
            assert x.dim() == 2, name
            x = x.t()
            assert not x.is_contiguous() or 1 in x.shape, name
        if i in expand:
            x = x.expand(*expand[i])
        operands.append(x)
    out = fn(*operands)
    if expect is not None:
        assert tuple(out.shape) == tuple(expect), (name, out.shape, expect)
    entry = {"name": name, "op": op, "inputs": [l.detach() for l in leaves],
             "args": list(args), "output": out.detach(), "transpose": list(transpose),
             "expand": expand, "f32": f32, "requires_grad": out.requires_grad,
             "in_dtype": in_dtype and LUA_DTYPES[in_dtype],
             "out_dtype": None}
    if out.dtype != torch.bool and out.dtype != leaves[0].dtype:  # masks: bool
        entry["out_dtype"] = LUA_DTYPES[out.dtype]
    if out.requires_grad:
        seed = randn(*out.shape).to(out.dtype)  # values exact in out's dtype
        out.backward(seed)
        entry["seed"] = seed
    entry["grads"] = lua.leaf_grads(leaves, name)
    if in_dtype is not None or entry["out_dtype"]:
        # written as float64, like every other tensor (exactly: float32
        # values are float64 values)
        for key in ("output", "seed"):
            if key in entry:
                entry[key] = entry[key].to(DTYPE)
        for key in ("inputs", "grads"):
            entry[key] = [t if t is False else t.to(DTYPE) for t in entry[key]]
    OPS.append(entry)


UNARY = [
    # name, torch fn, input maker for the (3,4) case
    ("exp", torch.exp, lambda: randn(3, 4) * 2),
    ("log1p", torch.log1p, lambda: uniform(-0.9, 3.0, 3, 4)),
    ("expm1", torch.expm1, lambda: randn(3, 4)),
    ("sqrt", torch.sqrt, lambda: positive(3, 4)),
    ("rsqrt", torch.rsqrt, lambda: positive(3, 4)),
    ("abs", torch.abs, lambda: with_zeros(randn(3, 4))),
    ("sign", torch.sign, lambda: with_zeros(randn(3, 4))),
    ("reciprocal", torch.reciprocal, lambda: nonzero(3, 4)),
    ("square", torch.square, lambda: randn(3, 4)),
    ("sin", torch.sin, lambda: uniform(-4.0, 4.0, 3, 4)),
    ("cos", torch.cos, lambda: uniform(-4.0, 4.0, 3, 4)),
    ("sigmoid", torch.sigmoid, lambda: randn(3, 4) * 3),
    ("relu", torch.relu, lambda: with_zeros(randn(3, 4))),
    ("gelu", F.gelu, lambda: randn(3, 4) * 2),
    ("silu", F.silu, lambda: randn(3, 4) * 3),
    ("softplus", F.softplus, lambda: randn(3, 4) * 3),
    ("floor", torch.floor, lambda: uniform(-3.0, 3.0, 3, 4)),
    ("ceil", torch.ceil, lambda: uniform(-3.0, 3.0, 3, 4)),
    ("round", torch.round, lambda: uniform(-3.0, 3.0, 3, 4)),
    ("isnan", torch.isnan, lambda: randn(3, 4)),
    ("isinf", torch.isinf, lambda: randn(3, 4)),
]


def build_unary():
    for op, fn, make in UNARY:
        case("%s (3,4)" % op, op, [make()], fn, expect=(3, 4))
        # float32 rounds 1 - sigmoid(x) and friends at inf/nan the same way,
        # but values like exp(3) differ by more than 1e-5 absolute: rtol only
        case("%s specials" % op, op, [specials()], fn, expect=(10,))
    # non-contiguous and 0-stride inputs, 0-d
    case("exp transposed (4,3)", "exp", [randn(3, 4)], torch.exp,
         transpose=[1], expect=(4, 3))
    case("sigmoid transposed (4,3)", "sigmoid", [randn(3, 4)], torch.sigmoid,
         transpose=[1], expect=(4, 3))
    case("gelu transposed (4,3)", "gelu", [randn(3, 4)], F.gelu,
         transpose=[1], expect=(4, 3))
    case("relu expanded (1,4) to (3,4)", "relu", [with_zeros(randn(1, 4))],
         torch.relu, expand={1: (3, 4)}, expect=(3, 4))
    case("sqrt expanded (3,1) to (3,4)", "sqrt", [positive(3, 1)],
         torch.sqrt, expand={1: (3, 4)}, expect=(3, 4))
    case("square 0-d", "square", [randn()], torch.square, expect=())
    case("softplus 0-d", "softplus", [randn()], F.softplus, expect=())
    case("isnan transposed", "isnan",
         [torch.tensor([[NAN, 1.0, 2.0], [INF, NAN, 0.0]])], torch.isnan,
         transpose=[1], expect=(3, 2))

    # gelu's tanh approximation
    case("gelu tanh (3,4)", "gelu", [randn(3, 4) * 2],
         lambda x: F.gelu(x, approximate="tanh"), args=["tanh"], expect=(3, 4))
    case("gelu tanh named specials", "gelu", [specials()],
         lambda x: F.gelu(x, approximate="tanh"), args=[{"approximate": "tanh"}],
         expect=(10,))
    case("gelu none named", "gelu", [randn(2, 3)],
         lambda x: F.gelu(x, approximate="none"), args=[{"approximate": "none"}],
         expect=(2, 3))

    # softplus's beta and threshold: both sides of the threshold
    case("softplus beta 2 threshold 3", "softplus", [randn(3, 4) * 2],
         lambda x: F.softplus(x, beta=2.0, threshold=3.0), args=[2.0, 3.0],
         expect=(3, 4))
    case("softplus named beta 0.5", "softplus", [randn(3, 4) * 4],
         lambda x: F.softplus(x, beta=0.5), args=[{"beta": 0.5}], expect=(3, 4))
    case("softplus named threshold 1", "softplus", [randn(3, 4)],
         lambda x: F.softplus(x, threshold=1.0), args=[{"threshold": 1.0}],
         expect=(3, 4))

    # round: halves go to the even neighbour
    halves = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -3.5])
    case("round halves to even", "round", [halves], torch.round, expect=(8,))
    case("floor halves", "floor", [halves], torch.floor, expect=(8,))
    case("ceil halves", "ceil", [halves], torch.ceil, expect=(8,))

    # clamp: the gradient passes where min <= x <= max (bounds included)
    at_bounds = torch.tensor([[-1.0, -0.5, -0.25, 0.0],
                              [0.25, 0.5, 1.0, -0.75]])
    case("clamp -0.5 0.5 (bounds included)", "clamp", [at_bounds],
         lambda x: torch.clamp(x, -0.5, 0.5), args=[-0.5, 0.5], expect=(2, 4))
    case("clamp -0.5 0.5 (3,4)", "clamp", [randn(3, 4)],
         lambda x: torch.clamp(x, -0.5, 0.5), args=[-0.5, 0.5], expect=(3, 4))
    case("clamp min only positional", "clamp", [randn(3, 4)],
         lambda x: torch.clamp(x, min=0.2), args=[0.2], expect=(3, 4))
    case("clamp named min", "clamp", [randn(3, 4)],
         lambda x: torch.clamp(x, min=-0.3), args=[{"min": -0.3}], expect=(3, 4))
    case("clamp named max", "clamp", [randn(3, 4)],
         lambda x: torch.clamp(x, max=0.4), args=[{"max": 0.4}], expect=(3, 4))
    case("clamp named min and max", "clamp", [randn(3, 4)],
         lambda x: torch.clamp(x, min=-1.0, max=1.0),
         args=[{"min": -1.0, "max": 1.0}], expect=(3, 4))
    case("clamp min > max gives max", "clamp", [randn(2, 3)],
         lambda x: torch.clamp(x, 1.0, -1.0), args=[1.0, -1.0], expect=(2, 3))
    case("clamp specials", "clamp", [specials()],
         lambda x: torch.clamp(x, -1.0, 2.0), args=[-1.0, 2.0], expect=(10,))
    case("clamp named max specials", "clamp", [specials()],
         lambda x: torch.clamp(x, max=1.0), args=[{"max": 1.0}], expect=(10,))
    # a NaN bound compares false: x passes unchanged, its gradient is 0
    case("clamp NaN min", "clamp", [specials()],
         lambda x: torch.clamp(x, min=NAN), args=[{"min": NAN}], expect=(10,))
    case("clamp transposed", "clamp", [randn(3, 4)],
         lambda x: torch.clamp(x, -0.5, 0.5), args=[-0.5, 0.5], transpose=[1],
         expect=(4, 3))


BSHAPES = [((2, 3), (2, 3), "same shape"),
           ((2, 3), (3,), "broadcast"),
           ((2, 1, 3), (4, 1), "broadcast"),
           ((3, 1), (1, 4), "broadcast"),
           ((), (2, 3), "0-d"),
           ((2, 3), (), "0-d")]


def build_binary():
    for op, fn in (("maximum", torch.maximum), ("minimum", torch.minimum)):
        for sa, sb, kind in BSHAPES:
            # small whole numbers: plenty of ties, where the gradient splits
            case("%s %s %s %s" % (op, kind, shp(sa), shp(sb)), op,
                 [small_ints(-2, 2, *sa), small_ints(-2, 2, *sb)], fn,
                 expect=torch.broadcast_shapes(sa, sb))
        case("%s random (3,4)" % op, op, [randn(3, 4), randn(3, 4)], fn,
             expect=(3, 4))
        case("%s transposed (4,3) with (3,)" % op, op, [randn(3, 4), randn(3)],
             fn, transpose=[1], expect=(4, 3))
        case("%s_scalar x, 0" % op, op + "_scalar", [with_zeros(randn(3, 4))],
             lambda x, fn=fn: fn(x, torch.tensor(0.0)), args=[0.0], expect=(3, 4))
        case("r%s_scalar 0.5, x" % op, "r%s_scalar" % op, [randn(3, 4)],
             lambda x, fn=fn: fn(torch.tensor(0.5), x), args=[0.5], expect=(3, 4))
        sp = specials()
        case("%s specials" % op, op, [sp, sp.flip(0)], fn, expect=(10,))

    for sa, sb, kind in BSHAPES:
        case("atan2 %s %s %s" % (kind, shp(sa), shp(sb)), "atan2",
             [randn(*sa), randn(*sb)], torch.atan2,
             expect=torch.broadcast_shapes(sa, sb))
    case("atan2 transposed (4,3) with (4,1)", "atan2", [randn(3, 4), randn(4, 1)],
         torch.atan2, transpose=[1], expect=(4, 3))
    case("atan2_scalar y, 1.5", "atan2_scalar", [randn(2, 3)],
         lambda y: torch.atan2(y, torch.tensor(1.5)), args=[1.5], expect=(2, 3))
    case("ratan2_scalar -1, x", "ratan2_scalar", [randn(2, 3)],
         lambda x: torch.atan2(torch.tensor(-1.0), x), args=[-1.0], expect=(2, 3))
    # the axes: (0, 0) gives NaN gradients, as in PyTorch
    case("atan2 on the axes", "atan2",
         [torch.tensor([0.0, 0.0, -0.0, 1.0, -1.0, 0.0, INF, NAN]),
          torch.tensor([0.0, -1.0, -1.0, 0.0, 0.0, 1.0, 1.0, 1.0])],
         torch.atan2, expect=(8,))

    for op, fn in (("eq", torch.eq), ("ne", torch.ne), ("lt", torch.lt),
                   ("le", torch.le), ("gt", torch.gt), ("ge", torch.ge)):
        for sa, sb, kind in BSHAPES[:3] + BSHAPES[4:5]:
            case("%s %s %s %s" % (op, kind, shp(sa), shp(sb)), op,
                 [small_ints(-2, 2, *sa), small_ints(-2, 2, *sb)], fn,
                 expect=torch.broadcast_shapes(sa, sb))
        case("%s_scalar x, 1" % op, op + "_scalar", [small_ints(-2, 2, 3, 4)],
             lambda x, fn=fn: fn(x, 1.0), args=[1.0], expect=(3, 4))
        case("r%s_scalar 1, x" % op, "r%s_scalar" % op, [small_ints(-2, 2, 3, 4)],
             lambda x, fn=fn: fn(torch.tensor(1.0), x), args=[1.0], expect=(3, 4))
        case("%s transposed" % op, op, [small_ints(-2, 2, 3, 4), small_ints(-2, 2, 3)],
             fn, transpose=[1], expect=(4, 3))
        sp = specials()
        case("%s specials" % op, op, [sp, sp.flip(0)], fn, expect=(10,))


def where_fn(c, a, b):
    return torch.where(c != 0, a, b)


def build_where():
    for sc, sa, sb in [((2, 3), (2, 3), (2, 3)),
                       ((3,), (2, 3), (2, 3)),
                       ((2, 3), (3,), ()),
                       ((2, 1, 3), (4, 1), (1, 3)),
                       ((), (2, 3), (2, 3)),
                       ((2, 3), (), (2, 1))]:
        case("where c%s a%s b%s" % (shp(sc), shp(sa), shp(sb)), "where",
             [mask(*sc), randn(*sa), randn(*sb)], where_fn,
             expect=torch.broadcast_shapes(sc, sa, sb))
    # any nonzero counts as true, NaN included
    case("where with a non-0/1 condition", "where",
         [torch.tensor([2.5, 0.0, -1.0, NAN, -0.0, 1e-300]), randn(6), randn(6)],
         where_fn, expect=(6,), f32=False)  # 1e-300 is 0 in float32
    case("where transposed condition and a", "where",
         [mask(3, 4), randn(3, 4), randn(4, 3)], where_fn, transpose=[1, 2],
         expect=(4, 3))
    case("where_scalar_b c, x, 0", "where_scalar_b", [mask(2, 3), randn(2, 3)],
         lambda c, a: where_fn(c, a, torch.tensor(0.0)), args=[0.0], expect=(2, 3))
    case("where_scalar_a c, -1, x", "where_scalar_a", [mask(2, 3), randn(3)],
         lambda c, b: where_fn(c, torch.tensor(-1.0), b), args=[-1.0], expect=(2, 3))
    # the relu-like use: x where x > 0 else 0.1 x
    case("where leaky", "where_leaky", [randn(3, 4)],
         lambda x: torch.where(x > 0, x, 0.1 * x), expect=(3, 4))


def build_to():
    """x:to(dtype) between float64 and float32: the output has the other
    dtype, and the gradient flows back converted to the input's. After the
    other cases, so that they keep their random draws."""
    f32, f64 = torch.float32, torch.float64
    case("to float32 from float64 (3,4)", "to", [randn(3, 4)],
         lambda x: x.to(f32), args=["float32"], in_dtype=f64, expect=(3, 4))
    case("to float32 from float64 transposed (4,3)", "to", [randn(3, 4)],
         lambda x: x.to(f32), args=["float32"], in_dtype=f64, transpose=[1],
         expect=(4, 3))
    case("to float32 from float64 0-d", "to", [randn()],
         lambda x: x.to(f32), args=["float32"], in_dtype=f64, expect=())
    # rounding to nearest, overflow to infinity, underflow to 0
    case("to float32 from float64 specials", "to",
         [torch.tensor(SPECIALS + [0.1, 1e300, -1e300, 1e-300, 3.4028235e38])],
         lambda x: x.to(f32), args=["float32"], in_dtype=f64, expect=(15,))
    case("to float alias from float64 (2,3)", "to", [randn(2, 3)],
         lambda x: x.to(f32), args=["float"], in_dtype=f64, expect=(2, 3))
    case("to float64 from float32 (3,4)", "to", [randn(3, 4)],
         lambda x: x.to(f64), args=["float64"], in_dtype=f32, expect=(3, 4))
    case("to float64 from float32 transposed (4,3)", "to", [randn(3, 4)],
         lambda x: x.to(f64), args=["float64"], in_dtype=f32, transpose=[1],
         expect=(4, 3))
    case("to float64 from float32 specials", "to", [specials()],
         lambda x: x.to(f64), args=["float64"], in_dtype=f32, expect=(10,))
    case("to double alias from float32 (2,3)", "to", [randn(2, 3)],
         lambda x: x.to(f64), args=["double"], in_dtype=f32, expect=(2, 3))


def build_log():
    """log (the core's, beside log1p): after the other cases, so that they
    keep their random draws. At 0 the gradient is seed / 0 (infinite), below
    0 the value is NaN."""
    case("log (3,4)", "log", [positive(3, 4)], torch.log, expect=(3, 4))
    case("log specials", "log", [specials()], torch.log, expect=(10,))
    case("log transposed (4,3)", "log", [positive(3, 4)], torch.log,
         transpose=[1], expect=(4, 3))
    case("log 0-d", "log", [positive()], torch.log, expect=())


# ----------------------------------------------------------------------------
# output

HEADER = """\
-- Generated by scripts/gen_fixtures_elementwise.py (PyTorch 1.13, float64).
-- Do not edit by hand; regenerate with:
--   /usr/bin/python3 scripts/gen_fixtures_elementwise.py
--
-- tensor: {shape = {...}, data = {flat row-major values}} (0-d: shape = {});
--   values may be 0/0 (NaN), math.huge, -math.huge.
-- ops[i]: {name, op, inputs = {T, ...}, args = {...}, seed, output,
--          grads = {T or false, ...}, transpose, expand, requires_grad, f32}
--   grads[i] is d(sum(output * seed))/d inputs[i] (false: no gradient).
--   transpose = {i, ...}: input i is stored transposed; the op gets
--     leaf:transpose(1, 2) (non-contiguous); grads[i] is the leaf's.
--   expand = {[i] = {sizes}}: the op gets leaf:expand(sizes) (0 strides).
--   requires_grad = false: the output records no graph (no seed; grads false).
--   f32 = false: not part of the float32 pass.
--   in_dtype = "float32"/"float64": the inputs are made in that dtype and
--     the entry runs only in its pass (to); grads[i] are in that dtype.
--   out_dtype = "...": the output and its seed have this dtype (to).
--   output = true/false: the op returns a Lua boolean (allclose, equal).
--   op: lucid.<op>(inputs..., table.unpack(args)); "<op>_scalar" is
--     lucid.<op>(inputs[1], args[1]) and "r<op>_scalar" lucid.<op>(args[1],
--     inputs[1]); "where_scalar_a"/"_b" pass args[1] as where's a/b;
--     "where_leaky" is lucid.where(x:gt(0), x, x * 0.1).
--   Masks are 1.0/0.0 in the input's dtype (Lucid has no bool dtype); a
--   where condition is a float tensor, true where nonzero.
"""


def write_ops(lines):
    lines.append("  ops = {")
    for c in OPS:
        lines.append("    {")
        lines.append("      name = %s," % fmt_lua(c["name"]))
        lines.append("      op = %s," % fmt_lua(c["op"]))
        lua.append_tensors(lines, "inputs", c["inputs"], fmt_tensor)
        lines.append("      args = %s," % fmt_lua(c["args"]))
        if c["transpose"]:
            lines.append("      transpose = %s," % fmt_lua(c["transpose"]))
        if c["expand"]:
            lines.append("      expand = %s," % fmt_lua(
                {k: list(v) for k, v in c["expand"].items()}))
        if not c["requires_grad"]:
            lines.append("      requires_grad = false,")
        if not c["f32"]:
            lines.append("      f32 = false,")
        if c["in_dtype"]:
            lines.append("      in_dtype = %s," % fmt_lua(c["in_dtype"]))
        if c["out_dtype"]:
            lines.append("      out_dtype = %s," % fmt_lua(c["out_dtype"]))
        if "seed" in c:
            lines.append("      seed = %s," % fmt_tensor(c["seed"], 6))
        if isinstance(c["output"], bool):
            lines.append("      output = %s," % fmt_lua(c["output"]))
        else:
            lines.append("      output = %s," % fmt_tensor(c["output"], 6))
        lua.append_tensors(lines, "grads", c["grads"], fmt_tensor)
        lines.append("    },")
    lines.append("  },")


def self_check():
    assert len({c["name"] for c in OPS}) == len(OPS)
    covered = {c["op"] for c in OPS}
    for op in [u[0] for u in UNARY + MORE_UNARY] + [
            "clamp", "maximum", "minimum", "atan2", "eq", "ne", "lt", "le", "gt", "ge",
            "where", "to", "log", "clamp_min", "clamp_max", "hypot", "copysign", "xlogy",
            "logaddexp", "heaviside", "isclose", "allclose", "equal"]:
        assert op in covered, op
    for c in OPS:
        assert len(c["grads"]) == len(c["inputs"]), c["name"]
        if isinstance(c["output"], bool):
            continue
        if "seed" in c:
            assert c["seed"].shape == c["output"].shape, c["name"]
        else:
            assert all(g is False for g in c["grads"]), c["name"]
        for t in c["inputs"] + [c["output"]]:
            assert t.numel() <= MAX_ELEMENTS, c["name"]
        if c["op"] == "to":
            assert c["in_dtype"] and c["out_dtype"], c["name"]


def build_division():
    """floor_divide (no gradient: PyTorch defines none, so the fixture's
    output is detached), remainder (the divisor's sign) and fmod (the
    dividend's). Added last, so the draws of the cases above are unchanged."""
    for op, fn in (("floor_divide", lambda a, b: torch.floor_divide(a, b).detach()),
                   ("remainder", torch.remainder), ("fmod", torch.fmod)):
        for sa, sb, kind in BSHAPES:
            case("%s %s %s %s" % (op, kind, shp(sa), shp(sb)), op,
                 [randn(*sa) * 3, nonzero(*sb)], fn, expect=torch.broadcast_shapes(sa, sb))
        case("%s signs" % op, op,
             [torch.tensor([-7.0, 7.0, -7.0, 7.0, 7.5, -0.0, 0.0, 1.0]),
              torch.tensor([2.0, -2.0, -2.0, 2.0, 2.5, 3.0, -3.0, 0.0])], fn, expect=(8,))
        case("%s_scalar x, 1.5" % op, op + "_scalar", [randn(2, 3) * 3],
             lambda x, fn=fn: fn(x, torch.tensor(1.5)), args=[1.5], expect=(2, 3))
        case("r%s_scalar 5, x" % op, "r%s_scalar" % op, [nonzero(2, 3)],
             lambda x, fn=fn: fn(torch.tensor(5.0), x), args=[5.0], expect=(2, 3))

    # logical ops: bool results (written as 1.0 / 0.0), NaN counts as true
    logic = torch.tensor([0.0, 1.5, -0.0, NAN, 0.0, -2.0])
    for op, fn in (("logical_and", torch.logical_and), ("logical_or", torch.logical_or),
                   ("logical_xor", torch.logical_xor)):
        for sa, sb, kind in BSHAPES[:3]:
            case("%s %s %s %s" % (op, kind, shp(sa), shp(sb)), op,
                 [with_zeros(randn(*sa)), with_zeros(randn(*sb))], fn,
                 expect=torch.broadcast_shapes(sa, sb))
        case("%s specials" % op, op, [logic, logic.flip(0)], fn, expect=(6,))
    case("logical_not (3,4)", "logical_not", [with_zeros(randn(3, 4))], torch.logical_not,
         expect=(3, 4))
    case("logical_not specials", "logical_not", [logic], torch.logical_not, expect=(6,))


def bool_case(name, op, inputs, fn, args=()):
    """A case whose answer is a Lua boolean (allclose, equal): ``output`` is
    True or False, and nothing records a graph."""
    assert all(c["name"] != name for c in OPS), "duplicate name " + name
    out = fn(*inputs)
    assert isinstance(out, bool), name
    OPS.append({"name": name, "op": op, "inputs": list(inputs), "args": list(args),
                "output": out, "transpose": [], "expand": {}, "f32": True,
                "requires_grad": False, "in_dtype": None, "out_dtype": None,
                "grads": [False] * len(inputs)})


MORE_UNARY = [
    # name, torch fn, input maker for the (3,4) case (inside the domain,
    # away from poles, where float32's rounding of the input moves the
    # value by far less than the float32 pass's tolerance)
    ("tan", torch.tan, lambda: uniform(-1.3, 1.3, 3, 4)),
    ("asin", torch.asin, lambda: uniform(-0.9, 0.9, 3, 4)),
    ("acos", torch.acos, lambda: uniform(-0.9, 0.9, 3, 4)),
    ("atan", torch.atan, lambda: randn(3, 4) * 3),
    ("sinh", torch.sinh, lambda: randn(3, 4) * 2),
    ("cosh", torch.cosh, lambda: randn(3, 4) * 2),
    ("asinh", torch.asinh, lambda: randn(3, 4) * 3),
    ("acosh", torch.acosh, lambda: uniform(1.1, 5.0, 3, 4)),
    ("atanh", torch.atanh, lambda: uniform(-0.9, 0.9, 3, 4)),
    ("erf", torch.erf, lambda: randn(3, 4) * 1.5),
    ("erfc", torch.erfc, lambda: randn(3, 4) * 1.5),
    ("erfinv", torch.erfinv, lambda: uniform(-0.95, 0.95, 3, 4)),
    ("lgamma", torch.lgamma, lambda: uniform(0.1, 8.0, 3, 4)),
    ("digamma", torch.digamma, lambda: uniform(0.1, 14.0, 3, 4)),
    ("exp2", torch.exp2, lambda: randn(3, 4) * 3),
    ("log2", torch.log2, lambda: positive(3, 4)),
    ("log10", torch.log10, lambda: positive(3, 4)),
    ("trunc", torch.trunc, lambda: uniform(-3.0, 3.0, 3, 4)),
    ("frac", torch.frac, lambda: uniform(-3.0, 3.0, 3, 4)),
    ("isfinite", torch.isfinite, lambda: randn(3, 4)),
    ("logit", torch.logit, lambda: uniform(0.05, 0.95, 3, 4)),
    ("nan_to_num", torch.nan_to_num, lambda: randn(3, 4)),
]

# the specials where float32's answer (a float64 value rounded to float32,
# compared with float64's) is off by more than the float32 pass allows, or
# differs: nan_to_num's default for inf is the dtype's own largest value,
# and digamma's gradient at the pole -1 is rounding noise (sin(pi x) is not
# 0 there), of float32's size in float32
MORE_SPECIALS_F64_ONLY = {"nan_to_num", "digamma"}


def build_more():
    """tan ... frac, logit, nan_to_num, isfinite, clamp_min, clamp_max;
    hypot, copysign, xlogy, logaddexp, heaviside; isclose, allclose, equal.
    Added last, so the draws of the cases above are unchanged."""
    for op, fn, make in MORE_UNARY:
        case("%s (3,4)" % op, op, [make()], fn, expect=(3, 4))
        case("%s specials" % op, op, [specials()], fn, expect=(10,),
             f32=op not in MORE_SPECIALS_F64_ONLY)
    case("tan transposed (4,3)", "tan", [uniform(-1.0, 1.0, 3, 4)], torch.tan,
         transpose=[1], expect=(4, 3))
    case("lgamma expanded (1,4) to (3,4)", "lgamma", [uniform(0.5, 3.0, 1, 4)],
         torch.lgamma, expand={1: (3, 4)}, expect=(3, 4))
    case("digamma 0-d", "digamma", [torch.tensor(2.5)], torch.digamma, expect=())

    # poles and branches: the reflection below 0 (digamma, lgamma) and below
    # 1/2 (trigamma, digamma's gradient), x = 10 and the series past it, the
    # huge x where digamma's series stops
    gamma_points = torch.tensor([-3.7, -2.5, -1.5, -0.5, -0.2, 0.2, 0.45, 1.0, 2.0,
                                 10.0, 25.0, 1e18])
    for op, fn in (("lgamma", torch.lgamma), ("digamma", torch.digamma)):
        case("%s poles and branches" % op, op, [gamma_points], fn, expect=(12,))
    # erfinv: both sides of the central range (|y| <= 0.7) and near +-1,
    # where float32's rounding of y moves the answer too much
    case("erfinv branches", "erfinv",
         [torch.tensor([-0.9, -0.7, -0.69, -0.1, 0.0, 0.3, 0.7, 0.71, 0.95])],
         torch.erfinv, expect=(9,))
    case("erfinv near 1", "erfinv", [torch.tensor([-0.9999, 0.999, 0.99999])],
         torch.erfinv, expect=(3,), f32=False)
    case("frac and trunc of halves", "frac",
         [torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1e300, -7.0])], torch.frac,
         expect=(8,), f32=False)  # 1e300 is inf in float32
    case("trunc halves", "trunc", [torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])],
         torch.trunc, expect=(6,))

    # logit: eps clamps (the gradient is 0 outside [eps, 1 - eps]); without
    # eps the gradient is NaN outside [0, 1] and g * inf at 0 and 1
    edges = torch.tensor([-0.2, 0.0, 0.03, 0.05, 0.5, 0.95, 0.97, 1.0, 1.2])
    case("logit edges", "logit", [edges], torch.logit, expect=(9,))
    case("logit eps 0.05 edges", "logit", [edges], lambda x: torch.logit(x, 0.05),
         args=[0.05], expect=(9,))
    case("logit eps 0 edges", "logit", [edges], lambda x: torch.logit(x, 0.0),
         args=[0.0], expect=(9,))
    case("logit named eps (3,4)", "logit", [uniform(-0.1, 1.1, 3, 4)],
         lambda x: torch.logit(x, eps=0.1), args=[{"eps": 0.1}], expect=(3, 4))
    case("logit eps specials", "logit", [specials()], lambda x: torch.logit(x, 0.25),
         args=[0.25], expect=(10,))

    # nan_to_num: the values given, by position and by name; the defaults
    # in float32 are float32's largest values
    case("nan_to_num given", "nan_to_num", [specials()],
         lambda x: torch.nan_to_num(x, 1.5, 100.0, -100.0), args=[1.5, 100.0, -100.0],
         expect=(10,))
    case("nan_to_num named posinf", "nan_to_num", [specials()],
         lambda x: torch.nan_to_num(x, posinf=7.0), args=[{"posinf": 7.0}], expect=(10,),
         f32=False)
    case("nan_to_num float32 defaults", "nan_to_num", [specials()], torch.nan_to_num,
         in_dtype=torch.float32, expect=(10,))

    # clamp_min, clamp_max: clamp with one bound (the bound itself passes
    # the gradient)
    at_bounds = torch.tensor([[-1.0, -0.5, -0.25, 0.0], [0.25, 0.5, 1.0, -0.75]])
    case("clamp_min -0.5", "clamp_min", [at_bounds], lambda x: torch.clamp_min(x, -0.5),
         args=[-0.5], expect=(2, 4))
    case("clamp_max named 0.25", "clamp_max", [at_bounds],
         lambda x: torch.clamp_max(x, 0.25), args=[{"max": 0.25}], expect=(2, 4))
    case("clamp_min specials", "clamp_min", [specials()], lambda x: torch.clamp_min(x, 1.0),
         args=[1.0], expect=(10,))
    case("clamp_max specials", "clamp_max", [specials()], lambda x: torch.clamp_max(x, 1.0),
         args=[1.0], expect=(10,))

    # binary ops with gradients
    make_b = {"hypot": randn, "copysign": randn, "xlogy": positive, "logaddexp": randn}
    for op, fn in (("hypot", torch.hypot), ("copysign", torch.copysign),
                   ("xlogy", torch.xlogy), ("logaddexp", torch.logaddexp)):
        for sa, sb, kind in BSHAPES:
            case("%s %s %s %s" % (op, kind, shp(sa), shp(sb)), op,
                 [with_zeros(randn(*sa) * 2), make_b[op](*sb)], fn,
                 expect=torch.broadcast_shapes(sa, sb))
        case("%s transposed (4,3) with (3,)" % op, op, [randn(3, 4), make_b[op](3)], fn,
             transpose=[1], expect=(4, 3))
        case("%s_scalar x, 1.5" % op, op + "_scalar", [randn(2, 3)],
             lambda x, fn=fn: fn(x, torch.tensor(1.5)), args=[1.5], expect=(2, 3))
        case("r%s_scalar 2, x" % op, "r%s_scalar" % op, [make_b[op](2, 3)],
             lambda x, fn=fn: fn(torch.tensor(2.0), x), args=[2.0], expect=(2, 3))
    sp = specials()
    # copysign's b has no NaN: Lua's 0/0 has the sign bit set, Python's nan not
    signs = torch.tensor([1.0, -1.0, -0.0, 0.0, 2.0, -3.0, INF, -INF, 0.5, -0.5])
    case("copysign specials", "copysign", [sp, signs], torch.copysign, expect=(10,))
    for op, fn in (("hypot", torch.hypot), ("xlogy", torch.xlogy),
                   ("logaddexp", torch.logaddexp)):
        case("%s specials" % op, op, [sp, sp.flip(0)], fn, expect=(10,))
        case("%s specials, the same" % op, op, [sp, sp.clone()], fn, expect=(10,))
    case("xlogy zeros", "xlogy", [torch.tensor([0.0, 0.0, 0.0, -0.0, 1.0, 2.0]),
                                  torch.tensor([0.0, 2.0, INF, 3.0, 0.0, -1.0])],
         torch.xlogy, expect=(6,))

    # heaviside: no gradient
    hv = lambda a, b: torch.heaviside(a, b).detach()  # noqa: E731
    for sa, sb, kind in BSHAPES[:4]:
        case("heaviside %s %s %s" % (kind, shp(sa), shp(sb)), "heaviside",
             [with_zeros(randn(*sa)), randn(*sb)], hv, expect=torch.broadcast_shapes(sa, sb))
    case("heaviside specials", "heaviside", [sp, sp.flip(0)], hv, expect=(10,))
    case("heaviside_scalar x, 0.5", "heaviside_scalar", [with_zeros(randn(2, 3))],
         lambda x: hv(x, torch.tensor(0.5)), args=[0.5], expect=(2, 3))
    case("rheaviside_scalar 0, x", "rheaviside_scalar", [randn(2, 3)],
         lambda x: hv(torch.tensor(0.0), x), args=[0.0], expect=(2, 3))

    # isclose: differences far inside or far outside the tolerances (so that
    # float32's rounding decides nothing), infinities, NaN
    base = torch.tensor([1.0, -2.0, 100.0, 1e-9, 0.0, 3.0, -1.0, 5.0])
    near = torch.tensor([1.0 + 1e-7, -2.0 - 1e-3, 100.0 + 5e-4, 0.0, 3e-9, 3.1, -1.0, 5.5])
    case("isclose defaults", "isclose", [base, near], torch.isclose, expect=(8,))
    case("isclose rtol 1e-2 atol 1e-8", "isclose", [base, near],
         lambda a, b: torch.isclose(a, b, 1e-2, 1e-8), args=[1e-2, 1e-8], expect=(8,))
    case("isclose named atol 0.2", "isclose", [base, near],
         lambda a, b: torch.isclose(a, b, atol=0.2), args=[{"atol": 0.2}], expect=(8,))
    case("isclose zero tolerances", "isclose", [base, near],
         lambda a, b: torch.isclose(a, b, 0.0, 0.0), args=[0.0, 0.0], expect=(8,))
    case("isclose specials", "isclose", [sp, sp.clone()], torch.isclose, expect=(10,))
    case("isclose specials equal_nan", "isclose", [sp, sp.clone()],
         lambda a, b: torch.isclose(a, b, equal_nan=True), args=[{"equal_nan": True}],
         expect=(10,))
    case("isclose specials flipped", "isclose", [sp, sp.flip(0)],
         lambda a, b: torch.isclose(a, b, 1.0, 1.0), args=[1.0, 1.0], expect=(10,))
    case("isclose broadcast (2,3) (3,)", "isclose",
         [torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.5, 3.0 + 1e-7]]), torch.tensor([1.0, 2.0, 3.0])],
         torch.isclose, expect=(2, 3))

    # allclose and equal: Lua booleans
    bool_case("allclose defaults", "allclose", [base, base + 1e-9], torch.allclose)
    bool_case("allclose not", "allclose", [base, near], torch.allclose)
    bool_case("allclose atol 1", "allclose", [base, near],
              lambda a, b: torch.allclose(a, b, 0.0, 1.0), args=[0.0, 1.0])
    bool_case("allclose NaN", "allclose", [sp, sp.clone()], torch.allclose)
    bool_case("allclose NaN equal_nan", "allclose", [sp, sp.clone()],
              lambda a, b: torch.allclose(a, b, equal_nan=True), args=[{"equal_nan": True}])
    bool_case("allclose broadcast", "allclose",
              [torch.tensor([[1.0, 2.0], [1.0, 2.0]]), torch.tensor([1.0, 2.0])], torch.allclose)
    bool_case("equal", "equal", [base, base.clone()], torch.equal)
    bool_case("equal not", "equal", [base, near], torch.equal)
    bool_case("equal NaN", "equal", [sp, sp.clone()], torch.equal)
    bool_case("equal other shape", "equal",
              [torch.tensor([[1.0, 2.0]]), torch.tensor([1.0, 2.0])], torch.equal)


def main():
    build_unary()
    build_binary()
    build_where()
    build_to()
    build_log()
    build_division()
    build_more()
    self_check()
    body = []
    write_ops(body)
    lua.write_chunk(OUT_PATH, HEADER, body, "%d ops" % len(OPS))


if __name__ == "__main__":
    main()
