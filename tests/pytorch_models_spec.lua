-- Models trained and saved by PyTorch (scripts/gen_pytorch_models.py:
-- tests/fixtures/pytorch_cnn.safetensors, pytorch_lstm.safetensors, and the
-- test inputs with PyTorch's float32 outputs in pytorch_models_io.safetensors)
-- load here unchanged, under PyTorch's keys, and give PyTorch's outputs; a file
-- with a wrong key or shape is refused naming it; a state dict saved here under
-- PyTorch's names has its keys (`/usr/bin/python3 scripts/gen_pytorch_models.py
-- --check DIR` loads such a file in PyTorch: torch is not needed to test).
-- scripts/pytorch_models.lua is the worked example of the same.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")
local nn = lucid.nn

local FIXTURES = "tests/fixtures/"

-- the modules of gen_pytorch_models.py, under the same names (the example's)
local nets = dofile("scripts/pytorch_models_net.lua")
local CNN, Tagger = nets.CNN, nets.Tagger

local function loaded(cls, file)
  local m = cls()
  local result = m:load_state_dict(lucid.load(FIXTURES .. file))
  assert.are.same({missing_keys = {}, unexpected_keys = {}}, result)
  m:eval()
  return m
end

local function keys_of(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local function load_error(model, sd)
  local ok, err = pcall(model.load_state_dict, model, sd)
  assert.is_false(ok)
  return tostring(err)
end

local io_t = lucid.load(FIXTURES .. "pytorch_models_io.safetensors")

describe("models PyTorch trained and saved as safetensors", function()
  it("the CNN loads under PyTorch's keys (Sequential children from 0) and gives PyTorch's logits", function()
    local sd = lucid.load(FIXTURES .. "pytorch_cnn.safetensors")
    assert.are.same({"classifier.1.bias", "classifier.1.weight", "features.0.bias", "features.0.weight",
      "features.1.bias", "features.1.num_batches_tracked", "features.1.running_mean", "features.1.running_var",
      "features.1.weight", "features.4.bias", "features.4.weight", "features.5.bias",
      "features.5.num_batches_tracked", "features.5.running_mean", "features.5.running_var", "features.5.weight"},
      keys_of(sd))
    local cnn = loaded(CNN, "pytorch_cnn.safetensors")
    -- the trained running statistics and PyTorch's count of batches came in
    local bn = cnn.features[2]
    H.assert_close(bn.running_var, sd["features.1.running_var"], 0, 0)
    assert.are.equal(300, bn.num_batches_tracked:item())
    assert.are.equal("float32", cnn.features[1].weight.dtype)
    local logits = lucid.no_grad(cnn, io_t["cnn.images"])
    H.assert_close(logits, io_t["cnn.logits"], 1e-5, 1e-5, "CNN logits")
    local _, pred = logits:max(2)
    assert.is_true(lucid.equal(pred, io_t["cnn.labels"] + 1))   -- PyTorch got all 16 right
    -- in train mode BatchNorm2d uses the batch's statistics: not PyTorch's eval outputs
    cnn:train()
    assert.is_false(H.check_close(lucid.no_grad(cnn, io_t["cnn.images"]), io_t["cnn.logits"], 1e-3, 1e-3))
  end)

  it("the LSTM tagger gives PyTorch's logits, output, h_n and c_n (1-based token ids)", function()
    local tagger = loaded(Tagger, "pytorch_lstm.safetensors")
    assert.are.same({11, 8}, tagger.embed.weight.shape)
    H.assert_close(tagger.embed.weight[1], lucid.zeros(8), 0, 0, "the padding row")
    local logits, out, hc = lucid.no_grad(tagger, io_t["lstm.tokens"] + 1)
    H.assert_close(logits, io_t["lstm.logits"], 1e-5, 1e-5, "LSTM logits")
    H.assert_close(out, io_t["lstm.output"], 1e-5, 1e-6, "LSTM output")
    H.assert_close(hc[1], io_t["lstm.h_n"], 1e-5, 1e-6, "h_n")
    H.assert_close(hc[2], io_t["lstm.c_n"], 1e-5, 1e-6, "c_n")
  end)

  it("the same weights in float64 agree with PyTorch's float32 outputs to float32 rounding", function()
    local cnn = loaded(CNN, "pytorch_cnn.safetensors"):double()
    H.assert_close(lucid.no_grad(cnn, io_t["cnn.images"]:double()), io_t["cnn.logits"], 1e-4, 1e-4, "CNN")
    local tagger = loaded(Tagger, "pytorch_lstm.safetensors"):double()
    local logits = lucid.no_grad(tagger, io_t["lstm.tokens"] + 1)
    H.assert_close(logits, io_t["lstm.logits"], 1e-4, 1e-4, "LSTM")
  end)

  it("a wrong key or a wrong shape in the file is an error naming it", function()
    local sd = lucid.load(FIXTURES .. "pytorch_cnn.safetensors")
    sd["features.0.weigth"], sd["features.0.weight"] = sd["features.0.weight"], nil
    local err = load_error(CNN(), sd)
    assert.matches('CNN:load_state_dict: missing keys "features.0.weight"; unexpected keys "features.0.weigth"',
      err, 1, true)

    sd = lucid.load(FIXTURES .. "pytorch_lstm.safetensors")
    sd["head.weight"] = lucid.zeros(2, 12)
    err = load_error(Tagger(), sd)
    assert.matches('Tagger:load_state_dict: shape mismatch for "head.weight": the module has {2, 24}, ' ..
      "the state dict {2, 12}", err, 1, true)

    -- an LSTM of one layer where PyTorch saved two: the second layer's keys are unexpected
    sd = lucid.load(FIXTURES .. "pytorch_lstm.safetensors")
    local one = Tagger()
    one.lstm = nn.LSTM(8, 12, {num_layers = 1, batch_first = true, bidirectional = true})
    err = load_error(one, sd)
    assert.matches('unexpected keys "lstm.bias_hh_l1"', err, 1, true)
    -- not strict: the rest loads, and the result names what was left out
    local result = one:load_state_dict(sd, false)
    assert.are.equal(8, #result.unexpected_keys)
    assert.are.same({}, result.missing_keys)
    H.assert_close(one.lstm.weight_hh_l0_reverse, sd["lstm.weight_hh_l0_reverse"], 0, 0)
  end)

  it("a state dict saved here under PyTorch's names has PyTorch's keys and loads back", function()
    local cnn = loaded(CNN, "pytorch_cnn.safetensors")
    local pt = {}
    for name, t in pairs(cnn:state_dict()) do
      pt[(name:gsub("^(%w+)%.(%d+)%.", function(m, i) return m .. "." .. (tonumber(i) - 1) .. "." end))] = t
    end
    assert.are.same(keys_of(lucid.load(FIXTURES .. "pytorch_cnn.safetensors")), keys_of(pt))
    local dir = H.capture("mktemp -d"):gsub("%s+$", "")
    local ok, err = pcall(function()
      lucid.save(pt, dir .. "/pytorch_cnn_finetuned.safetensors")
      local again = CNN()
      again:load_state_dict(lucid.load(dir .. "/pytorch_cnn_finetuned.safetensors"))
      again:eval()
      assert.is_true(lucid.equal(lucid.no_grad(again, io_t["cnn.images"]), lucid.no_grad(cnn, io_t["cnn.images"])))
    end)
    os.execute("rm -rf '" .. dir .. "'")
    assert(ok, err)
  end)
end)
