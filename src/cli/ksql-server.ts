import { createLogger } from '../services/intake/main.ts';
import { createKsqlRuntime } from '../ksql/kafka/runtime.ts';
import { createKsqlServer } from '../ksql/server/http.ts';
import { usageError, type Command } from './command.ts';

export const ksqlServerCommand: Command = {
  name: 'ksql-server',
  summary: "Run the local ksql engine: ksqlDB's REST API over the real broker and registry.",
  usage: ['ksql-server [--port <port>]'],
  options: { port: { type: 'string', description: 'Port (default STREAMDESK_KSQL_PORT, 8088).' } },
  details: `
Serves POST /ksql, /query-stream, /inserts-stream, /close-query and GET /info, /healthcheck,
/status/... on one port, HTTP/1.1 and cleartext HTTP/2 (h2c). Statements that create or drop sources
and start or stop queries are written to the command topic (_confluent-ksql-<service id>_command_topic)
and replayed on start: persistent queries resume from their committed offsets. Deserialization failures
go to the processing log (stream KSQL_PROCESSING_LOG); the record is skipped, the query keeps running.`,
  async run(args, ctx) {
    const port = args.values['port'] === undefined ? ctx.config.ksql.port : Number(args.values['port']);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw usageError('--port must be a TCP port');
    const logger = createLogger(ctx.config, 'ksql');
    const runtime = createKsqlRuntime(
      {
        brokers: ctx.config.kafka.brokers,
        registryUrl: ctx.config.registry.url,
        serviceId: ctx.config.ksql.serviceId,
        replicas: ctx.config.ksql.replicas,
      },
      logger,
    );
    await runtime.start();
    const server = createKsqlServer(runtime, logger);
    const bound = await server.listen(port, ctx.config.ksql.host);
    ctx.out(
      `ksql engine listening on http://${ctx.config.ksql.host}:${bound} (service id ${ctx.config.ksql.serviceId}, ${runtime.engine.queries().length} persistent queries)`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    ctx.out('stopping');
    await server.close();
    await runtime.stop();
    return 0;
  },
};
