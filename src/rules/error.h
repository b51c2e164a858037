// Exceptions of the rules module.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace txguard {

// Raised when a rules file cannot be read, parsed or compiled. The message
// names the file, the rule and what to change.
class RuleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Raised by the expression compiler. column() is 1-based, in bytes of the
// expression text; RuleSet adds the file and rule to the message.
class ExpressionError : public RuleError {
 public:
  ExpressionError(std::size_t column, const std::string& message)
      : RuleError(message), column_(column) {}

  std::size_t column() const { return column_; }

 private:
  std::size_t column_;
};

}  // namespace txguard
