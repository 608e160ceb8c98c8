#pragma once
/// @file Who blocks a session's statement (pg/lock_wait.cpp): a second session asks
/// pg_blocking_pids while the statement waits, because once a lock timeout has ended the wait
/// nothing on the server remembers whom it waited for.
#include "pg/error.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <string>

namespace mighost::pg {

struct lock_watch
{
  std::chrono::milliseconds every{0};
  PGconn* observer = nullptr;  ///< opened on first need, with the watched session's parameters
  bool failed = false;         ///< the observer could not connect: no more attempts
  std::string blockers;        ///< the statement's blockers as last seen ("" = none seen)

  lock_watch() = default;
  lock_watch(const lock_watch&) = delete;
  lock_watch& operator=(const lock_watch&) = delete;
  ~lock_watch();
};

/// Appends "blocked by pid N (application_name …, state …, query: …)" to a lock timeout's detail.
void name_blockers(const lock_watch& w, diagnostics& d);

} // namespace mighost::pg
