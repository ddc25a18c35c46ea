import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import { httpGet } from "../../src/net/http-request.js";
import { proxyAuthorization, proxyFor } from "../../src/net/proxy-settings.js";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { tempDir } from "../helpers/temp-dir.js";
import { startTestProxy } from "../helpers/test-proxy.js";

const via = (url: string, env: NodeJS.ProcessEnv) => proxyFor(new URL(url), env)?.href;

test("HTTPS_PROXY serves https URLs, HTTP_PROXY http ones, lower-case names first", () => {
  const env = { HTTPS_PROXY: "http://secure:3128", HTTP_PROXY: "http://plain:3128" };
  assert.equal(via("https://huggingface.co/api", env), "http://secure:3128/");
  assert.equal(via("http://mirror.local/x", env), "http://plain:3128/");
  assert.equal(
    via("https://huggingface.co/", { ...env, https_proxy: "http://lower:8080" }),
    "http://lower:8080/",
  );
  assert.equal(via("https://huggingface.co/", {}), undefined);
  assert.equal(via("https://huggingface.co/", { HTTPS_PROXY: "  " }), undefined);
  // a bare host:port is an http proxy, as curl reads it
  assert.equal(via("https://huggingface.co/", { HTTPS_PROXY: "proxy.corp:8080" }), "http://proxy.corp:8080/");
});

test("NO_PROXY: hosts and their subdomains, ports, IP addresses and *", () => {
  const env = (noProxy: string) => ({ HTTPS_PROXY: "http://p:1", NO_PROXY: noProxy });
  assert.equal(via("https://hf.co/", env("hf.co")), undefined);
  assert.equal(via("https://cdn.hf.co/", env("hf.co")), undefined);
  assert.equal(via("https://cdn.hf.co/", env(".hf.co")), undefined);
  assert.equal(via("https://cdn.hf.co/", env("*.hf.co")), undefined);
  assert.equal(via("https://nothf.co/", env("hf.co")), "http://p:1/", "a suffix that is not a subdomain");
  assert.equal(via("https://hf.co/", env("other.org, hf.co:443")), undefined);
  assert.equal(via("https://hf.co:8443/", env("hf.co:443")), "http://p:1/", "another port");
  assert.equal(via("https://127.0.0.1:9/", env("localhost 127.0.0.1")), undefined);
  assert.equal(via("https://[::1]:9/", env("::1")), undefined);
  assert.equal(via("https://[::1]:9/", env("[::1]:9")), undefined);
  assert.equal(via("https://[::1]:9/", env("[::1]:10")), "http://p:1/");
  assert.equal(via("https://anything/", env("*")), undefined);
  assert.equal(via("https://HF.CO/", { HTTPS_PROXY: "http://p:1", no_proxy: "Hf.Co" }), undefined);
});

test("proxy settings that cannot work are refused with a hint", () => {
  assert.throws(() => proxyFor(new URL("https://hf.co/"), { HTTPS_PROXY: "https://p:1" }), {
    message: /not supported/,
  });
  assert.throws(() => proxyFor(new URL("https://hf.co/"), { HTTPS_PROXY: "http://[bad" }), {
    message: /is not a URL/,
  });
  assert.equal(proxyAuthorization(new URL("http://p:1")), undefined);
  assert.equal(
    proxyAuthorization(new URL("http://us%40er:p%3Ass@p:1")),
    `Basic ${Buffer.from("us@er:p:ss").toString("base64")}`,
  );
});

const tlsDir = join(import.meta.dirname, "..", "fixtures", "tls");
const secureHub = () =>
  startFakeHub({
    repos: [onnxRepo("org/Behind", { pipelineTag: null })],
    tls: {
      key: readFileSync(join(tlsDir, "key.pem"), "utf8"),
      cert: readFileSync(join(tlsDir, "cert.pem"), "utf8"),
    },
  });

test("the download client tunnels TLS through the proxy and keeps the tunnel for the next file", async () => {
  const server = createHttpsServer(
    { key: readFileSync(join(tlsDir, "key.pem")), cert: readFileSync(join(tlsDir, "cert.pem")) },
    (request, response) => response.end(`body of ${request.url}`),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxy = await startTestProxy();
  const saved = { ...process.env };
  after(async () => {
    process.env = saved;
    server.closeAllConnections();
    server.close();
    await proxy.close();
  });
  Object.assign(process.env, { HTTPS_PROXY: proxy.url, NO_PROXY: "", no_proxy: "", https_proxy: "" });
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"; // the test certificate's CA is not in this process's store
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const read = async (path: string) => {
    const answer = await httpGet(`${origin}${path}`);
    const chunks: Buffer[] = [];
    await answer.readBody((chunk) => chunks.push(Buffer.from(chunk)));
    return Buffer.concat(chunks).toString();
  };
  assert.equal(await read("/a"), "body of /a");
  assert.equal(await read("/b"), "body of /b");
  assert.deepEqual(proxy.tunnels, [new URL(origin).host], "one tunnel, kept for the second file");
});

function pullEnv(hubUrl: string): NodeJS.ProcessEnv {
  const home = tempDir();
  return {
    HF_ENDPOINT: hubUrl,
    HF_HUB_CACHE: join(home, "hub"),
    GPUX_HOME: join(home, "gpux"),
    HF_TOKEN: "",
    NODE_EXTRA_CA_CERTS: join(tlsDir, "cert.pem"),
    GPUX_HUB_RETRIES: "1",
    HTTP_PROXY: "",
    HTTPS_PROXY: "",
    NO_PROXY: "",
    http_proxy: "",
    https_proxy: "",
    no_proxy: "",
  };
}

test("gpux pull over HTTPS through a CONNECT proxy, and around it for NO_PROXY hosts", async () => {
  const hub = await secureHub();
  const proxy = await startTestProxy();
  after(() => Promise.all([hub.close(), proxy.close()]));
  const authority = new URL(hub.url).host;
  const result = await runCli(["pull", "org/Behind"], {
    env: { ...pullEnv(hub.url), HTTPS_PROXY: proxy.url },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(hub.stats.bytesServed > 0, "no file was served");
  // the API client (fetch) and the download client keep separate connections; the test above proves the
  // download client tunnels
  assert.ok(proxy.tunnels.length >= 2, `tunnels: ${proxy.tunnels.join(", ")}`);
  assert.ok(
    proxy.tunnels.every((tunnel) => tunnel === authority),
    proxy.tunnels.join(", "),
  );

  // NO_PROXY names the hub: nothing goes through the proxy
  const before = proxy.tunnels.length;
  const direct = await runCli(["pull", "org/Behind"], {
    env: { ...pullEnv(hub.url), HTTPS_PROXY: proxy.url, NO_PROXY: "127.0.0.1" },
  });
  assert.equal(direct.code, 0, direct.stderr);
  assert.equal(proxy.tunnels.length, before);
});

test("a plain-HTTP hub is reached through HTTP_PROXY", async () => {
  const hub = await startFakeHub({ repos: [onnxRepo("org/Plain", { pipelineTag: null })] });
  const proxy = await startTestProxy();
  after(() => Promise.all([hub.close(), proxy.close()]));
  const result = await runCli(["pull", "org/Plain"], { env: { ...pullEnv(hub.url), HTTP_PROXY: proxy.url } });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(proxy.tunnels.length >= 2, `tunnels: ${proxy.tunnels.join(", ")}`);
  assert.ok(proxy.tunnels.every((tunnel) => tunnel === new URL(hub.url).host));
});

test("a proxy that wants credentials: a clear 407 error without them, a pull with them in the URL", async () => {
  const hub = await secureHub();
  const proxy = await startTestProxy({ credentials: "alice:s3cret" });
  after(() => Promise.all([hub.close(), proxy.close()]));
  const refused = await runCli(["pull", "org/Behind"], {
    env: { ...pullEnv(hub.url), HTTPS_PROXY: proxy.url },
  });
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /requires authentication \(HTTP 407\)/);
  assert.match(refused.stderr, /http:\/\/<user>:<password>@host:port/);
  assert.doesNotMatch(refused.stderr, /s3cret/);
  const withCredentials = `http://alice:s3cret@${new URL(proxy.url).host}`;
  const result = await runCli(["pull", "org/Behind"], {
    env: { ...pullEnv(hub.url), HTTPS_PROXY: withCredentials },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stdout + result.stderr, /s3cret/);
});

test("an unreachable proxy is named in the error, and nothing is half-written", async () => {
  const hub = await secureHub();
  after(() => hub.close());
  const env = { ...pullEnv(hub.url), HTTPS_PROXY: "http://127.0.0.1:9" };
  const result = await runCli(["pull", "org/Behind"], { env });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /through the proxy http:\/\/127\.0\.0\.1:9/);
  assert.match(result.stderr, /HTTPS_PROXY/);
  assert.equal(hub.stats.bytesServed, 0);
  const listed = await runCli(["ls", "--json"], { env });
  assert.deepEqual(JSON.parse(listed.stdout).models, []);
});
