import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../paths.ts';
import { generatedFiles } from './generate.ts';
import { loadLocalSchemas, inspectSchema } from './schemas.ts';
import { generateModule } from './codegen.ts';

describe('generated files', () => {
  it('are up to date with schemas/*.avsc and src/errors.ts (run `npm run generate`)', () => {
    for (const [path, content] of generatedFiles(PROJECT_ROOT)) {
      expect(readFileSync(`${PROJECT_ROOT}/${path}`, 'utf8'), `${path} is stale: run npm run generate`).toBe(
        content,
      );
    }
  });

  it('map Avro types to TypeScript', () => {
    const module = generateModule(
      't-value',
      JSON.stringify({
        type: 'record',
        name: 'T',
        doc: 'A thing.',
        fields: [
          { name: 'a', type: ['null', 'string'], doc: 'maybe' },
          { name: 'b', type: { type: 'array', items: 'long' }, doc: 'b' },
          { name: 'c', type: { type: 'map', values: 'boolean' }, doc: 'c' },
          { name: 'd', type: { type: 'enum', name: 'E', symbols: ['X', 'Y'] }, doc: 'd' },
          { name: 'e', type: 'E', doc: 'reuse' },
          { name: 'f', type: 'bytes', doc: 'f' },
          { name: 'g', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'g' },
        ],
      }),
    );
    expect(module).toContain("export type E = 'X' | 'Y';");
    expect(module).toContain('  a: string | null;');
    expect(module).toContain('  b: number[];');
    expect(module).toContain('  c: Record<string, boolean>;');
    expect(module).toContain('  d: E;\n');
    expect(module).toContain('  e: E;\n');
    expect(module).toContain('  f: Buffer;');
    expect(module).toContain('  g: number;');
    expect(module).toContain('export type Value = T;');
  });
});

describe('schema lint', () => {
  it('every checked-in schema parses and documents every field', () => {
    for (const schema of loadLocalSchemas(PROJECT_ROOT)) expect(schema.problems, schema.subject).toEqual([]);
  });

  it('reports undocumented fields (also nested) and unparseable schemas', () => {
    const nested = inspectSchema(
      's',
      JSON.stringify({
        type: 'record',
        name: 'R',
        fields: [
          { name: 'ok', type: 'string', doc: 'fine' },
          {
            name: 'items',
            doc: 'x',
            type: {
              type: 'array',
              items: { type: 'record', name: 'I', fields: [{ name: 'bare', type: 'int' }] },
            },
          },
        ],
      }),
    );
    expect(nested.problems).toEqual(['field `items.bare` has no doc']);
    expect(
      inspectSchema('s', '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}')
        .problems[0],
    ).toMatch(/does not parse as Avro/);
  });
});
