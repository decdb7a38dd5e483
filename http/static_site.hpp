#pragma once

// The built web UI, read into memory at start from the folder next to the
// binary (`<dir of hitl>/web`), so that `hitl` serves it wherever it is
// started from, never relative to the current directory.

#include <map>
#include <optional>
#include <string>

namespace hitl {

struct static_file {
  std::string body;
  std::string content_type;
  std::string cache_control;
};

class static_site {
public:
  /// Reads every regular file below `root`; std::nullopt when `root` has no
  /// index.html.
  static std::optional<static_site> load(const std::string& root);

  /// The file at a URL path ("/" is index.html); nullptr when absent.
  const static_file* find(const std::string& url_path) const;

  size_t bytes() const {
    return bytes_;
  }

private:
  std::map<std::string, static_file> files_;
  size_t bytes_ = 0;
};

/// Where the UI is: $HITL_WEB_ROOT, else `<dir of the running binary>/web`,
/// else `<dir of the running binary>/../share/hitl/web`.
std::string locate_web_root();

} // namespace hitl
