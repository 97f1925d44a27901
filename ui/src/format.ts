// Number, time and key formatting shared by the sections.
import type { JsonValue } from './api';

const intFormat = new Intl.NumberFormat('en-US');

export function fmtInt(n: number | null | undefined): string {
  return n == null ? '–' : intFormat.format(n);
}

export function fmtRate(n: number | null | undefined): string {
  if (n == null) return '–';
  if (n >= 100) return intFormat.format(Math.round(n));
  return n.toFixed(1);
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms == null) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  // Two units at most, the smaller one left out when it is zero: "10m", "12m 34s", "3h 5m".
  const two = (a: number, ua: string, b: number, ub: string) => (b > 0 ? `${a}${ua} ${b}${ub}` : `${a}${ua}`);
  if (d > 0) return two(d, 'd', h, 'h');
  if (h > 0) return two(h, 'h', m, 'm');
  if (m > 0) return two(m, 'm', s, 's');
  return `${s}s`;
}

// Event times are UTC milliseconds: shown as "2024-05-01 10:07:30Z".
export function fmtTime(ms: number | null | undefined): string {
  if (ms == null) return '–';
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

export function fmtValue(v: JsonValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function fmtKey(key: Record<string, JsonValue> | undefined): string {
  if (!key) return '';
  return Object.entries(key)
    .map(([k, v]) => `${k}=${fmtValue(v)}`)
    .join(', ');
}
