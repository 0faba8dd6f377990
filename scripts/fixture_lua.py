"""What the fixture generators (scripts/gen_fixtures*.py) share: seeded random
data and writing Python values as a Lua chunk.

Each generator imports this module with its own folder put on ``sys.path``
(from ``__file__``), so it runs from anywhere:

    /usr/bin/python3 scripts/gen_fixtures_shape.py

Fixture values are float64 throughout. A tensor is written as
``{shape = {d1, ...}, data = {flat row-major values}}`` (0-d: ``shape = {}``),
and every number with %.17g so that it reads back into Lua as the same
double. Each generator keeps its own header text and its own layout of
cases; what differs between them (whether NaN and infinities may appear,
the largest tensor, the dtypes it converts) stays in the generator, next to
the cases that need it.
"""

import math
from pathlib import Path

import torch

DTYPE = torch.float64

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "tests" / "fixtures"


# ----------------------------------------------------------------------------
# random data

class Draws:
    """Random float64 tensors, all drawn from one generator seeded with
    ``seed``, in the order they are asked for (a generator that adds a case
    at the end leaves the values of the earlier ones unchanged)."""

    def __init__(self, seed):
        self.gen = torch.Generator().manual_seed(seed)

    def randn(self, *shape):
        return torch.randn(shape, generator=self.gen, dtype=DTYPE)

    def rand(self, *shape):
        return torch.rand(shape, generator=self.gen, dtype=DTYPE)

    def uniform(self, lo, hi, *shape):
        return self.rand(*shape) * (hi - lo) + lo

    def positive(self, *shape):
        """|randn| + 0.5: away from 0 (pow bases, sqrt)."""
        return self.randn(*shape).abs() + 0.5

    def nonzero(self, *shape):
        """Values with |x| >= 0.5 (divisors, reciprocal)."""
        x = self.randn(*shape)
        return torch.where(x < 0, x - 0.5, x + 0.5)


def leaf_grads(leaves, name):
    """After backward: each leaf's gradient (checked to have the leaf's
    shape), or False where none reached it. ``name`` is the case's, for
    the assertion."""
    grads = []
    for leaf in leaves:
        if leaf.grad is None:
            grads.append(False)
        else:
            assert leaf.grad.shape == leaf.shape, name
            grads.append(leaf.grad)
    return grads


# ----------------------------------------------------------------------------
# PyTorch conventions -> Lua conventions

def lua_dim(d):
    """PyTorch dim -> Lua dim: 0-based non-negative dims become 1-based."""
    assert isinstance(d, int)
    return d + 1 if d >= 0 else d


def shp(s):
    """Python-style shape text for case names: (), (3,), (2,3)."""
    s = tuple(s)
    return "(%d,)" % s[0] if len(s) == 1 else "(" + ",".join(map(str, s)) + ")"


# ----------------------------------------------------------------------------
# Lua literals

def fmt_num(x, nonfinite=False):
    """A number as Lua source that reads back as the same double. NaN and
    infinities are an error unless ``nonfinite``; then they are written
    ``0/0``, ``math.huge`` and ``-math.huge``."""
    x = float(x)
    if nonfinite:
        if math.isnan(x):
            return "0/0"
        if math.isinf(x):
            return "math.huge" if x > 0 else "-math.huge"
    assert math.isfinite(x), x
    if x == 0.0 and math.copysign(1.0, x) < 0:
        # "-0" would read back as the integer 0, and Lua 5.1 and LuaJIT read
        # the constant -0.0 as 0: computed when the chunk runs, it is -0.0 on all
        return "-1 / math.huge"
    return "%.17g" % x


def fmt_tensor(t, indent=None, max_elements=None, num=fmt_num):
    """A float64 tensor as ``{shape = {...}, data = {...}}``. With an
    ``indent`` (the column of the table), more than four values are written
    four to a line; without one, all on one line. ``num`` formats each
    value."""
    t = t.detach()
    assert t.dtype == DTYPE, t.dtype
    shape = list(t.shape)
    assert max_elements is None or t.numel() <= max_elements, shape
    values = [num(v) for v in t.reshape(-1).tolist()]
    assert len(values) == math.prod(shape)
    shape_s = "{" + ", ".join(str(d) for d in shape) + "}"
    if indent is None or len(values) <= 4:
        return "{shape = %s, data = {%s}}" % (shape_s, ", ".join(values))
    pad = " " * (indent + 2)
    lines = [pad + ", ".join(values[i:i + 4]) + ","
             for i in range(0, len(values), 4)]
    return "{shape = %s, data = {\n%s\n%s}}" % (shape_s, "\n".join(lines),
                                               " " * indent)


def lua_key(k):
    """A table key: [i] for an integer, the bare name for an identifier,
    else ["k"]."""
    if isinstance(k, int):
        return "[%d]" % k
    return k if k.isidentifier() else '["%s"]' % k


def fmt_lua(v, num=fmt_num, other=None, sort_keys=False):
    """A Python value as a one-line Lua literal: bools, ints, floats (written
    by ``num``), strings, lists and tuples, dicts (in their order, or with
    ``sort_keys`` integer keys first, then names, each sorted). Any other
    value goes to ``other`` (tensors), or is an error without it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return num(v)
    if isinstance(v, str):
        return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')

    def item(x):
        return fmt_lua(x, num, other, sort_keys)

    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(item(x) for x in v) + "}"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: (isinstance(k, str), k)) if sort_keys else v
        return "{" + ", ".join("%s = %s" % (lua_key(k), item(v[k])) for k in keys) + "}"
    if other is not None:
        return other(v)
    raise TypeError(type(v))


def append_tensors(lines, key, tensors, fmt):
    """Appends ``key = {`` a list of tensors ``},`` at the indent of an entry
    field (6); ``False`` items (no gradient) are written ``false``."""
    lines.append("      %s = {" % key)
    for t in tensors:
        lines.append("        %s," % ("false" if t is False else fmt(t, 8)))
    lines.append("      },")


def write_chunk(path, header, body, summary):
    """Writes ``header``, then ``return {``, the ``body`` lines and ``}`` to
    ``path``, and says so with ``summary`` (what it holds)."""
    lines = [header, "return {"] + body + ["}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print("wrote %s (%s)" % (path.relative_to(REPO_ROOT), summary))
