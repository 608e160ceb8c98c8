#pragma once
/// \file
/// One throwaway PostgreSQL cluster per test process, and fresh databases on it.
///
/// Tests that need a database call fresh_database("my_test") and connect to the
/// returned URL; nothing is shared between tests but the server itself.

#include <string>

#include "sandbox/sandbox.hpp"

namespace mighost::test {

/// The process-wide sandbox: started on first use, stopped (and deleted) at exit.
/// A failed start is remembered and rethrown, so later tests fail fast with the same message.
sandbox::cluster& shared_cluster();

/// A name unique in this process and across concurrent test processes: prefix_<pid>_<n>,
/// lowercased, limited to PostgreSQL's 63-byte identifiers.
std::string unique_name(const std::string& prefix);

/// Creates a new empty database on the shared cluster and returns its URL.
std::string fresh_database(const std::string& prefix = "test");

/// Like fresh_database(), but copies template_db (which must have no open connections).
std::string fresh_copy(const std::string& template_db, const std::string& prefix = "copy");

/// The mighost binary: $MIGHOST_BINARY, else build/mighost beside the test binary's folder
/// (build/tests/mighost_tests); "" when neither exists.
std::string mighost_binary();

/// $MIGHOST_SOURCE_DIR (set by CTest), else the source dir CMake compiled in, else ".".
std::string source_dir();

}  // namespace mighost::test
