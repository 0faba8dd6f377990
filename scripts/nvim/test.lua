-- The headless check of the plugin (scripts/nvim/nvim.mk, `make nvim-test`):
-- runs :LucidTrain and :LucidEval as a user would, with vim.notify recorded,
-- and writes one result line and the training buffer to $LUCID_NVIM_OUT
-- (the make rule judges the numbers). Any failure here quits with status 1.
local out_path = assert(os.getenv("LUCID_NVIM_OUT"), "LUCID_NVIM_OUT not set")
local steps = tonumber(os.getenv("LUCID_NVIM_STEPS") or "400")

local notes = {}
vim.notify = function(msg, level) notes[#notes + 1] = {msg = msg, level = level} end
local function last_error()
  local n = notes[#notes]
  notes = {}
  return n and n.level == vim.log.levels.ERROR and n.msg or "none"
end
local function one_line(s) return (tostring(s):gsub("%s*\n%s*", " | ")) end

local function run()
  vim.cmd("runtime! plugin/lucid.lua")   -- -u NONE loads no plugins itself
  local result = {}

  -- an editor timer, to see that the loop runs between training chunks
  local ticks, ticks_at_start = 0, nil
  local timer = vim.loop.new_timer()
  timer:start(1, 1, vim.schedule_wrap(function() ticks = ticks + 1 end))

  vim.cmd("LucidTrain steps=" .. steps)
  local job = assert(require("lucid_nvim").last_job, "LucidTrain started no job: " .. last_error())
  local finished = vim.wait(120000, function()
    if job.step > 0 and not ticks_at_start then ticks_at_start = ticks end
    return job.done
  end, 1)
  timer:stop()
  timer:close()
  assert(finished, "training did not finish in 120 s")
  assert(not job.error, job.error)
  result[#result + 1] = string.format("steps=%d\tloss_first=%.6f\tloss_last=%.6f\tchunks=%d\tmax_chunk_ms=%.1f\tticks=%d",
    job.step, job.loss_first, job.loss_last, job.chunks, job.max_chunk_ms, ticks - (ticks_at_start or ticks))
  local lines = vim.api.nvim_buf_get_lines(job.buf, 0, -1, false)

  -- wiping the buffer stops a training run between chunks
  vim.cmd("LucidTrain steps=100000 chunk=5")
  local long = require("lucid_nvim").last_job
  assert(long ~= job, "the second LucidTrain started no job: " .. last_error())
  vim.wait(10000, function() return long.step >= 10 end, 1)
  vim.cmd("bwipeout! " .. long.buf)
  assert(vim.wait(10000, function() return long.done end, 1), "wiping the buffer did not stop training")
  result[#result + 1] = string.format("stopped_at=%d", long.step)

  -- :LucidEval echoes the value as lucid prints it
  local shown = vim.api.nvim_exec("LucidEval lucid.tensor({{1, 2}, {3, 4}}):sum()", true)
  result[#result + 1] = "eval=" .. one_line(shown)
  -- a lucid error: reported with lucid's text, the editor carries on
  vim.cmd("LucidEval lucid.zeros(2, 3) + lucid.zeros(4)")
  result[#result + 1] = "eval_error=" .. one_line(last_error())
  vim.cmd("LucidTrain lr=-1")
  result[#result + 1] = "train_error=" .. one_line(last_error())
  vim.cmd("LucidTrain speed=3")
  result[#result + 1] = "option_error=" .. one_line(last_error())
  -- still working: state kept between evaluations, the editor's own API
  vim.cmd("LucidEval w = lucid.ones(3) * 2")
  local after = vim.api.nvim_exec("LucidEval w:sum():item() + vim.fn.eval('1 + 1')", true)
  result[#result + 1] = "after=" .. one_line(after)

  local out = {"lucid-nvim: " .. table.concat(result, "\t")}
  for _, l in ipairs(lines) do out[#out + 1] = l end
  vim.fn.writefile(out, out_path)
end

local ok, err = pcall(run)
if not ok then
  vim.fn.writefile({"lucid-nvim: failed: " .. one_line(err)}, out_path)
  vim.cmd("cquit 1")
end
