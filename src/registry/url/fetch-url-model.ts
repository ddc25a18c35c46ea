import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { downloadBlob, verifyFile } from "../../net/download-blob.js";
import { silentProgress } from "../../util/progress.js";
import type { PulledFile } from "../registry.js";
import { externalDataFiles, includedNames } from "./external-data-files.js";
import { probeUrl } from "./probe-url.js";
import { digestMismatch, urlHttpError } from "./url-errors.js";
import type { UrlPlan, UrlPullOptions, UrlPullResult } from "./url-pull.js";

/** The name the model file is kept under: the URL's file name when it is a plain `.onnx` name. */
export function modelFileName(url: URL): string {
  const last = url.pathname.split("/").filter(Boolean).at(-1) ?? "";
  let name = last;
  try {
    name = decodeURIComponent(last);
  } catch {
    // an undecodable name is not used
  }
  return /^[\w][\w.+-]*\.onnx$/i.test(name) ? name : "model.onnx";
}

/**
 * Download a model from a URL into the plan's cache folder: the .onnx first (resumed with Range after a cut,
 * checked against --sha256), then the external-data files its graph names and those --include names, each
 * from beside it on the same server. A file already in the cache with its size is only hashed again.
 */
export async function fetchUrlModel(
  plan: UrlPlan,
  url: URL,
  options: UrlPullOptions,
): Promise<UrlPullResult> {
  const progress = options.progress ?? silentProgress;
  const auth = plan.token ? { token: plan.token, tokenOrigin: url.origin } : undefined;
  const modelFile = modelFileName(url);
  const included = includedNames(options.include);
  const located = (name: string) => (name === modelFile ? url : new URL(name, url));
  const labelOf = (name: string) => (name === modelFile ? plan.label : `${name} (beside ${plan.label})`);
  const sizeOf = async (name: string) =>
    name === modelFile && plan.size !== undefined
      ? plan.size
      : (await probeUrl(located(name).href, labelOf(name), plan.token)).size;
  if (options.dryRun) {
    const files: PulledFile[] = [];
    for (const name of [modelFile, ...included]) {
      files.push({ path: name, size: await sizeOf(name), sha256: "", cached: false });
    }
    return { files, format: "onnx", downloadedBytes: 0 };
  }
  options.onSelected?.("onnx");
  let downloadedBytes = 0;
  const fetchOne = async (name: string): Promise<PulledFile> => {
    const label = labelOf(name);
    const size = await sizeOf(name);
    const dest = join(plan.dir, ...name.split("/"));
    const have = (await stat(dest).catch(() => undefined))?.size;
    if (have === size && !options.force) {
      const { sha256 } = await verifyFile(dest, { size });
      progress.emit({ phase: "verify", file: name, message: "in cache" });
      return { path: name, size, sha256, cached: true };
    }
    if (options.force) await rm(`${dest}.incomplete`, { force: true });
    const result = await downloadBlob({
      url: located(name).href,
      dest,
      expected: { size },
      auth,
      label,
      onBytes: (bytes) => progress.emit({ phase: "download", file: name, bytes, total: size }),
      httpError: (status) => urlHttpError(status, label, plan.token !== undefined),
    });
    downloadedBytes += result.fetched;
    progress.emit({ phase: "verify", file: name, message: "downloaded" });
    return { path: name, size, sha256: result.sha256, cached: false };
  };
  const model = await fetchOne(modelFile);
  const modelPath = join(plan.dir, modelFile);
  // a file that fails its checks is of no use to a later pull either: the folder goes
  const discard = () => rm(plan.dir, { recursive: true, force: true });
  if (plan.sha256 && model.sha256 !== plan.sha256) {
    await discard();
    throw digestMismatch(plan.label, model.sha256, plan.sha256);
  }
  const external = await externalDataFiles(modelPath, plan.label).catch(async (error) => {
    await discard();
    throw error;
  });
  const files = [model];
  for (const name of new Set([...external, ...included])) {
    if (name !== modelFile) files.push(await fetchOne(name));
  }
  return { files, format: "onnx", downloadedBytes };
}
