/**
 * The monitor's decisions as tables: which expiry notice is due, what a register entry's change means, and how
 * a certificate report is read (revoked, expired, unknown status, other failure).
 */
import assert from 'node:assert/strict';
import { classifyReport, dueThreshold, registerChanges } from '../../src/monitor/checks.js';
import type { CertificateReport, Finding } from '../../src/eidas/types.js';
import type { RegisterEntry } from '../../src/register/service.js';

function entry(over: Partial<RegisterEntry> = {}): RegisterEntry {
  return {
    entityCode: 'DE_BAFIN!152645',
    caOwnerId: 'DE_BAFIN',
    ncaId: 'DE-BAFIN',
    nationalRef: '152645',
    entityType: 'PSD_PI',
    names: ['Acme Payments GmbH', 'Acme Pay'],
    country: 'DE',
    authorisation: { status: 'authorised', since: '2019-03-01', withdrawnOn: null, dates: ['2019-03-01'] },
    services: { DE: ['PS_03C', 'PS_070', 'PS_080'], AT: ['PS_070', 'PS_080'] },
    parent: null,
    ...over,
  };
}

const withdrawn = { status: 'withdrawn' as const, since: null, withdrawnOn: '2026-11-30', dates: ['2019-03-01', '2026-11-30'] };

function report(findings: Partial<Finding>[], over: Partial<CertificateReport> = {}): CertificateReport {
  return {
    verdict: findings.some((f) => f.severity === 'error') ? 'fail' : 'pass',
    type: 'QWAC',
    subject: 'CN=x',
    issuer: 'CN=ca',
    serialNumber: '01',
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: '2027-01-01T00:00:00.000Z',
    sha256: 'ab',
    organizationIdentifier: null,
    psd2: null,
    qc: null,
    chain: [],
    revocation: { status: 'good', source: 'ocsp', checkedAt: '2026-06-01T00:00:00.000Z' },
    validatedAt: '2026-06-01T00:00:00.000Z',
    trustProfile: 'sandbox',
    findings: findings.map((f) => ({ message: 'm', requirement: 'r', severity: 'error', ...f }) as Finding),
    ...over,
  };
}

describe('monitor: decisions', () => {
  describe('dueThreshold (60, 30, 14, 7, 1 days)', () => {
    const rows: [number, number | null, number | null][] = [
      [90, null, null],
      [60.01, null, null],
      [60, null, 60],
      [59, 60, null],
      [30, 60, 30],
      [29, 30, null],
      [5, null, 7],
      [5, 60, 7],
      [5, 7, null],
      [0.5, 7, 1],
      [0.5, 1, null],
      [0, null, null],
      [-3, null, null],
    ];
    for (const [left, smallestSent, due] of rows) {
      it(`${left} days left, smallest sent ${smallestSent ?? 'none'} → ${due ?? 'none'}`, () => {
        assert.equal(dueThreshold(left, smallestSent), due);
      });
    }
  });

  describe('registerChanges', () => {
    it('nothing changed → nothing', () => assert.deepEqual(registerChanges(entry(), entry()), []));
    it('withdrawn → withdrawn with its date', () =>
      assert.deepEqual(registerChanges(entry(), entry({ authorisation: withdrawn })), [{ kind: 'withdrawn', withdrawnOn: '2026-11-30' }]));
    it('withdrawn at first sight → withdrawn', () =>
      assert.deepEqual(registerChanges(null, entry({ authorisation: withdrawn })), [{ kind: 'withdrawn', withdrawnOn: '2026-11-30' }]));
    it('still withdrawn → nothing more', () => assert.deepEqual(registerChanges(entry({ authorisation: withdrawn }), entry({ authorisation: withdrawn })), []));
    it('re-authorised → reauthorised', () =>
      assert.deepEqual(
        registerChanges(
          entry({ authorisation: withdrawn }),
          entry({ authorisation: { status: 'authorised', since: '2026-12-02', withdrawnOn: null, dates: ['2019-03-01', '2026-11-30', '2026-12-02'] } }),
        ),
        [{ kind: 'reauthorised', since: '2026-12-02' }],
      ));
    it('PS_070 removed at home → PIS; removed in a host country only → nothing', () => {
      assert.deepEqual(registerChanges(entry(), entry({ services: { DE: ['PS_080'], AT: ['PS_070'] } })), [
        { kind: 'service_removed', role: 'PIS', code: 'PS_070', country: 'DE' },
      ]);
      assert.deepEqual(registerChanges(entry(), entry({ services: { DE: ['PS_03C', 'PS_070', 'PS_080'] } })), []);
    });
    it('both codes removed → AIS and PIS', () =>
      assert.deepEqual(
        registerChanges(entry(), entry({ services: { DE: ['PS_03C'] } })).map((c) => (c.kind === 'service_removed' ? c.role : c.kind)),
        ['AIS', 'PIS'],
      ));
    it('legal name changed → name_changed; trading name or spacing → nothing', () => {
      assert.deepEqual(registerChanges(entry(), entry({ names: ['Acme Holdings GmbH'] })), [
        { kind: 'name_changed', from: 'Acme Payments GmbH', to: 'Acme Holdings GmbH' },
      ]);
      assert.deepEqual(registerChanges(entry(), entry({ names: [' Acme Payments GmbH ', 'Acme'] })), []);
    });
    it('gone → entry_missing; never seen and not found → nothing', () => {
      assert.deepEqual(registerChanges(entry(), null), [{ kind: 'entry_missing' }]);
      assert.deepEqual(registerChanges(null, null), []);
    });
  });

  describe('classifyReport', () => {
    const now = new Date('2026-06-01T00:00:00.000Z');
    it('revoked leaf → revoked with when, why and source', () =>
      assert.deepEqual(
        classifyReport(report([{ code: 'revoked', certIndex: 0 }], { revocation: { status: 'revoked', source: 'ocsp', checkedAt: 'x', revokedAt: '2026-05-30T00:00:00.000Z', reason: 'keyCompromise' } }), now),
        { kind: 'revoked', revokedAt: '2026-05-30T00:00:00.000Z', reason: 'keyCompromise', source: 'ocsp', certIndex: 0 },
      ));
    it('revoked issuing CA → revoked (certIndex 1)', () => assert.equal((classifyReport(report([{ code: 'revoked', certIndex: 1 }]), now) as { certIndex: number }).certIndex, 1));
    it('past notAfter → expired, even before the engine says so', () =>
      assert.deepEqual(classifyReport(report([], { notAfter: '2026-05-31T23:59:59.000Z' }), now), { kind: 'expired', notAfter: '2026-05-31T23:59:59.000Z' }));
    it('revocation unavailable (hard-fail error or soft-fail warning) → unavailable, never revoked', () => {
      assert.equal(classifyReport(report([{ code: 'revocation.unavailable' }]), now).kind, 'revocation_unavailable');
      assert.equal(classifyReport(report([{ code: 'revocation.unavailable', severity: 'warning' }]), now).kind, 'revocation_unavailable');
      assert.equal(classifyReport(report([{ code: 'revocation.unknown' }]), now).kind, 'revocation_unavailable');
    });
    it('another failure → invalid with its codes', () =>
      assert.deepEqual(classifyReport(report([{ code: 'chain.untrusted' as Finding['code'] }]), now), { kind: 'invalid', codes: ['chain.untrusted'] }));
    it('revocation off → not checked; good → ok', () => {
      assert.equal(classifyReport(report([], { revocation: { status: 'not-checked', source: null, checkedAt: null } }), now).kind, 'revocation_not_checked');
      assert.equal(classifyReport(report([]), now).kind, 'ok');
    });
  });
});
