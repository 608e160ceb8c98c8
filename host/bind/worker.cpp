// mighost.worker: the same script in N OS threads, each with its own Lua state and connections.
//
// The main state calls worker.start{script, args, db, jobs}; every job (a string, JSON by the
// framework's convention) gets a thread that builds a state exactly like the main one
// (prepare_state, with the main state's command and read-only sessions), marks it as a worker,
// loads the script and runs its main chunk. The chunk sees worker.job() and returns its result
// as a string. Progress counters and a stop flag are shared through atomics; nothing else
// crosses threads. A worker's error never leaves its thread: it comes back to the main state as
// text with its traceback.
#include "bind/modules.hpp"

#include "lua/barrier.hpp"
#include "lua/state.hpp"
#include "lua/types.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace mighost::bind {

namespace {

constexpr const char* k_pool_meta = "mighost.worker.Pool";

/// One worker: its job, what it reports while running, and its outcome.
struct slot
{
  std::string job;
  std::atomic<long long> progress{0};
  std::atomic<bool> finished{false};
  bool ok = false;
  std::string result;
  std::string error;
  std::string traceback;
};

/// The threads started by one worker.start call.
struct pool
{
  script_info info;
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<slot>> slots;
  std::vector<std::thread> threads;

  void join()
  {
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
  ~pool()
  {
    stop = true;
    join();
  }
};

/// What a worker state knows about itself (registry, light userdata under k_context).
struct worker_context
{
  pool* owner;
  slot* self;
  int index;
};

char k_context;

void run_worker(pool* p, slot* s, int index)
{
  try {
    worker_context wc{p, s, index};
    const script_info& info = p->info;
    lua::state L;
    prepare_state(L, info);
    lua_pushlightuserdata(L, &k_context);
    lua_pushlightuserdata(L, &wc);
    lua_rawset(L, LUA_REGISTRYINDEX);
    lua::call_status st = lua::load_file(L, info.path);
    if (st.ok) st = lua::pcall(L, 0, 1);
    if (st.ok) {
      s->ok = true;
      if (lua_type(L, -1) == LUA_TSTRING) {
        std::size_t n = 0;
        const char* r = lua_tolstring(L, -1, &n);
        s->result.assign(r, n);
      }
    } else {
      s->error = st.message.empty() ? "worker failed" : st.message;
      s->traceback = st.traceback;
    }
  } catch (const std::exception& e) {
    s->error = e.what();
  } catch (...) {
    s->error = "unknown C++ exception in worker";
  }
  s->finished = true;
}

worker_context* context_of(lua_State* L)
{
  lua_pushlightuserdata(L, &k_context);
  lua_rawget(L, LUA_REGISTRYINDEX);
  auto* wc = static_cast<worker_context*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return wc;
}

pool& check_pool(lua_State* L)
{
  auto** p = static_cast<pool**>(luaL_checkudata(L, 1, k_pool_meta));
  if (!*p) luaL_error(L, "worker pool already closed");
  return **p;
}

std::string field_string(lua_State* L, int t, const char* key, bool required)
{
  lua_getfield(L, t, key);
  std::string v;
  if (lua_type(L, -1) == LUA_TSTRING) v = lua_tostring(L, -1);
  else if (required) luaL_error(L, "worker.start: field '%s' must be a string", key);
  lua_pop(L, 1);
  return v;
}

std::vector<std::string> field_strings(lua_State* L, int t, const char* key)
{
  std::vector<std::string> out;
  lua_getfield(L, t, key);
  if (lua_istable(L, -1)) {
    for (int i = 1;; ++i) {
      lua_rawgeti(L, -1, i);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        break;
      }
      std::size_t n = 0;
      const char* s = lua_tolstring(L, -1, &n);
      if (!s) luaL_error(L, "worker.start: %s[%d] must be a string", key, i);
      out.emplace_back(s, n);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return out;
}

/// worker.start{script = path, args = {...}, db = conninfo, jobs = {job1, job2, ...}} -> pool
int worker_start(lua_State* L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  std::string script = field_string(L, 1, "script", true);
  std::string db = field_string(L, 1, "db", false);
  std::vector<std::string> args = field_strings(L, 1, "args");
  std::vector<std::string> jobs = field_strings(L, 1, "jobs");
  if (jobs.empty()) return luaL_error(L, "worker.start: jobs must hold at least one job");
  auto** ud = static_cast<pool**>(lua_newuserdata(L, sizeof(pool*)));
  *ud = nullptr;
  luaL_getmetatable(L, k_pool_meta);
  lua_setmetatable(L, -2);
  return lua::protect(L, [&] {
    auto p = std::make_unique<pool>();
    p->info = script_info{script, args, db};
    // The command and read-only sessions are the host's, never the caller's: a worker started
    // under verify writes no more than the main state can.
    if (const script_info* parent = script_info_of(L)) {
      p->info.command = parent->command;
      p->info.read_only = parent->read_only;
    }
    for (auto& j : jobs) {
      p->slots.push_back(std::make_unique<slot>());
      p->slots.back()->job = std::move(j);
    }
    *ud = p.release();
    pool* raw = *ud;
    for (std::size_t i = 0; i < raw->slots.size(); ++i)
      raw->threads.emplace_back(run_worker, raw, raw->slots[i].get(), static_cast<int>(i + 1));
    return 1;
  });
}

/// pool:progress() -> array of each worker's last reported count
int pool_progress(lua_State* L)
{
  pool& p = check_pool(L);
  lua_createtable(L, static_cast<int>(p.slots.size()), 0);
  for (std::size_t i = 0; i < p.slots.size(); ++i) {
    lua_pushnumber(L, static_cast<lua_Number>(p.slots[i]->progress.load()));
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
  return 1;
}

/// pool:running() -> how many workers have not finished
int pool_running(lua_State* L)
{
  pool& p = check_pool(L);
  int n = 0;
  for (auto& s : p.slots) n += s->finished ? 0 : 1;
  lua_pushinteger(L, n);
  return 1;
}

/// pool:failed() -> how many workers have ended with an error so far
int pool_failed(lua_State* L)
{
  pool& p = check_pool(L);
  int n = 0;
  for (auto& s : p.slots) n += (s->finished && !s->ok) ? 1 : 0;
  lua_pushinteger(L, n);
  return 1;
}

/// pool:stop(): every worker's worker.stopping() turns true (they stop at their next boundary)
int pool_stop(lua_State* L)
{
  check_pool(L).stop = true;
  return 0;
}

/// pool:wait() -> {{ok = bool, result = s} or {ok = false, error = s, traceback = s}, ...}
int pool_wait(lua_State* L)
{
  pool& p = check_pool(L);
  p.join();
  lua_createtable(L, static_cast<int>(p.slots.size()), 0);
  for (std::size_t i = 0; i < p.slots.size(); ++i) {
    const slot& s = *p.slots[i];
    lua_createtable(L, 0, 3);
    lua_pushboolean(L, s.ok);
    lua_setfield(L, -2, "ok");
    if (s.ok) {
      lua_pushlstring(L, s.result.data(), s.result.size());
      lua_setfield(L, -2, "result");
    } else {
      lua_pushlstring(L, s.error.data(), s.error.size());
      lua_setfield(L, -2, "error");
      lua_pushlstring(L, s.traceback.data(), s.traceback.size());
      lua_setfield(L, -2, "traceback");
    }
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
  return 1;
}

/// __gc / pool:close(): stop, join and free (a main state that errors out never leaks threads)
int pool_close(lua_State* L)
{
  auto** p = static_cast<pool**>(luaL_checkudata(L, 1, k_pool_meta));
  delete *p;  // ~pool sets stop and joins
  *p = nullptr;
  return 0;
}

/// worker.job() -> this worker's job string, nil in the main state
int worker_job(lua_State* L)
{
  worker_context* wc = context_of(L);
  if (!wc) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushlstring(L, wc->self->job.data(), wc->self->job.size());
  return 1;
}

/// worker.index() -> 1..N in a worker, nil in the main state
int worker_index(lua_State* L)
{
  worker_context* wc = context_of(L);
  if (!wc) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushinteger(L, wc->index);
  return 1;
}

/// worker.report(n): this worker's progress (rows done), read by pool:progress()
int worker_report(lua_State* L)
{
  worker_context* wc = context_of(L);
  if (wc) wc->self->progress = static_cast<long long>(luaL_checknumber(L, 1));
  return 0;
}

/// worker.stopping() -> true once the main state called pool:stop()
int worker_stopping(lua_State* L)
{
  worker_context* wc = context_of(L);
  lua_pushboolean(L, wc && wc->owner->stop.load());
  return 1;
}

} // namespace

int open_worker(lua_State* L)
{
  static const luaL_Reg methods[] = {{"progress", pool_progress}, {"running", pool_running}, {"failed", pool_failed},
                                     {"stop", pool_stop},         {"wait", pool_wait},
                                     {"close", pool_close},       {nullptr, nullptr}};
  lua::define_type(L, k_pool_meta, methods, pool_close);
  static const luaL_Reg fns[] = {{"start", worker_start},   {"job", worker_job},
                                 {"index", worker_index},   {"report", worker_report},
                                 {"stopping", worker_stopping}, {nullptr, nullptr}};
  lua_newtable(L);
  luaL_register(L, nullptr, fns);
  return 1;
}

} // namespace mighost::bind
