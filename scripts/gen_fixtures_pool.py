"""Generate tests/fixtures/pool.lua: PyTorch reference values for Lucid's
pooling, normalisation and resampling layers (tests/pool_spec.lua checks
against it).

Run from anywhere with Debian's PyTorch (the ``python3`` first on PATH may lack
torch):

    /usr/bin/python3 scripts/gen_fixtures_pool.py

The output is deterministic (fixed seed), so rerunning it leaves the file
unchanged. Running the tests does not need Python.

Fixture format (see also the comment at the top of the generated file):
  tensor = {shape = {d1, ...}, data = {flat row-major values}}
  functional[i] = {name, fn = "<nn.functional name>", op = "<core op>",
                   opts = {Lua options by name}, input = T, seed = T,
                   output = T, grad = T, indices = T (max pools with
                   return_indices: 1-based, as float64),
                   output32 = T, grad32 = T}
    The spec calls F[fn](input, opts) and back-propagates seed. The 32 forms
    are PyTorch's results in float32 from the input rounded to float32.
    max_unpool cases also hold pool_opts: the max_pool that made their indices
    from input (the unpool's input is that pool's output).
  layers[i] = {name, layer = "<nn class>", op = "<core op>" (some), args = {Lua constructor options},
               eval = bool, steps = n, params = {[state_dict name] = T},
               input = T, seed = T, output = T, grads = {input = T,
               params = {[name] = T}}, state_after = {[buffer name] = T},
               output32 = T, grads32 = {...}, state_after32 = {...}}
    The spec builds nn[layer](args), loads params (buffers too), sets eval
    mode if asked, calls the layer steps - 1 times without looking, then
    once more, and back-propagates seed.
Values follow Lua conventions: indices are 1-based.
"""

import sys
import warnings
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_lua as lua  # noqa: E402
from fixture_lua import DTYPE  # noqa: E402

SEED = 20261205
OUT_PATH = lua.FIXTURES / "pool.lua"

warnings.filterwarnings("ignore")
torch.set_default_dtype(DTYPE)
DRAW = lua.Draws(SEED)
randn = DRAW.randn


def fmt_value(v, indent=6):
    if isinstance(v, torch.Tensor):
        return lua.fmt_tensor(v.detach().to(DTYPE), indent)
    return lua.fmt_lua(v, other=lambda t: lua.fmt_tensor(t.detach().to(DTYPE)))


def entry(fields):
    """A case as Lua lines at the indent of a list item."""
    lines = ["    {"]
    for k, v in fields.items():
        if v is None:
            continue
        if isinstance(v, dict) and any(isinstance(x, (torch.Tensor, dict)) for x in v.values()):
            lines.append("      %s = {" % lua.lua_key(k))
            for kk, vv in v.items():
                if isinstance(vv, dict):
                    lines.append("        %s = {" % lua.lua_key(kk))
                    for k3, v3 in vv.items():
                        lines.append("          %s = %s," % (lua.lua_key(k3), fmt_value(v3, 10)))
                    lines.append("        },")
                else:
                    lines.append("        %s = %s," % (lua.lua_key(kk), fmt_value(vv, 8)))
            lines.append("      },")
        else:
            lines.append("      %s = %s," % (lua.lua_key(k), fmt_value(v)))
    lines.append("    },")
    return lines


# ----------------------------------------------------------------------------
# functional cases

FUNCTIONAL = []


def lua_opts(opts):
    """PyTorch keyword arguments as Lua options: tuples as tables, None as
    false inside output_size."""
    out = {}
    for k, v in opts.items():
        if isinstance(v, tuple):
            v = [False if e is None else e for e in v]
        out[k] = v
    return out


def run_fn(fn, x, opts, seed, dtype):
    x = x.detach().to(dtype).requires_grad_(True)
    r = getattr(F, fn)(x, **opts)
    y, idx = (r if isinstance(r, tuple) else (r, None))
    (y * seed.to(dtype)).sum().backward()
    return y, idx, x.grad


def functional(name, fn, op, shape, **opts):
    x = randn(*shape)
    y, idx, _ = run_fn(fn, x, opts, torch.zeros(1), DTYPE)
    seed = randn(*y.shape)
    y, idx, g = run_fn(fn, x, opts, seed, DTYPE)
    y32, _, g32 = run_fn(fn, x, opts, seed, torch.float32)
    FUNCTIONAL.append({
        "name": name, "fn": fn, "op": op, "opts": lua_opts(opts), "input": x, "seed": seed,
        "output": y, "grad": g, "indices": None if idx is None else (idx + 1).to(DTYPE),
        "output32": y32, "grad32": g32,
    })


def two_inputs(name, fn, x, other, **opts):
    """A case of fn(input, other, **opts) with gradients to both (grid_sample)."""
    def run(dtype, seed):
        xi = x.detach().to(dtype).clone().requires_grad_(True)
        oi = other.detach().to(dtype).clone().requires_grad_(True)
        y = getattr(F, fn)(xi, oi, **opts)
        (y * seed.to(dtype)).sum().backward()
        return y, xi.grad, oi.grad

    y, _, _ = run(DTYPE, torch.zeros(1))
    seed = randn(*y.shape)
    y, g, g2 = run(DTYPE, seed)
    y32, g32, g232 = run(torch.float32, seed)
    FUNCTIONAL.append({
        "name": name, "fn": fn, "opts": lua_opts(opts), "input": x, "other": other, "seed": seed,
        "output": y, "grad": g, "grad_other": g2, "output32": y32, "grad32": g32,
        "grad_other32": g232,
    })


def unpool(name, fn, shape, pool_opts, **opts):
    pool = "max_pool2d" if fn == "max_unpool2d" else "max_pool1d"
    x0 = randn(*shape)
    p, idx = getattr(F, pool)(x0, return_indices=True, **pool_opts)
    x = p.detach()

    def run(dtype, seed):
        xi = x.detach().to(dtype).clone().requires_grad_(True)
        y = getattr(F, fn)(xi, idx, **opts)
        (y * seed.to(dtype)).sum().backward()
        return y, xi.grad

    y, _ = run(DTYPE, torch.zeros(1))
    seed = randn(*y.shape)
    y, g = run(DTYPE, seed)
    y32, g32 = run(torch.float32, seed)
    FUNCTIONAL.append({
        "name": name, "fn": fn, "op": "max_unpool2d", "opts": lua_opts(opts), "pool": pool,
        "pool_opts": lua_opts(dict(pool_opts, return_indices=True)), "pool_input": x0,
        "input": x, "indices": (idx + 1).to(DTYPE), "seed": seed, "output": y, "grad": g,
        "output32": y32, "grad32": g32,
    })


def make_functional():
    mp, ap = "max_pool2d", "avg_pool2d"
    functional("max_pool2d k2", "max_pool2d", mp, (2, 2, 5, 6), kernel_size=2)
    functional("max_pool2d k3 s2 p1 indices", "max_pool2d", mp, (2, 2, 7, 6), kernel_size=3,
               stride=2, padding=1, return_indices=True)
    functional("max_pool2d k(3,2) s(2,1) p(1,0) d(2,1)", "max_pool2d", mp, (1, 3, 8, 5),
               kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(2, 1),
               return_indices=True)
    functional("max_pool2d k3 s2 ceil", "max_pool2d", mp, (1, 2, 6, 6), kernel_size=3, stride=2,
               ceil_mode=True, return_indices=True)
    functional("max_pool2d k3 s2 p1 ceil (last window in padding dropped)", "max_pool2d", mp,
               (1, 2, 5, 6), kernel_size=3, stride=2, padding=1, ceil_mode=True)
    functional("max_pool2d 3-d input", "max_pool2d", mp, (2, 5, 5), kernel_size=2, stride=1,
               return_indices=True)
    functional("max_pool1d k3 s2 p1 d2 ceil", "max_pool1d", mp, (2, 3, 10), kernel_size=3,
               stride=2, padding=1, dilation=2, ceil_mode=True, return_indices=True)
    functional("max_pool1d 2-d input", "max_pool1d", mp, (3, 7), kernel_size=2)
    functional("avg_pool2d k2", "avg_pool2d", ap, (2, 2, 5, 6), kernel_size=2)
    functional("avg_pool2d k3 s2 p1", "avg_pool2d", ap, (2, 2, 7, 6), kernel_size=3, stride=2,
               padding=1)
    functional("avg_pool2d k3 s2 p1 no pad count", "avg_pool2d", ap, (2, 2, 7, 6), kernel_size=3,
               stride=2, padding=1, count_include_pad=False)
    functional("avg_pool2d k3 s2 p1 ceil", "avg_pool2d", ap, (1, 2, 6, 6), kernel_size=3, stride=2,
               padding=1, ceil_mode=True)
    functional("avg_pool2d k3 s2 p1 ceil no pad count", "avg_pool2d", ap, (1, 2, 6, 6),
               kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    functional("avg_pool2d k(2,3) s(1,2) divisor_override", "avg_pool2d", ap, (1, 2, 4, 7),
               kernel_size=(2, 3), stride=(1, 2), divisor_override=5)
    functional("avg_pool2d 3-d input", "avg_pool2d", ap, (2, 4, 5), kernel_size=2, stride=1)
    functional("avg_pool1d k3 s2 p1 ceil no pad count", "avg_pool1d", ap, (2, 3, 10),
               kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    functional("avg_pool1d k4", "avg_pool1d", ap, (2, 9), kernel_size=4, stride=2, padding=2)
    functional("adaptive_avg_pool1d 10 -> 4", "adaptive_avg_pool1d", ap, (2, 3, 10), output_size=4)
    functional("adaptive_avg_pool2d (7,5) -> (3,4)", "adaptive_avg_pool2d", ap, (2, 2, 7, 5),
               output_size=(3, 4))
    functional("adaptive_avg_pool2d (6,5) -> (4,None)", "adaptive_avg_pool2d", ap, (1, 2, 6, 5),
               output_size=(4, None))
    functional("adaptive_avg_pool2d (5,5) -> 1", "adaptive_avg_pool2d", ap, (2, 3, 5, 5),
               output_size=1)
    functional("adaptive_max_pool2d (7,5) -> (3,2)", "adaptive_max_pool2d", mp, (2, 2, 7, 5),
               output_size=(3, 2), return_indices=True)
    functional("adaptive_max_pool1d 9 -> 4", "adaptive_max_pool1d", mp, (2, 2, 9), output_size=4,
               return_indices=True)
    ip = "interpolate"
    functional("interpolate nearest size", "interpolate", ip, (2, 2, 3, 4), size=(5, 7))
    functional("interpolate nearest scale 2", "interpolate", ip, (1, 2, 3, 3), scale_factor=2)
    functional("interpolate nearest scale 1.7", "interpolate", ip, (1, 2, 3, 4), scale_factor=1.7)
    functional("interpolate nearest 1-d", "interpolate", ip, (2, 2, 5), size=8)
    functional("interpolate nearest downsample", "interpolate", ip, (1, 2, 7, 6), size=(3, 4))
    functional("interpolate bilinear", "interpolate", ip, (2, 2, 3, 4), size=(5, 7), mode="bilinear")
    functional("interpolate bilinear align_corners", "interpolate", ip, (2, 2, 3, 4), size=(5, 7),
               mode="bilinear", align_corners=True)
    functional("interpolate bilinear scale 1.5", "interpolate", ip, (1, 2, 4, 3), scale_factor=1.5,
               mode="bilinear")
    functional("interpolate bilinear scale (2, 0.6) recompute", "interpolate", ip, (1, 2, 3, 5),
               scale_factor=(2.0, 0.6), mode="bilinear", recompute_scale_factor=True)
    functional("interpolate bilinear downsample align_corners", "interpolate", ip, (1, 1, 7, 6),
               size=(3, 4), mode="bilinear", align_corners=True)
    functional("interpolate linear 1-d", "interpolate", ip, (2, 3, 5), size=9, mode="linear")
    functional("interpolate linear 1-d align_corners", "interpolate", ip, (2, 3, 5), scale_factor=2,
               mode="linear", align_corners=True)
    functional("affine_grid", "affine_grid", None, (2, 2, 3), size=[2, 3, 4, 5])
    functional("affine_grid align_corners", "affine_grid", None, (1, 2, 3), size=[1, 1, 3, 2],
               align_corners=True)
    for mode in ("bilinear", "nearest"):
        for pad in ("zeros", "border", "reflection"):
            for align in (False, True):
                x = randn(2, 2, 4, 5)
                # points inside and out of [-1, 1], off the pixel grid (so
                # that nearest rounds no half and bilinear sits on no seam)
                grid = DRAW.uniform(-1.6, 1.6, 2, 3, 4, 2)
                two_inputs("grid_sample %s %s align_corners=%s" % (mode, pad, align), "grid_sample",
                           x, grid, mode=mode, padding_mode=pad, align_corners=align)
    unpool("max_unpool2d k2", "max_unpool2d", (2, 2, 4, 6), {"kernel_size": 2}, kernel_size=2)
    unpool("max_unpool2d k3 s2 p1 output_size", "max_unpool2d", (1, 2, 7, 6),
           {"kernel_size": 3, "stride": 2, "padding": 1}, kernel_size=3, stride=2, padding=1,
           output_size=(7, 6))
    unpool("max_unpool1d k2", "max_unpool1d", (2, 2, 8), {"kernel_size": 2}, kernel_size=2)


# ----------------------------------------------------------------------------

LAYERS = []


def layer(name, cls, args, ctor, shape, eval=False, steps=1, op=None):
    """A layer case: PyTorch's module from ctor() with random parameters and
    running statistics, run `steps` times in float64 and in float32."""
    import copy
    m = ctor()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(randn(*p.shape))
        for bname, b in m.named_buffers():
            if bname == "running_mean":
                b.copy_(randn(*b.shape))
            elif bname == "running_var":
                b.copy_(DRAW.positive(*b.shape))
    params = {k: v.detach().clone().to(DTYPE) for k, v in m.state_dict().items()}
    x = randn(*shape)
    seed = None

    def run(dtype):
        mm = copy.deepcopy(m).to(dtype)
        mm.eval() if eval else mm.train()
        xi = x.detach().to(dtype).clone().requires_grad_(True)
        for _ in range(steps - 1):
            mm(xi)
        y = mm(xi)
        if seed is not None:
            (y * seed.to(dtype)).sum().backward()
        grads = {k: p.grad for k, p in mm.named_parameters()}
        state = {k: b.detach().clone().to(DTYPE) for k, b in mm.named_buffers()}
        return y, xi.grad, grads, state

    y, _, _, _ = run(DTYPE)
    seed = randn(*y.shape)
    y, gx, gp, state = run(DTYPE)
    y32, gx32, gp32, state32 = run(torch.float32)
    LAYERS.append({
        "name": name, "layer": cls, "op": op, "args": args, "eval": eval, "steps": steps,
        "params": params, "input": x, "seed": seed, "output": y,
        "grads": {"input": gx, "params": gp}, "state_after": state or None,
        "output32": y32, "grads32": {"input": gx32, "params": gp32},
        "state_after32": state32 or None,
    })


def make_layers():
    layer("BatchNorm2d train", "BatchNorm2d", {"num_features": 3}, lambda: nn.BatchNorm2d(3),
          (4, 3, 3, 2), op="batch_norm")
    layer("BatchNorm2d momentum None, 3 steps", "BatchNorm2d",
          {"num_features": 2, "momentum": False, "eps": 1e-3},
          lambda: nn.BatchNorm2d(2, momentum=None, eps=1e-3), (2, 2, 3, 3), steps=3)
    layer("BatchNorm2d momentum 0.3, 2 steps", "BatchNorm2d", {"num_features": 2, "momentum": 0.3},
          lambda: nn.BatchNorm2d(2, momentum=0.3), (3, 2, 2, 3), steps=2)
    layer("BatchNorm2d eval", "BatchNorm2d", {"num_features": 3}, lambda: nn.BatchNorm2d(3),
          (2, 3, 3, 3), eval=True)
    layer("BatchNorm2d no affine, no running stats, eval", "BatchNorm2d",
          {"num_features": 2, "affine": False, "track_running_stats": False},
          lambda: nn.BatchNorm2d(2, affine=False, track_running_stats=False), (3, 2, 2, 2),
          eval=True)
    layer("GroupNorm(2, 4)", "GroupNorm", {"num_groups": 2, "num_channels": 4},
          lambda: nn.GroupNorm(2, 4), (3, 4, 2, 3))
    layer("GroupNorm(3, 3) eps 1e-3 on {N, C, L}", "GroupNorm",
          {"num_groups": 3, "num_channels": 3, "eps": 1e-3},
          lambda: nn.GroupNorm(3, 3, eps=1e-3), (2, 3, 5))
    layer("GroupNorm(1, 4) no affine", "GroupNorm",
          {"num_groups": 1, "num_channels": 4, "affine": False},
          lambda: nn.GroupNorm(1, 4, affine=False), (2, 4, 3))
    layer("InstanceNorm2d", "InstanceNorm2d", {"num_features": 3}, lambda: nn.InstanceNorm2d(3),
          (2, 3, 3, 4))
    layer("InstanceNorm2d affine, unbatched", "InstanceNorm2d", {"num_features": 2, "affine": True},
          lambda: nn.InstanceNorm2d(2, affine=True), (2, 3, 4))
    layer("InstanceNorm2d running stats, momentum 0.2, 2 steps", "InstanceNorm2d",
          {"num_features": 2, "momentum": 0.2, "affine": True, "track_running_stats": True},
          lambda: nn.InstanceNorm2d(2, momentum=0.2, affine=True, track_running_stats=True),
          (3, 2, 3, 3), steps=2)
    layer("InstanceNorm2d running stats, eval", "InstanceNorm2d",
          {"num_features": 2, "track_running_stats": True},
          lambda: nn.InstanceNorm2d(2, track_running_stats=True), (2, 2, 3, 3), eval=True)
    layer("LocalResponseNorm(3)", "LocalResponseNorm", {"size": 3},
          lambda: nn.LocalResponseNorm(3), (2, 5, 2, 3))
    layer("LocalResponseNorm(2, 0.01, 0.5, 2) on {N, C, L}", "LocalResponseNorm",
          {"size": 2, "alpha": 0.01, "beta": 0.5, "k": 2.0},
          lambda: nn.LocalResponseNorm(2, alpha=0.01, beta=0.5, k=2.0), (2, 4, 5))

HEADER = """-- PyTorch %s reference values for the pooling, normalisation and resampling
-- layers (tests/pool_spec.lua), written by scripts/gen_fixtures_pool.py: do
-- not edit. Format: see that script's docstring.""" % torch.__version__


def main():
    make_functional()
    make_layers()
    body = ["  functional = {"]
    for c in FUNCTIONAL:
        body += entry(c)
    body.append("  },")
    body.append("  layers = {")
    for c in LAYERS:
        body += entry(c)
    body.append("  },")
    lua.write_chunk(OUT_PATH, HEADER, body, "%d functional cases, %d layers"
                    % (len(FUNCTIONAL), len(LAYERS)))


if __name__ == "__main__":
    main()
