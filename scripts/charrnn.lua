-- charrnn.lua: a character-level language model (an LSTM, or a GRU with
-- --model gru) learns a text file, checkpoints itself, resumes, and writes
-- text in the style of what it read.
--
-- What it shows: nn.LSTM / nn.GRU with batch_first inputs and their state
-- carried from one call to the next (sampling one character at a time),
-- nn.Embedding on 1-based indices, nn.CrossEntropyLoss over every step of
-- every sequence, gradient clipping (nn.utils.clip_grad_norm_), Adam, a
-- progress bar, and a checkpoint in safetensors (the weights, the step and
-- the vocabulary) that --resume continues from (Adam's moments start afresh). Sampling divides the logits
-- by --temperature (lower: safer, more repetitive text) and draws with
-- lucid.multinomial, after reading --prime to set the state.
--
-- The default text is the GNU GPL version 3, which Debian installs on every
-- system (base-files: /usr/share/common-licenses/GPL-3); any text file works.
--
-- Run it from the checkout (after `make`):
--   LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;" lua5.4 scripts/charrnn.lua
-- or, with lucid installed (`make install`), just `lua5.4 scripts/charrnn.lua`.
--
-- Writes DIR/charrnn.safetensors and DIR/charrnn_loss.svg (the loss of each
-- step of this run). Exits with status 1 if the loss does not
-- fall below 85% of the uniform guess's (ln of the vocabulary size).
local lucid = require("lucid")
local nn = lucid.nn

package.path = ((arg and arg[0] or ""):match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
local example = require("example_common")
local svg = require("svg")

-- ---------------------------------------------------------------------------
-- options

local USAGE = [[
usage: lua5.4 scripts/charrnn.lua [options]
  --file PATH        the text to learn (default /usr/share/common-licenses/GPL-3)
  --chars N          use only its first N characters (default 0: all)
  --model NAME       lstm or gru (default lstm)
  --hidden N         hidden size (default 128)
  --layers N         recurrent layers (default 1)
  --embed N          embedding size (default 32)
  --seq N            characters per training sequence (default 64)
  --batch N          sequences per step (default 32)
  --steps N          training steps in this run (default 500)
  --lr X             Adam's learning rate (default 0.003)
  --temperature X    sampling temperature (default 0.8)
  --prime TEXT       what the sample starts with (default "The ")
  --sample N         characters to generate (default 300)
  --seed N           random seed (default 0)
  --out DIR          where charrnn.safetensors goes (default ./out)
  --resume           continue from DIR/charrnn.safetensors
]]

-- --resume takes no value: read it before the others
local argv, resume = {}, false
for _, a in ipairs(arg or {}) do
  if a == "--resume" then resume = true else argv[#argv + 1] = a end
end
local opts = example.parse_args(argv, {file = "/usr/share/common-licenses/GPL-3", chars = 0,
  model = "lstm", hidden = 128, layers = 1, embed = 32, seq = 64, batch = 32, steps = 500,
  lr = 0.003, temperature = 0.8, prime = "The ", sample = 300, seed = 0, out = "out"}, USAGE,
  "charrnn.lua")
if opts.model ~= "lstm" and opts.model ~= "gru" then
  io.stderr:write("charrnn.lua: --model must be lstm or gru, got '", opts.model, "'\n")
  os.exit(2)
end
example.mkdir(opts.out)
lucid.manual_seed(opts.seed)
local CKPT = opts.out .. "/charrnn.safetensors"

-- ---------------------------------------------------------------------------
-- data: the text as 1-based indices into its sorted set of bytes

local f = io.open(opts.file, "rb")
if not f then
  io.stderr:write("charrnn.lua: cannot read ", opts.file, " (give a text file with --file)\n")
  os.exit(2)
end
local text = f:read("*a")
f:close()
if opts.chars > 0 then text = text:sub(1, example.int(opts.chars)) end
local SEQ, BATCH = example.int(opts.seq), example.int(opts.batch)
if #text < SEQ + 2 then
  io.stderr:write("charrnn.lua: the text is shorter than a training sequence\n")
  os.exit(2)
end

-- the vocabulary: the bytes of the text, or the checkpoint's when resuming
local bytes
local saved
if resume then
  local sd = example.load_or_exit(CKPT, "charrnn.lua", "--resume: ")
  saved = sd
  bytes = sd._vocab:tolist()
else
  local seen = {}
  for i = 1, #text do seen[text:byte(i)] = true end
  bytes = {}
  for b = 0, 255 do if seen[b] then bytes[#bytes + 1] = b end end
end
local index = {}
for i, b in ipairs(bytes) do index[b] = i end
local V = #bytes
local codes = {}
for i = 1, #text do
  codes[i] = index[text:byte(i)] or 1   -- a byte the checkpoint's vocabulary lacks reads as its first
end
local data = lucid.tensor(codes, {dtype = "int64"})
print(string.format("text: %s, %d characters, vocabulary of %d", opts.file, #text, V))

-- ---------------------------------------------------------------------------
-- the model: embedding -> LSTM or GRU -> a linear layer to the vocabulary

local CharRNN = nn.Module:extend("CharRNN")

function CharRNN:__init(vocab, embed, hidden, layers, kind)
  self.embed = nn.Embedding(vocab, embed)
  local Recurrent = kind == "gru" and nn.GRU or nn.LSTM
  self.rnn = Recurrent(embed, hidden, {num_layers = layers, batch_first = true})
  self.head = nn.Linear(hidden, vocab)
end

-- idx (B, L) int64 -> logits (B, L, vocab) and the recurrent state after it
function CharRNN:forward(idx, state)
  local out, new_state = self.rnn(self.embed(idx), state)
  return self.head(out), new_state
end

local function make_model()
  return CharRNN(V, example.int(opts.embed), example.int(opts.hidden), example.int(opts.layers),
    opts.model)
end

local model = make_model()
local start = 0
if saved then
  start = example.int(saved._step:item())
  saved._step, saved._vocab = nil, nil
  model:load_state_dict(saved)
  print(string.format("resumed from %s at step %d", CKPT, start))
end
print(model)

local loss_fn = nn.CrossEntropyLoss()
local optimizer = lucid.optim.Adam(model:parameters(), {lr = opts.lr})

-- BATCH random windows of SEQ + 1 characters: inputs and next-character targets
local offsets = lucid.arange(0, SEQ + 1, {dtype = "int64"}):reshape(1, SEQ + 1)
local function batch()
  local starts = lucid.randint(1, #text - SEQ, {BATCH, 1})
  local win = data:index_select(1, (starts + offsets):reshape(-1)):reshape(BATCH, SEQ + 1)
  return win:narrow(2, 1, SEQ), win:narrow(2, 2, SEQ)
end

-- ---------------------------------------------------------------------------
-- training

local steps = example.int(opts.steps)
local uniform = math.log(V)
local first, last
local curve = {}                     -- the loss of each step of this run
local bar = lucid.progress(steps, {desc = "charrnn", unit = "step"})
for step in bar do
  local x, y = batch()
  optimizer:zero_grad()
  local logits = model(x)
  local loss = loss_fn(logits:reshape(BATCH * SEQ, V), y:reshape(-1))
  loss:backward()
  nn.utils.clip_grad_norm_(model:parameters(), 5)
  optimizer:step()
  last = loss:item()
  first = first or last
  curve[step] = last
  bar:set_postfix{loss = last}
  if example.log_step(step, steps) then
    bar:write(string.format("step %5d  loss %.4f  (%.3f bits per character)", start + step, last,
      last / math.log(2)))
  end
end
bar:close()
print(string.format("final loss: %.4f (uniform guess %.4f, first step %.4f)", last, uniform, first))

local sd = model:state_dict()
sd._step = lucid.tensor({start + steps}, {dtype = "int64"})
sd._vocab = lucid.tensor(bytes, {dtype = "int64"})
lucid.save(sd, CKPT)
print(string.format("checkpoint: %s (step %d)", CKPT, start + steps))

-- the loss curve, against the step count since the first run's start
local xs, highest = {}, uniform
for i = 1, #curve do xs[i], highest = start + i, math.max(highest, curve[i]) end
local doc = svg.new(520, 360, {title = "char-rnn: training loss per step"})
local ax = doc:axes({x = 70, y = 36, width = 420, height = 270}, {
  xlim = {start, start + steps}, ylim = {0, highest * 1.05}, xlabel = "step",
  ylabel = "cross-entropy per character",
  title = string.format("charrnn (%s): loss %.3f after %d steps", opts.model, last, start + steps)})
ax:line({start, start + steps}, {uniform, uniform}, {stroke = "#999999", stroke_dasharray = "4 3",
  class = "uniform"})
ax:line(xs, curve, {stroke = "#377eb8", class = "loss"})
ax:legend({{label = "loss", color = "#377eb8"}, {label = "uniform guess (ln V)", color = "#999999"}}, "bottom left")
ax:frame()
print(string.format("loss curve: %s (%d steps)", doc:save(opts.out .. "/charrnn_loss.svg"), #curve))

-- ---------------------------------------------------------------------------
-- sampling: the prime sets the state, then one character at a time

model:eval()
local out = {}
lucid.no_grad(function()
  local prime = {}
  for i = 1, #opts.prime do prime[i] = index[opts.prime:byte(i)] or 1 end
  out[1] = opts.prime
  local logits, state = model(lucid.tensor({prime}, {dtype = "int64"}))
  local last_logits = logits[1][#prime]
  for _ = 1, example.int(opts.sample) do
    local probs = (last_logits / opts.temperature):softmax(1)
    local c = lucid.multinomial(probs, 1)[1]:item()
    out[#out + 1] = string.char(bytes[c])
    logits, state = model(lucid.tensor({{c}}, {dtype = "int64"}), state)
    last_logits = logits[1][1]
  end
end)
print(string.format("sample (temperature %g):", opts.temperature))
print(table.concat(out))

if not (last < 0.85 * uniform) then
  io.stderr:write(string.format("charrnn.lua: FAILED: the loss %.4f did not fall below 85%% of %.4f\n",
    last, uniform))
  os.exit(1)
end
