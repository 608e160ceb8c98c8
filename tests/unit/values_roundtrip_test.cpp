/// \file The type round trip: values read into Lua and written back, through bound parameters,
/// copy_in, copy_out → copy_in and each(), arrive unchanged — compared in SQL per row and column.
#include "lua_harness.hpp"
#include "pg/connection.hpp"

#include <string>
#include <vector>

using mighost::test::lua_env;
namespace pg = mighost::pg;

namespace {

/// A column of the source table and the SQL expressions of its values (row i gets values[i],
/// later rows NULL).
struct column
{
  const char* name;
  const char* type;
  std::vector<std::string> values;
};

const char* k_all_bytes = "(SELECT string_agg(set_byte('\\x00'::bytea, 0, g), ''::bytea ORDER BY g) FROM generate_series(0, 255) g)";

const std::vector<column>& columns()
{
  static const std::vector<column> cols = {
    {"i8", "int8", {"9007199254740993", "-9223372036854775808", "9223372036854775807", "9007199254740992",
                    "-9007199254740993", "0", "-1"}},
    {"i2", "int2", {"-32768", "32767"}},
    {"o", "oid", {"4294967295"}},
    {"n30", "numeric(30,10)", {"'12345678901234567890.0123456789'", "'-99999999999999999999.9999999999'",
                               "'0.0000000001'", "'0'", "'-0.0000000001'"}},
    {"num", "numeric", {"'NaN'", "'1.10'", "'-0.000'", "'123456789012345678901234567890123456789.123456789'",
                        "'1e-20'", "'0.1'"}},
    {"f8", "float8", {"'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "'0'", "'0.1'", "'5e-324'",
                      "'1.7976931348623157e308'", "'2.2250738585072014e-308'", "'0.30000000000000004'",
                      "'1e22'", "'9007199254740993'", "'-123456789'"}},
    {"f4", "float4", {"'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "'0.1'", "'3.4028235e38'", "'1e-45'",
                      "'1.1754944e-38'", "'16777217'", "'0.3'", "'-2.5'"}},
    {"tz", "timestamptz", {"'2024-02-29 23:59:59.999999+00'", "'1969-12-31 23:59:59.000001+00'", "'infinity'",
                           "'-infinity'", "'0044-03-15 12:00:00.5+00 BC'", "'2000-01-01 00:00:00+05:30'"}},
    {"ts", "timestamp", {"'2000-01-01 00:00:00.000001'", "'1900-01-01 12:34:56.5'", "'infinity'", "'-infinity'",
                         "'4713-11-24 00:00:00 BC'", "'294276-12-31 23:59:59.999999'"}},
    {"d", "date", {"'1969-12-31'", "'1900-02-28'", "'0001-01-01 BC'", "'4713-01-01 BC'", "'infinity'",
                   "'-infinity'", "'5874897-12-31'"}},
    {"tm", "time", {"'23:59:59.999999'", "'00:00:00'", "'24:00:00'"}},
    {"ttz", "timetz", {"'12:34:56.789+05:30'"}},
    {"iv", "interval", {"'1 year 2 mons 3 days 04:05:06.789012'", "'-00:00:00.000001'", "'178000000 years'"}},
    {"by", "bytea", {"'\\x00'", k_all_bytes, "''", "'\\x5c00275c'", "'\\x0d0a09'"}},
    {"js", "json", {"'{\"a\": [1, 2.50, \"x\\ny\"],  \"b\" : null}'", "'\"\\u00e9\"'", "'[]'", "'null'",
                    "'  {\"dup\": 1, \"dup\": 2}  '"}},
    {"jb", "jsonb", {"'{\"a\": [1, 2.50, \"x\\ny\"]}'", "'\"é\"'", "'{\"k\": 1.000000000000000000001}'", "'[]'"}},
    {"a_i4", "int4[]", {"'{1,NULL,-2147483648}'", "'{}'", "'{{1,2},{3,4}}'", "'[0:1]={7,8}'"}},
    {"a_i8", "int8[]", {"'{9223372036854775807,-9223372036854775808,9007199254740993,1}'"}},
    {"a_txt", "text[]", {"ARRAY[NULL, 'NULL', 'null', '', 'a\"b', 'c,d', E'e\\\\f', '{x}', ' lead', 'trail ', "
                         "E'tab\\there', E'nl\\nx', E'cr\\rx', 'é 漢', E'\\\\N', '\\.']",
                         "'{}'", "ARRAY['']", "ARRAY[NULL]::text[]"}},
    {"a_num", "numeric[]", {"'{1.10,NaN,-0.0000000001,NULL,123456789012345678901234567890}'"}},
    {"a_f8", "float8[]", {"'{-0,NaN,Infinity,-Infinity,0.1,5e-324,1.7976931348623157e308}'"}},
    {"a_by", "bytea[]", {std::string("ARRAY['\\x00'::bytea, NULL, '\\x5c22', '', ") + k_all_bytes + "]"}},
    {"a_tz", "timestamptz[]", {"ARRAY['infinity'::timestamptz, '2024-01-01 00:00:00.000001+00']"}},
    {"txt", "text", {"'unicode é 漢字 😀'", "E'quote \\' \"dq\"'", "E'back\\\\slash'", "E'tab\\there'",
                     "E'nl\\nx'", "E'cr\\rx'", "''", "E'\\\\N'", "E'\\\\.'", "E'trailing\\\\'", "'NULL'",
                     "E'\\x01\\x7f ctrl'"}},
    {"vc", "varchar(10)", {"'abc'", "''"}},
    {"ch", "char(5)", {"'ab'"}},
    {"b", "bool", {"true", "false"}},
    {"u", "uuid", {"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"}},
    {"m", "mood", {"'happy'", "'sad'"}},
    {"a_m", "mood[]", {"'{sad,happy}'", "'{}'"}},
  };
  return cols;
}

/// SQL that creates `src` with every column and fills it, plus empty copies of it.
std::string setup_sql(const std::vector<std::string>& targets)
{
  std::size_t rows = 0;
  std::string sql = "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\nCREATE TABLE src (id int PRIMARY KEY";
  for (const column& c : columns()) {
    sql += std::string(", ") + c.name + " " + c.type;
    rows = std::max(rows, c.values.size());
  }
  sql += ");\nINSERT INTO src (id) SELECT generate_series(1, " + std::to_string(rows) + ");\n";
  for (const column& c : columns()) {
    sql += std::string("UPDATE src SET ") + c.name + " = CASE id";
    for (std::size_t i = 0; i < c.values.size(); ++i)
      sql += " WHEN " + std::to_string(i + 1) + " THEN (" + c.values[i] + ")::" + c.type;
    sql += " END;\n";
  }
  for (const std::string& t : targets) sql += "CREATE TABLE " + t + " (LIKE src);\n";
  return sql;
}

/// Rows of `target` that differ from `src` in any column: `table id column: expected | got`.
/// Three tests per column: IS NOT DISTINCT FROM (where the type has equality), the text forms
/// (scale of numeric, json whitespace, -0 inside arrays), and the bits of floats (-0 = 0 in SQL).
std::string differences(pg::connection& c, const std::string& target)
{
  std::vector<std::pair<std::string, std::string>> cols = {{"id", "int"}};
  for (const column& col : columns()) cols.emplace_back(col.name, col.type);
  std::string sql;
  for (const auto& [name, type] : cols) {
    std::string s = "s." + name, d = "d." + name;
    std::string same = "(" + s + "::text IS NOT DISTINCT FROM " + d + "::text)";
    if (type != "json") same += " AND (" + s + " IS NOT DISTINCT FROM " + d + ")";
    if (type == "float8" || type == "float4")
      same += " AND (" + type + "send(" + s + ") IS NOT DISTINCT FROM " + type + "send(" + d + "))";
    sql += std::string(sql.empty() ? "" : " UNION ALL ") + "SELECT coalesce(s.id, d.id) AS id, '" + name +
           "' AS col, s." + name + "::text AS expected, d." + name + "::text AS got FROM src s FULL JOIN " +
           target + " d ON s.id = d.id WHERE NOT (" + same + ")";
  }
  pg::result r = c.exec("SELECT id, col, coalesce(expected, '<NULL>'), coalesce(got, '<NULL>') FROM (" + sql +
                        ") x ORDER BY id, col");
  std::string out;
  for (int i = 0; i < r.rows(); ++i)
    out += target + " row " + std::string(r.value(i, 0)) + " " + std::string(r.value(i, 1)) + ": " +
           std::string(r.value(i, 2)) + " | " + std::string(r.value(i, 3)) + "\n";
  return out;
}

/// Reads src into Lua and writes every row back four ways.
const char* k_round_trip_lua = R"lua(
  local src = conn:query("SELECT * FROM src ORDER BY id")
  local cols = src.columns
  local n = #cols
  local quoted, marks = {}, {}
  for i, c in ipairs(cols) do quoted[i], marks[i] = db.quote_ident(c), "$" .. i end
  local insert = "INSERT INTO %s (" .. table.concat(quoted, ", ") .. ") VALUES (" .. table.concat(marks, ", ") .. ")"
  local function values(r)
    local v = {}
    for i, c in ipairs(cols) do v[i] = r[c] end
    return v
  end
  -- 1. query → bound parameters
  for _, r in ipairs(src) do conn:exec(insert:format("via_param"), unpack(values(r), 1, n)) end
  -- 2. query → copy_in
  local w = conn:copy_in("via_copy", cols)
  for _, r in ipairs(src) do w:write(values(r)) end
  assert(w:close() == #src)
  -- 3. copy_out → copy_in (a second session: one COPY at a time per session)
  local other = db.connect()
  local w2 = other:copy_in("via_copy_out", cols)
  for row in conn:copy_out("SELECT " .. table.concat(quoted, ", ") .. " FROM src ORDER BY id") do w2:write(row) end
  assert(w2:close() == #src)
  -- 4. each → bound parameters (small batches: several FETCHes)
  local seen = conn:each("SELECT * FROM src ORDER BY id", nil, function(r)
    conn:exec(insert:format("via_each"), unpack(values(r), 1, n))
  end, 4)
  assert(seen == #src)
)lua";

} // namespace

TEST_CASE("every type survives query → parameter, → copy_in, copy_out → copy_in and each", "[values]")
{
  lua_env env("values_rt");
  const std::vector<std::string> targets = {"via_param", "via_copy", "via_copy_out", "via_each"};
  pg::connection c(env.url());
  c.exec(setup_sql(targets));
  REQUIRE(differences(c, "src") == "");  // the comparison itself holds for identical tables
  REQUIRE(env.run(k_round_trip_lua) == "");
  for (const std::string& t : targets) {
    INFO(t);
    CHECK(differences(c, t) == "");
  }

  SECTION("the comparison notices a changed value")
  {
    // -0 → 0, one byte of the 256, a numeric's scale, json whitespace, NULL → '' (in an array too).
    c.exec("UPDATE via_param SET f8 = 0 WHERE f8::text = '-0'");
    c.exec("UPDATE via_copy SET by = set_byte(by, 200, 0) WHERE length(by) = 256");
    c.exec("UPDATE via_copy_out SET num = '1.1' WHERE num::text = '1.10'");
    c.exec("UPDATE via_each SET js = '[ ]' WHERE js::text = '[]'");
    c.exec("UPDATE via_each SET txt = '' WHERE txt IS NULL");
    c.exec("UPDATE via_copy SET a_txt = array_replace(a_txt, NULL, '') WHERE id = 1");
    CHECK_THAT(differences(c, "via_param"), Catch::Contains(" f8: -0 | 0"));
    CHECK_THAT(differences(c, "via_copy"), Catch::Contains(" by: "));
    CHECK_THAT(differences(c, "via_copy_out"), Catch::Contains(" num: 1.10 | 1.1"));
    CHECK_THAT(differences(c, "via_each"), Catch::Contains(" js: [] | [ ]"));
    CHECK_THAT(differences(c, "via_each"), Catch::Contains(" txt: <NULL> | \n"));
    CHECK_THAT(differences(c, "via_copy"), Catch::Contains(" a_txt: {NULL,"));
  }
}

TEST_CASE("values arrive in Lua as the documented types", "[values]")
{
  lua_env env("values_lua");
  CHECK(env.run(R"lua(
    conn:exec("SET TimeZone = 'UTC'")
    local r = conn:query([[SELECT 9007199254740993::int8 AS big, (-9223372036854775807 - 1)::int8 AS min,
      9223372036854775807::int8 AS max, 9007199254740992::int8 AS exact, -42::int8 AS small,
      '12345678901234567890.0123456789'::numeric(30,10) AS n, 'NaN'::numeric AS nn, 1.10::numeric AS scale,
      'NaN'::float8 AS nan, 'Infinity'::float8 AS inf, '-Infinity'::float8 AS ninf, '-0'::float8 AS nz,
      '5e-324'::float8 AS tiny, '1.7976931348623157e308'::float8 AS huge, 0.1::float4 AS f4,
      '2024-02-29 23:59:59.999999+00'::timestamptz AS tz, 'infinity'::timestamptz AS tzinf,
      '0044-03-15'::date AS bc, '1900-01-01 00:00:00.000001'::timestamp AS ts,
      NULL::text AS null_text, ''::text AS empty_text, E'a\\b\t"''\r\n'::text AS t,
      ARRAY[1, NULL, 3] AS ia, ARRAY[NULL, '', 'a,b', 'c"d', 'e\f', '{}']::text[] AS ta, '{}'::int[] AS empty_arr,
      '{{1,2},{3,4}}'::int[] AS two_d, '{"k" :  1}'::json AS js]])[1]
    assert(type(r.big) == "cdata" and tostring(r.big) == "9007199254740993LL", tostring(r.big))
    assert(r.big == db.int64("9007199254740993") and r.big + 1 == db.int64("9007199254740994"))
    assert(r.big > 9007199254740992 and r.big - 1 == 9007199254740992)
    assert(tostring(r.min) == "-9223372036854775808LL" and tostring(r.max) == "9223372036854775807LL")
    assert(type(r.exact) == "number" and r.exact == 2^53 and r.small == -42)
    assert(r.n == "12345678901234567890.0123456789" and r.nn == "NaN" and r.scale == "1.10")
    assert(r.nan ~= r.nan and r.inf == math.huge and r.ninf == -math.huge)
    assert(r.nz == 0 and 1 / r.nz == -math.huge, "-0 keeps its sign")
    assert(r.tiny > 0 and r.tiny == 4.9406564584124654e-324 and r.huge == 1.7976931348623157e308)
    assert(r.f4 == 0.1, ("%.17g"):format(r.f4))  -- float4's shortest text, read as a double
    assert(r.tz == "2024-02-29 23:59:59.999999+00" and r.tzinf == "infinity", r.tz)
    assert(r.bc == "0044-03-15" and r.ts == "1900-01-01 00:00:00.000001", r.bc)
    assert(r.null_text == db.NULL and r.null_text ~= nil and r.empty_text == "")
    assert(r.t == 'a\\b\t"\'\r\n', r.t)
    assert(getmetatable(r.ia) == getmetatable(db.array{}) and r.ia.n == 3 and r.ia[1] == 1 and r.ia[2] == db.NULL)
    assert(r.ta.n == 6 and r.ta[1] == db.NULL and r.ta[2] == "" and r.ta[3] == "a,b" and r.ta[4] == 'c"d')
    assert(r.ta[5] == "e\\f" and r.ta[6] == "{}")
    assert(r.empty_arr.n == 0 and r.two_d == "{{1,2},{3,4}}" and r.js == '{"k" :  1}')
    local bc = conn:scalar("SELECT '0044-03-15 BC'::date")
    assert(bc == "0044-03-15 BC", bc)
    local bytes = conn:scalar("SELECT string_agg(set_byte('\\x00'::bytea, 0, g), ''::bytea ORDER BY g) FROM generate_series(0, 255) g")
    assert(#bytes == 256, #bytes)
    for i = 1, 256 do assert(bytes:byte(i) == i - 1, i) end
  )lua") == "");
}

TEST_CASE("parameters reach PostgreSQL exactly", "[values]")
{
  lua_env env("values_params");
  CHECK(env.run(R"lua(
    local function sql_text(expr, v) return conn:scalar("SELECT (" .. expr .. ")::text", v) end
    assert(sql_text("$1::int8", db.int64("9223372036854775807")) == "9223372036854775807")
    assert(sql_text("$1::int8", db.int64("-9223372036854775808")) == "-9223372036854775808")
    assert(sql_text("$1::int8", 2^53) == "9007199254740992")
    assert(sql_text("$1::numeric", "12345678901234567890.0123456789") == "12345678901234567890.0123456789")
    assert(sql_text("$1::float8", 0/0) == "NaN" and sql_text("$1::float8", -math.huge) == "-Infinity")
    assert(sql_text("float8send($1::float8)", -1 / math.huge) == "\\x8000000000000000", "-0 as a parameter")
    assert(sql_text("$1::float8", 0.1) == "0.1" and sql_text("$1::float8", 5e-324) == "5e-324")
    assert(sql_text("$1::float8", 1.7976931348623157e308) == "1.7976931348623157e+308")
    local all = {}
    for i = 0, 255 do all[#all + 1] = string.char(i) end
    all = table.concat(all)
    assert(conn:scalar("SELECT $1::bytea = (SELECT string_agg(set_byte('\\x00'::bytea, 0, g), ''::bytea ORDER BY g) FROM generate_series(0, 255) g)", all))
    assert(conn:scalar("SELECT length($1::bytea)", "\0\0\\x00") == 6)
    assert(conn:scalar("SELECT $1::text IS NULL", nil) and conn:scalar("SELECT $1::text IS NULL", db.NULL))
    assert(conn:scalar("SELECT $1::text = ''", ""))
    local arr = conn:scalar("SELECT $1::text[]", db.array{n = 4, db.NULL, "", 'q"\\,{}', "NULL"})
    assert(arr.n == 4 and arr[1] == db.NULL and arr[2] == "" and arr[3] == 'q"\\,{}' and arr[4] == "NULL")
    assert(conn:scalar("SELECT array_length($1::int[], 1)", {1, 2, 3}) == 3)
    assert(conn:scalar("SELECT $1::bytea[] = ARRAY['\\x00ff'::bytea, NULL]", db.array{n = 2, "\0\255", db.NULL}))
  )lua") == "");
}
