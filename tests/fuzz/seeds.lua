-- seeds.lua: writes the hand-made seeds of the three fuzz targets (the
-- files named seed-* in tests/fuzz/corpus/<target>/). The rest of each
-- corpus is fuzzer output, minimised with -merge=1.
--
--   LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;" \
--     lua5.4 tests/fuzz/seeds.lua tests/fuzz/corpus
--
-- (lucid itself writes the safetensors seeds.) FUZZ_TRACE=1
-- build/fuzz/replay_ops FILE shows what an ops seed does.
local lucid = require("lucid")
local root = assert(arg[1], "usage: seeds.lua CORPUS_DIR")

local function write(dir, name, bytes)
  os.execute("mkdir -p '" .. root .. "/" .. dir .. "'")
  local f = assert(io.open(root .. "/" .. dir .. "/" .. name, "wb"))
  f:write(bytes)
  f:close()
end

-- ---- safetensors --------------------------------------------------------------------

local ST = root .. "/safetensors/"
os.execute("mkdir -p '" .. ST .. "'")
local function save(name, tbl, opts) lucid.save(tbl, ST .. name, opts) end
local function raw(name, header, data)
  write("safetensors", name, string.pack("<I8", #header) .. header .. (data or ""))
end
lucid.manual_seed(1)
save("seed-flat", {w = lucid.randn(2, 3), b = lucid.zeros(3, {dtype = "float64"})})
save("seed-tensor", lucid.arange(4))
save("seed-scalar", {s = lucid.tensor(2.5)})
save("seed-empty", {e = lucid.zeros(0, 3), f = lucid.zeros(2, 0, {dtype = "float64"})})
save("seed-nested", {model = {fc = {weight = lucid.ones(2, 2)}}, epoch = 3, lr = 0.01, name = "run\n1",
  flags = {true, false}, [5] = -0.0, nan = 0 / 0, inf = math.huge, ninf = -math.huge,
  bin = "\255\0", list = {1, 2.5, "x"}, empty = {}}, {metadata = {note = "h\u{e9}llo"}})
save("seed-meta", {x = lucid.ones(1)}, {metadata = {a = "1", b = ""}})
save("seed-nonfinite", {x = lucid.tensor({0 / 0, math.huge, -math.huge, -0.0, 1e-45})})
save("seed-8d", {x = lucid.ones(1, 2, 1, 2, 1, 1, 2, 1)})
raw("seed-f16", '{"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}',
  string.pack("<I2I2I2I2", 0x3c00, 0x7c00, 0x8001, 0x7e00))
raw("seed-bf16", '{"h":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}', string.pack("<I2I2", 0x3f80, 0xff80))
raw("seed-ints", '{"a":{"dtype":"U64","shape":[1],"data_offsets":[0,8]},'
  .. '"b":{"dtype":"BOOL","shape":[2],"data_offsets":[8,10]},"c":{"dtype":"I8","shape":[1],"data_offsets":[10,11]}}',
  string.pack("<i8", -1) .. "\0\2" .. "\255")
raw("seed-refused", '{"q":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}', "\0")
raw("seed-nometa", '{"__metadata__":null,"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}', string.pack("<f", 1.5))
raw("seed-escapes", '{"\\u00e9\\ud83d\\ude00\\n":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}', string.pack("<d", 3))
raw("seed-layout", '{"__metadata__":{"lucid.layout":"{\\"version\\":1,\\"root\\":[\\"t\\",[1,[\\"T\\",\\"a\\"],'
  .. '\\"k\\",[\\"x\\",\\"ff00\\"]]]}"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', string.pack("<f", 7))

-- ---- table: byte 1 = opts (mod 10) + 10 * mode (0-2 rectangular, 3 free, 4 flat) ----

local function b(...) return string.char(...) end
-- rectangular, mode 1 (no mutations): ndim, sizes, then values (a byte < 200 is (v - 100) / 8)
write("table", "seed-2x3", b(10, 2, 2, 3, 100, 108, 116, 92, 84, 76))
write("table", "seed-2x3-float64-grad", b(14, 2, 2, 3, 100, 108, 116, 92, 84, 76))
write("table", "seed-scalar", b(11, 0, 0, 5))
write("table", "seed-empty-rows", b(12, 2, 3, 0))
write("table", "seed-9d", b(10, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1, 100))
-- a special value leaf (byte >= 200 reads a typed leaf: 210 = kind 10, specials)
write("table", "seed-specials", b(12, 1, 4, 210, 0, 210, 1, 210, 9, 207, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f))
-- mode 0 with mutations: 3x2, then 2 mutations
write("table", "seed-mutated", b(0, 2, 3, 2, 100, 101, 102, 103, 104, 105, 2, 1, 0, 0, 15, 1, 1, 0, 1, 16, 1))
-- free-form: mode 3
write("table", "seed-free", b(30, 0, 21, 0, 6, 0, 12, 3, 6, 0, 12, 4))
-- flat: mode 4, ndim - 1, sizes, count byte (< 200: exactly numel), values
write("table", "seed-flat", b(42, 1, 2, 3, 0, 100, 101, 102, 103, 104, 105))
write("table", "seed-flat-bad", b(40, 0, 241, 0, 100))

-- ---- ops: an assembler for the interpreter in fuzz_ops.lua ------------------------------
-- opcodes: the index in fuzz_ops.lua's op list, minus 1
local CREATE, DERIVE, VIEW, BINARY, UNARY, REDUCE, LINALG, JOIN, INDEX, INPLACE, BACKWARD, GRADS,
  HOOK, AGRAD, FUNC, MODE, READ, DROP, HIGHER, CGBACK, OPTION, COMPILE =
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 23
local function num(v) return math.tointeger(v * 8 + 100) end  -- number() reads (b - 100) / 8
local function s(i) return i - 1 end                           -- slot i
local F32, F64, RG, RG64 = 0, 1, 2, 3                           -- opts() bytes
local RANDN, ZEROS, ONES, ARANGE, TABLE = 2, 0, 1, 5, 9        -- create kinds
local function create(slot, kind, shape, o, ...)
  local t = {CREATE, s(slot), kind, #shape}
  for _, d in ipairs(shape) do t[#t + 1] = d end
  t[#t + 1] = o
  for _, x in ipairs({...}) do t[#t + 1] = x end
  return t
end
local function program(seed, ...)
  local out = {string.char(seed)}
  for _, ins in ipairs({...}) do out[#out + 1] = string.char(table.unpack(ins)) end
  return table.concat(out)
end

-- y = tanh(x w^T + b), backward, read w's gradient
write("ops", "seed-linear", program(1,
  create(1, RANDN, {2, 3}, F32), create(2, RANDN, {4, 3}, RG), create(3, RANDN, {4}, RG),
  {LINALG, s(4), s(1), s(2), s(3), 1, 0},            -- linear(x, w, b)
  {UNARY, s(5), s(4), 14 - 1},                       -- tanh
  {BACKWARD, s(5), 0, 1},                            -- sum():backward()
  {GRADS, s(6), s(2), 0},                            -- slot 6 = w.grad
  {READ, s(6), 2}))                                  -- tostring
-- broadcasting float32 with float64, backward twice with retain_graph
write("ops", "seed-broadcast", program(2,
  create(1, RANDN, {3, 1}, RG), create(2, RANDN, {1, 4}, RG64),
  {BINARY, s(3), s(1), s(2), 3 - 1, 2},              -- a * b
  {BINARY, s(4), s(3), s(1), 1 - 1, 2},              -- + a
  {BINARY, s(5), s(4), s(2), 5 - 1, 2},              -- pow
  {BACKWARD, s(4), 0, 0},                            -- retain_graph
  {BACKWARD, s(4), 4, 1},                            -- twice more
  {BACKWARD, s(5), 1, 1}))
-- views of a leaf: transpose, narrow, select, expand, contiguous, backward
write("ops", "seed-views", program(3,
  create(1, RANDN, {2, 3, 4}, RG),
  {VIEW, s(2), s(1), 2 - 1, 0, 2},                   -- transpose(1, 3)
  {VIEW, s(3), s(2), 4 - 1, 1, 0, 2},                -- narrow(2, 1, 2)
  {VIEW, s(4), s(3), 6 - 1, 0, 1},                   -- select(1, 2)
  {VIEW, s(5), s(4), 9 - 1, 2},                      -- unsqueeze(1)
  {VIEW, s(6), s(2), 14 - 1},                        -- contiguous
  {BINARY, s(6), s(6), s(6), 3 - 1, 2},
  {BACKWARD, s(6), 0, 1},
  {BACKWARD, s(4), 1, 1}))
-- reductions over dims: max with indices, softmax, var, norm
write("ops", "seed-reduce", program(4,
  create(1, RANDN, {3, 4}, RG64),
  {REDUCE, s(2), s(3), s(1), 7 - 1, 1, 1, 0},        -- max(2, keepdim)
  {REDUCE, s(4), s(4), s(1), 12 - 1, 0, 0, 0},       -- softmax(1)
  {REDUCE, s(5), s(5), s(1), 5 - 1, 1, 1, 1, 0},     -- var(2, unbiased, no keepdim)
  {BINARY, s(6), s(2), s(4), 1 - 1, 2},
  {BACKWARD, s(6), 0, 1},
  {BACKWARD, s(5), 0, 1},
  {REDUCE, s(6), s(6), s(1), 11 - 1, 1, 0, 0, 4},    -- norm("fro", 1)
  {BACKWARD, s(6), 3, 1}))
-- indexing: index_select with a list, gather, cat, stack
write("ops", "seed-index", program(5,
  create(1, RANDN, {4, 3}, RG),
  {INDEX, s(2), s(1), 0, 0, 2, 2, 0, 0},             -- index_select(1, {3, 1}) as a list
  {INDEX, s(3), s(1), 1, 1, 2, 3, 2, 3, 0, 0, 1, 1, 0},  -- gather(2, {{1, 1}, {2, 2}})
  {JOIN, s(4), 2, s(1), s(2), 0, 0, 1},              -- cat({x, sel}, 1)
  {JOIN, s(5), 2, s(1), s(1), 0, 1, 2},              -- stack({x, x}, 1)
  {BACKWARD, s(4), 0, 1},
  {BACKWARD, s(5), 0, 1},
  {BACKWARD, s(3), 0, 1}))
-- in place under no_grad, then refused with grad on
write("ops", "seed-inplace", program(6,
  create(1, ZEROS, {3}, RG), create(2, ARANGE, {3}, F32),
  {INPLACE, s(1), 0, 1, s(2)},                       -- no_grad: copy_
  {INPLACE, s(1), 1, 1, num(2.5)},                   -- no_grad: fill_
  {INPLACE, s(1), 3, 1, 1, 0, num(-1)},              -- no_grad: x[2] = -1
  {INPLACE, s(1), 1, 0, num(1)},                     -- refused: requires grad
  {BINARY, s(3), s(1), s(2), 3 - 1, 2},
  {BACKWARD, s(3), 0, 1}))
-- hooks, retain_grad, autograd.grad
write("ops", "seed-hooks", program(7,
  create(1, RANDN, {3}, RG),
  {HOOK, s(1), 1},                                   -- g * 2
  {BINARY, s(2), s(1), s(1), 3 - 1, 2},
  {GRADS, s(3), s(2), 5},                            -- retain_grad
  {HOOK, s(2), 4},                                   -- a hook that raises
  {BACKWARD, s(2), 0, 0},
  {AGRAD, s(4), s(2), 0, s(1), 0, 0, 1, 1},          -- autograd.grad(sum, {x})
  {HOOK, s(1), 6},                                   -- a backward inside a hook
  {BACKWARD, s(2), 0, 1}))
-- Lua-defined ops: Square, Saver, Broken
write("ops", "seed-function", program(8,
  create(1, RANDN, {2, 2}, RG64),
  {FUNC, s(2), s(1), s(1), 0},
  {FUNC, s(3), s(2), s(1), 1},
  {FUNC, s(4), s(1), s(1), 2, 0},                    -- Broken: a wrong-shape gradient
  {BACKWARD, s(3), 0, 1},
  {BACKWARD, s(4), 0, 1}))
-- garbage collection in the middle of a graph, grad mode switched
write("ops", "seed-gc", program(9,
  create(1, RANDN, {2, 3}, RG),
  {UNARY, s(2), s(1), 2 - 1},                        -- exp
  {UNARY, s(3), s(2), 3 - 1},                        -- log
  {DROP, 2, s(1)},                                   -- drop the leaf, collect
  {DROP, 2, s(2)},
  {BACKWARD, s(3), 0, 1},
  {MODE, 0, 1},                                      -- recording off
  {BINARY, s(4), s(3), s(3), 1 - 1, 2},
  {MODE, 2, s(3)},                                   -- an error inside no_grad
  {MODE, 0, 0},                                      -- recording on
  {READ, s(4), 5}))                                  -- to_string / from_string
-- higher derivatives with autograd.grad: closed forms (HIGHER, s, x, even,
-- f, route, own [, scale]: f 0 x^3, 1 x*x*x, 4 sin, 6 tanh; route 0 grad of
-- sum(g), 1 backward into .grad, 2 grad_outputs, 3 a Hessian-vector
-- product), then any tensors (HIGHER, s, out, odd, ninputs - 1, inputs...,
-- seed?, sum?, allow_unused, retain, second function, grad or backward)
write("ops", "seed-higher", program(10,
  create(1, RANDN, {2, 3}, F64),
  {HIGHER, s(2), s(1), 0, 0, 0, 1},                  -- x^3: g = 3x^2, grad(sum(g)) = 6x
  {HIGHER, s(3), s(1), 0, 4, 1, 1},                  -- sin: backward of sum(cos x) into .grad
  {HIGHER, s(3), s(1), 0, 6, 3, 1, 0},               -- tanh: Hessian-vector product, v = 2
  create(4, RANDN, {3}, RG),
  {HIGHER, s(5), s(4), 0, 1, 2, 0},                  -- x*x*x on the leaf itself, grad_outputs
  {BINARY, s(6), s(4), s(4), 3 - 1, 2},              -- x * x
  {HIGHER, s(5), s(6), 1, 0, s(4), 1, 1, 0, 1, 0, 0},  -- g = grad(sum(x*x)); grad(sum(g*g))
  {HIGHER, s(5), s(6), 1, 0, s(4), 1, 1, 0, 1, 3, 1})) -- sum(tanh(g)):backward()
-- backward with create_graph (CGBACK, leaf slot, x, kind, ...; then a
-- backward through the leaf's .grad, and the leaf dropped: the cycle
-- leaf -> .grad -> graph -> leaf must go with it)
write("ops", "seed-create-graph", program(11,
  create(1, RANDN, {3}, RG),
  {UNARY, s(2), s(1), 2 - 1},                        -- exp
  {CGBACK, s(1), s(2), 0, 0, 0},                     -- sum(exp x):backward{create_graph}; backward of
                                                     -- sum(x.grad^2); drop x, collect (exp x still holds it)
  create(3, RANDN, {2, 2}, RG64),
  {CGBACK, s(4), s(3), 4, 0, 0, 1},                  -- x^3 in slot 4: .grad = 3x^2, then 3x^2 + 6x; dropped
  {CGBACK, s(5), s(3), 1, 0, 2},                     -- backward(nil, true, true); every leaf with a .grad dropped
  {DROP, 0, s(2)}))
-- strict options (OPTION, x, call, key [, positional?], value): a misspelt
-- key, a key given twice, create_graph by name, an unsupported key, a real
-- option of a Lua-written function, an option to a function without any
write("ops", "seed-options", program(12,
  create(1, RANDN, {2, 3}, RG),
  {OPTION, s(1), 0, 1, 1, 2},                        -- x:sum{dimm = 1}: did you mean 'dim'?
  {OPTION, s(1), 0, 0, 0, 2},                        -- x:sum(1, {dim = 1}): given twice
  {OPTION, s(1), 9, 12, 0},                          -- autograd.grad{create_grap = true}
  {OPTION, s(1), 8, 11, 1, 0, s(2)},                 -- backward{create_graph = true}
  {OPTION, s(1), 10, 24, 5},                         -- zeros_like{device = "float64"}: not supported
  {OPTION, s(1), 12, 22, 1},                         -- gradgradcheck{raise = false}
  {OPTION, s(1), 6, 5, 5}))                          -- x:exp{dtype = "float64"}: takes no options
-- a compiled chain (COMPILE, result slot, inputs - 1, input slots, grad?,
-- two results?, ops - 1, then the chain: an op's index in CHAIN minus 1
-- and its bytes, over a pool holding the inputs; then the result slots):
-- tanh(linear(x, w)) with w made in the chain (a parameter of the module),
-- compiled, compared on new inputs, recorded and differentiated; then a
-- backward through the recorded result
write("ops", "seed-compile", program(13,
  create(1, RANDN, {2, 3}, F32),
  {COMPILE, s(4), 0, s(1), 0, 1, 2,
    0, s(2), RANDN, 2, 4, 3, RG,                     -- w = randn(4, 3), requires grad
    6, s(3), s(1), s(2), s(2), 1, 1,                 -- linear(x, w)
    4, s(3), s(3), 14 - 1,                           -- tanh
    s(3), s(3)},
  {BACKWARD, s(4), 0, 1}))
