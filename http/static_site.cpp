#include "http/static_site.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hitl {

namespace {

namespace fs = std::filesystem;

std::string content_type_of(const fs::path& p) {
  static const std::map<std::string, std::string> types{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json"},
  };
  auto it = types.find(p.extension().string());
  return it == types.end() ? "application/octet-stream" : it->second;
}

} // namespace

std::optional<static_site> static_site::load(const std::string& root) {
  std::error_code ec;
  if (root.empty() || !fs::is_regular_file(fs::path{root} / "index.html", ec))
    return std::nullopt;
  static_site site;
  for (const auto& entry : fs::recursive_directory_iterator(root, ec)) {
    if (!entry.is_regular_file())
      continue;
    std::ifstream in{entry.path(), std::ios::binary};
    std::ostringstream body;
    body << in.rdbuf();
    auto rel = "/" + fs::relative(entry.path(), root).generic_string();
    static_file f;
    f.body = body.str();
    f.content_type = content_type_of(entry.path());
    // Vite names assets by content hash: they never change under a name.
    f.cache_control = rel.rfind("/assets/", 0) == 0
                        ? "public, max-age=31536000, immutable"
                        : "no-cache";
    site.bytes_ += f.body.size();
    site.files_.emplace(rel, std::move(f));
  }
  return site;
}

const static_file* static_site::find(const std::string& url_path) const {
  auto path = url_path == "/" ? std::string{"/index.html"} : url_path;
  if (path.find("..") != std::string::npos)
    return nullptr;
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

std::string locate_web_root() {
  if (const char* env = std::getenv("HITL_WEB_ROOT"); env && *env)
    return env;
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec)
    return {};
  for (auto candidate : {exe.parent_path() / "web",
                         exe.parent_path() / ".." / "share" / "hitl" / "web"})
    if (fs::is_regular_file(candidate / "index.html", ec))
      return candidate.string();
  return {};
}

} // namespace hitl
