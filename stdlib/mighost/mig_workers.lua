-- mighost.mig_workers: a phase in N threads (host/bind/worker.cpp). The main state splits the
-- work (key-range parts of a keyset phase, or N claimers of a step phase), starts the workers,
-- shows their progress, forwards a stop, and merges their results; each worker state runs the
-- same script, whose main() lands in worker_main below.
local log = require "mighost.log"
local script = require "mighost.script"
local sys = require "mighost.sys"
local worker = require "mighost.worker"
local json = require "mighost.mig_json"
local context = require "mighost.mig_context"
local phase = require "mighost.mig_phase"

local workers = {}

--- Runs jobs in worker threads while the main state reports progress and watches for a stop
--- (and stops the others once one has failed). on_progress(sum of the workers' counts). Returns
--- the decoded results of the workers that succeeded and the first failure (message, traceback).
local function run_pool(run, jobs, on_progress)
  local encoded = {}
  for i, j in ipairs(jobs) do encoded[i] = json.encode(j) end
  local pool = worker.start{script = script.path, args = script.args or {}, db = script.db or "", jobs = encoded}
  local ok, err = xpcall(function()
    local last, stop_sent = 0, false
    while true do
      local sum = 0
      for _, n in ipairs(pool:progress()) do sum = sum + n end
      if sum ~= last then on_progress(sum); last = sum end
      if pool:running() == 0 then break end
      if not stop_sent then
        local reason = context.stop_reason(run)
        if pool:failed() > 0 then
          log.warn("a worker failed: asking the others to stop at their next batch boundary")
          pool:stop()
          stop_sent = true
        elseif reason then
          log.info("%s: asking %d workers to stop at their next batch boundary", reason, #jobs)
          pool:stop()
          stop_sent = true
        end
      end
      sys.sleep(0.05)
    end
  end, function(e)
    run.traceback = debug.traceback("", 2)
    return e
  end)
  if not ok then
    pool:stop()
    pool:close()  -- joins: no thread outlives the run
    error(err, 0)
  end
  local results = pool:wait()
  pool:close()
  local decoded, failure = {}, nil
  for i, r in ipairs(results) do
    local v, err, tb = nil, r.error, r.traceback
    if r.ok then
      local dok, d = pcall(json.decode, r.result or "")
      if not dok then err = "returned no result (" .. tostring(d) .. ")"
      elseif d.failed then err, tb = d.error, d.traceback
      else v = d end
    end
    if v then decoded[#decoded + 1] = v
    elseif not failure then
      failure = {message = string.format("worker %d of %d failed: %s", i, #results, tostring(err)), traceback = tb}
    end
  end
  return decoded, failure
end

local function raise(run, failure)
  if not failure then return end
  run.traceback = failure.traceback
  error(failure.message, 0)
end

local function merge(run, ph, results, parts)
  local status, reason = "done", nil
  for _, r in ipairs(results) do
    for name, n in pairs(r.written or {}) do run.written[name] = (run.written[name] or 0) + n end
    run.rejects_n = run.rejects_n + (r.rejects or 0)
    run.fixups_n = run.fixups_n + (r.fixups or 0)
    run.done[ph.name] = (run.done[ph.name] or 0) + (r.done or 0)
    if r.status == "stopped" then status, reason = "stopped", r.reason end
    for _, p in ipairs(r.parts or {}) do
      if parts then parts[p.index] = p.part end
    end
  end
  return status, reason
end

--- A keyset phase over `parts` with n threads (parts dealt round-robin).
function workers.run_keyset(run, ph, rs, parts, n, on_progress)
  local jobs = {}
  for w = 1, n do
    jobs[w] = {phase = ph.name, run_id = run.run_id, sets = run.exported_sets, shared = run.ctx.shared,
               parts = json.array()}
  end
  local w = 0
  for i, p in ipairs(parts) do
    if not p.complete then
      jobs[w % n + 1].parts[#jobs[w % n + 1].parts + 1] = {index = i, part = p}
      w = w + 1
    end
  end
  local active = {}
  for _, j in ipairs(jobs) do
    if #j.parts > 0 then active[#active + 1] = j end
  end
  if #active == 0 then return "done" end
  log.info("phase %s: %d workers over %d key ranges", ph.name, #active, #parts)
  local results, failure = run_pool(run, active, on_progress)
  local status, reason = merge(run, ph, results, parts)
  raise(run, failure)
  return status, reason
end

--- A step phase with n threads, each calling the step until it finds nothing left.
function workers.run_steps(run, ph, n, on_progress)
  local jobs = {}
  for w = 1, n do
    jobs[w] = {phase = ph.name, run_id = run.run_id, sets = run.exported_sets, shared = run.ctx.shared}
  end
  log.info("phase %s: %d workers", ph.name, n)
  local results, failure = run_pool(run, jobs, on_progress)
  local status, reason = merge(run, ph, results, nil)
  raise(run, failure)
  return status, reason
end

--- The worker side: `run` is prepared by migration.lua (options, connections, ctx); runs the job
--- and returns its result as JSON text.
function workers.worker_main(run, job)
  local def = run.def
  local ph
  for _, p in ipairs(def.phases) do
    if p.name == job.phase then ph = p end
  end
  if not ph then error("worker: the script has no phase '" .. tostring(job.phase) .. "'", 0) end
  phase.resolve_all(run, job.sets or {})
  local done, written, rejects, fixups = 0, {}, 0, 0
  run.on_batch = function(_, set, got, n, tallies)
    done = done + got
    if set then written[set.name] = (written[set.name] or 0) + n end
    for name, k in pairs(tallies.written) do written[name] = (written[name] or 0) + k end
    rejects = rejects + tallies.rejects
    fixups = fixups + tallies.fixups
    worker.report(done)
  end
  local status, reason = "done", nil
  local parts_out = json.array()
  if ph.step then
    status, reason = phase.run_steps(run, ph)
  else
    local rs = run.sets[ph.name]
    for _, item in ipairs(job.parts) do
      status, reason = phase.run_part(run, ph, rs, item.part, item.index)
      parts_out[#parts_out + 1] = {index = item.index, part = item.part}
      if status == "stopped" then break end
    end
  end
  return json.encode({status = status, reason = reason, done = done, written = written, rejects = rejects,
                      fixups = fixups, parts = parts_out})
end

return workers
