// A synthetic, labelled and time-stamped training set with a known fraud
// signal, for tests, benchmarks and smoke runs of the training pipeline.
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/trainer.h"

namespace txguard {

// Generates `rows` PaySim-like rows: about `fraud_rate` of them are fraud,
// with larger amounts, night hours, drained balances and bursts of
// activity, and some legitimate rows look like fraud so that the classes
// overlap. Timestamps grow by 0-9 s per row and repeat now and then, so
// ties occur. The same arguments give the same set on one standard library;
// std::normal_distribution may differ between libraries.
TrainingSet makeSyntheticTrainingSet(std::size_t rows, std::uint64_t seed,
                                     double fraud_rate = 0.05);

}  // namespace txguard
