// Rule conditions: a small expression language over the features of
// features/feature_vector.h, compiled once into stack bytecode and evaluated
// per transaction without allocating. docs/rules.md gives the grammar.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "features/feature_vector.h"
#include "rules/error.h"

namespace txguard {

enum class ValueType : std::uint8_t { kNumber, kBoolean };

enum class OpCode : std::uint8_t {
  kConstant,  // push Instruction::constant
  kFeature,   // push the feature at index Instruction::operand
  kNegate,
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kAbs,
  kMin,
  kMax,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kEqual,
  kNotEqual,
  kNot,
  kPresent,
  kMissing,
  // Short-circuit for `and` / `or`: when the top of the stack decides the
  // result, jump to Instruction::operand and keep it; otherwise pop it.
  kJumpIfFalse,
  kJumpIfTrue,
};

struct Instruction {
  OpCode op = OpCode::kConstant;
  std::uint32_t operand = 0;
  double constant = 0.0;
};

// A compiled expression. Booleans are 0.0 and 1.0 on the stack, and NaN is a
// missing feature: arithmetic and min/max/abs propagate it, and every
// comparison with a NaN operand is false, `!=` included.
class Expression {
 public:
  // Deep nesting is rejected at compile time so that evaluation can use a
  // fixed stack and the recursive-descent parser cannot overflow.
  static constexpr std::size_t kMaxStackDepth = 64;
  static constexpr std::size_t kMaxNesting = 48;

  // Compiles `source`. Throws ExpressionError with the 1-based column of the
  // offending token and what was expected there.
  static Expression compile(std::string_view source);

  // Returns the value: a number (maybe NaN), or 0.0 / 1.0 for a boolean.
  double evaluate(const FeatureVector& features) const;

  // Returns the truth of a boolean expression; the caller checks type().
  bool test(const FeatureVector& features) const { return evaluate(features) != 0.0; }

  ValueType type() const { return type_; }
  const std::string& source() const { return source_; }
  std::span<const Instruction> code() const { return code_; }

 private:
  friend class ExpressionCompiler;

  std::string source_;
  std::vector<Instruction> code_;
  ValueType type_ = ValueType::kBoolean;
};

// Returns the known name closest to `name` by edit distance, or an empty view
// when none is close enough to be a likely typo.
std::string_view closestName(std::string_view name, std::span<const std::string_view> candidates);

}  // namespace txguard
