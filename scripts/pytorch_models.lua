-- pytorch_models.lua: a CNN and an LSTM model trained in PyTorch, saved there
-- as safetensors, loaded here unchanged and giving PyTorch's outputs; then the
-- CNN is fine-tuned here and saved back under PyTorch's key names.
--
-- What it shows: moving a trained model from PyTorch. In PyTorch, save the
-- state dict (`safetensors.torch.save_file(model.state_dict(), path)`; here
-- scripts/gen_pytorch_models.py wrote the files with the repository's own
-- writer); here, define the same modules under the same names (the state
-- dict's keys: `features.0.weight`, `lstm.weight_ih_l1_reverse`, ...) and
-- `model:load_state_dict(lucid.load(path))`. Sequential children count from 1
-- here and from 0 in PyTorch: load_state_dict reads either numbering, and
-- pytorch_names below writes PyTorch's. What else changes on the way: token
-- ids and class numbers are 1-based here (PyTorch's plus one; so is an
-- Embedding's padding_idx), and options go in a table ({stride = 2,
-- padding = 1}).
--
-- The models (scripts/gen_pytorch_models.py builds the same in PyTorch):
--   a CNN (Conv2d, BatchNorm2d with the running statistics PyTorch trained,
--   ReLU, MaxPool2d, a strided Conv2d, AdaptiveAvgPool2d, Flatten, Linear)
--   telling a horizontal bar, a vertical bar, a diagonal and a box outline
--   apart in 16x16 noisy images; and a tagger (Embedding with padding,
--   a 2-layer bidirectional batch_first LSTM, Linear) marking the digits of a
--   sequence that occur more than once.
-- The fine-tuning adapts the CNN to noisier images than it was trained on
-- (--noise), drawn here the way the generator draws its own.
--
-- Run it from the checkout (after `make`):
--   LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;" lua5.4 scripts/pytorch_models.lua
-- (make pytorch-models does the same, writing into build/pytorch_models).
--
-- Writes DIR/pytorch_cnn_finetuned.safetensors (the fine-tuned CNN, PyTorch's
-- key names), DIR/pytorch_cnn_finetuned_logits.safetensors (its logits on the
-- recorded test images, which `/usr/bin/python3 scripts/gen_pytorch_models.py
-- --check DIR` compares with PyTorch's for the same weights),
-- DIR/pytorch_cnn.svg (the first layer's filters and the fine-tuned CNN's
-- predictions on the test images) and DIR/pytorch_match.svg (every output
-- here against PyTorch's). Exits with status 1 if an output differs from
-- PyTorch's by more than float32 rounding (1e-4 of the largest value), if the
-- reloaded checkpoint differs, or if the fine-tuned CNN is under 80% accurate
-- on the noisier images.
local lucid = require("lucid")
local nn = lucid.nn

local HERE = (arg and arg[0] or ""):match("^(.*)[/\\]") or "."
package.path = HERE .. "/?.lua;" .. package.path
local svg = require("svg")
local example = require("example_common")

local USAGE = [[
usage: lua5.4 scripts/pytorch_models.lua [options]
  --models DIR       where PyTorch's .safetensors files are (default: tests/fixtures
                     of this checkout, found from the script's own path)
  --steps N          fine-tuning steps of the CNN (default 100)
  --batch N          images per fine-tuning step (default 32)
  --lr X             Adam's learning rate for fine-tuning (default 2e-3)
  --noise X          the noise of the fine-tuning images (sd; PyTorch trained on 0.3;
                     default 0.6)
  --seed N           random seed (default 0)
  --out DIR          where the checkpoint and the pictures go (default ./out)
]]

local opts = example.parse_args(arg or {}, {models = HERE .. "/../tests/fixtures", steps = 100, batch = 32,
  lr = 2e-3, noise = 0.6, seed = 0, out = "out"}, USAGE, "pytorch_models.lua")
example.mkdir(opts.out)
lucid.manual_seed(opts.seed)

local function load(name)
  local path = opts.models .. "/" .. name
  local t, meta = example.load_or_exit(path, "pytorch_models.lua")
  return t, meta, path
end

-- ---------------------------------------------------------------------------
-- the models: the same modules under the same names as in PyTorch

-- the two architectures of gen_pytorch_models.py, under PyTorch's names
local nets = require("pytorch_models_net")
local CNN, Tagger = nets.CNN, nets.Tagger

--- A state dict under PyTorch's names: the children of a Sequential (or
-- ModuleList), the only parts of a key that are numbers, numbered from 0.
local function pytorch_names(sd)
  local out = {}
  for name, t in pairs(sd) do
    local parts = {}
    for part in name:gmatch("[^.]+") do
      parts[#parts + 1] = part:match("^%d+$") and tostring(tonumber(part) - 1) or part
    end
    out[table.concat(parts, ".")] = t
  end
  return out
end

-- ---------------------------------------------------------------------------
-- PyTorch's outputs, and ours

local ref, meta, io_path = load("pytorch_models_io.safetensors")
local CLASSES = {}
for c in (meta.classes or "horizontal,vertical,diagonal,box"):gmatch("[^,]+") do CLASSES[#CLASSES + 1] = c end
print("recorded inputs and PyTorch's outputs: " .. io_path)

local results, all_ok = {}, true
local function compare(what, ours, theirs)
  local diff = (ours:double() - theirs:double()):abs():max():item()
  local largest = theirs:double():abs():max():item()
  local ok = diff <= 1e-4 * math.max(1, largest)
  all_ok = all_ok and ok
  results[#results + 1] = {what = what, ours = ours:reshape(-1):tolist(), theirs = theirs:reshape(-1):tolist()}
  print(string.format("  %-13s max |Lucid - PyTorch| = %.3g over %d values (largest %.3g): %s", what, diff,
    theirs:numel(), largest, ok and "ok" or "FAILED"))
end

local function accuracy(logits, labels)
  local _, pred = logits:max(logits:dim())
  return pred:eq(labels):double():mean():item(), pred
end

local cnn = CNN()
local cnn_sd, _, cnn_path = load("pytorch_cnn.safetensors")
cnn:load_state_dict(cnn_sd)          -- strict: every key and shape as PyTorch's
cnn:eval()
print("CNN from " .. cnn_path .. ":")
print(cnn)
local images, labels = ref["cnn.images"], ref["cnn.labels"] + 1   -- classes 1-based here
local logits = lucid.no_grad(cnn, images)
compare("CNN logits", logits, ref["cnn.logits"])
-- PyTorch's accuracy, from the file's metadata when it has it
local function percent(s)
  return tonumber(s or "") and string.format("%.1f%%", 100 * tonumber(s)) or "not recorded"
end
print(string.format("  accuracy on the %d test images: %.1f%% (PyTorch's %s)", labels:numel(),
  100 * accuracy(logits, labels), percent(meta.cnn_accuracy)))

local tagger = Tagger()
local tagger_sd, _, tagger_path = load("pytorch_lstm.safetensors")
tagger:load_state_dict(tagger_sd)
tagger:eval()
print("LSTM tagger from " .. tagger_path .. ":")
print(tagger)
local tokens = ref["lstm.tokens"] + 1                                  -- token ids 1-based here
local tag_logits, out, hc = lucid.no_grad(tagger, tokens)
compare("LSTM logits", tag_logits, ref["lstm.logits"])
compare("LSTM output", out, ref["lstm.output"])
compare("LSTM h_n", hc[1], ref["lstm.h_n"])
compare("LSTM c_n", hc[2], ref["lstm.c_n"])
local real = tokens:gt(1)                                               -- not padding
local _, tags = tag_logits:max(3)
local tag_acc = tags:eq(ref["lstm.labels"] + 1):logical_and(real):double():sum():item() /
  real:double():sum():item()
print(string.format("  tag accuracy on %d tokens: %.1f%% (PyTorch's %s)", real:double():sum():item(),
  100 * tag_acc, percent(meta.lstm_accuracy)))
print(all_ok and "outputs: all match PyTorch's" or "outputs: some DIFFER from PyTorch's")

-- ---------------------------------------------------------------------------
-- images like the generator's: a bar, a diagonal or a box outline, in noise

local SIZE = 16
-- row and column of every pixel, from 0 (as the generator's coordinates)
local ROW = lucid.arange(0, SIZE):reshape(1, 1, SIZE, 1):expand(1, 1, SIZE, SIZE)
local COL = lucid.arange(0, SIZE):reshape(1, 1, 1, SIZE):expand(1, 1, SIZE, SIZE)

-- n images {n, 1, 16, 16} and their classes {n} (int64, 1-based), the shapes'
-- parameters drawn as {n, 1, 1, 1} tensors and every class's mask made for all
-- images at once
local function make_images(n, noise)
  local k = lucid.randint(1, #CLASSES + 1, {n, 1, 1, 1})
  local len = lucid.randint(6, 12, {n, 1, 1, 1}):float()
  local r = (lucid.rand(n, 1, 1, 1) * (SIZE - 1 - len)):floor() + 1     -- 1 .. SIZE - len - 1
  local c = (lucid.rand(n, 1, 1, 1) * (SIZE - 1 - len)):floor() + 1
  local in_cols = COL:ge(c):logical_and(COL:lt(c + len))
  local in_rows = ROW:ge(r):logical_and(ROW:lt(r + len))
  local horizontal = ROW:eq(r):logical_and(in_cols)
  local vertical = COL:eq(c):logical_and(in_rows)
  local diagonal = (ROW - r):eq(COL - c):logical_and(in_rows)
  local box = ROW:eq(r):logical_or(ROW:eq(r + len - 1)):logical_and(in_cols)
    :logical_or(COL:eq(c):logical_or(COL:eq(c + len - 1)):logical_and(in_rows))
  local shape = lucid.where(k:eq(1), horizontal, lucid.where(k:eq(2), vertical,
    lucid.where(k:eq(3), diagonal, box)))
  return shape:float() + lucid.randn(n, 1, SIZE, SIZE) * noise, k:reshape(n)
end

-- ---------------------------------------------------------------------------
-- fine-tuning the CNN on noisier images

local test_x, test_y = make_images(400, opts.noise)
local before = accuracy(lucid.no_grad(cnn, test_x), test_y)
print(string.format("\nfine-tuning the CNN on images with noise %g (PyTorch trained it on 0.3)", opts.noise))
print(string.format("  accuracy on 400 such images before: %.1f%%", 100 * before))
local loss_fn = nn.CrossEntropyLoss()
local optimizer = lucid.optim.Adam(cnn:parameters(), {lr = opts.lr})
local steps, batch = example.int(opts.steps), example.int(opts.batch)
local bar = lucid.progress(steps, {desc = "pytorch_models", unit = "step"})
local step = 0
cnn:train()                             -- BatchNorm2d: batch statistics, running ones updated
for _ in bar do
  step = step + 1
  local x, y = make_images(batch, opts.noise)
  optimizer:zero_grad()
  local loss = loss_fn(cnn(x), y)
  loss:backward()
  optimizer:step()
  bar:set_postfix{loss = loss:item()}
  if example.log_step(step, steps) then bar:write(string.format("step %4d  loss %.4f", step, loss:item())) end
end
bar:close()
cnn:eval()
local after = accuracy(lucid.no_grad(cnn, test_x), test_y)
print(string.format("  accuracy on the same 400 images after %d steps: %.1f%%", steps, 100 * after))

-- ---------------------------------------------------------------------------
-- checkpoint under PyTorch's names, and a reload check

local ckpt = opts.out .. "/pytorch_cnn_finetuned.safetensors"
lucid.save(pytorch_names(cnn:state_dict()), ckpt)
local final_logits = lucid.no_grad(cnn, images)
lucid.save({logits = final_logits}, opts.out .. "/pytorch_cnn_finetuned_logits.safetensors")
print("checkpoint (PyTorch's key names, e.g. features.0.weight): " .. ckpt)
local fresh = CNN()
fresh:load_state_dict(lucid.load(ckpt))
fresh:eval()
local same = lucid.equal(lucid.no_grad(fresh, images), final_logits)
print(string.format("reload check: %s (a fresh CNN loaded from %s gives %s logits)", same and "ok" or "FAILED",
  ckpt, same and "identical" or "different"))

-- ---------------------------------------------------------------------------
-- pictures

local COLORS = {"#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#e41a1c"}

-- a grey-scale square of cells for a {h, w} tensor, scaled to its own range
local function draw_plane(doc, plane, x0, y0, cell, class)
  local rows = plane:tolist()
  local lo, hi = plane:min():item(), plane:max():item()
  doc:group({class = class}, function(d)
    for i, row in ipairs(rows) do
      for j, v in ipairs(row) do
        local g = math.floor(255 * (v - lo) / math.max(hi - lo, 1e-12) + 0.5)
        d:rect(x0 + (j - 1) * cell, y0 + (i - 1) * cell, cell, cell, {fill = string.format("#%02x%02x%02x", g, g, g)})
      end
    end
  end)
end

local doc = svg.new(640, 370, {title = "A PyTorch-trained CNN loaded and fine-tuned in Lucid"})
doc:text(20, 28, "first layer's 3x3 filters (features.0.weight, fine-tuned)", {font_size = 14, font_weight = "bold"})
local filters = cnn.features[1].weight:detach()
for f = 1, filters.shape[1] do
  draw_plane(doc, filters[f][1], 20 + (f - 1) * 74, 40, 20, "filter")
end
doc:text(20, 140, string.format("test images: predicted class (green: right, red: wrong), %.0f%% right",
  100 * accuracy(final_logits, labels)), {font_size = 14, font_weight = "bold"})
local _, pred = final_logits:max(2)
for i = 1, images.shape[1] do
  local col, row = (i - 1) % 8, math.floor((i - 1) / 8)
  local x, y = 20 + col * 76, 155 + row * 100
  draw_plane(doc, images[i][1], x, y, 4, "image")
  local p = pred[i]:item()
  doc:text(x + 32, y + 82, CLASSES[p], {text_anchor = "middle",
    fill = p == labels[i]:item() and "#1a9850" or "#d73027", class = "prediction"})
end
local cnn_svg = doc:save(opts.out .. "/pytorch_cnn.svg")
print(string.format("picture: %s (%d filters, %d test images)", cnn_svg, filters.shape[1], images.shape[1]))

local lo, hi = math.huge, -math.huge
for _, r in ipairs(results) do
  for _, v in ipairs(r.theirs) do lo, hi = math.min(lo, v), math.max(hi, v) end
end
local match = svg.new(520, 440, {title = "Lucid's outputs against PyTorch's"})
local ax = match:axes({x = 70, y = 36, width = 420, height = 340}, {xlim = {lo, hi}, ylim = {lo, hi},
  xlabel = "PyTorch", ylabel = "Lucid", title = "the loaded models' outputs: Lucid against PyTorch"})
ax:line({lo, hi}, {lo, hi}, {stroke = "#bbbbbb", stroke_width = 1, class = "diagonal"})
local legend = {}
for i, r in ipairs(results) do
  ax:points(r.theirs, r.ours, {r = 2, fill = COLORS[i], class = "match k" .. i})
  legend[i] = {label = string.format("%s (%d)", r.what, #r.theirs), color = COLORS[i]}
end
ax:legend(legend, "top left")
ax:frame()
local match_svg = match:save(opts.out .. "/pytorch_match.svg")
print("picture: " .. match_svg)

if not all_ok or not same or after < 0.8 then
  io.stderr:write("pytorch_models.lua: FAILED: ", not all_ok and "outputs differ from PyTorch's" or
    not same and "the reloaded checkpoint differs" or
    string.format("the fine-tuned CNN is %.1f%% accurate (under 80%%)", 100 * after), "\n")
  os.exit(1)
end
