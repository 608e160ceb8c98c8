/// \file What the fuzz targets of tests/fuzz found, one case each, and the properties they check
/// on the inputs that showed it. No database needed.
#include "backup/files.hpp"
#include "backup/json_scan.hpp"
#include "backup/manifest.hpp"
#include "pg/conninfo.hpp"
#include "pg/copy_text.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

using namespace mighost;
using backup::backup_error;

namespace {
/// A one-table manifest in snapshot()'s shape, with `change` applied to its table entry.
std::string manifest_with(const nlohmann::json& change)
{
  nlohmann::json table = {{"schema", "public"}, {"name", "items"},
                          {"columns", {{{"name", "id"}, {"type", "bigint"}, {"type_oid", 20}}}},
                          {"ddl", {{"create", "CREATE TABLE public.items (id bigint)"}}},
                          {"file", "001_public.items.copy"}, {"rows", 2}, {"bytes", 4}, {"sha256", "ab"}};
  table.merge_patch(change);
  return nlohmann::json{{"format", "mighost-backup"}, {"compression", "none"}, {"tables", {table}}}.dump();
}

backup_error::kind manifest_error(const std::string& text)
{
  try {
    backup::parse_manifest(text, "manifest.json");
  } catch (const backup_error& e) {
    return e.error_kind();
  }
  FAIL("parse_manifest accepted " << text);
  return backup_error::kind::failed;
}
} // namespace

TEST_CASE("a key=value password with '&' is masked whole", "[fuzz_findings]")
{
  // fuzz_mask_password: the value stopped at '&' and the rest of the password was printed.
  std::string masked = pg::mask_password("host=db password=se&cr:et dbname=shop");
  CHECK(masked == "host=db password=*** dbname=shop");
  CHECK(masked.find("cr:et") == std::string::npos);
}

TEST_CASE("a quoted password holding \"&password=\" is masked whole", "[fuzz_findings]")
{
  // fuzz_mask_password: the URL-query pass masked the inner "&password=" first and broke the
  // quotes, so the key=value pass stopped at the first space and printed the rest.
  std::string masked = pg::mask_password("host=db password='a b&password=c' dbname=shop");
  CHECK(masked == "host=db password=*** dbname=shop");
  CHECK(pg::mask_password("postgres://db/shop?user=app&password=s3cret&sslmode=disable") ==
        "postgres://db/shop?user=app&password=***&sslmode=disable");
}

TEST_CASE("masking an already masked connection string keeps the rest of the message", "[fuzz_findings]")
{
  // fuzz_mask_password: pg::connection quotes the masked string, then the log masks it again.
  std::string once = pg::mask_password("host=db dbname=shop password=s3cret");
  REQUIRE(once == "host=db dbname=shop password=***");
  std::string message = once + ": connection to server at \"db\" failed";
  CHECK(pg::mask_password(message) == message);
}

TEST_CASE("the JSON backup scanner refuses a bad \\u escape in a key as a corrupt backup", "[fuzz_findings]")
{
  // fuzz_json_scan: std::stoul threw std::invalid_argument out of the scanner, or read "-001"
  // as a huge code point.
  for (const char* doc : {R"({"\uzzzz": []})", R"({"\u-001": []})", R"({"\u12": []})", R"({"\q": []})"}) {
    INFO(doc);
    try {
      backup::top_level_members(doc, "backup.json");
      FAIL("accepted");
    } catch (const backup_error& e) {
      CHECK(e.error_kind() == backup_error::kind::corrupt);
      CHECK(std::string(e.what()).find("backup.json: not a JSON backup") == 0);
    }
  }
  auto members = backup::top_level_members(R"({"caf\u00e9 \ud83d\ude00 \"q\"": [1]})", "backup.json");
  REQUIRE(members.size() == 1);
  CHECK(members[0].key == "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\"");
}

TEST_CASE("a manifest's counts and file names are checked, not converted blindly", "[fuzz_findings]")
{
  CHECK(backup::parse_manifest(manifest_with(nlohmann::json::object()), "m").tables.at(0).rows == 2);
  // fuzz_manifest: a float beyond the range of the type was converted (undefined behaviour).
  CHECK(manifest_error(manifest_with({{"rows", 1e300}})) == backup_error::kind::corrupt);
  CHECK(manifest_error(manifest_with({{"columns", {{{"name", "id"}, {"type", "bigint"}, {"type_oid", 1e300}}}}})) ==
        backup_error::kind::corrupt);
  CHECK(manifest_error(manifest_with({{"rows", -1}})) == backup_error::kind::corrupt);
  CHECK(manifest_error(manifest_with({{"file", "../../etc/passwd"}})) == backup_error::kind::corrupt);
  CHECK(manifest_error(manifest_with({{"sha256", 7}})) == backup_error::kind::corrupt);
  CHECK(manifest_error(R"({"format": "mighost-backup", "tables": {}})") == backup_error::kind::corrupt);
  CHECK(manifest_error(R"({"format": "mighost-backup", "tables": [], "compression": 1})") ==
        backup_error::kind::corrupt);
  CHECK(manifest_error("[1, 2]") == backup_error::kind::failed);
  CHECK(manifest_error(R"({"format": "mighost-back)") == backup_error::kind::corrupt);
}

TEST_CASE("COPY text: escaping round-trips every byte, \\x without a digit is an x", "[fuzz_findings]")
{
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string line;
  pg::append_copy_escaped(line, all);
  CHECK(line.find_first_of("\t\n\r") == std::string::npos);
  CHECK(pg::copy_text_unescape(line) == all);
  // As the server reads it (the Lua copy_out decoder gave a NUL byte here).
  CHECK(pg::copy_text_unescape("\\xg\\x4\\x41\\101\\7777") == std::string("xg\x04" "AA\xff" "7"));
}
