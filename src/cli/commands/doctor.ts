import type { Command } from "commander";
import { checkConverters, unsupportedFormats } from "../../convert/check-converters.js";
import { sharedMemory } from "../../engine/shared-memory.js";
import { errorMessage } from "../../util/errors.js";
import { formatTable } from "../format-table.js";
import { runAction } from "../run-action.js";
import { snakeCaseKeys } from "../snake-case-keys.js";

/** How `serve` moves tensors to its inference processes here (a bad GPUX_SHARED_MEMORY is reported too). */
function tensorTransport(): { available: boolean; arenaMiB?: number; why?: string } {
  try {
    const shared = sharedMemory();
    return shared.available
      ? { available: true, arenaMiB: shared.arenaBytes / (1024 * 1024) }
      : { available: false, why: shared.why };
  } catch (error) {
    return { available: false, why: errorMessage(error) };
  }
}

async function doctor(options: { json?: boolean }): Promise<void> {
  const health = { ...(await checkConverters()), sharedMemory: tensorTransport() };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(snakeCaseKeys(health, ["versions"]))}\n`);
    return;
  }
  const shared = health.sharedMemory;
  const python = health.python
    ? `${health.python.executable} (Python ${health.python.version})`
    : `'${health.pythonCommand}' not usable: ${health.pythonError}`;
  const rows = health.converters.map((c) => [
    c.name,
    c.usable ? "yes" : "no",
    c.usable
      ? Object.entries(c.versions)
          .map(([name, v]) => `${name} ${v}`)
          .join(", ") || "-"
      : `missing ${c.missing.join(", ")}`,
    c.fix ?? "",
  ]);
  const formats = health.converters.map((c) => `  ${c.name.padEnd(12)} ${c.note ?? ""}`);
  process.stdout.write(
    `python: ${python}\n  (set GPUX_PYTHON to use another interpreter)\n\n` +
      `${formatTable(["converter", "usable", "packages", "to fix"], rows)}\n\n` +
      `what each converts:\n${formats.join("\n")}\n  not converted: ${unsupportedFormats}\n\n` +
      (shared.available
        ? `serve: tensors reach inference processes through shared memory (${shared.arenaMiB} MiB each, GPUX_SHARED_MEMORY)\n`
        : `serve: tensors reach inference processes through the IPC pipe, a copy each way: shared memory is off, ${shared.why}\n`),
  );
}

export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description("Show which model converters work here, and the pip command that makes the others work")
    .option("--json", "machine-readable output (see docs/reference/cli.md)")
    .action(runAction(doctor));
}
