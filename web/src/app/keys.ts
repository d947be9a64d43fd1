// Flattens GET /api/v1/online-keys into rows. The contract fixes {"snapshot":{keyid,key},
// "timestamp":{...}} and leaves "director" open, so nested role maps are walked too.

export interface KeyRow {
  role: string;
  keyid: string;
  keytype: string;
  scheme: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function flattenKeys(value: unknown, prefix = '', depth = 0): KeyRow[] {
  if (!isObject(value) || depth > 3) return [];
  if (typeof value.keyid === 'string') {
    const key = isObject(value.key) ? value.key : value;
    return [
      {
        role: prefix || 'key',
        keyid: value.keyid,
        keytype: typeof key.keytype === 'string' ? key.keytype : '—',
        scheme: typeof key.scheme === 'string' ? key.scheme : '—',
      },
    ];
  }
  const rows: KeyRow[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (Array.isArray(v)) {
      v.forEach((item, i) => rows.push(...flattenKeys(item, `${prefix ? `${prefix} ` : ''}${k} ${i + 1}`, depth + 1)));
    } else {
      rows.push(...flattenKeys(v, prefix ? `${prefix} ${k}` : k, depth + 1));
    }
  }
  return rows;
}
