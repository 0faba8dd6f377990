-- The op registry (core/*.def) is the only way ops are defined: every op it
-- lists must be reachable from Lua, say how it is differentiated (or why it
-- is not), have a PyTorch fixture and be named in the README. An op added to
-- a .def file without the rest of its way fails here, by name.
local lucid = require("lucid")
local C = require("lucid.core")

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- Every `op = "<name>"` of the fixture files (dtypes: the integer-only ops).
local function fixture_ops()
  local seen = {}
  for _, family in ipairs({"core_ops", "elementwise", "reduce", "shape", "index", "sort", "dtypes",
                           "linalg", "attn", "pool", "conv", "train", "rnn"}) do
    for name in read("tests/fixtures/" .. family .. ".lua"):gmatch('%f[%w_]op = "([%w_]+)"') do
      seen[name] = true
    end
  end
  return seen
end

-- The identifiers inside `code spans` of the README's "The API in brief",
-- and the paragraphs there with an odd number of backticks (an unclosed span
-- pairs every later backtick the wrong way round, so that prose would count
-- as code and code as prose).
local function readme_names()
  local text = read("README.md")
  local from = assert(text:find("\n## The API in brief", 1, true))
  local to = text:find("\n## ", from + 1, true) or #text
  local seen, unpaired = {}, {}
  -- fenced code blocks out first: their ``` are not spans
  local section = text:sub(from, to):gsub("\n```.-\n```", "")
  for para in (section .. "\n\n"):gmatch("(.-)\n\n+") do
    local _, ticks = para:gsub("`", "")
    if ticks % 2 == 1 then unpaired[#unpaired + 1] = para:sub(1, 80) end
    for span in para:gmatch("`([^`]+)`") do
      for word in span:gmatch("[%a_][%w_]*") do seen[word] = true end
    end
  end
  return seen, unpaired
end

describe("the op registry", function()
  local ops = C._ops()

  it("lists the core's ops, each once", function()
    assert.is_true(#ops >= 80)
    local names = {}
    for _, op in ipairs(ops) do
      assert.is_nil(names[op.name], "listed twice: " .. op.name)
      names[op.name] = true
      assert.is_truthy(({elementwise = 1, reduce = 1, shape = 1, linalg = 1, attention = 1,
                         pool = 1, conv = 1, loss = 1, rnn = 1})[op.family],
        op.name .. ": unknown family " .. tostring(op.family))
    end
  end)

  it("gives every op a forward reachable from Lua", function()
    local methods = C._methods
    for _, op in ipairs(ops) do
      -- torch.linalg's ops live in lucid.linalg, as there, pools and convolutions in lucid.nn.functional
      local f = lucid[op.name] or methods[op.name] or (op.family == "linalg" and lucid.linalg[op.name])
        or ((op.family == "pool" or op.family == "conv") and lucid.nn.functional[op.name])
      assert.is_function(f, op.name .. ": no lucid." .. op.name .. ", lucid.linalg." .. op.name
        .. " nor Tensor:" .. op.name)
    end
  end)

  it("gives every op a backward or the reason it has none", function()
    for _, op in ipairs(ops) do
      local has_bw, has_reason = op.backward ~= nil, op.nondiff ~= nil
      assert.is_true(has_bw ~= has_reason,
        op.name .. ": needs exactly one of a backward and a reason it has none")
      if has_bw then assert.is_truthy(op.backward:match("Backward$"), op.name) end
      if has_reason then assert.is_true(#op.nondiff > 10, op.name .. ": say why") end
    end
  end)

  it("records the backward it names", function()
    -- one differentiable op per family, called for real
    local x = lucid.randn(3, 4, {dtype = "float64", requires_grad = true})
    local by_name = {}
    for _, op in ipairs(ops) do by_name[op.name] = op end
    assert.are.equal(by_name.exp.backward, lucid.exp(x).grad_fn)
    assert.are.equal(by_name.sum.backward, x:sum(2).grad_fn)
    assert.are.equal(by_name.transpose.backward, x:transpose(1, 2).grad_fn)
    assert.are.equal(by_name.matmul.backward, lucid.matmul(x, x:t()).grad_fn)
    local sq = x:narrow(2, 1, 3)
    assert.are.equal(by_name.inv.backward, lucid.linalg.inv(sq).grad_fn)
    assert.are.equal("LinalgInvBackward", by_name.inv.backward)
    local lp = x:reshape(3, 1, 4)
    assert.are.equal(by_name.ctc_loss.backward,
      lucid.ctc_loss(lp, lucid.tensor({{2}}, {dtype = "int64"}), {3}, {1}, {reduction = "none"}).grad_fn)
    assert.is_nil(x:gt(0).grad_fn)
    assert.is_truthy(by_name.gt.nondiff)
  end)

  it("has a PyTorch fixture for every op", function()
    local fx = fixture_ops()
    local missing = {}
    for _, op in ipairs(ops) do
      if not fx[op.name] then missing[#missing + 1] = op.name end
    end
    assert.are.same({}, missing)
  end)

  it("names every op in the README, in a code span", function()
    local names, unpaired = readme_names()
    assert.are.same({}, unpaired)
    local missing = {}
    for _, op in ipairs(ops) do
      if not names[op.name] then missing[#missing + 1] = op.name end
    end
    assert.are.same({}, missing)
  end)
end)
