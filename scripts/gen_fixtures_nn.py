"""Generate tests/fixtures/nn.lua: PyTorch reference values for Lucid's layers
and losses (tests/layers_spec.lua and tests/losses_spec.lua check against it).

Run from anywhere with Debian's PyTorch (the ``python3`` first on PATH may lack
torch):

    /usr/bin/python3 scripts/gen_fixtures_nn.py

The output is deterministic (fixed seed, float64 everywhere), so rerunning it
leaves the file unchanged. Running the tests does not need Python.

Fixture format (see also the comment at the top of the generated file):
  tensor = {shape = {d1, ...}, data = {flat row-major values}} (0-d: shape = {})
  layers[i] = {name, layer = "<nn class>", args = {Lua constructor arguments},
               eval = bool, steps = n, params = {[state_dict name] = T},
               inputs = {T, ...}, needs_grad = {bool, ...}, seed = T,
               output = T, grads = {input = {T or false, ...},
               params = {[name] = T}}, state_after = {[buffer name] = T}}
    The spec builds nn[layer](table.unpack(args)), loads params with
    load_state_dict (buffers included), sets eval mode if asked, calls the
    layer steps - 1 times without looking, then once more, and back-propagates
    seed. state_after holds the buffers after all steps.
  losses[i] = {name, loss = "<nn class>", args = {[name] = value or T},
               input = T, target = T, target_grad = bool, seed = T,
               output = T, grads = {input = T, target = T (if target_grad)}}
    The spec builds nn[loss](args) (tensor-valued args converted).
All values follow Lua conventions: dims, class indices, padding_idx and
ignore_index are 1-based (a PyTorch class c is c + 1; negative ignore_index
values, which are no class, are kept). Class indices are float64 tensors.
"""

import sys
import warnings
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_lua as lua  # noqa: E402
from fixture_lua import DTYPE, lua_key  # noqa: E402

SEED = 20240717
MAX_ELEMENTS = 240

OUT_PATH = lua.FIXTURES / "nn.lua"

warnings.filterwarnings("ignore")  # implicit softmax dim
torch.manual_seed(SEED)
torch.set_default_dtype(DTYPE)

# random data (all drawn from one generator, in a fixed order)
DRAW = lua.Draws(SEED)
randn, rand = DRAW.randn, DRAW.rand


def randint(hi, *shape):
    return torch.randint(0, hi, shape, generator=DRAW.gen)


# ----------------------------------------------------------------------------
# Lua serialisation

def fmt_tensor(t, indent):
    return lua.fmt_tensor(t.to(DTYPE), indent, MAX_ELEMENTS)  # class indices too


def fmt_value(v, indent):
    """Lua literal: tensors, numbers, bools, strings, lists and dicts (entries
    that are None left out)."""
    if isinstance(v, torch.Tensor):
        return fmt_tensor(v, indent)
    if isinstance(v, (list, tuple)):
        return fmt_table([fmt_value(x, indent + 2) for x in v], indent)
    if isinstance(v, dict):
        return fmt_table(["%s = %s" % (lua_key(k), fmt_value(x, indent + 2))
                          for k, x in v.items() if x is not None], indent)
    return lua.fmt_lua(v)  # bools, numbers, strings


def fmt_table(items, indent):
    """A table of formatted items: on one line when short, else one a line."""
    if all("\n" not in s for s in items) and sum(len(s) for s in items) < 80:
        return "{" + ", ".join(items) + "}"
    pad = " " * (indent + 2)
    return "{\n" + "".join(pad + s + ",\n" for s in items) + " " * indent + "}"


# ----------------------------------------------------------------------------
# layers

LAYERS = []


def layer_case(name, layer, args, module, inputs, needs_grad=None, eval_mode=False,
               steps=1, params=None, buffers=None, lua_inputs=None):
    """Records module(*inputs) and its gradients for the Lua layer
    nn[layer](table.unpack(args)). Parameters are redrawn (randn, or the
    given tensors) so that nothing depends on PyTorch's init; buffers may be
    given too. lua_inputs, if given, are written instead of inputs (class
    indices: PyTorch's int64 0-based ones become float64 1-based ones)."""
    module = module.to(DTYPE)
    with torch.no_grad():
        for n, p in module.named_parameters():
            p.copy_(params[n] if params and n in params else randn(*p.shape))
        for n, b in module.named_buffers():
            if buffers and n in buffers:
                b.copy_(buffers[n])
    state = {n: t.detach().clone() for n, t in module.state_dict().items()}
    if needs_grad is None:
        needs_grad = [True] * len(inputs)
    inputs = [x.clone().requires_grad_(g) for x, g in zip(inputs, needs_grad)]
    module.train(not eval_mode)
    for _ in range(steps - 1):
        module(*inputs)
    out = module(*inputs)
    seed = randn(*out.shape)
    out.backward(seed)
    grads = {"input": [x.grad if g else False for x, g in zip(inputs, needs_grad)],
             "params": {n: p.grad for n, p in module.named_parameters()}}
    for n, g in grads["params"].items():
        assert g is not None, (name, n)
    entry = {"name": name, "layer": layer, "args": args, "eval": eval_mode, "steps": steps,
             "params": state, "inputs": [x.detach() for x in (lua_inputs or inputs)],
             "needs_grad": needs_grad,
             "seed": seed, "output": out.detach(), "grads": grads}
    if len(list(module.buffers())) > 0:
        entry["state_after"] = {n: b.detach().clone() for n, b in module.named_buffers()}
    LAYERS.append(entry)


def with_kinks(x, values):
    """x with its first elements replaced by `values` (exact kink points)."""
    x = x.clone().reshape(-1)
    x[:len(values)] = torch.tensor(values, dtype=DTYPE)
    return x


def build_layers():
    layer_case("Identity", "Identity", [], nn.Identity(), [randn(3, 4)])

    layer_case("Bilinear (6,3) x (6,4) -> 5", "Bilinear", [3, 4, 5], nn.Bilinear(3, 4, 5),
               [randn(6, 3), randn(6, 4)])
    layer_case("Bilinear 3-d input, no bias", "Bilinear", [2, 3, 4, False],
               nn.Bilinear(2, 3, 4, bias=False), [randn(2, 3, 2), randn(2, 3, 3)])

    layer_case("Flatten default", "Flatten", [], nn.Flatten(), [randn(2, 3, 2, 2)])
    layer_case("Flatten(1, 2)", "Flatten", [1, 2], nn.Flatten(0, 1), [randn(2, 3, 4)])
    layer_case("Flatten(2, -2)", "Flatten", [2, -2], nn.Flatten(1, -2), [randn(2, 3, 2, 2)])
    layer_case("Unflatten(2, {2, 3})", "Unflatten", [2, [2, 3]], nn.Unflatten(1, (2, 3)),
               [randn(4, 6)])
    layer_case("Unflatten(-1, {2, -1})", "Unflatten", [-1, [2, -1]], nn.Unflatten(-1, (2, -1)),
               [randn(2, 3, 4)])

    layer_case("Dropout eval", "Dropout", [0.5], nn.Dropout(0.5), [randn(4, 5)], eval_mode=True)
    layer_case("Dropout p=0 train", "Dropout", [0.0], nn.Dropout(0.0), [randn(4, 5)])

    idx = torch.tensor([[1, 4, 1], [9, 0, 4]])
    layer_case("Embedding(10, 3)", "Embedding", [10, 3], nn.Embedding(10, 3), [idx],
               needs_grad=[False], lua_inputs=[(idx + 1).to(DTYPE)])
    idx = torch.tensor([2, 1, 5, 2, 1])
    layer_case("Embedding(6, 4) padding_idx 2", "Embedding", [6, 4, 2],
               nn.Embedding(6, 4, padding_idx=1), [idx], needs_grad=[False],
               lua_inputs=[(idx + 1).to(DTYPE)])

    ln_params = lambda *s: {"weight": randn(*s) * 0.5 + 1, "bias": randn(*s)}
    layer_case("LayerNorm(5)", "LayerNorm", [5], nn.LayerNorm(5), [randn(3, 5) * 2 + 1],
               params=ln_params(5))
    layer_case("LayerNorm({2, 3}) eps 1e-3", "LayerNorm", [[2, 3], 1e-3],
               nn.LayerNorm((2, 3), eps=1e-3), [randn(2, 2, 2, 3)], params=ln_params(2, 3))
    layer_case("LayerNorm(4) no affine", "LayerNorm", [4, 1e-5, False],
               nn.LayerNorm(4, elementwise_affine=False), [randn(3, 4)])

    def bn_params(c):
        return {"weight": randn(c) * 0.5 + 1, "bias": randn(c)}

    def bn_buffers(c, n=3):
        return {"running_mean": randn(c), "running_var": rand(c) + 0.5,
                "num_batches_tracked": torch.tensor(n)}

    layer_case("BatchNorm1d(4) train {6, 4}", "BatchNorm1d", [4], nn.BatchNorm1d(4),
               [randn(6, 4) * 2 + 1], params=bn_params(4), buffers=bn_buffers(4))
    layer_case("BatchNorm1d(3) train {4, 3, 5}", "BatchNorm1d", [3], nn.BatchNorm1d(3),
               [randn(4, 3, 5)], params=bn_params(3), buffers=bn_buffers(3))
    layer_case("BatchNorm1d(4) eval {6, 4}", "BatchNorm1d", [4], nn.BatchNorm1d(4),
               [randn(6, 4)], eval_mode=True, params=bn_params(4), buffers=bn_buffers(4))
    layer_case("BatchNorm1d(3) eval {2, 3, 4}", "BatchNorm1d", [3], nn.BatchNorm1d(3),
               [randn(2, 3, 4)], eval_mode=True, params=bn_params(3), buffers=bn_buffers(3))
    layer_case("BatchNorm1d(4, 1e-3, 0.3) train", "BatchNorm1d", [4, 1e-3, 0.3],
               nn.BatchNorm1d(4, eps=1e-3, momentum=0.3), [randn(5, 4)], params=bn_params(4),
               buffers=bn_buffers(4))
    layer_case("BatchNorm1d(4) no affine train", "BatchNorm1d", [4, 1e-5, 0.1, False],
               nn.BatchNorm1d(4, affine=False), [randn(5, 4)], buffers=bn_buffers(4))
    layer_case("BatchNorm1d(4) no running stats eval", "BatchNorm1d", [4, 1e-5, 0.1, True, False],
               nn.BatchNorm1d(4, track_running_stats=False), [randn(5, 4)], eval_mode=True,
               params=bn_params(4))
    layer_case("BatchNorm1d(3) cumulative average, 2 steps", "BatchNorm1d", [3, 1e-5, False],
               nn.BatchNorm1d(3, momentum=None), [randn(4, 3)], steps=2, params=bn_params(3),
               buffers=bn_buffers(3, 2))

    x = randn(4, 5) * 2
    layer_case("ReLU", "ReLU", [], nn.ReLU(), [with_kinks(x, [0.0, -0.0]).reshape(4, 5)])
    layer_case("LeakyReLU(0.2)", "LeakyReLU", [0.2], nn.LeakyReLU(0.2),
               [with_kinks(randn(4, 5) * 2, [0.0]).reshape(4, 5)])
    layer_case("LeakyReLU default", "LeakyReLU", [], nn.LeakyReLU(), [randn(3, 4)])
    layer_case("ELU(0.5)", "ELU", [0.5], nn.ELU(0.5),
               [with_kinks(randn(4, 5) * 2, [0.0, 800.0, -800.0]).reshape(4, 5)])
    layer_case("ELU default", "ELU", [], nn.ELU(), [randn(3, 4) * 2])
    layer_case("SELU", "SELU", [], nn.SELU(), [with_kinks(randn(4, 5) * 2, [0.0]).reshape(4, 5)])
    layer_case("GELU", "GELU", [], nn.GELU(), [randn(4, 5) * 2])
    layer_case("GELU tanh", "GELU", ["tanh"], nn.GELU(approximate="tanh"), [randn(4, 5) * 2])
    layer_case("SiLU", "SiLU", [], nn.SiLU(), [randn(4, 5) * 3])
    layer_case("Sigmoid", "Sigmoid", [], nn.Sigmoid(), [randn(4, 5) * 3])
    layer_case("Softplus", "Softplus", [], nn.Softplus(), [with_kinks(randn(4, 5) * 3, [25.0, -30.0]).reshape(4, 5)])
    layer_case("Softplus(2, 5)", "Softplus", [2, 5], nn.Softplus(beta=2, threshold=5),
               [with_kinks(randn(4, 5) * 3, [3.0, 2.4, -4.0]).reshape(4, 5)])
    layer_case("Softmax(2) {2, 3, 4}", "Softmax", [2], nn.Softmax(dim=1), [randn(2, 3, 4)])
    layer_case("Softmax(-1) large", "Softmax", [-1], nn.Softmax(dim=-1), [randn(3, 4) * 300])
    layer_case("Softmax() implicit, 3-d", "Softmax", [], nn.Softmax(), [randn(2, 3, 2)])
    layer_case("Softmax() implicit, 2-d", "Softmax", [], nn.Softmax(), [randn(2, 3)])
    layer_case("LogSoftmax(1) {3, 4}", "LogSoftmax", [1], nn.LogSoftmax(dim=0), [randn(3, 4)])
    layer_case("LogSoftmax(-1) large", "LogSoftmax", [-1], nn.LogSoftmax(dim=-1), [randn(3, 4) * 300])
    layer_case("Hardtanh", "Hardtanh", [], nn.Hardtanh(),
               [with_kinks(randn(4, 5), [1.0, -1.0, 0.0]).reshape(4, 5)])
    layer_case("Hardtanh(-0.5, 2)", "Hardtanh", [-0.5, 2.0], nn.Hardtanh(-0.5, 2.0),
               [with_kinks(randn(4, 5) * 2, [2.0, -0.5]).reshape(4, 5)])
    layer_case("Tanh", "Tanh", [], nn.Tanh(), [randn(3, 4)])


# ----------------------------------------------------------------------------
# losses

LOSSES = []


def lua_classes(t, ignore_index=-100):
    """PyTorch class indices (0-based, ignore_index as is) -> Lua's float64
    1-based indices, the ignored entries holding Lua's ignore_index."""
    lua_ii = ignore_index + 1 if ignore_index >= 0 else ignore_index
    return torch.where(t == ignore_index, torch.tensor(lua_ii), t + 1).to(DTYPE), lua_ii


def loss_case(name, loss, lua_args, module, x, target, lua_target=None, target_grad=False):
    x = x.clone().requires_grad_(True)
    target = target.clone()
    if target_grad:
        target.requires_grad_(True)
    out = module(x, target)
    seed = randn(*out.shape)
    out.backward(seed)
    grads = {"input": x.grad}
    if target_grad:
        grads["target"] = target.grad
    LOSSES.append({"name": name, "loss": loss, "args": lua_args, "input": x.detach(),
                   "target": (target if lua_target is None else lua_target).detach(),
                   "target_grad": target_grad, "seed": seed, "output": out.detach(),
                   "grads": grads})


REDUCTIONS = ["mean", "sum", "none"]


def build_losses():
    for r in REDUCTIONS:
        x, y = randn(4, 3), randn(4, 3)
        loss_case("MSELoss " + r, "MSELoss", {"reduction": r}, nn.MSELoss(reduction=r), x, y,
                  target_grad=True)
    for r in REDUCTIONS:
        x, y = randn(4, 3), randn(4, 3)
        y[0, 0] = x[0, 0]  # |d| = 0: gradient 0
        loss_case("L1Loss " + r, "L1Loss", {"reduction": r}, nn.L1Loss(reduction=r), x, y,
                  target_grad=True)
    for r in REDUCTIONS:
        for delta in (1.0, 0.5):
            x, y = randn(4, 3) * 2, randn(4, 3)
            y[0, 0] = x[0, 0] - delta  # |d| = delta exactly
            loss_case("HuberLoss %s delta %g" % (r, delta), "HuberLoss",
                      {"reduction": r, "delta": delta}, nn.HuberLoss(reduction=r, delta=delta),
                      x, y, target_grad=True)
    for r in REDUCTIONS:
        for beta in (1.0, 0.5, 0.0):
            x, y = randn(4, 3) * 2, randn(4, 3)
            loss_case("SmoothL1Loss %s beta %g" % (r, beta), "SmoothL1Loss",
                      {"reduction": r, "beta": beta}, nn.SmoothL1Loss(reduction=r, beta=beta),
                      x, y, target_grad=True)

    # cross entropy with class indices
    for r in REDUCTIONS:
        x, t = randn(5, 4), randint(4, 5)
        lt, _ = lua_classes(t)
        loss_case("CrossEntropyLoss %s" % r, "CrossEntropyLoss", {"reduction": r},
                  nn.CrossEntropyLoss(reduction=r), x, t, lt)
        w = rand(4) + 0.5
        loss_case("CrossEntropyLoss %s weight" % r, "CrossEntropyLoss", {"reduction": r, "weight": w},
                  nn.CrossEntropyLoss(weight=w, reduction=r), x, t, lt)
        t2 = torch.tensor([1, 0, 1, 3, 2])
        lt2, lii = lua_classes(t2, 1)
        loss_case("CrossEntropyLoss %s ignore_index" % r, "CrossEntropyLoss",
                  {"reduction": r, "ignore_index": lii},
                  nn.CrossEntropyLoss(ignore_index=1, reduction=r), x, t2, lt2)
        loss_case("CrossEntropyLoss %s weight ignore_index" % r, "CrossEntropyLoss",
                  {"reduction": r, "ignore_index": lii, "weight": w},
                  nn.CrossEntropyLoss(weight=w, ignore_index=1, reduction=r), x, t2, lt2)
        loss_case("CrossEntropyLoss %s label_smoothing" % r, "CrossEntropyLoss",
                  {"reduction": r, "label_smoothing": 0.1},
                  nn.CrossEntropyLoss(reduction=r, label_smoothing=0.1), x, t, lt)
        loss_case("CrossEntropyLoss %s label_smoothing weight ignore_index" % r, "CrossEntropyLoss",
                  {"reduction": r, "label_smoothing": 0.2, "weight": w, "ignore_index": lii},
                  nn.CrossEntropyLoss(weight=w, ignore_index=1, reduction=r, label_smoothing=0.2),
                  x, t2, lt2)
        t3 = torch.tensor([2, -1, 0, -1, 3])
        lt3, lii3 = lua_classes(t3, -1)
        loss_case("CrossEntropyLoss %s ignore_index -1" % r, "CrossEntropyLoss",
                  {"reduction": r, "ignore_index": lii3},
                  nn.CrossEntropyLoss(ignore_index=-1, reduction=r), x, t3, lt3)
        xk, tk = randn(3, 4, 2), randint(4, 3, 2)
        loss_case("CrossEntropyLoss %s {N, C, d}" % r, "CrossEntropyLoss", {"reduction": r, "weight": w},
                  nn.CrossEntropyLoss(weight=w, reduction=r), xk, tk, lua_classes(tk)[0])
        xu, tu = randn(4), torch.tensor(2)
        loss_case("CrossEntropyLoss %s unbatched" % r, "CrossEntropyLoss",
                  {"reduction": r, "label_smoothing": 0.05},
                  nn.CrossEntropyLoss(reduction=r, label_smoothing=0.05), xu, tu, lua_classes(tu)[0])
        xl = randn(4, 3) * 1000
        xl[0] = torch.tensor([1000.0, -1000.0, 0.0])
        xl[1] = torch.tensor([-1000.0, 1000.0, 999.0])
        tl = torch.tensor([1, 0, 2, 1])
        loss_case("CrossEntropyLoss %s large logits" % r, "CrossEntropyLoss",
                  {"reduction": r, "label_smoothing": 0.1},
                  nn.CrossEntropyLoss(reduction=r, label_smoothing=0.1), xl, tl, lua_classes(tl)[0])

    # cross entropy with class probabilities
    for r in REDUCTIONS:
        x, p = randn(5, 4), torch.softmax(randn(5, 4), 1)
        w = rand(4) + 0.5
        loss_case("CrossEntropyLoss %s probabilities" % r, "CrossEntropyLoss", {"reduction": r},
                  nn.CrossEntropyLoss(reduction=r), x, p, target_grad=True)
        loss_case("CrossEntropyLoss %s probabilities weight label_smoothing" % r, "CrossEntropyLoss",
                  {"reduction": r, "weight": w, "label_smoothing": 0.1},
                  nn.CrossEntropyLoss(weight=w, reduction=r, label_smoothing=0.1), x, p,
                  target_grad=True)
        xk, pk = randn(2, 3, 4), torch.softmax(randn(2, 3, 4), 1)
        loss_case("CrossEntropyLoss %s probabilities {N, C, d}" % r, "CrossEntropyLoss",
                  {"reduction": r}, nn.CrossEntropyLoss(reduction=r), xk, pk, target_grad=True)

    # nll
    for r in REDUCTIONS:
        x, t = torch.log_softmax(randn(5, 4), 1), randint(4, 5)
        w = rand(4) + 0.5
        loss_case("NLLLoss %s" % r, "NLLLoss", {"reduction": r}, nn.NLLLoss(reduction=r), x, t,
                  lua_classes(t)[0])
        t2 = torch.tensor([3, 0, 3, 1, 2])
        lt2, lii = lua_classes(t2, 3)
        loss_case("NLLLoss %s weight ignore_index" % r, "NLLLoss",
                  {"reduction": r, "weight": w, "ignore_index": lii},
                  nn.NLLLoss(weight=w, ignore_index=3, reduction=r), x, t2, lt2)
        xk, tk = randn(2, 4, 3), randint(4, 2, 3)
        loss_case("NLLLoss %s {N, C, d} weight" % r, "NLLLoss", {"reduction": r, "weight": w},
                  nn.NLLLoss(weight=w, reduction=r), xk, tk, lua_classes(tk)[0])

    # binary cross entropy
    for r in REDUCTIONS:
        x, y = torch.sigmoid(randn(4, 3) * 2), rand(4, 3)
        loss_case("BCELoss %s" % r, "BCELoss", {"reduction": r}, nn.BCELoss(reduction=r), x, y,
                  target_grad=True)
        w = rand(3) + 0.5
        yb = (rand(4, 3) > 0.5).to(DTYPE)
        loss_case("BCELoss %s weight, hard targets" % r, "BCELoss", {"reduction": r, "weight": w},
                  nn.BCELoss(weight=w, reduction=r), x, yb)
        xe = torch.tensor([0.0, 1.0, 0.0, 1.0, 1e-50, 0.5])
        ye = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.25])
        loss_case("BCELoss %s inputs 0 and 1" % r, "BCELoss", {"reduction": r},
                  nn.BCELoss(reduction=r), xe, ye)

    for r in REDUCTIONS:
        x, y = randn(4, 3) * 3, rand(4, 3)
        w, pw = rand(3) + 0.5, rand(3) * 3 + 0.5
        loss_case("BCEWithLogitsLoss %s" % r, "BCEWithLogitsLoss", {"reduction": r},
                  nn.BCEWithLogitsLoss(reduction=r), x, y, target_grad=True)
        loss_case("BCEWithLogitsLoss %s weight pos_weight" % r, "BCEWithLogitsLoss",
                  {"reduction": r, "weight": w, "pos_weight": pw},
                  nn.BCEWithLogitsLoss(weight=w, pos_weight=pw, reduction=r), x, y, target_grad=True)
        xl = torch.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 40.0], [-40.0, 30.0, -30.0]])
        yl = torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.5, 0.0]])
        loss_case("BCEWithLogitsLoss %s large logits" % r, "BCEWithLogitsLoss", {"reduction": r},
                  nn.BCEWithLogitsLoss(reduction=r), xl, yl, target_grad=True)
        loss_case("BCEWithLogitsLoss %s large logits pos_weight" % r, "BCEWithLogitsLoss",
                  {"reduction": r, "pos_weight": pw},
                  nn.BCEWithLogitsLoss(pos_weight=pw, reduction=r), xl, yl, target_grad=True)


# ----------------------------------------------------------------------------

HEADER = """\
-- Generated by scripts/gen_fixtures_nn.py (PyTorch %s, float64). Do not edit
-- by hand; regenerate with: /usr/bin/python3 scripts/gen_fixtures_nn.py
--
-- tensor: {shape = {...}, data = {flat row-major values}} (0-d: shape = {})
-- layers[i]: {name, layer, args, eval, steps, params = {[state_dict name] = T},
--   inputs = {T, ...}, needs_grad = {bool, ...}, seed, output,
--   grads = {input = {T or false, ...}, params = {[name] = T}},
--   state_after = {[buffer] = T}}: nn[layer](table.unpack(args)), params
--   loaded, eval() if eval, called steps times, the last output
--   back-propagated with seed.
-- losses[i]: {name, loss, args = {[name] = value or T}, input, target,
--   target_grad, seed, output, grads = {input = T, target = T}}
-- Lua conventions: 1-based dims, class indices, padding_idx, ignore_index.

"""


def main():
    build_layers()
    build_losses()
    body = "return " + fmt_value({"layers": LAYERS, "losses": LOSSES}, 0) + "\n"
    OUT_PATH.write_text(HEADER % torch.__version__.split("a")[0] + body)
    print("wrote %s: %d layer cases, %d loss cases" % (OUT_PATH, len(LAYERS), len(LOSSES)))


if __name__ == "__main__":
    main()
