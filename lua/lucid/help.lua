--- lucid.help: the texts help() prints in the `lucid` REPL (lucid/repl.lua),
-- shaped for lookup. The words live in LDoc comments beside the code;
-- scripts/help_extract.lua copies them into lucid/_helpdata.lua, the same
-- comments `make doc` turns into the HTML reference.
-- entries[name] = {usage =, text =} for every name an entry covers (its @also
-- and @aka names too); sections = {{title =, names = {...}}, ...} lists the
-- topics in order, Overview first, without the @aka names.
local data = require("lucid._helpdata")

local sections, entries, by_title = {}, {}, {}

local function section_of(title)
  local s = by_title[title]
  if not s then
    s = {title = title, names = {}}
    by_title[title] = s
    if title == "Overview" then table.insert(sections, 1, s) else sections[#sections + 1] = s end
  end
  return s
end

for _, e in ipairs(data) do
  local entry = {usage = e.usage, text = e.text}
  local s = section_of(e.section)
  s.names[#s.names + 1] = e.name
  entries[e.name] = entry
  for _, n in ipairs(e.also) do
    s.names[#s.names + 1] = n
    entries[n] = entry
  end
  for _, n in ipairs(e.aka) do entries[n] = entry end
  -- a class's function (nn.Module.is_module) goes by the method form too, the
  -- name the REPL gives the values it finds in a class
  local class, member = e.name:match("^(.*%.%u[%w_]*)%.([%a_][%w_]*)$")
  if class and entries[class .. ":" .. member] == nil then entries[class .. ":" .. member] = entry end
end

-- The in-place forms made from the ops (lucid/inplace.lua: t:abs_(), ...)
-- share one entry, found through their op's: lucid.abs_ is there when
-- lucid.abs is and the tensor method abs_ exists.
local generic = entries["lucid.exp_"]
setmetatable(entries, {__index = function(_, k)
  local prefix, member = tostring(k):match("^(%a+%.)([%w_]+)_$")
  if not member or (prefix ~= "lucid." and prefix ~= "Tensor.") then return nil end
  local methods = require("lucid.core")._methods
  if methods[member .. "_"] and (rawget(entries, "lucid." .. member) or rawget(entries, "Tensor." .. member)) then
    return generic
  end
end})

return {sections = sections, entries = entries}
