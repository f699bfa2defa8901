import { describe, expect, it } from 'vitest';
import { findJava, parseJavaVersion } from './java.ts';
import { renderServerProperties } from './kafka.ts';
import { formatStatusTable } from './stack.ts';

describe('parseJavaVersion', () => {
  it('reads modern and legacy version strings', () => {
    expect(parseJavaVersion('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime')).toEqual({
      major: 17,
      version: '17.0.15',
    });
    expect(parseJavaVersion('openjdk version "25" 2025-09-16')).toEqual({ major: 25, version: '25' });
    expect(parseJavaVersion('java version "1.8.0_392"')).toEqual({ major: 8, version: '1.8.0_392' });
    expect(parseJavaVersion('no java here')).toBeUndefined();
  });

  it('findJava names what it found when nothing is new enough', async () => {
    await expect(findJava(99, 'Some server 1.0', undefined)).rejects.toMatchObject({
      code: 'SD_ERR_STACK_JAVA_MISSING',
      message: expect.stringMatching(/Some server 1\.0 needs Java 99 or newer; found .*Java \d+/),
    });
  });
});

describe('renderServerProperties', () => {
  it('fills placeholders and refuses unknown ones', () => {
    expect(
      renderServerProperties('listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT}', { KAFKA_PORT: 9092 }),
    ).toBe('listeners=PLAINTEXT://127.0.0.1:9092');
    expect(() => renderServerProperties('x=${NOPE}', {})).toThrow(/NOPE/);
  });
});

describe('formatStatusTable', () => {
  it('aligns columns and shows a dash for a missing pid', () => {
    const table = formatStatusTable([
      { name: 'kafka', version: '4.4.0', address: '127.0.0.1:9092', state: 'running', pid: 42 },
      { name: 'redis', version: '7.0.15', address: '127.0.0.1:6379', state: 'external' },
    ]);
    expect(table.split('\n')).toEqual([
      'SERVICE  VERSION  ADDRESS         STATE     PID',
      'kafka    4.4.0    127.0.0.1:9092  running   42',
      'redis    7.0.15   127.0.0.1:6379  external  -',
    ]);
  });
});
