#pragma once
/// @file Backup files on disk: the output directory, hashed (and zstd-compressed) writers and
/// readers, atomic small files. No database here.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mighost::backup {

/// An error of the backup engine. `refused` = nothing was changed because the request would have
/// overwritten data (exit 2); `corrupt` = a backup file does not match its manifest (exit 3).
class backup_error : public std::runtime_error
{
public:
  enum class kind { failed, refused, corrupt };
  backup_error(kind k, const std::string& message) : std::runtime_error(message), m_kind(k) {}
  kind error_kind() const noexcept { return m_kind; }

private:
  kind m_kind;
};

/// How data files are stored; none is the default (see the measurement in snapshot.cpp).
enum class compression { none, zstd };

compression parse_compression(const std::string& name);  ///< "zstd" | "none"; throws backup_error
const char* compression_name(compression c) noexcept;

/// Incremental SHA-256 (OpenSSL EVP).
class sha256
{
public:
  sha256();
  ~sha256();
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;
  void update(const void* data, std::size_t n);
  std::string hex();  ///< finishes the digest; call once

private:
  struct impl;
  std::unique_ptr<impl> m_impl;
};

/// Makes `dir` ready for a new backup, before anything else happens: creates it (and missing
/// parents) with mode 0700, or checks that an existing one is a directory, then proves it
/// writable by writing, syncing and removing a probe file. With `backup_dir` (a snapshot
/// directory of its own) an existing one must not hold a manifest.json yet and is set to 0700;
/// without it (a JSON export into, say, the current directory) an existing one is left as it is.
/// Throws backup_error naming the path and the system's reason. Returns true when it created `dir`.
bool prepare_output_dir(const std::string& dir, bool backup_dir = true);

/// Whether a backup could be written into `dir`, without creating anything: an existing `dir`
/// must be a directory where a probe file can be written, synced and removed; a missing one needs
/// its nearest existing ancestor to be a directory the process may write. Returns "" when it can,
/// else the reason naming the path.
std::string probe_output_dir(const std::string& dir);

/// fsync of a directory, so the names of files created in it survive a crash.
void sync_dir(const std::string& dir);

/// Writes `content` to dir/name (mode 0600) through a temp file + fsync + rename.
void write_file_atomic(const std::string& dir, const std::string& name, const std::string& content);

/// The whole file as a string; throws backup_error.
std::string read_whole_file(const std::string& path);

/// One new data file (O_EXCL, mode 0600), optionally zstd-compressed as it is written. Keeps the
/// SHA-256 and size of the bytes on disk. finish() flushes, fsyncs and closes; a sink destroyed
/// without finish() just closes (the caller removes the file).
class file_sink
{
public:
  file_sink(const std::string& path, compression c, int level = 1);
  ~file_sink();
  file_sink(const file_sink&) = delete;
  file_sink& operator=(const file_sink&) = delete;

  /// Appends data (buffered; compressed and written in large blocks).
  void write(std::string_view data);
  void finish();
  const std::string& digest() const noexcept { return m_digest; }  ///< after finish()
  std::uint64_t bytes_on_disk() const noexcept { return m_disk_bytes; }
  std::uint64_t bytes_in() const noexcept { return m_in_bytes; }

private:
  void flush_buffer(bool end);
  void write_raw(const char* p, std::size_t n);

  std::string m_path;
  int m_fd = -1;
  compression m_comp;
  void* m_cctx = nullptr;  // ZSTD_CCtx*
  std::string m_buf;
  std::string m_out;
  sha256 m_hash;
  std::string m_digest;
  std::uint64_t m_disk_bytes = 0;
  std::uint64_t m_in_bytes = 0;
};

/// Reads a data file back: next() yields the decompressed content in chunks; the SHA-256 and size
/// are of the bytes on disk. A truncated or damaged zstd stream throws backup_error(corrupt).
class file_source
{
public:
  file_source(const std::string& path, compression c);
  ~file_source();
  file_source(const file_source&) = delete;
  file_source& operator=(const file_source&) = delete;

  /// The next chunk of content (valid until the next call); false at the end.
  bool next(std::string_view& chunk);
  std::string digest() { return m_hash.hex(); }  ///< after next() returned false
  std::uint64_t bytes_on_disk() const noexcept { return m_disk_bytes; }

private:
  bool read_raw();

  std::string m_path;
  int m_fd = -1;
  compression m_comp;
  void* m_dctx = nullptr;  // ZSTD_DCtx*
  std::string m_raw;
  std::size_t m_raw_len = 0;
  std::size_t m_raw_pos = 0;
  std::string m_out;
  bool m_eof = false;
  bool m_frame_done = false;
  sha256 m_hash;
  std::uint64_t m_disk_bytes = 0;
};

/// Removes a file, ignoring errors (clean-up after a failed backup).
void remove_quietly(const std::string& path) noexcept;

} // namespace mighost::backup
