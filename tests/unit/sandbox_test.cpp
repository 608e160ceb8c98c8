#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "cli/signals.hpp"
#include "pg.hpp"
#include "sandbox/process.hpp"
#include "sandbox/sandbox.hpp"

namespace fs = std::filesystem;
using mighost::sandbox::cluster;
using mighost::sandbox::options;
using mighost::sandbox::run_process;
using mighost::sandbox::sandbox_error;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A live (non-zombie) process has data_dir on its command line.
bool any_process_uses(const std::string& data_dir) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = slurp(entry.path().string() + "/cmdline");  // empty for zombies
    if (cmdline.find(data_dir) != std::string::npos) return true;
  }
  return false;
}

/// A scratch directory removed at scope exit.
struct temp_dir {
  std::string path;
  temp_dir() {
    std::string templ = fs::temp_directory_path().string() + "/mighost-test-XXXXXX";
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path = templ;
    // As root the server runs as postgres, which must be able to traverse a base_dir.
    fs::permissions(path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path + "/" + name) << text;
    return path + "/" + name;
  }
};

std::string psql_select(const std::string& url, const std::string& sql) {
  auto res = run_process({"psql", "-X", url, "-Atc", sql});
  INFO("psql stderr: " << res.err);
  REQUIRE(res.ok());
  return res.out;
}

}  // namespace

TEST_CASE("a cluster accepts connections and leaves nothing behind", "[sandbox]") {
  std::string dir, data_dir;
  int pid = 0;
  const auto live_before = mighost::sandbox::live_cluster_count();
  {
    cluster c;
    dir = c.temp_dir();
    data_dir = c.data_dir();
    pid = c.server_pid();
    CHECK(c.running());
    CHECK(pid > 0);
    CHECK(fs::is_directory(data_dir));
    CHECK(c.port() >= 54000);
    CHECK(c.url() == c.url_for("mighost"));
    CHECK(c.url().find("host=" + c.socket_dir()) != std::string::npos);
    CHECK(fs::exists(c.socket_dir() + "/.s.PGSQL." + std::to_string(c.port())));
    CHECK(psql_select(c.url(), "select 1") == "1\n");
    CHECK(c.query("select current_user || ' ' || current_database()") == "mighost mighost");
    CHECK(c.query("show fsync") == "off");
    CHECK(c.query("show listen_addresses") == "");
    CHECK(c.query("select pg_encoding_to_char(encoding) from pg_database where datname = 'mighost'") == "UTF8");
    CHECK((fs::status(dir).permissions() & fs::perms::group_all) == fs::perms::none);
    CHECK(any_process_uses(data_dir));
  }
  CHECK_FALSE(fs::exists(dir));
  CHECK_FALSE(any_process_uses(data_dir));
  CHECK(pid > 0);
  CHECK(mighost::sandbox::live_cluster_count() == live_before);
}

TEST_CASE("fixtures load in order; a failing fixture names the file and psql's error", "[sandbox]") {
  temp_dir scratch;
  std::string schema = scratch.write("schema.sql", "create table item(id int primary key, name text);\n");
  std::string rows = scratch.write("rows.sql", "insert into item values (1, 'a'), (2, 'b');\n");
  std::string broken = scratch.write("broken.sql", "select 1;\nselec oops;\n");

  options opts;
  opts.fixtures = {schema, rows};
  opts.database = "app";
  cluster c(opts);
  CHECK(c.url().find("@/app?") != std::string::npos);
  CHECK(c.query("select count(*) from item") == "2");

  try {
    c.load_fixture(broken);
    FAIL("load_fixture should have thrown");
  } catch (const sandbox_error& e) {
    std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find(broken) != std::string::npos);
    CHECK(msg.find("syntax error") != std::string::npos);
    CHECK(msg.find("psql") != std::string::npos);
  }
  CHECK_THROWS_AS(c.load_fixture(scratch.path + "/missing.sql"), sandbox_error);

  c.create_database("other");
  c.load_fixture(schema, "other");
  CHECK(c.query("select count(*) from item", "other") == "0");
}

TEST_CASE("a failing constructor cleans up its directory and server", "[sandbox]") {
  temp_dir scratch, base;
  const auto live_before = mighost::sandbox::live_cluster_count();
  options opts;
  opts.base_dir = base.path;
  opts.fixtures = {scratch.write("bad.sql", "create table t(;\n")};
  std::string bad = opts.fixtures[0];
  CHECK_THROWS_WITH(cluster(opts), Catch::Contains(bad) && Catch::Contains("syntax error"));
  CHECK(fs::is_empty(base.path));
  CHECK(mighost::sandbox::live_cluster_count() == live_before);
}

TEST_CASE("failing server binaries give actionable messages", "[sandbox]") {
  temp_dir fake, base;
  std::string real = mighost::sandbox::find_pg_bindir();
  fs::create_symlink(real + "/initdb", fake.path + "/initdb");
  std::string pg_ctl = fake.write("pg_ctl",
                                  "#!/bin/sh\n"
                                  "while [ $# -gt 0 ]; do case \"$1\" in\n"
                                  "  -l) log=\"$2\"; shift;;\n"
                                  "  start) echo 'FATAL:  could not frobnicate' >> \"$log\"; "
                                  "echo 'pg_ctl: could not start server' >&2; exit 1;;\n"
                                  "  stop) exit 0;;\n"
                                  "esac; shift; done\n");
  fs::permissions(pg_ctl, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  ::setenv("MIGHOST_PG_BINDIR", fake.path.c_str(), 1);
  options opts;
  opts.base_dir = base.path;
  CHECK_THROWS_WITH(cluster(opts), Catch::Contains("pg_ctl start failed") &&
                                       Catch::Contains("could not start server") &&
                                       Catch::Contains("server.log") && Catch::Contains("could not frobnicate"));
  CHECK(fs::is_empty(base.path));

  fs::remove(fake.path + "/initdb");
  fs::permissions(fake.write("initdb", "#!/bin/sh\necho 'initdb: error: nope' >&2\nexit 1\n"),
                  fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
  CHECK_THROWS_WITH(cluster(opts), Catch::Contains("initdb failed (exit 1)") && Catch::Contains("nope"));
  CHECK(fs::is_empty(base.path));
  ::unsetenv("MIGHOST_PG_BINDIR");
}

TEST_CASE("databases can be created from a template and dropped", "[sandbox]") {
  cluster c;
  c.query("create table seed(x int); insert into seed values (42)");
  c.create_database("copy_one", "mighost");
  CHECK(c.query("select x from seed", "copy_one") == "42");
  c.create_database("with \"quotes\" and spaces");
  CHECK(c.query("select 1", "with \"quotes\" and spaces") == "1");
  c.drop_database("copy_one");
  CHECK(c.query("select count(*) from pg_database where datname = 'copy_one'", "postgres") == "0");
  CHECK_THROWS_AS(c.create_database("mighost"), sandbox_error);
}

TEST_CASE("keep leaves the data dir; stop is idempotent; stop_all reaches live clusters", "[sandbox]") {
  temp_dir base;
  std::string dir;
  {
    options opts;
    opts.keep = true;
    opts.base_dir = base.path;
    cluster c(opts);
    dir = c.temp_dir();
    mighost::sandbox::stop_all();
    CHECK_FALSE(c.running());
    CHECK(c.server_pid() == 0);
    c.stop();
    CHECK_THROWS_AS(c.query("select 1"), sandbox_error);
  }
  CHECK(fs::exists(dir + "/data/PG_VERSION"));
  CHECK_FALSE(any_process_uses(dir + "/data"));
}

TEST_CASE("a SIGINT handled by the CLI unwinds and stops the server", "[sandbox][signals]") {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child plays the CLI: count the signal, then return normally so destructors run.
    ::close(pipe_fds[0]);
    int rc = 0;
    try {
      mighost::cli::install_signal_handlers();
      cluster c;
      std::string dir = c.temp_dir() + "\n";
      (void)!::write(pipe_fds[1], dir.data(), dir.size());
      while (mighost::cli::interrupt_count() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } catch (...) {
      rc = 1;
    }
    ::_exit(rc);
  }
  ::close(pipe_fds[1]);
  std::string dir;
  char ch;
  while (::read(pipe_fds[0], &ch, 1) == 1 && ch != '\n') dir += ch;
  ::close(pipe_fds[0]);
  REQUIRE_FALSE(dir.empty());
  CHECK(any_process_uses(dir + "/data"));
  ::kill(child, SIGINT);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_FALSE(fs::exists(dir));
  CHECK_FALSE(any_process_uses(dir + "/data"));
}

TEST_CASE("stop_all from another thread never leaves a server behind", "[sandbox]") {
  temp_dir base;
  std::atomic<bool> done{false};
  for (int delay_ms : {0, 300, 1500}) {
    done = false;
    std::thread watchdog([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      while (!done) {
        mighost::sandbox::stop_all();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    try {
      options opts;
      opts.base_dir = base.path;
      cluster c(opts);
      // Up before the watchdog's first call (a fast machine): it stops the server within its
      // next rounds; the bound only keeps a broken stop_all from hanging the test.
      for (int i = 0; i < 6000 && c.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      CHECK_FALSE(c.running());
    } catch (const sandbox_error& e) {
      INFO(e.what());  // stopped while starting: fine, as long as nothing is left
    }
    done = true;
    watchdog.join();
    CHECK(fs::is_empty(base.path));
    CHECK_FALSE(any_process_uses(base.path));
  }
}

TEST_CASE("the shared cluster hands out fresh databases", "[sandbox]") {
  std::string a = mighost::test::fresh_database("My Test");
  std::string b = mighost::test::fresh_database("My Test");
  CHECK(a != b);
  CHECK(a.find("/my_test_") != std::string::npos);
  CHECK(psql_select(a, "select count(*) from pg_tables where schemaname = 'public'") == "0\n");
  CHECK(&mighost::test::shared_cluster() == &mighost::test::shared_cluster());
  CHECK(mighost::test::unique_name(std::string(100, 'x')).size() <= 63);
}

TEST_CASE("find_pg_bindir honours MIGHOST_PG_BINDIR", "[sandbox]") {
  std::string found = mighost::sandbox::find_pg_bindir();
  CHECK(fs::exists(found + "/initdb"));
  ::setenv("MIGHOST_PG_BINDIR", "/nonexistent/bin", 1);
  CHECK_THROWS_WITH(mighost::sandbox::find_pg_bindir(), Catch::Contains("/nonexistent/bin"));
  ::setenv("MIGHOST_PG_BINDIR", found.c_str(), 1);
  CHECK(mighost::sandbox::find_pg_bindir() == found);
  ::unsetenv("MIGHOST_PG_BINDIR");
}
