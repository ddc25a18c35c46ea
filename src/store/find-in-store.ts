/**
 * Look a reference up in gpux's model store. Returns the folder holding its gpux.yml, or undefined.
 * The store is filled by `gpux pull` (see registry/ and store/).
 */
export async function findInStore(_ref: string): Promise<string | undefined> {
  return undefined;
}

/** Where the store lookup looked, for "not found" messages. */
export function storeLocationForMessages(): string {
  return process.env.GPUX_HOME ?? "~/.gpux";
}
