"""Generate tests/fixtures/train.lua: PyTorch reference values for the losses,
distances, schedulers and small layers of tests/train_spec.lua.

Writes ``tests/fixtures/train.lua`` (relative to the repository root, found
from this script's location), a Lua chunk ``return {losses = ..., schedulers
= ..., layers = ...}``. Run with Debian's PyTorch (the ``python3`` first on
PATH may lack torch):

    /usr/bin/python3 scripts/gen_fixtures_train.py

Deterministic (fixed seed), so rerunning leaves the file unchanged.

losses[i]: {name, module (nn.<module>), fn (nn.functional.<fn>), opts (the
options by name, Lua conventions: 1-based classes and dims), inputs = {T,
...}, int64 = {true where an input is an int64 tensor}, grad = {true where
the input requires grad}, seed (upstream gradient), output, grads = {T or
false}, output32, grads32 (the same in float32: inputs rounded to float32 and
computed by PyTorch in float32)}.
"""

import math
import warnings
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_lua as lua  # noqa: E402
from fixture_lua import DTYPE  # noqa: E402

SEED = 20241205
OUT_PATH = lua.FIXTURES / "train.lua"

torch.set_default_dtype(DTYPE)
warnings.filterwarnings("ignore", message="reduction: .mean. divides")
warnings.filterwarnings("ignore", message="The epoch parameter")
DRAW = lua.Draws(SEED)
randn, rand = DRAW.randn, DRAW.rand


def fmt_num(x):
    x = float(x)
    if math.isfinite(x) and x == int(x) and abs(x) < 2 ** 53:
        return repr(x)
    return lua.fmt_num(x, nonfinite=True)


def fmt_lua(v):
    def other(x):
        if x is None:
            return "nil"
        if isinstance(x, torch.Tensor):
            return lua.fmt_tensor(x.detach().to(DTYPE), num=fmt_num)
        raise TypeError(type(x))
    return lua.fmt_lua(v, num=fmt_num, other=other, sort_keys=True)


# ----------------------------------------------------------------------------
# losses

LOSSES = []


def run(module, inputs, grad, dtype, seed):
    xs = []
    for x, g in zip(inputs, grad):
        if x.dtype == torch.int64:
            xs.append(x)
        else:
            xs.append(x.to(dtype).detach().clone().requires_grad_(g))
    module = module.to(dtype)
    out = module(*xs)
    out.backward(seed.to(dtype))
    return out.detach(), [x.grad if g else False for x, g in zip(xs, grad)]


def loss_case(name, module_name, fn, opts, module, inputs, grad=None, lua_inputs=None, op=None):
    """module(*inputs) in float64 and float32 with its input gradients; opts
    are the Lua options (by name); lua_inputs replaces the inputs written
    (1-based class indices)."""
    grad = grad or [x.dtype != torch.int64 for x in inputs]
    out64 = module.to(DTYPE)(*[x.detach() for x in inputs])
    seed = randn(*out64.shape)
    out, grads = run(module, inputs, grad, DTYPE, seed)
    out32, grads32 = run(module, inputs, grad, torch.float32, seed)
    written = lua_inputs or inputs
    LOSSES.append({
        "name": name, "module": module_name, "fn": fn, "opts": opts,
        "inputs": [x.to(DTYPE) for x in written],
        "int64": [x.dtype == torch.int64 for x in written],
        "grad": grad, "seed": seed, "output": out, "grads": grads,
        "output32": out32.to(DTYPE), "grads32": [g if g is False else g.to(DTYPE) for g in grads32],
    })
    if op is not None:  # the core op it checks (tests/registry_spec.lua looks for `op = "..."`)
        LOSSES[-1]["op"] = op
    module.to(DTYPE)


REDUCTIONS = ["none", "mean", "sum"]


def build_losses():
    for r in REDUCTIONS + ["batchmean"]:
        x = torch.log_softmax(randn(3, 4), 1)
        t = torch.softmax(randn(3, 4), 1)
        t[0, 1] = 0.0  # xlogy's 0 log 0
        loss_case("KLDivLoss %s" % r, "KLDivLoss", "kl_div", {"reduction": r},
                  nn.KLDivLoss(reduction=r), [x, t])
        lt = torch.log_softmax(randn(3, 4), 1)
        loss_case("KLDivLoss %s log_target" % r, "KLDivLoss", "kl_div",
                  {"reduction": r, "log_target": True},
                  nn.KLDivLoss(reduction=r, log_target=True), [x, lt])
    for r in REDUCTIONS:
        x1, x2 = randn(5, 3), randn(5, 3)
        y = torch.tensor([1.0, -1.0, 1.0, -1.0, -1.0])
        loss_case("CosineEmbeddingLoss %s" % r, "CosineEmbeddingLoss", "cosine_embedding_loss",
                  {"reduction": r}, nn.CosineEmbeddingLoss(reduction=r), [x1, x2, y],
                  grad=[True, True, False])
        loss_case("CosineEmbeddingLoss %s margin 0.2" % r, "CosineEmbeddingLoss",
                  "cosine_embedding_loss", {"reduction": r, "margin": 0.2},
                  nn.CosineEmbeddingLoss(margin=0.2, reduction=r), [x1, x2, y], grad=[True, True, False])
        a, b = randn(6), randn(6)
        y = torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0, -1.0])
        loss_case("MarginRankingLoss %s margin 0.3" % r, "MarginRankingLoss", "margin_ranking_loss",
                  {"reduction": r, "margin": 0.3}, nn.MarginRankingLoss(margin=0.3, reduction=r),
                  [a, b, y], grad=[True, True, False])
        an, po, ne = randn(4, 5), randn(4, 5), randn(4, 5)
        loss_case("TripletMarginLoss %s" % r, "TripletMarginLoss", "triplet_margin_loss",
                  {"reduction": r}, nn.TripletMarginLoss(reduction=r), [an, po, ne])
        loss_case("TripletMarginLoss %s margin 2 p 1 swap" % r, "TripletMarginLoss", "triplet_margin_loss",
                  {"reduction": r, "margin": 2.0, "p": 1.0, "swap": True},
                  nn.TripletMarginLoss(margin=2.0, p=1, swap=True, reduction=r), [an, po, ne])
        loss_case("TripletMarginLoss %s p 3 eps 0.01 {D}" % r, "TripletMarginLoss", "triplet_margin_loss",
                  {"reduction": r, "p": 3.0, "eps": 0.01},
                  nn.TripletMarginLoss(p=3, eps=0.01, reduction=r), [an[0], po[0], ne[0]])
        x, t = randn(3, 4), (rand(3, 4) > 0.5).to(DTYPE)
        loss_case("MultiLabelSoftMarginLoss %s" % r, "MultiLabelSoftMarginLoss",
                  "multilabel_soft_margin_loss", {"reduction": r},
                  nn.MultiLabelSoftMarginLoss(reduction=r), [x, t], grad=[True, False])
        w = rand(4) + 0.5
        loss_case("MultiLabelSoftMarginLoss %s weight" % r, "MultiLabelSoftMarginLoss",
                  "multilabel_soft_margin_loss", {"reduction": r, "weight": w},
                  nn.MultiLabelSoftMarginLoss(weight=w, reduction=r), [x, t], grad=[True, False])
        x, t = randn(3, 4), torch.floor(rand(3, 4) * 5)
        t[0, 0], t[0, 1] = 0.0, 1.0
        loss_case("PoissonNLLLoss %s" % r, "PoissonNLLLoss", "poisson_nll_loss", {"reduction": r},
                  nn.PoissonNLLLoss(reduction=r), [x, t])
        # PyTorch's target gradient is NaN at target 0 with full (0 * log 0
        # masked after); Lucid's is finite there, so none is compared
        loss_case("PoissonNLLLoss %s full" % r, "PoissonNLLLoss", "poisson_nll_loss",
                  {"reduction": r, "full": True}, nn.PoissonNLLLoss(full=True, reduction=r), [x, t],
                  grad=[True, False])
        xp = rand(3, 4) + 0.1
        loss_case("PoissonNLLLoss %s not log_input full eps" % r, "PoissonNLLLoss", "poisson_nll_loss",
                  {"reduction": r, "log_input": False, "full": True, "eps": 1e-3},
                  nn.PoissonNLLLoss(log_input=False, full=True, eps=1e-3, reduction=r), [xp, t],
                  grad=[True, False])
        x, t, v = randn(4, 3), randn(4, 3), rand(4, 3) + 0.1
        v[0, 0] = 1e-8  # below eps: clamped
        loss_case("GaussianNLLLoss %s" % r, "GaussianNLLLoss", "gaussian_nll_loss", {"reduction": r},
                  nn.GaussianNLLLoss(reduction=r), [x, t, v])
        loss_case("GaussianNLLLoss %s full eps 0.01" % r, "GaussianNLLLoss", "gaussian_nll_loss",
                  {"reduction": r, "full": True, "eps": 0.01},
                  nn.GaussianNLLLoss(full=True, eps=0.01, reduction=r), [x, t, v])
        loss_case("GaussianNLLLoss %s var {N}" % r, "GaussianNLLLoss", "gaussian_nll_loss",
                  {"reduction": r}, nn.GaussianNLLLoss(reduction=r), [x, t, rand(4) + 0.2])
        loss_case("GaussianNLLLoss %s var {N, 1}" % r, "GaussianNLLLoss", "gaussian_nll_loss",
                  {"reduction": r}, nn.GaussianNLLLoss(reduction=r), [x, t, rand(4, 1) + 0.2])

    # distances (module "loss" cases too: the same record)
    x1, x2 = randn(3, 4, 2), randn(3, 4, 2)
    loss_case("CosineSimilarity default dim", "CosineSimilarity", "cosine_similarity", {},
              nn.CosineSimilarity(), [x1, x2])
    loss_case("CosineSimilarity dim -1 eps 0.5", "CosineSimilarity", "cosine_similarity",
              {"dim": -1, "eps": 0.5}, nn.CosineSimilarity(dim=-1, eps=0.5), [x1 * 0.1, x2])
    loss_case("CosineSimilarity broadcast {4, 2} {3, 4, 2} dim 3", "CosineSimilarity",
              "cosine_similarity", {"dim": 3}, nn.CosineSimilarity(dim=2), [x1[0], x2])
    loss_case("PairwiseDistance default", "PairwiseDistance", "pairwise_distance", {},
              nn.PairwiseDistance(), [randn(4, 5), randn(4, 5)])
    loss_case("PairwiseDistance p 1 keepdim", "PairwiseDistance", "pairwise_distance",
              {"p": 1.0, "keepdim": True}, nn.PairwiseDistance(p=1, keepdim=True), [randn(4, 5), randn(4, 5)])
    loss_case("PairwiseDistance p 3 eps 0.1 broadcast", "PairwiseDistance", "pairwise_distance",
              {"p": 3.0, "eps": 0.1}, nn.PairwiseDistance(p=3, eps=0.1), [randn(2, 3, 5), randn(5)])

    # class indices as int64 over {N, C, d1, d2}
    for r in REDUCTIONS:
        x = randn(2, 3, 2, 2)
        t = torch.tensor([[[0, 2], [1, 1]], [[2, 0], [1, 2]]])
        w = rand(3) + 0.5
        loss_case("CrossEntropyLoss %s {N, C, d1, d2} int64 weight ignore_index" % r, "CrossEntropyLoss",
                  "cross_entropy", {"reduction": r, "weight": w, "ignore_index": 2},
                  nn.CrossEntropyLoss(weight=w, ignore_index=1, reduction=r), [x, t], lua_inputs=[x, t + 1])
        loss_case("CrossEntropyLoss %s {N, C, d1, d2} int64 label_smoothing" % r, "CrossEntropyLoss",
                  "cross_entropy", {"reduction": r, "label_smoothing": 0.15},
                  nn.CrossEntropyLoss(label_smoothing=0.15, reduction=r), [x, t], lua_inputs=[x, t + 1])
        p = torch.softmax(randn(2, 3, 2, 2), 1)
        loss_case("CrossEntropyLoss %s {N, C, d1, d2} probabilities weight label_smoothing" % r,
                  "CrossEntropyLoss", "cross_entropy", {"reduction": r, "weight": w, "label_smoothing": 0.1},
                  nn.CrossEntropyLoss(weight=w, label_smoothing=0.1, reduction=r), [x, p], grad=[True, False])
        lp = torch.log_softmax(x, 1)
        loss_case("NLLLoss %s {N, C, d1, d2} int64 weight ignore_index" % r, "NLLLoss", "nll_loss",
                  {"reduction": r, "weight": w, "ignore_index": 1},
                  nn.NLLLoss(weight=w, ignore_index=0, reduction=r), [lp, t], lua_inputs=[lp, t + 1])


def build_ctc():
    """CTC cases (appended after the other losses: their draws come last).
    Targets are written 1-based, blank too (PyTorch's 0 is Lua's 1)."""
    T, N, C = 8, 3, 5
    tg = torch.tensor([[1, 2, 2, 3], [4, 1, 0, 0], [3, 3, 1, 2]])  # padded; sample 2 repeats labels
    il, tl = torch.tensor([8, 6, 7]), torch.tensor([4, 2, 4])
    for r in REDUCTIONS:
        lp = torch.log_softmax(randn(T, N, C), 2)
        loss_case("CTCLoss %s padded targets" % r, "CTCLoss", "ctc_loss", {"reduction": r},
                  nn.CTCLoss(reduction=r), [lp, tg, il, tl], grad=[True, False, False, False],
                  lua_inputs=[lp, tg + 1, il, tl], op="ctc_loss")
    lp = torch.log_softmax(randn(T, N, C), 2)
    cat = torch.tensor([1, 2, 0, 3, 1, 1, 2])  # blank is 4 (Lua 5): 0 is a class here
    loss_case("CTCLoss concatenated targets blank last", "CTCLoss", "ctc_loss", {"blank": C, "reduction": "sum"},
              nn.CTCLoss(blank=C - 1, reduction="sum"), [lp, cat, il, torch.tensor([3, 0, 4])],
              grad=[True, False, False, False], lua_inputs=[lp, cat + 1, il, torch.tensor([3, 0, 4])])
    # sample 1 cannot be aligned (4 labels with a repeat need 5 steps, it has 3)
    lp = torch.log_softmax(randn(T, N, C), 2)
    loss_case("CTCLoss zero_infinity mean", "CTCLoss", "ctc_loss", {"reduction": "mean", "zero_infinity": True},
              nn.CTCLoss(reduction="mean", zero_infinity=True), [lp, tg, torch.tensor([3, 6, 8]), tl],
              grad=[True, False, False, False], lua_inputs=[lp, tg + 1, torch.tensor([3, 6, 8]), tl])
    lp = torch.log_softmax(randn(6, C), 1)
    loss_case("CTCLoss unbatched none", "CTCLoss", "ctc_loss", {"reduction": "none", "blank": 3},
              nn.CTCLoss(blank=2, reduction="none"), [lp, torch.tensor([1, 0, 0]), torch.tensor(6),
                                                      torch.tensor(3)],
              grad=[True, False, False, False],
              lua_inputs=[lp, torch.tensor([2, 1, 1]), torch.tensor([6]), torch.tensor([3])])
    # log_probs that are not normalised: PyTorch's gradient keeps its exp(lp) term
    lp = randn(5, 2, 4) * 0.5 - 1.5
    loss_case("CTCLoss unnormalised log_probs sum", "CTCLoss", "ctc_loss", {"reduction": "sum"},
              nn.CTCLoss(reduction="sum"), [lp, torch.tensor([[1, 2], [3, 3]]), torch.tensor([5, 5]),
                                            torch.tensor([2, 2])],
              grad=[True, False, False, False],
              lua_inputs=[lp, torch.tensor([[2, 3], [4, 4]]), torch.tensor([5, 5]), torch.tensor([2, 2])])


# ----------------------------------------------------------------------------
# schedulers

SCHEDULERS = []
LRS = torch.optim.lr_scheduler


def make_opt(kind):
    ps = [torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)]
    if kind == "Adam":
        return torch.optim.Adam([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.02}], lr=0.1)
    if kind == "SGD momentum":
        return torch.optim.SGD([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.02}], lr=0.1, momentum=0.9)
    return torch.optim.SGD([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.02}], lr=0.1)


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def sched_case(name, sched, opts, make, steps=12, optimizer="SGD", epochs=None, metrics=None,
               subs=None):
    """make(opt) builds PyTorch's scheduler; opts are the Lua options (subs:
    SequentialLR's {name, opts} list). Records get_last_lr() after
    construction and after each step (step(epochs[i]) when epochs are given,
    step(metrics[i]) for ReduceLROnPlateau), and the momenta with OneCycleLR."""
    opt = make_opt(optimizer)
    sc = make(opt)
    lrs = [[g["lr"] for g in opt.param_groups]]
    moms = [momenta(opt)]
    for i in range(len(epochs or metrics or range(steps))):
        opt.step()
        if metrics is not None:
            sc.step(metrics[i])
        elif epochs is not None:
            sc.step(epochs[i])
        else:
            sc.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append(momenta(opt))
    entry = {"name": name, "scheduler": sched, "opts": opts, "optimizer": optimizer, "lrs": lrs}
    if epochs is not None:
        entry["epochs"] = epochs
    if metrics is not None:
        entry["metrics"] = metrics
    if subs is not None:
        entry["subs"] = subs
    if sched == "OneCycleLR":
        entry["momenta"] = moms
    SCHEDULERS.append(entry)


def build_schedulers():
    sched_case("MultiStepLR {2, 5, 5, 9} gamma 0.5", "MultiStepLR", {"milestones": [5, 2, 9, 5], "gamma": 0.5},
               lambda o: LRS.MultiStepLR(o, [5, 2, 9, 5], gamma=0.5))
    sched_case("MultiStepLR step(epoch)", "MultiStepLR", {"milestones": [2, 4]},
               lambda o: LRS.MultiStepLR(o, [2, 4]), epochs=[3, 1, 4, 6, 2])
    sched_case("LinearLR default", "LinearLR", {}, lambda o: LRS.LinearLR(o))
    sched_case("LinearLR 0.5 to 0.1 over 4", "LinearLR",
               {"start_factor": 0.5, "end_factor": 0.1, "total_iters": 4},
               lambda o: LRS.LinearLR(o, start_factor=0.5, end_factor=0.1, total_iters=4))
    sched_case("LinearLR step(epoch)", "LinearLR", {"total_iters": 3},
               lambda o: LRS.LinearLR(o, total_iters=3), epochs=[1, 2, 5, 0])
    sched_case("CosineAnnealingWarmRestarts T_0 3", "CosineAnnealingWarmRestarts", {"T_0": 3},
               lambda o: LRS.CosineAnnealingWarmRestarts(o, 3), steps=10)
    sched_case("CosineAnnealingWarmRestarts T_0 2 T_mult 2 eta_min 0.001", "CosineAnnealingWarmRestarts",
               {"T_0": 2, "T_mult": 2, "eta_min": 0.001},
               lambda o: LRS.CosineAnnealingWarmRestarts(o, 2, T_mult=2, eta_min=0.001), steps=16)
    sched_case("CosineAnnealingWarmRestarts fractional epochs", "CosineAnnealingWarmRestarts",
               {"T_0": 2, "T_mult": 3},
               lambda o: LRS.CosineAnnealingWarmRestarts(o, 2, T_mult=3),
               epochs=[0.5, 1.25, 2.0, 3.5, 7.75, 9.0, 1.5, 30.25])
    for strat in ["cos", "linear"]:
        sched_case("OneCycleLR %s SGD momentum" % strat, "OneCycleLR",
                   {"max_lr": [1.0, 0.5], "total_steps": 10, "anneal_strategy": strat},
                   lambda o, strat=strat: LRS.OneCycleLR(o, [1.0, 0.5], total_steps=10, anneal_strategy=strat),
                   steps=9, optimizer="SGD momentum")
    sched_case("OneCycleLR three_phase Adam", "OneCycleLR",
               {"max_lr": 0.3, "epochs": 4, "steps_per_epoch": 3, "three_phase": True, "pct_start": 0.25,
                "div_factor": 10.0, "final_div_factor": 100.0, "base_momentum": 0.8, "max_momentum": 0.9},
               lambda o: LRS.OneCycleLR(o, 0.3, epochs=4, steps_per_epoch=3, three_phase=True, pct_start=0.25,
                                        div_factor=10.0, final_div_factor=100.0, base_momentum=0.8,
                                        max_momentum=0.9),
               steps=11, optimizer="Adam")
    sched_case("OneCycleLR no cycle_momentum", "OneCycleLR",
               {"max_lr": 0.2, "total_steps": 6, "cycle_momentum": False},
               lambda o: LRS.OneCycleLR(o, 0.2, total_steps=6, cycle_momentum=False), steps=5)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85, 0.79995, 0.9, 0.9, 0.9]
    sched_case("ReduceLROnPlateau patience 2", "ReduceLROnPlateau", {"patience": 2},
               lambda o: LRS.ReduceLROnPlateau(o, patience=2), metrics=metrics)
    sched_case("ReduceLROnPlateau max abs cooldown min_lr", "ReduceLROnPlateau",
               {"mode": "max", "threshold_mode": "abs", "threshold": 0.01, "patience": 1, "cooldown": 2,
                "factor": 0.5, "min_lr": [0.02, 0.015]},
               lambda o: LRS.ReduceLROnPlateau(o, mode="max", threshold_mode="abs", threshold=0.01, patience=1,
                                               cooldown=2, factor=0.5, min_lr=[0.02, 0.015]),
               metrics=[0.1, 0.2, 0.205, 0.2, 0.19, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3])
    sched_case("ReduceLROnPlateau eps", "ReduceLROnPlateau", {"patience": 0, "factor": 0.5, "eps": 0.01},
               lambda o: LRS.ReduceLROnPlateau(o, patience=0, factor=0.5, eps=0.01), metrics=[1.0] * 8)

    def seq(o):
        a = LRS.LinearLR(o, start_factor=0.25, total_iters=3)
        b = LRS.CosineAnnealingLR(o, T_max=4)
        c = LRS.ExponentialLR(o, gamma=0.9)
        return LRS.SequentialLR(o, [a, b, c], milestones=[3, 7])
    sched_case("SequentialLR LinearLR, CosineAnnealingLR, ExponentialLR", "SequentialLR",
               {"milestones": [3, 7]}, seq, steps=12,
               subs=[["LinearLR", {"start_factor": 0.25, "total_iters": 3}], ["CosineAnnealingLR", {"T_max": 4}],
                     ["ExponentialLR", {"gamma": 0.9}]])


# ----------------------------------------------------------------------------
# module hooks

HOOKS = []


def params_of(m):
    with torch.no_grad():
        for _, prm in m.named_parameters():
            prm.copy_(randn(*prm.shape))
    return {n: prm.detach().clone() for n, prm in m.named_parameters()}


def build_hooks():
    # full backward hook on a module of two inputs, replacing grad_input
    m = nn.Bilinear(3, 4, 2)
    params = params_of(m)
    x1, x2 = randn(5, 3).requires_grad_(True), randn(5, 4).requires_grad_(True)
    seed = randn(5, 2)
    rec = {}

    def bw(mod, gin, gout):
        rec["grad_input"] = [g.detach().clone() for g in gin]
        rec["grad_output"] = [g.detach().clone() for g in gout]
        return (gin[0] * 2, gin[1] * 3)
    m.register_full_backward_hook(bw)
    out = m(x1, x2)
    out.backward(seed)
    HOOKS.append({"name": "Bilinear full backward hook scaling grad_input", "layer": "Bilinear",
                  "args": [3, 4, 2], "params": params, "inputs": [x1.detach(), x2.detach()], "grad": [True, True],
                  "seed": seed, "output": out.detach(), "grad_input": rec["grad_input"],
                  "grad_output": rec["grad_output"], "grads": [x1.grad, x2.grad],
                  "param_grads": {n: prm.grad for n, prm in m.named_parameters()}})

    # an input that needs no gradient: grad_input is {nil}
    m = nn.Linear(3, 2)
    params = params_of(m)
    x = randn(4, 3)
    seed = randn(4, 2)
    rec = {}

    def bw2(mod, gin, gout):
        rec["none"] = gin[0] is None
        rec["grad_output"] = [g.detach().clone() for g in gout]
    m.register_full_backward_hook(bw2)
    out = m(x)
    out.backward(seed)
    assert rec["none"]
    HOOKS.append({"name": "Linear full backward hook, input without grad", "layer": "Linear", "args": [3, 2],
                  "params": params, "inputs": [x], "grad": [False], "seed": seed, "output": out.detach(),
                  "grad_input": [False], "grad_output": rec["grad_output"], "grads": [False],
                  "param_grads": {n: prm.grad for n, prm in m.named_parameters()}})

    # forward pre-hook doubling the input, forward hook adding 1, backward hook observing
    m = nn.Linear(3, 2)
    params = params_of(m)
    x = randn(4, 3).requires_grad_(True)
    seed = randn(4, 2)
    rec = {}
    m.register_forward_pre_hook(lambda mod, a: (a[0] * 2,))
    m.register_forward_hook(lambda mod, a, o: o + 1)

    def bw3(mod, gin, gout):
        rec["grad_input"] = [g.detach().clone() for g in gin]
        rec["grad_output"] = [g.detach().clone() for g in gout]
    m.register_full_backward_hook(bw3)
    out = m(x)
    out.backward(seed)
    HOOKS.append({"name": "Linear pre-hook x * 2, forward hook + 1, backward hook", "layer": "Linear",
                  "args": [3, 2], "params": params, "inputs": [x.detach()], "grad": [True], "seed": seed,
                  "output": out.detach(), "grad_input": rec["grad_input"], "grad_output": rec["grad_output"],
                  "grads": [x.grad], "param_grads": {n: prm.grad for n, prm in m.named_parameters()}})


# ----------------------------------------------------------------------------
# small layers (the shuffles; the dropouts are random and checked by property)

LAYERS = []


def layer_case(name, layer, args, module, x):
    x = x.clone().requires_grad_(True)
    out = module(x)
    seed = randn(*out.shape)
    out.backward(seed)
    LAYERS.append({"name": name, "layer": layer, "args": args, "input": x.detach(), "seed": seed,
                   "output": out.detach(), "grad": x.grad})


def build_layers():
    layer_case("PixelShuffle(2) {2, 8, 2, 3}", "PixelShuffle", [2], nn.PixelShuffle(2), randn(2, 8, 2, 3))
    layer_case("PixelShuffle(3) {9, 1, 2}", "PixelShuffle", [3], nn.PixelShuffle(3), randn(9, 1, 2))
    layer_case("PixelShuffle(2) {2, 1, 4, 1, 2}", "PixelShuffle", [2], nn.PixelShuffle(2), randn(2, 1, 4, 1, 2))
    layer_case("PixelUnshuffle(2) {2, 2, 4, 6}", "PixelUnshuffle", [2], nn.PixelUnshuffle(2), randn(2, 2, 4, 6))
    layer_case("PixelUnshuffle(3) {1, 3, 6}", "PixelUnshuffle", [3], nn.PixelUnshuffle(3), randn(1, 3, 6))


# ----------------------------------------------------------------------------
# output

HEADER = """\
-- Generated by scripts/gen_fixtures_train.py (PyTorch 1.13). Do not edit by hand;
-- regenerate with: /usr/bin/python3 scripts/gen_fixtures_train.py
--
-- tensor: {shape = {...}, data = {flat row-major values}} (0-d: shape = {})
-- losses[i]: {name, module, fn, opts, inputs, int64, grad, seed, output, grads,
--   output32, grads32} (see the generator's header)
-- schedulers[i]: {name, scheduler, opts, optimizer, lrs[k + 1] = the groups' lr
--   after k steps, epochs / metrics (what step got), subs (SequentialLR's
--   {name, opts}), momenta (OneCycleLR: momentum or betas[1] per group)}
-- hooks[i]: {name, layer, args, params, inputs, grad, seed, output, grad_input,
--   grad_output (what the full backward hook saw; false: nil), grads (of the
--   inputs after backward), param_grads}
-- layers[i]: {name, layer, args, input, seed, output, grad}
"""


def main():
    build_losses()
    build_ctc()
    body = ["  losses = {"]
    for c in LOSSES:
        body.append("    %s," % fmt_lua(c))
    body.append("  },")
    build_schedulers()
    body.append("  schedulers = {")
    for c in SCHEDULERS:
        body.append("    %s," % fmt_lua(c))
    body.append("  },")
    build_hooks()
    body.append("  hooks = {")
    for c in HOOKS:
        body.append("    %s," % fmt_lua(c))
    body.append("  },")
    build_layers()
    body.append("  layers = {")
    for c in LAYERS:
        body.append("    %s," % fmt_lua(c))
    body.append("  },")
    lua.write_chunk(OUT_PATH, HEADER, body, "%d losses, %d schedulers, %d hook cases, %d layers" % (
        len(LOSSES), len(SCHEDULERS), len(HOOKS), len(LAYERS)))


if __name__ == "__main__":
    main()
