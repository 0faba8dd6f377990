"""Generate tests/fixtures/optim.lua: PyTorch reference values for lucid.optim.

Writes ``tests/fixtures/optim.lua`` (relative to the repository root, found
from this script's location), a Lua chunk ``return {problem = ..., cases = ...,
schedulers = ..., clip = ...}`` that tests/optim_spec.lua loads with dofile.
Run with Debian's PyTorch (the ``python3`` first on PATH may lack torch):

    /usr/bin/python3 scripts/gen_fixtures_optim.py

Only needed to regenerate the checked-in fixture; the output is deterministic
(fixed seed, float64 everywhere), so rerunning leaves the file unchanged.

The problem: parameters W {3, 2}, b {2} and c {2} (c is not used by the loss,
so its gradient stays None and every optimizer must leave it alone), and
    loss = sum((x @ W + b - y) ^ 2)
with stored x {4, 3} and y {4, 2}. Each case runs 10 steps of
zero_grad / backward / step (then scheduler.step() if the case has one) and
records the parameters and the loss before each step, and at the end the
optimizer's state_dict (1-based parameter indices, PyTorch-only group keys
such as foreach dropped, 'step' as a number, None state entries dropped).

Scheduler cases record get_last_lr() after construction and after each of 12
step() calls, on an SGD optimizer with two groups (lr 0.1 and 0.02). Clip cases
record the total norm and the gradients after nn.utils.clip_grad_norm_ (or
clip_grad_value_).
"""

import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_lua as lua  # noqa: E402
from fixture_lua import DTYPE  # noqa: E402

SEED = 20240607
STEPS = 10
EPOCHS = 12

OUT_PATH = lua.FIXTURES / "optim.lua"

torch.set_default_dtype(DTYPE)
randn = lua.Draws(SEED).randn

# Option names Lucid knows per optimizer (PyTorch's minus foreach,
# capturable, differentiable, fused, which mean nothing without devices).
OPTION_NAMES = {
    "SGD": ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"],
    "Adam": ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"],
    "AdamW": ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"],
    "RMSprop": ["lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"],
    "Adagrad": ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps",
                "maximize"],
}


# ----------------------------------------------------------------------------
# Lua serialisation

def fmt_num(x):
    """As fixture_lua's, infinities included (max_norm, norm_type), but a
    whole float keeps its ".0": 2.0 stays a float in Lua."""
    x = float(x)
    assert not math.isnan(x), x
    if math.isfinite(x) and x == int(x) and abs(x) < 2 ** 53:
        return repr(x)
    return lua.fmt_num(x, nonfinite=True)


def fmt_lua(v):
    """Lua literal: numbers, bools, strings, tensors (on one line), None,
    lists, dicts (sorted keys)."""
    def other(x):
        if x is None:
            return "nil"
        if isinstance(x, torch.Tensor):
            return lua.fmt_tensor(x, num=fmt_num)
        raise TypeError(type(x))
    return lua.fmt_lua(v, num=fmt_num, other=other, sort_keys=True)


# ----------------------------------------------------------------------------
# the problem

X = randn(4, 3)
Y = randn(4, 2)
W0 = randn(3, 2) * 0.5
B0 = randn(2) * 0.5
C0 = randn(2)
PROBLEM = {"x": X, "y": Y, "params": [W0, B0, C0]}


def loss_fn(W, b):
    return ((X @ W + b - Y) ** 2).sum()


def fresh_params():
    return [p.clone().requires_grad_(True) for p in PROBLEM["params"]]


def lua_options(name, opts):
    out = {}
    for k, v in opts.items():
        assert k in OPTION_NAMES[name] or k == "params", (name, k)
        out[k] = list(v) if isinstance(v, tuple) else v
    return out


def packed_state_dict(opt, name):
    sd = opt.state_dict()
    state = {}
    for idx, s in sd["state"].items():
        entry = {}
        for k, v in s.items():
            if v is None:
                continue
            if k == "step":
                entry[k] = float(v.item()) if isinstance(v, torch.Tensor) else float(v)
            else:
                entry[k] = v.detach().clone()
        if entry:
            state[idx + 1] = entry
    groups = []
    for g in sd["param_groups"]:
        lg = {}
        for k, v in g.items():
            if k == "params":
                lg[k] = [i + 1 for i in v]
            elif k in OPTION_NAMES[name] or k == "initial_lr":
                lg[k] = list(v) if isinstance(v, tuple) else v
        groups.append(lg)
    return {"state": state, "param_groups": groups}


SCHEDULERS = {
    "StepLR": torch.optim.lr_scheduler.StepLR,
    "ExponentialLR": torch.optim.lr_scheduler.ExponentialLR,
    "CosineAnnealingLR": torch.optim.lr_scheduler.CosineAnnealingLR,
    "LambdaLR": torch.optim.lr_scheduler.LambdaLR,
}

# Lambdas the spec rebuilds by name (tests/optim_spec.lua has the same table).
LAMBDAS = {
    "pow95": lambda e: 0.95 ** e,
    "inv1p": lambda e: 1.0 / (e + 1),
    "step3": lambda e: e // 3,
    "warmup4": lambda e: min(1.0, (e + 1) / 4),
}


def make_scheduler(opt, spec):
    opts = dict(spec["opts"])
    if "lr_lambda" in opts:
        lam = opts["lr_lambda"]
        opts["lr_lambda"] = [LAMBDAS[n] for n in lam] if isinstance(lam, list) else LAMBDAS[lam]
    return SCHEDULERS[spec["name"]](opt, **opts)


CASES = []


def case(title, name, opts, groups=None, scheduler=None):
    """groups: list of dicts with "params" as 0-based indices and options."""
    params = fresh_params()
    cls = getattr(torch.optim, name)
    if groups is None:
        opt = cls(params, **opts)
    else:
        pg = [dict(g, params=[params[i] for i in g["params"]]) for g in groups]
        opt = cls(pg, **opts)
    sched = make_scheduler(opt, scheduler) if scheduler else None
    steps, losses, lrs = [], [], []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(params[0], params[1])
        loss.backward()
        assert params[2].grad is None
        opt.step()
        if sched:
            sched.step()
        losses.append(loss.item())
        steps.append([p.detach().clone() for p in params])
        lrs.append([g["lr"] for g in opt.param_groups])
    entry = {"name": title, "optim": name, "opts": lua_options(name, opts),
             "steps": steps, "losses": losses,
             "state_dict": packed_state_dict(opt, name)}
    if groups is not None:
        entry["groups"] = [dict(lua_options(name, g), params=[i + 1 for i in g["params"]])
                           for g in groups]
    if sched:
        entry["scheduler"] = scheduler
        entry["lrs"] = lrs
    assert all(c["name"] != title for c in CASES), title
    CASES.append(entry)


def build_cases():
    case("SGD plain", "SGD", {"lr": 0.01})
    case("SGD momentum", "SGD", {"lr": 0.01, "momentum": 0.9})
    case("SGD momentum dampening", "SGD", {"lr": 0.01, "momentum": 0.9, "dampening": 0.3})
    case("SGD nesterov weight_decay", "SGD",
         {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1})
    case("SGD maximize momentum weight_decay", "SGD",
         {"lr": 0.005, "momentum": 0.5, "weight_decay": 0.05, "maximize": True})
    case("SGD param groups", "SGD", {"lr": 0.01},
         groups=[{"params": [0], "lr": 0.02, "momentum": 0.9},
                 {"params": [1, 2], "weight_decay": 0.1}])
    case("Adam", "Adam", {"lr": 0.05})
    case("Adam amsgrad betas", "Adam", {"lr": 0.05, "betas": (0.8, 0.99), "amsgrad": True})
    case("Adam weight_decay eps", "Adam", {"lr": 0.05, "weight_decay": 0.1, "eps": 1e-6})
    case("Adam maximize", "Adam", {"lr": 0.01, "maximize": True})
    case("AdamW", "AdamW", {"lr": 0.05})
    case("AdamW amsgrad weight_decay", "AdamW",
         {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True, "betas": (0.85, 0.995)})
    case("RMSprop", "RMSprop", {"lr": 0.01})
    case("RMSprop centered momentum", "RMSprop",
         {"lr": 0.01, "alpha": 0.9, "momentum": 0.8, "centered": True})
    case("RMSprop momentum weight_decay", "RMSprop",
         {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.1, "eps": 1e-6})
    case("RMSprop centered maximize", "RMSprop",
         {"lr": 0.001, "centered": True, "maximize": True})
    case("Adagrad", "Adagrad", {"lr": 0.1})
    case("Adagrad lr_decay accumulator weight_decay", "Adagrad",
         {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1,
          "weight_decay": 0.05, "eps": 1e-8})
    case("Adagrad maximize", "Adagrad", {"lr": 0.01, "maximize": True})
    case("SGD momentum + StepLR", "SGD", {"lr": 0.01, "momentum": 0.9},
         scheduler={"name": "StepLR", "opts": {"step_size": 3, "gamma": 0.5}})
    case("Adam + CosineAnnealingLR", "Adam", {"lr": 0.05},
         scheduler={"name": "CosineAnnealingLR", "opts": {"T_max": 4, "eta_min": 0.005}})
    case("AdamW groups + LambdaLR", "AdamW", {"lr": 0.05},
         groups=[{"params": [0, 2]}, {"params": [1], "lr": 0.1, "weight_decay": 0.0}],
         scheduler={"name": "LambdaLR", "opts": {"lr_lambda": ["warmup4", "pow95"]}})


# ----------------------------------------------------------------------------
# schedulers

SCHED_CASES = []


def sched_case(title, name, opts, initial_lr=None, last_epoch=None):
    params = [torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)]
    opt = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.02}],
                          lr=0.1)
    if initial_lr is not None:
        for g, lr in zip(opt.param_groups, initial_lr):
            g["initial_lr"] = lr
    spec = {"name": name, "opts": dict(opts)}
    if last_epoch is not None:
        spec["opts"]["last_epoch"] = last_epoch
    sched = make_scheduler(opt, spec)
    lrs = [list(sched.get_last_lr())]
    for _ in range(EPOCHS):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
    entry = {"name": title, "scheduler": spec, "lrs": lrs}
    if initial_lr is not None:
        entry["initial_lr"] = initial_lr
    SCHED_CASES.append(entry)


def build_schedulers():
    sched_case("StepLR step_size 3 gamma 0.5", "StepLR", {"step_size": 3, "gamma": 0.5})
    sched_case("StepLR default gamma", "StepLR", {"step_size": 4})
    sched_case("ExponentialLR gamma 0.9", "ExponentialLR", {"gamma": 0.9})
    sched_case("CosineAnnealingLR T_max 5 eta_min", "CosineAnnealingLR",
               {"T_max": 5, "eta_min": 0.001})
    sched_case("CosineAnnealingLR T_max 12", "CosineAnnealingLR", {"T_max": 12})
    sched_case("CosineAnnealingLR resumed at epoch 3", "CosineAnnealingLR",
               {"T_max": 5, "eta_min": 0.001}, initial_lr=[0.2, 0.05], last_epoch=3)
    sched_case("LambdaLR one lambda", "LambdaLR", {"lr_lambda": "pow95"})
    sched_case("LambdaLR one lambda per group", "LambdaLR", {"lr_lambda": ["inv1p", "step3"]})


# ----------------------------------------------------------------------------
# clip_grad_norm_ / clip_grad_value_

CLIP_CASES = []
GRADS = [randn(3, 2) * 2, randn(2), randn(4) * 3]


def clip_case(title, fn, arg, norm_type=None, has_grad=(True, True, True), single=False):
    params = [torch.zeros(g.shape, requires_grad=True) for g in GRADS]
    for p, g, h in zip(params, GRADS, has_grad):
        if h:
            p.grad = g.clone()
    target = params[0] if single else params
    entry = {"name": title, "fn": fn, "has_grad": list(has_grad), "single": single}
    if fn == "clip_grad_norm_":
        total = torch.nn.utils.clip_grad_norm_(target, arg, norm_type)
        entry.update(max_norm=arg, norm_type=norm_type, total_norm=float(total))
    else:
        torch.nn.utils.clip_grad_value_(target, arg)
        entry["clip_value"] = arg
    entry["grads"] = [p.grad if p.grad is not None else False for p in params]
    CLIP_CASES.append(entry)


def build_clip():
    clip_case("norm 2 clipped", "clip_grad_norm_", 1.0, 2.0)
    clip_case("norm 2 not clipped", "clip_grad_norm_", 100.0, 2.0)
    clip_case("norm 1", "clip_grad_norm_", 0.5, 1.0)
    clip_case("norm inf", "clip_grad_norm_", 0.5, math.inf)
    clip_case("norm 3", "clip_grad_norm_", 2.0, 3.0)
    clip_case("norm 2 with a parameter without grad", "clip_grad_norm_", 1.0, 2.0,
              has_grad=(True, False, True))
    clip_case("norm 2 single tensor", "clip_grad_norm_", 0.3, 2.0, single=True)
    clip_case("value 0.5", "clip_grad_value_", 0.5)


# ----------------------------------------------------------------------------

HEADER = """\
-- Generated by scripts/gen_fixtures_optim.py (PyTorch %s, float64). Do not
-- edit by hand; regenerate with: /usr/bin/python3 scripts/gen_fixtures_optim.py
--
-- tensor: {shape = {...}, data = {flat row-major values}}
-- problem: x, y, params = {W, b, c}; loss = sum((x:matmul(W) + b - y) ^ 2)
--   (c is unused: its gradient stays nil)
-- cases[i]: {name, optim, opts, groups (optional: opts + params = indices),
--   scheduler (optional: {name, opts}), steps[k] = {W, b, c} after step k,
--   losses[k] = loss before step k, lrs[k] = group lrs after step k,
--   state_dict = the optimizer's after 10 steps (1-based indices)}
-- schedulers[i]: {name, scheduler = {name, opts}, initial_lr (optional),
--   lrs[e + 1] = get_last_lr() after e scheduler steps (two groups)}
-- clip_grads: the gradients of three parameters before clipping
-- clip[i]: {name, fn, has_grad, single, max_norm, norm_type, total_norm or
--   clip_value, grads (false: no grad)}
""" % torch.__version__


def main():
    build_cases()
    build_schedulers()
    build_clip()
    lines = ["  problem = %s," % fmt_lua(PROBLEM)]
    lines.append("  cases = {")
    for c in CASES:
        lines.append("    {")
        for k in ("name", "optim", "opts", "groups", "scheduler", "losses", "lrs"):
            if k in c:
                lines.append("      %s = %s," % (k, fmt_lua(c[k])))
        lines.append("      steps = {")
        for s in c["steps"]:
            lines.append("        %s," % fmt_lua(s))
        lines.append("      },")
        lines.append("      state_dict = %s," % fmt_lua(c["state_dict"]))
        lines.append("    },")
    lines.append("  },")
    lines.append("  schedulers = {")
    for c in SCHED_CASES:
        lines.append("    %s," % fmt_lua(c))
    lines.append("  },")
    lines.append("  clip_grads = %s," % fmt_lua(GRADS))
    lines.append("  clip = {")
    for c in CLIP_CASES:
        lines.append("    %s," % fmt_lua(c))
    lines.append("  },")
    lua.write_chunk(OUT_PATH, HEADER, lines,
                    "%d optimizer cases, %d scheduler cases, %d clip cases"
                    % (len(CASES), len(SCHED_CASES), len(CLIP_CASES)))


if __name__ == "__main__":
    main()
