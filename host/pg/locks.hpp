#pragma once
/// @file The lock report's bookkeeping (pg/locks.cpp): which relation locks a session held on the
/// tables that existed when tracking began, and for how long.
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

namespace mighost::pg {

struct lock_tracker
{
  using key = std::pair<long long, std::string>;  ///< relation OID, pg_locks mode
  struct hold
  {
    double start = 0;        ///< when the statement that took it began (seconds, steady clock)
    std::string statement;
  };
  std::unordered_map<long long, std::string> tables;  ///< the tracked tables: OID -> schema.name
  std::map<key, hold> open;                           ///< held now
  std::map<key, hold> longest;                        ///< closed holds: the longest per key (start = seconds)
  double tx_start = 0;
  std::string tx_writer;      ///< the transaction's first writing statement (labels locks seen at commit)
  double statement_start = 0;
  bool busy = false;          ///< the tracker's own queries are not tracked
  long long concurrent_oid = 0;  ///< a CONCURRENTLY statement in flight on this table
};

} // namespace mighost::pg
