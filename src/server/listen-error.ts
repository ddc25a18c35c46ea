import { UserError } from "../util/errors.js";

/**
 * Why the server could not listen, as an error the user can fix: a busy port, a port out of range, an address
 * this machine does not have or cannot resolve, a port that needs privileges. Other errors pass through.
 */
export function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "EADDRINUSE":
      return new UserError(`Port ${port} on ${host} is already in use.`, {
        hint: "Stop what listens there, or pick another --port (0 picks a free one).",
        cause: error,
      });
    case "ERR_SOCKET_BAD_PORT":
      return new UserError(`Port ${port} is out of range.`, {
        hint: "Pass a --port from 0 to 65535 (0 picks a free one).",
        cause: error,
      });
    case "EACCES":
      return new UserError(`Listening on port ${port} needs privileges this process lacks.`, {
        hint: "Pick a --port above 1023, or grant the capability to bind low ports.",
        cause: error,
      });
    case "EADDRNOTAVAIL":
      return new UserError(`This machine has no address ${host} to listen on.`, {
        hint: "Pass a --host this machine owns: 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).",
        cause: error,
      });
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new UserError(`The --host '${host}' is not an address or a name that resolves.`, {
        hint: "Pass an IP address such as 127.0.0.1 or 0.0.0.0, or a host name that resolves here.",
        cause: error,
      });
    default:
      return error;
  }
}
