-- The Lua side of the framework that needs no database: the JSON codec (exact and stable
-- output) and typed option parsing with usage errors naming the flag.
local db = require "mighost.db"
local json = require "mighost.mig_json"
local o = require "mighost.mig_options"
local eq = require("expect").eq

local function options()
  return o.normalise{
    batch_size = {type = "int", default = 500, min = 1},
    dry_run = {type = "bool"},
    lock_timeout = {type = "duration", default = "5s"},
    mode = {type = "enum", choices = {"a", "b"}},
    report = {type = "path"},
  }
end

--- The usage error of parsing `args`.
local function parse_error(args)
  local _, _, err = o.parse(options(), args)
  return err
end

return {
  {"mig_json: stable key order, exact numbers, escaped strings", function()
    eq(json.encode(json.object({"migration", "mode", "run_id"}, {run_id = 7, mode = "apply", migration = "x"})),
       '{"migration":"x","mode":"apply","run_id":7}', "declared key order")
    eq(json.encode({b = 1, a = 2, c = {3, 4}}), '{"a":2,"b":1,"c":[3,4]}', "sorted keys, arrays")
    eq(json.encode(db.int64("-9223372036854775808")), "-9223372036854775808", "int64 minimum")
    eq(json.encode(db.int64("9007199254740993")), "9007199254740993", "beyond 2^53")
    eq(json.encode(json.number("12345678901234567890.0123456789")), "12345678901234567890.0123456789", "exact number text")
    eq(json.encode(2^53), "9007199254740992", "a double that is an integer")
    eq(json.encode(0.1), "0.10000000000000001", "doubles round-trip")
    eq(json.encode(0/0), "null", "NaN")
    eq(json.encode('q"b\\ t\t n\n nul\0 bell\7 del\127 é'), '"q\\"b\\\\ t\\t n\\n nul\\u0000 bell\\u0007 del\\u007f é"',
       "escapes")
    eq(json.encode({}), "{}", "empty table")
    eq(json.encode(json.array()), "[]", "empty array")
    eq(json.encode({x = db.NULL, y = json.null}), '{"x":null,"y":null}', "NULLs")
  end},

  {"mig_json: decode gives back what encode wrote", function()
    local doc = '{"z":[1,-2.5,"a\\u00e9\\n\\"",true,false,null],"a":{"k":"v"},"e":[]}'
    eq(json.encode(json.decode(doc)), '{"z":[1,-2.5,"aé\\n\\"",true,false,null],"a":{"k":"v"},"e":[]}',
       "round trip: key order kept, UTF-8 stays raw")
    eq(json.decode('"\\ud83d\\ude00"'), "\xF0\x9F\x98\x80", "surrogate pair")
    eq(pcall(json.decode, '{"a":1'), false, "truncated")
    eq(pcall(json.decode, "[1] x"), false, "trailing garbage")
  end},

  {"mig_options: typed values, defaults and usage errors naming the flag", function()
    local v = o.parse(options(), {})
    eq(v.batch_size .. " " .. tostring(v.dry_run) .. " " .. v.lock_timeout, "500 false 5000", "defaults")
    local given
    v, given = o.parse(options(), {"--batch-size", "7", "--dry-run", "--lock-timeout=250ms", "--mode=b"})
    eq(v.batch_size .. " " .. tostring(v.dry_run) .. " " .. v.lock_timeout .. " " .. v.mode .. " " .. tostring(given.batch_size),
       "7 true 250 b true", "given values")
    eq(parse_error{"--nope"}, "unknown option --nope", "unknown flag")
    eq(parse_error{"--batch-size", "x"}, "--batch-size: expected an integer, got 'x'", "not an integer")
    eq(parse_error{"--batch-size", "0"}, "--batch-size: must be at least 1", "below the minimum")
    eq(parse_error{"--report"}, "--report: missing value", "missing value")
    eq(parse_error{"--mode", "c"}, "--mode: expected one of a, b, got 'c'", "not a choice")
    eq(parse_error{"stray"}, "unexpected argument 'stray'", "stray argument")
    eq(o.help(options(), "usage: x", "what it does"):find("--batch-size INT", 1, true) ~= nil, true, "help lists the flag")
  end},
}
