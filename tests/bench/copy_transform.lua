-- Benchmark (c): items → t through Lua. One connection streams the source with copy_out, a second
-- one writes with copy_in; each output row is built in Lua: the new id 'mig_' || md5(id), columns
-- renamed/reordered, NULL defaults (COALESCE) applied.
--   mighost run tests/bench/copy_transform.lua --db URL [-- --id-in-sql]
-- "items" and "t" are found on the session's search_path. The md5 comes from libcrypto (which the
-- mighost binary links) through LuaJIT's FFI, since mighost.sys has sha256 but no md5; with
-- --id-in-sql the SELECT computes the id instead (variant d of run.sh).
local db = require "mighost.db"
local script = require "mighost.script"
local sys = require "mighost.sys"
local ffi = require "ffi"
local bit = require "bit"

local id_in_sql = script.args[1] == "--id-in-sql"
local NULL = db.NULL

ffi.cdef [[ unsigned char *MD5(const unsigned char *d, size_t n, unsigned char *md); ]]
local digest = ffi.new("unsigned char[16]")
local id_buf = ffi.new("char[36]", "mig_")
local hex = ffi.new("const char[17]", "0123456789abcdef")

--- 'mig_' || md5(s), as PostgreSQL spells it (lower-case hex).
local function mig_id(s)
  ffi.C.MD5(s, #s, digest)
  for i = 0, 15 do
    local b = digest[i]
    id_buf[4 + 2 * i] = hex[bit.rshift(b, 4)]
    id_buf[5 + 2 * i] = hex[bit.band(b, 15)]
  end
  return ffi.string(id_buf, 36)
end

--- COALESCE(v, default) for one field.
local function default(v, d)
  if v == NULL then return d end
  return v
end

-- The source in its legacy names (column 1 is the new id only with --id-in-sql).
local source_sql = [[
SELECT ]] .. (id_in_sql and [['mig_' || md5("id")]] or "NULL") .. [[, "id", "quantityInStock", "status",
       "costPerUnitUSD", "freightCostUSD", "orderDate", "expectedArrival", "orderNumber", "arrivedDate",
       "notes", "createdAt", "updatedAt", "locationId", "assignedUserId"
FROM "items"]]

local target_columns = {
  "id", "quantity", "status", "costPerUnitUSD", "freightCostUSD",
  "orderDate", "expectedArrival", "orderNumber", "arrivedDate", "notes",
  "createdAt", "updatedAt", "itemId", "locationId", "assignedUserId",
}

local src = db.connect()
local dst = db.connect()
local started = sys.now()
local writer = dst:copy_in("t", target_columns)
local out = {}  -- reused: write() has consumed the row when it returns
for r in src:copy_out(source_sql) do
  out[1] = id_in_sql and r[1] or mig_id(r[2])  -- new id
  out[2] = r[3]                       -- quantityInStock → quantity
  out[3] = default(r[4], "ToOrder")   -- status
  out[4] = default(r[5], "0")         -- costPerUnitUSD
  out[5] = default(r[6], "0")         -- freightCostUSD
  out[6] = r[7]                       -- orderDate
  out[7] = r[8]                       -- expectedArrival
  out[8] = r[9]                       -- orderNumber
  out[9] = r[10]                      -- arrivedDate
  out[10] = r[11]                     -- notes
  out[11] = r[12]                     -- createdAt
  out[12] = r[13]                     -- updatedAt
  out[13] = r[2]                      -- id → itemId
  out[14] = r[14]                     -- locationId
  out[15] = r[15]                     -- assignedUserId
  writer:write(out)
end
local n = writer:close()
src:close()
dst:close()
sys.ewrite(string.format("copy_transform: %d rows in %.2f s (id computed %s)\n", n, sys.now() - started,
                         id_in_sql and "by the SELECT" or "in Lua"))
