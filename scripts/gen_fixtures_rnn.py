"""Generate tests/fixtures/rnn.lua: PyTorch reference values for the
recurrent layers (nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell,
nn.GRUCell) and through them the core ops rnn_tanh, rnn_relu, lstm, gru,
rnn_tanh_cell, rnn_relu_cell, lstm_cell, gru_cell; tests/rnn_spec.lua
compares against it.

Run from anywhere with Debian's PyTorch (the ``python3`` first on PATH may
lack torch):

    /usr/bin/python3 scripts/gen_fixtures_rnn.py

Deterministic (one seeded generator, float64 everywhere). Format (also in
the generated file's header):
  tensor = {shape = {d1, ...}, data = {flat row-major values}}
  cases[i] = {name, op, module, options, params = {[name] = T}, input = T,
              hx = {T, ...} (h0, and c0 for LSTM; absent: zeros),
              lengths = {...} and enforce_sorted (packed: input is padded
              (T, B, I), packed with pack_padded_sequence, and the output
              unpacked with pad_packed_sequence before it is compared),
              outputs = {T, ...} (output, h_n[, c_n]; cells: h'[, c']),
              seeds = {T, ...}, grads = {input = T, hx = {T, ...},
              params = {[name] = T}}}
  - op names the core op the module runs; module and options make the
    module (options with PyTorch's names, Lua's true/false).
  - grads are d(sum_k sum(outputs_k * seeds_k)) / d(input, hx, params).
Also tests/fixtures/rnn_lstm.safetensors: the float32 state dict of an
nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2, batch_first=True)
with PyTorch's keys, and in rnn.lua `interop` = {options, input, outputs}
(its output and h_n, c_n for that input, float32 computed, written as
float64).
"""

import sys
from pathlib import Path

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_lua as lua  # noqa: E402
from gen_fixtures_serialize import write_safetensors  # noqa: E402

SEED = 20261212
OUT_PATH = lua.FIXTURES / "rnn.lua"
# a float32 PyTorch state dict as PyTorch's own code saves it
INTEROP_PATH = lua.FIXTURES / "rnn_lstm.safetensors"

draws = lua.Draws(SEED)
CASES = []

OPS = {("RNN", "tanh"): "rnn_tanh", ("RNN", "relu"): "rnn_relu", ("LSTM", None): "lstm",
       ("GRU", None): "gru", ("RNNCell", "tanh"): "rnn_tanh_cell",
       ("RNNCell", "relu"): "rnn_relu_cell", ("LSTMCell", None): "lstm_cell",
       ("GRUCell", None): "gru_cell"}


def case(name, module, options, input_shape, hx=True, lengths=None, enforce_sorted=True):
    cls = getattr(nn, module)
    kw = {k: v for k, v in options.items()}
    m = cls(**kw).double()
    # parameters from the fixture's generator, not torch's global one
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(draws.uniform(-0.6, 0.6, *p.shape))
    params = dict(m.named_parameters())
    x = draws.randn(*input_shape).requires_grad_(True)
    cell = module.endswith("Cell")
    lstm = module.startswith("LSTM")
    unbatched = len(input_shape) == (1 if cell else 2)
    hxs = []
    if hx:
        if cell:
            shape = (m.hidden_size,) if unbatched else (input_shape[0], m.hidden_size)
            hxs = [draws.randn(*shape).requires_grad_(True) for _ in range(2 if lstm else 1)]
        else:
            d = 2 if m.bidirectional else 1
            if lengths is not None:
                batch = len(lengths)
            else:
                batch = None if unbatched else input_shape[0 if m.batch_first else 1]
            real = m.proj_size if getattr(m, "proj_size", 0) else m.hidden_size
            lead = (m.num_layers * d,) if batch is None else (m.num_layers * d, batch)
            hxs = [draws.randn(*(lead + (real,))).requires_grad_(True)]
            if lstm:
                hxs.append(draws.randn(*(lead + (m.hidden_size,))).requires_grad_(True))
    arg = None
    if hxs:
        arg = tuple(hxs) if lstm else hxs[0]
    inp = x
    if lengths is not None:
        inp = pack_padded_sequence(x, torch.tensor(lengths), batch_first=m.batch_first,
                                   enforce_sorted=enforce_sorted)
    res = m(inp, arg) if arg is not None else m(inp)
    if cell:
        outs = list(res) if lstm else [res]
    else:
        out, h = res
        if lengths is not None:
            out, _ = pad_packed_sequence(out, batch_first=m.batch_first)
        outs = [out] + (list(h) if lstm else [h])
    seeds = [draws.randn(*o.shape) for o in outs]
    sum((o * s).sum() for o, s in zip(outs, seeds)).backward()
    entry = {
        "name": name, "op": OPS[(module, options.get("nonlinearity", "tanh") if module.startswith("RNN") else None)],
        "module": module, "options": options,
        "params": {k: p.detach() for k, p in params.items()},
        "input": x.detach(), "hx": [h.detach() for h in hxs],
        "outputs": [o.detach() for o in outs], "seeds": seeds,
        "grads": {"input": x.grad, "hx": [h.grad for h in hxs],
                  "params": {k: p.grad for k, p in params.items()}},
    }
    if lengths is not None:
        entry["lengths"] = lengths
        entry["enforce_sorted"] = enforce_sorted
    CASES.append(entry)


def build():
    I, H = 3, 4
    case("RNN tanh", "RNN", {"input_size": I, "hidden_size": H, "nonlinearity": "tanh"}, (5, 2, I))
    case("RNN relu, 2 layers, bidirectional, batch_first, no hx", "RNN",
         {"input_size": I, "hidden_size": H, "nonlinearity": "relu", "num_layers": 2,
          "bidirectional": True, "batch_first": True}, (2, 4, I), hx=False)
    case("RNN tanh, bias false", "RNN",
         {"input_size": I, "hidden_size": H, "nonlinearity": "tanh", "bias": False}, (3, 2, I))
    case("RNN relu, packed", "RNN", {"input_size": I, "hidden_size": H, "nonlinearity": "relu"},
         (4, 3, I), lengths=[4, 2, 1])
    case("LSTM", "LSTM", {"input_size": I, "hidden_size": H}, (5, 2, I))
    case("LSTM, 2 layers, bidirectional, proj_size", "LSTM",
         {"input_size": I, "hidden_size": H, "num_layers": 2, "bidirectional": True, "proj_size": 2},
         (4, 3, I))
    case("LSTM, batch_first, bias false", "LSTM",
         {"input_size": I, "hidden_size": H, "batch_first": True, "bias": False}, (2, 3, I))
    case("LSTM, packed, unsorted, bidirectional", "LSTM",
         {"input_size": I, "hidden_size": H, "bidirectional": True}, (4, 3, I), lengths=[2, 4, 3],
         enforce_sorted=False)
    case("LSTM, unbatched, 2 layers", "LSTM", {"input_size": I, "hidden_size": H, "num_layers": 2},
         (3, I))
    case("LSTM, packed, batch_first, proj_size", "LSTM",
         {"input_size": I, "hidden_size": H, "batch_first": True, "proj_size": 3}, (3, 4, I),
         lengths=[1, 4, 4], enforce_sorted=False)
    case("GRU", "GRU", {"input_size": I, "hidden_size": H}, (5, 2, I))
    case("GRU, 2 layers, bidirectional, no hx", "GRU",
         {"input_size": I, "hidden_size": H, "num_layers": 2, "bidirectional": True}, (3, 2, I),
         hx=False)
    case("GRU, packed, sorted, bias false", "GRU",
         {"input_size": I, "hidden_size": H, "bias": False}, (4, 3, I), lengths=[4, 3, 1])
    case("RNNCell tanh", "RNNCell", {"input_size": I, "hidden_size": H}, (3, I))
    case("RNNCell relu, no hx", "RNNCell", {"input_size": I, "hidden_size": H, "nonlinearity": "relu"},
         (3, I), hx=False)
    case("LSTMCell", "LSTMCell", {"input_size": I, "hidden_size": H}, (3, I))
    case("LSTMCell, bias false, unbatched", "LSTMCell",
         {"input_size": I, "hidden_size": H, "bias": False}, (I,))
    case("GRUCell", "GRUCell", {"input_size": I, "hidden_size": H}, (3, I))
    case("GRUCell, unbatched, no hx", "GRUCell", {"input_size": I, "hidden_size": H}, (I,), hx=False)


HEADER = '''-- Generated by scripts/gen_fixtures_rnn.py from PyTorch %s; do not edit.
-- PyTorch's recurrent modules in float64: per case the module's options and
-- parameters, the input and hx, the outputs (output, h_n[, c_n]; cells h'[,
-- c']), the seeds and the gradients of sum(outputs * seeds) with respect to
-- the input, hx and every parameter. Packed cases: input is padded, packed
-- with pack_padded_sequence(lengths, enforce_sorted) and the output unpacked
-- with pad_packed_sequence before it is compared.''' % torch.__version__


def fmt(t, indent=None):
    return lua.fmt_tensor(t, indent)


def write(lines):
    for c in CASES:
        lines.append("  {")
        lines.append("    name = %s, op = %s, module = %s," % (lua.fmt_lua(c["name"]), lua.fmt_lua(c["op"]),
                                                               lua.fmt_lua(c["module"])))
        lines.append("    options = %s," % lua.fmt_lua(c["options"], sort_keys=True))
        if "lengths" in c:
            lines.append("    lengths = %s, enforce_sorted = %s," % (lua.fmt_lua(c["lengths"]),
                                                                     lua.fmt_lua(c["enforce_sorted"])))
        lines.append("    input = %s," % fmt(c["input"], 4))
        lines.append("    hx = {%s}," % ", ".join(fmt(h) for h in c["hx"]))
        lines.append("    params = {")
        for k in sorted(c["params"]):
            lines.append("      %s = %s," % (k, fmt(c["params"][k], 6)))
        lines.append("    },")
        lines.append("    outputs = {%s}," % ", ".join(fmt(o) for o in c["outputs"]))
        lines.append("    seeds = {%s}," % ", ".join(fmt(s) for s in c["seeds"]))
        g = c["grads"]
        lines.append("    grads = {")
        lines.append("      input = %s," % fmt(g["input"]))
        lines.append("      hx = {%s}," % ", ".join(fmt(h) for h in g["hx"]))
        lines.append("      params = {")
        for k in sorted(g["params"]):
            lines.append("        %s = %s," % (k, fmt(g["params"][k])))
        lines.append("      },")
        lines.append("    },")
        lines.append("  },")


def interop(lines):
    torch.manual_seed(SEED)
    opts = {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True,
            "proj_size": 2, "batch_first": True}
    m = nn.LSTM(**opts)
    write_safetensors(INTEROP_PATH, list(m.state_dict().items()))
    print("wrote %s" % INTEROP_PATH.relative_to(lua.REPO_ROOT))
    x = draws.randn(2, 5, 3).float()
    with torch.no_grad():
        out, (h, c) = m(x)
    lines.append("  interop = {")
    lines.append("    options = %s," % lua.fmt_lua(opts, sort_keys=True))
    lines.append("    input = %s," % fmt(x.double(), 4))
    lines.append("    outputs = {%s}," % ", ".join(fmt(t.double()) for t in (out, h, c)))
    lines.append("  },")


def main():
    build()
    body = []
    write(body)
    interop(body)
    lua.write_chunk(OUT_PATH, HEADER, body, "%d cases" % len(CASES))


if __name__ == "__main__":
    main()
