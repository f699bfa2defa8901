import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../paths.ts';
import { CONFIG_KEYS, loadConfig } from './index.ts';

describe('loadConfig', () => {
  it('defaults to the local stack on loopback', () => {
    const config = loadConfig({}, '/repo');
    expect(config.stack.dir).toBe('/repo/.stack');
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.registry.url).toBe('http://127.0.0.1:8081/apis/ccompat/v7');
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.database.url).toBe('postgres://postgres@127.0.0.1:5432/streamdesk');
    expect(config.logLevel).toBe('info');
  });

  it('derives client addresses from moved ports unless given explicitly', () => {
    const moved = loadConfig({ STREAMDESK_KAFKA_PORT: '19092', STREAMDESK_REGISTRY_PORT: '18081' }, '/r');
    expect(moved.stack.kafka.port).toBe(19092);
    expect(moved.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(moved.registry.url).toBe('http://127.0.0.1:18081/apis/ccompat/v7');
    const explicit = loadConfig(
      { STREAMDESK_KAFKA_BROKERS: 'a:1, b:2', STREAMDESK_REGISTRY_URL: 'http://sr:8081/' },
      '/r',
    );
    expect(explicit.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(explicit.registry.url).toBe('http://sr:8081');
  });

  it('keeps an absolute stack directory as given', () => {
    expect(loadConfig({ STREAMDESK_STACK_DIR: '/tmp/x' }, '/r').stack.dir).toBe('/tmp/x');
  });

  it('rejects unknown STREAMDESK_ keys, naming them, and ignores other variables', () => {
    expect(() => loadConfig({ STREAMDESK_KAFKA_PROT: '1', PATH: '/bin' }, '/r')).toThrow(
      /STREAMDESK_KAFKA_PROT/,
    );
    expect(() => loadConfig({ PATH: '/bin', HOME: '/root' }, '/r')).not.toThrow();
  });

  it('rejects malformed values with the key and a stable code', () => {
    expect(() => loadConfig({ STREAMDESK_KAFKA_PORT: '99999' }, '/r')).toThrow(
      expect.objectContaining({
        code: 'SD_ERR_CONFIG_INVALID',
        message: expect.stringContaining('STREAMDESK_KAFKA_PORT'),
      }),
    );
    expect(() => loadConfig({ STREAMDESK_KAFKA_HEAP: 'lots' }, '/r')).toThrow(/STREAMDESK_KAFKA_HEAP/);
    expect(() => loadConfig({ STREAMDESK_LOG_LEVEL: 'loud' }, '/r')).toThrow(/STREAMDESK_LOG_LEVEL/);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({}, '/r');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.stack.kafka)).toBe(true);
  });

  it('.env.example lists every key streamdesk reads, and nothing else', () => {
    const example = readFileSync(`${PROJECT_ROOT}/.env.example`, 'utf8');
    const listed = [...example.matchAll(/^#?\s*(STREAMDESK_[A-Z_]+)=/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(Object.keys(CONFIG_KEYS).sort());
  });
});
