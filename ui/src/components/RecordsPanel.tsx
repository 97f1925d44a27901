import type { OutputRecord } from '../api';
import { fmtKey, fmtTime } from '../format';

function summaryOf(r: OutputRecord): string {
  if (r.tap_truncated) return `(record of ${r.bytes} bytes, shortened)`;
  const ann = r.annotations ?? {};
  return ann.summary ?? ann.description ?? '';
}

export function RecordsPanel({ records }: { records: OutputRecord[] | undefined }) {
  // The API lists oldest first; the newest is the most useful, so it goes on top.
  const newestFirst = records ? [...records].reverse() : undefined;
  return (
    <section class="panel records" data-testid="records-panel">
      <h2>
        Recent records <span class="muted small">(sampled)</span>
      </h2>
      {!newestFirst ? (
        <p class="muted">loading…</p>
      ) : newestFirst.length === 0 ? (
        <p class="muted">No record yet.</p>
      ) : (
        <ol class="record-list" data-testid="records-list">
          {newestFirst.map((r, i) => (
            <li key={r.id ?? `${i}`} data-testid="record-row">
              <details>
                <summary>
                  <span class={`kind rec-${r.kind ?? 'other'}`}>{r.kind ?? '?'}</span>
                  <span class="name">{r.rule || r.stream || ''}</span>
                  <span class="mono">{fmtKey(r.key)}</span>
                  <span class="mono muted nowrap">{fmtTime(r.time)}</span>
                  <span class="summary">{summaryOf(r)}</span>
                </summary>
                <pre>{r.tap_truncated ? r.prefix : JSON.stringify(r, null, 2)}</pre>
              </details>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
