#include "sandbox/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

extern char** environ;

namespace mighost::sandbox {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

/// Closes a file descriptor on scope exit.
struct fd_guard {
  int fd = -1;
  ~fd_guard() { reset(); }
  void reset() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

/// The child's environment: ours, minus PG* if asked, plus opts.env.
std::vector<std::string> build_env(const run_options& opts) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    std::string_view key = kv.substr(0, kv.find('='));
    if (opts.strip_pg_env && key.starts_with("PG")) continue;
    bool overridden = false;
    for (const auto& [k, v] : opts.env) overridden = overridden || k == key;
    if (!overridden) env.emplace_back(kv);
  }
  for (const auto& [k, v] : opts.env) env.push_back(k + "=" + v);
  return env;
}

/// If we were started with fd 0, 1 or 2 closed, the pipes below could land there and the
/// child's dup2() onto 0-2 would shuffle them; occupy any closed one with /dev/null first.
void ensure_std_fds_open() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd >= 0 && null_fd != fd) ::close(null_fd);  // lowest free fd is fd; anything else is odd
  }
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

/// Everything the child does between fork and exec: only async-signal-safe calls,
/// because the parent may have other threads holding malloc or logging locks.
[[noreturn]] void exec_child(const char* path, char* const* argv, char* const* envp, const char* cwd,
                             bool new_group, int in_fd, int out_fd, int err_fd, int status_fd) {
  if (new_group) ::setpgid(0, 0);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, nullptr);  // the CLI ignores SIGPIPE; children expect the default
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if ((cwd && ::chdir(cwd) != 0) || ::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) {
    int e = errno;
    (void)!::write(status_fd, &e, sizeof e);
    ::_exit(127);
  }
  // Keep only 0-2 and the status pipe (closed by exec): a stray inherited fd would
  // otherwise live on in the postmaster that pg_ctl leaves behind.
  if (status_fd > 3) ::close_range(3, status_fd - 1, 0);
  if (::close_range(status_fd + 1, ~0U, 0) != 0) {
    for (int fd = status_fd + 1; fd < 4096; ++fd) ::close(fd);
  }
  ::execve(path, argv, envp);
  int e = errno;
  (void)!::write(status_fd, &e, sizeof e);
  ::_exit(127);
}

/// Appends to `buf`, keeping only the last `max` bytes (amortised).
void append_capped(std::string& buf, const char* data, std::size_t n, std::size_t max) {
  buf.append(data, n);
  if (buf.size() > 2 * max) buf.erase(0, buf.size() - max);
}

/// Reads stdout/stderr until both close or the deadline passes; returns false on timeout.
bool drain(int out_fd, int err_fd, process_result& res, const run_options& opts) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + opts.timeout;
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* bufs[2] = {&res.out, &res.err};
  int open_count = 2;
  char chunk[8192];
  while (open_count > 0) {
    int wait_ms = -1;
    if (opts.timeout.count() > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      if (left.count() <= 0) return false;
      wait_ms = static_cast<int>(left.count());
    }
    int n = ::poll(fds, 2, wait_ms);
    if (n < 0 && errno == EINTR) continue;  // a Ctrl-C for the CLI: keep collecting
    if (n < 0) throw_errno("poll");
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, chunk, sizeof chunk);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) {
        fds[i].fd = -1;
        --open_count;
      } else {
        append_capped(*bufs[i], chunk, static_cast<std::size_t>(got), opts.max_capture);
      }
    }
  }
  return true;
}

int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

void trim_capture(std::string& s, std::size_t max) {
  if (s.size() > max) s.erase(0, s.size() - max);
}

}  // namespace

std::string process_result::status_text() const {
  if (timed_out) return "timed out";
  if (term_signal != 0) return "killed by signal " + std::to_string(term_signal);
  return "exit " + std::to_string(exit_code);
}

std::string find_in_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  while (!dirs.empty()) {
    auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
    std::string full = (dir.empty() ? "." : dir) + "/" + program;
    struct stat st {};
    if (::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(full.c_str(), X_OK) == 0) return full;
  }
  return {};
}

process_result run_process(const std::vector<std::string>& argv, const run_options& opts) {
  process_result res;
  if (argv.empty()) throw std::invalid_argument("run_process: empty argv");
  const std::string path = find_in_path(argv[0]);
  if (path.empty()) {
    res.exit_code = 127;
    res.err = argv[0] + ": command not found in PATH";
    return res;
  }
  // Everything the child needs is built before fork (no allocation after it).
  std::vector<std::string> args = argv, env = build_env(opts);
  std::vector<char*> c_args = c_strings(args), c_env = c_strings(env);
  const char* cwd = opts.cwd.empty() ? nullptr : opts.cwd.c_str();

  ensure_std_fds_open();
  fd_guard null_in, out_r, out_w, err_r, err_w, st_r, st_w;
  int p[2];
  if ((null_in.fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) throw_errno("open /dev/null");
  if (::pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe");
  out_r.fd = p[0], out_w.fd = p[1];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe");
  err_r.fd = p[0], err_w.fd = p[1];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe");
  st_r.fd = p[0], st_w.fd = p[1];

  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    exec_child(path.c_str(), c_args.data(), c_env.data(), cwd, opts.new_process_group, null_in.fd,
               out_w.fd, err_w.fd, st_w.fd);
  }
  if (opts.new_process_group) ::setpgid(pid, pid);  // also here: no race with our kill() below
  out_w.reset(), err_w.reset(), st_w.reset(), null_in.reset();

  bool finished = drain(out_r.fd, err_r.fd, res, opts);
  if (!finished) {
    res.timed_out = true;
    ::kill(opts.new_process_group ? -pid : pid, SIGKILL);
  }
  int status = wait_child(pid);

  int exec_errno = 0;
  if (::read(st_r.fd, &exec_errno, sizeof exec_errno) == static_cast<ssize_t>(sizeof exec_errno)) {
    res.err += "cannot execute " + path + ": " + std::strerror(exec_errno);
  }
  if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) res.term_signal = WTERMSIG(status);
  trim_capture(res.out, opts.max_capture);
  trim_capture(res.err, opts.max_capture);
  return res;
}

std::string format_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`*?;&|<>()[]{}~") == std::string::npos;
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

std::string tail_lines(const std::string& text, std::size_t max_lines, std::size_t max_bytes) {
  std::size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos || max_lines == 0) return {};
  std::size_t begin = 0;
  std::size_t pos = end;
  for (std::size_t lines = 0; lines < max_lines; ++lines) {
    std::size_t nl = text.rfind('\n', pos);
    if (nl == std::string::npos) {
      begin = 0;
      break;
    }
    begin = nl + 1;
    if (nl == 0) break;
    pos = nl - 1;
  }
  if (end + 1 - begin > max_bytes) begin = end + 1 - max_bytes;
  return text.substr(begin, end + 1 - begin);
}

}  // namespace mighost::sandbox
