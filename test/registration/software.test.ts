/**
 * Software products and statements on real parts: SQLite in a temp dir, the audit log, the real partners
 * service with Acme Payments approved by policy on the regulated track (dev PKI, dev register), and the
 * directory's key file on disk. Every refusal asserts the code, the status and that nothing changed.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  type JWK,
} from 'jose';
import { AppError, InputError } from '../../src/errors.js';
import type { ActorRef, PartnerView } from '../../src/partners/types.js';
import { createDirectory, DIRECTORY_ISSUER, type Directory } from '../../src/registration/directory.js';
import { createSoftwareService, type SoftwareService } from '../../src/registration/software.js';
import { acmeProfile, applicant, APPROVER_A, count, harness, partnerCert, type Harness } from '../partners/helpers.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

async function publicKey(alg: 'PS256' | 'ES256' | 'ES384', kid: string, over: Record<string, unknown> = {}): Promise<JWK> {
  const { publicKey: pub } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(pub)), kid, use: 'sig', ...over };
}

/** jose refuses to make a key under 2048 bits, so the weak one comes from node:crypto. */
function rsa1024(kid: string): JWK {
  const { publicKey: pub } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  return { ...(pub.export({ format: 'jwk' }) as JWK), kid, use: 'sig' };
}

async function privateKey(kid: string): Promise<JWK> {
  const { privateKey: priv } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(priv)), kid };
}

/** Acme Payments, regulated track, approved by policy for the given applicant (AIS + PIS). */
async function approvedAcme(h: Harness, who: ActorRef): Promise<{ applicationId: string; partner: PartnerView }> {
  const app = await h.service.createApplication(who);
  await h.service.saveProfile(who, app.id, acmeProfile());
  await h.service.uploadCertificate(who, app.id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac'));
  await h.service.uploadCertificate(who, app.id, 'qseal', partnerCert(h.pki, 'acme-payments', 'qseal'));
  const view = await h.service.submit(who, app.id);
  if (view.state !== 'approved' || !view.partner) throw new Error(`acme not approved: ${view.state} ${JSON.stringify(view.autoApproval)}`);
  return { applicationId: app.id, partner: view.partner };
}

function state(h: Harness) {
  return {
    products: h.db.prepare('SELECT id, status, revoked_at FROM software_products ORDER BY id').all(),
    statements: count(h.db, 'software_statements'),
    audit: count(h.db, 'audit_events'),
  };
}

/** The promise is refused with this code and status (and, for input errors, this message on this field). */
async function refused(p: Promise<unknown>, code: string, status: number, field?: { path: string; message: RegExp }): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.status, status);
    if (field) {
      assert.ok(err instanceof InputError);
      const hit = err.fields.find((f) => f.path === field.path);
      assert.ok(hit, `no error on ${field.path}: ${JSON.stringify(err.fields)}`);
      assert.match(hit.message, field.message);
    }
    return true;
  });
}

describe('registration: the directory key', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'directory-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated once into DATA_DIR/directory/keys.json (0700/0600), published without private members, and kept across restarts', async () => {
    const first = await createDirectory({ dataDir: dir, issuer: DIRECTORY_ISSUER });
    assert.equal(DIRECTORY_ISSUER, 'urn:open-banking-portal:directory');
    assert.equal(first.issuer, DIRECTORY_ISSUER);
    const file = path.join(dir, 'directory', 'keys.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(dir, 'directory')).mode & 0o777, 0o700);
    const { keys } = first.publicJwks();
    assert.equal(keys.length, 1);
    const key = keys[0]!;
    assert.deepEqual(Object.keys(key).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    assert.equal(key.kty, 'RSA');
    assert.equal(key.alg, 'PS256');
    assert.equal(key.use, 'sig');
    assert.equal(key.kid, await calculateJwkThumbprint(key));
    assert.equal(Buffer.from(key.n!, 'base64url').length, 256); // 2048 bits
    // The file holds the private key; what is published never does.
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { keys: { jwk: JWK }[] };
    assert.equal(typeof stored.keys[0]!.jwk.d, 'string');
    for (const m of PRIVATE_MEMBERS) assert.equal(m in key, false, m);

    const jwt = await first.sign({ iss: DIRECTORY_ISSUER, hello: 'world' });
    assert.deepEqual(decodeProtectedHeader(jwt), { alg: 'PS256', kid: key.kid, typ: 'JWT' });
    const before = readFileSync(file, 'utf8');

    const again = await createDirectory({ dataDir: dir, issuer: DIRECTORY_ISSUER });
    assert.deepEqual(again.publicJwks(), first.publicJwks());
    assert.equal(readFileSync(file, 'utf8'), before);
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(again.publicJwks()), { issuer: DIRECTORY_ISSUER, algorithms: ['PS256'] });
    assert.equal(payload.hello, 'world');
  });

  it('a damaged keys file stops start-up with a clear error and is not replaced', async () => {
    const first = await createDirectory({ dataDir: dir, issuer: DIRECTORY_ISSUER });
    const file = path.join(dir, 'directory', 'keys.json');
    const good = JSON.parse(readFileSync(file, 'utf8')) as { version: number; keys: { jwk: Record<string, string>; createdAt: string }[] };
    const damages: [string, string, RegExp][] = [
      ['cut short', readFileSync(file, 'utf8').slice(0, 200), /not JSON/],
      ['not a key list', JSON.stringify({ version: 1, keys: [] }), /keys/],
      ['private part missing', JSON.stringify({ ...good, keys: [{ ...good.keys[0]!, jwk: { ...good.keys[0]!.jwk, d: undefined } }] }), /jwk\.d/],
      ['kid edited', JSON.stringify({ ...good, keys: [{ ...good.keys[0]!, jwk: { ...good.keys[0]!.jwk, kid: 'edited' } }] }), /thumbprint/],
    ];
    for (const [what, text, reason] of damages) {
      writeFileSync(file, text);
      await assert.rejects(createDirectory({ dataDir: dir, issuer: DIRECTORY_ISSUER }), (err: Error) => {
        assert.match(err.message, /keys\.json is damaged/, what);
        assert.match(err.message, reason, what);
        assert.match(err.message, /restore it from a backup/, what);
        return true;
      });
      assert.equal(readFileSync(file, 'utf8'), text, `${what}: the file was replaced`);
    }
    assert.equal(first.publicJwks().keys.length, 1);
  });
});

describe('registration: software products and statements', function () {
  this.timeout(120_000);
  let h: Harness;
  let directory: Directory;
  let software: SoftwareService;
  let acme: { applicationId: string; partner: PartnerView };
  const alice = applicant(1);
  const mallory = applicant(2);
  let sigKey: JWK;
  let tlsKey: JWK;

  const input = (over: Record<string, unknown> = {}) => ({
    name: 'Acme Aggregator',
    redirectUris: 'https://app.acme-payments.test/callback\nhttps://app.acme-payments.test/cb2',
    roles: ['AIS', 'PIS'],
    jwks: JSON.stringify({ keys: [sigKey, tlsKey] }),
    jwksUri: '',
    ...over,
  });

  before(async () => {
    h = await harness();
    directory = await createDirectory({ dataDir: h.dataDir, issuer: DIRECTORY_ISSUER, now: () => h.clock.now });
    software = createSoftwareService({ db: h.db, tx: h.tx, audit: h.audit, partners: h.service, directory, now: () => h.clock.now });
    acme = await approvedAcme(h, alice);
    sigKey = await publicKey('ES256', 'acme-sig-1');
    tlsKey = await publicKey('PS256', 'acme-tls-1', { use: 'tls' });
  });
  after(() => h?.close());

  it('declares a product (JWKS), lists it, audits it, and getSoftware returns it', async () => {
    const before = count(h.db, 'audit_events');
    const p = await software.declare(alice, acme.applicationId, input({ roles: ['PIS', 'AIS', 'AIS'] }));
    assert.match(p.id, /^[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(p, {
      id: p.id,
      partnerId: acme.partner.id,
      orgId: 'PSDDE-BAFIN-152645',
      name: 'Acme Aggregator',
      redirectUris: ['https://app.acme-payments.test/callback', 'https://app.acme-payments.test/cb2'],
      roles: ['AIS', 'PIS'],
      jwks: { keys: [sigKey, tlsKey] },
      jwksUri: null,
      status: 'active',
      createdAt: h.clock.now.toISOString(),
    });
    assert.equal(acme.partner.organizationIdentifier, 'PSDDE-BAFIN-152645');
    assert.deepEqual(await software.list(alice, acme.applicationId), [p]);
    assert.deepEqual(await software.getSoftware(p.id), p);
    const events = await h.audit.list({ subjectType: 'software', subjectId: p.id });
    assert.deepEqual(events.map((e) => e.action), ['software.declared']);
    assert.equal(events[0]!.actor.id, alice.id);
    assert.deepEqual(events[0]!.data.keys, { kids: ['acme-sig-1', 'acme-tls-1'] });
    assert.equal(count(h.db, 'audit_events'), before + 1);
  });

  it('issues a statement: UK OB claims, signed by the directory key, verified with publicJwks; recorded and audited', async () => {
    const p = await software.declare(alice, acme.applicationId, input({ name: 'Acme Statements' }));
    const before = state(h);
    const { jwt, fileName } = await software.statement(alice, acme.applicationId, p.id);
    assert.equal(fileName, `ssa-${p.id}.jwt`);
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(directory.publicJwks()), {
      issuer: DIRECTORY_ISSUER,
      algorithms: ['PS256'],
      currentDate: h.clock.now,
    });
    assert.deepEqual(protectedHeader, { alg: 'PS256', kid: directory.publicJwks().keys[0]!.kid, typ: 'JWT' });
    assert.match(String(payload.jti), /^[0-9a-f-]{36}$/);
    assert.deepEqual(payload, {
      iss: DIRECTORY_ISSUER,
      iat: Math.floor(h.clock.now.getTime() / 1000),
      jti: payload.jti,
      software_id: p.id,
      software_client_id: p.id,
      software_client_name: 'Acme Statements',
      software_version: '1.0',
      software_mode: 'Live',
      software_roles: ['AISP', 'PISP'],
      software_redirect_uris: p.redirectUris,
      software_jwks: { keys: [sigKey, tlsKey] },
      org_id: 'PSDDE-BAFIN-152645',
      org_name: 'Acme Payments GmbH',
      org_status: 'Active',
    });
    assert.equal('exp' in payload, false);
    const row = h.db.prepare('SELECT * FROM software_statements WHERE jti = ?').get(payload.jti) as Record<string, string>;
    assert.deepEqual(row, {
      jti: payload.jti,
      software_id: p.id,
      kid: protectedHeader.kid,
      issued_at: h.clock.now.toISOString(),
      issued_by: alice.id,
    });
    const after = state(h);
    assert.equal(after.statements, before.statements + 1);
    assert.equal(after.audit, before.audit + 1);
    const [event] = await h.audit.list({ subjectType: 'software', subjectId: p.id, action: 'software.statement.issued' });
    assert.equal(event?.data.jti, payload.jti);
    // Each download is a new statement with its own jti.
    const second = await software.statement(alice, acme.applicationId, p.id);
    assert.notEqual((await jwtVerify(second.jwt, createLocalJWKSet(directory.publicJwks()))).payload.jti, payload.jti);
  });

  it('a product with a jwks_uri puts software_jwks_endpoint in the statement and no software_jwks', async () => {
    const p = await software.declare(alice, acme.applicationId, input({ name: 'Acme URI', jwks: '', jwksUri: 'https://keys.acme-payments.test/jwks.json', roles: 'AIS' }));
    assert.equal(p.jwks, null);
    assert.equal(p.jwksUri, 'https://keys.acme-payments.test/jwks.json');
    const { jwt } = await software.statement(alice, acme.applicationId, p.id);
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(directory.publicJwks()));
    assert.equal(payload.software_jwks_endpoint, 'https://keys.acme-payments.test/jwks.json');
    assert.equal('software_jwks' in payload, false);
    assert.deepEqual(payload.software_roles, ['AISP']);
  });

  describe('refuses bad input with the exact field error, changing nothing', () => {
    const cases: [string, () => Promise<Record<string, unknown>>, string, RegExp][] = [
      ['an http redirect URI', async () => input({ redirectUris: 'http://app.acme-payments.test/callback' }), 'redirectUris.0', /^Redirect URI 1 \(http:\/\/app\.acme-payments\.test\/callback\) must start with https:\/\/\.$/],
      ['a redirect URI with a fragment', async () => input({ redirectUris: 'https://app.acme-payments.test/ok\nhttps://app.acme-payments.test/cb#frag' }), 'redirectUris.1', /^Redirect URI 2 .* has a fragment/],
      ['a redirect URI with userinfo', async () => input({ redirectUris: 'https://user:pw@app.acme-payments.test/cb' }), 'redirectUris.0', /user name or password/],
      ['no redirect URI', async () => input({ redirectUris: '  \n ' }), 'redirectUris', /^Enter at least one redirect URI\.$/],
      ['eleven redirect URIs', async () => input({ redirectUris: Array.from({ length: 11 }, (_, i) => `https://a.test/${i}`) }), 'redirectUris', /^At most 10 redirect URIs\.$/],
      ['an empty name', async () => input({ name: '   ' }), 'name', /^Enter a name\.$/],
      ['a name of 101 characters', async () => input({ name: 'x'.repeat(101) }), 'name', /^At most 100 characters\.$/],
      ['a role beyond the approved roles', async () => input({ roles: ['AIS', 'CBPII'] }), 'roles', /^CBPII is not among your approved roles \(AIS, PIS\)\.$/],
      ['an unknown role', async () => input({ roles: ['ADMIN'] }), 'roles', /^Unknown role "ADMIN"/],
      ['no role', async () => input({ roles: [] }), 'roles', /^Choose one or more roles/],
      ['both a JWKS and a jwks_uri', async () => input({ jwksUri: 'https://keys.acme-payments.test/jwks.json' }), 'keys', /^Give either a JWK Set or a jwks_uri, not both\.$/],
      ['neither a JWKS nor a jwks_uri', async () => input({ jwks: ' ', jwksUri: '' }), 'keys', /^Give your public keys/],
      ['an http jwks_uri', async () => input({ jwks: '', jwksUri: 'http://keys.acme-payments.test/jwks.json' }), 'jwksUri', /^The jwks_uri must start with https:\/\/\.$/],
      ['a private key in the JWKS', async () => input({ jwks: JSON.stringify({ keys: [sigKey, await privateKey('leaked-1')] }) }), 'jwks', /^Key 2 \(kid "leaked-1"\) contains private key material \(d\): paste only the public key/],
      ['a 1024-bit RSA key', async () => input({ jwks: JSON.stringify({ keys: [rsa1024('small-1')] }) }), 'jwks', /^Key 1 \(kid "small-1"\) is a 1024-bit RSA key: at least 2048 bits are required\.$/],
      ['an EC P-384 key', async () => input({ jwks: JSON.stringify({ keys: [await publicKey('ES384', 'p384-1')] }) }), 'jwks', /^Key 1 \(kid "p384-1"\) is an EC key on curve "P-384": only P-256 is accepted\.$/],
      ['a key without kid', async () => input({ jwks: JSON.stringify({ keys: [{ ...sigKey, kid: undefined }] }) }), 'jwks', /^Key 1 has no kid/],
      ['a key for encryption', async () => input({ jwks: JSON.stringify({ keys: [{ ...sigKey, use: 'enc' }] }) }), 'jwks', /^Key 1 \(kid "acme-sig-1"\) has use "enc"/],
      ['a symmetric key', async () => input({ jwks: JSON.stringify({ keys: [{ kty: 'oct', kid: 'sym-1', k: 'c2VjcmV0' }] }) }), 'jwks', /contains private key material \(k\)/],
      ['a key that does not parse', async () => input({ jwks: JSON.stringify({ keys: [{ ...sigKey, x: 'AAAA' }] }) }), 'jwks', /^Key 1 \(kid "acme-sig-1"\) cannot be read as a P-256 public key/],
      ['two keys with one kid', async () => input({ jwks: JSON.stringify({ keys: [sigKey, { ...tlsKey, kid: 'acme-sig-1' }] }) }), 'jwks', /^Key 2 repeats kid "acme-sig-1"/],
      ['eleven keys', async () => input({ jwks: JSON.stringify({ keys: Array.from({ length: 11 }, (_, i) => ({ ...sigKey, kid: `k${i}` })) }) }), 'jwks', /holds 11 keys: at most 10/],
      ['no keys', async () => input({ jwks: '{"keys": []}' }), 'jwks', /holds no keys/],
      ['JWKS text that is not JSON', async () => input({ jwks: '{"keys": [' }), 'jwks', /^The JWK Set is not valid JSON/],
      ['a JWKS over 16 KiB', async () => input({ jwks: JSON.stringify({ keys: [sigKey], pad: 'x'.repeat(16 * 1024) }) }), 'jwks', /larger than 16 KiB/],
    ];
    for (const [what, make, path, message] of cases) {
      it(what, async () => {
        const before = state(h);
        await refused(software.declare(alice, acme.applicationId, await make()), 'input.invalid', 400, { path, message });
        assert.deepEqual(state(h), before);
      });
    }
  });

  it("another applicant's application (and staff) get not_found for every operation, changing nothing", async () => {
    const p = await software.declare(alice, acme.applicationId, input({ name: 'Not yours' }));
    const before = state(h);
    const staff = { ...APPROVER_A };
    for (const who of [mallory, staff]) {
      await refused(software.list(who, acme.applicationId), 'not_found', 404);
      await refused(software.overview(who, acme.applicationId), 'not_found', 404);
      await refused(software.declare(who, acme.applicationId, input()), 'not_found', 404);
      await refused(software.statement(who, acme.applicationId, p.id), 'not_found', 404);
      await refused(software.revoke(who, acme.applicationId, p.id), 'not_found', 404);
    }
    // Mallory's own application cannot reach Alice's product either.
    const own = await h.service.createApplication(mallory);
    await refused(software.statement(mallory, own.id, p.id), 'not_found', 404);
    await refused(software.revoke(mallory, own.id, p.id), 'not_found', 404);
    await refused(software.declare(mallory, own.id, input()), 'registration.partner_not_active', 409);
    assert.deepEqual(await software.list(mallory, own.id), []);
    // Unknown and malformed software ids are "not found" as well.
    await refused(software.statement(alice, acme.applicationId, 'no-such-software'), 'not_found', 404);
    await refused(software.statement(alice, acme.applicationId, '../../etc'), 'not_found', 404);
    assert.equal(await software.getSoftware('no-such-software'), null);
    assert.equal(await software.getSoftware('../x'), null);
    const after = state(h);
    assert.deepEqual(after.products, before.products);
    assert.equal(after.statements, before.statements);
    // Only Mallory's createApplication was recorded.
    assert.equal(after.audit, before.audit + 1);
  });

  it('revokes: audited, no more statements (409 software_revoked), a second revoke is refused, getSoftware says revoked', async () => {
    const p = await software.declare(alice, acme.applicationId, input({ name: 'To revoke' }));
    const revoked = await software.revoke(alice, acme.applicationId, p.id);
    assert.equal(revoked.status, 'revoked');
    assert.equal((await software.getSoftware(p.id))?.status, 'revoked');
    const events = await h.audit.list({ subjectType: 'software', subjectId: p.id });
    assert.deepEqual(events.map((e) => e.action), ['software.declared', 'software.revoked']);
    const before = state(h);
    await refused(software.statement(alice, acme.applicationId, p.id), 'registration.software_revoked', 409);
    await refused(software.revoke(alice, acme.applicationId, p.id), 'registration.software_revoked', 409);
    assert.deepEqual(state(h), before);
  });

  it('a suspended partner can neither declare nor download statements (409 partner_not_active); reinstated, it can again', async () => {
    const p = await software.declare(alice, acme.applicationId, input({ name: 'Before suspension' }));
    await h.service.suspendPartner(APPROVER_A, acme.partner.id, { reasonCode: 'CONTRACT_ENDED', text: 'Contract ended.' });
    try {
      const before = state(h);
      await refused(software.declare(alice, acme.applicationId, input()), 'registration.partner_not_active', 409);
      await refused(software.statement(alice, acme.applicationId, p.id), 'registration.partner_not_active', 409);
      assert.deepEqual(state(h), before);
      const o = await software.overview(alice, acme.applicationId);
      assert.equal(o.refusal?.code, 'registration.partner_not_active');
      assert.match(o.refusal!.message, /suspended/);
    } finally {
      await h.service.reinstatePartner(APPROVER_A, acme.partner.id, { text: 'Back.' });
    }
    const { jwt } = await software.statement(alice, acme.applicationId, p.id);
    assert.equal((await jwtVerify(jwt, createLocalJWKSet(directory.publicJwks()))).payload.software_id, p.id);
  });

  it('an application that is not approved has no software (409 partner_not_active), changing nothing', async () => {
    const draft = await h.service.createApplication(alice);
    const before = state(h);
    await refused(software.declare(alice, draft.id, input()), 'registration.partner_not_active', 409);
    assert.deepEqual(state(h), before);
    assert.equal((await software.overview(alice, draft.id)).refusal?.message, 'Software products can be declared once the application is approved.');
  });
});
