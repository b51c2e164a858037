// Tokenizer of the rule expression language; used only by the expression
// compiler, not part of the rules API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace txguard::rules_internal {

enum class TokenKind : std::uint8_t {
  kEnd,
  kNumber,
  kIdentifier,
  kString,
  kTrue,
  kFalse,
  kLeftParen,
  kRightParen,
  kComma,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kEqual,
  kNotEqual,
  kAnd,
  kOr,
  kNot,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;   // for kString, the text between the quotes
  std::size_t column = 0;  // 1-based
  double number = 0.0;
};
// Returns the token as messages quote it, e.g. "'and'" or "the end of the
// expression".
std::string describe(const Token& token);

// Splits an expression into tokens on demand. Throws ExpressionError on a
// character or number that cannot start or form a token.
class Lexer {
 public:
  explicit Lexer(std::string_view source) : source_(source) {}

  Token next();

 private:
  Token lexNumber(Token token);
  Token lexWord(Token token);
  Token lexString(Token token);
  Token lexOperator(Token token);
  char peek() const;  // the next character, or '\0' at the end
  void skipDigits();

  std::string_view source_;
  std::size_t position_ = 0;
};

}  // namespace txguard::rules_internal
