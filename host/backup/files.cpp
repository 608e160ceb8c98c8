// Backup files on disk: directory preparation, hashed/compressed writers and readers.
#include "backup/files.hpp"

#include <openssl/evp.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace mighost::backup {

namespace {

constexpr std::size_t k_block = 1 << 20;  // write and compress in 1 MiB blocks
constexpr std::uint64_t k_min_free = 1 << 20;

[[noreturn]] void fail_errno(const std::string& what, const std::string& path, int err)
{
  throw backup_error(backup_error::kind::failed, what + " " + path + ": " + std::strerror(err));
}

void mkdir_p(const std::string& dir)
{
  for (std::size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) fail_errno("cannot create directory", part, errno);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) fail_errno("cannot create directory", dir, errno);
  if (!S_ISDIR(st.st_mode)) fail_errno("cannot create directory", dir, ENOTDIR);
}

void write_all(int fd, const char* p, std::size_t n, const std::string& path)
{
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail_errno("cannot write", path, errno);
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

int open_new(const std::string& path)
{
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) fail_errno("cannot create", path, errno);
  return fd;
}

void sync_close(int fd, const std::string& path)
{
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    fail_errno("cannot sync", path, err);
  }
  if (::close(fd) != 0) fail_errno("cannot close", path, errno);
}

} // namespace

compression parse_compression(const std::string& name)
{
  if (name == "zstd") return compression::zstd;
  if (name == "none") return compression::none;
  throw backup_error(backup_error::kind::failed, "unknown compression '" + name + "' (zstd or none)");
}

const char* compression_name(compression c) noexcept { return c == compression::zstd ? "zstd" : "none"; }

struct sha256::impl
{
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool done = false;
  std::string hex;
};

sha256::sha256() : m_impl(std::make_unique<impl>())
{
  if (!m_impl->ctx || EVP_DigestInit_ex(m_impl->ctx, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("sha256: OpenSSL initialisation failed");
}

sha256::~sha256() { EVP_MD_CTX_free(m_impl->ctx); }

void sha256::update(const void* data, std::size_t n)
{
  if (n > 0) EVP_DigestUpdate(m_impl->ctx, data, n);
}

std::string sha256::hex()
{
  if (m_impl->done) return m_impl->hex;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(m_impl->ctx, md, &len);
  static const char digits[] = "0123456789abcdef";
  for (unsigned i = 0; i < len; ++i) m_impl->hex += {digits[md[i] >> 4], digits[md[i] & 15]};
  m_impl->done = true;
  return m_impl->hex;
}

namespace {

/// Writes, syncs and removes a probe file in `dir`. A real write proves what permissions and
/// statvfs only suggest (root ignores modes; a read-only mount or a full disk shows up here, before
/// the caller changes anything).
void probe_write(const std::string& dir)
{
  std::string probe = dir + "/.mighost-probe-" + std::to_string(::getpid());
  int fd = open_new(probe);
  try {
    std::string block(64 * 1024, '\0');
    write_all(fd, block.data(), block.size(), probe);
  } catch (...) {
    ::close(fd);
    ::unlink(probe.c_str());
    throw;
  }
  try {
    sync_close(fd, probe);  // closes fd whether it throws or not
  } catch (...) {
    ::unlink(probe.c_str());
    throw;
  }
  ::unlink(probe.c_str());
}

} // namespace

bool prepare_output_dir(const std::string& dir, bool backup_dir)
{
  if (dir.empty()) throw backup_error(backup_error::kind::failed, "no backup directory given");
  struct stat st {};
  bool created = false;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) fail_errno("cannot use backup directory", dir, ENOTDIR);
    if (backup_dir && ::access((dir + "/manifest.json").c_str(), F_OK) == 0)
      throw backup_error(backup_error::kind::refused,
                         "backup directory " + dir + " already holds a backup (manifest.json); choose a new one");
  } else {
    mkdir_p(dir);
    created = true;
  }
  try {
    if ((backup_dir || created) && ::chmod(dir.c_str(), 0700) != 0) fail_errno("cannot set mode 0700 on", dir, errno);
    struct statvfs vfs {};
    if (::statvfs(dir.c_str(), &vfs) == 0 && !(vfs.f_flag & ST_RDONLY) &&
        static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize < k_min_free)
      fail_errno("not enough space in", dir, ENOSPC);
    probe_write(dir);
  } catch (...) {
    if (created) ::rmdir(dir.c_str());  // a failed probe leaves no empty directory behind
    throw;
  }
  return created;
}

std::string probe_output_dir(const std::string& dir)
{
  try {
    if (dir.empty()) return "no backup directory given";
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) fail_errno("cannot use backup directory", dir, ENOTDIR);
      probe_write(dir);
      return "";
    }
    if (errno != ENOENT) fail_errno("cannot use backup directory", dir, errno);
    std::string up = dir;  // the nearest existing ancestor must let us create the rest
    for (;;) {
      while (up.size() > 1 && up.back() == '/') up.pop_back();
      auto slash = up.rfind('/');
      up = slash == std::string::npos ? "." : (slash == 0 ? "/" : up.substr(0, slash));
      if (::stat(up.c_str(), &st) == 0) break;
      if (errno != ENOENT) fail_errno("cannot create backup directory " + dir + " under", up, errno);
      if (up == "." || up == "/") fail_errno("cannot create backup directory", dir, ENOENT);
    }
    if (!S_ISDIR(st.st_mode)) fail_errno("cannot create backup directory " + dir + " under", up, ENOTDIR);
    if (::access(up.c_str(), W_OK | X_OK) != 0) fail_errno("cannot create backup directory " + dir + " in", up, errno);
    return "";
  } catch (const backup_error& e) {
    return e.what();
  }
}

void sync_dir(const std::string& dir)
{
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail_errno("cannot open directory", dir, errno);
  sync_close(fd, dir);
}

void write_file_atomic(const std::string& dir, const std::string& name, const std::string& content)
{
  std::string tmp = dir + "/." + name + ".tmp";
  std::string path = dir + "/" + name;
  ::unlink(tmp.c_str());
  int fd = open_new(tmp);
  try {
    write_all(fd, content.data(), content.size(), tmp);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  try {
    sync_close(fd, tmp);  // closes fd whether it throws or not: no second close of a reused number
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail_errno("cannot rename to", path, err);
  }
  sync_dir(dir);
}

std::string read_whole_file(const std::string& path)
{
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_errno("cannot open", path, errno);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      fail_errno("cannot read", path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

void remove_quietly(const std::string& path) noexcept { ::unlink(path.c_str()); }

file_sink::file_sink(const std::string& path, compression c, int level) : m_path(path), m_comp(c)
{
  if (c == compression::zstd) {
    auto* cctx = ZSTD_createCCtx();
    if (!cctx) throw std::bad_alloc();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    // One worker thread: compression overlaps with reading COPY rows (a no-op, and still
    // correct, when libzstd is built without threads).
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, 1);
    m_cctx = cctx;
    m_out.resize(ZSTD_CStreamOutSize());
  }
  m_buf.reserve(k_block + 65536);
  m_fd = open_new(path);
}

file_sink::~file_sink()
{
  if (m_fd >= 0) ::close(m_fd);
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(m_cctx));
}

void file_sink::write(std::string_view data)
{
  m_in_bytes += data.size();
  m_buf.append(data);
  if (m_buf.size() >= k_block) flush_buffer(false);
}

void file_sink::write_raw(const char* p, std::size_t n)
{
  write_all(m_fd, p, n, m_path);
  m_hash.update(p, n);
  m_disk_bytes += n;
}

void file_sink::flush_buffer(bool end)
{
  if (m_comp == compression::none) {
    write_raw(m_buf.data(), m_buf.size());
    m_buf.clear();
    return;
  }
  auto* cctx = static_cast<ZSTD_CCtx*>(m_cctx);
  ZSTD_inBuffer in{m_buf.data(), m_buf.size(), 0};
  for (;;) {
    ZSTD_outBuffer out{m_out.data(), m_out.size(), 0};
    std::size_t left = ZSTD_compressStream2(cctx, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(left))
      throw backup_error(backup_error::kind::failed, "zstd: " + std::string(ZSTD_getErrorName(left)));
    write_raw(m_out.data(), out.pos);
    if (end ? left == 0 : in.pos == in.size) break;
  }
  m_buf.clear();
}

void file_sink::finish()
{
  flush_buffer(true);
  int fd = m_fd;
  m_fd = -1;
  sync_close(fd, m_path);
  m_digest = m_hash.hex();
}

file_source::file_source(const std::string& path, compression c) : m_path(path), m_comp(c)
{
  m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m_fd < 0) fail_errno("cannot open", path, errno);
  if (c == compression::zstd) {
    m_dctx = ZSTD_createDCtx();
    if (!m_dctx) throw std::bad_alloc();
    m_out.resize(ZSTD_DStreamOutSize() * 4);
  }
  m_raw.resize(k_block);
}

file_source::~file_source()
{
  if (m_fd >= 0) ::close(m_fd);
  ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(m_dctx));
}

bool file_source::read_raw()
{
  for (;;) {
    ssize_t n = ::read(m_fd, m_raw.data(), m_raw.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno("cannot read", m_path, errno);
    m_raw_pos = 0;
    m_raw_len = static_cast<std::size_t>(n);
    m_hash.update(m_raw.data(), m_raw_len);
    m_disk_bytes += m_raw_len;
    m_eof = (n == 0);
    return n > 0;
  }
}

bool file_source::next(std::string_view& chunk)
{
  if (m_comp == compression::none) {
    if (m_eof || !read_raw()) return false;
    chunk = std::string_view(m_raw.data(), m_raw_len);
    return true;
  }
  auto* dctx = static_cast<ZSTD_DCtx*>(m_dctx);
  for (;;) {
    if (m_raw_pos == m_raw_len && !m_eof) read_raw();
    if (m_raw_pos == m_raw_len && m_eof && m_frame_done) return false;  // a new frame would need input
    ZSTD_inBuffer in{m_raw.data(), m_raw_len, m_raw_pos};
    ZSTD_outBuffer out{m_out.data(), m_out.size(), 0};
    std::size_t r = ZSTD_decompressStream(dctx, &out, &in);
    if (ZSTD_isError(r))
      throw backup_error(backup_error::kind::corrupt, m_path + ": damaged zstd data (" + ZSTD_getErrorName(r) + ")");
    m_raw_pos = in.pos;
    m_frame_done = (r == 0);
    if (out.pos > 0) {
      chunk = std::string_view(m_out.data(), out.pos);
      return true;
    }
    if (m_eof && m_raw_pos == m_raw_len) {
      if (!m_frame_done) throw backup_error(backup_error::kind::corrupt, m_path + ": truncated zstd stream");
      return false;
    }
  }
}

} // namespace mighost::backup
