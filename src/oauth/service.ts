/**
 * The oauth area's service for the rest of the portal: registered clients shaped as summaries, the look-ups
 * registration needs, and revocation when a partner is suspended or a certificate is revoked. Other areas never
 * read oauth tables.
 */
import type { AuditService } from '../audit/service.js';
import type { Transactor } from '../store/transaction.js';
import type { OAuthPayload, OAuthRepository } from './repository.js';
import type { ClientSummary } from './types.js';

export interface OAuthService {
  getClient(clientId: string): Promise<ClientSummary | null>;
  findBySoftware(orgId: string, softwareId: string): Promise<{ clientId: string } | null>;
  clientsOfPartner(partnerId: string): Promise<ClientSummary[]>;
  listClients(): Promise<ClientSummary[]>;
  /**
   * Revokes every token, code and grant of the partner's clients (the clients stay registered so that
   * reinstatement restores them). Call inside the caller's transaction; returns how many records went.
   */
  revokePartnerTokens(partnerId: string): Promise<number>;
  /**
   * Ends one customer grant: its tokens, codes and the grant itself (the consent behind it was revoked or
   * expired). Call inside the caller's transaction.
   */
  revokeGrant(grantId: string, reason: string): Promise<number>;
  /** Revokes tokens bound to one certificate (it was found revoked). */
  revokeCertificateTokens(thumbprint: string, reason: string): Promise<number>;
  pruneExpired(): Promise<number>;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function clientSummary(p: OAuthPayload): ClientSummary {
  const s = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : null);
  return {
    clientId: s('client_id') ?? '',
    clientName: s('client_name'),
    partnerId: s('partner_id') ?? '',
    orgId: s('org_id') ?? '',
    softwareId: s('software_id'),
    tokenEndpointAuthMethod: s('token_endpoint_auth_method') ?? 'tls_client_auth',
    scope: s('scope') ?? '',
    redirectUris: strings(p.redirect_uris),
    issuerKeys: strings(p.issuer_key_sha256),
    createdAt: typeof p.client_id_issued_at === 'number' ? new Date(p.client_id_issued_at * 1000).toISOString() : '',
  };
}

export function createOAuthService(deps: {
  repo: OAuthRepository;
  tx: Transactor;
  audit: AuditService;
  now?: () => number;
}): OAuthService {
  const { repo, tx, audit } = deps;
  const now = deps.now ?? Date.now;
  return {
    async getClient(clientId) {
      if (!clientId) return null;
      const p = await repo.find('Client', clientId, now());
      return p ? clientSummary(p) : null;
    },
    async findBySoftware(orgId, softwareId) {
      const found = (await repo.clientsWhere('software_id', softwareId)).find((p) => p.org_id === orgId);
      return found ? { clientId: String(found.client_id) } : null;
    },
    async clientsOfPartner(partnerId) {
      return (await repo.clientsWhere('partner_id', partnerId)).map(clientSummary);
    },
    async listClients() {
      return (await repo.listClients()).map(clientSummary);
    },
    async revokePartnerTokens(partnerId) {
      return tx.run(async () => {
        let removed = 0;
        const clients = await repo.clientsWhere('partner_id', partnerId);
        for (const client of clients) {
          removed += await repo.revokeClientTokens(String(client.client_id));
        }
        await audit.record({
          actor: { type: 'system', id: null, label: 'partner suspension' },
          action: 'oauth.tokens.revoked',
          subject: { type: 'partner', id: partnerId },
          data: { reason: 'the partner was suspended', clients: clients.map((c) => String(c.client_id)), removed },
        });
        return removed;
      });
    },
    async revokeGrant(grantId, reason) {
      return tx.run(async () => {
        const removed = await repo.revokeByGrantId(grantId);
        await repo.destroy('Grant', grantId);
        await audit.record({
          actor: { type: 'system', id: null, label: 'consent status change' },
          action: 'oauth.grant.revoked',
          subject: { type: 'grant', id: grantId },
          data: { reason, removed },
        });
        return removed;
      });
    },
    async revokeCertificateTokens(thumbprint, reason) {
      return tx.run(async () => {
        const removed = await repo.revokeByThumbprint(thumbprint);
        if (removed > 0) {
          await audit.record({
            actor: { type: 'system', id: null, label: 'certificate check' },
            action: 'oauth.tokens.revoked',
            subject: { type: 'certificate', id: thumbprint },
            data: { reason, removed },
          });
        }
        return removed;
      });
    },
    async pruneExpired() {
      return tx.run(() => repo.pruneExpired(now()));
    },
  };
}
