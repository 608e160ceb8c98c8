#include "pg/cancel.hpp"

#include <map>
#include <mutex>

namespace mighost::pg {

namespace {
std::mutex g_mutex;
std::map<PGconn*, PGcancel*>& registry()
{
  static std::map<PGconn*, PGcancel*> r;
  return r;
}
} // namespace

void register_cancel(PGconn* conn)
{
  PGcancel* c = PQgetCancel(conn);
  if (!c) return;
  std::lock_guard lock(g_mutex);
  registry()[conn] = c;
}

void unregister_cancel(PGconn* conn) noexcept
{
  std::lock_guard lock(g_mutex);
  auto it = registry().find(conn);
  if (it == registry().end()) return;
  PQfreeCancel(it->second);
  registry().erase(it);
}

int cancel_all() noexcept
{
  std::lock_guard lock(g_mutex);
  int sent = 0;
  char err[256];
  for (auto& [conn, c] : registry())
    if (PQcancel(c, err, sizeof err)) ++sent;
  return sent;
}

bool cancel_one(PGconn* conn) noexcept
{
  std::lock_guard lock(g_mutex);
  auto it = registry().find(conn);
  char err[256];
  return it != registry().end() && PQcancel(it->second, err, sizeof err);
}

} // namespace mighost::pg
