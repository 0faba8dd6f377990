-- oom_load.lua: the first script of the allocation-failure sweep
-- (tests/reliability/oom_sweep.c; see oom_script.lua for the contract):
-- loading the library, nn (with a few layers, which load on first use),
-- optim and serialize. A failure anywhere in loading must leave nothing
-- half-loaded: the same state loads again and works. The other two scripts
-- are swept with --warm (the library loaded first): a sweep costs the
-- square of a script's allocations, and loading is most of them.
local lucid = require("lucid")
local nn = require("lucid.nn")
local optim = require("lucid.optim")
require("lucid.serialize")
local model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Conv1d(3, 1, 1))
local names = 0
for _ in pairs(lucid) do names = names + 1 end
local opt = optim.SGD(model:parameters(), {lr = 0.1})
return string.format("%d %d %s", names, #model:parameters(), tostring(opt.param_groups[1].lr))
