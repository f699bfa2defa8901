/**
 * Avro schema compatibility with explanations (pure). The verdict follows Avro's own reader/writer
 * rules (org.apache.avro.SchemaCompatibility, the check Confluent Schema Registry and Apicurio run):
 * record fields matched by name or reader alias, a reader field missing from the writer needs a
 * default, enum symbols, union branches, numeric and string/bytes promotions, unqualified name match.
 * A registry only answers yes or no; this module says which field, what changed and who breaks.
 */
import type { CompatibilityMode } from '../contracts/catalog.ts';

const PRIMITIVES = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'] as const;
type Primitive = (typeof PRIMITIVES)[number];

interface NamedBase {
  readonly name: string;
  readonly fullName: string;
  readonly aliases: readonly string[];
}
interface FieldNode {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly type: AvroNode;
  readonly hasDefault: boolean;
}
export type AvroNode =
  | { readonly kind: 'primitive'; readonly type: Primitive }
  | ({ readonly kind: 'record'; fields: FieldNode[] } & NamedBase)
  | ({ readonly kind: 'enum'; readonly symbols: readonly string[]; readonly hasDefault: boolean } & NamedBase)
  | ({ readonly kind: 'fixed'; readonly size: number } & NamedBase)
  | { readonly kind: 'array'; readonly items: AvroNode }
  | { readonly kind: 'map'; readonly values: AvroNode }
  | { readonly kind: 'union'; readonly branches: readonly AvroNode[] };

export class SchemaParseError extends Error {}

type Json = string | Json[] | { readonly [k: string]: unknown };

/** Resolve a schema (JSON text or value) into nodes, named references included. */
export function resolveSchema(schema: string | Json): AvroNode {
  let json: Json;
  try {
    json = typeof schema === 'string' ? (JSON.parse(schema) as Json) : schema;
  } catch (error) {
    throw new SchemaParseError(`not JSON: ${(error as Error).message}`);
  }
  const named = new Map<string, AvroNode>();
  const qualify = (name: string, namespace: string | undefined): string =>
    name.includes('.') || !namespace ? name : `${namespace}.${name}`;

  const visit = (s: Json, namespace: string | undefined): AvroNode => {
    if (typeof s === 'string') {
      if ((PRIMITIVES as readonly string[]).includes(s)) return { kind: 'primitive', type: s as Primitive };
      const ref = named.get(qualify(s, namespace)) ?? named.get(s);
      if (!ref) throw new SchemaParseError(`unknown type "${s}"`);
      return ref;
    }
    if (Array.isArray(s)) return { kind: 'union', branches: s.map((b) => visit(b, namespace)) };
    const type = s['type'] as Json;
    if (typeof type !== 'string') return visit(type, namespace); // { "type": { ... } }
    const nameOf = (): NamedBase & { namespace: string | undefined } => {
      const raw = s['name'];
      if (typeof raw !== 'string' || raw === '') throw new SchemaParseError(`a ${type} needs a name`);
      const ns = typeof s['namespace'] === 'string' ? s['namespace'] : namespace;
      const fullName = qualify(raw, ns);
      const aliases = Array.isArray(s['aliases']) ? (s['aliases'] as string[]) : [];
      return {
        name: fullName.slice(fullName.lastIndexOf('.') + 1),
        fullName,
        aliases,
        namespace: fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : undefined,
      };
    };
    switch (type) {
      case 'record':
      case 'error': {
        const { namespace: ns, ...base } = nameOf();
        const node = { kind: 'record' as const, ...base, fields: [] as FieldNode[] };
        named.set(base.fullName, node); // before the fields: a record may refer to itself
        const fields = s['fields'];
        if (!Array.isArray(fields)) throw new SchemaParseError(`record ${base.fullName} has no fields list`);
        for (const f of fields as { [k: string]: unknown }[]) {
          if (typeof f['name'] !== 'string')
            throw new SchemaParseError(`a field of ${base.fullName} has no name`);
          node.fields.push({
            name: f['name'],
            aliases: Array.isArray(f['aliases']) ? (f['aliases'] as string[]) : [],
            type: visit(f['type'] as Json, ns),
            hasDefault: 'default' in f,
          });
        }
        return node;
      }
      case 'enum': {
        const { namespace: _ns, ...base } = nameOf();
        const symbols = s['symbols'];
        if (!Array.isArray(symbols)) throw new SchemaParseError(`enum ${base.fullName} has no symbols`);
        const node: AvroNode = {
          kind: 'enum',
          ...base,
          symbols: symbols as string[],
          hasDefault: 'default' in s,
        };
        named.set(base.fullName, node);
        return node;
      }
      case 'fixed': {
        const { namespace: _ns, ...base } = nameOf();
        const node: AvroNode = { kind: 'fixed', ...base, size: Number(s['size']) };
        named.set(base.fullName, node);
        return node;
      }
      case 'array':
        return { kind: 'array', items: visit(s['items'] as Json, namespace) };
      case 'map':
        return { kind: 'map', values: visit(s['values'] as Json, namespace) };
      default:
        // Annotated primitives: { "type": "long", "logicalType": "timestamp-millis" }.
        return visit(type, namespace);
    }
  };
  return visit(json, undefined);
}

export type IncompatibilityType =
  | 'READER_FIELD_MISSING_DEFAULT_VALUE'
  | 'TYPE_MISMATCH'
  | 'MISSING_ENUM_SYMBOLS'
  | 'MISSING_UNION_BRANCH'
  | 'NAME_MISMATCH'
  | 'FIXED_SIZE_MISMATCH';

export interface Incompatibility {
  readonly type: IncompatibilityType;
  /** Where, as a field path: `attachments[].size_bytes`; '' for the root. */
  readonly path: string;
  readonly reader: string;
  readonly writer: string;
  /** For MISSING_ENUM_SYMBOLS: the writer symbols the reader lacks. */
  readonly symbols?: readonly string[];
  /** For READER_FIELD_MISSING_DEFAULT_VALUE: a writer field of the same type the reader lacks (a rename?). */
  readonly renamedFrom?: string;
}

export function describeType(node: AvroNode): string {
  switch (node.kind) {
    case 'primitive':
      return node.type;
    case 'record':
    case 'enum':
    case 'fixed':
      return `${node.kind} ${node.name}`;
    case 'array':
      return `array<${describeType(node.items)}>`;
    case 'map':
      return `map<${describeType(node.values)}>`;
    case 'union':
      return `union [${node.branches.map(describeType).join(', ')}]`;
  }
}

function namesMatch(reader: NamedBase, writer: NamedBase): boolean {
  if (reader.name === writer.name) return true;
  return reader.aliases.some(
    (a) => a === writer.fullName || a === writer.name || a.endsWith(`.${writer.name}`),
  );
}

const PROMOTIONS: Readonly<Record<string, readonly Primitive[]>> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

function sameShape(a: AvroNode, b: AvroNode): boolean {
  return describeType(a) === describeType(b);
}

/** Every reason `reader` cannot read data written with `writer` (empty: compatible). */
export function readerWriterIncompatibilities(reader: AvroNode, writer: AvroNode): Incompatibility[] {
  const found: Incompatibility[] = [];
  const inProgress = new Set<string>();

  const check = (r: AvroNode, w: AvroNode, path: string, writerBranch = false): void => {
    const mismatch = (type: IncompatibilityType, extra: Partial<Incompatibility> = {}): void => {
      found.push({ type, path, reader: describeType(r), writer: describeType(w), ...extra });
    };
    if (w.kind === 'union') {
      // Every branch the writer may have used must be readable.
      for (const branch of w.branches) check(r, branch, path, true);
      return;
    }
    if (r.kind === 'union') {
      // The writer's type must be readable by some reader branch; report against the closest one.
      const candidates = r.branches.map((b) => readerWriterIncompatibilities(b, w));
      if (candidates.some((c) => c.length === 0)) return;
      const sameKind = r.branches.findIndex(
        (b) => b.kind === w.kind && (b.kind !== 'primitive' || sameShape(b, w)),
      );
      if (sameKind >= 0) {
        const join = (p: string): string => (p === '' ? path : path === '' ? p : `${path}.${p}`);
        found.push(...(candidates[sameKind] ?? []).map((i) => ({ ...i, path: join(i.path) })));
      } else {
        mismatch(writerBranch ? 'MISSING_UNION_BRANCH' : 'TYPE_MISMATCH');
      }
      return;
    }
    if (r.kind === 'primitive' && w.kind === 'primitive') {
      if (r.type === w.type || PROMOTIONS[w.type]?.includes(r.type)) return;
      mismatch('TYPE_MISMATCH');
      return;
    }
    if (r.kind !== w.kind) {
      mismatch('TYPE_MISMATCH');
      return;
    }
    switch (r.kind) {
      case 'array':
        if (w.kind === 'array') check(r.items, w.items, `${path}[]`);
        return;
      case 'map':
        if (w.kind === 'map') check(r.values, w.values, `${path}{}`);
        return;
      case 'fixed':
        if (w.kind !== 'fixed') return;
        if (!namesMatch(r, w)) mismatch('NAME_MISMATCH');
        else if (r.size !== w.size) mismatch('FIXED_SIZE_MISMATCH');
        return;
      case 'enum': {
        if (w.kind !== 'enum') return;
        if (!namesMatch(r, w)) {
          mismatch('NAME_MISMATCH');
          return;
        }
        const missing = w.symbols.filter((s) => !r.symbols.includes(s));
        if (missing.length > 0 && !r.hasDefault) mismatch('MISSING_ENUM_SYMBOLS', { symbols: missing });
        return;
      }
      case 'record': {
        if (w.kind !== 'record') return;
        if (!namesMatch(r, w)) {
          mismatch('NAME_MISMATCH');
          return;
        }
        const key = `${r.fullName}<-${w.fullName}`;
        if (inProgress.has(key)) return; // recursive type: assume compatible, as Avro does
        inProgress.add(key);
        const prefix = path === '' ? '' : `${path}.`;
        const matched = new Set<string>();
        for (const rf of r.fields) {
          const wf =
            w.fields.find((f) => f.name === rf.name) ?? w.fields.find((f) => rf.aliases.includes(f.name));
          if (wf) {
            matched.add(wf.name);
            check(rf.type, wf.type, `${prefix}${rf.name}`);
          } else if (!rf.hasDefault) {
            const renamedFrom = w.fields.find(
              (f) => !r.fields.some((x) => x.name === f.name) && sameShape(f.type, rf.type),
            )?.name;
            found.push({
              type: 'READER_FIELD_MISSING_DEFAULT_VALUE',
              path: `${prefix}${rf.name}`,
              reader: describeType(rf.type),
              writer: 'absent',
              ...(renamedFrom === undefined ? {} : { renamedFrom }),
            });
          }
        }
        inProgress.delete(key);
        return;
      }
    }
  };
  check(reader, writer, '');
  return found;
}

/** Which versions each mode checks, and in which direction. */
export function directions(mode: CompatibilityMode): {
  backward: boolean;
  forward: boolean;
  transitive: boolean;
} {
  return {
    backward: mode.startsWith('BACKWARD') || mode.startsWith('FULL'),
    forward: mode.startsWith('FORWARD') || mode.startsWith('FULL'),
    transitive: mode.endsWith('_TRANSITIVE'),
  };
}

export interface Finding {
  /** Label of the previous schema: "registry version 3", "main (abc1234)". */
  readonly against: string;
  readonly direction: 'backward' | 'forward';
  readonly incompatibility: Incompatibility;
  /** Plain words: which field, what changed, who breaks. */
  readonly explanation: string;
}

const where = (path: string): string => (path === '' ? 'the record' : `field \`${path}\``);

/** Plain words for one incompatibility, given who reads what. */
export function explain(i: Incompatibility, direction: 'backward' | 'forward', against: string): string {
  // backward: the reader is the new schema, the writer the previous one; forward: the other way round.
  const breaks =
    direction === 'backward'
      ? `consumers on the new schema cannot read records written with ${against}`
      : `consumers still on ${against} cannot read records written with the new schema`;
  switch (i.type) {
    case 'READER_FIELD_MISSING_DEFAULT_VALUE':
      if (direction === 'backward') {
        const rename =
          i.renamedFrom === undefined
            ? ''
            : ` (if \`${i.renamedFrom}\` was renamed, add "aliases": ["${i.renamedFrom.split('.').pop() ?? ''}"] to it)`;
        return `${where(i.path)} was added without a default${rename}: ${breaks}`;
      }
      return `${where(i.path)} was removed and has no default: ${breaks}`;
    case 'TYPE_MISMATCH': {
      const [from, to] = direction === 'backward' ? [i.writer, i.reader] : [i.reader, i.writer];
      return `${where(i.path)} changed type from ${from} to ${to}, which Avro cannot convert: ${breaks}`;
    }
    case 'MISSING_ENUM_SYMBOLS': {
      const symbols = (i.symbols ?? []).join(', ');
      return direction === 'backward'
        ? `${where(i.path)}: ${i.reader} lost symbol(s) ${symbols} and has no default: ${breaks} that carry them`
        : `${where(i.path)}: ${i.reader} gained symbol(s) ${symbols} and the previous enum has no default: ${breaks} that carry them`;
    }
    case 'MISSING_UNION_BRANCH':
      return direction === 'backward'
        ? `${where(i.path)}: values of type ${i.writer} are no longer accepted (${i.reader}): ${breaks}`
        : `${where(i.path)}: the new schema may write ${i.writer}, which ${i.reader} does not accept: ${breaks}`;
    case 'NAME_MISMATCH':
      return `${where(i.path)}: ${i.writer} was renamed to ${i.reader} without an alias: ${breaks}`;
    case 'FIXED_SIZE_MISMATCH':
      return `${where(i.path)}: fixed size changed (${i.writer} to ${i.reader}): ${breaks}`;
  }
}

export interface PreviousSchema {
  readonly label: string;
  readonly schema: AvroNode;
}

/**
 * Check `candidate` against previous schemas (oldest first) under `mode`. Non-transitive modes check
 * the latest only. Returns every finding, explained.
 */
export function checkCompatibility(
  candidate: AvroNode,
  previous: readonly PreviousSchema[],
  mode: CompatibilityMode,
): Finding[] {
  if (mode === 'NONE' || previous.length === 0) return [];
  const { backward, forward, transitive } = directions(mode);
  const targets = transitive ? previous : previous.slice(-1);
  const findings: Finding[] = [];
  for (const target of targets) {
    if (backward) {
      for (const i of readerWriterIncompatibilities(candidate, target.schema)) {
        findings.push({
          against: target.label,
          direction: 'backward',
          incompatibility: i,
          explanation: explain(i, 'backward', target.label),
        });
      }
    }
    if (forward) {
      for (const i of readerWriterIncompatibilities(target.schema, candidate)) {
        findings.push({
          against: target.label,
          direction: 'forward',
          incompatibility: i,
          explanation: explain(i, 'forward', target.label),
        });
      }
    }
  }
  return findings;
}
