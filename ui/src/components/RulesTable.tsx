import type { JobStatus, StreamStatus } from '../api';
import { fmtInt, fmtRate } from '../format';

interface Props {
  status: JobStatus | undefined;
  selected: string | undefined;
  onSelect: (rule: string) => void;
}

export function RulesTable({ status, selected, onSelect }: Props) {
  const streams = new Map<string, StreamStatus>();
  for (const s of status?.streams ?? []) streams.set(s.name, s);
  return (
    <section class="panel" data-testid="rules-panel">
      <h2>Rules</h2>
      {!status ? (
        <p class="muted">loading…</p>
      ) : (
        <div class="scroll-x">
          <table data-testid="rules-table" class="numbers">
            <thead>
              <tr>
                <th>rule</th>
                <th class="text">stream</th>
                <th title="events that reached the rule">events</th>
                <th title="events per second, recently">events/s</th>
                <th>matches</th>
                <th>timeouts</th>
                <th title="live partial matches over all keys">partial</th>
                <th title="keys holding state">keys</th>
                <th title="partial matches dropped by --max-partial-matches">dropped</th>
                <th title="late events of the rule's stream">late</th>
                <th title="invalid events of the rule's stream">invalid</th>
                <th>firing</th>
              </tr>
            </thead>
            <tbody>
              {status.rules.map((r) => {
                const s = streams.get(r.stream);
                return (
                  <tr
                    key={r.name}
                    data-testid="rule-row"
                    data-rule={r.name}
                    class={`clickable ${r.name === selected ? 'selected' : ''}`}
                    onClick={() => onSelect(r.name)}
                    title="show this rule's graph"
                  >
                    <td class="name">
                      {r.name} <span class={`kind kind-${r.kind}`}>{r.kind}</span>
                    </td>
                    <td class="text">{r.stream}</td>
                    <td data-testid="rule-events">{fmtInt(r.events)}</td>
                    <td>{fmtRate(r.events_per_second)}</td>
                    <td data-testid="rule-matches">{fmtInt(r.matches)}</td>
                    <td>{fmtInt(r.timeouts)}</td>
                    <td data-testid="rule-partial">{fmtInt(r.partial_matches)}</td>
                    <td>{fmtInt(r.live_keys)}</td>
                    <td class={r.dropped_partial_matches > 0 ? 'warn' : ''}>
                      {fmtInt(r.dropped_partial_matches)}
                    </td>
                    <td class={s && s.late > 0 ? 'warn' : ''} data-testid="rule-late">
                      {fmtInt(s?.late)}
                    </td>
                    <td class={s && s.invalid > 0 ? 'warn' : ''} data-testid="rule-invalid">
                      {fmtInt(s?.invalid)}
                    </td>
                    <td class={r.firing > 0 ? 'hot' : ''}>{fmtInt(r.firing)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
