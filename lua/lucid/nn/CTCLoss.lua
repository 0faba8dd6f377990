--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.CTCLoss(blank = 1, reduction = "mean", zero_infinity = false): as
-- torch.nn.CTCLoss with 1-based classes (PyTorch's blank=0 is blank = 1 here).
local nn = require("lucid.nn")
local args = require("lucid._args")
local losses = require("lucid.nn.losses")

--- The Connectionist Temporal Classification loss: -log of the summed
-- probability of every alignment of each target to its input (repeats and
-- blanks between labels), by the core's alpha-beta kernel. log_probs {T, N, C}
-- (log_softmax over C) or {T, C}; targets int64 of 1-based classes, padded
-- {N, S} or concatenated {sum of target_lengths}; input_lengths and
-- target_lengths tables or int64 tensors {N}. "mean" divides each loss by its
-- target length, then averages. zero_infinity turns impossible alignments
-- (inf) into 0 with a zero gradient. The gradient is PyTorch's (the one with
-- respect to the logits behind a log_softmax).
-- @function CTCLoss
-- @usage nn.CTCLoss([blank = 1 [, reduction = "mean" [, zero_infinity = false]]])(log_probs, targets, input_lengths, target_lengths)  or  F.ctc_loss(log_probs, targets, input_lengths, target_lengths [, blank, reduction, zero_infinity])
-- @within nn: losses
-- @aka nn.functional.ctc_loss lucid.ctc_loss
local CTCLoss = nn.Module:extend("CTCLoss")

CTCLoss.schema = args.schema("nn.CTCLoss", losses.schema_entries("ctc_loss"))

function CTCLoss:__init(...)
  self.blank, self.reduction, self.zero_infinity = CTCLoss.schema:parse(...)
end

function CTCLoss:forward(log_probs, targets, input_lengths, target_lengths)
  return losses._ctc("nn.CTCLoss", log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
    self.zero_infinity)
end

function CTCLoss:extra_repr()
  return "blank=" .. tostring(self.blank) .. ", reduction=" .. self.reduction .. ", zero_infinity="
    .. tostring(self.zero_infinity)
end

return CTCLoss
