#include "pg/connection.hpp"

#include "pg/cancel.hpp"
#include "pg/conninfo.hpp"
#include "pg/lock_wait.hpp"
#include "pg/locks.hpp"

#include <pqxx/basic_connection>
#include <pqxx/connection>

#include <cstdlib>

namespace mighost::pg {

namespace {

/// libpqxx connection policy that remembers the libpq handle it connected, so the data path can
/// use libpq directly (see connection.hpp). Set and read on the same thread, right at connect.
thread_local PGconn* t_connected_handle = nullptr;

class capture_policy : public pqxx::connect_direct
{
public:
  explicit capture_policy(const std::string& opts) : pqxx::connect_direct(opts) {}
  handle do_completeconnect(handle h) override
  {
    h = pqxx::connect_direct::do_completeconnect(h);
    t_connected_handle = h;
    return h;
  }
};


std::string field(const PGresult* r, int code)
{
  const char* v = r ? PQresultErrorField(r, code) : nullptr;
  return v ? v : "";
}

std::string trim(std::string s)
{
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

} // namespace

struct connection::session : pqxx::basic_connection_base<capture_policy>
{
  using basic_connection_base::basic_connection_base;
};

long long result::affected_rows() const noexcept
{
  const char* n = m_res ? PQcmdTuples(m_res.get()) : nullptr;
  return (n && *n) ? std::atoll(n) : 0;
}

connection::connection(const std::string& conninfo, const session_options& opts)
  : m_masked(mask_password(conninfo))
{
  if (auto err = conninfo_error(conninfo))
    throw sql_error({"FATAL", "08001", "invalid connection string: " + *err, "", "", "", "", 0});
  try {
    t_connected_handle = nullptr;
    m_conn = std::make_unique<session>(conninfo);
    m_pg = t_connected_handle;
  } catch (const pqxx::broken_connection& e) {
    throw sql_error({"FATAL", "08001",
                     "could not connect to " + (m_masked.empty() ? std::string("the PG* environment's server") : m_masked) +
                       ": " + trim(mask_password(e.what())),
                     "", "", "", "", 0});
  }
  if (!m_pg) throw usage_error("libpqxx connected without handing over its handle");
  register_cancel(m_pg);
  // Stable, exact text forms for every type the Lua layer reads back.
  exec("SET client_encoding = 'UTF8'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';"
       " SET extra_float_digits = 3");
  // Name the session so a refused second runner can say who holds the lock.
  const char* app = PQparameterStatus(m_pg, "application_name");
  if (!app || !*app) exec("SET application_name = 'mighost'");
  // A SET after the startup packet, not `-c` in the startup options: a connection string's own
  // `options=` (or PGOPTIONS) replaces the startup options and could turn read-only off unseen.
  if (opts.read_only) exec("SET default_transaction_read_only = on");
}

connection::~connection() { close(); }

bool connection::cancel_running() const noexcept { return m_pg && cancel_one(m_pg); }

std::string connection::sibling_conninfo(const std::string& application_name) const
{
  auto quoted = [](const std::string& v) {
    std::string out = "'";
    for (char ch : v) {
      if (ch == '\\' || ch == '\'') out += '\\';
      out += ch;
    }
    return out + "'";
  };
  PQconninfoOption* opts = PQconninfo(handle());
  if (!opts) throw std::bad_alloc();
  std::string out;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val || std::string(o->keyword) == "application_name") continue;
    out += std::string(o->keyword) + "=" + quoted(o->val) + " ";
  }
  PQconninfoFree(opts);
  return out + "application_name=" + quoted(application_name);
}

std::unique_ptr<connection> connection::open_sibling(const std::string& application_name)
{
  result r = exec("SELECT pg_catalog.current_setting('search_path'), pg_catalog.current_setting('lock_timeout'),"
                  " pg_catalog.current_setting('statement_timeout')");
  auto s = std::make_unique<connection>(sibling_conninfo(application_name));
  s->exec_params("SELECT pg_catalog.set_config('search_path', $1, false), pg_catalog.set_config('lock_timeout', $2, false),"
                 " pg_catalog.set_config('statement_timeout', $3, false)",
                 {{std::string(r.value(0, 0))}, {std::string(r.value(0, 1))}, {std::string(r.value(0, 2))}});
  return s;
}

void connection::close() noexcept
{
  if (m_copy_buf) PQfreemem(m_copy_buf);
  m_copy_buf = nullptr;
  if (m_pg) unregister_cancel(m_pg);
  m_watch.reset();
  m_pg = nullptr;
  m_conn.reset();
}

bool connection::is_open() const noexcept { return m_pg && PQstatus(m_pg) == CONNECTION_OK; }

PGconn* connection::handle() const
{
  if (!m_pg) throw usage_error("connection is closed");
  return m_pg;
}

PGTransactionStatusType connection::transaction_status() const noexcept
{
  return m_pg ? PQtransactionStatus(m_pg) : PQTRANS_UNKNOWN;
}

statement_observer* connection::observe(std::unique_ptr<statement_observer> o) noexcept
{
  m_observer = std::move(o);
  return m_observer.get();
}

void connection::notify(const std::string& sql, bool multi) noexcept
{
  if (!m_observer || m_observing || !m_pg || m_copy_in || m_copy_out) return;
  m_observing = true;
  m_observer->before_statement(*this, sql, multi);
  m_observing = false;
}

int connection::backend_pid() const noexcept { return m_pg ? PQbackendPID(m_pg) : 0; }
int connection::server_version() const noexcept { return m_pg ? PQserverVersion(m_pg) : 0; }

void connection::throw_error(PGresult* r, const std::string& sql)
{
  diagnostics d;
  d.severity = field(r, PG_DIAG_SEVERITY);
  d.sqlstate = field(r, PG_DIAG_SQLSTATE);
  d.message = trim(field(r, PG_DIAG_MESSAGE_PRIMARY));
  d.detail = field(r, PG_DIAG_MESSAGE_DETAIL);
  d.hint = field(r, PG_DIAG_MESSAGE_HINT);
  d.context = field(r, PG_DIAG_CONTEXT);
  d.query = sql;
  std::string pos = field(r, PG_DIAG_STATEMENT_POSITION);
  d.position = pos.empty() ? 0 : std::atoi(pos.c_str());
  if (r) PQclear(r);
  if (m_watch && d.sqlstate == "55P03") name_blockers(*m_watch, d);
  if (m_pg && PQstatus(m_pg) == CONNECTION_BAD) {
    if (d.sqlstate.empty()) d.sqlstate = "08006";
    if (d.message.empty()) d.message = "connection to server lost: " + trim(PQerrorMessage(m_pg));
    m_depth = 0;
    throw connection_lost(std::move(d));
  }
  if (d.message.empty()) d.message = trim(m_pg ? PQerrorMessage(m_pg) : "no connection");
  throw sql_error(std::move(d));
}

result connection::check(PGresult* r, const std::string& sql)
{
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY)
    return result(r);
  if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
    PQclear(r);
    // Leave the protocol in a sane state before telling the caller to use copy_in/copy_out.
    if (st == PGRES_COPY_IN) abort_copy_in("COPY must go through copy_in");
    else drain_copy_out();
    throw usage_error("COPY statements go through copy_in / copy_out: " + sql);
  }
  throw_error(r, sql);
}

result connection::exec(const std::string& sql)
{
  settle();
  notify(sql, true);
  if (m_locks) locks_before(sql);
  PGconn* h = handle();
  result r = check(m_watch ? await_watched(PQsendQuery(h, sql.c_str()) == 1) : PQexec(h, sql.c_str()), sql);
  if (m_locks) locks_after(sql);
  return r;
}

const std::vector<Oid>& connection::param_types(const std::string& sql)
{
  if (auto it = m_param_types.find(sql); it != m_param_types.end()) return it->second;
  result desc = describe(sql);
  std::vector<Oid> types(static_cast<std::size_t>(PQnparams(desc.get())));
  for (std::size_t i = 0; i < types.size(); ++i)
    types[i] = PQparamtype(desc.get(), static_cast<int>(i));
  if (m_param_types.size() > 4096) m_param_types.clear();
  return m_param_types.emplace(sql, std::move(types)).first->second;
}

result connection::describe(const std::string& sql)
{
  settle();
  // The unnamed statement: nothing to deallocate, and exec_params re-plans every time so a
  // later ALTER TABLE cannot make a cached plan stale.
  // Parsing takes the statement's table locks already, so a lock wait may start here.
  PGconn* h = handle();
  check(m_watch ? await_watched(PQsendPrepare(h, "", sql.c_str(), 0, nullptr) == 1) : PQprepare(h, "", sql.c_str(), 0, nullptr), sql);
  return check(m_watch ? await_watched(PQsendDescribePrepared(h, "") == 1) : PQdescribePrepared(h, ""), sql);
}

result connection::exec_params(const std::string& sql, const std::vector<param>& params)
{
  notify(sql, false);
  const std::vector<Oid>& types = param_types(sql);
  if (types.size() != params.size())
    throw usage_error("statement takes " + std::to_string(types.size()) + " parameter(s) but " +
                      std::to_string(params.size()) + " value(s) were given: " + sql);
  const int n = static_cast<int>(params.size());
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size()), formats(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i].is_null ? nullptr : params[i].value.data();
    lengths[i] = static_cast<int>(params[i].value.size());
    formats[i] = types[i] == oid::bytea ? 1 : 0;  // raw bytes: NUL and backslash survive
  }
  if (m_locks) locks_before(sql);
  PGconn* h = handle();
  result r = check(m_watch ? await_watched(PQsendQueryParams(h, sql.c_str(), n, types.data(), values.data(),
                                                             lengths.data(), formats.data(), 0) == 1)
                           : PQexecParams(h, sql.c_str(), n, types.data(), values.data(), lengths.data(), formats.data(), 0),
                   sql);
  if (m_locks) locks_after(sql);
  return r;
}

std::string connection::quote_ident(std::string_view s) const
{
  std::string out = "\"";
  for (char c : s) out += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string connection::quote_literal(std::string_view s) const
{
  // E'' form so backslashes are unambiguous whatever standard_conforming_strings says.
  std::string out;
  bool backslash = false;
  for (char c : s) {
    if (c == '\'') out += "''";
    else if (c == '\\') { out += "\\\\"; backslash = true; }
    else out += c;
  }
  return (backslash ? "E'" : "'") + out + "'";
}

} // namespace mighost::pg
