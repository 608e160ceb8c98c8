// mighost.sys: clocks, signals, hashing and files — what Lua's own libraries lack.
#include "bind/modules.hpp"

#include "lua/barrier.hpp"
#include "mighost_version.hpp"
#include "util/private_file.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <thread>
#include <unistd.h>

namespace mighost::bind {

namespace {

int (*g_interrupts)() = nullptr;
std::atomic<int> g_threshold{1};

/// Hex SHA-256 of data fed by `feed`, which calls update(ptr, len) as often as it likes.
template <class Feed>
std::string sha256_hex(Feed feed)
{
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("sha256: OpenSSL init failed");
  feed([&](const void* p, std::size_t n) { EVP_DigestUpdate(ctx.get(), p, n); });
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += {digits[md[i] >> 4], digits[md[i] & 15]};
  return hex;
}

int sys_now(lua_State* L)
{
  auto t = std::chrono::steady_clock::now().time_since_epoch();
  lua_pushnumber(L, std::chrono::duration<double>(t).count());
  return 1;
}

int sys_time(lua_State* L)
{
  auto t = std::chrono::system_clock::now().time_since_epoch();
  lua_pushnumber(L, std::chrono::duration<double>(t).count());
  return 1;
}

int sys_sleep(lua_State* L)
{
  double s = luaL_checknumber(L, 1);
  if (s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(s));
  return 0;
}

int sys_isatty(lua_State* L)
{
  lua_pushboolean(L, isatty(static_cast<int>(luaL_optinteger(L, 1, 1))) == 1);
  return 1;
}

int sys_interrupted(lua_State* L)
{
  lua_pushinteger(L, g_interrupts ? g_interrupts() : 0);
  return 1;
}

/// sys.defer_interrupts(true): the script (the migration framework) handles the first SIGINT
/// itself at a batch boundary; only a second one aborts at once.
int sys_defer_interrupts(lua_State* L)
{
  g_threshold = lua_toboolean(L, 1) ? 2 : 1;
  return 0;
}

int sys_sha256(lua_State* L)
{
  std::size_t n = 0;
  const char* s = luaL_checklstring(L, 1, &n);
  return lua::protect(L, [&] {
    lua_pushstring(L, sha256_hex([&](auto update) { update(s, n); }).c_str());
    return 1;
  });
}

int sys_sha256_file(lua_State* L)
{
  std::string path = luaL_checkstring(L, 1);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path.c_str(), std::strerror(errno));
    return 2;
  }
  return lua::protect(L, [&] {
    lua_pushstring(L, sha256_hex([&](auto update) {
                        std::vector<char> buf(1 << 16);
                        while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
                          update(buf.data(), static_cast<std::size_t>(in.gcount()));
                      }).c_str());
    return 1;
  });
}

int sys_mkdir_p(lua_State* L)
{
  std::string path = luaL_checkstring(L, 1);
  mode_t mode = static_cast<mode_t>(luaL_optinteger(L, 2, 0755));
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i != path.size() && path[i] != '/') continue;
    std::string part = path.substr(0, i);
    if (mkdir(part.c_str(), mode) != 0 && errno != EEXIST) {
      lua_pushnil(L);
      lua_pushfstring(L, "%s: %s", part.c_str(), std::strerror(errno));
      return 2;
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

/// sys.create_private(path): an empty file only its owner can read (true, or nil + message).
int sys_create_private(lua_State* L)
{
  std::string path = luaL_checkstring(L, 1);
  try {
    util::create_private_file(path);
  } catch (const std::exception& e) {
    lua_pushnil(L);
    lua_pushstring(L, e.what());
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

int sys_exists(lua_State* L)
{
  struct stat st;
  lua_pushboolean(L, stat(luaL_checkstring(L, 1), &st) == 0);
  return 1;
}

/// sys.free_bytes(path) -> bytes an unprivileged writer may still use on the file system that
/// holds `path`, or of its nearest existing parent (a directory not made yet); nil when none is found.
int sys_free_bytes(lua_State* L)
{
  std::string path = luaL_checkstring(L, 1);
  struct statvfs fs;
  while (statvfs(path.empty() ? "." : path.c_str(), &fs) != 0) {
    auto slash = path.find_last_of('/', path.size() > 1 ? path.size() - 2 : 0);
    if (errno != ENOENT || path.empty() || path == "/") return 0;
    path = slash == std::string::npos ? std::string() : path.substr(0, slash == 0 ? 1 : slash);
  }
  lua_pushnumber(L, static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize));
  return 1;
}

int sys_getpid(lua_State* L)
{
  lua_pushinteger(L, getpid());
  return 1;
}

int sys_hostname(lua_State* L)
{
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  lua_pushstring(L, buf);
  return 1;
}

int write_fd(lua_State* L, int fd)
{
  std::size_t n = 0;
  const char* s = luaL_checklstring(L, 1, &n);
  while (n > 0) {
    ssize_t w = ::write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
  return 0;
}

int sys_write(lua_State* L)
{
  fflush(stdout);  // keep order with io.write / print
  return write_fd(L, STDOUT_FILENO);
}

int sys_ewrite(lua_State* L) { return write_fd(L, STDERR_FILENO); }

} // namespace

void set_interrupt_source(int (*count)()) { g_interrupts = count; }

int interrupt_threshold() noexcept { return g_threshold; }

int open_sys(lua_State* L)
{
  static const luaL_Reg fns[] = {
    {"now", sys_now},         {"time", sys_time},           {"sleep", sys_sleep},
    {"isatty", sys_isatty},   {"interrupted", sys_interrupted}, {"sha256", sys_sha256},
    {"sha256_file", sys_sha256_file}, {"mkdir_p", sys_mkdir_p}, {"exists", sys_exists},
    {"free_bytes", sys_free_bytes},
    {"create_private", sys_create_private},
    {"getpid", sys_getpid},   {"hostname", sys_hostname},   {"write", sys_write},
    {"ewrite", sys_ewrite},   {"defer_interrupts", sys_defer_interrupts}, {nullptr, nullptr}};
  lua_newtable(L);
  luaL_register(L, nullptr, fns);
  lua_pushliteral(L, MIGHOST_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}

} // namespace mighost::bind
