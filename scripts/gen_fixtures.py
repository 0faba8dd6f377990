"""Generate tests/fixtures/core_ops.lua: PyTorch reference values for Lucid.

Then runs the generators of the other families (scripts/gen_fixtures_*.py,
each documented in its own header), so this one command rewrites every
fixture in tests/fixtures/.

Writes ``tests/fixtures/core_ops.lua`` (relative to the repository root, found
from this script's location). It is a Lua chunk ``return { models = {...},
ops = {...} }`` with forward outputs and gradients computed by PyTorch in
float64 for the example models and for each core op; the busted specs load it
with ``dofile`` and compare Lucid against it.

Run from anywhere with Debian's PyTorch (the ``python3`` first on PATH may lack
torch):

    /usr/bin/python3 scripts/gen_fixtures.py

This script is only needed to regenerate the checked-in fixtures; running the
tests does not need Python or PyTorch. The output is deterministic (fixed seed,
float64 everywhere), so rerunning it should leave the file unchanged.

Fixture format (see also the comment at the top of the generated file):
  tensor  = {shape = {d1, d2, ...}, data = {flat row-major values}}
            (a 0-d tensor has shape = {} and one value in data)
  model   = {input = T, params = {[name] = T}, output = T,
             grads = {input = T, [name] = T}, seed = T (only if not ones)}
  op      = {name = "...", op = "...", inputs = {T, ...}, args = {...},
             seed = T, output = T, grads = {T or false, ...}}
Numbers are written with %.17g so float64 values round-trip exactly. ``args``
follow Lua conventions: dims and indices are 1-based (PyTorch dim d >= 0 is
written d + 1, negative dims are kept as they are).
"""

import math
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_lua as lua  # noqa: E402
from fixture_lua import DTYPE, lua_dim, lua_key, shp  # noqa: E402

SEED = 20240601
MAX_ELEMENTS = 60

OUT_PATH = lua.FIXTURES / "core_ops.lua"

torch.manual_seed(SEED)
torch.set_default_dtype(DTYPE)

# random data (all drawn from one generator, in a fixed order)
DRAW = lua.Draws(SEED)
randn, uniform = DRAW.randn, DRAW.uniform
positive = DRAW.positive  # pow bases
nonzero = DRAW.nonzero  # divisors


def fmt_tensor(t, indent):
    return lua.fmt_tensor(t, indent, MAX_ELEMENTS)


# ----------------------------------------------------------------------------
# models

class SimpleTanhModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.tanh = nn.Tanh()

    def forward(self, x):
        return self.tanh(self.linear(x))


class TanhNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.tanh = nn.Tanh()
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(self.tanh(self.fc1(x)))


def init_linear_params(model):
    """Re-draw every nn.Linear's weight and bias from GEN, uniform in
    (-1/sqrt(in), 1/sqrt(in)) as PyTorch's default init does (done explicitly
    so the values do not depend on PyTorch's init code)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            module = model.get_submodule(name.rsplit(".", 1)[0])
            bound = 1.0 / math.sqrt(module.in_features)
            p.copy_(uniform(-bound, bound, *p.shape))


def model_case(cls, x, seed=None):
    model = cls().to(DTYPE)
    init_linear_params(model)
    x = x.clone().requires_grad_(True)
    out = model(x)
    upstream = torch.ones_like(out) if seed is None else seed
    assert upstream.shape == out.shape
    out.backward(upstream)
    params = {n: p.detach().clone() for n, p in model.named_parameters()}
    grads = {"input": x.grad}
    for n, p in model.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, n
        grads[n] = p.grad
    assert x.grad.shape == x.shape
    entry = {"input": x.detach(), "params": params, "output": out.detach(),
             "grads": grads}
    if seed is not None:
        entry["seed"] = seed
    return entry


def build_models():
    models = {}
    models["SimpleTanhModel"] = model_case(
        SimpleTanhModel, torch.tensor([[0.5, -1.2, 3.3]], dtype=DTYPE))
    models["TanhNetwork"] = model_case(
        TanhNetwork, torch.tensor([[0.5, -1.2, 3.3, 0.7]], dtype=DTYPE))
    x = randn(5, 4)
    models["TanhNetworkBatch"] = model_case(TanhNetwork, x, seed=randn(5, 2))
    return models


# ----------------------------------------------------------------------------
# ops

OPS = []


def case(name, op, inputs, fn, args=(), expect=None):
    """Add an op case. ``fn`` applies the op to the input tensors with
    PyTorch conventions; ``args`` is the Lua-convention argument list written
    to the fixture; ``expect`` is the expected output shape (checked)."""
    assert all(c["name"] != name for c in OPS), "duplicate name " + name
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = fn(*leaves)
    if expect is not None:
        assert tuple(out.shape) == tuple(expect), (name, out.shape, expect)
    seed = randn(*out.shape)
    out.backward(seed)
    grads = lua.leaf_grads(leaves, name)
    OPS.append({"name": name, "op": op, "inputs": [l.detach() for l in leaves],
                "args": list(args), "seed": seed, "output": out.detach(),
                "grads": grads})


def build_ops():
    # --- binary elementwise ops with broadcasting ---------------------------
    binary = [("add", torch.add, "+"), ("sub", torch.sub, "-"),
              ("mul", torch.mul, "*"), ("div", torch.div, "/")]
    bshapes = [((2, 3), (2, 3), "same shape"),
               ((2, 3), (3,), "broadcast"),
               ((2, 1, 3), (4, 1), "broadcast"),
               ((3,), (2, 3), "broadcast"),
               ((), (2, 3), "0-d")]
    for op, fn, sym in binary:
        for sa, sb, kind in bshapes:
            a = randn(*sa)
            b = nonzero(*sb) if op == "div" else randn(*sb)
            expect = torch.broadcast_shapes(sa, sb)
            case("%s %s %s %s %s" % (op, kind, shp(sa), sym, shp(sb)), op,
                 [a, b], fn,
                 expect=expect)
    for sa, sb, kind in [((2, 3), (2, 3), "same shape"),
                         ((2, 3), (3,), "broadcast")]:
        case("pow %s %s ^ %s" % (kind, shp(sa), shp(sb)), "pow",
             [positive(*sa), randn(*sb)], torch.pow,
             expect=torch.broadcast_shapes(sa, sb))

    # --- tensor-scalar ops: args = {s} ------------------------------------
    s = 2.5
    case("add_scalar x + 2.5", "add_scalar", [randn(2, 3)],
         lambda x: x + s, [s], expect=(2, 3))
    case("sub_scalar x - 2.5", "sub_scalar", [randn(2, 3)],
         lambda x: x - s, [s], expect=(2, 3))
    case("mul_scalar x * 2.5", "mul_scalar", [randn(2, 3)],
         lambda x: x * s, [s], expect=(2, 3))
    case("div_scalar x / 2.5", "div_scalar", [randn(2, 3)],
         lambda x: x / s, [s], expect=(2, 3))
    case("pow_scalar x ^ 2.5", "pow_scalar", [positive(2, 3)],
         lambda x: x ** s, [s], expect=(2, 3))
    for e in (2.0, 3.0, 0.5):
        case("pow_scalar x ^ %g" % e, "pow_scalar", [positive(2, 3)],
             lambda x, e=e: x ** e, [e], expect=(2, 3))
    case("rsub_scalar 2.5 - x", "rsub_scalar", [randn(2, 3)],
         lambda x: s - x, [s], expect=(2, 3))
    case("rdiv_scalar 2.5 / x", "rdiv_scalar", [nonzero(2, 3)],
         lambda x: s / x, [s], expect=(2, 3))
    case("rpow_scalar 2.5 ^ x", "rpow_scalar", [randn(2, 3)],
         lambda x: s ** x, [s], expect=(2, 3))

    # --- unary ----------------------------------------------------------------
    case("neg (2,3)", "neg", [randn(2, 3)], torch.neg, expect=(2, 3))
    case("tanh (3,4) over [-3,3]", "tanh", [uniform(-3.0, 3.0, 3, 4)],
         torch.tanh, expect=(3, 4))

    # --- matmul ---------------------------------------------------------------
    for sa, sb, expect in [((2, 3), (3, 4), (2, 4)),
                           ((2, 2, 3), (2, 3, 4), (2, 2, 4)),
                           ((2, 1, 2, 3), (3, 3, 2), (2, 3, 2, 2)),
                           ((3,), (3, 4), (4,)),
                           ((2, 3), (3,), (2,)),
                           ((3,), (3,), ()),
                           ((4, 2, 3), (3, 5), (4, 2, 5))]:
        case("matmul %s @ %s" % (shp(sa), shp(sb)), "matmul",
             [randn(*sa), randn(*sb)], torch.matmul, expect=expect)

    # --- linear: y = x W^T + b --------------------------------------------------
    case("linear x(5,3) W(2,3) b(2)", "linear",
         [randn(5, 3), randn(2, 3), randn(2)], F.linear, expect=(5, 2))
    case("linear batched x(2,4,3) W(2,3) b(2)", "linear",
         [randn(2, 4, 3), randn(2, 3), randn(2)], F.linear, expect=(2, 4, 2))
    case("linear_nobias x(5,3) W(2,3)", "linear_nobias",
         [randn(5, 3), randn(2, 3)], F.linear, expect=(5, 2))
    case("linear_nobias batched x(2,4,3) W(2,3)", "linear_nobias",
         [randn(2, 4, 3), randn(2, 3)], F.linear, expect=(2, 4, 2))

    # --- reductions: args = {} or {dim, keepdim} --------------------------------
    for op, fn in (("sum", torch.sum), ("mean", torch.mean)):
        case("%s all (2,3,4)" % op, op, [randn(2, 3, 4)], fn, [], expect=())
        for d, keep, expect in [(0, False, (3, 4)), (1, True, (2, 1, 4)),
                                (-1, False, (2, 3)), (2, False, (2, 3)),
                                (-2, True, (2, 1, 4))]:
            ld = lua_dim(d)
            case("%s dim %d keepdim %s (2,3,4)" % (op, ld, str(keep).lower()),
                 op, [randn(2, 3, 4)],
                 lambda x, fn=fn, d=d, keep=keep: fn(x, dim=d, keepdim=keep),
                 [ld, keep], expect=expect)

    # --- reshape: args = {{shape}} ----------------------------------------------
    for target, expect in [((3, 8), (3, 8)), ((-1, 4), (6, 4))]:
        case("reshape (2,3,4) to {%s}" % ", ".join(map(str, target)),
             "reshape", [randn(2, 3, 4)],
             lambda x, target=target: x.reshape(target), [list(target)],
             expect=expect)

    # --- transpose: args = {dim0, dim1} -------------------------------------------
    for shape, d0, d1, expect in [((2, 3), 0, 1, (3, 2)),
                                  ((2, 3, 4), 0, 2, (4, 3, 2)),
                                  ((2, 3, 4), -1, -2, (2, 4, 3))]:
        a0, a1 = lua_dim(d0), lua_dim(d1)
        case("transpose %d %d %s" % (a0, a1, shp(shape)), "transpose",
             [randn(*shape)],
             lambda x, d0=d0, d1=d1: x.transpose(d0, d1), [a0, a1],
             expect=expect)

    # --- index: t[i] along the first dim, args = {i} (1-based) ------------------
    for shape, i, expect in [((3, 4), 1, (4,)), ((3, 4), -1, (4,)),
                             ((2, 3, 4), 0, (3, 4))]:
        li = lua_dim(i)
        case("index [%d] %s" % (li, shp(shape)), "index", [randn(*shape)],
             lambda x, i=i: x[i], [li], expect=expect)

    # --- composed: a value used twice -----------------------------------------
    case("chain_tanh_mul", "square_tanh_sum", [randn(2, 3)],
         lambda x: torch.tanh(x * x).sum(), expect=())


# ----------------------------------------------------------------------------
# output

HEADER = """\
-- Generated by scripts/gen_fixtures.py (PyTorch, float64). Do not edit by hand;
-- regenerate with: /usr/bin/python3 scripts/gen_fixtures.py
--
-- tensor: {shape = {...}, data = {flat row-major values}} (0-d: shape = {})
-- models[name]: {input, params = {[state_dict name] = T}, output,
--                grads = {input = T, [param name] = T}, seed = T}
--   (seed absent => backward was seeded with ones_like(output))
-- ops[i]: {name, op, inputs = {T, ...}, args = {...}, seed, output,
--          grads = {T or false, ...}}; grads[i] is d(sum(output * seed))/d
--   inputs[i]. args use Lua conventions (1-based dims and indices; negative
--   dims unchanged).
"""


def write_models(lines, models):
    lines.append("  models = {")
    for mname, m in models.items():
        lines.append("    %s = {" % mname)
        lines.append("      input = %s," % fmt_tensor(m["input"], 6))
        if "seed" in m:
            lines.append("      seed = %s," % fmt_tensor(m["seed"], 6))
        lines.append("      params = {")
        for pname, t in m["params"].items():
            lines.append("        %s = %s," % (lua_key(pname), fmt_tensor(t, 8)))
        lines.append("      },")
        lines.append("      output = %s," % fmt_tensor(m["output"], 6))
        lines.append("      grads = {")
        for gname, t in m["grads"].items():
            lines.append("        %s = %s," % (lua_key(gname), fmt_tensor(t, 8)))
        lines.append("      },")
        lines.append("    },")
    lines.append("  },")


def write_ops(lines):
    lines.append("  ops = {")
    for c in OPS:
        lines.append("    {")
        lines.append("      name = %s," % lua.fmt_lua(c["name"]))
        lines.append("      op = %s," % lua.fmt_lua(c["op"]))
        lua.append_tensors(lines, "inputs", c["inputs"], fmt_tensor)
        lines.append("      args = %s," % lua.fmt_lua(c["args"]))
        lines.append("      seed = %s," % fmt_tensor(c["seed"], 6))
        lines.append("      output = %s," % fmt_tensor(c["output"], 6))
        lua.append_tensors(lines, "grads", c["grads"], fmt_tensor)
        lines.append("    },")
    lines.append("  },")


def self_check(models):
    for mname, m in models.items():
        assert set(m["grads"]) == {"input"} | set(m["params"]), mname
        assert m["grads"]["input"].shape == m["input"].shape, mname
        for pname, p in m["params"].items():
            assert m["grads"][pname].shape == p.shape, (mname, pname)
        if "seed" in m:
            assert m["seed"].shape == m["output"].shape, mname
    expected_params = {
        "SimpleTanhModel": {"linear.weight": (2, 3), "linear.bias": (2,)},
        "TanhNetwork": {"fc1.weight": (8, 4), "fc1.bias": (8,),
                        "fc2.weight": (2, 8), "fc2.bias": (2,)},
    }
    expected_params["TanhNetworkBatch"] = expected_params["TanhNetwork"]
    for mname, exp in expected_params.items():
        got = {k: tuple(v.shape) for k, v in models[mname]["params"].items()}
        assert got == exp, (mname, got)
    assert tuple(models["TanhNetworkBatch"]["output"].shape) == (5, 2)
    for c in OPS:
        assert c["seed"].shape == c["output"].shape, c["name"]
        assert len(c["grads"]) == len(c["inputs"]), c["name"]
        for g, x in zip(c["grads"], c["inputs"]):
            assert g is False or g.shape == x.shape, c["name"]
        for t in c["inputs"] + [c["output"]]:
            assert t.numel() <= MAX_ELEMENTS, c["name"]
    assert len({c["name"] for c in OPS}) == len(OPS)


def main():
    models = build_models()
    build_ops()
    self_check(models)
    body = []
    write_models(body, models)
    write_ops(body)
    lua.write_chunk(OUT_PATH, HEADER, body, "%d models, %d ops" % (len(models), len(OPS)))


# The other op families and parts of the library keep their generators
# beside this one; running this script regenerates all of them.
FAMILIES = ["elementwise", "reduce", "shape", "nn", "optim", "serialize", "hvp", "compose",
            "linalg", "train", "attn", "pool", "conv", "rnn"]
# Not a family of ops: models trained in PyTorch for scripts/pytorch_models.lua.
OTHER_GENERATORS = ["gen_pytorch_models.py"]


def main_all():
    import runpy
    main()
    here = Path(__file__).resolve().parent
    for family in FAMILIES:
        script = here / ("gen_fixtures_%s.py" % family)
        if script.exists():
            runpy.run_path(str(script), run_name="__main__")
    for name in OTHER_GENERATORS:
        runpy.run_path(str(here / name), run_name="__main__")


if __name__ == "__main__":
    main_all()
