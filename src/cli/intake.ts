import { runIntake } from '../services/intake/main.ts';
import { usageError, type Command } from './command.ts';

export const intakeCommand: Command = {
  name: 'intake',
  summary: 'Run the channel intake: WhatsApp, email (Postmark, Mailgun, SendGrid) and web-form endpoints.',
  usage: ['intake [--port <port>]'],
  options: {
    port: { type: 'string', description: 'Port to listen on (default STREAMDESK_INTAKE_PORT, 8080).' },
  },
  details: `
Endpoints (a channel is served only when its secret is configured, see .env.example):
  GET|POST /webhooks/whatsapp                 Meta verification handshake; signed webhooks (X-Hub-Signature-256)
  POST     /webhooks/email/postmark           Postmark inbound JSON, basic auth
  POST     /webhooks/email/mailgun            Mailgun routes (urlencoded or multipart), signed
  POST     /webhooks/email/sendgrid/<secret>  SendGrid Inbound Parse (multipart)
  POST     /forms/<form id>                   web forms from config/forms.yaml (JSON or urlencoded)
  GET      /healthz  /readyz  /metrics        process up; Kafka, registry and Redis reachable; Prometheus
Every 2xx means Kafka acknowledged the message (acks=all); redeliveries are deduplicated in Redis.
Stops gracefully on SIGINT/SIGTERM: in-flight requests finish and the producer flushes.`,
  async run(args, ctx) {
    const port = args.values['port'];
    let config = ctx.config;
    if (typeof port === 'string') {
      const n = Number(port);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw usageError('--port must be a TCP port');
      config = { ...config, intake: { ...config.intake, port: n } };
    }
    await runIntake(config, ctx.out);
    return 0;
  },
};
