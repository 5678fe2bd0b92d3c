// csr-simulator: parse the command line, load scenarios, serve until SIGTERM
// or SIGINT. Signals are blocked in every thread and taken by sigwait here.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "csrsim/app.hpp"
#include "csrsim/config.hpp"
#include "csrsim/log.hpp"
#include "csrsim/scenario.hpp"
#include "csrsim/state_store.hpp"
#include "csrsim/tls.hpp"

namespace {

int Validate(const std::vector<std::string>& paths) {
  int invalid = 0;
  for (const auto& path : paths) {
    try {
      auto set = csrsim::LoadScenarioPaths({path});
      std::printf("%s: ok (%zu scenarios)\n", path.c_str(), set.scenarios().size());
    } catch (const csrsim::ScenarioLoadError& error) {
      std::fprintf(stderr, "%s\n", error.what());
      invalid = 1;
    }
  }
  return invalid;
}

int DumpState(const std::string& file) {
  try {
    if (!std::ifstream(file)) {
      std::fprintf(stderr, "csr-simulator: state dump: cannot read '%s'\n", file.c_str());
      return 2;
    }
    csrsim::StateStore state(file, csrsim::StateStore::Purpose::kDump);
    std::printf("%s\n", state.DumpJson().c_str());
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "csr-simulator: %s\n", error.what());
    return 2;
  }
}

int MakeSelfSignedCertificate(const std::string& dir, const std::vector<std::string>& names) {
  try {
    csrsim::WriteSelfSignedCertificate(dir, names);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "csr-simulator: %s\n", error.what());
    return 2;
  }
  std::printf(
      "wrote %s/cert.pem and %s/key.pem\nserve HTTPS:   csr-simulator --tls-cert %s/cert.pem --tls-key "
      "%s/key.pem\ntrust it:      curl --cacert %s/cert.pem https://localhost:8080/_sim/health\n",
      dir.c_str(), dir.c_str(), dir.c_str(), dir.c_str(), dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto command = csrsim::ParseCommandLine(argc, argv);
  switch (command.action) {
    case csrsim::CliAction::kHelp:
      std::fputs(csrsim::HelpText().c_str(), stdout);
      return 0;
    case csrsim::CliAction::kVersion:
      std::printf("csr-simulator %s\n", CSRSIM_VERSION);
      return 0;
    case csrsim::CliAction::kError:
      std::fprintf(stderr, "csr-simulator: %s\n", command.error.c_str());
      return 2;
    case csrsim::CliAction::kValidate:
      return Validate(command.validate_paths);
    case csrsim::CliAction::kStateDump:
      return DumpState(command.state_dump_file);
    case csrsim::CliAction::kTlsSelfSigned:
      return MakeSelfSignedCertificate(command.tls_dir, command.tls_names);
    case csrsim::CliAction::kRun:
      break;
  }

  for (const auto& warning : command.warnings) std::fprintf(stderr, "csr-simulator: warning: %s\n", warning.c_str());

  // Block the stop signals before any thread starts, so only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  try {
    csrsim::Simulator simulator(command.config);
    const int port = simulator.Start();
    if (!command.config.port_file.empty()) {
      std::ofstream(command.config.port_file) << port << "\n";
    }
    std::printf("csr-simulator %s listening on %s:%d\n", CSRSIM_VERSION, command.config.host.c_str(), port);
    std::fflush(stdout);
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    const csrsim::ShutdownReport report = simulator.Stop();
    // Notifications that never went out are worth a warning; the rest is information.
    const auto level = report.callbacks() > 0 ? csrsim::LogLevel::kWarn : csrsim::LogLevel::kInfo;
    csrsim::ProcessLog().Write(level, "shutdown",
                               {{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"},
                                {"dropped_callbacks", report.callbacks()},
                                {"callbacks_queued", report.callbacks_queued},
                                {"callbacks_on_clock", report.callbacks_on_clock},
                                {"dropped_steps", report.scheduled_steps},
                                {"drained_attempts", report.callback_attempts_drained}});
    if (!command.config.port_file.empty()) std::remove(command.config.port_file.c_str());
    return 0;
  } catch (const csrsim::ScenarioLoadError& error) {
    std::fprintf(stderr, "csr-simulator: %s\n", error.what());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "csr-simulator: %s\n", error.what());
  }
  return 2;
}
