#include "cli/commands.h"

int main(int argc, char** argv) { return txguard::runCli(argc, argv); }
