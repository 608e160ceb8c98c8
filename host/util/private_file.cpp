#include "util/private_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mighost::util {

void create_private_file(const std::string& path)
{
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  // O_CREAT's mode applies only to a new file: an existing one is narrowed explicitly.
  if (fd < 0 || ::fchmod(fd, 0600) != 0) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot create " + path + ": " + std::strerror(err));
  }
  ::close(fd);
}

} // namespace mighost::util
