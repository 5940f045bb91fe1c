import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { QCStatements } from '@peculiar/asn1-x509-qualified';
import { QcType } from '@peculiar/asn1-x509-qualified-etsi';
import { DOMParser } from '@xmldom/xmldom';
import { type DevPki, generateDevPki } from '../../src/devpki/generate.js';
import { ensureDevPki } from '../../src/devpki/index.js';
import { loadDevPki, writeDevPki } from '../../src/devpki/store.js';
import { PSD2QcType } from '../../src/eidas/asn1/psd2.js';
import type { FindingCode } from '../../src/eidas/findings.js';
import * as oids from '../../src/eidas/oids.js';
import type { ExpectedType } from '../../src/eidas/types.js';
import { x509 } from '../../src/eidas/x509.js';

const ROLE_NAMES: Record<string, string> = {
  [oids.id_psd2_role_psp_as]: 'PSP_AS',
  [oids.id_psd2_role_psp_pi]: 'PSP_PI',
  [oids.id_psd2_role_psp_ai]: 'PSP_AI',
  [oids.id_psd2_role_psp_ic]: 'PSP_IC',
};
const KU = x509.KeyUsageFlags;

/**
 * A deliberately small linter over what x509 parsing shows, mapping each deviation from the QWAC/QSealC
 * profile the dev PKI issues to the finding code the engine must report. Used to prove that each bad
 * certificate has exactly its one defect and that the good ones have none.
 */
function defects(pki: DevPki, cert: x509.X509Certificate, validateAs: ExpectedType): FindingCode[] {
  const out = new Set<FindingCode>();
  const at = pki.generatedAt;
  if (cert.notAfter < at) out.add('expired');
  if (cert.notBefore > at) out.add('not-yet-valid');
  const issuer = Object.values(pki.cas).find((ca) => ca.cert.subject === cert.issuer);
  if (!issuer?.trustedListService) out.add('chain.untrusted');
  else if (pki.issued[issuer.slug].find((e) => e.serial === cert.serialNumber)?.status === 'revoked') out.add('revoked');
  if (cert.extensions.some((e) => e.type === oids.ct_precert_poison)) out.add('precertificate');
  const alg = cert.publicKey.algorithm as { name: string; modulusLength?: number };
  if (alg.name !== 'ECDSA' && (alg.modulusLength ?? 0) < 2048) out.add('key.weak');

  const orgId = cert.subjectName.getField('2.5.4.97')[0] ?? '';
  if (!/^PSD[A-Z]{2}-[A-Z]{2,8}-.+$/.test(orgId)) out.add('orgid.invalid');

  const qcExt = cert.extensions.find((e) => e.type === oids.id_pe_qcStatements);
  assert.ok(qcExt, 'every dev PKI leaf has qcStatements');
  assert.equal(qcExt.critical, false);
  let statements: QCStatements;
  try {
    statements = AsnConvert.parse(qcExt.value, QCStatements);
  } catch {
    out.add('qcstatements.malformed');
    return [...out].sort();
  }
  const info = (oid: string) => statements.find((s) => s.statementId === oid)?.statementInfo;
  if (!statements.some((s) => s.statementId === oids.id_etsi_qcs_QcCompliance)) out.add('qc.not-compliant');
  const typeInfo = info(oids.id_etsi_qcs_QcType);
  assert.ok(typeInfo);
  const types = [...AsnConvert.parse(typeInfo, QcType)];
  assert.equal(types.length, 1);
  const type: ExpectedType = types[0] === oids.id_etsi_qct_web ? 'qwac' : 'qseal';
  if (type !== validateAs) out.add('qc.type-mismatch');
  assert.ok(info(oids.id_etsi_qcs_QcPDS), 'QcPDS present');

  const psd2Info = info(oids.id_etsi_psd2_qcStatement);
  if (!psd2Info) out.add('psd2.missing');
  else {
    const psd2 = AsnConvert.parse(psd2Info, PSD2QcType);
    if (psd2.rolesOfPSP.length === 0) out.add('psd2.roles-empty');
    for (const r of psd2.rolesOfPSP) if (ROLE_NAMES[r.roleOfPspOid] !== r.roleOfPspName) out.add('psd2.role-name-mismatch');
    if (!/^[A-Z]{2}-[A-Z]{2,8}$/.test(psd2.nCAId)) out.add('psd2.nca-id-invalid');
    else if (!orgId.startsWith(`PSD${psd2.nCAId}-`)) {
      assert.ok(out.has('orgid.invalid'), `orgId ${orgId} must agree with NCAId ${psd2.nCAId}`);
    }
    assert.ok(/^[\x20-\x7e]+$/.test(psd2.nCAName));
  }

  // The type-specific profile must be intact (no extra defect hides here).
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  const eku = [...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])];
  const policies = [...(cert.getExtension(x509.CertificatePolicyExtension)?.policies ?? [])];
  assert.equal(ku?.critical, true);
  if (type === 'qwac') {
    assert.ok(ku && ku.usages & KU.digitalSignature);
    assert.deepEqual(eku, [oids.id_kp_serverAuth, oids.id_kp_clientAuth]);
    assert.ok(cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.some((n) => n.type === 'dns'));
    assert.ok(policies.includes(oids.qcp_web));
    assert.equal(policies.includes(oids.qcp_web_psd2), !!psd2Info, 'QCP-w-psd2 only with the PSD2 statement');
    assert.equal(statements.some((s) => s.statementId === oids.id_etsi_qcs_QcSSCD), false);
  } else {
    assert.ok(ku && ku.usages & KU.nonRepudiation);
    assert.deepEqual(eku, []);
    assert.deepEqual(policies, [oids.qcp_legal]);
  }
  assert.ok(cert.getExtension(x509.CRLDistributionPointsExtension));
  assert.ok(cert.getExtension(x509.AuthorityInfoAccessExtension));
  assert.ok(cert.getExtension(x509.SubjectKeyIdentifierExtension));
  assert.ok(cert.getExtension(x509.AuthorityKeyIdentifierExtension));
  return [...out].sort();
}

describe('devpki/generate', function () {
  this.timeout(30_000);
  const base = 'http://127.0.0.1:18089';
  let pki: DevPki;
  let dir: string;

  before(async () => {
    pki = await generateDevPki({ responderBaseUrl: `${base}/`, keyAlgorithm: 'EC-P256' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'devpki-'));
    await writeDevPki(pki, dir);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('builds the CA hierarchy: root → QWAC CA, QSealC CA; a separate self-signed rogue CA', async () => {
    const { root, 'qwac-ca': qwacCa, 'qseal-ca': qsealCa, 'rogue-ca': rogue } = pki.cas;
    assert.ok(await root.cert.isSelfSigned());
    assert.ok(await rogue.cert.isSelfSigned());
    for (const ca of [qwacCa, qsealCa]) {
      assert.equal(ca.cert.issuer, root.cert.subject);
      assert.ok(await ca.cert.verify({ publicKey: root.cert.publicKey, signatureOnly: true }));
      assert.equal(ca.cert.getExtension(x509.BasicConstraintsExtension)?.pathLength, 0);
      assert.equal(
        ca.cert.getExtension(x509.CRLDistributionPointsExtension)?.distributionPoints[0]?.distributionPoint?.fullName?.[0]
          ?.uniformResourceIdentifier,
        `${base}/crl/root.crl`,
      );
    }
    assert.equal(pki.responderBaseUrl, base, 'trailing slash removed');
  });

  it('issues the server certificate for localhost, 127.0.0.1 and ::1', async () => {
    const san = pki.server.cert.getExtension(x509.SubjectAlternativeNameExtension);
    assert.deepEqual(
      san?.names.items.map((n) => `${n.type}:${n.value}`),
      ['dns:localhost', 'ip:127.0.0.1', 'ip:::1'],
    );
    assert.deepEqual([...(pki.server.cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [oids.id_kp_serverAuth]);
    assert.ok(await pki.server.cert.verify({ publicKey: pki.cas['qwac-ca'].cert.publicKey, signatureOnly: true }));
  });

  it('issues two partners with a QWAC and a QSealC each, PSD2 data as declared, and no defect', async () => {
    assert.deepEqual(
      pki.partners.map((p) => [p.slug, p.ncaId, p.organizationIdentifier, p.roles.join('+')]),
      [
        ['acme-payments', 'DE-BAFIN', 'PSDDE-BAFIN-152645', 'PSP_AI+PSP_PI'],
        ['nordic-insights', 'SE-FINA', 'PSDSE-FINA-44059', 'PSP_AI'],
      ],
    );
    for (const p of pki.partners) {
      assert.deepEqual(defects(pki, p.qwac.cert, 'qwac'), [], `${p.slug} qwac`);
      assert.deepEqual(defects(pki, p.qseal.cert, 'qseal'), [], `${p.slug} qseal`);
      assert.ok(await p.qwac.cert.verify({ publicKey: pki.cas['qwac-ca'].cert.publicKey, signatureOnly: true }));
      assert.ok(await p.qseal.cert.verify({ publicKey: pki.cas['qseal-ca'].cert.publicKey, signatureOnly: true }));
      const aia = p.qwac.cert.getExtension(x509.AuthorityInfoAccessExtension);
      assert.equal(aia?.ocsp[0]?.value, `${base}/ocsp/qwac-ca`);
      assert.equal(aia?.caIssuers[0]?.value, `${base}/ca/qwac-ca.cer`);
      assert.equal(p.qwac.cert.subjectName.getField('2.5.4.97')[0], p.organizationIdentifier);
    }
  });

  it('has the fourteen bad certificates, each with exactly its one defect', async () => {
    assert.deepEqual(pki.bad.map((b) => b.name), [
      'expired',
      'not-yet-valid',
      'revoked',
      'eseal-as-qwac',
      'no-qc-compliance',
      'no-psd2-statement',
      'role-name-mismatch',
      'roles-empty',
      'bad-nca-id',
      'bad-organization-identifier',
      'rogue-ca',
      'rsa-1024',
      'precertificate',
      'bare-qcstatements',
    ]);
    for (const b of pki.bad) {
      // One construction defect each; the bare encoding also makes QcCompliance/QcType absent, which the
      // engine reports as consequences after the defect itself.
      if (b.name !== 'bare-qcstatements') assert.equal(b.expect.length, 1, b.name);
      assert.deepEqual(defects(pki, b.cert, b.validateAs), b.expect.slice(0, 1), b.name);
      const issuer = pki.cas[b.issuer];
      assert.ok(await b.cert.verify({ publicKey: issuer.cert.publicKey, signatureOnly: true }), `${b.name} signature`);
    }
    const rsa = pki.bad.find((b) => b.name === 'rsa-1024')!;
    assert.equal((rsa.cert.publicKey.algorithm as { modulusLength?: number }).modulusLength, 1024);
  });

  it('records issued serials per CA and lists the revoked one in the QWAC CA CRL', async () => {
    const revoked = pki.bad.find((b) => b.name === 'revoked')!;
    assert.equal(pki.issued.root.length, 2);
    assert.equal(pki.issued['rogue-ca'].length, 1);
    assert.equal(pki.issued['qseal-ca'].length, 3);
    assert.equal(pki.issued['qwac-ca'].length, 1 + 2 + 12);
    const entry = pki.issued['qwac-ca'].find((e) => e.serial === revoked.cert.serialNumber);
    assert.equal(entry?.status, 'revoked');
    assert.equal(entry?.reason, 'keyCompromise');

    for (const [slug, der] of Object.entries(pki.crls)) {
      const crl = new x509.X509Crl(der);
      const ca = pki.cas[slug as keyof DevPki['cas']];
      assert.equal(crl.issuer, ca.cert.subject);
      assert.ok(await crl.verify({ publicKey: ca.cert.publicKey }), `${slug} CRL signature`);
      assert.ok(crl.nextUpdate && crl.nextUpdate > pki.generatedAt);
      const serials = crl.entries.map((e) => e.serialNumber);
      assert.deepEqual(serials, slug === 'qwac-ca' ? [revoked.cert.serialNumber] : [], slug);
    }
    const crlEntry = new x509.X509Crl(pki.crls['qwac-ca']).entries[0]!;
    assert.equal(crlEntry.reason, x509.X509CrlReason.keyCompromise);
    assert.equal(crlEntry.revocationDate.getTime(), Math.floor(entry!.revokedAt!.getTime() / 1000) * 1000);
  });

  it('writes an ETSI TS 119 612 shaped trusted list naming the two issuing CAs, granted', () => {
    const doc = new DOMParser().parseFromString(pki.trustedListXml, 'text/xml');
    const ns = 'http://uri.etsi.org/02231/v2#';
    const text = (name: string) => doc.getElementsByTagNameNS(ns, name)[0]?.textContent;
    assert.equal(doc.documentElement?.namespaceURI, ns);
    assert.equal(doc.documentElement?.localName, 'TrustServiceStatusList');
    assert.equal(text('TSLVersionIdentifier'), '5');
    assert.equal(text('TSLType'), 'http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric');
    assert.equal(text('SchemeTerritory'), 'ZZ');
    const services = Array.from(doc.getElementsByTagNameNS(ns, 'ServiceInformation'));
    assert.equal(services.length, 2);
    const got = services.map((s) => {
      const field = (name: string) => s.getElementsByTagNameNS(ns, name)[0]?.textContent?.trim();
      return {
        type: field('ServiceTypeIdentifier'),
        status: field('ServiceStatus'),
        cert: field('X509Certificate'),
        asi: field('URI'),
        lang: s.getElementsByTagNameNS(ns, 'Name')[0]?.getAttributeNS('http://www.w3.org/XML/1998/namespace', 'lang'),
      };
    });
    const b64 = (c: x509.X509Certificate) => Buffer.from(c.rawData).toString('base64');
    assert.deepEqual(got, [
      {
        type: 'http://uri.etsi.org/TrstSvc/Svctype/CA/QC',
        status: 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted',
        cert: b64(pki.cas['qwac-ca'].cert),
        asi: 'http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForWebSiteAuthentication',
        lang: 'en',
      },
      {
        type: 'http://uri.etsi.org/TrstSvc/Svctype/CA/QC',
        status: 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted',
        cert: b64(pki.cas['qseal-ca'].cert),
        asi: 'http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSeals',
        lang: 'en',
      },
    ]);
    assert.ok(!pki.trustedListXml.includes(b64(pki.cas['rogue-ca'].cert)));
  });

  it('writes the documented layout with private keys readable by the owner only', async () => {
    const files = (await readdir(dir, { recursive: true })).map((f) => f.split(path.sep).join('/')).sort();
    for (const f of [
      'ca/root.pem',
      'ca/root.key',
      'ca/qwac-ca.pem',
      'ca/qseal-ca.key',
      'ca/rogue-ca.pem',
      'server/server.pem',
      'server/server.key',
      'server/chain.pem',
      'partners/acme-payments/qwac.pem',
      'partners/acme-payments/qwac.key',
      'partners/acme-payments/qwac-chain.pem',
      'partners/nordic-insights/qseal.pem',
      'partners/nordic-insights/qseal.key',
      'bad/rsa-1024.pem',
      'bad/rsa-1024.key',
      'crl/qwac-ca.crl',
      'trusted-list.xml',
      'pki.json',
    ]) {
      assert.ok(files.includes(f), f);
    }
    for (const f of files.filter((x) => x.endsWith('.key'))) {
      assert.equal((await stat(path.join(dir, f))).mode & 0o777, 0o600, f);
      assert.match(await readFile(path.join(dir, f), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    }
    const chain = x509.PemConverter.decode(await readFile(path.join(dir, 'partners/acme-payments/qwac-chain.pem'), 'utf8'));
    assert.equal(chain.length, 2);
    assert.equal(new x509.X509Certificate(chain[1]!).subject, pki.cas['qwac-ca'].cert.subject);

    const manifest = JSON.parse(await readFile(path.join(dir, 'pki.json'), 'utf8'));
    assert.equal(manifest.responderBaseUrl, base);
    assert.equal(manifest.cas.length, 4);
    assert.deepEqual(
      manifest.bad.map((b: { name: string; cert: string; expect: string[] }) => [b.name, b.cert, b.expect]),
      pki.bad.map((b) => [b.name, `bad/${b.name}.pem`, b.expect]),
    );
    const revoked = manifest.issued['qwac-ca'].find((e: { status: string }) => e.status === 'revoked');
    assert.equal(revoked.reason, 'keyCompromise');
    assert.match(revoked.revokedAt, /^\d{4}-\d\d-\d\dT/);
  });

  it('loads back what it wrote, with working keys', async () => {
    const loaded = await loadDevPki(dir);
    assert.equal(loaded.generatedAt.getTime(), pki.generatedAt.getTime());
    assert.equal(loaded.cas['qwac-ca'].cert.serialNumber, pki.cas['qwac-ca'].cert.serialNumber);
    assert.deepEqual(loaded.bad.map((b) => b.expect), pki.bad.map((b) => b.expect));
    assert.deepEqual(loaded.issued, pki.issued);
    assert.equal(loaded.trustedListXml, pki.trustedListXml);
    for (const kp of [loaded.cas.root, loaded.partners[0]!.qwac, loaded.bad.find((b) => b.name === 'rsa-1024')!]) {
      const alg =
        kp.keys.privateKey.algorithm.name === 'ECDSA'
          ? { name: 'ECDSA', hash: 'SHA-256' }
          : { name: 'RSASSA-PKCS1-v1_5' };
      const data = new TextEncoder().encode('proof of possession');
      const sig = await webcrypto.subtle.sign(alg, kp.keys.privateKey, data);
      assert.ok(await webcrypto.subtle.verify(alg, kp.keys.publicKey, sig, data));
    }
  });

  it('rejects a manifest that points outside its directory', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'devpki-bad-'));
    try {
      await writeDevPki(pki, other);
      const file = path.join(other, 'pki.json');
      const manifest = JSON.parse(await readFile(file, 'utf8'));
      manifest.cas[0].cert = '../../etc/passwd';
      const { writeFile } = await import('node:fs/promises');
      await writeFile(file, JSON.stringify(manifest));
      await assert.rejects(loadDevPki(other), /invalid .*pki\.json/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('ensureDevPki generates only when pki.json is missing', async () => {
    const target = path.join(await mkdtemp(path.join(os.tmpdir(), 'devpki-ensure-')), 'dev');
    try {
      const first = await ensureDevPki(target, { responderBaseUrl: base, keyAlgorithm: 'EC-P256' });
      assert.equal(first.generated, true);
      assert.ok(existsSync(path.join(target, 'pki.json')));
      const before = await readFile(path.join(target, 'ca/root.pem'), 'utf8');
      const second = await ensureDevPki(target, { responderBaseUrl: base, keyAlgorithm: 'EC-P256' });
      assert.equal(second.generated, false);
      assert.equal(await readFile(path.join(target, 'ca/root.pem'), 'utf8'), before);
    } finally {
      await rm(path.dirname(target), { recursive: true, force: true });
    }
  });
});
