// The batch subcommands. Each registers its options on the CLI11 app and
// returns the callback's exit code through `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace txguard {

void addScoreCommand(CLI::App& app, int& exit_code);
void addTrainCommand(CLI::App& app, int& exit_code);
void addEvaluateCommand(CLI::App& app, int& exit_code);
void addServiceCommands(CLI::App& app, int& exit_code);

// Runs the CLI: parses arguments, runs one subcommand, turns errors into
// one line on stderr and a non-zero exit code.
int runCli(int argc, char** argv);

}  // namespace txguard
