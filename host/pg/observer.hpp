#pragma once
/// @file What a layer above host/pg installs on a connection to see the statements it runs (the
/// binding layer's lint, for one), without host/pg knowing who watches or why.
#include <string>

namespace mighost::pg {

class connection;

/// Sees each statement a connection is about to send. One observer per connection
/// (connection::observe); a connection without one sends its statements unobserved.
class statement_observer
{
public:
  virtual ~statement_observer() = default;
  /// Called before `sql` is sent; `multi` is true for the simple-query protocol, where `sql` may
  /// hold several statements. Never called during a COPY, and never re-entered: the statements
  /// the observer itself runs on `c` are sent unobserved. Must not throw: an observer's trouble
  /// never stops the statement.
  virtual void before_statement(connection& c, const std::string& sql, bool multi) noexcept = 0;
};

} // namespace mighost::pg
