-- What mighost.script says about the command running it: `mighost run|verify|rollback
-- cli_command.lua [...] EXPECTED` (the last argument). The main state and a worker state must agree
-- on the command, on script.read_only, and on what their sessions really are.
local script = require "mighost.script"
local db = require "mighost.db"
local worker = require "mighost.worker"

local function facts()
  local conn = db.connect()
  local session = conn:scalar("SHOW default_transaction_read_only")
  conn:close()
  return string.format("command=%s read_only=%s session=%s", tostring(script.command),
    tostring(script.read_only), session)
end

if worker.job() then return facts() end

local expected = script.args[#script.args]
assert(script.command == expected, "script.command is " .. tostring(script.command) .. ", expected " .. tostring(expected))
assert(script.read_only == (expected == "verify"), "script.read_only is " .. tostring(script.read_only) .. " under " .. expected)
local main = facts()
local pool = worker.start{script = script.path, args = script.args, db = script.db or "", jobs = {"probe"}}
local results = pool:wait()
assert(results[1].ok, results[1].error)
assert(results[1].result == main, "a worker sees " .. results[1].result .. ", the main state " .. main)
print(main)
