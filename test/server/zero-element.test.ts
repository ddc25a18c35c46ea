import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../helpers/cli.js";
import { spawnServe } from "../helpers/serve-process.js";
import { call } from "../helpers/serving.js";

const sileroVad = join(repoRoot, "node_modules", "@jjhbw", "silero-vad", "weights", "silero_vad.onnx");

test("silero-vad with zero-sized input and state answers 400 and the server lives (it aborted ONNX Runtime)", async () => {
  const server = await spawnServe([sileroVad]);
  const name = "silero_vad";
  const infer = (samples: number, state: number) =>
    call(`${server.url}v2/models/${name}/infer`, {
      body: {
        inputs: [
          {
            name: "input",
            shape: [samples === 0 ? 0 : 1, 512],
            datatype: "FP32",
            data: new Array(samples).fill(0),
          },
          {
            name: "state",
            shape: [2, state, 128],
            datatype: "FP32",
            data: new Array(2 * state * 128).fill(0),
          },
          { name: "sr", shape: [], datatype: "INT64", data: [16000] },
        ],
      },
    });
  const refused = await infer(0, 0);
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.match(
    (refused.body as { error: string }).error,
    /is 0; the model does not declare an empty dimension/,
  );
  assert.equal((await call(`${server.url}health`)).status, 200, "the server is still alive");
  const good = await infer(512, 1);
  assert.equal(good.status, 200, JSON.stringify(good.body));
  assert.equal(server.child.exitCode, null);
});
