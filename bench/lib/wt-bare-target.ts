/**
 * The "bare" target of bench/webtransport.ts: the floor under Ferry's figures. The same bare gateway
 * (bench/baseline-ws-server.ts: bench/lib/bare-gateway.ts, with bench/lib/bare-wt-listener.ts for
 * WebTransport on Ferry's own engine) serves both transports, with none of Ferry's session, auth,
 * routing, bus or metrics layers; its clients authenticate with their user id. Measuring the load
 * phases against it as well as against Ferry separates what WebTransport costs in itself (bare WT vs
 * bare WS) from what Ferry's layers cost on each transport (Ferry vs bare).
 */
import { num } from './report.js';
import { startBaseline } from './servers.js';
import type { TargetKind } from './tokens.js';
import { startWtNode, type WtNode, type WtNodeOptions } from './wt-gateway.js';
import type { PairResult } from './wt-loadgen.js';

/** Ferry's node (bench/lib/wt-gateway.ts) or the bare gateway. */
export type WtTarget = 'ferry' | 'bare';

/** `--target ferry|bare|both` in run order. */
export function parseTargets(flag: string): WtTarget[] {
  if (flag === 'both') return ['ferry', 'bare'];
  if (flag === 'ferry' || flag === 'bare') return [flag];
  throw new Error(`--target must be ferry, bare or both (got '${flag}')`);
}

/** The credential kind of bench/lib/tokens.ts: the bare gateway takes the token as the user id. */
export function tokenKind(target: WtTarget): TargetKind {
  return target === 'bare' ? 'baseline' : 'ferry';
}

export function targetLabel(target: WtTarget): string {
  return target === 'bare' ? 'bare' : 'Ferry';
}

/** Bare nodes still running, killed if the bench exits early (as wt-gateway.ts does for Ferry's). */
const live = new Set<number>();
process.once('exit', () => {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Starts the bare gateway with WebSocket (`/ws`) and WebTransport (`/wt`) listeners on free ports. */
export async function startBareNode(): Promise<WtNode> {
  const server = await startBaseline([], ['--wt-port', '0']);
  live.add(server.pid);
  const ready = server.logs.find((r) => r.msg === 'baseline ready') as
    { addresses?: { wt?: { url?: string; certHashes?: string[] } } } | undefined;
  const wt = ready?.addresses?.wt;
  if (wt?.url === undefined || wt.certHashes === undefined) {
    await server.stop();
    live.delete(server.pid);
    throw new Error(`the bare gateway printed no WebTransport address:\n${server.stderr()}`);
  }
  return {
    pid: server.pid,
    urls: { ws: server.urls.ws, wt: wt.url, admin: '' },
    certHashes: wt.certHashes,
    async stop() {
      await server.stop();
      live.delete(server.pid);
      return { profile: null, profileFile: null };
    },
  };
}

/** Starts a node of `target`; the CPU profile (`cpuProfLabel`) is taken of Ferry's node only. */
export function startTargetNode(target: WtTarget, opts: WtNodeOptions = {}): Promise<WtNode> {
  return target === 'bare' ? startBareNode() : startWtNode(opts);
}

/** One workload measured on both transports of both targets. */
export interface FloorRow {
  workload: string;
  ferry: { ws: PairResult; wt: PairResult };
  bare: { ws: PairResult; wt: PairResult };
}

/** Per message server CPU of one row, µs, with the derived differences and ratios. */
export interface FloorFigures {
  workload: string;
  ferryWsUs: number;
  ferryWtUs: number;
  bareWsUs: number;
  bareWtUs: number;
  /** WT / WS of each target. */
  ferryRatio: number;
  bareRatio: number;
}

export function floorFigures(row: FloorRow): FloorFigures {
  const us = (r: PairResult): number => r.serverCpuPerMessageUs;
  return {
    workload: row.workload,
    ferryWsUs: us(row.ferry.ws),
    ferryWtUs: us(row.ferry.wt),
    bareWsUs: us(row.bare.ws),
    bareWtUs: us(row.bare.wt),
    ferryRatio: us(row.ferry.wt) / us(row.ferry.ws),
    bareRatio: us(row.bare.wt) / us(row.bare.ws),
  };
}

/**
 * The table of rows: server CPU per message of the four, each target's WT / WS, how much more WT
 * costs than WS on each target (the transport's share), and how much more Ferry costs than the bare
 * gateway on each transport (Ferry's layers' share).
 */
export function floorTable(figures: FloorFigures[]): string[][] {
  const us = (n: number): string => num(n, 1);
  return [
    [
      'workload',
      'Ferry WS µs/msg',
      'Ferry WT µs/msg',
      'Ferry WT / WS',
      'bare WS µs/msg',
      'bare WT µs/msg',
      'bare WT / WS',
      'WT − WS µs: Ferry, bare',
      'Ferry − bare µs: WS, WT',
    ],
    ...figures.map((f) => [
      f.workload,
      us(f.ferryWsUs),
      us(f.ferryWtUs),
      `${f.ferryRatio.toFixed(2)}x`,
      us(f.bareWsUs),
      us(f.bareWtUs),
      `${f.bareRatio.toFixed(2)}x`,
      `${us(f.ferryWtUs - f.ferryWsUs)}, ${us(f.bareWtUs - f.bareWsUs)}`,
      `${us(f.ferryWsUs - f.bareWsUs)}, ${us(f.ferryWtUs - f.bareWtUs)}`,
    ]),
  ];
}
