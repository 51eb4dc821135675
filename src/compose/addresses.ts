/** Where a node's listeners listen, as URLs a person or a client can use. */

/**
 * Where one listener listens: `host` is the bound address (`0.0.0.0` = all interfaces), `bindUrl` the
 * URL with that address, and `url` one that works from this machine (the wildcard replaced by loopback).
 */
export interface ListenAddress {
  host: string;
  port: number;
  url: string;
  bindUrl: string;
}

/** Where a running gateway listens (only the enabled listeners are present). */
export interface GatewayAddresses {
  ws?: ListenAddress;
  tcp?: ListenAddress;
  /** UDP (QUIC); `url` is the session URL a browser opens. */
  wt?: ListenAddress;
  admin?: ListenAddress;
  /** The gRPC access gateway; `url` is the `host:port` target a gRPC client dials. */
  grpc?: ListenAddress;
}

/** `scheme://host:port/path` with the bound host (`bindUrl`) and with one reachable from here (`url`). */
export function listenAddress(
  scheme: string,
  a: { host: string; port: number },
  path: string,
): ListenAddress {
  return {
    ...a,
    url: `${scheme}://${urlHost(a.host)}:${a.port}${path}`,
    bindUrl: `${scheme}://${bracketed(a.host)}:${a.port}${path}`,
  };
}

/** The gRPC target form: `host:port`, IPv6 hosts in brackets. */
export function grpcAddress(a: { host: string; port: number; url: string }): ListenAddress {
  return { ...a, bindUrl: `${bracketed(a.host)}:${a.port}` };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return bracketed(host);
}

function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
