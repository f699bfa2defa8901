import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import type { CompatibilityMode } from '../contracts/catalog.ts';
import { checkCompatibility, readerWriterIncompatibilities, resolveSchema } from './compatibility.ts';

type Field = { name: string; type: unknown; default?: unknown; aliases?: string[] };
const record = (fields: Field[], extra: object = {}) => ({
  type: 'record',
  name: 'Ticket',
  namespace: 'a.b',
  fields,
  ...extra,
});
const enumType = (symbols: string[], withDefault = false) => ({
  type: 'enum',
  name: 'Channel',
  symbols,
  ...(withDefault ? { default: symbols[symbols.length - 1] } : {}),
});

const base: Field[] = [
  { name: 'id', type: 'string' },
  { name: 'priority', type: 'int' },
];

// old → new, and the verdicts under BACKWARD / FORWARD / FULL (the Avro Java rules, as in the notes'
// table verified with avsc; Confluent and Apicurio run the same check).
const cases: { name: string; old: object; new: object; backward: boolean; forward: boolean }[] = [
  {
    name: 'add a field with a default',
    old: record(base),
    new: record([...base, { name: 'tag', type: 'string', default: '' }]),
    backward: true,
    forward: true,
  },
  {
    name: 'add a field without a default',
    old: record(base),
    new: record([...base, { name: 'tag', type: 'string' }]),
    backward: false,
    forward: true,
  },
  {
    name: 'remove a field without a default',
    old: record(base),
    new: record([base[0] as Field]),
    backward: true,
    forward: false,
  },
  {
    name: 'remove a field that had a default',
    old: record([...base, { name: 'tag', type: 'string', default: '' }]),
    new: record(base),
    backward: true,
    forward: true,
  },
  {
    name: 'rename a field with an alias',
    old: record(base),
    new: record([base[0] as Field, { name: 'urgency', type: 'int', aliases: ['priority'] }]),
    backward: true,
    forward: false,
  },
  {
    name: 'rename a field without an alias',
    old: record(base),
    new: record([base[0] as Field, { name: 'urgency', type: 'int' }]),
    backward: false,
    forward: false,
  },
  {
    name: 'int to long',
    old: record(base),
    new: record([base[0] as Field, { name: 'priority', type: 'long' }]),
    backward: true,
    forward: false,
  },
  {
    name: 'long to int',
    old: record([base[0] as Field, { name: 'priority', type: 'long' }]),
    new: record(base),
    backward: false,
    forward: true,
  },
  {
    name: 'string to bytes',
    old: record(base),
    new: record([{ name: 'id', type: 'bytes' }, base[1] as Field]),
    backward: true,
    forward: true,
  },
  {
    name: 'int to string',
    old: record(base),
    new: record([base[0] as Field, { name: 'priority', type: 'string' }]),
    backward: false,
    forward: false,
  },
  {
    name: 'add an enum symbol (no default)',
    old: record([{ name: 'channel', type: enumType(['EMAIL', 'SMS']) }]),
    new: record([{ name: 'channel', type: enumType(['EMAIL', 'SMS', 'CHAT']) }]),
    backward: true,
    forward: false,
  },
  {
    name: 'add an enum symbol when the old enum has a default',
    old: record([{ name: 'channel', type: enumType(['EMAIL', 'UNKNOWN'], true) }]),
    new: record([{ name: 'channel', type: enumType(['EMAIL', 'CHAT', 'UNKNOWN'], true) }]),
    backward: true,
    forward: true,
  },
  {
    name: 'remove an enum symbol (no default)',
    old: record([{ name: 'channel', type: enumType(['EMAIL', 'SMS']) }]),
    new: record([{ name: 'channel', type: enumType(['EMAIL']) }]),
    backward: false,
    forward: true,
  },
  {
    name: 'make a field nullable',
    old: record(base),
    new: record([base[0] as Field, { name: 'priority', type: ['null', 'int'], default: null }]),
    backward: true,
    forward: false,
  },
  {
    name: 'a nested record gains a field without default inside a nullable array item',
    old: record([
      {
        name: 'items',
        type: {
          type: 'array',
          items: ['null', { type: 'record', name: 'Item', fields: [{ name: 'a', type: 'string' }] }],
        },
      },
    ]),
    new: record([
      {
        name: 'items',
        type: {
          type: 'array',
          items: [
            'null',
            {
              type: 'record',
              name: 'Item',
              fields: [
                { name: 'a', type: 'string' },
                { name: 'b', type: 'long' },
              ],
            },
          ],
        },
      },
    ]),
    backward: false,
    forward: true,
  },
];

function verdict(oldSchema: object, newSchema: object, mode: CompatibilityMode): boolean {
  return (
    checkCompatibility(
      resolveSchema(JSON.stringify(newSchema)),
      [{ label: 'version 1', schema: resolveSchema(JSON.stringify(oldSchema)) }],
      mode,
    ).length === 0
  );
}

/** avsc as a second oracle: a resolver can be built iff the reader can read the writer's data. */
function avscCanRead(reader: object, writer: object): boolean {
  try {
    avro.Type.forSchema(reader as avro.Schema).createResolver(avro.Type.forSchema(writer as avro.Schema));
    return true;
  } catch {
    return false;
  }
}

describe('Avro compatibility verdicts', () => {
  for (const c of cases) {
    it(`${c.name}: BACKWARD ${c.backward ? 'ok' : 'breaks'}, FORWARD ${c.forward ? 'ok' : 'breaks'}`, () => {
      expect(verdict(c.old, c.new, 'BACKWARD')).toBe(c.backward);
      expect(verdict(c.old, c.new, 'FORWARD')).toBe(c.forward);
      expect(verdict(c.old, c.new, 'FULL')).toBe(c.backward && c.forward);
      expect(avscCanRead(c.new, c.old)).toBe(c.backward);
      expect(avscCanRead(c.old, c.new)).toBe(c.forward);
    });
  }

  it('a namespace change alone is compatible (Avro matches unqualified names)', () => {
    expect(verdict(record(base), record(base, { namespace: 'other.ns' }), 'FULL')).toBe(true);
  });

  it('a record renamed without alias is a name mismatch; with an alias it is not', () => {
    expect(verdict(record(base), record(base, { name: 'Issue' }), 'BACKWARD')).toBe(false);
    expect(verdict(record(base), record(base, { name: 'Issue', aliases: ['a.b.Ticket'] }), 'BACKWARD')).toBe(
      true,
    );
  });

  it('NONE accepts anything; non-transitive modes check only the latest version', () => {
    const v1 = resolveSchema(JSON.stringify(record(base)));
    const v2 = resolveSchema(JSON.stringify(record([base[0] as Field])));
    const v3 = resolveSchema(
      JSON.stringify(record([base[0] as Field, { name: 'priority', type: 'string', default: 'x' }])),
    );
    const previous = [
      { label: 'version 1', schema: v1 },
      { label: 'version 2', schema: v2 },
    ];
    expect(checkCompatibility(v3, previous, 'NONE')).toEqual([]);
    // v3 reads v2 (priority absent, has a default) but not v1 (int → string).
    expect(checkCompatibility(v3, previous, 'BACKWARD')).toEqual([]);
    const transitive = checkCompatibility(v3, previous, 'BACKWARD_TRANSITIVE');
    expect(transitive.map((f) => f.against)).toEqual(['version 1']);
  });
});

describe('explanations', () => {
  const explainOne = (oldSchema: object, newSchema: object, mode: CompatibilityMode): string[] =>
    checkCompatibility(
      resolveSchema(JSON.stringify(newSchema)),
      [{ label: 'version 4', schema: resolveSchema(JSON.stringify(oldSchema)) }],
      mode,
    ).map((f) => f.explanation);

  it('a removed field without default, under FORWARD: names the field and who breaks', () => {
    expect(explainOne(record(base), record([base[0] as Field]), 'FORWARD')).toEqual([
      'field `priority` was removed and has no default: consumers still on version 4 cannot read records written with the new schema',
    ]);
  });

  it('an added field without default under BACKWARD, and a likely rename', () => {
    expect(explainOne(record(base), record([...base, { name: 'tag', type: 'string' }]), 'BACKWARD')).toEqual([
      'field `tag` was added without a default: consumers on the new schema cannot read records written with version 4',
    ]);
    expect(
      explainOne(record(base), record([base[0] as Field, { name: 'urgency', type: 'int' }]), 'BACKWARD')[0],
    ).toContain('if `priority` was renamed, add "aliases": ["priority"] to it');
  });

  it('a type change names both types', () => {
    expect(
      explainOne(record(base), record([base[0] as Field, { name: 'priority', type: 'string' }]), 'BACKWARD'),
    ).toEqual([
      'field `priority` changed type from int to string, which Avro cannot convert: consumers on the new schema cannot read records written with version 4',
    ]);
  });

  it('enum symbols, with the path through arrays and unions', () => {
    const oldSchema = record([{ name: 'channel', type: enumType(['EMAIL', 'SMS']) }]);
    const newSchema = record([{ name: 'channel', type: enumType(['EMAIL', 'SMS', 'CHAT']) }]);
    expect(explainOne(oldSchema, newSchema, 'FORWARD')[0]).toBe(
      'field `channel`: enum Channel gained symbol(s) CHAT and the previous enum has no default: consumers still on version 4 cannot read records written with the new schema that carry them',
    );
    const nested = explainOne(cases[14]?.old ?? {}, cases[14]?.new ?? {}, 'BACKWARD');
    expect(nested[0]).toMatch(/^field `items\[\]\.b` was added without a default/);
  });

  it('refuses malformed schemas with a parse error', () => {
    expect(() => resolveSchema('{"type":"record","name":"X","fields":[{"name":"a","type":"Nope"}]}')).toThrow(
      /unknown type "Nope"/,
    );
    expect(() => resolveSchema('{not json')).toThrow(/not JSON/);
  });

  it('reports every problem, not just the first', () => {
    const found = readerWriterIncompatibilities(
      resolveSchema(
        JSON.stringify(
          record([
            { name: 'id', type: 'int' },
            { name: 'x', type: 'string' },
          ]),
        ),
      ),
      resolveSchema(JSON.stringify(record(base))),
    );
    expect(found.map((f) => f.type).sort()).toEqual(['READER_FIELD_MISSING_DEFAULT_VALUE', 'TYPE_MISMATCH']);
  });
});
