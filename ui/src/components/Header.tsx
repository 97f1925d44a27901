import type { JobStatus } from '../api';
import { fmtDuration, fmtTime } from '../format';

interface Props {
  status: JobStatus | undefined;
  error: string | undefined;
  updatedAt: number | undefined;
}

function checkpointText(s: JobStatus): string {
  const c = s.checkpoint;
  if (!c.enabled) return 'checkpoints off';
  const parts = [c.last_id > 0 ? `checkpoint #${c.last_id}` : 'no checkpoint yet'];
  if (c.last_time_ms != null) parts.push(`at ${fmtTime(c.last_time_ms)}`);
  if (c.last_id > 0) parts.push(`took ${fmtDuration(c.last_duration_ms)}`);
  if (c.in_flight) parts.push('one in flight');
  if (c.failures > 0) parts.push(`${c.failures} failed`);
  return parts.join(' · ');
}

export function Header({ status, error, updatedAt }: Props) {
  const connected = error === undefined && updatedAt !== undefined;
  return (
    <header class="top">
      <div class="brand">
        <span class="logo" aria-hidden="true">◉</span> Vigil
      </div>
      {status && (
        <div class="job" data-testid="job-summary">
          <span>up {fmtDuration(status.uptime_ms)}</span>
          <span>parallelism {status.parallelism}</span>
          <span class={status.checkpoint.failures > 0 ? 'warn' : ''}>{checkpointText(status)}</span>
        </div>
      )}
      <div
        class={`conn ${connected ? 'ok' : 'down'}`}
        data-testid="connection-status"
        title={error ?? ''}
      >
        {connected ? 'live' : error ? `disconnected: ${error}` : 'connecting…'}
      </div>
    </header>
  );
}
