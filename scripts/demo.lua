-- The three examples of the nn.Tanh reference docs, in Lua (make demo).
-- Run from a checkout with `make demo`, or with lucid installed:
--   lua5.4 scripts/demo.lua
local lucid = require("lucid")
local nn = require("lucid.nn")
local Tensor = lucid.Tensor

lucid.manual_seed(0)

print("-- Applying Tanh to a single input tensor")
local input_tensor = Tensor({{-1.0, 0.0, 1.0, 2.0}}, {requires_grad = true})  -- shape {1, 4}
local tanh = nn.Tanh()
local output = tanh(input_tensor)
print(output)
output:backward()
print(input_tensor.grad)
lucid.set_printoptions{precision = 7}
print(input_tensor.grad)  -- the docs' digits
lucid.set_printoptions{precision = 4}

print("\n-- Using Tanh within a simple neural network")
local SimpleTanhModel = nn.Module:extend("SimpleTanhModel")
function SimpleTanhModel:__init()
  SimpleTanhModel.super.__init(self)
  self.linear = nn.Linear{in_features = 3, out_features = 2}
  self.tanh = nn.Tanh()
end
function SimpleTanhModel:forward(x)
  x = self.linear(x)
  x = self.tanh(x)
  return x
end

local model = SimpleTanhModel()
print(model)
local input_data = Tensor({{0.5, -1.2, 3.3}}, {requires_grad = true})  -- shape {1, 3}
output = model(input_data)
print(output)  -- the numbers depend on the random weights
output:backward()
print(input_data.grad)

print("\n-- Integrating Tanh into a neural network model")
local TanhNetwork = nn.Module:extend("TanhNetwork")
function TanhNetwork:__init()
  TanhNetwork.super.__init(self)
  self.fc1 = nn.Linear{in_features = 4, out_features = 8}
  self.tanh = nn.Tanh()
  self.fc2 = nn.Linear{in_features = 8, out_features = 2}
end
function TanhNetwork:forward(x)
  x = self.fc1(x)
  x = self.tanh(x)
  x = self.fc2(x)
  return x
end

model = TanhNetwork()
print(model)
input_data = Tensor({{0.5, -1.2, 3.3, 0.7}}, {requires_grad = true})  -- shape {1, 4}
output = model(input_data)
print(output)
output:backward()
print(input_data.grad)
