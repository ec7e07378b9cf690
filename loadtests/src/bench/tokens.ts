/**
 * HS256 tokens for the bench's gateway with AUTH_MODE=jwt: one "userId token" line per user, for
 * loadtests/wrk/issue-auth.lua. Signed here with node:crypto (hundreds of thousands in a second or
 * two); the gateway verifies them with jose, as it would an identity provider's.
 */
import { createHmac } from 'node:crypto';
import { writeFile } from 'node:fs/promises';

/** The bench gateway's AUTH_JWT_SECRET: a test secret, that gateway listens on loopback only. */
export const BENCH_JWT_SECRET = 'bench-only-hs256-secret-of-32-characters';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const HEADER = b64({ alg: 'HS256', typ: 'JWT' });

/** One compact JWS for `sub`, valid for an hour. */
export function hs256(
  sub: number,
  secret = BENCH_JWT_SECRET,
  exp = Math.floor(Date.now() / 1000) + 3_600,
): string {
  const body = `${HEADER}.${b64({ sub: String(sub), exp })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** Writes `count` users from `first` on, each with its own token, to `path`. */
export async function writeTokens(path: string, first: number, count: number): Promise<void> {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`${first + i} ${hs256(first + i)}`);
  await writeFile(path, `${lines.join('\n')}\n`);
}
