import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { type ProviderName, providerPreference } from "../onnx/provider-names.js";

export interface ProviderStatus {
  name: ProviderName | "rocm" | "openvino";
  /** The binding on this platform can try it (libraries present). A session may still fail on it. */
  available: boolean;
  reason: string;
}

function bindingDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve("onnxruntime-node/package.json"));
  return join(pkg, "bin", "napi-v6", process.platform, process.arch);
}

const cudaInstallHint =
  "install the CUDA provider libraries: `npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12` (needs CUDA 12 + cuDNN 9), see docs/guides/execution-providers.md";

const vulkanDirs = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/usr/lib64",
  "/usr/lib",
  "/usr/local/lib",
  ...(process.env.LD_LIBRARY_PATH?.split(":") ?? []),
];

/** WebGPU on Linux runs on Vulkan; without the Vulkan loader it can only fail (and print Dawn's warnings). */
function hasVulkanLoader(): boolean {
  return vulkanDirs.some((dir) => dir && existsSync(join(dir, "libvulkan.so.1")));
}

/** What this machine's onnxruntime-node can try, with the reason for each one it cannot. */
export function listProviders(): ProviderStatus[] {
  const backends = new Map(ort.listSupportedBackends().map((b) => [b.name, b]));
  const dir = bindingDir();
  const statuses: ProviderStatus[] = providerPreference.map((name) => {
    const backend = backends.get(name);
    if (!backend) {
      return {
        name,
        available: false,
        reason: `not built into onnxruntime-node for ${process.platform}/${process.arch}`,
      };
    }
    if (!backend.bundled) {
      const lib = join(dir, `libonnxruntime_providers_${name}.so`);
      if (!existsSync(lib))
        return { name, available: false, reason: `provider library missing: ${cudaInstallHint}` };
      return { name, available: true, reason: `provider library found at ${lib}` };
    }
    if (name === "webgpu" && process.platform === "linux" && !hasVulkanLoader()) {
      return {
        name,
        available: false,
        reason: "no Vulkan loader (libvulkan.so.1) for WebGPU on this machine",
      };
    }
    return { name, available: true, reason: "bundled with onnxruntime-node" };
  });
  statuses.push(
    {
      name: "rocm",
      available: false,
      reason: "onnxruntime-node has no ROCm/MIGraphX build; use the Python runtime",
    },
    {
      name: "openvino",
      available: false,
      reason: "onnxruntime-node has no OpenVINO build; use the Python runtime",
    },
  );
  return statuses;
}
