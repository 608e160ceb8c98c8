/// \file The COPY fast path. Escaping in copy_in (8-byte word scan) and copy_out (fields
/// without a backslash are pushed as they are): every ASCII byte at every offset of short and
/// long strings, multi-byte UTF-8, NULL versus the two-character string `\N`, and ''. And the
/// non-blocking copy_in of many chunks: errors, abort, and the session afterwards.
#include "lua_harness.hpp"
#include "pg/connection.hpp"

#include <string>

using mighost::test::lua_env;
namespace pg = mighost::pg;

namespace {

/// Writes one row per (length, position, byte) with copy_in and reads them back with copy_out.
const char* k_escape_lua = R"lua(
  conn:exec([[CREATE TABLE esc (id int PRIMARY KEY, len int, pos int, b int, s text)]])
  local sent = {}
  local w = conn:copy_in("esc", {"id", "len", "pos", "b", "s"})
  local id = 0
  -- Lengths around the 8-byte word boundaries; the byte at each position in turn.
  for _, len in ipairs({1, 2, 7, 8, 9, 15, 16, 17, 24, 25}) do
    for pos = 1, len do
      for b = 1, 127 do
        id = id + 1
        local s = ("a"):rep(pos - 1) .. string.char(b) .. ("z"):rep(len - pos)
        sent[id] = s
        w:write({id, len, pos, b, s})
      end
    end
  end
  local specials = {db.NULL, "", "\\N", "\\", "\t\t\n\r\\", "ünïcødé ✓\t✓", ("\\"):rep(17), ("é\n"):rep(9)}
  for i, s in ipairs(specials) do
    id = id + 1
    sent[id] = s
    w:write({id, -1, i, 0, s})
  end
  assert(w:close() == id, "rows written")

  local got = 0
  for row in conn:copy_out("SELECT id, s FROM esc ORDER BY id") do
    local want = sent[tonumber(row[1])]
    assert(row[2] == want, ("row %s: %q came back as %q"):format(row[1], tostring(want), tostring(row[2])))
    got = got + 1
  end
  assert(got == id, "rows read " .. got)
  return id
)lua";

} // namespace

TEST_CASE("copy_in escapes and copy_out unescapes every ASCII byte at every offset", "[values]")
{
  lua_env env("copy_escape");
  constexpr int rows = (1 + 2 + 7 + 8 + 9 + 15 + 16 + 17 + 24 + 25) * 127 + 8;  // as the loops above
  REQUIRE(env.eval(k_escape_lua) == std::to_string(rows));

  // The server holds exactly the intended text (not just what the same code decodes again).
  pg::connection c(env.url());
  CHECK(std::string(c.exec("SELECT count(*) FROM esc WHERE len > 0 AND s IS DISTINCT FROM "
                           "repeat('a', pos - 1) || chr(b) || repeat('z', len - pos)")
                      .value(0, 0)) == "0");
  CHECK(std::string(c.exec("SELECT string_agg(coalesce(s, '<NULL>'), '|' ORDER BY pos) FROM esc "
                           "WHERE len = -1 AND pos <= 5")
                      .value(0, 0)) == "<NULL>||\\N|\\|\t\t\n\r\\");
}

TEST_CASE("copy_in of many chunks: an error mid-stream surfaces at close, the session works on",
          "[values]")
{
  // Several MB: copy_in sends 256 KB chunks without waiting for each (non-blocking session), so
  // the server reports the duplicate while data is still queued behind it.
  lua_env env("copy_chunks");
  CHECK(env.run(R"lua(
    conn:exec("CREATE TABLE u (id int PRIMARY KEY, pad text NOT NULL)")
    local pad = ("p"):rep(100)
    local function fill(dup_at)
      local w = conn:copy_in("u", {"id", "pad"})
      for i = 1, 40000 do w:write({i == dup_at and 5 or i, pad}) end
      return w:close()
    end
    local ok, err = pcall(fill, 30000)
    assert(not ok and db.is_error(err) and err.sqlstate == "23505", tostring(err))
    assert(conn:scalar("SELECT count(*) FROM u") == 0, "the failed COPY wrote nothing")

    local w = conn:copy_in("u", {"id", "pad"})
    for i = 1, 20000 do w:write({-i, pad}) end
    w:abort("changed my mind")
    assert(conn:scalar("SELECT count(*) FROM u") == 0, "the aborted COPY wrote nothing")

    assert(fill(nil) == 40000)
    local r = conn:query("SELECT count(*) AS n, sum(id) AS s, sum(length(pad)) AS l FROM u")[1]
    assert(r.n == 40000 and r.s == 40000 * 40001 / 2 and r.l == 4000000,
           ("%s rows, sum %s, %s bytes"):format(tostring(r.n), tostring(r.s), tostring(r.l)))
  )lua") == "");
}
