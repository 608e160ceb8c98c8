-- mighost.mig_options: typed command-line options of a migration script.
--
-- A declaration is {type = "int"|"number"|"string"|"bool"|"duration"|"path"|"enum", default = v,
-- help = "...", min = n, max = n, choices = {...}, flag = "--other-name"}. Option names use
-- underscores in Lua (batch_size) and dashes on the command line (--batch-size).
local options = {}

local TYPES = {int = true, number = true, string = true, bool = true, duration = true, path = true,
               enum = true}

--- The flag of an option name: batch_size -> --batch-size.
function options.flag(name, spec)
  return (spec and spec.flag) or ("--" .. name:gsub("_", "-"))
end

local UNITS = {ms = 1, s = 1000, sec = 1000, min = 60000, m = 60000, h = 3600000}

--- Milliseconds of a duration text ("5s", "250ms", "2min", "1h", "0"), or nil and why not. Only
--- zero may go without a unit: "5" could mean 5 ms (PostgreSQL's lock_timeout) or 5 s.
function options.parse_duration(text)
  local n, unit = tostring(text):match("^%s*(%d+%.?%d*)%s*(%a*)%s*$")
  if not n then return nil, "expected a duration like 5s, 250ms, 2min or 0, got '" .. tostring(text) .. "'" end
  if unit == "" then
    if tonumber(n) == 0 then return 0 end
    return nil, string.format("'%s' has no unit: write %sms, %ss, %smin or %sh", text, n, n, n, n)
  end
  local scale = UNITS[unit]
  if not scale then return nil, string.format("'%s': unknown unit '%s' (ms, s, min or h)", text, unit) end
  return math.floor(tonumber(n) * scale + 0.5)
end

local function convert(name, spec, text)
  local flag = options.flag(name, spec)
  local t = spec.type
  if t == "int" then
    local v = tonumber(text)
    if not v or v ~= math.floor(v) or not text:match("^%s*[-+]?%d+%s*$") then
      return nil, string.format("%s: expected an integer, got '%s'", flag, text)
    end
    if spec.min and v < spec.min then return nil, string.format("%s: must be at least %d", flag, spec.min) end
    if spec.max and v > spec.max then return nil, string.format("%s: must be at most %d", flag, spec.max) end
    return v
  elseif t == "number" then
    local v = tonumber(text)
    if not v then return nil, string.format("%s: expected a number, got '%s'", flag, text) end
    if spec.min and v < spec.min then return nil, string.format("%s: must be at least %s", flag, spec.min) end
    if spec.max and v > spec.max then return nil, string.format("%s: must be at most %s", flag, spec.max) end
    return v
  elseif t == "bool" then
    local v = ({["true"] = true, yes = true, on = true, ["1"] = true,
                ["false"] = false, no = false, off = false, ["0"] = false})[text:lower()]
    if v == nil then return nil, string.format("%s: expected true or false, got '%s'", flag, text) end
    return v
  elseif t == "duration" then
    local v, why = options.parse_duration(text)
    if not v then return nil, flag .. ": " .. why end
    return v
  elseif t == "enum" then
    for _, c in ipairs(spec.choices or {}) do
      if c == text then return text end
    end
    return nil, string.format("%s: expected one of %s, got '%s'", flag, table.concat(spec.choices or {}, ", "), text)
  end
  return text
end

local function edit_distance(a, b)
  local row = {}
  for j = 0, #b do row[j] = j end
  for i = 1, #a do
    local diag = row[0]
    row[0] = i
    for j = 1, #b do
      local up = row[j]
      row[j] = math.min(row[j] + 1, row[j - 1] + 1, diag + (a:byte(i) == b:byte(j) and 0 or 1))
      diag = up
    end
  end
  return row[#b]
end

--- " (did you mean --x?)" for the known flag a letter or two away from `flag`, or "".
local function did_you_mean(flag, by_flag)
  local best, best_d
  for known in pairs(by_flag) do
    local d = edit_distance(flag, known)
    local allowed = math.min(#flag, #known) <= 6 and 1 or 2   -- lengths include the dashes
    if d <= allowed and (not best_d or d < best_d or (d == best_d and known < best)) then best, best_d = known, d end
  end
  return best and (" (did you mean " .. best .. "?)") or ""
end

--- Normalises a declaration table (map name -> spec, or array of {name, ...}) into an ordered list.
function options.normalise(decl)
  local list = {}
  if decl[1] ~= nil then
    for _, spec in ipairs(decl) do
      local s = {}
      for k, v in pairs(spec) do s[k] = v end
      s.name = s.name or spec[1]
      s[1] = nil
      list[#list + 1] = s
    end
  else
    local names = {}
    for name in pairs(decl) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      local spec = decl[name]
      local s = {}
      if spec ~= false then
        for k, v in pairs(spec) do s[k] = v end
      else
        s.disabled = true
      end
      s.name = name
      list[#list + 1] = s
    end
  end
  for _, s in ipairs(list) do
    if type(s.name) ~= "string" or not s.name:match("^[%a_][%w_]*$") then
      error("migration.define: bad option name " .. tostring(s.name), 3)
    end
    if not s.disabled then
      s.type = s.type or (type(s.default) == "boolean" and "bool") or (type(s.default) == "number" and "int")
               or "string"
      if not TYPES[s.type] then error("migration.define: option " .. s.name .. ": unknown type " .. s.type, 3) end
    end
  end
  return list
end

--- Parses `args` against the ordered option list. Returns values (name -> value; defaults applied,
--- durations in ms), the set of names given explicitly, or nil + a usage message.
function options.parse(list, args)
  local by_flag, values, given = {}, {}, {}
  for _, s in ipairs(list) do
    if not s.disabled then
      by_flag[options.flag(s.name, s)] = s
      if s.default ~= nil then
        if s.type == "duration" then
          local why
          values[s.name], why = options.parse_duration(s.default)
          if not values[s.name] then error("option " .. s.name .. ": default " .. tostring(s.default) .. ": " .. why, 0) end
        else
          values[s.name] = s.default
        end
      elseif s.type == "bool" then
        values[s.name] = false
      end
    end
  end
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--" then
      if args[i + 1] then return nil, nil, "unexpected argument '" .. args[i + 1] .. "'" end
      break
    end
    local flag, inline = a:match("^(%-%-[^=]+)=(.*)$")
    flag = flag or a
    local spec = by_flag[flag]
    if not spec then
      if a:sub(1, 1) == "-" then return nil, nil, "unknown option " .. flag .. did_you_mean(flag, by_flag) end
      return nil, nil, "unexpected argument '" .. a .. "'"
    end
    local text = inline
    if text == nil then
      if spec.type == "bool" then
        text = "true"
      else
        text = args[i + 1]
        if text == nil then return nil, nil, flag .. ": missing value" end
        i = i + 1
      end
    end
    local v, err = convert(spec.name, spec, text)
    if err then return nil, nil, err end
    values[spec.name] = v
    given[spec.name] = true
    i = i + 1
  end
  for _, s in ipairs(list) do
    if s.required and values[s.name] == nil then
      return nil, nil, options.flag(s.name, s) .. " is required"
    end
  end
  return values, given
end

--- The --help text of an option list.
function options.help(list, usage, description)
  local lines = {usage, ""}
  if description and description ~= "" then
    lines[#lines + 1] = description
    lines[#lines + 1] = ""
  end
  lines[#lines + 1] = "Options:"
  local rows, width = {}, 0
  for _, s in ipairs(list) do
    if not s.disabled and not s.hidden then
      local left = options.flag(s.name, s)
      if s.type ~= "bool" then left = left .. " " .. (s.metavar or s.type:upper()) end
      local right = s.help or ""
      if s.default ~= nil and s.type ~= "bool" then right = right .. " (default " .. tostring(s.default) .. ")" end
      if s.choices then right = right .. " [" .. table.concat(s.choices, "|") .. "]" end
      rows[#rows + 1] = {left, right}
      if #left > width then width = #left end
    end
  end
  for _, r in ipairs(rows) do
    lines[#lines + 1] = string.format("  %-" .. width .. "s  %s", r[1], r[2])
  end
  return table.concat(lines, "\n") .. "\n"
end

return options
