// `mighost new NAME [--dir DIR]`: the files a new migration starts from — NAME.lua (a declaration
// with every section, commented), a fixture, a check file, the test command, and a .luarc.json
// that points lua-language-server at the API's annotations. The migration passes `mighost test`
// as written, so an author starts from something green and changes one rule at a time.
#include "cli/command.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

namespace mighost::cli {

namespace {

namespace fs = std::filesystem;

const char* k_migration = R"lua(-- @NAME@: copies @NAME@_legacy into a new table @NAME@ (replace this line by what it does).
--
--   mighost run @NAME@.lua --sandbox --fixture @NAME@_fixture.sql --dry-run   # try it, changes nothing
--   sh @NAME@_test.sh                                  # mighost test: run, checks, re-run, dry run
--   mighost run @NAME@.lua --db "$DATABASE_URL"        # apply (--help: every option)
--   mighost rollback @NAME@.lua --db "$DATABASE_URL"   # undo
--
-- Every key is described in the Lua API (stdlib/README.md; installed as
-- /usr/share/doc/mighost/lua-api.md) and docs/tutorial.md. A misspelled key is an error naming
-- its line. The sections left commented out are optional.
local migration = require "mighost.migration"

return migration.define {
  -- The lock (mighost:@NAME@), the ledger rows in mig_meta and the snapshot schema
  -- mig_backup_@NAME@ are named after it.
  name = "@NAME@",
  description = "@NAME@_legacy -> @NAME@",   -- shown by --help

  -- The script's own options, besides --dry-run, --batch-size, --limit, --report, --backup-dir,
  -- --stop-file, --lock-timeout, --statement-timeout, --workers and --strict.
  options = {
    batch_size = {default = 1000},           -- a common option's default, changed
    -- skip_notes = {type = "bool", help = "leave the notes out"},   -- ctx.options.skip_notes
  },

  -- Two databases instead of --db: --source-db / --target-db, ctx.source / ctx.target.
  -- connections = {{name = "source", env = "LEGACY_DATABASE_URL", snapshot = true},
  --                {name = "target", env = "DATABASE_URL"}},

  -- Copied once into mig_backup_@NAME@.<table> before any change: the rollback's reference. With
  -- --backup-dir DIR the run also writes a file backup first (mighost restore reads it).
  backup = {"@NAME@_legacy"},

  -- The run is refused (exit 2, nothing changed) unless each holds (`expected` defaults to true).
  preconditions = {
    {name = "tables_present",
     sql = [[SELECT to_regclass('@NAME@_legacy') IS NOT NULL AND to_regclass('@NAME@_customers') IS NOT NULL]]},
  },

  -- The new table as you would write it. The framework creates it with its key and CHECK before
  -- the rows and adds the other indexes and the foreign keys once the rows are in.
  target_ddl = [[
CREATE TABLE "@NAME@" (
  id          bigint PRIMARY KEY,
  customer_id integer,
  amount      numeric(12,2) NOT NULL CHECK (amount >= 0),
  note        text);
CREATE INDEX "@NAME@_customer_id_idx" ON "@NAME@" (customer_id);
ALTER TABLE "@NAME@" ADD CONSTRAINT "@NAME@_customer_id_fkey" FOREIGN KEY (customer_id)
  REFERENCES "@NAME@_customers" (id);]],

  -- prepare = function(ctx) ctx.shared.x = ctx.db:scalar("SELECT …") end,   -- read-only lookups
  -- setup = function(ctx) ctx.db:exec("ALTER TABLE … ADD COLUMN IF NOT EXISTS …") end,   -- idempotent DDL

  phases = {
    { name = "@NAME@_legacy",                -- the source set: its counts, rejects and PROGRESS lines
      source = "@NAME@_legacy", key = "id",  -- a table or a query, and its key
      target = {table = "@NAME@", key = "id"},
      -- target column = SQL over the source row `s`
      map = {
        id = "s.id",
        customer_id = "s.customer_id",
        amount = "s.amount",
        note = "NULLIF(btrim(s.note), '')",
      },
      -- Rows that are not migrated, each kept with its reason in mig_meta.rejects; the first rule
      -- that holds wins.
      rejects = {
        {"missing_amount", "s.amount IS NULL"},
        {"negative_amount", "s.amount < 0", detail = "'amount ' || s.amount"},
      },
      -- A reference to a row that does not exist becomes NULL, logged in mig_meta.fixups.
      references = {
        customer_id = {table = "@NAME@_customers", key = "id", rule = "orphan_customer"},
      },
    },
  },

  -- finalize = function(ctx) … end,   -- complete runs only, in the transaction of the checks

  -- What the declaration cannot imply. Generated already: every source row migrated or rejected,
  -- none both, every value as mapped, every reject's rule, every nulled reference logged.
  checks = {
    {name = "amounts_match", needs = "complete", sql = [[
SELECT (SELECT COALESCE(sum(amount), 0) FROM "@NAME@_legacy" WHERE amount >= 0)
     - (SELECT COALESCE(sum(amount), 0) FROM "@NAME@")]]},
  },

  -- mighost rollback: back to the legacy database, in one transaction.
  rollback = [[
BEGIN;
DROP TABLE "@NAME@";
DELETE FROM mig_meta.rejects WHERE migration = '@NAME@';
DELETE FROM mig_meta.fixups WHERE migration = '@NAME@';
COMMIT;]],
}:main()
)lua";

const char* k_fixture = R"sql(-- @NAME@_fixture.sql: a small legacy database for @NAME@.lua, one row per rule (its comment
-- says which). mighost test and `mighost run --sandbox --fixture` load it into an empty database.
CREATE TABLE "@NAME@_customers" (id integer PRIMARY KEY, name text NOT NULL);
INSERT INTO "@NAME@_customers" VALUES (1, 'Ada'), (2, 'Grace');

CREATE TABLE "@NAME@_legacy" (id bigint PRIMARY KEY, customer_id integer, amount numeric, note text);
INSERT INTO "@NAME@_legacy" VALUES
  (1, 1, 10.50, 'first order'),    -- migrated as it is
  (2, 2, 0.01, '   '),             -- migrated; a blank note becomes NULL
  (3, 99, 7.00, NULL),             -- migrated; customer 99 does not exist: NULL, fixup orphan_customer
  (4, 1, NULL, 'no amount'),       -- rejected: missing_amount
  (5, 2, -3.00, 'refund');         -- rejected: negative_amount
)sql";

const char* k_check = R"sql(-- @NAME@_check.sql: what must hold after @NAME@.lua ran on @NAME@_fixture.sql. mighost test runs
-- each query and passes when every one returns 0 (a count of violations).
-- the three valid rows are migrated
SELECT abs(3 - count(*)) FROM "@NAME@";
-- the two others are rejected, each with its reason
SELECT abs(2 - count(*)) FROM mig_meta.rejects
 WHERE migration = '@NAME@' AND (source_key, reason) IN (('4', 'missing_amount'), ('5', 'negative_amount'));
-- the missing customer is cleared and logged
SELECT count(*) FROM "@NAME@" WHERE customer_id = 99;
SELECT abs(1 - count(*)) FROM mig_meta.fixups WHERE migration = '@NAME@' AND rule = 'orphan_customer';
)sql";

const char* k_test = R"sh(#!/bin/sh
# Replays @NAME@.lua in a throwaway PostgreSQL: loads @NAME@_fixture.sql, runs the migration (its
# checks must pass), verifies, runs @NAME@_check.sql, runs it again (it must change nothing) and
# dry-runs it on a fresh copy (nothing may change). Exit 0 when every step passes, 3 otherwise.
cd "$(dirname "$0")" || exit 1
MIGHOST=${MIGHOST:-mighost}
command -v "$MIGHOST" >/dev/null 2>&1 || MIGHOST=@MIGHOST@
exec "$MIGHOST" test @NAME@.lua --fixture @NAME@_fixture.sql --check @NAME@_check.sql "$@"
)sh";

std::string substitute(std::string text, const std::string& key, const std::string& value)
{
  for (auto pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + value.size()))
    text.replace(pos, key.size(), value);
  return text;
}

std::string shell_quote(const std::string& s)
{
  return "'" + substitute(s, "'", "'\\''") + "'";
}

std::string self_path()
{
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("mighost") : exe.string();
}

/// The lua-language-server annotations: beside the binary when installed (<prefix>/bin/mighost,
/// <prefix>/share/mighost/annotations: an unpacked package works from any root), else the source
/// tree's when this binary was built there, else where `cmake --install` puts them.
std::string annotations_dir()
{
  fs::path beside = fs::path(self_path()).parent_path().parent_path() / "share/mighost/annotations";
  if (fs::is_directory(beside)) return beside.string();
  if (fs::is_directory(MIGHOST_SOURCE_ANNOTATIONS)) return MIGHOST_SOURCE_ANNOTATIONS;
  return MIGHOST_INSTALL_ANNOTATIONS;
}

std::string luarc()
{
  nlohmann::json j = {{"runtime.version", "LuaJIT"},
                      {"workspace.library", {annotations_dir()}},
                      {"workspace.checkThirdParty", false}};
  return j.dump(2) + "\n";
}

struct file_to_write
{
  fs::path path;
  std::string text;
  bool executable = false;
};

class new_command : public command
{
public:
  const char* name() const override { return "new"; }
  const char* summary() const override
  {
    return "write a new migration to start from: NAME.lua, a fixture, a check file, a test command";
  }

  void setup(CLI::App& sub, global_options& global) override
  {
    sub.add_option("name", m_name, "the migration's name (lower case letters, digits, _)")->required();
    sub.add_option("--dir", m_dir, "where to write the files (created if missing; default .)");
    add_log_options(sub, global);
    sub.footer("Writes NAME.lua, NAME_fixture.sql, NAME_check.sql, NAME_test.sh and .luarc.json (kept\n"
               "when one exists). Refuses (exit 2) when any of the NAME files exists.");
  }

  int run(CLI::App&, global_options&) override
  {
    static const std::regex valid("[a-z][a-z0-9_]{0,39}");
    if (!std::regex_match(m_name, valid))
      throw usage_error{"new: NAME '" + m_name + "': use 1 to 40 lower case letters, digits and _, starting with a letter"};
    fs::path dir(m_dir);
    std::vector<file_to_write> files{
      {dir / (m_name + ".lua"), substitute(k_migration, "@NAME@", m_name)},
      {dir / (m_name + "_fixture.sql"), substitute(k_fixture, "@NAME@", m_name)},
      {dir / (m_name + "_check.sql"), substitute(k_check, "@NAME@", m_name)},
      {dir / (m_name + "_test.sh"), substitute(substitute(k_test, "@NAME@", m_name), "@MIGHOST@", shell_quote(self_path())), true},
    };
    for (const auto& f : files) {
      if (fs::exists(fs::symlink_status(f.path))) {
        std::fprintf(stderr, "mighost: new: %s exists; nothing written (choose another NAME or --dir)\n",
                     f.path.c_str());
        return exit_code::refused;
      }
    }
    fs::create_directories(dir);
    fs::path rc = dir / ".luarc.json";
    bool keep_rc = fs::exists(fs::symlink_status(rc));
    if (!keep_rc) files.push_back({rc, luarc()});
    for (const auto& f : files) write(f);
    for (const auto& f : files) std::printf("wrote %s\n", f.path.c_str());
    if (keep_rc) std::printf("kept %s (it exists)\n", rc.c_str());
    std::printf("next: sh %s   # mighost test %s.lua --fixture %s_fixture.sql --check %s_check.sql\n",
                files[3].path.c_str(), m_name.c_str(), m_name.c_str(), m_name.c_str());
    return exit_code::ok;
  }

private:
  static void write(const file_to_write& f)
  {
    std::ofstream out(f.path, std::ios::binary);
    out << f.text;
    out.close();
    if (!out) throw std::runtime_error("new: cannot write " + f.path.string());
    if (f.executable)
      fs::permissions(f.path, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                      fs::perm_options::add);
  }

  std::string m_name;
  std::string m_dir = ".";
};

registrar<new_command> reg;

} // namespace
} // namespace mighost::cli
