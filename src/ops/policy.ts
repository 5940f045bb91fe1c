/**
 * Route policies, declared next to the routes they describe. `policy({...})` is a no-op middleware placed first
 * in a route's handler list; the declaration rides on the function object, and the API inventory
 * (src/ops/inventory.ts) reads it back by walking the Express route table. The inventory is therefore generated
 * from the routes that exist, never kept by hand, and a route without a declaration is a failing test.
 *
 * The declaration states what the route's guards enforce; it does not enforce anything itself. A test requests
 * every route that declares authentication without credentials and expects a refusal (test/ops/inventory.test.ts).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export const AUTHENTICATIONS = [
  /** Anyone: public pages, discovery, keys, health. */
  'none',
  /** A later step of a sign-in or enrolment begun in the same session (password accepted, TOTP pending). */
  'sign-in-step',
  'session:applicant',
  'session:staff',
  'session:customer',
  /** Any signed-in user (pages the kinds share). */
  'session:any',
  /** oidc-provider's interaction (its cookie); the customer signs in with password and TOTP on the page itself. */
  'interaction',
  /** A certificate-bound access token over mutual TLS (RFC 8705 §3), checked by `requireBoundToken`. */
  'mtls+bound-token',
  /** OAuth client authentication by the client's certificate (RFC 8705 §2, tls_client_auth). */
  'mtls-client-auth',
  /**
   * Dynamic client registration (RFC 7591): a valid QWAC over mutual TLS, with a software statement signed by the
   * portal's directory, or without one for a PSD2-authorised organisation (the regulated fast lane, docs/oauth.md).
   */
  'mtls+qwac',
  /** RFC 7592 client management: the registration access token, over mutual TLS with the client's certificate. */
  'registration-access-token',
] as const;
export type Authentication = (typeof AUTHENTICATIONS)[number];

export interface PolicyDeclaration {
  auth: Authentication;
  /** Staff roles the route's guard accepts (any of them); omitted: any staff member. */
  roles?: readonly string[];
  /** OAuth scopes the access token must carry. */
  scopes?: readonly string[];
  /** A consent the token must carry (UK OB), and the permissions the route reads. */
  consent?: string;
  /** How tokens are bound; default from `auth`: `cnf.x5t#S256` for bound tokens, else `none`. */
  binding?: string;
  /** The data the route returns, in a few words. */
  returns: string;
  /** For `.all()` routes: the methods the handler actually serves. */
  methods?: readonly string[];
}

/**
 * The part of the OAuth mount a listener serves: oidc-provider's endpoints are not Express routes, so the
 * mount declares which of them (by oidc-provider route name) reach the provider through it; `'all'` for every
 * endpoint the provider has. Their policies are in src/ops/provider-endpoints.ts.
 */
export interface ProviderMountDeclaration {
  endpoints: readonly string[] | 'all';
}

const POLICY = Symbol.for('portal.ops.policy');
const PROVIDER_MOUNT = Symbol.for('portal.ops.providerMount');

type Tagged = RequestHandler & { [POLICY]?: Readonly<PolicyDeclaration>; [PROVIDER_MOUNT]?: Readonly<ProviderMountDeclaration> };

function passThrough(): RequestHandler {
  return (_req: Request, _res: Response, next: NextFunction) => next();
}

/** Declares a route's policy: put it first in the route's handler list. */
export function policy(declaration: PolicyDeclaration): RequestHandler {
  if (!(AUTHENTICATIONS as readonly string[]).includes(declaration.auth)) {
    throw new TypeError(`policy: unknown authentication ${String(declaration.auth)}`);
  }
  if (typeof declaration.returns !== 'string' || declaration.returns.trim() === '') {
    throw new TypeError('policy: say what the route returns');
  }
  const fn = passThrough() as Tagged;
  fn[POLICY] = Object.freeze({ ...declaration });
  return fn;
}

/** Declares which oidc-provider endpoints a mount hands to the provider: put it before the provider middleware. */
export function providerMount(declaration: ProviderMountDeclaration): RequestHandler {
  const fn = passThrough() as Tagged;
  fn[PROVIDER_MOUNT] = Object.freeze({ ...declaration });
  return fn;
}

export function policyOf(fn: unknown): Readonly<PolicyDeclaration> | undefined {
  return typeof fn === 'function' ? (fn as Tagged)[POLICY] : undefined;
}

export function providerMountOf(fn: unknown): Readonly<ProviderMountDeclaration> | undefined {
  return typeof fn === 'function' ? (fn as Tagged)[PROVIDER_MOUNT] : undefined;
}

/** The binding a declaration implies. */
export function bindingOf(d: Pick<PolicyDeclaration, 'auth' | 'binding'>): string {
  if (d.binding) return d.binding;
  return d.auth === 'mtls+bound-token' ? 'cnf.x5t#S256 (RFC 8705 §3): the token is refused over another certificate' : 'none';
}
