/**
 * PKITS-style table over the dev PKI: every good certificate passes, every bad one fails with exactly
 * the error codes of its single defect. Revocation is live against the dev responder on loopback.
 */
import assert from 'node:assert/strict';
import type { DevPki } from '../../src/devpki/generate.js';
import { createHttpFetcher, createRevocationCache } from '../../src/eidas/revocation/index.js';
import type { TrustProfile } from '../../src/eidas/trust/index.js';
import type { CertificateReport, ExpectedType } from '../../src/eidas/types.js';
import { validateCertificate } from '../../src/eidas/validate.js';
import { devPkiWithResponder, type Responder } from '../helpers/devpki.js';

describe('eIDAS engine: dev PKI table (good and bad certificates)', function () {
  this.timeout(60_000);
  let pki: DevPki;
  let responder: Responder;
  let trust: TrustProfile;
  const fetcher = createHttpFetcher({ timeoutMs: 2000, allowPrivateNetworks: true });

  before(async () => {
    ({ pki, responder, trust } = await devPkiWithResponder());
  });
  after(() => responder?.close());

  function validate(pem: string, expect: ExpectedType): Promise<CertificateReport> {
    return validateCertificate(pem, {
      trust,
      revocation: 'hard-fail',
      at: pki.generatedAt,
      expect,
      fetcher,
      revocationCache: createRevocationCache({ maxEntries: 100 }),
    });
  }

  const errors = (r: CertificateReport) => [...new Set(r.findings.filter((f) => f.severity === 'error').map((f) => f.code))].sort();

  for (const slug of ['acme-payments', 'nordic-insights']) {
    for (const [kind, expect] of [['qwac', 'qwac'], ['qseal', 'qseal']] as const) {
      it(`passes partner ${slug} ${kind} with OCSP status good`, async () => {
        const partner = pki.partners.find((p) => p.slug === slug)!;
        const r = await validate(partner[kind].cert.toString('pem'), expect);
        assert.deepEqual(errors(r), [], JSON.stringify(r.findings, null, 2));
        assert.equal(r.verdict, 'pass');
        assert.equal(r.type, kind === 'qwac' ? 'QWAC' : 'QSealC');
        assert.deepEqual(r.psd2?.roles, partner.roles);
        assert.equal(r.psd2?.ncaId, partner.ncaId);
        assert.equal(r.organizationIdentifier?.raw, partner.organizationIdentifier);
        assert.equal(r.revocation.status, 'good');
        assert.equal(r.revocation.source, 'ocsp');
        assert.equal(r.chain.length, 2);
        assert.equal(r.chain.at(-1)?.anchor, true);
      });
    }
  }

  it('covers every defect the issue names', () => {
    const names = pki.bad.map((b) => b.name).sort();
    assert.equal(names.length, 14, names.join(', '));
  });

  /** The certificate followed by its issuing CA, as a partner uploads a chain file. */
  function withIssuer(cert: { toString(f: 'pem'): string }, issuer: keyof DevPki['cas']): string {
    return cert.toString('pem') + '\n' + pki.cas[issuer].cert.toString('pem');
  }

  // One row per bad certificate, generated from the PKI's own table so new rows are picked up.
  it('fails each bad certificate (sent with its issuing CA) with exactly its expected error codes', async () => {
    const problems: string[] = [];
    for (const bad of pki.bad) {
      const r = await validate(withIssuer(bad.cert, bad.issuer), bad.validateAs);
      const got = errors(r);
      const want = [...bad.expect].sort();
      if (r.verdict !== 'fail' || JSON.stringify(got) !== JSON.stringify(want)) {
        problems.push(`${bad.name}: want [${want}] got [${got}] (verdict ${r.verdict})`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('reports the rogue leaf sent alone as chain.incomplete, naming the issuer nobody supplied', async () => {
    const rogue = pki.bad.find((b) => b.name === 'rogue-ca')!;
    const r = await validate(rogue.cert.toString('pem'), 'qwac');
    assert.deepEqual(errors(r), ['chain.incomplete']);
    const f = r.findings.find((x) => x.code === 'chain.incomplete')!;
    assert.ok(f.message.includes(pki.cas['rogue-ca'].name), f.message);
  });

  it('sees a revocation made at the responder after issuance (OCSP)', async () => {
    const partner = pki.partners[1]!;
    responder.revoke(partner.qseal.cert.serialNumber, 'keyCompromise');
    const r = await validate(partner.qseal.cert.toString('pem'), 'qseal');
    assert.equal(r.verdict, 'fail');
    assert.deepEqual(errors(r), ['revoked']);
    assert.equal(r.revocation.status, 'revoked');
  });

  it('makes an unreachable responder an error under hard-fail and a warning under soft-fail', async () => {
    const partner = pki.partners[0]!;
    responder.setDown(true);
    try {
      const hard = await validate(partner.qwac.cert.toString('pem'), 'qwac');
      assert.deepEqual(errors(hard), ['revocation.unavailable']);
      const soft = await validateCertificate(partner.qwac.cert.toString('pem'), {
        trust,
        revocation: 'soft-fail',
        at: pki.generatedAt,
        expect: 'qwac',
        fetcher,
      });
      assert.equal(soft.verdict, 'pass');
      assert.deepEqual(
        soft.findings.filter((f) => f.code === 'revocation.unavailable').map((f) => f.severity),
        ['warning'],
      );
    } finally {
      responder.setDown(false);
    }
  });
});
