import type { SinkStatus, StreamStatus } from '../api';
import { fmtDuration, fmtInt, fmtTime } from '../format';

function watermarkText(wm: number | null, ended: boolean): string {
  if (ended) return 'inputs ended';
  return wm == null ? 'no event yet' : fmtTime(wm);
}

export function StreamsTable({ streams }: { streams: StreamStatus[] | undefined }) {
  return (
    <section class="panel" data-testid="streams-panel">
      <h2>Streams</h2>
      {!streams ? (
        <p class="muted">loading…</p>
      ) : (
        <div class="scroll-x">
          <table class="numbers" data-testid="streams-table">
            <thead>
              <tr>
                <th>stream</th>
                <th>events</th>
                <th>late</th>
                <th>invalid</th>
                <th class="text">watermark</th>
                <th>lag</th>
                <th>inputs</th>
              </tr>
            </thead>
            <tbody>
              {streams.map((s) => {
                const idle = s.partitions.filter((p) => p.idle).length;
                return (
                  <tr key={s.name}>
                    <td class="name">{s.name}</td>
                    <td>{fmtInt(s.events)}</td>
                    <td class={s.late > 0 ? 'warn' : ''}>{fmtInt(s.late)}</td>
                    <td class={s.invalid > 0 ? 'warn' : ''}>{fmtInt(s.invalid)}</td>
                    <td class="mono">{watermarkText(s.watermark_ms, s.ended)}</td>
                    <td>{fmtDuration(s.lag_ms)}</td>
                    <td title={s.partitions.map((p) => p.name).join('\n')}>
                      {s.partitions.length}
                      {idle > 0 ? ` (${idle} idle)` : ''}
                    </td>
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

export function SinksTable({ sinks }: { sinks: SinkStatus[] | undefined }) {
  return (
    <section class="panel" data-testid="sinks-panel">
      <h2>Sinks</h2>
      {!sinks ? (
        <p class="muted">loading…</p>
      ) : sinks.length === 0 ? (
        <p class="muted">No sink.</p>
      ) : (
        <div class="scroll-x">
          <table class="numbers" data-testid="sinks-table">
            <thead>
              <tr>
                <th>sink</th>
                <th>sent</th>
                <th>failed</th>
                <th>retried</th>
                <th>dead-lettered</th>
                <th>queue</th>
                <th>p50</th>
                <th>p99</th>
              </tr>
            </thead>
            <tbody>
              {sinks.map((k) => (
                <tr key={k.name}>
                  <td class="name">
                    {k.name} <span class="kind">{k.kind}</span>
                  </td>
                  <td>{fmtInt(k.sent)}</td>
                  <td class={k.failed > 0 ? 'warn' : ''}>{fmtInt(k.failed)}</td>
                  <td>{fmtInt(k.retried)}</td>
                  <td class={k.dead_lettered > 0 ? 'warn' : ''}>{fmtInt(k.dead_lettered)}</td>
                  <td>{fmtInt(k.queue_depth)}</td>
                  <td>{k.latency_p50_ms == null ? '–' : `${k.latency_p50_ms.toFixed(1)} ms`}</td>
                  <td>{k.latency_p99_ms == null ? '–' : `${k.latency_p99_ms.toFixed(1)} ms`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
