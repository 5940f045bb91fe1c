import assert from 'node:assert/strict';
import { AUDIT_PAGE_SIZE, chainHead, eventsConcerning, expandSelection, parseAuditQuery, type AuditRowView } from '../../src/audit/search.js';
import type { ActorRef } from '../../src/partners/types.js';
import { errorCodeFrom } from '../helpers/web.js';
import { startEvidenceWorld, type EvidenceWorld } from '../evidence/helpers.js';

interface Row {
  seq: number;
  at: string;
  action: string;
  actor_id: string | null;
  actor_label: string | null;
}

describe('audit search', function () {
  this.timeout(180_000);
  let w: EvidenceWorld;
  let officer: ActorRef;
  const all = () => w.portal.db.prepare('SELECT seq, at, action, actor_id, actor_label FROM audit_events ORDER BY seq DESC').all() as Row[];
  const head = () => chainHead(w.portal.db).seq;
  const searched = () => w.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'audit.searched'");

  before(async () => {
    w = await startEvidenceWorld();
    officer = w.officers.reviewer;
  });
  after(async () => {
    await w?.stop();
  });

  describe('the service', () => {
    it('by partner: the events concerning it (its application, clients, software, monitor alerts), none of another partner', async () => {
      const page = await w.search.search(officer, { partner: w.acme.id, pageSize: '200' });
      const sel = await w.evidence.selectionFor(w.acme.id);
      const expected = eventsConcerning(w.portal.db, sel!).map((e) => e.seq).reverse();
      assert.deepEqual(page.rows.map((r) => r.seq), expected);
      const actions = page.rows.map((r) => r.action);
      for (const a of ['application.auto_approved', 'oauth.client.registered', 'software.declared', 'monitor.alert.opened', 'monitor.alert.resolved', 'partner.suspended']) assert.ok(actions.includes(a), a);
      assert.ok(page.rows.every((r) => r.subject?.id !== w.nordic.applicationId && r.subject?.id !== w.nordic.id));
      assert.equal(page.nextBefore, null);
      // The same selection the evidence pack uses (a deleted client or an alert would be found through the log).
      assert.deepEqual(expandSelection(w.portal.db, sel!), sel);
    });

    it('by actor (id or e-mail), by event type prefix by whole segments, by time range, combined', async () => {
      const a = w.officers.approverA;
      const byId = await w.search.search(officer, { actor: a.id });
      const byEmail = await w.search.search(officer, { actor: a.label.toUpperCase() });
      assert.ok(byId.rows.length >= 1);
      assert.deepEqual(byEmail.rows.map((r) => r.seq), byId.rows.map((r) => r.seq));
      assert.ok(byId.rows.every((r) => r.actor.id === a.id));

      const apps = await w.search.search(officer, { action: 'application', pageSize: '200' });
      assert.deepEqual(apps.rows.map((r) => r.seq), all().filter((r) => r.action.startsWith('application.')).map((r) => r.seq).slice(0, 200));
      const alerts = await w.search.search(officer, { action: 'monitor.alert.' });
      assert.deepEqual(alerts.rows.map((r) => r.action), ['monitor.alert.resolved', 'monitor.alert.opened']);
      // Whole segments: `application.sub` is not a prefix of `application.submitted`.
      assert.equal((await w.search.search(officer, { action: 'application.sub' })).rows.length, 0);
      assert.deepEqual((await w.search.search(officer, { action: 'partner.suspended' })).rows.map((r) => r.action), ['partner.suspended']);

      const rows = all().reverse();
      const from = rows[5]!;
      const to = rows.find((r) => r.at > from.at && r.seq > from.seq + 3)!;
      const ranged = await w.search.search(officer, { from: from.at, to: to.at, pageSize: '200' });
      assert.deepEqual(ranged.rows.map((r) => r.seq), rows.filter((r) => r.at >= from.at && r.at < to.at).map((r) => r.seq).reverse());
      assert.ok(ranged.rows.length > 0);
      // A date alone: from the start of that day; as `to`, through its end.
      const day = from.at.slice(0, 10);
      const sameDay = await w.search.search(officer, { from: day, to: day, pageSize: '200' });
      assert.ok(sameDay.rows.some((r) => r.seq === from.seq));
      const dayBefore = new Date(Date.parse(day) - 86_400_000).toISOString().slice(0, 10);
      assert.equal((await w.search.search(officer, { to: dayBefore })).rows.length, 0);

      const combined = await w.search.search(officer, { partner: w.nordic.id, actor: a.label, action: 'application' });
      assert.ok(combined.rows.length >= 1);
      assert.ok(combined.rows.every((r) => r.actor.id === a.id && r.action.startsWith('application.') && r.subject?.id === w.nordic.applicationId));
    });

    it('pages newest first with a keyset cursor: every event once, in order, the last page without a cursor', async () => {
      const seen: number[] = [];
      let before: number | null = null;
      let pages = 0;
      const ceiling = head();
      do {
        const page = await w.search.search(officer, { pageSize: '7', ...(before === null ? {} : { before: String(before) }) });
        assert.ok(page.rows.length <= 7);
        seen.push(...page.rows.map((r) => r.seq));
        before = page.nextBefore;
        if (before !== null) assert.equal(before, page.rows.at(-1)!.seq);
        pages++;
      } while (before !== null && pages < 100);
      // Each search adds one `audit.searched` event; the cursor keeps later ones off older pages.
      const expected = all().map((r) => r.seq).filter((s) => s <= ceiling);
      assert.deepEqual(seen.filter((s) => s <= ceiling), expected);
      assert.equal(new Set(seen).size, seen.length);
    });

    it('shapes rows on purpose, and records each search (who, filters, results)', async () => {
      const before = searched();
      const page = await w.search.search(officer, { action: 'partner', pageSize: '3' });
      const r: AuditRowView = page.rows[0]!;
      assert.deepEqual(Object.keys(r).sort(), ['action', 'actor', 'at', 'data', 'hash', 'id', 'ip', 'seq', 'subject']);
      assert.equal(searched(), before + 1);
      const row = w.portal.db.prepare("SELECT actor_id, data FROM audit_events WHERE action = 'audit.searched' ORDER BY seq DESC LIMIT 1").get() as { actor_id: string; data: string };
      assert.equal(row.actor_id, officer.id);
      assert.deepEqual(JSON.parse(row.data), { filters: { action: 'partner', pageSize: 3 }, results: page.rows.length });
    });

    it('refuses bad input with a code and records nothing', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ from: '2026-02-30' }, 'audit.search.invalid_date'],
        [{ from: 'yesterday' }, 'audit.search.invalid_date'],
        [{ to: '2026-13-01T00:00' }, 'audit.search.invalid_date'],
        [{ to: '2026-01-01T24:00' }, 'audit.search.invalid_date'],
        [{ from: '1969-12-31' }, 'audit.search.invalid_date'],
        [{ from: '2026-03-02', to: '2026-03-01' }, 'audit.search.invalid_range'],
        [{ from: '2026-03-01T10:00Z', to: '2026-03-01T10:00Z' }, 'audit.search.invalid_range'],
        [{ pageSize: '201' }, 'audit.search.page_size'],
        [{ pageSize: '1000000000' }, 'audit.search.page_size'],
        [{ pageSize: '0' }, 'audit.search.page_size'],
        [{ pageSize: '-5' }, 'audit.search.page_size'],
        [{ pageSize: '1e3' }, 'audit.search.page_size'],
        [{ sort: 'seq' }, 'audit.search.unknown_filter'],
        [{ subject_type: 'partner' }, 'audit.search.unknown_filter'],
        [{ 'actor[$ne]': 'x' }, 'audit.search.unknown_filter'],
        [{ actor: ['a', 'b'] }, 'audit.search.invalid_filter'],
        [{ action: 'application%' }, 'audit.search.invalid_filter'],
        [{ action: "x' OR 1=1 --" }, 'audit.search.invalid_filter'],
        [{ before: '0' }, 'audit.search.invalid_filter'],
        [{ before: '12abc' }, 'audit.search.invalid_filter'],
        [{ partner: '../etc' }, 'audit.search.invalid_filter'],
        [{ partner: 'no-such-partner' }, 'audit.search.unknown_partner'],
        [{ actor: 'x\u0000y' }, 'audit.search.invalid_filter'],
      ];
      const n = head();
      for (const [raw, code] of cases) {
        await assert.rejects(w.search.search(officer, raw), (e: { code?: string; status?: number }) => {
          assert.equal(e.code, code, JSON.stringify(raw));
          assert.equal(e.status, 400);
          return true;
        });
      }
      assert.equal(head(), n);
    });

    it('treats hostile values as values: an injection attempt in actor finds nothing and changes nothing', async () => {
      const n = all().length;
      const page = await w.search.search(officer, { actor: "' OR 1=1; DROP TABLE audit_events; --" });
      assert.equal(page.rows.length, 0);
      assert.equal(all().length, n + 1);
      assert.equal((await w.portal.audit.verify()).ok, true);
    });

    it('is for staff only', async () => {
      const n = head();
      await assert.rejects(w.search.search({ id: 'a', kind: 'applicant', label: 'a@example.test', roles: [] }, {}), { code: 'auth.forbidden', status: 403 });
      assert.equal(head(), n);
    });

    it('is served by the indexes of migration 0015 (time, actor label, data.partnerId)', () => {
      const plan = (sql: string, params: unknown[]) =>
        (w.portal.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
      assert.match(plan("SELECT * FROM audit_events WHERE at >= ? AND at < ? ORDER BY seq DESC LIMIT 10", ['2026-01-01', '2026-01-02']), /audit_events_at/);
      assert.match(plan('SELECT * FROM audit_events WHERE actor_label = ?', ['x']), /audit_events_actor_label/);
      assert.match(plan("SELECT * FROM audit_events WHERE json_valid(data) AND json_extract(data, '$.partnerId') IN (SELECT value FROM json_each(?))", ['["x"]']), /audit_events_data_partner/);
    });
  });

  describe('GET /staff/audit', () => {
    it('renders a page of rows for staff, with a link to older events carrying the filters', async () => {
      const staff = await w.staff(['reviewer']);
      const r = await staff.get('/staff/audit?action=application&pageSize=3').set('Accept', 'text/html');
      assert.equal(r.status, 200);
      assert.equal(r.headers['cache-control'], 'no-store');
      assert.equal((r.text.match(/class="audit-row"/g) ?? []).length, 3);
      assert.match(r.text, /<code class="audit-action">application\./);
      const next = /href="([^"]+)" id="next-page"/.exec(r.text);
      assert.ok(next?.[1]);
      const href = next[1].replace(/&amp;/g, '&');
      assert.match(href, /^\/staff\/audit\?action=application&pageSize=3&before=\d+$/);
      const older = await staff.get(href).set('Accept', 'text/html');
      assert.equal(older.status, 200);
      assert.match(older.text, /id="first-page"/);
    });

    it('answers JSON to JSON clients', async () => {
      const staff = await w.staff(['admin']);
      const r = await staff.get(`/staff/audit?partner=${w.acme.id}&pageSize=2`).set('Accept', 'application/json');
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.body).sort(), ['filters', 'next', 'nextBefore', 'pageSize', 'rows']);
      assert.equal(r.body.rows.length, 2);
      assert.deepEqual(r.body.filters, { partner: w.acme.id, pageSize: 2 });
      assert.equal(r.body.next, `/staff/audit?partner=${w.acme.id}&pageSize=2&before=${r.body.nextBefore}`);
    });

    it('answers bad input with 400 and its code (page or problem details), recording nothing', async () => {
      const staff = await w.staff(['reviewer']);
      const before = searched();
      const page = await staff.get('/staff/audit?from=2026-02-30').set('Accept', 'text/html');
      assert.equal(page.status, 400);
      assert.equal(errorCodeFrom(page.text), 'audit.search.invalid_date');
      assert.match(page.text, /value="2026-02-30"/);
      assert.match(page.text, /aria-invalid="true"/);
      for (const [q, code] of [
        ['pageSize=100000', 'audit.search.page_size'],
        ['sort=seq', 'audit.search.unknown_filter'],
        ['actor=a&actor=b', 'audit.search.invalid_filter'],
        ['from=2026-03-02&to=2026-03-01', 'audit.search.invalid_range'],
      ]) {
        const r = await staff.get(`/staff/audit?${q}`).set('Accept', 'application/json');
        assert.equal(r.status, 400, q);
        assert.equal(r.headers['content-type'], 'application/problem+json; charset=utf-8');
        assert.equal(r.body.code, code, q);
      }
      // Hostile text is printed back escaped.
      const xss = await staff.get(`/staff/audit?action=${encodeURIComponent('<script>x</script>')}`).set('Accept', 'text/html');
      assert.equal(xss.status, 400);
      assert.doesNotMatch(xss.text, /<script>x<\/script>/);
      assert.equal(searched(), before);
    });

    it('refuses non-staff: signed out to the staff sign-in, an applicant 403', async () => {
      const before = searched();
      const anon = await w.agent().get('/staff/audit').set('Accept', 'text/html');
      assert.equal(anon.status, 302);
      assert.equal(anon.headers.location, `/staff/login?next=${encodeURIComponent('/staff/audit')}`);
      const applicant = await w.applicant();
      const r = await applicant.get('/staff/audit').set('Accept', 'application/json');
      assert.equal(r.status, 403);
      assert.equal(r.body.code, 'auth.forbidden');
      assert.equal(searched(), before);
    });

    it('bounds the page size the page offers', () => {
      assert.equal(parseAuditQuery({}).pageSize, AUDIT_PAGE_SIZE.default);
      assert.equal(parseAuditQuery({ pageSize: String(AUDIT_PAGE_SIZE.max) }).pageSize, 200);
    });
  });
});
