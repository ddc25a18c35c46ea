import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Dtype, dtypeInfo, dtypes } from "../../src/onnx/dtypes.js";
import { binaryBody, postBinary, tensorBytes, tensorValues } from "../helpers/oip-binary-client.js";
import { openConnection, requestText, statusOf } from "../helpers/raw-http.js";
import { addOneSpec, call, startServer, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();

// One Identity per dtype: in_<dtype> [batch, 2] → out_<dtype>, so every datatype's bytes go in and come back.
const identity = writeModelFolder(dir, "every-dtype", {
  inputs: dtypes.map((dtype) => ({ name: `in_${dtype}`, dtype, shape: ["batch", 2] })),
  outputs: dtypes.map((dtype) => ({ name: `out_${dtype}`, dtype, shape: ["batch", 2] })),
  nodes: dtypes.map((dtype) => ({ op: "Identity", inputs: [`in_${dtype}`], outputs: [`out_${dtype}`] })),
});
const addOne = writeModelFolder(dir, "add-one", addOneSpec);

/** Per dtype: the values as JSON, and as the binary writer takes them (FP16: its bit patterns). */
const cases: Record<Dtype, { json: unknown[]; binary: unknown[] }> = {
  float32: { json: [0.5, -2.5], binary: [0.5, -2.5] },
  float64: { json: [0.1, 1e300], binary: [0.1, 1e300] },
  // 0x2e66 is the half nearest 0.1 (0.0999755859375), 0x7bff the largest half (65504)
  float16: { json: [0.0999755859375, 65504], binary: [0x2e66, 0x7bff] },
  int8: { json: [-128, 127], binary: [-128, 127] },
  int16: { json: [-32768, 32767], binary: [-32768, 32767] },
  int32: { json: [-2147483648, 2147483647], binary: [-2147483648, 2147483647] },
  int64: { json: ["9223372036854775807", -5], binary: ["9223372036854775807", -5] },
  uint8: { json: [0, 255], binary: [0, 255] },
  uint16: { json: [0, 65535], binary: [0, 65535] },
  uint32: { json: [0, 4294967295], binary: [0, 4294967295] },
  uint64: { json: ["18446744073709551615", 7], binary: ["18446744073709551615", 7] },
  bool: { json: [true, false], binary: [true, false] },
  string: { json: ["héllo", ""], binary: ["héllo", ""] },
};
const oip = (dtype: Dtype) => dtypeInfo(dtype)?.oip as string;
const bytesOf = (dtype: Dtype) => tensorBytes(oip(dtype), cases[dtype].binary);
const jsonInput = (dtype: Dtype) => ({
  name: `in_${dtype}`,
  shape: [1, 2],
  datatype: oip(dtype),
  data: cases[dtype].json,
});
const binaryInput = (dtype: Dtype, size = bytesOf(dtype).length) => ({
  name: `in_${dtype}`,
  shape: [1, 2],
  datatype: oip(dtype),
  parameters: { binary_data_size: size },
});

type Tensor = { name: string; datatype: string; shape: number[]; data?: unknown[] };

describe("Triton's binary tensor data extension on OIP infer, over real HTTP", async () => {
  const server = await startServer([identity, addOne], { bodyLimit: 4096, binaryBodyLimit: 64 * 1024 });
  const infer = `${server.url}v2/models/every-dtype/infer`;
  const jsonAnswer = await call(infer, { body: { inputs: dtypes.map(jsonInput) } });
  assert.equal(jsonAnswer.status, 200, JSON.stringify(jsonAnswer.body));
  const jsonOutputs = (jsonAnswer.body as { outputs: Tensor[] }).outputs;
  const jsonOutput = (dtype: Dtype) => jsonOutputs.find((o) => o.name === `out_${dtype}`) as Tensor;

  test("GET /v2 lists binary_tensor_data among the extensions", async () => {
    const meta = await call(`${server.url}v2`);
    assert.deepEqual((meta.body as { extensions: string[] }).extensions, ["binary_tensor_data"]);
  });

  test("every datatype in binary, in and out: the same answer as JSON, the bytes back unchanged", async () => {
    const { body, headers } = binaryBody(
      { id: "bin-1", inputs: dtypes.map((d) => binaryInput(d)), parameters: { binary_data_output: true } },
      dtypes.map(bytesOf),
    );
    const answer = await postBinary(infer, body, { ...headers, "content-type": "application/octet-stream" });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.contentType, "application/octet-stream");
    assert.equal(answer.json.id, "bin-1");
    for (const dtype of dtypes) {
      const out = answer.json.outputs?.find((o) => o.name === `out_${dtype}`);
      assert.ok(out, dtype);
      const expected = jsonOutput(dtype);
      assert.deepEqual([out.datatype, out.shape, out.data], [expected.datatype, expected.shape, undefined]);
      const bytes = answer.parts.get(`out_${dtype}`) as Uint8Array;
      assert.equal(out.parameters?.binary_data_size, bytes.length, dtype);
      assert.deepEqual(Buffer.from(bytes), Buffer.from(bytesOf(dtype)), `${dtype} bytes`);
      assert.deepEqual(tensorValues(out.datatype, bytes), expected.data, `${dtype} values`);
    }
  });

  test("binary inputs with no output asked in binary answer plain JSON, equal to the JSON request's", async () => {
    const { body, headers } = binaryBody({ inputs: dtypes.map((d) => binaryInput(d)) }, dtypes.map(bytesOf));
    // Triton's clients may send no content type at all: the header alone makes the body binary
    const answer = await postBinary(infer, body, headers);
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.match(answer.contentType ?? "", /application\/json/);
    assert.deepEqual(answer.json.outputs, jsonOutputs);
  });

  test("mixed: JSON and binary inputs in one request; an output's binary_data overrides binary_data_output", async () => {
    const binaryOnes = dtypes.filter((_d, i) => i % 2 === 0);
    const { body, headers } = binaryBody(
      {
        inputs: dtypes.map((d) => (binaryOnes.includes(d) ? binaryInput(d) : jsonInput(d))),
        outputs: [
          { name: "out_string", parameters: { binary_data: false } },
          { name: "out_float16", parameters: { binary_data: true } },
          { name: "out_int64" },
        ],
        parameters: { binary_data_output: true },
      },
      binaryOnes.map(bytesOf),
    );
    // application/json with the header is binary too: the header decides
    const answer = await postBinary(`${server.url}v2/models/every-dtype/versions/1.0.0/infer`, body, {
      ...headers,
      "content-type": "application/json",
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.deepEqual(
      answer.json.outputs?.map((o) => [o.name, o.data !== undefined]),
      [
        ["out_string", true],
        ["out_float16", false],
        ["out_int64", false],
      ],
    );
    assert.deepEqual(answer.json.outputs?.[0]?.data, jsonOutput("string").data);
    assert.deepEqual(
      tensorValues("FP16", answer.parts.get("out_float16") as Uint8Array),
      [0.0999755859375, 65504],
    );
    assert.deepEqual(
      tensorValues("INT64", answer.parts.get("out_int64") as Uint8Array),
      jsonOutput("int64").data,
    );
  });

  test("a JSON request may ask for binary outputs", async () => {
    const answer = await postBinary(
      `${server.url}v2/models/add-one/infer`,
      Buffer.from(
        JSON.stringify({
          inputs: [{ name: "x", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }],
          outputs: [{ name: "y", parameters: { binary_data: true } }],
        }),
      ),
      { "content-type": "application/json" },
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.deepEqual(tensorValues("FP32", answer.parts.get("y") as Uint8Array), [2, 3, 4, 5]);
  });

  test("malformed binary requests are 400s with a hint, never 500s", async () => {
    const x = (size: number) => ({
      name: "x",
      shape: [1, 4],
      datatype: "FP32",
      parameters: { binary_data_size: size },
    });
    const four = tensorBytes("FP32", [1, 2, 3, 4]);
    const json = (inputs: unknown[], extra: Record<string, unknown> = {}) =>
      Buffer.from(JSON.stringify({ inputs, ...extra }));
    const withHeader = (header: Buffer, tail: Uint8Array, length: string = String(header.length)) => ({
      body: Buffer.concat([header, tail]),
      headers: { "inference-header-content-length": length, "content-type": "application/octet-stream" },
    });
    const cases: Array<[string, { body: Buffer; headers: Record<string, string> }, RegExp]> = [
      ["header length past the body", withHeader(json([x(16)]), four, "100000"), /past the end/],
      ["header length not a number", withHeader(json([x(16)]), four, "12abc"), /not a byte count/],
      ["header length cuts the JSON", withHeader(json([x(16)]), four, "10"), /not the JSON request/],
      [
        "octet-stream without the header",
        {
          body: Buffer.concat([json([x(16)]), four]),
          headers: { "content-type": "application/octet-stream" },
        },
        /needs an Inference-Header-Content-Length/,
      ],
      ["size not shape × dtype", withHeader(json([x(12)]), four.subarray(0, 12)), /needs 16/],
      [
        "sizes add up to less than the data",
        withHeader(json([x(16)]), Buffer.concat([four, four])),
        /add up to 16/,
      ],
      ["size past the data", withHeader(json([x(32)]), four), /past the binary data/],
      ["size not an integer", withHeader(json([x(-1)]), four), /not a byte count/],
      [
        "both data and binary_data_size",
        withHeader(json([{ ...x(16), data: [1, 2, 3, 4] }]), four),
        /both `data` and binary_data_size/,
      ],
      [
        "binary_data_size in a JSON request",
        { body: json([x(16)]), headers: { "content-type": "application/json" } },
        /no binary data/,
      ],
      [
        "binary_data not a boolean",
        withHeader(json([x(16)], { outputs: [{ name: "y", parameters: { binary_data: "true" } }] }), four),
        /not true or false/,
      ],
    ];
    for (const [what, request, message] of cases) {
      const answer = await postBinary(`${server.url}v2/models/add-one/infer`, request.body, request.headers);
      assert.equal(answer.status, 400, `${what}: ${JSON.stringify(answer.json)}`);
      assert.match(answer.json.error ?? "", message, what);
      assert.equal(typeof answer.json.hint, "string", `${what}: no hint`);
    }
  });

  test("malformed BYTES and BOOL data are 400s naming the element", async () => {
    const tail = (dtype: Dtype, bytes: Uint8Array) => {
      const others = dtypes.filter((d) => d !== dtype);
      return binaryBody({ inputs: [...others.map(jsonInput), binaryInput(dtype, bytes.length)] }, [bytes]);
    };
    const strings = tensorBytes("BYTES", ["ab", "cd"]);
    const cases: Array<[string, Dtype, Uint8Array, RegExp]> = [
      ["a length past the end", "string", strings.subarray(0, strings.length - 1), /end inside element 1/],
      [
        "bytes left over",
        "string",
        Buffer.concat([strings, Buffer.from([0])]),
        /1 bytes of BYTES data are left/,
      ],
      ["no room for a length", "string", strings.subarray(0, 8), /end inside element 1/],
      [
        "invalid UTF-8",
        "string",
        tensorBytes("BYTES", ["ok", "\u0000"]).map((b, i) => (i === 10 ? 0xff : b)),
        /not valid UTF-8/,
      ],
      ["a NUL in a string", "string", tensorBytes("BYTES", ["a\u0000b", "c"]), /NUL/],
      ["a BOOL byte that is not 0 or 1", "bool", Uint8Array.from([1, 2]), /BOOL element 1 is byte 2/],
    ];
    for (const [what, dtype, bytes, message] of cases) {
      const { body, headers } = tail(dtype, bytes);
      const answer = await postBinary(infer, body, headers);
      assert.equal(answer.status, 400, `${what}: ${JSON.stringify(answer.json)}`);
      assert.match(answer.json.error ?? "", message, what);
    }
  });

  test("a binary body is read under its own, larger limit; each 413 names its limit and flag", async () => {
    const rows = 400; // 400 × 4 FP32 = 6.4 KB: over the 4 KiB JSON limit, under the 64 KiB binary one
    const values = Array.from({ length: rows * 4 }, (_, i) => i);
    const { body, headers } = binaryBody(
      {
        inputs: [
          { name: "x", shape: [rows, 4], datatype: "FP32", parameters: { binary_data_size: rows * 16 } },
        ],
      },
      [tensorBytes("FP32", values)],
    );
    const binary = await postBinary(`${server.url}v2/models/add-one/infer`, body, headers);
    assert.equal(binary.status, 200, JSON.stringify(binary.json));
    assert.deepEqual(binary.json.outputs?.[0]?.data?.slice(0, 3), [1, 2, 3]);

    const json = await call(`${server.url}v2/models/add-one/infer`, {
      body: { inputs: [{ name: "x", shape: [rows, 4], datatype: "FP32", data: values }] },
    });
    assert.equal(json.status, 413);
    assert.deepEqual(json.body, {
      error: "The request body is larger than the 4096-byte limit for JSON bodies.",
      hint: "Send a smaller body, or raise the limit: gpux serve --body-limit BYTES (serving.body_limit in gpux.yml).",
    });

    const big = binaryBody({ inputs: [] }, [new Uint8Array(65 * 1024)]);
    const tooBig = await postBinary(`${server.url}v2/models/add-one/infer`, big.body, big.headers);
    assert.equal(tooBig.status, 413);
    assert.match(tooBig.json.error ?? "", /65536-byte limit for binary bodies/);
    assert.match(tooBig.json.hint ?? "", /--binary-body-limit BYTES \(serving\.binary_body_limit/);
  });

  test("a client that sends its whole body before reading gets the 413, not a broken pipe", async () => {
    const cases: Record<string, string>[] = [{}, { "inference-header-content-length": "2" }];
    for (const headers of cases) {
      const connection = await openConnection(server.url);
      const size = 8 * 1024 * 1024;
      let writeError: string | undefined;
      connection.socket.on("error", (error: NodeJS.ErrnoException) => {
        writeError = error.code;
      });
      connection.socket.write(
        requestText("POST", "/v2/models/add-one/infer", { contentLength: size, headers }),
      );
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let sent = 0; sent < size && !connection.socket.destroyed; sent += chunk.length) {
        if (!connection.socket.write(chunk)) {
          await new Promise((resolve) => {
            connection.socket.once("drain", resolve);
            connection.socket.once("close", resolve);
          });
        }
      }
      assert.equal(await connection.closed, "end");
      assert.equal(writeError, undefined, "the upload was cut off");
      assert.equal(statusOf(connection.received()), 413);
      assert.match(connection.received(), /raise the limit: gpux serve --(binary-)?body-limit/);
    }
  });

  test("binary bodies are OIP infer's only: the gpux API still answers them 415", async () => {
    const answer = await call(`${server.url}predict/add-one`, {
      raw: "x",
      headers: { "content-type": "application/octet-stream", "inference-header-content-length": "1" },
    });
    assert.equal(answer.status, 415);
  });
});

describe("the default JSON body limit", async () => {
  // y = max(x): the answer stays one value, so the test times the body, not a 19 MB answer
  const max = writeModelFolder(dir, "max", {
    inputs: [{ name: "x", dtype: "float32", shape: ["batch", 4] }],
    outputs: [{ name: "y", dtype: "float32", shape: [1, 1] }],
    nodes: [{ op: "ReduceMax", inputs: ["x"], outputs: ["y"], attributes: { axes: [0, 1], keepdims: 1 } }],
    opset: 17,
  });
  const server = await startServer([max]);

  test("fits a 19 MB JSON tensor, as ONNX's backend tests send (16 MiB refused it)", async () => {
    const rows = 620_000;
    // x.125 is exact in FP32 (and the shape × values check has counted every value on the way in)
    const data = Array.from({ length: rows * 4 }, (_, i) => (i % 1000) + 0.125);
    const text = JSON.stringify({ inputs: [{ name: "x", shape: [rows, 4], datatype: "FP32", data }] });
    assert.ok(text.length > 19e6, `${text.length} bytes`);
    const answer = await call(`${server.url}v2/models/max/infer`, { raw: text });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const out = (answer.body as { outputs: Tensor[] }).outputs[0] as Tensor;
    assert.deepEqual(out.data, [999.125]);
  });
});
