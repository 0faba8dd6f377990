"""Generate tests/fixtures/shape.lua: PyTorch reference values for Lucid's
shape and indexing ops (tests/shape_spec.lua compares against it).

Run from anywhere with Debian's PyTorch (the ``python3`` first on PATH may
lack torch):

    /usr/bin/python3 scripts/gen_fixtures_shape.py

The output is deterministic (one seeded generator, float64 everywhere), so a
rerun leaves the file unchanged. Running the tests needs neither Python nor
PyTorch.

Format (also in the header of the generated file), in the spirit of
scripts/gen_fixtures.py:
  tensor = {shape = {d1, ...}, data = {flat row-major values}}  (0-d: shape = {})
  ops[i] = {name, op, inputs = {T, ...}, prep = {P or false, ...} (optional),
            args = {...}, seed = T, output = T, grads = {T or false, ...}}
    or, for ops returning a list (split, chunk):
           {..., seeds = {T, ...}, outputs = {T, ...}, grads = {...}}
  - inputs are the differentiable tensors (leaves); grads[i] is
    d(sum_k sum(output_k * seed_k)) / d inputs[i].
  - requires_grad = false (detach): the output records no graph; there is
    then no seed and every grad is false.
  - prep[i], when a table, is a permutation (1-based dims) applied to input i
    before the op: the op then sees a non-contiguous view, and grads[i] is
    still with respect to the stored (contiguous) leaf.
  - args follow Lua conventions: dims 1-based (negative kept), start and
    stop of slice 1-based and inclusive, index tensors hold 1-based
    integers, masks are float tensors (nonzero = true). Index and mask
    tensors inside args are tensors in the format above; each op's spec
    mapping knows which args they are.
Numbers are written with %.17g so float64 values round-trip exactly.
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_lua as lua  # noqa: E402
from fixture_lua import DTYPE, lua_dim  # noqa: E402

SEED = 20240611
MAX_ELEMENTS = 80

OUT_PATH = lua.FIXTURES / "shape.lua"

torch.manual_seed(SEED)
randn = lua.Draws(SEED).randn


class LuaTensor:
    """A non-differentiable tensor argument (index or mask) for the fixture."""

    def __init__(self, t):
        self.t = t.detach().to(DTYPE)


def index_arg(idx):
    """0-based int64 index -> fixture tensor of 1-based values."""
    return LuaTensor(idx + 1)


# ----------------------------------------------------------------------------
# Lua serialisation

def fmt_tensor(t, indent):
    return lua.fmt_tensor(t, indent, MAX_ELEMENTS)


def fmt_lua(v, indent):
    """Lua literal for args: ints, floats, bools, strings, tensors, lists."""
    def tensor_arg(x):
        if not isinstance(x, LuaTensor):
            raise TypeError(type(x))
        return fmt_tensor(x.t, indent)
    return lua.fmt_lua(v, other=tensor_arg)


# ----------------------------------------------------------------------------
# cases

OPS = []


def case(name, op, inputs, fn, args=(), prep=None, expect=None):
    """Adds a case. ``fn`` applies the op (PyTorch conventions) to the inputs
    after ``prep``; ``args`` is the Lua-convention argument list written to
    the fixture; ``expect`` is the output shape (or list of shapes)."""
    assert all(c["name"] != name for c in OPS), "duplicate name " + name
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    prep = list(prep) if prep else [False] * len(leaves)
    used = []
    for leaf, p in zip(leaves, prep):
        used.append(leaf.permute([d - 1 for d in p]) if p else leaf)
    out = fn(*used)
    is_list = isinstance(out, (list, tuple))
    outs = list(out) if is_list else [out]
    if expect is not None:
        shapes = [tuple(o.shape) for o in outs]
        want = [tuple(s) for s in expect] if is_list else [tuple(expect)]
        assert shapes == want, (name, shapes, want)
    requires_grad = any(o.requires_grad for o in outs)
    if requires_grad:
        seeds = [randn(*o.shape) for o in outs]
        loss = sum((o * s).sum() for o, s in zip(outs, seeds))
        loss.backward()
    else:  # detach: no graph, so no seed (and no draw)
        assert not is_list, name
        seeds = [None]
    grads = lua.leaf_grads(leaves, name)
    entry = {"name": name, "op": op, "inputs": [l.detach() for l in leaves],
             "args": list(args), "grads": grads,
             "prep": prep if any(prep) else None,
             "requires_grad": requires_grad}
    if is_list:
        entry["outputs"] = [o.detach() for o in outs]
        entry["seeds"] = seeds
    else:
        entry["output"] = out.detach()
        entry["seed"] = seeds[0]
    OPS.append(entry)


def build_views():
    # --- flatten: args = {} | {start} | {start, end} -------------------------
    for args, expect in [([], (24,)), ([2], (2, 12)), ([1, 2], (6, 4)),
                         ([-2, -1], (2, 12)), ([2, 2], (2, 3, 4))]:
        pd = [a - 1 if a > 0 else a for a in args]
        case("flatten {%s} (2,3,4)" % ", ".join(map(str, args)), "flatten", [randn(2, 3, 4)],
             lambda x, pd=pd: torch.flatten(x, *pd), args, expect=expect)
    case("flatten 0-d", "flatten", [randn()], torch.flatten, [], expect=(1,))
    case("flatten named start_dim 2", "flatten_named", [randn(2, 3, 4)],
         lambda x: torch.flatten(x, start_dim=1), [2], expect=(2, 12))
    case("flatten non-contiguous (4,3,2) permuted {3,2,1}", "flatten",
         [randn(4, 3, 2)], lambda x: torch.flatten(x, 0, 1), [1, 2],
         prep=[[3, 2, 1]], expect=(6, 4))

    # --- squeeze / unsqueeze ---------------------------------------------------
    case("squeeze all (1,3,1,2)", "squeeze", [randn(1, 3, 1, 2)],
         torch.squeeze, [], expect=(3, 2))
    case("squeeze dim 3 (1,3,1,2)", "squeeze", [randn(1, 3, 1, 2)],
         lambda x: x.squeeze(2), [3], expect=(1, 3, 2))
    case("squeeze dim -1 of size 2 (1,3,1,2)", "squeeze", [randn(1, 3, 1, 2)],
         lambda x: x.squeeze(-1), [-1], expect=(1, 3, 1, 2))
    case("squeeze 0-d", "squeeze", [randn()], torch.squeeze, [], expect=())
    case("squeeze non-contiguous (3,1,2) permuted {3,2,1}", "squeeze",
         [randn(3, 1, 2)], torch.squeeze, [], prep=[[3, 2, 1]], expect=(2, 3))
    for d, expect in [(0, (1, 2, 3)), (2, (2, 3, 1)), (-1, (2, 3, 1)),
                      (-3, (1, 2, 3)), (1, (2, 1, 3))]:
        case("unsqueeze %d (2,3)" % lua_dim(d), "unsqueeze", [randn(2, 3)],
             lambda x, d=d: x.unsqueeze(d), [lua_dim(d)], expect=expect)
    case("unsqueeze 1 0-d", "unsqueeze", [randn()],
         lambda x: x.unsqueeze(0), [1], expect=(1,))

    # --- permute / t / broadcast_to -----------------------------------------------
    case("permute 3 1 2 (2,3,4)", "permute", [randn(2, 3, 4)],
         lambda x: x.permute(2, 0, 1), [3, 1, 2], expect=(4, 2, 3))
    case("permute table {-1, 1, -2} (2,3,4)", "permute_table", [randn(2, 3, 4)],
         lambda x: x.permute(-1, 0, -2), [[-1, 1, -2]], expect=(4, 2, 3))
    case("t (2,3)", "t", [randn(2, 3)], torch.t, [], expect=(3, 2))
    case("t (3,)", "t", [randn(3)], torch.t, [], expect=(3,))
    case("t 0-d", "t", [randn()], torch.t, [], expect=())
    case("broadcast_to (3,1) to {2,3,4}", "broadcast_to", [randn(3, 1)],
         lambda x: torch.broadcast_to(x, (2, 3, 4)), [[2, 3, 4]],
         expect=(2, 3, 4))
    case("broadcast_to varargs (1,3) to 2 -1", "broadcast_to_varargs",
         [randn(1, 3)], lambda x: torch.broadcast_to(x, (2, -1)), [2, -1],
         expect=(2, 3))
    case("broadcast_to 0-d to {2,2}", "broadcast_to", [randn()],
         lambda x: torch.broadcast_to(x, (2, 2)), [[2, 2]], expect=(2, 2))

    # --- narrow: args = {dim, start (1-based, negative from the end), length} ----
    case("narrow 2 2 2 (3,4)", "narrow", [randn(3, 4)],
         lambda x: x.narrow(1, 1, 2), [2, 2, 2], expect=(3, 2))
    case("narrow -1 -2 2 (3,4)", "narrow", [randn(3, 4)],
         lambda x: x.narrow(-1, 2, 2), [-1, -2, 2], expect=(3, 2))
    case("narrow 1 1 0 (3,4)", "narrow", [randn(3, 4)],
         lambda x: x.narrow(0, 0, 0), [1, 1, 0], expect=(0, 4))
    case("narrow non-contiguous (4,3) permuted {2,1}", "narrow", [randn(4, 3)],
         lambda x: x.narrow(1, 1, 3), [2, 2, 3], prep=[[2, 1]], expect=(3, 3))

    # --- slice: args = {dim, start, stop, step}: Lua-inclusive stop ---------------
    # (python slice, lua args)
    slices = [
        ((5, 4), 0, slice(1, 4), [1, 2, 4], (3, 4)),
        ((5, 4), 0, slice(0, 5, 2), [1, 1, -1, 2], (3, 4)),
        ((5, 4), 0, slice(1, 4, 2), [1, 2, 4, 2], (2, 4)),
        ((5, 4), -1, slice(-3, None), [-1, -3, -1], (5, 3)),
        ((5, 4), 1, slice(0, 3), [2, -10, 3], (5, 3)),       # start clamps to 1
        ((5, 4), 0, slice(3, 5), [1, 4, 100], (2, 4)),       # stop clamps to 5
        ((5, 4), 0, slice(3, 3), [1, 4, 2], (0, 4)),         # start > stop: empty
        ((5, 4), 1, slice(1, None, 3), [2, 2, -1, 3], (5, 1)),
        ((2, 6, 2), 1, slice(5, 0, 1), [2, 6, 1], (2, 0, 2)),
    ]
    for shape, d, sl, args, expect in slices:
        def fn(x, d=d, sl=sl):
            idx = [slice(None)] * x.dim()
            idx[d] = sl
            return x[tuple(idx)]
        case("slice {%s} (%s)" % (", ".join(map(str, args)), ",".join(map(str, shape))),
             "slice", [randn(*shape)], fn, args, expect=expect)
    case("slice dim only (3,4)", "slice", [randn(3, 4)], lambda x: x[:],
         [1], expect=(3, 4))
    case("slice non-contiguous (4,5) permuted {2,1}", "slice", [randn(4, 5)],
         lambda x: x[1::2], [1, 2, -1, 2], prep=[[2, 1]], expect=(2, 4))

    # --- split / chunk: args = {size or {sizes}, dim} ------------------------------
    case("split 2 (5,3)", "split", [randn(5, 3)],
         lambda x: torch.split(x, 2), [2], expect=[(2, 3), (2, 3), (1, 3)])
    case("split 2 dim 2 (3,4)", "split", [randn(3, 4)],
         lambda x: torch.split(x, 2, 1), [2, 2], expect=[(3, 2), (3, 2)])
    case("split sizes {1,3,1} dim -1 (2,5)", "split", [randn(2, 5)],
         lambda x: torch.split(x, [1, 3, 1], -1), [[1, 3, 1], -1],
         expect=[(2, 1), (2, 3), (2, 1)])
    case("split sizes {0,2} (2,3)", "split", [randn(2, 3)],
         lambda x: torch.split(x, [0, 2]), [[0, 2]], expect=[(0, 3), (2, 3)])
    case("split named dim (3,4)", "split_named", [randn(3, 4)],
         lambda x: torch.split(x, 3, dim=1), [3, 2], expect=[(3, 3), (3, 1)])
    case("chunk 3 (5,2)", "chunk", [randn(5, 2)],
         lambda x: torch.chunk(x, 3), [3], expect=[(2, 2), (2, 2), (1, 2)])
    case("chunk 4 dim 2 (2,6)", "chunk", [randn(2, 6)],
         lambda x: torch.chunk(x, 4, 1), [4, 2], expect=[(2, 2)] * 3)
    case("chunk 2 dim -1 non-contiguous (5,2) permuted {2,1}", "chunk",
         [randn(5, 2)], lambda x: torch.chunk(x, 2, -1), [2, -1],
         prep=[[2, 1]], expect=[(2, 3), (2, 2)])


def build_copies():
    # --- cat / stack: inputs are the list; args = {dim} ------------------------------
    case("cat dim 1 (2,3)+(1,3)", "cat", [randn(2, 3), randn(1, 3)],
         lambda a, b: torch.cat([a, b]), [], expect=(3, 3))
    case("cat dim 2 (2,3)+(2,1)+(2,2)", "cat", [randn(2, 3), randn(2, 1), randn(2, 2)],
         lambda a, b, c: torch.cat([a, b, c], 1), [2], expect=(2, 6))
    case("cat dim -1 (2,2,3)+(2,2,2)", "cat", [randn(2, 2, 3), randn(2, 2, 2)],
         lambda a, b: torch.cat([a, b], -1), [-1], expect=(2, 2, 5))
    case("cat dim 2 (2,3,2)+(2,1,2) short runs", "cat",
         [randn(2, 3, 2), randn(2, 1, 2)], lambda a, b: torch.cat([a, b], 1),
         [2], expect=(2, 4, 2))
    case("cat dim 2 (2,3,4)+(2,2,4) whole runs", "cat",
         [randn(2, 3, 4), randn(2, 2, 4)], lambda a, b: torch.cat([a, b], 1),
         [2], expect=(2, 5, 4))
    case("cat named dim 2", "cat_named", [randn(2, 2), randn(2, 3)],
         lambda a, b: torch.cat([a, b], dim=1), [2], expect=(2, 5))
    case("cat legacy empty (0,) + (2,3)", "cat", [randn(0), randn(2, 3)],
         lambda a, b: torch.cat([a, b]), [], expect=(2, 3))
    case("cat with empty part (2,0)+(2,3)", "cat", [randn(2, 0), randn(2, 3)],
         lambda a, b: torch.cat([a, b], 1), [2], expect=(2, 3))
    case("cat non-contiguous (3,2)^T + (2,2)", "cat", [randn(3, 2), randn(2, 2)],
         lambda a, b: torch.cat([a, b], 1), [2], prep=[[2, 1], False],
         expect=(2, 5))
    case("cat single (2,3)", "cat", [randn(2, 3)], lambda a: torch.cat([a]),
         [], expect=(2, 3))
    case("stack dim 1 (2,3)x2", "stack", [randn(2, 3), randn(2, 3)],
         lambda a, b: torch.stack([a, b]), [], expect=(2, 2, 3))
    case("stack dim 3 (2,3)x3", "stack", [randn(2, 3), randn(2, 3), randn(2, 3)],
         lambda a, b, c: torch.stack([a, b, c], 2), [3], expect=(2, 3, 3))
    case("stack dim -1 (2,3)x2", "stack", [randn(2, 3), randn(2, 3)],
         lambda a, b: torch.stack([a, b], -1), [-1], expect=(2, 3, 2))
    case("stack dim 2 (2,8)x2 whole runs", "stack", [randn(2, 8), randn(2, 8)],
         lambda a, b: torch.stack([a, b], 1), [2], expect=(2, 2, 8))
    case("stack 0-d x3", "stack", [randn(), randn(), randn()],
         lambda a, b, c: torch.stack([a, b, c]), [], expect=(3,))
    case("stack non-contiguous (3,2)^T x2", "stack", [randn(3, 2), randn(2, 3)],
         lambda a, b: torch.stack([a, b], 1), [2], prep=[[2, 1], False],
         expect=(2, 2, 3))

    # --- index_select: args = {dim, index} ----------------------------------------------
    idx = torch.tensor([2, 0, 2, 1])
    case("index_select 1 repeated (3,4)", "index_select", [randn(3, 4)],
         lambda x: x.index_select(0, idx), [1, index_arg(idx)], expect=(4, 4))
    idx2 = torch.tensor([3, 0])
    case("index_select -1 (2,3,4)", "index_select", [randn(2, 3, 4)],
         lambda x: x.index_select(-1, idx2), [-1, index_arg(idx2)],
         expect=(2, 3, 2))
    case("index_select list {3,1,3} dim 2 (2,3)", "index_select_list",
         [randn(2, 3)], lambda x: x.index_select(1, torch.tensor([2, 0, 2])),
         [2, [3, 1, 3]], expect=(2, 3))
    case("index_select 0-d index (3,4)", "index_select", [randn(3, 4)],
         lambda x: x.index_select(1, torch.tensor(2)),
         [2, index_arg(torch.tensor(2))], expect=(3, 1))
    case("index_select empty index (3,4)", "index_select", [randn(3, 4)],
         lambda x: x.index_select(0, torch.zeros(0, dtype=torch.long)),
         [1, index_arg(torch.zeros(0, dtype=torch.long))], expect=(0, 4))
    idx3 = torch.tensor([1, 1, 0])
    case("index_select non-contiguous (4,3) permuted {2,1}", "index_select",
         [randn(4, 3)], lambda x: x.index_select(0, idx3), [1, index_arg(idx3)],
         prep=[[2, 1]], expect=(3, 4))
    idx4 = torch.tensor([3, 0, 3])
    case("index_select dim 2 (2,4,8) whole rows", "index_select", [randn(2, 4, 8)],
         lambda x: x.index_select(1, idx4), [2, index_arg(idx4)],
         expect=(2, 3, 8))

    # --- gather: args = {dim, index} -----------------------------------------------------
    gi = torch.tensor([[0, 0], [2, 1], [1, 2]])
    case("gather 2 (3,3)", "gather", [randn(3, 3)],
         lambda x: x.gather(1, gi), [2, index_arg(gi)], expect=(3, 2))
    gi2 = torch.tensor([[2, 0, 1, 2], [0, 0, 0, 1]])
    case("gather 1 repeated (3,4)", "gather", [randn(3, 4)],
         lambda x: x.gather(0, gi2), [1, index_arg(gi2)], expect=(2, 4))
    gi3 = torch.tensor([[[1, 0, 1]], [[0, 0, 0]]])
    case("gather -1 (2,2,2) index (2,1,3)", "gather", [randn(2, 2, 2)],
         lambda x: x.gather(-1, gi3), [-1, index_arg(gi3)], expect=(2, 1, 3))
    gi4 = torch.tensor([[1, 0], [3, 3], [0, 2]])
    case("gather non-contiguous (4,3) permuted {2,1}", "gather", [randn(4, 3)],
         lambda x: x.gather(1, gi4), [2, index_arg(gi4)], prep=[[2, 1]],
         expect=(3, 2))
    case("gather empty index (2,3)", "gather", [randn(2, 3)],
         lambda x: x.gather(1, torch.zeros(2, 0, dtype=torch.long)),
         [2, index_arg(torch.zeros(2, 0, dtype=torch.long))], expect=(2, 0))

    # --- scatter_add: inputs = {self, src}; args = {dim, index} --------------------------
    si = torch.tensor([[0, 1, 0], [2, 2, 1]])
    case("scatter_add 2 (2,4) src (2,3)", "scatter_add", [randn(2, 4), randn(2, 3)],
         lambda x, s: torch.scatter_add(x, 1, si, s), [2, index_arg(si)],
         expect=(2, 4))
    si2 = torch.tensor([[1, 0], [1, 1], [0, 2]])
    case("scatter_add 1 (3,2) src (3,2)", "scatter_add", [randn(3, 2), randn(3, 2)],
         lambda x, s: torch.scatter_add(x, 0, si2, s), [1, index_arg(si2)],
         expect=(3, 2))
    si3 = torch.tensor([[0, 3], [1, 1]])
    # PyTorch 1.13's own backward fails when src is larger than the index;
    # slicing src to the index's shape first gives the intended gradient
    # (zeros where src is not read).
    case("scatter_add -1 (2,4) src (3,3) larger than index (2,2)", "scatter_add",
         [randn(2, 4), randn(3, 3)],
         lambda x, s: torch.scatter_add(x, -1, si3, s[:2, :2]),
         [-1, index_arg(si3)], expect=(2, 4))
    si4 = torch.tensor([[0, 0, 1]])
    case("scatter_add non-contiguous src (3,2) permuted {2,1}", "scatter_add",
         [randn(2, 3), randn(3, 2)],
         lambda x, s: torch.scatter_add(x, 0, si4, s[:1]), [1, index_arg(si4)],
         prep=[False, [2, 1]], expect=(2, 3))

    # --- masked_fill: args = {mask, value} (masks: nonzero = true) ----------------------
    m = torch.tensor([[1.0, 0.0, 2.5], [0.0, -1.0, 0.0]])
    case("masked_fill same shape (2,3)", "masked_fill", [randn(2, 3)],
         lambda x: x.masked_fill(m != 0, -0.75), [LuaTensor(m), -0.75],
         expect=(2, 3))
    m2 = torch.tensor([0.0, 1.0, 0.0])
    case("masked_fill mask (3,) broadcast over (2,3)", "masked_fill", [randn(2, 3)],
         lambda x: x.masked_fill(m2 != 0, 4.0), [LuaTensor(m2), 4.0],
         expect=(2, 3))
    m3 = torch.tensor([[1.0], [0.0]])
    case("masked_fill input (3,) broadcast to mask (2,1)", "masked_fill", [randn(3)],
         lambda x: x.masked_fill(m3 != 0, 0.5), [LuaTensor(m3), 0.5],
         expect=(2, 3))
    case("masked_fill 0-d value tensor", "masked_fill_tensor", [randn(2, 3), randn()],
         lambda x, v: x.masked_fill(m != 0, v), [LuaTensor(m)], expect=(2, 3))
    m4 = torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    case("masked_fill non-contiguous (2,3) permuted {2,1}", "masked_fill",
         [randn(2, 3)], lambda x: x.masked_fill(m4 != 0, 9.0),
         [LuaTensor(m4), 9.0], prep=[[2, 1]], expect=(3, 2))

    # --- repeat: args = reps (varargs) or {reps} -----------------------------------------
    case("repeat 2 1 2 (2,3)", "repeat", [randn(2, 3)],
         lambda x: x.repeat(2, 1, 2), [2, 1, 2], expect=(2, 2, 6))
    case("repeat table {3, 2} (2,1)", "repeat_table", [randn(2, 1)],
         lambda x: x.repeat(3, 2), [[3, 2]], expect=(6, 2))
    case("repeat 2 3 0-d", "repeat", [randn()],
         lambda x: x.repeat(2, 3), [2, 3], expect=(2, 3))
    case("repeat 1 1 (2,3)", "repeat", [randn(2, 3)],
         lambda x: x.repeat(1, 1), [1, 1], expect=(2, 3))
    case("repeat 0 2 (2,3)", "repeat", [randn(2, 3)],
         lambda x: x.repeat(0, 2), [0, 2], expect=(0, 6))
    case("repeat non-contiguous 2 2 (3,2) permuted {2,1}", "repeat", [randn(3, 2)],
         lambda x: x.repeat(2, 2), [2, 2], prep=[[2, 1]], expect=(4, 6))
    case("tile 2 (2,3)", "tile", [randn(2, 3)],
         lambda x: torch.tile(x, (2,)), [2], expect=(2, 6))

    # --- flip: args = dims (varargs) or {dims} ------------------------------------------
    case("flip 1 (3,2)", "flip", [randn(3, 2)], lambda x: x.flip(0), [1],
         expect=(3, 2))
    case("flip 1 3 (2,3,2)", "flip", [randn(2, 3, 2)], lambda x: x.flip(0, 2),
         [1, 3], expect=(2, 3, 2))
    case("flip table {-1} (2,3)", "flip_table", [randn(2, 3)],
         lambda x: x.flip([-1]), [[-1]], expect=(2, 3))
    case("flip non-contiguous (3,4) permuted {2,1}", "flip", [randn(3, 4)],
         lambda x: x.flip(0, 1), [1, 2], prep=[[2, 1]], expect=(4, 3))


def build_core_views():
    """The core's own view and copy ops (Tensor:view, expand, select,
    contiguous, clone, detach). They come after the cases above so that
    those keep their random draws."""
    # --- view: args = sizes (varargs) or {sizes}; -1 is inferred ----------------
    case("view 3 4 (2,6)", "view", [randn(2, 6)], lambda x: x.view(3, 4),
         [3, 4], expect=(3, 4))
    case("view table {2, -1, 2} (3,4)", "view", [randn(3, 4)],
         lambda x: x.view(2, -1, 2), [[2, -1, 2]], expect=(2, 3, 2))
    case("view -1 (2,3,2)", "view", [randn(2, 3, 2)], lambda x: x.view(-1),
         [-1], expect=(12,))
    case("view 1 1 0-d", "view", [randn()], lambda x: x.view(1, 1), [1, 1],
         expect=(1, 1))
    # a non-contiguous input whose strides allow the view: dim 1 (size 4,
    # stride 1) splits into 2 x 2, and a size-1 dim goes in anywhere
    case("view 2 2 3 non-contiguous (3,4) permuted {2,1}", "view", [randn(3, 4)],
         lambda x: x.view(2, 2, 3), [2, 2, 3], prep=[[2, 1]], expect=(2, 2, 3))
    case("view table {4, 1, 3} non-contiguous (3,4) permuted {2,1}", "view",
         [randn(3, 4)], lambda x: x.view(4, 1, 3), [[4, 1, 3]], prep=[[2, 1]],
         expect=(4, 1, 3))

    # --- expand: args = sizes (varargs) or {sizes}; -1 keeps a size --------------
    case("expand 2 3 4 (3,1)", "expand", [randn(3, 1)],
         lambda x: x.expand(2, 3, 4), [2, 3, 4], expect=(2, 3, 4))
    case("expand 2 -1 4 (3,1)", "expand", [randn(3, 1)],
         lambda x: x.expand(2, -1, 4), [2, -1, 4], expect=(2, 3, 4))
    case("expand table {3, -1} (1,4)", "expand", [randn(1, 4)],
         lambda x: x.expand([3, -1]), [[3, -1]], expect=(3, 4))
    case("expand same shape (2,3)", "expand", [randn(2, 3)],
         lambda x: x.expand(2, 3), [2, 3], expect=(2, 3))
    case("expand 2 3 0-d", "expand", [randn()], lambda x: x.expand(2, 3),
         [2, 3], expect=(2, 3))
    case("expand 2 -1 3 -1 non-contiguous (2,1,2) permuted {3,2,1}", "expand",
         [randn(2, 1, 2)], lambda x: x.expand(2, -1, 3, -1), [2, -1, 3, -1],
         prep=[[3, 2, 1]], expect=(2, 2, 3, 2))

    # --- select: args = {dim, index}: both 1-based, negative from the end ---------
    case("select 1 2 (3,4)", "select", [randn(3, 4)],
         lambda x: x.select(0, 1), [1, 2], expect=(4,))
    case("select 2 -1 (3,4)", "select", [randn(3, 4)],
         lambda x: x.select(1, -1), [2, -1], expect=(3,))
    case("select -1 -3 (2,3,4)", "select", [randn(2, 3, 4)],
         lambda x: x.select(-1, -3), [-1, -3], expect=(2, 3))
    case("select 2 3 (2,4,3)", "select", [randn(2, 4, 3)],
         lambda x: x.select(1, 2), [2, 3], expect=(2, 3))
    case("select 1 1 (3,) to 0-d", "select", [randn(3)],
         lambda x: x.select(0, 0), [1, 1], expect=())
    case("select 1 3 non-contiguous (4,3) permuted {2,1}", "select",
         [randn(4, 3)], lambda x: x.select(0, 2), [1, 3], prep=[[2, 1]],
         expect=(4,))
    case("select 2 -2 non-contiguous (4,3) permuted {2,1}", "select",
         [randn(4, 3)], lambda x: x.select(1, -2), [2, -2], prep=[[2, 1]],
         expect=(3,))

    # --- contiguous, clone: copies (contiguous of a view: the case it is for) ----
    case("contiguous non-contiguous (3,4) permuted {2,1}", "contiguous",
         [randn(3, 4)], lambda x: x.contiguous(), [], prep=[[2, 1]],
         expect=(4, 3))
    case("contiguous non-contiguous (2,3,4) permuted {3,1,2}", "contiguous",
         [randn(2, 3, 4)], lambda x: x.contiguous(), [], prep=[[3, 1, 2]],
         expect=(4, 2, 3))
    case("contiguous (2,3)", "contiguous", [randn(2, 3)],
         lambda x: x.contiguous(), [], expect=(2, 3))
    case("clone (2,3)", "clone", [randn(2, 3)], torch.clone, [], expect=(2, 3))
    case("clone non-contiguous (3,4) permuted {2,1}", "clone", [randn(3, 4)],
         torch.clone, [], prep=[[2, 1]], expect=(4, 3))
    case("clone 0-d", "clone", [randn()], torch.clone, [], expect=())

    # --- detach: the values, no graph (requires_grad = false, grads false) -------
    case("detach (2,3)", "detach", [randn(2, 3)], lambda x: x.detach(), [],
         expect=(2, 3))
    case("detach non-contiguous (3,4) permuted {2,1}", "detach", [randn(3, 4)],
         lambda x: x.detach(), [], prep=[[2, 1]], expect=(4, 3))


# ----------------------------------------------------------------------------
# output

HEADER = """\
-- Generated by scripts/gen_fixtures_shape.py (PyTorch, float64). Do not edit
-- by hand; regenerate with: /usr/bin/python3 scripts/gen_fixtures_shape.py
--
-- tensor: {shape = {...}, data = {flat row-major values}} (0-d: shape = {})
-- ops[i]: {name, op, inputs = {T, ...}, prep = {P or false, ...} (optional),
--          args = {...}, seed = T, output = T, grads = {T or false, ...}}
--   or, for ops returning a list (split, chunk), seeds = {T, ...} and
--   outputs = {T, ...} instead of seed and output.
-- inputs are the differentiable leaves; grads[i] is
--   d(sum_k sum(output_k * seed_k)) / d inputs[i].
-- requires_grad = false (detach): the output records no graph; no seed, and
--   every grad is false.
-- prep[i], when a table, is a permutation (1-based dims) applied to input i
--   before the op, so the op sees a non-contiguous view; grads[i] is still
--   with respect to the stored leaf.
-- args use Lua conventions: dims 1-based (negative dims unchanged), slice's
--   start and stop 1-based and inclusive (as string.sub), index tensors hold
--   1-based integers, masks are float tensors (nonzero = true). Index and
--   mask tensors inside args are written as tensors.
"""


def write_ops(lines):
    lines.append("  ops = {")
    for c in OPS:
        lines.append("    {")
        lines.append("      name = %s," % fmt_lua(c["name"], 6))
        lines.append("      op = %s," % fmt_lua(c["op"], 6))
        lua.append_tensors(lines, "inputs", c["inputs"], fmt_tensor)
        if c["prep"]:
            lines.append("      prep = %s," % fmt_lua(c["prep"], 6))
        lines.append("      args = %s," % fmt_lua(c["args"], 6))
        if not c["requires_grad"]:
            lines.append("      requires_grad = false,")
        if "outputs" in c:
            for key in ("seeds", "outputs"):
                lua.append_tensors(lines, key, c[key], fmt_tensor)
        else:
            if c["seed"] is not None:
                lines.append("      seed = %s," % fmt_tensor(c["seed"], 6))
            lines.append("      output = %s," % fmt_tensor(c["output"], 6))
        lua.append_tensors(lines, "grads", c["grads"], fmt_tensor)
        lines.append("    },")
    lines.append("  },")


def self_check():
    ops = {c["op"] for c in OPS}
    wanted = {"flatten", "squeeze", "unsqueeze", "permute", "t", "broadcast_to",
              "narrow", "slice", "split", "chunk", "cat", "stack",
              "index_select", "gather", "scatter_add", "masked_fill", "repeat",
              "flip", "view", "expand", "select", "contiguous", "clone", "detach"}
    assert wanted <= ops, wanted - ops
    for c in OPS:
        assert len(c["grads"]) == len(c["inputs"]), c["name"]
        if not c["requires_grad"]:
            assert all(g is False for g in c["grads"]), c["name"]
        for g, x in zip(c["grads"], c["inputs"]):
            assert g is False or g.shape == x.shape, c["name"]
    assert len({c["name"] for c in OPS}) == len(OPS)


def main():
    torch.set_default_dtype(DTYPE)
    build_views()
    build_copies()
    build_core_views()
    self_check()
    body = []
    write_ops(body)
    lua.write_chunk(OUT_PATH, HEADER, body, "%d ops" % len(OPS))


if __name__ == "__main__":
    main()
