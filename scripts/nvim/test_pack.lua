-- The second headless check (`make nvim-test`): the plugin installed as a
-- Neovim package (`make nvim-pack`), away from the checkout, where Neovim's
-- own loader finds lua/lucid/*.lua and lua/lucid/core.so on 'runtimepath'.
-- Writes one line to $LUCID_NVIM_OUT: where lucid.core came from, and a value.
local out_path = assert(os.getenv("LUCID_NVIM_OUT"), "LUCID_NVIM_OUT not set")
local ok, err = pcall(function()
  vim.cmd("packloadall")   -- -u NONE loads no packages itself
  local shown = vim.api.nvim_exec("LucidEval lucid.arange(4):reshape(2, 2):float():mean()", true)
  local core = vim.api.nvim_get_runtime_file("lua/lucid/core.so", false)[1] or "none"
  -- the plugin adds a checkout's build/luajit/ to package.cpath, only there
  local from_checkout = package.cpath:find("/build/luajit/", 1, true)
  vim.fn.writefile({string.format("lucid-nvim-pack: core=%s\tpaths=%s\teval=%s", core,
    from_checkout and "checkout" or "untouched", (shown:gsub("\n", " | ")))}, out_path)
end)
if not ok then
  vim.fn.writefile({"lucid-nvim-pack: failed: " .. tostring(err)}, out_path)
  vim.cmd("cquit 1")
end
