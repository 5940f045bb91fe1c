import assert from 'node:assert/strict';
import { AsnConvert } from '@peculiar/asn1-schema';
import { QCStatement, QCStatements, SemanticsInformation } from '@peculiar/asn1-x509-qualified';
import { QcEuPDS, QcEuRetentionPeriod, QcType } from '@peculiar/asn1-x509-qualified-etsi';
import { type CryptoKeyPair, encodeQcStatements, generateKeys, issueCertificate } from '../../src/devpki/builder.js';
import { PSD2QcType } from '../../src/eidas/asn1/psd2.js';
import * as oids from '../../src/eidas/oids.js';
import { x509 } from '../../src/eidas/x509.js';

const now = new Date('2025-06-01T00:00:00Z');
const day = 86_400_000;

describe('devpki/builder', () => {
  let caKeys: CryptoKeyPair;
  let ca: x509.X509Certificate;

  before(async () => {
    caKeys = await generateKeys('EC-P256');
    ({ cert: ca } = await issueCertificate({
      subject: 'CN=Builder Test CA, O=Test, C=ZZ',
      keys: caKeys,
      notBefore: new Date(now.getTime() - day),
      notAfter: new Date(now.getTime() + 365 * day),
      ca: { pathLength: 0 },
    }));
  });

  it('encodes a SEQUENCE OF QCStatement that decodes back to the same statements', () => {
    const der = encodeQcStatements({
      compliance: true,
      types: [oids.id_etsi_qct_web],
      sscd: true,
      pds: [{ url: 'https://pds.example.test/en', language: 'en' }],
      retentionPeriod: 7,
      semanticsId: oids.id_etsi_qcs_semanticsId_Legal,
      psd2: {
        roles: [
          { oid: oids.id_psd2_role_psp_ai, name: 'PSP_AI' },
          { oid: oids.id_psd2_role_psp_pi, name: 'PSP_PI' },
        ],
        ncaName: 'Federal Financial Supervisory Authority',
        ncaId: 'DE-BAFIN',
      },
      extraStatements: [{ oid: '1.2.3.4' }],
    });
    const list = AsnConvert.parse(der, QCStatements);
    assert.deepEqual(
      [...list].map((s) => s.statementId),
      [
        oids.id_etsi_qcs_QcCompliance,
        oids.id_etsi_qcs_QcType,
        oids.id_etsi_qcs_QcSSCD,
        oids.id_etsi_qcs_QcPDS,
        oids.id_etsi_qcs_QcRetentionPeriod,
        oids.id_qcs_pkixQCSyntax_v2,
        oids.id_etsi_psd2_qcStatement,
        '1.2.3.4',
      ],
    );
    const info = (oid: string) => {
      const s = list.find((x) => x.statementId === oid);
      assert.ok(s);
      return s.statementInfo;
    };
    assert.equal(info(oids.id_etsi_qcs_QcCompliance).byteLength, 0);
    assert.deepEqual([...AsnConvert.parse(info(oids.id_etsi_qcs_QcType), QcType)], [oids.id_etsi_qct_web]);
    const pds = AsnConvert.parse(info(oids.id_etsi_qcs_QcPDS), QcEuPDS);
    assert.equal(pds[0]?.url, 'https://pds.example.test/en');
    assert.equal(pds[0]?.language, 'en');
    assert.equal(AsnConvert.parse(info(oids.id_etsi_qcs_QcRetentionPeriod), QcEuRetentionPeriod).value, 7);
    assert.equal(
      AsnConvert.parse(info(oids.id_qcs_pkixQCSyntax_v2), SemanticsInformation).semanticsIdentifier,
      oids.id_etsi_qcs_semanticsId_Legal,
    );
    const psd2 = AsnConvert.parse(info(oids.id_etsi_psd2_qcStatement), PSD2QcType);
    assert.deepEqual(
      [...psd2.rolesOfPSP].map((r) => [r.roleOfPspOid, r.roleOfPspName]),
      [
        [oids.id_psd2_role_psp_ai, 'PSP_AI'],
        [oids.id_psd2_role_psp_pi, 'PSP_PI'],
      ],
    );
    assert.equal(psd2.nCAName, 'Federal Financial Supervisory Authority');
    assert.equal(psd2.nCAId, 'DE-BAFIN');
    // TS 119 495 §5.1: the PSD2 strings are UTF8String (tag 0x0c).
    const raw = new Uint8Array(info(oids.id_etsi_psd2_qcStatement));
    assert.ok(Buffer.from(raw).includes(Buffer.from([0x0c, 8, ...Buffer.from('DE-BAFIN')])));
  });

  it('encodes the bare form as a single QCStatement that is not a SEQUENCE OF', () => {
    const der = encodeQcStatements({
      compliance: true,
      psd2: { roles: [{ oid: oids.id_psd2_role_psp_ai, name: 'PSP_AI' }], ncaName: 'X', ncaId: 'DE-BAFIN' },
      encoding: 'bare',
    });
    const single = AsnConvert.parse(der, QCStatement);
    assert.equal(single.statementId, oids.id_etsi_psd2_qcStatement);
    assert.throws(() => AsnConvert.parse(der, QCStatements));
  });

  it('issues a leaf with the requested extensions, SKI and AKI, verifying against its issuer', async () => {
    const { cert } = await issueCertificate({
      subject: 'CN=api.acme.test, O=Acme Ltd, 2.5.4.97=PSDDE-BAFIN-123456, C=DE',
      issuer: { cert: ca, keys: caKeys },
      keyAlgorithm: 'EC-P256',
      serialNumber: '0a1b2c',
      notBefore: now,
      notAfter: new Date(now.getTime() + 30 * day),
      keyUsage: x509.KeyUsageFlags.digitalSignature,
      eku: [oids.id_kp_serverAuth, oids.id_kp_clientAuth],
      san: { dns: ['api.acme.test'], ip: ['127.0.0.1'] },
      policies: [oids.qcp_web, oids.qcp_web_psd2],
      qc: { compliance: true, types: [oids.id_etsi_qct_web] },
      crlUrl: 'http://127.0.0.1:1/crl/qwac-ca.crl',
      ocspUrl: 'http://127.0.0.1:1/ocsp/qwac-ca',
      caIssuersUrl: 'http://127.0.0.1:1/ca/qwac-ca.cer',
      precertPoison: true,
    });
    assert.equal(cert.serialNumber, '0a1b2c');
    assert.equal(cert.issuer, ca.subject);
    assert.ok(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }));
    assert.ok(cert.subject.includes('2.5.4.97=PSDDE-BAFIN-123456'));
    const ski = ca.getExtension(x509.SubjectKeyIdentifierExtension);
    const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
    assert.ok(ski && aki);
    assert.equal(aki.keyId, ski.keyId);
    assert.ok(cert.getExtension(x509.SubjectKeyIdentifierExtension));
    assert.equal(cert.getExtension(x509.KeyUsagesExtension)?.critical, true);
    assert.deepEqual([...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [
      oids.id_kp_serverAuth,
      oids.id_kp_clientAuth,
    ]);
    assert.deepEqual(
      [...(cert.getExtension(x509.CertificatePolicyExtension)?.policies ?? [])],
      [oids.qcp_web, oids.qcp_web_psd2],
    );
    const qc = cert.extensions.find((e) => e.type === oids.id_pe_qcStatements);
    assert.equal(qc?.critical, false);
    const poison = cert.extensions.find((e) => e.type === oids.ct_precert_poison);
    assert.equal(poison?.critical, true);
    const aia = cert.getExtension(x509.AuthorityInfoAccessExtension);
    assert.equal(aia?.ocsp[0]?.value, 'http://127.0.0.1:1/ocsp/qwac-ca');
    assert.equal(aia?.caIssuers[0]?.value, 'http://127.0.0.1:1/ca/qwac-ca.cer');
    const cdp = cert.getExtension(x509.CRLDistributionPointsExtension);
    assert.equal(cdp?.distributionPoints[0]?.distributionPoint?.fullName?.[0]?.uniformResourceIdentifier,
      'http://127.0.0.1:1/crl/qwac-ca.crl');
  });

  it('marks CA certificates with critical basicConstraints and keyCertSign/cRLSign', () => {
    const bc = ca.getExtension(x509.BasicConstraintsExtension);
    assert.equal(bc?.ca, true);
    assert.equal(bc?.critical, true);
    assert.equal(bc?.pathLength, 0);
    assert.equal(
      ca.getExtension(x509.KeyUsagesExtension)?.usages,
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    );
  });

  it('signs with SHA-1 on request and honours the critical flag for qcStatements', async () => {
    const rsaKeys = await generateKeys('RSA-1024');
    const { cert: rsaCa } = await issueCertificate({
      subject: 'CN=RSA CA', keys: rsaKeys, notBefore: now, notAfter: new Date(now.getTime() + day), ca: {},
    });
    const { cert } = await issueCertificate({
      subject: 'CN=sha1 leaf',
      issuer: { cert: rsaCa, keys: rsaKeys },
      keyAlgorithm: 'EC-P256',
      signingHash: 'SHA-1',
      notBefore: now,
      notAfter: new Date(now.getTime() + day),
      qc: { compliance: true, critical: true },
    });
    assert.equal(cert.signatureAlgorithm.hash.name, 'SHA-1');
    assert.ok(await cert.verify({ publicKey: rsaCa.publicKey, signatureOnly: true }));
    assert.equal(cert.extensions.find((e) => e.type === oids.id_pe_qcStatements)?.critical, true);
  });
});
