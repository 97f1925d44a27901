// The dashboard: one page polling the job's admin API every 1.5 s.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api';
import { usePoll } from './poll';
import { Header } from './components/Header';
import { AlertsPanel } from './components/AlertsPanel';
import { RulesTable } from './components/RulesTable';
import { GraphPanel } from './components/GraphPanel';
import { RecordsPanel } from './components/RecordsPanel';
import { StreamsTable, SinksTable } from './components/IoTables';

const POLL_MS = 1500;
const RECORDS_SHOWN = 50;
const ALERTS_SHOWN = 200;

export function App() {
  const status = usePoll((s) => api.status(s), POLL_MS);
  const alerts = usePoll((s) => api.alerts(ALERTS_SHOWN, s), POLL_MS);
  const records = usePoll((s) => api.records(RECORDS_SHOWN, s), POLL_MS);
  const [selected, setSelected] = useState<string | undefined>(undefined);

  const rules = status.data?.rules ?? [];
  // Select the first rule once the rule list is known (or again if the selection vanished).
  useEffect(() => {
    if (rules.length > 0 && (!selected || !rules.some((r) => r.name === selected))) {
      setSelected(rules[0].name);
    }
  }, [rules.map((r) => r.name).join('\n')]);

  const error = status.error ?? alerts.error ?? records.error;
  return (
    <div class="page">
      <Header status={status.data} error={error} updatedAt={status.updatedAt} />
      <main>
        <AlertsPanel firing={alerts.data} />
        <RulesTable
          status={status.data}
          selected={selected}
          onSelect={(name) => setSelected(name)}
        />
        <div class="columns">
          <GraphPanel rules={rules} selected={selected} onSelect={setSelected} />
          <RecordsPanel records={records.data} />
        </div>
        <div class="columns even">
          <StreamsTable streams={status.data?.streams} />
          <SinksTable sinks={status.data?.sinks} />
        </div>
      </main>
    </div>
  );
}
