-- help()'s texts come from the LDoc comments beside the code (the files
-- scripts/config.ld lists) through scripts/help_extract.lua; `make doc` builds
-- the HTML reference from the same comments. These check that the generated
-- lua/lucid/_helpdata.lua is current and that everything the library exports
-- has an entry.
local lucid = require("lucid")
local nn = require("lucid.nn")
local optim = require("lucid.optim")
local C = require("lucid.core")
local extract = dofile("scripts/help_extract.lua")
local help = require("lucid.help")

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- public names of a table: string keys not starting with "_"
local function public(t, want)
  local out = {}
  for k, v in pairs(t) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" and want(k, v) then out[#out + 1] = k end
  end
  table.sort(out)
  return out
end

local function missing(names, prefix, extra_prefixes)
  local out = {}
  for _, k in ipairs(names) do
    local found = help.entries[prefix .. k] ~= nil
    for _, p in ipairs(extra_prefixes or {}) do found = found or help.entries[p .. k] ~= nil end
    if not found then out[#out + 1] = prefix .. k end
  end
  return out
end

local function is_class(_, v)
  return type(v) == "table" and (rawget(v, "__index") ~= nil or getmetatable(v) ~= nil)
end

describe("help data", function()
  it("is what scripts/help_extract.lua makes of the comments (run `make helpdata`)", function()
    assert.are.equal(extract.generate(), read("lua/lucid/_helpdata.lua"))
  end)

  it("has a usage line and a text for every entry, under a section", function()
    local entries = extract.entries()
    assert.is_true(#entries > 150)
    for _, e in ipairs(entries) do
      assert.is_true(#e.usage > 0, e.name .. ": usage")
      assert.is_true(#e.text > 0, e.name .. ": text")
      assert.is_true(#e.section > 0, e.name .. ": section")
    end
  end)

  it("names each entry once", function()
    local seen = {}
    for _, e in ipairs(extract.entries()) do
      for _, n in ipairs({e.name, unpack and unpack(e.also) or table.unpack(e.also)}) do
        assert.is_nil(seen[n], "two entries for " .. n)
        seen[n] = true
      end
    end
  end)

  it("lists Overview first and every entry under one of help()'s topics", function()
    assert.are.equal("Overview", help.sections[1].title)
    local listed = {}
    for _, s in ipairs(help.sections) do
      for _, n in ipairs(s.names) do listed[n] = true end
    end
    for _, e in ipairs(extract.entries()) do assert.is_true(listed[e.name], e.name) end
  end)
end)

describe("help covers what the library exports", function()
  -- the entry a schema's or a C function's name goes by
  local function entry_of(fname)
    return help.entries[fname] or help.entries[(fname:gsub("^lucid%.nn%.", "nn."))]
      or help.entries[(fname:gsub("^lucid%.optim%.", "optim."))] or help.entries["optim." .. fname]
  end
  local function undocumented_options(fname, names, out)
    local e = entry_of(fname)
    if not e then out[#out + 1] = fname .. ": no entry" return end
    local doc = e.usage .. " " .. e.text
    for _, name in ipairs(names) do
      if not doc:find(name, 1, true) then out[#out + 1] = fname .. ": " .. name end
    end
  end

  it("names every option of every Lua schema and C function", function()
    local args = require("lucid._args")
    local out = {}
    for fname, schema in pairs(args.schemas) do undocumented_options(fname, schema.names, out) end
    for name, names in pairs(C._options) do
      if name:sub(1, 1) ~= "_" then undocumented_options("lucid." .. name, names, out) end
    end
    for name, names in pairs(lucid.linalg._options) do
      undocumented_options("lucid.linalg." .. name, names, out)
    end
    table.sort(out)
    assert.are.same({}, out)
  end)

  it("every lucid.* function", function()
    assert.are.same({}, missing(public(lucid, function(_, v) return type(v) == "function" end), "lucid."))
  end)

  it("every tensor method (as lucid.f or Tensor.f)", function()
    local methods = public(C._methods, function(_, v) return type(v) == "function" end)
    assert.are.same({}, missing(methods, "lucid.", {"Tensor."}))
  end)

  it("every nn class and nn.functional, nn.init and nn.utils function", function()
    assert.are.same({}, missing(public(nn, is_class), "nn."))
    assert.are.same({}, missing(public(nn.functional, function(_, v) return type(v) == "function" end),
      "nn.functional."))
    assert.are.same({}, missing(public(nn.init, function(_, v) return type(v) == "function" end), "nn.init."))
    assert.are.same({}, missing(public(nn.utils, function(_, v) return type(v) == "function" end), "nn.utils."))
  end)

  it("every nn.Module method", function()
    assert.are.same({}, missing(public(nn.Module, function(_, v) return type(v) == "function" end), "nn.Module:",
      {"nn.Module."}))
  end)

  it("every optimizer, scheduler and Optimizer method", function()
    assert.are.same({}, missing(public(optim, is_class), "optim."))
    assert.are.same({}, missing(public(optim.lr_scheduler, is_class), "optim.lr_scheduler."))
    assert.are.same({}, missing(public(optim.Optimizer, function(_, v) return type(v) == "function" end),
      "optim.Optimizer:", {"optim.Optimizer."}))
  end)

  it("every function the REPL's help() can be given (by its own naming)", function()
    assert.are.same({}, require("lucid.repl").undocumented())
  end)

  it("every lucid.linalg function", function()
    local fns = public(lucid.linalg, function(_, v) return type(v) == "function" end)
    assert.is_true(#fns >= 12)
    assert.are.same({}, missing(fns, "lucid.linalg."))
  end)

  it("every lucid.autograd and lucid.data function or class", function()
    local any = function(_, v) return type(v) == "function" or is_class(_, v) end
    assert.are.same({}, missing(public(lucid.autograd, any), "lucid.autograd."))
    assert.are.same({}, missing(public(require("lucid.data"), any), "lucid.data."))
  end)
end)
