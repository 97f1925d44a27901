#pragma once
// The RuleOperator (operator.h) of a monitoring rule (language.md §4): a rule with `window`
// and/or `when`. It composes the standalone operators:
//
//   window + when:     where -> WindowOperator --window records--> WhenOperator
//   when alone:        where -> WhenOperator (over the stream's events)
//   window + pattern:  where -> WindowOperator --window records--> CepOperator
//
// window + pattern is lowered to "a pattern rule over the derived stream of window records":
// at creation the operator builds a private cep::RuleSet whose stream `rule.stream` is
// replaced by a synthetic StreamDef (same name, schema = WindowSpec::record_schema, event time
// = window_end, no out-of-order bound) and whose only rule is a copy of the rule without
// `window` and `where` (`where` is applied before the window) and with partition_slots
// 0..k-1 (the partition fields come first in a window record). A CepOperator runs over it.
// Its records therefore look like any pattern rule's: `events` echo the window records.
//
// Entry points:
// - Process(e): counts the event, applies `where` (EvalEnv{fields = e->values}), then hands
//   the event to the window (or, without a window, to the WhenOperator).
// - AdvanceWatermark(wm): the window first (it emits the records of the windows due at wm,
//   which the downstream operator processes synchronously), THEN the downstream operator
//   (nodata timers of `when`, `within` timers of the pattern). The order matters: a window
//   record due at wm must reach `when` before its nodata timers at wm fire, so that a record
//   at exactly the deadline counts as data. Window records come in window-end order across
//   keys (window_operator.h), so before each window record at T the WhenOperator's watermark
//   is advanced to T - 1: nodata records due before T come out before it, and the output of
//   one AdvanceWatermark is in event-time order (a pattern's CepOperator fires its timers
//   due at a record's time itself).
//
// State: each sub-operator keeps its own keyed state (KeyedState, keyed_state.h) under the
// encoded partition key. In a snapshot every key is prefixed with one byte naming the
// sub-operator ('w' window, 'n' when, 'p' pattern); Restore dispatches on that byte and
// strips it. Key groups are the
// sub-operators' own (all equal to KeyGroupOf(PartitionKeyHash(partition values)), as the
// job routes events). A restored operator emits exactly what the uninterrupted one would.
//
// Stats: events / filtered are counted here (events offered to the rule, rejected by
// `where`); matches = `firing` records (when) or pattern matches; timeouts = pattern
// timeouts; live_keys = the larger of the sub-operators' live keys (they share one key space;
// an approximation of the number of distinct live keys).
//
// Thread-compatible: one instance per worker and rule, as every RuleOperator.
#include <memory>

#include "cep/rule_set.h"
#include "core/status.h"
#include "engine/operator/operator.h"
#include "engine/operator/record_router.h"
#include "engine/operator/rule_operator.h"

namespace vigil::engine {

// Creates the operator of monitoring rule `rule_index` of `rules` (a rule with `window` and/or
// `when`), emitting through `router` (not owned; must outlive the operator). `rules` is kept
// alive by the operator. `options.max_partial_matches` applies to a pattern over windows.
// Errors: InvalidArgument when the rule has neither `window` nor `when`, has a `window`
// without `when` or `pattern`, or when a sub-operator rejects the rule (e.g. the pattern
// does not compile).
absl::StatusOr<std::unique_ptr<RuleOperator>> MakeMonitoringOperator(
    std::shared_ptr<const cep::RuleSet> rules, int rule_index, const RuleOperatorOptions& options,
    RecordRouter* router);

// The derived rule set over which a `window ... pattern` rule's pattern runs (see the header
// comment): its rule 0 is the pattern rule over window records of rule `rule_index`.
// Exposed for tests. Errors: InvalidArgument when the rule has no window or no pattern.
absl::StatusOr<std::shared_ptr<const cep::RuleSet>> DeriveWindowPatternRuleSet(
    const cep::RuleSet& rules, int rule_index);

}  // namespace vigil::engine
