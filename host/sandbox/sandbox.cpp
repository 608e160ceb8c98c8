#include "sandbox/sandbox.hpp"

#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <locale.h>
#include <pwd.h>
#include <random>
#include <regex>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "sandbox/process.hpp"
#include "sandbox/registry.hpp"

namespace mighost::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// Unix socket paths are limited to 108 bytes including the NUL.
constexpr std::size_t max_socket_path = 107;
constexpr const char* server_user = "postgres";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Percent-encodes everything but unreserved characters and '/' (readable socket paths).
std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string quote_ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

/// A string literal for postgresql.conf: both '' and backslash escapes are recognised there.
std::string quote_conf(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += c;
    out += c;
  }
  return out + "'";
}

/// C.UTF-8 when the C library has it (glibc >= 2.35 always does), else plain C.
std::string pick_locale() {
  locale_t loc = ::newlocale(LC_ALL_MASK, "C.UTF-8", nullptr);
  if (!loc) return "C";
  ::freelocale(loc);
  return "C.UTF-8";
}

std::string runuser_path() {
  for (const char* p : {"/usr/sbin/runuser", "/sbin/runuser"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "runuser";
}

/// Alive and not a zombie (an orphaned postmaster may wait for a PID 1 that never reaps).
bool process_alive(int pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH)) return false;
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z';
}

/// True when pid runs with data_dir on its command line, so we never signal a recycled pid.
bool is_postmaster_of(int pid, const std::string& data_dir) {
  std::string cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  return cmdline.find(data_dir) != std::string::npos;
}

/// Waits up to `grace` for our postmaster to exit; true if it is still running after that.
bool still_running(int pid, const std::string& data_dir, std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (process_alive(pid) && is_postmaster_of(pid, data_dir)) {
    if (std::chrono::steady_clock::now() >= deadline) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

bool looks_like_port_clash(const std::string& log) {
  return log.find("already in use") != std::string::npos || log.find("could not create lock file") != std::string::npos ||
         log.find("could not bind") != std::string::npos;
}

std::string failure_text(const std::string& what, const std::vector<std::string>& argv, const process_result& res) {
  std::string msg = what + " failed (" + res.status_text() + "): " + format_command(argv);
  std::string detail = tail_lines(res.err.empty() ? res.out : res.err);
  return detail.empty() ? msg : msg + "\n" + detail;
}

/// The first error of a psql run with VERBOSITY=verbose ("psql:FILE:LINE: ERROR:  42P01: text") as
/// "FILE:LINE: ERROR 42P01: text"; empty when there is none.
std::string first_psql_error(const std::string& err) {
  static const std::regex line(R"(psql:(.*?:[0-9]+): (ERROR|FATAL):\s+([0-9A-Z]{5}): ([^\n]*))");
  std::smatch m;
  if (!std::regex_search(err, m, line)) return {};
  return m[1].str() + ": " + m[2].str() + " " + m[3].str() + ": " + m[4].str();
}

}  // namespace

cluster::cluster(options opts) : m_opts(std::move(opts)) {
  stop_all_on_exit();
  m_bindir = find_pg_bindir();
  m_as_postgres = ::geteuid() == 0;
  init_dir();
  detail::register_cluster(this);
  try {
    {
      // A concurrent stop_all() (e.g. a watchdog on a second Ctrl-C) waits until the server
      // is up or gone, so it never races pg_ctl start and leaves a postmaster behind.
      std::lock_guard lock(m_stop_mutex);
      if (m_stopped) throw sandbox_error("sandbox stopped while starting");
      run_initdb();
      write_config();
      start_server();
    }
    if (m_opts.database != "postgres" && m_opts.database != "template1") create_database(m_opts.database);
    for (const auto& fixture : m_opts.fixtures) load_fixture(fixture);
  } catch (...) {
    // The destructor will not run for a half-built object: clean up here.
    detail::unregister_cluster(this);
    stop();
    throw;
  }
  spdlog::debug("sandbox: PostgreSQL running at {} (log {})", m_url, m_log_file);
}

cluster::~cluster() {
  detail::unregister_cluster(this);
  stop();
}

void cluster::init_dir() {
  std::string base = m_opts.base_dir;
  const char* tmpdir = std::getenv("TMPDIR");
  if (base.empty()) base = tmpdir && *tmpdir ? tmpdir : "/tmp";
  std::string templ = fs::absolute(base).lexically_normal().string();
  while (templ.size() > 1 && templ.back() == '/') templ.pop_back();
  templ += "/mighost-sandbox-XXXXXX";
  if (templ.size() + std::strlen("/.s.PGSQL.65535") > max_socket_path) {
    throw sandbox_error("sandbox base directory " + base + " is too long for a unix socket path (limit " +
                        std::to_string(max_socket_path) + " bytes); set options::base_dir or TMPDIR to a shorter path");
  }
  if (!::mkdtemp(templ.data())) {
    throw sandbox_error("cannot create sandbox directory " + templ + ": " + std::strerror(errno));
  }
  m_dir = templ;
  m_data_dir = m_dir + "/data";
  m_log_file = m_dir + "/server.log";
  if (!m_as_postgres) return;
  // PostgreSQL refuses to run as root: the server owns the directory, we stay the client.
  const passwd* pw = ::getpwnam(server_user);
  if (!pw || ::chown(m_dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    std::string why = pw ? std::strerror(errno) : "no such user";
    remove_dir();
    throw sandbox_error(std::string("running as root, the sandbox server must run as user '") + server_user +
                        "' (" + why + "); install the Debian package postgresql-15, which creates it, or run as a normal user");
  }
  // Root normally passes 0700 via CAP_DAC_OVERRIDE; without it, allow traversal to reach the socket.
  if (::access(m_dir.c_str(), X_OK) != 0) ::chmod(m_dir.c_str(), 0711);
}

std::vector<std::string> cluster::server_command(const std::string& binary, std::vector<std::string> args) const {
  std::vector<std::string> argv;
  if (m_as_postgres) argv = {runuser_path(), "-u", server_user, "--"};
  argv.push_back(m_bindir + "/" + binary);
  argv.insert(argv.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
  return argv;
}

void cluster::run_initdb() {
  auto argv = server_command("initdb", {"-D", m_data_dir, "--auth=trust", "-U", user, "-E", "UTF8",
                                        "--locale=" + pick_locale(), "--no-sync"});
  run_options ro;
  ro.cwd = m_dir;  // the server user may not be allowed into our cwd
  ro.new_process_group = true;
  ro.timeout = 180s;
  process_result res = run_process(argv, ro);
  if (res.ok()) return;
  std::string msg = failure_text("initdb", argv, res);
  if (m_as_postgres) msg += "\n(note: initdb runs as user postgres, which must be able to reach " + m_dir + ")";
  throw sandbox_error(msg);
}

void cluster::write_config() {
  // Settings live in postgresql.conf rather than pg_ctl -o, whose string goes through /bin/sh.
  std::ofstream conf(m_data_dir + "/postgresql.conf", std::ios::app);
  conf << "\n# mighost sandbox: throwaway cluster, unix socket only, durability traded for speed\n"
       << "listen_addresses = ''\n"
       << "unix_socket_directories = " << quote_conf(m_dir) << "\n"
       << "fsync = off\n"
       << "full_page_writes = off\n"
       << "synchronous_commit = off\n";
  conf.close();
  if (!conf) throw sandbox_error("cannot write " + m_data_dir + "/postgresql.conf");
}

void cluster::start_server() {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> offset(0, 9999);
  for (int attempt = 0; attempt < 5; ++attempt) {
    int port = 54000 + offset(rng);
    // The socket dir is private, so a clash is unlikely; the port still names the socket file.
    if (fs::exists(m_dir + "/.s.PGSQL." + std::to_string(port))) continue;
    if (try_start(port)) return;
  }
  throw sandbox_error("could not start PostgreSQL on a free port after 5 attempts; see " + m_log_file);
}

bool cluster::try_start(int port) {
  auto argv = server_command("pg_ctl", {"-D", m_data_dir, "-l", m_log_file, "-w", "-t", "60", "-o",
                                        "-p " + std::to_string(port), "start"});
  run_options ro;
  ro.cwd = m_dir;
  ro.new_process_group = true;
  ro.timeout = 120s;
  m_started = true;  // from here on stop() must try pg_ctl stop, even after a failed start
  process_result res = run_process(argv, ro);
  if (res.ok()) {
    m_port = port;
    m_url = url_for(m_opts.database);
    return true;
  }
  std::string log = read_file(m_log_file);
  stop_server();
  if (looks_like_port_clash(log)) return false;
  throw sandbox_error(failure_text("pg_ctl start", argv, res) + "\nserver log " + m_log_file + " ends with:\n" +
                      tail_lines(log));
}

std::string cluster::url_for(const std::string& database) const {
  return "postgresql://" + std::string(user) + "@/" + url_encode(database) + "?host=" + url_encode(m_dir) +
         "&port=" + std::to_string(m_port);
}

int cluster::server_pid() const {
  std::lock_guard lock(m_stop_mutex);
  if (m_stopped || !m_started) return 0;
  std::string pid_file = read_file(m_data_dir + "/postmaster.pid");
  return pid_file.empty() ? 0 : std::atoi(pid_file.c_str());
}

bool cluster::running() const {
  std::lock_guard lock(m_stop_mutex);
  return m_started && !m_stopped;
}

void cluster::ensure_running(const char* action) const {
  if (m_port == 0 || !running()) throw sandbox_error(std::string("cannot ") + action + ": the sandbox cluster is not running");
}

std::string cluster::run_psql(std::vector<std::string> args, const std::string& database, const std::string& what) {
  std::string psql = m_bindir + "/psql";
  if (::access(psql.c_str(), X_OK) != 0) psql = "psql";
  std::vector<std::string> argv = {psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                                   url_for(database.empty() ? m_opts.database : database)};
  argv.insert(argv.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
  run_options ro;
  ro.env = {{"PGCONNECT_TIMEOUT", "10"}};  // psql stays in our process group: Ctrl-C reaches it
  process_result res = run_process(argv, ro);
  if (!res.ok()) throw sandbox_error(failure_text(what, argv, res));
  return res.out;
}

void cluster::load_fixture(const std::string& path, const std::string& database) {
  ensure_running("load a fixture");
  if (::access(path.c_str(), R_OK) != 0) {
    throw sandbox_error("fixture " + path + " is not readable: " + std::strerror(errno));
  }
  try {
    run_psql({"-v", "VERBOSITY=verbose", "-f", path}, database, "loading fixture " + path + " with psql");
  } catch (const sandbox_error& e) {
    // first the statement that failed, where and why; then psql's command line and output
    std::string first = first_psql_error(e.what());
    if (first.empty()) throw;
    throw sandbox_error("fixture " + first + "\n" + e.what());
  }
}

void cluster::create_database(const std::string& name, const std::string& template_db) {
  ensure_running("create a database");
  std::string sql = "CREATE DATABASE " + quote_ident(name);
  if (!template_db.empty()) sql += " TEMPLATE " + quote_ident(template_db);
  run_psql({"-c", sql}, "postgres", "creating database " + name);
}

void cluster::drop_database(const std::string& name) {
  ensure_running("drop a database");
  run_psql({"-c", "DROP DATABASE IF EXISTS " + quote_ident(name) + " WITH (FORCE)"}, "postgres",
           "dropping database " + name);
}

std::string cluster::query(const std::string& sql, const std::string& database) {
  ensure_running("run a query");
  std::string out = run_psql({"-A", "-t", "-c", sql}, database, "psql query");
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void cluster::stop() noexcept {
  try {
    std::lock_guard lock(m_stop_mutex);
    if (m_stopped) return;
    m_stopped = true;
    if (m_started) stop_server();
    if (!m_opts.keep) remove_dir();
    else if (!m_dir.empty()) spdlog::info("sandbox: kept {} (server log {})", m_dir, m_log_file);
  } catch (...) {
    // Never throw from here: it runs in destructors, during unwinding and at exit.
  }
}

void cluster::stop_server() noexcept {
  try {
    // Read the pid first: a successful stop removes postmaster.pid.
    std::string pid_file = read_file(m_data_dir + "/postmaster.pid");
    int pid = pid_file.empty() ? 0 : std::atoi(pid_file.c_str());
    // immediate: nothing to keep; fast: a kept data dir should be consistent.
    auto argv = server_command("pg_ctl", {"-D", m_data_dir, "-m", m_opts.keep ? "fast" : "immediate", "-w",
                                          "-t", "30", "stop"});
    run_options ro;
    ro.cwd = m_dir;
    ro.new_process_group = true;  // a second Ctrl-C must not kill the stop half-way
    ro.timeout = 60s;
    process_result res = run_process(argv, ro);
    // pg_ctl returns once postmaster.pid is gone, a moment before the process itself exits.
    if (!still_running(pid, m_data_dir, res.ok() ? 5s : 0s)) return;
    spdlog::warn("sandbox: pg_ctl stop did not stop postmaster {} ({}); sending SIGQUIT", pid, res.status_text());
    ::kill(pid, SIGQUIT);
    if (still_running(pid, m_data_dir, 5s)) ::kill(pid, SIGKILL);
  } catch (...) {
  }
}

void cluster::remove_dir() noexcept {
  if (m_dir.empty()) return;
  std::error_code ec;
  fs::remove_all(m_dir, ec);
  if (ec) {
    try {
      spdlog::warn("sandbox: could not remove {}: {}", m_dir, ec.message());
    } catch (...) {
    }
  }
}

}  // namespace mighost::sandbox
