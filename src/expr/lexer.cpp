// The tokenizer: numbers, names, and the operators of C, Python and numpy spellings.
#include "lexer.hpp"

#include <array>
#include <cctype>
#include <charconv>

#include "tessera/core/error.hpp"
#include "tessera/expr/expression.hpp"

namespace tessera::expr {
namespace {

// Longest first, so that "**" is not read as two "*".
constexpr std::array<std::string_view, 28> kSymbols{
    "**", "<=", ">=", "==", "!=", "&&", "||", "+", "-", "*", "/", "%", "^", "<",
    ">",  "&",  "|",  "!",  "~",  "?",  ":",  "(", ")", ",", "[", "]", ".", "=",
};

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) {
  return is_name_start(c) || std::isdigit(static_cast<unsigned char>(c));
}
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// Digits, an optional fraction and an optional exponent: 3, 3., .5, 2.5e-3.
size_t number_length(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i < s.size() && s[i] == '.') ++i;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    if (j < s.size() && is_digit(s[j])) {
      i = j;
      while (i < s.size() && is_digit(s[i])) ++i;
    }
  }
  return i;
}

Token read_number(std::string_view rest, int column) {
  const size_t len = number_length(rest);
  Token t{Token::Kind::Number, std::string(rest.substr(0, len)), 0, column};
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + len, t.number);
  if (ec != std::errc() || end != rest.data() + len) fail(column, "bad number '" + t.text + "'");
  return t;
}

Token read_symbol(std::string_view rest, int column) {
  for (std::string_view s : kSymbols)
    if (rest.starts_with(s)) return {Token::Kind::Symbol, std::string(s), 0, column};
  fail(column, "unexpected character '" + std::string(1, rest[0]) + "'");
}

Token next_token(std::string_view rest, int column) {
  const bool fraction = rest[0] == '.' && rest.size() > 1 && is_digit(rest[1]);
  if (is_digit(rest[0]) || fraction) return read_number(rest, column);
  if (!is_name_start(rest[0])) return read_symbol(rest, column);
  size_t len = 1;
  while (len < rest.size() && is_name_char(rest[len])) ++len;
  return {Token::Kind::Name, std::string(rest.substr(0, len)), 0, column};
}

}  // namespace

void fail(int column, const std::string& what) {
  throw ParseError(column, "column " + std::to_string(column) + ": " + what);
}

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (true) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const int column = static_cast<int>(i) + 1;
    if (i == text.size()) break;
    tokens.push_back(next_token(text.substr(i), column));
    i += tokens.back().text.size();
  }
  tokens.push_back({Token::Kind::End, "", 0, static_cast<int>(text.size()) + 1});
  return tokens;
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case Token::Kind::Number:
      return "number " + t.text;
    case Token::Kind::Name:
      return "name '" + t.text + "'";
    case Token::Kind::Symbol:
      return "'" + t.text + "'";
    case Token::Kind::End:
      break;
  }
  return "the end of the expression";
}

}  // namespace tessera::expr
