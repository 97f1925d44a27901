#include "engine/kafka/txn_producer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

namespace vigil::engine::kafka {

namespace {

using Clock = std::chrono::steady_clock;

int MsLeft(Clock::time_point deadline) {
  return static_cast<int>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
}

// Delivery reports are served (rd_kafka_poll) at least this often by Produce.
constexpr uint64_t kPollEvery = 1024;

}  // namespace

struct TxnProducer::Impl {
  TxnProducerOptions options;
  std::string name;   // "kafka transactional producer ID on BROKERS", for messages
  ClientContext ctx;  // before rk: librdkafka's callbacks reach it until rk is destroyed
  HandlePtr rk;
  std::atomic<uint64_t> produced{0};
  std::atomic<uint64_t> committed{0};
  bool in_transaction = false;  // begun and neither committed nor aborted (committer's thread)

  std::mutex mu;  // guards the delivery errors (reports come from any thread that polls)
  uint64_t failed_deliveries = 0;
  std::string first_delivery_error;

  ~Impl() {
    if (rk == nullptr) return;
    if (in_transaction && !Fatal()) {
      rd_kafka_error_t* error = rd_kafka_abort_transaction(rk.get(), 5000);
      if (error != nullptr) rd_kafka_error_destroy(error);
    }
    rk.reset();
  }

  absl::Status Error(absl::StatusCode code, const std::string& what) const {
    return absl::Status(code, name + ": " + what);
  }

  // The fatal error (the producer was fenced, or idempotence broke), if any.
  bool Fatal(std::string* text = nullptr) const {
    char buf[512];
    if (rd_kafka_fatal_error(rk.get(), buf, sizeof buf) == RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    if (text != nullptr) *text = buf;
    return true;
  }
  absl::Status FatalStatus() const {
    std::string text;
    Fatal(&text);
    return Error(absl::StatusCode::kUnavailable,
                 "fatal error (fenced by a newer producer with the same transactional id, or "
                 "broken): " +
                     text);
  }

  void OnDelivery(const rd_kafka_message_t& m) {
    if (m.err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    // Purged records are those of an aborted transaction: not an error of the next one.
    if (m.err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m.err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
      return;
    std::lock_guard<std::mutex> lock(mu);
    if (failed_deliveries++ == 0) {
      first_delivery_error = "delivery to " + std::string(rd_kafka_topic_name(m.rkt)) + "[" +
                             std::to_string(m.partition) + "] failed: " + ErrorText(m.err);
    }
  }
  // The delivery errors since the last reset, as an error (OK when none).
  absl::Status DeliveryError() {
    std::lock_guard<std::mutex> lock(mu);
    if (failed_deliveries == 0) return absl::OkStatus();
    return Error(absl::StatusCode::kUnavailable, first_delivery_error + " (" +
                                                     std::to_string(failed_deliveries) +
                                                     " records failed in this transaction)");
  }
  void ResetDeliveryErrors() {
    rd_kafka_poll(rk.get(), 0);  // serve reports still queued (those of the purge)
    std::lock_guard<std::mutex> lock(mu);
    failed_deliveries = 0;
    first_delivery_error.clear();
  }

  // Turns an rd_kafka_error_t of a transactional call into a status (and destroys it).
  absl::Status FromError(const char* what, rd_kafka_error_t* error) {
    if (error == nullptr) return absl::OkStatus();
    std::string text = std::string(what) + ": " + rd_kafka_error_string(error) + " (" +
                       rd_kafka_error_name(error) + ")";
    const bool fatal = rd_kafka_error_is_fatal(error);
    const bool retriable = rd_kafka_error_is_retriable(error);
    rd_kafka_error_destroy(error);
    if (fatal) return FatalStatus();
    return Error(retriable ? absl::StatusCode::kDeadlineExceeded : absl::StatusCode::kInternal,
                 text);
  }

  absl::Status Begin() {
    VIGIL_RETURN_IF_ERROR(FromError("begin transaction", rd_kafka_begin_transaction(rk.get())));
    in_transaction = true;
    return absl::OkStatus();
  }

  // Aborts the open transaction (retrying while the error is retriable and time is left),
  // forgets its delivery errors and begins the next.
  absl::Status AbortAndBegin(Clock::time_point deadline) {
    while (in_transaction) {
      rd_kafka_error_t* error = rd_kafka_abort_transaction(rk.get(), std::max(MsLeft(deadline), 1));
      if (error == nullptr) {
        in_transaction = false;
        break;
      }
      const bool retry = rd_kafka_error_is_retriable(error) && MsLeft(deadline) > 0;
      if (!retry) return FromError("abort transaction", error);
      rd_kafka_error_destroy(error);
    }
    ResetDeliveryErrors();
    return Begin();
  }
};

namespace {

void DeliveryCallback(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* ctx = static_cast<ClientContext*>(opaque);
  static_cast<TxnProducer::Impl*>(ctx->owner)->OnDelivery(*m);
}

}  // namespace

TxnProducer::TxnProducer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TxnProducer::~TxnProducer() = default;

absl::StatusOr<std::unique_ptr<TxnProducer>> TxnProducer::Open(TxnProducerOptions options,
                                                               int timeout_ms) {
  auto impl = std::make_unique<Impl>();
  impl->name =
      "kafka transactional producer " + options.transactional_id + " on " + options.client.brokers;
  using Code = absl::StatusCode;
  if (options.client.brokers.empty()) return impl->Error(Code::kInvalidArgument, "empty brokers");
  if (options.transactional_id.empty()) {
    return impl->Error(Code::kInvalidArgument, "empty transactional id");
  }
  if (options.transaction_timeout_ms <= 0 || options.max_in_flight <= 0) {
    return impl->Error(Code::kInvalidArgument,
                       "transaction_timeout_ms and max_in_flight must be positive");
  }
  impl->options = std::move(options);
  const TxnProducerOptions& o = impl->options;
  impl->ctx.owner = impl.get();
  impl->ctx.log = o.log;
  if (!impl->ctx.log) {
    std::string prefix = "warning: " + impl->name + ": ";
    impl->ctx.log = [prefix](std::string_view line) {
      std::string text = prefix + std::string(line) + "\n";
      std::fwrite(text.data(), 1, text.size(), stderr);
    };
  }
  auto fail = [&](const absl::Status& st) {
    return impl->Error(st.code(), std::string(st.message()));
  };
  auto conf = MakeConf(o.client, &impl->ctx);
  if (!conf.ok()) return fail(conf.status());
  for (const auto& [key, value] : std::vector<std::pair<const char*, std::string>>{
           {"transactional.id", o.transactional_id},
           {"enable.idempotence", "true"},
           {"acks", "all"},
           {"transaction.timeout.ms", std::to_string(o.transaction_timeout_ms)},
           {"queue.buffering.max.messages", std::to_string(o.max_in_flight)},
           {"linger.ms", "5"},
       }) {
    absl::Status st = SetConf(conf->get(), key, value);
    if (!st.ok()) return fail(st);
  }
  rd_kafka_conf_set_dr_msg_cb(conf->get(), DeliveryCallback);
  auto rk = NewClient(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk.ok()) return fail(rk.status());
  impl->rk = std::move(*rk);

  rd_kafka_error_t* error = rd_kafka_init_transactions(impl->rk.get(), std::max(timeout_ms, 1));
  if (error != nullptr) {
    const bool retriable = rd_kafka_error_is_retriable(error);
    absl::Status st = impl->FromError("init transactions", error);
    if (retriable) {
      return impl->Error(Code::kUnavailable, "no transaction coordinator answered within " +
                                                 std::to_string(timeout_ms) + " ms (" +
                                                 std::string(st.message()) + ")");
    }
    return st;
  }
  VIGIL_RETURN_IF_ERROR(impl->Begin());
  return std::unique_ptr<TxnProducer>(new TxnProducer(std::move(impl)));
}

absl::Status TxnProducer::Produce(std::string_view topic, int32_t partition, std::string_view key,
                                  std::string_view value,
                                  const std::vector<std::pair<std::string, std::string>>& headers) {
  Impl& s = *impl_;
  if (partition < 0) {
    return s.Error(absl::StatusCode::kInvalidArgument,
                   "partition must be >= 0, not " + std::to_string(partition));
  }
  const std::string t(topic);
  const auto deadline = Clock::now() + std::chrono::milliseconds(s.options.transaction_timeout_ms);
  while (true) {
    rd_kafka_headers_t* hdrs = nullptr;
    if (!headers.empty()) {
      hdrs = rd_kafka_headers_new(headers.size());
      for (const auto& [name, v] : headers) {
        rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), v.data(),
                            static_cast<ssize_t>(v.size()));
      }
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        s.rk.get(), RD_KAFKA_V_TOPIC(t.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_HEADERS(hdrs),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {  // the record owns the headers now
      if (s.produced.fetch_add(1, std::memory_order_relaxed) % kPollEvery == 0) {
        rd_kafka_poll(s.rk.get(), 0);
      }
      return absl::OkStatus();
    }
    if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
    if (err == RD_KAFKA_RESP_ERR__FATAL || s.Fatal()) return s.FatalStatus();
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      const std::string where = "produce to " + t + "[" + std::to_string(partition) + "]: ";
      if (err == RD_KAFKA_RESP_ERR__STATE) {
        return s.Error(absl::StatusCode::kFailedPrecondition,
                       where + ErrorText(err) + " (the transaction failed: Commit or Abort it)");
      }
      if (err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
          err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
        return s.Error(absl::StatusCode::kInvalidArgument, where + ErrorText(err));
      }
      return s.Error(absl::StatusCode::kInternal, where + ErrorText(err));
    }
    // max_in_flight records await acknowledgement: serve reports until there is room.
    if (MsLeft(deadline) <= 0) {
      return s.Error(absl::StatusCode::kDeadlineExceeded,
                     "no room in the producer queue (max_in_flight " +
                         std::to_string(s.options.max_in_flight) + ") within " +
                         std::to_string(s.options.transaction_timeout_ms) + " ms");
    }
    rd_kafka_poll(s.rk.get(), 10);
  }
}

absl::Status TxnProducer::Flush(int timeout_ms) {
  Impl& s = *impl_;
  rd_kafka_resp_err_t err = rd_kafka_flush(s.rk.get(), std::max(timeout_ms, 0));
  if (s.Fatal()) return s.FatalStatus();
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return s.Error(absl::StatusCode::kDeadlineExceeded,
                   std::to_string(rd_kafka_outq_len(s.rk.get())) +
                       " records still unacknowledged after " + std::to_string(timeout_ms) + " ms");
  }
  return s.DeliveryError();
}

absl::Status TxnProducer::Commit(int timeout_ms) {
  Impl& s = *impl_;
  const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 1));
  if (s.Fatal()) return s.FatalStatus();
  // Records that failed are not in the transaction: committing it would lose them silently.
  absl::Status flushed = Flush(MsLeft(deadline));
  if (flushed.code() == absl::StatusCode::kUnavailable && s.Fatal()) return flushed;
  if (flushed.code() == absl::StatusCode::kDeadlineExceeded) return flushed;
  if (!flushed.ok()) {
    VIGIL_RETURN_IF_ERROR(s.AbortAndBegin(deadline));
    return s.Error(absl::StatusCode::kAborted,
                   "transaction aborted: " + std::string(flushed.message()));
  }
  while (true) {
    rd_kafka_error_t* error =
        rd_kafka_commit_transaction(s.rk.get(), std::max(MsLeft(deadline), 1));
    if (error == nullptr) break;
    if (rd_kafka_error_is_fatal(error)) {
      rd_kafka_error_destroy(error);
      return s.FatalStatus();
    }
    if (rd_kafka_error_txn_requires_abort(error)) {
      absl::Status st = s.FromError("commit transaction", error);
      VIGIL_RETURN_IF_ERROR(s.AbortAndBegin(deadline));
      return s.Error(absl::StatusCode::kAborted,
                     "transaction aborted: " + std::string(st.message()));
    }
    if (rd_kafka_error_is_retriable(error) && MsLeft(deadline) > 0) {
      rd_kafka_error_destroy(error);  // the commit goes on in the background: resume it
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    // Timed out (the transaction stays open: Commit again or Abort), or refused.
    return s.FromError("commit transaction", error);
  }
  s.in_transaction = false;
  s.committed.fetch_add(1, std::memory_order_relaxed);
  s.ResetDeliveryErrors();
  return s.Begin();
}

absl::Status TxnProducer::Abort(int timeout_ms) {
  Impl& s = *impl_;
  if (s.Fatal()) return s.FatalStatus();
  return s.AbortAndBegin(Clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 1)));
}

uint64_t TxnProducer::produced() const { return impl_->produced.load(std::memory_order_relaxed); }
uint64_t TxnProducer::committed() const { return impl_->committed.load(std::memory_order_relaxed); }

}  // namespace vigil::engine::kafka
