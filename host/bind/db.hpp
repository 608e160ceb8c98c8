#pragma once
/// @file The `mighost.db` module: binds host/pg to Lua.
#include "bind/lint_hook.hpp"
#include "bind/values.hpp"
#include "pg/connection.hpp"

#include <lua.hpp>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace mighost::bind {

/// Metatable names (one per type, as wrk does).
inline constexpr const char* k_connection_meta = "mighost.db.Connection";
inline constexpr const char* k_error_meta = "mighost.db.Error";
inline constexpr const char* k_writer_meta = "mighost.db.CopyWriter";
inline constexpr const char* k_reader_meta = "mighost.db.CopyReader";

/// The userdata behind a Lua connection: the session plus its type cache.
class lua_connection : public type_source
{
public:
  lua_connection(const std::string& conninfo, const pg::session_options& opts)
    : m_conn(conninfo, opts), m_lint(install_lint(m_conn)) {}
  pg::connection& conn() { return m_conn; }
  /// The lint observing this session (installed at connect).
  pg::lint::observer& lint() { return m_lint; }
  const type_info& info(Oid type) override;
  /// Result column types of a query, without running it (describe of the unnamed statement).
  std::vector<Oid> result_types(const std::string& sql);
  int next_cursor_id() { return ++m_cursors; }

private:
  pg::connection m_conn;
  pg::lint::observer& m_lint;
  std::unordered_map<Oid, type_info> m_types;
  int m_cursors = 0;
};

/// luaopen for `mighost.db`.
int open_db(lua_State* L);

/// What the CLI decides for every connection a state opens through db.connect().
struct connect_defaults
{
  std::string conninfo;         ///< used when db.connect() is given none (the operator's --db)
  pg::session_options session;  ///< applied to every connection, whatever its conninfo
};

/// Sets the state's connect defaults (read by db.connect(); Lua cannot change them).
void set_connect_defaults(lua_State* L, const connect_defaults& defaults);

/// Checks that argument `idx` is an open connection.
lua_connection& check_connection(lua_State* L, int idx);

/// Builds the Lua array of bound parameters from stack slots [first, last].
std::vector<pg::param> collect_params(lua_State* L, int first, int last, lua_connection& c,
                                      const std::string& sql);
/// Same from an array table at idx (nil = none).
std::vector<pg::param> collect_param_table(lua_State* L, int idx, lua_connection& c,
                                           const std::string& sql);

/// Pushes result rows [from, to) as tables keyed by column name, appending to the table at `dest`
/// starting at index `start`; returns the next index.
int append_rows(lua_State* L, const pg::result& r, int dest, int start, lua_connection& c);

/// Pushes the Lua error object for an SQL error.
void push_sql_error(lua_State* L, const pg::sql_error& e);

void register_copy(lua_State* L);  ///< adds copy_in / copy_out to the Connection metatable
void register_pipe(lua_State* L);  ///< adds copy_from (COPY relayed between two sessions)
void register_lint(lua_State* L);  ///< adds lint_warnings / lint_new_tables / track_locks / lock_report
void register_query(lua_State* L); ///< adds query / exec / scalar / each / rows / tx
void register_int64(lua_State* L); ///< adds db.int64 to the module table on top of the stack

} // namespace mighost::bind
