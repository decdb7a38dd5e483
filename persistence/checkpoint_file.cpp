#include "persistence/checkpoint_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <unistd.h>

namespace hitl {

namespace {

[[noreturn]] void fail(const std::string& path, const char* what, int err) {
  throw checkpoint_file_error(path + ": " + what + ": " + std::strerror(err));
}

} // namespace

void append_checkpoint_line(const std::string& path, std::string_view line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                  0644);
  if (fd < 0)
    fail(path, "cannot open", errno);
  std::string text{line};
  text += '\n';
  // One write: with O_APPEND a line lands whole at the end, even if
  // another writer appends to the same file.
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    auto n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      fail(path, "cannot append", err);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    fail(path, "cannot fsync", err);
  }
  if (::close(fd) != 0)
    fail(path, "cannot close", errno);
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    fail(path, "cannot open", errno);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(std::move(line));
  if (in.bad())
    fail(path, "cannot read", errno);
  return lines;
}

} // namespace hitl
