#include "cli/labelled_dataset.h"

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <numeric>

#include <fmt/format.h>

#include "cli/defaults.h"
#include "decision/scorer.h"
#include "features/account_state_store.h"

namespace txguard {

std::string sha256File(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw CliError(fmt::format("cannot read '{}' to hash it", path.string()));
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  EVP_DigestInit_ex(context, EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 20);
  while (file) {
    file.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    EVP_DigestUpdate(context, buffer.data(), static_cast<std::size_t>(file.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context, digest, &length);
  EVP_MD_CTX_free(context);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
  return hex;
}

LabelledDataset loadLabelledDataset(const std::filesystem::path& input, const ReaderOptions& options,
                                    const RuleSet& rules, const std::filesystem::path& rejects_path) {
  RejectsFile rejects(rejects_path);
  auto reader = openReader(input, options, rejects);

  std::vector<Transaction> transactions;
  Transaction transaction;
  while (reader->next(transaction)) {
    if (transaction.label == Label::kUnknown) {
      throw CliError(fmt::format(
          "{}:{}: row has no fraud label; training and evaluation need a labelled file "
          "(isFraud for PaySim, is_fraud for Sparkov, label for canonical JSON)",
          input.string(), transaction.source_line));
    }
    transactions.push_back(transaction);
  }
  if (transactions.empty()) {
    throw CliError(fmt::format("{}: no valid rows to train or evaluate on (see {})", input.string(),
                               rejects_path.string()));
  }

  std::vector<std::size_t> order(transactions.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return transactions[a].timestamp_ms < transactions[b].timestamp_ms;
  });

  LabelledDataset dataset;
  dataset.format = reader->format();
  dataset.rejected = rejects.count();
  dataset.sha256 = sha256File(input);
  dataset.features.reserve(order.size());

  // The scorer's first pass is the one place where features, rules and the
  // history update meet, so training reuses it instead of repeating it.
  Scorer scorer(rules, nullptr);
  InMemoryAccountStateStore states;
  PendingDecision pending;
  for (std::size_t index : order) {
    const Transaction& row = transactions[index];
    scorer.prepare(row, states.stateFor(row.account), pending);
    dataset.features.push_back(pending.features);
    dataset.labels.push_back(row.label == Label::kFraud ? 1 : 0);
    dataset.timestamps_ms.push_back(row.timestamp_ms);
  }
  return dataset;
}

}  // namespace txguard
