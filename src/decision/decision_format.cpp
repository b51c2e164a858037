#include "decision/decision_format.h"

#include <cmath>

#include <fmt/format.h>

#include "common/pan.h"
#include "decision/text_format.h"

namespace txguard {

namespace {

// True when `text` has a run of at least 12 digits, the shortest card
// number maskPansInText() masks; most decisions have none, so the copy it
// makes is skipped.
bool hasLongDigitRun(std::string_view text) {
  int run = 0;
  for (char c : text) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    if (run >= 12) return true;
  }
  return false;
}

// Masks card numbers that reached a free-text field (an id, a merchant, a
// location) in out[start, end), so they never leave in full.
void maskCardNumbersFrom(std::string& out, std::size_t start) {
  const std::string_view added(out.data() + start, out.size() - start);
  if (!hasLongDigitRun(added)) return;
  std::string masked = maskPansInText(added);
  out.resize(start);
  out += masked;
}

}  // namespace

void appendDecisionJson(std::string& out, const Decision& decision) {
  out += "{\"transaction_id\":";
  appendJsonString(out, decision.transaction_id);
  // The id is the idempotency key and stays as sent: a hex id such as a
  // Sparkov trans_num can hold a Luhn-valid digit run, and masking it
  // would make the decision, its alert and its archive line name another id.
  const std::size_t start = out.size();
  out += ",\"account\":";
  appendJsonString(out, decision.account_display);
  out += ",\"timestamp\":\"";
  appendRfc3339(out, decision.timestamp_ms);
  out += "\",\"amount\":";
  appendJsonNumber(out, decision.amount);
  out += ",\"action\":\"";
  out += actionName(decision.action);
  out += "\",\"score\":";
  appendJsonNumber(out, std::round(decision.score * 1e6) / 1e6);
  out += ",\"model_score\":";
  if (decision.model_score < 0) {
    out += "null";
  } else {
    appendJsonNumber(out, std::round(decision.model_score * 1e6) / 1e6);
  }
  out += ",\"model_version\":";
  appendJsonString(out, decision.model_version);
  out += ",\"rules_version\":";
  appendJsonString(out, decision.rules_version);

  out += ",\"reasons\":[";
  bool first = true;
  for (const FiredRule& rule : decision.fired_rules) {
    if (!first) out.push_back(',');
    first = false;
    out += "{\"kind\":\"rule\",\"name\":";
    appendJsonString(out, rule.name);
    out += ",\"text\":";
    appendJsonString(out, rule.reason);
    out.push_back('}');
  }
  for (const FeatureContribution& contribution : decision.top_contributions) {
    if (!first) out.push_back(',');
    first = false;
    out += "{\"kind\":\"feature\",\"name\":";
    appendJsonString(out, contribution.feature);
    out += ",\"value\":";
    appendJsonNumber(out, contribution.value);
    out += ",\"contribution\":";
    appendJsonNumber(out, std::round(static_cast<double>(contribution.contribution) * 1e4) / 1e4);
    out.push_back('}');
  }
  out.push_back(']');

  if (decision.excluded_from_history) out += ",\"excluded_from_history\":true";
  if (decision.label >= 0) fmt::format_to(std::back_inserter(out), ",\"label\":{}", decision.label);
  out.push_back('}');
  maskCardNumbersFrom(out, start);
}

std::string decisionCsvHeader() {
  return "transaction_id,account,timestamp,amount,action,score,model_score,model_version,"
         "rules_version,reasons,label\n";
}

void appendDecisionCsv(std::string& out, const Decision& decision) {
  appendCsvField(out, decision.transaction_id);
  const std::size_t start = out.size();  // the id stays as sent, as in the JSON
  out.push_back(',');
  appendCsvField(out, decision.account_display);
  out.push_back(',');
  appendRfc3339(out, decision.timestamp_ms);
  fmt::format_to(std::back_inserter(out), ",{},{},{:.6f},", decision.amount,
                 actionName(decision.action), decision.score);
  if (decision.model_score >= 0) fmt::format_to(std::back_inserter(out), "{:.6f}", decision.model_score);
  out.push_back(',');
  appendCsvField(out, decision.model_version);
  out.push_back(',');
  appendCsvField(out, decision.rules_version);
  out.push_back(',');

  std::string reasons;
  for (const FiredRule& rule : decision.fired_rules) {
    if (!reasons.empty()) reasons += " | ";
    reasons += rule.name + ": " + rule.reason;
  }
  for (const FeatureContribution& contribution : decision.top_contributions) {
    if (!reasons.empty()) reasons += " | ";
    reasons += fmt::format("{}={:g} ({:+.3f})", contribution.feature, contribution.value,
                           contribution.contribution);
  }
  appendCsvField(out, reasons);
  out.push_back(',');
  if (decision.label >= 0) fmt::format_to(std::back_inserter(out), "{}", decision.label);
  out.push_back('\n');
  maskCardNumbersFrom(out, start);
}

namespace {

std::string describeDuration(std::int64_t milliseconds) {
  const std::int64_t seconds = milliseconds / 1000;
  if (seconds < 60) return fmt::format("{:.3f} s", milliseconds / 1000.0);
  if (seconds < 3600) return fmt::format("{} min {} s ({} s)", seconds / 60, seconds % 60, seconds);
  return fmt::format("{} h {} min ({} s)", seconds / 3600, seconds % 3600 / 60, seconds);
}

std::string orUnknown(std::string_view text) {
  return text.empty() ? std::string("(unknown)") : std::string(text);
}

}  // namespace

std::string renderFraudReport(const Transaction& transaction, const PreviousTransaction& previous,
                              const Decision& decision) {
  std::string report;
  auto line = std::back_inserter(report);
  fmt::format_to(line, "txguard fraud report\n====================\n\n");
  fmt::format_to(line, "Decision:       {} (score {:.4f})\n", actionName(decision.action),
                 decision.score);
  fmt::format_to(line, "Account:        {}\n\n", orUnknown(transaction.account_display));

  fmt::format_to(line, "Current transaction\n");
  fmt::format_to(line, "  id:           {}\n", transaction.id);
  fmt::format_to(line, "  time (UTC):   {}\n", formatRfc3339(transaction.timestamp_ms));
  fmt::format_to(line, "  amount:       {:.2f}{}{}\n", transaction.amount,
                 transaction.currency.empty() ? "" : " ", transaction.currency);
  fmt::format_to(line, "  location:     {}\n", orUnknown(transaction.location));
  if (!transaction.counterparty.empty()) {
    fmt::format_to(line, "  counterparty: {}\n", transaction.counterparty);
  }
  if (!transaction.category.empty()) fmt::format_to(line, "  category:     {}\n", transaction.category);

  fmt::format_to(line, "\nPrevious transaction\n");
  if (previous.present) {
    fmt::format_to(line, "  id:           {}\n", previous.id);
    fmt::format_to(line, "  time (UTC):   {}\n", formatRfc3339(previous.timestamp_ms));
    fmt::format_to(line, "  amount:       {:.2f}\n", previous.amount);
    fmt::format_to(line, "  location:     {}\n", orUnknown(previous.location));
    fmt::format_to(line, "\nLocations:      {} -> {}\n", orUnknown(previous.location),
                   orUnknown(transaction.location));
    fmt::format_to(line, "Time between:   {}\n",
                   describeDuration(transaction.timestamp_ms - previous.timestamp_ms));
  } else {
    fmt::format_to(line, "  (none: first transaction seen for this account)\n");
  }

  fmt::format_to(line, "\nReasons\n");
  if (decision.fired_rules.empty() && decision.top_contributions.empty()) {
    fmt::format_to(line, "  (none)\n");
  }
  for (const FiredRule& rule : decision.fired_rules) {
    fmt::format_to(line, "  - rule {}: {}\n", rule.name, rule.reason);
  }
  if (decision.model_score >= 0) {
    fmt::format_to(line, "  - model {} probability {:.4f}\n", decision.model_version,
                   decision.model_score);
  }
  for (const FeatureContribution& contribution : decision.top_contributions) {
    fmt::format_to(line, "    {} = {:g} moved the log-odds by {:+.3f}\n", contribution.feature,
                   contribution.value, contribution.contribution);
  }
  if (decision.excluded_from_history) {
    fmt::format_to(line, "\nThis transaction was not added to the account's history.\n");
  }
  fmt::format_to(line, "\nRules version:  {}\nModel version:  {}\n", decision.rules_version,
                 decision.model_version.empty() ? "(none)" : decision.model_version);
  return maskPansInText(report);
}

std::string fraudReportKey(const Transaction& transaction) {
  const std::string date = formatRfc3339(transaction.timestamp_ms);
  return fmt::format("reports/{}/{}/{}/{}.txt", date.substr(0, 4), date.substr(5, 2),
                     date.substr(8, 2), objectKeySegment(transaction.id));
}

}  // namespace txguard
