--- Part of lucid; help() and `make doc` read these comments.
-- @module lucid

-- The in-place forms PyTorch has beside the ops (t:exp_(), t:clamp_(lo, hi),
-- t:masked_fill_(mask, v), ...), made from the ops themselves: the result is
-- computed out of place, then t takes it (lucid.core._become). While
-- recording, with t or an operand requiring grad, t takes the result's graph
-- (a leaf that requires grad is refused, as in PyTorch); otherwise the values
-- are copied into t (a result t's dtype cannot hold, such as exp_ of an int64
-- tensor, is refused). The optimizers' updates (add_ mul_ addcmul_ ...) are
-- C functions that allocate nothing; these allocate the result once.
local C = require("lucid.core")

--- The in-place form of each elementwise op and of masked_fill, masked_scatter,
-- scatter_add: `t:<op>_(...)` takes the arguments of `t:<op>(...)`, writes the
-- result into t and returns t (see In place for gradients and dtypes).
-- @function exp_
-- @usage t:exp_(), t:relu_(), t:clamp_(lo, hi), t:masked_fill_(mask, value), t:pow_(2), ...
-- @within In place
-- @also lucid.Tensor.relu_ lucid.Tensor.clamp_ lucid.Tensor.masked_fill_

-- Ops beside the elementwise family that have an in-place form in PyTorch.
local OTHERS = {"masked_fill", "masked_scatter", "scatter_add", "clamp", "clamp_min", "clamp_max",
                "gelu", "softplus", "logit", "nan_to_num"}

-- methods: the tensor methods; returns the new methods by name (those not
-- there already: add_, sqrt_ ... stay the C ones).
return function(methods)
  local names = {}
  for _, op in ipairs(C._ops()) do
    if op.family == "elementwise" then names[#names + 1] = op.name end
  end
  for _, name in ipairs(OTHERS) do names[#names + 1] = name end
  local forms = {}
  for _, name in ipairs(names) do
    local op, fname = methods[name], "lucid." .. name .. "_"
    if op and not methods[name .. "_"] then
      forms[name .. "_"] = function(t, ...)
        return C._become(t, op(t, ...), fname)
      end
    end
  end
  return forms
end
