import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair } from 'jose';
import { chainHead } from '../../src/audit/search.js';
import { type Manifest, MANIFEST_TYP, partBytes } from '../../src/evidence/format.js';
import type { EvidenceSigner } from '../../src/evidence/keys.js';
import { sha256Hex } from '../../src/evidence/pack.js';
import { type CheckId, verifyPack } from '../../src/evidence/verify.js';
import { parsePack, serialise, startEvidenceWorld, type EvidenceWorld, type PackJson } from './helpers.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

type Event = { seq: number; action: string; subject: { type: string; id: string } | null; data: Record<string, unknown>; hash: string; prevHash: string; actor: { type: string; id: string | null; label?: string } };

function part(doc: PackJson, name: string): string {
  const p = doc.parts.find((x) => x.name === name);
  assert.ok(p, `part ${name}`);
  return partBytes(p).toString('utf8');
}

function events(doc: PackJson): Event[] {
  return (JSON.parse(part(doc, 'audit-events.json')) as { events: Event[] }).events;
}

function withPart(doc: PackJson, name: string, content: string): PackJson {
  return { ...doc, parts: doc.parts.map((p) => (p.name === name ? { ...p, content } : p)) };
}

function withEvents(doc: PackJson, edit: (events: Event[]) => Event[]): PackJson {
  const audit = JSON.parse(part(doc, 'audit-events.json')) as { events: Event[] };
  return withPart(doc, 'audit-events.json', `${JSON.stringify({ ...audit, events: edit(audit.events) }, null, 2)}\n`);
}

/** Signs the document's manifest again, its parts' hashes brought up to date (what only a key holder can do). */
async function resign(doc: PackJson, signer: EvidenceSigner, edit: (m: Manifest) => void = () => undefined, headerKid = signer.kid): Promise<PackJson> {
  const m = JSON.parse(doc.manifest) as Manifest;
  m.parts = doc.parts.map((p) => {
    const bytes = partBytes(p);
    return { name: p.name, mediaType: p.mediaType, size: bytes.length, sha256: sha256Hex(bytes) };
  });
  m.key = { alg: 'ES256', thumbprint: signer.kid };
  edit(m);
  const text = `${JSON.stringify(m, null, 2)}\n`;
  const jws = await new CompactSign(Buffer.from(text)).setProtectedHeader({ alg: 'ES256', kid: headerKid, typ: MANIFEST_TYP }).sign(signer.key);
  const [h, , s] = jws.split('.');
  return { ...doc, manifest: text, signature: `${h}..${s}`, key: { jwk: { ...signer.publicJwk }, thumbprint: signer.kid } };
}

async function otherSigner(): Promise<EvidenceSigner> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, key: privateKey, publicJwk: { ...jwk, kid, alg: 'ES256', use: 'sig' } };
}

async function failsWith(doc: PackJson | Buffer, check: CheckId, detail?: RegExp, opts: Parameters<typeof verifyPack>[1] = {}) {
  const r = await verifyPack(Buffer.isBuffer(doc) ? doc : serialise(doc), opts);
  assert.equal(r.ok, false);
  assert.equal(r.failed, check, JSON.stringify(r.checks.filter((c) => c.status === 'fail')));
  const c = r.checks.find((x) => x.id === check)!;
  assert.equal(c.status, 'fail');
  if (detail) assert.match(c.detail, detail);
  return r;
}

describe('evidence pack over a real portal', function () {
  this.timeout(180_000);
  let w: EvidenceWorld;
  let acmeBytes: Buffer;
  let acme: PackJson;
  let nordic: PackJson;
  let signer: EvidenceSigner;

  before(async () => {
    w = await startEvidenceWorld();
    signer = await w.keys.signer();
    acmeBytes = (await w.evidence.exportPack({ kind: 'operator', label: 'test operator' }, w.acme.id)).bytes;
    acme = parsePack(acmeBytes);
    nordic = parsePack((await w.evidence.exportPack({ kind: 'operator', label: 'test operator' }, 'PSDSE-FINA-44059')).bytes);
  });
  after(async () => {
    await w?.stop();
  });

  describe('contents', () => {
    it('verifies, with the key pinned to the published set', async () => {
      const jwks = await w.evidence.publicJwks();
      const r = await verifyPack(acmeBytes, { jwks });
      assert.equal(r.ok, true, JSON.stringify(r.checks));
      assert.deepEqual(
        r.checks.map((c) => [c.id, c.status]),
        [['format', 'pass'], ['key', 'pass'], ['key-pinned', 'pass'], ['signature', 'pass'], ['manifest', 'pass'], ['parts', 'pass'], ['evidence-files', 'pass'], ['audit-chain', 'pass']],
      );
      // Without a pinned set the key check is skipped, and says why.
      const unpinned = await verifyPack(acmeBytes);
      assert.equal(unpinned.ok, true);
      assert.match(unpinned.checks.find((c) => c.id === 'key-pinned')!.detail, /proves integrity but not who signed/);
    });

    it('holds the application, decisions with policy versions and officers, certificate reports, register check, clients and software', () => {
      const m = JSON.parse(acme.manifest) as Manifest;
      assert.equal(m.subject.partnerId, w.acme.id);
      assert.equal(m.subject.organizationIdentifier, 'PSDDE-BAFIN-152645');
      assert.deepEqual(
        acme.parts.map((p) => p.name),
        ['README.md', 'partner.json', 'applications.json', 'questionnaire.json', 'evidence.json', 'certificates.json', 'register.json', 'decisions.json', 'clients.json', 'software.json', 'audit-events.json'],
      );
      assert.equal(JSON.parse(part(acme, 'partner.json')).status, 'suspended');
      const app = JSON.parse(part(acme, 'applications.json')).applications[0];
      assert.equal(app.id, w.acme.applicationId);
      assert.equal(app.state, 'approved');
      assert.equal(app.autoApproval.policyVersion, 'regulated-auto/2026.1');
      assert.equal(JSON.parse(part(acme, 'questionnaire.json')).applications[0].version, '2026.1');
      const decisions = JSON.parse(part(acme, 'decisions.json')).applications[0].decisions as { kind: string; policyVersion: string; actor: { label: string }; reasonCode: string | null }[];
      assert.deepEqual(decisions.map((d) => d.kind), ['auto_approve', 'suspend']);
      assert.equal(decisions[0]!.policyVersion, 'regulated-auto/2026.1');
      assert.equal(decisions[1]!.reasonCode, 'CERTIFICATE_REVOKED');
      const certs = JSON.parse(part(acme, 'certificates.json')).applications[0];
      assert.equal(certs.qwac.report.verdict, 'pass');
      assert.equal(certs.qwac.sha256, w.acme.qwacSha256);
      assert.equal(certs.qseal.report.type, 'QSealC');
      assert.equal(JSON.parse(part(acme, 'register.json')).applications[0].register.status, 'match');
      const clients = JSON.parse(part(acme, 'clients.json')).clients as { clientId: string; orgId: string }[];
      assert.deepEqual(clients.map((c) => [c.clientId, c.orgId]), [[w.clientId, 'PSDDE-BAFIN-152645']]);
      const software = JSON.parse(part(acme, 'software.json')).products as { name: string; statements: { jti: string }[] }[];
      assert.equal(software.length, 1);
      assert.equal(software[0]!.name, 'Acme Payments App');
      assert.equal(software[0]!.statements.length, 1);
      // The client summary carries no software statement or secret.
      assert.doesNotMatch(part(acme, 'clients.json'), /software_statement|secret/);
    });

    it("holds every audit event concerning the partner, monitor actions through their events, and none of other partners'", () => {
      const evs = events(acme);
      const actions = evs.map((e) => e.action);
      for (const a of ['application.created', 'application.submitted', 'application.auto_approved', 'partner.created', 'software.declared', 'software.statement.issued', 'oauth.client.registered', 'monitor.alert.opened', 'monitor.alert.resolved', 'partner.suspended', 'oauth.tokens.revoked']) {
        assert.ok(actions.includes(a), `${a} in ${actions.join(', ')}`);
      }
      // The resolved alert names only the alert: it is found through the alert opened about the partner.
      assert.equal(evs.find((e) => e.action === 'monitor.alert.resolved')!.subject!.id, w.alertId);
      assert.equal(evs.find((e) => e.action === 'oauth.client.registered')!.subject!.id, w.clientId);
      const nordicApp = w.nordic.applicationId;
      assert.ok(evs.every((e) => e.subject?.id !== nordicApp && e.subject?.id !== w.nordic.id));
      // And the same log is what the database holds, event by event.
      for (const e of evs) {
        const row = w.portal.db.prepare('SELECT hash, prev_hash FROM audit_events WHERE seq = ?').get(e.seq) as { hash: string; prev_hash: string };
        assert.deepEqual([e.hash, e.prevHash], [row.hash, row.prev_hash]);
      }
      const m = JSON.parse(acme.manifest) as Manifest;
      assert.equal(m.audit.events, evs.length);
      assert.equal(m.audit.fullChainAtExport.ok, true);
      assert.ok(m.audit.chainHead.seq >= evs.at(-1)!.seq);
    });

    it('includes small evidence files (checked against their upload hash) and records large ones by hash only', async () => {
      const files = JSON.parse(part(nordic, 'evidence.json')).files as { id: string; sha256: string; file: { included: boolean; part?: string } }[];
      assert.ok(files.length >= 1);
      for (const f of files) {
        assert.equal(f.file.included, true);
        const p = nordic.parts.find((x) => x.name === f.file.part)!;
        assert.equal(p.encoding, 'base64');
        assert.equal(sha256Hex(partBytes(p)), f.sha256);
      }
      const r = await verifyPack(serialise(nordic));
      assert.equal(r.ok, true);
      assert.match(r.checks.find((c) => c.id === 'evidence-files')!.detail, new RegExp(`^${files.length} included files`));

      const small = parsePack((await w.evidenceWith({ maxFileBytes: 10 }).exportPack({ kind: 'operator', label: 't' }, w.nordic.id)).bytes);
      assert.equal(small.parts.filter((p) => p.name.startsWith('evidence-files/')).length, 0);
      const listed = JSON.parse(part(small, 'evidence.json')).files as { sha256: string; file: { included: boolean; reason?: string } }[];
      assert.equal(listed.length, files.length);
      assert.ok(listed.every((f) => !f.file.included && /larger than 10 bytes/.test(f.file.reason!)));
      assert.equal((JSON.parse(small.manifest) as Manifest).evidenceFiles.hashOnly, files.length);
      assert.equal((await verifyPack(serialise(small))).ok, true);
    });

    it('audits each export (who, pack id, manifest hash), and the next pack carries that event', async () => {
      const before = w.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'evidence.pack.exported'");
      const pack = await w.evidence.exportPack({ kind: 'operator', label: 'evidence:pack CLI (test)' }, w.acme.id);
      assert.equal(w.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'evidence.pack.exported'"), before + 1);
      const row = w.portal.db.prepare("SELECT * FROM audit_events WHERE action = 'evidence.pack.exported' ORDER BY seq DESC LIMIT 1").get() as Record<string, string>;
      assert.equal(row.subject_id, w.acme.id);
      assert.equal(row.actor_label, 'evidence:pack CLI (test)');
      const data = JSON.parse(row.data!) as Record<string, unknown>;
      assert.equal(data.packId, pack.packId);
      assert.equal(data.manifestSha256, pack.manifestSha256);
      assert.equal(data.manifestSha256, sha256Hex(Buffer.from(parsePack(pack.bytes).manifest, 'utf8')));
      const next = parsePack((await w.evidence.exportPack({ kind: 'operator', label: 't' }, w.acme.id)).bytes);
      assert.ok(events(next).some((e) => e.action === 'evidence.pack.exported' && e.data.packId === pack.packId));
      assert.equal((await w.portal.audit.verify()).ok, true);
    });

    it('keeps the evidence key in DATA_DIR/evidence/keys.json (0600) and publishes only its public part', async () => {
      const file = path.join(w.portal.config.dataDir, 'evidence', 'keys.json');
      assert.equal(w.keys.file, file);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
      const jwks = await w.evidence.publicJwks();
      assert.equal(jwks.keys.length, 1);
      assert.equal(jwks.keys[0]!.kid, signer.kid);
      assert.equal('d' in jwks.keys[0]!, false);
      assert.equal(await calculateJwkThumbprint(jwks.keys[0]!), signer.kid);
      assert.deepEqual(acme.key, { jwk: jwks.keys[0], thumbprint: signer.kid });
    });

    it('refuses an unknown partner and a non-staff reader, writing nothing', async () => {
      const n = chainHead(w.portal.db).seq;
      await assert.rejects(w.evidence.exportPack({ kind: 'operator', label: 't' }, 'no-such-partner'), { code: 'not_found' });
      await assert.rejects(w.evidence.exportPack({ kind: 'operator', label: 't' }, '../../etc/passwd'), { code: 'not_found' });
      await assert.rejects(
        w.evidence.exportPack({ kind: 'staff', staff: { id: 'x', kind: 'applicant', label: 'a@example.test', roles: [] } }, w.acme.id),
        { code: 'auth.forbidden' },
      );
      assert.equal(chainHead(w.portal.db).seq, n);
    });
  });

  describe('tampering', () => {
    it('a changed byte in a part fails "parts", naming the part', async () => {
      const text = part(acme, 'partner.json').replace('"suspended"', '"suspendeD"');
      await failsWith(withPart(acme, 'partner.json', text), 'parts', /^part partner\.json: SHA-256 [0-9a-f]{64}, the manifest says/);
      // One byte of a file part too (base64 stays canonical).
      const file = nordic.parts.find((p) => p.name.startsWith('evidence-files/'))!;
      const bytes = partBytes(file);
      bytes[0] = bytes[0]! ^ 1;
      await failsWith(withPart(nordic, file.name, bytes.toString('base64')), 'parts', new RegExp(`^part ${file.name}`));
    });

    it('a removed audit event fails "parts"; with the manifest edited to match, "signature"; even re-signed with the key, "audit-chain"', async () => {
      const cut = withEvents(acme, (evs) => evs.filter((e) => e.action !== 'partner.suspended'));
      await failsWith(cut, 'parts', /^part audit-events\.json/);
      // The manifest's hash brought up to date by someone without the key: the signature no longer holds.
      const edited = await resign(cut, signer);
      await failsWith({ ...edited, signature: acme.signature }, 'signature', /does not verify over the manifest/);
      // A key holder who forgets the counts the manifest vouched for.
      await failsWith(edited, 'audit-chain', /events in the pack, the manifest says .* \(an event was removed or added\)/);
    });

    it('a changed event fails "parts"; re-signed, "audit-chain" names the event; its hash recomputed too, the link to the next', async () => {
      const evs = events(acme);
      const i = evs.findIndex((e, k) => k + 1 < evs.length && evs[k + 1]!.seq === e.seq + 1);
      assert.ok(i >= 0);
      const target = evs[i]!;
      const changed = withEvents(acme, (list) => list.map((e) => (e.seq === target.seq ? { ...e, data: { ...e.data, note: 'edited' } } : e)));
      await failsWith(changed, 'parts', /^part audit-events\.json/);
      await failsWith(await resign(changed, signer), 'audit-chain', new RegExp(`^event ${target.seq} \\(${target.action.replace(/\./g, '\\.')}\\): its hash does not match its content`));

      const { eventHash } = await import('../../src/audit/service.js');
      const rehashed = withEvents(acme, (list) =>
        list.map((e) => {
          if (e.seq !== target.seq) return e;
          const edited = { ...e, data: { ...e.data, note: 'edited' } };
          return { ...edited, hash: eventHash(e.prevHash, edited as never) };
        }),
      );
      await failsWith(await resign(rehashed, signer), 'audit-chain', new RegExp(`^events ${target.seq} and ${target.seq + 1} are adjacent in the log but do not link`));
    });

    it('a swapped key fails "key"; a swapped signature fails "key" or "signature"; a consistent swap fails only when pinned', async () => {
      const other = await otherSigner();
      // Another key in place of the embedded one, the signature untouched.
      await failsWith({ ...acme, key: { jwk: { ...other.publicJwk }, thumbprint: other.kid } }, 'key', /^the signature names key/);
      // Another key's signature over the same manifest: its kid betrays it ...
      const theirs = await resign(acme, other, (m) => (m.key = { alg: 'ES256', thumbprint: signer.kid }));
      await failsWith({ ...acme, signature: theirs.signature }, 'key', /^the signature names key/);
      // ... and claiming our kid, it does not verify.
      const forged = await resign(acme, other, (m) => (m.key = { alg: 'ES256', thumbprint: signer.kid }), signer.kid);
      await failsWith({ ...acme, signature: forged.signature }, 'signature', /does not verify/);
      // The thumbprint edited to match another key: the key does not give that thumbprint.
      await failsWith({ ...acme, key: { ...acme.key, thumbprint: other.kid } }, 'key', /thumbprint is/);
      // Someone else re-packs it with their own key: consistent, so only pinning the bank's key catches it.
      const repacked = await resign(withPart(acme, 'partner.json', part(acme, 'partner.json').replace('"suspended"', '"active"')), other);
      assert.equal((await verifyPack(serialise(repacked))).ok, true);
      await failsWith(repacked, 'key-pinned', new RegExp(`key ${other.kid} is not in the pinned JWK Set`), { jwks: await w.evidence.publicJwks() });
    });

    it('an edited manifest fails "signature"', async () => {
      await failsWith({ ...acme, manifest: acme.manifest.replace('"legalName": "Acme', '"legalName": "Acne') }, 'signature');
      await failsWith({ ...acme, manifest: acme.manifest.replace(/"events": \d+/, '"events": 1') }, 'signature');
    });

    it('an evidence file that no longer matches its upload hash fails "evidence-files", even re-signed', async () => {
      const file = nordic.parts.find((p) => p.name.startsWith('evidence-files/'))!;
      const other = Buffer.from('%PDF-1.4 another file\n');
      await failsWith(await resign(withPart(nordic, file.name, other.toString('base64')), signer), 'evidence-files', /hashes to .*, the upload recorded/);
    });

    it('a part added, a part removed, a file that is not a pack fail "parts", "parts" and "format"', async () => {
      await failsWith({ ...acme, parts: [...acme.parts, { name: 'extra.txt', mediaType: 'text/plain', encoding: 'utf8', content: 'x' }] }, 'parts', /^part extra\.txt is not in the manifest/);
      await failsWith({ ...acme, parts: acme.parts.filter((p) => p.name !== 'clients.json') }, 'parts', /^part clients\.json is listed in the manifest but missing/);
      await failsWith(Buffer.from('not json'), 'format', /not JSON/);
      await failsWith(Buffer.from('{"format":"evidence-pack/1"}'), 'format', /not an evidence pack/);
      await failsWith({ ...acme, parts: [{ ...acme.parts[0]!, name: '../../etc/passwd' }, ...acme.parts.slice(1)] }, 'format');
      const b64 = nordic.parts.find((p) => p.encoding === 'base64')!;
      await failsWith(withPart(nordic, b64.name, `${b64.content}!!`), 'format', /not canonical base64/);
    });
  });

  describe('command line', () => {
    let dir: string;
    const node = (script: string, args: string[], env: Record<string, string> = {}) =>
      run(process.execPath, ['--import', 'tsx', path.join('scripts', script), ...args], {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: 'silent', ...env },
        timeout: 120_000,
      }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
      );
    const f = (name: string) => path.join(dir, name);
    const portalEnv = () => ({ NODE_ENV: 'test', CERTS_DIR: path.join(w.h.dir, 'certs'), REVOCATION_POLICY: 'off' });

    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'evidence-cli-'));
      writeFileSync(f('acme.json'), acmeBytes);
      writeFileSync(f('tampered.json'), serialise(withPart(acme, 'partner.json', part(acme, 'partner.json').replace('"suspended"', '"active"'))));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('evidence:verify exits 0 for a valid pack, pinned by file or by the published URL', async () => {
      writeFileSync(f('jwks.json'), JSON.stringify(await w.evidence.publicJwks()));
      const plain = await node('evidence-verify.ts', [f('acme.json')]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(plain.stdout, /^ok +format +11 parts/m);
      assert.match(plain.stdout, /^skip {2}key-pinned/m);
      assert.match(plain.stdout, /^VALID: .*acme\.json: pack .* of Acme Payments GmbH \(key not pinned/m);
      const pinned = await node('evidence-verify.ts', [f('acme.json'), '--jwks', f('jwks.json')]);
      assert.equal(pinned.code, 0, pinned.stdout);
      assert.match(pinned.stdout, /^ok +key-pinned/m);
      const byUrl = await node('evidence-verify.ts', [f('acme.json'), '--jwks', `${w.url}/evidence/jwks.json`, '--json'], {
        NODE_EXTRA_CA_CERTS: path.join(w.h.dir, 'certs', 'ca', 'root.pem'),
      });
      assert.equal(byUrl.code, 0, byUrl.stderr);
      const json = JSON.parse(byUrl.stdout) as { ok: boolean; checks: { id: string; status: string }[] };
      assert.equal(json.ok, true);
      assert.equal(json.checks.find((c) => c.id === 'key-pinned')!.status, 'pass');
    });

    it('evidence:verify exits 1 naming the failed check', async () => {
      const t = await node('evidence-verify.ts', [f('tampered.json')]);
      assert.equal(t.code, 1);
      assert.match(t.stdout, /^FAIL {2}parts/m);
      assert.match(t.stdout, /^INVALID: .*tampered\.json: check parts failed: part partner\.json/m);
      const other = await otherSigner();
      writeFileSync(f('other-jwks.json'), JSON.stringify({ keys: [other.publicJwk] }));
      const unpinned = await node('evidence-verify.ts', [f('acme.json'), '--jwks', f('other-jwks.json')]);
      assert.equal(unpinned.code, 1);
      assert.match(unpinned.stdout, /^INVALID: .*acme\.json: check key-pinned failed/m);
      writeFileSync(f('junk.json'), 'junk');
      const junk = await node('evidence-verify.ts', [f('junk.json')]);
      assert.equal(junk.code, 1);
      assert.match(junk.stdout, /check format failed/);
    });

    it('evidence:verify exits 2 for usage errors and unreadable input', async () => {
      for (const args of [[], [f('a.json'), f('b.json')], ['--bogus', f('acme.json')], [f('missing.json')], [f('acme.json'), '--jwks', f('missing-jwks.json')], [f('acme.json'), '--jwks', f('junk.json')], [f('acme.json'), '--jwks', 'http://example.test/jwks.json']]) {
        const r = await node('evidence-verify.ts', args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /Usage: npm run --silent evidence:verify/);
      }
    });

    it('evidence:pack writes a pack (0600) that verifies, and audits the operator; 1 for an unknown partner; 2 for usage', async () => {
      const out = path.join(dir, 'from-cli.json');
      const r = await node('evidence-pack.ts', ['PSDDE-BAFIN-152645', '--out', out, '--data-dir', w.portal.config.dataDir], portalEnv());
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
      assert.equal(statSync(out).mode & 0o777, 0o600);
      const v = await verifyPack(readFileSync(out), { jwks: await w.evidence.publicJwks() });
      assert.equal(v.ok, true, JSON.stringify(v.checks));
      const row = w.portal.db.prepare("SELECT actor_type, actor_label, subject_id, data FROM audit_events WHERE action = 'evidence.pack.exported' ORDER BY seq DESC LIMIT 1").get() as Record<string, string>;
      assert.equal(row.actor_type, 'system');
      assert.match(row.actor_label!, /^evidence:pack CLI \(/);
      assert.equal(row.subject_id, w.acme.id);
      assert.equal((JSON.parse(row.data!) as { via: string }).via, 'cli');

      const head = chainHead(w.portal.db).seq;
      const unknown = await node('evidence-pack.ts', ['no-such-partner', '--out', path.join(dir, 'x.json'), '--data-dir', w.portal.config.dataDir], portalEnv());
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /no partner with id or organizationIdentifier "no-such-partner"/);
      assert.equal(existsSync(path.join(dir, 'x.json')), false);
      assert.equal(chainHead(w.portal.db).seq, head);

      for (const args of [[], ['a', 'b'], ['--nope', 'x'], [w.acme.id, '--out', out, '--data-dir', w.portal.config.dataDir], [w.acme.id, '--data-dir', path.join(dir, 'no-data')]]) {
        const u = await node('evidence-pack.ts', args, portalEnv());
        assert.equal(u.code, 2, `${args.join(' ')}: ${u.stderr}`);
      }
      assert.equal(chainHead(w.portal.db).seq, head);
    });
  });
});
