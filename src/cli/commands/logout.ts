import type { Command } from "commander";
import { logoutRegistry } from "../../registry/oci/registry-login.js";
import { runAction } from "../run-action.js";

async function logout(registry: string): Promise<void> {
  const removed = await logoutRegistry(registry);
  process.stdout.write(
    removed ? `Removed the credentials for ${registry}\n` : `Not logged in to ${registry}\n`,
  );
}

export function registerLogoutCommand(program: Command): void {
  program
    .command("logout")
    .description("Remove the credentials of an OCI registry from Docker's config.json")
    .argument("<registry>", "host[:port] of the registry")
    .action(runAction(logout));
}
