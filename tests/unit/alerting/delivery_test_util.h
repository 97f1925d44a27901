#pragma once
// Scaffolding shared by the HTTP sink tests: a scripted in-process transport (no sockets), a
// DeliveryEnv whose sleeps return at once and are recorded, records, a dead-letter collector,
// and child processes (the Python receiver, Alertmanager) for the tests that use the network.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "alerting/http_endpoint.h"
#include "engine/record.h"
#include "engine/sink/sink.h"
#include "gtest/gtest.h"

extern char** environ;

namespace vigil::alerting::testing {

// ---- an in-process HTTP endpoint ------------------------------------------------------------

struct SeenRequest {
  std::string url;
  std::string body;
  std::vector<std::string> headers;
};

// What every FakeTransport of a test talks to. `respond` answers request n (1-based; default
// 200). While `held`, requests block in Post until Release() (a slow endpoint).
class FakeServer {
 public:
  std::function<HttpResult(const SeenRequest& req, int n)> respond;

  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  std::vector<SeenRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // Waits until at least n requests arrived (or 10 s); returns how many did.
  size_t WaitForRequests(size_t n) const {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return requests_.size() >= n; });
    return requests_.size();
  }
  // Requests now blocked in Post (held).
  int waiting() const {
    std::lock_guard<std::mutex> lock(mu_);
    return waiting_;
  }

  HttpResult Post(const HttpRequest& req) {
    SeenRequest seen{std::string(req.url), std::string(req.body),
                     req.headers != nullptr ? *req.headers : std::vector<std::string>{}};
    int n;
    {
      std::unique_lock<std::mutex> lock(mu_);
      requests_.push_back(seen);
      n = static_cast<int>(requests_.size());
      cv_.notify_all();
      ++waiting_;
      cv_.wait(lock, [&] { return !held_; });
      --waiting_;
    }
    if (respond) return respond(seen, n);
    HttpResult ok;
    ok.status = 200;
    return ok;
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool held_ = false;
  int waiting_ = 0;
  std::vector<SeenRequest> requests_;
};

class FakeTransport : public HttpTransport {
 public:
  FakeServer* server;
  explicit FakeTransport(FakeServer* s) : server(s) {}
  HttpResult Post(const HttpRequest& req) override { return server->Post(req); }
};

inline HttpResult Status(int status, std::string body = "") {
  HttpResult r;
  r.status = status;
  r.body = std::move(body);
  return r;
}
inline HttpResult Refused() {
  HttpResult r;
  r.error = "Failed to connect to 127.0.0.1 port 9: Connection refused";
  return r;
}
inline HttpResult TimedOut() {
  HttpResult r;
  r.timed_out = true;
  r.error = "timed out after 100 ms";
  return r;
}

// A DeliveryEnv over a FakeServer: sleeps are recorded (not slept), jitter is fixed, the wall
// clock is `now` (settable).
struct TestEnv {
  FakeServer server;
  std::atomic<int64_t> now{1'700'000'000'000};
  std::atomic<double> jitter{1.0};
  mutable std::mutex mu;
  std::vector<int64_t> sleeps;

  std::vector<int64_t> Sleeps() const {
    std::lock_guard<std::mutex> lock(mu);
    return sleeps;
  }

  DeliveryEnv Env() {
    DeliveryEnv env = DeliveryEnv::Real();
    env.make_transport = [this] { return std::make_unique<FakeTransport>(&server); };
    env.sleep_ms = [this](int64_t ms) {
      std::lock_guard<std::mutex> lock(mu);
      sleeps.push_back(ms);
    };
    env.jitter = [this] { return jitter.load(); };
    env.now_ms = [this] { return now.load(); };
    return env;
  }
};

// ---- records and the dead-letter output ------------------------------------------------------

inline engine::Record MakeRecord(std::string id, engine::RecordKind kind = engine::RecordKind::kMatch,
                                 std::string card = "4111", int64_t time_ms = 1'700'000'000'000) {
  engine::Record r;
  r.id = std::move(id);
  r.rule = "card_testing";
  r.kind = kind;
  r.key = {{"card", Value::String(card)}};
  r.time = EventTime(time_ms);
  auto e = std::make_shared<Event>();
  e->raw = "{\"card\":\"" + card + "\",\"amount\":900}";
  e->seq = 7;
  e->time = EventTime(time_ms);
  r.events = {{"large", {e}}};
  r.fields = {{"total", Value::Float(900.0)}};
  r.labels = {{"alertname", "card_testing"}, {"card", card}, {"severity", "critical"}};
  r.annotations = {{"summary", "card " + card + ": 900"}};
  return r;
}

// Collects what a sink hands to the dead-letter output (thread-safe).
struct DeadLetters {
  mutable std::mutex mu;
  std::vector<std::pair<std::string, std::string>> items;  // (record id, reason)

  std::function<void(const engine::Record&, std::string_view)> Fn() {
    return [this](const engine::Record& r, std::string_view reason) {
      std::lock_guard<std::mutex> lock(mu);
      items.emplace_back(r.id, std::string(reason));
    };
  }
  std::vector<std::pair<std::string, std::string>> Get() const {
    std::lock_guard<std::mutex> lock(mu);
    return items;
  }
};

// Collects log lines (thread-safe).
struct Logs {
  mutable std::mutex mu;
  std::vector<std::string> lines;
  std::function<void(std::string_view)> Fn() {
    return [this](std::string_view l) {
      std::lock_guard<std::mutex> lock(mu);
      lines.emplace_back(l);
    };
  }
  std::string All() const {
    std::lock_guard<std::mutex> lock(mu);
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
};

// Polls `cond` every 5 ms for up to `timeout`.
inline bool WaitFor(const std::function<bool()>& cond,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// ---- child processes ---------------------------------------------------------------------------

// The repository's tests/e2e directory: $VIGIL_SOURCE_DIR/tests/e2e if set, else found from
// this test binary (build/tests/vigil_alerting_tests): the nearest ancestor directory holding
// tests/e2e, or the source directory named in the build's CMakeCache.txt.
inline std::string E2eDir() {
  namespace fs = std::filesystem;
  auto has_helpers = [](const fs::path& root) {
    return fs::exists(root / "tests" / "e2e" / "http_receiver.py");
  };
  if (const char* src = std::getenv("VIGIL_SOURCE_DIR"); src != nullptr && *src != '\0') {
    return (fs::path(src) / "tests" / "e2e").string();
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  for (fs::path dir = exe.parent_path(); !ec && !dir.empty(); dir = dir.parent_path()) {
    if (has_helpers(dir)) return (dir / "tests" / "e2e").string();
    if (fs::exists(dir / "CMakeCache.txt")) {
      std::ifstream cache(dir / "CMakeCache.txt");
      std::string line;
      const std::string key = "CMAKE_HOME_DIRECTORY:INTERNAL=";
      while (std::getline(cache, line)) {
        if (line.rfind(key, 0) == 0 && has_helpers(line.substr(key.size()))) {
          return (fs::path(line.substr(key.size())) / "tests" / "e2e").string();
        }
      }
    }
    if (dir == dir.parent_path()) break;
  }
  return "tests/e2e";  // relative to the working directory, as a last resort
}

// A child process with a pipe on its standard input (closing it tells our helpers to stop)
// and one on its standard output (read line by line). Killed and reaped by the destructor.
class Child {
 public:
  // Starts argv[0] (looked up in PATH). Returns false if it could not be started.
  bool Start(const std::vector<std::string>& argv) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    if (rc != 0) pid_ = -1;
    return rc == 0;
  }
  // The next line of standard output without its newline; "" at end of file or after
  // `timeout`.
  std::string ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      if (std::chrono::steady_clock::now() > deadline) return "";
      fd_set fds;
      FD_ZERO(&fds);
      FD_SET(stdout_, &fds);
      timeval tv{0, 50'000};
      if (::select(stdout_ + 1, &fds, nullptr, nullptr, &tv) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::read(stdout_, chunk, sizeof(chunk));
      if (n <= 0) return "";
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }
  // Closes standard input and waits for the exit (SIGKILL after 10 s). The exit status, or -1.
  int Stop() {
    if (pid_ <= 0) return -1;
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
    int status = 0;
    for (int i = 0; i < 1000; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return -1;
  }
  ~Child() {
    Stop();
    if (stdout_ >= 0) ::close(stdout_);
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string buf_;
};

}  // namespace vigil::alerting::testing
