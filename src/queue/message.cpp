#include "queue/message.h"

namespace txguard {

std::optional<std::int64_t> Delivery::deliveryCount() const {
  return headerAs<std::int64_t>(headers, "x-delivery-count");
}

std::int64_t Delivery::deliveryAttempt() const {
  if (std::optional<std::int64_t> count = deliveryCount()) {
    return *count + 1;
  }
  return redelivered ? 2 : 1;
}

}  // namespace txguard
