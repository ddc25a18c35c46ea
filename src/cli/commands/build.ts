import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { resolveModelRef } from "../../app/resolve.js";
import { checkConfigAgainstModel } from "../../engine/check-config.js";
import { describeModel } from "../../engine/describe-model.js";
import { Model } from "../../engine/model.js";
import { UserError } from "../../util/errors.js";
import { writeFileAtomic } from "../../util/fs-atomic.js";
import { log } from "../../util/log.js";
import { gpuxVersion } from "../../util/version.js";
import { runAction } from "../run-action.js";

interface BuildOptions {
  config?: string;
  provider?: string;
  optimize?: boolean;
  json?: boolean;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function build(path: string | undefined, options: BuildOptions): Promise<void> {
  const project = resolve(path ?? ".");
  const loaded = await resolveModelRef(project, {
    configPath: options.config ? resolve(project, options.config) : undefined,
  });
  for (const warning of loaded.warnings) log.warn(warning);
  const outDir = join(loaded.dir, ".gpux");
  const optimizedPath = options.optimize ? join(outDir, "model.optimized.onnx") : undefined;
  await mkdir(outDir, { recursive: true });
  const model = await Model.load(loaded, { provider: options.provider, optimizedModelPath: optimizedPath });
  try {
    const check = checkConfigAgainstModel(loaded.config, model.inputs, model.outputs);
    for (const warning of check.warnings) log.warn(warning);
    if (check.errors.length > 0) {
      throw new UserError(`gpux.yml does not match the model:\n  ${check.errors.join("\n  ")}`, {
        hint: "Fix gpux.yml's inputs/outputs, or remove them to take the model's own.",
      });
    }
    const description = await describeModel(model);
    const report = {
      ...description,
      sha256: await sha256File(loaded.modelPath),
      optimized_model_path: optimizedPath ?? null,
      built_at: new Date().toISOString(),
      gpux_version: gpuxVersion,
    };
    const reportPath = join(outDir, "build.json");
    await writeFileAtomic(reportPath, `${JSON.stringify(report, null, 2)}\n`);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ok: true, build: reportPath, ...report })}\n`);
    } else {
      process.stdout.write(
        `built ${description.name} ${description.version}: ${description.inputs.length} input(s), ` +
          `${description.outputs.length} output(s), provider ${description.provider}\n` +
          `wrote ${reportPath}${optimizedPath ? ` and ${optimizedPath}` : ""}\n`,
      );
    }
  } finally {
    await model.dispose();
  }
}

export function registerBuildCommand(program: Command): void {
  program
    .command("build")
    .description("Validate a project (gpux.yml + model), inspect it and write .gpux/build.json")
    .argument("[path]", "project folder or .onnx file", ".")
    .option("-c, --config <file>", "gpux.yml to use, relative to the project")
    .option("-p, --provider <name>", "execution provider to validate with")
    .option("--optimize", "also save ONNX Runtime's optimised graph as .gpux/model.optimized.onnx")
    .option("--no-optimize", "do not save an optimised graph (default)")
    .option("--json", "machine-readable output")
    .action(runAction(build));
}
