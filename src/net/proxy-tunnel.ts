import { connect as netConnect, type Socket } from "node:net";
import { describeProxy, proxyAuthorization, proxyAuthRequired } from "./proxy-settings.js";
import { socketAddress } from "./socket-address.js";

/** Proxy answers larger than this before the blank line are refused. */
const maxAnswerBytes = 16 * 1024;

/**
 * A TCP tunnel to host:port through an HTTP proxy (CONNECT): resolves with the proxy connection once the proxy
 * answered 2xx, ready for TLS or plain HTTP to the target. A 407 is a UserError (credentials are the user's to
 * fix); any other refusal, silence for `timeoutMs` or a lost connection is a plain Error, which callers retry.
 */
export function openTunnel(proxy: URL, host: string, port: number, timeoutMs: number): Promise<Socket> {
  const authority = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const shown = describeProxy(proxy);
  return new Promise((resolve, reject) => {
    const socket = netConnect(socketAddress(proxy));
    let received = Buffer.alloc(0);
    const cleanUp = () => {
      socket.off("readable", onReadable);
      socket.off("error", onError);
      socket.off("close", onClose);
      socket.off("timeout", onTimeout);
      socket.setTimeout(0);
    };
    const fail = (error: Error) => {
      cleanUp();
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error) => fail(new Error(`cannot reach the proxy ${shown} (${error.message})`));
    const onClose = () =>
      fail(new Error(`the proxy ${shown} closed the connection before answering CONNECT`));
    const onTimeout = () =>
      fail(new Error(`the proxy ${shown} did not answer CONNECT for ${timeoutMs / 1000} s`));
    const onReadable = () => {
      for (let chunk = socket.read(); chunk !== null; chunk = socket.read()) {
        received = Buffer.concat([received, chunk]);
        const end = received.indexOf("\r\n\r\n");
        if (end < 0) {
          if (received.length > maxAnswerBytes)
            fail(new Error(`the proxy ${shown} sent an oversized answer`));
          continue;
        }
        const statusLine = received.toString("latin1", 0, received.indexOf("\r\n"));
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? Number.NaN);
        if (status >= 200 && status < 300) {
          cleanUp();
          // the target has not spoken yet (it waits for our request or TLS hello), but keep any early byte
          const rest = received.subarray(end + 4);
          if (rest.length > 0) socket.unshift(rest);
          resolve(socket);
          return;
        }
        if (status === 407) {
          fail(proxyAuthRequired(proxy));
          return;
        }
        fail(
          new Error(
            `the proxy ${shown} refused the tunnel to ${authority} (${Number.isNaN(status) ? JSON.stringify(statusLine.slice(0, 80)) : `HTTP ${status}`})`,
          ),
        );
        return;
      }
    };
    socket.on("readable", onReadable);
    socket.on("error", onError);
    socket.on("close", onClose);
    socket.on("timeout", onTimeout);
    socket.setTimeout(timeoutMs);
    const authorization = proxyAuthorization(proxy);
    socket.write(
      `CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n${authorization ? `proxy-authorization: ${authorization}\r\n` : ""}\r\n`,
    );
  });
}
