import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  MAX_TL_BYTES,
  parseLotl,
  parseTrustedList,
  type TrustedList,
  TrustedListError,
} from '../../../src/eidas/trust/index.js';
import { buildList, makeSigner, type Signer } from './tl-builder.js';

const TL_DIR = process.env.TRUSTED_LISTS_DIR ?? '../shared/fixtures/trusted-lists';
const AT_2019 = new Date('2019-09-15T00:00:00Z');
const AT_FI = new Date('2024-12-01T00:00:00Z');

function fixture(ctx: Mocha.Context, name: string): Buffer {
  const file = path.join(TL_DIR, name);
  if (!existsSync(file)) ctx.skip();
  return readFileSync(file);
}

function throwsCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof TrustedListError && e.code === code && (!message || message.test(e.message)));
}

/** Service-level counts as SOURCES.md states them. */
function counts(tl: TrustedList) {
  const granted = tl.services.filter((s) => s.status === 'granted');
  return {
    granted: granted.length,
    web: granted.filter((s) => s.qualifiers.web).length,
    eseal: granted.filter((s) => s.qualifiers.eseal).length,
  };
}

describe('eidas/trust: XML hardening', () => {
  it('refuses an XXE (external entity) document before parsing', () => {
    const xml =
      '<?xml version="1.0"?><!DOCTYPE TrustServiceStatusList [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
      '<TrustServiceStatusList xmlns="http://uri.etsi.org/02231/v2#">&xxe;</TrustServiceStatusList>';
    throwsCode(() => parseTrustedList(xml), 'tl.malformed', /DOCTYPE/);
  });

  it('refuses billion laughs fast', () => {
    let dtd = '<!ENTITY lol0 "lol">';
    for (let i = 1; i <= 9; i++) dtd += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
    const xml = `<?xml version="1.0"?><!DOCTYPE lolz [${dtd}]><TrustServiceStatusList xmlns="http://uri.etsi.org/02231/v2#">&lol9;</TrustServiceStatusList>`;
    const t0 = performance.now();
    throwsCode(() => parseTrustedList(xml), 'tl.malformed', /DOCTYPE/);
    assert.ok(performance.now() - t0 < 200);
  });

  it('refuses a 25 MiB input (string and bytes) without parsing it', () => {
    const big = `<TrustServiceStatusList xmlns="http://uri.etsi.org/02231/v2#">${' '.repeat(25 * 1024 * 1024)}</TrustServiceStatusList>`;
    assert.ok(big.length > MAX_TL_BYTES);
    const t0 = performance.now();
    throwsCode(() => parseTrustedList(big), 'tl.malformed', /exceeds/);
    throwsCode(() => parseTrustedList(Buffer.from(big)), 'tl.malformed', /exceeds/);
    assert.ok(performance.now() - t0 < 1000);
  });

  it('refuses bytes that are not UTF-8 and a declared non-UTF-8 encoding', () => {
    throwsCode(() => parseTrustedList(new Uint8Array([0x3c, 0x61, 0xff, 0xfe, 0x3e])), 'tl.malformed');
    const latin = buildList({ territory: 'ZZ', services: [] }).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"');
    throwsCode(() => parseTrustedList(latin), 'tl.unsupported');
  });

  it('refuses deeply nested elements and non-well-formed XML', () => {
    const deep = `<TrustServiceStatusList xmlns="http://uri.etsi.org/02231/v2#">${'<a>'.repeat(200)}${'</a>'.repeat(200)}</TrustServiceStatusList>`;
    throwsCode(() => parseTrustedList(deep), 'tl.malformed');
    throwsCode(() => parseTrustedList('<TrustServiceStatusList><a></b></TrustServiceStatusList>'), 'tl.malformed');
    throwsCode(() => parseTrustedList(''), 'tl.malformed');
  });

  it('strips a UTF-8 BOM (bytes and string)', () => {
    const xml = buildList({ territory: 'ZZ', services: [] });
    assert.equal(parseTrustedList(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml)])).territory, 'ZZ');
    assert.equal(parseTrustedList(`\uFEFF${xml}`).territory, 'ZZ');
  });
});

describe('eidas/trust: parseTrustedList (synthetic lists)', () => {
  let ca1: Signer;
  let ca2: Signer;
  let ca3: Signer;
  before(async () => {
    [ca1, ca2, ca3] = await Promise.all([makeSigner('CA one'), makeSigner('CA two'), makeSigner('CA three')]);
  });

  it('reads scheme information and one anchor per X509Certificate of a CA/QC service', () => {
    const tl = parseTrustedList(
      buildList({
        territory: 'ZZ',
        seq: 7,
        issued: '2020-01-01T00:00:00Z',
        nextUpdate: '2020-07-01T00:00:00Z',
        services: [
          { name: 'Web CA', status: 'granted', start: '2019-01-01T00:00:00Z', qualifiers: ['web', 'eseal'], certs: [ca1.der, ca2.der] },
        ],
      }),
      { at: new Date('2020-02-01T00:00:00Z') },
    );
    assert.equal(tl.territory, 'ZZ');
    assert.equal(tl.sequenceNumber, 7);
    assert.equal(tl.issued.toISOString(), '2020-01-01T00:00:00.000Z');
    assert.equal(tl.nextUpdate?.toISOString(), '2020-07-01T00:00:00.000Z');
    assert.deepEqual(tl.warnings, []);
    assert.equal(tl.anchors.length, 2);
    for (const a of tl.anchors) {
      assert.equal(a.source, 'tl:ZZ:Web CA'); // the English service name
      assert.equal(a.status, 'granted');
      assert.deepEqual(a.qualifiers, { web: true, eseal: true, esign: false });
    }
    assert.equal(tl.anchors[0]!.subject, 'CN=CA one, C=ZZ');
    assert.deepEqual(tl.anchors[0]!.der, ca1.der);
    assert.match(tl.anchors[0]!.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(tl.services, [
      { tsp: 'Test QTSP', name: 'Web CA', status: 'granted', qualifiers: { web: true, eseal: true, esign: false }, certificates: 2 },
    ]);
  });

  it('ignores services that are not CA/QC', () => {
    const tl = parseTrustedList(
      buildList({
        territory: 'ZZ',
        services: [
          { name: 'TSA', type: 'http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST', status: 'granted', start: '2019-01-01T00:00:00Z', certs: [ca1.der] },
          { name: 'Non-qualified CA', type: 'http://uri.etsi.org/TrstSvc/Svctype/CA/PKC', status: 'granted', start: '2019-01-01T00:00:00Z', certs: [ca2.der] },
          { name: 'QC CA', status: 'granted', start: '2019-01-01T00:00:00Z', qualifiers: ['esign'], certs: [ca3.der] },
        ],
      }),
      { at: new Date('2020-02-01T00:00:00Z') },
    );
    assert.deepEqual(
      tl.anchors.map((a) => a.source),
      ['tl:ZZ:QC CA'],
    );
  });

  it('applies the status in force at `at`: current status from its start, history before it', () => {
    const xml = buildList({
      territory: 'ZZ',
      services: [
        {
          name: 'Old CA',
          status: 'withdrawn',
          start: '2021-06-01T00:00:00Z',
          qualifiers: ['esign'],
          certs: [ca1.der],
          history: [
            { status: 'granted', start: '2016-07-01T00:00:00Z', qualifiers: ['web', 'eseal'] },
            { status: 'undersupervision', start: '2010-01-01T00:00:00Z' },
          ],
        },
      ],
    });
    const at = (iso: string) => parseTrustedList(xml, { at: new Date(iso) }).anchors[0]!;
    assert.equal(at('2022-01-01T00:00:00Z').status, 'withdrawn');
    assert.deepEqual(at('2022-01-01T00:00:00Z').qualifiers, { web: false, eseal: false, esign: true });
    assert.equal(at('2021-06-01T00:00:00Z').status, 'withdrawn'); // the starting time itself
    const before = at('2021-05-31T23:59:59Z');
    assert.equal(before.status, 'granted');
    assert.deepEqual(before.qualifiers, { web: true, eseal: true, esign: false });
    assert.equal(at('2012-01-01T00:00:00Z').status, 'other'); // pre-eIDAS status
    assert.equal(at('2005-01-01T00:00:00Z').status, 'other'); // before any instance
    assert.deepEqual(at('2005-01-01T00:00:00Z').qualifiers, { web: false, eseal: false, esign: false });
  });

  it('warns about stale and closed lists, unreadable certificates and services without certificates', () => {
    const xml = buildList({
      territory: 'ZZ',
      nextUpdate: '2020-02-01T00:00:00Z',
      services: [
        { name: 'Bad cert', status: 'granted', start: '2019-01-01T00:00:00Z', certs: [new Uint8Array([1, 2, 3])] },
        { name: 'Subject only', status: 'granted', start: '2019-01-01T00:00:00Z', certs: [] },
      ],
    });
    const tl = parseTrustedList(xml, { at: new Date('2021-01-01T00:00:00Z') });
    assert.equal(tl.anchors.length, 0);
    assert.equal(tl.warnings.length, 4);
    assert.match(tl.warnings[0]!, /past its NextUpdate/);
    const closed = parseTrustedList(buildList({ territory: 'ZZ', nextUpdate: null, services: [] }));
    assert.equal(closed.nextUpdate, null);
    assert.match(closed.warnings[0]!, /closed list/);
  });

  it('refuses lists that are not TS 119 612 v5/v6', () => {
    throwsCode(() => parseTrustedList('<Foo xmlns="http://uri.etsi.org/02231/v2#"/>'), 'tl.malformed');
    throwsCode(() => parseTrustedList('<TrustServiceStatusList xmlns="urn:other"/>'), 'tl.malformed');
    throwsCode(() => parseTrustedList(buildList({ territory: 'ZZ', version: 4 })), 'tl.unsupported');
    throwsCode(() => parseTrustedList(buildList({ territory: 'ZZ', issued: 'yesterday' })), 'tl.malformed');
    throwsCode(() => parseTrustedList(buildList({ territory: 'ZZ', nextUpdate: 'soon' })), 'tl.malformed');
    throwsCode(() => parseLotl(buildList({ territory: 'ZZ' })), 'tl.unsupported');
  });

  it('reads LOTL pointers with their announced signers', () => {
    const lotl = parseLotl(
      buildList({
        territory: 'EU',
        lotl: true,
        pointers: [
          { territory: 'ZZ', signers: [ca1.der, ca2.der] },
          { territory: 'YY', signers: [ca3.der] },
        ],
      }),
    );
    assert.equal(lotl.pointers.length, 2);
    assert.equal(lotl.pointers[0]!.territory, 'ZZ');
    assert.equal(lotl.pointers[0]!.mimeType, 'application/vnd.etsi.tsl+xml');
    assert.equal(lotl.pointers[0]!.location, 'https://tl.example/ZZ.xml');
    assert.deepEqual(lotl.pointers[0]!.signers, [ca1.der, ca2.der]);
  });
});

describe('eidas/trust: parseTrustedList (real EU lists)', () => {
  it('LOTL 248: 44 pointers for 32 territories, 8 EU signer certificates', function () {
    const lotl = parseLotl(fixture(this, 'eu-lotl-sn248.xml'), { at: AT_2019 });
    assert.equal(lotl.sequenceNumber, 248);
    assert.equal(lotl.territory, 'EU');
    assert.equal(lotl.issued.toISOString(), '2019-09-04T08:00:00.000Z');
    assert.equal(lotl.pointers.length, 44);
    assert.equal(new Set(lotl.pointers.map((p) => p.territory)).size, 32);
    assert.equal(
      lotl.pointers.filter((p) => p.territory === 'EU').flatMap((p) => p.signers).length,
      8,
    );
    assert.ok(lotl.pointers.some((p) => p.territory === 'EL'));
    assert.ok(lotl.pointers.some((p) => p.territory === 'UK'));
    assert.equal(lotl.anchors.length, 0);
  });

  const cases = [
    { file: 'tl-cz-sn77.xml', territory: 'CZ', seq: 77, at: AT_2019, granted: 19, web: 3, eseal: 10 },
    { file: 'tl-el-sn42.xml', territory: 'EL', seq: 42, at: AT_2019, granted: 46, web: 4, eseal: 37 },
    { file: 'tl-lu-sn37.xml', territory: 'LU', seq: 37, at: AT_2019, granted: 4, web: 1, eseal: 2 },
    { file: 'tl-be-sn43.xml', territory: 'BE', seq: 43, at: new Date('2019-09-15T00:00:00Z'), granted: 17, web: 0, eseal: 6 },
    { file: 'tl-fi-sn49-2024.xml', territory: 'FI', seq: 49, at: AT_FI, granted: 12, web: 6, eseal: 0 },
  ];
  for (const c of cases) {
    it(`${c.territory} #${c.seq}: ${c.granted} CA/QC granted, ${c.web} web, ${c.eseal} eseal`, function () {
      const tl = parseTrustedList(fixture(this, c.file), { at: c.at });
      assert.equal(tl.territory, c.territory);
      assert.equal(tl.sequenceNumber, c.seq);
      assert.deepEqual(counts(tl), { granted: c.granted, web: c.web, eseal: c.eseal });
      for (const a of tl.anchors) assert.ok(a.source.startsWith(`tl:${c.territory}:`));
    });
  }

  it('CZ: the named web services are granted for website authentication', function () {
    const tl = parseTrustedList(fixture(this, 'tl-cz-sn77.xml'), { at: AT_2019 });
    const web = tl.services.filter((s) => s.status === 'granted' && s.qualifiers.web).map((s) => s.name);
    assert.ok(web.some((n) => n.startsWith('(104) I.CA')));
    assert.ok(web.some((n) => n.startsWith('(21)')));
    assert.ok(web.some((n) => n.startsWith('(57) PostSignum')));
  });

  it('FI 2024 (starts with a BOM) is past NextUpdate today and fresh at 2024-12-01', function () {
    const bytes = fixture(this, 'tl-fi-sn49-2024.xml');
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.deepEqual(parseTrustedList(bytes, { at: AT_FI }).warnings, []);
    assert.match(parseTrustedList(bytes, { at: new Date('2026-01-01T00:00:00Z') }).warnings[0]!, /past its NextUpdate/);
  });

  it('LU: a withdrawn service is returned with its status', function () {
    const tl = parseTrustedList(fixture(this, 'tl-lu-sn37.xml'), { at: AT_2019 });
    const old = tl.anchors.find((a) => a.source === 'tl:LU:LuxTrust Qualified Certification Authority');
    assert.equal(old?.status, 'withdrawn');
    // granted 2016-06-30T22:00Z .. 2017-02-23 per its history
    const then = parseTrustedList(fixture(this, 'tl-lu-sn37.xml'), { at: new Date('2017-01-01T00:00:00Z') });
    assert.equal(then.anchors.find((a) => a.source === old!.source)?.status, 'granted');
  });

  it('the not-parsable LOTL is tl.malformed', function () {
    throwsCode(() => parseLotl(fixture(this, 'bad-eu-lotl-sn248-not-parsable.xml')), 'tl.malformed');
  });
});
