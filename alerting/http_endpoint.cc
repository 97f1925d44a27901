#include "alerting/http_endpoint.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <utility>

namespace vigil::alerting {

namespace {

using Clock = std::chrono::steady_clock;

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

std::string Plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

DeliveryEnv DeliveryEnv::Real() {
  DeliveryEnv env;
  env.make_transport = [] { return std::make_unique<HttpClient>(); };
  env.sleep_ms = [](int64_t ms) {
    if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  };
  env.jitter = [] {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  };
  env.now_ms = SystemNowMs;
  env.steady_ns = SteadyNowNs;
  return env;
}

HttpEndpoint::HttpEndpoint(EndpointConfig config, RenderFn render, DeliveryEnv env,
                           DeliveryStats* stats, DeadLetterFn dead_letter, LogFn log)
    : config_(std::move(config)),
      render_(std::move(render)),
      env_(std::move(env)),
      stats_(stats),
      dead_letter_(std::move(dead_letter)),
      log_(std::move(log)),
      next_periodic_(Clock::now() + std::chrono::milliseconds(config_.periodic_ms)) {
  thread_ = std::thread([this] { Run(); });
}

HttpEndpoint::~HttpEndpoint() { Close(); }

void HttpEndpoint::Log(const std::string& text) const {
  if (log_) log_(text);
}

std::string HttpEndpoint::Redact(std::string_view text) const {
  return config_.headers != nullptr ? config_.headers->Redact(text) : std::string(text);
}

void HttpEndpoint::DeadLetter(const std::vector<Delivery>& ds, const std::string& reason) {
  stats_->DeadLettered(ds.size());
  if (!dead_letter_) return;
  for (const Delivery& d : ds) dead_letter_(*d.record, reason);
}

void HttpEndpoint::Enqueue(Delivery d) {
  std::unique_lock<std::mutex> lock(mu_);
  if (queue_.size() >= config_.capacity) {
    stats_->Overflowed(1);
    const bool spill = config_.overflow == Overflow::kDeadLetter;
    if (!overflowing_) {
      overflowing_ = true;
      Log(config_.what + ": queue full (" + Plural(config_.capacity, "record", "records") +
          "): " + (spill ? "records go to the dead-letter output" : "the job waits"));
    }
    if (spill) {
      lock.unlock();
      DeadLetter({std::move(d)}, config_.what + ": queue full (" +
                                     Plural(config_.capacity, "record", "records") + ")");
      return;
    }
    not_full_.wait(lock, [&] { return queue_.size() < config_.capacity || closing_; });
  }
  queue_.push_back(std::move(d));
  stats_->QueueDepthAdd(1);
  work_.notify_one();
}

void HttpEndpoint::Requeue(std::vector<Delivery> ds) {
  if (ds.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  stats_->QueueDepthAdd(static_cast<int64_t>(ds.size()));
  for (Delivery& d : ds) queue_.push_back(std::move(d));
  work_.notify_one();
}

std::vector<Delivery> HttpEndpoint::Pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Delivery> out(in_flight_.begin(), in_flight_.end());
  out.insert(out.end(), queue_.begin(), queue_.end());
  return out;
}

void HttpEndpoint::TriggerPeriodic() {
  std::lock_guard<std::mutex> lock(mu_);
  next_periodic_ = Clock::now();
  work_.notify_one();
}

void HttpEndpoint::BeginClose() {
  std::lock_guard<std::mutex> lock(mu_);
  closing_ = true;
  work_.notify_one();
  not_full_.notify_all();
}

void HttpEndpoint::Join() {
  if (thread_.joinable()) thread_.join();
}

void HttpEndpoint::Run() {
  std::unique_ptr<HttpTransport> transport = env_.make_transport();
  const bool periodic = config_.periodic_ms > 0 && config_.periodic;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    while (queue_.empty() && !closing_ && !(periodic && Clock::now() >= next_periodic_)) {
      if (periodic) {
        work_.wait_until(lock, next_periodic_);
      } else {
        work_.wait(lock);
      }
    }
    if (periodic && !closing_ && Clock::now() >= next_periodic_) {
      lock.unlock();
      const bool ok = PostPeriodic(transport.get());
      lock.lock();
      if (ok) {
        periodic_failures_ = 0;
        next_periodic_ = Clock::now() + std::chrono::milliseconds(config_.periodic_ms);
      } else {
        ++periodic_failures_;
        const int64_t wait = std::clamp<int64_t>(config_.retry.CapMs(periodic_failures_), 1,
                                                 config_.periodic_ms);
        next_periodic_ = Clock::now() + std::chrono::milliseconds(wait);
      }
      continue;
    }
    if (queue_.empty()) break;  // closing, and everything is delivered or dead-lettered

    const size_t n = std::min(config_.batch, queue_.size());
    in_flight_.assign(std::make_move_iterator(queue_.begin()),
                      std::make_move_iterator(queue_.begin() + static_cast<ptrdiff_t>(n)));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(n));
    if (queue_.size() < config_.capacity) not_full_.notify_all();
    if (queue_.size() <= config_.capacity / 2) overflowing_ = false;
    lock.unlock();
    const Outcome outcome = DeliverBatch(transport.get(), in_flight_);
    lock.lock();
    stats_->QueueDepthAdd(-static_cast<int64_t>(in_flight_.size()));
    in_flight_.clear();
    if (outcome == Outcome::kGaveUp && closing_ && !queue_.empty()) {
      // Shutting down with a failing endpoint: one batch used up its retries; the rest is not
      // tried, so that stopping takes one retry schedule, not one per batch.
      std::vector<Delivery> rest(std::make_move_iterator(queue_.begin()),
                                 std::make_move_iterator(queue_.end()));
      queue_.clear();
      stats_->QueueDepthAdd(-static_cast<int64_t>(rest.size()));
      lock.unlock();
      Log(config_.what + ": stopping; " + Plural(rest.size(), "record", "records") +
          " not attempted go to the dead-letter output");
      DeadLetter(rest, config_.what + ": not attempted at shutdown (the endpoint was failing)");
      lock.lock();
    }
  }
}

HttpEndpoint::Outcome HttpEndpoint::DeliverBatch(HttpTransport* transport,
                                                 const std::vector<Delivery>& batch) {
  const uint64_t n = batch.size();
  RenderedRequest req;
  std::string failure;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      stats_->Retried(n);
      env_.sleep_ms(config_.retry.DelayMs(attempt, env_.jitter()));
    }
    req.body.clear();
    req.headers.clear();
    render_(batch, env_.now_ms(), &req);
    const HttpResult result =
        transport->Post({config_.url, req.body, &req.headers, config_.timeout_ms});
    if (result.ok()) {
      stats_->Sent(n);
      const int64_t now = env_.steady_ns();
      for (const Delivery& d : batch) {
        stats_->Latency(static_cast<double>(std::max<int64_t>(0, now - d.enqueued_ns)) / 1e9);
      }
      if (failing_attempts_ > 0) {
        Log(config_.what + ": delivering again after " +
            Plural(failing_attempts_, "failed attempt", "failed attempts"));
        failing_attempts_ = 0;
      }
      return Outcome::kDelivered;
    }
    stats_->Failed(n);
    failure = Redact(DescribeFailure(result));
    if (failing_attempts_++ == 0) {
      Log(config_.what + ": failing: " + failure);
    }
    if (!IsRetryable(result)) {
      const std::string reason = config_.what + ": " + failure + " (not retried)";
      Log(reason + ": " + Plural(n, "record goes", "records go") + " to the dead-letter output");
      DeadLetter(batch, reason);
      return Outcome::kRejected;
    }
    if (attempt >= config_.retry.retries) {
      const std::string reason =
          config_.what + ": " + failure + " after " + Plural(attempt + 1, "attempt", "attempts");
      Log(reason + ": " + Plural(n, "record goes", "records go") + " to the dead-letter output");
      DeadLetter(batch, reason);
      return Outcome::kGaveUp;
    }
  }
}

bool HttpEndpoint::PostPeriodic(HttpTransport* transport) {
  const std::vector<Delivery> all = config_.periodic();
  RenderedRequest req;
  std::vector<Delivery> batch;
  for (size_t i = 0; i < all.size(); i += config_.batch) {
    batch.assign(all.begin() + static_cast<ptrdiff_t>(i),
                 all.begin() + static_cast<ptrdiff_t>(std::min(all.size(), i + config_.batch)));
    req.body.clear();
    req.headers.clear();
    render_(batch, env_.now_ms(), &req);
    const HttpResult result =
        transport->Post({config_.url, req.body, &req.headers, config_.timeout_ms});
    if (!result.ok()) {
      stats_->Failed(batch.size());
      if (failing_attempts_++ == 0) {
        Log(config_.what + ": re-send failed: " + Redact(DescribeFailure(result)) +
            "; trying again later");
      }
      return false;
    }
    stats_->Sent(batch.size());
    if (failing_attempts_ > 0) {
      Log(config_.what + ": delivering again after " +
          Plural(failing_attempts_, "failed attempt", "failed attempts"));
      failing_attempts_ = 0;
    }
  }
  return true;
}

}  // namespace vigil::alerting
