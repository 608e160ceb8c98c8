---@meta
-- lua-language-server annotations of mighost.sys (host/bind/sys.cpp).

---@class mighost.sys
---@field version string the mighost version
local sys = {}

---Monotonic seconds.
---@return number
function sys.now() end
---Wall clock, seconds since the epoch.
---@return number
function sys.time() end
---@param seconds number
function sys.sleep(seconds) end
---@param fd integer 1 = stdout, 2 = stderr
---@return boolean
function sys.isatty(fd) end
---How many SIGINT/SIGTERM arrived since the start.
---@return integer
function sys.interrupted() end
---Hex sha256 of a string.
---@param s string
---@return string
function sys.sha256(s) end
---Hex sha256 of a file, or nil and the error.
---@param path string
---@return string? digest
---@return string? error
function sys.sha256_file(path) end
---@param path string
---@param mode integer?
function sys.mkdir_p(path, mode) end
---@param path string
---@return boolean
function sys.exists(path) end
---Bytes still free to an unprivileged writer on the file system of `path` (or of its nearest
---existing parent); nil when none exists.
---@param path string
---@return number?
function sys.free_bytes(path) end
---Creates `path` as an empty file only its owner can read and write (0600).
---@param path string
---@return true? ok
---@return string? error
function sys.create_private(path) end
---@return integer
function sys.getpid() end
---@return string
function sys.hostname() end
---Unbuffered write to stdout.
---@param s string
function sys.write(s) end
---Unbuffered write to stderr.
---@param s string
function sys.ewrite(s) end
---While on, the first interrupt only asks to stop (sys.interrupted() > 0); the second aborts.
---@param on boolean
function sys.defer_interrupts(on) end

return sys
