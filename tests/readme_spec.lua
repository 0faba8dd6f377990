-- The README's examples run as printed: the first Lua block of a section is
-- extracted (scripts/readme_block.lua) and run in a fresh interpreter, in a
-- temporary folder, by the Lua running the specs and its build of the module
-- (the examples are for every Lua). (make ctest compiles and runs the C host
-- example.)
local H = dofile("tests/helpers.lua")

local function block(section, lang)
  -- the extractor is one of the build's tools, which are Lua 5.4 programs (TOOL_LUA)
  local code, ok = H.capture(string.format('lua5.4 scripts/readme_block.lua README.md "%s" %s', section, lang))
  assert(ok, "no " .. lang .. " block in README section " .. section)
  return code
end

local function run_lua(code)
  local dir = os.tmpname()
  os.remove(dir)
  assert(H.execute("mkdir -p " .. dir))
  local path = dir .. "/example.lua"
  local f = assert(io.open(path, "w"))
  f:write(code)
  f:close()
  local root = os.getenv("PWD")
  local env = string.format('LUA_PATH="%s/lua/?.lua;%s/lua/?/init.lua;;" LUA_CPATH="%s/%s/?.so;;"',
    root, root, root, H.build_dir)
  local out, ok = H.capture(string.format("cd %s && %s %s example.lua 2>&1", dir, env, H.lua_name))
  os.execute("rm -rf " .. dir)
  return ok, out
end

describe("README", function()
  it("Example runs and prints what it says", function()
    local ok, out = run_lua(block("Example", "lua"))
    assert.is_true(ok, out)
    assert.truthy(out:find("Tensor([[-0.7616,  0.0000,  0.7616,  0.9640]], grad=nil)", 1, true), out)
    assert.truthy(out:find("Tensor([[0.4200, 1.0000, 0.4200, 0.0707]])", 1, true), out)
    assert.truthy(out:find("(fc1): Linear(in_features=4, out_features=8, bias=true)", 1, true), out)
  end)

  it("Compiled models runs and matches the model", function()
    local ok, out = run_lua(block("Compiled models", "lua"))
    assert.is_true(ok, out)
    assert.are.equal("Linear+Tanh Linear+Tanh\ntrue\n", out)
  end)

  it("Train a model reaches its accuracy with int64 class targets and saves its weights", function()
    -- (the block's locals are in scope after it: a line appended reads them)
    local ok, out = run_lua(block("Train a model", "lua") .. '\nprint("targets", y.dtype, pred.dtype)\n')
    assert.is_true(ok, out)
    local acc = tonumber(out:match("accuracy%s+([%d.]+)"))
    assert.is_true(acc and acc >= 0.95, out)
    assert.truthy(out:find("targets\tint64\tint64", 1, true), out)
  end)
end)
