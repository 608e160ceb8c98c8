// The lint observer (pg/lint_observer.hpp) and the lint's process-wide settings.
#include "pg/lint_observer.hpp"

#include "pg/connection.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

namespace mighost::pg::lint {

namespace {

/// Resolves a table by name the way the statement will: through search_path when unqualified.
/// Plain name comparisons, so no input can make the lookup itself fail (and abort a transaction).
constexpr const char* k_table_match =
  " JOIN pg_namespace n ON n.oid = c.relnamespace"
  " WHERE c.relname = $2::text AND c.relkind IN ('r', 'p', 'm')"
  "   AND CASE WHEN $1::text = '' THEN pg_table_is_visible(c.oid) ELSE n.nspname = $1::text END";

/// Partitioned tables count with all their partitions. pg_relation_size() locks the table
/// (ACCESS SHARE), so inside a transaction ($3) the size comes from pg_class.relpages instead: a
/// lookup must never wait for, or time out on, a lock the script's own statement would meet.
const std::string k_size_sql =
  std::string("SELECT sum(greatest(p.reltuples, 0))::float8, bool_and(p.reltuples < 0),"
              "       sum(CASE WHEN $3::bool THEN p.relpages * current_setting('block_size')::int8"
              "                ELSE pg_relation_size(p.oid) END)::int8, c.oid::int8"
              "  FROM pg_class c LEFT JOIN LATERAL pg_partition_tree(c.oid) t ON true"
              "  JOIN pg_class p ON p.oid = coalesce(t.relid, c.oid) AND p.relkind <> 'p'") +
  k_table_match + " GROUP BY c.oid LIMIT 1";

const std::string k_not_null_sql =
  std::string("SELECT a.attnotnull OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid"
              "   AND k.contype = 'c' AND k.convalidated"
              "   AND pg_get_constraintdef(k.oid) = 'CHECK ((' || quote_ident(a.attname) || ' IS NOT NULL))')"
              "  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $3::text"
              "   AND NOT a.attisdropped") +
  k_table_match + " LIMIT 1";

const std::string k_type_sql =
  std::string("SELECT format_type(a.atttypid, a.atttypmod)"
              "  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $3::text"
              "   AND NOT a.attisdropped") +
  k_table_match + " LIMIT 1";

} // namespace

catalog observer::session_catalog(connection& c, bool in_tx, bool& saved)
{
  // Inside the script's transaction the lookups run in a savepoint (made before the first one),
  // so that even a failed lookup (a statement timeout, a cancel) leaves the transaction as it was.
  auto lookup = [&c, in_tx, &saved](const std::string& q, const std::vector<param>& p) {
    if (in_tx && !saved) {
      c.exec("SAVEPOINT mighost_lint");
      saved = true;
    }
    return c.exec_params(q, p);
  };
  catalog cat;
  cat.size = [this, lookup, in_tx](const table_ref& t) -> std::optional<table_size> {
    result r = lookup(k_size_sql, {{t.schema}, {t.name}, {in_tx ? "t" : "f"}});
    if (r.rows() == 0) return std::nullopt;
    table_size s;
    s.rows = r.value(0, 1) == "t" ? -1 : std::atof(std::string(r.value(0, 0)).c_str());
    s.bytes = std::atoll(std::string(r.value(0, 2)).c_str());
    s.created = m_created.count(std::atoll(std::string(r.value(0, 3)).c_str())) > 0;
    return s;
  };
  cat.not_null_proven = [lookup](const table_ref& t, const std::string& col) {
    result r = lookup(k_not_null_sql, {{t.schema}, {t.name}, {col}});
    return r.rows() > 0 && r.value(0, 0) == "t";
  };
  cat.column_type = [lookup](const table_ref& t, const std::string& col) -> std::optional<std::string> {
    result r = lookup(k_type_sql, {{t.schema}, {t.name}, {col}});
    if (r.rows() == 0) return std::nullopt;
    return std::string(r.value(0, 0));
  };
  cat.owned_schema = m_owned_schema;
  return cat;
}

void observer::before_statement(connection& c, const std::string& sql, bool multi) noexcept
{
  if (!worth_linting(sql, multi)) return;
  // In a failed transaction every lookup fails too, and the statement will be refused anyway.
  if (c.transaction_status() == PQTRANS_INERROR) return;
  const config_values cfg = config();
  if (!cfg.enabled) return;
  const bool in_tx = c.transaction_status() == PQTRANS_INTRANS;
  bool saved = false;
  try {
    std::vector<warning> found = lint(sql, session_catalog(c, in_tx, saved), cfg.limits);
    if (saved) c.exec("RELEASE SAVEPOINT mighost_lint");
    for (warning& w : found) {
      spdlog::warn("lock-heavy DDL: {}", w.text());
      if (m_warnings.size() >= 100) m_warnings.erase(m_warnings.begin());
      m_warnings.push_back(std::move(w));
    }
  } catch (const std::exception& e) {
    spdlog::debug("lint skipped ({}): {}", e.what(), sql.substr(0, 200));
    try {
      if (saved && c.is_open()) c.exec("ROLLBACK TO SAVEPOINT mighost_lint; RELEASE SAVEPOINT mighost_lint");
    } catch (const std::exception&) {
      // The connection is gone or the savepoint was never made; the statement will say so.
    }
  }
}

int observer::new_tables(connection& c, const std::vector<std::string>& names)
{
  int found = 0;
  for (const std::string& n : names) {
    result r = c.exec_params("SELECT to_regclass($1)::oid::int8", {{n}});
    if (r.rows() == 0 || r.is_null(0, 0)) continue;
    m_created.insert(std::atoll(std::string(r.value(0, 0)).c_str()));
    ++found;
  }
  return found;
}

namespace {

std::atomic<bool> g_enabled{true};
std::atomic<double> g_rows{10000};
std::atomic<long long> g_bytes{10LL << 20};
std::once_flag g_env_once;

void read_env()
{
  std::call_once(g_env_once, [] {
    if (const char* v = std::getenv("MIGHOST_LINT"))
      g_enabled = !(std::string_view(v) == "off" || std::string_view(v) == "0");
    if (const char* v = std::getenv("MIGHOST_LINT_ROWS")) g_rows = std::atof(v);
    if (const char* v = std::getenv("MIGHOST_LINT_BYTES")) g_bytes = std::atoll(v);
  });
}

} // namespace

std::vector<warning> lint(std::string_view sql, const catalog& cat) { return lint(sql, cat, config().limits); }

config_values config()
{
  read_env();
  return {g_enabled.load(), {g_rows.load(), g_bytes.load()}};
}

void set_config(const config_values& c)
{
  read_env();  // so a later first read cannot overwrite what the caller set
  g_enabled = c.enabled;
  g_rows = c.limits.rows;
  g_bytes = c.limits.bytes;
}

} // namespace mighost::pg::lint
