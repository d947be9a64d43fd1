// Audit log filters, applied to the records the console has loaded. Pure, tested.
import type { AuditRecord } from '../api/types';
import { parseTime } from '../util/format';

export interface AuditFilter {
  actor: string;
  action: string;
  from: string; // datetime-local value, read as UTC
  to: string;
}

function utc(value: string): number | null {
  if (!value) return null;
  return parseTime(/Z$|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
}

export function filterAudit(records: AuditRecord[], f: AuditFilter): AuditRecord[] {
  const actor = f.actor.trim().toLowerCase();
  const action = f.action.trim().toLowerCase();
  const from = utc(f.from);
  const to = utc(f.to);
  return records.filter((r) => {
    if (actor && !r.actor.toLowerCase().includes(actor)) return false;
    if (action && !r.action.toLowerCase().includes(action)) return false;
    const at = parseTime(r.at);
    if (from !== null && (at === null || at < from)) return false;
    if (to !== null && (at === null || at > to)) return false;
    return true;
  });
}

export function summarizeDetails(details: Record<string, unknown> | undefined): string {
  if (!details) return '';
  return Object.entries(details)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ');
}
