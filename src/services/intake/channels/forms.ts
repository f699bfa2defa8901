/**
 * Web forms: per-form configuration (config/forms.yaml) and submissions → candidates (pure apart
 * from `loadForms`, which reads the file).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { StreamdeskError } from '../../../errors.ts';
import { emptyRecord, InvalidPayload, isObject, type Candidate } from '../candidate.ts';

export interface FormConfig {
  readonly id: string;
  readonly allowedOrigins: readonly string[];
  readonly required: readonly string[];
  readonly honeypot: string | undefined;
  readonly rateLimit: { readonly requests: number; readonly windowSeconds: number } | undefined;
}

const NAMED = ['email', 'phone', 'name', 'subject', 'message'] as const;
/** Fields that steer the intake and never become form_fields. */
const CONTROL = ['idempotency_key'];

function fail(message: string): never {
  throw new StreamdeskError('CONFIG_INVALID', `forms file: ${message}`);
}

export function parseForms(source: string): Map<string, FormConfig> {
  const root = parse(source) as unknown;
  if (!isObject(root) || !isObject(root['forms'])) fail('expected a top-level `forms:` mapping');
  const forms = new Map<string, FormConfig>();
  for (const [id, raw] of Object.entries(root['forms'])) {
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(id)) fail(`form id "${id}" must be 1-64 letters, digits, - or _`);
    if (!isObject(raw)) fail(`forms.${id} must be a mapping`);
    const list = (key: string): string[] => {
      const v = raw[key] ?? [];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
        fail(`forms.${id}.${key} must be a list of strings`);
      return v as string[];
    };
    let rateLimit: FormConfig['rateLimit'];
    if (raw['rate_limit'] !== undefined) {
      const rl = raw['rate_limit'];
      const per = isObject(rl) ? /^(\d+)(s|m|h)$/.exec(String(rl['per'])) : null;
      if (!isObject(rl) || typeof rl['requests'] !== 'number' || rl['requests'] < 1 || !per) {
        fail(`forms.${id}.rate_limit must be { requests: <n>, per: <n>s|m|h }`);
      }
      rateLimit = {
        requests: rl['requests'],
        windowSeconds: Number(per[1]) * { s: 1, m: 60, h: 3600 }[per[2] as 's' | 'm' | 'h'],
      };
    }
    forms.set(id, {
      id,
      allowedOrigins: list('allowed_origins'),
      required: list('required'),
      honeypot: typeof raw['honeypot'] === 'string' ? raw['honeypot'] : undefined,
      rateLimit,
    });
  }
  return forms;
}

export function loadForms(file: string): Map<string, FormConfig> {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return fail(`cannot read ${file} (set STREAMDESK_INTAKE_FORMS_FILE)`);
  }
  return parseForms(source);
}

/** Submitted values as strings (JSON numbers and booleans are stringified; nested values refused). */
export function formFields(body: unknown): Record<string, string> {
  if (!isObject(body)) throw new InvalidPayload('a form submission must be an object of fields');
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      fields[k] = String(v).trim();
    else throw new InvalidPayload(`form field ${k} must be a scalar`);
  }
  return fields;
}

export type FormOutcome = { readonly spam: true } | { readonly spam: false; readonly candidate: Candidate };

/** A submission → a candidate, or spam (honeypot filled). `idempotencyKey` comes from a header or field. */
export function parseFormSubmission(
  form: FormConfig,
  fields: Readonly<Record<string, string>>,
  idempotencyKey: string | undefined,
): FormOutcome {
  if (form.honeypot !== undefined && (fields[form.honeypot] ?? '') !== '') return { spam: true };
  const missing = form.required.filter((name) => (fields[name] ?? '') === '');
  if (missing.length > 0) throw new InvalidPayload(`missing required field(s): ${missing.join(', ')}`);
  const email = fields['email'] || undefined;
  const phone = fields['phone'] || undefined;
  if (email === undefined && phone === undefined)
    throw new InvalidPayload('a submission needs an email or a phone field');
  if (email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(email))
    throw new InvalidPayload('the email field is not an email address');
  if (phone !== undefined && !/^\+?[\d\s().-]{5,32}$/.test(phone))
    throw new InvalidPayload('the phone field is not a phone number');
  const key = idempotencyKey ?? (fields['idempotency_key'] || undefined);
  if (key !== undefined && !/^[\w.:-]{8,128}$/.test(key))
    throw new InvalidPayload('the idempotency key must be 8-128 characters of [A-Za-z0-9_.:-]');
  const extra = Object.fromEntries(
    Object.entries(fields).filter(
      ([k]) => !(NAMED as readonly string[]).includes(k) && !CONTROL.includes(k) && k !== form.honeypot,
    ),
  );
  return {
    spam: false,
    candidate: {
      dedupKey: key === undefined ? undefined : `form:${form.id}:${key}`,
      record: emptyRecord({
        kind: 'MESSAGE',
        channel: 'WEB_FORM',
        provider: 'web_form',
        inbox: form.id,
        sender_handle: email ?? phone ?? '',
        sender_aliases: email !== undefined && phone !== undefined ? [phone] : [],
        display_name: fields['name'] || null,
        subject: fields['subject'] || null,
        text_body: fields['message'] || null,
        message_type: 'form',
        form_fields: extra,
      }),
    },
  };
}
