"""Generate tests/fixtures/hvp.lua: PyTorch reference values for Hessian-vector
products (second-order autograd) of a few small float64 functions
(tests/hvp_spec.lua builds the same functions with Lucid's ops and compares).

Run from anywhere with Debian's PyTorch 1.13 (the ``python3`` first on PATH
may lack torch):

    /usr/bin/python3 scripts/gen_fixtures_hvp.py

Deterministic (one seeded generator, float64 everywhere): rerunning leaves
the file unchanged. Running the tests needs neither Python nor PyTorch.

For each case, with the inputs as leaves and the constants fixed:
  loss  = f(inputs, consts)                       (a 0-d tensor)
  grads = torch.autograd.grad(loss, inputs, create_graph=True)
  hvp   = torch.autograd.grad(sum_i sum(grads[i] * v[i]), inputs)
so hvp[i] is the block row i of the Hessian of f (with respect to all the
inputs) times the direction v, one tensor per input. The generator checks
hvp against the full Hessian (torch.autograd.functional.hessian) times v.

Format (also in the header of the generated file):
  tensor = {shape = {d1, ...}, data = {flat row-major values}}  (0-d: shape = {})
  cases[i] = {name, fn, inputs = {T, ...}, consts = {[name] = T, ...},
              v = {T, ...}, loss = T, grads = {T, ...}, hvp = {T, ...}}
  - fn names the function; the spec maps it to Lucid ops (HEADER lists them
    in Lua terms, 1-based dims).
  - inputs are the tensors differentiated against (in order), consts the
    others (data, targets); v[i], grads[i] and hvp[i] have inputs[i]'s shape.
Numbers are written with %.17g so float64 values round-trip exactly.
"""

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_lua as lua  # noqa: E402
from fixture_lua import DTYPE  # noqa: E402

SEED = 20240615
MAX_ELEMENTS = 40

OUT_PATH = lua.FIXTURES / "hvp.lua"

torch.set_default_dtype(DTYPE)
DRAW = lua.Draws(SEED)
randn = DRAW.randn


# ----------------------------------------------------------------------------
# the functions: f(*inputs, **consts) -> 0-d tensor (PyTorch dims, 0-based)

def tanh_cube_sum(x):
    return (torch.tanh(x) ** 3).sum()


def mlp_mse(W1, b1, W2, b2, x, target):
    h = torch.tanh(F.linear(x, W1, b1))
    return ((F.linear(h, W2, b2) - target) ** 2).mean()


def log_softmax_nll(W, x, onehot):
    return -(F.log_softmax(x @ W.T, dim=1) * onehot).sum(1).mean()


def sigmoid_exp_rational(x):
    return (torch.sigmoid(x) * torch.exp(x) / (1 + x ** 2)).sum()


def softmax_square_sum(x):
    return (F.softmax(x, dim=1) ** 2).sum()


FNS = {f.__name__: f for f in (tanh_cube_sum, mlp_mse, log_softmax_nll,
                               sigmoid_exp_rational, softmax_square_sum)}


# ----------------------------------------------------------------------------
# cases

CASES = []


def hvp_by_hessian(fn, inputs, consts, vs):
    """The same product through the full Hessian: an independent check."""
    sizes = [t.numel() for t in inputs]

    def flat_fn(flat):
        parts = torch.split(flat, sizes)
        return fn(*[p.view(t.shape) for p, t in zip(parts, inputs)], **consts)

    flat = torch.cat([t.reshape(-1) for t in inputs])
    hess = torch.autograd.functional.hessian(flat_fn, flat)
    prod = hess @ torch.cat([v.reshape(-1) for v in vs])
    return [p.view(t.shape) for p, t in zip(torch.split(prod, sizes), inputs)]


def case(name, fn, inputs, consts=None):
    """Adds a case: ``inputs`` (list) are differentiated against, ``consts``
    (dict, in its order) are not. The direction v is drawn here, one tensor
    per input, after the inputs."""
    assert all(c["name"] != name for c in CASES), "duplicate name " + name
    consts = dict(consts or {})
    vs = [randn(*t.shape) for t in inputs]
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    loss = FNS[fn](*leaves, **consts)
    assert loss.dim() == 0, name
    grads = torch.autograd.grad(loss, leaves, create_graph=True)
    dot = sum((g * v).sum() for g, v in zip(grads, vs))
    hvp = torch.autograd.grad(dot, leaves)
    want = hvp_by_hessian(FNS[fn], [t.detach() for t in inputs], consts, vs)
    for h, w in zip(hvp, want):
        assert torch.allclose(h, w, rtol=1e-12, atol=1e-13), name
        assert h.abs().max() > 1e-3, name  # not trivially zero
    CASES.append({"name": name, "fn": fn, "inputs": [t.detach() for t in inputs],
                  "consts": consts, "v": vs, "loss": loss.detach(),
                  "grads": [g.detach() for g in grads],
                  "hvp": [h.detach() for h in hvp]})


def onehot(n, classes):
    """A {n, classes} one-hot float64 matrix of random labels."""
    labels = torch.randint(0, classes, (n,), generator=DRAW.gen)
    return F.one_hot(labels, classes).to(DTYPE)


def build():
    # (a) f(x) = sum(tanh(x)^3)
    case("tanh cube sum (3,4)", "tanh_cube_sum", [randn(3, 4)])
    # (b) a tiny MLP's MSE, with respect to its parameters
    x, target = randn(5, 3), randn(5, 2)
    case("mlp mse wrt W1 b1 W2 b2", "mlp_mse",
         [randn(4, 3) * 0.5, randn(4) * 0.5, randn(2, 4) * 0.5, randn(2) * 0.5],
         {"x": x, "target": target})
    # (c) log_softmax + NLL with one-hot targets, with respect to W
    x = randn(4, 3)
    case("log_softmax nll wrt W (5,3)", "log_softmax_nll", [randn(5, 3)],
         {"x": x, "onehot": onehot(4, 5)})
    # (d) an elementwise mix
    case("sigmoid exp rational sum (3,4)", "sigmoid_exp_rational", [randn(3, 4)])
    # (e) g(x) = sum(softmax(x, dim 2)^2)
    case("softmax square sum dim 2 (3,4)", "softmax_square_sum", [randn(3, 4)])


# ----------------------------------------------------------------------------
# output

HEADER = """\
-- Generated by scripts/gen_fixtures_hvp.py (PyTorch 1.13, float64). Do not
-- edit by hand; regenerate with: /usr/bin/python3 scripts/gen_fixtures_hvp.py
--
-- tensor: {shape = {...}, data = {flat row-major values}} (0-d: shape = {})
-- cases[i]: {name, fn, inputs = {T, ...}, consts = {[name] = T, ...},
--            v = {T, ...}, loss = T, grads = {T, ...}, hvp = {T, ...}}
--   loss = fn(inputs, consts), a 0-d tensor; grads[i] = d loss / d inputs[i]
--   (taken with create_graph); hvp[i] = d(sum_j sum(grads[j] * v[j])) /
--   d inputs[i], the Hessian (with respect to all the inputs) times v.
--   consts are not differentiated against. v[i], grads[i] and hvp[i] have
--   inputs[i]'s shape.
-- fn, in Lua terms (dims 1-based):
--   tanh_cube_sum(x)                  = sum(tanh(x)^3)
--   mlp_mse(W1, b1, W2, b2; x, target)
--     = mean((linear(tanh(linear(x, W1, b1)), W2, b2) - target)^2)
--   log_softmax_nll(W; x, onehot)     = -mean(sum(log_softmax(x @ W^T, 2) * onehot, 2))
--   sigmoid_exp_rational(x)           = sum(sigmoid(x) * exp(x) / (1 + x^2))
--   softmax_square_sum(x)             = sum(softmax(x, 2)^2)
"""


def fmt_tensor(t, indent):
    return lua.fmt_tensor(t, indent, MAX_ELEMENTS)


def write_cases(lines):
    lines.append("  cases = {")
    for c in CASES:
        lines.append("    {")
        lines.append("      name = %s," % lua.fmt_lua(c["name"]))
        lines.append("      fn = %s," % lua.fmt_lua(c["fn"]))
        lua.append_tensors(lines, "inputs", c["inputs"], fmt_tensor)
        if c["consts"]:
            lines.append("      consts = {")
            for k, t in c["consts"].items():
                lines.append("        %s = %s," % (lua.lua_key(k), fmt_tensor(t, 8)))
            lines.append("      },")
        else:
            lines.append("      consts = {},")
        lua.append_tensors(lines, "v", c["v"], fmt_tensor)
        lines.append("      loss = %s," % fmt_tensor(c["loss"], 6))
        lua.append_tensors(lines, "grads", c["grads"], fmt_tensor)
        lua.append_tensors(lines, "hvp", c["hvp"], fmt_tensor)
        lines.append("    },")
    lines.append("  },")


def self_check():
    assert {c["fn"] for c in CASES} == set(FNS)
    for c in CASES:
        n = len(c["inputs"])
        assert len(c["v"]) == len(c["grads"]) == len(c["hvp"]) == n, c["name"]
        for key in ("v", "grads", "hvp"):
            for t, x in zip(c[key], c["inputs"]):
                assert t.shape == x.shape, (c["name"], key)


def main():
    build()
    self_check()
    body = []
    write_cases(body)
    lua.write_chunk(OUT_PATH, HEADER, body, "%d cases" % len(CASES))


if __name__ == "__main__":
    main()
