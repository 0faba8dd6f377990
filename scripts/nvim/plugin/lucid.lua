-- The commands of lucid_nvim (lua/lucid_nvim.lua); the library loads on
-- first use, so starting Neovim costs nothing.
if vim.g.loaded_lucid then return end
vim.g.loaded_lucid = true

vim.api.nvim_create_user_command("LucidTrain", function(cmd)
  require("lucid_nvim").train_command(cmd.fargs)
end, {nargs = "*", desc = "lucid: fit sin(x) with a small MLP; loss and plot in a scratch buffer"})

vim.api.nvim_create_user_command("LucidEval", function(cmd)
  require("lucid_nvim").eval_command(cmd.args)
end, {nargs = "+", complete = "lua", desc = "lucid: evaluate a Lua expression with lucid, nn, optim in scope"})
