-- The training pieces of issue 12 against PyTorch (tests/fixtures/train.lua,
-- written by scripts/gen_fixtures_train.py): the losses and distances (module
-- and functional forms, float64 and float32), CrossEntropyLoss/NLLLoss over
-- {N, C, d1, ...} with int64 targets, the schedulers' lr trajectories, module
-- hooks and the small layers; then gradchecks and error messages.
local lucid = require("lucid")
local nn = require("lucid.nn")
local F = nn.functional
local H = dofile("tests/helpers.lua")
local fixtures = dofile("tests/fixtures/train.lua")
local unpack = table.unpack or unpack

-- The options with fixture tensors made (in dtype).
local function opts_of(entry, dtype)
  local o = {}
  for k, v in pairs(entry.opts) do
    o[k] = (type(v) == "table" and v.shape) and H.tensor(v, {dtype = dtype}) or v
  end
  return o
end

local function inputs_of(entry, dtype)
  local xs = {}
  for i, fx in ipairs(entry.inputs) do
    if entry.int64[i] then
      xs[i] = H.tensor(fx, {dtype = "float64"}):to("int64")
    else
      xs[i] = H.tensor(fx, {dtype = dtype, requires_grad = entry.grad[i]})
    end
  end
  return xs
end

local function check(entry, dtype, call)
  local rtol, atol = 1e-10, 1e-12
  local out_fx, grads_fx = entry.output, entry.grads
  if dtype == "float32" then rtol, atol, out_fx, grads_fx = 1e-5, 1e-6, entry.output32, entry.grads32 end
  local xs = inputs_of(entry, dtype)
  local out = call(xs, opts_of(entry, dtype))
  assert.are.equal(dtype, out.dtype)
  H.assert_close(out, out_fx, rtol, atol, entry.name .. ": output")
  out:backward(H.tensor(entry.seed, {dtype = dtype}))
  for i, g in ipairs(grads_fx) do
    if g then H.assert_close(xs[i].grad, g, rtol, atol, entry.name .. ": grad " .. i) end
  end
end

for _, dtype in ipairs({"float64", "float32"}) do
  describe("losses and distances against PyTorch (" .. dtype .. ")", function()
    for _, entry in ipairs(fixtures.losses) do
      it(entry.name .. ": module", function()
        check(entry, dtype, function(xs, o)
          local m = nn[entry.module](o)
          if dtype == "float32" then m:float() end
          return m(unpack(xs))
        end)
      end)
      it(entry.name .. ": functional", function()
        check(entry, dtype, function(xs, o)
          xs[#xs + 1] = o
          return F[entry.fn](unpack(xs))
        end)
      end)
    end
  end)
end

describe("losses and distances: gradcheck (float64)", function()
  local leaf = H.maker()
  local pos = H.maker(function(v) return math.abs(v) + 0.5 end)
  local function sign(n)
    return function() return lucid.tensor({1, -1, 1, -1, 1}):narrow(1, 1, n):double() end
  end
  H.gradcheck_cases({
    {"kl_div batchmean (input and target)", function(x, t) return F.kl_div(x, t, "batchmean") end,
      {leaf(3, 4), pos(3, 4)}},
    {"kl_div log_target (input and target)", function(x, t) return F.kl_div(x, t, {log_target = true}) end,
      {leaf(3, 4), leaf(3, 4)}},
    {"cosine_embedding_loss margin", function(a, b)
      return F.cosine_embedding_loss(a, b, sign(5)(), {margin = -0.5, reduction = "sum"})
    end, {leaf(5, 3), leaf(5, 3)}},
    {"margin_ranking_loss", function(a, b) return F.margin_ranking_loss(a, b, sign(4)(), 0.1, "none") end,
      {leaf(4), leaf(4)}},
    {"triplet_margin_loss p 3 swap", function(a, p, n)
      return F.triplet_margin_loss(a, p, n, {margin = 3, p = 3, swap = true, reduction = "none"})
    end, {leaf(3, 4), leaf(3, 4), leaf(3, 4)}},
    {"multilabel_soft_margin_loss (input and target)", function(x, t)
      return F.multilabel_soft_margin_loss(x, t, {weight = lucid.tensor({1, 2, 0.5}):double()})
    end, {leaf(2, 3), leaf(2, 3)}},
    {"poisson_nll_loss not log_input full", function(x, t)
      return F.poisson_nll_loss(x, t, false, true, 1e-8, "none")
    end, {pos(3, 2), function() return (pos(3, 2)() * 2):detach():requires_grad_(true) end}},
    {"gaussian_nll_loss var {N} (all three)", function(x, t, v)
      return F.gaussian_nll_loss(x, t, v, {full = true})
    end, {leaf(4, 2), leaf(4, 2), pos(4)}},
    {"cosine_similarity dim 1", function(a, b) return F.cosine_similarity(a, b, 1) end, {leaf(3, 2), leaf(3, 2)}},
    {"pairwise_distance p 1.5 keepdim", function(a, b) return F.pairwise_distance(a, b, 1.5, 1e-6, true) end,
      {leaf(3, 4), leaf(4)}},
  }, 1205)
end)

describe("losses and distances: errors", function()
  local x = lucid.randn(3, 4)
  it("name the function and the option", function()
    H.assert_error("nn.KLDivLoss: reduction must be 'mean', 'batchmean', 'sum' or 'none', got 'avg'",
      function() return nn.KLDivLoss("avg") end)
    H.assert_error("nn.functional.kl_div: target {4, 3} does not match input {3, 4}",
      function() return F.kl_div(x, lucid.randn(4, 3)) end)
    H.assert_error("nn.TripletMarginLoss: invalid p: 0 (expected p > 0)",
      function() return nn.TripletMarginLoss({p = 0}) end)
    H.assert_error("nn.functional.triplet_margin_loss: anchor {3, 4}, positive {3, 4} and negative {4} must all",
      function() return F.triplet_margin_loss(x, x, lucid.randn(4)) end)
    H.assert_error("nn.functional.cosine_embedding_loss: target {4} does not match input1 {3, 4} (expected {3})",
      function() return F.cosine_embedding_loss(x, x, lucid.ones(4)) end)
    H.assert_error("nn.MarginRankingLoss: input1 {3, 4}, input2 {3, 4} and target {3} must be of one shape",
      function() return nn.MarginRankingLoss()(x, x, lucid.ones(3)) end)
    H.assert_error("nn.GaussianNLLLoss: var {2} is of incorrect size for input {3, 4}",
      function() return nn.GaussianNLLLoss()(x, x, lucid.ones(2)) end)
    H.assert_error("nn.functional.gaussian_nll_loss: var has negative entry/entries",
      function() return F.gaussian_nll_loss(x, x, -lucid.ones(3, 4)) end)
    H.assert_error("nn.PoissonNLLLoss: unknown option 'ful' (did you mean 'full'?)",
      function() return nn.PoissonNLLLoss({ful = true}) end)
    H.assert_error("nn.functional.cosine_similarity: dim 3 is out of range for 2-d inputs (expected -2..-1 or 1..2)",
      function() return F.cosine_similarity(x, x, 3) end)
    H.assert_error("nn.PairwiseDistance: x1 {3, 4} and x2 {3} do not broadcast",
      function() return nn.PairwiseDistance()(x, lucid.randn(3)) end)
    H.assert_error("nn.functional.multilabel_soft_margin_loss: weight {3} does not broadcast to input {3, 4}",
      function() return F.multilabel_soft_margin_loss(x, x, lucid.ones(3)) end)
    H.assert_error("nn.CosineSimilarity: x1 must be a float tensor, got int64",
      function() return nn.CosineSimilarity()(lucid.ones(2, 2, {dtype = "int64"}), x) end)
  end)
  it("report their options", function()
    assert.are.equal("TripletMarginLoss(margin=1.0, p=2.0, eps=1e-06, swap=false, reduction=mean)",
      tostring(nn.TripletMarginLoss()))
  end)
end)

describe("schedulers against PyTorch (lr per step)", function()
  local optim = require("lucid.optim")
  local lr_scheduler = optim.lr_scheduler
  local function make_opt(kind)
    local groups = {{params = {nn.Parameter(lucid.zeros(2))}}, {params = {nn.Parameter(lucid.zeros(1))}, lr = 0.02}}
    if kind == "Adam" then return optim.Adam(groups, {lr = 0.1}) end
    if kind == "SGD momentum" then return optim.SGD(groups, {lr = 0.1, momentum = 0.9}) end
    return optim.SGD(groups, {lr = 0.1})
  end
  local function momenta(opt)
    local out = {}
    for i, g in ipairs(opt.param_groups) do out[i] = g.betas and g.betas[1] or g.momentum end
    return out
  end
  local function same(got, expected, what)
    assert.are.equal(#expected, #got, what)
    for i = 1, #expected do
      local e = expected[i]
      assert.is_true(math.abs(got[i] - e) <= 1e-13 + 1e-12 * math.abs(e),
        string.format("%s, group %d: %.17g, expected %.17g", what, i, got[i], e))
    end
  end
  for _, c in ipairs(fixtures.schedulers) do
    it(c.name, function()
      local opt = make_opt(c.optimizer)
      local sched
      if c.subs then
        local subs = {}
        for i, s in ipairs(c.subs) do subs[i] = lr_scheduler[s[1]](opt, s[2]) end
        local o = {schedulers = subs}
        for k, v in pairs(c.opts) do o[k] = v end
        sched = lr_scheduler.SequentialLR(opt, o)
      else
        sched = lr_scheduler[c.scheduler](opt, c.opts)
      end
      local function lrs()
        local out = {}
        for i, g in ipairs(opt.param_groups) do out[i] = g.lr end
        return out
      end
      same(lrs(), c.lrs[1], "after construction")
      if c.momenta then same(momenta(opt), c.momenta[1], "momentum after construction") end
      for k = 2, #c.lrs do
        if c.metrics then sched:step(c.metrics[k - 1])
        elseif c.epochs then sched:step(c.epochs[k - 1])
        else sched:step() end
        same(lrs(), c.lrs[k], "after step " .. (k - 1))
        same(sched:get_last_lr(), c.lrs[k], "get_last_lr after step " .. (k - 1))
        if c.momenta then same(momenta(opt), c.momenta[k], "momentum after step " .. (k - 1)) end
      end
    end)
  end
end)

describe("schedulers: options, errors and state", function()
  local optim = require("lucid.optim")
  local lr_scheduler = optim.lr_scheduler
  local function sgd(lr, opts)
    local o = {lr = lr or 0.1}
    for k, v in pairs(opts or {}) do o[k] = v end
    return optim.SGD({nn.Parameter(lucid.zeros(2))}, o)
  end
  it("refuse bad options with the scheduler's name", function()
    H.assert_error("lr_scheduler.MultiStepLR: milestones[2] must be an integer, got 2.5",
      function() return lr_scheduler.MultiStepLR(sgd(), {milestones = {1, 2.5}}) end)
    H.assert_error("lr_scheduler.LinearLR: invalid start_factor: 1.5 (expected a factor between 0 and 1)",
      function() return lr_scheduler.LinearLR(sgd(), 1.5) end)
    H.assert_error("lr_scheduler.CosineAnnealingWarmRestarts: T_mult must be an integer, got 1.5",
      function() return lr_scheduler.CosineAnnealingWarmRestarts(sgd(), 2, 1.5) end)
    H.assert_error("lr_scheduler.OneCycleLR: give total_steps, or epochs and steps_per_epoch",
      function() return lr_scheduler.OneCycleLR(sgd(), {max_lr = 1}) end)
    H.assert_error("lr_scheduler.OneCycleLR: expected 1 values for max_lr, got 2",
      function() return lr_scheduler.OneCycleLR(sgd(), {max_lr = {1, 2}, total_steps = 4}) end)
    H.assert_error("lr_scheduler.OneCycleLR: anneal_strategy must be 'cos' or 'linear', got 'exp'",
      function() return lr_scheduler.OneCycleLR(sgd(), {max_lr = 1, total_steps = 4, anneal_strategy = "exp"}) end)
    H.assert_error("lr_scheduler.OneCycleLR: the optimizer has no momentum or betas to cycle",
      function() return lr_scheduler.OneCycleLR(optim.Adagrad({nn.Parameter(lucid.zeros(2))}), 1, 4) end)
    H.assert_error("lr_scheduler.ReduceLROnPlateau: invalid factor: 1 (expected factor < 1)",
      function() return lr_scheduler.ReduceLROnPlateau(sgd(), {factor = 1}) end)
    H.assert_error("lr_scheduler.ReduceLROnPlateau: mode must be 'min' or 'max', got 'up'",
      function() return lr_scheduler.ReduceLROnPlateau(sgd(), "up") end)
    H.assert_error("lr_scheduler.ReduceLROnPlateau:step: expected the metric (a number or a 0-d tensor), got nil",
      function() return lr_scheduler.ReduceLROnPlateau(sgd()):step() end)
    local opt = sgd()
    H.assert_error("lr_scheduler.SequentialLR: expected 1 milestones (one fewer than the 2 schedulers), got 0",
      function()
        return lr_scheduler.SequentialLR(opt, {schedulers = {lr_scheduler.LinearLR(opt), lr_scheduler.LinearLR(opt)},
          milestones = {}})
      end)
    H.assert_error("lr_scheduler.SequentialLR: schedulers[1] does not belong to the optimizer given",
      function() return lr_scheduler.SequentialLR(opt, {schedulers = {lr_scheduler.LinearLR(sgd())}, milestones = {}}) end)
  end)
  it("OneCycleLR stops after total_steps", function()
    local s = lr_scheduler.OneCycleLR(sgd(), {max_lr = 1, total_steps = 2})
    s:step(); s:step()
    H.assert_error("lr_scheduler.OneCycleLR: tried to step 4 times; total_steps is 2", function() s:step() end)
  end)
  it("ReduceLROnPlateau takes a 0-d tensor and saves its state", function()
    local opt = sgd(1)
    local s = lr_scheduler.ReduceLROnPlateau(opt, {patience = 0})
    s:step(lucid.tensor(1.0)); s:step(lucid.tensor(2.0))
    assert.are.equal(0.1, opt.param_groups[1].lr)
    local sd = s:state_dict()
    local opt2 = sgd(0.1)
    local s2 = lr_scheduler.ReduceLROnPlateau(opt2, {patience = 0})
    s2:load_state_dict(sd)
    assert.are.equal(1.0, s2.best)
    s2:step(3)
    assert.is_true(math.abs(opt2.param_groups[1].lr - 0.01) < 1e-15)
  end)
  it("SequentialLR saves and loads its schedulers' state", function()
    local function make(opt)
      return lr_scheduler.SequentialLR(opt, {schedulers = {lr_scheduler.LinearLR(opt, {total_iters = 2}),
        lr_scheduler.ExponentialLR(opt, 0.5)}, milestones = {2}})
    end
    local o1 = sgd()
    local a = make(o1)
    for _ = 1, 4 do a:step() end
    local o2 = sgd()
    local b = make(o2)
    b:load_state_dict(a:state_dict())
    o2.param_groups[1].lr = o1.param_groups[1].lr
    a:step(); b:step()
    assert.are.same(a:get_last_lr(), b:get_last_lr())
    assert.are.equal(5, b.last_epoch)
  end)
  it("an optimizer driven by OneCycleLR saves and loads (its group keys are known)", function()
    local opt = sgd(0.1, {momentum = 0.9})
    lr_scheduler.OneCycleLR(opt, {max_lr = 1, total_steps = 5})
    local opt2 = sgd(0.1, {momentum = 0.9})
    opt2:load_state_dict(opt:state_dict())
    assert.are.equal(1, opt2.param_groups[1].max_lr)
    assert.are.equal(0.95, opt2.param_groups[1].momentum)
  end)
end)

describe("module hooks", function()
  H.use_default_dtype("float64")
  local RT, AT = 1e-10, 1e-12
  for _, c in ipairs(fixtures.hooks) do
    it(c.name .. " (as PyTorch)", function()
      local m = nn[c.layer](unpack(c.args))
      local sd = {}
      for k, v in pairs(c.params) do sd[k] = H.tensor(v) end
      m:load_state_dict(sd)
      local seen = {}
      if c.name:find("pre-hook", 1, true) then
        m:register_forward_pre_hook(function(_, a) return {a[1] * 2} end)
        m:register_forward_hook(function(_, _, out) return out + 1 end)
      end
      local scale = c.name:find("scaling", 1, true)
      m:register_full_backward_hook(function(_, gin, gout)
        seen.gin, seen.gout = gin, gout
        if scale then return {gin[1] * 2, gin[2] * 3} end
      end)
      local xs = {}
      for i, fx in ipairs(c.inputs) do xs[i] = H.tensor(fx, {requires_grad = c.grad[i]}) end
      local out = m(unpack(xs))
      H.assert_close(out, c.output, RT, AT, "output")
      out:backward(H.tensor(c.seed))
      for i, g in ipairs(c.grad_input) do
        if g then H.assert_close(seen.gin[i], g, RT, AT, "grad_input " .. i)
        else assert.is_nil(seen.gin[i], "grad_input " .. i) end
      end
      for i, g in ipairs(c.grad_output) do H.assert_close(seen.gout[i], g, RT, AT, "grad_output " .. i) end
      for i, g in ipairs(c.grads) do
        if g then H.assert_close(xs[i].grad, g, RT, AT, "grad of input " .. i) end
      end
      for k, g in pairs(c.param_grads) do H.assert_close(m[k].grad, g, RT, AT, "grad of " .. k) end
    end)
  end

  it("run in registration order, see the arguments and output, and go with :remove()", function()
    local m = nn.Linear(2, 2)
    local calls = {}
    local h1 = m:register_forward_pre_hook(function(mod, a)
      assert.are.equal(m, mod)
      calls[#calls + 1] = "pre1:" .. #a
    end)
    local h2 = m:register_forward_pre_hook(function() calls[#calls + 1] = "pre2" end)
    local h3 = m:register_forward_hook(function(_, a, out)
      calls[#calls + 1] = "post:" .. #a .. ":" .. H.shape_str(out.shape)
    end)
    m(lucid.randn(3, 2))
    assert.are.same({"pre1:1", "pre2", "post:1:{3, 2}"}, calls)
    h1:remove(); h3:remove()
    h1:remove()  -- twice is harmless
    calls = {}
    m(lucid.randn(3, 2))
    assert.are.same({"pre2"}, calls)
    h2:remove()
    assert.is_nil(rawget(m, "_hooks"))  -- back to the plain call path
    calls = {}
    m(lucid.randn(3, 2))
    assert.are.same({}, calls)
  end)

  it("a backward hook on a submodule of a Sequential, and under no_grad none runs", function()
    local net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    local n = 0
    local shapes
    net[2]:register_full_backward_hook(function(_, gin, gout)
      n = n + 1
      shapes = {H.shape_str(gin[1].shape), H.shape_str(gout[1].shape)}
    end)
    net(lucid.randn(5, 3)):sum():backward()
    assert.are.equal(1, n)
    assert.are.same({"{5, 4}", "{5, 4}"}, shapes)
    lucid.no_grad(function() return net(lucid.randn(5, 3)) end)
    assert.are.equal(1, n)
  end)

  it("refuse a hook that is not a function, and a bad backward result", function()
    H.assert_error("nn.Module:register_forward_hook: hook must be a function, got number",
      function() return nn.Linear(2, 2):register_forward_hook(3) end)
    local m = nn.Linear(2, 2)
    m:register_full_backward_hook(function() return 5 end)
    H.assert_error("Linear: a backward hook must return nil or a table of 1 gradients, got number",
      function() m(lucid.randn(1, 2, {requires_grad = true})):sum():backward() end)
  end)

  it("do not slow the plain call path (a module that never had hooks)", function()
    local m = nn.Identity()
    local x = lucid.zeros(1)
    local plain = nn.Module:extend("Plain")
    function plain:forward(y) return y end
    local function time(f)
      local best = math.huge
      for _ = 1, 3 do
        local t0 = os.clock()
        for _ = 1, 20000 do f(x) end
        best = math.min(best, os.clock() - t0)
      end
      return best
    end
    local bare = time(function(y) return plain.forward(m, y) end)
    local called = time(function(y) return m(y) end)
    -- the call path is one function and two raw lookups more than the bare forward
    assert.is_true(called < bare * 3 + 0.01, string.format("module call %.4fs, bare forward %.4fs", called, bare))
  end)
end)

describe("PixelShuffle and PixelUnshuffle against PyTorch", function()
  for _, dtype in ipairs({"float64", "float32"}) do
    for _, c in ipairs(fixtures.layers) do
      it(c.name .. " " .. dtype, function()
        local x = H.tensor(c.input, {dtype = dtype, requires_grad = true})
        local rtol = dtype == "float32" and 1e-7 or 0  -- the values only move
        local out = nn[c.layer](unpack(c.args))(x)
        H.assert_close(out, c.output, rtol, 0, "output")
        out:backward(H.tensor(c.seed, {dtype = dtype}))
        H.assert_close(x.grad, c.grad, rtol, 0, "grad")
        local f = c.layer == "PixelShuffle" and F.pixel_shuffle or F.pixel_unshuffle
        H.assert_close(f(x, c.args[1]), c.output, rtol, 0, "functional")
      end)
    end
  end
  it("undo each other", function()
    local x = lucid.randn(2, 3, 4, 6)
    H.assert_close(F.pixel_shuffle(F.pixel_unshuffle(x, 2), 2), x, 0, 0, "round trip")
  end)
  it("errors name the shapes", function()
    H.assert_error("nn.PixelShuffle: the channel dim (6, dim 2 of input {1, 6, 2, 2}) must be divisible by "
      .. "upscale_factor^2 = 4", function() return nn.PixelShuffle(2)(lucid.randn(1, 6, 2, 2)) end)
    H.assert_error("nn.functional.pixel_unshuffle: height 3 and width 4 of input {1, 3, 4} must be divisible by "
      .. "downscale_factor 2", function() return F.pixel_unshuffle(lucid.randn(1, 3, 4), 2) end)
    H.assert_error("nn.functional.pixel_shuffle: expected an input of at least 3 dims (*, C, H, W), got {4, 4}",
      function() return F.pixel_shuffle(lucid.randn(4, 4), 2) end)
    H.assert_error("nn.PixelShuffle: upscale_factor must be a positive integer, got 0",
      function() return nn.PixelShuffle(0) end)
    assert.are.equal("PixelUnshuffle(downscale_factor=3)", tostring(nn.PixelUnshuffle(3)))
  end)
end)

describe("Dropout1d and Dropout2d", function()
  it("zero whole channels with probability p and scale the rest by 1 / (1 - p)", function()
    lucid.manual_seed(7)
    for _, case in ipairs({{nn.Dropout1d(0.3), {40, 50, 6}}, {nn.Dropout2d(0.3), {40, 50, 2, 3}},
                           {nn.Dropout1d(0.3), {2000, 6}}}) do
      local m, shape = case[1], case[2]
      local x = (lucid.rand(shape, {dtype = "float64"}) + 1):requires_grad_()
      local y = m(x)
      local ratio = (y / x):reshape(shape[1] * (#shape == 2 and 1 or shape[2]), -1)
      local lo, hi = ratio:amin(2), ratio:amax(2)
      H.assert_close(lo, hi, 1e-12, 0, "one value per channel")  -- the whole channel kept or zeroed
      local kept = lucid.gt(lo, 0):double()
      local frac = kept:mean():item()
      assert.is_true(math.abs(frac - 0.7) < 0.05, "kept fraction " .. frac)
      H.assert_close(lo * kept, kept / 0.7, 1e-12, 1e-15, "scale")
      y:sum():backward()
      H.assert_close(x.grad, (y / x):detach(), 1e-12, 1e-15, "gradient is the mask times the scale")
    end
  end)
  it("pass the input through in eval mode, with p = 0 and training = false; p = 1 gives zeros", function()
    local x = lucid.randn(2, 3, 4)
    local m = nn.Dropout2d(0.5)
    m:eval()
    assert.are.equal(x, m(x))
    assert.are.equal(x, F.dropout1d(x, 0))
    assert.are.equal(x, F.dropout2d(x, {p = 0.9, training = false}))
    H.assert_close(F.dropout1d(x, 1), lucid.zeros(2, 3, 4), 0, 0, "p = 1")
  end)
  it("check the input's dims and the options", function()
    H.assert_error("nn.Dropout1d: expected a 2-d {C, L} or 3-d {N, C, L} input, got {2, 3, 4, 5}",
      function() return nn.Dropout1d()(lucid.randn(2, 3, 4, 5)) end)
    H.assert_error("nn.functional.dropout2d: expected an input with a channel dim ({N, C, H, W}), got {3}",
      function() return F.dropout2d(lucid.randn(3)) end)
    H.assert_error("nn.Dropout2d: p must be a probability between 0 and 1, got 1.5",
      function() return nn.Dropout2d(1.5) end)
    H.assert_error("nn.Dropout1d: inplace = true is not supported", function() return nn.Dropout1d(0.5, true) end)
    assert.are.equal("Dropout2d(p=0.25, inplace=false)", tostring(nn.Dropout2d(0.25)))
  end)
end)

describe("CTC loss", function()
  local tg = lucid.tensor({{2, 3, 3}, {4, 2, 1}}, {dtype = "int64"})
  H.gradcheck_cases({
    {"ctc_loss through log_softmax (padded, mean)", function(x)
      return F.ctc_loss(lucid.log_softmax(x, 3), tg, {6, 5}, {3, 2})
    end, {H.maker()(6, 2, 5)}},
    {"ctc_loss through log_softmax (concatenated, blank 5, none, zero_infinity)", function(x)
      return F.ctc_loss(lucid.log_softmax(x, 3), lucid.tensor({1, 2, 2, 3}, {dtype = "int64"}), {2, 6}, {2, 2},
        {blank = 5, reduction = "none", zero_infinity = true})
    end, {H.maker()(6, 2, 5)}},
    {"ctc_loss unbatched, empty target", function(x)
      return F.ctc_loss(lucid.log_softmax(x, 2), lucid.zeros({0}, {dtype = "int64"}), 4, 0, {reduction = "sum"})
    end, {H.maker()(4, 3)}},
  }, 1205)

  it("takes lengths as tables, numbers or int64 tensors alike, and lucid.ctc_loss is the same", function()
    local lp = lucid.log_softmax(lucid.randn(6, 2, 5, {dtype = "float64"}), 3)
    local a = F.ctc_loss(lp, tg, {6, 5}, {3, 2})
    local b = nn.CTCLoss()(lp, tg, lucid.tensor({6, 5}, {dtype = "int64"}), lucid.tensor({3, 2}, {dtype = "int32"}))
    local c = lucid.ctc_loss(lp, tg:int(), {6, 5}, {3, 2}, 1, "mean", false)
    H.assert_close(b, a, 0, 0, "tensor lengths")
    H.assert_close(c, a, 0, 0, "lucid.ctc_loss")
  end)

  it("gives inf (and PyTorch's NaN gradient) for an impossible alignment without zero_infinity", function()
    local x = lucid.randn(2, 1, 4, {dtype = "float64", requires_grad = true})
    local l = F.ctc_loss(lucid.log_softmax(x, 3), lucid.tensor({{2, 2}}, {dtype = "int64"}), {2}, {2}, {reduction = "sum"})
    assert.are.equal(math.huge, l:item())
    local z = F.ctc_loss(lucid.log_softmax(x, 3), lucid.tensor({{2, 2}}, {dtype = "int64"}), {2}, {2},
      {reduction = "sum", zero_infinity = true})
    assert.are.equal(0, z:item())
    z:backward()
    H.assert_close(x.grad, lucid.zeros(2, 1, 4), 0, 0, "zero gradient")
  end)

  it("refuses a second derivative (as PyTorch)", function()
    local x = lucid.randn(4, 1, 3, {dtype = "float64", requires_grad = true})
    local l = F.ctc_loss(x, lucid.tensor({{2}}, {dtype = "int64"}), {4}, {1})
    H.assert_error("ctc_loss: its gradient cannot be differentiated again (create_graph)",
      function() return lucid.autograd.grad(l, {x}, {create_graph = true}) end)
  end)

  it("errors name the function, the argument and the shapes (1-based)", function()
    local lp = lucid.randn(6, 2, 5)
    H.assert_error("nn.functional.ctc_loss: target 2 of sample 1 is 1, expected a class in 1..5 other than blank (1)",
      function() return F.ctc_loss(lp, lucid.tensor({{2, 1, 3}, {2, 2, 2}}, {dtype = "int64"}), {6, 6}, {3, 3}) end)
    H.assert_error("nn.CTCLoss: target 1 of sample 2 is 6, expected a class in 1..5",
      function() return nn.CTCLoss()(lp, lucid.tensor({{2}, {6}}, {dtype = "int64"}), {6, 6}, {1, 1}) end)
    H.assert_error("nn.functional.ctc_loss: input_lengths has 1 values, expected 2 (one per sample)",
      function() return F.ctc_loss(lp, tg, {6}, {3, 2}) end)
    H.assert_error("nn.functional.ctc_loss: target_lengths[2] is 4, more than the 3 columns of targets {2, 3}",
      function() return F.ctc_loss(lp, tg, {6, 6}, {3, 4}) end)
    H.assert_error("nn.functional.ctc_loss: input_lengths[2] is 7, expected 0..6 (T)",
      function() return F.ctc_loss(lp, tg, {6, 7}, {3, 2}) end)
    H.assert_error("nn.functional.ctc_loss: targets must be an integer tensor (int64) of 1-based classes, got float32",
      function() return F.ctc_loss(lp, tg:float(), {6, 6}, {3, 2}) end)
    H.assert_error("nn.CTCLoss: blank 6 is out of range 1..5 (the classes of log_probs {6, 2, 5})",
      function() return nn.CTCLoss(6)(lp, tg, {6, 6}, {3, 2}) end)
    H.assert_error("nn.functional.ctc_loss: log_probs must be {T, N, C} or {T, C}, got {6}",
      function() return F.ctc_loss(lucid.randn(6), tg, {6, 6}, {3, 2}) end)
    H.assert_error("nn.functional.ctc_loss: input_lengths[1] must be a whole number, got 2.5",
      function() return F.ctc_loss(lp, tg, {2.5, 6}, {3, 2}) end)
    H.assert_error("nn.CTCLoss: blank must be a positive integer, got 0", function() return nn.CTCLoss(0) end)
    assert.are.equal("CTCLoss(blank=1, reduction=mean, zero_infinity=false)", tostring(nn.CTCLoss()))
  end)
end)
