#pragma once
/// @file Lossless conversion between PostgreSQL text forms and Lua values (see stdlib/README.md).
#include "pg/connection.hpp"

#include <lua.hpp>

#include <string>
#include <string_view>

namespace mighost::bind {

/// What the converter needs to know of a type.
struct type_info
{
  std::string name;      ///< "int8", "_text", "Status", ...
  char category = 'U';   ///< pg_type.typcategory: 'A' array, 'N' numeric, ...
  Oid element = 0;       ///< element type of an array
};

/// Looks up type facts; the connection binding caches pg_type rows per session.
class type_source
{
public:
  virtual ~type_source() = default;
  virtual const type_info& info(Oid type) = 0;
};

/// Registry keys and one-time setup (db.NULL sentinel, Array metatable, int64 maker).
void init_values(lua_State* L);
/// Pushes db.NULL.
void push_null(lua_State* L);
/// Is the value at idx nil or db.NULL?
bool is_null(lua_State* L, int idx);

/// Pushes the Lua value of one field given in PostgreSQL's text format.
void push_value(lua_State* L, std::string_view text, Oid type, type_source& types);

/// Fills `out` with the text form (raw bytes when `type` is bytea) of the Lua value at idx.
/// `what` names the value in errors ("parameter $2").
void to_text(lua_State* L, int idx, Oid type, pg::param& out, const std::string& what,
             type_source& types);

/// Appends a string, number, boolean or NULL at idx to a COPY text-format line and returns true;
/// false (nothing appended) for values that need append_copy_field (bytea, arrays, cdata, errors).
/// The hot path of copy_in: it cannot fail, so it needs no `what`.
bool append_copy_simple(lua_State* L, int idx, Oid type, std::string& line);

/// Appends the value at idx to a COPY text-format line (escaped; `\N` for NULL).
void append_copy_field(lua_State* L, int idx, Oid type, std::string& line, const std::string& what,
                       type_source& types);

/// Decodes a COPY text-format field (the escapes of COPY ... TO STDOUT) and pushes it: db.NULL
/// for `\N`, raw bytes for bytea, otherwise the exact text.
void push_copy_field(lua_State* L, std::string_view raw, Oid type);

/// PostgreSQL `\x` hex text of bytea → raw bytes (and back).
std::string bytea_from_text(std::string_view text);
std::string bytea_to_hex(std::string_view bytes);

} // namespace mighost::bind
