/** Where a socket for an http(s) URL connects: the host without IPv6 brackets, and the port (default 80 / 443). */
export function socketAddress(url: URL): { host: string; port: number } {
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: Number(url.port) || (url.protocol === "https:" ? 443 : 80),
  };
}
