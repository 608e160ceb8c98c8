-- mighost.mig_batch: one batch — one transaction of a phase. It owns what exists only while it
-- runs: its window (the key range it covers and the rows in it), its tallies (rejects, fixups and
-- rows written for other sets, counted by ctx:reject & co. while ctx counts into it) and the
-- checkpoint it records. A batch whose transaction is retried starts its tallies over; one that
-- commits hands them to the phase runner.
local batch = {}

--- What a batch (or finalize) counts while it runs: rejects, fixups, and rows written per set
--- for sets other than the phase's own (ctx:written). Written through ctx:reject & co.
local Tallies = {}
Tallies.__index = Tallies

function batch.tallies() return setmetatable({rejects = 0, fixups = 0, written = {}}, Tallies) end

function Tallies:add(what, n, set)
  if what == "written" then self.written[set] = (self.written[set] or 0) + n
  else self[what] = self[what] + n end
end

--- Fields: run (the mig_run Run), ph (its phase), rs (its SourceSet; nil for a step), part, index,
--- after, want (a keyset batch's part, the key it starts after and the rows it asks for),
--- tallies, window, and afterwards got (rows handled), written (rows of its own set written),
--- new_part (the part's state after it).
local Batch = {}
Batch.__index = Batch

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function new(run, ph, fields)
  local b = setmetatable(fields, Batch)
  b.run, b.ph, b.got, b.written = run, ph, 0, 0
  b:reset()
  return b
end

--- Forgets the tallies of a rolled-back attempt.
function Batch:reset() self.tallies = batch.tallies() end

--- A keyset batch: up to `want` rows of `part` after key `after`.
function batch.keyset(run, ph, rs, part, index, after, want)
  return new(run, ph, {rs = rs, part = part, index = index, after = after, want = want})
end

--- The row counts of a part's keyset batches: --batch-size rows each when --batch-time is 0 (or
--- --batch-size was given); otherwise, after each full batch that committed in under half of
--- batch_time, the next asks for the rows that batch's pace gets through in half of batch_time:
--- at least twice and at most 8 times its rows, up to 64 times the start (a fast start reaches its
--- size in two steps instead of six, each step a statement, a hash of the referenced tables and a
--- commit fewer). After one that took over twice batch_time the size halves, never below the
--- start. A batch of any size commits its rows with its checkpoint, so a stopped run resumes from
--- the last committed key exactly as with fixed batches.
function batch.sizer(run)
  local start = run.values.batch_size
  local target = (run.values.batch_time or 0) / 1000
  local size = start
  return {
    want = function() return size end,
    observe = function(got, seconds)
      if target <= 0 then return end
      if got >= size and seconds < target / 2 then
        local paced = seconds > 0 and math.floor(got * target / 2 / seconds) or size * 8
        size = math.min(math.max(size * 2, math.min(paced, size * 8)), start * 64)
      elseif seconds > target * 2 then size = math.max(start, math.floor(size / 2)) end
    end,
  }
end

--- A step batch: one call of ph.step.
function batch.step(run, ph) return new(run, ph, {}) end

--- Runs fn with ctx counting into this batch's tallies, retried by the run's with_retry (whose
--- handler keeps the traceback of where an error was raised).
function Batch:within(fn)
  local ctx, target = self.run.ctx, self.run.conn
  local ok, err = pcall(self.run.with_retry, self.run, self:what(), function()
    self:reset()
    ctx:_begin_batch(self.tallies)
    fn(ctx, target)
  end, self.ph)
  ctx:_end_batch()
  if not ok then error(err, 0) end
end

function Batch:what()
  if not self.rs then return "phase " .. self.ph.name .. " step" end
  return string.format("phase %s, batch after key %s", self.ph.name,
    self.after and table.concat(self.after, "|") or "(start)")
end

--- The keyset batch: fetch the window (before the transaction when the source is another
--- session), call the phase's batch function on its pending rows, record the part's checkpoint.
--- Afterwards: self.got (pending rows), self.written, self.new_part (the part's new state).
function Batch:run_keyset()
  local rs, ph, part, run = self.rs, self.ph, self.part, self.run
  local opts = {range = ph.fetch == "range", all_pending = part.all_pending}
  self:within(function(ctx, target)
    local rows, last, size
    -- rows from another session are fetched before the transaction; a pipe copies its window
    -- into the target's session, so inside it
    if rs.conn ~= target and not ph.pipe then rows, last, size = rs:fetch(self.after, part.hi, self.want, opts) end
    target:tx(function()
      if ph.pipe then rows, last, size = ph.pipe(ctx, rs, self.after, part.hi, self.want)
      elseif not rows then rows, last, size = rs:fetch(self.after, part.hi, self.want, opts) end
      self.got = rows.count or #rows
      local np = copy(part)
      np.complete = size < self.want
      self.new_part = np
      if self.got == 0 then
        np.last = last or part.last
        -- only the end of the part is worth recording (a set without a pending predicate resumes from it)
        if np.complete and not part.complete then run.ledger:set_part_checkpoint(ph.name, self.index, np) end
        return
      end
      ctx:_set_phase(rs.name)
      self.window = rs:window(target, self.after, last, part.all_pending)
      self.window.rows = self.got   -- how many pending rows it holds (the SQL may plan by it)
      ctx:_set_window(self.window)
      self.written = ph.batch(ctx, rows) or 0
      if type(self.written) ~= "number" then
        error(string.format("phase %s: batch must return the number of rows it wrote (got %s)", ph.name,
          type(self.written)), 0)
      end
      np.last = last
      np.done = (part.done or 0) + self.got
      run.ledger:set_part_checkpoint(ph.name, self.index, np)
    end)
  end)
  return self
end

--- The step batch: ph.step(ctx) in one transaction; self.got = what it returned (0: nothing left).
function Batch:run_step()
  self:within(function(ctx, target)
    target:tx(function()
      ctx:_set_phase(self.ph.name)
      local n = self.ph.step(ctx) or 0
      self.got = type(n) == "number" and n or 0
    end)
  end)
  self.written = self.got
  return self
end

return batch
