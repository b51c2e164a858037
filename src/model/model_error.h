// Exception of the model module: training, loading, saving, prediction and
// quality metrics.
#pragma once

#include <stdexcept>

namespace txguard {

// Raised when a model cannot be trained, loaded, saved or run, or when
// metrics get invalid input. The message names the file or value at fault
// and what to change.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace txguard
