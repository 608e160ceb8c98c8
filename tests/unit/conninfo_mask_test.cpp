// Password masking of URLs, key=value conninfos and the messages that quote them.
#include <catch2/catch.hpp>

#include "pg/conninfo.hpp"

#include <string>

using mighost::pg::mask_password;

TEST_CASE("mask_password hides the password of every conninfo form, and only it", "[conninfo]")
{
  CHECK(mask_password("dbname=x password=secret") == "dbname=x password=***");
  CHECK(mask_password("password=secret dbname=x") == "password=*** dbname=x");
  CHECK(mask_password("host=h PASSWORD = 'a b\\'c' user=u") == "host=h PASSWORD = *** user=u");
  CHECK(mask_password("password=a\\ b user=u") == "password=*** user=u");
  CHECK(mask_password("password=a&b:c user=u") == "password=*** user=u");
  // A key=value password that begins like the mask: '&' does not end a key=value value.
  CHECK(mask_password("user=app password=***&*x dbname=shop") == "user=app password=*** dbname=shop");
  CHECK(mask_password("postgres://h/db?password=***&user=app") == "postgres://h/db?password=***&user=app");
  CHECK(mask_password("postgresql://u:p%40ss@h:5432/db") == "postgresql://u:***@h:5432/db");
  CHECK(mask_password("postgres://u:pw@h/db?sslmode=disable&password=q&application_name=z") ==
        "postgres://u:***@h/db?sslmode=disable&password=***&application_name=z");
  CHECK(mask_password("postgresql:///db?password=q") == "postgresql:///db?password=***");
  const std::string plain = "postgresql://u@h/db?sslmode=disable host=h user=u: no secret here";
  CHECK(mask_password(plain) == plain);
}

TEST_CASE("masking a message that quotes a masked conninfo keeps the rest of the message", "[conninfo]")
{
  const std::string tail = ": connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password "
                           "authentication failed for user \"app\"";
  for (const std::string conninfo : {"host=127.0.0.1 dbname=x password=s3cr:t", "dbname=x password='s 3'",
                                     "postgresql://app:s3cr@127.0.0.1/x?password=s3cr"}) {
    const std::string message = "could not connect to " + mask_password(conninfo) + tail;
    INFO(message);
    const std::string masked = mask_password(message);
    CHECK(masked.find("s3") == std::string::npos);
    CHECK(masked.size() > tail.size());
    CHECK(masked.substr(masked.size() - tail.size()) == tail);
    CHECK(mask_password(masked) == masked);
  }
  CHECK(mask_password("dbname=x password=***, then more") == "dbname=x password=***, then more");
  CHECK(mask_password("dbname=x password=***") == "dbname=x password=***");
}
