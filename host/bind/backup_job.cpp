// mighost.backup.Job: a file backup copied on a thread of its own while the script goes on.
//
//   local job = backup.start{conn = c, application_name = "...", <the options of backup.tables>}
//   job:done()    -> true once the copy and its verification have ended (never blocks)
//   job:seconds() -> how long the backup took from backup.start to its end (so far, while running)
//   job:wait()    -> manifest, ok, problems (backup.verify's answer); raises as backup.tables does
//   job:cancel()  -> stops a copy still running; its files are removed
//
// backup.start opens a second session with `conn`'s parameters (so no password passes through
// Lua), search_path and timeouts, and before it returns that session has fixed its snapshot,
// resolved and described the tables and checked the directory: what the backup holds is the
// tables as they were then, and a bad name or directory fails the call itself. Only the COPYs,
// the manifest and the re-read run on the thread; it touches no Lua state, and the state reads
// the outcome only after joining.
#include "bind/backup_args.hpp"
#include "bind/modules.hpp"
#include "lua/types.hpp"

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <thread>

namespace mighost::bind {

namespace {

constexpr const char* k_job_meta = "mighost.backup.Job";

/// One background backup: its session, the snapshot it copies, and the outcome of the thread.
class backup_job
{
public:
  backup_job(pg::connection& parent, const std::string& app, backup::snapshot_options o)
    : m_conn(parent.open_sibling(app)), m_dir(o.dir)
  {
    m_job = std::make_unique<backup::snapshot_job>(*m_conn, std::move(o));
    m_thread = std::thread([this] { work(); });
  }
  ~backup_job() { cancel(); }
  backup_job(const backup_job&) = delete;
  backup_job& operator=(const backup_job&) = delete;

  bool done() const noexcept { return m_done.load(); }

  double seconds() const noexcept
  {
    auto end = m_done.load() ? m_end : std::chrono::steady_clock::now();
    return std::chrono::duration<double>(end - m_start).count();
  }

  /// Joins the thread; rethrows its failure, else the manifest and the verification.
  const nlohmann::json& wait(backup::verify_report& rep)
  {
    join();
    if (m_error) std::rethrow_exception(m_error);
    rep = m_verify;
    return m_manifest;
  }

  void cancel() noexcept
  {
    if (!m_done.load() && m_conn) m_conn->cancel_running();
    join();
  }

private:
  void work() noexcept
  {
    try {
      m_manifest = m_job->copy();
      m_verify = backup::verify(m_dir);
    } catch (...) {
      m_error = std::current_exception();
    }
    m_job.reset();  // an unfinished copy's files go now, not when Lua collects the job
    m_end = std::chrono::steady_clock::now();
    m_done = true;
  }

  void join() noexcept
  {
    if (m_thread.joinable()) m_thread.join();
  }

  std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now(), m_end;
  std::unique_ptr<pg::connection> m_conn;  // outlives m_job, which uses it
  std::string m_dir;
  std::unique_ptr<backup::snapshot_job> m_job;
  nlohmann::json m_manifest;
  backup::verify_report m_verify;
  std::exception_ptr m_error;
  std::atomic<bool> m_done{false};
  std::thread m_thread;  // last: started once everything it reads exists
};

backup_job*& job_slot(lua_State* L)
{
  return *static_cast<backup_job**>(luaL_checkudata(L, 1, k_job_meta));
}

backup_job& check_job(lua_State* L)
{
  backup_job* j = job_slot(L);
  if (!j) luaL_error(L, "backup: this job has been cancelled");
  return *j;
}

int job_done(lua_State* L)
{
  lua_pushboolean(L, check_job(L).done());
  return 1;
}

int job_seconds(lua_State* L)
{
  lua_pushnumber(L, check_job(L).seconds());
  return 1;
}

int job_wait(lua_State* L)
{
  backup_job& j = check_job(L);
  return backup_args::run(L, [&] {
    backup::verify_report rep;
    backup_args::push_json(L, j.wait(rep));
    lua_pushboolean(L, rep.ok);
    backup_args::push_json(L, nlohmann::json(rep.problems));
    return 3;
  });
}

int job_cancel(lua_State* L)
{
  backup_job*& j = job_slot(L);
  delete j;  // cancels and joins; the files of an unfinished copy are removed
  j = nullptr;
  return 0;
}

} // namespace

int backup_start(lua_State* L)
{
  using namespace backup_args;
  luaL_checktype(L, 1, LUA_TTABLE);
  pg::connection& parent = opt_conn(L, 1);
  std::string app = opt_string(L, 1, "application_name", "mighost backup");
  static const luaL_Reg methods[] = {{"done", job_done}, {"seconds", job_seconds}, {"wait", job_wait},
                                     {"cancel", job_cancel}, {nullptr, nullptr}};
  lua::define_type(L, k_job_meta, methods, job_cancel);
  return run(L, [&] {
    auto** slot = static_cast<backup_job**>(lua_newuserdata(L, sizeof(backup_job*)));
    *slot = nullptr;  // a throw below leaves a null slot that __gc ignores
    luaL_getmetatable(L, k_job_meta);
    lua_setmetatable(L, -2);
    *slot = new backup_job(parent, app, opt_snapshot(L, 1));
    return 1;
  });
}

} // namespace mighost::bind
