import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  loadTrustProfile,
  parseLotl,
  parseTrustedList,
  TrustedListError,
  type TrustProfileSpec,
} from '../../../src/eidas/trust/index.js';
import { x509 } from '../../../src/eidas/x509.js';
import { buildList, makeSigner, type Signer, signList } from './tl-builder.js';

const TL_DIR = process.env.TRUSTED_LISTS_DIR ?? '../shared/fixtures/trusted-lists';
const AT = new Date('2020-03-01T00:00:00Z');
const AT_2019 = new Date('2019-09-15T00:00:00Z');

async function rejectsCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof TrustedListError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

const pem = (s: Signer) => x509.PemConverter.encode(s.der, 'CERTIFICATE');

describe('eidas/trust: loadTrustProfile', () => {
  let dir: string;
  let lotlSigner: Signer;
  let tlSigner: Signer;
  let rogue: Signer;
  let webCa: Signer;
  let sealCa: Signer;
  let oldCa: Signer;
  let pemCa: Signer;
  const file = (name: string, content: string | Uint8Array) => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  let files: Record<string, string>;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'trust-profile-'));
    const s = await Promise.all(
      ['LOTL signer', 'ZZ signer', 'Rogue signer', 'Web CA', 'Seal CA', 'Old CA', 'PEM CA'].map(makeSigner),
    );
    [lotlSigner, tlSigner, rogue, webCa, sealCa, oldCa, pemCa] = s as [Signer, Signer, Signer, Signer, Signer, Signer, Signer];
    const list = buildList({
      territory: 'ZZ',
      issued: '2020-01-01T00:00:00Z',
      nextUpdate: '2020-07-01T00:00:00Z',
      services: [
        { name: 'Web', status: 'granted', start: '2019-01-01T00:00:00Z', qualifiers: ['web'], certs: [webCa.der] },
        // The same CA certificate under a second granted service: qualifiers are merged.
        { name: 'Web (seals)', status: 'granted', start: '2019-01-01T00:00:00Z', qualifiers: ['eseal'], certs: [webCa.der] },
        { name: 'Seal', status: 'granted', start: '2019-01-01T00:00:00Z', qualifiers: ['eseal'], certs: [sealCa.der] },
        {
          name: 'Old',
          status: 'withdrawn',
          start: '2019-06-01T00:00:00Z',
          certs: [oldCa.der],
          history: [{ status: 'granted', start: '2016-07-01T00:00:00Z', qualifiers: ['web'] }],
        },
      ],
    });
    const lotl = buildList({
      territory: 'EU',
      lotl: true,
      issued: '2020-01-01T00:00:00Z',
      nextUpdate: '2020-07-01T00:00:00Z',
      pointers: [
        { territory: 'EU', signers: [lotlSigner.der] },
        { territory: 'ZZ', signers: [tlSigner.der] },
      ],
    });
    files = {
      list: file('zz.xml', await signList(list, tlSigner)),
      rogueList: file('zz-rogue.xml', await signList(list, rogue)),
      unsigned: file('zz-unsigned.xml', list),
      lotl: file('lotl.xml', await signList(lotl, lotlSigner)),
      lotlSigners: file('lotl-signers.pem', pem(lotlSigner)),
      pemCa: file('pem-ca.pem', pem(pemCa)),
    };
    mkdirSync(path.join(dir, 'anchors'));
    writeFileSync(path.join(dir, 'anchors', 'a.pem'), `${pem(pemCa)}\n${pem(webCa)}`);
    writeFileSync(path.join(dir, 'anchors', 'b.crt'), sealCa.der); // DER
    writeFileSync(path.join(dir, 'anchors', 'notes.txt'), 'not a certificate');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const spec = (s: Partial<TrustProfileSpec>): TrustProfileSpec => ({ name: 'test', trustedLists: [], pemFiles: [], ...s });

  it('production: signed list checked against a LOTL with pinned signers; withdrawn services left out', async () => {
    const p = await loadTrustProfile(
      spec({ name: 'production', trustedLists: [files.list!], lotl: files.lotl!, lotlSigners: [files.lotlSigners!], requireSignedLists: true }),
      { at: AT },
    );
    assert.equal(p.name, 'production');
    assert.deepEqual(p.sources, [`lotl:${files.lotl}`, `tl:${files.list}`]);
    assert.deepEqual(
      p.anchors.map((a) => [a.subject, a.source, a.status, a.qualifiers]),
      [
        ['CN=Web CA, C=ZZ', 'tl:ZZ:Web', 'granted', { web: true, eseal: true, esign: false }],
        ['CN=Seal CA, C=ZZ', 'tl:ZZ:Seal', 'granted', { web: false, eseal: true, esign: false }],
      ],
    );
    assert.ok(p.warnings?.some((w) => /1 CA\/QC service certificate\(s\) not granted/.test(w)));
  });

  it('the status is judged at `at`: before the withdrawal the old CA is an anchor', async () => {
    const p = await loadTrustProfile(spec({ trustedLists: [files.list!], requireSignedLists: false }), {
      at: new Date('2019-03-01T00:00:00Z'),
    });
    assert.ok(p.anchors.some((a) => a.subject === 'CN=Old CA, C=ZZ' && a.qualifiers?.web));
  });

  it('refuses a list signed by a key the LOTL does not announce', async () => {
    await rejectsCode(
      loadTrustProfile(spec({ trustedLists: [files.rogueList!], lotl: files.lotl!, lotlSigners: [files.lotlSigners!] }), { at: AT }),
      'tl.signer-not-announced',
      /Rogue signer/,
    );
  });

  it('refuses a LOTL not signed by the pinned signers', async () => {
    await rejectsCode(
      loadTrustProfile(spec({ trustedLists: [files.list!], lotl: files.lotl!, lotlSigners: [files.pemCa!] }), { at: AT }),
      'tl.signer-not-announced',
    );
  });

  it('without pinned signers the LOTL is checked against its own EU pointer, with a warning', async () => {
    const p = await loadTrustProfile(spec({ trustedLists: [files.list!], lotl: files.lotl! }), { at: AT });
    assert.equal(p.anchors.length, 2);
    assert.ok(p.warnings?.some((w) => /own EU pointer/.test(w)));
  });

  it('requireSignedLists (the default) refuses an unsigned list; false accepts it with a warning', async () => {
    await rejectsCode(loadTrustProfile(spec({ trustedLists: [files.unsigned!] }), { at: AT }), 'tl.signature-invalid', /not signed/);
    const p = await loadTrustProfile(spec({ trustedLists: [files.unsigned!], requireSignedLists: false }), { at: AT });
    assert.equal(p.anchors.length, 2);
    assert.ok(p.warnings?.some((w) => /signature not checked/.test(w)));
  });

  it('a signed list without a LOTL: the signature must hold, the signer is unchecked (warning)', async () => {
    const p = await loadTrustProfile(spec({ trustedLists: [files.rogueList!] }), { at: AT });
    assert.equal(p.anchors.length, 2);
    assert.ok(p.warnings?.some((w) => /not checked against a LOTL/.test(w)));
  });

  it('stale lists: tl.expired when signatures are required, a warning otherwise or when allowed', async () => {
    const late = new Date('2020-08-01T00:00:00Z');
    await rejectsCode(loadTrustProfile(spec({ trustedLists: [files.list!] }), { at: late }), 'tl.expired');
    const a = await loadTrustProfile(spec({ trustedLists: [files.list!], allowExpiredLists: true }), { at: late });
    assert.ok(a.warnings?.some((w) => /NextUpdate/.test(w)));
    const b = await loadTrustProfile(spec({ trustedLists: [files.unsigned!], requireSignedLists: false }), { at: late });
    assert.ok(b.warnings?.some((w) => /NextUpdate/.test(w)));
  });

  it('PEM files and directories: PEM anchors have no qualifiers; duplicates of TL anchors are dropped', async () => {
    const p = await loadTrustProfile(
      spec({ name: 'sandbox', trustedLists: [files.unsigned!], pemFiles: [files.pemCa!, path.join(dir, 'anchors')], requireSignedLists: false }),
      { at: AT },
    );
    assert.deepEqual(
      p.anchors.map((a) => [a.subject, a.source, a.status, a.qualifiers]),
      [
        ['CN=Web CA, C=ZZ', 'tl:ZZ:Web', 'granted', { web: true, eseal: true, esign: false }],
        ['CN=Seal CA, C=ZZ', 'tl:ZZ:Seal', 'granted', { web: false, eseal: true, esign: false }],
        ['CN=PEM CA, C=ZZ', `pem:${files.pemCa}`, null, null],
      ],
    );
    assert.deepEqual(p.sources, [
      `tl:${files.unsigned}`,
      `pem:${files.pemCa}`,
      `pem:${path.join(dir, 'anchors', 'a.pem')}`,
      `pem:${path.join(dir, 'anchors', 'b.crt')}`,
    ]);
  });

  it('configuration errors are typed', async () => {
    await rejectsCode(loadTrustProfile(spec({ pemFiles: [path.join(dir, 'missing.pem')] })), 'tl.unreadable');
    await rejectsCode(loadTrustProfile(spec({ trustedLists: [path.join(dir, 'missing.xml')] })), 'tl.unreadable');
    await rejectsCode(loadTrustProfile(spec({ pemFiles: [file('junk.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')] })), 'tl.malformed');
    await rejectsCode(loadTrustProfile(spec({ pemFiles: [file('empty.pem', 'nothing here')] })), 'tl.malformed');
    await rejectsCode(
      loadTrustProfile(spec({ trustedLists: [files.lotl!], requireSignedLists: false }), { at: AT }),
      'tl.config',
      /LOTL/,
    );
    await rejectsCode(loadTrustProfile(spec({ lotlSigners: [files.lotlSigners!] })), 'tl.config');
  });

  it('a private key in an anchor file is ignored with a warning', async () => {
    const withKey = file('with-key.pem', `${pem(pemCa)}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`);
    const p = await loadTrustProfile(spec({ pemFiles: [withKey] }));
    assert.equal(p.anchors.length, 1);
    assert.ok(p.warnings?.some((w) => /PRIVATE KEY block is ignored/.test(w)));
  });

  it('an empty profile loads with a warning', async () => {
    const p = await loadTrustProfile(spec({}));
    assert.deepEqual(p.anchors, []);
    assert.ok(p.warnings?.some((w) => /no anchors/.test(w)));
  });
});

describe('eidas/trust: loadTrustProfile (real EU lists)', () => {
  const real = (name: string) => path.join(TL_DIR, name);
  before(function () {
    if (!existsSync(real('eu-lotl-sn248.xml'))) this.skip();
  });

  it('CZ + LU against LOTL 248 at 2019-09-15: the granted CA/QC anchors of both lists', async () => {
    const p = await loadTrustProfile(
      { name: 'production', trustedLists: [real('tl-cz-sn77.xml'), real('tl-lu-sn37.xml')], pemFiles: [], lotl: real('eu-lotl-sn248.xml') },
      { at: AT_2019 },
    );
    const expected = new Set(
      ['tl-cz-sn77.xml', 'tl-lu-sn37.xml'].flatMap((f) =>
        parseTrustedList(readFileSync(real(f)), { at: AT_2019 })
          .anchors.filter((a) => a.status === 'granted')
          .map((a) => a.sha256),
      ),
    );
    assert.equal(p.anchors.length, expected.size);
    assert.ok(p.anchors.every((a) => a.status === 'granted' && expected.has(a.sha256)));
    assert.ok(p.anchors.some((a) => a.source.startsWith('tl:CZ:(104) I.CA') && a.qualifiers?.web));
    assert.equal(p.anchors.find((a) => a.source === 'tl:LU:LuxTrust SSL Certification Authority 5')?.qualifiers?.web, true);
  });

  it('FI 2024 with LOTL 248: tl.signer-not-announced', async () => {
    await rejectsCode(
      loadTrustProfile(
        { name: 'p', trustedLists: [real('tl-fi-sn49-2024.xml')], pemFiles: [], lotl: real('eu-lotl-sn248.xml'), allowExpiredLists: true },
        { at: new Date('2024-12-01T00:00:00Z') },
      ),
      'tl.signer-not-announced',
    );
  });

  it('LOTL 248 is expired at 2024-12-01 unless allowed', async () => {
    await rejectsCode(
      loadTrustProfile({ name: 'p', trustedLists: [], pemFiles: [], lotl: real('eu-lotl-sn248.xml') }, { at: new Date('2024-12-01T00:00:00Z') }),
      'tl.expired',
    );
  });

  it('the damaged LOTLs are refused: broken signature and not parsable', async () => {
    await rejectsCode(
      loadTrustProfile({ name: 'p', trustedLists: [], pemFiles: [], lotl: real('bad-eu-lotl-sn248-broken-sig.xml') }, { at: AT_2019 }),
      'tl.signature-invalid',
    );
    await rejectsCode(
      loadTrustProfile({ name: 'p', trustedLists: [], pemFiles: [], lotl: real('bad-eu-lotl-sn248-not-parsable.xml') }, { at: AT_2019 }),
      'tl.malformed',
    );
  });

  it('the LOTL pins the EU signer set it announces for itself', () => {
    const lotl = parseLotl(readFileSync(real('eu-lotl-sn248.xml')), { at: AT_2019 });
    assert.equal(lotl.pointers.find((p) => p.territory === 'EU')?.signers.length, 8);
  });
});
