import { UserError } from "../util/errors.js";
import { HuggingFaceRegistry, type HuggingFaceRegistryOptions } from "./huggingface/huggingface-registry.js";
import type { ModelRef, Registry } from "./registry.js";

/** Registry names accepted by `--registry` (first of each entry is the stored name). */
export const registryNames = [["huggingface", "hf"]] as const;

export type RegistryOptions = HuggingFaceRegistryOptions;

/** The registry called `name` (or an alias of it). */
export function createRegistry(name: string, options: RegistryOptions = {}): Registry {
  const key = name.toLowerCase();
  if (key === "huggingface" || key === "hf") return new HuggingFaceRegistry(options);
  throw new UserError(`Unknown registry '${name}'.`, {
    hint: `Use one of: ${registryNames.map((names) => names.join("|")).join(", ")}.`,
  });
}

/**
 * Split a reference into its registry and the rest: `hf:org/name` / `huggingface:org/name` pick the registry by
 * prefix, `--registry` picks it otherwise, and the default is the Hugging Face Hub.
 */
export function parseModelRef(
  typed: string,
  options: RegistryOptions & { registry?: string } = {},
): { registry: Registry; ref: ModelRef } {
  const prefix = /^([a-z][a-z0-9-]*):(?!\/\/)(.*)$/i.exec(typed.trim());
  const registryName = prefix ? (prefix[1] as string) : (options.registry ?? "huggingface");
  const text = prefix ? (prefix[2] as string) : typed.trim();
  if (
    prefix &&
    options.registry &&
    createRegistry(options.registry).name !== createRegistry(registryName).name
  ) {
    throw new UserError(
      `'${typed}' names registry '${registryName}' but --registry says '${options.registry}'.`,
      {
        hint: "Drop one of the two.",
      },
    );
  }
  const registry = createRegistry(registryName, options);
  const ref = registry.parse(text, typed);
  if (!ref) {
    throw new UserError(`'${typed}' is not a model reference ${registry.name} understands.`, {
      hint: "Write org/name, org/name@revision, or a single name such as gpt2.",
    });
  }
  return { registry, ref };
}
