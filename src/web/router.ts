import type http from 'node:http';

type Params = Readonly<Record<string, string>>;
export type Handler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  params: Params,
) => void | Promise<void>;

interface Pattern {
  readonly re: RegExp;
  readonly names: readonly string[];
  readonly methods: Map<string, Handler>;
}

export interface RouteMatch {
  readonly methods: ReadonlyMap<string, Handler>;
  readonly params: Params;
}

/**
 * Method-aware routes in the style of Go's httprouter (which Prometheus uses): exact paths plus
 * `:name` segments; a path that exists with other methods answers 405 with an Allow header.
 */
export class Router {
  private readonly exact = new Map<string, Map<string, Handler>>();
  private readonly patterns: Pattern[] = [];

  on(methods: string | readonly string[], path: string, h: Handler): void {
    const ms = typeof methods === 'string' ? [methods] : methods;
    let table: Map<string, Handler>;
    if (path.includes('/:')) {
      const names: string[] = [];
      const src = path
        .split('/')
        .map((seg) => {
          if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(seg.slice(1));
          return '([^/]+)';
        })
        .join('/');
      const existing = this.patterns.find((p) => p.re.source === `^${src}$`);
      if (existing) table = existing.methods;
      else {
        table = new Map();
        this.patterns.push({ re: new RegExp(`^${src}$`), names, methods: table });
      }
    } else {
      table = this.exact.get(path) ?? new Map();
      this.exact.set(path, table);
    }
    for (const m of ms) table.set(m, h);
  }

  match(path: string): RouteMatch | null {
    const e = this.exact.get(path);
    if (e) return { methods: e, params: {} };
    for (const p of this.patterns) {
      const m = p.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      p.names.forEach((n, k) => {
        const v = m[k + 1];
        if (v !== undefined) params[n] = safeDecode(v);
      });
      return { methods: p.methods, params };
    }
    return null;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
