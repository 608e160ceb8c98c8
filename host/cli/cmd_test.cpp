// `mighost test SCRIPT --fixture F.sql`: replays a migration on a throwaway database and proves
// it correct, idempotent and harmless in dry-run mode — one PASS/FAIL line per step.
#include "cli/command.hpp"
#include "cli/fingerprint.hpp"
#include "cli/junit.hpp"

#include "pg/conninfo.hpp"
#include "sandbox/process.hpp"
#include "sandbox/sandbox.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <sstream>

namespace mighost::cli {

namespace {

/// Runs `mighost <args>` (this very binary) and returns what it did.
sandbox::process_result self(const std::vector<std::string>& args)
{
  std::vector<std::string> argv{"/proc/self/exe"};
  argv.insert(argv.end(), args.begin(), args.end());
  sandbox::run_options ro;
  ro.max_capture = 8 << 20;
  return sandbox::run_process(argv, ro);
}

/// The JSON of the last `RESULT {...}` line, or null.
nlohmann::json result_line(const std::string& out)
{
  auto pos = out.rfind("RESULT {");
  if (pos == std::string::npos) return nullptr;
  auto end = out.find('\n', pos);
  return nlohmann::json::parse(out.substr(pos + 7, end == std::string::npos ? end : end - pos - 7), nullptr, false);
}

std::string why(const sandbox::process_result& r)
{
  return r.status_text() + "\n" + sandbox::tail_lines(r.err + "\n" + r.out, 25);
}

class test_command : public command
{
public:
  const char* name() const override { return "test"; }
  const char* summary() const override
  {
    return "replay a script on fixtures in a sandbox: run, checks, idempotent re-run, harmless dry run";
  }

  void setup(CLI::App& sub, global_options& global) override
  {
    sub.add_option("script", m_script, "the migration script")->required()->check(CLI::ExistingFile);
    sub.add_option("--fixture", m_fixtures, "SQL file loaded first (repeatable, in order)")
      ->required()->check(CLI::ExistingFile)->allow_extra_args(false);
    sub.add_option("--check", m_checks, "SQL file of queries that each return a violation count (0 = pass)")
      ->check(CLI::ExistingFile)->allow_extra_args(false);
    sub.add_option("--junit", m_junit, "write the steps as JUnit XML here");
    sub.add_flag("--keep-sandbox", m_keep, "leave the sandbox's data directory (debugging)");
    add_log_options(sub, global);
    sub.footer("Arguments after `--` are passed to every run of the script.\n"
               "Exit: 0 all steps passed, 3 a step failed, 1 the sandbox could not be set up.");
  }

  int run(CLI::App&, global_options& global) override
  {
    m_args = global.passthrough;
    sandbox::options so;
    so.keep = m_keep;
    sandbox::cluster box(so);
    box.create_database("replay");
    for (const std::string& f : m_fixtures) box.load_fixture(f, "replay");
    box.create_database("replay_dry", "replay");  // a fresh copy for the dry run
    std::string db = box.url_for("replay"), dry = box.url_for("replay_dry");

    step("run", [&] { return first_run(db); });
    step("verify", [&] { return verify(db); });
    for (const std::string& f : m_checks) step("check " + f, [&] { return check_file(box, db, f); });
    step("rerun writes nothing", [&] { return rerun(db); });
    step("dry run changes nothing", [&] { return dry_run(dry); });

    int failed = m_report.failures();
    std::printf("test: %d passed, %d failed\n", m_report.size() - failed, failed);
    if (!m_junit.empty()) m_report.write(m_junit, "mighost test " + m_script);
    return failed ? exit_code::validation_failed : exit_code::ok;
  }

private:
  /// Runs one step, prints its line, records it; "" from fn means pass, else the failure text.
  template <class F>
  void step(const std::string& name, F fn)
  {
    auto t0 = std::chrono::steady_clock::now();
    std::string failure;
    try {
      failure = fn();
    } catch (const std::exception& e) {
      failure = pg::mask_password(e.what());
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s %s (%.1fs)\n", failure.empty() ? "PASS" : "FAIL", name.c_str(), secs);
    if (!failure.empty()) std::printf("  %s\n", failure.c_str());
    std::fflush(stdout);
    m_report.add(name, secs, failure);
  }

  std::vector<std::string> run_args(const std::string& db, std::vector<std::string> extra = {}) const
  {
    std::vector<std::string> a{"run", m_script, "--db", db, "--throwaway-db"};
    a.insert(a.end(), extra.begin(), extra.end());
    a.insert(a.end(), m_args.begin(), m_args.end());
    return a;
  }

  std::string first_run(const std::string& db)
  {
    auto r = self(run_args(db));
    if (!r.ok()) return "the script failed: " + why(r);
    std::istringstream lines(r.out);
    std::string line, failed;
    for (std::string l; std::getline(lines, l);)
      if (l.rfind("CHECK ", 0) == 0 && l.find(" FAIL ") != std::string::npos) failed += "\n" + l;
    return failed.empty() ? "" : "checks failed:" + failed;
  }

  std::string verify(const std::string& db)
  {
    auto r = self({"verify", m_script, "--db", db});
    return r.ok() ? "" : "mighost verify: " + why(r);
  }

  std::string check_file(sandbox::cluster& box, const std::string& db, const std::string& file)
  {
    (void)box;
    auto r = sandbox::run_process({sandbox::find_pg_bindir() + "/psql", "-X", "-q", "-At", "-v",
                                   "ON_ERROR_STOP=1", "-d", db, "-f", file});
    if (!r.ok()) return "psql: " + why(r);
    std::istringstream lines(r.out);
    std::string bad;
    int n = 0;
    for (std::string l; std::getline(lines, l);) {
      if (l.empty()) continue;
      ++n;
      if (l != "0") bad += "\n  query " + std::to_string(n) + ": " + l + " violation(s)";
    }
    if (n == 0) return "no query in " + file + " returned a row";
    return bad.empty() ? "" : "violations:" + bad;
  }

  std::string rerun(const std::string& db)
  {
    pg::connection conn(db);
    auto before = table_fingerprints(conn);
    auto r = self(run_args(db));
    if (!r.ok()) return "the second run failed: " + why(r);
    auto after = table_fingerprints(conn);
    // The contract lets a repeated run append to these two and nothing else.
    auto diff = fingerprint_diff(before, after, {"mig_meta.runs", "mig_meta.checks"});
    nlohmann::json res = result_line(r.out);
    if (res.is_object() && res.contains("counts"))
      for (auto& [set, c] : res["counts"].items())
        if (c.is_object() && c.value("written", 0) != 0)
          diff.push_back("counts." + set + ".written = " + c["written"].dump());
    std::string out;
    for (const std::string& d : diff) out += "\n  " + d;
    return out.empty() ? "" : "the second run changed data:" + out;
  }

  std::string dry_run(const std::string& db)
  {
    pg::connection conn(db);
    auto before = table_fingerprints(conn);
    auto r = self(run_args(db, {"--dry-run"}));
    if (!r.ok()) return "the dry run failed: " + why(r);
    auto diff = fingerprint_diff(before, table_fingerprints(conn));
    std::string out;
    for (const std::string& d : diff) out += "\n  " + d;
    return out.empty() ? "" : "the dry run changed the database:" + out;
  }

  std::string m_script, m_junit;
  std::vector<std::string> m_fixtures, m_checks, m_args;
  bool m_keep = false;
  junit_report m_report;
};

registrar<test_command> reg;

} // namespace
} // namespace mighost::cli
