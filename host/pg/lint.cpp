// Run-time lint of lock-heavy DDL (see lint.hpp). A small SQL tokenizer (comments, strings,
// dollar quotes, quoted identifiers) and a handful of token patterns: no SQL grammar, so a
// statement the patterns do not recognise is simply not warned about.
#include "pg/lint.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>

namespace mighost::pg::lint {

namespace {

struct token
{
  enum kind_t { word, ident, string, number, punct } kind;
  std::string text;  ///< word: lower-cased (PostgreSQL folds it); ident: unquoted; punct: the char
  std::size_t begin = 0, end = 0;
};

bool ident_start(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool ident_char(unsigned char c) { return ident_start(c) || std::isdigit(c) || c == '$'; }

/// Index just past the string literal whose opening quote is at i.
std::size_t skip_string(std::string_view s, std::size_t i, bool backslash)
{
  for (++i; i < s.size(); ++i) {
    if (backslash && s[i] == '\\') ++i;
    else if (s[i] == '\'' && i + 1 < s.size() && s[i + 1] == '\'') ++i;
    else if (s[i] == '\'') return i + 1;
  }
  return s.size();
}

/// `$tag$` at i: the tag including both dollars, or "" when this is not a dollar quote ($1).
std::string_view dollar_tag(std::string_view s, std::size_t i)
{
  std::size_t j = i + 1;
  if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) return {};
  while (j < s.size() && ident_char(static_cast<unsigned char>(s[j])) && s[j] != '$') ++j;
  return (j < s.size() && s[j] == '$') ? s.substr(i, j - i + 1) : std::string_view{};
}

std::vector<token> tokenize(std::string_view s)
{
  std::vector<token> out;
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t b = i;
    if (std::isspace(c)) { ++i; continue; }
    if (c == '-' && i + 1 < n && s[i + 1] == '-') {
      while (i < n && s[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {  // block comments nest in PostgreSQL
      int depth = 0;
      do {
        if (s.compare(i, 2, "/*") == 0) { ++depth; i += 2; }
        else if (s.compare(i, 2, "*/") == 0) { --depth; i += 2; }
        else ++i;
      } while (depth > 0 && i < n);
      continue;
    }
    if (c == '\'') {
      i = skip_string(s, i, false);
      out.push_back({token::string, "", b, i});
    } else if ((c == 'e' || c == 'E') && i + 1 < n && s[i + 1] == '\'') {
      i = skip_string(s, i + 1, true);
      out.push_back({token::string, "", b, i});
    } else if (c == '"') {
      std::string v;
      for (++i; i < n; ++i) {
        if (s[i] == '"' && i + 1 < n && s[i + 1] == '"') { v += '"'; ++i; }
        else if (s[i] == '"') { ++i; break; }
        else v += s[i];
      }
      out.push_back({token::ident, std::move(v), b, i});
    } else if (c == '$' && !dollar_tag(s, i).empty()) {
      std::string_view tag = dollar_tag(s, i);
      std::size_t close = s.find(tag, i + tag.size());
      i = close == std::string_view::npos ? n : close + tag.size();
      out.push_back({token::string, "", b, i});
    } else if (ident_start(c)) {
      while (i < n && ident_char(static_cast<unsigned char>(s[i]))) ++i;
      std::string w(s.substr(b, i - b));
      for (char& ch : w) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      out.push_back({token::word, std::move(w), b, i});
    } else if (std::isdigit(c) || c == '$') {
      ++i;
      while (i < n && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      out.push_back({token::number, std::string(s.substr(b, i - b)), b, i});
    } else {
      ++i;
      out.push_back({token::punct, std::string(1, static_cast<char>(c)), b, i});
    }
  }
  return out;
}

using tokens = std::vector<token>;

/// Splits at `sep` outside parentheses (statements at ';', ALTER TABLE actions at ',').
std::vector<tokens> split(const tokens& t, std::size_t from, char sep)
{
  std::vector<tokens> out(1);
  int depth = 0;
  for (std::size_t i = from; i < t.size(); ++i) {
    const token& k = t[i];
    if (k.kind == token::punct && k.text[0] == '(') ++depth;
    if (k.kind == token::punct && k.text[0] == ')') --depth;
    if (depth == 0 && k.kind == token::punct && k.text[0] == sep) out.emplace_back();
    else out.back().push_back(k);
  }
  out.erase(std::remove_if(out.begin(), out.end(), [](const tokens& x) { return x.empty(); }), out.end());
  return out;
}

bool is_word(const tokens& t, std::size_t i, std::string_view w)
{
  return i < t.size() && t[i].kind == token::word && t[i].text == w;
}
bool is_punct(const tokens& t, std::size_t i, char c)
{
  return i < t.size() && t[i].kind == token::punct && t[i].text[0] == c;
}
bool is_name(const tokens& t, std::size_t i)
{
  return i < t.size() && (t[i].kind == token::word || t[i].kind == token::ident);
}
/// Accepts the words in order at i (advancing i) or leaves i alone.
bool accept(const tokens& t, std::size_t& i, std::initializer_list<std::string_view> words)
{
  std::size_t j = i;
  for (auto w : words)
    if (!is_word(t, j++, w)) return false;
  i = j;
  return true;
}
bool contains_seq(const tokens& t, std::initializer_list<std::string_view> words)
{
  for (std::size_t i = 0; i < t.size(); ++i) {
    std::size_t j = i;
    if (accept(t, j, words)) return true;
  }
  return false;
}

/// `name`, `schema.name` or `db.schema.name` at i.
std::optional<table_ref> read_table(const tokens& t, std::size_t& i)
{
  std::vector<std::string> parts;
  while (is_name(t, i)) {
    parts.push_back(t[i++].text);
    if (!is_punct(t, i, '.')) break;
    ++i;
  }
  if (parts.empty()) return std::nullopt;
  if (parts.size() == 1) return table_ref{"", parts[0]};
  return table_ref{parts[parts.size() - 2], parts.back()};
}

std::string quote_if_needed(const std::string& s)
{
  bool plain = !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0]));
  for (char c : s) plain = plain && (std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_');
  if (plain) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string human_bytes(long long b)
{
  const char* units[] = {"bytes", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 10240 && u < 4) { b /= 1024; ++u; }
  return std::to_string(b) + " " + units[u];
}

/// The statement for a message: whitespace collapsed, at most ~200 characters.
std::string excerpt(std::string_view sql, const tokens& t)
{
  std::string out;
  for (char c : sql.substr(t.front().begin, t.back().end - t.front().begin)) {
    bool space = std::isspace(static_cast<unsigned char>(c));
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  return out.size() > 200 ? out.substr(0, 197) + "..." : out;
}

/// Types whose change is binary coercible (no rewrite): text and varchar of growing length.
struct text_type
{
  bool known = false;  ///< text or varchar at all
  bool text = false;
  long limit = -1;     ///< -1 = unbounded
};
text_type parse_text_type(std::string s)
{
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "text" || s == "pg_catalog.text") return {true, true, -1};
  for (std::string_view p : {"charactervarying", "varchar", "pg_catalog.varchar"}) {
    if (s.rfind(p, 0) != 0) continue;
    std::string rest = s.substr(p.size());
    if (rest.empty()) return {true, false, -1};
    if (rest.front() == '(' && rest.back() == ')') return {true, false, std::atol(rest.c_str() + 1)};
  }
  return {};
}

const std::vector<std::string_view> k_volatile = {
  "random", "clock_timestamp", "timeofday", "gen_random_uuid", "uuid_generate_v1",
  "uuid_generate_v1mc", "uuid_generate_v4", "nextval"};
const std::vector<std::string_view> k_serial = {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"};

bool one_of(const std::vector<std::string_view>& list, const std::string& w)
{
  return std::find(list.begin(), list.end(), w) != list.end();
}

class linter
{
public:
  linter(std::string_view sql, const catalog& cat, const thresholds& lim, std::vector<warning>& out)
    : m_sql(sql), m_cat(cat), m_lim(lim), m_out(out) {}

  void statement(const tokens& t)
  {
    m_stmt = excerpt(m_sql, t);
    std::size_t i = 1;
    if (is_word(t, 0, "create")) {
      accept(t, i, {"unique"});
      if (accept(t, i, {"index"})) create_index(t, i);
    } else if (accept(t, i = 0, {"alter", "table"})) {
      accept(t, i, {"if", "exists"});
      accept(t, i, {"only"});
      auto table = read_table(t, i);
      if (!table || internal(*table)) return;
      for (const tokens& action : split(t, i, ',')) alter_action(*table, action);
    }
  }

private:
  /// The host's own schemas, and temporary tables (a session's own: they block no one).
  static bool internal(const table_ref& t)
  {
    return t.schema == "mig_meta" || t.schema.rfind("mig_backup_", 0) == 0 || t.schema == "pg_temp" ||
           t.schema.rfind("pg_temp_", 0) == 0;
  }

  /// Is the table big enough to matter? `why` receives "~N rows, M MB" for the message.
  bool large(const table_ref& t, std::string& why)
  {
    if (!m_cat.size) { why = "size unknown"; return true; }
    std::string key = t.schema + '\0' + t.name;
    auto it = m_sizes.find(key);
    if (it == m_sizes.end()) it = m_sizes.emplace(key, m_cat.size(t)).first;
    if (!it->second || it->second->created) return false;
    const table_size& s = *it->second;
    why = (s.rows >= 0 ? "~" + std::to_string(static_cast<long long>(s.rows)) + " rows, " : "") + human_bytes(s.bytes);
    return (s.rows >= 0 && s.rows > m_lim.rows) || s.bytes > m_lim.bytes;
  }

  void add(const char* rule, const table_ref& t, std::string message, std::string safer)
  {
    m_out.push_back({rule, t.text(), m_stmt, std::move(message), std::move(safer)});
  }

  void create_index(const tokens& t, std::size_t i)
  {
    if (accept(t, i, {"concurrently"})) return;
    while (i < t.size() && !is_word(t, i, "on")) ++i;  // [IF NOT EXISTS] [name]
    ++i;
    accept(t, i, {"only"});
    auto table = read_table(t, i);
    std::string why;
    if (!table || internal(*table) || !large(*table, why)) return;
    add("create_index", *table,
        "CREATE INDEX on " + table->text() + " (" + why + ") blocks every write to the table until the index is built",
        "CREATE INDEX CONCURRENTLY (outside a transaction block)");
  }

  void alter_action(const table_ref& table, const tokens& a)
  {
    std::size_t i = 0;
    std::string why;
    if (accept(a, i, {"add"})) {
      std::string cname;
      if (accept(a, i, {"constraint"}) && is_name(a, i)) cname = a[i++].text + " ";
      if (is_word(a, i, "check") || accept(a, i, {"foreign", "key"}) || is_word(a, i, "foreign")) {
        if (contains_seq(a, {"not", "valid"}) || !large(table, why)) return;
        add("add_constraint", table,
            "ADD CONSTRAINT " + cname + "on " + table.text() + " (" + why +
              ") checks every row while holding a lock that blocks writes",
            "ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in its own transaction");
      } else if (is_word(a, i, "unique") || is_word(a, i, "primary")) {
        if (contains_seq(a, {"using", "index"}) || !large(table, why)) return;
        add("add_unique", table,
            "ADD " + std::string(is_word(a, i, "unique") ? "UNIQUE" : "PRIMARY KEY") + " on " + table.text() + " (" +
              why + ") builds its index under an ACCESS EXCLUSIVE lock",
            "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX");
      } else if (!is_word(a, i, "exclude")) {
        accept(a, i, {"column"});
        accept(a, i, {"if", "not", "exists"});
        add_column(table, a, i);
      }
    } else if (accept(a, i, {"alter"})) {
      accept(a, i, {"column"});
      if (!is_name(a, i)) return;
      std::string col = a[i++].text;
      if (accept(a, i, {"set", "not", "null"})) set_not_null(table, col);
      else if (accept(a, i, {"type"}) || accept(a, i, {"set", "data", "type"})) column_type(table, col, a, i);
    }
  }

  void add_column(const table_ref& table, const tokens& a, std::size_t i)
  {
    if (!is_name(a, i)) return;
    std::string col = a[i++].text;
    std::string why, what;
    if (is_name(a, i) && one_of(k_serial, a[i].text)) what = "a " + a[i].text + " column (nextval() per row)";
    for (std::size_t j = i; j < a.size() && what.empty(); ++j) {
      if (is_word(a, j, "generated") && (contains_seq(a, {"stored"}) || contains_seq(a, {"identity"})))
        what = "a GENERATED column";
      else if (is_word(a, j, "default")) {
        for (std::size_t k = j + 1; k + 1 < a.size() && what.empty(); ++k)
          if (a[k].kind == token::word && is_punct(a, k + 1, '(') && one_of(k_volatile, a[k].text))
            what = "the volatile default " + a[k].text + "()";
      }
    }
    if (what.empty() || !large(table, why)) return;
    add("volatile_default", table,
        "ADD COLUMN " + quote_if_needed(col) + " with " + what + " rewrites " + table.text() + " (" + why +
          ") under an ACCESS EXCLUSIVE lock",
        "ADD COLUMN without it (or with a constant default), backfill in batches, then SET DEFAULT");
  }

  void set_not_null(const table_ref& table, const std::string& col)
  {
    std::string why;
    if ((m_cat.not_null_proven && m_cat.not_null_proven(table, col)) || !large(table, why)) return;
    add("set_not_null", table,
        "SET NOT NULL on " + table.text() + "." + quote_if_needed(col) + " (" + why +
          ") scans the table under an ACCESS EXCLUSIVE lock",
        "ADD CONSTRAINT ... CHECK (" + quote_if_needed(col) +
          " IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT ...; then SET NOT NULL (no scan) and drop the check");
  }

  void column_type(const table_ref& table, const std::string& col, const tokens& a, std::size_t i)
  {
    std::size_t end = i;
    while (end < a.size() && !is_word(a, end, "using") && !is_word(a, end, "collate")) ++end;
    if (end > i && end == a.size() && m_cat.column_type) {  // no USING: maybe binary coercible
      auto old_type = m_cat.column_type(table, col);
      text_type from = old_type ? parse_text_type(*old_type) : text_type{};
      text_type to = parse_text_type(std::string(m_sql.substr(a[i].begin, a[end - 1].end - a[i].begin)));
      if (from.known && to.known && (to.limit < 0 || (!from.text && from.limit >= 0 && to.limit >= from.limit)))
        return;
    }
    std::string why;
    if (!large(table, why)) return;
    add("column_type", table,
        "ALTER COLUMN " + quote_if_needed(col) + " TYPE rewrites " + table.text() + " (" + why +
          ") and its indexes under an ACCESS EXCLUSIVE lock",
        "add a new column, backfill it in batches, then switch readers and drop the old column");
  }

  std::string_view m_sql;
  const catalog& m_cat;
  const thresholds& m_lim;
  std::vector<warning>& m_out;
  std::string m_stmt;
  std::map<std::string, std::optional<table_size>> m_sizes;
};

} // namespace

std::string table_ref::text() const
{
  return schema.empty() ? quote_if_needed(name) : quote_if_needed(schema) + "." + quote_if_needed(name);
}

std::string warning::text() const { return message + "; safer: " + safer + ". Statement: " + statement; }

std::vector<warning> lint(std::string_view sql, const catalog& cat, const thresholds& limits)
{
  std::vector<warning> out;
  linter l(sql, cat, limits, out);
  for (const tokens& stmt : split(tokenize(sql), 0, ';')) l.statement(stmt);
  return out;
}

std::optional<concurrent_target> concurrent_statement(std::string_view sql)
{
  tokens t = tokenize(sql);
  std::size_t i = 0;
  if (accept(t, i, {"drop", "index", "concurrently"})) {
    accept(t, i, {"if", "exists"});
    auto ref = read_table(t, i);
    if (!ref || i != t.size()) return std::nullopt;  // one index only
    return concurrent_target{*ref, true};
  }
  if (!accept(t, i, {"create"})) return std::nullopt;
  accept(t, i, {"unique"});
  if (!accept(t, i, {"index", "concurrently"})) return std::nullopt;
  while (i < t.size() && !is_word(t, i, "on")) ++i;  // [IF NOT EXISTS] [name]
  ++i;
  accept(t, i, {"only"});
  auto ref = read_table(t, i);
  if (!ref) return std::nullopt;
  return concurrent_target{*ref, false};
}

bool worth_linting(std::string_view sql, bool multi) noexcept
{
  std::size_t i = 0;
  for (;;) {  // whitespace and comments before the first word
    while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
    if (sql.compare(i, 2, "--") == 0) i = std::min(sql.find('\n', i), sql.size());
    else if (sql.compare(i, 2, "/*") == 0) return true;  // rare: let the tokenizer decide
    else break;
  }
  auto starts = [&](std::string_view w) {
    if (sql.size() - i < w.size()) return false;
    for (std::size_t k = 0; k < w.size(); ++k)
      if (std::tolower(static_cast<unsigned char>(sql[i + k])) != w[k]) return false;
    return sql.size() - i == w.size() || !ident_char(static_cast<unsigned char>(sql[i + w.size()]));
  };
  if (starts("create") || starts("alter")) return true;
  // Several statements in one simple query: the tokenizer splits them.
  return multi && sql.find(';', i) != std::string_view::npos;
}

} // namespace mighost::pg::lint
