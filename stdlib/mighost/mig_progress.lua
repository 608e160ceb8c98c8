-- mighost.mig_progress: PROGRESS lines on stdout (when it is not a terminal) and a live bar with
-- done/total, rows/s and ETA on stderr (when it is a terminal).
local sys = require "mighost.sys"

local progress = {}
progress.__index = progress

local function clock(s)
  if s == nil or s ~= s or s == math.huge then return "--:--" end
  s = math.floor(s + 0.5)
  if s >= 3600 then return string.format("%d:%02d:%02d", s / 3600, s % 3600 / 60, s % 60) end
  return string.format("%d:%02d", s / 60, s % 60)
end

--- opts: label, total, done (already resolved before this run), every (rows between lines; nil =
--- one line per update), interval (ms between lines at least: --progress-every), prefix
--- ("[DRY RUN] " or ""), lines/bar (override the TTY detection).
function progress.new(opts)
  local self = setmetatable({}, progress)
  self.label = opts.label
  self.total = opts.total or 0
  self.start_done = opts.done or 0
  self.done = self.start_done
  self.every = opts.every
  self.interval = opts.interval and opts.interval > 0 and opts.interval / 1000 or nil
  self.prefix = opts.prefix or ""
  self.lines = opts.lines
  if self.lines == nil then self.lines = not sys.isatty(1) end
  self.bar = opts.bar
  if self.bar == nil then self.bar = sys.isatty(2) end
  self.started = sys.now()
  self.printed = self.done
  self.drawn = 0
  return self
end

--- Rows per second since the phase started here, the fraction done and the ETA (nil: unknown).
function progress:pace(now)
  local elapsed = now - self.started
  local rate = elapsed > 0 and (self.done - self.start_done) / elapsed or 0
  local eta = rate > 0 and math.max(0, self.total - self.done) / rate or nil
  return rate, self.total > 0 and math.min(1, self.done / self.total) or 1, eta
end

--- PROGRESS <label> <done>/<total>, then the pace, or `what` (a throttle's wait) instead.
function progress:line(what)
  local now = sys.now()
  if not what then
    local rate, frac, eta = self:pace(now)
    what = string.format("%d%% %.0f rows/s ETA %s", math.floor(frac * 100), rate, clock(eta))
  end
  io.stdout:write(string.format("%sPROGRESS %s %d/%d %s\n", self.prefix, self.label, self.done, self.total, what))
  io.stdout:flush()
  self.printed, self.printed_at = self.done, now
end

--- A line about the phase that is not a count (e.g. waiting for a standby), printed at once.
function progress:note(what)
  if self.bar and self.drawn > 0 then sys.ewrite("\n") end
  self:line(what)
end

function progress:draw(force)
  local now = sys.now()
  if not force and now - self.drawn < 0.1 then return end
  self.drawn = now
  local rate, frac, eta = self:pace(now)
  local width = 24
  local fill = math.floor(frac * width + 0.5)
  sys.ewrite(string.format("\r\27[K%s%s [%s%s] %d/%d %3d%% %.0f rows/s ETA %s", self.prefix, self.label,
    string.rep("#", fill), string.rep("-", width - fill), self.done, self.total,
    math.floor(frac * 100), rate, clock(eta)))
end

--- True when a line is due: past the next multiple of `every` rows, and `interval` after the last.
function progress:due()
  if self.every and math.floor(self.done / self.every) <= math.floor(self.printed / self.every) then return false end
  return not (self.interval and self.printed_at and sys.now() - self.printed_at < self.interval)
end

--- Sets the number of rows done (absolute) and reports as configured.
function progress:update(done)
  self.done = done
  if self.lines and self:due() then self:line() end
  if self.bar then self:draw(false) end
end

--- Final report of a phase: a last line if the last update was not printed, and the bar ended.
function progress:finish()
  if self.lines and self.printed ~= self.done then self:line() end
  if self.bar then
    self:draw(true)
    sys.ewrite("\n")
  end
end

return progress
