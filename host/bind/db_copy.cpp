// mighost.db: copy_in (COPY FROM STDIN writer) and copy_out (COPY TO STDOUT iterator).
#include "bind/db.hpp"

#include "lua/barrier.hpp"
#include "lua/types.hpp"

#include <cctype>

namespace mighost::bind {

namespace {

constexpr std::size_t k_flush_bytes = 256 * 1024;

/// State of one COPY; the connection userdata is kept alive in the userdata's environment.
struct copy_state
{
  std::vector<Oid> types;
  std::string buffer;
  long long rows = 0;
  bool open = false;
};

copy_state* check_copy(lua_State* L, int idx, const char* meta)
{
  return static_cast<copy_state*>(luaL_checkudata(L, idx, meta));
}

/// The connection of a copy userdata (stored in its environment table). new_copy put a connection
/// userdata there, so its type needs no check (luaL_checkudata per row is a measurable cost).
lua_connection& copy_connection(lua_State* L, int idx)
{
  lua_getfenv(L, idx);
  lua_rawgeti(L, -1, 1);
  auto** slot = static_cast<lua_connection**>(lua_touserdata(L, -1));
  lua_pop(L, 2);
  if (!slot || !*slot) luaL_error(L, "connection is closed");
  return **slot;
}

std::string quote_name(lua_connection& c, const std::string& name)
{
  if (name.find('"') != std::string::npos) return name;  // the caller quoted it already
  auto dot = name.find('.');
  if (dot == std::string::npos) return c.conn().quote_ident(name);
  return c.conn().quote_ident(name.substr(0, dot)) + "." + c.conn().quote_ident(name.substr(dot + 1));
}

bool looks_like_query(const std::string& s)
{
  std::string word;
  for (char ch : s) {
    if (std::isspace(static_cast<unsigned char>(ch)) || ch == '(') { if (!word.empty()) break; continue; }
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  return word == "SELECT" || word == "WITH" || word == "VALUES" || word == "TABLE";
}

copy_state* new_copy(lua_State* L, const char* meta)
{
  auto* st = static_cast<copy_state*>(lua_newuserdata(L, sizeof(copy_state)));
  new (st) copy_state();
  luaL_getmetatable(L, meta);
  lua_setmetatable(L, -2);
  lua_createtable(L, 1, 0);
  lua_pushvalue(L, 1);  // the connection
  lua_rawseti(L, -2, 1);
  lua_setfenv(L, -2);
  return st;
}

int conn_copy_in(lua_State* L)
{
  lua_connection& c = check_connection(L, 1);
  std::string table = luaL_checkstring(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  std::string cols;
  int ncols = static_cast<int>(lua_objlen(L, 3));
  if (ncols == 0) return luaL_argerror(L, 3, "at least one column");
  for (int i = 1; i <= ncols; ++i) {
    lua_rawgeti(L, 3, i);
    if (lua_type(L, -1) != LUA_TSTRING) return luaL_argerror(L, 3, "column names must be strings");
    cols += (i > 1 ? ", " : "") + quote_name(c, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  copy_state* st = new_copy(L, k_writer_meta);
  return lua::protect(L, [&] {
    std::string target = quote_name(c, table);
    st->types = c.result_types("SELECT " + cols + " FROM " + target);
    c.conn().begin_copy_in("COPY " + target + " (" + cols + ") FROM STDIN");
    st->open = true;
    return 1;
  });
}

void flush(lua_connection& c, copy_state* st)
{
  c.conn().put_copy_data(st->buffer);
  st->buffer.clear();
}

/// Cuts the buffer back to where a row began unless the row was completed: a value that cannot
/// be bound (the script may pcall and write on) must not leave half a line in the COPY stream.
class row_undo
{
public:
  explicit row_undo(std::string& buffer) : m_buffer(buffer), m_start(buffer.size()) {}
  ~row_undo() { if (!m_done) m_buffer.resize(m_start); }
  row_undo(const row_undo&) = delete;
  row_undo& operator=(const row_undo&) = delete;
  void done() { m_done = true; }

private:
  std::string& m_buffer;
  std::size_t m_start;
  bool m_done = false;
};

int writer_write(lua_State* L)
{
  copy_state* st = check_copy(L, 1, k_writer_meta);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!st->open) return luaL_error(L, "copy_in writer is closed");
  lua_connection& c = copy_connection(L, 1);
  return lua::protect(L, [&] {
    row_undo undo(st->buffer);
    const int n = static_cast<int>(st->types.size());
    for (int i = 1; i <= n; ++i) {
      if (i > 1) st->buffer += '\t';
      lua_rawgeti(L, 2, i);
      const Oid type = st->types[static_cast<std::size_t>(i - 1)];
      // The error context is only built for the values that may need it, not per field.
      if (!append_copy_simple(L, -1, type, st->buffer))
        append_copy_field(L, -1, type, st->buffer,
                          "copy_in row " + std::to_string(st->rows + 1) + " column " + std::to_string(i), c);
      lua_pop(L, 1);
    }
    st->buffer += '\n';
    undo.done();
    ++st->rows;
    if (st->buffer.size() >= k_flush_bytes) flush(c, st);
    return 0;
  });
}

int writer_close(lua_State* L)
{
  copy_state* st = check_copy(L, 1, k_writer_meta);
  if (!st->open) return luaL_error(L, "copy_in writer is closed");
  lua_connection& c = copy_connection(L, 1);
  return lua::protect(L, [&] {
    st->open = false;
    flush(c, st);
    lua_pushnumber(L, static_cast<double>(c.conn().end_copy_in()));
    return 1;
  });
}

int writer_abort(lua_State* L)
{
  copy_state* st = check_copy(L, 1, k_writer_meta);
  const char* why = luaL_optstring(L, 2, "aborted by the script");
  if (st->open) {
    st->open = false;
    lua_getfenv(L, 1);
    lua_rawgeti(L, -1, 1);
    auto** slot = static_cast<lua_connection**>(lua_touserdata(L, -1));
    if (slot && *slot) (*slot)->conn().abort_copy_in(why);
  }
  return 0;
}

int writer_gc(lua_State* L)
{
  writer_abort(L);
  check_copy(L, 1, k_writer_meta)->~copy_state();
  return 0;
}

/// Splits one COPY text line on tabs and pushes the row as an array; `null_idx` holds db.NULL.
void push_copy_row(lua_State* L, std::string_view line, const std::vector<Oid>& types, int null_idx)
{
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  lua_createtable(L, static_cast<int>(types.size()), 0);
  std::size_t start = 0;
  for (std::size_t col = 0; col < types.size(); ++col) {
    std::size_t end = line.find('\t', start);
    if (end == std::string_view::npos) end = line.size();
    std::string_view field = line.substr(start, end - start);
    if (field == "\\N") lua_pushvalue(L, null_idx);  // cheaper than push_null's registry lookup
    else push_copy_field(L, field, types[col]);
    lua_rawseti(L, -2, static_cast<int>(col + 1));
    start = end + 1;
  }
}

/// The iterator of copy_out: upvalue 1 is its reader userdata (so no type check), 2 is db.NULL.
int reader_step(lua_State* L)
{
  auto* st = static_cast<copy_state*>(lua_touserdata(L, lua_upvalueindex(1)));
  if (!st->open) return 0;
  lua_connection& c = copy_connection(L, lua_upvalueindex(1));
  return lua::protect(L, [&] {
    std::string_view line;
    if (!c.conn().next_copy_row(line)) {
      st->open = false;
      lua_pushnil(L);
      return 1;
    }
    ++st->rows;
    push_copy_row(L, line, st->types, lua_upvalueindex(2));
    return 1;
  });
}

int reader_gc(lua_State* L)
{
  copy_state* st = check_copy(L, 1, k_reader_meta);
  if (st->open) {
    lua_getfenv(L, 1);
    lua_rawgeti(L, -1, 1);
    auto** slot = static_cast<lua_connection**>(lua_touserdata(L, -1));
    if (slot && *slot) (*slot)->conn().drain_copy_out();
  }
  st->~copy_state();
  return 0;
}

int conn_copy_out(lua_State* L)
{
  lua_connection& c = check_connection(L, 1);
  std::string what = luaL_checkstring(L, 2);
  copy_state* st = new_copy(L, k_reader_meta);
  return lua::protect(L, [&] {
    std::string query = looks_like_query(what) ? what : "SELECT * FROM " + quote_name(c, what);
    st->types = c.result_types(query);
    c.conn().begin_copy_out("COPY (" + query + ") TO STDOUT");
    st->open = true;
    push_null(L);
    lua_pushcclosure(L, reader_step, 2);
    return 1;
  });
}

} // namespace

void register_copy(lua_State* L)
{
  static const luaL_Reg writer[] = {
    {"write", writer_write}, {"close", writer_close}, {"abort", writer_abort}, {nullptr, nullptr}};
  lua::define_type(L, k_writer_meta, writer, writer_gc);
  lua::define_type(L, k_reader_meta, nullptr, reader_gc);
  static const luaL_Reg methods[] = {
    {"copy_in", conn_copy_in}, {"copy_out", conn_copy_out}, {nullptr, nullptr}};
  luaL_getmetatable(L, k_connection_meta);
  lua_getfield(L, -1, "__index");
  luaL_register(L, nullptr, methods);
  lua_pop(L, 2);
}

} // namespace mighost::bind
