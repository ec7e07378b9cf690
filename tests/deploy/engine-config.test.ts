// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the templates' ${NAME} syntax is what these strings are about
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMPOSE_FILES, type ComposeService, interpolate, loadCompose } from './compose.js';
import { ROOT } from './schema.js';

/**
 * The engines' settings live once, in infra/config, for the local stack and the compose files alike
 * (infra/config/README.md). Checked here without a container engine: the filler's rules, that every
 * file compose mounts exists, and that each engine container's own config step, run on this machine
 * against the mounted files, writes every shared setting and sets none of them a second time (a
 * runner's line after the shared ones would quietly win).
 */

const CONFIG = `${ROOT}/infra/config`;
const work = mkdtempSync(join(tmpdir(), 'coupon-engine-config-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function render(template: string, env: Record<string, string>): { out: string; err: string; code: number } {
  const file = join(work, 'template');
  writeFileSync(file, template);
  const r = spawnSync(`${CONFIG}/render`, [file], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
  });
  return { out: r.stdout, err: r.stderr, code: r.status ?? -1 };
}

describe('infra/config/render', () => {
  it.each([
    ['a value', 'x=${A}', { A: 'v' }, 'x=v'],
    ['a default, unset', 'x=${A:-2000}', {}, 'x=2000'],
    ['a default, empty', 'x=${A:-2000}', { A: '' }, 'x=2000'],
    ['a default, set', 'x=${A:-2000}', { A: '5' }, 'x=5'],
    ['a default with spaces', 'bind ${A:-* -::*}', {}, 'bind * -::*'],
    ['two on a line', '${A} ${B:-b} ${A}', { A: 'a' }, 'a b a'],
    ['a value is not read again', 'x=${A}', { A: '${B} & \\1' }, 'x=${B} & \\1'],
    ['no braces, or no ":-", is not a reference', 'x=$A ${A-b}', { A: 'v' }, 'x=$A ${A-b}'],
  ])('happy: %s', (_, template, env, want) => {
    expect(render(`${template}\n`, env)).toEqual({ out: `${want}\n`, err: '', code: 0 });
  });

  it('error: a reference with neither value nor default stops it, naming the line and the variable', () => {
    const r = render('ok\nport ${PORT}\n', {});
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/template:2: PORT is not set/);
  });
});

/** The services of a compose file whose configs come from infra/config. */
function engines(file: string): [string, ComposeService][] {
  return Object.entries(loadCompose(file).services).filter(([, s]) =>
    (s.configs ?? []).some((c) => c.target.startsWith('/etc/coupon/')),
  );
}

/** A shared file as the containers get it: rendered with its defaults (and the runner's variables). */
function shared(path: string, env: Record<string, string> = {}): string[] {
  const text = execFileSync(`${CONFIG}/render`, [path], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
  });
  return settings(text);
}

const settings = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

/** The setting a line sets: a property's key, a Redis directive (Sentinel's with its sub-command). */
const key = (line: string) =>
  line.includes('=') && !line.includes(' ')
    ? line.split('=')[0]
    : line
        .split(' ')
        .slice(0, line.startsWith('sentinel ') ? 2 : 1)
        .join(' ');

/**
 * Runs the part of a container's command that writes its engine's config (up to the start of the
 * engine), with the container's paths mapped to this machine's; returns the file it wrote.
 */
function containerConfig(name: string, s: ComposeService): string {
  const dir = mkdtempSync(join(work, `${name}-`));
  const command = Array.isArray(s.command) ? (s.command[0] ?? '') : (s.command ?? '');
  const lines = interpolate(command, {}).split('\n');
  const start = lines.findIndex((l) => /kafka-storage\.sh|exec redis-server/.test(l));
  const script = lines
    .slice(0, start)
    .join('\n')
    .replace(/\/(data|tmp|opt\/kafka\/config)\//g, `${dir}/`)
    .replaceAll('/etc/coupon/', `${CONFIG}/`);
  const env = Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v ?? '')]));
  execFileSync(s.entrypoint?.[0] ?? 'sh', ['-c', script], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
  const written = readdirSync(dir);
  expect(written, `${name} writes one file`).toHaveLength(1);
  return readFileSync(join(dir, written[0] as string), 'utf8');
}

describe.each(COMPOSE_FILES)('%s', (file) => {
  const doc = loadCompose(file);

  it('happy: every config it mounts from a file exists, and every service mounts only configs it defines', () => {
    for (const [name, c] of Object.entries(doc.configs ?? {})) {
      if (c.file)
        expect(existsSync(join(ROOT, 'infra', c.file)), `${file} configs.${name}: ${c.file}`).toBe(true);
    }
    for (const [name, s] of Object.entries(doc.services)) {
      for (const c of s.configs ?? [])
        expect(doc.configs?.[c.source], `${file} ${name}: ${c.source}`).toBeDefined();
    }
  });

  it("happy: each engine container's config holds every shared setting, and sets none twice", () => {
    const checked = engines(file).map(([name, s]) => {
      const targets = (s.configs ?? []).map((c) => c.target.replace('/etc/coupon/', `${CONFIG}/`));
      const files = targets.filter((t) => !t.endsWith('/render'));
      if (JSON.stringify(s.command).includes('"redis-server","/etc/coupon/')) {
        // the single Redis runs the mounted file itself
        expect(s.command, name).toEqual(['redis-server', '/etc/coupon/redis/redis.conf']);
        return name;
      }
      const written = settings(containerConfig(name, s));
      const env = {
        REDIS_HA_MASTER: 'coupon',
        REDIS_HA_PRIMARY_HOST: 'redis-1',
        REDIS_HA_PRIMARY_PORT: '6379',
      };
      for (const f of files)
        for (const line of shared(f, env)) expect(written, `${name}: ${f}`).toContain(line);
      const keys = written.map(key);
      expect(
        keys.filter((k, i) => keys.indexOf(k) !== i),
        `${name}: set twice`,
      ).toEqual([]);
      return name;
    });
    expect(checked.length, `${file}: engines reading infra/config`).toBeGreaterThan(0);
  });
});
