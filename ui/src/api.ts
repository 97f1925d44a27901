// The admin API's JSON documents (admin/status_json.h, admin/rule_graph.h) and how to fetch
// them. URLs are relative so the page works wherever the job serves it.

export interface CheckpointStatus {
  enabled: boolean;
  last_id: number;
  last_time_ms: number | null;
  last_duration_ms: number;
  failures: number;
  in_flight: boolean;
}

export interface PartitionStatus {
  name: string;
  watermark_ms: number | null;
  ended: boolean;
  idle: boolean;
}

export interface StreamStatus {
  name: string;
  events: number;
  late: number;
  invalid: number;
  watermark_ms: number | null;
  ended: boolean;
  lag_ms: number | null;
  partitions: PartitionStatus[];
}

export type RuleKind = 'pattern' | 'when' | 'window';

export interface RuleStatus {
  name: string;
  kind: RuleKind;
  stream: string;
  events: number;
  events_per_second: number | null;
  matches: number;
  timeouts: number;
  partial_matches: number;
  live_keys: number;
  dropped_partial_matches: number;
  firing: number;
}

export interface SinkStatus {
  name: string;
  kind: string;
  sent: number;
  failed: number;
  retried: number;
  dead_lettered: number;
  queue_depth: number;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
}

export interface JobStatus {
  uptime_ms: number;
  parallelism: number;
  checkpoint: CheckpointStatus;
  streams: StreamStatus[];
  rules: RuleStatus[];
  sinks: SinkStatus[];
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export interface FiringAlert {
  rule: string;
  key: Record<string, JsonValue>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  since_ms: number;
}

export interface FiringAlerts {
  total: number; // firing now; alerts holds the newest `limit` of them
  alerts: FiringAlert[];
}

export interface GraphNode {
  id: number;
  name: string;
  kind: 'start' | 'normal' | 'final' | 'stop' | 'pending';
  detail: string;
}

export interface GraphEdge {
  from: number;
  to: number;
  action: 'take' | 'ignore' | 'proceed' | 'then';
  condition: string;
}

export interface RuleGraph {
  rule: string;
  rule_kind: RuleKind;
  graph: 'nfa' | 'operators';
  chain: string[];
  within_ms: number | null;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

// A record as language.md §8 renders it; only the fields the page shows are typed.
export interface OutputRecord {
  id?: string;
  rule?: string;
  stream?: string;
  kind?: string;
  key?: Record<string, JsonValue>;
  time?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  tap_truncated?: boolean;
  bytes?: number;
  prefix?: string;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { signal, cache: 'no-store' });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: string };
      if (body.error) message = body.error;
    } catch {
      // not JSON: keep the status line
    }
    throw new Error(message);
  }
  return (await res.json()) as T;
}

export const api = {
  status: (signal?: AbortSignal) => getJson<JobStatus>('api/status', signal),
  alerts: (limit: number, signal?: AbortSignal) =>
    getJson<FiringAlerts>(`api/alerts?limit=${limit}`, signal),
  records: (limit: number, signal?: AbortSignal) =>
    getJson<{ records: OutputRecord[] }>(`api/records?limit=${limit}`, signal).then(
      (r) => r.records,
    ),
  graph: (rule: string, signal?: AbortSignal) =>
    getJson<RuleGraph>(`api/rules/${encodeURIComponent(rule)}/graph`, signal),
};
