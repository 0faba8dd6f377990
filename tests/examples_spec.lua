-- The worked examples (scripts/xor.lua, sine.lua, spiral.lua, charrnn.lua,
-- tiny_transformer.lua, cnn_classifier.lua, pytorch_models.lua), each
-- run as a subprocess the way a user runs it, with fewer steps, writing into a
-- temporary directory. Checked: the exit status, the printed accuracy / MSE
-- and reload lines, the weight files, and the SVG pictures (well-formed XML,
-- the expected number of cells, points and curve vertices). A failed check
-- inside a script must give a non-zero exit status.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")

local function q(s)  -- shell quoting
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function capture(cmd)
  local p = io.popen(cmd)
  local s = p:read("*a")
  p:close()
  return (s:gsub("%s+$", ""))
end

-- The checkout: the directory above tests/.
local SPEC = debug.getinfo(1, "S").source:sub(2)
local ROOT = capture("cd " .. q(SPEC:match("^(.*)/[^/]*$") or ".") .. "/.. && pwd")
-- the Lua running the specs (the examples are for every Lua)
local LUA = H.lua_name
-- The checkout's Lua files first; the C module from LUA_CPATH when the runner
-- set it (make spec does), else the checkout's build of this Lua.
local ENV = string.format("LUA_PATH=%s LUA_CPATH=%s ",
  q(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;" .. (os.getenv("LUA_PATH") or ";")),
  q(os.getenv("LUA_CPATH") or ROOT .. "/" .. H.build_dir .. "/?.so;;"))

local TMP  -- a fresh directory for the whole spec, removed at the end
local runs = 0

--- Runs scripts/<script> with the argument string `args` from the checkout;
-- returns {code =, stdout =, stderr =}.
local function run(script, args)
  runs = runs + 1
  local out, err = string.format("%s/run%d.out", TMP, runs), string.format("%s/run%d.err", TMP, runs)
  local cmd = string.format("cd %s && %s%s %s %s >%s 2>%s", q(ROOT), ENV, LUA, q("scripts/" .. script),
    args, q(out), q(err))
  local _, code, how = H.execute(cmd)
  local r = {code = code, how = how, stdout = read(out) or "", stderr = read(err) or ""}
  r.show = string.format("%s %s exited with %s %s\n--- stdout:\n%s\n--- stderr:\n%s", script, args,
    tostring(how), tostring(r.code), r.stdout, r.stderr)
  return r
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- A small well-formedness check (tags balanced, attributes quoted, text
-- escaped, one root element); xmllint too when it is installed.
local ENTITIES = {amp = true, lt = true, gt = true, quot = true, apos = true}
local function check_xml(s)
  local body = s:gsub("^<%?xml[^>]*%?>%s*", "", 1)
  local stack, roots, pos = {}, 0, 1
  while true do
    local a, b, close, name, rest = body:find("<(/?)([%a_][%w:_.-]*)([^<>]*)>", pos)
    local text = body:sub(pos, (a or #body + 1) - 1)
    if text:find("[<>]") then return false, "stray markup near byte " .. pos end
    for ent in text:gmatch("&([^;%s]*);?") do
      if not ENTITIES[ent] then return false, "bad entity &" .. ent end
    end
    if not a then break end
    if #stack == 0 and text:find("%S") then return false, "text outside the root" end
    local attrs = rest:gsub('%s+[%a_][%w:_.-]*="[^"<]*"', "")
    if close == "/" then
      if attrs:find("%S") then return false, "attributes on </" .. name .. ">" end
      local open = table.remove(stack)
      if open ~= name then return false, string.format("</%s> closes <%s>", name, tostring(open)) end
    else
      local self_closing = attrs:match("^%s*/$") ~= nil
      if not self_closing and attrs:find("%S") then return false, "bad attributes in <" .. name .. rest .. ">" end
      if #stack == 0 then roots = roots + 1 end
      if not self_closing then stack[#stack + 1] = name end
    end
    pos = b + 1
  end
  if #stack > 0 then return false, "<" .. stack[#stack] .. "> not closed" end
  if roots ~= 1 then return false, roots .. " root elements" end
  return true
end

local HAS_XMLLINT = H.execute("command -v xmllint >/dev/null 2>&1")

local function assert_svg(path)
  assert(exists(path), path .. " was not written")
  local s = read(path)
  assert(s:sub(1, 5) == "<?xml" or s:sub(1, 4) == "<svg", path .. " does not start like an SVG file")
  assert(s:find('<svg xmlns="http://www.w3.org/2000/svg"', 1, true), path .. ": no <svg> element")
  local ok, why = check_xml(s)
  assert(ok, path .. " is not well-formed XML: " .. tostring(why))
  if HAS_XMLLINT then
    assert.is_true(H.execute("xmllint --noout " .. q(path) .. " 2>/dev/null"), "xmllint rejects " .. path)
  end
  return s
end

-- The number of `what` inside each group <g class="<class> kK" ...>, by K.
local function count_in_groups(s, class, what)
  local counts, total = {}, 0
  for k, inner in s:gmatch('<g class="' .. class .. ' k(%d+)"[^>]*>(.-)</g>') do
    local _, n = inner:gsub("<" .. what .. "[ />]", "")
    counts[tonumber(k)] = (counts[tonumber(k)] or 0) + n
    total = total + n
  end
  return counts, total
end

-- The vertices of <polyline points="..." class="<class>">.
local function polyline_points(s, class)
  local pts = s:match('<polyline points="([^"]*)" class="' .. class .. '"')
  if not pts then return nil end
  local n = 0
  for _ in pts:gmatch("[^ ]+") do n = n + 1 end
  return n
end

local function number_after(s, label)
  local v = s:match(label:gsub("%p", "%%%0") .. "%s*([%d.]+)")
  return v and tonumber(v)
end

describe("the worked examples", function()
  setup(function()
    TMP = capture("mktemp -d 2>/dev/null || echo /tmp/lucid_examples_$$")
    os.execute("mkdir -p " .. q(TMP))
  end)
  teardown(function()
    if TMP and TMP:match("^/tmp/") then os.execute("rm -rf " .. q(TMP)) end
  end)

  it("xor.lua: a 2-4-1 network gets all four cases right, and the reloaded copy agrees", function()
    local out = TMP .. "/xor"
    local r = run("xor.lua", "--steps 300 --out " .. q(out))
    assert.are.equal(0, r.code, r.show)
    assert(r.stdout:find("accuracy: 100.0% (4/4)", 1, true), r.show)
    assert(r.stdout:find("reload check: ok", 1, true), r.show)
    assert(r.stderr:find("xor: 100%", 1, true), "no progress bar on stderr\n" .. r.show)
    local path = out .. "/xor.safetensors"
    assert(r.stdout:find("saved weights: " .. path, 1, true), r.show)
    local sd = lucid.load(path)
    assert.are.same({2, 4, 1, 4, 1}, {sd["1.weight"].shape[2], sd["1.weight"].shape[1], sd["3.weight"].shape[1],
      sd["1.bias"].shape[1], sd["3.bias"].shape[1]})
    -- repeatable: the same seed gives byte-identical weights
    local r2 = run("xor.lua", "--steps 300 --out " .. q(out .. "2"))
    assert.are.equal(0, r2.code, r2.show)
    assert(read(path) == read(out .. "2/xor.safetensors"), "two runs with the same seed saved different weights")
  end)

  it("sine.lua: the fit reaches the noise floor and follows the clean sine", function()
    local out = TMP .. "/sine"
    local r = run("sine.lua", "--steps 300 --points 150 --out " .. q(out))
    assert.are.equal(0, r.code, r.show)
    local train = number_after(r.stdout, "train MSE (against the noisy targets):")
    local floor = number_after(r.stdout, "noise floor (mean squared noise):")
    local test = number_after(r.stdout, "test MSE (against the clean sine):")
    assert(train and floor and test, r.show)
    assert(floor > 0.005 and floor < 0.02, "noise of sd 0.1 has a mean square near 0.01\n" .. r.show)
    assert(train < 1.25 * floor and train > 0.5 * floor, "the training MSE is not near the noise floor\n" .. r.show)
    assert(test < 0.005, "the fit misses the clean sine\n" .. r.show)
    assert(r.stdout:find("reload check: ok", 1, true), r.show)
    assert(exists(out .. "/sine.safetensors"), r.show)
    local s = assert_svg(out .. "/sine.svg")
    assert(r.stdout:find("picture: " .. out .. "/sine.svg", 1, true), r.show)
    local data = s:match('<g class="data"[^>]*>(.-)</g>')
    assert.is_not_nil(data, "no data points group")
    assert.are.equal(150, select(2, data:gsub("<circle ", "")))
    assert.are.equal(400, polyline_points(s, "sine"))
    assert.are.equal(400, polyline_points(s, "fit"))
  end)

  it("charrnn.lua: an LSTM learns a text, checkpoints, resumes, samples from a prime; and a GRU", function()
    local out = TMP .. "/charrnn"
    local small = "--steps 60 --hidden 64 --seq 32 --batch 16 --sample 80 --prime Licen --out " .. q(out)
    local r = run("charrnn.lua", small)
    assert.are.equal(0, r.code, r.show)
    assert(r.stdout:find("text: /usr/share/common-licenses/GPL-3, 35149 characters, vocabulary of", 1, true), r.show)
    local loss, uniform = r.stdout:match("final loss: (%S+) %(uniform guess (%S+),")
    assert(loss and tonumber(loss) < 0.85 * tonumber(uniform), r.show)
    assert(r.stdout:find("checkpoint: " .. out .. "/charrnn.safetensors (step 60)", 1, true), r.show)
    local sample = r.stdout:match("sample %(temperature 0.8%):\n(.*)$")
    assert(sample and sample:sub(1, 5) == "Licen" and #sample >= 80, r.show)
    assert(r.stderr:find("charrnn: 100%", 1, true), "no progress bar on stderr\n" .. r.show)
    local curve = out .. "/charrnn_loss.svg"
    assert(r.stdout:find("loss curve: " .. curve .. " (60 steps)", 1, true), r.show)
    local s = assert_svg(curve)
    assert.are.equal(60, polyline_points(s, "loss"))
    assert.are.equal(2, polyline_points(s, "uniform"))
    assert(s:find("charrnn (lstm): loss ", 1, true), "no title on the loss curve")
    r = run("charrnn.lua", "--resume --steps 10 --temperature 0.5 " .. small:gsub("%-%-steps 60 ", ""))
    assert.are.equal(0, r.code, r.show)
    assert(r.stdout:find("resumed from " .. out .. "/charrnn.safetensors at step 60", 1, true), r.show)
    assert(r.stdout:find("(step 70)", 1, true), r.show)
    assert.are.equal(10, polyline_points(assert_svg(curve), "loss"))  -- this run's steps
    local first = tonumber(r.stdout:match("first step (%S+)%)"))
    assert(first and first < 0.85 * tonumber(uniform), "the resumed model starts where it stopped\n" .. r.show)
    r = run("charrnn.lua", "--model gru --chars 4000 --steps 5 --hidden 16 --seq 16 --batch 4 --sample 5 --out "
      .. q(out .. "/gru"))
    assert(r.stdout:find("(rnn): GRU(32, 16, batch_first=true)", 1, true), r.show)
    assert(r.stdout:find("4000 characters", 1, true), r.show)
    r = run("charrnn.lua", "--model rnn --out " .. q(out .. "/rnn"))  -- (not ./out in the checkout)
    assert.are.equal(2, r.code, r.show)
    assert(r.stderr:find("--model must be lstm or gru, got 'rnn'", 1, true), r.show)
  end)

  it("spiral.lua: over 95% training accuracy with mini-batches, a reload that agrees, two pictures", function()
    local out = TMP .. "/spiral"
    local r = run("spiral.lua", "--epochs 30 --out " .. q(out))
    assert.are.equal(0, r.code, r.show)
    local acc = number_after(r.stdout, "train accuracy:")
    assert(acc and acc >= 95, "accuracy under 95%\n" .. r.show)
    assert(r.stdout:find("data: 300 points in 3 classes, labels int64", 1, true), r.show)  -- int64 targets
    assert(r.stdout:find("reload check: ok", 1, true), r.show)
    assert(r.stderr:find("spiral: 100%", 1, true), "no progress bar on stderr\n" .. r.show)
    assert(exists(out .. "/spiral.safetensors"), r.show)

    local regions = out .. "/spiral_regions.svg"
    assert(r.stdout:find("decision regions: " .. regions .. " (60x60 cells, 300 points)", 1, true), r.show)
    local s = assert_svg(regions)
    local cells, ncells = count_in_groups(s, "region", "rect")
    assert.are.equal(60 * 60, ncells)
    for k = 1, 3 do assert(cells[k] and cells[k] > 0, "class " .. k .. " has no region") end
    local points, npoints = count_in_groups(s, "points", "circle")
    assert.are.same({100, 100, 100}, points)
    assert.are.equal(300, npoints)
    assert(#s < 300000, "the regions picture is larger than it needs to be: " .. #s .. " bytes")

    local loss = out .. "/spiral_loss.svg"
    assert(r.stdout:find("loss curve: " .. loss .. " (30 epochs)", 1, true), r.show)
    assert.are.equal(30, polyline_points(assert_svg(loss), "loss"))
  end)

  it("spiral.lua: --grid and --points change the picture", function()
    local out = TMP .. "/spiral_small"
    local r = run("spiral.lua", "--epochs=30 --points=80 --grid=20 --out=" .. q(out))
    assert.are.equal(0, r.code, r.show)
    local s = assert_svg(out .. "/spiral_regions.svg")
    assert.are.equal(400, select(2, count_in_groups(s, "region", "rect")))
    assert.are.same({80, 80, 80}, (count_in_groups(s, "points", "circle")))
  end)

  it("tiny_transformer.lua: the loss falls, a checkpoint that reloads and resumes, a sample, a picture", function()
    local out = TMP .. "/tiny"
    local small = "--block 16 --batch 8 --d-model 32 --layers 1 --lr 1e-2 --sample 40 --out " .. q(out)
    local r = run("tiny_transformer.lua", "--steps 80 " .. small)
    assert.are.equal(0, r.code, r.show)
    -- the default text comes from Debian's base-files
    assert(r.stdout:find("text: /usr/share/common-licenses/GPL-3, ", 1, true), r.show)
    assert(r.stdout:find("model: 1 layers, d_model 32, 4 heads, context 16, ", 1, true), r.show)
    local first, last = r.stdout:match("loss: ([%d.]+) at the first step, ([%d.]+) over the last 20 steps")
    assert(first and tonumber(last) < 0.75 * math.log(76), r.show)
    assert(r.stdout:find("reload check: ok", 1, true), r.show)
    assert(r.stderr:find("tiny_transformer: 100%", 1, true), "no progress bar on stderr\n" .. r.show)
    local sample = r.stdout:match("sample %(top%-5, temperature 0.8%):\n(.-)\n\nloss curve:")
    assert(sample and sample:sub(1, 4) == "The " and #sample == 44, r.show)
    assert(exists(out .. "/tiny_transformer.safetensors"), r.show)
    local ckpt = lucid.load(out .. "/tiny_transformer.safetensors")
    assert.are.equal(80, ckpt.step)
    assert.are.equal(76, #ckpt.vocab)
    assert.are.same({76, 32}, ckpt.model["tok.weight"].shape)
    assert.is_not_nil(ckpt.model["blocks.layers.1.self_attn.in_proj_weight"])
    assert.are.equal(80, polyline_points(assert_svg(out .. "/tiny_transformer_loss.svg"), "loss"))

    r = run("tiny_transformer.lua", "--steps 90 --resume 1 " .. small)
    assert.are.equal(0, r.code, r.show)
    assert(r.stdout:find("resumed from " .. out .. "/tiny_transformer.safetensors at step 80", 1, true), r.show)
    assert.are.equal(90, lucid.load(out .. "/tiny_transformer.safetensors").step)
  end)

  it("a failed check gives a non-zero exit status", function()
    local r = run("spiral.lua", "--epochs 1 --points 30 --grid 4 --out " .. q(TMP .. "/fail"))
    assert.are_not.equal(0, r.code, r.show)
    assert(r.stderr:find("FAILED", 1, true), r.show)
    r = run("xor.lua", "--steps 1 --out " .. q(TMP .. "/fail"))
    assert.are_not.equal(0, r.code, r.show)
    assert(r.stderr:find("FAILED", 1, true), r.show)
    r = run("tiny_transformer.lua", "--steps 1 --block 8 --batch 2 --d-model 8 --layers 1 --sample 1 --out "
      .. q(TMP .. "/fail"))
    assert.are_not.equal(0, r.code, r.show)
    assert(r.stderr:find("FAILED: the loss", 1, true), r.show)
    r = run("sine.lua", "--bogus 3")
    assert.are.equal(2, r.code, r.show)
    assert(r.stderr:find("usage:", 1, true), r.show)
  end)

  it("the XML check itself rejects broken markup", function()
    assert.is_true((check_xml('<?xml version="1.0"?>\n<svg a="1"><g><rect x="1"/></g><text>a &amp; b</text></svg>')))
    assert.is_false((check_xml("<svg><g></svg>")))
    assert.is_false((check_xml('<svg><text>a < b</text></svg>')))
    assert.is_false((check_xml('<svg><text>a & b</text></svg>')))
    assert.is_false((check_xml('<svg x=1></svg>')))
    assert.is_false((check_xml('<svg></svg><svg></svg>')))
  end)

  it("pytorch_models.lua: PyTorch's CNN and LSTM load and match, fine-tune, save under PyTorch's names", function()
    local out = TMP .. "/pytorch"
    local r = run("pytorch_models.lua", "--steps 60 --out " .. q(out))
    assert.are.equal(0, r.code, r.show)
    -- every output within float32 rounding of PyTorch's, as printed
    local seen = {}
    for what, diff, n, largest in r.stdout:gmatch("(%u%u%u?%u? [%w_]+)%s+max |Lucid %- PyTorch| = (%S+) over (%d+) " ..
      "values %(largest (%S+)%): ok") do
      assert(tonumber(diff) <= 1e-4 * math.max(1, tonumber(largest)), what .. "\n" .. r.show)
      seen[#seen + 1] = what .. " " .. n
    end
    assert.are.same({"CNN logits 64", "LSTM logits 80", "LSTM output 960", "LSTM h_n 192", "LSTM c_n 192"}, seen)
    assert(r.stdout:find("outputs: all match PyTorch's", 1, true), r.show)
    assert(r.stdout:find("accuracy on the 16 test images: 100.0% (PyTorch's 100.0%)", 1, true), r.show)
    assert(r.stdout:find("tag accuracy on 31 tokens: 80.6% (PyTorch's 80.6%)", 1, true), r.show)
    local after = tonumber(r.stdout:match("after 60 steps: ([%d.]+)%%"))
    assert(after and after >= 80, r.show)  -- from about 40% before
    assert(r.stdout:find("reload check: ok", 1, true), r.show)
    assert(r.stderr:find("pytorch_models: 100%", 1, true), "no progress bar on stderr\n" .. r.show)

    -- the checkpoint has PyTorch's keys, the buffers counted on from PyTorch's 300 steps
    local ckpt = lucid.load(out .. "/pytorch_cnn_finetuned.safetensors")
    local keys, theirs = {}, {}
    for k in pairs(ckpt) do keys[#keys + 1] = k end
    for k in pairs(lucid.load(ROOT .. "/tests/fixtures/pytorch_cnn.safetensors")) do theirs[#theirs + 1] = k end
    table.sort(keys)
    table.sort(theirs)
    assert.are.same(theirs, keys)
    assert.are.same({8, 1, 3, 3}, ckpt["features.0.weight"].shape)
    assert.are.same({4, 64}, ckpt["classifier.1.weight"].shape)
    assert.are.equal("int64", ckpt["features.1.num_batches_tracked"].dtype)
    assert.are.equal(360, ckpt["features.1.num_batches_tracked"]:item())
    assert.are.same({16, 4}, lucid.load(out .. "/pytorch_cnn_finetuned_logits.safetensors").logits.shape)

    local s = assert_svg(out .. "/pytorch_cnn.svg")
    assert(r.stdout:find("picture: " .. out .. "/pytorch_cnn.svg (8 filters, 16 test images)", 1, true), r.show)
    local filters, images = 0, 0
    for inner in s:gmatch('<g class="filter"[^>]*>(.-)</g>') do filters = filters + select(2, inner:gsub("<rect ", "")) end
    for inner in s:gmatch('<g class="image"[^>]*>(.-)</g>') do images = images + select(2, inner:gsub("<rect ", "")) end
    assert.are.same({8 * 9, 16 * 256}, {filters, images})
    assert.are.equal(16, select(2, s:gsub('class="prediction"', "")))
    local points = count_in_groups(assert_svg(out .. "/pytorch_match.svg"), "match", "circle")
    assert.are.same({64, 80, 960, 192, 192}, points)

    -- a PyTorch output that differs: exit status 1, the line marked
    local models = TMP .. "/pytorch_models_bad"
    os.execute("mkdir -p " .. q(models))
    local fixtures = ROOT .. "/tests/fixtures/"
    local io_t = lucid.load(fixtures .. "pytorch_models_io.safetensors")
    io_t["lstm.c_n"] = io_t["lstm.c_n"] + 1e-3
    lucid.save(io_t, models .. "/pytorch_models_io.safetensors")
    lucid.save(lucid.load(fixtures .. "pytorch_cnn.safetensors"), models .. "/pytorch_cnn.safetensors")
    lucid.save(lucid.load(fixtures .. "pytorch_lstm.safetensors"), models .. "/pytorch_lstm.safetensors")
    r = run("pytorch_models.lua", "--steps 1 --models " .. q(models) .. " --out " .. q(out .. "_bad"))
    assert.are.equal(1, r.code, r.show)
    assert(r.stdout:find("LSTM c_n%s+max |Lucid %- PyTorch| = 0%.001 over 192 values %(largest [%d.]+%): FAILED"),
      r.show)
    assert(r.stdout:find("CNN logits    max |Lucid - PyTorch| = ", 1, true), r.show)
    assert(r.stderr:find("FAILED: outputs differ from PyTorch's", 1, true), r.show)
    -- one fine-tuning step is not enough for the noisier images
    r = run("pytorch_models.lua", "--steps 1 --out " .. q(out .. "_short"))
    assert.are.equal(1, r.code, r.show)
    assert(r.stderr:find("FAILED: the fine%-tuned CNN is [%d.]+%% accurate %(under 80%%%)"), r.show)
    r = run("pytorch_models.lua", "--models " .. q(TMP .. "/nowhere") .. " --out " .. q(TMP .. "/nowhere_out"))
    assert.are.equal(2, r.code, r.show)
    assert(r.stderr:find("cannot load " .. TMP .. "/nowhere/pytorch_models_io.safetensors", 1, true), r.show)
  end)

  it("cnn_classifier.lua: a CNN learns generated shapes, checkpoints, resumes, draws the test images", function()
    local out = TMP .. "/cnn"
    local small = "--train 1000 --test 300 --channels 8 --batch 25 --lr 0.01 --grid 30 --min-accuracy 85 --out "
      .. q(out)
    local r = run("cnn_classifier.lua", "--epochs 2 " .. small)
    assert.are.equal(0, r.code, r.show)
    assert(r.stdout:find("data: 1000 training and 300 test images of 16x16 in 10 classes (disk ring square block "
      .. "triangle diamond plus cross hbars vbars), labels int64", 1, true), r.show)
    assert(r.stdout:find("(1): Conv2d(1, 8, kernel_size={3, 3}", 1, true), r.show)
    assert(r.stdout:find("(2): BatchNorm2d(8, ", 1, true), r.show)
    assert(r.stdout:find("(10): Linear(in_features=256, out_features=10, bias=true)", 1, true), r.show)
    local acc = number_after(r.stdout, "test accuracy:")
    assert(acc and acc >= 85, "test accuracy under 85% after 2 epochs\n" .. r.show)
    assert(r.stderr:find("epoch   2  lr 0.00500  ", 1, true), "the cosine schedule is halfway\n" .. r.show)
    assert(r.stdout:find("reload check: ok", 1, true), r.show)
    assert(r.stderr:find("cnn_classifier: 100% 80/80", 1, true), "no progress bar on stderr\n" .. r.show)
    local path = out .. "/cnn_classifier.safetensors"
    assert(r.stdout:find("checkpoint: " .. path .. " (epoch 2)", 1, true), r.show)
    local ckpt = lucid.load(path)
    assert.are.equal(2, ckpt.epoch)
    assert.are.same({8, 1, 3, 3}, ckpt.model["1.weight"].shape)
    assert.are.same({16}, ckpt.model["6.running_mean"].shape)
    assert.are.same({10, 256}, ckpt.model["10.weight"].shape)
    assert.is_not_nil(ckpt.optim.state)

    -- the picture: 30 test images, the wrong ones framed in red and labelled "predicted (true)"
    local picture = out .. "/cnn_classifier_test.svg"
    local wrong = tonumber(r.stdout:match("test images: " .. picture:gsub("%p", "%%%0") .. " %(30 images, (%d+) wrong%)"))
    assert(wrong, r.show)
    local s = assert_svg(picture)
    local right_cells, wrong_cells = 0, 0
    for kind, inner in s:gmatch('<g class="cell (%a+)">(.-)</g>') do
      assert(inner:find("<path d=\"M", 1, true), "a cell without pixels")
      local label = inner:match("<text[^>]*>([^<]*)</text>")
      if kind == "right" then
        right_cells = right_cells + 1
        assert(label and not label:find("(", 1, true), "a right cell labelled " .. tostring(label))
      else
        wrong_cells = wrong_cells + 1
        assert(inner:find('stroke="#e41a1c"', 1, true), "a wrong cell without its red frame")
        assert(label and label:match("^%a+ %(%a+%)$"), "a wrong cell labelled " .. tostring(label))
      end
    end
    assert.are.equal(30, right_cells + wrong_cells)
    assert.are.equal(wrong, wrong_cells)
    assert(wrong > 0 and wrong <= 15, "after 2 epochs some of the 300 are wrong; at most half the grid shows them")
    assert(#s < 100000, "the picture is larger than it needs to be: " .. #s .. " bytes")

    -- resumed to 3 epochs: the weights, optimizer and schedule continue
    r = run("cnn_classifier.lua", "--epochs 3 --resume " .. small)
    assert.are.equal(0, r.code, r.show)
    assert(r.stdout:find("resumed from " .. path .. " at epoch 2", 1, true), r.show)
    assert(r.stderr:find("epoch   3  lr 0.00250  ", 1, true), r.show)
    assert(not r.stderr:find("epoch   1 ", 1, true), r.show)
    assert(r.stderr:find("cnn_classifier: 100% 40/40", 1, true), r.show)
    assert(number_after(r.stdout, "test accuracy:") >= 85, r.show)
    assert.are.equal(3, lucid.load(path).epoch)

    -- too little training for the default 98%; a checkpoint that is not there
    r = run("cnn_classifier.lua", "--epochs 1 --train 100 --test 50 --channels 4 --grid 5 --out " .. q(out .. "/fail"))
    assert.are.equal(1, r.code, r.show)
    assert(r.stderr:find("FAILED: the test accuracy [%d.]+%% is under 98%%"), r.show)
    r = run("cnn_classifier.lua", "--resume --out " .. q(out .. "/none"))
    assert.are.equal(2, r.code, r.show)
    assert(r.stderr:find("--resume: cannot load " .. out .. "/none/cnn_classifier.safetensors", 1, true), r.show)
  end)
end)
