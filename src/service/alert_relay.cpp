#include "service/alert_relay.h"

#include <simdjson.h>

#include "service/decision_service.h"
#include "telemetry/log.h"

namespace txguard {

std::string transactionIdOfDecisionJson(std::string_view decision_json) {
  // A real JSON parse, because an id may contain escaped quotes. The
  // parser keeps its buffers between calls on the relay's thread.
  thread_local simdjson::dom::parser parser;
  std::string_view id;
  if (parser.parse(decision_json.data(), decision_json.size())["transaction_id"].get(id) !=
      simdjson::SUCCESS) {
    return {};
  }
  return std::string(id);
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
  metrics_.alertsPublished().Increment(static_cast<double>(bodies.size()));
  if (!store_.dropOutboxAsHolder(DecisionStore::kAlertsOutbox, bodies.size(), "alerts",
                                 options_.holder)) {
    // This pass outlasted the lease: the new holder publishes these again.
    log::warn("alert relay lease lost during a pass; another worker publishes from here",
              {{"alerts", std::to_string(bodies.size())}});
    return 0;
  }
  return bodies.size();
}

}  // namespace txguard
