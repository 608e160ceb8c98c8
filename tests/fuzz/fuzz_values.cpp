// Value conversions between PostgreSQL's text forms and Lua values (host/bind/values.cpp): any
// text of a type becomes a Lua value without a crash, and the value goes back to the text it
// came from whenever that text is the server's own form of it (values round-trip exactly).
//
// Input: one byte choosing the type, then the field's text (as a query returns it) or the raw
// bytes (for bytea). Every input is also decoded as a COPY text field of that type.
#include "bind/values.hpp"

#include <lua.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

namespace {

using namespace mighost;

constexpr Oid k_int8_array = 1016, k_text_array = 1009, k_bytea_array = 1001, k_float8_array = 1022;

/// The catalog facts the converter asks a connection for, for the types this target uses.
class fixed_types : public bind::type_source
{
public:
  const bind::type_info& info(Oid type) override
  {
    static const std::map<Oid, bind::type_info> known = {
        {k_int8_array, {"_int8", 'A', pg::oid::int8}},    {k_text_array, {"_text", 'A', pg::oid::text}},
        {k_bytea_array, {"_bytea", 'A', pg::oid::bytea}}, {k_float8_array, {"_float8", 'A', pg::oid::float8}},
        {pg::oid::numeric, {"numeric", 'N', 0}},          {pg::oid::text, {"text", 'S', 0}}};
    static const bind::type_info other{"unknown", 'U', 0};
    auto it = known.find(type);
    return it == known.end() ? other : it->second;
  }
};

constexpr Oid k_types[] = {pg::oid::boolean, pg::oid::int2,    pg::oid::int4, pg::oid::int8,  pg::oid::float4,
                           pg::oid::float8,  pg::oid::numeric, pg::oid::text, pg::oid::bytea, k_int8_array,
                           k_text_array,     k_bytea_array,    k_float8_array};

lua_State* shared_state()
{
  static lua_State* L = [] {
    lua_State* s = luaL_newstate();
    luaL_openlibs(s);  // ffi: the int64 maker
    bind::init_values(s);
    return s;
  }();
  return L;
}

/// The text to_text gives for the value on top of the stack.
std::string back_to_text(lua_State* L, Oid type, fixed_types& types)
{
  pg::param p;
  bind::to_text(L, -1, type, p, "fuzz", types);
  return p.value;
}

/// Is `text` the server's own output for an int8 (canonical decimal)?
bool canonical_int8(std::string_view text)
{
  long long v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() && ptr == text.data() + text.size() && std::to_string(v) == text;
}

void check_scalar(lua_State* L, std::string_view text, Oid type, fixed_types& types)
{
  bind::push_value(L, text, type, types);
  std::string back = back_to_text(L, type, types);
  if (type == pg::oid::int8 && canonical_int8(text) && back != text) std::abort();
  if ((type == pg::oid::text || type == pg::oid::numeric) && back != text) std::abort();
  if (type == pg::oid::float8 || type == pg::oid::float4) {
    // Whatever the double, its text parses back to the same bits (NaN to a NaN).
    double a = 0, b = 0;
    if (lua_type(L, -1) == LUA_TNUMBER) {
      a = lua_tonumber(L, -1);
      if (back != "NaN" && back != "Infinity" && back != "-Infinity") {
        auto [ptr, ec] = std::from_chars(back.data(), back.data() + back.size(), b);
        if (ec != std::errc() || ptr != back.data() + back.size()) std::abort();
        if (std::memcmp(&a, &b, sizeof a) != 0) std::abort();
      } else if ((back == "NaN") != std::isnan(a)) {
        std::abort();
      }
    }
  }
  lua_pop(L, 1);
  // What to_text gives reads back to the same value: a second round trip is exact.
  bind::push_value(L, back, type, types);
  if (back_to_text(L, type, types) != back) std::abort();
  lua_pop(L, 1);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size == 0) return 0;
  lua_State* L = shared_state();
  fixed_types types;
  const int top = lua_gettop(L);
  const Oid type = k_types[data[0] % std::size(k_types)];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  if (type == pg::oid::bytea) {
    // Raw bytes → the \x text COPY and parameters carry → the same bytes.
    if (bind::bytea_from_text(bind::bytea_to_hex(text)) != text) std::abort();
    bind::push_value(L, text, type, types);  // any text the server might call bytea
    lua_pop(L, 1);
  } else {
    check_scalar(L, text, type, types);
  }
  bind::push_copy_field(L, text, type);
  lua_pop(L, 1);
  if (lua_gettop(L) != top) std::abort();
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
