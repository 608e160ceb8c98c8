// The lint's tokenizer (lint_tokens.hpp) and the statement classifiers of lint.hpp that need no
// rules: table_ref::text, concurrent_statement, worth_linting.
#include "pg/lint_tokens.hpp"

#include <algorithm>
#include <cctype>

namespace mighost::pg::lint {

namespace detail {

namespace {
bool ident_start(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
} // namespace

bool ident_char(unsigned char c) { return ident_start(c) || std::isdigit(c) || c == '$'; }

namespace {

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

} // namespace

tokens tokenize(std::string_view s)
{
  tokens out;
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

} // namespace detail

using namespace detail;

std::string table_ref::text() const
{
  return schema.empty() ? quote_if_needed(name) : quote_if_needed(schema) + "." + quote_if_needed(name);
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
