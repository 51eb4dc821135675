/**
 * The operator commands of the `ferry` CLI, all through the gRPC access API (docs/operations.md):
 *   ferry status                       cluster summary (Stats.nodes)
 *   ferry user ID                      devices and login sessions of a user (ListSessions)
 *   ferry kick USER [--device D]       disconnect a user's devices (Kick)
 *   ferry push USER TEXT               send TEXT to a user as the "system" sender (Push)
 *   ferry broadcast TOPIC TEXT         publish TEXT to a topic (Broadcast)
 * Each takes --server/FERRY_SERVER, --api-key/FERRY_API_KEY, --tls-ca/FERRY_TLS_CA, --timeout.
 */
import { Command, Option } from 'commander';
import { formatPush, formatStatus, formatUser } from './ops-format.js';
import { DEFAULT_SERVER, OpsError, OpsUsageError, resolveTarget, type OpsFlags } from './ops-target.js';

export { OpsError, OpsUsageError } from './ops-target.js';

/** What the commands need of the process. */
export interface OpsIo {
  stdout: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

function withTarget(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--server <host:port>',
        `access API address (default: ${DEFAULT_SERVER}; env: FERRY_SERVER)`,
      ),
    )
    .addOption(
      new Option(
        '--api-key <key>',
        'access API key (env: FERRY_API_KEY; default: the development key in <data-dir>/access/dev-secret)',
      ),
    )
    .addOption(
      new Option(
        '--data-dir <dir>',
        'where a local node keeps its development key (default: .ferry; env: FERRY_DATA_DIR)',
      ),
    )
    .addOption(new Option('--tls-ca <path>', 'CA certificate (PEM) of a TLS access API (env: FERRY_TLS_CA)'))
    .addOption(new Option('--timeout <ms>', 'deadline of the call in milliseconds (default: 5000)'))
    .option('--json', 'print the response as JSON');
}

/** Adds `status`, `user`, `kick`, `push` and `broadcast` to `program`. */
export function registerOpsCommands(program: Command, io: OpsIo): void {
  const run = async (
    flags: OpsFlags & { json?: boolean },
    method: string,
    request: Record<string, unknown>,
    format: (res: Record<string, unknown>) => string,
  ): Promise<void> => {
    const target = await resolveTarget(flags, io.env, io.cwd);
    // grpc-js is loaded by the commands that call, not by every `ferry` command (`ferry start` included).
    const { OpsClient } = await import('./ops-client.js');
    const client = new OpsClient(target);
    try {
      const res = await client.call(method, request);
      io.stdout(flags.json === true ? `${JSON.stringify(res, null, 2)}\n` : format(res));
    } finally {
      client.close();
    }
  };

  withTarget(
    program.command('status').description('cluster summary: every node, its connections, rates and Redis'),
  ).action((flags: OpsFlags & { json?: boolean }) => run(flags, 'Stats', {}, formatStatus));

  withTarget(
    program.command('user').description("a user's devices (node, transport, since) and login sessions"),
  )
    .argument('<id>', 'user id')
    .action((id: string, flags: OpsFlags & { json?: boolean }) =>
      run(flags, 'ListSessions', { userId: id }, (res) => formatUser(id, res, Date.now())),
    );

  withTarget(program.command('kick').description("disconnect a user's devices (4506 KICKED)"))
    .argument('<user>', 'user id')
    .option('--device <id>', 'only this device')
    .option('--reason <text>', 'reason shown to the client', 'kicked by operator')
    .action((user: string, flags: OpsFlags & { json?: boolean; device?: string; reason: string }) =>
      run(
        flags,
        'Kick',
        { userId: user, deviceId: flags.device ?? '', reason: flags.reason },
        (res) =>
          `kicked ${user}${flags.device !== undefined ? ` device ${flags.device}` : ''}: ${String(res.devices)} device(s) were online\n`,
      ),
    );

  withTarget(
    program.command('push').description('send TEXT to a user from "system" (QoS 1: stored if offline)'),
  )
    .argument('<user>', 'user id')
    .argument('<text>', 'message text (UTF-8)')
    .option('--qos <n>', '0 or 1', '1')
    .action((user: string, text: string, flags: OpsFlags & { json?: boolean; qos: string }) =>
      run(
        flags,
        'Push',
        { recipients: [{ userId: user }], payload: Buffer.from(text, 'utf8'), qos: qosOf(flags.qos) },
        formatPush,
      ),
    );

  withTarget(program.command('broadcast').description('publish TEXT to a topic'))
    .argument('<topic>', 'topic name')
    .argument('<text>', 'message text (UTF-8)')
    .option('--qos <n>', '0 or 1', '0')
    .action((topic: string, text: string, flags: OpsFlags & { json?: boolean; qos: string }) =>
      run(
        flags,
        'Broadcast',
        { topic, payload: Buffer.from(text, 'utf8'), qos: qosOf(flags.qos) },
        (res) => `published to ${String(res.topic)}: seq ${String(res.seq)}, id ${String(res.serverId)}\n`,
      ),
    );
}

function qosOf(v: string): number {
  if (v !== '0' && v !== '1') throw new OpsUsageError(`invalid --qos: 0 or 1, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** True for the errors the CLI prints as one line: usage ones (exit 2) first. */
export function opsExitCode(err: unknown): number | null {
  if (err instanceof OpsUsageError) return 2;
  if (err instanceof OpsError) return 1;
  return null;
}
