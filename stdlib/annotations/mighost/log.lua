---@meta
-- lua-language-server annotations of mighost.log (host/bind/log.cpp).

---Log lines to stderr (and --log-file); `fmt` is string.format's. Passwords in URLs are masked.
---@class mighost.log
local log = {}

---@param fmt string
---@param ... any
function log.trace(fmt, ...) end
---@param fmt string
---@param ... any
function log.debug(fmt, ...) end
---@param fmt string
---@param ... any
function log.info(fmt, ...) end
---@param fmt string
---@param ... any
function log.warn(fmt, ...) end
---@param fmt string
---@param ... any
function log.error(fmt, ...) end
---The text with any password of a URL or conninfo masked.
---@param s string
---@return string
function log.mask(s) end
---The current level: "trace", "debug", "info", "warn", "error" or "off".
---@return string
function log.level() end

return log
