-- One argument checker (lucid._args) for the whole Lua library: every
-- constructor and function with options takes them positionally, in a
-- trailing table or as one table of names, and never ignores one; errors
-- point at the caller's line.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")
local nn = require("lucid.nn")
local optim = require("lucid.optim")
local lr_scheduler = require("lucid.optim.lr_scheduler")
local data = require("lucid.data")
local autograd = require("lucid.autograd")
local F = require("lucid.nn.functional")
local args = require("lucid._args")

local SPEC = debug.getinfo(1, "S").short_src:match("[^/\\]+$")  -- "options_spec.lua"

-- pcall(f, ...) must fail with a message containing every text given.
local function fails(texts, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error containing: " .. table.concat(texts, " | "))
  err = tostring(err)
  for _, t in ipairs(texts) do
    assert.is_truthy(err:find(t, 1, true), string.format("error %q does not contain %q", err, t))
  end
  return err
end

-- Load every part of the library, so that every schema is registered.
for _ in pairs(nn) do end
require("lucid.serialize")
require("lucid.progress")
require("lucid.format")

local function f64(t) return lucid.tensor(t, {dtype = "float64", requires_grad = true}) end

describe("options: every function with options refuses an unknown one", function()
  local p = nn.Parameter(lucid.zeros(2))
  local t = lucid.zeros(2, 2)
  local q3 = lucid.zeros(2, 1, 4)
  local function opt() return optim.SGD({nn.Parameter(lucid.zeros(2))}, 0.1) end
  local path = os.tmpname()
  local B = {bogus_option = 1}
  local seq_opt = opt()
  -- {schema name, function, positional arguments before the table of names}
  local cases = {
    {"nn.Linear", nn.Linear, 2, 3},
    {"nn.Bilinear", nn.Bilinear, 2, 3, 4},
    {"nn.Embedding", nn.Embedding, 3, 2},
    {"nn.Embedding.from_pretrained", nn.Embedding.from_pretrained, t},
    {"nn.LayerNorm", nn.LayerNorm, 4},
    {"nn.BatchNorm1d", nn.BatchNorm1d, 4},
    {"nn.BatchNorm2d", nn.BatchNorm2d, 4},
    {"nn.InstanceNorm2d", nn.InstanceNorm2d, 4},
    {"nn.GroupNorm", nn.GroupNorm, 2, 4},
    {"nn.LocalResponseNorm", nn.LocalResponseNorm, 2},
    {"nn.Upsample", nn.Upsample, 2},
    {"nn.UpsamplingNearest2d", nn.UpsamplingNearest2d, 2},
    {"nn.UpsamplingBilinear2d", nn.UpsamplingBilinear2d, 2},
    {"nn.MaxPool1d", nn.MaxPool1d, 2},
    {"nn.MaxPool2d", nn.MaxPool2d, 2},
    {"nn.AvgPool1d", nn.AvgPool1d, 2},
    {"nn.AvgPool2d", nn.AvgPool2d, 2},
    {"nn.AdaptiveAvgPool1d", nn.AdaptiveAvgPool1d, 2},
    {"nn.AdaptiveAvgPool2d", nn.AdaptiveAvgPool2d, 2},
    {"nn.AdaptiveMaxPool1d", nn.AdaptiveMaxPool1d, 2},
    {"nn.AdaptiveMaxPool2d", nn.AdaptiveMaxPool2d, 2},
    {"nn.MaxUnpool1d", nn.MaxUnpool1d, 2},
    {"nn.MaxUnpool2d", nn.MaxUnpool2d, 2},
    {"nn.Dropout", nn.Dropout},
    {"nn.ReLU", nn.ReLU},
    {"nn.LeakyReLU", nn.LeakyReLU},
    {"nn.ELU", nn.ELU},
    {"nn.SELU", nn.SELU},
    {"nn.GELU", nn.GELU},
    {"nn.SiLU", nn.SiLU},
    {"nn.Sigmoid", nn.Sigmoid},
    {"nn.Tanh", nn.Tanh},
    {"nn.Softplus", nn.Softplus},
    {"nn.Softmax", nn.Softmax, 1},
    {"nn.LogSoftmax", nn.LogSoftmax, 1},
    {"nn.Hardtanh", nn.Hardtanh},
    {"nn.Identity", nn.Identity},
    {"nn.Flatten", nn.Flatten},
    {"nn.Unflatten", nn.Unflatten, 2, {2, 2}},
    {"nn.Sequential", nn.Sequential, nn.ReLU()},
    {"nn.ModuleList", nn.ModuleList, {nn.ReLU()}},
    {"nn.ModuleDict", nn.ModuleDict, {a = nn.ReLU()}},
    {"nn.MSELoss", nn.MSELoss},
    {"nn.L1Loss", nn.L1Loss},
    {"nn.HuberLoss", nn.HuberLoss},
    {"nn.SmoothL1Loss", nn.SmoothL1Loss},
    {"nn.CrossEntropyLoss", nn.CrossEntropyLoss},
    {"nn.NLLLoss", nn.NLLLoss},
    {"nn.BCELoss", nn.BCELoss},
    {"nn.BCEWithLogitsLoss", nn.BCEWithLogitsLoss},
    {"nn.functional.mse_loss", F.mse_loss, t, t},
    {"nn.functional.l1_loss", F.l1_loss, t, t},
    {"nn.functional.huber_loss", F.huber_loss, t, t},
    {"nn.functional.smooth_l1_loss", F.smooth_l1_loss, t, t},
    {"nn.functional.cross_entropy", F.cross_entropy, t, t},
    {"nn.functional.nll_loss", F.nll_loss, t, t},
    {"nn.functional.binary_cross_entropy", F.binary_cross_entropy, t, t},
    {"nn.functional.binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits, t, t},
    {"nn.KLDivLoss", nn.KLDivLoss},
    {"nn.CosineEmbeddingLoss", nn.CosineEmbeddingLoss},
    {"nn.MarginRankingLoss", nn.MarginRankingLoss},
    {"nn.TripletMarginLoss", nn.TripletMarginLoss},
    {"nn.MultiLabelSoftMarginLoss", nn.MultiLabelSoftMarginLoss},
    {"nn.PoissonNLLLoss", nn.PoissonNLLLoss},
    {"nn.GaussianNLLLoss", nn.GaussianNLLLoss},
    {"nn.CosineSimilarity", nn.CosineSimilarity},
    {"nn.PairwiseDistance", nn.PairwiseDistance},
    {"nn.functional.kl_div", F.kl_div, t, t},
    {"nn.functional.cosine_embedding_loss", F.cosine_embedding_loss, t, t, t},
    {"nn.functional.margin_ranking_loss", F.margin_ranking_loss, t, t, t},
    {"nn.functional.triplet_margin_loss", F.triplet_margin_loss, t, t, t},
    {"nn.functional.multilabel_soft_margin_loss", F.multilabel_soft_margin_loss, t, t},
    {"nn.functional.poisson_nll_loss", F.poisson_nll_loss, t, t},
    {"nn.functional.gaussian_nll_loss", F.gaussian_nll_loss, t, t, t},
    {"nn.functional.cosine_similarity", F.cosine_similarity, t, t},
    {"nn.functional.pairwise_distance", F.pairwise_distance, t, t},
    {"nn.Dropout1d", nn.Dropout1d},
    {"nn.Dropout2d", nn.Dropout2d},
    {"nn.PixelShuffle", nn.PixelShuffle, 2},
    {"nn.PixelUnshuffle", nn.PixelUnshuffle, 2},
    {"nn.functional.dropout1d", F.dropout1d, t},
    {"nn.functional.dropout2d", F.dropout2d, t},
    {"nn.functional.pixel_shuffle", F.pixel_shuffle, t, 2},
    {"nn.functional.pixel_unshuffle", F.pixel_unshuffle, t, 2},
    {"nn.CTCLoss", nn.CTCLoss},
    {"nn.functional.ctc_loss", F.ctc_loss, t, t, t, t},
    {"nn.functional.one_hot", F.one_hot, lucid.ones(2, {dtype = "int64"})},
    {"nn.functional.batch_norm", F.batch_norm, lucid.zeros(2, 2), lucid.zeros(2), lucid.ones(2)},
    {"nn.functional.group_norm", F.group_norm, lucid.zeros(2, 2), 1},
    {"nn.functional.layer_norm", F.layer_norm, lucid.zeros(2, 2), 2},
    {"nn.functional.instance_norm", F.instance_norm, lucid.zeros(2, 2, 2)},
    {"nn.functional.local_response_norm", F.local_response_norm, lucid.zeros(2, 2, 2), 2},
    {"nn.functional.interpolate", F.interpolate, lucid.zeros(1, 1, 2), 4},
    {"nn.functional.affine_grid", F.affine_grid, lucid.zeros(1, 2, 3), {1, 1, 2, 2}},
    {"nn.functional.grid_sample", F.grid_sample, lucid.zeros(1, 1, 2, 2), lucid.zeros(1, 2, 2, 2)},
    {"nn.functional.max_pool1d", F.max_pool1d, lucid.zeros(1, 4), 2},
    {"nn.functional.max_pool2d", F.max_pool2d, lucid.zeros(1, 4, 4), 2},
    {"nn.functional.avg_pool1d", F.avg_pool1d, lucid.zeros(1, 4), 2},
    {"nn.functional.avg_pool2d", F.avg_pool2d, lucid.zeros(1, 4, 4), 2},
    {"nn.functional.adaptive_avg_pool1d", F.adaptive_avg_pool1d, lucid.zeros(1, 4), 2},
    {"nn.functional.adaptive_avg_pool2d", F.adaptive_avg_pool2d, lucid.zeros(1, 4, 4), 2},
    {"nn.functional.adaptive_max_pool1d", F.adaptive_max_pool1d, lucid.zeros(1, 4), 2},
    {"nn.functional.adaptive_max_pool2d", F.adaptive_max_pool2d, lucid.zeros(1, 4, 4), 2},
    {"nn.functional.max_unpool1d", F.max_unpool1d, lucid.zeros(1, 2), lucid.ones(1, 2, {dtype = "int64"}), 2},
    {"nn.functional.max_unpool2d", F.max_unpool2d, lucid.zeros(1, 2, 2), lucid.ones(1, 2, 2, {dtype = "int64"}), 2},
    {"nn.init.uniform_", nn.init.uniform_, t},
    {"nn.init.normal_", nn.init.normal_, t},
    {"nn.init.constant_", nn.init.constant_, t, 1},
    {"nn.init.zeros_", nn.init.zeros_, t},
    {"nn.init.ones_", nn.init.ones_, t},
    {"nn.init.xavier_uniform_", nn.init.xavier_uniform_, t},
    {"nn.init.xavier_normal_", nn.init.xavier_normal_, t},
    {"nn.init.kaiming_uniform_", nn.init.kaiming_uniform_, t},
    {"nn.init.kaiming_normal_", nn.init.kaiming_normal_, t},
    {"nn.init.calculate_gain", nn.init.calculate_gain, "relu"},
    {"nn.utils.clip_grad_norm_", nn.utils.clip_grad_norm_, {p}, 1},
    {"nn.utils.clip_grad_value_", nn.utils.clip_grad_value_, {p}, 1},
    {"optim.SGD", optim.SGD, {p}, 0.1},
    {"optim.Adam", optim.Adam, {p}},
    {"optim.AdamW", optim.AdamW, {p}},
    {"optim.RMSprop", optim.RMSprop, {p}},
    {"optim.Adagrad", optim.Adagrad, {p}},
    {"optim.Optimizer:zero_grad", function(...) return opt():zero_grad(...) end},
    {"nn.Module:train", function(...) return nn.ReLU():train(...) end},
    {"nn.Module:reuse_buffers", function(...) return nn.ReLU():reuse_buffers(...) end},
    {"nn.Module:to", function(...) return nn.Linear(1, 1):to(...) end},
    {"nn.Module:double", function(...) return nn.Linear(1, 1):double(...) end},
    {"nn.Module:float", function(...) return nn.Linear(1, 1):float(...) end},
    {"nn.Module:apply", function(...) return nn.ReLU():apply(...) end, print},
    {"nn.Module:requires_grad_", function(...) return nn.Linear(1, 1):requires_grad_(...) end},
    {"nn.Module:get_submodule", function(...) return nn.Sequential(nn.ReLU()):get_submodule(...) end, "1"},
    {"nn.Module:get_parameter", function(...) return nn.Linear(1, 1):get_parameter(...) end, "weight"},
    {"nn.Module:get_buffer", function(...) return nn.BatchNorm1d(1):get_buffer(...) end, "running_mean"},
    {"lr_scheduler.StepLR", lr_scheduler.StepLR, opt(), 2},
    {"lr_scheduler.ExponentialLR", lr_scheduler.ExponentialLR, opt(), 0.5},
    {"lr_scheduler.CosineAnnealingLR", lr_scheduler.CosineAnnealingLR, opt(), 10},
    {"lr_scheduler.LambdaLR", lr_scheduler.LambdaLR, opt(), function() return 1 end},
    {"lr_scheduler.MultiStepLR", lr_scheduler.MultiStepLR, opt(), {2}},
    {"lr_scheduler.LinearLR", lr_scheduler.LinearLR, opt()},
    {"lr_scheduler.CosineAnnealingWarmRestarts", lr_scheduler.CosineAnnealingWarmRestarts, opt(), 2},
    {"lr_scheduler.OneCycleLR", lr_scheduler.OneCycleLR, opt(), 1, 4},
    {"lr_scheduler.ReduceLROnPlateau", lr_scheduler.ReduceLROnPlateau, opt()},
    {"lr_scheduler.SequentialLR", lr_scheduler.SequentialLR, seq_opt, {lr_scheduler.LinearLR(seq_opt)}, {}},
    {"lucid.data.DataLoader", data.DataLoader, data.TensorDataset(t)},
    {"lucid.data.Subset", data.Subset, data.TensorDataset(t), {1}},
    {"lucid.data.random_split", data.random_split, data.TensorDataset(t), {0.5, 0.5}},
    {"lucid.progress", lucid.progress, 3},
    {"lucid.save", lucid.save, {w = t}, path},
    {"lucid.load", lucid.load, path},
    {"lucid.set_printoptions", lucid.set_printoptions},
    {"lucid.autograd.gradcheck", autograd.gradcheck, lucid.tanh, {f64({1})}},
    {"lucid.autograd.gradgradcheck", autograd.gradgradcheck, lucid.tanh, {f64({1})}},
    {"lucid.addmm", lucid.addmm, t, t, t},
    {"lucid.zeros_like", lucid.zeros_like, t},
    {"lucid.ones_like", lucid.ones_like, t},
    {"lucid.rand_like", lucid.rand_like, t},
    {"lucid.randn_like", lucid.randn_like, t},
    {"lucid.empty_like", lucid.empty_like, t},
    {"lucid.full_like", lucid.full_like, t, 1},
    {"lucid.normal", lucid.normal, 0, 1, {2}},
    {"lucid.take_along_dim", lucid.take_along_dim, t, lucid.ones(1, {dtype = "int64"})},
    {"lucid.tril", lucid.tril, t},
    {"lucid.triu", lucid.triu, t},
    {"lucid.diag", lucid.diag, t},
    {"lucid.diag_embed", lucid.diag_embed, t},
    {"lucid.diagonal", lucid.diagonal, t},
    {"lucid.trace", lucid.trace, t},
    {"lucid.roll", lucid.roll, t, 1},
    {"lucid.rot90", lucid.rot90, t},
    {"lucid.movedim", lucid.movedim, t, 1, 2},
    {"lucid.moveaxis", lucid.moveaxis, t, 1, 2},
    {"lucid.unbind", lucid.unbind, t},
    {"lucid.hstack", lucid.hstack, {t}},
    {"lucid.vstack", lucid.vstack, {t}},
    {"lucid.dstack", lucid.dstack, {t}},
    {"lucid.meshgrid", lucid.meshgrid, t[1]},
    {"lucid.repeat_interleave", lucid.repeat_interleave, t, 2},
    {"lucid.cross", lucid.cross, t, t},
    {"lucid.kron", lucid.kron, t, t},
    {"lucid.tensordot", lucid.tensordot, t, t},
    {"lucid.baddbmm", lucid.baddbmm, t, t, t},
    {"lucid.addbmm", lucid.addbmm, t, t, t},
    {"lucid.addmv", lucid.addmv, t, t, t},
    {"lucid.cumprod", lucid.cumprod, t, 1},
    {"lucid.aminmax", lucid.aminmax, t},
    {"lucid.linalg.vector_norm", lucid.linalg.vector_norm, t},
    {"lucid.linalg.matrix_norm", lucid.linalg.matrix_norm, t},
    {"lucid.linalg.norm", lucid.linalg.norm, t},
    {"lucid.linalg.cond", lucid.linalg.cond, t},
    {"lucid.linalg.matrix_rank", lucid.linalg.matrix_rank, t},
    {"lucid.linalg.lu", lucid.linalg.lu, t},
    {"lucid.lu_unpack", lucid.lu_unpack, t, lucid.tensor({1, 2}, {dtype = "int32"})},
    {"nn.functional.scaled_dot_product_attention", F.scaled_dot_product_attention, t, t, t},
    {"nn.MultiheadAttention", nn.MultiheadAttention, 4, 2},
    {"nn.MultiheadAttention.forward", function(...) return nn.MultiheadAttention(4, 2)(...) end, q3, q3, q3},
    {"nn.TransformerEncoderLayer", nn.TransformerEncoderLayer, 4, 2},
    {"nn.TransformerEncoderLayer.forward", function(...) return nn.TransformerEncoderLayer(4, 2, 8)(...) end, q3},
    {"nn.TransformerDecoderLayer", nn.TransformerDecoderLayer, 4, 2},
    {"nn.TransformerDecoderLayer.forward", function(...) return nn.TransformerDecoderLayer(4, 2, 8)(...) end,
     q3, q3},
    {"nn.TransformerEncoder", nn.TransformerEncoder, nn.TransformerEncoderLayer(4, 2, 8), 1},
    {"nn.TransformerEncoder.forward", function(...)
      return nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8), 1)(...)
    end, q3},
    {"nn.TransformerDecoder", nn.TransformerDecoder, nn.TransformerDecoderLayer(4, 2, 8), 1},
    {"nn.TransformerDecoder.forward", function(...)
      return nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 8), 1)(...)
    end, q3, q3},
    {"nn.Transformer", nn.Transformer},
    {"nn.Transformer.forward", function(...) return nn.Transformer(4, 2, 1, 1, 8)(...) end, q3, q3},
    {"nn.Transformer.generate_square_subsequent_mask", nn.Transformer.generate_square_subsequent_mask, 2},
    {"nn.functional.conv1d", F.conv1d, lucid.zeros(1, 1, 3), lucid.zeros(1, 1, 1)},
    {"nn.functional.conv2d", F.conv2d, lucid.zeros(1, 1, 3, 3), lucid.zeros(1, 1, 1, 1)},
    {"nn.functional.conv_transpose1d", F.conv_transpose1d, lucid.zeros(1, 1, 3), lucid.zeros(1, 1, 1)},
    {"nn.functional.conv_transpose2d", F.conv_transpose2d, lucid.zeros(1, 1, 3, 3), lucid.zeros(1, 1, 1, 1)},
    {"nn.functional.pad", F.pad, t, {1, 1}},
    {"nn.functional.unfold", F.unfold, lucid.zeros(1, 1, 3, 3), 2},
    {"nn.functional.fold", F.fold, lucid.zeros(1, 4, 4), 3, 2},
    {"nn.Conv1d", nn.Conv1d, 1, 1, 1},
    {"nn.Conv2d", nn.Conv2d, 1, 1, 1},
    {"nn.ConvTranspose1d", nn.ConvTranspose1d, 1, 1, 1},
    {"nn.ConvTranspose2d", nn.ConvTranspose2d, 1, 1, 1},
    {"nn.ZeroPad2d", nn.ZeroPad2d, 1},
    {"nn.ConstantPad1d", nn.ConstantPad1d, 1, 0},
    {"nn.ConstantPad2d", nn.ConstantPad2d, 1, 0},
    {"nn.ReflectionPad1d", nn.ReflectionPad1d, 1},
    {"nn.ReflectionPad2d", nn.ReflectionPad2d, 1},
    {"nn.ReplicationPad1d", nn.ReplicationPad1d, 1},
    {"nn.ReplicationPad2d", nn.ReplicationPad2d, 1},
    {"nn.Unfold", nn.Unfold, 2},
    {"nn.Fold", nn.Fold, 3, 2},
    {"nn.RNN", nn.RNN, 2, 3},
    {"nn.LSTM", nn.LSTM, 2, 3},
    {"nn.GRU", nn.GRU, 2, 3},
    {"nn.RNNCell", nn.RNNCell, 2, 3},
    {"nn.LSTMCell", nn.LSTMCell, 2, 3},
    {"nn.GRUCell", nn.GRUCell, 2, 3},
    {"nn.utils.rnn.pad_sequence", nn.utils.rnn.pad_sequence, {t}},
    {"nn.utils.rnn.pack_padded_sequence", nn.utils.rnn.pack_padded_sequence, t, {2, 1}},
    {"nn.utils.rnn.pad_packed_sequence", nn.utils.rnn.pad_packed_sequence,
     nn.utils.rnn.pack_sequence({t, t})},
    {"nn.utils.rnn.pack_sequence", nn.utils.rnn.pack_sequence, {t}},
  }

  it("covers every schema the library registers (a new one needs a case here)", function()
    local covered = {}
    for _, c in ipairs(cases) do covered[c[1]] = true end
    local missing = {}
    for name in pairs(args.schemas) do
      if not covered[name] then missing[#missing + 1] = name end
    end
    table.sort(missing)
    assert.are.same({}, missing)
  end)

  it("every nn class, optimizer and scheduler exposes its schema", function()
    for name, v in pairs(nn) do
      if type(v) == "table" and rawget(v, "__name") and v.extend == nn.Module.extend and name ~= "Module" then
        assert.is_not_nil(rawget(v, "schema"), "nn." .. name .. " has no schema")
        assert.are.equal("nn." .. name, v.schema.name)
      end
    end
    for _, name in ipairs({"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"}) do
      assert.are.equal("optim." .. name, optim[name].schema.name)
    end
    for _, name in ipairs({"StepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR"}) do
      assert.are.equal("lr_scheduler." .. name, lr_scheduler[name].schema.name)
    end
    -- names in PyTorch's order, inspectable
    assert.are.same({"in_features", "out_features", "bias"}, nn.Linear.schema.names)
    assert.is_true(nn.Linear.schema.index.in_features.required)
    assert.are.equal(true, nn.Linear.schema.index.bias.default)
  end)

  for _, c in ipairs(cases) do
    it(c[1] .. " names itself and the key", function()
      local a = {H.unpack(c, 3)}
      a[#a + 1] = B
      fails({c[1] .. ": ", "unknown option 'bogus_option'"}, c[2], H.unpack(a, 1, #a))
    end)
  end
  os.remove(path)
end)

describe("options: the issue's cases", function()
  it("nn.Linear(2, 3, {bias = false}) has no bias, in all three forms", function()
    for _, l in ipairs({nn.Linear(2, 3, false), nn.Linear(2, 3, {bias = false}),
                        nn.Linear{in_features = 2, out_features = 3, bias = false}}) do
      assert.is_nil(l.bias)
      assert.are.same({3, 2}, l.weight.shape)
      assert.are.equal(1, #l:parameters())
    end
    assert.is_not_nil(nn.Linear(2, 3).bias)
  end)

  it("a typo gets the nearest name", function()
    fails({"nn.CrossEntropyLoss: unknown option 'reduce' (did you mean 'reduction'?)"},
      nn.CrossEntropyLoss, {reduce = "sum"})
    fails({"nn.LayerNorm: unknown option 'esp' (did you mean 'eps'?)"}, nn.LayerNorm, 4, {esp = 1e-3})
    fails({"lucid.zeros_like: unknown option 'dtyp' (did you mean 'dtype'?)"}, lucid.zeros_like,
      lucid.zeros(2), {dtyp = "float64"})
    fails({"optim.Adam: unknown option 'weight_decy' (did you mean 'weight_decay'?)"}, optim.Adam,
      {nn.Parameter(lucid.zeros(1))}, {weight_decy = 0.1})
    -- no suggestion when nothing is close
    local err = fails({"nn.Dropout: unknown option 'colour'"}, nn.Dropout, {colour = 1})
    assert.is_nil(err:find("did you mean", 1, true), err)
  end)

  it("a PyTorch option this library does not have is refused by name", function()
    fails({"nn.Linear: option 'device' is not supported"}, nn.Linear, 2, 3, {device = "cuda"})
    fails({"nn.Embedding: option 'sparse' is not supported"}, nn.Embedding, 3, 2, {sparse = false})
    fails({"optim.SGD: option 'foreach' is not supported"}, optim.SGD, {nn.Parameter(lucid.zeros(1))},
      {lr = 0.1, foreach = true})
    fails({"lucid.data.DataLoader: option 'num_workers' is not supported"}, data.DataLoader,
      data.TensorDataset(lucid.zeros(3)), {num_workers = 0})
  end)

  it("a wrong type names the option, the expected type and what was given", function()
    fails({"nn.Linear: bias must be a boolean, got string"}, nn.Linear, 2, 3, {bias = "no"})
    fails({"nn.LayerNorm: eps must be a number, got string"}, nn.LayerNorm, 4, {eps = "small"})
    fails({"nn.Dropout: p must be a probability between 0 and 1, got 2"}, nn.Dropout, {p = 2})
    fails({"nn.GELU: approximate must be 'none' or 'tanh', got 'fast'"}, nn.GELU, {approximate = "fast"})
  end)

  it("the same option positionally and by name is an error", function()
    fails({"nn.Linear: option 'bias' given twice (positionally and by name)"}, nn.Linear, 2, 3, true,
      {bias = false})
    fails({"nn.LayerNorm: option 'normalized_shape' given twice"}, nn.LayerNorm, 4, {normalized_shape = 4})
    fails({"nn.Linear: too many arguments"}, nn.Linear, 2, 3, true, 4)
  end)

  it("LayerNorm eps and Dropout p: positional, trailing table and one table agree", function()
    for _, ln in ipairs({nn.LayerNorm(4, 1e-3), nn.LayerNorm(4, {eps = 1e-3}),
                         nn.LayerNorm{normalized_shape = 4, eps = 1e-3}, nn.LayerNorm({4}, {eps = 1e-3})}) do
      assert.are.equal(1e-3, ln.eps)
      assert.are.same({4}, ln.normalized_shape)
    end
    for _, d in ipairs({nn.Dropout(0.3), nn.Dropout(0.3, {}), nn.Dropout{p = 0.3}, nn.Dropout(0.3, false)}) do
      assert.are.equal(0.3, d.p)
    end
    fails({"nn.Dropout: inplace = true is not supported"}, nn.Dropout, {inplace = true})
  end)

  it("more layers take the three forms alike", function()
    local a = nn.BatchNorm1d(4, 1e-3, false)
    local b = nn.BatchNorm1d(4, {eps = 1e-3, momentum = false})
    local c = nn.BatchNorm1d{num_features = 4, eps = 1e-3, momentum = false}
    for _, bn in ipairs({a, b, c}) do
      assert.are.equal(1e-3, bn.eps)
      assert.are.equal(false, bn.momentum)
    end
    local l1 = nn.CrossEntropyLoss(nil, -100, "sum", 0.1)
    local l2 = nn.CrossEntropyLoss{reduction = "sum", label_smoothing = 0.1}
    assert.are.equal(l1.reduction, l2.reduction)
    assert.are.equal(l1.label_smoothing, l2.label_smoothing)
    assert.are.equal(3, nn.Flatten(2, 3).end_dim)
    assert.are.equal(3, nn.Flatten{end_dim = 3}.end_dim)
    assert.are.equal(3, nn.Flatten(2, {end_dim = 3}).end_dim)
  end)

  it("an option that takes a table can be given by name in the trailing table", function()
    local opt = lucid.optim.SGD({lucid.zeros(1, {requires_grad = true})}, {lr = 1})
    local function two() return {lr_scheduler.LinearLR(opt), lr_scheduler.LinearLR(opt)} end
    local positional = lr_scheduler.SequentialLR(opt, two(), {3})
    local named = lr_scheduler.SequentialLR(opt, two(), {milestones = {3}})
    local one_table = lr_scheduler.SequentialLR(opt, {schedulers = two(), milestones = {3}})
    for _, s in ipairs({positional, named, one_table}) do assert.are.same({3}, s._milestones) end
    -- a table whose keys are not all option names is still the value
    fails({"lr_scheduler.SequentialLR: milestones must be an array of integers, got a table with the key steps"},
      lr_scheduler.SequentialLR, opt, two(), {steps = {3}})
  end)
end)

describe("options: errors point at the caller's line", function()
  local function at_line(line, err)
    err = tostring(err)
    assert.is_truthy(err:find(SPEC .. ":" .. line .. ":", 1, true),
      string.format("error %q does not point at %s:%d", err, SPEC, line))
  end

  it("from a layer's forward", function()
    local ln = nn.LayerNorm(4)
    local line, ok, err = debug.getinfo(1, "l").currentline, pcall(function() local y = ln(lucid.zeros(2, 3)) return y end)
    assert.is_false(ok)
    at_line(line, err)
    assert.is_truthy(err:find("nn.LayerNorm: input {2, 3}", 1, true), err)
  end)

  it("from a loss", function()
    local loss = nn.MSELoss()
    local line, ok, err = debug.getinfo(1, "l").currentline, pcall(function() local l = loss(lucid.zeros(3), lucid.zeros(2)) return l end)
    assert.is_false(ok)
    at_line(line, err)
    line, ok, err = debug.getinfo(1, "l").currentline, pcall(function() local l = F.cross_entropy(lucid.zeros(2, 3), lucid.tensor({1, 9})) return l end)
    assert.is_false(ok)
    at_line(line, err)
  end)

  it("from an optimizer step and a scheduler step", function()
    local opt = optim.SGD({nn.Parameter(lucid.zeros(2))}, 0.1)
    local line, ok, err = debug.getinfo(1, "l").currentline, pcall(function() local r = opt:step(42) return r end)
    assert.is_false(ok)
    at_line(line, err)
    assert.is_truthy(err:find("optim.SGD:step: closure must be a function", 1, true), err)
    local sched = lr_scheduler.StepLR(opt, 2)
    line, ok, err = debug.getinfo(1, "l").currentline, pcall(function() local r = sched:step(1.5) return r end)
    assert.is_false(ok)
    at_line(line, err)
  end)

  it("from linalg's mm, under mm's own name", function()
    local a, b = lucid.zeros(2, 3), lucid.zeros(4, 5)
    local line, ok, err = debug.getinfo(1, "l").currentline, pcall(function() local c = lucid.mm(a, b) return c end)
    assert.is_false(ok)
    at_line(line, err)
    assert.is_truthy(err:find("lucid.mm: shapes {2, 3} and {4, 5} do not fit (3 ~= 4)", 1, true), err)
  end)

  it("from a constructor's options", function()
    local line, ok, err = debug.getinfo(1, "l").currentline, pcall(function() local l = nn.Linear(2, 3, {bais = false}) return l end)
    assert.is_false(ok)
    at_line(line, err)
    assert.is_truthy(err:find("nn.Linear: unknown option 'bais' (did you mean 'bias'?)", 1, true), err)
  end)
end)

describe("options: reuse_buffers goes through Module:_buffer", function()
  it("Linear and Tanh write into one kept buffer when recording is off", function()
    lucid.manual_seed(3)
    local model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    local x = lucid.randn(3, 4)
    local want = lucid.no_grad(function() return model(x):tolist() end)
    model:reuse_buffers()
    local y1 = lucid.no_grad(model, x)
    local y2 = lucid.no_grad(model, x)
    assert.are.equal(y1, y2)                 -- the same tensor, rewritten
    assert.are.same(want, y2:tolist())
    local y3 = model(x)                      -- recording on: a new tensor
    assert.are_not.equal(y1, y3)
    model:reuse_buffers(false)
    assert.are_not.equal(lucid.no_grad(model, x), lucid.no_grad(model, x))
  end)
end)

describe("lucid.autograd.gradgradcheck", function()
  it("checks second derivatives by finite differences", function()
    -- second derivatives of smooth functions pass
    assert.is_true(autograd.gradgradcheck(function(x) return x * x * x end, {f64({0.5, -1, 2})}))
    assert.is_true(autograd.gradgradcheck(function(a, b) return lucid.tanh(a:matmul(b)) end,
      {lucid.randn(2, 3, {dtype = "float64", requires_grad = true}),
       lucid.randn(3, 2, {dtype = "float64", requires_grad = true})}))
    -- a backward that is right but not itself differentiable fails the check
    local Cube = autograd.Function:extend("CubeDetached")
    function Cube.forward(ctx, x) ctx:save_for_backward(x) return x * x * x end
    function Cube.backward(ctx, g) local x = ctx.saved_tensors[1] return g * 3 * x * x end
    local ok, msg = autograd.gradgradcheck(function(x) return Cube.apply(x) end, {f64({1, 2})},
      {raise = false})
    assert.is_false(ok)
    assert.is_truthy(msg:find("input 1, element 1", 1, true), msg)
  end)

  it("checks its arguments like gradcheck", function()
    fails({"lucid.autograd.gradgradcheck: fn must be a function, got number"}, autograd.gradgradcheck, 5, {})
    fails({"lucid.autograd.gradgradcheck: unknown option 'epsilon'"}, autograd.gradgradcheck, lucid.tanh,
      {f64({1})}, {epsilon = 1e-3})
  end)
end)
