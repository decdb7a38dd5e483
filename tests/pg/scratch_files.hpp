#pragma once

// The files the pg tests write beside the database (configs, keys, serve
// logs): all in one directory of the test process, so that a run leaves
// nothing behind when it passes and keeps everything when it fails.

#include <string>

namespace hitl::test {

/// A new path in the directory (`$TMPDIR`, else /tmp,
/// `hitl-pg-tests-<pid>`), created on first use: `name` with a number of its
/// own, so that no two calls share a file.
std::string scratch_path(const std::string& name);

/// scratch_path(name), written with `content`.
std::string scratch_file(const std::string& name, const std::string& content);

/// At the end of the run: the directory goes when every test passed, and
/// is named on stderr when one failed.
void end_scratch_files(bool passed);

} // namespace hitl::test
