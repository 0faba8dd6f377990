--- svg.lua: a tiny SVG writer for the training examples (no dependency).
--
--   local svg = require("svg")          -- the examples add scripts/ to package.path
--   local doc = svg.new(480, 400, {title = "Loss"})
--   local ax = doc:axes({x = 60, y = 20, width = 400, height = 330},
--     {xlim = {0, 100}, ylim = {0, 1.2}, xlabel = "epoch", ylabel = "loss"})
--   ax:line(xs, ys, {stroke = "#1f77b4"})            -- xs, ys: Lua arrays
--   ax:points(xs, ys, {r = 2, fill = "#d62728"})
--   ax:frame()                                      -- the border, on top
--   doc:save("loss.svg")                            -- or doc:render()
--
-- A document is a list of elements written in order (later ones on top).
-- Attribute tables map names to strings or numbers; names with "_" are
-- written with "-" (stroke_width -> stroke-width), attributes come in a fixed
-- order (geometry first, then by name) so the output is the same on every run, numbers get at most 2 decimals, and
-- text and attribute values are escaped: the output is well-formed XML
-- (an XML declaration, then one <svg> element).
local svg = {}

-- log10: math.log's base argument is 5.2+, math.log10 is gone from 5.3 on
local log10 = math.log10 or function(x) return math.log(x, 10) end  -- luacheck: ignore (5.1)

-- ---------------------------------------------------------------------------
-- text

--- A number as SVG wants it: an integer without ".0", else at most 2 decimals.
function svg.num(v)
  if math.type and math.type(v) == "integer" then return string.format("%d", v) end  -- 5.3+
  if v ~= v or v == math.huge or v == -math.huge then
    error("svg: a coordinate is " .. tostring(v), 3)
  end
  local s = string.format("%.2f", v):gsub("0+$", ""):gsub("%.$", "")
  if s == "-0" then s = "0" end
  return s
end

local ESCAPES = {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;"}

--- s with the XML special characters escaped (control characters dropped).
function svg.escape(s)
  return (tostring(s):gsub("[&<>\"']", ESCAPES):gsub("[%z\1-\8\11\12\14-\31]", ""))
end

local function attr_value(v)
  if type(v) == "number" then return svg.num(v) end
  return svg.escape(v)
end

-- Geometry first, in this order; other attributes follow sorted by name.
local FIRST = {}
for i, k in ipairs({"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height", "points"}) do
  FIRST[k] = i
end
local function attr_less(a, b)
  local fa, fb = FIRST[a], FIRST[b]
  if fa and fb then return fa < fb end
  if fa or fb then return fa ~= nil end
  return a < b
end

-- ' name="value"' for each attribute, in a fixed order.
local function attributes(attrs)
  if not attrs then return "" end
  local keys = {}
  for k in pairs(attrs) do keys[#keys + 1] = k end
  table.sort(keys, attr_less)
  local out = {}
  for _, k in ipairs(keys) do
    out[#out + 1] = string.format(' %s="%s"', k:gsub("_", "-"), attr_value(attrs[k]))
  end
  return table.concat(out)
end

-- A copy of attrs without the keys in `drop`.
local function without(attrs, drop)
  local out = {}
  for k, v in pairs(attrs or {}) do
    if not drop[k] then out[k] = v end
  end
  return out
end

-- ---------------------------------------------------------------------------
-- documents

local Doc = {}
Doc.__index = Doc

--- svg.new(width, height [, opts]): an empty document of width x height
-- pixels. opts.title (a <title>, shown by viewers), opts.background (a fill
-- colour for the whole picture, default white; false for none), opts.font
-- (font-family for text, default sans-serif).
function svg.new(width, height, opts)
  opts = opts or {}
  local doc = setmetatable({width = width, height = height, parts = {}, depth = 0}, Doc)
  if opts.title then doc:add("title", nil, opts.title) end
  if opts.background ~= false then
    doc:add("rect", {x = 0, y = 0, width = width, height = height, fill = opts.background or "white"})
  end
  doc.font = opts.font or "sans-serif"
  return doc
end

--- doc:add(tag, attrs [, text]): one element, with text content (escaped)
-- or empty.
function Doc:add(tag, attrs, text)
  local indent = string.rep("  ", self.depth + 1)
  if text == nil then
    self.parts[#self.parts + 1] = string.format("%s<%s%s/>", indent, tag, attributes(attrs))
  else
    self.parts[#self.parts + 1] = string.format("%s<%s%s>%s</%s>", indent, tag, attributes(attrs),
      svg.escape(text), tag)
  end
  return self
end

--- doc:group(attrs, fn): a <g> around what fn(doc) draws; attributes set on
-- the group (fill, stroke, class, ...) apply to its elements.
function Doc:group(attrs, fn)
  self.parts[#self.parts + 1] = string.format("%s<g%s>", string.rep("  ", self.depth + 1), attributes(attrs))
  self.depth = self.depth + 1
  local ok, err = pcall(fn, self)
  self.depth = self.depth - 1
  self.parts[#self.parts + 1] = string.rep("  ", self.depth + 1) .. "</g>"
  if not ok then error(err, 0) end
  return self
end

function Doc:rect(x, y, w, h, attrs)
  local a = without(attrs, {})
  a.x, a.y, a.width, a.height = x, y, w, h
  return self:add("rect", a)
end

function Doc:circle(cx, cy, r, attrs)
  local a = without(attrs, {})
  a.cx, a.cy, a.r = cx, cy, r
  return self:add("circle", a)
end

function Doc:line(x1, y1, x2, y2, attrs)
  local a = without(attrs, {})
  a.x1, a.y1, a.x2, a.y2 = x1, y1, x2, y2
  if a.stroke == nil then a.stroke = "black" end
  return self:add("line", a)
end

--- doc:polyline(points, attrs): points is an array of {x, y}.
function Doc:polyline(points, attrs)
  local p = {}
  for i, xy in ipairs(points) do p[i] = svg.num(xy[1]) .. "," .. svg.num(xy[2]) end
  local a = without(attrs, {})
  a.points = table.concat(p, " ")
  if a.fill == nil then a.fill = "none" end
  if a.stroke == nil then a.stroke = "black" end
  return self:add("polyline", a)
end

--- doc:text(x, y, s, attrs): attrs may set font_size (default 12),
-- text_anchor ("start", "middle", "end"), fill, transform, ...
function Doc:text(x, y, s, attrs)
  local a = without(attrs, {})
  a.x, a.y = x, y
  if a.font_size == nil then a.font_size = 12 end
  if a.font_family == nil then a.font_family = self.font end
  return self:add("text", a, s)
end

--- The whole document as a string.
function Doc:render()
  return table.concat({
    '<?xml version="1.0" encoding="UTF-8"?>',
    string.format('<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s">',
      svg.num(self.width), svg.num(self.height), svg.num(self.width), svg.num(self.height)),
    table.concat(self.parts, "\n"),
    "</svg>",
    "",
  }, "\n")
end

--- doc:save(path): writes the document; returns path. Raises on an I/O error.
function Doc:save(path)
  local f, err = io.open(path, "w")
  if not f then error("svg: cannot write " .. tostring(err), 2) end
  local ok, werr = f:write(self:render())
  f:close()
  if not ok then error("svg: cannot write " .. path .. ": " .. tostring(werr), 2) end
  return path
end

-- ---------------------------------------------------------------------------
-- axes: a box in the document with data coordinates, ticks and labels

--- Round tick positions covering [lo, hi], about n of them (1, 2, 5 x 10^k steps).
function svg.ticks(lo, hi, n)
  n = n or 5
  if hi <= lo then return {lo} end
  local raw = (hi - lo) / n
  local mag = 10 ^ math.floor(log10(raw))
  local step = mag
  for _, m in ipairs({1, 2, 5, 10}) do
    step = m * mag
    if raw <= step then break end
  end
  local out = {}
  local first = math.ceil(lo / step - 1e-9)
  local k = first
  while k * step <= hi + step * 1e-9 do
    local v = k * step
    if math.abs(v) < step * 1e-9 then v = 0 end
    out[#out + 1] = v
    k = k + 1
  end
  return out
end

-- A tick label: as few digits as the step needs.
local function tick_label(v, step)
  local digits = 0
  if step < 1 then digits = math.max(0, math.ceil(-log10(step) - 1e-9)) end
  return string.format("%." .. digits .. "f", v)
end

--- The lowest and highest value of one or more arrays (with a margin when
-- `pad` is a fraction of the range), for xlim / ylim.
function svg.extent(pad, ...)
  local lo, hi = math.huge, -math.huge
  for i = 1, select("#", ...) do
    for _, v in ipairs((select(i, ...))) do
      if v < lo then lo = v end
      if v > hi then hi = v end
    end
  end
  if lo > hi then return {0, 1} end
  if lo == hi then return {lo - 1, hi + 1} end
  local m = (hi - lo) * (pad or 0)
  return {lo - m, hi + m}
end

local Axes = {}
Axes.__index = Axes

--- doc:axes(box, opts): box = {x =, y =, width =, height =} in pixels;
-- opts.xlim, opts.ylim = {lo, hi} (data coordinates), opts.xlabel,
-- opts.ylabel, opts.title, opts.ticks (about how many per axis, default 5),
-- opts.grid (light grid lines, default true). Draws the grid, tick labels
-- and axis labels now; ax:frame() draws the border (call it last).
function Doc:axes(box, opts)
  opts = opts or {}
  local ax = setmetatable({doc = self, box = box, xlim = opts.xlim or {0, 1}, ylim = opts.ylim or {0, 1}}, Axes)
  local x0, y0, w, h = box.x, box.y, box.width, box.height
  local nt = opts.ticks or 5
  local xt, yt = svg.ticks(ax.xlim[1], ax.xlim[2], nt), svg.ticks(ax.ylim[1], ax.ylim[2], nt)
  local xstep, ystep = (xt[2] or 1) - xt[1], (yt[2] or 1) - yt[1]
  self:group({class = "axes", fill = "#333333"}, function(d)
    for _, v in ipairs(xt) do
      local px = ax:px(v, ax.ylim[1])
      if opts.grid ~= false then d:line(px, y0, px, y0 + h, {stroke = "#e5e5e5"}) end
      d:line(px, y0 + h, px, y0 + h + 4, {stroke = "#333333"})
      d:text(px, y0 + h + 17, tick_label(v, xstep), {text_anchor = "middle", font_size = 11})
    end
    for _, v in ipairs(yt) do
      local _, py = ax:px(ax.xlim[1], v)
      if opts.grid ~= false then d:line(x0, py, x0 + w, py, {stroke = "#e5e5e5"}) end
      d:line(x0 - 4, py, x0, py, {stroke = "#333333"})
      d:text(x0 - 7, py + 4, tick_label(v, ystep), {text_anchor = "end", font_size = 11})
    end
    if opts.xlabel then
      d:text(x0 + w / 2, y0 + h + 34, opts.xlabel, {text_anchor = "middle"})
    end
    if opts.ylabel then
      local cx, cy = x0 - 44, y0 + h / 2
      d:text(cx, cy, opts.ylabel, {text_anchor = "middle",
        transform = string.format("rotate(-90 %s %s)", svg.num(cx), svg.num(cy))})
    end
    if opts.title then
      d:text(x0 + w / 2, y0 - 8, opts.title, {text_anchor = "middle", font_size = 14, font_weight = "bold"})
    end
  end)
  return ax
end

--- ax:px(x, y): data coordinates -> pixels (y grows upwards in the data).
function Axes:px(x, y)
  local b, xl, yl = self.box, self.xlim, self.ylim
  return b.x + (x - xl[1]) / (xl[2] - xl[1]) * b.width,
         b.y + b.height - (y - yl[1]) / (yl[2] - yl[1]) * b.height
end

--- ax:line(xs, ys [, attrs]): a polyline through (xs[i], ys[i]).
function Axes:line(xs, ys, attrs)
  local pts = {}
  for i = 1, #xs do pts[i] = {self:px(xs[i], ys[i])} end
  local a = without(attrs, {})
  if a.stroke_width == nil then a.stroke_width = 2 end
  a.stroke_linejoin = a.stroke_linejoin or "round"
  self.doc:polyline(pts, a)
  return self
end

--- ax:points(xs, ys [, attrs]): a circle per point, in one group carrying
-- attrs (r = radius, default 3; fill, stroke, class, ...).
function Axes:points(xs, ys, attrs)
  local r = (attrs and attrs.r) or 3
  self.doc:group(without(attrs, {r = true}), function(d)
    for i = 1, #xs do
      local px, py = self:px(xs[i], ys[i])
      d:circle(px, py, r)
    end
  end)
  return self
end

--- ax:cell(x1, y1, x2, y2 [, attrs]): the rectangle between two corners
-- given in data coordinates.
function Axes:cell(x1, y1, x2, y2, attrs)
  local ax1, ay1 = self:px(x1, y1)
  local ax2, ay2 = self:px(x2, y2)
  self.doc:rect(math.min(ax1, ax2), math.min(ay1, ay2), math.abs(ax2 - ax1), math.abs(ay2 - ay1), attrs)
  return self
end

--- ax:legend(entries [, corner]): entries = {{label =, color =}, ...}, drawn
-- in the "top right" corner (default) or "bottom left" etc.
function Axes:legend(entries, corner)
  corner = corner or "top right"
  local b = self.box
  local width, line_h = 0, 18
  for _, e in ipairs(entries) do width = math.max(width, 7 * #e.label) end
  width = width + 34
  local height = line_h * #entries + 8
  local x = corner:find("left") and b.x + 8 or b.x + b.width - width - 8
  local y = corner:find("bottom") and b.y + b.height - height - 8 or b.y + 8
  self.doc:group({class = "legend"}, function(d)
    d:rect(x, y, width, height, {fill = "white", fill_opacity = 0.85, stroke = "#999999"})
    for i, e in ipairs(entries) do
      local ly = y + 4 + line_h * (i - 1) + line_h / 2
      d:rect(x + 8, ly - 5, 14, 10, {fill = e.color})
      d:text(x + 28, ly + 4, e.label, {fill = "#333333"})
    end
  end)
  return self
end

--- ax:frame(): the border of the box (on top of what was drawn inside).
function Axes:frame()
  local b = self.box
  self.doc:rect(b.x, b.y, b.width, b.height, {fill = "none", stroke = "#333333"})
  return self
end

return svg
