// Stable numeric codes for transaction categories, so that the model and
// rules see a category as one number. Codes never change once shipped,
// because trained models depend on them; add new names at the end.
#pragma once

#include <array>
#include <string_view>

namespace txguard {

inline constexpr std::array<std::string_view, 19> kCategoryNames = {
    // PaySim `type`
    "CASH_IN", "CASH_OUT", "DEBIT", "PAYMENT", "TRANSFER",
    // Sparkov `category`
    "entertainment", "food_dining", "gas_transport", "grocery_net", "grocery_pos",
    "health_fitness", "home", "kids_pets", "misc_net", "misc_pos", "personal_care",
    "shopping_net", "shopping_pos", "travel"};

// Returns the category's code (1-based index in kCategoryNames), or 0 for an
// empty or unknown category.
inline constexpr int categoryCode(std::string_view name) {
  for (std::size_t i = 0; i < kCategoryNames.size(); ++i) {
    if (kCategoryNames[i] == name) return static_cast<int>(i) + 1;
  }
  return 0;
}

}  // namespace txguard
