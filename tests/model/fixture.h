// A small model trained once on synthetic data, shared by the model tests.
#pragma once

#include <filesystem>
#include <string>

#include "model/synthetic.h"
#include "model/trainer.h"

namespace txguard::testing {

inline TrainOptions smallTrainOptions() {
  TrainOptions options;
  options.name = "synthetic";
  options.dataset_kind = "paysim";
  options.rounds = 30;
  options.max_depth = 4;
  options.seed = 11;
  return options;
}

inline const TrainingSet& syntheticSet() {
  static const TrainingSet set = makeSyntheticTrainingSet(8000, 42);
  return set;
}

// Allocated once and never freed: a Model destroyed during static
// destruction crashes inside XGBoost (see the NOTE in model/model.h).
inline const Model& trainedModel() {
  static const Model* model = new Model(train(syntheticSet(), smallTrainOptions()));
  return *model;
}

// A fresh, empty directory under the system temp dir, named after the test.
inline std::filesystem::path freshDirectory(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("txguard_model_test_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace txguard::testing
