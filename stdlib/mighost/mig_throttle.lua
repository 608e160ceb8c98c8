-- mighost.mig_throttle: the pace of a PhaseRunner's batches on a live database. --pause waits
-- after each batch, --max-rate keeps rows per second (over each batch and its wait) under a bound
-- shared by the workers, --max-replica-lag waits while a standby of the ledger's server replays
-- too far behind. The runner calls throttle.before_batch before each batch (a stop asked for
-- while it waits is returned as the stop reason) and throttle.after_batch with the rows it did;
-- the state lives in runner.throttle.
local db = require "mighost.db"
local log = require "mighost.log"
local sys = require "mighost.sys"

local throttle = {}

--- The options every migration gets (durations without a unit are refused by mig_options).
throttle.options = {
  {name = "pause", type = "duration", metavar = "DURATION", help = "wait this long after each batch, e.g. 200ms"},
  {name = "max_rate", type = "number", metavar = "ROWS/S", min = 1,
   help = "at most this many source rows per second (over each batch and its wait; shared by the workers)"},
  {name = "max_replica_lag", type = "duration", metavar = "DURATION",
   help = "before each batch, wait while a standby in pg_stat_replication replays further behind than this"
     .. " (0: until every standby has replayed all WAL); needs pg_monitor"},
}

local POLL = 0.1          -- seconds between looks at the stop file and the standbys while waiting
local REPEAT_NOTE = 30    -- seconds between two "still waiting" lines

-- One query: the flushed end of WAL (what a standby can have at most) and each standby's replay
-- position and replay_lag. `state` is NULL in the rows a role without pg_monitor may not read.
local STANDBYS_SQL = [[
SELECT coalesce(nullif(r.application_name, ''), host(r.client_addr), 'pid ' || r.pid) AS name,
       r.state, extract(epoch FROM r.replay_lag)::float8 AS replay_lag,
       pg_wal_lsn_diff(w.lsn, '0/0')::float8 AS flushed,
       pg_wal_lsn_diff(r.replay_lsn, '0/0')::float8 AS replayed
  FROM (SELECT pg_current_wal_flush_lsn() AS lsn) w LEFT JOIN pg_stat_replication r ON true]]

local function value(v) if not db.is_null(v) then return v end end

local function state(runner)
  if runner.throttle then return runner.throttle end
  local v = runner.run.values
  local t = {pause = (v.pause or 0) / 1000, lag = v.max_replica_lag and v.max_replica_lag / 1000,
             rate = v.max_rate and v.max_rate / (runner.rate_share or 1), samples = {}}
  runner.throttle = t
  return t
end

local function seconds(s)
  if s < 1 then return string.format("%d ms", math.floor(s * 1000 + 0.5)) end
  return string.format("%.1f s", s)
end

local function bytes(n)
  if n < 1024 then return string.format("%d bytes", n) end
  if n < 1024 * 1024 then return string.format("%.1f kB", n / 1024) end
  return string.format("%.1f MB", n / 1024 / 1024)
end

--- Sleeps until `deadline` (sys.now() time), looking for a stop every POLL; returns its reason.
local function sleep_until(run, deadline)
  while true do
    local reason = run:stop_reason()
    if reason then return reason end
    local left = deadline - sys.now()
    if left <= 0 then return nil end
    sys.sleep(math.min(left, POLL))
  end
end

--- How far behind one standby replays, in seconds. A standby that has replayed all flushed WAL
--- is not behind, whatever replay_lag still shows (it keeps the last measurement for a while).
--- Otherwise replay_lag alone is not enough: it is measured only when replay passes a point, so a
--- standby whose replay stalls (a conflicting query, pg_wal_replay_pause) keeps showing its last,
--- small value, or NULL. The stall is measured here: the time since the oldest of this run's
--- samples of the flushed end of WAL that the standby has not replayed yet.
local function behind(t, row, now)
  if row.replayed ~= nil and row.replayed >= row.flushed then return 0 end
  local stalled = 0
  for _, s in ipairs(t.samples) do
    if row.replayed == nil or s.lsn > row.replayed then
      stalled = now - s.at
      break
    end
  end
  return math.max(row.replay_lag or 0, stalled)
end

--- The standby furthest behind: name, seconds, bytes of WAL; nil when every one is within the
--- bound (or none is connected).
local function worst_standby(run, t)
  local at = sys.now()
  local rows = run.conn:query(STANDBYS_SQL)
  local now = sys.now()
  local worst, min_replayed, none = nil, nil, true
  for _, r in ipairs(rows) do
    local row = {flushed = r.flushed, replay_lag = value(r.replay_lag), replayed = value(r.replayed)}
    if value(r.name) and not value(r.state) then
      error("--max-replica-lag: this role may not read the standbys' positions in pg_stat_replication"
        .. " (grant it pg_monitor)", 0)
    end
    if value(r.name) then
      none = false
      if #t.samples == 0 or t.samples[#t.samples].lsn < row.flushed then
        t.samples[#t.samples + 1] = {at = at, lsn = row.flushed}
      end
      local lag = behind(t, row, now)
      if lag > t.lag and (not worst or lag > worst.lag) then
        worst = {name = r.name, lag = lag, wal = row.flushed - (row.replayed or 0)}
      end
      min_replayed = math.min(min_replayed or math.huge, row.replayed or 0)
    end
  end
  if none and not t.warned_none then
    t.warned_none = true
    log.warn("--max-replica-lag: no standby is connected (pg_stat_replication is empty): not waiting")
  end
  -- samples every standby has replayed can no longer be the oldest unreplayed one
  while #t.samples > 1 and min_replayed and t.samples[1].lsn <= min_replayed do table.remove(t.samples, 1) end
  return worst
end

--- One line in the progress output (PROGRESS <phase> <done>/<total> <what>), or the log in a worker.
local function note(runner, what)
  if runner.progress then runner.progress:note(what) else log.info("%s", what) end
end

--- Waits while a standby replays further behind than --max-replica-lag; returns a stop reason.
local function wait_for_standbys(runner, t)
  local run = runner.run
  local worst = worst_standby(run, t)
  if not worst then return nil end
  local since, said = sys.now(), nil
  local limit = seconds(t.lag)
  while worst do
    if not said or sys.now() - said >= REPEAT_NOTE then
      note(runner, string.format("waiting: standby %s replays %s behind (%s of WAL), over --max-replica-lag %s",
        worst.name, seconds(worst.lag), bytes(worst.wal), limit))
      said = sys.now()
    end
    local reason = sleep_until(run, sys.now() + POLL)
    if reason then return reason end
    worst = worst_standby(run, t)
  end
  note(runner, string.format("resumed: every standby within --max-replica-lag %s after waiting %s", limit,
    seconds(sys.now() - since)))
  return nil
end

--- Before a batch: the pause and rate waits the last batch asked for, then the standbys. Returns
--- the reason of a stop asked for meanwhile (nil: go on).
function throttle.before_batch(runner)
  local t = state(runner)
  if t.next_at then
    local reason = sleep_until(runner.run, t.next_at)
    if reason then return reason end
    t.next_at = nil
  end
  if t.lag then
    local reason = wait_for_standbys(runner, t)
    if reason then return reason end
  end
  t.started = sys.now()
  return nil
end

--- After a batch that handled `rows` rows: when the next one may start.
function throttle.after_batch(runner, rows)
  local t = state(runner)
  local now = sys.now()
  local next_at = now + t.pause
  if t.rate and rows > 0 then next_at = math.max(next_at, (t.started or now) + rows / t.rate) end
  if next_at > now then t.next_at = next_at end
end

return throttle
