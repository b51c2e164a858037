// Serialised forms of a decision: the JSON object the decisions file, the
// API and alerts share, a CSV row, and the fraud report text.
#pragma once

#include <string>

#include "decision/decision.h"
#include "decision/scorer.h"
#include "transaction/transaction.h"

namespace txguard {

// Appends the decision as one JSON object (no trailing newline).
void appendDecisionJson(std::string& out, const Decision& decision);

// Header and rows of the CSV decisions file. Reasons are joined with " | ".
std::string decisionCsvHeader();
void appendDecisionCsv(std::string& out, const Decision& decision);

// The fraud report for a reviewed or blocked transaction: the account, the
// current and previous transactions with their locations and the time
// between them (what the earlier ACME system's report held), then the
// decision, fired rules and top feature contributions.
std::string renderFraudReport(const Transaction& transaction, const PreviousTransaction& previous,
                              const Decision& decision);

// Object key of a transaction's fraud report: reports/YYYY/MM/DD/<id>.txt,
// dated by the transaction's event time.
std::string fraudReportKey(const Transaction& transaction);

}  // namespace txguard
