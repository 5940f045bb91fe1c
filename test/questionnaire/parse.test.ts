import assert from 'node:assert/strict';
import { loadQuestionnaire, parseFormAnswers, type Answers, type QuestionnaireContext } from '../../src/questionnaire/service.js';
import { AIS, AIS_PIS, NOW } from './fixtures.js';

const q = loadQuestionnaire();
const parse = (form: Record<string, unknown>, current: Answers = {}, ctx: QuestionnaireContext = AIS_PIS) =>
  parseFormAnswers(q, ctx, form, current, { now: NOW });

/** One field: its parsed value, or its error message. */
function one(id: string, raw: unknown, gates: Answers = { 'q.hosts_data': true, 'q.pentest': true, 'q.uses_tsp': true }) {
  const r = parse({ [id]: raw }, gates);
  return { value: r.answers[id], error: r.errors[id] };
}
const ok = (id: string, raw: unknown, expected: unknown) => {
  const r = one(id, raw);
  assert.equal(r.error, undefined, `${id} ${JSON.stringify(raw)}: ${r.error}`);
  assert.deepEqual(r.value, expected, `${id} ${JSON.stringify(raw)}`);
};
const bad = (id: string, raw: unknown, message: RegExp) => {
  const r = one(id, raw);
  assert.ok(r.error, `${id} ${JSON.stringify(raw).slice(0, 60)} should fail`);
  assert.match(r.error, message);
  assert.equal(r.value, undefined, 'nothing stored for a failed field');
};

describe('questionnaire: parsing posted answers', () => {
  it('yes/no', () => {
    ok('q.mfa_staff', 'yes', true);
    ok('q.mfa_staff', 'no', false);
    ok('q.mfa_staff', ' YES ', true);
    ok('q.mfa_staff', true, true);
    ok('q.mfa_staff', '', null);
    bad('q.mfa_staff', 'maybe', /^Choose yes or no\.$/);
    bad('q.mfa_staff', 1, /^Choose yes or no\.$/);
    bad('q.mfa_staff', ['yes', 'no'], /^Give one answer only\.$/);
    bad('q.mfa_staff', { yes: true }, /could not be read/);
  });

  it('choice: option values only', () => {
    ok('q.key_storage', 'hsm', 'hsm');
    ok('q.key_storage', '  cloud_kms ', 'cloud_kms');
    ok('q.key_storage', '', null);
    for (const v of ['HSM', 'floppy', '__proto__', 'constructor', 'Hardware security module (HSM)']) {
      bad('q.key_storage', v, /^Choose one of the options listed\.$/);
    }
    bad('q.key_storage', ['hsm'], /Give one answer only/);
    bad('q.key_storage', 5, /options listed/);
  });

  it('multi: repeated field or array, unique and known, stored in data order', () => {
    ok('q.sdlc_controls', 'code_review', ['code_review']);
    ok('q.sdlc_controls', ['secrets_scanning', 'code_review'], ['code_review', 'secrets_scanning']);
    ok('q.sdlc_controls', ['', 'code_review'], ['code_review']); // the hidden empty field that lets unticking clear
    ok('q.sdlc_controls', [''], null);
    ok('q.sdlc_controls', '', null);
    ok('q.sdlc_controls', ['none'], ['none']);
    bad('q.sdlc_controls', ['code_review', 'code_review'], /at most once/);
    bad('q.sdlc_controls', ['code_review', 'pair_programming'], /only from the options/);
    bad('q.sdlc_controls', ['none', 'code_review'], /"None of these" cannot be combined/);
    bad('q.sdlc_controls', [['code_review']], /could not be read/);
    bad('q.sdlc_controls', [{ value: 'code_review' }], /could not be read/);
    bad('q.sdlc_controls', Array.from({ length: 10_000 }, () => 'code_review'), /at most once/);
  });

  it('number: finite, within bounds, whole where asked, plain digits only', () => {
    ok('q.patch_critical_days', '30', 30);
    ok('q.patch_critical_days', ' 7 ', 7);
    ok('q.patch_critical_days', 0, 0);
    ok('q.patch_critical_days', '0', 0);
    ok('q.patch_critical_days', '365', 365);
    ok('q.patch_critical_days', '', null);
    const msg = /^Enter a whole number of days from 0 to 365, like 7\.$/;
    for (const v of ['NaN', 'Infinity', '-Infinity', '1e3', '0x10', '-1', '366', '7.5', 'seven', '7 days', '١٢', '9'.repeat(400)]) {
      bad('q.patch_critical_days', v, msg);
    }
    for (const v of [NaN, Infinity, -Infinity, 7.5, 1e308, -0.1]) bad('q.patch_critical_days', v, msg);
    bad('q.patch_critical_days', ['7', '8'], /Give one answer only/);
    bad('q.incident_notify_hours', '10000', /^Enter a whole number of hours from 0 to 720, like 24\.$/);
  });

  it('date: real calendar dates, not in the future, from 2000', () => {
    ok('q.pentest_date', '2026-02-28', '2026-02-28');
    ok('q.pentest_date', ' 2024-02-29 ', '2024-02-29');
    ok('q.pentest_date', '2026-05-15', '2026-05-15'); // today is fine
    ok('q.pentest_date', '', null);
    const notADate = /^Enter a real date as YYYY-MM-DD/;
    for (const v of ['2026-02-30', '2025-02-29', '2026-13-01', '2026-00-10', '2026-1-5', '15/05/2026', '2026-05-15T00:00:00Z', 'yesterday']) {
      bad('q.pentest_date', v, notADate);
    }
    bad('q.pentest_date', 1747267200000, notADate);
    bad('q.pentest_date', '2026-05-16', /in the future/);
    bad('q.pentest_date', '2999-01-01', /in the future/);
    bad('q.pentest_date', '1999-12-31', /from 2000/);
  });

  it('text: trimmed, CRLF normalised, at most 2000 characters, no control characters', () => {
    ok('q.tsp_assurance', '  Acme Connect\r\nISAE 3402  ', 'Acme Connect\nISAE 3402');
    ok('q.tsp_assurance', 'x'.repeat(2000), 'x'.repeat(2000));
    ok('q.tsp_assurance', '<script>alert(1)</script>', '<script>alert(1)</script>'); // stored as text; pages escape
    bad('q.tsp_assurance', 'x'.repeat(10_000), /^Keep this answer under 2000 characters \(it has 10000\)\.$/);
    bad('q.tsp_assurance', 'Acme\u0000Connect', /control characters/);
    bad('q.tsp_assurance', ['a', 'b'], /Give one answer only/);
  });

  it('url: https only, no credentials', () => {
    ok('q.vdp_url', 'https://example.com/security', 'https://example.com/security');
    ok('q.vdp_url', ' https://Example.com ', 'https://example.com/');
    const msg = /^Enter a web address starting with https:\/\//;
    for (const v of [
      'javascript:alert(1)',
      'JAVASCRIPT:alert(1)',
      'http://example.com',
      'data:text/html,hi',
      'https://user:pw@example.com/',
      'https://localhost/',
      'https://',
      '//example.com',
      'example.com',
      `https://example.com/${'a'.repeat(10_000)}`,
    ]) {
      bad('q.vdp_url', v, msg);
    }
  });

  it('keeps what parses, reports the rest, and leaves absent fields alone', () => {
    const current: Answers = { 'q.mfa_staff': true, 'q.access_review': 'yearly', 'q.ir_plan': 'none' };
    const r = parse({ 'q.mfa_staff': 'perhaps', 'q.access_review': 'quarterly', 'q.patch_critical_days': 'soon' }, current);
    assert.deepEqual(r.errors, {
      'q.mfa_staff': 'Choose yes or no.',
      'q.patch_critical_days': 'Enter a whole number of days from 0 to 365, like 7.',
    });
    assert.deepEqual(r.answers, { 'q.mfa_staff': true, 'q.access_review': 'quarterly', 'q.ir_plan': 'none' });
    assert.deepEqual(current, { 'q.mfa_staff': true, 'q.access_review': 'yearly', 'q.ir_plan': 'none' }, 'input not mutated');
    assert.deepEqual(parse({ 'q.ir_plan': '' }, current).answers['q.ir_plan'], null, 'empty clears');
  });

  it('ignores unknown fields and questions that do not apply', () => {
    const r = parse({ _csrf: 'x', 'q.nope': 'yes', 'q.fraud_controls': ['payee_check'], 'q.encryption': ['tls12'] }, {}, AIS);
    assert.deepEqual(r.answers, {});
    assert.deepEqual(r.errors, {});
  });

  it('a gate and the questions it opens may be posted together', () => {
    const r = parse({ 'q.hosts_data': 'yes', 'q.encryption': ['tls12'], 'q.data_location': 'mars' }, {}, AIS);
    assert.deepEqual(r.answers, { 'q.hosts_data': true, 'q.encryption': ['tls12'] });
    assert.deepEqual(Object.keys(r.errors), ['q.data_location']);
  });

  it('closing a gate keeps the stored answers behind it (the caller decides) but stops accepting new ones', () => {
    const current: Answers = { 'q.hosts_data': true, 'q.encryption': ['tls12'], 'q.retired_question': 'kept' };
    const r = parse({ 'q.hosts_data': 'no', 'q.encryption': ['at_rest_aes256'] }, current, AIS);
    assert.deepEqual(r.answers, { 'q.hosts_data': false, 'q.encryption': ['tls12'], 'q.retired_question': 'kept' });
  });

  it('hostile keys: __proto__ in the form or in stored answers pollutes nothing', () => {
    const form = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"x": 1}}, "q.mfa_staff": "yes"}') as Record<string, unknown>;
    const current = JSON.parse('{"__proto__": {"evil": true}, "q.access_review": "yearly"}') as Answers;
    const r = parse(form, current);
    assert.equal(Object.getPrototypeOf(r.answers), Object.prototype);
    assert.equal(Object.getPrototypeOf(r.errors), Object.prototype);
    assert.equal((r.answers as Record<string, unknown>).evil, undefined);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(r.answers['q.mfa_staff'], true);
    assert.equal(r.answers['q.access_review'], 'yearly');
    assert.deepEqual(Object.keys(r.answers).sort(), ['q.access_review', 'q.mfa_staff'], 'keys that cannot be question ids are dropped');
    assert.deepEqual(r.errors, {});
  });

  it('a form with a null prototype (as some body parsers build) works', () => {
    const form = Object.assign(Object.create(null) as Record<string, unknown>, { 'q.mfa_staff': 'no' });
    assert.equal(parse(form).answers['q.mfa_staff'], false);
  });
});
