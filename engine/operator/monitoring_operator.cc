#include "engine/operator/monitoring_operator.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/operator/cep_operator.h"
#include "engine/operator/when_operator.h"
#include "engine/operator/window_operator.h"

namespace vigil::engine {
namespace {

// The first byte of a snapshot key: which sub-operator the state belongs to.
constexpr char kWindowTag = 'w';
constexpr char kWhenTag = 'n';
constexpr char kPatternTag = 'p';

// Prefixes every key written through it with one tag byte.
class PrefixWriter final : public SnapshotWriter {
 public:
  PrefixWriter(SnapshotWriter* out, char tag) : out_(out) { buf_.push_back(tag); }
  void Put(uint16_t key_group, std::string_view key, std::string_view value) override {
    out_->Put(key_group, Prefixed(key), value);
  }
  void Delete(uint16_t key_group, std::string_view key) override {
    out_->Delete(key_group, Prefixed(key));
  }

 private:
  std::string_view Prefixed(std::string_view key) {
    buf_.resize(1);
    buf_.append(key);
    return buf_;
  }
  SnapshotWriter* out_;
  std::string buf_;
};

class MonitoringOperator final : public RuleOperator {
 public:
  MonitoringOperator(std::shared_ptr<const cep::RuleSet> rules, const cep::RuleDef* rule)
      : rules_(std::move(rules)), rule_(rule) {}

  // Creates the sub-operators; `this` must not move afterwards (the window's output captures
  // it).
  absl::Status Init(int rule_index, const RuleOperatorOptions& options, RecordRouter* router) {
    const cep::RuleDef& rule = *rule_;
    if (rule.when) {
      VIGIL_ASSIGN_OR_RETURN(when_, WhenOperator::Create(rules_, rule_index, router));
    } else if (rule.window && rule.pattern) {
      VIGIL_ASSIGN_OR_RETURN(auto derived, DeriveWindowPatternRuleSet(*rules_, rule_index));
      CepOperatorOptions cep_options;
      cep_options.max_partial_matches = options.max_partial_matches;
      auto cep = CepOperator::Create(std::move(derived), 0, cep_options, router);
      if (!cep.ok()) {
        return absl::Status(cep.status().code(),
                            absl::StrCat("pattern over window records: ", cep.status().message()));
      }
      pattern_ = std::move(cep).value();
    }
    if (rule.window) {
      WindowOperator::Output output;
      if (when_ != nullptr) {
        // Window records come in window-end order across keys: before a record at T, the
        // nodata timers due before T fire, so that the output is in event-time order.
        output = [this](const EventPtr& r) {
          VIGIL_RETURN_IF_ERROR(when_->AdvanceWatermark(Watermark(r->time.ms - 1)));
          return when_->Process(r);
        };
      } else {
        output = [this](const EventPtr& r) { return pattern_->Process(r); };
      }
      VIGIL_ASSIGN_OR_RETURN(window_,
                             WindowOperator::Create(rules_, rule_index, std::move(output)));
    }
    return absl::OkStatus();
  }

  int stream() const override { return rule_->stream; }

  absl::Status Process(const EventPtr& e) override {
    ++events_;
    if (rule_->where != nullptr) {
      cep::EvalEnv env;
      env.fields = e->values.data();
      if (!rule_->where->Test(env)) {
        ++filtered_;
        return absl::OkStatus();
      }
    }
    if (window_ != nullptr) return window_->Process(*e);
    return when_->Process(e);
  }

  absl::Status AdvanceWatermark(Watermark wm) override {
    if (window_ != nullptr) VIGIL_RETURN_IF_ERROR(window_->AdvanceWatermark(wm));
    if (when_ != nullptr) return when_->AdvanceWatermark(wm);
    return pattern_->AdvanceWatermark(wm);
  }

  absl::Status Snapshot(SnapshotWriter* out, bool full) override {
    if (window_ != nullptr) {
      PrefixWriter w(out, kWindowTag);
      VIGIL_RETURN_IF_ERROR(window_->Snapshot(&w, full));
    }
    if (when_ != nullptr) {
      PrefixWriter w(out, kWhenTag);
      return when_->Snapshot(&w, full);
    }
    PrefixWriter w(out, kPatternTag);
    return pattern_->Snapshot(&w, full);
  }

  void DiscardChanges() override {
    if (window_ != nullptr) window_->DiscardChanges();
    if (when_ != nullptr) when_->DiscardChanges();
    if (pattern_ != nullptr) pattern_->DiscardChanges();
  }

  absl::Status Restore(uint16_t key_group, std::string_view key, std::string_view value) override {
    if (key.empty()) {
      return absl::DataLossError(absl::StrCat("rule '", rule_->name, "': empty state key"));
    }
    const char tag = key.front();
    key.remove_prefix(1);
    if (tag == kWindowTag && window_ != nullptr) return window_->Restore(key_group, key, value);
    if (tag == kWhenTag && when_ != nullptr) return when_->Restore(key_group, key, value);
    if (tag == kPatternTag && pattern_ != nullptr) {
      return pattern_->Restore(key_group, key, value);
    }
    return absl::DataLossError(absl::StrCat("rule '", rule_->name,
                                            "': state of an unknown sub-operator (tag ",
                                            static_cast<int>(static_cast<uint8_t>(tag)), ")"));
  }

  OperatorStats stats() const override {
    OperatorStats s;
    s.events = events_;
    s.filtered = filtered_;
    if (window_ != nullptr) {
      WindowOperatorStats w = window_->stats();
      s.live_keys = w.live_keys;
    }
    if (when_ != nullptr) {
      WhenOperatorStats n = when_->stats();
      s.matches = n.firing;
      s.live_keys = std::max<uint64_t>(s.live_keys, n.live_keys);
    }
    if (pattern_ != nullptr) {
      OperatorStats p = pattern_->stats();
      s.matches = p.matches;
      s.timeouts = p.timeouts;
      s.dropped_partial_matches = p.dropped_partial_matches;
      s.live_keys = std::max<uint64_t>(s.live_keys, p.live_keys);
    }
    return s;
  }

 private:
  std::shared_ptr<const cep::RuleSet> rules_;
  const cep::RuleDef* rule_;
  // Declared downstream first so that the window (whose output points at them) goes first.
  std::unique_ptr<WhenOperator> when_;
  std::unique_ptr<CepOperator> pattern_;
  std::unique_ptr<WindowOperator> window_;
  uint64_t events_ = 0;
  uint64_t filtered_ = 0;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const cep::RuleSet>> DeriveWindowPatternRuleSet(
    const cep::RuleSet& rules, int rule_index) {
  if (rule_index < 0 || rule_index >= static_cast<int>(rules.rules.size())) {
    return absl::InvalidArgumentError("no such rule");
  }
  const cep::RuleDef& rule = rules.rules[rule_index];
  if (!rule.window || !rule.pattern) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule '", rule.name, "' is not a pattern over windows"));
  }
  if (rule.stream < 0 || rule.stream >= static_cast<int>(rules.streams.size())) {
    return absl::InvalidArgumentError(absl::StrCat("rule '", rule.name, "' has no stream"));
  }
  const Schema& schema = rule.window->record_schema;
  if (schema.size() < rule.partition_slots.size() + 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule '", rule.name, "': malformed window record schema"));
  }
  auto derived = std::make_shared<cep::RuleSet>();
  derived->streams = rules.streams;  // stream indices stay valid
  derived->sinks = rules.sinks;
  cep::StreamDef& s = derived->streams[rule.stream];
  cep::StreamDef windows;
  windows.name = s.name;  // records keep naming the rule's stream
  windows.schema = schema;
  windows.event_time_slot = static_cast<int>(schema.size()) - 1;  // window_end
  windows.late_to = s.late_to;
  s = std::move(windows);

  cep::RuleDef r = rule;
  r.window.reset();
  r.where = nullptr;
  r.partition_slots.resize(rule.partition_slots.size());
  for (size_t i = 0; i < r.partition_slots.size(); ++i) r.partition_slots[i] = static_cast<int>(i);
  derived->rules.push_back(std::move(r));
  return std::shared_ptr<const cep::RuleSet>(std::move(derived));
}

absl::StatusOr<std::unique_ptr<RuleOperator>> MakeMonitoringOperator(
    std::shared_ptr<const cep::RuleSet> rules, int rule_index, const RuleOperatorOptions& options,
    RecordRouter* router) {
  if (rules == nullptr || rule_index < 0 || rule_index >= static_cast<int>(rules->rules.size())) {
    return absl::InvalidArgumentError("MakeMonitoringOperator: no such rule");
  }
  const cep::RuleDef& rule = rules->rules[rule_index];
  if (!rule.window && !rule.when) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule '", rule.name, "' is not a monitoring rule (no `window` or `when`)"));
  }
  if (rule.window && !rule.when && !rule.pattern) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule '", rule.name, "': a `window` needs a `when` or a `pattern`"));
  }
  if (rule.when && rule.pattern) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule '", rule.name, "' has both `when` and `pattern`"));
  }
  auto op = std::make_unique<MonitoringOperator>(rules, &rule);
  VIGIL_RETURN_IF_ERROR(op->Init(rule_index, options, router));
  return std::unique_ptr<RuleOperator>(std::move(op));
}

}  // namespace vigil::engine
