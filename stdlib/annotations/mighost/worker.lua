---@meta
-- lua-language-server annotations of mighost.worker (host/bind/worker.cpp; mighost.migration
-- uses it for --workers).

---Threads each running the script again in a Lua state of their own.
---@class mighost.worker.Pool
local Pool = {}
---Each worker's last `worker.report(n)`.
---@return integer[]
function Pool:progress() end
---@return integer
function Pool:running() end
---Whether a worker has failed.
---@return boolean
function Pool:failed() end
---Asks every worker to stop (`worker.stopping()` turns true).
function Pool:stop() end
---Waits for every worker.
---@return {ok: boolean, result: string?, error: string?, traceback: string?}[]
function Pool:wait() end
---Stops and joins (also on garbage collection).
function Pool:close() end

---@class mighost.worker
local worker = {}

---@param opts {script: string, args: string[]?, db: string?, jobs: string[]}
---@return mighost.worker.Pool
function worker.start(opts) end
---This worker's job string (nil in the main state).
---@return string?
function worker.job() end
---@return integer?
function worker.index() end
---@param n integer rows done so far
function worker.report(n) end
---@return boolean
function worker.stopping() end

return worker
