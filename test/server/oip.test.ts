import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Dtype, dtypeInfo, dtypes } from "../../src/onnx/dtypes.js";
import { addOneSpec, call, startServer, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();

// One Identity per dtype: in_<dtype> [batch, 2] → out_<dtype>. Expected values written from each type's definition.
const identity = writeModelFolder(dir, "every-dtype", {
  inputs: dtypes.map((dtype) => ({ name: `in_${dtype}`, dtype, shape: ["batch", 2] })),
  outputs: dtypes.map((dtype) => ({ name: `out_${dtype}`, dtype, shape: ["batch", 2] })),
  nodes: dtypes.map((dtype) => ({ op: "Identity", inputs: [`in_${dtype}`], outputs: [`out_${dtype}`] })),
});
const addOne = writeModelFolder(dir, "add-one", addOneSpec);

const cases: Record<Dtype, { data: unknown[]; expected: unknown[] }> = {
  float32: { data: [0.1, -2.5], expected: [Math.fround(0.1), -2.5] },
  float64: { data: [0.1, 1e300], expected: [0.1, 1e300] },
  float16: { data: [0.1, 65504], expected: [0.0999755859375, 65504] },
  int8: { data: [-128, 127], expected: [-128, 127] },
  int16: { data: [-32768, 32767], expected: [-32768, 32767] },
  int32: { data: [-2147483648, 2147483647], expected: [-2147483648, 2147483647] },
  int64: { data: ["9223372036854775807", -5], expected: ["9223372036854775807", -5] },
  uint8: { data: [0, 255], expected: [0, 255] },
  uint16: { data: [0, 65535], expected: [0, 65535] },
  uint32: { data: [0, 4294967295], expected: [0, 4294967295] },
  uint64: { data: ["18446744073709551615", 7], expected: ["18446744073709551615", 7] },
  bool: { data: [true, false], expected: [true, false] },
  string: { data: ["héllo", "世界"], expected: ["héllo", "世界"] },
};

const oip = (dtype: Dtype) => dtypeInfo(dtype)?.oip as string;
const allInputs = () =>
  dtypes.map((dtype) => ({
    name: `in_${dtype}`,
    shape: [1, 2],
    datatype: oip(dtype),
    data: cases[dtype].data,
  }));

describe("KServe v2 Open Inference Protocol over real HTTP", async () => {
  const server = await startServer([identity, addOne]);
  const url = server.url;

  test("GET /v2, /v2/health/live, /v2/health/ready", async () => {
    const meta = await call(`${url}v2`);
    assert.equal(meta.status, 200);
    assert.equal((meta.body as { name: string }).name, "gpux");
    assert.equal((await call(`${url}v2/health/live`)).status, 200);
    assert.equal((await call(`${url}v2/health/ready`)).status, 200);
  });

  test("model metadata and readiness, plain and versioned", async () => {
    const meta = await call(`${url}v2/models/add-one`);
    assert.equal(meta.status, 200);
    assert.deepEqual(meta.body, {
      name: "add-one",
      versions: ["1.0.0"],
      platform: "onnxruntime_onnx",
      inputs: [{ name: "x", datatype: "FP32", shape: [-1, 4] }],
      outputs: [{ name: "y", datatype: "FP32", shape: [-1, 4] }],
    });
    assert.equal((await call(`${url}v2/models/add-one/versions/1.0.0`)).status, 200);
    assert.equal((await call(`${url}v2/models/add-one/ready`)).status, 200);
    assert.equal((await call(`${url}v2/models/add-one/versions/1.0.0/ready`)).status, 200);
    assert.equal((await call(`${url}v2/models/add-one/versions/9/ready`)).status, 404);
    assert.equal((await call(`${url}v2/models/nope`)).status, 404);
    assert.equal((await call(`${url}v2/models/nope/ready`)).status, 404);
  });

  test("every OIP datatype round-trips through a real session (BYTES and FP16 included)", async () => {
    const answer = await call(`${url}v2/models/every-dtype/infer`, {
      body: { id: "req-42", inputs: allInputs() },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const body = answer.body as {
      id: string;
      model_name: string;
      model_version: string;
      outputs: Array<{ name: string; datatype: string; shape: number[]; data: unknown[] }>;
    };
    assert.equal(body.id, "req-42");
    assert.equal(body.model_name, "every-dtype");
    assert.equal(body.model_version, "1.0.0");
    for (const dtype of dtypes) {
      const out = body.outputs.find((o) => o.name === `out_${dtype}`);
      assert.ok(out, `missing out_${dtype}`);
      assert.equal(out.datatype, oip(dtype));
      assert.deepEqual(out.shape, [1, 2]);
      assert.deepEqual(out.data, cases[dtype].expected, dtype);
    }
  });

  test("`outputs` selects, `parameters` is accepted and answered, nested data is flattened", async () => {
    const answer = await call(`${url}v2/models/add-one/versions/1.0.0/infer`, {
      body: {
        parameters: { priority: 1 },
        inputs: [
          {
            name: "x",
            shape: [2, 4],
            datatype: "FP32",
            data: [
              [1, 2, 3, 4],
              [5, 6, 7, 8],
            ],
          },
        ],
        outputs: [{ name: "y" }],
      },
    });
    assert.equal(answer.status, 200);
    const body = answer.body as { id?: string; parameters: Record<string, number>; outputs: unknown[] };
    assert.equal(body.id, undefined);
    assert.equal(typeof body.parameters.compute_ms, "number");
    assert.deepEqual(body.outputs, [
      { name: "y", datatype: "FP32", shape: [2, 4], data: [2, 3, 4, 5, 6, 7, 8, 9] },
    ]);
    const selected = await call(`${url}v2/models/every-dtype/infer`, {
      body: { inputs: allInputs(), outputs: [{ name: "out_string" }, { name: "out_float16" }] },
    });
    const names = (selected.body as { outputs: Array<{ name: string }> }).outputs.map((o) => o.name);
    assert.deepEqual(names, ["out_string", "out_float16"]);
  });

  test("400s: datatype mismatch, unknown datatype, wrong shape, missing input, unknown output, binary parameters without binary data, bad schema", async () => {
    const x = (over: Record<string, unknown>) => ({
      name: "x",
      shape: [1, 4],
      datatype: "FP32",
      data: [1, 2, 3, 4],
      ...over,
    });
    const bad: unknown[] = [
      { inputs: [x({ datatype: "INT64" })] },
      { inputs: [x({ datatype: "FP8" })] },
      { inputs: [x({ shape: [1, 3] })] },
      { inputs: [x({ shape: [2, 4] })] },
      { inputs: [x({ name: "z" })] },
      { inputs: [x({}), x({})] },
      { inputs: [x({ data: [1, 2, "three", 4] })] },
      { inputs: [x({})], outputs: [{ name: "nope" }] },
      { inputs: [x({})], outputs: [{ name: "y", parameters: { binary_data: "yes" } }] },
      { inputs: [x({ data: undefined, parameters: { binary_data_size: 16 } })] },
      { inputs: [] },
      { inputs: [{ name: "x" }] },
      { nothing: true },
    ];
    for (const body of bad) {
      const answer = await call(`${url}v2/models/add-one/infer`, { body });
      assert.equal(answer.status, 400, `${JSON.stringify(body)} → ${JSON.stringify(answer.body)}`);
      assert.equal(typeof (answer.body as { error: string }).error, "string");
    }
    const missing = await call(`${url}v2/models/every-dtype/infer`, {
      body: { inputs: allInputs().slice(1) },
    });
    assert.equal(missing.status, 400);
    assert.match((missing.body as { error: string }).error, /Missing input/);
  });

  test("404: unknown model or version on infer", async () => {
    const body = { inputs: [{ name: "x", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }] };
    assert.equal((await call(`${url}v2/models/nope/infer`, { body })).status, 404);
    assert.equal((await call(`${url}v2/models/add-one/versions/2.0.0/infer`, { body })).status, 404);
  });

  test("GET /metrics counts successes and failures per model in Prometheus format", async () => {
    const metrics = await call(`${url}metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get("content-type") ?? "", /text\/plain/);
    const text = metrics.body as string;
    assert.match(text, /gpux_inference_request_success_total\{model="add-one",version="1.0.0"\} [1-9]/);
    assert.match(
      text,
      /gpux_inference_request_failure_total\{model="add-one",version="1.0.0",reason="invalid"\} [1-9]/,
    );
    assert.match(
      text,
      /gpux_inference_compute_infer_duration_seconds_count\{model="every-dtype",version="1.0.0"\} [1-9]/,
    );
    assert.match(text, /gpux_inference_queue_duration_seconds_bucket/);
    assert.match(text, /gpux_inference_batch_size_bucket/);
    assert.match(text, /gpux_inference_in_flight_requests\{model="add-one",version="1.0.0"\} 0/);
    assert.match(text, /gpux_model_ready\{model="every-dtype",version="1.0.0"\} 1/);
  });
});
