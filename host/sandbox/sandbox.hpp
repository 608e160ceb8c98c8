#pragma once
/// \file
/// Throwaway PostgreSQL clusters for dry runs and tests.
///
/// A cluster lives in a private temp dir, listens only on a unix socket inside
/// it, trades durability for speed (fsync=off) and is stopped and deleted by
/// its destructor. No Lua and no libpq here: initdb, pg_ctl and psql run as
/// child processes (see process.hpp).

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace mighost::sandbox {

/// Options for a throwaway PostgreSQL 15 cluster.
struct options {
  std::vector<std::string> fixtures;  ///< SQL files loaded with psql -v ON_ERROR_STOP=1 -f, in order
  std::string database = "mighost";   ///< database created for the user
  bool keep = false;                  ///< leave the data dir on destruction (debugging)
  std::string base_dir;               ///< parent for the temp dir; default $TMPDIR or /tmp
};

/// Thrown with a message a person can act on (which binary failed, its stderr tail, the log file).
class sandbox_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// RAII: the constructor runs initdb + pg_ctl start (+ fixtures); the destructor stops the server
/// (pg_ctl stop -m immediate, or fast when keep is set) and removes the temp dir, also during
/// stack unwinding. Live clusters are registered so stop_all() can reach them on fatal paths.
class cluster {
 public:
  /// The role every sandbox uses; trust auth, so no password.
  static constexpr const char* user = "mighost";

  explicit cluster(options opts = {});
  ~cluster();
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  /// postgresql://mighost@/mighost?host=/tmp/mighost-sandbox-XXXXXX&port=54xxx
  const std::string& url() const { return m_url; }
  /// Same server, another database.
  std::string url_for(const std::string& database) const;
  const std::string& socket_dir() const { return m_dir; }
  int port() const { return m_port; }
  const std::string& data_dir() const { return m_data_dir; }
  /// The server log (pg_ctl -l); kept until the temp dir is removed.
  const std::string& log_file() const { return m_log_file; }
  /// The temp dir holding data dir, socket and log.
  const std::string& temp_dir() const { return m_dir; }
  /// The postmaster's pid, 0 when not running.
  int server_pid() const;
  /// True until stop() (or the destructor) ran.
  bool running() const;

  /// psql -v ON_ERROR_STOP=1 -f path; throws sandbox_error with psql's stderr. Default: the main database.
  void load_fixture(const std::string& path, const std::string& database = "");
  /// CREATE DATABASE; template_db copies a database (fresh copies for tests).
  void create_database(const std::string& name, const std::string& template_db = "");
  /// DROP DATABASE IF EXISTS ... WITH (FORCE): open connections are terminated.
  void drop_database(const std::string& name);
  /// Runs one SQL command with psql and returns its unaligned, tuples-only output (psql -XAtqc).
  std::string query(const std::string& sql, const std::string& database = "");
  /// Stops the server and removes the temp dir (unless keep). Idempotent, never throws.
  void stop() noexcept;

 private:
  void init_dir();
  void run_initdb();
  void write_config();
  void start_server();
  bool try_start(int port);
  std::vector<std::string> server_command(const std::string& binary, std::vector<std::string> args) const;
  std::string run_psql(std::vector<std::string> args, const std::string& database, const std::string& what);
  void ensure_running(const char* action) const;
  void stop_server() noexcept;
  void remove_dir() noexcept;

  options m_opts;
  std::string m_bindir;
  std::string m_dir;       // mkdtemp result; also the socket dir
  std::string m_data_dir;  // m_dir/data
  std::string m_log_file;  // m_dir/server.log
  std::string m_url;
  int m_port = 0;
  bool m_as_postgres = false;  // root: server binaries run via runuser -u postgres
  bool m_started = false;
  bool m_stopped = false;
  mutable std::recursive_mutex m_stop_mutex;  // recursive: stop_all() may re-enter from a terminate handler
};

/// Directory of PostgreSQL 15 server binaries: $MIGHOST_PG_BINDIR, else /usr/lib/postgresql/15/bin,
/// else the newest /usr/lib/postgresql/*/bin; throws sandbox_error naming the apt package if none.
std::string find_pg_bindir();

/// Stops every live cluster of this process (for terminate handlers, atexit, or a watchdog
/// thread before _Exit). A cluster still starting is stopped once its server is up. Never throws.
void stop_all() noexcept;

/// Arranges (once) that std::terminate and normal exit stop every live cluster first.
/// Called by the first cluster's constructor; calling it again is harmless.
void stop_all_on_exit() noexcept;

/// Number of clusters constructed and not yet destroyed in this process.
std::size_t live_cluster_count() noexcept;

}  // namespace mighost::sandbox
