import { expect } from 'chai';
import { adviseReconnect } from '../../../client/src/reconnect-advice.js';

const frame = (
  code: number,
  extra: Partial<{ reconnect: boolean; reconnectDelayMs: number; reconnectUrl: string }> = {},
) => ({
  code,
  reason: `r${code}`,
  reconnect: code < 4500,
  reconnectDelayMs: 0,
  reconnectUrl: '',
  ...extra,
});

describe('client reconnect advice', function () {
  it('follows a GOING_AWAY Disconnect frame: its delay and its URL', function () {
    const a = adviseReconnect({
      disconnect: frame(4001, { reconnectDelayMs: 1000, reconnectUrl: 'wss://n2/ws' }),
      closeCode: 4001,
      closeReason: 'x',
    });
    expect(a).to.deep.equal({
      action: 'reconnect',
      code: 4001,
      reason: 'r4001',
      minDelayMs: 1000,
      url: 'wss://n2/ws',
      refreshToken: false,
    });
  });

  it('asks for a fresh token on 4009, from the frame or from the close code alone', function () {
    expect(adviseReconnect({ disconnect: frame(4009), closeCode: 0, closeReason: '' })).to.include({
      action: 'reconnect',
      refreshToken: true,
    });
    expect(adviseReconnect({ closeCode: 4009, closeReason: 'expired' })).to.include({
      action: 'reconnect',
      refreshToken: true,
    });
  });

  it('stops on 4500-4999 and when the frame says reconnect=false', function () {
    for (const code of [4500, 4503, 4504, 4505, 4506, 4507, 4999])
      expect(
        adviseReconnect({ disconnect: frame(code), closeCode: code, closeReason: '' }).action,
        String(code),
      ).to.equal('stop');
    expect(adviseReconnect({ closeCode: 4505, closeReason: 'replaced' })).to.deep.equal({
      action: 'stop',
      code: 4505,
      reason: 'replaced',
    });
    expect(
      adviseReconnect({ disconnect: frame(4002, { reconnect: false }), closeCode: 0, closeReason: '' })
        .action,
    ).to.equal('stop');
  });

  it('treats unlisted codes by their range', function () {
    expect(adviseReconnect({ closeCode: 4321, closeReason: '' }).action).to.equal('reconnect');
    expect(adviseReconnect({ closeCode: 4888, closeReason: '' }).action).to.equal('stop');
  });

  it('reads WebSocket layer codes: 1009/1002/1007/1008 stop, 1000/1001/1006/1011 reconnect', function () {
    for (const code of [1002, 1007, 1008, 1009])
      expect(adviseReconnect({ closeCode: code, closeReason: '' }).action).to.equal('stop');
    for (const code of [1000, 1001, 1006, 1011])
      expect(adviseReconnect({ closeCode: code, closeReason: '' }).action).to.equal('reconnect');
  });

  it('reconnects with plain backoff after a network loss, a protocol error or a silent server', function () {
    expect(adviseReconnect({ closeCode: 0, closeReason: '' })).to.deep.equal({
      action: 'reconnect',
      code: 0,
      reason: 'connection lost',
      minDelayMs: 0,
      url: '',
      refreshToken: false,
    });
    expect(adviseReconnect({ closeCode: 0, closeReason: '', protocolError: true })).to.include({
      reason: 'unreadable frames from the server',
    });
    expect(adviseReconnect({ closeCode: 0, closeReason: '', heartbeatTimeout: true }).reason).to.match(
      /two heartbeats/,
    );
  });
});
