// Verification of a JSON export by reading it back (json_export.cpp describes the format): the
// file is read in blocks through a small state machine — never mapped or parsed whole — so memory
// stays flat whatever the tables' sizes.
#include "backup/backup.hpp"

namespace mighost::backup {

namespace {

/// Walks the JSON text block by block: counts the elements of each array that is a member of the
/// top-level object, and keeps the raw text of the "_meta" member.
class json_walker
{
public:
  void feed(std::string_view block)
  {
    for (std::size_t i = 0; i < block.size() && m_error.empty(); ++i) step(block[i]);
  }
  /// The problem with the text as a whole, or "" (call after the last block).
  std::string finish() const
  {
    if (!m_error.empty()) return m_error;
    if (!m_seen_root || !m_stack.empty()) return "the file ends before its top-level object does";
    return "";
  }
  const nlohmann::json& counts() const noexcept { return m_counts; }
  const std::string& meta_text() const noexcept { return m_meta; }

private:
  void step(char ch)
  {
    ++m_offset;
    if (capturing()) m_meta += ch;
    if (m_in_string) {
      if (m_escape) m_escape = false;
      else if (ch == '\\') m_escape = true;
      else if (ch == '"') m_in_string = false;
      else if (m_in_key) m_key += ch;
      if (!m_in_string && m_in_key) m_in_key = false;
      return;
    }
    if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') return;
    if (m_stack.empty()) {
      if (m_seen_root || ch != '{') return fail("expected one JSON object");
      m_seen_root = true;
      m_stack.push_back('{');
      m_expect_key = true;
      return;
    }
    if (m_stack.size() == 1 && m_expect_key) {  // a member name of the top-level object
      if (ch == '}') return close('}');
      if (ch != '"') return fail("expected a member name");
      m_key.clear();
      m_in_string = m_in_key = true;
      m_expect_key = false;
      return;
    }
    if (m_stack.size() == 2 && m_stack[1] == '[' && m_expect_element && ch != ']') {
      m_counts[m_member] = m_counts.value(m_member, 0LL) + 1;
      m_expect_element = false;
    }
    switch (ch) {
      case '"': m_in_string = true; break;
      case ':':
        if (m_stack.size() == 1) {
          m_member = m_key;
          if (m_member == "_meta") m_meta.clear(), m_capture = true;
        }
        break;
      case ',':
        if (m_stack.size() == 1) m_expect_key = true;
        else if (m_stack.size() == 2 && m_stack[1] == '[') m_expect_element = true;
        break;
      case '{': case '[':
        m_stack.push_back(ch);
        if (m_stack.size() == 2 && ch == '[') {
          m_counts[m_member] = m_counts.value(m_member, 0LL);
          m_expect_element = true;
        }
        if (m_stack.size() == 2 && capturing() && m_meta.empty()) m_meta += ch;
        break;
      case '}': case ']': close(ch); break;
      default: break;  // numbers, true, false, null
    }
  }
  void close(char ch)
  {
    char open = ch == '}' ? '{' : '[';
    if (m_stack.empty() || m_stack.back() != open) return fail("unbalanced brackets");
    m_stack.pop_back();
    if (m_stack.size() == 1) m_capture = false;
  }
  bool capturing() const noexcept { return m_capture && m_stack.size() >= 2; }
  void fail(const std::string& what) { m_error = what + " at byte " + std::to_string(m_offset); }

  std::vector<char> m_stack;
  bool m_in_string = false, m_escape = false, m_in_key = false, m_expect_key = false;
  bool m_expect_element = false, m_seen_root = false, m_capture = false;
  std::string m_key, m_member, m_meta, m_error;
  std::uint64_t m_offset = 0;
  nlohmann::json m_counts = nlohmann::json::object();
};

} // namespace

json_verify_report verify_json(const std::string& path, const std::string& expected_sha256,
                               const nlohmann::json& expected_counts)
{
  json_verify_report rep;
  auto problem = [&](const std::string& p) {
    rep.ok = false;
    rep.problems.push_back(path + ": " + p);
  };
  json_walker walker;
  try {
    file_source in(path, compression::none);
    std::string_view chunk;
    while (in.next(chunk)) walker.feed(chunk);
    rep.sha256 = in.digest();
    rep.bytes = in.bytes_on_disk();
  } catch (const std::exception& e) {
    problem(e.what());
    return rep;
  }
  if (auto err = walker.finish(); !err.empty()) problem(err);
  rep.row_counts = walker.counts();
  if (!expected_sha256.empty() && rep.sha256 != expected_sha256)
    problem("sha256 " + rep.sha256 + " differs from the one written (" + expected_sha256 + ")");
  nlohmann::json meta_counts;
  try {
    if (!walker.meta_text().empty()) meta_counts = nlohmann::json::parse(walker.meta_text()).value("row_counts", nlohmann::json());
  } catch (const nlohmann::json::exception& e) {
    problem(std::string("bad _meta: ") + e.what());
  }
  if (!meta_counts.is_object()) problem("no _meta.row_counts");
  const nlohmann::json* wanted[] = {&meta_counts, &expected_counts};
  for (const nlohmann::json* want : wanted) {
    if (!want->is_object()) continue;
    for (auto it = want->begin(); it != want->end(); ++it) {
      long long got = rep.row_counts.value(it.key(), -1LL);
      if (got < 0) problem("no rows array for \"" + it.key() + "\"");
      else if (!it->is_number_integer() || got != it->get<long long>())
        problem("\"" + it.key() + "\" holds " + std::to_string(got) + " rows, " +
                (want == &meta_counts ? "_meta says " : "the export counted ") + it->dump());
    }
  }
  for (auto it = rep.row_counts.begin(); it != rep.row_counts.end(); ++it)
    if (meta_counts.is_object() && !meta_counts.contains(it.key())) problem("\"" + it.key() + "\" is not in _meta.row_counts");
  return rep;
}

} // namespace mighost::backup
