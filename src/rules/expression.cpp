#include "rules/expression.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>

namespace txguard {

double Expression::evaluate(const FeatureVector& features) const {
  // Sized by the compiler's depth limit, so the hot path never allocates.
  std::array<double, kMaxStackDepth> stack;
  std::size_t top = 0;  // number of values on the stack

  const Instruction* code = code_.data();
  const std::size_t size = code_.size();
  for (std::size_t pc = 0; pc < size; ++pc) {
    const Instruction& instruction = code[pc];
    switch (instruction.op) {
      case OpCode::kConstant:
        stack[top++] = instruction.constant;
        break;
      case OpCode::kFeature:
        stack[top++] = static_cast<double>(features[instruction.operand]);
        break;
      case OpCode::kNegate:
        stack[top - 1] = -stack[top - 1];
        break;
      case OpCode::kAbs:
        stack[top - 1] = std::fabs(stack[top - 1]);
        break;
      case OpCode::kNot:
        stack[top - 1] = stack[top - 1] == 0.0 ? 1.0 : 0.0;
        break;
      case OpCode::kPresent:
        stack[top - 1] = std::isnan(stack[top - 1]) ? 0.0 : 1.0;
        break;
      case OpCode::kMissing:
        stack[top - 1] = std::isnan(stack[top - 1]) ? 1.0 : 0.0;
        break;
      case OpCode::kJumpIfFalse:
      case OpCode::kJumpIfTrue: {
        const bool value = stack[top - 1] != 0.0;
        if (value == (instruction.op == OpCode::kJumpIfTrue)) {
          pc = instruction.operand - 1;  // the loop's ++pc lands on the target
        } else {
          --top;
        }
        break;
      }
      default: {
        const double right = stack[--top];
        const double left = stack[top - 1];
        double result = 0.0;
        switch (instruction.op) {
          case OpCode::kAdd:
            result = left + right;
            break;
          case OpCode::kSubtract:
            result = left - right;
            break;
          case OpCode::kMultiply:
            result = left * right;
            break;
          case OpCode::kDivide:
            result = left / right;
            break;
          case OpCode::kMin:
            result = std::isnan(left) || std::isnan(right)
                         ? std::numeric_limits<double>::quiet_NaN()
                         : std::min(left, right);
            break;
          case OpCode::kMax:
            result = std::isnan(left) || std::isnan(right)
                         ? std::numeric_limits<double>::quiet_NaN()
                         : std::max(left, right);
            break;
          // IEEE comparisons with NaN are already false, except !=.
          case OpCode::kLess:
            result = left < right;
            break;
          case OpCode::kLessEqual:
            result = left <= right;
            break;
          case OpCode::kGreater:
            result = left > right;
            break;
          case OpCode::kGreaterEqual:
            result = left >= right;
            break;
          case OpCode::kEqual:
            result = left == right;
            break;
          case OpCode::kNotEqual:
            result = !std::isnan(left) && !std::isnan(right) && left != right;
            break;
          default:
            break;
        }
        stack[top - 1] = result;
        break;
      }
    }
  }
  return top == 0 ? 0.0 : stack[top - 1];
}

std::string_view closestName(std::string_view name, std::span<const std::string_view> candidates) {
  const auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };

  // Levenshtein distance, case-insensitive, with one reusable row.
  std::vector<std::size_t> row;
  const auto distance = [&](std::string_view candidate) {
    row.resize(candidate.size() + 1);
    for (std::size_t j = 0; j <= candidate.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= name.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= candidate.size(); ++j) {
        const std::size_t above = row[j];
        const std::size_t cost = lower(name[i - 1]) == lower(candidate[j - 1]) ? 0 : 1;
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
        diagonal = above;
      }
    }
    return row[candidate.size()];
  };

  // A third of the name's length catches truncations such as
  // `seconds_since_prev` while keeping unrelated short names unmatched.
  const std::size_t threshold = std::max<std::size_t>(2, name.size() / 3);
  std::string_view best;
  std::size_t best_distance = threshold + 1;
  for (std::string_view candidate : candidates) {
    const std::size_t d = distance(candidate);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}
}  // namespace txguard
