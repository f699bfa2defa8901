/**
 * The syntax tree: plain, readonly, JSON-serializable data (no classes, no bigint), so expressions can
 * be stored inside physical plans and compiled again after a restart. Exact numbers stay strings.
 */
import type { SqlType } from '../schema/types.ts';

export interface Loc {
  readonly line: number;
  readonly column: number;
}

export type LiteralType = 'NULL' | 'BOOLEAN' | 'INTEGER' | 'BIGINT' | 'DECIMAL' | 'DOUBLE' | 'STRING';

export type Expr =
  | {
      readonly kind: 'Literal';
      readonly type: LiteralType;
      /** Booleans as true/false, numbers as their source text, strings unescaped, NULL as null. */
      readonly value: string | boolean | null;
      readonly loc?: Loc;
    }
  | { readonly kind: 'Column'; readonly source?: string; readonly name: string; readonly loc?: Loc }
  | { readonly kind: 'Deref'; readonly base: Expr; readonly field: string; readonly loc?: Loc }
  | { readonly kind: 'Subscript'; readonly base: Expr; readonly index: Expr; readonly loc?: Loc }
  | { readonly kind: 'Negate'; readonly operand: Expr; readonly loc?: Loc }
  | {
      readonly kind: 'Arithmetic';
      readonly op: '+' | '-' | '*' | '/' | '%';
      readonly left: Expr;
      readonly right: Expr;
      readonly loc?: Loc;
    }
  | {
      readonly kind: 'Compare';
      readonly op: CompareOp;
      readonly left: Expr;
      readonly right: Expr;
      readonly loc?: Loc;
    }
  | {
      readonly kind: 'Logical';
      readonly op: 'AND' | 'OR';
      readonly left: Expr;
      readonly right: Expr;
      readonly loc?: Loc;
    }
  | { readonly kind: 'Not'; readonly operand: Expr; readonly loc?: Loc }
  | { readonly kind: 'IsNull'; readonly operand: Expr; readonly negated: boolean; readonly loc?: Loc }
  | {
      readonly kind: 'Between';
      readonly value: Expr;
      readonly low: Expr;
      readonly high: Expr;
      readonly negated: boolean;
      readonly loc?: Loc;
    }
  | {
      readonly kind: 'In';
      readonly value: Expr;
      readonly list: readonly Expr[];
      readonly negated: boolean;
      readonly loc?: Loc;
    }
  | {
      readonly kind: 'Like';
      readonly value: Expr;
      readonly pattern: Expr;
      readonly escape?: string;
      readonly negated: boolean;
      readonly loc?: Loc;
    }
  | {
      readonly kind: 'Case';
      /** Present for a simple CASE (`CASE x WHEN 1 THEN ...`). */
      readonly operand?: Expr;
      readonly whens: readonly { readonly when: Expr; readonly then: Expr }[];
      readonly else?: Expr;
      readonly loc?: Loc;
    }
  | { readonly kind: 'Cast'; readonly operand: Expr; readonly type: SqlType; readonly loc?: Loc }
  | {
      readonly kind: 'Call';
      /** Upper-cased function name. */
      readonly name: string;
      readonly args: readonly Expr[];
      /** `COUNT(*)`. */
      readonly star?: boolean;
      readonly loc?: Loc;
    }
  | { readonly kind: 'ArrayCtor'; readonly items: readonly Expr[]; readonly loc?: Loc }
  | {
      readonly kind: 'MapCtor';
      readonly entries: readonly { readonly key: Expr; readonly value: Expr }[];
      readonly loc?: Loc;
    }
  | {
      readonly kind: 'StructCtor';
      readonly fields: readonly { readonly name: string; readonly value: Expr }[];
      readonly loc?: Loc;
    }
  | { readonly kind: 'Lambda'; readonly params: readonly string[]; readonly body: Expr; readonly loc?: Loc }
  | { readonly kind: 'LambdaVar'; readonly name: string; readonly loc?: Loc }
  /** A time unit keyword passed to a function, e.g. TIMESTAMPADD(SECONDS, 1, ts). */
  | { readonly kind: 'TimeUnit'; readonly unit: string; readonly loc?: Loc };

export type CompareOp = '=' | '<>' | '<' | '<=' | '>' | '>=' | 'IS DISTINCT FROM' | 'IS NOT DISTINCT FROM';

export type ColumnConstraint = 'KEY' | 'PRIMARY KEY' | 'HEADERS' | { readonly header: string } | undefined;

export interface TableElement {
  readonly name: string;
  readonly type: SqlType;
  readonly constraint?: 'KEY' | 'PRIMARY KEY' | 'HEADERS' | { readonly header: string };
  readonly loc?: Loc;
}

/** WITH (...) properties: upper-cased names, values as literal expressions. */
export interface Property {
  readonly name: string;
  readonly value: Expr;
  readonly loc?: Loc;
}

export type SelectItem =
  | { readonly kind: 'Star'; readonly source?: string; readonly loc?: Loc }
  | { readonly kind: 'Expr'; readonly expr: Expr; readonly alias?: string; readonly loc?: Loc };

export interface SourceRef {
  readonly name: string;
  readonly alias?: string;
  readonly loc?: Loc;
}

export interface WithinClause {
  readonly before: string;
  readonly after: string;
  readonly grace?: string;
}

export interface JoinClause {
  readonly type: 'INNER' | 'LEFT' | 'RIGHT' | 'FULL';
  readonly source: SourceRef;
  readonly within?: WithinClause;
  readonly on: Expr;
  readonly loc?: Loc;
}

export interface WindowClause {
  readonly type: string;
  /** Raw text inside the parentheses; windowed queries are not executed yet. */
  readonly text: string;
}

export interface Query {
  readonly select: readonly SelectItem[];
  readonly from: SourceRef;
  readonly joins: readonly JoinClause[];
  readonly window?: WindowClause;
  readonly where?: Expr;
  readonly groupBy?: readonly Expr[];
  readonly partitionBy?: readonly Expr[];
  readonly having?: Expr;
  readonly emit?: 'CHANGES' | 'FINAL';
  readonly limit?: number;
  readonly loc?: Loc;
}

export type Statement =
  | {
      readonly kind: 'CreateSource';
      readonly sourceType: 'STREAM' | 'TABLE';
      readonly name: string;
      readonly orReplace: boolean;
      readonly ifNotExists: boolean;
      /** CREATE SOURCE STREAM/TABLE: read-only. */
      readonly isSource: boolean;
      readonly elements: readonly TableElement[];
      readonly properties: readonly Property[];
      readonly loc?: Loc;
    }
  | {
      readonly kind: 'CreateAsSelect';
      readonly sourceType: 'STREAM' | 'TABLE';
      readonly name: string;
      readonly orReplace: boolean;
      readonly ifNotExists: boolean;
      readonly properties: readonly Property[];
      readonly query: Query;
      readonly loc?: Loc;
    }
  | {
      readonly kind: 'InsertInto';
      readonly target: string;
      readonly properties: readonly Property[];
      readonly query: Query;
      /** Position of the target name. */
      readonly loc?: Loc;
    }
  | {
      readonly kind: 'InsertValues';
      readonly target: string;
      readonly columns: readonly string[];
      readonly values: readonly Expr[];
      readonly loc?: Loc;
    }
  | {
      readonly kind: 'DropSource';
      readonly sourceType: 'STREAM' | 'TABLE';
      readonly name: string;
      readonly ifExists: boolean;
      readonly deleteTopic: boolean;
      readonly loc?: Loc;
    }
  | { readonly kind: 'Terminate'; readonly queryId?: string; readonly all: boolean; readonly loc?: Loc }
  | {
      readonly kind: 'Show';
      readonly what: 'STREAMS' | 'TABLES' | 'QUERIES' | 'TOPICS' | 'PROPERTIES' | 'VARIABLES' | 'FUNCTIONS';
      readonly extended: boolean;
      readonly loc?: Loc;
    }
  | { readonly kind: 'Describe'; readonly name: string; readonly extended: boolean; readonly loc?: Loc }
  | { readonly kind: 'DefineVariable'; readonly name: string; readonly value: string; readonly loc?: Loc }
  | { readonly kind: 'UndefineVariable'; readonly name: string; readonly loc?: Loc }
  | { readonly kind: 'SetProperty'; readonly name: string; readonly value: string; readonly loc?: Loc }
  | { readonly kind: 'UnsetProperty'; readonly name: string; readonly loc?: Loc }
  | {
      readonly kind: 'AlterSource';
      readonly sourceType: 'STREAM' | 'TABLE';
      readonly name: string;
      readonly elements: readonly TableElement[];
      readonly loc?: Loc;
    }
  | { readonly kind: 'Select'; readonly query: Query; readonly loc?: Loc };

/** A statement with the exact text it was parsed from (kept for the command topic and messages). */
export interface ParsedStatement {
  readonly statement: Statement;
  readonly text: string;
}
