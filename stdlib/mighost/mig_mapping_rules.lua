-- mighost.mig_mapping_rules: a declared phase's reject rules as SQL fragments — the CASE that
-- finds the first rule holding for a row, its detail, its reason code, and whether the rules need
-- a per-row plan. Shared by the set-based batch, the streamed source and the generated checks.
local db = require "mighost.db"

local mapping = {}

--- mapping.rule_case(m): CASE … END giving the index of the first SQL reject rule that matches.
function mapping.rule_case(m)
  local whens = {}
  for i, r in ipairs(m.rules) do
    if not r.lua and not r.target_side then whens[#whens + 1] = "WHEN (" .. r.cond .. ") THEN " .. i end
  end
  if #whens == 0 then return "NULL::int" end
  return "CASE " .. table.concat(whens, " ") .. " END"
end

--- CASE <rule> WHEN i THEN (detail_i)::text … END over the rule index expression.
function mapping.detail_case(m, rule)
  local whens = {}
  for i, r in ipairs(m.rules) do
    if type(r.detail) == "string" and not r.lua and not r.target_side then
      whens[#whens + 1] = "WHEN " .. i .. " THEN (" .. r.detail .. ")::text"
    end
  end
  if #whens == 0 then return "NULL::text" end
  return "CASE " .. rule .. " " .. table.concat(whens, " ") .. " END"
end

--- ARRAY['code1', …][rule]
function mapping.reason_of(m, rule)
  local codes = {}
  for i, r in ipairs(m.rules) do codes[i] = db.quote_literal(r.code) end
  if #codes == 0 then return "NULL::text" end
  return "(ARRAY[" .. table.concat(codes, ", ") .. "])[" .. rule .. "]"
end

--- True when some SQL rule holds a subquery: its rule CASE is then planned per row (a LATERAL
--- kept apart by OFFSET 0), so each EXISTS probes an index instead of hashing a whole table for
--- every batch.
function mapping.fenced(m)
  for _, r in ipairs(m.rules) do
    if not r.lua and not r.target_side and r.cond:upper():find("%f[%w]SELECT%f[%W]") then return true end
  end
  return false
end

return mapping
