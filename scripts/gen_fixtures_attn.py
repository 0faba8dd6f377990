"""Generate tests/fixtures/attn.lua: PyTorch reference values for the
attention family (lucid.masked_softmax, nn.functional.scaled_dot_product_attention,
nn.MultiheadAttention and the transformer layers); tests/attn_spec.lua checks
against it, in float64 and float32.

Run from anywhere with Debian's PyTorch (the ``python3`` first on PATH may lack
torch):

    /usr/bin/python3 scripts/gen_fixtures_attn.py

The output is deterministic (fixed seed, float64 everywhere). PyTorch 1.13 has
no scaled_dot_product_attention (2.0 added it): its reference is written out
as the documented math, softmax(q k^T * scale + mask) v, with a bool mask
being true where a score is masked OUT (the library's rule; PyTorch 2.x's
bool attn_mask means the opposite), and the causal mask the top-left aligned
triangle, as PyTorch 2.x's is_causal.

Fixture format (see also the comment at the top of the generated file):
  tensor = {shape = {...}, data = {flat row-major values}}; masks may hold
  -math.huge; a bool mask is written as 0/1 with bool = true beside it.
  ops[i]     = {name, op = "masked_softmax", inputs = {x, mask or nothing},
                mask_bool, scale, seed, output, grads = {T or false, ...}}
  sdpa[i]    = {name, inputs = {q, k, v}, mask, mask_bool, is_causal, scale,
                seed, output, grads = {q, k, v}}
  modules[i] = {name, class = "<nn class>", args = {[name] = value},
                params = {[state_dict name] = T}, inputs = {T, ...},
                masks = {[forward option] = T}, bool = {[forward option] = true},
                options = {[forward option] = value}, seed, output,
                weights (MultiheadAttention with need_weights),
                grads = {inputs = {T, ...}, params = {[name] = T}}}
    The spec builds nn[class](args), loads params, calls it with inputs and
    {masks..., options...}, and back-propagates seed into the first result.
    ``self_attn = true``: query, key and value are the one input. State-dict
    names are Lua's: ModuleList children count from 1 ("layers.1.linear1.weight").
"""

import math
import re
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_lua as lua  # noqa: E402
from fixture_lua import DTYPE, lua_key  # noqa: E402

SEED = 20261205
MAX_ELEMENTS = 600

OUT_PATH = lua.FIXTURES / "attn.lua"

torch.manual_seed(SEED)
torch.set_default_dtype(DTYPE)

DRAW = lua.Draws(SEED)
randn, rand = DRAW.randn, DRAW.rand


def fmt_tensor(t, indent):
    return lua.fmt_tensor(t.to(DTYPE), indent, MAX_ELEMENTS,
                          num=lambda x: lua.fmt_num(x, nonfinite=True))


def fmt_value(v, indent):
    if isinstance(v, torch.Tensor):
        return fmt_tensor(v, indent)
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(fmt_value(x, indent + 2) for x in v) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join("%s = %s" % (lua_key(k), fmt_value(x, indent + 2))
                               for k, x in v.items() if x is not None) + "}"
    return lua.fmt_lua(v)


def bool_mask(*shape, p=0.3):
    """A random bool mask (True: masked out) that leaves every row at least
    one key (the last dim's first element is never masked)."""
    m = rand(*shape) < p
    m[..., 0] = False
    return m


def float_mask(*shape):
    """Additive mask: small values, some -inf (never the first key)."""
    m = randn(*shape) * 0.5
    inf = rand(*shape) < 0.2
    inf[..., 0] = False
    return m.masked_fill(inf, float("-inf"))


# ----------------------------------------------------------------------------
# lucid.masked_softmax

OPS = []


def softmax_ref(x, mask, scale):
    z = x * scale
    if mask is not None:
        z = z.masked_fill(mask, float("-inf")) if mask.dtype == torch.bool else z + mask
    return torch.softmax(z, -1)


def op_case(name, x, mask, scale, mask_grad=False):
    xl = x.clone().requires_grad_(True)
    ml = mask
    if mask is not None and mask.dtype != torch.bool and mask_grad:
        ml = mask.clone().requires_grad_(True)
    out = softmax_ref(xl, ml, scale)
    seed = randn(*out.shape)
    out.backward(seed)
    inputs = [xl.detach()] + ([] if mask is None else [mask])
    grads = [xl.grad] + ([] if mask is None else [ml.grad if mask_grad else False])
    OPS.append({"name": name, "op": "masked_softmax", "inputs": inputs,
                "mask_bool": mask is not None and mask.dtype == torch.bool,
                "mask_grad": mask_grad, "scale": scale, "seed": seed,
                "output": out.detach(), "grads": grads})


def build_ops():
    op_case("masked_softmax no mask (2,3,5)", randn(2, 3, 5), None, 1.0)
    op_case("masked_softmax bool (5) over (2,3,5) scale 0.5", randn(2, 3, 5), bool_mask(5), 0.5)
    op_case("masked_softmax bool (2,1,5)", randn(2, 3, 5), bool_mask(2, 1, 5), 0.7)
    op_case("masked_softmax float (3,5) with grad", randn(2, 3, 5), randn(3, 5), 0.3,
            mask_grad=True)
    op_case("masked_softmax float -inf (2,3,5)", randn(2, 3, 5), float_mask(2, 3, 5), 1.0)
    op_case("masked_softmax 1-D", randn(6), bool_mask(6), 2.0)


# ----------------------------------------------------------------------------
# scaled_dot_product_attention (PyTorch 2.x semantics, computed in math)

SDPA = []


def sdpa_ref(q, k, v, mask, is_causal, scale):
    s = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    L, S = q.shape[-2], k.shape[-2]
    if is_causal:
        mask = torch.ones(L, S, dtype=torch.bool).triu(1)
    z = q @ k.transpose(-2, -1) * s
    if mask is not None:
        z = z.masked_fill(mask, float("-inf")) if mask.dtype == torch.bool else z + mask
    return torch.softmax(z, -1) @ v


def sdpa_case(name, q, k, v, mask=None, is_causal=False, scale=None):
    leaves = [t.clone().requires_grad_(True) for t in (q, k, v)]
    out = sdpa_ref(*leaves, mask, is_causal, scale)
    seed = randn(*out.shape)
    out.backward(seed)
    SDPA.append({"name": name, "inputs": [t.detach() for t in leaves], "mask": mask,
                 "mask_bool": mask is not None and mask.dtype == torch.bool,
                 "is_causal": is_causal, "scale": scale, "seed": seed,
                 "output": out.detach(), "grads": [t.grad for t in leaves]})


def build_sdpa():
    sdpa_case("sdpa (2,2,3,4) no mask", randn(2, 2, 3, 4), randn(2, 2, 5, 4), randn(2, 2, 5, 6))
    sdpa_case("sdpa bool mask (3,5)", randn(2, 2, 3, 4), randn(2, 2, 5, 4), randn(2, 2, 5, 6),
              mask=bool_mask(3, 5))
    sdpa_case("sdpa float mask (2,1,3,5)", randn(2, 2, 3, 4), randn(2, 2, 5, 4),
              randn(2, 2, 5, 6), mask=float_mask(2, 1, 3, 5))
    sdpa_case("sdpa causal (2,4,4)", randn(2, 4, 4), randn(2, 4, 4), randn(2, 4, 3),
              is_causal=True)
    sdpa_case("sdpa causal L < S (3,5)", randn(3, 4), randn(5, 4), randn(5, 2), is_causal=True)
    sdpa_case("sdpa scale 0.25", randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 4), scale=0.25)


# ----------------------------------------------------------------------------
# modules

MODULES = []


def lua_names(name):
    """PyTorch state-dict name -> Lua's (ModuleList children count from 1)."""
    return re.sub(r"(^|\.)layers\.(\d+)\.", lambda m: "%slayers.%d." % (m.group(1), int(m.group(2)) + 1),
                  name)


def redraw(module):
    """Every parameter redrawn (biases and LayerNorm included), so that no
    value is a default and the fixture tests every one."""
    with torch.no_grad():
        for _, p in module.named_parameters():
            p.copy_(randn(*p.shape) * 0.3)


def module_case(name, cls, args, module, inputs, masks=None, options=None, self_attn=False,
                weights=False):
    masks = masks or {}
    options = options or {}
    redraw(module)
    module.train()  # dropout is 0: the training path, no fast path
    leaves = [t.clone().requires_grad_(True) for t in inputs]
    call = [leaves[0]] * 3 if self_attn else leaves
    res = module(*call, **masks, **options)
    out, w = (res[0], res[1]) if isinstance(res, tuple) else (res, None)
    seed = randn(*out.shape)
    out.backward(seed)
    params = {lua_names(n): p.detach().clone() for n, p in module.named_parameters()}
    pgrads = {}
    for n, p in module.named_parameters():
        assert p.grad is not None, (name, n)
        pgrads[lua_names(n)] = p.grad
    entry = {"name": name, "class": cls, "args": args, "params": params,
             "inputs": [t.detach() for t in leaves], "self_attn": self_attn,
             "masks": {k: (v.double() if v.dtype == torch.bool else v) for k, v in masks.items()},
             "bool": {k: True for k, v in masks.items() if v.dtype == torch.bool},
             "options": options, "seed": seed, "output": out.detach(),
             "grads": {"inputs": [t.grad for t in leaves], "params": pgrads}}
    if weights:
        entry["weights"] = w.detach()
    MODULES.append(entry)


def mha(name, E, H, L, S, N, kw=None, masks=None, options=None, self_attn=False, unbatched=False):
    kw = kw or {}
    m = nn.MultiheadAttention(E, H, dropout=0.0, **kw)
    bf = kw.get("batch_first", False)
    kdim, vdim = kw.get("kdim", E), kw.get("vdim", E)

    def shape(n, d):
        if unbatched:
            return (n, d)
        return (N, n, d) if bf else (n, N, d)
    inputs = [randn(*shape(L, E))] if self_attn else \
        [randn(*shape(L, E)), randn(*shape(S, kdim)), randn(*shape(S, vdim))]
    opts = dict(options or {})
    need = opts.get("need_weights", True)
    args = dict(embed_dim=E, num_heads=H, **kw)
    module_case(name, "MultiheadAttention", args, m, inputs, masks, opts, self_attn,
                weights=need)


def build_mha():
    E, H, L, S, N = 8, 2, 3, 4, 2
    mha("mha self-attention", E, H, L, L, N, self_attn=True)
    mha("mha cross, no masks", E, H, L, S, N)
    mha("mha bool key_padding_mask", E, H, L, S, N,
        masks={"key_padding_mask": bool_mask(N, S, p=0.4)})
    mha("mha float key_padding_mask", E, H, L, S, N,
        masks={"key_padding_mask": float_mask(N, S)})
    mha("mha bool attn_mask 2-D", E, H, L, S, N, masks={"attn_mask": bool_mask(L, S)})
    mha("mha float attn_mask 3-D", E, H, L, S, N, masks={"attn_mask": float_mask(N * H, L, S)})
    mha("mha float attn_mask and bool key_padding_mask", E, H, L, S, N,
        masks={"attn_mask": float_mask(L, S), "key_padding_mask": bool_mask(N, S)})
    mha("mha bool attn_mask 3-D and bool key_padding_mask", E, H, L, S, N,
        masks={"attn_mask": bool_mask(N * H, L, S), "key_padding_mask": bool_mask(N, S)})
    mha("mha kdim vdim", E, H, L, S, N, kw={"kdim": 5, "vdim": 3})
    mha("mha add_bias_kv with masks", E, H, L, S, N, kw={"add_bias_kv": True},
        masks={"attn_mask": bool_mask(L, S), "key_padding_mask": bool_mask(N, S)})
    mha("mha add_zero_attn with masks", E, H, L, S, N, kw={"add_zero_attn": True},
        masks={"attn_mask": float_mask(L, S), "key_padding_mask": bool_mask(N, S)})
    mha("mha add_bias_kv add_zero_attn", E, H, L, S, N,
        kw={"add_bias_kv": True, "add_zero_attn": True})
    mha("mha batch_first", E, H, L, S, N, kw={"batch_first": True},
        masks={"key_padding_mask": bool_mask(N, S)})
    mha("mha per-head weights", E, H, L, S, N, options={"average_attn_weights": False})
    mha("mha need_weights false", E, H, L, S, N, options={"need_weights": False})
    mha("mha no bias", E, H, L, S, N, kw={"bias": False})
    mha("mha unbatched", E, H, L, S, N, unbatched=True,
        masks={"key_padding_mask": bool_mask(S)})
    mha("mha one head", 6, 1, L, S, N)


def enc_layer(name, kw, masks=None, L=4, N=2, E=8):
    kw = dict(d_model=E, nhead=2, dim_feedforward=12, dropout=0.0, **kw)
    m = nn.TransformerEncoderLayer(**kw)
    bf = kw.get("batch_first", False)
    x = randn(N, L, E) if bf else randn(L, N, E)
    module_case(name, "TransformerEncoderLayer", kw, m, [x], masks)


def dec_layer(name, kw, masks=None, L=3, S=4, N=2, E=8):
    kw = dict(d_model=E, nhead=2, dim_feedforward=12, dropout=0.0, **kw)
    m = nn.TransformerDecoderLayer(**kw)
    bf = kw.get("batch_first", False)
    tgt = randn(N, L, E) if bf else randn(L, N, E)
    mem = randn(N, S, E) if bf else randn(S, N, E)
    module_case(name, "TransformerDecoderLayer", kw, m, [tgt, mem], masks)


def causal(n):
    return nn.Transformer.generate_square_subsequent_mask(n).to(DTYPE)


def build_transformers():
    L, S, N = 4, 3, 2
    enc_layer("encoder layer relu", {})
    enc_layer("encoder layer gelu norm_first", {"activation": "gelu", "norm_first": True})
    enc_layer("encoder layer batch_first masks", {"batch_first": True, "layer_norm_eps": 1e-3},
              masks={"src_mask": causal(L), "src_key_padding_mask": bool_mask(N, L)})
    dec_layer("decoder layer relu masks", {},
              masks={"tgt_mask": causal(3), "memory_key_padding_mask": bool_mask(N, 4)})
    dec_layer("decoder layer gelu norm_first batch_first", {"activation": "gelu", "norm_first": True,
                                                            "batch_first": True},
              masks={"tgt_key_padding_mask": bool_mask(N, 3), "memory_mask": bool_mask(3, 4)})
    # stacks: TransformerEncoder(layer, 2, norm) and the full Transformer
    E = 8
    layer = nn.TransformerEncoderLayer(E, 2, 12, 0.0)
    enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(E))
    module_case("encoder 2 layers with norm", "TransformerEncoder",
                {"d_model": E, "nhead": 2, "dim_feedforward": 12, "num_layers": 2, "norm": True},
                enc, [randn(L, N, E)], {"mask": causal(L)})
    dlayer = nn.TransformerDecoderLayer(E, 2, 12, 0.0, norm_first=True)
    dec = nn.TransformerDecoder(dlayer, 2)
    module_case("decoder 2 layers norm_first", "TransformerDecoder",
                {"d_model": E, "nhead": 2, "dim_feedforward": 12, "num_layers": 2, "norm": False,
                 "norm_first": True},
                dec, [randn(L, N, E), randn(S, N, E)], {"tgt_mask": causal(L)})
    tr = nn.Transformer(d_model=E, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
                        dim_feedforward=12, dropout=0.0, activation="gelu")
    module_case("transformer", "Transformer",
                {"d_model": E, "nhead": 2, "num_encoder_layers": 2, "num_decoder_layers": 1,
                 "dim_feedforward": 12, "dropout": 0.0, "activation": "gelu"},
                tr, [randn(S, N, E), randn(L, N, E)],
                {"tgt_mask": causal(L), "src_key_padding_mask": bool_mask(N, S),
                 "memory_key_padding_mask": bool_mask(N, S)})


# ----------------------------------------------------------------------------
# output

HEADER = """\
-- Generated by scripts/gen_fixtures_attn.py (PyTorch 1.13, float64). Do not edit
-- by hand; regenerate with: /usr/bin/python3 scripts/gen_fixtures_attn.py
--
-- tensor: {shape = {...}, data = {flat row-major values}}; masks may hold
-- -math.huge; a bool mask is written as 0/1 and flagged (mask_bool, bool[name]).
-- ops[i]: lucid.masked_softmax(inputs[1], inputs[2], scale); grads[i] is
--   d(sum(output * seed))/d inputs[i] (false: none wanted).
-- sdpa[i]: nn.functional.scaled_dot_product_attention(q, k, v, mask,
--   0, is_causal, {scale = scale}), bool masks true = masked out.
-- modules[i]: nn[class](args) with params loaded, called with inputs and
--   masks/options by name; seed back-propagated into the first result.
"""


def write():
    body = []
    for key, items in (("ops", OPS), ("sdpa", SDPA), ("modules", MODULES)):
        body.append("  %s = {" % key)
        for c in items:
            body.append("    {")
            for k, v in c.items():
                if v is None:
                    continue
                body.append("      %s = %s," % (lua_key(k), fmt_value(v, 6)))
            body.append("    },")
        body.append("  },")
    lua.write_chunk(OUT_PATH, HEADER, body, "%d ops, %d sdpa, %d modules"
                    % (len(OPS), len(SDPA), len(MODULES)))


def main():
    build_ops()
    build_sdpa()
    build_mha()
    build_transformers()
    write()


if __name__ == "__main__":
    main()
