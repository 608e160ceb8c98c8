-- mighost.mig_capture: rejects and fixups logged from inside the batch's INSERT. A set-based batch
-- normally materializes its rows once (a CTE) and reads them three times: for the rejects, the
-- fixups and the target. When few rows are rejects or fixups, the copy costs more than it saves:
-- the batch is then one INSERT straight from the source whose WHERE calls these functions for
-- exactly those rows (a reject is left out, a fixup row kept). The functions live in pg_temp, so
-- they need no privilege on mig_meta beyond the inserts themselves and vanish with the session;
-- they count what they inserted into transaction-local settings, read once the INSERT is done.
local db = require "mighost.db"

local capture = {}

local SIGNATURES = {"pg_temp.mig_reject(text,text,text,text,text,jsonb,bigint)",
                    "pg_temp.mig_fixup(text,text,text,text,text,text,text,bigint)"}

-- Each adds 1 to its counter per row it inserted (ON CONFLICT: a row logged before counts 0).
local DDL = [[
CREATE FUNCTION pg_temp.mig_reject(p_migration text, p_set text, p_key text, p_reason text, p_detail text,
    p_row jsonb, p_run bigint) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $f$
DECLARE n int;
BEGIN
  INSERT INTO mig_meta.rejects (migration, source_table, source_key, reason, detail, row_data, run_id)
  VALUES (p_migration, p_set, p_key, p_reason, p_detail, p_row, p_run)
  ON CONFLICT (migration, source_table, source_key) DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('mighost.captured_rejects',
    (coalesce(nullif(current_setting('mighost.captured_rejects', true), ''), '0')::int8 + n)::text, true);
  RETURN false;
END $f$;
CREATE FUNCTION pg_temp.mig_fixup(p_migration text, p_set text, p_key text, p_field text, p_rule text,
    p_old text, p_new text, p_run bigint) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $f$
DECLARE n int;
BEGIN
  INSERT INTO mig_meta.fixups (migration, source_table, source_key, field, rule, old_value, new_value, run_id)
  VALUES (p_migration, p_set, p_key, p_field, p_rule, p_old, p_new, p_run)
  ON CONFLICT (migration, source_table, source_key, field) DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('mighost.captured_fixups',
    (coalesce(nullif(current_setting('mighost.captured_fixups', true), ''), '0')::int8 + n)::text, true);
  RETURN true;
END $f$;]]

-- Connections that could not create the functions (no TEMP privilege): not asked again.
local refused = setmetatable({}, {__mode = "k"})

--- True when this session has the functions, creating them when missing (in a savepoint of the
--- caller's transaction, checked per batch: behind a transaction pooler a session's pg_temp may
--- differ between transactions). False when they cannot be created (no TEMP privilege).
function capture.ready(conn)
  if refused[conn] then return false end
  local have = conn:scalar("SELECT to_regprocedure($1) IS NOT NULL AND to_regprocedure($2) IS NOT NULL",
    SIGNATURES[1], SIGNATURES[2])
  if have == true then return true end
  local ok, err = pcall(conn.tx, conn, function() conn:exec(DDL) end)
  if not ok then
    if type(err) ~= "table" or err.sqlstate ~= "42501" then error(err, 0) end   -- only a refusal is expected
    refused[conn] = true
    require("mighost.log").debug("batches keep materializing their rows: cannot create functions in pg_temp ("
      .. tostring(err) .. ")")
  end
  return ok
end

local function args(ctx, set, ...)
  local a = {db.quote_literal(ctx.name), db.quote_literal(set)}
  for _, v in ipairs({...}) do a[#a + 1] = v end
  a[#a + 1] = ctx.run_id and (tostring(ctx.run_id):gsub("[UL]+$", "")) or "NULL"
  return table.concat(a, ", ")
end

--- The call that logs a reject of source set `set` (SQL expressions: key text, reason, detail, the
--- row as jsonb) and yields false, so that the row is left out.
function capture.reject_call(ctx, set, key, reason, detail, row)
  return "pg_temp.mig_reject(" .. args(ctx, set, key, reason, detail, row) .. ")"
end

--- The call that logs a fixup (SQL expressions: key text, old and new value as text) and yields true.
function capture.fixup_call(ctx, set, key, field, rule, old, new)
  return "pg_temp.mig_fixup(" .. args(ctx, set, key, db.quote_literal(field), db.quote_literal(rule), old, new) .. ")"
end

--- The rejects and fixups the calls inserted since the last read (this transaction); resets both.
function capture.take(conn)
  local r = conn:query([[SELECT coalesce(nullif(current_setting('mighost.captured_rejects', true), ''), '0')::int8 AS rejects,
      coalesce(nullif(current_setting('mighost.captured_fixups', true), ''), '0')::int8 AS fixups,
      set_config('mighost.captured_rejects', '0', true), set_config('mighost.captured_fixups', '0', true)]])[1]
  return tonumber(r.rejects), tonumber(r.fixups)
end

return capture
