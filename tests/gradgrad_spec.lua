-- Second derivatives of every differentiable op of the registry
-- (require("lucid.core")._ops()): each op's backward, recorded with
-- create_graph = true, must itself be differentiated right. One table,
-- `cases`, maps each registry op name to small float64 cases
-- {fn = function(inputs...) return <tensor> end, inputs = {...}}, checked
-- by lucid.autograd.gradgradcheck (finite differences of the first
-- derivatives); a completeness check ties the table to the registry; and one
-- Hessian-vector product across the families is checked by hand.
--
-- How the cases are chosen:
--   * inputs sit away from kinks and ties (relu, abs, clamp, maximum, max,
--     floor, ...: hand-written values, or random ones kept 0.5 away from 0),
--     and away from the edges of the domains (log, sqrt, rsqrt on positive
--     values);
--   * ops that are linear in their input (shapes, indexing, sums, add, ...)
--     are wrapped in something nonlinear (y * y, sin, exp), so that their
--     second derivative is not identically zero, which would check little;
--   * piecewise-constant ops (sign, floor, ceil, round) are multiplied by a
--     smooth factor: their part of the second derivative is zero, the rest
--     is not;
--   * index tensors and masks are constants (float64, 1-based indices).
local lucid = require("lucid")
local C = require("lucid.core")
local H = dofile("tests/helpers.lua")

local autograd = lucid.autograd

local F64 = {dtype = "float64", requires_grad = true}

-- a float64 leaf holding `data` (nested tables or a number)
local function T(data) return lucid.tensor(data, F64) end
-- a float64 constant (indices, masks): no gradient
local function K(data) return lucid.tensor(data, {dtype = "float64"}) end
-- a float64 leaf of standard normal values
local function randn(...) return lucid.randn({...}, F64) end
-- |randn| + 0.5: for logs, roots, bases of pow
local function pos(...)
  return lucid.tensor(lucid.randn({...}, {dtype = "float64"}):abs() + 0.5, F64)
end
-- randn pushed 0.5 away from 0: for divisors and the kink of relu and abs
local function nz(...)
  local r = lucid.randn({...}, {dtype = "float64"})
  return lucid.tensor(r + r:sign() * 0.5, F64)
end

-- y * y: makes an op that is linear in its inputs quadratic
local function sq(y) return y * y end

-- Values away from 0, +-0.5 and every integer and half-integer (kinks of
-- relu, abs, clamp(-0.5, 0.5), floor, ceil, round), all distinct in |x| too.
local KINKLESS = {{-1.7, -0.3, 0.2}, {0.8, 1.35, -2.6}}
-- two such tensors with no element equal (maximum, minimum)
local A = {{0.3, -1.2, 0.8}, {-0.4, 1.5, 0.1}}
local B = {{-0.5, 0.4, 1.1}, {-0.9, 0.7, 0.65}}

lucid.manual_seed(2024)

-- op name (as the registry spells it) -> its cases
local cases = {}

-- ---- elementwise ------------------------------------------------------------

cases.exp = {
  {fn = function(x) return x:exp() end, inputs = {randn(2, 3)}},
}
cases.log = {
  {fn = function(x) return x:log() end, inputs = {pos(2, 3)}},
}
cases.log1p = {
  {fn = function(x) return x:log1p() end, inputs = {T({{-0.6, -0.2, 0.3}, {1.1, 2.5, 0.05}})}},
}
cases.expm1 = {
  {fn = function(x) return x:expm1() end, inputs = {randn(2, 3)}},
}
cases.sqrt = {
  {fn = function(x) return x:sqrt() end, inputs = {pos(2, 3)}},
}
cases.rsqrt = {
  {fn = function(x) return x:rsqrt() end, inputs = {pos(2, 3)}},
}
cases.abs = {
  {fn = function(x) return x:abs():exp() end, inputs = {nz(2, 3)}},
  {fn = function(x) return x:abs() * x:sin() end, inputs = {T(KINKLESS)}},
}
cases.sign = {
  {fn = function(x) return x:sign() * x * x * x end, inputs = {T(KINKLESS)}},
}
cases.neg = {
  {fn = function(x) return (-x):exp() end, inputs = {randn(2, 3)}},
  {fn = function(x) return lucid.neg(x) * x:sin() end, inputs = {randn(2, 3)}},
}
cases.reciprocal = {
  {fn = function(x) return x:reciprocal() end, inputs = {nz(2, 3)}},
}
cases.square = {
  {fn = function(x) return x:square() end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:square():sin() end, inputs = {randn(2, 3)}},
}
cases.sin = {
  {fn = function(x) return x:sin() end, inputs = {randn(2, 3)}},
}
cases.cos = {
  {fn = function(x) return x:cos() end, inputs = {randn(2, 3)}},
}
cases.tanh = {
  {fn = function(x) return x:tanh() end, inputs = {randn(2, 3)}},
}
cases.sigmoid = {
  {fn = function(x) return x:sigmoid() end, inputs = {randn(2, 3)}},
}
cases.relu = {
  {fn = function(x) return x:relu():exp() end, inputs = {nz(2, 3)}},
  {fn = function(x) return x:relu() * x:sin() end, inputs = {T(KINKLESS)}},
}
cases.silu = {
  {fn = function(x) return x:silu() end, inputs = {randn(2, 3)}},
}
cases.floor = {
  {fn = function(x) return x:floor() * x * x end, inputs = {T(KINKLESS)}},
}
cases.ceil = {
  {fn = function(x) return x:ceil() * x * x end, inputs = {T(KINKLESS)}},
}
cases.round = {
  {fn = function(x) return x:round() * x * x end, inputs = {T(KINKLESS)}},
}
cases.gelu = {
  {fn = function(x) return x:gelu() end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:gelu("tanh") end, inputs = {randn(2, 3)}},
}
cases.softplus = {
  {fn = function(x) return x:softplus() end, inputs = {randn(2, 3)}},
  -- beta = 2, threshold = 1: beta * x is -2.6 -0.4 0.2 / 0.6 1.6 3, so the
  -- last two are on the linear side, none near the switch at x = 0.5
  {fn = function(x) return x:softplus(2, 1) * x end,
   inputs = {T({{-1.3, -0.2, 0.1}, {0.3, 0.8, 1.5}})}},
}
cases.clamp = {
  -- [-0.5, 0.5]: -1.2, 0.8 and -0.62 clamped, the rest inside, none at a bound
  {fn = function(x) return x:clamp(-0.5, 0.5) * x end,
   inputs = {T({{-1.2, -0.3, 0.1}, {0.45, 0.8, -0.62}})}},
  {fn = function(x) return x:clamp(-0.5):exp() end, inputs = {T(KINKLESS)}},
  {fn = function(x) return x:clamp{max = 0.5}:sin() end, inputs = {T(KINKLESS)}},
}
cases.pow = {
  {fn = function(a, b) return lucid.pow(a, b) end, inputs = {pos(2, 3), randn(2, 3)}},
  {fn = function(a, b) return a ^ b end, inputs = {pos(2, 3), randn(3)}},  -- broadcast
  {fn = function(x) return x ^ 3 end, inputs = {randn(2, 3)}},
  {fn = function(x) return x ^ 2 end, inputs = {randn(2, 3)}},
  {fn = function(x) return x ^ 2.5 end, inputs = {pos(2, 3)}},
  {fn = function(x) return x ^ -1.5 end, inputs = {pos(2, 3)}},
  {fn = function(x) return lucid.pow(2, x) end, inputs = {randn(2, 3)}},
}
cases.maximum = {
  {fn = function(a, b) return lucid.maximum(a, b):exp() end, inputs = {T(A), T(B)}},
  {fn = function(a, b) return lucid.maximum(a, b) * a * b end, inputs = {T(A), T(B)}},
  {fn = function(a) return lucid.maximum(a, 0.2):sin() end, inputs = {T(A)}},
}
cases.minimum = {
  {fn = function(a, b) return lucid.minimum(a, b):exp() end, inputs = {T(A), T(B)}},
  {fn = function(a, b) return lucid.minimum(a, b) * a * b end, inputs = {T(A), T(B)}},
  {fn = function(a) return lucid.minimum(0.2, a):sin() end, inputs = {T(A)}},
}
cases.atan2 = {
  {fn = function(a, b) return lucid.atan2(a, b) end, inputs = {randn(2, 3), nz(2, 3)}},
}
-- remainder and fmod jump where a / b is an integer: these quotients stay
-- at least 0.09 away from every integer
local DIVIDEND = {{2.3, -1.7, 0.45}, {-3.1, 0.8, 5.2}}
local DIVISOR = {{0.9, 1.3, -0.7}, {1.2, -0.55, 1.6}}
cases.remainder = {
  {fn = function(a, b) return lucid.remainder(a, b) * a end, inputs = {T(DIVIDEND), T(DIVISOR)}},
  {fn = function(a) return lucid.remainder(a, 1.1):exp() end, inputs = {T(DIVIDEND)}},
}
cases.fmod = {
  {fn = function(a, b) return lucid.fmod(a, b) * b end, inputs = {T(DIVIDEND), T(DIVISOR)}},
  {fn = function(a) return sq(lucid.fmod(a, -1.1)) end, inputs = {T(DIVIDEND)}},
}
-- inside (-1, 1), and the other domains, away from their edges
local INSIDE = {{-0.7, -0.3, 0.2}, {0.5, 0.8, -0.1}}
local ABOVE1 = {{1.2, 1.5, 2.3}, {3.1, 1.35, 4.0}}
local UNIT = {{0.15, 0.3, 0.45}, {0.6, 0.75, 0.9}}
-- both sides of 0 away from the poles of lgamma and digamma, and past 10
-- (digamma's series; its second derivative is polygamma(2), by zeta)
local GAMMA = {{-2.5, -1.3, -0.4}, {0.3, 1.7, 12.5}}
cases.tan = {
  {fn = function(x) return x:tan() end, inputs = {T({{-1.1, -0.3, 0.2}, {0.8, 1.2, -0.6}})}},
}
cases.asin = {
  {fn = function(x) return x:asin() end, inputs = {T(INSIDE)}},
}
cases.acos = {
  {fn = function(x) return x:acos() end, inputs = {T(INSIDE)}},
}
cases.atan = {
  {fn = function(x) return x:atan() end, inputs = {randn(2, 3)}},
}
cases.sinh = {
  {fn = function(x) return x:sinh() end, inputs = {randn(2, 3)}},
}
cases.cosh = {
  {fn = function(x) return x:cosh() end, inputs = {randn(2, 3)}},
}
cases.asinh = {
  {fn = function(x) return x:asinh() end, inputs = {randn(2, 3)}},
}
cases.acosh = {
  {fn = function(x) return x:acosh() end, inputs = {T(ABOVE1)}},
}
cases.atanh = {
  {fn = function(x) return x:atanh() end, inputs = {T(INSIDE)}},
}
cases.erf = {
  {fn = function(x) return x:erf() end, inputs = {randn(2, 3)}},
}
cases.erfc = {
  {fn = function(x) return x:erfc() end, inputs = {randn(2, 3)}},
}
cases.erfinv = {
  -- both sides of its central range (|y| <= 0.7)
  {fn = function(x) return x:erfinv() end, inputs = {T({{-0.9, -0.3, 0.2}, {0.5, 0.75, -0.6}})}},
}
cases.lgamma = {
  {fn = function(x) return x:lgamma() end, inputs = {T(GAMMA)}},
}
cases.digamma = {
  {fn = function(x) return x:digamma() end, inputs = {T(GAMMA)}},
  {fn = function(x) return x:digamma() * x end, inputs = {pos(2, 3)}},
}
cases.exp2 = {
  {fn = function(x) return x:exp2() end, inputs = {randn(2, 3)}},
}
cases.log2 = {
  {fn = function(x) return x:log2() end, inputs = {pos(2, 3)}},
}
cases.log10 = {
  {fn = function(x) return x:log10() end, inputs = {pos(2, 3)}},
}
cases.trunc = {
  {fn = function(x) return x:trunc() * x * x end, inputs = {T(KINKLESS)}},
}
cases.frac = {
  {fn = function(x) return sq(x:frac()) end, inputs = {T(KINKLESS)}},
}
cases.logit = {
  {fn = function(x) return x:logit() end, inputs = {T(UNIT)}},
  -- eps 0.2: 0.15 and 0.9 are clamped (flat), the rest inside
  {fn = function(x) return x:logit(0.2) * x end, inputs = {T(UNIT)}},
}
cases.nan_to_num = {
  {fn = function(x) return x:nan_to_num() * x:sin() end, inputs = {randn(2, 3)}},
}
cases.hypot = {
  {fn = function(a, b) return lucid.hypot(a, b) end, inputs = {randn(2, 3), nz(2, 3)}},
  {fn = function(a) return lucid.hypot(a, 0.7) end, inputs = {randn(2, 3)}},
}
cases.copysign = {
  -- the gradient by b is 0: a * b makes b's second derivative nonzero
  {fn = function(a, b) return lucid.copysign(a, b) * a * b end, inputs = {T(A), T(B)}},
  {fn = function(a) return lucid.copysign(a, -1):exp() end, inputs = {T(KINKLESS)}},
}
cases.xlogy = {
  {fn = function(a, b) return lucid.xlogy(a, b) end, inputs = {randn(2, 3), pos(2, 3)}},
  {fn = function(b) return lucid.xlogy(1.5, b) end, inputs = {pos(2, 3)}},
}
cases.logaddexp = {
  {fn = function(a, b) return lucid.logaddexp(a, b) end, inputs = {randn(2, 3), randn(2, 3)}},
  {fn = function(a, b) return lucid.logaddexp(a, b) end, inputs = {randn(2, 3), randn(3)}},
}
cases.add = {
  {fn = function(a, b) return (a + b):sin() end, inputs = {randn(2, 3), randn(2, 3)}},
  {fn = function(a, b) return sq(lucid.add(a, b)) end, inputs = {randn(2, 3), randn(3)}},
  {fn = function(a) return (1.5 + a):exp() end, inputs = {randn(2, 3)}},
}
cases.sub = {
  {fn = function(a, b) return (a - b):sin() end, inputs = {randn(2, 3), randn(2, 3)}},
  {fn = function(a, b) return sq(lucid.sub(a, b)) end, inputs = {randn(3, 1), randn(2, 1, 4)}},
  {fn = function(a) return (2 - a):exp() end, inputs = {randn(2, 3)}},
}
cases.mul = {
  {fn = function(a, b) return a * b end, inputs = {randn(2, 3), randn(2, 3)}},
  {fn = function(a, b) return (lucid.mul(a, b)):sin() end, inputs = {randn(2, 3), randn(3)}},
  {fn = function(a) return (a * 3):sin() end, inputs = {randn(2, 3)}},
}
cases.div = {
  {fn = function(a, b) return a / b end, inputs = {randn(2, 3), nz(2, 3)}},
  {fn = function(a, b) return lucid.div(a, b) end, inputs = {randn(2, 3), nz(3)}},
  {fn = function(b) return 2 / b end, inputs = {nz(2, 3)}},
  {fn = function(a) return (a / 4):exp() end, inputs = {randn(2, 3)}},
}
local MASK = {{1, 0, 1}, {0, 0, 1}}
cases.where = {
  {fn = function(a, b) return lucid.where(K(MASK), a, b):exp() end, inputs = {randn(2, 3), randn(2, 3)}},
  {fn = function(a, b) return a:where(K(MASK), b) * a end, inputs = {randn(2, 3), randn(3)}},
  {fn = function(a) return lucid.where(K(MASK), a, 0.5):sin() end, inputs = {randn(2, 3)}},
}
cases.to = {
  -- a round trip through float32 (to records ToCopy only when the dtype
  -- changes): the first derivatives carry float32 rounding (~6e-8
  -- relative), which eps = 1e-6 would blow up to ~6e-2; eps = 1e-3 keeps
  -- it near 6e-5 (the cubic makes the first derivatives quadratic, so the
  -- central differences have no truncation error)
  {fn = function(x) local y = x:to("float32"):to("float64") return y * y * y end,
   inputs = {randn(2, 3)}, opts = {eps = 1e-3}},
}
cases.clone = {
  {fn = function(x) return sq(x:clone()) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:clone():sin() end, inputs = {randn(2, 3)}},
}
cases.contiguous = {
  -- contiguous records only a copy, i.e. of a non-contiguous tensor
  {fn = function(x) return sq(x:t():contiguous()) end, inputs = {randn(2, 3)}},
}

-- ---- reductions ---------------------------------------------------------------

cases.sum = {
  {fn = function(x) return sq(x:sum()) end, inputs = {randn(2, 3)}},
  {fn = function(x) return sq(x:sum(2)) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:sum(1, true) * x end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:sum{dim = 2}:sin() end, inputs = {randn(2, 3, 2)}},
}
cases.mean = {
  {fn = function(x) return sq(x:mean()) end, inputs = {randn(2, 3)}},
  {fn = function(x) return sq(x:mean(2)) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:mean(1, true) * x end, inputs = {randn(2, 3)}},
}
cases.prod = {
  {fn = function(x) return x:prod() end, inputs = {nz(2, 3)}},
  {fn = function(x) return x:prod(2) end, inputs = {nz(2, 3)}},
  {fn = function(x) return x:prod(1, true) * x end, inputs = {nz(2, 3)}},
  -- one zero element: the prefix-and-suffix products, no division by it
  {fn = function(x) return x:prod() end, inputs = {T({{0.7, 0, -1.3}, {1.2, -0.8, 0.9}})}},
  {fn = function(x) return x:prod(2) end, inputs = {T({{0.7, 0, -1.3}, {1.2, -0.8, 0.9}})}},
}
cases.var = {
  {fn = function(x) return x:var() end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:var(false) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:var(2) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:var(1, false, true) * x end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:var{dim = 2, correction = 2} end, inputs = {randn(2, 4)}},
}
cases.std = {
  {fn = function(x) return x:std() end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:std(2) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:std(1, false, true) * x end, inputs = {randn(3, 2)}},
}
cases.max = {
  {fn = function(x) return sq(x:max()) end, inputs = {T(KINKLESS)}},
  {fn = function(x) local v = x:max(2) return v:exp() end, inputs = {T(KINKLESS)}},
  {fn = function(x) local v = x:max(1, true) return v * x end, inputs = {T(KINKLESS)}},
}
cases.min = {
  {fn = function(x) return sq(x:min()) end, inputs = {T(KINKLESS)}},
  {fn = function(x) local v = x:min(2) return v:exp() end, inputs = {T(KINKLESS)}},
  {fn = function(x) local v = x:min(1, true) return v * x end, inputs = {T(KINKLESS)}},
}
cases.amax = {
  {fn = function(x) return sq(x:amax()) end, inputs = {T(KINKLESS)}},
  {fn = function(x) return x:amax(2):exp() end, inputs = {T(KINKLESS)}},
  {fn = function(x) return x:amax(1, true) * x end, inputs = {T(KINKLESS)}},
}
cases.amin = {
  {fn = function(x) return sq(x:amin()) end, inputs = {T(KINKLESS)}},
  {fn = function(x) return x:amin(-1, true) * x end, inputs = {T(KINKLESS)}},
}
cases.logsumexp = {
  {fn = function(x) return x:logsumexp() end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:logsumexp(2) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:logsumexp(1, true) * x end, inputs = {randn(2, 3)}},
}
cases.norm = {
  {fn = function(x) return x:norm() end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:norm(2, 2) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:norm(3) end, inputs = {nz(2, 3)}},
  {fn = function(x) return x:norm(3, 1, true) * x end, inputs = {nz(2, 3)}},
  {fn = function(x) return x:norm(1.5, 2) end, inputs = {nz(2, 3)}},
  {fn = function(x) return sq(x:norm(1)) end, inputs = {nz(2, 3)}},
  -- |x| all distinct: one element carries the infinity norm
  {fn = function(x) return sq(x:norm(math.huge, 2)) end, inputs = {T(KINKLESS)}},
}
cases.softmax = {
  {fn = function(x) return x:softmax(2) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:softmax(1) end, inputs = {randn(2, 3)}},
}
cases.log_softmax = {
  {fn = function(x) return x:log_softmax(2) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:log_softmax(1) end, inputs = {randn(2, 3)}},
}
cases.masked_softmax = {  -- attention's fused softmax; a float mask takes gradients too
  {fn = function(x) return lucid.masked_softmax(x, nil, 0.7) end, inputs = {randn(2, 3)}},
  {fn = function(x, m) return lucid.masked_softmax(x, m, 1.5) end, inputs = {randn(2, 3), randn(3)}},
  {fn = function(x)
    return lucid.masked_softmax(x, lucid.tensor({false, true, false}, {dtype = "bool"}))
  end, inputs = {randn(2, 3)}},
}
cases.cumsum = {
  {fn = function(x) return sq(x:cumsum(2)) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:cumsum(1):sin() end, inputs = {randn(3, 2)}},
}

-- ---- shapes and indexing ------------------------------------------------------

cases.reshape = {
  {fn = function(x) return sq(x:reshape(3, 2)) end, inputs = {randn(2, 3)}},
  -- not contiguous: reshape copies
  {fn = function(x) return x:t():reshape(-1):sin() end, inputs = {randn(2, 3)}},
}
cases.view = {
  {fn = function(x) return sq(x:view(3, -1)) end, inputs = {randn(2, 3)}},
}
cases.flatten = {
  {fn = function(x) return sq(x:flatten()) end, inputs = {randn(2, 3, 2)}},
  {fn = function(x) return x:flatten(2):sin() end, inputs = {randn(2, 3, 2)}},
}
cases.squeeze = {
  {fn = function(x) return sq(x:squeeze(2)) end, inputs = {randn(2, 1, 3)}},
  {fn = function(x) return x:squeeze():sin() end, inputs = {randn(1, 3, 1)}},
}
cases.unsqueeze = {
  -- an outer product by broadcasting: {2, 1, 3} * {1, 2, 3}
  {fn = function(x) return x:unsqueeze(2) * x:unsqueeze(1) end, inputs = {randn(2, 3)}},
  {fn = function(x) return sq(lucid.unsqueeze(x, -1)) end, inputs = {randn(2, 3)}},
}
cases.transpose = {
  {fn = function(x) return sq(x:transpose(1, 2)) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:transpose(1, 3):sin() end, inputs = {randn(2, 3, 2)}},
}
cases.t = {
  {fn = function(x) return sq(x:t()) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:t() * x:t():exp() end, inputs = {randn(3, 2)}},
}
cases.permute = {
  {fn = function(x) return sq(x:permute(3, 1, 2)) end, inputs = {randn(2, 3, 2)}},
  {fn = function(x) return lucid.permute(x, {2, 3, 1}):sin() end, inputs = {randn(2, 3, 2)}},
}
cases.expand = {
  {fn = function(x) return sq(x:expand(3, 4)) end, inputs = {randn(3, 1)}},
  {fn = function(x) return x:expand(2, -1, 4):sin() end, inputs = {randn(3, 1)}},
}
cases.broadcast_to = {
  {fn = function(x) return sq(x:broadcast_to({2, 3})) end, inputs = {randn(3)}},
  {fn = function(x) return x:broadcast_to(2, 3, 2):sin() end, inputs = {randn(3, 1)}},
}
cases.select = {
  {fn = function(x) return sq(x:select(2, 2)) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x[2]:sin() * x:select(-1, 1) end, inputs = {randn(3, 3)}},
}
cases.narrow = {
  {fn = function(x) return sq(x:narrow(2, 2, 2)) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:narrow(1, 1, 2):sin() end, inputs = {randn(3, 2)}},
}
cases.slice = {
  {fn = function(x) return sq(x:slice(2, 1, 3)) end, inputs = {randn(2, 4)}},
  {fn = function(x) return x:slice(2, 1, -1, 2):sin() end, inputs = {randn(2, 5)}},
}
cases.split = {
  -- the pieces ({2, 2}, {2, 2}, {2, 1}) go through different functions,
  -- then back into one output
  {fn = function(x)
    local p = x:split(2, 2)
    return lucid.cat({p[1]:sin(), p[2] * p[2], p[3]:exp()}, 2)
  end, inputs = {randn(2, 5)}},
  {fn = function(x)
    local p = x:split({1, 3}, 2)
    return (p[1] * p[1]):sum() + (p[2]:sin()):sum()
  end, inputs = {randn(2, 4)}},
  {fn = function(x)
    local p = x:split(2)
    return p[1] * p[2]
  end, inputs = {randn(4, 2)}},
}
cases.cat = {
  {fn = function(a, b) return sq(lucid.cat({a, b}, 2)) end, inputs = {randn(2, 3), randn(2, 2)}},
  {fn = function(a, b) return lucid.cat({a, b, a}):sin() end, inputs = {randn(1, 3), randn(2, 3)}},
}
cases.stack = {
  {fn = function(a, b) return sq(lucid.stack({a, b})) end, inputs = {randn(2, 3), randn(2, 3)}},
  {fn = function(a, b) return lucid.stack({a, b, a}, 3):sin() end, inputs = {randn(2, 3), randn(2, 3)}},
}
cases.index_select = {
  -- repeated indices: the gradient accumulates
  {fn = function(x) return sq(x:index_select(1, K({3, 1, 3}))) end, inputs = {randn(3, 2)}},
  {fn = function(x) return x:index_select(2, {2, 2, 1}):sin() end, inputs = {randn(2, 3)}},
}
cases.index_put = {
  -- the written rows take v's gradient, the others x's; also as t[key] = v
  {fn = function(x, v) return sq(x:index_put(lucid.tensor({3, 1}, {dtype = "int64"}), v)) end, inputs = {randn(3, 2), randn(2, 2)}},
  {fn = function(x, v)
    local y = x:sin()
    y[{{}, 2}] = v * v
    return y * x
  end, inputs = {randn(2, 3), randn(2)}},
}
cases.gather = {
  {fn = function(x) return sq(x:gather(2, K({{1, 3}, {2, 2}}))) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:gather(1, K({{2, 1, 2}, {2, 2, 1}, {1, 1, 1}})):sin() end,
   inputs = {randn(2, 3)}},
}
cases.scatter_add = {
  -- the index has src's shape (the gradient of a larger src cannot be
  -- differentiated again: an error that says so), with repeats
  {fn = function(x, src) return sq(x:scatter_add(2, K({{1, 3, 3, 2}, {2, 2, 1, 3}}), src)) end,
   inputs = {randn(2, 3), randn(2, 4)}},
  {fn = function(x, src) return lucid.scatter_add(x, 1, K({{2, 1, 2}}), src):sin() end,
   inputs = {randn(2, 3), randn(1, 3)}},
}
cases.masked_fill = {
  {fn = function(x) return sq(x:masked_fill(K(MASK), 0.5)) end, inputs = {randn(2, 3)}},
  -- a mask that broadcasts, and a value that is a tensor requiring grad
  {fn = function(x, v) return lucid.masked_fill(x, K({0, 1, 1}), v):sin() * x end,
   inputs = {randn(2, 3), T(0.7)}},
}
cases["repeat"] = {
  {fn = function(x) return sq(x:tile(2, 1)) end, inputs = {randn(2, 3)}},
  {fn = function(x) return x["repeat"](x, 2, 1, 2):sin() end, inputs = {randn(2, 3)}},
}
cases.flip = {
  {fn = function(x) return x:flip(1) * x end, inputs = {randn(2, 3)}},
  {fn = function(x) return x:flip(1, 2):sin() end, inputs = {randn(2, 3)}},
}

-- ---- linear algebra ------------------------------------------------------------

cases.matmul = {
  {fn = function(a, b) return lucid.matmul(a, b) end, inputs = {randn(2, 3), randn(3, 4)}},
  {fn = function(a, b) return lucid.matmul(a, b):tanh() end, inputs = {randn(2, 3), randn(3, 4)}},
  -- batched, b broadcast over the batch
  {fn = function(a, b) return a:matmul(b):sin() end, inputs = {randn(2, 2, 3), randn(3, 2)}},
  -- 1-D on either side, and both (a dot product)
  {fn = function(v, b) return sq(lucid.matmul(v, b)) end, inputs = {randn(3), randn(3, 2)}},
  {fn = function(a, v) return sq(lucid.matmul(a, v)) end, inputs = {randn(2, 3), randn(3)}},
  {fn = function(u, v) return sq(lucid.matmul(u, v)) end, inputs = {randn(3), randn(3)}},
  -- the same input on both sides: x^T x
  {fn = function(x) return x:t():matmul(x) end, inputs = {randn(3, 2)}},
}
cases.linear = {
  {fn = function(x, w, b) return lucid.linear(x, w, b):tanh() end,
   inputs = {randn(2, 3), randn(4, 3), randn(4)}},
  {fn = function(x, w) return lucid.linear(x, w) end, inputs = {randn(2, 3), randn(4, 3)}},
  {fn = function(x, w) return lucid.linear(x, w):sin() end, inputs = {randn(2, 3), randn(4, 3)}},
  -- leading dims beyond one, and a 1-D input
  {fn = function(x, w, b) return sq(lucid.linear(x, w, b)) end,
   inputs = {randn(2, 2, 3), randn(4, 3), randn(4)}},
  {fn = function(x, w, b) return lucid.linear(x, w, b):exp() end,
   inputs = {randn(3), randn(2, 3), randn(2)}},
}

-- pooling (core/pool.c): the max pools' rules are a recorded scatter_add
-- (and unpool's a gather), avg_pool2d's its adjoint, whose own rule is the
-- pool again; sq makes the second derivative nonzero.
local PF = require("lucid.nn.functional")
local pool_idx = select(2, PF.max_pool2d(lucid.randn(1, 2, 4, 4), 2, {return_indices = true}))
cases.max_pool2d = {
  {fn = function(x) return sq(PF.max_pool2d(x, 3, 2, 1)) end, inputs = {randn(1, 2, 5, 5)}},
  {fn = function(x) return sq(PF.adaptive_max_pool2d(x, {2, 3})) end, inputs = {randn(2, 5, 4)}},
}
cases.avg_pool2d = {
  {fn = function(x) return sq(PF.avg_pool2d(x, 3, 2, 1, true, false)) end, inputs = {randn(1, 2, 5, 5)}},
  {fn = function(x) return sq(PF.adaptive_avg_pool1d(x, 3)) end, inputs = {randn(2, 7)}},
}
cases.batch_norm = {
  {fn = function(x, w, b) return sq(PF.batch_norm(x, nil, nil, w, b, true)) end,
   inputs = {randn(3, 2, 2), randn(2), randn(2)}},
  {fn = function(x, w) return sq(PF.batch_norm(x, K({0.5, -1}), K({2, 0.5}), w, nil, false)) end,
   inputs = {randn(3, 2, 2), randn(2)}},
  {fn = function(x) return sq(PF.group_norm(x, 2)) end, inputs = {randn(2, 4, 2)}},
}
cases.interpolate = {
  {fn = function(x) return sq(PF.interpolate(x, {size = {3, 5}, mode = "bilinear"})) end,
   inputs = {randn(1, 2, 2, 3)}},
  {fn = function(x) return sq(PF.interpolate(x, {scale_factor = 2})) end, inputs = {randn(1, 2, 3)}},
}
cases.max_unpool2d = {
  {fn = function(x) return sq(PF.max_unpool2d(x, pool_idx, 2)) end, inputs = {randn(1, 2, 2, 2)}},
}

-- convolution (core/conv.c): the rules record conv_transpose2d, conv2d,
-- unfold and fold; the inputs are small so the finite differences stay fast
local F = require("lucid.nn.functional")
cases.conv2d = {
  {fn = function(x, w, b) return sq(F.conv2d(x, w, b, {stride = 2, padding = 1, groups = 2})) end,
   inputs = {randn(1, 2, 4, 4), randn(2, 1, 2, 3), randn(2)}},
}
cases.conv_transpose2d = {
  {fn = function(x, w, b) return sq(F.conv_transpose2d(x, w, b, {stride = 2, output_padding = 1})) end,
   inputs = {randn(1, 2, 2, 2), randn(2, 2, 2, 2), randn(2)}},
}
cases.unfold = {
  {fn = function(x) return sq(F.unfold(x, {2, 2}, {padding = 1})) end, inputs = {randn(1, 1, 3, 3)}},
}
cases.fold = {
  {fn = function(x) return sq(F.fold(x, {3, 3}, 2)) end, inputs = {randn(1, 4, 4)}},
}

-- lucid.linalg (core/lapack.c): inputs far from where a rule divides by 0
-- (singular matrices, repeated singular values or eigenvalues); the factors
-- of qr, svd and eigh enter through sign-free functions (Q*Q, U*U, ...), as
-- PyTorch's gradgradcheck of them does.
local LA = lucid.linalg
-- randn + 3 I: well conditioned
local function well(...)
  local s = {...}
  return lucid.tensor(lucid.randn(s, {dtype = "float64"}) + lucid.eye(s[#s], {dtype = "float64"}) * 3, F64)
end
-- a symmetric positive-definite matrix made of x: x x^T + I
local function spd_of(x) return x:matmul(x:transpose(-1, -2)) + lucid.eye(x.shape[#x.shape], {dtype = "float64"}) end

cases.inv = {
  {fn = function(a) return LA.inv(a) end, inputs = {well(3, 3)}},
  {fn = function(a) return LA.inv(a):sin() end, inputs = {well(2, 3, 3)}},
}
cases.solve = {
  {fn = function(a, b) return LA.solve(a, b) end, inputs = {well(3, 3), randn(3, 2)}},
  -- a vector, and B broadcast over A's batch
  {fn = function(a, b) return sq(LA.solve(a, b)) end, inputs = {well(3, 3), randn(3)}},
  {fn = function(a, b) return LA.solve(a, b) end, inputs = {well(2, 3, 3), randn(3, 1)}},
}
cases.det = {
  {fn = function(a) return LA.det(a) end, inputs = {randn(3, 3)}},
  {fn = function(a) return LA.det(a) end, inputs = {randn(2, 2, 2)}},
}
cases.slogdet = {
  {fn = function(a) local _, l = LA.slogdet(a) return l end, inputs = {well(3, 3)}},
}
cases.cholesky = {
  {fn = function(x) return LA.cholesky(spd_of(x)) end, inputs = {randn(3, 3)}},
  {fn = function(x) return LA.cholesky(spd_of(x), {upper = true}) end, inputs = {randn(2, 3, 3)}},
}
cases.qr = {
  {fn = function(a) local q, r = LA.qr(a) return lucid.cat({sq(q):reshape(-1), sq(r):reshape(-1)}) end,
   inputs = {randn(4, 3)}},
  {fn = function(a) local q, r = LA.qr(a) return lucid.cat({sq(q):reshape(-1), sq(r):reshape(-1)}) end,
   inputs = {randn(3, 4)}},
}
cases.svd = {
  {fn = function(a) local _, s = LA.svd(a) return s end, inputs = {randn(3, 4)}},
  {fn = function(a)
    local u, s, vh = LA.svd(a, false)
    return lucid.cat({sq(u):reshape(-1), s, sq(vh):reshape(-1)})
  end, inputs = {randn(4, 3)}},
}
cases.eigh = {
  {fn = function(x) local l = LA.eigh(x + x:t()) return l end, inputs = {randn(3, 3)}},
  {fn = function(x) local l, v = LA.eigh(x + x:t()) return lucid.cat({l, sq(v):reshape(-1)}) end,
   inputs = {randn(3, 3)}},
}
cases.pinv = {
  {fn = function(a) return LA.pinv(a) end, inputs = {randn(3, 4)}},
  {fn = function(a) return LA.pinv(a) end, inputs = {randn(4, 3)}},
}
cases.lstsq = {
  {fn = function(a, b) return (LA.lstsq(a, b)) end, inputs = {randn(5, 3), randn(5, 2)}},
  {fn = function(a, b) return (LA.lstsq(a, b, {driver = "gelsd"})) end, inputs = {randn(3, 5), randn(3)}},
}
cases.solve_triangular = {
  -- the full matrices: only the named triangle takes part
  {fn = function(a, b) return LA.solve_triangular(a, b, {upper = true}) end, inputs = {well(3, 3), randn(3, 2)}},
  {fn = function(a, b) return sq(LA.solve_triangular(a, b, {upper = false, left = false, unitriangular = true})) end,
   inputs = {well(2, 3, 3), randn(2, 3)}},
}
cases.lu_factor = {
  {fn = function(a) return (LA.lu_factor(a)) end, inputs = {well(3, 3)}},
  {fn = function(a) return sq((LA.lu_factor(a))) end, inputs = {randn(4, 3)}},
  {fn = function(a) return (LA.lu_factor(a)) end, inputs = {randn(2, 4)}},
}
cases.lu_solve = {
  {fn = function(lu, b) return LA.lu_solve(lu, lucid.tensor({2, 3, 3}, {dtype = "int32"}), b) end,
   inputs = {well(3, 3), randn(3, 2)}},
  {fn = function(lu, b)
    return sq(LA.lu_solve(lu, lucid.tensor({{1, 3, 3}, {3, 2, 3}}, {dtype = "int32"}), b, {left = false, adjoint = true}))
  end, inputs = {well(2, 3, 3), randn(2, 3)}},
}

-- ---- rnn ----------------------------------------------------------------------------
-- One layer (or step) of each recurrence, small: time-major, and packed
-- (batch_sizes {2, 2, 1}: rows 5) run in reverse; lstm also with a projection.
local function rnn_case(op, gates, lstm, cell, packed, proj)
  local P = proj and 1 or 2
  local x = cell and randn(2, 3) or packed and randn(5, 3) or randn(3, 2, 3)
  local inputs = {x, randn(2, P)}
  if lstm then inputs[#inputs + 1] = randn(2, 2) end
  for _, t in ipairs({randn(gates * 2, 3), randn(gates * 2, P), randn(gates * 2), randn(gates * 2)}) do
    inputs[#inputs + 1] = t
  end
  if proj then inputs[#inputs + 1] = randn(P, 2) end
  local opts = packed and {batch_sizes = {2, 2, 1}, reverse = true} or {}
  return {fn = function(a, h, ...)
    local outs
    if lstm then
      local c, wi, wh, bi, bh, wr = ...
      if cell then return lucid.cat({lucid[op](a, {h, c}, wi, wh, bi, bh)}, 2) end
      outs = {lucid[op](a, {h, c}, wi, wh, bi, bh, wr, opts)}
    else
      if cell then return (lucid[op](a, h, ...)) end
      local wi, wh, bi, bh = ...
      outs = {lucid[op](a, h, wi, wh, bi, bh, opts)}
    end
    for i, o in ipairs(outs) do outs[i] = o:reshape(-1) end
    return lucid.cat(outs)
  end, inputs = inputs}
end
cases.rnn_tanh = {rnn_case("rnn_tanh", 1), rnn_case("rnn_tanh", 1, false, false, true)}
cases.rnn_relu = {rnn_case("rnn_relu", 1), rnn_case("rnn_relu", 1, false, false, true)}
cases.lstm = {rnn_case("lstm", 4, true), rnn_case("lstm", 4, true, false, true, true)}
cases.gru = {rnn_case("gru", 3), rnn_case("gru", 3, false, false, true)}
cases.rnn_tanh_cell = {rnn_case("rnn_tanh_cell", 1, false, true)}
cases.rnn_relu_cell = {rnn_case("rnn_relu_cell", 1, false, true)}
cases.lstm_cell = {rnn_case("lstm_cell", 4, true, true)}
cases.gru_cell = {rnn_case("gru_cell", 3, false, true)}

-- Cases that fail for a bug of the core's double backward: op name -> case
-- index -> the failing message (kept as pending, reported, never weakened).
local KNOWN_FAILURES = {}

-- Ops whose backward is not differentiable again, as in PyTorch: each a
-- function that must raise the op's error under create_graph.
local NO_SECOND_DERIVATIVE = {
  ctc_loss = function()
    local x = lucid.randn(4, 1, 3, {dtype = "float64", requires_grad = true})
    local l = lucid.ctc_loss(x, lucid.tensor({{2}}, {dtype = "int64"}), {4}, {1})
    return autograd.grad(l, {x}, nil, {create_graph = true})
  end,
}

-- ---- the checks ------------------------------------------------------------------

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

describe("gradgradcheck of every differentiable op", function()
  for _, name in ipairs(sorted_keys(cases)) do
    for k, case in ipairs(cases[name]) do
      local title = string.format("%s, case %d", name, k)
      local known = KNOWN_FAILURES[name] and KNOWN_FAILURES[name][k]
      if known then
        pending(title .. ": " .. known)
      else
        it(title, function()
          lucid.manual_seed(1000 + k)  -- gradgradcheck's random grad_outputs and seeds
          if case.opts then
            assert.is_true(autograd.gradgradcheck(case.fn, case.inputs, case.opts))
          else
            assert.is_true(autograd.gradgradcheck(case.fn, case.inputs))
          end
        end)
      end
    end
  end

  it("has a case for every registry op with a backward, and only for those", function()
    local registry, missing, unknown = {}, {}, {}
    for _, op in ipairs(C._ops()) do
      registry[op.name] = op
      if op.backward and not (cases[op.name] and #cases[op.name] > 0) and not NO_SECOND_DERIVATIVE[op.name] then
        missing[#missing + 1] = op.name
      end
    end
    for _, name in ipairs(sorted_keys(cases)) do
      local op = registry[name]
      if not op then
        unknown[#unknown + 1] = name .. " (not in the registry)"
      elseif not op.backward then
        unknown[#unknown + 1] = name .. " (not differentiable: " .. op.nondiff .. ")"
      end
    end
    assert.are.same({}, missing, "differentiable ops without a case: " .. table.concat(missing, ", "))
    assert.are.same({}, unknown, "cases that are no differentiable op: " .. table.concat(unknown, ", "))
  end)

  for _, name in ipairs(sorted_keys(NO_SECOND_DERIVATIVE)) do
    it(name .. " refuses create_graph (no second derivative, as PyTorch)", function()
      local ok, err = pcall(NO_SECOND_DERIVATIVE[name])
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find(name .. ": its gradient cannot be differentiated again", 1, true), err)
    end)
  end

  it("checks float64 leaves that require grad", function()
    for _, name in ipairs(sorted_keys(cases)) do
      for k, case in ipairs(cases[name]) do
        local any = false
        for _, t in ipairs(case.inputs) do
          assert.are.equal("float64", t.dtype, name .. " case " .. k)
          assert.is_true(t.is_leaf, name .. " case " .. k)
          any = any or t.requires_grad
        end
        assert.is_true(any, name .. " case " .. k .. ": no input requires grad")
      end
    end
  end)
end)

-- ---- a Hessian-vector product by hand ---------------------------------------------

describe("a Hessian-vector product across the families", function()
  it("matches a central difference of the gradient along v", function()
    lucid.manual_seed(7)
    -- loss(x, W, b) = sum of log_softmax(linear(tanh(x), W, b)) picked by
    -- gather at one class per row: elementwise, linalg, reduce, shape
    local idx = K({{2}, {5}, {1}})
    local function loss(x, W, b)
      return lucid.linear(lucid.tanh(x), W, b):log_softmax(2):gather(2, idx):sum()
    end
    local x, W, b = randn(3, 4), randn(5, 4), randn(5)
    local params = {x, W, b}
    local v = {}
    for i, p in ipairs(params) do v[i] = lucid.randn(p.shape, {dtype = "float64"}) end

    -- H v: the gradient of <grad loss, v>, the gradient recorded
    local g = {autograd.grad(loss(x, W, b), params, nil, {create_graph = true})}
    assert.are.equal(3, #g)
    local dot
    for i, gi in ipairs(g) do
      assert.is_true(gi.requires_grad, "grad " .. i .. " should carry its graph")
      local term = (gi * v[i]):sum()
      dot = dot and dot + term or term
    end
    local hv = {autograd.grad(dot, params)}
    assert.are.equal(3, #hv)

    -- (grad loss(p + eps v) - grad loss(p - eps v)) / (2 eps): the error is
    -- eps^2 times the third derivatives (~1e-8 here) plus rounding
    -- (~1e-16 / eps), so rtol 1e-6 with atol 1e-7 is far above both and far
    -- below any real mistake
    local eps = 1e-4
    local function grad_at(sign)
      local shifted = {}
      for i, p in ipairs(params) do shifted[i] = lucid.tensor(p:detach() + v[i] * (sign * eps), F64) end
      return {autograd.grad(loss(shifted[1], shifted[2], shifted[3]), shifted)}
    end
    local hi, lo = grad_at(1), grad_at(-1)
    for i = 1, 3 do
      local numeric = (hi[i] - lo[i]) / (2 * eps)
      H.assert_close(hv[i], numeric, 1e-6, 1e-7, "H v, part " .. i)
    end
    -- autograd.grad leaves every .grad alone
    for i, p in ipairs(params) do assert.is_nil(p.grad, "input " .. i .. " got a .grad") end
  end)
end)
