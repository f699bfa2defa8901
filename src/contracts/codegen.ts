/**
 * TypeScript types from Avro schemas (pure: schema JSON in, source text out). One module per subject,
 * checked in under src/contracts/generated/; a test regenerates them and fails on any difference, so
 * the types can never drift from the .avsc contracts.
 *
 * Mapping (as avsc decodes): null→null, boolean→boolean, int/long/float/double→number (long as a JS
 * number; timestamp-millis stays epoch milliseconds), string→string, bytes/fixed→Buffer, enum→a union
 * of its symbols, array→T[], map→Record<string, T>, record→interface, union→T1 | T2.
 */

type Schema = string | Schema[] | { readonly [key: string]: unknown };

interface Emitted {
  readonly order: string[];
  readonly declarations: Map<string, string>;
}

function docComment(doc: unknown, indent: string): string {
  if (typeof doc !== 'string' || doc === '') return '';
  const lines = doc.split('\n');
  if (lines.length === 1) return `${indent}/** ${doc.replaceAll('*/', '* /')} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l.replaceAll('*/', '* /')}`).join('\n')}\n${indent} */\n`;
}

function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

function typeOf(schema: Schema, out: Emitted): string {
  if (typeof schema === 'string') {
    switch (schema) {
      case 'null':
        return 'null';
      case 'boolean':
        return 'boolean';
      case 'int':
      case 'long':
      case 'float':
      case 'double':
        return 'number';
      case 'string':
        return 'string';
      case 'bytes':
        return 'Buffer';
      default:
        // A reference to a named type declared earlier.
        return shortName(schema);
    }
  }
  if (Array.isArray(schema)) {
    // `T | null` reads better than `null | T`.
    const branches = schema.map((s) => typeOf(s, out));
    return [...branches.filter((b) => b !== 'null'), ...branches.filter((b) => b === 'null')].join(' | ');
  }
  const type = schema['type'] as Schema;
  switch (type) {
    case 'record':
      return declareRecord(schema, out);
    case 'enum':
      return declareEnum(schema, out);
    case 'fixed':
      return 'Buffer';
    case 'array': {
      const items = typeOf(schema['items'] as Schema, out);
      return items.includes('|') ? `(${items})[]` : `${items}[]`;
    }
    case 'map':
      return `Record<string, ${typeOf(schema['values'] as Schema, out)}>`;
    default:
      // { "type": "long", "logicalType": ... } and other annotated primitives.
      return typeOf(type, out);
  }
}

function declareRecord(schema: { readonly [key: string]: unknown }, out: Emitted): string {
  const name = shortName(String(schema['name']));
  if (out.declarations.has(name)) return name;
  out.declarations.set(name, ''); // reserve: a record may refer to itself
  const fields = schema['fields'] as { name: string; type: Schema; doc?: string }[];
  const body = fields.map((f) => `${docComment(f.doc, '  ')}  ${f.name}: ${typeOf(f.type, out)};`).join('\n');
  out.declarations.set(name, `${docComment(schema['doc'], '')}export interface ${name} {\n${body}\n}\n`);
  out.order.push(name);
  return name;
}

function declareEnum(schema: { readonly [key: string]: unknown }, out: Emitted): string {
  const name = shortName(String(schema['name']));
  if (out.declarations.has(name)) return name;
  const symbols = schema['symbols'] as string[];
  const constName = `${name.replace(/^./, (c) => c.toLowerCase())}Symbols`;
  out.declarations.set(
    name,
    `${docComment(schema['doc'], '')}export type ${name} = ${symbols.map((s) => `'${s}'`).join(' | ')};\n` +
      `export const ${constName}: readonly ${name}[] = [${symbols.map((s) => `'${s}'`).join(', ')}];\n`,
  );
  out.order.push(name);
  return name;
}

/** The TypeScript module for one subject's schema. */
export function generateModule(subject: string, schemaText: string): string {
  const schema = JSON.parse(schemaText) as Schema;
  const out: Emitted = { order: [], declarations: new Map() };
  const root = typeOf(schema, out);
  const declarations = out.order.map((n) => out.declarations.get(n) ?? '').join('\n');
  return (
    `// Generated from schemas/${subject}.avsc by \`npm run generate\`. Do not edit.\n\n` +
    `${declarations}\n` +
    `/** The Schema Registry subject this type belongs to. */\n` +
    `export const SUBJECT = '${subject}';\n\n` +
    `/** The schema as registered (the .avsc text, parsed). */\n` +
    `export const SCHEMA = ${JSON.stringify(schema)} as const;\n\n` +
    `export type Value = ${root};\n`
  );
}

/** File name of a subject's module: ingestion.raw.messages-value → ingestion-raw-messages-value.ts */
export function moduleFileName(subject: string): string {
  return `${subject.replaceAll('.', '-')}.ts`;
}
