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
--- one line per update), prefix ("[DRY RUN] " or ""), lines/bar (override the TTY detection).
function progress.new(opts)
  local self = setmetatable({}, progress)
  self.label = opts.label
  self.total = opts.total or 0
  self.start_done = opts.done or 0
  self.done = self.start_done
  self.every = opts.every
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

function progress:line()
  io.stdout:write(string.format("%sPROGRESS %s %d/%d\n", self.prefix, self.label, self.done, self.total))
  io.stdout:flush()
  self.printed = self.done
end

function progress:draw(force)
  local now = sys.now()
  if not force and now - self.drawn < 0.1 then return end
  self.drawn = now
  local elapsed = now - self.started
  local rate = elapsed > 0 and (self.done - self.start_done) / elapsed or 0
  local left = self.total - self.done
  local eta = rate > 0 and left / rate or nil
  local frac = self.total > 0 and math.min(1, self.done / self.total) or 1
  local width = 24
  local fill = math.floor(frac * width + 0.5)
  sys.ewrite(string.format("\r\27[K%s%s [%s%s] %d/%d %3d%% %.0f rows/s ETA %s", self.prefix, self.label,
    string.rep("#", fill), string.rep("-", width - fill), self.done, self.total,
    math.floor(frac * 100), rate, clock(eta)))
end

--- Sets the number of rows done (absolute) and reports as configured.
function progress:update(done)
  self.done = done
  if self.lines then
    if not self.every then
      self:line()
    elseif math.floor(self.done / self.every) > math.floor(self.printed / self.every) then
      self:line()
    end
  end
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
