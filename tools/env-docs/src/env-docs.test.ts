import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  END,
  envChoices,
  envDefault,
  jsdocByKey,
  ROOT,
  render,
  renderService,
  SERVICES,
  START,
  TARGET,
  updateDoc,
} from './env-docs.js';

describe('docs/configuration.md', () => {
  it('happy: its tables match the env schemas and comments (run `pnpm docs:env` to fix)', () => {
    const doc = readFileSync(join(ROOT, TARGET), 'utf8');
    expect(doc).toContain(START);
    expect(updateDoc(doc, render()), `${TARGET} is out of date: run \`pnpm docs:env\``).toBe(doc);
  });

  it('happy: the README keeps no copy of the tables, only a link', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).not.toContain(START);
    expect(readme).not.toMatch(/^\| `[A-Z_]+` \| /m);
    expect(readme).toContain(`](${TARGET})`);
  });

  it('happy: every key of every service schema has a row, with the default a developer machine uses', () => {
    const out = render();
    for (const svc of SERVICES) {
      for (const key of Object.keys(svc.schema.shape))
        expect(out).toMatch(new RegExp(`^\\| \`${key}\` \\|`, 'm'));
    }
    expect(out).toContain('| `KAFKA_BROKERS` | `127.0.0.1:9092` |');
    expect(out).toContain('| `MIGRATE_ON_START` | `true` |');
  });
});

describe('generator', () => {
  const source = `
    import { z } from 'zod';
    export const shared = {
      /** Shared one. */
      SHARED: z.string().default('s'),
    };
    export const env = z.object({
      ...shared,
      /**
       * Spread over
       * two lines | with a pipe.
       */
      PORT: z.coerce.number().default(3000),
      // a line comment is not documentation
      HOST: z.string().default('127.0.0.1'),
    });`;

  it('happy: JSDoc above each key, joined to one line; line comments are not documentation', () => {
    const docs = jsdocByKey(source);
    expect(docs.get('SHARED')).toBe('Shared one.');
    expect(docs.get('PORT')).toBe('Spread over two lines | with a pipe.');
    expect(docs.get('HOST')).toBeUndefined();
  });

  it('happy: defaults are the input side of transforms; keys without one are marked required', () => {
    const list = z
      .string()
      .default('a:1')
      .transform((s) => s.split(','));
    const flag = z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .default(false);
    expect(envDefault(list)).toEqual({ kind: 'default', value: 'a:1' });
    expect(envDefault(flag)).toEqual({ kind: 'default', value: false });
    expect(envDefault(z.string())).toEqual({ kind: 'required' });
    expect(envDefault(z.string().optional())).toEqual({ kind: 'optional' });
    expect(envChoices(flag)).toEqual(['true', 'false']);
    expect(envChoices(list)).toBeUndefined();
  });

  it('happy: a table row per key; .describe() wins over JSDoc; pipes are escaped', () => {
    const schema = z.object({
      SHARED: z.string().default('s'),
      PORT: z.coerce.number().default(3000),
      HOST: z.string().default('').describe('From describe.'),
      TOKEN: z.string(),
    });
    const out = renderService({ name: 'demo', schema, sources: ['env.ts'] }, () => source);
    expect(out.split('\n')).toEqual([
      '## demo (`env.ts`)',
      '',
      '| variable | default | description |',
      '|---|---|---|',
      '| `SHARED` | `s` | Shared one. |',
      '| `PORT` | `3000` | Spread over two lines \\| with a pipe. |',
      '| `HOST` | (empty) | From describe. |',
      '| `TOKEN` | **required** | (undocumented) |',
    ]);
  });

  it('happy: a missing page becomes the heading and the block', () => {
    expect(updateDoc('', 'A')).toBe(`# Configuration\n\n${START}\nA\n${END}\n`);
  });

  it('happy: markers and heading are appended when missing, and only the text between them changes', () => {
    const doc = 'Intro.\n\n## Other\n\ntext\n';
    const first = updateDoc(doc, 'A');
    expect(first).toBe(`Intro.\n\n## Other\n\ntext\n\n# Configuration\n\n${START}\nA\n${END}\n`);
    const withLater = `${first}\n## Later section\n\nmore\n`;
    expect(updateDoc(withLater, 'B')).toBe(withLater.replace(`${START}\nA\n`, `${START}\nB\n`));
    expect(updateDoc(updateDoc(withLater, 'B'), 'B')).toBe(updateDoc(withLater, 'B'));
  });

  it('happy: an existing Configuration heading gets the markers right under it', () => {
    const doc = '# Configuration\n\nHand-written intro.\n';
    expect(updateDoc(doc, 'A')).toBe(`# Configuration\n\n${START}\nA\n${END}\n\nHand-written intro.\n`);
  });

  it('error: a lone or reversed marker is refused rather than guessed at', () => {
    expect(() => updateDoc(`# x\n${START}\n`, 'A')).toThrow(/out of order/);
    expect(() => updateDoc(`# x\n${END}\n${START}\n`, 'A')).toThrow(/out of order/);
  });
});
