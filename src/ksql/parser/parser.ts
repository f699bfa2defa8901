/**
 * Hand-written recursive-descent parser for the ksqlDB statement subset (grammar: ksqlDB's
 * `SqlBase.g4`). Produces the plain-data AST of ast.ts. Errors carry line, column and what was
 * expected, in ksqlDB's "line L:C: Syntax Error" shape.
 */
import { KsqlError } from '../errors.ts';
import { T, type SqlField, type SqlType } from '../schema/types.ts';
import type {
  CompareOp,
  Expr,
  JoinClause,
  Loc,
  ParsedStatement,
  Property,
  Query,
  SelectItem,
  SourceRef,
  Statement,
  TableElement,
  WindowClause,
  WithinClause,
} from './ast.ts';
import { tokenize, type Token } from './lexer.ts';

/** Keywords that cannot be used as bare identifiers (every SqlBase.g4 keyword not in `nonReserved`). */
const RESERVED = new Set(
  (
    'SELECT FROM AS ALL DISTINCT WHERE WITHIN WINDOW GROUP BY HAVING LIMIT AT OR AND IN NOT EXISTS ' +
    'BETWEEN LIKE IS NULL TRUE FALSE MILLISECOND YEARS MONTHS DAYS HOURS MINUTES SECONDS MILLISECONDS ' +
    'TUMBLING HOPPING SIZE ADVANCE RETENTION CASE WHEN THEN ELSE END JOIN FULL OUTER INNER LEFT RIGHT ON ' +
    'WITH VALUES CREATE TABLE TOPIC STREAM STREAMS INSERT DELETE INTO DESCRIBE EXTENDED PRINT CAST LIST ' +
    'TOPICS QUERY QUERIES TERMINATE LOAD TO RENAME SAMPLE EXPORT CATALOG PROPERTIES BEGINNING UNSET RUN ' +
    'SCRIPT DECIMAL CONNECTOR CONNECTORS NAMESPACE MATERIALIZED VIEW'
  ).split(' '),
);

const TIME_UNITS = new Set([
  'DAY',
  'HOUR',
  'MINUTE',
  'SECOND',
  'MILLISECOND',
  'DAYS',
  'HOURS',
  'MINUTES',
  'SECONDS',
  'MILLISECONDS',
]);

/** Java's String.toUpperCase for identifiers (locale-independent enough for SQL names). */
export function upper(text: string): string {
  return text.toUpperCase();
}

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  private readonly text: string;
  private readonly lambdaVars: string[][] = [];

  constructor(text: string) {
    this.text = text;
    this.tokens = tokenize(text);
  }

  // ---- token helpers -------------------------------------------------------------------------

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private loc(t: Token = this.peek()): Loc {
    return { line: t.line, column: t.column };
  }

  private isKeyword(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'ident' && upper(t.text) === word;
  }

  private isOp(op: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'op' && t.text === op;
  }

  private acceptKeyword(word: string): boolean {
    if (this.isKeyword(word)) {
      this.pos++;
      return true;
    }
    return false;
  }

  private acceptOp(op: string): boolean {
    if (this.isOp(op)) {
      this.pos++;
      return true;
    }
    return false;
  }

  /** Start offset of the statement being parsed (for "Statement: ..." in errors). */
  private statementStart = 0;

  fail(expected: string, token: Token = this.peek()): never {
    throw new KsqlError(
      'parse',
      `line ${token.line}:${token.column}: Syntax Error\nExpecting ${expected}\nStatement: ${this.currentStatementText()}`,
      { line: token.line, column: token.column },
    );
  }

  private currentStatementText(): string {
    let end = this.tokens.findIndex(
      (t) => t.start >= this.statementStart && t.kind === 'op' && t.text === ';',
    );
    if (end < 0) end = this.tokens.length - 1;
    const last = this.tokens[end] as Token;
    return this.text.slice(this.statementStart, last.end).trim();
  }

  private expectKeyword(word: string): Token {
    if (!this.isKeyword(word)) this.fail(`'${word}'`);
    return this.next();
  }

  private expectOp(op: string): Token {
    if (!this.isOp(op)) this.fail(`'${op}'`);
    return this.next();
  }

  // ---- identifiers ---------------------------------------------------------------------------

  private isIdentifierStart(offset = 0): boolean {
    const t = this.peek(offset);
    if (t.kind === 'quoted') return true;
    return t.kind === 'ident' && !RESERVED.has(upper(t.text));
  }

  /** An identifier: bare ones are upper-cased, quoted ones keep their text. */
  identifier(what = 'an identifier'): string {
    const t = this.peek();
    if (t.kind === 'quoted') {
      this.pos++;
      return t.value;
    }
    if (t.kind === 'ident' && !RESERVED.has(upper(t.text))) {
      if (/^[0-9]/.test(t.text)) {
        throw new KsqlError(
          'parse',
          `line ${t.line}:${t.column}: Syntax Error\n'${t.text}' is an invalid identifier: digit identifiers are not allowed`,
          { line: t.line, column: t.column },
        );
      }
      this.pos++;
      return upper(t.text);
    }
    this.fail(what);
  }

  // ---- statements ----------------------------------------------------------------------------

  statement(): Statement {
    const start = this.peek();
    const loc = this.loc(start);
    if (this.isKeyword('SELECT')) return { kind: 'Select', query: this.query(), loc };
    if (this.acceptKeyword('CREATE')) return this.create(loc);
    if (this.acceptKeyword('INSERT')) return this.insert(loc);
    if (this.acceptKeyword('DROP')) return this.drop(loc);
    if (this.acceptKeyword('TERMINATE')) {
      if (this.acceptKeyword('ALL')) return { kind: 'Terminate', all: true, loc };
      return { kind: 'Terminate', queryId: this.identifier('a query id'), all: false, loc };
    }
    if (this.isKeyword('SHOW') || this.isKeyword('LIST')) {
      this.next();
      this.acceptKeyword('ALL');
      const t = this.next();
      const what = upper(t.text);
      const allowed = ['STREAMS', 'TABLES', 'QUERIES', 'TOPICS', 'PROPERTIES', 'VARIABLES', 'FUNCTIONS'];
      if (t.kind !== 'ident' || !allowed.includes(what))
        this.fail(allowed.map((a) => `'${a}'`).join(', '), t);
      const extended = this.acceptKeyword('EXTENDED');
      return {
        kind: 'Show',
        what: what as 'STREAMS' | 'TABLES' | 'QUERIES' | 'TOPICS' | 'PROPERTIES' | 'VARIABLES' | 'FUNCTIONS',
        extended,
        loc,
      };
    }
    if (this.acceptKeyword('DESCRIBE')) {
      const name = this.identifier('a source name');
      return { kind: 'Describe', name, extended: this.acceptKeyword('EXTENDED'), loc };
    }
    if (this.acceptKeyword('DEFINE')) {
      const t = this.next();
      if (t.kind !== 'ident') this.fail('a variable name', t);
      this.expectOp('=');
      const v = this.next();
      if (v.kind !== 'string') this.fail('a string', v);
      return { kind: 'DefineVariable', name: t.text, value: v.value, loc };
    }
    if (this.acceptKeyword('UNDEFINE')) {
      const t = this.next();
      if (t.kind !== 'ident') this.fail('a variable name', t);
      return { kind: 'UndefineVariable', name: t.text, loc };
    }
    if (this.acceptKeyword('SET')) {
      const name = this.next();
      if (name.kind !== 'string') this.fail('a quoted property name', name);
      this.expectOp('=');
      const value = this.next();
      if (value.kind !== 'string') this.fail('a quoted property value', value);
      return { kind: 'SetProperty', name: name.value, value: value.value, loc };
    }
    if (this.acceptKeyword('UNSET')) {
      const name = this.next();
      if (name.kind !== 'string') this.fail('a quoted property name', name);
      return { kind: 'UnsetProperty', name: name.value, loc };
    }
    if (this.acceptKeyword('ALTER')) {
      const typeToken = this.next();
      const sourceType = upper(typeToken.text);
      if (sourceType !== 'STREAM' && sourceType !== 'TABLE') this.fail("'STREAM', 'TABLE'", typeToken);
      const name = this.identifier('a source name');
      const elements: TableElement[] = [];
      do {
        this.expectKeyword('ADD');
        this.acceptKeyword('COLUMN');
        const eloc = this.loc();
        const colName = this.identifier('a column name');
        elements.push({ name: colName, type: this.type(), loc: eloc });
      } while (this.acceptOp(','));
      return { kind: 'AlterSource', sourceType, name, elements, loc };
    }
    this.fail(
      "'SELECT', 'CREATE', 'INSERT', 'DROP', 'TERMINATE', 'SHOW', 'LIST', 'DESCRIBE', 'DEFINE', 'UNDEFINE', 'SET', 'UNSET', 'ALTER'",
    );
  }

  private create(loc: Loc): Statement {
    const orReplace = this.acceptKeyword('OR') ? (this.expectKeyword('REPLACE'), true) : false;
    const isSource = this.acceptKeyword('SOURCE');
    const typeToken = this.next();
    const sourceType = upper(typeToken.text);
    if (typeToken.kind !== 'ident' || (sourceType !== 'STREAM' && sourceType !== 'TABLE'))
      this.fail("'STREAM', 'TABLE'", typeToken);
    let ifNotExists = false;
    if (this.isKeyword('IF')) {
      this.next();
      this.expectKeyword('NOT');
      this.expectKeyword('EXISTS');
      ifNotExists = true;
    }
    const name = this.identifier('a source name');
    let elements: TableElement[] = [];
    if (this.isOp('(')) elements = this.tableElements(sourceType);
    const properties = this.acceptKeyword('WITH') ? this.properties() : [];
    if (this.acceptKeyword('AS')) {
      if (elements.length > 0 || isSource) this.fail("'WITH', ';'");
      const query = this.query();
      return { kind: 'CreateAsSelect', sourceType, name, orReplace, ifNotExists, properties, query, loc };
    }
    return {
      kind: 'CreateSource',
      sourceType,
      name,
      orReplace,
      ifNotExists,
      isSource,
      elements,
      properties,
      loc,
    };
  }

  private tableElements(sourceType: 'STREAM' | 'TABLE'): TableElement[] {
    this.expectOp('(');
    const elements: TableElement[] = [];
    do {
      const start = this.peek();
      const eloc = this.loc(start);
      const name = this.identifier('a column name');
      const type = this.type();
      let constraint: TableElement['constraint'];
      if (this.isKeyword('PRIMARY')) {
        this.next();
        this.expectKeyword('KEY');
        constraint = 'PRIMARY KEY';
      } else if (this.acceptKeyword('KEY')) {
        constraint = 'KEY';
      } else if (this.acceptKeyword('HEADERS')) {
        constraint = 'HEADERS';
      } else if (this.acceptKeyword('HEADER')) {
        this.expectOp('(');
        const h = this.next();
        if (h.kind !== 'string') this.fail('a string', h);
        this.expectOp(')');
        constraint = { header: h.value };
      }
      const shown = `\`${name}\``;
      if (constraint === 'KEY' && sourceType === 'TABLE') {
        throw new KsqlError(
          'parse',
          `Line: ${eloc.line}, Col: ${eloc.column}: Column ${shown} is a 'KEY' column: please use 'PRIMARY KEY' for tables.\n` +
            `Tables have PRIMARY KEYs, which are unique and NON NULL.\nStreams have KEYs, which have no uniqueness or NON NULL constraints.`,
          eloc,
        );
      }
      if (constraint === 'PRIMARY KEY' && sourceType === 'STREAM') {
        throw new KsqlError(
          'parse',
          `Line: ${eloc.line}, Col: ${eloc.column}: Column ${shown} is a 'PRIMARY KEY' column: please use 'KEY' for streams.\n` +
            `Tables have PRIMARY KEYs, which are unique and NON NULL.\nStreams have KEYs, which have no uniqueness or NON NULL constraints.`,
          eloc,
        );
      }
      elements.push(
        constraint === undefined ? { name, type, loc: eloc } : { name, type, constraint, loc: eloc },
      );
    } while (this.acceptOp(','));
    if (!this.isOp(')')) this.fail("{',', ')'}");
    this.next();
    return elements;
  }

  private properties(): Property[] {
    this.expectOp('(');
    const props: Property[] = [];
    do {
      const t = this.peek();
      const ploc = this.loc(t);
      let name: string;
      if (t.kind === 'string') {
        this.next();
        name = upper(t.value);
      } else {
        name = upper(this.identifier('a property name'));
      }
      this.expectOp('=');
      const value = this.literal();
      props.push({ name, value, loc: ploc });
    } while (this.acceptOp(','));
    this.expectOp(')');
    return props;
  }

  /** A literal as allowed in WITH properties and VALUES (with an optional leading minus). */
  private literal(): Expr {
    const t = this.peek();
    const loc = this.loc(t);
    if (this.isOp('-')) {
      this.next();
      const n = this.next();
      if (n.kind !== 'integer' && n.kind !== 'decimal' && n.kind !== 'double') this.fail('a number', n);
      return this.numberLiteral(n, true, loc);
    }
    if (t.kind === 'string') {
      this.next();
      return { kind: 'Literal', type: 'STRING', value: t.value, loc };
    }
    if (t.kind === 'integer' || t.kind === 'decimal' || t.kind === 'double') {
      this.next();
      return this.numberLiteral(t, false, loc);
    }
    if (this.acceptKeyword('TRUE')) return { kind: 'Literal', type: 'BOOLEAN', value: true, loc };
    if (this.acceptKeyword('FALSE')) return { kind: 'Literal', type: 'BOOLEAN', value: false, loc };
    if (this.acceptKeyword('NULL')) return { kind: 'Literal', type: 'NULL', value: null, loc };
    this.fail('a literal');
  }

  private numberLiteral(t: Token, negative: boolean, loc: Loc): Expr {
    const text = (negative ? '-' : '') + t.text;
    if (t.kind === 'integer') {
      const n = BigInt(text);
      if (n >= -2147483648n && n <= 2147483647n)
        return { kind: 'Literal', type: 'INTEGER', value: text, loc };
      if (n >= -(2n ** 63n) && n < 2n ** 63n) return { kind: 'Literal', type: 'BIGINT', value: text, loc };
      // ksqlDB reads integers beyond BIGINT as DECIMAL.
      return { kind: 'Literal', type: 'DECIMAL', value: text, loc };
    }
    return { kind: 'Literal', type: t.kind === 'double' ? 'DOUBLE' : 'DECIMAL', value: text, loc };
  }

  private insert(loc: Loc): Statement {
    this.expectKeyword('INTO');
    const targetLoc = this.loc();
    const target = this.identifier('a source name');
    if (this.isOp('(') || this.isKeyword('VALUES')) {
      const columns: string[] = [];
      if (this.acceptOp('(')) {
        do columns.push(this.identifier('a column name'));
        while (this.acceptOp(','));
        this.expectOp(')');
      }
      this.expectKeyword('VALUES');
      this.expectOp('(');
      const values: Expr[] = [];
      if (!this.isOp(')')) {
        do values.push(this.valueExpression());
        while (this.acceptOp(','));
      }
      this.expectOp(')');
      return { kind: 'InsertValues', target, columns, values, loc };
    }
    const properties = this.acceptKeyword('WITH') ? this.properties() : [];
    const query = this.query();
    return { kind: 'InsertInto', target, properties, query, loc: targetLoc };
  }

  private drop(loc: Loc): Statement {
    const typeToken = this.next();
    const sourceType = upper(typeToken.text);
    if (sourceType !== 'STREAM' && sourceType !== 'TABLE') this.fail("'STREAM', 'TABLE'", typeToken);
    let ifExists = false;
    if (this.acceptKeyword('IF')) {
      this.expectKeyword('EXISTS');
      ifExists = true;
    }
    const name = this.identifier('a source name');
    let deleteTopic = false;
    if (this.acceptKeyword('DELETE')) {
      this.expectKeyword('TOPIC');
      deleteTopic = true;
    }
    return { kind: 'DropSource', sourceType, name, ifExists, deleteTopic, loc };
  }

  // ---- queries -------------------------------------------------------------------------------

  query(): Query {
    const loc = this.loc();
    this.expectKeyword('SELECT');
    const select: SelectItem[] = [];
    do select.push(this.selectItem());
    while (this.acceptOp(','));
    this.expectKeyword('FROM');
    const from = this.aliasedRelation();
    const joins: JoinClause[] = [];
    for (;;) {
      const jloc = this.loc();
      let type: JoinClause['type'] | undefined;
      if (this.isKeyword('JOIN')) type = 'INNER';
      else if (this.isKeyword('INNER')) {
        this.next();
        type = 'INNER';
      } else if (this.isKeyword('LEFT') || this.isKeyword('RIGHT') || this.isKeyword('FULL')) {
        type = upper(this.next().text) as 'LEFT' | 'RIGHT' | 'FULL';
        this.acceptKeyword('OUTER');
      }
      if (type === undefined) break;
      this.expectKeyword('JOIN');
      const source = this.aliasedRelation();
      let within: WithinClause | undefined;
      if (this.acceptKeyword('WITHIN')) within = this.within();
      this.expectKeyword('ON');
      const on = this.expression();
      joins.push(
        within === undefined ? { type, source, on, loc: jloc } : { type, source, within, on, loc: jloc },
      );
    }
    let window: WindowClause | undefined;
    if (this.acceptKeyword('WINDOW')) window = this.windowClause();
    const where = this.acceptKeyword('WHERE') ? this.expression() : undefined;
    let groupBy: Expr[] | undefined;
    if (this.isKeyword('GROUP')) {
      this.next();
      this.expectKeyword('BY');
      groupBy = this.expressionList();
    }
    let partitionBy: Expr[] | undefined;
    if (this.isKeyword('PARTITION')) {
      this.next();
      this.expectKeyword('BY');
      partitionBy = this.expressionList();
    }
    const having = this.acceptKeyword('HAVING') ? this.expression() : undefined;
    let emit: Query['emit'];
    if (this.acceptKeyword('EMIT')) {
      if (this.acceptKeyword('CHANGES')) emit = 'CHANGES';
      else if (this.acceptKeyword('FINAL')) emit = 'FINAL';
      else this.fail("'CHANGES', 'FINAL'");
    }
    let limit: number | undefined;
    if (this.acceptKeyword('LIMIT')) {
      const n = this.next();
      if (n.kind !== 'integer') this.fail('a number', n);
      limit = Number(n.text);
    }
    return {
      select,
      from,
      joins,
      ...(window === undefined ? {} : { window }),
      ...(where === undefined ? {} : { where }),
      ...(groupBy === undefined ? {} : { groupBy }),
      ...(partitionBy === undefined ? {} : { partitionBy }),
      ...(having === undefined ? {} : { having }),
      ...(emit === undefined ? {} : { emit }),
      ...(limit === undefined ? {} : { limit }),
      loc,
    };
  }

  /** GROUP BY / PARTITION BY lists: `a, b` or `(a, b)` or `()`. */
  private expressionList(): Expr[] {
    if (this.isOp('(')) {
      // `(a, b)` or `()`; else a parenthesized expression starting a plain list: backtrack.
      const save = this.pos;
      try {
        this.next();
        const list: Expr[] = [];
        if (!this.isOp(')')) {
          do list.push(this.valueExpression());
          while (this.acceptOp(','));
        }
        this.expectOp(')');
        if (
          this.isOp(';') ||
          this.atEnd() ||
          ['HAVING', 'EMIT', 'LIMIT', 'PARTITION'].some((k) => this.isKeyword(k))
        )
          return list;
      } catch (error) {
        if (!(error instanceof KsqlError)) throw error;
      }
      this.pos = save;
    }
    const list: Expr[] = [];
    do list.push(this.valueExpression());
    while (this.acceptOp(','));
    return list;
  }

  private within(): WithinClause {
    const size = (): string => {
      const n = this.next();
      if (n.kind !== 'integer') this.fail('a number', n);
      const u = this.next();
      if (!TIME_UNITS.has(upper(u.text))) this.fail('a time unit', u);
      return `${n.text} ${upper(u.text)}`;
    };
    let before: string;
    let after: string;
    if (this.acceptOp('(')) {
      before = size();
      this.expectOp(',');
      after = size();
      this.expectOp(')');
    } else {
      before = size();
      after = before;
    }
    if (this.acceptKeyword('GRACE')) {
      this.expectKeyword('PERIOD');
      return { before, after, grace: size() };
    }
    return { before, after };
  }

  private windowClause(): WindowClause {
    // An optional window name precedes the type.
    if (!['TUMBLING', 'HOPPING', 'SESSION'].some((k) => this.isKeyword(k))) this.next();
    const t = this.next();
    const type = upper(t.text);
    if (!['TUMBLING', 'HOPPING', 'SESSION'].includes(type)) this.fail("'TUMBLING', 'HOPPING', 'SESSION'", t);
    const open = this.expectOp('(');
    let depth = 1;
    let close = open;
    while (depth > 0) {
      close = this.next();
      if (close.kind === 'eof') this.fail("')'", close);
      if (close.kind === 'op' && close.text === '(') depth++;
      if (close.kind === 'op' && close.text === ')') depth--;
    }
    return { type, text: this.text.slice(open.end, close.start).trim() };
  }

  private aliasedRelation(): SourceRef {
    const loc = this.loc();
    const name = this.identifier('a source name');
    if (this.acceptKeyword('AS')) return { name, alias: this.identifier('an alias'), loc };
    if (this.isIdentifierStart() && !this.isClauseKeyword()) return { name, alias: this.identifier(), loc };
    return { name, loc };
  }

  /** Non-reserved words that still end a FROM relation. */
  private isClauseKeyword(): boolean {
    return ['EMIT', 'PARTITION'].some((k) => this.isKeyword(k));
  }

  private selectItem(): SelectItem {
    const loc = this.loc();
    if (this.isOp('*')) {
      this.next();
      return { kind: 'Star', loc };
    }
    if (this.isIdentifierStart() && this.isOp('.', 1) && this.isOp('*', 2)) {
      const source = this.identifier();
      this.next();
      this.next();
      return { kind: 'Star', source, loc };
    }
    const expr = this.expression();
    if (this.isOp('->') && this.isOp('*', 1)) {
      // `struct->*` selects every field of a struct.
      this.next();
      this.next();
      return { kind: 'Expr', expr: { kind: 'Call', name: '$STRUCT_ALL', args: [expr], loc }, loc };
    }
    if (this.acceptKeyword('AS')) return { kind: 'Expr', expr, alias: this.identifier('an alias'), loc };
    if (this.isIdentifierStart()) return { kind: 'Expr', expr, alias: this.identifier(), loc };
    return { kind: 'Expr', expr, loc };
  }

  // ---- expressions ---------------------------------------------------------------------------

  expression(): Expr {
    return this.or();
  }

  private or(): Expr {
    let left = this.and();
    while (this.isKeyword('OR')) {
      const loc = this.loc(this.next());
      left = { kind: 'Logical', op: 'OR', left, right: this.and(), loc };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isKeyword('AND')) {
      const loc = this.loc(this.next());
      left = { kind: 'Logical', op: 'AND', left, right: this.not(), loc };
    }
    return left;
  }

  private not(): Expr {
    if (this.isKeyword('NOT')) {
      const loc = this.loc(this.next());
      return { kind: 'Not', operand: this.not(), loc };
    }
    return this.predicated();
  }

  private predicated(): Expr {
    const value = this.valueExpression();
    const t = this.peek();
    const loc = this.loc(t);
    if (t.kind === 'op') {
      const ops: Record<string, CompareOp> = {
        '=': '=',
        '<>': '<>',
        '!=': '<>',
        '<': '<',
        '<=': '<=',
        '>': '>',
        '>=': '>=',
      };
      const op = ops[t.text];
      if (op !== undefined) {
        this.next();
        return { kind: 'Compare', op, left: value, right: this.valueExpression(), loc };
      }
    }
    let negated = false;
    if (this.isKeyword('NOT') && ['BETWEEN', 'IN', 'LIKE'].some((k) => this.isKeyword(k, 1))) {
      this.next();
      negated = true;
    }
    if (this.acceptKeyword('BETWEEN')) {
      const low = this.valueExpression();
      this.expectKeyword('AND');
      const high = this.valueExpression();
      return { kind: 'Between', value, low, high, negated, loc };
    }
    if (this.acceptKeyword('IN')) {
      this.expectOp('(');
      const list: Expr[] = [];
      do list.push(this.expression());
      while (this.acceptOp(','));
      this.expectOp(')');
      return { kind: 'In', value, list, negated, loc };
    }
    if (this.acceptKeyword('LIKE')) {
      const pattern = this.valueExpression();
      if (this.acceptKeyword('ESCAPE')) {
        const e = this.next();
        if (e.kind !== 'string') this.fail('a string', e);
        return { kind: 'Like', value, pattern, escape: e.value, negated, loc };
      }
      return { kind: 'Like', value, pattern, negated, loc };
    }
    if (this.acceptKeyword('IS')) {
      const not = this.acceptKeyword('NOT');
      if (this.acceptKeyword('NULL')) return { kind: 'IsNull', operand: value, negated: not, loc };
      if (this.acceptKeyword('DISTINCT')) {
        this.expectKeyword('FROM');
        const right = this.valueExpression();
        return {
          kind: 'Compare',
          op: not ? 'IS NOT DISTINCT FROM' : 'IS DISTINCT FROM',
          left: value,
          right,
          loc,
        };
      }
      this.fail("'NULL', 'DISTINCT'");
    }
    return value;
  }

  valueExpression(): Expr {
    return this.concat();
  }

  private concat(): Expr {
    let left = this.additive();
    while (this.isOp('||')) {
      const loc = this.loc(this.next());
      left = { kind: 'Call', name: 'CONCAT', args: [left, this.additive()], loc };
    }
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      left = {
        kind: 'Arithmetic',
        op: t.text as '+' | '-',
        left,
        right: this.multiplicative(),
        loc: this.loc(t),
      };
    }
    return left;
  }

  private multiplicative(): Expr {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const t = this.next();
      left = {
        kind: 'Arithmetic',
        op: t.text as '*' | '/' | '%',
        left,
        right: this.unary(),
        loc: this.loc(t),
      };
    }
    return left;
  }

  private unary(): Expr {
    if (this.isOp('-') || this.isOp('+')) {
      const t = this.next();
      const n = this.peek();
      // A negative number literal stays a literal (so -2147483648 is an INTEGER).
      if (t.text === '-' && (n.kind === 'integer' || n.kind === 'decimal' || n.kind === 'double')) {
        this.next();
        return this.postfix(this.numberLiteral(n, true, this.loc(t)));
      }
      const operand = this.unary();
      if (t.text === '+') return operand;
      return { kind: 'Negate', operand, loc: this.loc(t) };
    }
    return this.postfix(this.primary());
  }

  private postfix(base: Expr): Expr {
    for (;;) {
      if (this.isOp('[')) {
        const loc = this.loc(this.next());
        const index = this.valueExpression();
        this.expectOp(']');
        base = { kind: 'Subscript', base, index, loc };
        continue;
      }
      if (this.isOp('->') && !this.isOp('*', 1)) {
        const loc = this.loc(this.next());
        base = { kind: 'Deref', base, field: this.identifier('a field name'), loc };
        continue;
      }
      return base;
    }
  }

  private primary(): Expr {
    const t = this.peek();
    const loc = this.loc(t);
    switch (t.kind) {
      case 'string':
        this.next();
        return { kind: 'Literal', type: 'STRING', value: t.value, loc };
      case 'integer':
      case 'decimal':
      case 'double':
        this.next();
        return this.numberLiteral(t, false, loc);
      case 'op':
        if (t.text !== '(') this.fail('an expression');
        if (this.lambdaAhead()) return this.lambda();
        this.next();
        {
          const inner = this.expression();
          this.expectOp(')');
          return inner;
        }
      case 'eof':
        this.fail('an expression');
      // eslint-disable-next-line no-fallthrough -- fail() never returns
      default:
        break;
    }
    const word = t.kind === 'ident' ? upper(t.text) : '';
    if (t.kind === 'ident') {
      if (word === 'NULL') {
        this.next();
        return { kind: 'Literal', type: 'NULL', value: null, loc };
      }
      if (word === 'TRUE' || word === 'FALSE') {
        this.next();
        return { kind: 'Literal', type: 'BOOLEAN', value: word === 'TRUE', loc };
      }
      if (word === 'CASE') return this.caseExpr();
      if (word === 'CAST' && this.isOp('(', 1)) {
        this.next();
        this.next();
        const operand = this.expression();
        this.expectKeyword('AS');
        const type = this.type();
        this.expectOp(')');
        return { kind: 'Cast', operand, type, loc };
      }
      if (word === 'ARRAY' && this.isOp('[', 1)) {
        this.next();
        this.next();
        const items: Expr[] = [];
        if (!this.isOp(']')) {
          do items.push(this.expression());
          while (this.acceptOp(','));
        }
        this.expectOp(']');
        return { kind: 'ArrayCtor', items, loc };
      }
      if (word === 'MAP' && this.isOp('(', 1)) {
        this.next();
        this.next();
        const entries: { key: Expr; value: Expr }[] = [];
        if (!this.isOp(')')) {
          do {
            const key = this.expression();
            this.expectOp(':=');
            entries.push({ key, value: this.expression() });
          } while (this.acceptOp(','));
        }
        this.expectOp(')');
        return { kind: 'MapCtor', entries, loc };
      }
      if (word === 'STRUCT' && this.isOp('(', 1)) {
        this.next();
        this.next();
        const fields: { name: string; value: Expr }[] = [];
        if (!this.isOp(')')) {
          do {
            const name = this.identifier('a field name');
            this.expectOp(':=');
            fields.push({ name, value: this.expression() });
          } while (this.acceptOp(','));
        }
        this.expectOp(')');
        return { kind: 'StructCtor', fields, loc };
      }
    }
    if (t.kind === 'ident' && this.isOp('=>', 1)) return this.lambda();
    if (this.isOp('(', 1)) return this.call();
    if (t.kind === 'ident' && RESERVED.has(word)) this.fail('an expression');
    // Lambda variables shadow columns inside their body.
    if (t.kind === 'ident' && this.lambdaVars.some((vars) => vars.includes(word))) {
      this.next();
      return { kind: 'LambdaVar', name: word, loc };
    }
    const first = this.identifier('an expression');
    if (this.isOp('.') && (this.peek(1).kind === 'ident' || this.peek(1).kind === 'quoted')) {
      this.next();
      const name = this.identifier('a column name');
      return { kind: 'Column', source: first, name, loc };
    }
    return { kind: 'Column', name: first, loc };
  }

  private call(): Expr {
    const t = this.next();
    const loc = this.loc(t);
    const name = t.kind === 'quoted' ? t.value : upper(t.text);
    this.expectOp('(');
    if (this.isOp('*') && this.isOp(')', 1)) {
      this.next();
      this.next();
      return { kind: 'Call', name, args: [], star: true, loc };
    }
    const args: Expr[] = [];
    if (!this.isOp(')')) {
      do {
        const a = this.peek();
        if (a.kind === 'ident' && TIME_UNITS.has(upper(a.text)) && (this.isOp(',', 1) || this.isOp(')', 1))) {
          this.next();
          args.push({ kind: 'TimeUnit', unit: upper(a.text), loc: this.loc(a) });
          continue;
        }
        args.push(this.expression());
      } while (this.acceptOp(','));
    }
    this.expectOp(')');
    return { kind: 'Call', name, args, loc };
  }

  private lambdaAhead(): boolean {
    // '(' ident (',' ident)* ')' '=>'
    let k = 1;
    for (;;) {
      const t = this.peek(k);
      if (t.kind !== 'ident' && t.kind !== 'quoted') return false;
      k++;
      if (this.isOp(',', k)) {
        k++;
        continue;
      }
      return this.isOp(')', k) && this.isOp('=>', k + 1);
    }
  }

  private lambda(): Expr {
    const loc = this.loc();
    const params: string[] = [];
    if (this.acceptOp('(')) {
      do params.push(this.identifier('a lambda parameter'));
      while (this.acceptOp(','));
      this.expectOp(')');
    } else {
      params.push(this.identifier('a lambda parameter'));
    }
    this.expectOp('=>');
    this.lambdaVars.push(params);
    try {
      return { kind: 'Lambda', params, body: this.expression(), loc };
    } finally {
      this.lambdaVars.pop();
    }
  }

  private caseExpr(): Expr {
    const loc = this.loc(this.next());
    const operand = this.isKeyword('WHEN') ? undefined : this.valueExpression();
    const whens: { when: Expr; then: Expr }[] = [];
    while (this.acceptKeyword('WHEN')) {
      const when = this.expression();
      this.expectKeyword('THEN');
      whens.push({ when, then: this.expression() });
    }
    if (whens.length === 0) this.fail("'WHEN'");
    const elseExpr = this.acceptKeyword('ELSE') ? this.expression() : undefined;
    this.expectKeyword('END');
    return {
      kind: 'Case',
      ...(operand === undefined ? {} : { operand }),
      whens,
      ...(elseExpr === undefined ? {} : { else: elseExpr }),
      loc,
    };
  }

  // ---- types ---------------------------------------------------------------------------------

  type(): SqlType {
    let t = this.baseType();
    // `type ARRAY` postfix form.
    while (this.isKeyword('ARRAY') && !this.isOp('<', 1)) {
      this.next();
      t = T.array(t);
    }
    return t;
  }

  private baseType(): SqlType {
    const t = this.peek();
    if (t.kind !== 'ident' && t.kind !== 'quoted') this.fail('a type');
    if (t.kind === 'ident' && RESERVED.has(upper(t.text)) && upper(t.text) !== 'DECIMAL') this.fail('a type');
    const word = t.kind === 'quoted' ? t.value : upper(t.text);
    this.next();
    switch (word) {
      case 'ARRAY': {
        this.expectOp('<');
        const item = this.type();
        this.expectOp('>');
        return T.array(item);
      }
      case 'MAP': {
        this.expectOp('<');
        const key = this.type();
        this.expectOp(',');
        const value = this.type();
        this.expectOp('>');
        return T.map(key, value);
      }
      case 'STRUCT': {
        this.expectOp('<');
        const fields: SqlField[] = [];
        if (!this.isOp('>')) {
          do {
            const name = this.identifier('a field name');
            fields.push({ name, type: this.type() });
          } while (this.acceptOp(','));
        }
        this.expectOp('>');
        return T.struct(fields);
      }
      case 'DECIMAL': {
        this.expectOp('(');
        const p = this.next();
        if (p.kind !== 'integer') this.fail('a number', p);
        this.expectOp(',');
        const s = this.next();
        if (s.kind !== 'integer') this.fail('a number', s);
        this.expectOp(')');
        const precision = Number(p.text);
        const scale = Number(s.text);
        if (precision < 1) {
          throw new KsqlError('statement', `DECIMAL precision must be >= 1: DECIMAL(${precision},${scale})`);
        }
        if (scale < 0)
          throw new KsqlError('statement', `DECIMAL scale must be >= 0: DECIMAL(${precision},${scale})`);
        if (scale > precision) {
          throw new KsqlError(
            'statement',
            `DECIMAL precision must be >= scale: DECIMAL(${precision},${scale})`,
          );
        }
        return T.decimal(precision, scale);
      }
      default:
        break;
    }
    // Other base types may carry parameters, e.g. VARCHAR(STRING) (accepted and ignored by ksqlDB).
    if (this.isOp('(')) {
      this.next();
      do {
        const p = this.peek();
        if (!(p.kind === 'integer' || (p.kind === 'ident' && upper(p.text) === 'STRING')))
          this.fail("{'STRING', INTEGER_VALUE}", p);
        this.next();
      } while (this.acceptOp(','));
      if (!this.isOp(')')) this.fail("{',', ')'}");
      this.next();
    }
    switch (word) {
      case 'BOOLEAN':
        return T.BOOLEAN;
      case 'INT':
      case 'INTEGER':
        return T.INTEGER;
      case 'BIGINT':
        return T.BIGINT;
      case 'DOUBLE':
        return T.DOUBLE;
      case 'VARCHAR':
      case 'STRING':
        return T.STRING;
      case 'BYTES':
        return T.BYTES;
      case 'TIMESTAMP':
        return T.TIMESTAMP;
      case 'DATE':
        return T.DATE;
      case 'TIME':
        return T.TIME;
      default:
        throw new KsqlError('statement', `Unknown type: ${word}`, { line: t.line, column: t.column });
    }
  }

  // ---- top level -----------------------------------------------------------------------------

  atEnd(): boolean {
    return this.peek().kind === 'eof';
  }

  /** Parses `statement ;` repeatedly, keeping each statement's source text. */
  statements(): ParsedStatement[] {
    const out: ParsedStatement[] = [];
    while (!this.atEnd()) {
      if (this.acceptOp(';')) continue;
      const start = this.peek().start;
      this.statementStart = start;
      const statement = this.statement();
      const end = this.peek();
      if (!(end.kind === 'op' && end.text === ';') && end.kind !== 'eof') this.fail("';'", end);
      const text = this.text.slice(start, end.kind === 'eof' ? end.start : end.end).trim();
      out.push({ statement, text });
      this.acceptOp(';');
    }
    return out;
  }

  endOfInput(): void {
    if (!this.atEnd()) this.fail('<EOF>');
  }
}

/** Parses one or more `;`-terminated statements. */
export function parseStatements(text: string): ParsedStatement[] {
  return new Parser(text).statements();
}

/** Parses one expression (used for tests and for expected schemas in QTT post-conditions). */
export function parseExpression(text: string): Expr {
  const p = new Parser(text);
  const e = p.expression();
  p.endOfInput();
  return e;
}

export function parseType(text: string): SqlType {
  const p = new Parser(text);
  const t = p.type();
  p.endOfInput();
  return t;
}

/** Parses a column list such as `ID BIGINT KEY, NAME STRING` (QTT `post.sources[].schema`). */
export function parseTableElements(text: string): TableElement[] {
  const kind = /PRIMARY\s+KEY/i.test(text) ? 'TABLE' : 'STREAM';
  return parseStatements(`CREATE ${kind} X (${text});`).flatMap((s) =>
    s.statement.kind === 'CreateSource' ? [...s.statement.elements] : [],
  );
}

/**
 * Splits text into statements on `;` outside quotes and comments (ksqlDB's CommandParser.splitSql),
 * without parsing them: used to substitute variables statement by statement before parsing. Pieces
 * keep their surrounding whitespace, so joining them gives back the text.
 */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === "'" || c === '`' || c === '"') {
      let j = i + 1;
      while (j < text.length) {
        if (text[j] === c) {
          if (text[j + 1] === c) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      current += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i);
      const end = nl < 0 ? text.length : nl;
      current += text.slice(i, end);
      i = end;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      const end = close < 0 ? text.length : close + 2;
      current += text.slice(i, end);
      i = end;
      continue;
    }
    if (c === ';') {
      current += ';';
      out.push(current);
      current = '';
      i++;
      continue;
    }
    current += c;
    i++;
  }
  if (current.trim() !== '') out.push(current);
  return out;
}
