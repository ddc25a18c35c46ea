/**
 * A real OCI registry for tests: Debian's `docker-registry` (CNCF Distribution) started on 127.0.0.1 on a
 * free port with a temporary storage folder, anonymous or behind htpasswd Basic auth (bcrypt, from
 * apache2-utils' `htpasswd -B`). `.ci/run` installs it; tests skip with a message where it is missing.
 *
 *   const registry = await startRegistry();                       // anonymous
 *   const locked = await startRegistry({ users: { alice: "pw" } }); // Basic auth
 *   registry.host  // "127.0.0.1:PORT"; registry.storage: its files (to corrupt a blob)
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const registryBinary = "/usr/bin/docker-registry";

/** Why registry tests cannot run here, or undefined when they can. */
export function registryMissing(): string | undefined {
  if (!existsSync(registryBinary))
    return "docker-registry is not installed (apt-get install docker-registry)";
  try {
    execFileSync("htpasswd", ["-nbB", "x", "y"], { stdio: "ignore" });
  } catch {
    return "htpasswd is not installed (apt-get install apache2-utils)";
  }
  return undefined;
}

export interface RegistryServer {
  host: string;
  url: string;
  /** The registry's storage root (`docker/registry/v2/blobs/sha256/<2>/<hex>/data`). */
  storage: string;
  blobFile(hex: string): string;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startRegistry(
  options: { users?: Record<string, string> } = {},
): Promise<RegistryServer> {
  // removed by close(), not by tempDir(): a registry started in a before() hook outlives the hook
  const dir = mkdtempSync(join(tmpdir(), "gpux-registry-"));
  const storage = join(dir, "storage");
  const port = await freePort();
  let auth = "";
  if (options.users) {
    const lines = Object.entries(options.users).map(([user, password]) =>
      execFileSync("htpasswd", ["-nbB", user, password], { encoding: "utf8" }).trim(),
    );
    writeFileSync(join(dir, "htpasswd"), `${lines.join("\n")}\n`);
    auth = `auth:\n  htpasswd:\n    realm: gpux-test\n    path: ${join(dir, "htpasswd")}\n`;
  }
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  const child: ChildProcess = spawn(registryBinary, ["serve", config], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const answered = await fetch(`${url}/v2/`).then(
      (r) => r.status,
      () => 0,
    );
    if (answered === 200 || answered === 401) break;
    if (i > 100 || child.exitCode !== null) throw new Error(`docker-registry did not start: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    storage,
    blobFile: (hex) =>
      join(storage, "docker", "registry", "v2", "blobs", "sha256", hex.slice(0, 2), hex, "data"),
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
