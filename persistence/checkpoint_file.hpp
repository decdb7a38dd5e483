#pragma once

// The append-only JSON-lines file of signed checkpoints
// (`audit.checkpoint_file`): a copy of the chain's signed heads outside the
// database, for `hitl audit verify --checkpoints FILE`.

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hitl {

class checkpoint_file_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Appends `line` and a newline with O_APPEND in one write, then fsyncs:
/// when it returns, the line is on disk. Creates the file (mode 0644).
/// @throws checkpoint_file_error naming the path and the errno text.
void append_checkpoint_line(const std::string& path, std::string_view line);

/// The file's lines, without their newlines (a last line without one
/// included). @throws checkpoint_file_error when it cannot be read.
std::vector<std::string> read_lines(const std::string& path);

} // namespace hitl
