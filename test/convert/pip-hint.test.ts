import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp-dir.js";

/** A distribution's Python that refuses `pip install` outside a venv (PEP 668), e.g. Debian's /usr/bin/python3. */
const systemPython = "/usr/bin/python3";
const managed = spawnSync(systemPython, [
  "-c",
  "import os, sys, sysconfig; sys.exit(0 if sys.prefix == sys.base_prefix and os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')) else 1)",
]);
const skip = managed.status === 0 ? false : `${systemPython} is not an externally managed Python here`;

test("on an externally managed Python (PEP 668) the pip hint makes a venv and sets GPUX_PYTHON (issue 15)", {
  skip,
}, async () => {
  const home = tempDir();
  const env = { GPUX_PYTHON: systemPython, GPUX_HOME: join(home, "gpux") };
  const venv = join(home, "gpux", "venv");
  const fix = `${systemPython} -m venv ${venv} && ${venv}/bin/python -m pip install`;

  const doctor = await runCli(["doctor", "--json"], { env });
  assert.equal(doctor.code, 0, doctor.stderr);
  const health = JSON.parse(doctor.stdout) as {
    converters: Array<{ name: string; usable: boolean; fix?: string }>;
  };
  const pytorch = health.converters.find((c) => c.name === "pytorch");
  if (pytorch?.usable) return; // this Python has torch after all: nothing to install
  assert.ok(pytorch?.fix?.startsWith(fix), pytorch?.fix);
  assert.match(pytorch?.fix ?? "", new RegExp(`&& export GPUX_PYTHON=${venv}/bin/python$`));

  const checkpoint = join(home, "checkpoint");
  mkdirSync(checkpoint, { recursive: true });
  writeFileSync(
    join(checkpoint, "config.json"),
    JSON.stringify({ model_type: "bert", architectures: ["BertModel"] }),
  );
  writeFileSync(join(checkpoint, "model.safetensors"), new Uint8Array(16));
  const converted = await runCli(["convert", checkpoint], { env });
  assert.equal(converted.code, 1, converted.stderr);
  assert.match(
    converted.stderr,
    /^error: The pytorch converter needs Python packages that are not installed/m,
  );
  assert.ok(converted.stderr.includes(`hint: Install with: ${fix}`), converted.stderr);
});
