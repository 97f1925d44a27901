import type { FiringAlert, FiringAlerts } from '../api';
import { fmtKey, fmtTime } from '../format';

// The first annotation worth reading: summary, then description, then any.
function summaryOf(a: FiringAlert): string {
  const ann = a.annotations;
  return ann.summary ?? ann.description ?? Object.values(ann)[0] ?? '';
}

function AlertsTable({ alerts }: { alerts: FiringAlert[] }) {
  return (
    <table data-testid="alerts-table">
      <thead>
        <tr>
          <th>severity</th>
          <th>rule</th>
          <th>key</th>
          <th>summary</th>
          <th>since (event time)</th>
        </tr>
      </thead>
      <tbody>
        {alerts.map((a) => {
          const severity = a.labels.severity ?? 'none';
          return (
            <tr data-testid="alert-row" data-rule={a.rule} key={`${a.rule}|${fmtKey(a.key)}`}>
              <td>
                <span class={`sev sev-${severity}`}>{severity}</span>
              </td>
              <td class="name">{a.rule}</td>
              <td class="mono">{fmtKey(a.key)}</td>
              <td>{summaryOf(a)}</td>
              <td class="mono nowrap">{fmtTime(a.since_ms)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function AlertsPanel({ firing }: { firing: FiringAlerts | undefined }) {
  const n = firing?.total ?? 0;
  return (
    <section class={`panel alerts ${n > 0 ? 'firing' : ''}`} data-testid="alerts-panel">
      <h2>
        Firing alerts <span class="count" data-testid="alert-count">{n}</span>
      </h2>
      {firing === undefined ? (
        <p class="muted">loading…</p>
      ) : n === 0 ? (
        <p class="muted" data-testid="no-alerts">Nothing is firing.</p>
      ) : (
        <>
          {firing.alerts.length < n && (
            <p class="muted small" data-testid="alerts-truncated">
              The {firing.alerts.length} that started firing last, of {n}.
            </p>
          )}
          <AlertsTable alerts={firing.alerts} />
        </>
      )}
    </section>
  );
}
