// `verdict serve`: the gRPC policy decision server.

#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "server/log.h"
#include "server/server.h"

namespace verdict::cli {

const CommandSpec& ServeSpec() {
  static const CommandSpec* const spec = new CommandSpec{
      .name = "serve",
      .summary =
          "Serve policy decisions over gRPC, reloading policies when "
          "they change",
      .usage =
          "verdict serve --policies DIR [--data DIR] "
          "[--listen HOST:PORT] [--port-file FILE]",
      .options =
          {
              {.name = "policies",
               .value_name = "DIR",
               .help = "directory of *.verdict policy files, read "
                       "recursively; reloaded when a file under it changes "
                       "and on SIGHUP",
               .required = true},
              {.name = "data",
               .value_name = "DIR",
               .help = "directory of entity data sets <name>.json that "
                       "`schema <group> from <name>` joins; reloaded like "
                       "the policies (default: no data)"},
              {.name = "listen",
               .value_name = "HOST:PORT",
               .help = "address to accept gRPC connections on; port 0 lets "
                       "the OS choose a free port (default: 127.0.0.1:8181)"},
              {.name = "port-file",
               .value_name = "FILE",
               .help = "file that receives the bound port number once the "
                       "server accepts requests, replaced atomically "
                       "(default: none)"},
          },
      .positional_name = ""};
  return *spec;
}

int RunServe(const std::vector<std::string>& args) {
  const CommandSpec& spec = ServeSpec();
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(spec, args);
  if (!parsed.ok()) {
    std::cerr << "verdict serve: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << HelpText(spec);
    return 0;
  }
  if (!parsed->Has("policies")) {
    std::cerr << "verdict serve: missing --policies DIR, the directory of "
                 "policy files to serve\n";
    return 2;
  }

  server::ServerOptions options;
  options.policy_dir = parsed->Get("policies");
  options.data_dir = parsed->Get("data");
  options.listen_address = parsed->Get("listen", options.listen_address);
  options.port_file = parsed->Get("port-file");

  // RunServer logs progress itself; a failure ends with one more ERROR line
  // that states why the server is not running.
  if (absl::Status status = server::RunServer(options); !status.ok()) {
    server::LogError(absl::StrCat("verdict serve failed: ", status.message()));
    return 1;
  }
  return 0;
}

}  // namespace verdict::cli
