#include "policy/utf8.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace hitl;

TEST_CASE("utf8: well-formed sequences and their code points") {
  uint32_t cp = 0;
  CHECK(utf8_sequence("a", 0, cp) == 1);
  CHECK(cp == 'a');
  CHECK(utf8_sequence("\xC3\xA9", 0, cp) == 2);
  CHECK(cp == 0xE9);
  CHECK(utf8_sequence("\xE2\x82\xAC", 0, cp) == 3);
  CHECK(cp == 0x20AC);
  CHECK(utf8_sequence("\xF0\x9F\x98\x80", 0, cp) == 4);
  CHECK(cp == 0x1F600);
  CHECK(utf8_sequence("x\xC3\xA9", 1, cp) == 2);
}

TEST_CASE("utf8: what is not UTF-8 has no sequence") {
  uint32_t cp = 0;
  CHECK(utf8_sequence("\xC0\xAF", 0, cp) == 0);         // overlong '/'
  CHECK(utf8_sequence("\xE0\x80\xAF", 0, cp) == 0);     // overlong, 3 bytes
  CHECK(utf8_sequence("\xED\xA0\x80", 0, cp) == 0);     // a surrogate
  CHECK(utf8_sequence("\xF4\x90\x80\x80", 0, cp) == 0); // above U+10FFFF
  CHECK(utf8_sequence("\xE2\x82", 0, cp) == 0);         // cut short
  CHECK(utf8_sequence("\x80", 0, cp) == 0);             // a lone continuation
  CHECK(utf8_sequence("\xFF", 0, cp) == 0);
}

TEST_CASE("utf8: plain text has neither bad bytes nor control characters") {
  CHECK(plain_text(""));
  CHECK(plain_text("patch-42 caf\xC3\xA9"));
  CHECK_FALSE(plain_text("a\tb"));
  CHECK_FALSE(plain_text(std::string("a\0b", 3)));
  CHECK_FALSE(plain_text("del\x7F"));
  CHECK_FALSE(plain_text("c1\xC2\x85"));
  CHECK_FALSE(plain_text("bad\xFF"));
  CHECK(is_control(0x9F));
  CHECK_FALSE(is_control(0xA0));
}

TEST_CASE("utf8: characters are counted as PostgreSQL counts them") {
  CHECK(char_count("") == 0);
  CHECK(char_count("abc") == 3);
  CHECK(char_count("caf\xC3\xA9 \xF0\x9F\x98\x80") == 6);
  CHECK(is_blank(" \t\r\n"));
  CHECK(is_blank(""));
  CHECK_FALSE(is_blank(" x "));
}
