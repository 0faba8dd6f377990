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


def loss_case(name, module_name, fn, opts, module, inputs, grad=None, lua_inputs=None):
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


# ----------------------------------------------------------------------------
# output

HEADER = """\
-- Generated by scripts/gen_fixtures_train.py (PyTorch 1.13). Do not edit by hand;
-- regenerate with: /usr/bin/python3 scripts/gen_fixtures_train.py
--
-- tensor: {shape = {...}, data = {flat row-major values}} (0-d: shape = {})
-- losses[i]: {name, module, fn, opts, inputs, int64, grad, seed, output, grads,
--   output32, grads32} (see the generator's header)
"""


def main():
    build_losses()
    body = ["  losses = {"]
    for c in LOSSES:
        body.append("    %s," % fmt_lua(c))
    body.append("  },")
    lua.write_chunk(OUT_PATH, HEADER, body, "%d losses" % len(LOSSES))


if __name__ == "__main__":
    main()
