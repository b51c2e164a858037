#include "rules/reason_template.h"

#include <array>
#include <charconv>
#include <cmath>

#include "rules/expression.h"

namespace txguard {

ReasonTemplate ReasonTemplate::parse(std::string_view text) {
  ReasonTemplate result;
  result.text_ = std::string(text);

  Segment segment;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      segment.literal += c;
      i += 2;
      continue;
    }
    if (c == '}') {
      throw ExpressionError(i + 1, "unmatched '}'; write '}}' for a literal brace");
    }
    if (c != '{') {
      segment.literal += c;
      ++i;
      continue;
    }

    const std::size_t close = text.find('}', i + 1);
    if (close == std::string_view::npos) {
      throw ExpressionError(i + 1, "unclosed '{'; write '{feature_name}' or '{{' for a brace");
    }
    const std::string_view name = text.substr(i + 1, close - i - 1);
    const auto feature = featureByName(name);
    if (!feature) {
      std::string message = "unknown feature '" + std::string(name) + "' in a placeholder";
      if (const std::string_view suggestion = closestName(name, kFeatureNames);
          !suggestion.empty()) {
        message += "; did you mean '{" + std::string(suggestion) + "}'?";
      }
      throw ExpressionError(i + 2, message);
    }
    segment.feature = static_cast<std::size_t>(*feature);
    result.segments_.push_back(std::move(segment));
    segment = Segment{};
    i = close + 1;
  }
  if (!segment.literal.empty()) result.segments_.push_back(std::move(segment));
  return result;
}

std::string ReasonTemplate::render(const FeatureVector& features) const {
  std::string out;
  for (const Segment& segment : segments_) {
    out += segment.literal;
    if (segment.feature < kFeatureCount) out += formatFeatureValue(features[segment.feature]);
  }
  return out;
}

std::string formatFeatureValue(float value) {
  if (std::isnan(value)) return "missing";
  // The longest outputs are FLT_MAX (39 digits) and the smallest subnormal
  // ("0." and 45 digits), plus a sign.
  std::array<char, 64> buffer{};
  const auto result =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed);
  if (result.ec != std::errc()) return "?";
  return std::string(buffer.data(), result.ptr);
}

}  // namespace txguard
