// Splitting an expression into tokens, each with the column it starts at.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tessera::expr {

struct Token {
  enum class Kind { Number, Name, Symbol, End };
  Kind kind = Kind::End;
  std::string text;  ///< as written; a Symbol's text is the operator or punctuation
  double number = 0;
  int column = 1;  ///< counts characters from 1
};

/// Tokens of `text`, ending with one End token. Throws tessera::Error on a character that
/// begins no token ("column 4: unexpected character '$'").
std::vector<Token> tokenize(std::string_view text);

/// A token as a message names it: "')'", "name 'B'", "number 3", "the end of the expression".
std::string describe(const Token& t);

/// "column N: what".
[[noreturn]] void fail(int column, const std::string& what);

}  // namespace tessera::expr
