-- rds_mapping.rules: spec §3's reject rules (in their order: the first that holds wins) and
-- reference rules, per target table. A condition is SQL over the legacy row s, chosen for the
-- install's resolved columns (`res`); `missing` and `duplicate` rules are about the target (a
-- referenced row that is not migrated; a value a lower id already holds) and are decided there by
-- the framework. The phases (scripts/rds_mapping.lua) and the checks' derivation from the source
-- snapshot (rds_mapping.derive) both read this table.
local L = require "rds_mapping.legacy"

local R = {}

local function blank_or_long(t, col, max)
  return {
    empty = {cond = function(res) return L.trim_empty(L.value(res, t, col)) end,
             detail = function(res)
               return "'" .. col .. " is ' || CASE WHEN " .. L.value(res, t, col) .. " IS NULL THEN 'NULL' ELSE 'blank' END"
             end},
    long = {cond = function(res) return "char_length(" .. L.value(res, t, col) .. ") > " .. max end,
            detail = function(res)
              return "'" .. col .. " has ' || char_length(" .. L.value(res, t, col) .. ") || ' characters (max " .. max .. ")'"
            end},
  }
end

local function is_null(t, col)
  return {cond = function(res) return L.value(res, t, col) .. " IS NULL" end,
          detail = function() return "'" .. col .. " is NULL'" end}
end

local user, bag, bill = blank_or_long("user", "username", 64), blank_or_long("bag", "qr_id", 255),
  blank_or_long("bill", "bill_id", 50)

--- rules[t]: {code, cond = fn(res) -> SQL, detail = fn(res) -> SQL} or {code, missing = {col = table}}
--- or {code, duplicate = {col, …}}.
R.rules = {
  user = {{"missing_username", user.empty.cond, detail = user.empty.detail},
          {"value_too_long", user.long.cond, detail = user.long.detail},
          {"duplicate_username", duplicate = {"username"}}},
  bag = {{"missing_qr_id", bag.empty.cond, detail = bag.empty.detail},
         {"value_too_long", bag.long.cond, detail = bag.long.detail},
         {"duplicate_qr_id", duplicate = {"qr_id"}}},
  bill = {{"missing_bill_id", bill.empty.cond, detail = bill.empty.detail},
          {"value_too_long", bill.long.cond, detail = bill.long.detail},
          {"duplicate_bill_id", duplicate = {"bill_id"}}},
  scan = {{"missing_timestamp", is_null("scan", "timestamp").cond, detail = is_null("scan", "timestamp").detail}},
  link = {{"orphan_bag", missing = {parent_bag_id = "bag", child_bag_id = "bag"}},
          {"self_link", function(res) return L.value(res, "link", "parent_bag_id") .. " = " .. L.value(res, "link", "child_bag_id") end,
           detail = function(res) return "'parent_bag_id = child_bag_id = ' || " .. L.value(res, "link", "parent_bag_id") end},
          {"duplicate_link", duplicate = {"parent_bag_id", "child_bag_id"}}},
  bill_bag = {{"orphan_bill", missing = {bill_id = "bill"}},
              {"orphan_bag", missing = {bag_id = "bag"}},
              {"duplicate_bill_bag", duplicate = {"bill_id", "bag_id"}}},
  promotionrequest = {{"orphan_user", missing = {user_id = "user"}},
                      {"missing_role", function(res) return L.trim_empty(L.value(res, "promotionrequest", "requested_role")) end,
                       detail = function() return "'requested_role is NULL or blank'" end}},
  audit_log = {{"missing_action", is_null("audit_log", "action").cond, detail = is_null("audit_log", "action").detail}},
}

--- references[t][column] = {table, deferred (the row may come later in the same table: resolved
--- after the phase), not_self (a row naming itself counts as not migrated)}. Rule orphan_reference.
R.references = {
  bag = {parent_id = {"bag", deferred = true, not_self = true}, user_id = {"user"}},
  bill = {created_by_id = {"user"}},
  scan = {parent_bag_id = {"bag"}, child_bag_id = {"bag"}, user_id = {"user"}},
  link = {user_id = {"user"}},
  promotionrequest = {admin_id = {"user"}},
  audit_log = {user_id = {"user"}},
}

return R
