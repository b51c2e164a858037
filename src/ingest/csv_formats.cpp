// The PaySim and Sparkov CSV readers. Columns are found by header name, so
// column order and extra columns do not matter.
#include <cmath>
#include <cstdint>

#include "ingest/csv.h"
#include "ingest/field_parse.h"
#include "ingest/readers.h"

namespace txguard {
namespace {

// PaySim counts time in hourly steps from an unnamed start. txguard puts
// step 0 at 2017-01-01T00:00:00Z, a convention that only fixes hour of day
// and day of week; the simulation itself has no calendar date.
constexpr std::int64_t kPaysimEpochMs = 1'483'228'800'000;
constexpr std::int64_t kMillisPerHour = 3'600'000;
// Largest step accepted: about 11,000 years, far past any simulation, and
// small enough that the timestamp cannot overflow.
constexpr double kMaxPaysimStep = 1e8;

class PaysimReader final : public CsvReader {
 public:
  PaysimReader(std::unique_ptr<ChunkedInput> input, const ReaderOptions& options, RejectSink& sink)
      : CsvReader(std::move(input), options, sink, ',') {
    step_ = requireColumn("step", "PaySim");
    type_ = requireColumn("type", "PaySim");
    amount_ = requireColumn("amount", "PaySim");
    name_orig_ = requireColumn("nameOrig", "PaySim");
    old_balance_orig_ = findColumn("oldbalanceOrg");
    new_balance_orig_ = findColumn("newbalanceOrig");
    name_dest_ = findColumn("nameDest");
    old_balance_dest_ = findColumn("oldbalanceDest");
    new_balance_dest_ = findColumn("newbalanceDest");
    is_fraud_ = findColumn("isFraud");
  }

  InputFormat format() const override { return InputFormat::kPaysimCsv; }

 protected:
  bool parseRow(Transaction& out) override {
    // Deterministic, so a replay of the same file repeats idempotency keys.
    out.id.assign("paysim-");
    out.id.append(std::to_string(lineNumber()));
    if (!readStep(out.timestamp_ms)) return false;
    if (!readRequiredText(type_, "type", out.category)) return false;
    if (!readAmount(amount_, "amount", out.amount)) return false;
    if (!readRequiredText(name_orig_, "nameOrig", out.account)) return false;
    out.account_display.assign(out.account);
    out.counterparty.assign(field(name_dest_));
    return readOptionalNumber(old_balance_orig_, "oldbalanceOrg", out.balance_before) &&
           readOptionalNumber(new_balance_orig_, "newbalanceOrig", out.balance_after) &&
           readOptionalNumber(old_balance_dest_, "oldbalanceDest",
                              out.counterparty_balance_before) &&
           readOptionalNumber(new_balance_dest_, "newbalanceDest",
                              out.counterparty_balance_after) &&
           readOptionalLabel(is_fraud_, "isFraud", out.label);
  }

 private:
  // Parses `step` as a number, so "5" and pandas' "5.0" both work.
  bool readStep(std::int64_t& epoch_ms) {
    const std::string_view text = field(step_);
    if (trimSpaces(text).empty()) return fail("missing required field step");
    double step = 0.0;
    if (!parseDouble(text, step)) return fail("unparseable number in step: " + quoteValue(text));
    const bool whole = step >= 0.0 && step <= kMaxPaysimStep && std::floor(step) == step;
    if (!whole) return fail("bad step " + quoteValue(text) + ": expected whole hours >= 0");
    epoch_ms = kPaysimEpochMs + static_cast<std::int64_t>(step) * kMillisPerHour;
    return true;
  }

  std::size_t step_ = kNoColumn;
  std::size_t type_ = kNoColumn;
  std::size_t amount_ = kNoColumn;
  std::size_t name_orig_ = kNoColumn;
  std::size_t old_balance_orig_ = kNoColumn;
  std::size_t new_balance_orig_ = kNoColumn;
  std::size_t name_dest_ = kNoColumn;
  std::size_t old_balance_dest_ = kNoColumn;
  std::size_t new_balance_dest_ = kNoColumn;
  std::size_t is_fraud_ = kNoColumn;
};

class SparkovReader final : public CsvReader {
 public:
  SparkovReader(std::unique_ptr<ChunkedInput> input, const ReaderOptions& options, RejectSink& sink)
      : CsvReader(std::move(input), options, sink, ',') {
    trans_num_ = requireColumn("trans_num", "Sparkov");
    date_time_ = requireColumn("trans_date_trans_time", "Sparkov");
    card_number_ = requireColumn("cc_num", "Sparkov");
    amount_ = requireColumn("amt", "Sparkov");
    merchant_ = findColumn("merchant");
    category_ = findColumn("category");
    state_ = findColumn("state");
    home_latitude_ = findColumn("lat");
    home_longitude_ = findColumn("long");
    merchant_latitude_ = findColumn("merch_lat");
    merchant_longitude_ = findColumn("merch_long");
    is_fraud_ = findColumn("is_fraud");
    setCardColumn(card_number_);
  }

  InputFormat format() const override { return InputFormat::kSparkovCsv; }

 protected:
  bool parseRow(Transaction& out) override {
    // The Sparkov data set is in US dollars; unix_time is ignored because it
    // is 7 years behind trans_date_trans_time.
    out.currency.assign("USD");
    out.location.assign(field(state_));
    out.counterparty.assign(field(merchant_));
    out.category.assign(field(category_));
    return readRequiredText(trans_num_, "trans_num", out.id) &&
           readDateTimeUtc(date_time_, "trans_date_trans_time", out.timestamp_ms) &&
           readCardNumber(card_number_, "cc_num", out) && readAmount(amount_, "amt", out.amount) &&
           readOptionalCoordinate(merchant_latitude_, "merch_lat", 90, out.latitude) &&
           readOptionalCoordinate(merchant_longitude_, "merch_long", 180, out.longitude) &&
           readOptionalCoordinate(home_latitude_, "lat", 90, out.home_latitude) &&
           readOptionalCoordinate(home_longitude_, "long", 180, out.home_longitude) &&
           readOptionalLabel(is_fraud_, "is_fraud", out.label);
  }

 private:
  std::size_t trans_num_ = kNoColumn;
  std::size_t date_time_ = kNoColumn;
  std::size_t card_number_ = kNoColumn;
  std::size_t amount_ = kNoColumn;
  std::size_t merchant_ = kNoColumn;
  std::size_t category_ = kNoColumn;
  std::size_t state_ = kNoColumn;
  std::size_t home_latitude_ = kNoColumn;
  std::size_t home_longitude_ = kNoColumn;
  std::size_t merchant_latitude_ = kNoColumn;
  std::size_t merchant_longitude_ = kNoColumn;
  std::size_t is_fraud_ = kNoColumn;
};

}  // namespace

std::unique_ptr<TransactionReader> makePaysimReader(std::unique_ptr<ChunkedInput> input,
                                                    const ReaderOptions& options,
                                                    RejectSink& sink) {
  return std::make_unique<PaysimReader>(std::move(input), options, sink);
}

std::unique_ptr<TransactionReader> makeSparkovReader(std::unique_ptr<ChunkedInput> input,
                                                     const ReaderOptions& options,
                                                     RejectSink& sink) {
  return std::make_unique<SparkovReader>(std::move(input), options, sink);
}

}  // namespace txguard
