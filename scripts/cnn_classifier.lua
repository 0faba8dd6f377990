-- cnn_classifier.lua: a small convolutional network learns to tell ten kinds
-- of drawn shapes apart, from 16x16 grayscale images that the script draws
-- itself (no download), checkpoints itself, resumes, and draws a grid of test
-- images with what it predicted.
--
-- What it shows: images as a {N, 1, H, W} tensor, nn.Sequential of two
-- Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d blocks, nn.Flatten and
-- nn.Linear; CrossEntropyLoss on int64 labels, Adam with a cosine learning-rate
-- schedule (optim.lr_scheduler.CosineAnnealingLR), shuffled mini-batches
-- from lucid.data.DataLoader, a progress bar over the batches (lucid.progress),
-- a checkpoint in safetensors (the weights, the optimizer's state and the
-- epoch: lucid.save of a nested table; --resume continues from it), eval mode
-- (BatchNorm's running statistics) for testing, a reload check, and an SVG
-- picture (scripts/svg.lua) of test images with their predicted and true
-- classes.
--
-- The data: ten classes (disk, ring, square, block, triangle, diamond, plus,
-- cross, hbars, vbars), each drawn anti-aliased from a distance function at a
-- random place, size, stroke width, brightness and small rotation, plus
-- Gaussian pixel noise. Every random number comes from lucid's seeded
-- generator, so the images are the same on every Lua version; the test images
-- have a seed of their own (--seed + 1000), so --train N does not change them.
--
-- Run it from the checkout (after `make`):
--   LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;" lua5.4 scripts/cnn_classifier.lua
-- (make cnn-classifier does the same, writing into build/cnn_classifier).
--
-- Writes DIR/cnn_classifier.safetensors and DIR/cnn_classifier_test.svg.
-- Exits with status 1 if the test accuracy is under --min-accuracy (98% by
-- default; a full run reaches about 99.5%) or the reloaded model disagrees.
local lucid = require("lucid")
local nn = lucid.nn

package.path = ((arg and arg[0] or ""):match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
local svg = require("svg")
local example = require("example_common")

-- ---------------------------------------------------------------------------
-- options

local USAGE = [[
usage: lua5.4 scripts/cnn_classifier.lua [options]
  --epochs N         train until this epoch (default 10; with --resume, the total)
  --train N          training images (default 8000)
  --test N           test images (default 2000)
  --batch N          images per step (default 50)
  --lr X             Adam's learning rate (default 0.003)
  --channels N       channels of the first convolution; the second has twice
                     as many (default 16)
  --noise X          standard deviation of the pixel noise (default 0.15)
  --seed N           random seed (default 0)
  --grid N           test images in the picture (default 60)
  --min-accuracy X   the test accuracy (percent) the run must reach (default 98)
  --out DIR          where the checkpoint and the picture go (default ./out)
  --resume           continue from DIR/cnn_classifier.safetensors
]]

-- --resume takes no value: read it before the others
local argv, resume = {}, false
for _, a in ipairs(arg or {}) do
  if a == "--resume" then resume = true else argv[#argv + 1] = a end
end
local opts = example.parse_args(argv, {epochs = 10, train = 8000, test = 2000, batch = 50, lr = 0.003,
  channels = 16, noise = 0.15, seed = 0, grid = 60, min_accuracy = 98, out = "out"}, USAGE,
  "cnn_classifier.lua")
example.mkdir(opts.out)
local CKPT = opts.out .. "/cnn_classifier.safetensors"
local SIZE = 16

-- ---------------------------------------------------------------------------
-- data: shapes drawn from distance functions

local CLASSES = {"disk", "ring", "square", "block", "triangle", "diamond", "plus", "cross", "hbars",
  "vbars"}
local K = #CLASSES

local abs, sqrt, max, min = math.abs, math.sqrt, math.max, math.min
local R3 = sqrt(3) / 2

-- The distance (in pixels) from (u, v), in the shape's own frame (centred,
-- unrotated, v pointing down), to the shape of class k with size r and
-- stroke w: negative inside, so a pixel's ink is its coverage 0.5 - d.
local SHAPES = {
  function(u, v, r) return sqrt(u * u + v * v) - r end,                               -- disk
  function(u, v, r, w) return abs(sqrt(u * u + v * v) - r) - w / 2 end,               -- ring
  function(u, v, r, w) return abs(max(abs(u), abs(v)) - r) - w / 2 end,               -- square
  function(u, v, r) return max(abs(u), abs(v)) - 0.8 * r end,                         -- block
  function(u, v, r, w)                                                                -- triangle
    local d = max(v, -R3 * u - v / 2, R3 * u - v / 2) - 0.6 * r
    return abs(d) - w / 2
  end,
  function(u, v, r, w) return abs((abs(u) + abs(v)) - 1.2 * r) / sqrt(2) - w / 2 end,  -- diamond
  function(u, v, r, w)                                                                -- plus
    return min(max(abs(u) - w / 2, abs(v) - r), max(abs(v) - w / 2, abs(u) - r))
  end,
  function(u, v, r, w)                                                                -- cross
    local a, b = (u + v) / sqrt(2), (u - v) / sqrt(2)
    return min(max(abs(a) - w / 2, abs(b) - r), max(abs(b) - w / 2, abs(a) - r))
  end,
  function(u, v, r, w)                                                                -- hbars
    return max(abs(u) - r, min(abs(v + r), abs(v), abs(v - r)) - w / 2)
  end,
  function(u, v, r, w)                                                                -- vbars
    return max(abs(v) - r, min(abs(u + r), abs(u), abs(u - r)) - w / 2)
  end,
}

--- n images {n, 1, SIZE, SIZE} (float32, ink 0 to about 1 plus noise) and
-- their int64 labels {n}: classes in turn (1, 2, ..., K, 1, ...), each
-- drawn from lucid's generator seeded with `seed`.
local function make_images(n, seed)
  lucid.manual_seed(seed)
  -- per image: centre x, centre y, size, stroke, rotation, brightness, in [0, 1)
  local params = lucid.rand(n, 6):tolist()
  local pixels, labels = {}, {}
  local at = 0
  for i = 1, n do
    local k = (i - 1) % K + 1
    local p = params[i]
    local cx, cy = SIZE * (0.38 + 0.24 * p[1]), SIZE * (0.38 + 0.24 * p[2])
    local r = SIZE * (0.22 + 0.14 * p[3])
    local w = 1 + p[4]
    local angle = (p[5] - 0.5) * 0.6                      -- up to 17 degrees either way
    local bright = 0.6 + 0.4 * p[6]
    local c, s = math.cos(angle), math.sin(angle)
    local shape = SHAPES[k]
    for row = 1, SIZE do
      local y = row - 0.5 - cy
      for col = 1, SIZE do
        local x = col - 0.5 - cx
        local ink = 0.5 - shape(c * x + s * y, -s * x + c * y, r, w)
        at = at + 1
        pixels[at] = bright * max(0, min(1, ink))
      end
    end
    labels[i] = k
  end
  local x = lucid.tensor(pixels):reshape(n, 1, SIZE, SIZE)
  x = x + lucid.randn(n, 1, SIZE, SIZE) * opts.noise
  return x, lucid.tensor(labels, {dtype = "int64"})
end

local NTRAIN, NTEST = example.int(opts.train), example.int(opts.test)
local X, Y = make_images(NTRAIN, opts.seed)
local XT, YT = make_images(NTEST, opts.seed + 1000)
print(string.format("data: %d training and %d test images of %dx%d in %d classes (%s), labels %s", NTRAIN, NTEST,
  SIZE, SIZE, K, table.concat(CLASSES, " "), Y.dtype))
lucid.manual_seed(opts.seed)

local loader = lucid.data.DataLoader(lucid.data.TensorDataset(X, Y),
  {batch_size = example.int(opts.batch), shuffle = true})

-- ---------------------------------------------------------------------------
-- the model: two convolution blocks (16x16 -> 8x8 -> 4x4), then a linear layer

local C1 = example.int(opts.channels)
local Q = example.int(SIZE / 4)      -- the side of the maps after two poolings
local function make_model()
  return nn.Sequential(
    nn.Conv2d(1, C1, 3, {padding = 1}), nn.BatchNorm2d(C1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(C1, 2 * C1, 3, {padding = 1}), nn.BatchNorm2d(2 * C1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(2 * C1 * Q * Q, K))   -- logits: CrossEntropyLoss applies log_softmax
end

local model = make_model()
local optimizer = lucid.optim.Adam(model:parameters(), {lr = opts.lr})
-- the learning rate falls along half a cosine over the --epochs of the run,
-- from --lr to 0: the last epochs settle instead of jumping around
local epochs = example.int(opts.epochs)
local schedule = lucid.optim.lr_scheduler.CosineAnnealingLR(optimizer, {T_max = epochs})
local done = 0                       -- epochs trained before this run
if resume then
  local ckpt = example.load_or_exit(CKPT, "cnn_classifier.lua", "--resume: ")
  model:load_state_dict(ckpt.model)
  optimizer:load_state_dict(ckpt.optim)
  done = example.int(ckpt.epoch)
  -- where the schedule is after `done` epochs of this run's --epochs (a larger
  -- --epochs than the first run's stretches the rest of the cosine)
  if done > 0 then schedule:step(done) end
  print(string.format("resumed from %s at epoch %d", CKPT, done))
end
print(model)
local nparams = 0
for _, p in ipairs(model:parameters()) do nparams = nparams + p:numel() end
print(string.format("parameters: %d", nparams))

local loss_fn = nn.CrossEntropyLoss()

--- The predicted classes (int64 {n}) of images x, in eval mode, in batches.
local function predict(m, x)
  m:eval()
  local out = {}
  for start = 1, x.shape[1], 500 do
    local n = math.min(500, x.shape[1] - start + 1)
    local _, idx = lucid.no_grad(m, x:narrow(1, start, n)):max(2)
    out[#out + 1] = idx
  end
  return lucid.cat(out, 1)
end

local function accuracy(m, x, y)
  local correct = predict(m, x):eq(y):sum():item()
  return 100 * correct / y:numel(), example.int(correct)
end

-- ---------------------------------------------------------------------------
-- training: one progress step per batch

local batches = loader:len()
local bar = lucid.progress(math.max(0, epochs - done) * batches, {desc = "cnn_classifier", unit = "batch"})
for epoch = done + 1, epochs do
  model:train()
  local total, count = 0, 0
  for xb, yb in loader do
    optimizer:zero_grad()
    local loss = loss_fn(model(xb), yb)
    loss:backward()
    optimizer:step()
    local l = loss:item()
    total, count = total + l * xb.shape[1], count + xb.shape[1]
    bar:set_postfix{loss = l}
    bar:update()
  end
  bar:write(string.format("epoch %3d  lr %.5f  loss %.4f  test accuracy %.1f%%", epoch, schedule:get_last_lr()[1],
    total / count, accuracy(model, XT, YT)))
  schedule:step()
end
bar:close()
done = math.max(done, epochs)

-- ---------------------------------------------------------------------------
-- testing (eval mode: BatchNorm uses its running statistics)

local train_acc = accuracy(model, X, Y)
local test_acc, correct = accuracy(model, XT, YT)
print(string.format("\ntrain accuracy: %.2f%%", train_acc))
print(string.format("test accuracy: %.2f%% (%d/%d)", test_acc, correct, NTEST))

local pred = predict(model, XT)
local confusion = {}                 -- confusion[true][predicted]
for k = 1, K do
  confusion[k] = {}
  for j = 1, K do confusion[k][j] = 0 end
end
local truth, guess = YT:tolist(), pred:tolist()
for i = 1, NTEST do confusion[truth[i]][guess[i]] = confusion[truth[i]][guess[i]] + 1 end
local mistakes = {}
for k = 1, K do
  local worst, wj = 0, nil
  for j = 1, K do
    if j ~= k and confusion[k][j] > worst then worst, wj = confusion[k][j], j end
  end
  if wj then mistakes[#mistakes + 1] = string.format("%s as %s (%d)", CLASSES[k], CLASSES[wj], worst) end
end
print("most frequent mistake per class: " .. (#mistakes > 0 and table.concat(mistakes, ", ") or "none"))

-- ---------------------------------------------------------------------------
-- checkpoint (weights, optimizer, epoch), reload check

lucid.save({model = model:state_dict(), optim = optimizer:state_dict(), epoch = done}, CKPT)
print(string.format("checkpoint: %s (epoch %d)", CKPT, done))
lucid.manual_seed(opts.seed + 1)     -- different initial weights
local fresh = make_model()
fresh:load_state_dict(lucid.load(CKPT).model)
local same = lucid.equal(predict(model, XT), predict(fresh, XT))
  and lucid.equal(lucid.no_grad(model, XT:narrow(1, 1, math.min(NTEST, 100))),
    lucid.no_grad(fresh, XT:narrow(1, 1, math.min(NTEST, 100))))
print(string.format("reload check: %s (a fresh model loaded from %s gives %s predictions on %d test images)",
  same and "ok" or "FAILED", CKPT, same and "identical" or "different", NTEST))

-- ---------------------------------------------------------------------------
-- the picture: test images with predicted (and, when wrong, true) classes.
-- The misclassified ones come first (at most half the grid), then the others
-- in test order, so mistakes are seen even when they are rare.

local shown = {}
local wrong_shown = 0
local G = math.min(example.int(opts.grid), NTEST)
for i = 1, NTEST do
  if #shown >= math.floor(G / 2) then break end
  if guess[i] ~= truth[i] then shown[#shown + 1], wrong_shown = i, wrong_shown + 1 end
end
for i = 1, NTEST do
  if #shown >= G then break end
  if guess[i] == truth[i] then shown[#shown + 1] = i end
end

local COLS = 10
local ROWS = math.ceil(#shown / COLS)
local SCALE, CELL_W, CELL_H = 4, 92, 96        -- a pixel is 4x4; room for a label under each image
local LEVELS = 8                               -- gray levels drawn (the darkest is the background)
local doc = svg.new(COLS * CELL_W + 20, ROWS * CELL_H + 60, {title = "CNN classifier: test images"})
doc:text((COLS * CELL_W + 20) / 2, 24, string.format(
  "cnn_classifier: test accuracy %.1f%% after %d epochs (%d of %d shown are wrong, mistakes first)", test_acc, done,
  wrong_shown, #shown), {text_anchor = "middle", font_size = 15})
doc:text((COLS * CELL_W + 20) / 2, 44, "green: predicted class, right; red: predicted (true), wrong",
  {text_anchor = "middle", font_size = 11, fill = "#555555"})
local images = XT:index_select(1, lucid.tensor(shown, {dtype = "int64"})):clamp(0, 1):tolist()
for n, i in ipairs(shown) do
  local ok = guess[i] == truth[i]
  local x0 = 10 + ((n - 1) % COLS) * CELL_W + (CELL_W - SIZE * SCALE) / 2
  local y0 = 60 + math.floor((n - 1) / COLS) * CELL_H
  doc:group({class = ok and "cell right" or "cell wrong"}, function()
    doc:rect(x0, y0, SIZE * SCALE, SIZE * SCALE, {fill = "black"})
    -- one path per gray level, a rectangle ("M x y h n v 1 h -n z") for each run of pixels of that
    -- level along a row: a few hundred bytes per image
    local img, runs = images[n][1], {}
    for row = 1, SIZE do
      local col = 1
      while col <= SIZE do
        local level = math.floor(img[row][col] * (LEVELS - 1) + 0.5)
        local stop = col
        while stop < SIZE and math.floor(img[row][stop + 1] * (LEVELS - 1) + 0.5) == level do stop = stop + 1 end
        if level > 0 then
          runs[level] = runs[level] or {}
          local len = stop - col + 1
          table.insert(runs[level], string.format("M%d %dh%dv1h-%dz", col - 1, row - 1, len, len))
        end
        col = stop + 1
      end
    end
    local transform = string.format("translate(%s,%s) scale(%d)", svg.num(x0), svg.num(y0), SCALE)
    for level = 1, LEVELS - 1 do
      if runs[level] then
        local g = math.floor(255 * level / (LEVELS - 1) + 0.5)
        doc:add("path", {d = table.concat(runs[level]), fill = string.format("#%02x%02x%02x", g, g, g),
          transform = transform, shape_rendering = "crispEdges"})
      end
    end
    if not ok then
      doc:rect(x0 - 2, y0 - 2, SIZE * SCALE + 4, SIZE * SCALE + 4, {fill = "none", stroke = "#e41a1c",
        stroke_width = 3})
    end
    local label = ok and CLASSES[guess[i]] or string.format("%s (%s)", CLASSES[guess[i]], CLASSES[truth[i]])
    doc:text(x0 + SIZE * SCALE / 2, y0 + SIZE * SCALE + 16, label, {text_anchor = "middle", font_size = 11,
      fill = ok and "#1b7837" or "#e41a1c"})
  end)
end
local picture = doc:save(opts.out .. "/cnn_classifier_test.svg")
print(string.format("test images: %s (%d images, %d wrong)", picture, #shown, wrong_shown))

if test_acc < opts.min_accuracy or not same then
  io.stderr:write("cnn_classifier.lua: FAILED: ", not same and "the reloaded model differs" or
    string.format("the test accuracy %.2f%% is under %g%%", test_acc, opts.min_accuracy), "\n")
  os.exit(1)
end
