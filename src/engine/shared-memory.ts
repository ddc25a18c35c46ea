import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { envSettings } from "../util/settings.js";

/** What native/shared-memory.c exports (built at install by scripts/build-native.mjs). */
interface SharedMemoryAddon {
  /** The first `length` bytes of the open file `fd`, mapped MAP_SHARED; unmapped when collected. */
  mapShared(fd: number, length: number): ArrayBuffer;
}

/** build/native/ from src/engine, dist/engine and the bundled CLI in dist/cli alike. */
const addonPath = fileURLToPath(new URL("../../build/native/shared-memory.node", import.meta.url));
const buildScript = fileURLToPath(new URL("../../scripts/build-native.mjs", import.meta.url));

let addon: SharedMemoryAddon | undefined | null = null;

function loadAddon(): SharedMemoryAddon | undefined {
  if (addon === null) {
    try {
      addon = createRequire(import.meta.url)(addonPath) as SharedMemoryAddon;
    } catch {
      addon = undefined; // not built at install (no C compiler there): the pipe it is
    }
  }
  return addon;
}

export type SharedMemory =
  | { available: true; mapShared: SharedMemoryAddon["mapShared"]; arenaBytes: number }
  | { available: false; why: string };

/**
 * Whether tensors cross to inference processes through shared memory, and each arena's size: the addon must
 * be built, and GPUX_SHARED_MEMORY (MiB, default 64) not 0.
 */
export function sharedMemory(): SharedMemory {
  const mib = envSettings.sharedMemoryMiB();
  if (mib === 0) return { available: false, why: "turned off (GPUX_SHARED_MEMORY=0)" };
  const loaded = loadAddon();
  if (!loaded)
    return {
      available: false,
      why: `its native addon was not built at install (no C compiler?); \`node ${buildScript}\` builds it`,
    };
  return { available: true, mapShared: loaded.mapShared, arenaBytes: mib * 1024 * 1024 };
}
