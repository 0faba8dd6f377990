-- oom_layers.lua: the second script of the allocation-failure sweep
-- (tests/reliability/oom_sweep.c; see oom_script.lua for the contract): the
-- layer families with kernels of their own (attention, pooling and
-- normalisation, convolution, recurrent layers, lucid.linalg, CTC). Two scripts rather than one long one:
-- the sweep's cost grows with the square of a script's allocations.
local lucid = require("lucid")
local nn = require("lucid.nn")

lucid.manual_seed(42)

local sums = {}
local function note(t) sums[#sums + 1] = string.format("%.6g", t:sum():item()) end

-- attention: the fused masked softmax (bool and float masks), its backward,
-- and a multi-head attention layer with a padding mask
local sc = lucid.randn(2, 3, 4, {requires_grad = true})
local fm = lucid.randn(3, 4, {requires_grad = true})
local att = lucid.masked_softmax(sc, fm, 0.5) + lucid.masked_softmax(sc, sc:detach():gt(1))
att:sum():backward()
note(att + sc.grad + fm.grad:sum())
local mha = nn.MultiheadAttention(4, 2)
local qkv = lucid.randn(3, 2, 4, {requires_grad = true})
local ao, aw = mha(qkv, qkv, qkv, {key_padding_mask = lucid.tensor({{false, false, true}, {false, true, true}})})
ao:sum():backward()
note(ao:sum() + aw:sum() + qkv.grad:sum() + mha.in_proj_weight.grad:sum())

-- pooling, normalisation and resampling (core/pool.c): forward, indices,
-- unpooling, running statistics and the fused backward rules
local img = lucid.randn(2, 3, 5, 6, {requires_grad = true})
local pm, pidx = nn.functional.max_pool2d(img, 3, 2, 1, {ceil_mode = true, return_indices = true})
local pooled = pm:sum() + nn.functional.avg_pool2d(img, 2, {count_include_pad = false}):sum()
  + nn.functional.adaptive_avg_pool2d(img, {2, 3}):sum()
  + nn.functional.max_unpool2d(pm, pidx, 3, 2, 1, {output_size = {5, 6}}):sum()
local bn2, gn = nn.BatchNorm2d(3), nn.GroupNorm(3, 3)
local normed = bn2(img) * gn(img) + nn.functional.interpolate(img, {scale_factor = 2, mode = "bilinear"}):mean()
local grid = nn.functional.affine_grid(lucid.tensor({{{0.9, 0.1, 0}, {0, 1.1, 0.2}}, {{1, 0, 0}, {0, 1, 0}}}), {2, 3, 4, 4})
local sampled = nn.functional.grid_sample(img, grid, {padding_mode = "border"})
local pool_loss = pooled + normed:sum() + sampled:sum()
pool_loss:backward()
note(pool_loss + img.grad:sum() + bn2.running_var:sum() + bn2.weight.grad:sum())

-- convolution (core/conv.c): im2col and a GEMM per group, transposed and
-- 1-d forms, a padding mode, unfold, the fused backward rules
local cx = lucid.randn(2, 2, 5, 5, {requires_grad = true})
local cv = nn.Conv2d(2, 4, 3, {padding = 1, groups = 2, padding_mode = "reflect"})
local ct = nn.ConvTranspose2d(4, 2, 2, {stride = 2})
local c1 = nn.Conv1d(2, 3, 2, {dilation = 2})
local conv_loss = ct(cv(cx)):sum() + c1(cx:reshape(2, 2, 25)):sum() + nn.functional.unfold(cx, 2):sum()
conv_loss:backward()
note(conv_loss + cx.grad:sum() + cv.weight.grad:sum())

-- recurrent layers (core/rnn.c): a 2-layer bidirectional LSTM, a GRU over a
-- packed batch, the fused backward through time
local seq = lucid.randn(4, 2, 3, {requires_grad = true})
local lstm = nn.LSTM(3, 4, {num_layers = 2, bidirectional = true})
local gru = nn.GRU(3, 2)
local lo, lhc = lstm(seq)
local go = gru(nn.utils.rnn.pack_padded_sequence(seq, {4, 2}))
local rnn_loss = lo:sum() + lhc[1]:sum() + lhc[2]:sum() + go.data:sum()
rnn_loss:backward()
note(rnn_loss + seq.grad:sum() + lstm.weight_ih_l0.grad:sum())

-- lucid.linalg: LAPACK, several results, gradients through them
local LA = lucid.linalg
local sq = lucid.tensor(lucid.randn(3, 3, {dtype = "float64"}) + lucid.eye(3, {dtype = "float64"}) * 3,
  {dtype = "float64", requires_grad = true})
local rhs = lucid.randn(3, 2, {dtype = "float64"})
local sgn, lad = LA.slogdet(sq)
local qq, qr = LA.qr(sq)
local uu, ss = LA.svd(sq, false)
local ev, evec = LA.eigh(sq + sq:t())
local ls = LA.lstsq(sq, rhs)
local tot = LA.inv(sq):sum() + LA.solve(sq, rhs):sum() + LA.det(sq) + lad + sgn
  + LA.cholesky(sq:matmul(sq:t())):sum() + (qq * qq):sum() + qr:sum() + (uu * uu):sum() + ss:sum()
  + ev:sum() + (evec * evec):sum() + LA.pinv(sq):sum() + ls:sum()
  + LA.vector_norm(sq, 3) + LA.matrix_norm(sq, "nuc")
  + LA.solve_triangular(sq, rhs, {upper = true}):sum() + LA.inv_ex(sq):sum()
  + LA.cholesky_ex(sq:matmul(sq:t())):sum() + LA.cond(sq, 1) + LA.matrix_power(sq, -2):sum()
  + LA.multi_dot({sq, sq, rhs}):sum() + LA.norm(sq, "nuc") + select(3, LA.lu(sq)):sum()
  + LA.lu_solve(LA.lu_factor(sq), select(2, LA.lu_factor(sq)), rhs):sum()
tot:backward()
note(sq.grad)
sums[#sums + 1] = tostring(pcall(LA.inv, lucid.zeros(2, 2)))

-- ctc_loss: the loss family's kernel, the data its node keeps, its fused backward
local logits = lucid.randn(6, 2, 4, {dtype = "float64", requires_grad = true})
local ctc = lucid.ctc_loss(lucid.log_softmax(logits, 3), lucid.tensor({{2, 3}, {4, 4}}, {dtype = "int64"}),
  {6, 5}, {2, 2})
ctc:backward()
note(logits.grad)

-- a compiled model (core/plan.c): the trace, a replay, a recorded call and
-- its backward through the steps' rules, and a refused trace's clean-up
local net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
local px = lucid.randn(4, 3)
local fast = net:compile(px)
note(lucid.no_grad(fast, px * 2))
local cy = fast(px)
cy:sum():backward()
note(cy + net[1].weight.grad:sum())
-- two calls before one backward (the earlier one computed again, one given
-- the plan's own input buffer) and a compiled ordering
local r1, r2 = fast(px), fast(fast:input(1))
;(r1:sum() + r2:sum()):backward()
note(net[1].weight.grad)
local top = nn.Module:extend("Top")
function top:forward(x) return x:topk(2, 2) end
note(lucid.no_grad(top():compile(px), px))
local Write = nn.Module:extend("Write")
function Write:forward(x) local h = x * 2; h:add_(1); return h:tanh() end
sums[#sums + 1] = tostring(pcall(Write.compile, Write(), px))

return table.concat(sums, " ")
