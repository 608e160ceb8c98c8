// Table snapshots into a directory, and their verification.
//
// Compression (--compress zstd|none; Lua compress = "zstd"|"none"): zstd level 1 through
// libzstd's streaming API with one worker thread, or plain COPY text. The default is none: the
// server's COPY TO is the bottleneck on an idle machine, but on a busy host zstd's extra client
// CPU shows up in wall time (figures in tests/bench/README.md, "Backup compression").
#include "backup/backup.hpp"
#include "backup/manifest.hpp"
#include "backup/session.hpp"

#include "mighost_version.hpp"

#include <algorithm>
#include <unistd.h>

namespace mighost::backup {

namespace {

/// A file name fragment that any table name maps to safely (the index keeps names unique).
std::string file_name(std::size_t index, const table_id& t, compression comp)
{
  std::string safe;
  for (char ch : t.schema + "." + t.name) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '.' || ch == '-';
    safe += ok ? ch : '_';
  }
  if (safe.size() > 60) safe.resize(60);
  std::string num = std::to_string(index);
  if (num.size() < 3) num.insert(0, 3 - num.size(), '0');
  return num + "_" + safe + (comp == compression::zstd ? ".copy.zst" : ".copy");
}

/// Streams one table with COPY TO into `path`; returns the manifest entry's data fields.
nlohmann::json copy_table(pg::connection& c, const table_def& d, const std::string& path, compression comp,
                          int level)
{
  file_sink sink(path, comp, level);
  std::string cols = d.copy_column_list(c);
  c.begin_copy_out("COPY " + qualified(c, d.id) + (cols.empty() ? "" : " (" + cols + ")") + " TO STDOUT");
  long long rows = 0;
  std::string_view line;
  try {
    while (c.next_copy_row(line)) {
      sink.write(line);
      ++rows;
    }
  } catch (...) {
    c.drain_copy_out();
    throw;
  }
  sink.finish();
  return {{"rows", rows}, {"bytes", sink.bytes_on_disk()}, {"raw_bytes", sink.bytes_in()},
          {"sha256", sink.digest()}};
}

nlohmann::json manifest_header(pg::connection& c, const snapshot_options& o, bool own_tx)
{
  auto r = c.exec("SELECT pg_catalog.current_setting('server_version'), "
                  "pg_catalog.current_setting('server_version_num'), pg_catalog.current_database()");
  nlohmann::json m = {{"format", "mighost-backup"},
                      {"format_version", 1},
                      {"mighost_version", MIGHOST_VERSION},
                      {"server_version", std::string(r.value(0, 0))},
                      {"server_version_num", std::stoi(std::string(r.value(0, 1)))},
                      {"database", std::string(r.value(0, 2))},
                      {"created_at", utc_now_iso()},
                      {"compression", compression_name(o.comp)},
                      {"snapshot", own_tx ? "repeatable read, read only" : "caller's transaction"},
                      {"copy_format", "text"}};
  if (!o.script.empty()) m["script"] = o.script;
  if (!o.run_id.empty()) m["run_id"] = o.run_id;
  return m;
}

} // namespace

snapshot_job::snapshot_job(pg::connection& c, snapshot_options o) : m_conn(c), m_opts(std::move(o))
{
  if (m_opts.tables.empty() == m_opts.schema.empty())
    throw backup_error(backup_error::kind::failed, "backup: give either tables or a schema");
  m_created = prepare_output_dir(m_opts.dir);  // before the first query: a bad dir changes nothing
  try {
    m_tx = std::make_unique<pg::transaction>(c);
    m_tx->begin(pg::transaction::kind::snapshot);
    std::vector<table_id> ids =
      m_opts.schema.empty() ? resolve_tables(c, m_opts.tables) : schema_tables(c, m_opts.schema);
    qualify_names(*m_tx);
    m_manifest = manifest_header(c, m_opts, m_tx->top_level());
    for (const auto& id : ids) m_defs.push_back(describe_table(c, id));
  } catch (...) {
    m_tx.reset();
    remove_files();
    throw;
  }
}

snapshot_job::~snapshot_job()
{
  if (m_done) return;
  m_tx.reset();  // rolls back (or leaves a lost session be)
  remove_files();
}

void snapshot_job::remove_files() noexcept
{
  for (const auto& f : m_written) remove_quietly(f);
  m_written.clear();
  if (m_created) ::rmdir(m_opts.dir.c_str());
}

nlohmann::json snapshot_job::copy()
{
  auto& tables = m_manifest["tables"] = nlohmann::json::array();
  for (std::size_t i = 0; i < m_defs.size(); ++i) {
    const table_def& d = m_defs[i];
    std::string file = file_name(i + 1, d.id, m_opts.comp);
    m_written.push_back(m_opts.dir + "/" + file);
    nlohmann::json entry = d;
    entry["file"] = file;
    entry.update(copy_table(m_conn, d, m_written.back(), m_opts.comp, m_opts.level));
    tables.push_back(std::move(entry));
  }
  m_tx->commit();
  write_file_atomic(m_opts.dir, "manifest.json", m_manifest.dump(2) + "\n");
  m_done = true;
  return m_manifest;
}

nlohmann::json snapshot(pg::connection& c, const snapshot_options& o)
{
  snapshot_job job(c, o);
  return job.copy();
}

namespace {

std::string join(const std::vector<std::string>& facts, std::string out)
{
  for (std::size_t i = 0; i < facts.size(); ++i) out += (i ? "; " : "") + facts[i];
  return out;
}

/// What is wrong with one table's data file, in one line ("" when it matches its manifest entry).
std::string verify_file(const std::string& dir, const manifest_table& t, compression comp)
{
  const std::string& file = t.file;
  const std::string& sha = t.sha256;
  std::vector<std::string> facts;
  try {
    file_source src(dir + "/" + file, comp);
    long long rows = 0;
    std::string_view chunk;
    while (src.next(chunk)) rows += std::count(chunk.begin(), chunk.end(), '\n');
    std::string digest = src.digest();
    if (digest != sha) facts.push_back("sha256 " + digest + " does not match the manifest's " + sha);
    if (src.bytes_on_disk() != t.bytes)
      facts.push_back(std::to_string(src.bytes_on_disk()) + " bytes, the manifest says " + std::to_string(t.bytes));
    if (rows != t.rows) facts.push_back(std::to_string(rows) + " rows, the manifest says " + std::to_string(t.rows));
  } catch (const backup_error& e) {
    if (e.error_kind() != backup_error::kind::corrupt) return e.what();
    // Damaged compressed data: say whether the bytes still match the manifest's hash.
    facts.push_back(e.what());
    file_source raw(dir + "/" + file, compression::none);
    std::string_view chunk;
    while (raw.next(chunk)) {}
    if (raw.digest() != sha) facts.push_back("sha256 " + raw.digest() + " does not match the manifest's " + sha);
    return join(facts, "");
  } catch (const std::exception& e) {
    return e.what();
  }
  return facts.empty() ? std::string() : join(facts, file + ": ");
}

} // namespace

verify_report verify(const std::string& dir)
{
  verify_report rep;
  auto problem = [&](const std::string& p) {
    rep.ok = false;
    rep.problems.push_back(p);
  };
  manifest m;
  try {
    m = parse_manifest(read_whole_file(dir + "/manifest.json"), "manifest.json");
  } catch (const std::exception& e) {
    problem(e.what());
    return rep;
  }
  for (const auto& t : m.tables) {
    std::string p = verify_file(dir, t, m.comp);
    if (!p.empty()) problem(p);
  }
  return rep;
}

} // namespace mighost::backup
