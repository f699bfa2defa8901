import { describe, expect, it } from 'vitest';
import { MetaStore } from '../analyzer/metastore.ts';
import { createFunctionRegistry } from '../functions/builtins.ts';
import { parseStatements } from '../parser/parser.ts';
import { schemaText } from '../schema/logical.ts';
import { planCreateSource, type PlannerContext } from './planner.ts';
import { planQuery, type PlannedQuery } from './query.ts';

function context(ddl: string): PlannerContext {
  const metastore = new MetaStore();
  const ctx: PlannerContext = {
    metastore,
    functions: createFunctionRegistry(),
    config: {},
    topicPartitions: new Map(),
    createMissingSourceTopics: true,
    nextQueryId: (p) => p,
  };
  for (const p of parseStatements(ddl)) {
    if (p.statement.kind !== 'CreateSource') continue;
    const plan = planCreateSource(p.statement, p.text, ctx);
    if (plan?.ddl?.command === 'createSource') metastore.put(plan.ddl.source);
  }
  return ctx;
}

function plan(ctx: PlannerContext, select: string): PlannedQuery {
  const [p] = parseStatements(`CREATE TABLE OUT AS ${select};`);
  if (p?.statement.kind !== 'CreateAsSelect') throw new Error('not a CTAS');
  return planQuery(p.statement.query, ctx, 'OUT');
}

const ddl = `
  CREATE STREAM s (id INT KEY, data STRING, f1 INT, f2 INT) WITH (kafka_topic='s', value_format='JSON');
  CREATE TABLE t (id INT PRIMARY KEY, name STRING, data STRING) WITH (kafka_topic='t', value_format='JSON');
  CREATE TABLE u (id INT PRIMARY KEY, title STRING, t_id INT) WITH (kafka_topic='u', value_format='JSON');
`;

describe('planQuery: aggregations', () => {
  it('keys follow GROUP BY order, named after the matching select item; unaliased items get KSQL_COL_n', () => {
    const p = plan(context(ddl), 'SELECT f2, f1, f2 + f1, COUNT(*) FROM s GROUP BY f1, f2');
    expect(p.resultType).toBe('TABLE');
    expect(schemaText(p.outputSchema)).toBe(
      'F1 INTEGER KEY, F2 INTEGER KEY, KSQL_COL_0 INTEGER, KSQL_COL_1 BIGINT',
    );
    const step = p.input.step === 'aggregate' ? p.input : undefined;
    expect(step?.stateStore).toBe('Aggregate-Aggregate-Materialize');
  });

  it('materializes a table source it aggregates (its old rows are retracted)', () => {
    const p = plan(context(ddl), 'SELECT data, COUNT(*) AS n FROM t GROUP BY data');
    const group = p.input.step === 'aggregate' ? p.input.source : undefined;
    expect(group?.table).toBe(true);
    expect(group?.source.step === 'tableSource' && group.source.stateStore).toBe('KsqlTopic-Reduce');
  });

  it("reports ksqlDB's GROUP BY errors", () => {
    const ctx = context(ddl);
    expect(() => plan(ctx, 'SELECT data, f1, COUNT(*) FROM s GROUP BY data')).toThrow(
      'Non-aggregate SELECT expression(s) not part of GROUP BY: F1',
    );
    expect(() => plan(ctx, 'SELECT COUNT(*) FROM s GROUP BY data')).toThrow(
      'The query used to build `OUT` must include the grouping expression DATA in its projection (eg, SELECT DATA...).',
    );
    expect(() => plan(ctx, 'SELECT data, SUM(COUNT(*)) FROM s GROUP BY data')).toThrow(
      'Aggregate functions can not be nested: SUM(COUNT())',
    );
    expect(() => plan(ctx, 'SELECT id, LATEST_BY_OFFSET(name), MIN(id) FROM t GROUP BY id')).toThrow(
      'The aggregation functions LATEST_BY_OFFSET and MIN cannot be applied to a table source, only to a stream source.',
    );
  });
});

describe('planQuery: joins', () => {
  it('names qualified columns A_COL only when several sources have them; SELECT * prefixes all', () => {
    const ctx = context(ddl);
    expect(schemaText(plan(ctx, 'SELECT t.id, name, title FROM t JOIN u ON t.id = u.id').outputSchema)).toBe(
      'T_ID INTEGER KEY, NAME STRING, TITLE STRING',
    );
    expect(schemaText(plan(ctx, 'SELECT * FROM t JOIN u ON t.id = u.id').outputSchema)).toBe(
      'T_ID INTEGER KEY, T_NAME STRING, T_DATA STRING, U_ID INTEGER, U_TITLE STRING, U_T_ID INTEGER',
    );
  });

  it('plans a foreign-key join when the left side is not its key, keeping the left key', () => {
    const p = plan(context(ddl), 'SELECT u.id, title, name FROM u JOIN t ON u.t_id = t.id');
    expect(p.input.step).toBe('fkJoin');
    expect(schemaText(p.outputSchema)).toBe('U_ID INTEGER KEY, TITLE STRING, NAME STRING');
  });

  it('uses a synthetic key for FULL OUTER joins, which the projection must select', () => {
    const ctx = context(ddl);
    expect(
      schemaText(
        plan(ctx, 'SELECT ROWKEY, name, title FROM t FULL OUTER JOIN u ON t.id = u.id').outputSchema,
      ),
    ).toBe('ROWKEY INTEGER KEY, NAME STRING, TITLE STRING');
    expect(() => plan(ctx, 'SELECT name, title FROM t FULL OUTER JOIN u ON t.id = u.id')).toThrow(
      'ROWKEY was added as a synthetic key column because the join criteria did not match any source column.',
    );
  });

  it('rejects ambiguous columns and unknown qualifiers', () => {
    const ctx = context(ddl);
    expect(() => plan(ctx, 'SELECT t.id, data FROM t JOIN u ON t.id = u.id JOIN s ON s.id = t.id')).toThrow(
      "Column 'DATA' is ambiguous. Could be T.DATA or S.DATA.",
    );
    expect(() => plan(ctx, 'SELECT t.id, name FROM t JOIN u ON x.id = u.id')).toThrow(
      "'X' is not a valid stream/table name or alias.",
    );
  });
});
