-- tiny_transformer.lua: a character-level, decoder-only transformer (a tiny
-- GPT) learns a text, checkpoints itself, and writes new text by top-k
-- sampling.
--
-- What it shows: nn.Embedding for the characters and for learned positions,
-- a stack of nn.TransformerEncoderLayer (pre-norm, GELU, batch_first) run
-- with the causal mask of nn.Transformer.generate_square_subsequent_mask (so
-- each position sees only the ones before it: "decoder-only"), a language
-- model's cross-entropy over every position, optim.AdamW, random windows of
-- the text as int64 batches, a progress bar (lucid.progress), a checkpoint in
-- safetensors holding the model, the optimizer and the vocabulary (lucid.save
-- of a nested table; --resume continues from it), a reload check, a loss curve
-- (scripts/svg.lua) and sampling: temperature, then the k most likely next
-- characters (lucid.topk), one drawn by lucid.multinomial.
--
-- The default text is the GNU GPL version 3, which Debian's base-files package
-- installs on every system at /usr/share/common-licenses/GPL-3 (35 KB of
-- English); --text takes any other file.
--
-- Run it from the checkout (after `make`):
--   LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;" lua5.4 scripts/tiny_transformer.lua
-- (make tiny-transformer does the same, writing into build/tiny_transformer).
--
-- Options: --text PATH  --steps N (default 1500)  --block N (context, 64)
--          --batch N (16)  --d-model N (64)  --heads N (4)  --layers N (2)
--          --lr X (3e-3)  --seed N (0)  --top-k N (5)  --temperature X (0.8)
--          --prime TEXT ("The ")  --sample N (characters, 300)  --resume 0|1
--          --out DIR (./out)  --help
-- Writes DIR/tiny_transformer.safetensors and DIR/tiny_transformer_loss.svg.
-- Exits with status 1 if the loss of the last steps is not under 75% of log(V)
-- (V the vocabulary's size: the loss of a uniform guess, where training starts)
-- or the reloaded model disagrees.
local lucid = require("lucid")
local nn = lucid.nn

package.path = ((arg and arg[0] or ""):match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
local svg = require("svg")
local example = require("example_common")

local USAGE = [[
usage: lua5.4 scripts/tiny_transformer.lua [options]
  --text PATH        the text to learn (default /usr/share/common-licenses/GPL-3)
  --steps N          training steps (default 1500)
  --block N          context length in characters (default 64)
  --batch N          windows per step (default 16)
  --d-model N        width of the model (default 64)
  --heads N          attention heads (default 4)
  --layers N         transformer layers (default 2)
  --lr X             AdamW's learning rate (default 3e-3)
  --seed N           random seed (default 0)
  --top-k N          sample among the k likeliest characters (default 5)
  --temperature X    divides the logits before sampling (default 0.8)
  --prime TEXT       the text the sample starts from (default "The ")
  --sample N         characters to generate (default 300)
  --resume 0|1       continue from DIR/tiny_transformer.safetensors (default 0)
  --out DIR          where the checkpoint and the picture go (default ./out)
]]

local opts = example.parse_args(arg or {}, {text = "/usr/share/common-licenses/GPL-3", steps = 1500, block = 64,
  batch = 16, d_model = 64, heads = 4, layers = 2, lr = 3e-3, seed = 0, top_k = 5, temperature = 0.8,
  prime = "The ", sample = 300, resume = 0, out = "out"}, USAGE, "tiny_transformer.lua")
example.mkdir(opts.out)
lucid.manual_seed(opts.seed)
local CKPT = opts.out .. "/tiny_transformer.safetensors"

-- ---------------------------------------------------------------------------
-- data: the text as int64 character ids 1..V

local f = io.open(opts.text, "rb")
if not f then
  io.stderr:write("tiny_transformer.lua: cannot read the text ", opts.text, "\n")
  os.exit(2)
end
local text = f:read("*a")
f:close()

-- The vocabulary: the text's distinct bytes, sorted (a checkpoint keeps its own).
local function vocabulary_of(s)
  local seen, chars = {}, {}
  for c in s:gmatch(".") do
    if not seen[c] then seen[c], chars[#chars + 1] = true, c end
  end
  table.sort(chars)
  return table.concat(chars)
end

local checkpoint = opts.resume == 1 and io.open(CKPT, "rb")
if checkpoint then checkpoint:close() checkpoint = lucid.load(CKPT) end
local vocab = checkpoint and checkpoint.vocab or vocabulary_of(text)
local V = #vocab
local id_of = {}
for i = 1, V do id_of[vocab:sub(i, i)] = i end

local ids = {}
for i = 1, #text do ids[i] = id_of[text:sub(i, i)] or 1 end   -- unknown bytes: the first
local data = lucid.tensor(ids, {dtype = "int64"})
local T, B = example.int(opts.block), example.int(opts.batch)
print(string.format("text: %s, %d characters, vocabulary of %d", opts.text, #text, V))

-- B random windows of T characters (x) and the characters that follow each (y).
local offsets = lucid.arange(0, T, {dtype = "int64"}):reshape(1, T)
local function batch()
  local start = lucid.randint(1, #text - T + 1, {B, 1})
  local at = start + offsets                                  -- {B, T} positions
  return data[at], data[at + 1]
end

-- ---------------------------------------------------------------------------
-- the model: embeddings, a causal transformer stack, a linear read-out

local TinyGPT = nn.Module:extend("TinyGPT")

function TinyGPT:__init(vocab_size, block, d, heads, layers)
  self.block = block
  self.tok = nn.Embedding(vocab_size, d)
  self.pos = nn.Embedding(block, d)                            -- learned positions
  local layer = nn.TransformerEncoderLayer{d_model = d, nhead = heads, dim_feedforward = 4 * d, dropout = 0,
    activation = "gelu", batch_first = true, norm_first = true}
  self.blocks = nn.TransformerEncoder(layer, layers)
  self.ln = nn.LayerNorm(d)
  self.head = nn.Linear(d, vocab_size)
end

-- x {B, t} int64 ids, t <= block: logits {B, t, V}
function TinyGPT:forward(x)
  local t = x.shape[2]
  local h = self.tok(x) + self.pos(lucid.arange(1, t + 1, {dtype = "int64"}))
  h = self.blocks(h, {mask = nn.Transformer.generate_square_subsequent_mask(t)})
  return self.head(self.ln(h))
end

local function make_model()
  return TinyGPT(V, T, example.int(opts.d_model), example.int(opts.heads), example.int(opts.layers))
end

local model = make_model()
local optimizer = lucid.optim.AdamW(model:parameters(), {lr = opts.lr, weight_decay = 0.01})
local first_step = 1
if checkpoint then
  model:load_state_dict(checkpoint.model)
  optimizer:load_state_dict(checkpoint.optim)
  first_step = checkpoint.step + 1
  print(string.format("resumed from %s at step %d", CKPT, checkpoint.step))
end
local nparams = 0
for _, p in ipairs(model:parameters()) do nparams = nparams + p:numel() end
print(string.format("model: %d layers, d_model %d, %d heads, context %d, %d parameters", opts.layers, opts.d_model,
  opts.heads, T, nparams))

local loss_fn = nn.CrossEntropyLoss()
local function loss_of(x, y)
  return loss_fn(model(x):reshape(B * T, V), y:reshape(B * T))
end

-- ---------------------------------------------------------------------------
-- training

local steps = example.int(opts.steps)
local curve, first_loss = {}, nil
local bar = lucid.progress(steps - first_step + 1, {desc = "tiny_transformer", unit = "step"})
local step = first_step - 1
for _ in bar do
  step = step + 1
  model:train()
  local x, y = batch()
  optimizer:zero_grad()
  local loss = loss_of(x, y)
  loss:backward()
  optimizer:step()
  local l = loss:item()
  first_loss = first_loss or l
  curve[#curve + 1] = l
  bar:set_postfix{loss = l}
  if example.log_step(step, steps) then bar:write(string.format("step %5d  loss %.4f", step, l)) end
end
bar:close()

-- the last losses averaged: one batch is noisy
local n = math.min(#curve, 20)
local final = 0
for i = #curve - n + 1, #curve do final = final + curve[i] / n end
print(string.format("\nloss: %.4f at the first step, %.4f over the last %d steps (log V = %.4f)", first_loss,
  final, n, math.log(V)))

-- ---------------------------------------------------------------------------
-- checkpoint (model, optimizer, step, vocabulary), reload check

model:eval()
lucid.save({model = model:state_dict(), optim = optimizer:state_dict(), step = step, vocab = vocab}, CKPT)
print("checkpoint: " .. CKPT)
local probe = batch()
lucid.manual_seed(opts.seed + 1)
local fresh = make_model()
fresh:load_state_dict(lucid.load(CKPT).model)
fresh:eval()
local same = lucid.equal(lucid.no_grad(model, probe), lucid.no_grad(fresh, probe))
print(string.format("reload check: %s (a fresh model loaded from %s gives %s logits on %d windows)",
  same and "ok" or "FAILED", CKPT, same and "identical" or "different", B))

-- ---------------------------------------------------------------------------
-- sampling: temperature, top-k, a draw

lucid.manual_seed(opts.seed)
local k = math.min(example.int(opts.top_k), V)
local out = {}
local context = {}
for c in opts.prime:gmatch(".") do context[#context + 1] = id_of[c] or 1 end
for i, c in ipairs(context) do out[i] = vocab:sub(c, c) end
lucid.no_grad(function()
  for _ = 1, example.int(opts.sample) do
    local from = math.max(1, #context - T + 1)
    local window = {}
    for i = from, #context do window[#window + 1] = context[i] end
    local logits = model(lucid.tensor({window}, {dtype = "int64"}))[1][#window]   -- the last position
    local top, idx = (logits / opts.temperature):topk(k)
    local pick = lucid.multinomial(lucid.softmax(top, 1), 1)[1]:item()
    local c = idx[pick]:item()
    context[#context + 1] = c
    out[#out + 1] = vocab:sub(c, c)
  end
end)
print(string.format("sample (top-%d, temperature %g):\n%s\n", k, opts.temperature, table.concat(out)))

-- ---------------------------------------------------------------------------
-- the loss curve

local xs, highest = {}, 0
for i = 1, #curve do xs[i], highest = first_step + i - 1, math.max(highest, curve[i]) end
local doc = svg.new(520, 360, {title = "Tiny transformer: training loss per step"})
local ax = doc:axes({x = 70, y = 36, width = 420, height = 270}, {
  xlim = {first_step - 1, step}, ylim = {0, highest * 1.05}, xlabel = "step",
  ylabel = "cross-entropy per character",
  title = string.format("tiny transformer: loss %.3f after %d steps", final, step)})
ax:line(xs, curve, {stroke = "#377eb8", class = "loss"})
ax:frame()
local loss_path = doc:save(opts.out .. "/tiny_transformer_loss.svg")
print(string.format("loss curve: %s (%d steps)", loss_path, #curve))

if final > 0.75 * math.log(V) or not same then
  io.stderr:write("tiny_transformer.lua: FAILED: ", not same and "the reloaded model differs" or
    string.format("the loss %.4f is not under 75%% of log V = %.4f", final, math.log(V)), "\n")
  os.exit(1)
end
