-- mighost.mig_json: the small JSON codec of the migration framework.
--
-- Encoding is exact and stable: object keys come out in a declared order (json.object) or sorted,
-- strings are byte-exact with control characters escaped, integers (also int64 cdata) are printed
-- in full, and decimal text wrapped in json.number() is emitted verbatim (numeric stays exact).
local ffi = require "ffi"

local json = {}

local ORDER = setmetatable({}, {__mode = "k"})   -- table -> array of keys in output order
local ARRAY = setmetatable({}, {__mode = "k"})   -- tables to encode as arrays (also when empty)
local number_mt = {__tostring = function(n) return n.text end}

--- An object whose keys are written in the order given (keys absent from `t` are skipped).
function json.object(keys, t)
  t = t or {}
  ORDER[t] = keys
  return t
end

--- Marks `t` as an array (so an empty one encodes as [] and not {}).
function json.array(t)
  t = t or {}
  ARRAY[t] = true
  return t
end

--- A number given as its exact decimal text (e.g. a PostgreSQL numeric).
function json.number(text)
  return setmetatable({text = tostring(text)}, number_mt)
end

--- JSON null (Lua nil cannot live in a table).
json.null = setmetatable({}, {__tostring = function() return "null" end})

local int64_t = ffi.typeof("int64_t")
local uint64_t = ffi.typeof("uint64_t")

local function is_number_text(s)
  return type(s) == "string" and s:match("^%-?%d+%.?%d*$") ~= nil and s:match("^%-?0%d") == nil
end
json.is_number_text = is_number_text

local escapes = {['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
                 ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function encode_number(n)
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  if n == math.floor(n) and math.abs(n) < 2 ^ 53 then return string.format("%d", n) end
  return string.format("%.17g", n)
end

local function is_array(t)
  if ARRAY[t] then return true end
  if ORDER[t] then return false end
  local n = #t
  if n == 0 then return false end
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then return false end
  end
  return true
end

local encode

local function encode_table(t, out, seen)
  if getmetatable(t) == number_mt then out[#out + 1] = t.text return end
  if t == json.null then out[#out + 1] = "null" return end
  if seen[t] then error("mig_json: cannot encode a cyclic table", 0) end
  seen[t] = true
  if is_array(t) then
    out[#out + 1] = "["
    for i = 1, (t.n or #t) do
      if i > 1 then out[#out + 1] = "," end
      encode(t[i], out, seen)
    end
    out[#out + 1] = "]"
  else
    local keys = ORDER[t]
    if not keys then
      keys = {}
      for k in pairs(t) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
    end
    out[#out + 1] = "{"
    local first = true
    for _, k in ipairs(keys) do
      local v = t[k]
      if v ~= nil then
        if not first then out[#out + 1] = "," end
        first = false
        out[#out + 1] = encode_string(k)
        out[#out + 1] = ":"
        encode(v, out, seen)
      end
    end
    out[#out + 1] = "}"
  end
  seen[t] = nil
end

encode = function(v, out, seen)
  local tv = type(v)
  if tv == "nil" then out[#out + 1] = "null"
  elseif tv == "boolean" then out[#out + 1] = tostring(v)
  elseif tv == "number" then out[#out + 1] = encode_number(v)
  elseif tv == "string" then out[#out + 1] = encode_string(v)
  elseif tv == "table" then encode_table(v, out, seen)
  elseif tv == "cdata" and (ffi.istype(int64_t, v) or ffi.istype(uint64_t, v)) then
    out[#out + 1] = (tostring(v):gsub("[UL]+$", ""))
  elseif tv == "userdata" then out[#out + 1] = "null"  -- db.NULL (the only light userdata we meet)
  else error("mig_json: cannot encode a " .. tv, 0) end
end

--- Encodes a Lua value as JSON text.
function json.encode(v)
  local out = {}
  encode(v, out, {})
  return table.concat(out)
end

-- Decoding (for the framework's own data: worker jobs and results, checkpoints). Numbers become
-- Lua numbers, null becomes json.null.
local function decode_error(s, i, what)
  error(string.format("mig_json: %s at byte %d of %q", what, i, s:sub(1, 200)), 0)
end

local decode_value

local function skip(s, i)
  return s:find("[^ \t\r\n]", i) or #s + 1
end

local function decode_string(s, i)
  local out, j = {}, i + 1
  while true do
    local c = s:sub(j, j)
    if c == "" then decode_error(s, i, "unterminated string") end
    if c == '"' then return table.concat(out), j + 1 end
    if c == "\\" then
      local e = s:sub(j + 1, j + 1)
      local simple = ({b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/"})[e]
      if simple then out[#out + 1] = simple; j = j + 2
      elseif e == "u" then
        local cp = tonumber(s:sub(j + 2, j + 5), 16) or decode_error(s, j, "bad \\u escape")
        j = j + 6
        if cp >= 0xD800 and cp <= 0xDBFF and s:sub(j, j + 1) == "\\u" then
          local lo = tonumber(s:sub(j + 2, j + 5), 16) or 0
          cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
          j = j + 6
        end
        if cp < 0x80 then out[#out + 1] = string.char(cp)
        elseif cp < 0x800 then out[#out + 1] = string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64)
        elseif cp < 0x10000 then
          out[#out + 1] = string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
        else
          out[#out + 1] = string.char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
                                      0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
        end
      else decode_error(s, j, "bad escape") end
    else
      local k = s:find('["\\]', j) or #s + 1
      out[#out + 1] = s:sub(j, k - 1)
      j = k
    end
  end
end

decode_value = function(s, i)
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" then
    local t = {}
    local keys = {}
    i = skip(s, i + 1)
    if s:sub(i, i) == "}" then return json.object(keys, t), i + 1 end
    while true do
      if s:sub(i, i) ~= '"' then decode_error(s, i, "expected a key") end
      local k
      k, i = decode_string(s, i)
      i = skip(s, i)
      if s:sub(i, i) ~= ":" then decode_error(s, i, "expected ':'") end
      t[k], i = decode_value(s, i + 1)
      keys[#keys + 1] = k
      i = skip(s, i)
      local d = s:sub(i, i)
      if d == "}" then return json.object(keys, t), i + 1 end
      if d ~= "," then decode_error(s, i, "expected ',' or '}'") end
      i = skip(s, i + 1)
    end
  elseif c == "[" then
    local t = json.array({})
    i = skip(s, i + 1)
    if s:sub(i, i) == "]" then return t, i + 1 end
    while true do
      t[#t + 1], i = decode_value(s, i)
      i = skip(s, i)
      local d = s:sub(i, i)
      if d == "]" then return t, i + 1 end
      if d ~= "," then decode_error(s, i, "expected ',' or ']'") end
      i = i + 1
    end
  elseif c == '"' then return decode_string(s, i)
  elseif s:sub(i, i + 3) == "true" then return true, i + 4
  elseif s:sub(i, i + 4) == "false" then return false, i + 5
  elseif s:sub(i, i + 3) == "null" then return json.null, i + 4
  else
    local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
    if not num or num == "" then decode_error(s, i, "unexpected character") end
    return tonumber(num), i + #num
  end
end

--- Decodes JSON text; objects keep their key order for re-encoding.
function json.decode(s)
  local v, i = decode_value(s, 1)
  if skip(s, i) <= #s then decode_error(s, i, "trailing characters") end
  return v
end

return json
