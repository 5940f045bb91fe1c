/**
 * Canonical JSON for hashing: object keys sorted, no whitespace, `undefined` members dropped, Dates as ISO
 * strings. The same event always gives the same bytes, whatever order its fields were built in.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function toJsonValue(value: unknown, depth = 0): JsonValue {
  if (depth > 32) throw new TypeError('audit data nested too deeply');
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('audit data: non-finite number');
    return value;
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : toJsonValue(v, depth + 1)));
  if (typeof value === 'object') {
    const out: { [key: string]: JsonValue } = {};
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = toJsonValue(v, depth + 1);
    }
    return out;
  }
  throw new TypeError(`audit data: unsupported ${typeof value}`);
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(toJsonValue(value));
}
