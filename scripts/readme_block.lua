-- Prints the first fenced code block of a README section, so tests can run
-- the examples exactly as the README shows them.
-- Usage: lua5.4 scripts/readme_block.lua README.md "Section title" lang
local path, section, lang = arg[1], arg[2], arg[3]
local f = assert(io.open(path))
local text = f:read("a")
f:close()
local start = text:find("\n## " .. section .. "\n", 1, true)
if not start then error("no section '" .. section .. "' in " .. path) end
local code = text:match("```" .. lang .. "\n(.-)\n```", start)
if not code then error("no " .. lang .. " block in section '" .. section .. "'") end
io.write(code, "\n")
