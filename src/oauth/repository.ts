/**
 * The oauth area's storage: oidc-provider's models as opaque JSON payloads with the few columns the
 * provider and the portal look them up by. Async so that a PostgreSQL implementation fits later.
 */
export type OAuthPayload = Record<string, unknown>;

export interface OAuthRepository {
  /** Inserts or replaces one model instance. `expiresAt` in epoch ms, null for never. */
  upsert(model: string, id: string, payload: OAuthPayload, expiresAt: number | null): Promise<void>;
  /** The payload when present and not expired; `consumed` (epoch seconds) is merged in when consumed. */
  find(model: string, id: string, now: number): Promise<OAuthPayload | undefined>;
  findByUid(model: string, uid: string, now: number): Promise<OAuthPayload | undefined>;
  findByUserCode(model: string, userCode: string, now: number): Promise<OAuthPayload | undefined>;
  consume(model: string, id: string, now: number): Promise<void>;
  destroy(model: string, id: string): Promise<void>;
  /** Removes every model instance of a grant (tokens, codes); returns how many. */
  revokeByGrantId(grantId: string): Promise<number>;
  /** Removes a client's tokens, codes, grants and pending requests (not the client, not its RAT). */
  revokeClientTokens(clientId: string): Promise<number>;
  /** Removes every model instance tied to a client, the client included (RFC 7592 delete). */
  destroyClient(clientId: string): Promise<number>;
  /** Removes tokens bound (`x5t#S256`) to one certificate thumbprint; returns how many. */
  revokeByThumbprint(thumbprint: string): Promise<number>;
  /** All registered clients' payloads matching a portal metadata value. */
  clientsWhere(field: 'org_id' | 'partner_id' | 'software_id', value: string): Promise<OAuthPayload[]>;
  listClients(): Promise<OAuthPayload[]>;
  /** Deletes expired rows; returns how many. */
  pruneExpired(now: number): Promise<number>;
}
