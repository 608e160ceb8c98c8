-- mighost.mig_workers: a phase in N threads (host/bind/worker.cpp). The main state splits the
-- work (key-range parts of a keyset phase, or N claimers of a step phase), starts the workers,
-- shows their progress, forwards a stop, and merges their results; each worker state runs the
-- same script, whose main() lands in workers.worker below.
local log = require "mighost.log"
local script = require "mighost.script"
local sys = require "mighost.sys"
local worker = require "mighost.worker"
local json = require "mighost.mig_json"

local workers = {}

--- Runs jobs in worker threads while the main state reports progress and watches for a stop
--- (and stops the others once one has failed). on_progress(sum of the workers' counts). Returns
--- the decoded results of the workers that succeeded and the first failure (message, traceback).
local function run_pool(run, jobs, on_progress)
  local encoded = {}
  for i, j in ipairs(jobs) do
    j.rate_share = #jobs   -- each worker keeps its share of --max-rate
    encoded[i] = json.encode(j)
  end
  local pool = worker.start{script = script.path, args = script.args or {}, db = script.db or "", jobs = encoded}
  local ok, err = xpcall(function()
    local last, stop_sent = 0, false
    while true do
      local sum = 0
      for _, n in ipairs(pool:progress()) do sum = sum + n end
      if sum ~= last then on_progress(sum); last = sum end
      if pool:running() == 0 then break end
      if not stop_sent then
        local reason = run:stop_reason()
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
    run:keep_traceback(debug.traceback("", 2), true)
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

--- Raises the first failure of a phase's workers (after their results were merged).
function workers.raise(run, failure)
  if not failure then return end
  run:keep_traceback(failure.traceback, true)
  error(failure.message, 0)
end

--- Jobs of a keyset phase over `parts` (dealt round-robin to n threads; those without a part are
--- left out), or of a step phase (parts = nil: n claimers).
local function jobs_of(run, ph, parts, n)
  local jobs = {}
  for w = 1, n do
    jobs[w] = {phase = ph.name, run_id = run:run_id(), sets = run.sets:export(), shared = run.ctx.shared,
               parts = parts and json.array() or nil}
  end
  if not parts then return jobs end
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
  return active
end

--- Runs a phase in n threads: a keyset phase over `parts`, a step phase (parts = nil) with n
--- claimers each calling the step until it finds nothing left. Returns the workers' results (for
--- PhaseRunner:merge) and the first failure (for workers.raise).
function workers.run(run, ph, parts, n, on_progress)
  local jobs = jobs_of(run, ph, parts, n)
  if #jobs == 0 then return {}, nil end
  if parts then
    log.info("phase %s: %d workers over %d key ranges", ph.name, #jobs, #parts)
  else
    log.info("phase %s: %d workers", ph.name, n)
  end
  return run_pool(run, jobs, on_progress)
end

--- The worker side: runs the job in this thread's own Run (same options and connections) with a
--- PhaseRunner of its own; returns its result as JSON text.
local function worker_main(run, job)
  local ph
  for _, p in ipairs(run.def.phases) do
    if p.name == job.phase then ph = p end
  end
  if not ph then error("worker: the script has no phase '" .. tostring(job.phase) .. "'", 0) end
  run:resolve_sets(job.sets or {})
  local runner = require("mighost.mig_phase").runner(run, worker.report, job.rate_share)
  local status, reason = "done", nil
  local parts_out = json.array()
  if ph.step then
    status, reason = runner:run_steps(ph)
  else
    local rs = run:set(ph.name)
    for _, item in ipairs(job.parts) do
      status, reason = runner:run_part(ph, rs, item.part, item.index)
      parts_out[#parts_out + 1] = {index = item.index, part = item.part}
      if status == "stopped" then break end
    end
  end
  return json.encode({status = status, reason = reason, done = runner.done[ph.name] or 0, written = runner.written,
                      rejects = runner.rejects, fixups = runner.fixups, parts = parts_out})
end

--- The main chunk of a worker thread (mighost.migration's main() lands here).
function workers.worker(def, values, job_text)
  local job = json.decode(job_text)
  local index = worker.index()
  local run = require("mighost.mig_run").new(def, values, {role = "worker " .. index, run_id = job.run_id,
    shared = job.shared, worker = index, external_stop = worker.stopping})
  -- An error comes back as data with the traceback of where it was raised (the host's own
  -- traceback would point at the re-raise after the batch's rollback).
  local ok, result = xpcall(function()
    run:connect()
    return worker_main(run, job)
  end, run:handler())
  run:close()
  if not ok then
    return json.encode({failed = true, error = log.mask(tostring(result)), traceback = run.traceback})
  end
  return result
end

return workers
