/**
 * oidc-provider's storage adapter on the portal's database. Every write goes through the transactor (the
 * connection is shared: a bare write could otherwise land inside another request's open transaction), and
 * client registrations, updates and deletions write their audit event in the same transaction.
 */
import type { AuditService } from '../audit/service.js';
import type { Transactor } from '../store/transaction.js';
import type { OAuthPayload, OAuthRepository } from './repository.js';

export interface AdapterDeps {
  repo: OAuthRepository;
  tx: Transactor;
  audit: AuditService;
  now?: () => number;
}

/** The constructor oidc-provider instantiates once per model name. */
export type AdapterClass = new (model: string) => {
  upsert(id: string, payload: OAuthPayload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<OAuthPayload | undefined>;
  findByUid(uid: string): Promise<OAuthPayload | undefined>;
  findByUserCode(userCode: string): Promise<OAuthPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
};

function clientFacts(payload: OAuthPayload): Record<string, unknown> {
  return {
    clientId: payload.client_id,
    partnerId: payload.partner_id ?? null,
    orgId: payload.org_id ?? null,
    softwareId: payload.software_id ?? null,
    authMethod: payload.token_endpoint_auth_method ?? null,
    scope: payload.scope ?? null,
    redirectUris: payload.redirect_uris ?? [],
    grantTypes: payload.grant_types ?? [],
  };
}

function partnerActor(payload: OAuthPayload | undefined) {
  const id = typeof payload?.partner_id === 'string' ? payload.partner_id : null;
  const label = typeof payload?.org_id === 'string' ? payload.org_id : 'unknown organisation';
  return { type: 'partner' as const, id, label };
}

export function createAdapterClass(deps: AdapterDeps): AdapterClass {
  const now = deps.now ?? Date.now;
  const { repo, tx, audit } = deps;

  return class SqliteAdapter {
    constructor(readonly model: string) {}

    async upsert(id: string, payload: OAuthPayload, expiresIn?: number): Promise<void> {
      const expiresAt = typeof expiresIn === 'number' ? now() + expiresIn * 1000 : null;
      await tx.run(async () => {
        if (this.model === 'Client') {
          const before = await repo.find('Client', id, now());
          await repo.upsert(this.model, id, payload, expiresAt);
          await audit.record({
            actor: partnerActor(payload),
            action: before ? 'oauth.client.updated' : 'oauth.client.registered',
            subject: { type: 'oauth_client', id },
            data: clientFacts(payload),
          });
          return;
        }
        await repo.upsert(this.model, id, payload, expiresAt);
      });
    }

    find(id: string) {
      return repo.find(this.model, id, now());
    }

    findByUid(uid: string) {
      return repo.findByUid(this.model, uid, now());
    }

    findByUserCode(userCode: string) {
      return repo.findByUserCode(this.model, userCode, now());
    }

    async consume(id: string): Promise<void> {
      await tx.run(() => repo.consume(this.model, id, now()));
    }

    async destroy(id: string): Promise<void> {
      await tx.run(async () => {
        if (this.model === 'Client') {
          const before = await repo.find('Client', id, now());
          // RFC 7592 §2.3: the client's tokens and grants go with it.
          const removed = await repo.destroyClient(id);
          if (before) {
            await audit.record({
              actor: partnerActor(before),
              action: 'oauth.client.deleted',
              subject: { type: 'oauth_client', id },
              data: { ...clientFacts(before), removedRecords: removed },
            });
          }
          return;
        }
        await repo.destroy(this.model, id);
      });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await tx.run(() => repo.revokeByGrantId(grantId));
    }
  };
}
