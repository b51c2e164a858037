// Analyst-facing reason text with `{feature_name}` placeholders, parsed once
// at load and rendered only for the rules that fired.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "features/feature_vector.h"
#include "rules/error.h"

namespace txguard {

class ReasonTemplate {
 public:
  // Parses `text`. `{name}` is replaced by the feature's value and `{{` / `}}`
  // stand for literal braces. Throws ExpressionError with the 1-based column
  // of an unknown feature name or an unbalanced brace.
  static ReasonTemplate parse(std::string_view text);

  std::string render(const FeatureVector& features) const;

  const std::string& text() const { return text_; }

 private:
  // A literal piece of text, followed by the value of `feature` unless it is
  // kFeatureCount (the template ends in text).
  struct Segment {
    std::string literal;
    std::size_t feature = kFeatureCount;
  };

  std::string text_;
  std::vector<Segment> segments_;
};

// Formats a feature value for people: the shortest decimal that reads back
// as the same float, in fixed notation (3599.999, 181000), or "missing".
std::string formatFeatureValue(float value);

}  // namespace txguard
