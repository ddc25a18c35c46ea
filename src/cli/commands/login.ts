import type { Command } from "commander";
import { loginRegistry } from "../../registry/oci/registry-login.js";
import { UserError } from "../../util/errors.js";
import { readStdin } from "../read-stdin.js";
import { runAction } from "../run-action.js";

interface LoginFlags {
  username?: string;
  passwordStdin?: boolean;
  plainHttp?: boolean;
}

async function login(registry: string, flags: LoginFlags): Promise<void> {
  if (!flags.username) {
    throw new UserError("gpux login needs --username.", {
      hint: "gpux login HOST -u NAME --password-stdin < file",
    });
  }
  if (!flags.passwordStdin) {
    throw new UserError("gpux login reads the password from stdin only.", {
      hint: "Pass --password-stdin and pipe the password in (it never goes on the command line).",
    });
  }
  // one trailing newline is `echo`'s, not the password's
  const password = (await readStdin()).replace(/\r?\n$/, "");
  if (!password)
    throw new UserError("No password on stdin.", {
      hint: 'echo "$TOKEN" | gpux login HOST -u NAME --password-stdin',
    });
  const { host, path } = await loginRegistry(
    registry,
    { username: flags.username, password },
    { plainHttp: flags.plainHttp },
  );
  process.stdout.write(`Login Succeeded: ${host} (credentials saved in ${path})\n`);
}

export function registerLoginCommand(program: Command): void {
  program
    .command("login")
    .description("Check credentials against an OCI registry and save them in Docker's config.json")
    .argument("<registry>", "host[:port] of the registry (ghcr.io, localhost:5000)")
    .option("-u, --username <name>", "user name")
    .option("--password-stdin", "read the password (or token) from stdin")
    .option("--plain-http", "speak HTTP, not HTTPS, to a registry that is not on loopback")
    .addHelpText(
      "after",
      "\nWrites $DOCKER_CONFIG/config.json (default ~/.docker/config.json) as `docker login` does.",
    )
    .action(runAction(login));
}
