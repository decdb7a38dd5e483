#include "persistence/signing_key_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace hitl {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw signature_error(path + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

template <class Key>
Key parse(const std::string& path) {
  auto pem = read_file(path);
  try {
    return Key::from_pem(pem);
  } catch (const signature_error& e) {
    throw signature_error(path + ": " + e.what());
  }
}

} // namespace

void write_new_key_file(const std::string& path, const signing_key& key) {
  auto pem = key.to_pem();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  0600);
  if (fd < 0)
    throw signature_error(path + ": cannot create: " + std::strerror(errno));
  // The umask may only take bits away; 0600 is what we mean.
  bool ok = ::fchmod(fd, 0600) == 0
            && ::write(fd, pem.data(), pem.size())
                 == static_cast<ssize_t>(pem.size())
            && ::fsync(fd) == 0;
  int err = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(path.c_str());
    throw signature_error(path + ": cannot write: " + std::strerror(err));
  }
}

signing_key read_key_file(const std::string& path) {
  return parse<signing_key>(path);
}

verify_key read_public_key_file(const std::string& path) {
  return parse<verify_key>(path);
}

} // namespace hitl
