/**
 * The registration evaluator on real parts (see helpers.ts), named after the OpenID conformance modules
 * (Brazil DCR) and the UK OB conformance-dcr scenarios where they match. Every refusal asserts its status,
 * error, check name, and that nothing was written: the replay table changes only once request.replay has
 * passed, and no partner is ever created by a refused request.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createServer } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, importJWK, UnsecuredJWT } from 'jose';
import { createSqliteRegistrationJtiStore } from '../../src/store/sqlite/registration-jti.js';
import { createDirectory, DIRECTORY_ISSUER } from '../../src/registration/directory.js';
import { createRegistrationEvaluator, fetchJwksBounded } from '../../src/registration/evaluate.js';
import { createSoftwareService } from '../../src/registration/software.js';
import type { RegistrationDecision, RegistrationRequestInput } from '../../src/registration/types.js';
import { applicant, APPROVER_A, snapshot } from '../partners/helpers.js';
import {
  approvedRegulated,
  approvedRegulatedApplication,
  AUDIENCE,
  badQwac,
  conditionallyApproved,
  devPartner,
  jsonInput,
  jtiCount,
  jwtInput,
  nonPsdQwac,
  partnerCount,
  present,
  product,
  qsealX5c,
  qwacOf,
  signedRequest,
  signingKey,
  statement,
  world,
  type World,
} from './helpers.js';

const SSA_FIXTURES = path.resolve(process.env.SSA_FIXTURES_DIR ?? '../shared/fixtures/ssa');

type Refusal = Extract<RegistrationDecision, { ok: false }>;
type Success = Extract<RegistrationDecision, { ok: true }>;

const ALL_CHECKS_JSON = [
  'request.content_type',
  'request.parse',
  'tls.certificate',
  'tls.qwac_valid',
  'tls.organization',
  'statement.present',
  'statement.signature',
  'statement.age',
  'statement.software',
  'statement.organization',
  'partner.approved',
  'metadata.redirect_uris',
  'metadata.auth_method',
  'metadata.grant_and_response_types',
  'metadata.algorithms',
  'metadata.scope',
  'metadata.jwks',
  'client.unique',
];
const ALL_CHECKS_SIGNED = [
  ...ALL_CHECKS_JSON.slice(0, 10),
  'request.signature',
  'request.claims',
  'request.replay',
  ...ALL_CHECKS_JSON.slice(10),
];

async function accepted(w: World, input: RegistrationRequestInput): Promise<Success> {
  const d = await w.evaluator.evaluate(input);
  assert.ok(d.ok, `refused: ${JSON.stringify(d)}`);
  return d;
}

/**
 * Evaluates and asserts the refusal; `jti` says whether the replay record was written (the request got past
 * request.replay). Partners and applications are unchanged in every case.
 */
async function refused(
  w: World,
  input: RegistrationRequestInput,
  expected: { status: number; error: string; check: string; description?: RegExp; jti?: 'written' | 'unchanged' },
): Promise<Refusal> {
  const jtis = jtiCount(w);
  const partners = snapshot(w.h.db);
  const d = await w.evaluator.evaluate(input);
  assert.equal(d.ok, false, `accepted: ${JSON.stringify(d)}`);
  const r = d as Refusal;
  assert.deepEqual(
    { status: r.status, error: r.error, check: r.check },
    { status: expected.status, error: expected.error, check: expected.check },
    r.description,
  );
  if (expected.description) assert.match(r.description, expected.description);
  assert.equal(jtiCount(w), jtis + (expected.jti === 'written' ? 1 : 0), 'replay table');
  assert.deepEqual(snapshot(w.h.db), partners, 'partners tables');
  return r;
}

describe('registration: evaluating a DCR request (RFC 7591/7592, UK OB profile)', function () {
  this.timeout(120_000);
  let w: World;
  afterEach(() => w?.close());

  describe('with an approved regulated partner (Acme Payments, AIS + PIS)', () => {
    let partner: Awaited<ReturnType<typeof approvedRegulated>>;
    beforeEach(async () => {
      w = await world();
      partner = await approvedRegulated(w.h);
    });

    it('BrazilDCRHappyFlow (JSON): the statement decides, the request chooses within it', async () => {
      const p = product(w, partner);
      const ssa = await statement(w, p);
      const d = await accepted(
        w,
        jsonInput(
          {
            software_statement: ssa,
            redirect_uris: ['https://app.acme-payments.test/callback'],
            scope: 'accounts',
            client_name: 'ignored: the statement names the client',
            contacts: ['ops@acme-payments.test'],
            id_token_signed_response_alg: 'PS256',
            tls_client_auth_subject_dn: 'CN=spoofed',
            org_id: 'PSDXX-EVIL-1',
            partner_id: 'someone-else',
            unknown_member: 'dropped',
          },
          w.acme,
        ),
      );
      assert.deepEqual(d.checks, ALL_CHECKS_JSON);
      assert.equal(d.partnerId, partner.id);
      assert.equal(d.orgId, 'PSDDE-BAFIN-152645');
      assert.equal(d.softwareId, p.id);
      assert.equal(d.fastLane, false);
      assert.deepEqual(d.metadata, {
        client_name: 'Acme Aggregator',
        contacts: ['ops@acme-payments.test'],
        id_token_signed_response_alg: 'PS256',
        software_version: '1.0',
        redirect_uris: ['https://app.acme-payments.test/callback'],
        grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
        response_types: ['code'],
        scope: 'accounts',
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_certificate_bound_access_tokens: true,
        org_id: 'PSDDE-BAFIN-152645',
        partner_id: partner.id,
        software_id: p.id,
        issuer_key_sha256: w.acme.issuerKeySha256,
        jwks: p.jwks,
        software_statement: ssa,
      });
      assert.match(String(w.acme.issuerKeySha256), /^[0-9a-f]{64}$/);
      assert.equal(jtiCount(w), 0, 'a JSON request has no jti');
    });

    it('BrazilDCRHappyFlow (signed application/jwt): verified with the statement key, jti recorded; defaults fill in', async () => {
      const p = product(w, partner);
      const ssa = await statement(w, p);
      const jws = await signedRequest(w, p.id, { software_statement: ssa, software_id: p.id });
      const d = await accepted(w, jwtInput(jws, w.acme));
      assert.deepEqual(d.checks, ALL_CHECKS_SIGNED);
      assert.equal(jtiCount(w), 1);
      assert.deepEqual(d.metadata.redirect_uris, p.redirectUris, 'default: every statement redirect URI');
      assert.equal(d.metadata.scope, 'accounts payments', 'default: everything every limit allows');
      for (const claim of ['iss', 'aud', 'exp', 'iat', 'jti']) assert.equal(d.metadata[claim], undefined, claim);
      assert.equal(d.metadata.software_statement, ssa);
    });

    it('BrazilDCRHappyFlow (application/jose, keys at software_jwks_endpoint, private_key_jwt)', async () => {
      const uri = 'https://keys.acme-payments.test/software.jwks';
      w.endpoints.set(uri, { keys: [w.softwareKey.publicJwk] });
      const p = product(w, partner, { jwks: null, jwksUri: uri });
      const jws = await signedRequest(w, p.id, {
        software_statement: await statement(w, p),
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        grant_types: ['client_credentials'],
      });
      const d = await accepted(w, { ...jwtInput(jws, w.acme), contentType: 'application/jose' });
      assert.deepEqual(w.fetched, [uri]);
      assert.equal(d.metadata.jwks_uri, uri);
      assert.equal(d.metadata.jwks, undefined);
      assert.equal(d.metadata.token_endpoint_auth_method, 'private_key_jwt');
      assert.deepEqual(d.metadata.grant_types, ['client_credentials']);
      assert.deepEqual(d.metadata.response_types, [], 'no code flow, no response type');
    });

    it('x5c: a request signed with the partner’s own QSealC is accepted', async () => {
      const p = product(w, partner);
      const acme = devPartner(w.h.pki, 'acme-payments');
      const jws = await signedRequest(w, p.id, { software_statement: await statement(w, p) }, {
        header: { x5c: qsealX5c(w.h.pki, 'acme-payments'), kid: undefined },
        signWith: acme.qseal.keys.privateKey,
        alg: 'ES256',
      });
      const d = await accepted(w, jwtInput(jws, w.acme));
      assert.ok(d.checks.includes('request.signature'));
      assert.equal(jtiCount(w), 1);
    });

    it('x5c: a QSealC of another organisation is refused (403), nothing recorded', async () => {
      const p = product(w, partner);
      const nordic = devPartner(w.h.pki, 'nordic-insights');
      const jws = await signedRequest(w, p.id, { software_statement: await statement(w, p) }, {
        header: { x5c: qsealX5c(w.h.pki, 'nordic-insights'), kid: undefined },
        signWith: nordic.qseal.keys.privateKey,
        alg: 'ES256',
      });
      await refused(w, jwtInput(jws, w.acme), {
        status: 403,
        error: 'invalid_client_metadata',
        check: 'request.signature',
        description: /belongs to PSDSE-FINA-44059, but your QWAC is for PSDDE-BAFIN-152645/,
      });
    });

    it('x5c: a signature by another key than the QSealC’s is refused', async () => {
      const p = product(w, partner);
      const jws = await signedRequest(w, p.id, { software_statement: await statement(w, p) }, {
        header: { x5c: qsealX5c(w.h.pki, 'acme-payments'), kid: undefined },
      });
      await refused(w, jwtInput(jws, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'request.signature',
        description: /does not verify with the key of the QSealC/,
      });
    });

    it('BrazilDCRInvalidSoftwareStatementSignature: a statement signed by another key under the directory’s kid', async () => {
      const p = product(w, partner);
      const forger = await signingKey('PS256', w.directoryKey.kid);
      const ssa = await statement(w, p, {}, { key: forger });
      await refused(w, jsonInput({ software_statement: ssa }, w.acme), {
        status: 400,
        error: 'invalid_software_statement',
        check: 'statement.signature',
        description: /does not verify with the portal directory’s keys/,
      });
    });

    it('a statement from another issuer (a third-party directory) is refused as unverifiable', async () => {
      const p = product(w, partner);
      const ssa = await statement(w, p, {}, { issuer: 'OpenBanking Ltd' });
      await refused(w, jsonInput({ software_statement: ssa }, w.acme), {
        status: 400,
        error: 'invalid_software_statement',
        check: 'statement.signature',
        description: /issued by "OpenBanking Ltd", which this portal does not trust/,
      });
    });

    it('a real UK Open Banking sandbox SSA (WSO2 docs) is refused as unverifiable', async function () {
      const file = path.join(SSA_FIXTURES, 'ssa-wso2-oQ4K-2022.jwt');
      if (!existsSync(file)) this.skip();
      const ssa = readFileSync(file, 'utf8').trim();
      await refused(w, jsonInput({ software_statement: ssa }, w.acme), {
        status: 400,
        error: 'invalid_software_statement',
        check: 'statement.signature',
        description: /issued by "OpenBanking Ltd", which this portal does not trust/,
      });
    });

    it('BrazilDCRNoMTLS: no client certificate', async () => {
      const p = product(w, partner);
      await refused(w, jsonInput({ software_statement: await statement(w, p) }, null), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'tls.certificate',
        description: /^Registration requires mutual TLS with your QWAC/,
      });
    });

    it('BrazilDCRBadMTLS: a QWAC from the rogue CA, and an expired QWAC', async () => {
      const p = product(w, partner);
      const ssa = await statement(w, p);
      const rogue = await present(w.h.eidas, badQwac(w.h.pki, 'rogue-ca'));
      await refused(w, jsonInput({ software_statement: ssa }, rogue), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'tls.qwac_valid',
        description: /is not a valid QWAC \(findings: [^)]*chain\.untrusted/,
      });
      const expired = await present(w.h.eidas, badQwac(w.h.pki, 'expired'));
      await refused(w, jsonInput({ software_statement: ssa }, expired), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'tls.qwac_valid',
        description: /findings: [^)]*expired/,
      });
    });

    it('BrazilDCRInvalidRedirectUri: a URI outside the statement, and a plain-http URI', async () => {
      const p = product(w, partner);
      const ssa = await statement(w, p);
      await refused(w, jsonInput({ software_statement: ssa, redirect_uris: ['https://evil.test/cb'] }, w.acme), {
        status: 400,
        error: 'invalid_redirect_uri',
        check: 'metadata.redirect_uris',
        description: /https:\/\/evil\.test\/cb is not in your software statement/,
      });
      await refused(w, jsonInput({ software_statement: ssa, redirect_uris: ['http://app.acme-payments.test/callback'] }, w.acme), {
        status: 400,
        error: 'invalid_redirect_uri',
        check: 'metadata.redirect_uris',
        description: /must use https/,
      });
    });

    it('BrazilDCRInvalidJwksByValue: a private key in jwks; jwks and jwks_uri together', async () => {
      const p = product(w, partner);
      const ssa = await statement(w, p);
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const leaked = { ...(await exportJWK(privateKey)), kid: 'leaked' };
      const r = await refused(w, jsonInput({ software_statement: ssa, jwks: { keys: [leaked] } }, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'metadata.jwks',
        description: /key "leaked" contains private key material \(d\)/,
      });
      assert.doesNotMatch(r.description, new RegExp(String(leaked.d)));
      await refused(w, jsonInput({ software_statement: ssa, jwks: { keys: [w.softwareKey.publicJwk] }, jwks_uri: 'https://keys.test/x' }, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'metadata.jwks',
        description: /never both/,
      });
      await refused(w, jsonInput({ software_statement: ssa, jwks: { keys: 'nope' } }, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'metadata.jwks',
        description: /must be a JWK Set/,
      });
    });

    it('alg none is refused before anything else is read', async () => {
      const p = product(w, partner);
      const jws = new UnsecuredJWT({ software_statement: await statement(w, p), aud: AUDIENCE, jti: 'n-1' })
        .setIssuer(p.id)
        .setIssuedAt()
        .setExpirationTime('5m')
        .encode();
      await refused(w, jwtInput(jws, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'request.parse',
        description: /alg none \(an unsigned request\) is refused/,
      });
    });

    it('HS256 signed with the public key bytes (key confusion) is refused', async () => {
      const p = product(w, partner);
      // The attacker's trick: use the verifier's public key (PEM) as the HMAC secret.
      const pem = await exportSPKI(await importJWK(w.softwareKey.publicJwk, 'ES256') as Parameters<typeof exportSPKI>[0]);
      const jws = await signedRequest(w, p.id, { software_statement: await statement(w, p) }, {
        alg: 'HS256',
        signWith: new TextEncoder().encode(pem) as never,
      });
      await refused(w, jwtInput(jws, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'request.parse',
        description: /alg HS256 \(HMAC, a shared secret\) is refused/,
      });
    });

    it('RS256 is refused (FAPI)', async () => {
      const p = product(w, partner);
      const rsa = await generateKeyPair('RS256');
      const jws = await signedRequest(w, p.id, { software_statement: await statement(w, p) }, { alg: 'RS256', signWith: rsa.privateKey });
      await refused(w, jwtInput(jws, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'request.parse',
        description: /RS256 .* refused by the FAPI profile/,
      });
    });

    it('DCR-004: an expired request; a request whose iat is in the future', async () => {
      const p = product(w, partner);
      const ssa = await statement(w, p);
      const now = Math.floor(w.clock.now.getTime() / 1000);
      const expired = await signedRequest(w, p.id, { software_statement: ssa }, { claims: { iat: now - 900, exp: now - 600 } });
      await refused(w, jwtInput(expired, w.acme), { status: 400, error: 'invalid_client_metadata', check: 'request.claims', description: /expired at/ });
      const future = await signedRequest(w, p.id, { software_statement: ssa }, { claims: { iat: now + 600, exp: now + 900 } });
      await refused(w, jwtInput(future, w.acme), { status: 400, error: 'invalid_client_metadata', check: 'request.claims', description: /iat .* is in the future/ });
      const noExp = await signedRequest(w, p.id, { software_statement: ssa }, { claims: { exp: undefined } });
      await refused(w, jwtInput(noExp, w.acme), { status: 400, error: 'invalid_client_metadata', check: 'request.claims', description: /exp is required/ });
      const noJti = await signedRequest(w, p.id, { software_statement: ssa }, { claims: { jti: undefined } });
      await refused(w, jwtInput(noJti, w.acme), { status: 400, error: 'invalid_client_metadata', check: 'request.claims', description: /jti is required/ });
      const longLived = await signedRequest(w, p.id, { software_statement: ssa }, { claims: { iat: now, exp: now + 2 * 3600 } });
      await refused(w, jwtInput(longLived, w.acme), { status: 400, error: 'invalid_client_metadata', check: 'request.claims', description: /too far ahead/ });
    });

    it('a replayed jti is refused; the first use is recorded once', async () => {
      const p = product(w, partner);
      const jws = await signedRequest(w, p.id, { software_statement: await statement(w, p) });
      await accepted(w, jwtInput(jws, w.acme));
      assert.equal(jtiCount(w), 1);
      await refused(w, jwtInput(jws, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'request.replay',
        description: /^jti already used/,
      });
    });

    it('DCR-004: iss other than the statement’s software_id; aud other than this server', async () => {
      const p = product(w, partner);
      const ssa = await statement(w, p);
      const badIss = await signedRequest(w, p.id, { software_statement: ssa }, { claims: { iss: 'someone-else' } });
      await refused(w, jwtInput(badIss, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'request.claims',
        description: new RegExp(`iss must be your software statement’s software_id ${p.id}`),
      });
      const badAud = await signedRequest(w, p.id, { software_statement: ssa }, { claims: { aud: 'https://other-bank.test' } });
      await refused(w, jwtInput(badAud, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'request.claims',
        description: /aud must be this authorization server’s issuer https:\/\/as\.bank\.test/,
      });
      const audArray = await signedRequest(w, p.id, { software_statement: ssa }, { claims: { aud: ['https://x.test', AUDIENCE] } });
      await accepted(w, jwtInput(audArray, w.acme));
    });

    it('a request signed with a key not in the statement is refused', async () => {
      const p = product(w, partner);
      const other = await signingKey('ES256', w.softwareKey.kid);
      const jws = await signedRequest(w, p.id, { software_statement: await statement(w, p) }, { key: other });
      await refused(w, jwtInput(jws, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'request.signature',
        description: /does not verify with your software’s key "software-sig-1"/,
      });
      const unknownKid = await signingKey('ES256', 'not-published');
      await refused(w, jwtInput(await signedRequest(w, p.id, { software_statement: await statement(w, p) }, { key: unknownKid }), w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'request.signature',
        description: /No signing key of your software matches kid "not-published"/,
      });
    });

    it('roles beyond the certificate: fundsconfirmations with a QWAC without PSP_IC', async () => {
      const p = product(w, partner, { roles: ['AIS', 'PIS', 'CBPII'] });
      await refused(w, jsonInput({ software_statement: await statement(w, p), scope: 'accounts fundsconfirmations' }, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'metadata.scope',
        description: /scope fundsconfirmations \(role CBPII\) is beyond your QWAC’s PSD2 roles \(PSP_AI, PSP_PI\)/,
      });
    });

    it('roles beyond the statement', async () => {
      const p = product(w, partner, { roles: ['AIS'] });
      await refused(w, jsonInput({ software_statement: await statement(w, p), scope: 'payments' }, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'metadata.scope',
        description: /scope payments \(role PIS\) is beyond your software statement’s roles \(AISP\)/,
      });
    });

    it('a suspended partner cannot register (403), even with a valid signed request', async () => {
      const p = product(w, partner);
      const jws = await signedRequest(w, p.id, { software_statement: await statement(w, p) });
      await w.h.service.suspendPartner(APPROVER_A, partner.id, { reasonCode: 'FRAUD_GROUNDS', text: 'Evidence of APP fraud.' });
      await refused(w, jwtInput(jws, w.acme), {
        status: 403,
        error: 'unapproved_software_statement',
        check: 'partner.approved',
        description: /^Partner Acme Payments GmbH is suspended: /,
        jti: 'written',
      });
    });

    it('a statement older than SSA_MAX_AGE_DAYS is refused', async () => {
      const p = product(w, partner);
      const iat = Math.floor(w.clock.now.getTime() / 1000) - 31 * 86_400;
      await refused(w, jsonInput({ software_statement: await statement(w, p, {}, { iat }) }, w.acme), {
        status: 400,
        error: 'invalid_software_statement',
        check: 'statement.age',
        description: /more than 30 days ago: download a fresh one/,
      });
    });

    it('a statement for another organisation than the QWAC’s is refused', async () => {
      const p = product(w, partner, { orgId: 'PSDSE-FINA-44059' });
      await refused(w, jsonInput({ software_statement: await statement(w, p) }, w.acme), {
        status: 400,
        error: 'unapproved_software_statement',
        check: 'statement.organization',
        description: /statement is for organisation PSDSE-FINA-44059, but your QWAC is for PSDDE-BAFIN-152645/,
      });
    });

    it('a revoked software product, and an unknown one, are unapproved', async () => {
      const p = product(w, partner, { status: 'revoked' });
      const ssa = await statement(w, p);
      await refused(w, jsonInput({ software_statement: ssa }, w.acme), {
        status: 400,
        error: 'unapproved_software_statement',
        check: 'statement.software',
        description: /was revoked/,
      });
      w.products.delete(p.id);
      await refused(w, jsonInput({ software_statement: ssa }, w.acme), {
        status: 400,
        error: 'unapproved_software_statement',
        check: 'statement.software',
        description: /is not declared in this portal/,
      });
    });

    it('DCR-011: response_types id_token token is refused', async () => {
      const p = product(w, partner);
      const jws = await signedRequest(w, p.id, { software_statement: await statement(w, p), response_types: ['id_token token'] });
      await refused(w, jwtInput(jws, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'metadata.grant_and_response_types',
        description: /response_type id_token token is not supported/,
        jti: 'written',
      });
    });

    it('unsupported auth method, grant type and algorithm', async () => {
      const p = product(w, partner);
      const ssa = await statement(w, p);
      await refused(w, jsonInput({ software_statement: ssa, token_endpoint_auth_method: 'client_secret_basic' }, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'metadata.auth_method',
        description: /client_secret_basic is not supported/,
      });
      await refused(w, jsonInput({ software_statement: ssa, grant_types: ['implicit'] }, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'metadata.grant_and_response_types',
        description: /grant_type implicit/,
      });
      await refused(w, jsonInput({ software_statement: ssa, request_object_signing_alg: 'RS256' }, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'metadata.algorithms',
        description: /request_object_signing_alg "RS256" is not supported/,
      });
    });

    it('the same software registered again: refused with the documented RFC 7592 pointer', async () => {
      const p = product(w, partner);
      w.clients.set(`PSDDE-BAFIN-152645 ${p.id}`, 'client-123');
      const r = await refused(w, jsonInput({ software_statement: await statement(w, p) }, w.acme), {
        status: 400,
        error: 'unapproved_software_statement',
        check: 'client.unique',
      });
      assert.equal(
        r.description,
        `Software ${p.id} is already registered as client client-123: read, update or delete it with RFC 7592 at its registration_client_uri.`,
      );
    });

    it('RFC 7592 update: same checks without client.unique; owner and software_id are fixed', async () => {
      const p = product(w, partner);
      w.clients.set(`PSDDE-BAFIN-152645 ${p.id}`, 'client-123');
      const ssa = await statement(w, p);
      const existing = { clientId: 'client-123', orgId: 'PSDDE-BAFIN-152645', softwareId: p.id };
      const d = await accepted(w, jsonInput({ software_statement: ssa, scope: 'payments' }, w.acme, { existing }));
      assert.ok(!d.checks.includes('client.unique'));
      assert.ok(d.checks.includes('client.owner') && d.checks.includes('client.software_id'));
      assert.equal(d.metadata.client_id, 'client-123');
      assert.equal(d.metadata.scope, 'payments');

      await refused(w, jsonInput({ software_statement: ssa }, w.acme, { existing: { ...existing, orgId: 'PSDSE-FINA-44059' } }), {
        status: 403,
        error: 'unapproved_software_statement',
        check: 'client.owner',
      });
      const other = product(w, partner);
      await refused(w, jsonInput({ software_statement: await statement(w, other) }, w.acme, { existing }), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'client.software_id',
        description: /software_id cannot change/,
      });
    });

    it('malformed requests: content type, body, member count', async () => {
      await refused(w, { ...jsonInput({}, w.acme), contentType: 'text/plain' }, {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'request.content_type',
      });
      await refused(w, { ...jsonInput({}, w.acme), body: Buffer.from('{"a":') }, {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'request.parse',
        description: /not valid JSON/,
      });
      await refused(w, jsonInput([1, 2], w.acme), { status: 400, error: 'invalid_client_metadata', check: 'request.parse' });
      const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`m${i}`, i]));
      await refused(w, jsonInput(many, w.acme), { status: 400, error: 'invalid_client_metadata', check: 'request.parse', description: /51 members/ });
      await refused(w, jsonInput({ redirect_uris: 'https://x.test' }, w.acme), {
        status: 400,
        error: 'invalid_client_metadata',
        check: 'request.parse',
        description: /redirect_uris/,
      });
      await refused(w, jwtInput('not.a.jws', w.acme), { status: 400, error: 'invalid_client_metadata', check: 'request.parse' });
    });

    it('fast lane with an existing partner: its approval bounds the scopes, no partner is created', async () => {
      const before = partnerCount(w);
      const d = await accepted(w, jsonInput({ redirect_uris: ['https://app.acme-payments.test/callback'] }, w.acme));
      assert.equal(d.partnerId, partner.id);
      assert.equal(d.fastLane, false);
      assert.equal(partnerCount(w), before);
      assert.equal(d.metadata.scope, 'accounts payments');
      assert.match(d.softwareId, /^[A-Za-z0-9_-]{22}$/);
      assert.equal(d.metadata.software_statement, undefined);
    });
  });

  it('interop: a statement issued by the real directory and software service is accepted', async () => {
    w = await world();
    const { applicationId } = await approvedRegulatedApplication(w.h);
    const directory = await createDirectory({ dataDir: w.h.dataDir, issuer: DIRECTORY_ISSUER });
    const software = createSoftwareService({ db: w.h.db, tx: w.h.tx, audit: w.h.audit, partners: w.h.service, directory });
    const owner = applicant();
    const declared = await software.declare(owner, applicationId, {
      name: 'Acme Payments App',
      redirectUris: ['https://app.acme-payments.test/callback'],
      roles: ['AIS'],
      jwks: JSON.stringify({ keys: [w.softwareKey.publicJwk] }),
    });
    const { jwt } = await software.statement(owner, applicationId, declared.id);
    const evaluator = createRegistrationEvaluator({
      directory,
      software,
      partners: w.partners,
      clients: { findBySoftware: async () => null },
      eidas: w.h.eidas,
      jtis: createSqliteRegistrationJtiStore(w.h.db, w.h.tx),
      audience: () => AUDIENCE,
      ssaMaxAgeDays: 30,
    });
    const d = await evaluator.evaluate(jwtInput(await signedRequest(w, declared.id, { software_statement: jwt }), w.acme));
    assert.ok(d.ok, JSON.stringify(d));
    assert.equal(d.metadata.scope, 'accounts', 'the statement’s AISP role');
    assert.equal(d.metadata.client_name, 'Acme Payments App');
    assert.deepEqual(d.metadata.redirect_uris, ['https://app.acme-payments.test/callback']);
  });

  it('roles beyond the approved roles (conditional approval: AIS only)', async () => {
    w = await world();
    const partner = await conditionallyApproved(w.h);
    assert.deepEqual(partner.allowedRoles, ['AIS']);
    const p = product(w, partner);
    const ssa = await statement(w, p);
    await refused(w, jsonInput({ software_statement: ssa, scope: 'accounts payments' }, w.acme), {
      status: 400,
      error: 'invalid_client_metadata',
      check: 'metadata.scope',
      description: /scope payments \(role PIS\) is beyond the roles the bank approved for your organisation \(AIS\)/,
    });
    const d = await accepted(w, jsonInput({ software_statement: ssa }, w.acme));
    assert.equal(d.metadata.scope, 'accounts', 'the default stays within the conditions');
  });

  it('BrazilDCRNoSoftwareStatement: a QWAC whose identifier is not a PSD2 authorisation needs a statement', async () => {
    w = await world();
    const plain = await present(w.h.eidas, await nonPsdQwac(w.h.pki));
    assert.equal(plain.report.verdict, 'pass', JSON.stringify(plain.report.findings));
    await refused(w, jsonInput({ redirect_uris: ['https://app.plain-fintech.test/cb'] }, plain), {
      status: 400,
      error: 'invalid_software_statement',
      check: 'statement.present',
      description: /^A software statement is required for NTRDE-HRB654321/,
    });
  });

  it('fast lane: a valid QWAC of an authorised TPP registers without an application; the partner is created', async () => {
    w = await world();
    const before = partnerCount(w);
    const d = await accepted(
      w,
      jsonInput(
        {
          redirect_uris: ['https://app.acme-payments.test/callback'],
          scope: 'accounts',
          software_id: 'acme-berlin-app',
          jwks: { keys: [w.softwareKey.publicJwk] },
          token_endpoint_auth_method: 'private_key_jwt',
        },
        w.acme,
      ),
    );
    assert.equal(d.fastLane, true);
    assert.equal(partnerCount(w), before + 1);
    assert.equal(d.softwareId, 'acme-berlin-app');
    assert.deepEqual(d.checks.slice(-2), ['client.unique', 'partner.fast_lane']);
    assert.ok(!d.checks.some((c) => c.startsWith('statement.') && c !== 'statement.present'));
    const partner = await w.partners.partnerForOrganization('PSDDE-BAFIN-152645');
    assert.equal(partner?.id, d.partnerId);
    assert.ok(partner?.allowedRoles.includes('AIS'));
    assert.deepEqual(d.metadata.jwks, { keys: [w.softwareKey.publicJwk] });
    assert.equal(d.metadata.scope, 'accounts');
    assert.equal(d.metadata.token_endpoint_auth_method, 'private_key_jwt');

    // The second registration of the same software finds the partner (no second one) and the client.
    w.clients.set(`PSDDE-BAFIN-152645 acme-berlin-app`, 'client-9');
    await refused(w, jsonInput({ software_id: 'acme-berlin-app', grant_types: ['client_credentials'] }, w.acme), {
      status: 400,
      error: 'unapproved_software_statement',
      check: 'client.unique',
    });
  });

  it('fast lane signed with the QSealC (x5c): iss is the software_id', async () => {
    w = await world();
    const acme = devPartner(w.h.pki, 'acme-payments');
    const jws = await signedRequest(w, 'acme-signed-app', { software_id: 'acme-signed-app', grant_types: ['client_credentials'] }, {
      header: { x5c: qsealX5c(w.h.pki, 'acme-payments'), kid: undefined },
      signWith: acme.qseal.keys.privateKey,
      alg: 'ES256',
    });
    const d = await accepted(w, jwtInput(jws, w.acme));
    assert.equal(d.fastLane, true);
    assert.equal(d.metadata.scope, 'accounts payments', 'default: the QWAC’s PSD2 roles');
    assert.deepEqual(d.metadata.response_types, []);
  });

  it('fast lane refused by the partners service (not in the NCA register): 403, nothing created', async () => {
    w = await world({ registerFile: null });
    const r = await refused(w, jsonInput({ grant_types: ['client_credentials'], scope: 'accounts' }, w.acme), {
      status: 403,
      error: 'unapproved_software_statement',
      check: 'partner.fast_lane',
      description: /^The portal cannot approve this organisation automatically: .* Apply in the partner portal instead\.$/,
    });
    assert.match(String(r.detail), /fast lane refused: .*PSDDE-BAFIN-152645/);
    assert.equal(await w.partners.partnerForOrganization('PSDDE-BAFIN-152645'), null);
  });

  it('fast lane: a signed request without a statement must be signed with the QSealC', async () => {
    w = await world();
    const jws = await signedRequest(w, 'PSDDE-BAFIN-152645', { grant_types: ['client_credentials'] });
    await refused(w, jwtInput(jws, w.acme), {
      status: 400,
      error: 'invalid_client_metadata',
      check: 'request.signature',
      description: /sign the request with your QSealC/,
    });
  });

  it('Nordic Insights (PSP_AI only) asking the fast lane for payments: beyond its QWAC', async () => {
    w = await world();
    const nordic = await present(w.h.eidas, qwacOf(w.h.pki, 'nordic-insights'));
    await refused(w, jsonInput({ grant_types: ['client_credentials'], scope: 'payments' }, nordic), {
      status: 400,
      error: 'invalid_client_metadata',
      check: 'metadata.scope',
      description: /beyond your QWAC’s PSD2 roles \(PSP_AI\)/,
    });
  });
});

describe('registration: the SQLite replay store', function () {
  this.timeout(60_000);
  let w: World;
  afterEach(() => w?.close());

  it('records once, refuses a second use until the first expires, and one of two concurrent uses wins', async () => {
    w = await world();
    const store = createSqliteRegistrationJtiStore(w.h.db, w.h.tx);
    const t0 = new Date('2026-01-01T10:00:00Z');
    const exp = new Date(t0.getTime() + 300_000);
    assert.equal(await store.use('sw-1', 'j-1', exp, t0), true);
    assert.equal(await store.use('sw-1', 'j-1', exp, new Date(t0.getTime() + 1000)), false);
    assert.equal(await store.use('sw-2', 'j-1', exp, t0), true, 'jti is unique per issuer (RFC 7519 §4.1.7)');
    // After the first request's exp it can no longer be replayed, so its jti may be used again (and the row is purged).
    const later = new Date(exp.getTime() + 1);
    assert.equal(await store.use('sw-1', 'j-1', new Date(later.getTime() + 300_000), later), true);
    assert.equal(jtiCount(w), 1, 'the expired rows are purged');
    const results = await Promise.all([1, 2, 3].map(() => store.use('sw-3', 'same', exp, t0)));
    assert.deepEqual(results.filter(Boolean).length, 1);
  });
});

describe('registration: the default software_jwks_endpoint fetch', () => {
  it('refuses anything but https, without a request', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end('{"keys":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      await assert.rejects(fetchJwksBounded(`http://127.0.0.1:${port}/jwks`), /not an https URL/);
      await assert.rejects(fetchJwksBounded('file:///etc/passwd'), /not an https URL/);
      await assert.rejects(fetchJwksBounded('::nonsense'), /not a URL/);
      assert.equal(hits, 0);
    } finally {
      server.close();
    }
  });
});
