#include "rules/expression_lexer.h"

#include <cctype>
#include <charconv>
#include <cmath>

#include "rules/error.h"

namespace txguard::rules_internal {
namespace {

bool isIdentifierStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}

bool isIdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string describe(const Token& token) {
  if (token.kind == TokenKind::kEnd) return "the end of the expression";
  // Appending to a std::string, rather than `"'" + std::string(...)`, avoids
  // GCC 12's false -Wrestrict warning on operator+(const char*, string&&).
  const bool is_string = token.kind == TokenKind::kString;
  std::string quoted = is_string ? "the string \"" : "'";
  quoted += token.text;
  quoted += is_string ? "\"" : "'";
  return quoted;
}

Token Lexer::next() {
  while (position_ < source_.size() &&
         std::isspace(static_cast<unsigned char>(source_[position_])) != 0) {
    ++position_;
  }
  Token token;
  token.column = position_ + 1;
  if (position_ >= source_.size()) return token;

  const char c = source_[position_];
  if (isDigit(c)) return lexNumber(token);
  if (isIdentifierStart(c)) return lexWord(token);
  if (c == '"' || c == '\'') return lexString(token);
  return lexOperator(token);
}

Token Lexer::lexNumber(Token token) {
  const std::size_t start = position_;
  const auto invalid = [&](std::string_view expected) {
    return ExpressionError(token.column, "invalid number '" +
                                             std::string(source_.substr(start, position_ - start)) +
                                             "': expected " + std::string(expected));
  };

  skipDigits();
  if (peek() == '.') {
    ++position_;
    if (!isDigit(peek())) throw invalid("digits after the decimal point");
    skipDigits();
  }

  if (peek() == 'e' || peek() == 'E') {
    ++position_;
    if (peek() == '+' || peek() == '-') ++position_;
    if (!isDigit(peek())) throw invalid("digits in the exponent");
    skipDigits();
  }

  if (peek() != '\0' && isIdentifierChar(peek())) {
    throw ExpressionError(position_ + 1, "unexpected '" + std::string(1, peek()) +
                                             "' after the number; separate names and numbers "
                                             "with an operator");
  }

  token.kind = TokenKind::kNumber;
  token.text = source_.substr(start, position_ - start);
  const auto result =
      std::from_chars(token.text.data(), token.text.data() + token.text.size(), token.number);
  // Features are 32-bit floats, so a literal is rounded to the nearest
  // float: `amount == 0.1` then matches an amount stored as 0.1f.
  const double rounded = static_cast<double>(static_cast<float>(token.number));
  if (result.ec != std::errc() || !std::isfinite(rounded)) {
    throw ExpressionError(token.column, "number '" + std::string(token.text) +
                                            "' is out of range for a 32-bit float feature");
  }
  token.number = rounded;
  return token;
}

Token Lexer::lexWord(Token token) {
  const std::size_t start = position_;
  while (position_ < source_.size() && isIdentifierChar(source_[position_])) ++position_;
  token.text = source_.substr(start, position_ - start);
  if (token.text == "and") {
    token.kind = TokenKind::kAnd;
  } else if (token.text == "or") {
    token.kind = TokenKind::kOr;
  } else if (token.text == "not") {
    token.kind = TokenKind::kNot;
  } else if (token.text == "true") {
    token.kind = TokenKind::kTrue;
  } else if (token.text == "false") {
    token.kind = TokenKind::kFalse;
  } else {
    token.kind = TokenKind::kIdentifier;
  }
  return token;
}

Token Lexer::lexString(Token token) {
  const char quote = source_[position_];
  const std::size_t end = source_.find(quote, position_ + 1);
  if (end == std::string_view::npos) {
    throw ExpressionError(token.column,
                          std::string("unterminated string: expected a closing ") + quote);
  }
  token.kind = TokenKind::kString;
  token.text = source_.substr(position_ + 1, end - position_ - 1);
  position_ = end + 1;
  return token;
}

Token Lexer::lexOperator(Token token) {
  const char c = source_[position_];
  const char following = position_ + 1 < source_.size() ? source_[position_ + 1] : '\0';
  std::size_t length = 1;
  switch (c) {
    case '(':
      token.kind = TokenKind::kLeftParen;
      break;
    case ')':
      token.kind = TokenKind::kRightParen;
      break;
    case ',':
      token.kind = TokenKind::kComma;
      break;
    case '+':
      token.kind = TokenKind::kPlus;
      break;
    case '-':
      token.kind = TokenKind::kMinus;
      break;
    case '*':
      token.kind = TokenKind::kStar;
      break;
    case '/':
      token.kind = TokenKind::kSlash;
      break;
    case '<':
      token.kind = following == '=' ? TokenKind::kLessEqual : TokenKind::kLess;
      length = following == '=' ? 2 : 1;
      break;
    case '>':
      token.kind = following == '=' ? TokenKind::kGreaterEqual : TokenKind::kGreater;
      length = following == '=' ? 2 : 1;
      break;
    case '!':
      token.kind = following == '=' ? TokenKind::kNotEqual : TokenKind::kNot;
      length = following == '=' ? 2 : 1;
      break;
    case '=':
      if (following != '=') {
        throw ExpressionError(token.column, "unexpected '='; use '==' to compare");
      }
      token.kind = TokenKind::kEqual;
      length = 2;
      break;
    case '&':
      if (following != '&') throw ExpressionError(token.column, "unexpected '&'; use 'and'");
      token.kind = TokenKind::kAnd;
      length = 2;
      break;
    case '|':
      if (following != '|') throw ExpressionError(token.column, "unexpected '|'; use 'or'");
      token.kind = TokenKind::kOr;
      length = 2;
      break;
    default:
      throw ExpressionError(token.column, "unexpected character '" + std::string(1, c) + "'");
  }
  token.text = source_.substr(position_, length);
  position_ += length;
  return token;
}

char Lexer::peek() const { return position_ < source_.size() ? source_[position_] : '\0'; }

void Lexer::skipDigits() {
  while (position_ < source_.size() && isDigit(source_[position_])) ++position_;
}

}  // namespace txguard::rules_internal
