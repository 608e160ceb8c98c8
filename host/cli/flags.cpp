#include "cli/flags.hpp"

#include "cli/command.hpp"

#include <algorithm>

namespace mighost::cli {

namespace {

/// Levenshtein distance (names are short: the full table is cheap).
std::size_t edit_distance(const std::string& a, const std::string& b)
{
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// The option of `sub` that `flag` (e.g. "--db" or "-h", without "=value") names, or nullptr.
const CLI::Option* find_flag(const CLI::App& sub, const std::string& flag)
{
  for (const CLI::Option* opt : sub.get_options()) {
    const auto& names = flag.rfind("--", 0) == 0 ? opt->get_lnames() : opt->get_snames();
    std::string bare = flag.substr(flag.rfind("--", 0) == 0 ? 2 : 1);
    if (std::find(names.begin(), names.end(), bare) != names.end()) return opt;
  }
  return nullptr;
}

} // namespace

std::string closest_flag(const CLI::App& sub, const std::string& flag)
{
  std::size_t start = flag.find_first_not_of('-');
  std::string bare = start == std::string::npos ? "" : flag.substr(start);
  std::string best;
  std::size_t best_d = 0;
  for (const CLI::Option* opt : sub.get_options()) {
    for (const std::string& name : opt->get_lnames()) {
      std::size_t d = edit_distance(bare, name);
      std::size_t allowed = std::min(bare.size(), name.size()) <= 4 ? 1 : 2;
      if (d == 0 || d > allowed || (!best.empty() && d >= best_d)) continue;
      best = "--" + name;
      best_d = d;
    }
  }
  return best;
}

void check_host_flags(const CLI::App& sub, const std::vector<std::string>& args)
{
  bool after_positional = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a[0] != '-') {
      after_positional = true;
      continue;
    }
    std::string flag = a.substr(0, a.find('='));
    if (const CLI::Option* opt = find_flag(sub, flag)) {
      if (a.find('=') == std::string::npos && opt->get_items_expected_min() > 0) ++i;  // its value
      continue;
    }
    std::string hint = closest_flag(sub, flag);
    if (!hint.empty())
      throw usage_error{flag + ": unknown option; did you mean " + hint + "? (to pass it to the script, put it after `--`)"};
    if (!after_positional)
      throw usage_error{flag + ": unknown option of mighost " + sub.get_name() +
                        " (the script's own options go after the script)"};
  }
}

} // namespace mighost::cli
