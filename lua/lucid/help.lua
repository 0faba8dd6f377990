--- lucid.help: the texts help() prints in the `lucid` REPL (lucid/repl.lua).
-- One entry per public function or class: a usage line, then one paragraph
-- for a Lua programmer who knows PyTorch. Sections give help()'s topic list,
-- in order. Names: "lucid.f" for functions that are also tensor methods
-- (t:f(...) is lucid.f(t, ...)), "Tensor.x" for fields, "nn.X" for classes,
-- "nn.Module:m" for module methods. An entry may cover several names.
local sections, entries = {}, {}
local current

local function section(title)
  current = {title = title, names = {}}
  sections[#sections + 1] = current
end

-- names: one or a list; a name written "=name" is an alias, found by help
-- but not listed among the topics.
local function doc(names, usage, text)
  if type(names) == "string" then names = {names} end
  local e = {usage = usage, text = text}
  for _, n in ipairs(names) do
    local alias = n:sub(1, 1) == "="
    if alias then n = n:sub(2) end
    entries[n] = e
    if not alias then current.names[#current.names + 1] = n end
  end
end

-- ---------------------------------------------------------------------------------------
section("Overview")

doc("lucid", "lucid = require(\"lucid\")", [[
The package: tensors with reverse-mode autograd on a C core, and nn modules.
PyTorch's API the Lua way: dims and indices are 1-based (negative count from the
end), methods use `:`, optional arguments go positionally or in a trailing table
with PyTorch's names (x:sum(2, true) is x:sum{dim = 2, keepdim = true}), and
every tensor method is also a function of the package (lucid.tanh(t) is
t:tanh()). Nothing is global; in this program the globals lucid, nn and optim
are set for you.]])

doc("Tensor", "Tensor: shape, ndim, dtype, requires_grad, grad, ...  +  -  *  /  ^  #t  t[i]",
[[
A tensor is a userdata of float32 (default) or float64 values, up to 8 dims,
with strides (views share storage). Operators + - * / ^ and unary - work between
tensors and with numbers, broadcasting like NumPy; comparisons are methods
(a:eq(b), a:lt(b)) because Lua's == cannot return a tensor; the matrix product
is a:matmul(b). #t is the size of dim 1 and t[i] selects along dim 1 (t[i] = v
writes). Every function listed under help() that takes a tensor first is also
a method: t:sum(), t:reshape(2, 3). Memory is counted by Lua's collector, so
loops need no collectgarbage(); `local t <close> = ...` frees early.]])

doc({"nn", "=lucid.nn"}, "nn = require(\"lucid.nn\")  (also lucid.nn)", [[
Neural-network modules: nn.Module (the base class, made with
nn.Module:extend(name)), the layers nn.Linear, nn.Tanh and nn.Sequential,
nn.Parameter for trainable tensors, and nn.functional for the stateless forms.
Assigning a Module or Parameter to a field of a module registers it.]])

doc({"nn.functional", "=F"}, "F = require(\"lucid.nn.functional\")  (also nn.functional)", [[
The stateless forms of the layers, as torch.nn.functional: F.tanh(x),
F.relu(x), F.softmax(x, dim), F.linear(x, weight [, bias]), the losses
(F.mse_loss, F.cross_entropy, ...). Most are the same functions as lucid's.]])

doc("lucid.autograd", "lucid.autograd", [[
Gradients on demand and ops written in Lua: autograd.grad(outputs, inputs)
computes gradients without touching .grad, autograd.Function:extend(name)
defines an op with your own forward and backward, and autograd.gradcheck
compares them with finite differences.]])

-- ---------------------------------------------------------------------------------------
section("Creating tensors")

doc({"lucid.tensor", "=lucid.Tensor"},
  "lucid.tensor(data [, opts])  or  lucid.Tensor(data [, opts])", [[
A new tensor from a number (0-d), nested tables ({{1, 2}, {3, 4}} has shape
{2, 2}) or another tensor (copied). opts = {dtype = "float64", requires_grad =
true}; the dtype defaults to float32 (see lucid.set_default_dtype). Like
torch.tensor.]])

doc("lucid.zeros", "lucid.zeros(shape... [, opts])", [[
A tensor of zeros. The shape goes as varargs or one table: lucid.zeros(2, 3)
is lucid.zeros({2, 3}). opts = {dtype =, requires_grad =} as the last
argument.]])

doc("lucid.ones", "lucid.ones(shape... [, opts])", [[
A tensor of ones; shape as varargs or one table, opts {dtype =, requires_grad =}
last.]])

doc("lucid.empty", "lucid.empty(shape... [, opts])", [[
A tensor whose values are not set (whatever the memory held): the cheapest
allocation, for a buffer you fill yourself (fill_, copy_, uniform_).]])

doc("lucid.full", "lucid.full(shape..., value [, opts])", [[
A tensor with every element set to value: lucid.full(2, 3, 7.5) or
lucid.full({2, 3}, 7.5).]])

doc("lucid.rand", "lucid.rand(shape... [, opts])", [[
Uniform draws in [0, 1). Repeatable with lucid.manual_seed(n), identical on
every platform.]])

doc("lucid.randn", "lucid.randn(shape... [, opts])", [[
Standard normal draws (mean 0, standard deviation 1), by Box-Muller from the
state's generator; lucid.manual_seed(n) makes them repeatable.]])

doc("lucid.randint",
  "lucid.randint(high, shape [, opts])  or  lucid.randint(low, high, shape [, opts])", [[
Random integers (as float values) in [low, high), low 0 by default, high
exclusive as in PyTorch. The shape is a table here, {2, 3}, since varargs
would be ambiguous.]])

doc("lucid.eye", "lucid.eye(n [, m] [, opts])", [[
An n x m matrix (m = n by default) with ones on the diagonal and zeros
elsewhere.]])

doc("lucid.arange", "lucid.arange(stop)  or  lucid.arange(start, stop [, step]) [, opts]", [[
Values from start (0 by default) up to stop, exclusive, by step (1), as
torch.arange: lucid.arange(5) is 0, 1, 2, 3, 4. These are values, not
indices, so they start at 0 as in PyTorch.]])

doc("lucid.linspace", "lucid.linspace(start, stop, steps [, opts])", [[
steps values evenly spaced from start to stop, both included.]])

doc("lucid.from_table",
  "lucid.from_table(nested [, opts])  or  lucid.from_table(flat, shape [, opts])", [[
lucid.tensor on nested tables; or, with a shape table, reads a flat Lua array
in row-major order: lucid.from_table({1, 2, 3, 4, 5, 6}, {2, 3}).]])

doc("lucid.from_string", "lucid.from_string(bytes, shape... [, opts])", [[
A tensor from packed little-endian floats (4 bytes each for float32, 8 for
float64, by opts.dtype), row-major, as files and C hosts hold them; the bytes
are copied. The inverse of t:to_string().]])

doc({"lucid.zeros_like", "lucid.ones_like", "lucid.rand_like", "lucid.randn_like",
     "lucid.empty_like"},
  "lucid.zeros_like(t [, opts])  (also ones_like, rand_like, randn_like, empty_like)", [[
A new tensor of t's shape and dtype (unless opts says otherwise), filled like
lucid.zeros, ones, rand, randn or empty. It does not require grad unless opts
asks.]])

doc("lucid.full_like", "lucid.full_like(t, value [, opts])", [[
A tensor of t's shape and dtype filled with value.]])

-- ---------------------------------------------------------------------------------------
section("Tensor fields")

doc("Tensor.shape", "t.shape", [[
The sizes as a new Lua table, {2, 3} (torch's t.shape / t.size()). Changing
the table does not change the tensor; use reshape or view for that.]])

doc("Tensor.ndim", "t.ndim", [[
The number of dimensions (0 for a scalar tensor); also t:dim().]])

doc("Tensor.dtype", "t.dtype", [[
The element type as a string: "float32" or "float64". Convert with
t:to("float64"), t:double(), t:float().]])

doc("Tensor.requires_grad", "t.requires_grad  (settable on leaves)", [[
Whether autograd records operations on t and computes t.grad on backward.
Set it on leaves (t.requires_grad = true, or t:requires_grad_()); results of
recorded ops require grad by themselves.]])

doc("Tensor.grad", "t.grad  (settable to nil or a tensor of t's shape)", [[
The gradient accumulated into a leaf by backward, a tensor of t's shape, or
nil. Gradients add up across backward calls until set to nil (t.grad = nil,
t:zero_grad(), model:zero_grad()). Non-leaves keep theirs only after
t:retain_grad().]])

doc("Tensor.is_leaf", "t.is_leaf", [[
True for tensors made by you (not by a recorded op): the ones whose .grad
backward fills.]])

doc("Tensor.grad_fn", "t.grad_fn", [[
The name of the op that made t in the graph, such as "TanhBackward", or nil
for leaves and unrecorded results.]])

doc("Tensor.T", "t.T", [[
The transpose of a 2-D tensor, a view (t:transpose(1, 2)).]])

-- ---------------------------------------------------------------------------------------
section("Reading values")

doc("lucid.item", "t:item()  or  lucid.item(t)", [[
The value of a one-element tensor as a Lua number; an error for more elements.]])

doc("lucid.tolist", "t:tolist()  or  lucid.tolist(t)", [[
The values as nested Lua tables (1-based, like the tensor's dims); a number
for a 0-d tensor.]])

doc("lucid.numel", "t:numel()  or  lucid.numel(t)", [[
The number of elements (the product of the sizes).]])

doc("lucid.size", "t:size([dim])  or  lucid.size(t [, dim])", [[
The shape as a table, or the size of one dim (1-based, negative from the
end), as torch's size().]])

doc("lucid.dim", "t:dim()  or  lucid.dim(t)", [[
The number of dimensions, same as t.ndim.]])

doc("lucid.is_contiguous", "t:is_contiguous()  or  lucid.is_contiguous(t)", [[
Whether the elements lie in memory in row-major order without gaps (views
from transpose, expand or slice may not); t:contiguous() makes a copy that
is.]])

doc("lucid.info", "t:info()  or  lucid.info(t)", [[
Prints one line about t: shape, dtype, min, mean and max, without the values.
A quick look at a big tensor.]])

doc("lucid.to_string", "t:to_string()  or  lucid.to_string(t)", [[
The values as packed little-endian floats in row-major order (a Lua string of
4 or 8 bytes per element), for files and C hosts; lucid.from_string reads it
back.]])

-- ---------------------------------------------------------------------------------------
section("Arithmetic")

doc("lucid.add", "a + b,  a:add(b)  or  lucid.add(a, b)", [[
Elementwise sum with NumPy/PyTorch broadcasting; either side may be a number,
which takes the tensor's dtype. float32 with float64 computes in float64.
Shapes that do not broadcast are an error naming both.]])

doc("lucid.sub", "a - b,  a:sub(b)  or  lucid.sub(a, b)", [[
Elementwise difference, broadcasting; either side may be a number.]])

doc("lucid.mul", "a * b,  a:mul(b)  or  lucid.mul(a, b)", [[
Elementwise product, broadcasting (not the matrix product: that is
a:matmul(b)); either side may be a number.]])

doc("lucid.div", "a / b,  a:div(b)  or  lucid.div(a, b)", [[
Elementwise quotient, broadcasting; either side may be a number.]])

doc("lucid.pow", "a ^ b,  a:pow(b)  or  lucid.pow(a, b)", [[
Elementwise power; the exponent is a number or a tensor (broadcasting).
Gradients follow PyTorch where the base or exponent is 0.]])

doc("lucid.neg", "-t,  t:neg()  or  lucid.neg(t)", [[
Elementwise negation.]])

doc("lucid.maximum", "lucid.maximum(a, b)  or  a:maximum(b)", [[
Elementwise maximum of two tensors (or a tensor and a number), broadcasting.
For the largest element or the max along a dim, use t:max().]])

doc("lucid.minimum", "lucid.minimum(a, b)  or  a:minimum(b)", [[
Elementwise minimum of two tensors (or a tensor and a number), broadcasting.]])

doc("lucid.atan2", "lucid.atan2(y, x)  or  y:atan2(x)", [[
Elementwise angle of the point (x, y), in radians, broadcasting.]])

-- ---------------------------------------------------------------------------------------
section("Elementwise functions")

doc("lucid.tanh", "lucid.tanh(t [, out])  or  t:tanh([out])", [[
Elementwise hyperbolic tangent, values in (-1, 1). Differentiable: backward
uses the output, dx = dy * (1 - y^2). With out (a tensor of the right shape and
dtype), writes there and returns it. nn.Tanh() is the layer form.]])

doc("lucid.log", "lucid.log(t)  or  t:log()", [[
Elementwise natural logarithm (nan below 0, -inf at 0).]])

doc("lucid.exp", "lucid.exp(t)  or  t:exp()", [[
Elementwise e^x.]])

doc("lucid.log1p", "lucid.log1p(t)  or  t:log1p()", [[
Elementwise log(1 + x), accurate for small x.]])

doc("lucid.expm1", "lucid.expm1(t)  or  t:expm1()", [[
Elementwise e^x - 1, accurate for small x.]])

doc("lucid.sqrt", "lucid.sqrt(t)  or  t:sqrt()", [[
Elementwise square root.]])

doc("lucid.rsqrt", "lucid.rsqrt(t)  or  t:rsqrt()", [[
Elementwise 1 / sqrt(x).]])

doc("lucid.abs", "lucid.abs(t)  or  t:abs()", [[
Elementwise absolute value.]])

doc("lucid.sign", "lucid.sign(t)  or  t:sign()", [[
Elementwise -1, 0 or 1 by the sign of x; its gradient is zero.]])

doc("lucid.reciprocal", "lucid.reciprocal(t)  or  t:reciprocal()", [[
Elementwise 1 / x.]])

doc("lucid.square", "lucid.square(t)  or  t:square()", [[
Elementwise x^2.]])

doc("lucid.sin", "lucid.sin(t)  or  t:sin()", [[
Elementwise sine (radians).]])

doc("lucid.cos", "lucid.cos(t)  or  t:cos()", [[
Elementwise cosine (radians).]])

doc("lucid.sigmoid", "lucid.sigmoid(t)  or  t:sigmoid()", [[
Elementwise logistic function 1 / (1 + e^-x), values in (0, 1).]])

doc("lucid.relu", "lucid.relu(t)  or  t:relu()", [[
Elementwise max(x, 0); the gradient at 0 is 0, as in PyTorch.]])

doc("lucid.gelu", "lucid.gelu(t [, approximate])  or  t:gelu{approximate = \"tanh\"}", [[
Gaussian Error Linear Unit: x * Phi(x) with the exact erf form by default
(approximate = "none"), or PyTorch's tanh approximation with "tanh".]])

doc("lucid.silu", "lucid.silu(t)  or  t:silu()", [[
Elementwise x * sigmoid(x) (also called swish).]])

doc("lucid.softplus",
  "lucid.softplus(t [, beta [, threshold]])  or  t:softplus{beta =, threshold =}", [[
Elementwise log(1 + e^(beta x)) / beta, a smooth relu; linear above
threshold (beta = 1, threshold = 20 by default, as PyTorch).]])

doc("lucid.floor", "lucid.floor(t)  or  t:floor()", [[
Elementwise rounding down; the gradient is zero.]])

doc("lucid.ceil", "lucid.ceil(t)  or  t:ceil()", [[
Elementwise rounding up; the gradient is zero.]])

doc("lucid.round", "lucid.round(t)  or  t:round()", [[
Elementwise rounding to the nearest integer, halves to even (as PyTorch); the
gradient is zero.]])

doc("lucid.clamp", "lucid.clamp(t, min, max)  or  t:clamp{min =, max =}", [[
Elementwise limit to [min, max]; either bound may be nil (one of them must be
given). The gradient passes where x lies inside the bounds.]])

-- ---------------------------------------------------------------------------------------
section("Comparisons and masks")

doc({"lucid.eq", "lucid.ne", "lucid.lt", "lucid.le", "lucid.gt", "lucid.ge"},
  "a:eq(b), a:ne(b), a:lt(b), a:le(b), a:gt(b), a:ge(b)  (or lucid.eq(a, b), ...)", [[
Elementwise comparisons, broadcasting, b a tensor or a number. There is no
bool dtype: the result holds 1.0 where true and 0.0 where false, in the inputs'
dtype, so it works as a number (x * x:gt(0) keeps the positive part) and as a
mask for where and masked_fill. Lua's == compares identity, not values.]])

doc({"lucid.isnan", "lucid.isinf"}, "t:isnan(), t:isinf()  (or lucid.isnan(t), lucid.isinf(t))", [[
Masks (1.0 / 0.0) of the NaN, or infinite, elements.]])

doc("lucid.where", "lucid.where(cond, a, b)  or  a:where(cond, b)", [[
Picks a where cond is nonzero and b elsewhere, broadcasting all three; a and b
may be numbers. The method form is PyTorch's Tensor.where: x:where(cond, y)
is lucid.where(cond, x, y).]])

doc("lucid.masked_fill", "t:masked_fill(mask, value)  or  lucid.masked_fill(t, mask, value)", [[
A copy of t with value where mask (a 1.0/0.0 tensor, broadcasting) is nonzero.
value is a number or a 0-d tensor (which then gets a gradient).]])

-- ---------------------------------------------------------------------------------------
section("Reductions")

doc("lucid.sum", "t:sum([dim [, keepdim]])  or  t:sum{dim =, keepdim =}", [[
The sum of all elements (a 0-d tensor), or along dim (1-based, negative from
the end), dropping that dim unless keepdim is true. Without dim, {keepdim =
true} keeps every dim as size 1.]])

doc("lucid.mean", "t:mean([dim [, keepdim]])  or  t:mean{dim =, keepdim =}", [[
The mean of all elements (0-d), or along dim, as sum.]])

doc("lucid.prod", "t:prod([dim [, keepdim]])", [[
The product of all elements, or along dim, as sum.]])

doc({"lucid.var", "lucid.std"},
  "t:var([dim [, unbiased [, keepdim]]])  or  t:var{dim =, unbiased =, keepdim =, correction =}  (also std)", [[
Variance (std: standard deviation) of all elements or along dim. Unbiased
(divides by n - 1) by default as PyTorch; unbiased = false divides by n, and
correction = c divides by n - c.]])

doc({"lucid.max", "lucid.min"},
  "t:max()  or  local values, indices = t:max(dim [, keepdim])  (also min)", [[
Without dim, the largest (smallest) element as a 0-d tensor. With dim, two
results: the values and their indices along dim, 1-based (float64 tensors,
exact). For the elementwise max of two tensors use lucid.maximum.]])

doc({"lucid.argmax", "lucid.argmin"}, "t:argmax([dim [, keepdim]])  (also argmin)", [[
The 1-based index of the largest (smallest) element: over the flattened
tensor without dim, else along dim. Indices are float64 tensors; :item() gives
a Lua number usable as t[i].]])

doc("lucid.logsumexp", "t:logsumexp([dim [, keepdim]])", [[
log(sum(exp(x))) over all elements or along dim, computed stably (the max is
subtracted first).]])

doc("lucid.norm", "t:norm([p [, dim [, keepdim]]])  or  t:norm{p =, dim =, keepdim =}", [[
The p-norm (p = 2 by default; any positive number, math.huge for the max norm,
or "fro") of all elements or along dim.]])

doc("lucid.softmax", "t:softmax(dim)  or  lucid.softmax(t, dim)", [[
exp(x) normalised to sum 1 along dim (required, 1-based: -1 is the last,
usually the classes), computed stably.]])

doc("lucid.log_softmax", "t:log_softmax(dim)", [[
log(softmax(x)) along dim, computed stably; pair it with a negative
log-likelihood loss.]])

doc("lucid.cumsum", "t:cumsum(dim)", [[
Running sums along dim: element i is the sum of elements 1..i.]])

-- ---------------------------------------------------------------------------------------
section("Linear algebra")

doc("lucid.matmul", "a:matmul(b)  or  lucid.matmul(a, b)", [[
Matrix product as torch.matmul (Lua has no @): 1-D x 1-D is a dot product,
2-D x 2-D a matrix product, 1-D operands act as a row or a column, and more
dims are batches, broadcast. Runs on OpenBLAS. Sizes that do not fit are an
error with both shapes: shapes {2, 3} and {4, 5} do not fit (3 ~= 4).]])

doc("lucid.mm", "lucid.mm(a, b)  or  a:mm(b)", [[
2-D matrix product (n, k) x (k, m); an error for other ranks.]])

doc("lucid.bmm", "lucid.bmm(a, b)  or  a:bmm(b)", [[
Batched matrix product (batch, n, k) x (batch, k, m), batches not broadcast.]])

doc("lucid.dot", "lucid.dot(a, b)  or  a:dot(b)", [[
The dot product of two 1-D tensors, as a 0-d tensor.]])

doc("lucid.outer", "lucid.outer(a, b)  or  a:outer(b)", [[
The outer product of two 1-D tensors: an (n, m) matrix.]])

doc("lucid.addmm", "lucid.addmm(input, a, b [, {beta =, alpha =}])", [[
beta * input + alpha * (a x b), input broadcasting to the product's shape
(beta = alpha = 1 by default), as torch.addmm.]])

doc("lucid.linear", "lucid.linear(x, weight [, bias] [, out])", [[
x W^T + b for x (..., in), weight (out, in), bias (out): what nn.Linear
computes, as one GEMM. With out, writes there and returns it.]])

-- ---------------------------------------------------------------------------------------
section("Shapes and indexing")

doc("lucid.reshape", "t:reshape(sizes...)  or  t:reshape({sizes})", [[
The same values in a new shape; one size may be -1 (inferred). A view when t
is contiguous, else a copy.]])

doc("lucid.view", "t:view(sizes...)", [[
As reshape, but never copies: an error on a non-contiguous tensor (call
:contiguous() first), as PyTorch.]])

doc("lucid.transpose", "t:transpose(d1, d2)", [[
Swaps two dims (1-based, negative from the end); a view.]])

doc("lucid.t", "t:t()", [[
The transpose of a 2-D tensor (t.T); a tensor of at most one dim comes back
as itself.]])

doc("lucid.permute", "t:permute(dims...)  or  t:permute({dims})", [[
Reorders all dims: x:permute(3, 1, 2) makes dim 3 the first. A view.]])

doc("lucid.flatten", "t:flatten([start_dim [, end_dim]])", [[
Merges dims start_dim..end_dim (1 and -1 by default, so all) into one.]])

doc("lucid.squeeze", "t:squeeze([dim])", [[
Drops every size-1 dim, or only dim if its size is 1. A view.]])

doc("lucid.unsqueeze", "t:unsqueeze(dim)", [[
Inserts a size-1 dim at position dim (1..ndim+1; -1 means after the last). A
view.]])

doc("lucid.expand", "t:expand(sizes...)", [[
A view with size-1 dims repeated to the given sizes without copying (-1
keeps a size); new leading dims may be added.]])

doc("lucid.broadcast_to", "t:broadcast_to(shape...)", [[
A view of t broadcast to shape, as expand (-1 keeps a size).]])

doc("lucid.select", "t:select(dim, i)", [[
The slice at index i (1-based, negative from the end) along dim, which is
removed. t[i] is t:select(1, i).]])

doc("lucid.narrow", "t:narrow(dim, start, length)", [[
length elements from start (1-based, negative from the end) along dim. A
view.]])

doc("lucid.slice", "t:slice(dim [, start [, stop [, step]]])", [[
The elements start, start + step, ... up to stop INCLUSIVE along dim, read the
way string.sub reads positions (1-based, negative from the end, clamped): Python's
x[1:-1] is x:slice(1, 2, -2). A view.]])

doc("lucid.split", "t:split(size_or_sizes [, dim])", [[
An array of pieces along dim (1 by default): of that size (the last may be
smaller), or of the sizes in a table, which must add up to the dim. Views.]])

doc("lucid.chunk", "t:chunk(chunks [, dim])", [[
An array of at most chunks pieces of ceil(size / chunks) along dim, as
torch.chunk. Views.]])

doc("lucid.cat", "lucid.cat({a, b, ...} [, dim])", [[
Joins tensors along an existing dim (1 by default); other sizes must match.]])

doc("lucid.stack", "lucid.stack({a, b, ...} [, dim])", [[
Joins same-shaped tensors along a new dim (1 by default).]])

doc("lucid.index_select", "t:index_select(dim, index)", [[
The entries at the given 1-based indices along dim; index is a 1-D tensor or a
Lua array such as {3, 1}.]])

doc("lucid.gather", "t:gather(dim, index)", [[
Picks along dim by a tensor of 1-based indices of the output's shape, as
torch.gather: for dim 1, out[i][j] = t[ index[i][j] ][j].]])

doc("lucid.scatter_add", "t:scatter_add(dim, index, src)", [[
A copy of t with src's values added at the 1-based indices along dim
(out of place), as torch.scatter_add.]])

doc({"lucid.repeat", "lucid.tile"}, "t:tile(reps...)  or  t[\"repeat\"](t, sizes...)", [[
Tiles t: each dim repeated that many times (PyTorch's repeat, not a string
repeat). repeat is a Lua keyword, so the method reads t:tile(2, 2), which also
accepts fewer counts than dims.]])

doc("lucid.flip", "t:flip(dims...)", [[
A copy with the order of elements reversed along the given dims.]])

doc("lucid.contiguous", "t:contiguous()", [[
t itself when its elements are contiguous in row-major order, else a
contiguous copy.]])

doc("lucid.clone", "t:clone()", [[
A copy with its own storage; recorded by autograd (gradients flow back to t).]])

doc("lucid.detach", "t:detach()", [[
A tensor sharing t's values but outside the graph (requires_grad false), as
PyTorch.]])

doc({"lucid.to", "lucid.float", "lucid.double"}, "t:to(\"float64\"),  t:double(),  t:float()", [[
t converted to float64 ("double") or float32 ("float"), as a new tensor;
gradients flow back through the conversion.]])

-- ---------------------------------------------------------------------------------------
section("In place")

doc("lucid.copy_", "t:copy_(src)", [[
Copies src's values into t (src broadcasts to t's shape and is converted to
its dtype); returns t. Refused on a tensor that requires grad unless under
lucid.no_grad.]])

doc("lucid.fill_", "t:fill_(value)", [[
Sets every element to value; returns t. Refused on a tensor that requires grad
unless under lucid.no_grad.]])

doc("lucid.uniform_", "t:uniform_(low, high)", [[
Fills t with uniform draws in [low, high); returns t. For initialisers.]])

doc("lucid.zero_grad", "t:zero_grad()", [[
Drops t's gradient (t.grad becomes nil, PyTorch's default set_to_none); returns
t.]])

doc("lucid.requires_grad_", "t:requires_grad_([flag = true])", [[
Sets requires_grad on a leaf and returns t, for chaining:
lucid.zeros(3):requires_grad_().]])

-- ---------------------------------------------------------------------------------------
section("Autograd")

doc("lucid.backward", "t:backward([grad] [, {retain_graph = true}])", [[
Computes gradients of t with respect to every leaf that requires grad and
adds them into their .grad. A non-scalar t is seeded with ones (as the
reference docs); grad gives an explicit seed of t's shape. The graph is freed
afterwards unless retain_graph is true; a second backward through a freed
graph is an error that says so.]])

doc("lucid.no_grad", "lucid.no_grad(fn, ...)  or  local g <close> = lucid.no_grad()", [[
Runs fn(...) with gradient recording off and returns its results (recording
comes back even if fn raises); with no function, turns recording off until g
goes out of scope. For evaluation and weight updates, as torch.no_grad.]])

doc("lucid.enable_grad", "lucid.enable_grad(fn, ...)  or  local g <close> = lucid.enable_grad()", [[
The opposite of no_grad: runs fn with recording on.]])

doc("lucid.is_grad_enabled", "lucid.is_grad_enabled()", [[
Whether operations are recorded for autograd now.]])

doc("lucid.set_grad_enabled", "lucid.set_grad_enabled(flag)", [[
Turns recording on or off and returns the previous setting, to restore.]])

doc("lucid.retain_grad", "t:retain_grad()", [[
Makes a non-leaf keep its gradient in t.grad after backward (leaves always
do).]])

doc("lucid.register_hook", "local h = t:register_hook(fn)", [[
fn(grad) runs when t's gradient is computed during backward and may return a
tensor to use instead. h:remove() unregisters it.]])

doc("lucid.autograd.grad",
  "lucid.autograd.grad(outputs, inputs [, grad_outputs] [, {retain_graph =, allow_unused =}])", [[
The gradients of the outputs (summed) with respect to each input, returned as
multiple results, without changing any .grad: local gx, gw =
lucid.autograd.grad(loss, {x, w}).]])

doc("lucid.autograd.Function", "local Op = lucid.autograd.Function:extend(name)", [[
An op written in Lua: define Op.forward(ctx, ...) (computed without recording;
ctx:save_for_backward(...) keeps tensors in ctx.saved_tensors) and
Op.backward(ctx, grad) returning one gradient per input (nil for none); call
it as Op.apply(...). As torch.autograd.Function.]])

doc("lucid.autograd.gradcheck",
  "lucid.autograd.gradcheck(fn, inputs [, {eps =, atol =, rtol =, raise =}])", [[
Compares autograd's gradients of fn(inputs...) with central finite
differences for every input that requires grad; use float64. Returns true, or
raises naming the input and element that differ (with raise = false returns
false and the message).]])

-- ---------------------------------------------------------------------------------------
section("Settings, files and memory")

doc("lucid.manual_seed", "lucid.manual_seed(n)", [[
Seeds this state's random generator (xoshiro256**), so rand, randn, randint,
uniform_ and layer initialisations repeat exactly, on every platform.]])

doc("lucid.set_default_dtype", "lucid.set_default_dtype(\"float64\")", [[
The dtype of new float tensors when none is given: "float32" (the start) or
"float64".]])

doc("lucid.get_default_dtype", "lucid.get_default_dtype()", [[
The dtype new tensors get when none is given, as a string.]])

doc("lucid.set_printoptions",
  "lucid.set_printoptions{precision =, threshold =, edgeitems =, linewidth =, sci_mode =}", [[
How tensors print, as PyTorch: decimals (4), the element count past which
output is summarised with ... (1000), the items kept at each edge then (3), the
line width (80), and sci_mode true/false to force or forbid scientific
notation (nil: automatic).]])

doc({"lucid.set_num_threads", "lucid.get_num_threads"},
  "lucid.set_num_threads(n),  lucid.get_num_threads()", [[
The number of threads OpenBLAS and the library's kernels use (by default every
core). The setting is process-wide for OpenBLAS.]])

doc("lucid.memory_allocated", "lucid.memory_allocated()", [[
The bytes of tensor memory alive in this Lua state.]])

doc("lucid.is_tensor", "lucid.is_tensor(v)", [[
Whether v is a tensor.]])

doc("lucid.is_parameter", "lucid.is_parameter(v)", [[
Whether v is a tensor made by nn.Parameter (the ones modules register).]])

doc("lucid.save", "lucid.save(tbl, path)", [[
Writes a table name -> tensor (model:state_dict(), say) to a file in the
safetensors format.]])

doc("lucid.load", "lucid.load(path)", [[
Reads a safetensors file back as a table name -> tensor, for
model:load_state_dict().]])

doc("lucid.progress", "for item in lucid.progress(iterable [, opts]) do ... end", [[
Iterates like the iterable (a number n for 1..n, an array's values, an
iterator with opts.total) while drawing a progress bar, as tqdm;
bar:set_postfix{loss = ...} adds values to it.]])

-- ---------------------------------------------------------------------------------------
section("nn: modules")

doc("nn.Module", "local Net = nn.Module:extend(\"Net\")", [[
The base class of every layer and model, as torch.nn.Module. Make a class with
extend, give it __init(...) (the base set-up runs first) and forward(...);
calling the class builds an instance and calling the instance calls forward.
Assigning a Module or nn.Parameter to a field registers it, in order; a model
prints as a tree of its submodules.]])

doc({"nn.Module:extend", "=nn.Module.extend"}, "local Cls = Parent:extend(name)", [[
A new class named name deriving from Parent (nn.Module or any module class);
Cls.super is Parent, so Cls.super.__init(self, ...) calls the parent's set-up.]])

doc({"nn.Module:forward", "=nn.Module.forward"}, "function Net:forward(x) ... end;  net(x)", [[
The computation of the module; define it in your class. Calling the module
calls it.]])

doc({"nn.Module:parameters", "=nn.Module.parameters"}, "model:parameters()", [[
An array of all parameters (own first, then each submodule's, depth first, in
registration order), for an optimiser.]])

doc({"nn.Module:named_parameters", "=nn.Module.named_parameters"},
  "for name, p in model:named_parameters() do ... end", [[
Iterates (name, parameter) with dotted names like PyTorch's "fc1.weight".]])

doc({"nn.Module:children", "=nn.Module.children"}, "model:children()", [[
An array of the direct submodules, in registration order.]])

doc({"nn.Module:named_children", "=nn.Module.named_children"},
  "for name, m in model:named_children() do ... end", [[
Iterates (name, submodule) over the direct submodules.]])

doc({"nn.Module:modules", "=nn.Module.modules"}, "model:modules()", [[
An array of the module itself and every module below it, depth first.]])

doc({"nn.Module:named_modules", "=nn.Module.named_modules"},
  "for name, m in model:named_modules() do ... end", [[
Iterates (dotted name, module) over the module ("" for itself) and all below.]])

doc({"nn.Module:named_buffers", "=nn.Module.named_buffers"},
  "for name, b in model:named_buffers() do ... end", [[
Iterates (dotted name, tensor) over the registered buffers.]])

doc({"nn.Module:register_parameter", "=nn.Module.register_parameter"},
  "model:register_parameter(name, p)", [[
Registers an nn.Parameter (or removes one, with nil) under name; the same as
assigning it to the field.]])

doc({"nn.Module:register_buffer", "=nn.Module.register_buffer"},
  "model:register_buffer(name, t)", [[
Registers a tensor that is saved in the state dict but not trained (running
statistics, masks); read it as model[name].]])

doc({"nn.Module:add_module", "=nn.Module.add_module"}, "model:add_module(name, m)", [[
Registers a submodule under name; the same as assigning it to the field.]])

doc({"nn.Module:state_dict", "=nn.Module.state_dict"}, "model:state_dict()", [[
A table name -> tensor of every parameter and buffer, sharing storage with
them; lucid.save writes it to a file.]])

doc({"nn.Module:load_state_dict", "=nn.Module.load_state_dict"},
  "model:load_state_dict(sd [, strict = true])", [[
Copies the values of a state dict in. Names and shapes must match: a missing
or unexpected name (with strict) or a wrong shape is an error naming them.
Returns {missing_keys =, unexpected_keys =}.]])

doc({"nn.Module:train", "=nn.Module.train"}, "model:train([mode = true])", [[
Sets training mode on the module and all below it (module.training); returns
the module.]])

doc({"nn.Module:eval", "=nn.Module.eval"}, "model:eval()", [[
Evaluation mode, the same as model:train(false); returns the module.]])

doc({"nn.Module:zero_grad", "=nn.Module.zero_grad"}, "model:zero_grad()", [[
Sets every parameter's gradient to nil, as PyTorch's default.]])

doc({"nn.Module:extra_repr", "=nn.Module.extra_repr"},
  "function Cls:extra_repr() return \"...\" end", [[
The settings shown inside the parentheses when the module prints, such as
"in_features=3, out_features=2, bias=true"; override it in your layers.]])

doc({"nn.Module:reuse_buffers", "=nn.Module.reuse_buffers"}, "model:reuse_buffers([on = true])", [[
For inference loops: while on and gradient recording is off, built-in layers
write their output into a buffer they keep, so a model called every frame on
same-shaped input allocates nothing. The tensor a layer returns is overwritten
by its next call; clone what must last.]])

doc({"nn.Linear", "=lucid.nn.Linear"},
  "nn.Linear(in_features, out_features [, bias = true])  or  nn.Linear{in_features =, out_features =, bias =}", [[
A fully connected layer y = x W^T + b for x (..., in_features). weight has
shape {out_features, in_features}, bias {out_features}, both nn.Parameter drawn
from U(-1/sqrt(in_features), 1/sqrt(in_features)) like PyTorch. Prints as
Linear(in_features=3, out_features=2, bias=true).]])

doc({"nn.Tanh", "=lucid.nn.Tanh"}, "nn.Tanh()", [[
The elementwise tanh as a layer (no parameters): nn.Tanh()(x) is
lucid.tanh(x).]])

doc({"nn.Sequential", "=lucid.nn.Sequential"},
  "nn.Sequential(m1, m2, ...)  or  nn.Sequential({m1, m2, ...})", [[
Calls its modules in order, each on the previous one's output. Children are
named "1", "2", ... so seq[2] is the second and state-dict keys read
"1.weight"; #seq counts them and seq:append(m) adds one.]])

doc({"nn.Parameter", "=lucid.parameter"}, "nn.Parameter(t [, requires_grad = true])", [[
A leaf tensor sharing t's values that requires grad; assigned to a field of a
module, it is registered as a parameter (in parameters(), state_dict()).]])

doc("nn.functional.tanh", "nn.functional.tanh(x)", [[
Elementwise tanh, the same function as lucid.tanh.]])

doc("nn.functional.linear", "nn.functional.linear(x, weight [, bias])", [[
x W^T + b, the same function as lucid.linear.]])

-- ---------------------------------------------------------------------------------------
section("nn: more layers")

doc("nn.ReLU", "nn.ReLU()", [[
max(x, 0) elementwise as a layer; the gradient at 0 is 0, as PyTorch.]])

doc("nn.LeakyReLU", "nn.LeakyReLU([negative_slope = 0.01])", [[
x for x > 0, negative_slope * x otherwise.]])

doc("nn.ELU", "nn.ELU([alpha = 1.0])", [[
x for x > 0, alpha * (exp(x) - 1) otherwise; stable for large inputs.]])

doc("nn.SELU", "nn.SELU()", [[
scale * ELU(x, alpha) with PyTorch's constants (alpha 1.6733, scale 1.0507).]])

doc("nn.GELU", "nn.GELU([approximate = \"none\"])", [[
x * Phi(x) with the exact normal CDF, or the tanh approximation with
approximate = "tanh".]])

doc("nn.SiLU", "nn.SiLU()", [[
x * sigmoid(x) elementwise (swish).]])

doc("nn.Sigmoid", "nn.Sigmoid()", [[
1 / (1 + exp(-x)) elementwise.]])

doc("nn.Softplus", "nn.Softplus([beta = 1 [, threshold = 20]])", [[
log(1 + exp(beta x)) / beta, and x where beta x > threshold.]])

doc("nn.Hardtanh", "nn.Hardtanh([min_val = -1 [, max_val = 1]])", [[
clamp(x, min_val, max_val); the gradient passes only strictly inside.]])

doc("nn.Softmax", "nn.Softmax(dim)", [[
softmax along dim (1-based, negative from the end), computed stably. Give dim:
without it PyTorch's legacy default is picked.]])

doc("nn.LogSoftmax", "nn.LogSoftmax(dim)", [[
log(softmax(x)) along dim, computed stably; pairs with nn.NLLLoss.]])

doc("nn.Identity", "nn.Identity(...)", [[
Returns its input unchanged (arguments ignored), to switch a layer off.]])

doc("nn.Flatten", "nn.Flatten([start_dim = 2 [, end_dim = -1]])", [[
Merges dims start_dim..end_dim; the default keeps dim 1, the batch:
{N, C, H, W} -> {N, C*H*W}.]])

doc("nn.Unflatten", "nn.Unflatten(dim, sizes)", [[
Splits dim into the sizes of a table (one may be -1): nn.Unflatten(2, {2, 5})
maps {N, 10} to {N, 2, 5}.]])

doc("nn.Dropout", "nn.Dropout([p = 0.5])", [[
In training mode zeroes each element with probability p and scales the rest
by 1 / (1 - p); in eval mode (model:eval()) returns the input. The mask comes
from lucid's generator (lucid.manual_seed makes it repeatable).]])

doc("nn.BatchNorm1d",
  "nn.BatchNorm1d(num_features [, eps = 1e-5 [, momentum = 0.1 [, affine = true [, track_running_stats = true]]]])", [[
Normalises each channel of {N, C} or {N, C, L} input with the batch's
statistics in training mode (updating the running_mean and running_var
buffers) and the running ones in eval mode, then scales by weight and adds
bias.]])

doc("nn.LayerNorm",
  "nn.LayerNorm(normalized_shape [, eps = 1e-5 [, elementwise_affine = true]])", [[
Normalises over the last dims (normalized_shape, an integer or a table of
sizes) to mean 0 and variance 1, then scales by weight and adds bias.]])

doc("nn.Embedding", "nn.Embedding(num_embeddings, embedding_dim [, padding_idx])", [[
A lookup table: called with a tensor (or Lua array) of 1-based indices it
returns their rows, {..., embedding_dim}. weight is drawn from N(0, 1); only
the rows used get gradients; the padding_idx row stays zero.]])

doc("nn.Bilinear", "nn.Bilinear(in1_features, in2_features, out_features [, bias = true])", [[
y[k] = x1 W[k] x2^T + b[k] for x1 {.., in1} and x2 {.., in2}; W {out, in1,
in2}, b {out}, both from U(-1/sqrt(in1), 1/sqrt(in1)).]])

doc("nn.ModuleList", "nn.ModuleList({m1, m2, ...})", [[
Holds submodules in a list (children "1", "2", ...), without a forward: your
forward walks it, `for i, layer in ipairs(self.layers) do x = layer(x) end`.
ml[i], #ml, ml:append(m), ml:extend(list), ml:insert(i, m).]])

doc("nn.ModuleDict", "nn.ModuleDict({{\"name\", m}, ...})  or  nn.ModuleDict{name = m, ...}", [[
Holds submodules by name (insertion order; a plain table is sorted by name),
without a forward: md.name(x) or md["name"](x). #md, md:keys(), md:values(),
md:items(), md:contains(name), md:update(t), md:pop(name), md:clear().]])

-- ---------------------------------------------------------------------------------------
section("nn: losses")

doc({"nn.MSELoss", "=nn.functional.mse_loss"},
  "nn.MSELoss([reduction = \"mean\"])(input, target)  or  F.mse_loss(input, target [, reduction])", [[
The squared error (input - target)^2, averaged ("mean"), summed ("sum") or
returned per element ("none").]])

doc({"nn.L1Loss", "=nn.functional.l1_loss"}, "nn.L1Loss([reduction = \"mean\"])(input, target)", [[
The absolute error |input - target|, reduced as MSELoss.]])

doc({"nn.HuberLoss", "=nn.functional.huber_loss"},
  "nn.HuberLoss([reduction = \"mean\" [, delta = 1.0]])(input, target)", [[
0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), for d = input - target.]])

doc({"nn.SmoothL1Loss", "=nn.functional.smooth_l1_loss"},
  "nn.SmoothL1Loss([reduction = \"mean\" [, beta = 1.0]])(input, target)", [[
0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta.]])

doc({"nn.CrossEntropyLoss", "=nn.functional.cross_entropy"},
  "nn.CrossEntropyLoss([weight [, ignore_index [, reduction [, label_smoothing]]]])(logits, target)", [[
log_softmax over the class dim and negative log likelihood in one, computed
stably. logits {N, C}; target holds 1-based class indices {N} (float values)
or class probabilities of the logits' shape. weight {C} rescales classes.]])

doc({"nn.NLLLoss", "=nn.functional.nll_loss"},
  "nn.NLLLoss([weight [, ignore_index [, reduction]]])(log_probs, target)", [[
-log_probs[n][ target[n] ] for log-probabilities {N, C} (from nn.LogSoftmax(2))
and 1-based class indices {N}.]])

doc({"nn.BCELoss", "=nn.functional.binary_cross_entropy"},
  "nn.BCELoss([weight [, reduction]])(probs, target)", [[
Binary cross entropy of probabilities in [0, 1] (logs clamped at -100 as
PyTorch). With logits, prefer nn.BCEWithLogitsLoss.]])

doc({"nn.BCEWithLogitsLoss", "=nn.functional.binary_cross_entropy_with_logits"},
  "nn.BCEWithLogitsLoss([weight [, reduction [, pos_weight]]])(logits, target)", [[
Sigmoid and binary cross entropy in one, stable for logits of any size;
pos_weight {C} weighs the positives of each class.]])

-- ---------------------------------------------------------------------------------------
section("nn: initialisation and clipping")

doc({"nn.init", "=nn.init.uniform_", "=nn.init.normal_", "=nn.init.constant_", "=nn.init.zeros_",
     "=nn.init.ones_", "=nn.init.xavier_uniform_", "=nn.init.xavier_normal_",
     "=nn.init.kaiming_uniform_", "=nn.init.kaiming_normal_", "=nn.init.calculate_gain"},
  "nn.init.xavier_uniform_(w [, gain])  (also uniform_ normal_ constant_ zeros_ ones_ xavier_normal_ kaiming_uniform_ kaiming_normal_ calculate_gain)", [[
In-place initialisers as torch.nn.init: each fills its tensor under no_grad
(parameters included), draws from lucid's generator and returns the tensor.
Fans are PyTorch's; options go positionally or by name:
nn.init.kaiming_normal_(w, {mode = "fan_out", nonlinearity = "relu"}).]])

doc("nn.utils.clip_grad_norm_", "nn.utils.clip_grad_norm_(params, max_norm [, norm_type = 2])", [[
Scales all gradients in place so that their joint norm is at most max_norm;
returns the norm before clipping, as a number. Call it between backward and
opt:step().]])

doc("nn.utils.clip_grad_value_", "nn.utils.clip_grad_value_(params, clip_value)", [[
Clamps every gradient value into [-clip_value, clip_value], in place.]])

-- ---------------------------------------------------------------------------------------
section("optim: optimizers")

doc({"optim", "=lucid.optim"}, "optim = require(\"lucid.optim\")  (also lucid.optim)", [[
Optimizers and learning-rate schedulers with PyTorch 1.13's update rules:
local opt = optim.Adam(model:parameters(), {lr = 1e-3}); then each step
opt:zero_grad(); loss:backward(); opt:step().]])

doc("optim.SGD",
  "optim.SGD(params, {lr =, momentum = 0, dampening = 0, weight_decay = 0, nesterov = false, maximize = false})  or  optim.SGD(params, lr)", [[
Stochastic gradient descent, with optional momentum (Nesterov's too) and L2
weight decay. params is model:parameters() or an array of groups
{{params = {...}, lr = ...}, ...}.]])

doc("optim.Adam",
  "optim.Adam(params, {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 0, amsgrad = false})", [[
Adam: bias-corrected running averages of the gradient and its square;
weight_decay is an L2 penalty added to the gradient (see AdamW).]])

doc("optim.AdamW",
  "optim.AdamW(params, {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 1e-2})", [[
Adam with decoupled weight decay: parameters shrink by lr * weight_decay before
the Adam step.]])

doc("optim.RMSprop",
  "optim.RMSprop(params, {lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0, centered = false})", [[
Divides the gradient by a running root mean square of recent gradients.]])

doc("optim.Adagrad",
  "optim.Adagrad(params, {lr = 1e-2, lr_decay = 0, weight_decay = 0, initial_accumulator_value = 0, eps = 1e-10})", [[
Divides the gradient by the root of the sum of all squared gradients so far.]])

doc({"optim.Optimizer", "=optim.Optimizer.extend", "=optim.Optimizer:extend"}, "optim.Optimizer:extend(name, options)", [[
The base class of the optimizers; instances have param_groups (lr and the
other options, changeable between steps), state, step(), zero_grad(),
add_param_group(g), state_dict() and load_state_dict(sd).]])

doc({"optim.Optimizer:step", "=optim.Optimizer.step"}, "opt:step()", [[
Updates every parameter that has a gradient, by the optimizer's rule.]])

doc({"optim.Optimizer:zero_grad", "=optim.Optimizer.zero_grad"},
  "opt:zero_grad([set_to_none = true])", [[
Sets the parameters' gradients to nil (or to zeros with false), before the
next backward.]])

doc({"optim.Optimizer:add_param_group", "=optim.Optimizer.add_param_group"},
  "opt:add_param_group({params = {...}, lr = ...})", [[
Adds parameters with their own options (the others from the defaults).]])

doc({"optim.Optimizer:state_dict", "=optim.Optimizer.state_dict",
     "optim.Optimizer:load_state_dict", "=optim.Optimizer.load_state_dict"},
  "opt:state_dict(),  opt:load_state_dict(sd)", [[
The optimizer's state and options as a table (parameters by their 1-based
index), to save and restore; loading checks counts, shapes and options and
changes nothing on a mismatch.]])

doc({"optim.lr_scheduler", "optim.lr_scheduler.StepLR", "optim.lr_scheduler.ExponentialLR",
     "optim.lr_scheduler.CosineAnnealingLR", "optim.lr_scheduler.LambdaLR"},
  "optim.lr_scheduler.StepLR(opt, {step_size =, gamma = 0.1})  (also ExponentialLR(opt, {gamma =}), CosineAnnealingLR(opt, {T_max =, eta_min = 0}), LambdaLR(opt, {lr_lambda = f}))", [[
Learning-rate schedules that rewrite lr in the optimizer's param_groups: call
sched:step() once per epoch after opt:step(); sched:get_last_lr() reads it.
Arguments also go positionally in PyTorch's order.]])

-- ---------------------------------------------------------------------------------------
section("Data")

doc("lucid.data.TensorDataset", "lucid.data.TensorDataset(X, Y, ...)", [[
A dataset of the rows of tensors with the same first size: ds:get(i) returns
the i-th rows as multiple results, #ds the number of rows.]])

doc("lucid.data.DataLoader",
  "lucid.data.DataLoader(dataset [, {batch_size = 1, shuffle = false, drop_last = false, collate_fn =}])", [[
Mini-batches of a dataset (a TensorDataset, an array, a tensor, or any value
with # and get(i)): `for xb, yb in loader do ... end` runs one epoch, stacking
samples along a new first dim; shuffle draws a new order each epoch from
lucid's generator. #loader is the number of batches.]])

return {sections = sections, entries = entries}
