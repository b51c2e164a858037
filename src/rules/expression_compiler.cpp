#include <string>

#include "features/category.h"
#include "rules/expression.h"
#include "rules/expression_lexer.h"

namespace txguard {
namespace {

using rules_internal::describe;
using rules_internal::Lexer;
using rules_internal::Token;
using rules_internal::TokenKind;

std::string joinCategoryNames() {
  std::string names;
  for (std::string_view name : kCategoryNames) {
    if (!names.empty()) names += ", ";
    names += name;
  }
  return names;
}

// The type of a parsed sub-expression and the column where it starts, for
// type errors that point at the operand.
struct Operand {
  ValueType type = ValueType::kNumber;
  std::size_t column = 1;
};

std::string_view typeName(ValueType type) {
  return type == ValueType::kNumber ? "a number" : "a condition (true/false)";
}

}  // namespace

// Recursive-descent parser that emits bytecode as it parses, one level per
// precedence step (lowest first): or, and, not, comparison, + -, * /, unary -.
class ExpressionCompiler {
 public:
  explicit ExpressionCompiler(std::string_view source) : lexer_(source) { advance(); }

  Expression compile(std::string_view source) {
    Expression expression;
    const Operand result = parseOr();
    if (current_.kind != TokenKind::kEnd) {
      throw ExpressionError(current_.column, "unexpected " + describe(current_) +
                                                 " after a complete expression; join conditions "
                                                 "with 'and' or 'or'");
    }
    expression.source_ = std::string(source);
    expression.code_ = std::move(code_);
    expression.type_ = result.type;
    return expression;
  }

 private:
  void advance() { current_ = lexer_.next(); }

  void expect(TokenKind kind, std::string_view what) {
    if (current_.kind != kind) {
      throw ExpressionError(current_.column,
                            "expected " + std::string(what) + ", found " + describe(current_));
    }
    advance();
  }

  void requireType(const Operand& operand, ValueType type, std::string_view operator_text) {
    if (operand.type == type) return;
    std::string message = "'";
    message += operator_text;
    message += "' needs " + std::string(typeName(type)) + ", but this is " +
               std::string(typeName(operand.type));
    if (type == ValueType::kBoolean) message += "; compare it with a value, e.g. `x > 0`";
    throw ExpressionError(operand.column, message);
  }

  void emit(OpCode op, std::uint32_t operand = 0, double constant = 0.0) {
    code_.push_back(Instruction{op, operand, constant});
    switch (op) {
      case OpCode::kConstant:
      case OpCode::kFeature:
        ++depth_;
        break;
      case OpCode::kNegate:
      case OpCode::kAbs:
      case OpCode::kNot:
      case OpCode::kPresent:
      case OpCode::kMissing:
        break;
      default:
        // Binary operators pop two values and push one; a jump that falls
        // through pops its operand.
        --depth_;
        break;
    }
    if (depth_ > Expression::kMaxStackDepth) {
      throw ExpressionError(current_.column, "expression is too deeply nested (more than " +
                                                 std::to_string(Expression::kMaxStackDepth) +
                                                 " pending values); split it into simpler rules");
    }
  }

  void enterNesting(std::size_t column) {
    if (++nesting_ > Expression::kMaxNesting) {
      throw ExpressionError(column, "expression is nested more than " +
                                        std::to_string(Expression::kMaxNesting) +
                                        " levels deep; split it into simpler rules");
    }
  }

  Operand parseOr() { return parseLogical(TokenKind::kOr); }

  Operand parseLogical(TokenKind kind) {
    const bool is_or = kind == TokenKind::kOr;
    Operand left = is_or ? parseLogical(TokenKind::kAnd) : parseNot();
    while (current_.kind == kind) {
      const std::string op_text(current_.text);
      requireType(left, ValueType::kBoolean, op_text);
      advance();

      const std::size_t jump = code_.size();
      emit(is_or ? OpCode::kJumpIfTrue : OpCode::kJumpIfFalse);
      const Operand right = is_or ? parseLogical(TokenKind::kAnd) : parseNot();
      requireType(right, ValueType::kBoolean, op_text);
      code_[jump].operand = static_cast<std::uint32_t>(code_.size());
    }
    return left;
  }

  Operand parseNot() {
    if (current_.kind != TokenKind::kNot) return parseComparison();
    const Token op = current_;
    enterNesting(op.column);
    advance();
    const Operand operand = parseNot();
    requireType(operand, ValueType::kBoolean, op.text);
    emit(OpCode::kNot);
    --nesting_;
    return Operand{ValueType::kBoolean, op.column};
  }

  static bool isComparison(TokenKind kind) {
    return kind == TokenKind::kLess || kind == TokenKind::kLessEqual ||
           kind == TokenKind::kGreater || kind == TokenKind::kGreaterEqual ||
           kind == TokenKind::kEqual || kind == TokenKind::kNotEqual;
  }

  static OpCode comparisonCode(TokenKind kind) {
    switch (kind) {
      case TokenKind::kLess:
        return OpCode::kLess;
      case TokenKind::kLessEqual:
        return OpCode::kLessEqual;
      case TokenKind::kGreater:
        return OpCode::kGreater;
      case TokenKind::kGreaterEqual:
        return OpCode::kGreaterEqual;
      case TokenKind::kEqual:
        return OpCode::kEqual;
      default:
        return OpCode::kNotEqual;
    }
  }

  Operand parseComparison() {
    const Operand left = parseSum();
    if (!isComparison(current_.kind)) return left;

    const Token op = current_;
    advance();
    const Operand right = parseSum();
    const bool equality = op.kind == TokenKind::kEqual || op.kind == TokenKind::kNotEqual;
    if (equality) {
      // == and != also compare two conditions, e.g. `present(x) == false`.
      requireType(right, left.type, op.text);
    } else {
      requireType(left, ValueType::kNumber, op.text);
      requireType(right, ValueType::kNumber, op.text);
    }
    emit(comparisonCode(op.kind));

    if (isComparison(current_.kind)) {
      throw ExpressionError(current_.column,
                            "comparisons do not chain; join them with 'and', e.g. "
                            "`a < b and b < c`");
    }
    return Operand{ValueType::kBoolean, left.column};
  }

  Operand parseSum() {
    const Operand left = parseProduct();
    while (current_.kind == TokenKind::kPlus || current_.kind == TokenKind::kMinus) {
      const Token op = current_;
      requireType(left, ValueType::kNumber, op.text);
      advance();
      const Operand right = parseProduct();
      requireType(right, ValueType::kNumber, op.text);
      emit(op.kind == TokenKind::kPlus ? OpCode::kAdd : OpCode::kSubtract);
    }
    return left;
  }

  Operand parseProduct() {
    const Operand left = parseUnary();
    while (current_.kind == TokenKind::kStar || current_.kind == TokenKind::kSlash) {
      const Token op = current_;
      requireType(left, ValueType::kNumber, op.text);
      advance();
      const Operand right = parseUnary();
      requireType(right, ValueType::kNumber, op.text);
      emit(op.kind == TokenKind::kStar ? OpCode::kMultiply : OpCode::kDivide);
    }
    return left;
  }

  Operand parseUnary() {
    if (current_.kind != TokenKind::kMinus) return parsePrimary();
    const Token op = current_;
    enterNesting(op.column);
    advance();
    const Operand operand = parseUnary();
    requireType(operand, ValueType::kNumber, op.text);
    emit(OpCode::kNegate);
    --nesting_;
    return Operand{ValueType::kNumber, op.column};
  }

  Operand parsePrimary() {
    const Token token = current_;
    switch (token.kind) {
      case TokenKind::kNumber:
        advance();
        emit(OpCode::kConstant, 0, token.number);
        return Operand{ValueType::kNumber, token.column};
      case TokenKind::kTrue:
      case TokenKind::kFalse:
        advance();
        emit(OpCode::kConstant, 0, token.kind == TokenKind::kTrue ? 1.0 : 0.0);
        return Operand{ValueType::kBoolean, token.column};
      case TokenKind::kLeftParen: {
        enterNesting(token.column);
        advance();
        const Operand inner = parseOr();
        expect(TokenKind::kRightParen,
               "')' to close the '(' at column " + std::to_string(token.column));
        --nesting_;
        return Operand{inner.type, token.column};
      }
      case TokenKind::kIdentifier:
        advance();
        if (current_.kind == TokenKind::kLeftParen) return parseCall(token);
        return parseFeature(token);
      case TokenKind::kString:
        throw ExpressionError(token.column,
                              "a quoted string is only valid as the argument of category()");
      default:
        throw ExpressionError(
            token.column,
            "expected a number, a feature name, a function call or '(', found " + describe(token));
    }
  }

  Operand parseFeature(const Token& name) {
    if (const auto feature = featureByName(name.text)) {
      emit(OpCode::kFeature, static_cast<std::uint32_t>(*feature));
      return Operand{ValueType::kNumber, name.column};
    }

    std::string message = "unknown feature '" + std::string(name.text) + "'";
    if (categoryCode(name.text) != 0) {
      message += "; to test the category write `category_code == category(\"" +
                 std::string(name.text) + "\")`";
    } else if (const std::string_view suggestion = closestName(name.text, kFeatureNames);
               !suggestion.empty()) {
      message += "; did you mean '" + std::string(suggestion) + "'?";
    } else {
      message += "; the features are listed in features/feature_vector.h";
    }
    throw ExpressionError(name.column, message);
  }

  Operand parseCall(const Token& name) {
    const std::string function(name.text);
    enterNesting(name.column);
    advance();  // '('

    Operand result{ValueType::kNumber, name.column};
    if (function == "category") {
      if (current_.kind != TokenKind::kString) {
        throw ExpressionError(current_.column,
                              "category() takes a quoted category name, e.g. "
                              "category(\"TRANSFER\"), found " +
                                  describe(current_));
      }
      const int code = categoryCode(current_.text);
      if (code == 0) {
        throw ExpressionError(current_.column, "unknown category \"" + std::string(current_.text) +
                                                   "\"; valid names: " + joinCategoryNames());
      }
      advance();
      emit(OpCode::kConstant, 0, static_cast<double>(code));
    } else if (function == "present" || function == "missing" || function == "abs") {
      requireType(parseOr(), ValueType::kNumber, function + "()");
      if (function == "abs") {
        emit(OpCode::kAbs);
      } else {
        emit(function == "present" ? OpCode::kPresent : OpCode::kMissing);
        result.type = ValueType::kBoolean;
      }
    } else if (function == "min" || function == "max") {
      requireType(parseOr(), ValueType::kNumber, function + "()");
      expect(TokenKind::kComma, "',' and a second argument to " + function + "()");
      requireType(parseOr(), ValueType::kNumber, function + "()");
      emit(function == "min" ? OpCode::kMin : OpCode::kMax);
    } else {
      throw ExpressionError(name.column, "unknown function '" + function +
                                             "'; the functions are present, missing, abs, min, "
                                             "max and category");
    }

    expect(TokenKind::kRightParen, "')' to close the call to " + function + "()");
    --nesting_;
    return result;
  }

  Lexer lexer_;
  Token current_;
  std::vector<Instruction> code_;
  std::size_t depth_ = 0;
  std::size_t nesting_ = 0;
};

Expression Expression::compile(std::string_view source) {
  ExpressionCompiler compiler(source);
  return compiler.compile(source);
}
}  // namespace txguard
