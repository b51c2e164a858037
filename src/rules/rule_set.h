// Declarative fraud rules loaded from YAML (or JSON) and evaluated against
// each transaction's features. docs/rules.md describes the file format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "decision/decision.h"
#include "features/feature_vector.h"
#include "rules/error.h"
#include "rules/expression.h"
#include "rules/reason_template.h"

namespace txguard {

struct Rule {
  std::string name;  // unique in the file, [a-z0-9_]+
  std::string description;
  Expression when;                 // boolean
  Action action = Action::kAllow;  // the decision is at least this when the rule fires
  double score = 0.0;              // in [0, 1], added to the rules' risk score
  ReasonTemplate reason;           // defaults to the description, else the `when` text
  bool exclude_from_history = false;
  bool enabled = true;
  std::size_t line = 0;  // 1-based line of the rule in its file
};

// Result of one evaluation; reuse one object across calls so that evaluate()
// does not allocate after the first call.
struct RuleEvaluation {
  std::vector<std::uint16_t> fired;   // indices of fired rules, in file order
  Action action = Action::kAllow;     // strongest action of the fired rules
  double score = 0.0;                 // sum of the fired rules' scores, capped at 1
  bool exclude_from_history = false;  // true when any fired rule sets it
};

// An immutable, compiled rule set. Reloading builds a new RuleSet, and a
// failed load throws, so the caller's current set stays in use.
class RuleSet {
 public:
  // Indices are stored as std::uint16_t in RuleEvaluation::fired.
  static constexpr std::size_t kMaxRules = 65535;

  // Reads and compiles a rules file. Throws RuleError naming the file, the
  // rule and the problem.
  static RuleSet loadFile(const std::filesystem::path& path);

  // Compiles rules from `text`; `origin` (a file name) prefixes error
  // messages. The version hash is taken over `text` exactly.
  static RuleSet parse(std::string_view text, std::string origin);

  // Evaluates every enabled rule. Clears `out` first; does not allocate once
  // out.fired has grown to size().
  void evaluate(const FeatureVector& features, RuleEvaluation& out) const;

  // Returns the analyst text of rule `rule_index` with its placeholders
  // filled from `features`.
  std::string renderReason(std::size_t rule_index, const FeatureVector& features) const;

  const Rule& rule(std::size_t i) const { return rules_.at(i); }
  std::size_t size() const { return rules_.size(); }

  // `<version>+<first 12 hex digits of the SHA-256 of the file bytes>`, so
  // a decision records exactly which rules ran.
  const std::string& version() const { return version_; }

  const std::string& origin() const { return origin_; }

 private:
  friend class RuleSetParser;

  std::vector<Rule> rules_;
  std::vector<std::uint16_t> enabled_;  // indices of enabled rules, in file order
  std::string version_;
  std::string origin_;
};

}  // namespace txguard
