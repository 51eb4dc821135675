import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../errors.js';
import { MIN_HMAC_SECRET_BYTES } from './key-ring.js';

/** The key id of the development secret; `ferry token` puts it in the token header. */
export const DEV_SECRET_KID = 'dev';

/** File name of the development secret inside `dataDir`. */
export const DEV_SECRET_FILE = 'dev-secret';

/** The development HS256 secret and where it lives. */
export interface DevSecret {
  /** The secret text; its UTF-8 bytes are the HMAC key (the same rule as configured secrets). */
  secret: string;
  kid: typeof DEV_SECRET_KID;
  path: string;
  /** True when this call generated the file. */
  created: boolean;
}

/**
 * The node's development secret: read from `<dataDir>/dev-secret`, or generated there once (32 random
 * bytes, base64url, file mode 0600, directory 0700). Used only when no auth keys are configured at all,
 * so that `ferry start` and `ferry token` work with zero setup and agree with each other.
 *
 * Safe when two processes race (say `ferry token` while `ferry start` boots): the secret is written to a
 * private temporary file and hard-linked into place, which fails atomically if the other process won,
 * and then that process's complete file is read. Throws ConfigError when the file exists but is unusable.
 */
export async function loadOrCreateDevSecret(dataDir: string): Promise<DevSecret> {
  const path = join(dataDir, DEV_SECRET_FILE);
  const existing = await readSecret(path);
  if (existing !== undefined) return { secret: existing, kid: DEV_SECRET_KID, path, created: false };

  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, path);
    return { secret, kid: DEV_SECRET_KID, path, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const winner = await readSecret(path);
    if (winner === undefined)
      throw new ConfigError(`invalid config: dev secret ${path} vanished while reading it`);
    return { secret: winner, kid: DEV_SECRET_KID, path, created: false };
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** The secret in `path`, or undefined if there is no such file. */
async function readSecret(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(
      `invalid config: cannot read dev secret ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const secret = text.trim();
  if (Buffer.byteLength(secret) < MIN_HMAC_SECRET_BYTES) {
    throw new ConfigError(
      `invalid config: dev secret ${path} is shorter than ${MIN_HMAC_SECRET_BYTES} bytes; delete it to generate a new one`,
    );
  }
  return secret;
}
