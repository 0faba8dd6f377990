--- lucid._load: loading a package that its own submodules require back.
-- (Internal; used by lucid, lucid.nn and lucid.optim.)

-- Runs body (the rest of this file) with package.loaded[name] = mod already
-- set, so that submodules can require it back (circular requires). If body
-- raises, name and every lucid module loaded meanwhile are forgotten before
-- the error goes on, so that the next require starts afresh instead of
-- returning a half-filled table (or submodules holding one). Everything that
-- can fail to allocate is made before package.loaded changes.
local function load_guarded(name, mod, body)
  local before = {}
  for k in pairs(package.loaded) do before[k] = true end
  package.loaded[name] = mod
  local ok, err = pcall(body)
  if not ok then
    for k in next, package.loaded do  -- clearing fields while traversing is allowed
      if not before[k] and type(k) == "string" and k ~= "lucid.core"
          and (k == "lucid" or k:find("^lucid%.")) then
        package.loaded[k] = nil
      end
    end
    package.loaded[name] = nil
    error(err, 0)
  end
  return mod
end

return load_guarded
