// Delivery latency and throughput of the webhook sink (libcurl, its delivery thread) against a
// local HTTP/1.1 receiver in this process (keep-alive, answers 200 at once). Latency is per
// record, from Write() to the moment the receiver has read the whole request; reported as
// counters p50_us / p99_us / max_us (each benchmark runs its own loop once).
//
//   build/bench/webhook_bench
//
// - Idle: one record at a time (the next is written once the previous arrived).
// - Rate/R/B: R records per second for 2 s (paced writes), batch B.
// - Throughput/B: 20,000 records written as fast as the queue takes them, batch B.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <benchmark/benchmark.h>

#include "alerting/webhook_sink.h"
#include "simdjson.h"

namespace vigil::alerting {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A minimal HTTP/1.1 server: one thread per connection, Content-Length bodies, 200 replies.
// Records the arrival time of each record id (from the JSON body: an object or an array).
class LocalReceiver {
 public:
  LocalReceiver() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(listen_fd_, 16);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~LocalReceiver() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : conns_) ::shutdown(fd, SHUT_RDWR);  // their reads return 0: they exit
      threads.swap(conn_threads_);
    }
    for (auto& t : threads) t.join();
    for (int fd : conns_) ::close(fd);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }

  // Waits until `n` records have arrived in total.
  void WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return arrived_.size() >= n; });
  }
  std::unordered_map<std::string, int64_t> Arrivals() {
    std::lock_guard<std::mutex> lock(mu_);
    return arrived_;
  }
  void Reset() {
    std::lock_guard<std::mutex> lock(mu_);
    arrived_.clear();
  }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      std::lock_guard<std::mutex> lock(mu_);
      conns_.push_back(fd);
      conn_threads_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  void Serve(int fd) {
    std::string buf;
    char chunk[65536];
    simdjson::dom::parser parser;
    for (;;) {
      size_t header_end;
      while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t n = ::read(fd, chunk, sizeof(chunk));
        if (n <= 0) return;
        buf.append(chunk, static_cast<size_t>(n));
      }
      size_t length = 0;
      std::string headers = buf.substr(0, header_end);
      for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const size_t cl = headers.find("content-length:");
      if (cl != std::string::npos) length = std::stoul(headers.substr(cl + 15));
      while (buf.size() < header_end + 4 + length) {
        const ssize_t n = ::read(fd, chunk, sizeof(chunk));
        if (n <= 0) return;
        buf.append(chunk, static_cast<size_t>(n));
      }
      const int64_t at = NowNs();
      const std::string body = buf.substr(header_end + 4, length);
      buf.erase(0, header_end + 4 + length);
      static constexpr char kReply[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
      if (::write(fd, kReply, sizeof(kReply) - 1) < 0) return;
      std::vector<std::string> ids;
      simdjson::dom::element doc;
      if (parser.parse(body).get(doc) == simdjson::SUCCESS) {
        auto add = [&](simdjson::dom::element e) {
          std::string_view id;
          if (e["id"].get(id) == simdjson::SUCCESS) ids.emplace_back(id);
        };
        simdjson::dom::array arr;
        if (doc.get(arr) == simdjson::SUCCESS) {
          for (simdjson::dom::element e : arr) add(e);
        } else {
          add(doc);
        }
      }
      std::lock_guard<std::mutex> lock(mu_);
      for (std::string& id : ids) arrived_.emplace(std::move(id), at);
      cv_.notify_all();
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> conns_;
  std::vector<std::thread> conn_threads_;
  std::unordered_map<std::string, int64_t> arrived_;
};

engine::Record BenchRecord(uint64_t i) {
  engine::Record r;
  char id[17];
  std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(i));
  r.id = id;
  r.rule = "card_testing";
  r.kind = engine::RecordKind::kMatch;
  r.key = {{"card", Value::String("4111-" + std::to_string(i % 1000))}};
  r.time = EventTime(1'700'000'000'000 + static_cast<int64_t>(i));
  auto e = std::make_shared<Event>();
  e->raw = R"({"card":"4111","amount":900.0,"merchant":"m-17","geo":{"country":"FR"}})";
  r.events = {{"large", {e}}};
  r.fields = {{"total", Value::Float(900.0)}};
  r.labels = {{"alertname", "card_testing"}, {"card", "4111"}, {"severity", "critical"}};
  r.annotations = {{"summary", "card 4111: 0.5 then 900"}};
  return r;
}

std::unique_ptr<WebhookSink> MakeSink(const std::string& url, size_t batch) {
  HttpSinkOptions o;
  o.urls = {url};
  o.batch = batch;
  o.queue = 100'000;
  engine::SinkContext ctx;
  ctx.name = "bench";
  return std::move(WebhookSink::Create(std::move(o), ctx).value());
}

void Report(benchmark::State& state, std::vector<double> latencies_us, double seconds) {
  std::sort(latencies_us.begin(), latencies_us.end());
  auto q = [&](double p) {
    if (latencies_us.empty()) return 0.0;
    return latencies_us[std::min(latencies_us.size() - 1,
                                 static_cast<size_t>(p * static_cast<double>(latencies_us.size())))];
  };
  state.counters["p50_us"] = q(0.50);
  state.counters["p99_us"] = q(0.99);
  state.counters["max_us"] = latencies_us.empty() ? 0 : latencies_us.back();
  state.counters["records_per_s"] = static_cast<double>(latencies_us.size()) / seconds;
}

std::vector<double> Latencies(const std::vector<int64_t>& written, LocalReceiver& rx,
                              uint64_t first_id) {
  const auto arrivals = rx.Arrivals();
  std::vector<double> out;
  for (size_t i = 0; i < written.size(); ++i) {
    auto it = arrivals.find(BenchRecord(first_id + i).id);
    if (it != arrivals.end()) out.push_back(static_cast<double>(it->second - written[i]) / 1e3);
  }
  return out;
}

void BM_Idle(benchmark::State& state) {
  LocalReceiver rx;
  auto sink = MakeSink(rx.url(), 1);
  constexpr int kRecords = 2000;
  std::vector<engine::Record> records;
  for (int i = 0; i < kRecords; ++i) records.push_back(BenchRecord(static_cast<uint64_t>(i)));
  for (auto _ : state) {
    std::vector<int64_t> written(kRecords);
    const int64_t start = NowNs();
    for (int i = 0; i < kRecords; ++i) {
      written[i] = NowNs();
      (void)sink->Write(records[i]);
      rx.WaitFor(static_cast<size_t>(i) + 1);
    }
    Report(state, Latencies(written, rx, 0), static_cast<double>(NowNs() - start) / 1e9);
  }
  (void)sink->Close();
}
BENCHMARK(BM_Idle)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Rate(benchmark::State& state) {
  const int64_t rate = state.range(0);
  const size_t batch = static_cast<size_t>(state.range(1));
  LocalReceiver rx;
  auto sink = MakeSink(rx.url(), batch);
  const int64_t n = rate * 2;
  std::vector<engine::Record> records;
  for (int64_t i = 0; i < n; ++i) records.push_back(BenchRecord(static_cast<uint64_t>(i)));
  for (auto _ : state) {
    std::vector<int64_t> written(static_cast<size_t>(n));
    const int64_t start = NowNs();
    const int64_t gap = 1'000'000'000 / rate;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t due = start + i * gap;
      while (NowNs() < due) {
        if (due - NowNs() > 200'000) std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      written[static_cast<size_t>(i)] = NowNs();
      (void)sink->Write(records[static_cast<size_t>(i)]);
    }
    rx.WaitFor(static_cast<size_t>(n));
    Report(state, Latencies(written, rx, 0), static_cast<double>(NowNs() - start) / 1e9);
  }
  (void)sink->Close();
}
BENCHMARK(BM_Rate)
    ->Args({1000, 1})
    ->Args({5000, 1})
    ->Args({5000, 50})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_Throughput(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  LocalReceiver rx;
  auto sink = MakeSink(rx.url(), batch);
  constexpr int kRecords = 20000;
  std::vector<engine::Record> records;
  for (int i = 0; i < kRecords; ++i) records.push_back(BenchRecord(static_cast<uint64_t>(i)));
  for (auto _ : state) {
    std::vector<int64_t> written(kRecords);
    const int64_t start = NowNs();
    for (int i = 0; i < kRecords; ++i) {
      written[i] = NowNs();
      (void)sink->Write(records[i]);
    }
    rx.WaitFor(kRecords);
    Report(state, Latencies(written, rx, 0), static_cast<double>(NowNs() - start) / 1e9);
  }
  (void)sink->Close();
}
BENCHMARK(BM_Throughput)->Arg(1)->Arg(100)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace vigil::alerting

BENCHMARK_MAIN();
