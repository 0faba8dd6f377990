-- lucid.optim (optimizers, lr_scheduler) and nn.utils clipping against
-- PyTorch 1.13 (tests/fixtures/optim.lua, written by
-- scripts/gen_fixtures_optim.py): trajectories of 10 steps on a small problem
-- in float64, final state dicts, learning-rate sequences, clipped gradients;
-- then state-dict round trips, zero_grad, parameter groups, errors.
local lucid = require("lucid")
local nn = require("lucid.nn")
local optim = require("lucid.optim")
local nn_utils = require("lucid.nn.utils")
local H = dofile("tests/helpers.lua")
local fixtures = dofile("tests/fixtures/optim.lua")

local lr_scheduler = optim.lr_scheduler
local RTOL, ATOL = 1e-6, 1e-12

-- The lambdas the fixture's LambdaLR cases name (same as the generator's).
local LAMBDAS = {
  pow95 = function(e) return 0.95 ^ e end,
  inv1p = function(e) return 1 / (e + 1) end,
  step3 = function(e) return math.floor(e / 3) end,  -- Python e // 3
  warmup4 = function(e) return math.min(1.0, (e + 1) / 4) end,
}

-- The problem: params W {3, 2}, b {2}, c {2} (c unused: no gradient).
local function make_params(dtype)
  local out = {}
  for i, fx in ipairs(fixtures.problem.params) do
    out[i] = H.tensor(fx, {dtype = dtype, requires_grad = true})
  end
  return out
end

local function loss_of(params, dtype)
  local x = H.tensor(fixtures.problem.x, {dtype = dtype})
  local y = H.tensor(fixtures.problem.y, {dtype = dtype})
  return ((x:matmul(params[1]) + params[2] - y) ^ 2):sum()
end

local function scheduler_opts(spec)
  local o = {}
  for k, v in pairs(spec.opts) do o[k] = v end
  local lam = o.lr_lambda
  if type(lam) == "string" then o.lr_lambda = LAMBDAS[lam]
  elseif type(lam) == "table" then
    o.lr_lambda = {}
    for i, n in ipairs(lam) do o.lr_lambda[i] = LAMBDAS[n] end
  end
  return o
end

-- Optimizer (and scheduler) of a fixture case over `params`.
local function build(case, params)
  local arg = params
  if case.groups then
    arg = {}
    for gi, g in ipairs(case.groups) do
      local group = {}
      for k, v in pairs(g) do group[k] = v end
      group.params = {}
      for i, idx in ipairs(g.params) do group.params[i] = params[idx] end
      arg[gi] = group
    end
  end
  local opt = optim[case.optim](arg, case.opts)
  local sched = case.scheduler
    and lr_scheduler[case.scheduler.name](opt, scheduler_opts(case.scheduler)) or nil
  return opt, sched
end

local function one_step(opt, sched, params, dtype)
  opt:zero_grad()
  local loss = loss_of(params, dtype)
  loss:backward()
  opt:step()
  if sched then sched:step() end
  return loss:item()
end

local function check_step(case, k, params, rtol, atol)
  for i, p in ipairs(params) do
    H.assert_close(p, case.steps[k][i], rtol, atol,
      string.format("%s: parameter %d after step %d", case.name, i, k))
  end
end

-- Compares our state_dict() with PyTorch's (tensors closely, the rest exactly).
local function check_state_dict(case, sd)
  local want = case.state_dict
  assert.are.equal(#want.param_groups, #sd.param_groups, case.name .. ": group count")
  for gi, wg in ipairs(want.param_groups) do
    local g = sd.param_groups[gi]
    for k, v in pairs(wg) do
      if type(v) == "number" then
        assert.is_true(math.abs(g[k] - v) <= 1e-15 * math.abs(v),
          string.format("%s: group %d %s is %s, PyTorch %s", case.name, gi, k, tostring(g[k]), tostring(v)))
      else
        assert.are.same(v, g[k], string.format("%s: group %d %s", case.name, gi, k))
      end
    end
    for k in pairs(g) do
      assert.is_not_nil(wg[k], string.format("%s: group %d has %s, PyTorch's has not", case.name, gi, k))
    end
  end
  for idx, ws in pairs(want.state) do
    local s = sd.state[idx]
    assert.is_table(s, string.format("%s: no state for parameter %d", case.name, idx))
    for k, v in pairs(ws) do
      local what = string.format("%s: state[%d].%s", case.name, idx, k)
      if type(v) == "number" then
        assert.are.equal(v, s[k], what)
      else
        H.assert_close(s[k], v, RTOL, ATOL, what)
      end
    end
    for k in pairs(s) do
      assert.is_not_nil(ws[k], string.format("%s: state[%d] has %s, PyTorch's has not", case.name, idx, k))
    end
  end
  for idx in pairs(sd.state) do
    assert.is_not_nil(want.state[idx], string.format("%s: state for parameter %d, PyTorch has none",
      case.name, idx))
  end
end

-- pcall(fn, ...) must fail with a message containing `text`.
local function assert_error(text, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error containing: " .. text)
  assert.is_truthy(tostring(err):find(text, 1, true),
    string.format("error message\n  %s\ndoes not contain\n  %s", tostring(err), text))
  return err
end

describe("optimizers against PyTorch (float64)", function()
  for _, case in ipairs(fixtures.cases) do
    it(case.name, function()
      local params = make_params("float64")
      local opt, sched = build(case, params)
      for k = 1, #case.steps do
        local loss = one_step(opt, sched, params, "float64")
        assert.is_true(math.abs(loss - case.losses[k]) <= RTOL * math.abs(case.losses[k]),
          string.format("%s: loss before step %d is %.17g, PyTorch %.17g", case.name, k, loss, case.losses[k]))
        check_step(case, k, params, RTOL, ATOL)
        if case.lrs then
          for gi, group in ipairs(opt.param_groups) do
            assert.is_true(math.abs(group.lr - case.lrs[k][gi]) <= 1e-14 * case.lrs[k][gi],
              string.format("%s: lr of group %d after step %d", case.name, gi, k))
          end
        end
      end
      assert.is_nil(params[3].grad)
      check_state_dict(case, opt:state_dict())
    end)
  end
end)

describe("optimizers in float32", function()
  for _, name in ipairs({"SGD momentum", "Adam", "RMSprop centered momentum", "Adagrad"}) do
    it(name, function()
      local case
      for _, c in ipairs(fixtures.cases) do
        if c.name == name then case = c end
      end
      local params = make_params("float32")
      local opt, sched = build(case, params)
      for k = 1, #case.steps do
        one_step(opt, sched, params, "float32")
        assert.are.equal("float32", params[1].dtype)
        check_step(case, k, params, 1e-4, 1e-5)
      end
      for _, s in pairs(opt:state_dict().state) do
        for _, v in pairs(s) do
          if lucid.is_tensor(v) then assert.are.equal("float32", v.dtype) end
        end
      end
    end)
  end
end)

describe("optimizer state_dict", function()
  -- 5 steps, state_dict, a fresh optimizer (and scheduler) on fresh
  -- parameters holding the same values loads it, 5 more steps: the same
  -- trajectory as 10 straight steps.
  local function resume(case, transform)
    local params = make_params("float64")
    local opt, sched = build(case, params)
    for _ = 1, 5 do one_step(opt, sched, params, "float64") end
    local sd = {optim = opt:state_dict(), sched = sched and sched:state_dict()}
    sd = transform and transform(sd) or sd
    -- the saved state is a snapshot: the old optimizer moving on leaves it alone
    for _ = 1, 2 do one_step(opt, sched, params, "float64") end

    local params2 = make_params("float64")
    lucid.no_grad(function()
      for i, p in ipairs(params2) do p:copy_(H.tensor(case.steps[5][i])) end
    end)
    local opt2, sched2 = build(case, params2)
    opt2:load_state_dict(sd.optim)
    if sched2 then sched2:load_state_dict(sd.sched) end
    for k = 6, 10 do
      one_step(opt2, sched2, params2, "float64")
      check_step(case, k, params2, RTOL, ATOL)
    end
    check_state_dict(case, opt2:state_dict())
  end

  for _, case in ipairs(fixtures.cases) do
    it("round trip: " .. case.name, function() resume(case) end)
  end

  it("round trip through lucid.save / lucid.load", function()
    local path = os.tmpname()
    for _, case in ipairs(fixtures.cases) do
      resume(case, function(sd)
        lucid.save(sd, path)
        local back = lucid.load(path)
        return back
      end)
    end
    os.remove(path)
  end)

  it("has the documented layout", function()
    local W = lucid.tensor({1.0, 2.0}, {requires_grad = true, dtype = "float64"})
    local b = lucid.tensor({3.0}, {requires_grad = true, dtype = "float64"})
    local opt = optim.Adam({{params = {W}}, {params = {b}, lr = 0.5}}, {lr = 0.1})
    ;(W * b):sum():backward()
    opt:step()
    local sd = opt:state_dict()
    assert.are.same({1}, sd.param_groups[1].params)
    assert.are.same({2}, sd.param_groups[2].params)
    assert.are.same({0.9, 0.999}, sd.param_groups[1].betas)
    assert.are.equal(0.1, sd.param_groups[1].lr)
    assert.are.equal(0.5, sd.param_groups[2].lr)
    assert.are.equal(1, sd.state[1].step)
    assert.is_true(lucid.is_tensor(sd.state[2].exp_avg))
    -- copies: changing the state dict changes nothing in the optimizer
    sd.param_groups[1].betas[1] = 0.5
    lucid.no_grad(function() sd.state[1].exp_avg:fill_(7) end)
    assert.are.equal(0.9, opt.param_groups[1].betas[1])
    assert.are_not.equal(7, opt:state_dict().state[1].exp_avg:tolist()[1])
  end)

  it("load_state_dict copies the state tensors (and casts them to the parameter's dtype)", function()
    local W = lucid.tensor({1.0, 2.0}, {requires_grad = true})
    local opt = optim.SGD({W}, {lr = 0.1, momentum = 0.9})
    local buf = lucid.tensor({5.0, 6.0}, {dtype = "float64"})
    opt:load_state_dict({state = {[1] = {momentum_buffer = buf}},
                         param_groups = {{lr = 0.2, momentum = 0.5, dampening = 0,
                                          weight_decay = 0, nesterov = false, maximize = false,
                                          params = {1}}}})
    lucid.no_grad(function() buf:fill_(0) end)
    local s = opt:state_dict()
    assert.are.same({5, 6}, s.state[1].momentum_buffer:tolist())
    assert.are.equal("float32", s.state[1].momentum_buffer.dtype)
    assert.are.equal(0.2, opt.param_groups[1].lr)
    assert.are.equal(0.5, opt.param_groups[1].momentum)
    assert.are.equal(W, opt.param_groups[1].params[1])  -- parameters stay
  end)

  it("load_state_dict refuses a state dict that does not fit, and changes nothing", function()
    local function fresh()
      local W = lucid.zeros(3, 2, {requires_grad = true, dtype = "float64"})
      local b = lucid.zeros(2, {requires_grad = true, dtype = "float64"})
      return {W, b}
    end
    local ps = fresh()
    local opt = optim.Adam(ps, {lr = 0.1})
    ;(ps[1]:sum() + ps[2]:sum()):backward()
    opt:step()
    local good = opt:state_dict()

    local two_groups = optim.Adam({{params = {fresh()[1]}}, {params = {fresh()[2]}}})
    assert_error("optim.Adam:load_state_dict: the state dict has 1 parameter groups, the optimizer 2",
      two_groups.load_state_dict, two_groups, good)
    local one = optim.Adam({fresh()[1]})
    assert_error("optim.Adam:load_state_dict: parameter group 1 has 2 parameters in the state dict, 1 in the optimizer",
      one.load_state_dict, one, good)
    local swapped = optim.Adam({fresh()[2], fresh()[1]}, {lr = 0.3})
    assert_error("optim.Adam:load_state_dict: state 'exp_avg' of parameter 1 has shape {3, 2}, the parameter {2}",
      swapped.load_state_dict, swapped, good)
    assert.are.equal(0.3, swapped.param_groups[1].lr)  -- nothing changed
    assert.is_nil(next(swapped:state_dict().state))
    local bad = opt:state_dict()
    bad.state[7] = bad.state[1]
    assert_error("optim.Adam:load_state_dict: state for parameter 7, which no parameter group has",
      opt.load_state_dict, opt, bad)
    assert_error("optim.Adam:load_state_dict: expected a table with state and param_groups",
      opt.load_state_dict, opt, {})
    local sgd = optim.SGD(fresh(), {lr = 0.1, momentum = 0.9})
    assert_error("optim.Adam:load_state_dict: parameter group 1 has option 'dampening', which optim.Adam "
      .. "does not have (a state dict of another optimizer?)", opt.load_state_dict, opt, sgd:state_dict())
    local negative = opt:state_dict()
    negative.param_groups[1].lr = -1
    assert_error("optim.Adam:load_state_dict: parameter group 1: invalid lr: -1 (expected lr >= 0)",
      opt.load_state_dict, opt, negative)
    -- still usable
    opt:load_state_dict(good)
    opt:step()
  end)
end)

describe("optimizer behaviour", function()
  local function param(values)
    return lucid.tensor(values, {requires_grad = true, dtype = "float64"})
  end

  it("zero_grad sets gradients to nil, or to zeros with zero_grad(false)", function()
    local W, b = param({1.0, 2.0}), param({3.0})
    local opt = optim.SGD({W, b}, 0.1)
    ;(W * b):sum():backward()
    assert.is_not_nil(W.grad)
    opt:zero_grad(false)
    assert.are.same({0, 0}, W.grad:tolist())
    assert.are.same({0}, b.grad:tolist())
    opt:zero_grad()
    assert.is_nil(W.grad)
    assert.is_nil(b.grad)
    opt:step()  -- no gradients: nothing moves
    assert.are.same({1, 2}, W:tolist())
  end)

  it("skips parameters without a gradient (no state, no weight decay)", function()
    local W, c = param({1.0, 2.0}), param({3.0})
    local opt = optim.AdamW({W, c}, {lr = 0.1, weight_decay = 0.5})
    W:sum():backward()
    opt:step()
    assert.are.same({3}, c:tolist())
    local sd = opt:state_dict()
    assert.is_not_nil(sd.state[1])
    assert.is_nil(sd.state[2])
  end)

  it("updates module parameters in place (the module keeps them)", function()
    lucid.manual_seed(3)
    local model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    local weight = model[1].weight
    local before = H.flat(weight)
    local opt = optim.Adam(model:parameters(), {lr = 0.05})
    local x = lucid.randn(8, 3)
    local y = lucid.randn(8, 1)
    local first, last
    for i = 1, 30 do
      opt:zero_grad()
      local loss = ((model(x) - y) ^ 2):mean()
      loss:backward()
      opt:step()
      if i == 1 then first = loss:item() end
      last = loss:item()
    end
    assert.is_true(last < first)
    assert.are.equal(weight, model[1].weight)
    assert.is_true(model[1].weight.requires_grad)
    assert.are_not.same(before, H.flat(model[1].weight))
  end)

  it("step(closure) evaluates the closure with gradients on and returns its loss", function()
    local W = param({1.0, -2.0})
    local opt = optim.SGD({W}, {lr = 0.25})
    local loss = lucid.no_grad(function()
      return opt:step(function()
        opt:zero_grad()
        local l = (W * W):sum()
        l:backward()
        return l
      end)
    end)
    assert.are.equal(5, loss:item())
    assert.are.same({0.5, -1.0}, W:tolist())
  end)

  it("takes options positionally in PyTorch's order, or by name", function()
    local W = param({1.0})
    local a = optim.SGD({W}, 0.1, 0.9, 0.1, 0.01)
    assert.are.same({lr = 0.1, momentum = 0.9, dampening = 0.1, weight_decay = 0.01,
                     nesterov = false, maximize = false}, a.defaults)
    local b = optim.Adam({W}, 0.01, {0.8, 0.9}, 1e-6, 0, true, {maximize = true})
    assert.are.same({lr = 0.01, betas = {0.8, 0.9}, eps = 1e-6, weight_decay = 0,
                     amsgrad = true, maximize = true}, b.defaults)
    assert.are.same({lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0,
                     centered = false, maximize = false}, optim.RMSprop({W}).defaults)
    assert.are.same({lr = 1e-2, lr_decay = 0, weight_decay = 0, initial_accumulator_value = 0,
                     eps = 1e-10, maximize = false}, optim.Adagrad({W}).defaults)
    assert.are.equal(1e-2, optim.AdamW({W}).defaults.weight_decay)
    assert.are.equal(0, optim.Adam({W}).defaults.weight_decay)
    assert.are.equal(1e-3, optim.AdamW({W}).param_groups[1].lr)
  end)

  it("parameter groups take the defaults they do not set; add_param_group adds one", function()
    local W, b, c = param({1.0}), param({2.0}), param({3.0})
    local opt = optim.SGD({{params = {W}, lr = 0.5}, {params = b}}, {lr = 0.1, momentum = 0.9})
    assert.are.equal(0.5, opt.param_groups[1].lr)
    assert.are.equal(0.1, opt.param_groups[2].lr)
    assert.are.equal(0.9, opt.param_groups[2].momentum)
    assert.are.equal(b, opt.param_groups[2].params[1])
    opt:add_param_group({params = {c}, momentum = 0})
    assert.are.equal(3, #opt.param_groups)
    assert.are.equal(0, opt.param_groups[3].momentum)
    assert_error("optim.SGD: parameter group 4: params[1] appears twice (also in another parameter group)",
      opt.add_param_group, opt, {params = {W}})
    assert.are.equal(3, #opt.param_groups)
    -- Adagrad fills its state when parameters are added, as PyTorch does
    local ada = optim.Adagrad({W}, {initial_accumulator_value = 0.25})
    ada:add_param_group({params = {b}})
    assert.are.same({0.25}, ada:state_dict().state[2].sum:tolist())
    assert.are.equal(0, ada:state_dict().state[2].step)
  end)

  it("can be extended by users, like the built-in ones are made", function()
    local SignSGD = optim.Optimizer:extend("SignSGD", {{"lr", 0.1, "nonneg"}})
    function SignSGD:update(p, grad, group, state)
      state.step = (state.step or 0) + 1
      p:copy_(p - group.lr * (grad / (grad * grad) ^ 0.5))
    end
    local W = param({1.0, -2.0})
    local opt = SignSGD({W}, {lr = 0.5})
    ;(W * W):sum():backward()
    opt:step()
    assert.are.same({0.5, -1.5}, W:tolist())
    assert.are.equal(1, opt:state_dict().state[1].step)
    assert_error("optim.SignSGD: invalid lr: -1 (expected lr >= 0)", SignSGD, {W}, -1)

    local Halving = lr_scheduler.LRScheduler:extend("Halving")
    function Halving:get_lr()
      local out = {}
      for i, base in ipairs(self.base_lrs) do out[i] = base * 0.5 ^ self.last_epoch end
      return out
    end
    local h = Halving(opt)
    h:step()
    h:step()
    assert.are.same({0.125}, h:get_last_lr())
    assert.are.equal(0.125, opt.param_groups[1].lr)
  end)

  it("prints like PyTorch's repr", function()
    local opt = optim.SGD({param({1.0})}, 0.1)
    assert.are.equal(table.concat({
      "SGD (",
      "Parameter Group 1",
      "    dampening: 0",
      "    lr: 0.1",
      "    maximize: false",
      "    momentum: 0",
      "    nesterov: false",
      "    weight_decay: 0",
      ")"}, "\n"), tostring(opt))
  end)

  it("raises errors naming the optimizer and the option", function()
    local W = param({1.0})
    local cases = {
      {"optim.Adam: invalid beta 1: 1.5 (expected 0 <= beta < 1)", optim.Adam, {W}, {betas = {1.5, 0.999}}},
      {"optim.AdamW: invalid beta 2: 1 (expected 0 <= beta < 1)", optim.AdamW, {W}, {betas = {0.9, 1}}},
      {"optim.Adam: invalid beta 1: -0.1 (expected 0 <= beta < 1)", optim.Adam, {W}, {betas = {-0.1, 0.9}}},
      {"optim.Adam: betas must be a table of two numbers, got 0.9", optim.Adam, {W}, {betas = 0.9}},
      {"optim.SGD: invalid lr: -0.1 (expected lr >= 0)", optim.SGD, {W}, -0.1},
      {"optim.Adam: invalid lr: -1 (expected lr >= 0)", optim.Adam, {W}, {lr = -1}},
      {"optim.Adam: invalid eps: -1e-08 (expected eps >= 0)", optim.Adam, {W}, {eps = -1e-8}},
      {"optim.RMSprop: invalid alpha: -0.5 (expected alpha >= 0)", optim.RMSprop, {W}, {alpha = -0.5}},
      {"optim.RMSprop: invalid momentum: -1 (expected momentum >= 0)", optim.RMSprop, {W}, {momentum = -1}},
      {"optim.SGD: invalid weight_decay: -1 (expected weight_decay >= 0)", optim.SGD, {W}, {lr = 1, weight_decay = -1}},
      {"optim.Adagrad: invalid lr_decay: -1 (expected lr_decay >= 0)", optim.Adagrad, {W}, {lr_decay = -1}},
      {"optim.Adagrad: invalid initial_accumulator_value: -1 (expected initial_accumulator_value >= 0)",
        optim.Adagrad, {W}, {initial_accumulator_value = -1}},
      {"optim.SGD: lr must be a number, got string", optim.SGD, {W}, {lr = "0.1"}},
      {"optim.Adam: amsgrad must be a boolean, got number", optim.Adam, {W}, {amsgrad = 1}},
      {"optim.SGD: lr is required", optim.SGD, {W}},
      {"optim.SGD: unknown option 'learning_rate'", optim.SGD, {W}, {learning_rate = 0.1}},
      {"optim.Adam: option 'foreach' is not supported", optim.Adam, {W}, {foreach = true}},
      {"optim.SGD: nesterov momentum requires a momentum and zero dampening", optim.SGD, {W},
        {lr = 0.1, nesterov = true}},
      {"optim.SGD: too many arguments (5 positional options at most: lr, momentum, dampening, weight_decay, nesterov)",
        optim.SGD, {W}, 0.1, 0, 0, 0, false, true},
      {"optim.SGD: option 'lr' given twice", optim.SGD, {W}, 0.1, {lr = 0.2}},
      {"optim.SGD: got an empty parameter list", optim.SGD, {}, 0.1},
      {"optim.SGD: params must be an array of tensors or of parameter groups, got nil", optim.SGD, nil, 0.1},
      {"optim.SGD: params must be an array of tensors or of parameter groups, got a single tensor (wrap it: {t})",
        optim.SGD, W, 0.1},
      {"optim.Adam: params[2] is a string, expected a tensor", optim.Adam, {W, "b"}},
      {"optim.Adam: params[1] is not a leaf tensor (only leaves can be optimized)", optim.Adam, {W * 2}},
      {"optim.Adam: params[2] appears twice (also in this group)", optim.Adam, {W, W}},
      {"optim.Adam: params[2] is a tensor, expected a parameter group (a table with params)", optim.Adam,
        {{params = {W}}, W}},
      {"optim.Adam: parameter group 1: params must be an array of tensors, got nil", optim.Adam, {{W}}},
      {"optim.Adam: parameter group 2: invalid lr: -1 (expected lr >= 0)", optim.Adam,
        {{params = {W}}, {params = {param({2.0})}, lr = -1}}},
      {"optim.Adam: parameter group 1: unknown option 'momentum'", optim.Adam, {{params = {W}, momentum = 0.9}}},
      {"optim.Adam: parameter group 1: empty parameter list", optim.Adam, {{params = {}}}},
    }
    for _, c in ipairs(cases) do
      local err = assert_error(c[1], c[2], H.unpack(c, 3))
      -- the position is the caller's, not a line inside lucid/optim
      assert.is_nil(tostring(err):find("lucid/optim", 1, true), tostring(err))
    end
    local ok, err = pcall(function() return optim.SGD({W}, -1) end)
    assert.is_false(ok)
    assert.is_truthy(err:find("^tests/optim_spec%.lua:%d+: optim%.SGD: invalid lr"), err)
  end)
end)

describe("lr_scheduler against PyTorch", function()
  local function two_groups()
    local a = lucid.zeros(2, {requires_grad = true})
    local b = lucid.zeros(1, {requires_grad = true})
    return optim.SGD({{params = {a}}, {params = {b}, lr = 0.02}}, {lr = 0.1})
  end

  local function check_lrs(entry, sched, opt, e)
    local got, want = sched:get_last_lr(), entry.lrs[e + 1]
    assert.are.equal(#want, #got)
    for i = 1, #want do
      assert.is_true(math.abs(got[i] - want[i]) <= 1e-12 * math.abs(want[i]) + 1e-17,
        string.format("%s: epoch %d group %d: lr %.17g, PyTorch %.17g", entry.name, e, i, got[i], want[i]))
      assert.are.equal(got[i], opt.param_groups[i].lr)
    end
  end

  local function make(entry)
    local opt = two_groups()
    if entry.initial_lr then
      for i, g in ipairs(opt.param_groups) do g.initial_lr = entry.initial_lr[i] end
    end
    local cls = lr_scheduler[entry.scheduler.name]
    return opt, cls(opt, scheduler_opts(entry.scheduler))
  end

  for _, entry in ipairs(fixtures.schedulers) do
    it(entry.name, function()
      local opt, sched = make(entry)
      check_lrs(entry, sched, opt, 0)
      for e = 1, #entry.lrs - 1 do
        opt:step()
        sched:step()
        check_lrs(entry, sched, opt, e)
        assert.are.equal((entry.scheduler.opts.last_epoch or -1) + 1 + e, sched.last_epoch)
      end
    end)

    it(entry.name .. ": state_dict round trip at epoch 5", function()
      local opt, sched = make(entry)
      for _ = 1, 5 do sched:step() end
      local osd, ssd = opt:state_dict(), sched:state_dict()
      for _, v in pairs(ssd) do assert.are_not.equal("function", type(v)) end
      sched:step()  -- the saved state is a copy
      local opt2, sched2 = make(entry)
      opt2:load_state_dict(osd)
      sched2:load_state_dict(ssd)
      check_lrs(entry, sched2, opt2, 5)
      for e = 6, #entry.lrs - 1 do
        sched2:step()
        check_lrs(entry, sched2, opt2, e)
      end
    end)
  end

  it("takes positional arguments in PyTorch's order", function()
    local opt = two_groups()
    local s = lr_scheduler.StepLR(opt, 3, 0.5)
    assert.are.equal(3, s.step_size)
    assert.are.equal(0.5, s.gamma)
    assert.are.equal(0.1, lr_scheduler.StepLR(two_groups(), 3).gamma)
    local c = lr_scheduler.CosineAnnealingLR(two_groups(), 10, 0.01)
    assert.are.equal(10, c.T_max)
    assert.are.equal(0.01, c.eta_min)
    assert.are.equal(0.9, lr_scheduler.ExponentialLR(two_groups(), 0.9).gamma)
    local l = lr_scheduler.LambdaLR(two_groups(), {LAMBDAS.pow95, LAMBDAS.inv1p})
    l:step()
    assert.are.same({0.1 * 0.95, 0.02 / 2}, l:get_last_lr())
  end)

  it("step(epoch) jumps with the closed form", function()
    local opt = two_groups()
    local s = lr_scheduler.StepLR(opt, {step_size = 3, gamma = 0.5})
    s:step(7)
    assert.are.equal(7, s.last_epoch)
    assert.are.same({0.1 * 0.25, 0.02 * 0.25}, s:get_last_lr())
    local c = lr_scheduler.CosineAnnealingLR(two_groups(), {T_max = 4})
    c:step(2)
    assert.is_true(math.abs(c:get_last_lr()[1] - 0.05) < 1e-15)
  end)

  it("get_last_lr returns a copy; schedulers compose with manual changes", function()
    local opt = two_groups()
    local s = lr_scheduler.ExponentialLR(opt, {gamma = 0.5})
    s:get_last_lr()[1] = 99
    assert.are.equal(0.1, s:get_last_lr()[1])
    opt.param_groups[1].lr = 1.0  -- the recursive form starts from the current lr
    s:step()
    assert.are.equal(0.5, s:get_last_lr()[1])
    assert.are.equal(0.1, opt.param_groups[1].initial_lr)
  end)

  it("raises errors naming the scheduler and the option", function()
    local opt = two_groups()
    assert_error("lr_scheduler.StepLR: step_size is required", lr_scheduler.StepLR, opt)
    assert_error("lr_scheduler.StepLR: invalid step_size: 0 (expected step_size > 0)",
      lr_scheduler.StepLR, opt, {step_size = 0})
    assert_error("lr_scheduler.StepLR: step_size must be an integer, got 1.5",
      lr_scheduler.StepLR, opt, 1.5)
    assert_error("lr_scheduler.StepLR: unknown option 'gama'", lr_scheduler.StepLR, opt,
      {step_size = 2, gama = 0.5})
    assert_error("lr_scheduler.ExponentialLR: gamma must be a number, got string",
      lr_scheduler.ExponentialLR, opt, {gamma = "0.5"})
    assert_error("lr_scheduler.CosineAnnealingLR: invalid T_max: 0 (expected T_max > 0)",
      lr_scheduler.CosineAnnealingLR, opt, {T_max = 0})
    assert_error("lr_scheduler.LambdaLR: expected 2 lr_lambdas (one per group), got 1",
      lr_scheduler.LambdaLR, opt, {lr_lambda = {LAMBDAS.pow95}})
    assert_error("lr_scheduler.LambdaLR: lr_lambda must be a function or an array of functions",
      lr_scheduler.LambdaLR, opt, {lr_lambda = 3})
    assert_error("lr_scheduler.StepLR: expected an optimizer (with param_groups), got nil",
      lr_scheduler.StepLR, nil, 3)
    assert_error("lr_scheduler.StepLR: param_groups[1] has no initial_lr (needed to resume at last_epoch = 4)",
      lr_scheduler.StepLR, two_groups(), {step_size = 3, last_epoch = 4})
    local s = lr_scheduler.StepLR(two_groups(), 3)
    assert_error("lr_scheduler.StepLR:load_state_dict: unexpected keys 'T_max', 'eta_min'", s.load_state_dict, s,
      lr_scheduler.CosineAnnealingLR(two_groups(), 3):state_dict())
    -- a table of many keys (a module handed over by mistake) names the first eight
    local many = {}
    for i = 1, 30 do many[string.format("k%02d", i)] = i end
    assert_error("lr_scheduler.StepLR:load_state_dict: unexpected keys 'k01', 'k02', 'k03', 'k04', 'k05', "
      .. "'k06', 'k07', 'k08', ... (30 in all)", s.load_state_dict, s, many)
  end)
end)

describe("nn.utils clipping against PyTorch", function()
  local function setup(entry)
    local params = {}
    for i, g in ipairs(fixtures.clip_grads) do
      params[i] = lucid.zeros(g.shape, {requires_grad = true, dtype = "float64"})
      if entry.has_grad[i] then params[i].grad = H.tensor(g) end
    end
    return params
  end

  for _, entry in ipairs(fixtures.clip) do
    it(entry.name, function()
      local params = setup(entry)
      local target = entry.single and params[1] or params
      if entry.fn == "clip_grad_norm_" then
        local total = nn_utils.clip_grad_norm_(target, entry.max_norm, entry.norm_type)
        assert.is_number(total)
        assert.is_true(math.abs(total - entry.total_norm) <= 1e-12 * entry.total_norm,
          string.format("total norm %.17g, PyTorch %.17g", total, entry.total_norm))
      else
        nn_utils.clip_grad_value_(target, entry.clip_value)
      end
      for i, g in ipairs(entry.grads) do
        if g == false then
          assert.is_nil(params[i].grad)
        else
          H.assert_close(params[i].grad, g, 1e-12, 1e-15, entry.name .. ": grad " .. i)
        end
      end
    end)
  end

  it("takes a trailing options table, and 'inf'", function()
    local p = lucid.zeros(3, {requires_grad = true, dtype = "float64"})
    p.grad = lucid.tensor({3.0, -4.0, 0.0}, {dtype = "float64"})
    assert.are.equal(4, nn_utils.clip_grad_norm_({p}, {max_norm = 10, norm_type = "inf"}))
    assert.are.equal(5, nn_utils.clip_grad_norm_(p, {max_norm = 10}))
    assert.are.equal(0, nn_utils.clip_grad_norm_({lucid.zeros(2)}, 1.0))  -- no gradients
  end)

  it("raises errors naming the function", function()
    local p = lucid.zeros(3, {requires_grad = true})
    assert_error("nn.utils.clip_grad_norm_: max_norm must be a number, got nil", nn_utils.clip_grad_norm_, {p})
    assert_error("nn.utils.clip_grad_norm_: invalid max_norm: -1 (expected max_norm >= 0)",
      nn_utils.clip_grad_norm_, {p}, -1)
    assert_error("nn.utils.clip_grad_norm_: invalid norm_type: 0 (expected a number > 0 or math.huge)",
      nn_utils.clip_grad_norm_, {p}, 1, 0)
    assert_error("nn.utils.clip_grad_norm_: parameters[2] is a number, expected a tensor",
      nn_utils.clip_grad_norm_, {p, 1}, 1)
    assert_error("nn.utils.clip_grad_norm_: parameters must be a tensor or an array of tensors, got string",
      nn_utils.clip_grad_norm_, "p", 1)
    assert_error("nn.utils.clip_grad_norm_: unknown option 'max'", nn_utils.clip_grad_norm_, {p}, {max = 1})
    p.grad = lucid.tensor({1 / 0, 1, 1})
    assert_error("nn.utils.clip_grad_norm_: the total norm of order 2 of the gradients is non-finite",
      nn_utils.clip_grad_norm_, {p}, 1, 2, true)
    assert_error("nn.utils.clip_grad_value_: invalid clip_value: -1 (expected clip_value >= 0)",
      nn_utils.clip_grad_value_, {p}, -1)
  end)
end)

describe("optim: hostile arguments", function()
  local function params()
    local w = lucid.ones(2, {requires_grad = true})
    return {w}
  end

  it("step refuses a closure that is not a function", function()
    local opt = optim.SGD(params(), 0.1)
    assert_error("optim.SGD:step: closure must be a function (or nil), got number", opt.step, opt, 5)
    assert_error("optim.Adam:step: closure must be a function (or nil), got string",
      optim.Adam(params()).step, optim.Adam(params()), "x")
    assert.is_true(lucid.is_grad_enabled())
  end)

  it("a scheduler's step refuses a cyclic table as the epoch", function()
    local opt = optim.SGD(params(), 0.1)
    local s = lr_scheduler.StepLR(opt, 2)
    local cyc = {}
    cyc[1] = cyc
    assert_error("lr_scheduler.StepLR:step: epoch must be an integer, got {{...}}", s.step, s, cyc)
    assert_error("lr_scheduler.StepLR:step: epoch must be an integer, got x", s.step, s, "x")
    s:step()
    assert.are.equal(1, s.last_epoch)
  end)

  it("a scheduler's load_state_dict checks the required keys and their values", function()
    local opt = optim.SGD(params(), 0.1)
    local s = lr_scheduler.StepLR(opt, 2)
    assert_error("lr_scheduler.StepLR:load_state_dict: missing keys 'base_lrs', 'last_epoch'",
      s.load_state_dict, s, {})
    local sd = s:state_dict()
    sd.base_lrs = {"x"}
    assert_error("lr_scheduler.StepLR:load_state_dict: base_lrs[1] is a string, expected a number",
      s.load_state_dict, s, sd)
    sd = s:state_dict()
    sd.last_epoch = 1.5
    assert_error("lr_scheduler.StepLR:load_state_dict: last_epoch must be an integer, got 1.5",
      s.load_state_dict, s, sd)
    s:load_state_dict(s:state_dict())
    s:step()
    assert.are.equal(1, s.last_epoch)
  end)
end)
