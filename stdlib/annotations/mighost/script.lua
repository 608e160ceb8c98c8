---@meta
-- lua-language-server annotations of mighost.script (host/bind/script.cpp).

---What `script.exit` raises: the host ends the run with `code` and prints `message`, no traceback.
---@class mighost.script.Exit
---@field code integer
---@field message string?

---This run of the script.
---@class mighost.script
---@field path string the script path as given
---@field name string the file name without .lua
---@field dir string the script's folder
---@field args string[] the arguments after the script name
---@field db string? the --db the operator gave
---@field command "run"|"verify"|"rollback"
---@field read_only boolean true under `mighost verify`: every session is read-only
---@field throwaway_db boolean true when the database is removed after the run (`--sandbox`, `mighost test`)
local script = {}

---Ends the run with this exit code, without a traceback.
---@param code integer
---@param message string? printed on stderr
function script.exit(code, message) end

return script
