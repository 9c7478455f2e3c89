/**
 * OTLP attribute values as label values: what the Go collector's pcommon.Value.AsString gives, which is
 * what Prometheus' translator writes. Doubles are formatted as ECMAScript does (Go copies that rule for
 * JSON, so String() matches), bytes as standard base64, arrays and maps as Go's encoding/json writes
 * them (map keys sorted, <, > and & escaped).
 */

/** A decoded AnyValue before it becomes a string; arrays and maps keep their structure for JSON. */
export type RawValue =
  | { readonly kind: 'empty' }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  /** Decimal text: int64 values do not fit a double. */
  | { readonly kind: 'int'; readonly value: string }
  | { readonly kind: 'double'; readonly value: number }
  | { readonly kind: 'bytes'; readonly value: Uint8Array }
  | { readonly kind: 'array'; readonly values: readonly RawValue[] }
  | { readonly kind: 'kvlist'; readonly entries: readonly (readonly [string, RawValue])[] };

export const EMPTY_VALUE: RawValue = Object.freeze({ kind: 'empty' });

/** pcommon's float64AsString. */
function formatDouble(v: number): string {
  if (Number.isNaN(v)) return 'json: unsupported value: NaN';
  if (v === Infinity) return 'json: unsupported value: +Inf';
  if (v === -Infinity) return 'json: unsupported value: -Inf';
  if (Object.is(v, -0)) return '-0';
  return String(v);
}

export function anyValueString(v: RawValue): string {
  switch (v.kind) {
    case 'empty':
      return '';
    case 'string':
      return v.value;
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'int':
      return v.value;
    case 'double':
      return formatDouble(v.value);
    case 'bytes':
      return Buffer.from(v.value).toString('base64');
    case 'array':
    case 'kvlist': {
      const raw = toJson(v);
      // Go's json.Marshal fails on NaN and infinities; AsString then gives ''.
      return raw === undefined ? '' : goJson(raw);
    }
  }
}

/** An int64 kept as its digits: a JS number would round big ones. */
class IntText {
  readonly digits: string;
  constructor(digits: string) {
    this.digits = digits;
  }
}

type Json = null | boolean | number | string | IntText | Json[] | { [k: string]: Json };

/** AsRaw(): undefined when a double is not finite (json.Marshal refuses it). */
function toJson(v: RawValue): Json | undefined {
  switch (v.kind) {
    case 'empty':
      return null;
    case 'string':
      return v.value;
    case 'bool':
      return v.value;
    case 'int':
      return new IntText(v.value);
    case 'double':
      return Number.isFinite(v.value) ? v.value : undefined;
    case 'bytes':
      return Buffer.from(v.value).toString('base64');
    case 'array': {
      const out: Json[] = [];
      for (const e of v.values) {
        const j = toJson(e);
        if (j === undefined) return undefined;
        out.push(j);
      }
      return out;
    }
    case 'kvlist': {
      const out: { [k: string]: Json } = {};
      for (const [k, e] of v.entries) {
        const j = toJson(e);
        if (j === undefined) return undefined;
        out[k] = j;
      }
      return out;
    }
  }
}

const GO_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function goJson(j: Json): string {
  if (j === null) return 'null';
  if (typeof j === 'boolean') return j ? 'true' : 'false';
  if (typeof j === 'number') return formatDouble(j);
  if (typeof j === 'string') return JSON.stringify(j).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c] ?? c);
  if (Array.isArray(j)) return '[' + j.map(goJson).join(',') + ']';
  if (j instanceof IntText) return j.digits;
  const keys = Object.keys(j).sort();
  return '{' + keys.map((k) => goJson(k) + ':' + goJson(j[k] as Json)).join(',') + '}';
}
