/// \file Table snapshots: backup → drop → restore, verify, refusals, directory failures.
#include "backup_fixture.hpp"

#include "backup/backup.hpp"

#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace mighost;
using namespace mighost::test::backup_fx;
using backup::backup_error;

namespace {

struct db
{
  std::string url = test::fresh_database("backup");
  pg::connection conn{url};
  db() { conn.exec(k_schema_sql); }
};

backup::snapshot_options options_for(const std::string& dir, std::vector<std::string> tables,
                                     backup::compression comp = backup::compression::zstd)
{
  backup::snapshot_options o;
  o.dir = dir;
  o.tables = std::move(tables);
  o.comp = comp;
  return o;
}

/// Sha-256 of a file computed by another program, not by the code under test.
std::string sha256sum(const std::string& path)
{
  std::string cmd = "sha256sum '" + path + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[65] = {};
  REQUIRE(std::fread(buf, 1, 64, p) == 64);
  ::pclose(p);
  return std::string(buf, 64);
}

unsigned mode_of(const std::string& path)
{
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

} // namespace

TEST_CASE("backup → drop → restore gives identical fingerprints for every type", "[backup]")
{
  auto comp = GENERATE(backup::compression::zstd, backup::compression::none);
  db src;
  scratch tmp;
  std::string dir = tmp.path("snap");
  std::string before_child = fingerprint(src.conn, "every_type"), before_parent = fingerprint(src.conn, "parent");

  auto m = backup::snapshot(src.conn, options_for(dir, {"every_type", "parent"}, comp));
  REQUIRE(m["tables"].size() == 2);
  CHECK(m["tables"][0]["rows"] == 4);
  CHECK(m["tables"][1]["rows"] == 2);
  CHECK(m["server_version_num"].get<int>() >= 150000);
  CHECK_FALSE(m["mighost_version"].get<std::string>().empty());
  CHECK(mode_of(dir) == 0700);
  for (const auto& t : m["tables"]) {
    std::string file = dir + "/" + t["file"].get<std::string>();
    CHECK(mode_of(file) == 0600);
    CHECK(t["sha256"] == sha256sum(file));
  }
  CHECK(mode_of(dir + "/manifest.json") == 0600);
  CHECK(backup::verify(dir).ok);

  SECTION("into the same database after DROP")
  {
    src.conn.exec("DROP TABLE every_type, parent; DROP TYPE mood");
    auto out = backup::restore(src.conn, dir, {});
    CHECK(out["tables"].size() == 2);
    CHECK(fingerprint(src.conn, "every_type") == before_child);
    CHECK(fingerprint(src.conn, "parent") == before_parent);
    // Keys, index, check, foreign key and the generated column came back with the table.
    CHECK(scalar(src.conn, "SELECT count(*) FROM pg_indexes WHERE tablename = 'every_type'") == "2");
    CHECK(scalar(src.conn, "SELECT string_agg(contype::text, '' ORDER BY contype) FROM pg_constraint "
                           "WHERE conrelid = 'every_type'::regclass") == "cfp");
    // Sequences were moved past the restored keys.
    CHECK(scalar(src.conn, "INSERT INTO parent (name) VALUES ('p3') RETURNING id") == "3");
    CHECK(scalar(src.conn, "INSERT INTO every_type DEFAULT VALUES RETURNING id") == "5");
    CHECK_THROWS(src.conn.exec("INSERT INTO every_type (big) VALUES (0)"));  // the CHECK
    CHECK_THROWS(src.conn.exec("INSERT INTO every_type (parent_id) VALUES (99)"));  // the FK
    CHECK(scalar(src.conn, "SELECT doubled FROM every_type WHERE big = -1") == "-2");
  }
  SECTION("into another, empty database")
  {
    pg::connection other(test::fresh_database("backup_other"));
    auto out = backup::restore(other, dir, {});
    CHECK(out["tables"][0]["created"] == true);
    CHECK(fingerprint(other, "every_type") == before_child);
    CHECK(fingerprint(other, "parent") == before_parent);
    CHECK(scalar(other, "SELECT enum_range(NULL::mood)::text") == "{sad,ok,happy}");
  }
}

TEST_CASE("backup verify catches one flipped byte in a data file", "[backup]")
{
  auto comp = GENERATE(backup::compression::zstd, backup::compression::none);
  db src;
  scratch tmp;
  std::string dir = tmp.path("snap");
  auto m = backup::snapshot(src.conn, options_for(dir, {"parent", "every_type"}, comp));
  REQUIRE(backup::verify(dir).ok);
  std::string file = m["tables"][1]["file"];
  {
    std::fstream f(dir + "/" + file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    auto middle = static_cast<std::streamoff>(f.tellg()) / 2;
    f.seekg(middle);
    char ch = 0;
    f.read(&ch, 1);
    f.seekp(middle);
    ch = static_cast<char>(ch ^ 0x01);
    f.write(&ch, 1);
  }
  auto rep = backup::verify(dir);
  REQUIRE_FALSE(rep.ok);
  REQUIRE_FALSE(rep.problems.empty());
  CHECK_THAT(rep.problems[0], Catch::Contains(file));

  // A restore of the damaged file rolls back: the target stays as it was.
  pg::connection other(test::fresh_database("backup_corrupt"));
  try {
    backup::restore(other, dir, {});
    FAIL("restore accepted a damaged file");
  } catch (const backup_error& e) {
    CHECK(e.error_kind() == backup_error::kind::corrupt);
  }
  CHECK(scalar(other, "SELECT to_regclass('public.every_type') IS NULL") == "t");
  CHECK(scalar(other, "SELECT to_regclass('public.parent') IS NULL") == "t");  // loaded first, rolled back
}

TEST_CASE("restore refuses a non-empty table and changes nothing", "[backup]")
{
  db src;
  scratch tmp;
  std::string dir = tmp.path("snap");
  backup::snapshot(src.conn, options_for(dir, {"parent", "every_type"}));
  std::string parent_src = fingerprint(src.conn, "parent"), child_src = fingerprint(src.conn, "every_type");

  // Target: parent exists with other rows; every_type is missing (would be created).
  pg::connection target(test::fresh_database("backup_refuse"));
  target.exec("CREATE TABLE parent (id bigserial PRIMARY KEY, name text UNIQUE); "
              "INSERT INTO parent (name) VALUES ('someone else')");
  std::string parent_before = fingerprint(target, "parent");
  try {
    backup::restore(target, dir, {});
    FAIL("restore wrote into a non-empty table");
  } catch (const backup_error& e) {
    CHECK(e.error_kind() == backup_error::kind::refused);
    CHECK_THAT(e.what(), Catch::Contains("public.parent"));
  }
  CHECK(fingerprint(target, "parent") == parent_before);
  CHECK(scalar(target, "SELECT to_regclass('public.every_type') IS NULL") == "t");
  CHECK(target.tx_depth() == 0);

  backup::restore_options o;
  o.truncate = true;
  auto out = backup::restore(target, dir, o);
  CHECK(fingerprint(target, "parent") == parent_src);
  CHECK(fingerprint(target, "every_type") == child_src);
}

TEST_CASE("a backup into a directory that cannot be written fails before touching the database", "[backup]")
{
  db src;
  scratch tmp;
  {
    std::ofstream(tmp.path("plain_file")) << "not a directory";
  }
  // Root ignores permission bits; these fail for root too.
  std::string kind = GENERATE(as<std::string>{}, "under a file", "in /proc");
  std::string dir = kind == "in /proc" ? "/proc/mighost-backup" : tmp.path("plain_file/sub");
  // Kill the session: a backup that touched the database first would report a connection error.
  pg::connection admin(src.url);
  admin.exec_params("SELECT pg_terminate_backend($1::int)", {{std::to_string(src.conn.backend_pid())}});
  try {
    backup::snapshot(src.conn, options_for(dir, {"every_type"}));
    FAIL("backup into " + dir + " succeeded");
  } catch (const backup_error& e) {
    CHECK_THAT(e.what(), Catch::Contains(dir));
  }
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("a backup that runs out of space leaves nothing behind", "[backup]")
{
  db src;
  src.conn.exec("INSERT INTO parent (name) SELECT md5(g::text) || repeat('x', 200) FROM generate_series(1, 20000) g");
  scratch tmp;
  std::string dir = tmp.path("snap");
  // A 512 kB file size limit stands in for a full disk (write fails with EFBIG, not SIGXFSZ).
  rlimit old{};
  ::getrlimit(RLIMIT_FSIZE, &old);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 512 * 1024;
  ::setrlimit(RLIMIT_FSIZE, &small);
  bool threw = false;
  std::string message;
  try {
    backup::snapshot(src.conn, options_for(dir, {"parent"}, backup::compression::none));
  } catch (const backup_error& e) {
    threw = true;
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  REQUIRE(threw);
  CHECK_THAT(message, Catch::Contains("cannot write"));
  CHECK_FALSE(fs::exists(dir));
  CHECK(src.conn.tx_depth() == 0);
  CHECK(scalar(src.conn, "SELECT 1") == "1");  // the session is usable afterwards
}

TEST_CASE("a backup whose probe write fails (disk full at once) leaves no new directory", "[backup]")
{
  db src;
  scratch tmp;
  std::string dir = tmp.path("new/snap");  // two levels created; the probe (64 kB) cannot be written
  rlimit old{};
  ::getrlimit(RLIMIT_FSIZE, &old);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 16 * 1024;
  ::setrlimit(RLIMIT_FSIZE, &small);
  std::string message = "(no error)";
  try {
    backup::snapshot(src.conn, options_for(dir, {"parent"}, backup::compression::none));
  } catch (const backup_error& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  CHECK_THAT(message, Catch::Contains("cannot write " + dir + "/.mighost-probe-") && Catch::Contains("File too large"));
  CHECK_FALSE(fs::exists(dir));
  CHECK(fs::is_empty(tmp.path("new")));  // the leaf is removed; the parent mkdir made stays, empty
}

TEST_CASE("a table named like an injection is handled as a name", "[backup]")
{
  db src;
  std::string weird = "x\"; DROP TABLE y; --";
  src.conn.exec("CREATE TABLE y (v int); INSERT INTO y VALUES (1);"
                "CREATE TABLE \"x\"\"; DROP TABLE y; --\" (\"a\"\"b\" text PRIMARY KEY, \"c d\" int);"
                "INSERT INTO \"x\"\"; DROP TABLE y; --\" VALUES ('one', 1), ('two', NULL)");
  std::string q = src.conn.quote_ident(weird);
  std::string before = fingerprint(src.conn, q);
  scratch tmp;
  std::string dir = tmp.path("snap");
  auto m = backup::snapshot(src.conn, options_for(dir, {weird}));
  CHECK(m["tables"][0]["name"] == weird);
  CHECK(backup::verify(dir).ok);
  src.conn.exec("DROP TABLE " + q);
  backup::restore(src.conn, dir, {});
  CHECK(fingerprint(src.conn, q) == before);
  CHECK(scalar(src.conn, "SELECT count(*) FROM y") == "1");
}

TEST_CASE("backup refuses a directory that already holds a backup", "[backup]")
{
  db src;
  scratch tmp;
  std::string dir = tmp.path("snap");
  backup::snapshot(src.conn, options_for(dir, {"parent"}));
  std::string manifest = slurp(dir + "/manifest.json");
  try {
    backup::snapshot(src.conn, options_for(dir, {"parent"}));
    FAIL("second backup into the same directory");
  } catch (const backup_error& e) {
    CHECK(e.error_kind() == backup_error::kind::refused);
  }
  CHECK(slurp(dir + "/manifest.json") == manifest);
}

TEST_CASE("restore of a child without its parent says which table is missing", "[backup]")
{
  db src;
  scratch tmp;
  std::string dir = tmp.path("snap");
  backup::snapshot(src.conn, options_for(dir, {"parent", "every_type"}));
  pg::connection other(test::fresh_database("backup_orphan"));
  backup::restore_options o;
  o.tables = {"every_type"};
  try {
    backup::restore(other, dir, o);
    FAIL("restored a child whose parent table is missing");
  } catch (const backup_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("public.parent"));
  }
  CHECK(scalar(other, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace") == "0");
  CHECK(scalar(other, "SELECT count(*) FROM pg_type WHERE typname = 'mood'") == "0");
}
