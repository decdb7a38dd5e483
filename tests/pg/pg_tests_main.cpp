// doctest's main, and then the run's scratch files (scratch_files.hpp): gone
// when every test passed, kept for a look when one failed.

#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "tests/pg/scratch_files.hpp"

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  int failed = context.run();
  if (!context.shouldExit())
    hitl::test::end_scratch_files(failed == 0);
  return failed;
}
