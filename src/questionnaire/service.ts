/**
 * The security questionnaire: versioned question data, the adaptive form (which questions apply to a track and
 * its requested roles, and to earlier answers), strict parsing of posted answers, completeness for submission, and
 * explainable scoring. Pure: no database, no I/O beyond reading the data file once per version.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QuestionnaireDataError, UnknownQuestionnaireVersionError } from './errors.js';
import {
  isScored,
  parseQuestionnaireData,
  TEXT_MAX_LENGTH,
  type OutcomeData,
  type PolicyData,
  type QuestionData,
} from './schema.js';

export type QuestionType = 'yesno' | 'choice' | 'multi' | 'number' | 'date' | 'text' | 'url';
export type AnswerValue = boolean | string | string[] | number | null; // dates as 'YYYY-MM-DD'
export type Answers = Record<string, AnswerValue>;
export type EvidenceState = 'none' | 'provided' | 'verified';
export interface QuestionnaireContext {
  track: 'regulated' | 'partner';
  roles: ('AIS' | 'PIS' | 'CBPII')[];
}
export interface QuestionView {
  id: string;
  domain: string;
  domainLabel: string;
  text: string;
  help: string;
  type: QuestionType;
  options: { value: string; label: string }[];
  required: boolean;
  unit: string | null;
  evidence: { label: string; required: boolean; accept: string[]; maxBytes: number } | null;
}
export interface Questionnaire {
  readonly version: string;
  readonly policyVersion: string;
  readonly title: string;
  readonly policy: Readonly<PolicyData>;
  readonly domains: readonly { readonly id: string; readonly label: string }[];
  /** The validated question definitions, in form order (deeply frozen). */
  readonly questions: readonly QuestionData[];
}
export interface ScoredItem {
  questionId: string;
  domain: string;
  points: number | null;
  maxPoints: 5;
  weight: number;
  evidenceFactor: number;
  reason: string;
  improve: string | null;
  knockOut: boolean;
}
export interface DomainScore {
  id: string;
  label: string;
  score: number | null;
  items: ScoredItem[];
}
export interface ScoreResult {
  questionnaireVersion: string;
  policyVersion: string;
  overall: number | null;
  tier: 'low' | 'medium' | 'high';
  domains: DomainScore[];
  knockOuts: { questionId: string; text: string; reason: string }[];
  items: ScoredItem[];
}

export const CURRENT_QUESTIONNAIRE_VERSION = '2026.1';

const DATA_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'data');
const VERSION_RE = /^\d{4}\.\d{1,3}$/;
const cache = new Map<string, Questionnaire>();

/** The questionnaire of a version (default: the current one), read and validated once, then cached. */
export function loadQuestionnaire(version: string = CURRENT_QUESTIONNAIRE_VERSION): Questionnaire {
  const hit = cache.get(version);
  if (hit) return hit;
  // The version comes from stored rows or URLs: only the strict shape may become part of a file name.
  if (typeof version !== 'string' || !VERSION_RE.test(version)) throw new UnknownQuestionnaireVersionError(String(version));
  const file = path.join(DATA_DIR, `questionnaire-${version}.json`);
  if (!existsSync(file)) throw new UnknownQuestionnaireVersionError(version);
  const q = loadQuestionnaireFile(file);
  if (q.version !== version) {
    throw new QuestionnaireDataError(path.basename(file), `version: the file says ${q.version}, its name says ${version}`);
  }
  cache.set(version, q);
  return q;
}

/** Reads and validates one data file, uncached (tests and tooling). Throws QuestionnaireDataError when bad. */
export function loadQuestionnaireFile(file: string): Questionnaire {
  const source = path.basename(file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new QuestionnaireDataError(source, `not readable JSON (${err instanceof Error ? err.message : String(err)})`, err);
  }
  return questionnaireFromData(raw, source);
}

/** Validates already-parsed data and builds the (frozen) questionnaire. */
export function questionnaireFromData(raw: unknown, source = 'questionnaire data'): Questionnaire {
  const data = parseQuestionnaireData(raw, source);
  return deepFreeze({
    version: data.version,
    policyVersion: data.policy.policyVersion,
    title: data.title,
    policy: data.policy,
    domains: data.domains,
    questions: data.questions,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Applicability

/** Walks the questions in order; gates always point backwards (checked at load), so one pass suffices. */
function applicability(q: Questionnaire, ctx: QuestionnaireContext, answerOf: (def: QuestionData) => AnswerValue): Map<string, boolean> {
  const result = new Map<string, boolean>();
  for (const def of q.questions) result.set(def.id, applies(def, ctx, result, answerOf, q));
  return result;
}

function applies(
  def: QuestionData,
  ctx: QuestionnaireContext,
  earlier: Map<string, boolean>,
  answerOf: (def: QuestionData) => AnswerValue,
  q: Questionnaire,
): boolean {
  const when = def.appliesWhen;
  if (!when) return true;
  if (when.roles && !when.roles.some((r) => ctx.roles.includes(r))) return false;
  if (when.tracks && !when.tracks.includes(ctx.track)) return false;
  if (when.answer) {
    const gate = q.questions.find((g) => g.id === when.answer!.question);
    if (!gate || earlier.get(gate.id) !== true) return false;
    return answerOf(gate) === when.answer.equals;
  }
  return true;
}

function applicableDefs(q: Questionnaire, ctx: QuestionnaireContext, answers: Answers): QuestionData[] {
  const map = applicability(q, ctx, (def) => storedAnswer(def, answers));
  return q.questions.filter((def) => map.get(def.id) === true);
}

/** The questions to show for this context and these answers, in form order. */
export function applicableQuestions(q: Questionnaire, ctx: QuestionnaireContext, answers: Answers): QuestionView[] {
  return applicableDefs(q, ctx, answers).map((def) => toView(q, def));
}

function toView(q: Questionnaire, def: QuestionData): QuestionView {
  const options =
    def.type === 'yesno'
      ? [
          { value: 'yes', label: 'Yes' },
          { value: 'no', label: 'No' },
        ]
      : def.type === 'choice' || def.type === 'multi'
        ? def.options.map((o) => ({ value: o.value, label: o.label }))
        : [];
  return {
    id: def.id,
    domain: def.domain,
    domainLabel: q.domains.find((d) => d.id === def.domain)?.label ?? def.domain,
    text: def.text,
    help: def.help,
    type: def.type,
    options,
    required: def.required,
    unit: def.type === 'number' ? def.unit : null,
    evidence: def.evidence
      ? { label: def.evidence.label, required: def.evidence.required, accept: [...def.evidence.accept], maxBytes: def.evidence.maxBytes }
      : null,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Stored answers

function own<T>(record: Record<string, T> | null | undefined, key: string): T | undefined {
  return record && typeof record === 'object' && Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * A stored answer if it still has the right shape for the question, else null. Stored answers come from the
 * database and may predate a data change; scoring and gates must never trust them blindly.
 */
function storedAnswer(def: QuestionData, answers: Answers): AnswerValue {
  const v = own(answers, def.id);
  switch (def.type) {
    case 'yesno':
      return typeof v === 'boolean' ? v : null;
    case 'choice':
      return typeof v === 'string' && def.options.some((o) => o.value === v) ? v : null;
    case 'multi':
      return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && def.options.some((o) => o.value === x))
        ? [...new Set(v)]
        : null;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) && v >= def.min && v <= def.max ? v : null;
    case 'date':
      return typeof v === 'string' && isCalendarDate(v) ? v : null;
    case 'text':
    case 'url':
      return typeof v === 'string' && v.trim() !== '' ? v : null;
  }
}

function evidenceState(evidence: Record<string, EvidenceState>, id: string): EvidenceState {
  const s = own(evidence, id);
  return s === 'provided' || s === 'verified' ? s : 'none';
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing posted forms

type Parsed = { ok: true; value: AnswerValue } | { ok: false; message: string };
const fail = (message: string): Parsed => ({ ok: false, message });
const ANSWER_KEY_RE = /^q\.[a-z0-9_]+(\.[a-z0-9_]+)*$/;

/**
 * Parses a posted form (field name = question id; multi = repeated field or array; yes/no as 'yes'/'no'); empty →
 * null (cleared). Only applicable questions; unknown fields ignored. A field that is absent leaves the stored answer
 * alone (a form with only checkboxes for a multi question should send a hidden empty field of the same name so that
 * unticking everything clears it). A field that fails keeps the stored answer and reports an error.
 * Applicability is decided on the answers as they will be after this form, so a gate and the questions it opens
 * may be posted together. `opts.now` decides what "in the future" means for dates.
 */
export function parseFormAnswers(
  q: Questionnaire,
  ctx: QuestionnaireContext,
  form: Record<string, unknown>,
  current: Answers,
  opts: { now?: Date } = {},
): { answers: Answers; errors: Record<string, string> } {
  const now = opts.now ?? new Date();
  // Stored answers to questions not shown (other versions, closed gates) are kept; keys that cannot be a question
  // id at all (such as __proto__) are dropped, and a Map keeps them from ever touching a prototype meanwhile.
  const merged = new Map<string, AnswerValue>(
    current && typeof current === 'object' ? Object.entries(current).filter(([k]) => ANSWER_KEY_RE.test(k)) : [],
  );
  const view: Answers = Object.fromEntries(merged);
  const errors: [string, string][] = [];
  const applicable = new Map<string, boolean>();
  for (const def of q.questions) {
    const ok = applies(def, ctx, applicable, (gate) => storedAnswer(gate, view), q);
    applicable.set(def.id, ok);
    if (!ok) continue;
    const raw = own(form as Record<string, unknown>, def.id);
    if (raw === undefined) continue;
    const parsed = parseOne(def, raw, now);
    if (parsed.ok) {
      merged.set(def.id, parsed.value);
      view[def.id] = parsed.value; // def.id matches ^q\. so it cannot be a prototype key
    } else {
      errors.push([def.id, parsed.message]);
    }
  }
  return { answers: Object.fromEntries(merged), errors: Object.fromEntries(errors) };
}

function parseOne(def: QuestionData, raw: unknown, now: Date): Parsed {
  if (def.type === 'multi') return parseMulti(def, raw);
  if (Array.isArray(raw)) return fail('Give one answer only.');
  if (raw === null) return { ok: true, value: null };
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return fail('This answer could not be read.');
  switch (def.type) {
    case 'yesno': {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      const s = String(raw).trim().toLowerCase();
      if (s === '') return { ok: true, value: null };
      if (s === 'yes') return { ok: true, value: true };
      if (s === 'no') return { ok: true, value: false };
      return fail('Choose yes or no.');
    }
    case 'choice': {
      if (typeof raw !== 'string') return fail('Choose one of the options listed.');
      const s = raw.trim();
      if (s === '') return { ok: true, value: null };
      return def.options.some((o) => o.value === s) ? { ok: true, value: s } : fail('Choose one of the options listed.');
    }
    case 'number':
      return parseNumber(def, raw);
    case 'date':
      return parseDate(raw, now);
    case 'text':
      return parseText(raw, Math.min(def.maxLength, TEXT_MAX_LENGTH));
    case 'url':
      return parseUrl(raw);
  }
}

function parseMulti(def: Extract<QuestionData, { type: 'multi' }>, raw: unknown): Parsed {
  if (raw === null) return { ok: true, value: null };
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length > def.options.length + 1) return fail('Choose each option at most once.');
  if (!list.every((x): x is string => typeof x === 'string')) return fail('This answer could not be read.');
  const chosen = list.map((x) => x.trim()).filter((x) => x !== '');
  if (chosen.length === 0) return { ok: true, value: null };
  if (new Set(chosen).size !== chosen.length) return fail('Choose each option at most once.');
  if (!chosen.every((v) => def.options.some((o) => o.value === v))) return fail('Choose only from the options listed.');
  const exclusive = def.options.find((o) => o.exclusive && chosen.includes(o.value));
  if (exclusive && chosen.length > 1) return fail(`"${exclusive.label}" cannot be combined with other options.`);
  // Stored in the data file's order, so equal selections compare equal.
  return { ok: true, value: def.options.filter((o) => chosen.includes(o.value)).map((o) => o.value) };
}

function parseNumber(def: Extract<QuestionData, { type: 'number' }>, raw: string | number | boolean): Parsed {
  const what = def.integer ? `a whole number of ${def.unit}` : `a number of ${def.unit}`;
  const message = `Enter ${what} from ${def.min} to ${def.max}, like ${def.example}.`;
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string') {
    const s = raw.trim();
    if (s === '') return { ok: true, value: null };
    if (s.length > 20 || !/^-?\d+(\.\d+)?$/.test(s)) return fail(message);
    n = Number(s);
  } else return fail(message);
  if (!Number.isFinite(n) || n < def.min || n > def.max || (def.integer && !Number.isInteger(n))) return fail(message);
  return { ok: true, value: n === 0 ? 0 : n }; // no -0
}

/** Dates in questions are "when did X last happen": real calendar dates, not before 2000, not after today (UTC). */
function parseDate(raw: string | number | boolean, now: Date): Parsed {
  const example = 'Enter a real date as YYYY-MM-DD, for example 2025-11-30.';
  if (typeof raw !== 'string') return fail(example);
  const s = raw.trim();
  if (s === '') return { ok: true, value: null };
  if (!isCalendarDate(s)) return fail(example);
  if (s < '2000-01-01') return fail('Enter a date from 2000 onwards.');
  if (s > isoDay(now)) return fail('That date is in the future. Enter the date it last happened.');
  return { ok: true, value: s };
}

function parseText(raw: string | number | boolean, max: number): Parsed {
  if (typeof raw !== 'string') return fail('This answer could not be read.');
  const s = raw.replace(/\r\n?/g, '\n').trim();
  if (s === '') return { ok: true, value: null };
  if (s.length > max) return fail(`Keep this answer under ${max} characters (it has ${s.length}).`);
  // eslint-disable-next-line no-control-regex -- the point is to find control characters
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s)) return fail('Remove the control characters from this answer.');
  return { ok: true, value: s };
}

function parseUrl(raw: string | number | boolean): Parsed {
  const message = 'Enter a web address starting with https://, like https://example.com/security.';
  if (typeof raw !== 'string') return fail(message);
  const s = raw.trim();
  if (s === '') return { ok: true, value: null };
  if (s.length > TEXT_MAX_LENGTH || !/^https:\/\//i.test(s)) return fail(message);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return fail(message);
  }
  if (url.protocol !== 'https:' || !url.hostname.includes('.') || url.username !== '' || url.password !== '') return fail(message);
  return { ok: true, value: url.href };
}

function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The day `months` calendar months before `now` (UTC), clamped to the month's end: 2026-03-31 − 1 → 2026-02-28. */
function monthsBefore(now: Date, months: number): string {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth() - months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return isoDay(new Date(Date.UTC(y, m, Math.min(now.getUTCDate(), lastDay))));
}

// ---------------------------------------------------------------------------------------------------------------
// Completeness

/** Completeness for submission: required applicable questions answered, required evidence present. */
export function incompleteItems(
  q: Questionnaire,
  ctx: QuestionnaireContext,
  answers: Answers,
  evidence: Record<string, EvidenceState>,
): { questionId: string; message: string }[] {
  const out: { questionId: string; message: string }[] = [];
  for (const def of applicableDefs(q, ctx, answers)) {
    const v = storedAnswer(def, answers);
    if (v === null) {
      if (def.required) out.push({ questionId: def.id, message: 'Answer this question.' });
      continue;
    }
    if (def.evidence?.required && !evidenceExempt(def, v) && evidenceState(evidence, def.id) === 'none') {
      out.push({ questionId: def.id, message: `Upload ${def.evidence.label}.` });
    }
  }
  return out;
}

/** No file is needed for answers that claim nothing ("we have none"). */
function evidenceExempt(def: QuestionData, v: AnswerValue): boolean {
  const unless = def.evidence?.unlessAnswer ?? [];
  const values = Array.isArray(v) ? v : [v];
  return values.length > 0 && values.every((x) => unless.includes(x as string | boolean));
}

// ---------------------------------------------------------------------------------------------------------------
// Scoring

/**
 * Scores the applicable questions. Per item: points 0–5 from the data's rules, times an evidence factor (by the
 * evidence state for questions that take evidence, `notApplicable` for those that do not). Domain score = weighted
 * mean of points/5 × factor × 100 over counted items (answered, or required and unanswered = 0); optional unanswered
 * items are shown with points null and not counted. Overall = weighted mean of the domains by their summed weights,
 * computed from the unrounded values; both rounded to one decimal. Tier: high on any knock-out or overall below
 * `highBelow` (also when nothing could be scored), low above `lowAbove`, medium otherwise (on the rounded overall).
 */
export function scoreQuestionnaire(
  q: Questionnaire,
  ctx: QuestionnaireContext,
  answers: Answers,
  evidence: Record<string, EvidenceState>,
  opts: { now?: Date } = {},
): ScoreResult {
  const now = opts.now ?? new Date();
  const items: ScoredItem[] = [];
  const knockOuts: ScoreResult['knockOuts'] = [];
  for (const def of applicableDefs(q, ctx, answers)) {
    if (!isScored(def)) continue;
    const v = storedAnswer(def, answers);
    const { item, knockOut } = scoreItem(q.policy, def, v, evidenceState(evidence, def.id), ctx, now);
    items.push(item);
    if (knockOut) knockOuts.push({ questionId: def.id, text: def.text, reason: knockOut });
  }

  let totalWeight = 0;
  let totalScore = 0;
  const domains: DomainScore[] = [];
  for (const d of q.domains) {
    const own = items.filter((i) => i.domain === d.id);
    if (own.length === 0) continue;
    const counted = own.filter((i) => i.points !== null);
    const w = counted.reduce((s, i) => s + i.weight, 0);
    const sum = counted.reduce((s, i) => s + i.weight * ((i.points ?? 0) / 5) * i.evidenceFactor, 0);
    totalWeight += w;
    totalScore += sum;
    domains.push({ id: d.id, label: d.label, score: w > 0 ? round1((sum / w) * 100) : null, items: own });
  }
  const overall = totalWeight > 0 ? round1((totalScore / totalWeight) * 100) : null;
  return {
    questionnaireVersion: q.version,
    policyVersion: q.policyVersion,
    overall,
    tier: riskTier(q.policy, overall, knockOuts.length > 0),
    domains,
    knockOuts,
    items,
  };
}

/** The residual risk tier for a (rounded) overall score under a policy. */
export function riskTier(policy: Readonly<PolicyData>, overall: number | null, anyKnockOut: boolean): 'low' | 'medium' | 'high' {
  if (anyKnockOut || overall === null || overall < policy.tiers.highBelow) return 'high';
  return overall > policy.tiers.lowAbove ? 'low' : 'medium';
}

function round1(x: number): number {
  // The small nudge keeps binary noise (79.94999…) from deciding a half-way rounding.
  return Math.round(x * 10 + 1e-9) / 10;
}

interface Outcome {
  points: number;
  reason: string;
  improve?: string | undefined;
}

function scoreItem(
  policy: Readonly<PolicyData>,
  def: QuestionData,
  v: AnswerValue,
  state: EvidenceState,
  ctx: QuestionnaireContext,
  now: Date,
): { item: ScoredItem; knockOut: string | null } {
  const f = policy.evidenceFactors;
  const evidenceFactor = def.evidence === null ? f.notApplicable : state === 'verified' ? f.verified : state === 'provided' ? f.provided : f.selfDeclared;
  const ko = knockOutFor(def, v, ctx, now);
  const item = (points: number | null, reason: string, improve: string | null): ScoredItem => ({
    questionId: def.id,
    domain: def.domain,
    points,
    maxPoints: 5,
    weight: def.weight,
    evidenceFactor,
    reason: ko ? `Knock-out: ${ko}` : reason,
    improve,
    knockOut: ko !== null,
  });

  if (v === null) {
    return {
      item: def.required
        ? item(0, 'Not answered', 'Answer this question.')
        : item(null, 'Not answered (optional, not counted)', 'Answering this question can raise the score.'),
      knockOut: ko,
    };
  }

  const o = outcomeFor(def, v, now);
  const improve: string[] = [];
  if (o.points < 5) improve.push(o.improve ?? def.improve ?? 'See the help text for what a top answer looks like.');
  if (def.evidence && o.points > 0 && evidenceFactor < f.verified && !evidenceExempt(def, v)) {
    improve.push(state === 'none' ? `Upload ${def.evidence.label}.` : 'A reviewer still has to verify the evidence you uploaded.');
  }
  return { item: item(o.points, o.reason, improve.length > 0 ? improve.join(' ') : null), knockOut: ko };
}

function outcomeFor(def: QuestionData, v: Exclude<AnswerValue, null>, now: Date): Outcome {
  switch (def.type) {
    case 'yesno':
      return def.scoring ? (v === true ? def.scoring.yes : def.scoring.no) : zero();
    case 'choice': {
      const o = def.options.find((x) => x.value === v)!;
      return { points: o.points, reason: o.reason ?? `Answered "${o.label}".`, improve: o.improve };
    }
    case 'multi': {
      const chosen = def.options.filter((o) => (v as string[]).includes(o.value));
      const labels = chosen.map((o) => o.label).join('; ');
      if (def.scoring.mode === 'sum') {
        const sum = chosen.reduce((s, o) => s + o.points, 0);
        return { points: Math.min(5, sum), reason: `Selected: ${labels} (${sum} point${sum === 1 ? '' : 's'}${sum > 5 ? ', capped at 5' : ''}).` };
      }
      const count = chosen.filter((o) => !o.exclusive).length;
      const t: OutcomeData = def.scoring.thresholds.find((x) => count >= x.min) ?? def.scoring.otherwise;
      return { points: t.points, reason: `${t.reason} Selected: ${labels}.`, improve: t.improve };
    }
    case 'number': {
      const n = v as number;
      return def.scoring.thresholds.find((t) => n <= t.max) ?? def.scoring.otherwise;
    }
    case 'date': {
      const d = v as string;
      return def.scoring.thresholds.find((t) => d >= monthsBefore(now, t.withinMonths)) ?? def.scoring.otherwise;
    }
    case 'text':
    case 'url':
      return def.scoring ? def.scoring.answered : zero();
  }
}

function zero(): Outcome {
  return { points: 0, reason: 'Not scored.' };
}

/** The reason of the first matching knock-out rule that applies to this context, or null. */
function knockOutFor(def: QuestionData, v: AnswerValue, ctx: QuestionnaireContext, now: Date): string | null {
  for (const rule of def.knockOut) {
    if (rule.roles && !rule.roles.some((r) => ctx.roles.includes(r))) continue;
    if (rule.tracks && !rule.tracks.includes(ctx.track)) continue;
    const w: unknown = rule.when;
    let hit: boolean;
    if (w === 'unanswered') hit = v === null;
    else if (v === null || typeof w !== 'object' || w === null) hit = false;
    else if ('equals' in w) hit = v === w.equals;
    else if ('includes' in w) hit = Array.isArray(v) && v.includes(w.includes as string);
    else if ('countBelow' in w) hit = Array.isArray(v) && v.filter((x) => !isExclusive(def, x)).length < (w.countBelow as number);
    else if ('greaterThan' in w) hit = typeof v === 'number' && v > (w.greaterThan as number);
    else if ('lessThan' in w) hit = typeof v === 'number' && v < (w.lessThan as number);
    else if ('olderThanMonths' in w) hit = typeof v === 'string' && v < monthsBefore(now, w.olderThanMonths as number);
    else hit = false;
    if (hit) return rule.reason;
  }
  return null;
}

function isExclusive(def: QuestionData, value: string): boolean {
  return 'options' in def && def.options.some((o) => o.value === value && o.exclusive === true);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
