import { UserError } from "../util/errors.js";
import { huggingFacePlugin } from "./huggingface/huggingface-registry.js";
import { ociPlugin } from "./oci/oci-registry.js";
import type { ModelRef, Registry, RegistryOptions, RegistryPlugin } from "./registry.js";
import { urlPlugin } from "./url/url-registry.js";

export type { RegistryOptions } from "./registry.js";

/**
 * Every registry gpux knows, the default (used when a reference names none) first. The URL registry claims
 * before OCI: `models.v2/net.onnx` is a path, not a registry host.
 */
const plugins: RegistryPlugin[] = [huggingFacePlugin, urlPlugin, ociPlugin];

const namesOf = (plugin: RegistryPlugin) => [plugin.name, ...plugin.aliases];

/**
 * Make a registry known: its name and aliases become `--registry` values and `name:` prefixes. Returns the
 * function that unregisters it (tests add their own registries this way).
 */
export function registerRegistry(plugin: RegistryPlugin): () => void {
  const taken = namesOf(plugin).find((name) => findPlugin(name));
  if (taken) throw new Error(`A registry is already registered as '${taken}'.`);
  plugins.push(plugin);
  return () => {
    const at = plugins.indexOf(plugin);
    if (at !== -1) plugins.splice(at, 1);
  };
}

/** `huggingface (hf), …`: the names for help texts and errors. */
export function describeRegistries(): string {
  return plugins.map((p) => (p.aliases.length ? `${p.name} (${p.aliases.join(", ")})` : p.name)).join(", ");
}

function findPlugin(name: string): RegistryPlugin | undefined {
  const key = name.toLowerCase();
  return plugins.find((plugin) => namesOf(plugin).some((n) => n.toLowerCase() === key));
}

function unknownRegistry(name: string, extra = ""): UserError {
  return new UserError(`Unknown registry '${name}'.`, {
    hint: `Use one of: ${describeRegistries()}.${extra}`,
  });
}

/** The registry called `name` (or an alias of it). */
export function createRegistry(name: string, options: RegistryOptions = {}): Registry {
  const plugin = findPlugin(name);
  if (!plugin) throw unknownRegistry(name);
  return plugin.create(options);
}

/** Every registered registry, for work that spans them all (`gpux prune` cleans each one's cache). */
export function allRegistries(options: RegistryOptions = {}): Registry[] {
  return plugins.map((plugin) => plugin.create(options));
}

/** The registry a store entry was pulled from, or undefined when it is no longer registered. */
export function registryOfEntry(name: string, options: RegistryOptions = {}): Registry | undefined {
  return findPlugin(name)?.create(options);
}

/** `hf:org/name` → `hf` and `org/name`; none for `org/name`, `name:tag` or a URL (`https://…`). */
function splitPrefix(typed: string): { prefix?: string; text: string } {
  const match = /^([a-z][a-z0-9-]*):(?!\/\/)(.*)$/i.exec(typed);
  return match ? { prefix: match[1] as string, text: match[2] as string } : { text: typed };
}

/** The registry whose syntax `text` unmistakably is (an `oci://` reference), if any. */
const claimedBy = (text: string) => plugins.find((plugin) => plugin.claims?.(text));

/**
 * Split a reference into its registry and the rest: `hf:org/name` / `huggingface:org/name` pick the registry by
 * prefix, `--registry` picks it otherwise, and the default is the first registry (the Hugging Face Hub). A
 * prefix that names no registry is read as part of the reference (Docker's `name:tag`), if the registry
 * understands it that way.
 */
export function parseModelRef(
  typed: string,
  options: RegistryOptions & { registry?: string } = {},
): { registry: Registry; ref: ModelRef } {
  const trimmed = typed.trim();
  const split = splitPrefix(trimmed);
  const prefixed = split.prefix !== undefined ? findPlugin(split.prefix) : undefined;
  const chosen = options.registry !== undefined ? findPlugin(options.registry) : undefined;
  if (options.registry !== undefined && !chosen) throw unknownRegistry(options.registry);
  if (prefixed && chosen && prefixed !== chosen) {
    throw new UserError(
      `'${typed}' names registry '${split.prefix}' but --registry says '${options.registry}'.`,
      { hint: "Drop one of the two." },
    );
  }
  const plugin = prefixed ?? chosen ?? claimedBy(trimmed) ?? (plugins[0] as RegistryPlugin);
  const registry = plugin.create(options);
  const ref = registry.parse(prefixed ? split.text : trimmed, typed);
  if (ref) return { registry, ref };
  if (split.prefix !== undefined && !prefixed) {
    throw unknownRegistry(split.prefix, " For a revision, write name@revision (or name:tag).");
  }
  const path = /^https?:\/\/[^/]+\/([^?#]+)/i.exec(trimmed)?.[1]?.replace(/\/+$/, "");
  throw new UserError(`'${typed}' is not a model reference ${registry.name} understands.`, {
    hint: path
      ? `Write the model's id rather than a page's URL (such as '${path}'); URLs are read only from ${registry.source}.`
      : "Write org/name, org/name@revision (or org/name:tag), or a single name such as gpt2.",
  });
}

/**
 * What a reference can mean for a store lookup: one parse when it has a registry prefix, else how each
 * registry would read it (the store may hold entries from any of them). Empty when no registry reads it.
 */
export function readStoreRef(typed: string): Array<{ registry?: string; ref: ModelRef }> {
  const trimmed = typed.trim();
  const split = splitPrefix(trimmed);
  const prefixed = split.prefix !== undefined ? findPlugin(split.prefix) : undefined;
  if (prefixed) {
    const ref = prefixed.create({}).parse(split.text, typed);
    return ref ? [{ registry: prefixed.name, ref }] : [];
  }
  const claimed = claimedBy(trimmed);
  return (claimed ? [claimed] : plugins).flatMap((plugin) => {
    const ref = plugin.create({}).parse(trimmed, typed);
    return ref ? [{ ref }] : [];
  });
}
