#pragma once
/// @file Cancelling statements in flight from another thread (Ctrl-C while a query runs).
#include <libpq-fe.h>

namespace mighost::pg {

/// Registers a session so cancel_all() can reach it; unregister before PQfinish.
void register_cancel(PGconn* conn);
void unregister_cancel(PGconn* conn) noexcept;

/// Sends a cancel request to every registered session's running statement (thread-safe; the
/// sessions then fail their statement with SQLSTATE 57014). Returns how many were sent.
int cancel_all() noexcept;

/// Sends a cancel request to one registered session's running statement (thread-safe). Returns
/// whether it was sent.
bool cancel_one(PGconn* conn) noexcept;

} // namespace mighost::pg
