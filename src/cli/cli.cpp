#include <exception>

#include <fmt/format.h>

#include "cli/commands.h"

namespace txguard {

int runCli(int argc, char** argv) {
  CLI::App app{
      "txguard: bank-transaction fraud detection.\n"
      "Start with `txguard score FILE` on a CSV or JSON file of transactions."};
  app.set_version_flag("--version", std::string("txguard ") + TXGUARD_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  int exit_code = 0;
  addScoreCommand(app, exit_code);
  addTrainCommand(app, exit_code);
  addEvaluateCommand(app, exit_code);
  addServiceCommands(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const std::exception& error) {
    fmt::print(stderr, "txguard: error: {}\n", error.what());
    return 1;
  }
  return exit_code;
}

}  // namespace txguard
