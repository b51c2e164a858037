#include "service/alert_relay.h"

#include "service/decision_service.h"

namespace txguard {

std::string transactionIdOfDecisionJson(std::string_view decision_json) {
  constexpr std::string_view kField = "\"transaction_id\":\"";
  const auto start = decision_json.find(kField);
  if (start == std::string_view::npos) return {};
  const auto begin = start + kField.size();
  const auto end = decision_json.find('"', begin);
  if (end == std::string_view::npos) return {};
  return std::string(decision_json.substr(begin, end - begin));
}

AlertRelay::AlertRelay(DecisionStore& store, Publisher& publisher, Metrics& metrics,
                       AlertRelayOptions options)
    : store_(store), publisher_(publisher), metrics_(metrics), options_(std::move(options)) {}

std::size_t AlertRelay::runOnce() {
  if (!store_.tryLeadership("alerts", options_.holder, options_.lease)) return 0;
  const std::vector<std::string> bodies =
      store_.peekOutbox(DecisionStore::kAlertsOutbox, options_.batch);
  if (bodies.empty()) return 0;

  std::vector<OutgoingMessage> messages;
  messages.reserve(bodies.size());
  for (const std::string& body : bodies) {
    messages.push_back(alertMessage(publisher_.topology(), actionName(actionOfDecisionJson(body)),
                                    transactionIdOfDecisionJson(body), body));
  }
  const PublishResult result = publisher_.publishBatch(messages);
  if (!result.allConfirmed()) {
    // The broker nacked some. Keep them all in the outbox, so the next pass
    // publishes them again and the confirmed ones arrive twice.
    throw BrokerBusy(std::to_string(messages.size() - result.confirmedCount()) +
                     " alerts not confirmed by the broker");
  }
  store_.dropOutbox(DecisionStore::kAlertsOutbox, bodies.size());
  metrics_.alertsPublished().Increment(static_cast<double>(bodies.size()));
  return bodies.size();
}

}  // namespace txguard
