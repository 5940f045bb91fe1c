/**
 * The API inventory, generated from the route table itself: both Express apps' router stacks are walked
 * (Express 5: `app.router.stack`, nested routers' `handle.stack`, `route.path`, `route.methods`), each route's
 * first handler carries its `policy()` declaration, and oidc-provider's endpoints are listed from the provider
 * under the mounts that declare them (`providerMount`). Nothing here is kept by hand: a route without a
 * declaration is listed in `undeclared`, which a test requires to be empty.
 */
import type { Express } from 'express';
import type Provider from 'oidc-provider';
import { bindingOf, policyOf, providerMountOf, type Authentication, type PolicyDeclaration, type ProviderMountDeclaration } from './policy.js';
import { PROVIDER_POLICIES, PROVIDER_ROUTES } from './provider-endpoints.js';

export type ListenerName = 'public' | 'mtls';
export const LISTENERS: readonly ListenerName[] = ['public', 'mtls'];

export interface InventoryEntry {
  listener: ListenerName;
  method: string;
  path: string;
  authentication: Authentication;
  roles: string[];
  scopes: string[];
  consent: string | null;
  tokenBinding: string;
  returns: string;
  /** Where the route is defined: an Express router, or oidc-provider behind the /oauth mount. */
  source: 'express' | 'oidc-provider';
}

export interface UndeclaredRoute {
  listener: ListenerName;
  method: string;
  path: string;
  source: 'express' | 'oidc-provider';
}

export interface Inventory {
  entries: InventoryEntry[];
  undeclared: UndeclaredRoute[];
  /** False before the authorization server is started: its endpoints are then missing from `entries`. */
  providerListed: boolean;
}

export interface InventoryApps {
  public: Express;
  mtls: Express;
}

interface RouteLike {
  path: unknown;
  methods: Record<string, boolean>;
  stack: { handle: unknown }[];
}

interface LayerLike {
  route?: RouteLike;
  handle?: unknown;
  rawPath?: unknown;
}

interface Found {
  method: string;
  path: string;
  policy: Readonly<PolicyDeclaration> | undefined;
}

interface Mount {
  prefix: string;
  declaration: Readonly<ProviderMountDeclaration>;
}

function joinPath(prefix: string, path: string): string {
  const joined = `${prefix}${path === '/' && prefix !== '' ? '' : path}`;
  return joined === '' ? '/' : joined;
}

function mountPaths(layer: LayerLike): string[] {
  const raw = layer.rawPath;
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((p) => (typeof p === 'string' && p !== '/' ? p.replace(/\/+$/, '') : ''));
}

function stackOf(handle: unknown): LayerLike[] | null {
  const stack = (handle as { stack?: unknown } | null | undefined)?.stack;
  return typeof handle === 'function' && Array.isArray(stack) ? (stack as LayerLike[]) : null;
}

/** Every Express route of one app with its declaration, and the oidc-provider mounts. */
function walkApp(app: Express): { routes: Found[]; mounts: Mount[] } {
  const routes: Found[] = [];
  const mounts: Mount[] = [];
  const root = (app as unknown as { router?: { stack?: LayerLike[] } }).router?.stack;
  if (!Array.isArray(root)) throw new TypeError('inventory: not an Express 5 app (no app.router.stack)');

  const walk = (stack: LayerLike[], prefix: string, depth: number) => {
    if (depth > 16) return;
    for (const layer of stack) {
      if (layer.route) {
        const route = layer.route;
        const declaration = policyOf(route.stack[0]?.handle);
        const paths = Array.isArray(route.path) ? route.path : [route.path];
        let methods = Object.keys(route.methods)
          .filter((m) => route.methods[m])
          .map((m) => (m === '_all' ? '*' : m.toUpperCase()));
        if (methods.includes('*') && declaration?.methods) methods = [...declaration.methods];
        for (const p of paths) {
          for (const method of methods) routes.push({ method, path: joinPath(prefix, String(p)), policy: declaration });
        }
        continue;
      }
      const nested = stackOf(layer.handle);
      if (nested) {
        for (const mp of mountPaths(layer)) walk(nested, `${prefix}${mp}`, depth + 1);
        continue;
      }
      const mount = providerMountOf(layer.handle);
      if (mount) for (const mp of mountPaths(layer)) mounts.push({ prefix: `${prefix}${mp}`, declaration: mount });
    }
  };
  walk(root, '', 0);
  return { routes, mounts };
}

const PARAM = 'OPSPARAM';

/** The path of a provider endpoint (relative to its mount), or null when the provider does not have it. */
function providerPath(provider: Provider, name: string): string | null {
  try {
    // Route parameters come back as `:name` (the provider's own syntax is Express's).
    const path = (provider as unknown as { pathFor(n: string, o: Record<string, string>): string }).pathFor(name, {
      mountPath: '',
      uid: `${PARAM}uid`,
      clientId: `${PARAM}clientId`,
    });
    return path.replace(new RegExp(`/${PARAM}([A-Za-z0-9_]+)`, 'g'), '/:$1');
  } catch {
    return null;
  }
}

function entryOf(listener: ListenerName, method: string, path: string, d: Readonly<PolicyDeclaration>, source: InventoryEntry['source']): InventoryEntry {
  return {
    listener,
    method,
    path,
    authentication: d.auth,
    roles: [...(d.roles ?? [])],
    scopes: [...(d.scopes ?? [])],
    consent: d.consent ?? null,
    tokenBinding: bindingOf(d),
    returns: d.returns,
    source,
  };
}

/** One app's routes (and the provider's endpoints under its mounts, once started), declared or not. */
export function listApp(app: Express, listener: ListenerName, provider: Provider | null): { entries: InventoryEntry[]; undeclared: UndeclaredRoute[] } {
  const entries: InventoryEntry[] = [];
  const undeclared: UndeclaredRoute[] = [];
  const { routes, mounts } = walkApp(app);
  const seen = new Set<string>();
  for (const r of routes) {
    const key = `${r.method} ${r.path}`;
    // A route registered twice (an earlier one shadows the later): listed once.
    if (seen.has(key)) continue;
    seen.add(key);
    if (r.policy) entries.push(entryOf(listener, r.method, r.path, r.policy, 'express'));
    else undeclared.push({ listener, method: r.method, path: r.path, source: 'express' });
  }
  if (provider) {
    for (const mount of mounts) {
      for (const pr of PROVIDER_ROUTES) {
        if (mount.declaration.endpoints !== 'all' && !mount.declaration.endpoints.includes(pr.key)) continue;
        const rel = pr.name === null ? pr.path! : providerPath(provider, pr.name);
        if (rel === null) continue;
        const path = `${mount.prefix}${rel}`;
        for (const method of pr.methods) {
          // Express routes before the mount (the registration gate) answer these first.
          if (seen.has(`${method} ${path}`) || seen.has(`* ${path}`)) continue;
          seen.add(`${method} ${path}`);
          const declaration = PROVIDER_POLICIES[pr.key];
          if (declaration) entries.push(entryOf(listener, method, path, declaration, 'oidc-provider'));
          else undeclared.push({ listener, method, path, source: 'oidc-provider' });
        }
      }
    }
  }
  return { entries, undeclared };
}

/** Walks both apps (and the provider, once started) into the inventory. */
export function buildInventory(opts: { apps: InventoryApps; provider?: Provider | null }): Inventory {
  const provider = opts.provider ?? null;
  const entries: InventoryEntry[] = [];
  const undeclared: UndeclaredRoute[] = [];
  for (const listener of LISTENERS) {
    const one = listApp(opts.apps[listener], listener, provider);
    entries.push(...one.entries);
    undeclared.push(...one.undeclared);
  }
  const order = (a: { listener: string; path: string; method: string }, b: typeof a) =>
    a.listener.localeCompare(b.listener) || a.path.localeCompare(b.path) || a.method.localeCompare(b.method);
  return { entries: entries.sort(order), undeclared: undeclared.sort(order), providerListed: provider !== null };
}

/**
 * Matches concrete request paths to the inventory's patterns (`/a/:b/c`), for metric labels of requests that no
 * Express route matched (refused by a prefix guard, answered by oidc-provider, not found). Only the patterns are
 * ever returned, so the label set stays the route table's.
 */
export class RouteMatcher {
  private readonly patterns: { method: string; pattern: string; parts: (string | null)[] }[] = [];

  constructor(entries: readonly Pick<InventoryEntry, 'method' | 'path'>[]) {
    for (const e of entries) {
      // Express 5 wildcard and optional syntax is not used by the portal's routes; such a pattern is skipped.
      if (/[*?{}()]/.test(e.path)) continue;
      this.patterns.push({ method: e.method, pattern: e.path, parts: e.path.split('/').map((s) => (s.startsWith(':') ? null : s.toLowerCase())) });
    }
  }

  /** The pattern for this method and path; a path-only match (wrong method) is still the route's pattern. */
  match(method: string, path: string): string | null {
    const parts = path.split('/');
    if (parts.length > 2 && parts[parts.length - 1] === '') parts.pop();
    let pathOnly: string | null = null;
    for (const p of this.patterns) {
      if (p.parts.length !== parts.length) continue;
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const want = p.parts[i];
        if (want === null ? parts[i] === '' : want !== parts[i]!.toLowerCase()) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (p.method === method || p.method === '*' || (method === 'HEAD' && p.method === 'GET')) return p.pattern;
      pathOnly ??= p.pattern;
    }
    return pathOnly;
  }
}
