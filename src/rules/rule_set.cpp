#include "rules/rule_set.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

namespace txguard {
namespace {

constexpr std::array<std::string_view, 2> kFileKeys = {"version", "rules"};
constexpr std::array<std::string_view, 8> kRuleKeys = {
    "name", "description", "when", "action", "score", "reason", "exclude_from_history", "enabled"};

std::string joinNames(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string sha256Hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw RuleError("SHA-256 of the rules file failed in OpenSSL");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

bool isValidRuleName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Returns the expression with a caret under `column`, newlines shown as
// spaces so the caret stays aligned.
std::string pointAt(std::string_view text, std::size_t column) {
  std::string line(text);
  std::replace_if(
      line.begin(), line.end(), [](char c) { return c == '\n' || c == '\t'; }, ' ');
  const std::size_t offset = std::min(column == 0 ? 0 : column - 1, line.size());
  return "\n    " + line + "\n    " + std::string(offset, ' ') + "^";
}

// Doubles the braces so that plain text can be used as a reason template.
std::string escapeBraces(std::string_view text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '{' || c == '}') out += c;
  }
  return out;
}

}  // namespace

class RuleSetParser {
 public:
  RuleSetParser(std::string_view text, std::string origin)
      : text_(text), origin_(std::move(origin)) {}

  RuleSet parse() {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text_));
    } catch (const YAML::Exception& error) {
      fail(error.mark.line + 1, "invalid YAML: " + error.msg);
    }
    if (!root.IsDefined() || root.IsNull()) {
      fail(1, "the file is empty; expected `version:` and a `rules:` list");
    }
    if (!root.IsMap()) {
      fail(lineOf(root), "expected a mapping with `version:` and `rules:` at the top level");
    }
    checkKeys(root, kFileKeys, "the top level");

    const YAML::Node version = root["version"];
    if (!version || !version.IsScalar() || version.Scalar().empty()) {
      fail(lineOf(root),
           "missing `version:`; give the rule set a version string, e.g. "
           "`version: \"2024-06-01\"`");
    }

    const YAML::Node rules = root["rules"];
    if (!rules || !rules.IsSequence()) {
      fail(rules ? lineOf(rules) : lineOf(root), "missing `rules:` list of rules");
    }
    if (rules.size() == 0) fail(lineOf(rules), "the `rules:` list is empty; add at least one rule");
    if (rules.size() > RuleSet::kMaxRules) {
      fail(lineOf(rules), "too many rules (" + std::to_string(rules.size()) + "); the maximum is " +
                              std::to_string(RuleSet::kMaxRules));
    }

    RuleSet set;
    set.origin_ = origin_;
    set.version_ = version.Scalar() + "+" + sha256Hex(text_).substr(0, 12);

    std::set<std::string, std::less<>> names;
    std::size_t position = 0;
    for (const YAML::Node& node : rules) {
      ++position;
      Rule rule = parseRule(node, position);
      if (!names.insert(rule.name).second) {
        fail(rule.line, "duplicate rule name '" + rule.name + "'; rule names must be unique");
      }
      if (rule.enabled) set.enabled_.push_back(static_cast<std::uint16_t>(set.rules_.size()));
      set.rules_.push_back(std::move(rule));
    }
    return set;
  }

 private:
  [[noreturn]] void fail(std::size_t line, const std::string& message) const {
    throw RuleError(origin_ + ":" + std::to_string(line) + ": " + message);
  }

  [[noreturn]] void failInRule(std::size_t line, const std::string& rule,
                               const std::string& message) const {
    fail(line, "rule '" + rule + "': " + message);
  }

  static std::size_t lineOf(const YAML::Node& node) {
    return node.Mark().line < 0 ? 0 : static_cast<std::size_t>(node.Mark().line) + 1;
  }

  // Rejects keys not in `allowed` and keys given twice, naming the closest
  // valid key so that a typo such as `acton` is easy to fix.
  void checkKeys(const YAML::Node& map, std::span<const std::string_view> allowed,
                 const std::string& where) const {
    std::set<std::string, std::less<>> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string key = it->first.Scalar();
      const std::size_t line = lineOf(it->first);
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string message = "unknown key '" + key + "' in " + where + ";";
        if (const std::string_view suggestion = closestName(key, allowed); !suggestion.empty()) {
          message += " did you mean '" + std::string(suggestion) + "'?";
        }
        fail(line, message + " valid keys: " + joinNames(allowed));
      }
      if (!seen.insert(key).second) fail(line, "key '" + key + "' appears twice in " + where);
    }
  }

  std::string scalarText(const YAML::Node& node, const std::string& rule,
                         std::string_view key) const {
    if (!node.IsScalar()) {
      failInRule(lineOf(node), rule, "`" + std::string(key) + "` must be a single value");
    }
    return node.Scalar();
  }

  bool parseBool(const YAML::Node& node, const std::string& rule, std::string_view key) const {
    const std::string text = scalarText(node, rule, key);
    if (text == "true") return true;
    if (text == "false") return false;
    failInRule(lineOf(node), rule,
               "invalid `" + std::string(key) + "` '" + text + "'; expected true or false");
  }

  Rule parseRule(const YAML::Node& node, std::size_t position) {
    const std::string label = std::string("#").append(std::to_string(position));
    if (!node.IsMap()) {
      fail(lineOf(node), "rule " + label + " must be a mapping with `name:` and `when:`");
    }

    Rule rule;
    rule.line = lineOf(node);
    const YAML::Node name = node["name"];
    const bool has_name = name && name.IsScalar();
    checkKeys(node, kRuleKeys, has_name ? "rule '" + name.Scalar() + "'" : "rule " + label);

    if (!name) failInRule(rule.line, label, "missing `name:`");
    rule.name = scalarText(name, label, "name");
    if (!isValidRuleName(rule.name)) {
      failInRule(lineOf(name), label,
                 "invalid name '" + rule.name +
                     "'; use lower-case letters, digits and '_', e.g. `burst_velocity`");
    }

    if (const YAML::Node description = node["description"]) {
      rule.description = scalarText(description, rule.name, "description");
    }

    const YAML::Node when = node["when"];
    if (!when || when.IsNull()) {
      failInRule(rule.line, rule.name, "missing `when:` condition");
    }
    rule.when = compileCondition(when, rule.name);

    if (const YAML::Node action = node["action"]) {
      const std::string text = scalarText(action, rule.name, "action");
      if (text == "review") {
        rule.action = Action::kReview;
      } else if (text == "block") {
        rule.action = Action::kBlock;
      } else {
        failInRule(lineOf(action), rule.name,
                   "invalid action '" + text +
                       "'; expected 'review' or 'block' (leave it out for a rule that only "
                       "adds to the score)");
      }
    }

    if (const YAML::Node score = node["score"]) rule.score = parseScore(score, rule.name);

    if (const YAML::Node reason = node["reason"]) {
      rule.reason = compileReason(reason, rule.name);
    } else {
      const std::string& fallback =
          rule.description.empty() ? rule.when.source() : rule.description;
      rule.reason = ReasonTemplate::parse(escapeBraces(fallback));
    }

    if (const YAML::Node exclude = node["exclude_from_history"]) {
      rule.exclude_from_history = parseBool(exclude, rule.name, "exclude_from_history");
    }
    if (const YAML::Node enabled = node["enabled"]) {
      rule.enabled = parseBool(enabled, rule.name, "enabled");
    }
    return rule;
  }

  Expression compileCondition(const YAML::Node& node, const std::string& rule) const {
    const std::string text = scalarText(node, rule, "when");
    Expression expression;
    try {
      expression = Expression::compile(text);
    } catch (const ExpressionError& error) {
      failInRule(lineOf(node), rule,
                 "invalid `when` at column " + std::to_string(error.column()) + ": " +
                     error.what() + pointAt(text, error.column()));
    }
    if (expression.type() != ValueType::kBoolean) {
      failInRule(lineOf(node), rule,
                 "`when` is a number but must be a condition; compare it with a value, e.g. `" +
                     text + " > 0`");
    }
    return expression;
  }

  ReasonTemplate compileReason(const YAML::Node& node, const std::string& rule) const {
    const std::string text = scalarText(node, rule, "reason");
    try {
      return ReasonTemplate::parse(text);
    } catch (const ExpressionError& error) {
      failInRule(lineOf(node), rule,
                 "invalid `reason` at column " + std::to_string(error.column()) + ": " +
                     error.what() + pointAt(text, error.column()));
    }
  }

  double parseScore(const YAML::Node& node, const std::string& rule) const {
    const std::string text = scalarText(node, rule, "score");
    double score = 0.0;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), score);
    const bool parsed = result.ec == std::errc() && result.ptr == text.data() + text.size();
    if (!parsed || !std::isfinite(score) || score < 0.0 || score > 1.0) {
      failInRule(lineOf(node), rule,
                 "invalid score '" + text + "'; expected a number from 0 to 1, e.g. 0.25");
    }
    return score;
  }

  std::string_view text_;
  std::string origin_;
};

RuleSet RuleSet::parse(std::string_view text, std::string origin) {
  return RuleSetParser(text, std::move(origin)).parse();
}

RuleSet RuleSet::loadFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw RuleError("cannot read rules file '" + path.string() + "': " + std::strerror(errno) +
                    "; check the path");
  }
  std::ostringstream bytes;
  bytes << file.rdbuf();
  if (file.bad()) {
    throw RuleError("failed to read rules file '" + path.string() + "': " + std::strerror(errno));
  }
  return parse(bytes.str(), path.string());
}

void RuleSet::evaluate(const FeatureVector& features, RuleEvaluation& out) const {
  out.fired.clear();
  out.action = Action::kAllow;
  out.score = 0.0;
  out.exclude_from_history = false;
  // Allocates on the first call with this `out` only.
  if (out.fired.capacity() < rules_.size()) out.fired.reserve(rules_.size());

  for (const std::uint16_t index : enabled_) {
    const Rule& rule = rules_[index];
    if (!rule.when.test(features)) continue;
    out.fired.push_back(index);
    out.action = std::max(out.action, rule.action);
    out.score += rule.score;
    out.exclude_from_history = out.exclude_from_history || rule.exclude_from_history;
  }
  out.score = std::min(out.score, 1.0);
}

std::string RuleSet::renderReason(std::size_t rule_index, const FeatureVector& features) const {
  return rule(rule_index).reason.render(features);
}

}  // namespace txguard
