// `vigil savepoint --state DIR [--wait]` (see commands.h).
#include <signal.h>
#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "src/commands.h"

namespace vigil::app {

namespace {
std::set<std::string> Savepoints(const std::filesystem::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("savepoint-", 0) == 0 && name.find(".tmp") == std::string::npos) {
      out.insert(e.path().string());
    }
  }
  return out;
}
}  // namespace

int SavepointCommand(const SavepointOptions& opts) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(opts.state_dir) / "savepoints";
  std::ifstream pid_in(fs::path(opts.state_dir) / "vigil.pid");
  long pid = 0;
  if (!(pid_in >> pid) || pid <= 0) {
    std::fprintf(stderr, "vigil: error: no job is running on %s (no vigil.pid)\n",
                 opts.state_dir.c_str());
    return kExitRuntime;
  }
  std::set<std::string> before = Savepoints(dir);
  if (::kill(static_cast<pid_t>(pid), SIGUSR1) != 0) {
    std::fprintf(stderr, "vigil: error: cannot signal job %ld: %s\n", pid, std::strerror(errno));
    return kExitRuntime;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (opts.wait || std::chrono::steady_clock::now() < deadline) {
    for (const std::string& p : Savepoints(dir)) {
      if (!before.contains(p)) {
        std::printf("%s\n", p.c_str());
        return kExitOk;
      }
    }
    if (::kill(static_cast<pid_t>(pid), 0) != 0) {
      std::fprintf(stderr, "vigil: error: job %ld ended before writing a savepoint\n", pid);
      return kExitRuntime;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "vigil: error: no savepoint appeared in %s within 60 s\n", dir.c_str());
  return kExitRuntime;
}

}  // namespace vigil::app
