#include "bind/values.hpp"

#include "lua/state.hpp"
#include "pg/copy_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace mighost::bind {

namespace {

// Registry keys (addresses are unique).
char k_null;
char k_array_meta;
char k_int64_maker;
char k_tostring;

constexpr double k_max_exact = 9007199254740992.0;  // 2^53

std::string format_number(double v)
{
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0 && std::signbit(v)) return "-0";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) <= k_max_exact)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.17g", v);  // 17 digits: the double comes back bit-exact
  return buf;
}

/// "123LL" / "18446744073709551615ULL" from tostring() of an integer cdata → exact digits.
std::string cdata_integer(lua_State* L, int idx, const std::string& what)
{
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;  // array elements and COPY fields come as -1
  lua_pushlightuserdata(L, &k_tostring);
  lua_rawget(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, idx);
  lua_call(L, 1, 1);
  std::string s = lua_tostring(L, -1) ? lua_tostring(L, -1) : "";
  lua_pop(L, 1);
  if (s.size() > 3 && s.compare(s.size() - 3, 3, "ULL") == 0) return s.substr(0, s.size() - 3);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, "LL") == 0) return s.substr(0, s.size() - 2);
  throw std::invalid_argument(what + ": cannot bind a cdata that is not a 64-bit integer (" + s + ")");
}

int array_length(lua_State* L, int idx)
{
  lua_getfield(L, idx, "n");
  int n = lua_isnumber(L, -1) ? static_cast<int>(lua_tointeger(L, -1)) : static_cast<int>(lua_objlen(L, idx));
  lua_pop(L, 1);
  return n;
}

void append_array(lua_State* L, int idx, Oid elem, std::string& out, const std::string& what,
                  type_source& types)
{
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  out += '{';
  int n = array_length(L, idx);
  for (int i = 1; i <= n; ++i) {
    if (i > 1) out += ',';
    lua_rawgeti(L, idx, i);
    if (is_null(L, -1)) {
      out += "NULL";
    } else if (lua_type(L, -1) == LUA_TTABLE) {
      append_array(L, -1, elem, out, what, types);
    } else {
      pg::param p;
      to_text(L, -1, elem, p, what + "[" + std::to_string(i) + "]", types);
      if (elem == pg::oid::bytea) p.value = bytea_to_hex(p.value);
      out += '"';
      for (char c : p.value) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
    }
    lua_pop(L, 1);
  }
  out += '}';
}

/// Parses a one-dimensional array literal; false when it is not one (multi-dimensional, bounds).
bool push_array(lua_State* L, std::string_view s, Oid elem, type_source& types)
{
  if (s.size() < 2 || s.front() != '{' || s.back() != '}' || (s.size() > 2 && s[1] == '{'))
    return false;
  lua_newtable(L);
  int n = 0;
  std::size_t i = 1;
  std::string item;
  while (i < s.size() - 1) {
    item.clear();
    bool quoted = s[i] == '"';
    if (quoted) {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        item += s[i];
      }
      ++i;  // closing quote
    } else {
      while (i < s.size() - 1 && s[i] != ',') item += s[i++];
    }
    if (!quoted && (item == "NULL" || item == "null")) push_null(L);
    else push_value(L, item, elem, types);
    lua_rawseti(L, -2, ++n);
    if (i < s.size() - 1 && s[i] == ',') ++i;
  }
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
  lua_pushlightuserdata(L, &k_array_meta);
  lua_rawget(L, LUA_REGISTRYINDEX);
  lua_setmetatable(L, -2);
  return true;
}

void push_int8(lua_State* L, std::string_view text)
{
  long long v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    lua_pushlstring(L, text.data(), text.size());
    return;
  }
  if (v >= -static_cast<long long>(k_max_exact) && v <= static_cast<long long>(k_max_exact)) {
    lua_pushnumber(L, static_cast<double>(v));
    return;
  }
  lua_pushlightuserdata(L, &k_int64_maker);
  lua_rawget(L, LUA_REGISTRYINDEX);
  lua_pushlightuserdata(L, &v);
  lua_call(L, 1, 1);  // reads *v as int64_t cdata; cannot fail but for memory
}

int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

} // namespace

void init_values(lua_State* L)
{
  lua::stack_guard guard(L);
  lua_pushlightuserdata(L, &k_null);
  lua_newuserdata(L, 1);
  luaL_newmetatable(L, "mighost.db.Null");
  lua_pushliteral(L, "NULL");
  lua_pushcclosure(L, [](lua_State* s) { lua_pushvalue(s, lua_upvalueindex(1)); return 1; }, 1);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "mighost.db.NULL");
  lua_setfield(L, -2, "__name");
  lua_setmetatable(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);

  lua_pushlightuserdata(L, &k_array_meta);
  luaL_newmetatable(L, "mighost.db.Array");
  lua_rawset(L, LUA_REGISTRYINDEX);

  lua_pushlightuserdata(L, &k_int64_maker);
  const char* maker = "local ffi = require 'ffi'\n"
                      "local ptr = ffi.typeof('const int64_t *')\n"
                      "return function(p) return ffi.cast(ptr, p)[0] end";
  if (luaL_loadbuffer(L, maker, std::char_traits<char>::length(maker), "=mighost.db.int64") != 0)
    throw std::runtime_error(lua_tostring(L, -1));
  lua_call(L, 0, 1);
  lua_rawset(L, LUA_REGISTRYINDEX);

  lua_pushlightuserdata(L, &k_tostring);
  lua_getglobal(L, "tostring");
  lua_rawset(L, LUA_REGISTRYINDEX);
}

void push_null(lua_State* L)
{
  lua_pushlightuserdata(L, &k_null);
  lua_rawget(L, LUA_REGISTRYINDEX);
}

bool is_null(lua_State* L, int idx)
{
  if (lua_isnoneornil(L, idx)) return true;
  if (lua_type(L, idx) != LUA_TUSERDATA) return false;
  push_null(L);
  bool same = lua_rawequal(L, idx < 0 ? idx - 1 : idx, -1);
  lua_pop(L, 1);
  return same;
}

void push_value(lua_State* L, std::string_view text, Oid type, type_source& types)
{
  switch (type) {
  case pg::oid::boolean: lua_pushboolean(L, text == "t"); return;
  case pg::oid::int2:
  case pg::oid::int4:
  case pg::oid::oid:
  case pg::oid::float4:
  case pg::oid::float8: {
    double d = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec == std::errc() && ptr == text.data() + text.size()) lua_pushnumber(L, d);
    else lua_pushlstring(L, text.data(), text.size());
    return;
  }
  case pg::oid::int8: push_int8(L, text); return;
  case pg::oid::bytea: {
    std::string raw = bytea_from_text(text);
    lua_pushlstring(L, raw.data(), raw.size());
    return;
  }
  default: break;
  }
  const type_info& ti = types.info(type);
  if (ti.category == 'A' && push_array(L, text, ti.element, types)) return;
  lua_pushlstring(L, text.data(), text.size());
}

void to_text(lua_State* L, int idx, Oid type, pg::param& out, const std::string& what,
             type_source& types)
{
  out.is_null = false;
  switch (lua_type(L, idx)) {
  case LUA_TNIL: out.is_null = true; out.value.clear(); return;
  case LUA_TBOOLEAN: out.value.assign(1, lua_toboolean(L, idx) ? 't' : 'f'); return;  // assign(char): GCC 12 -O3 -Wrestrict false positive on operator=(const char*)
  case LUA_TNUMBER: out.value = format_number(lua_tonumber(L, idx)); return;
  case LUA_TSTRING: {
    std::size_t len = 0;
    const char* s = lua_tolstring(L, idx, &len);
    out.value.assign(s, len);
    return;
  }
  case LUA_TTABLE: {
    Oid elem = type ? types.info(type).element : 0;
    out.value.clear();
    append_array(L, idx, elem, out.value, what, types);
    return;
  }
  case LUA_TUSERDATA:
    if (is_null(L, idx)) { out.is_null = true; out.value.clear(); return; }
    break;
  case 10:  // LUA_TCDATA (LuaJIT): int64_t / uint64_t boxes
    out.value = cdata_integer(L, idx, what);
    return;
  default: break;
  }
  throw std::invalid_argument(what + ": cannot bind a Lua " + luaL_typename(L, idx));
}

bool append_copy_simple(lua_State* L, int idx, Oid type, std::string& line)
{
  switch (lua_type(L, idx)) {
  case LUA_TSTRING: {
    if (type == pg::oid::bytea) return false;  // raw bytes go out as \x hex: the general path
    std::size_t len = 0;
    const char* s = lua_tolstring(L, idx, &len);
    pg::append_copy_escaped(line, std::string_view(s, len));
    return true;
  }
  case LUA_TNUMBER: line += format_number(lua_tonumber(L, idx)); return true;  // never escaped
  case LUA_TBOOLEAN: line += lua_toboolean(L, idx) ? 't' : 'f'; return true;
  case LUA_TNIL: line += "\\N"; return true;
  case LUA_TUSERDATA:
    if (!is_null(L, idx)) return false;
    line += "\\N";
    return true;
  default: return false;
  }
}

void append_copy_field(lua_State* L, int idx, Oid type, std::string& line, const std::string& what,
                       type_source& types)
{
  if (append_copy_simple(L, idx, type, line)) return;
  pg::param p;
  to_text(L, idx, type, p, what, types);
  // COPY's text format reads bytea in its text form, so raw bytes go out as \x hex.
  if (type == pg::oid::bytea && lua_type(L, idx) == LUA_TSTRING) p.value = bytea_to_hex(p.value);
  pg::append_copy_escaped(line, p.value);
}

void push_copy_field(lua_State* L, std::string_view raw, Oid type)
{
  if (raw == "\\N") {
    push_null(L);
    return;
  }
  if (type != pg::oid::bytea && raw.find('\\') == std::string_view::npos) {
    lua_pushlstring(L, raw.data(), raw.size());  // nothing to decode: no copy
    return;
  }
  std::string out = pg::copy_text_unescape(raw);
  if (type == pg::oid::bytea) out = bytea_from_text(out);
  lua_pushlstring(L, out.data(), out.size());
}

std::string bytea_from_text(std::string_view text)
{
  std::string raw;
  if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x') {
    raw.reserve((text.size() - 2) / 2);
    for (std::size_t i = 2; i + 1 < text.size(); i += 2)
      raw += static_cast<char>(hexval(text[i]) * 16 + hexval(text[i + 1]));
    return raw;
  }
  // bytea_output = 'escape': octal escapes and doubled backslashes.
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\\') { raw += '\\'; ++i; }
    else if (text[i] == '\\' && i + 3 < text.size() + 0) {
      raw += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0'));
      i += 3;
    } else raw += text[i];
  }
  return raw;
}

std::string bytea_to_hex(std::string_view bytes)
{
  static const char digits[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

} // namespace mighost::bind
