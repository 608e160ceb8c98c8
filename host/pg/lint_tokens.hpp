#pragma once
/// @file The lint's SQL tokenizer and token patterns (comments, strings, dollar quotes, quoted
/// identifiers), shared by the rules (lint.cpp) and the statement classifiers (lint_tokens.cpp).
#include "pg/ident.hpp"
#include "pg/lint.hpp"

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mighost::pg::lint::detail {

struct token
{
  enum kind_t { word, ident, string, number, punct } kind;
  std::string text;  ///< word: lower-cased (PostgreSQL folds it); ident: unquoted; punct: the char
  std::size_t begin = 0, end = 0;
};
using tokens = std::vector<token>;

/// Can `c` continue an unquoted identifier?
bool ident_char(unsigned char c);
tokens tokenize(std::string_view s);
/// Splits at `sep` outside parentheses (statements at ';', ALTER TABLE actions at ',').
std::vector<tokens> split(const tokens& t, std::size_t from, char sep);

bool is_word(const tokens& t, std::size_t i, std::string_view w);
bool is_punct(const tokens& t, std::size_t i, char c);
bool is_name(const tokens& t, std::size_t i);
/// Accepts the words in order at i (advancing i) or leaves i alone.
bool accept(const tokens& t, std::size_t& i, std::initializer_list<std::string_view> words);
bool contains_seq(const tokens& t, std::initializer_list<std::string_view> words);
/// `name`, `schema.name` or `db.schema.name` at i.
std::optional<table_ref> read_table(const tokens& t, std::size_t& i);
using pg::quote_if_needed;

} // namespace mighost::pg::lint::detail
