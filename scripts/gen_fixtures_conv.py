"""Generate tests/fixtures/conv.lua: PyTorch reference values for Lucid's
convolutions, padding, unfold and fold (core/conv.c, lucid/nn/_conv.lua).

Run from anywhere with Debian's PyTorch:

    /usr/bin/python3 scripts/gen_fixtures_conv.py

Each op case calls ``nn.functional.<fn>(inputs..., opts)`` with every option
by name (PyTorch's names, Lua conventions), seeds the backward with ``seed``
and records the output and the gradient of every input (false where none).
``op`` names the core registry op the case exercises (conv1d is conv2d of
height 1, pad is made of shape ops). Each module case builds
``nn.<module>(ctor)``, loads ``params`` with load_state_dict and records the
output and the gradients of the input and every parameter. All in float64;
the spec runs the same cases in float32 at float32's tolerance.
"""

import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_lua as lua  # noqa: E402
from fixture_lua import DTYPE  # noqa: E402

SEED = 20261205
MAX_ELEMENTS = 600
OUT_PATH = lua.FIXTURES / "conv.lua"

torch.set_default_dtype(DTYPE)
DRAW = lua.Draws(SEED)
randn = DRAW.randn

OPS = []
MODULES = []


def fmt_tensor(t, indent):
    return lua.fmt_tensor(t, indent, MAX_ELEMENTS)


def op_case(name, op, fn, inputs, torch_fn, opts):
    assert all(c["name"] != name for c in OPS), name
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = torch_fn(*leaves)
    seed = randn(*out.shape)
    out.backward(seed)
    OPS.append({"name": name, "op": op, "fn": fn, "inputs": [t.detach() for t in leaves],
                "opts": opts, "seed": seed, "output": out.detach(),
                "grads": lua.leaf_grads(leaves, name)})


def lua_opts(**kw):
    """Python option values as Lua ones: tuples become lists."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}


def conv_cases():
    # (name, x shape, w shape, bias?, options)
    cases2d = [
        ("plain", (2, 3, 5, 6), (4, 3, 3, 3), True, {}),
        ("no bias", (2, 3, 5, 5), (2, 3, 2, 3), False, {}),
        ("stride 2 padding 1", (2, 2, 6, 7), (3, 2, 3, 3), True, dict(stride=2, padding=1)),
        ("stride and padding tables", (1, 2, 7, 6), (3, 2, 3, 2), True,
         dict(stride=(2, 1), padding=(1, 2))),
        ("dilation 2", (2, 2, 7, 7), (2, 2, 3, 3), True, dict(dilation=2, padding=1)),
        ("dilation table, stride 3", (1, 2, 9, 8), (2, 2, 2, 3), True,
         dict(dilation=(2, 1), stride=3)),
        ("groups 2", (2, 4, 5, 5), (6, 2, 3, 3), True, dict(groups=2, padding=1)),
        ("depthwise", (2, 3, 5, 6), (6, 1, 3, 3), True, dict(groups=3, stride=(1, 2))),
        ("padding same odd kernel", (1, 2, 5, 6), (3, 2, 3, 5), True, dict(padding="same")),
        ("padding same even kernel", (2, 2, 5, 5), (2, 2, 2, 4), True, dict(padding="same")),
        ("padding same dilated", (1, 2, 6, 6), (2, 2, 3, 2), True,
         dict(padding="same", dilation=2)),
        ("padding valid", (1, 2, 5, 6), (3, 2, 3, 3), True, dict(padding="valid")),
        ("1x1 kernel", (2, 4, 3, 3), (5, 4, 1, 1), True, {}),
    ]
    for name, xs, ws, bias, o in cases2d:
        inputs = [randn(*xs), randn(*ws)] + ([randn(ws[0])] if bias else [])
        op_case("conv2d " + name, "conv2d", "conv2d", inputs,
                lambda *t, o=o: F.conv2d(*t, **o) if len(t) == 3 else F.conv2d(*t, None, **o),
                lua_opts(**o))
    op_case("conv2d unbatched", "conv2d", "conv2d", [randn(2, 5, 5), randn(3, 2, 3, 3), randn(3)],
            lambda x, w, b: F.conv2d(x, w, b, padding=1), {"padding": 1})
    cases1d = [
        ("plain", (2, 3, 8), (4, 3, 3), True, {}),
        ("stride 2 padding 1 dilation 2", (2, 2, 9), (3, 2, 3), True,
         dict(stride=2, padding=1, dilation=2)),
        ("groups", (1, 4, 7), (4, 2, 2), False, dict(groups=2)),
        ("padding same even kernel", (2, 2, 7), (3, 2, 4), True, dict(padding="same")),
    ]
    for name, xs, ws, bias, o in cases1d:
        inputs = [randn(*xs), randn(*ws)] + ([randn(ws[0])] if bias else [])
        op_case("conv1d " + name, "conv2d", "conv1d", inputs,
                lambda *t, o=o: F.conv1d(*t, **o) if len(t) == 3 else F.conv1d(*t, None, **o),
                lua_opts(**o))
    op_case("conv1d unbatched", "conv2d", "conv1d", [randn(3, 6), randn(2, 3, 3), randn(2)],
            lambda x, w, b: F.conv1d(x, w, b), {})


def conv_transpose_cases():
    cases = [
        ("plain", (2, 3, 4, 4), (3, 2, 3, 3), True, {}),
        ("stride 2 padding 1", (2, 2, 3, 4), (2, 3, 3, 3), True, dict(stride=2, padding=1)),
        ("output_padding", (1, 2, 3, 3), (2, 2, 3, 3), True,
         dict(stride=2, padding=1, output_padding=1)),
        ("output_padding table", (1, 2, 3, 4), (2, 3, 2, 3), False,
         dict(stride=(3, 2), output_padding=(2, 1))),
        ("groups and dilation", (2, 4, 3, 3), (4, 3, 2, 2), True,
         dict(groups=2, dilation=(2, 1), stride=2)),
    ]
    for name, xs, ws, bias, o in cases:
        inputs = [randn(*xs), randn(*ws)] + ([randn(ws[1] * o.get("groups", 1))] if bias else [])
        op_case("conv_transpose2d " + name, "conv_transpose2d", "conv_transpose2d", inputs,
                lambda *t, o=o: (F.conv_transpose2d(*t, **o) if len(t) == 3
                                 else F.conv_transpose2d(*t, None, **o)),
                lua_opts(**o))
    op_case("conv_transpose1d stride 2 output_padding 1", "conv_transpose2d", "conv_transpose1d",
            [randn(2, 3, 5), randn(3, 2, 3), randn(2)],
            lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, output_padding=1),
            {"stride": 2, "output_padding": 1})
    op_case("conv_transpose1d unbatched", "conv_transpose2d", "conv_transpose1d",
            [randn(2, 4), randn(2, 3, 2)],
            lambda x, w: F.conv_transpose1d(x, w, padding=1), {"padding": 1})


def pad_cases():
    for name, shape, pad, mode, value in [
        ("constant last dim", (2, 3, 4), (1, 2), "constant", None),
        ("constant value 2 dims", (2, 3, 4), (1, 0, 2, 1), "constant", 1.5),
        ("constant negative crops", (2, 3, 5), (-1, 2, 1, -1), "constant", None),
        ("reflect 1d", (2, 3, 5), (2, 3), "reflect", None),
        ("reflect 2d", (1, 2, 4, 5), (1, 2, 3, 1), "reflect", None),
        ("replicate 1d", (2, 2, 4), (3, 1), "replicate", None),
        ("replicate 2d", (1, 2, 3, 4), (2, 1, 0, 3), "replicate", None),
        ("circular 1d", (1, 2, 5), (2, 3), "circular", None),
        ("circular 2d", (2, 1, 3, 4), (1, 2, 3, 1), "circular", None),
    ]:
        o = {"pad": list(pad), "mode": mode}
        if value is not None:
            o["value"] = value
        op_case("pad " + name, "pad", "pad", [randn(*shape)],
                lambda x, pad=pad, mode=mode, value=value: F.pad(
                    x, pad, mode=mode, **({} if value is None else {"value": value})), o)


def fold_cases():
    for name, shape, o in [
        ("plain", (2, 2, 4, 5), dict(kernel_size=2)),
        ("stride padding dilation", (1, 2, 6, 5),
         dict(kernel_size=(2, 3), stride=(2, 1), padding=1, dilation=(1, 2))),
        ("unbatched", (2, 4, 4), dict(kernel_size=3, padding=1)),
    ]:
        op_case("unfold " + name, "unfold", "unfold", [randn(*shape)],
                lambda x, o=o: F.unfold(x, **o), lua_opts(**o))
    for name, shape, o in [
        ("plain", (2, 8, 12), dict(output_size=(4, 5), kernel_size=2)),
        ("stride padding dilation", (1, 12, 12),
         dict(output_size=(6, 5), kernel_size=(2, 3), stride=(2, 1), padding=1, dilation=(1, 2))),
        ("unbatched", (9, 16), dict(output_size=4, kernel_size=3, padding=1)),
    ]:
        op_case("fold " + name, "fold", "fold", [randn(*shape)],
                lambda x, o=o: F.fold(x, **o), lua_opts(**o))


def module_case(name, module, ctor, lua_ctor, x):
    m = ctor()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(randn(*p.shape))
    x = x.clone().requires_grad_(True)
    out = m(x)
    seed = randn(*out.shape)
    out.backward(seed)
    grads = {"input": x.grad}
    for n, p in m.named_parameters():
        grads[n] = p.grad
    MODULES.append({"name": name, "module": module, "ctor": lua_ctor,
                    "params": {n: p.detach().clone() for n, p in m.named_parameters()},
                    "input": x.detach(), "seed": seed, "output": out.detach(), "grads": grads})


def module_cases():
    module_case("Conv2d 3x3 padding 1", "Conv2d", lambda: nn.Conv2d(3, 4, 3, padding=1),
                {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "padding": 1},
                randn(2, 3, 5, 5))
    for mode in ("reflect", "replicate", "circular"):
        module_case("Conv2d padding_mode " + mode, "Conv2d",
                    lambda mode=mode: nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 2),
                                                padding_mode=mode),
                    {"in_channels": 2, "out_channels": 3, "kernel_size": [3, 2], "stride": [2, 1],
                     "padding": [1, 2], "padding_mode": mode}, randn(2, 2, 5, 4))
    module_case("Conv2d same reflect", "Conv2d",
                lambda: nn.Conv2d(2, 2, 4, padding="same", padding_mode="reflect", bias=False),
                {"in_channels": 2, "out_channels": 2, "kernel_size": 4, "padding": "same",
                 "padding_mode": "reflect", "bias": False}, randn(1, 2, 5, 6))
    module_case("Conv2d depthwise dilated", "Conv2d",
                lambda: nn.Conv2d(4, 4, 3, dilation=2, groups=4, padding=2),
                {"in_channels": 4, "out_channels": 4, "kernel_size": 3, "dilation": 2, "groups": 4,
                 "padding": 2}, randn(2, 4, 5, 5))
    module_case("Conv1d circular", "Conv1d",
                lambda: nn.Conv1d(2, 3, 3, padding=2, padding_mode="circular"),
                {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": 2,
                 "padding_mode": "circular"}, randn(2, 2, 6))
    module_case("Conv1d unbatched stride 2", "Conv1d", lambda: nn.Conv1d(3, 2, 2, stride=2),
                {"in_channels": 3, "out_channels": 2, "kernel_size": 2, "stride": 2},
                randn(3, 7))
    module_case("ConvTranspose2d output_padding groups", "ConvTranspose2d",
                lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
                {"in_channels": 4, "out_channels": 6, "kernel_size": 3, "stride": 2, "padding": 1,
                 "output_padding": 1, "groups": 2}, randn(2, 4, 3, 3))
    module_case("ConvTranspose1d dilation", "ConvTranspose1d",
                lambda: nn.ConvTranspose1d(2, 3, 3, dilation=2, bias=False),
                {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "dilation": 2,
                 "bias": False}, randn(2, 2, 4))
    for module, ctor, lua_ctor in [
        ("ZeroPad2d", lambda: nn.ZeroPad2d((1, 2, 0, 1)), {"padding": [1, 2, 0, 1]}),
        ("ConstantPad2d", lambda: nn.ConstantPad2d(1, 2.5), {"padding": 1, "value": 2.5}),
        ("ConstantPad1d", lambda: nn.ConstantPad1d((2, 1), -1.0), {"padding": [2, 1], "value": -1.0}),
        ("ReflectionPad2d", lambda: nn.ReflectionPad2d((1, 2, 2, 1)), {"padding": [1, 2, 2, 1]}),
        ("ReflectionPad1d", lambda: nn.ReflectionPad1d(2), {"padding": 2}),
        ("ReplicationPad2d", lambda: nn.ReplicationPad2d(2), {"padding": 2}),
        ("ReplicationPad1d", lambda: nn.ReplicationPad1d((0, 3)), {"padding": [0, 3]}),
    ]:
        shape = (2, 3, 4) if module.endswith("1d") else (2, 2, 3, 4)
        module_case(module, module, ctor, lua_ctor, randn(*shape))
    module_case("Unfold", "Unfold", lambda: nn.Unfold((2, 3), padding=1, stride=2),
                {"kernel_size": [2, 3], "padding": 1, "stride": 2}, randn(2, 2, 4, 5))
    module_case("Fold", "Fold", lambda: nn.Fold((3, 4), 2),
                {"output_size": [3, 4], "kernel_size": 2}, randn(2, 8, 6))


HEADER = """\
-- Generated by scripts/gen_fixtures_conv.py (PyTorch, float64). Do not edit by
-- hand; regenerate with: /usr/bin/python3 scripts/gen_fixtures_conv.py
--
-- tensor: {shape = {...}, data = {flat row-major values}}
-- ops[i]: {name, op (the core registry op), fn (nn.functional's name), inputs
--   = {T, ...}, opts (every option by name), seed, output, grads = {T or
--   false, ...}}: output = F[fn](inputs..., opts), grads[i] = d(sum(output *
--   seed))/d inputs[i].
-- modules[i]: {name, module, ctor (nn[module](ctor)), params = {[name] = T},
--   input, seed, output, grads = {input = T, [param name] = T}}
"""


def write(lines):
    lines.append("  ops = {")
    for c in OPS:
        lines.append("    {")
        lines.append("      name = %s," % lua.fmt_lua(c["name"]))
        lines.append("      op = %s," % lua.fmt_lua(c["op"]))
        lines.append("      fn = %s," % lua.fmt_lua(c["fn"]))
        lua.append_tensors(lines, "inputs", c["inputs"], fmt_tensor)
        lines.append("      opts = %s," % lua.fmt_lua(c["opts"], sort_keys=True))
        lines.append("      seed = %s," % fmt_tensor(c["seed"], 6))
        lines.append("      output = %s," % fmt_tensor(c["output"], 6))
        lua.append_tensors(lines, "grads", c["grads"], fmt_tensor)
        lines.append("    },")
    lines.append("  },")
    lines.append("  modules = {")
    for m in MODULES:
        lines.append("    {")
        lines.append("      name = %s," % lua.fmt_lua(m["name"]))
        lines.append("      module = %s," % lua.fmt_lua(m["module"]))
        lines.append("      ctor = %s," % lua.fmt_lua(m["ctor"], sort_keys=True))
        lines.append("      params = {")
        for n, t in m["params"].items():
            lines.append("        %s = %s," % (lua.lua_key(n), fmt_tensor(t, 8)))
        lines.append("      },")
        lines.append("      input = %s," % fmt_tensor(m["input"], 6))
        lines.append("      seed = %s," % fmt_tensor(m["seed"], 6))
        lines.append("      output = %s," % fmt_tensor(m["output"], 6))
        lines.append("      grads = {")
        for n, t in m["grads"].items():
            lines.append("        %s = %s," % (lua.lua_key(n), fmt_tensor(t, 8)))
        lines.append("      },")
        lines.append("    },")
    lines.append("  },")


def main():
    conv_cases()
    conv_transpose_cases()
    pad_cases()
    fold_cases()
    module_cases()
    body = []
    write(body)
    lua.write_chunk(OUT_PATH, HEADER, body, "%d ops, %d modules" % (len(OPS), len(MODULES)))


if __name__ == "__main__":
    main()
