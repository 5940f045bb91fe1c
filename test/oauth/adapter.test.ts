/** The oidc-provider adapter on a real SQLite file: expiry, consume, grants, client audit in one transaction. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAuditService, type AuditService } from '../../src/audit/service.js';
import { createAdapterClass, type AdapterClass } from '../../src/oauth/adapter.js';
import { createOAuthService } from '../../src/oauth/service.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { createSqliteOAuthRepository } from '../../src/store/sqlite/oauth.js';
import { createTransactor } from '../../src/store/transaction.js';

describe('oauth: storage adapter', () => {
  let dir: string;
  let db: Db;
  let audit: AuditService;
  let Adapter: AdapterClass;
  let tx: ReturnType<typeof createTransactor>;
  let now = 1_800_000_000_000;
  const rows = (model?: string) =>
    (db.prepare(`SELECT COUNT(*) AS n FROM oauth_models${model ? ' WHERE model = ?' : ''}`).get(...(model ? [model] : [])) as { n: number }).n;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'adapter-'));
    db = openDatabase({ dataDir: dir });
    tx = createTransactor(db);
    audit = createAuditService({ db, tx });
    Adapter = createAdapterClass({ repo: createSqliteOAuthRepository(db), tx, audit, now: () => now });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds until expiry, then not; uid and user code look-ups', async () => {
    const a = new Adapter('Interaction');
    await a.upsert('i1', { uid: 'u1', userCode: 'ABCD', jti: 'i1' }, 60);
    assert.equal((await a.find('i1'))?.jti, 'i1');
    assert.equal((await a.findByUid('u1'))?.jti, 'i1');
    assert.equal((await a.findByUserCode('ABCD'))?.jti, 'i1');
    now += 61_000;
    assert.equal(await a.find('i1'), undefined);
    assert.equal(await a.findByUid('u1'), undefined);
  });

  it('consume marks the payload once (seconds), later consumes keep the first time', async () => {
    const a = new Adapter('AuthorizationCode');
    await a.upsert('c1', { grantId: 'g1' }, 60);
    await a.consume('c1');
    const first = (await a.find('c1'))?.consumed;
    assert.equal(first, Math.floor(now / 1000));
    now += 5000;
    await a.consume('c1');
    assert.equal((await a.find('c1'))?.consumed, first);
  });

  it('revokeByGrantId removes every model of the grant and nothing else', async () => {
    await new Adapter('AccessToken').upsert('t1', { grantId: 'g1', clientId: 'c' }, 60);
    await new Adapter('RefreshToken').upsert('r1', { grantId: 'g1', clientId: 'c' }, 60);
    await new Adapter('AccessToken').upsert('t2', { grantId: 'g2', clientId: 'c' }, 60);
    await new Adapter('AccessToken').revokeByGrantId('g1');
    assert.equal(rows(), 1);
    assert.equal((await new Adapter('AccessToken').find('t2'))?.grantId, 'g2');
  });

  it('a client registration, update and deletion are audited with the row; deletion takes the client’s tokens', async () => {
    const clients = new Adapter('Client');
    const meta = { client_id: 'cl1', partner_id: 'p1', org_id: 'PSDDE-BAFIN-1', scope: 'accounts' };
    await clients.upsert('cl1', meta);
    await clients.upsert('cl1', { ...meta, scope: 'accounts payments' });
    await new Adapter('ClientCredentials').upsert('t1', { clientId: 'cl1', 'x5t#S256': 'abc' }, 60);
    await new Adapter('RegistrationAccessToken').upsert('rat', { clientId: 'cl1' }, undefined);
    await clients.destroy('cl1');
    assert.equal(rows(), 0);
    const actions = (await audit.list({ subjectId: 'cl1' })).map((e) => e.action).sort();
    assert.deepEqual(actions, ['oauth.client.deleted', 'oauth.client.registered', 'oauth.client.updated']);
    assert.equal((await audit.verify()).ok, true);
  });

  it('partner suspension revokes tokens of its clients but keeps the clients and their registration tokens', async () => {
    const repo = createSqliteOAuthRepository(db);
    const service = createOAuthService({ repo, tx, audit, now: () => now });
    await new Adapter('Client').upsert('cl1', { client_id: 'cl1', partner_id: 'p1' });
    await new Adapter('Client').upsert('cl2', { client_id: 'cl2', partner_id: 'p2' });
    await new Adapter('ClientCredentials').upsert('t1', { clientId: 'cl1' }, 60);
    await new Adapter('RefreshToken').upsert('r1', { clientId: 'cl1', grantId: 'g' }, 60);
    await new Adapter('RegistrationAccessToken').upsert('rat1', { clientId: 'cl1' }, undefined);
    await new Adapter('ClientCredentials').upsert('t2', { clientId: 'cl2' }, 60);
    assert.equal(await service.revokePartnerTokens('p1'), 2);
    assert.equal(rows('Client'), 2);
    assert.equal(rows('RegistrationAccessToken'), 1);
    assert.equal(rows('ClientCredentials'), 1);
  });

  it('pruneExpired deletes expired rows only', async () => {
    const repo = createSqliteOAuthRepository(db);
    await new Adapter('AccessToken').upsert('old', { clientId: 'c' }, 10);
    await new Adapter('AccessToken').upsert('new', { clientId: 'c' }, 100);
    await new Adapter('Client').upsert('c', { client_id: 'c' });
    now += 20_000;
    assert.equal(await repo.pruneExpired(now), 1);
    assert.equal(rows(), 2);
  });
});
