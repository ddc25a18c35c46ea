/** `taskSource` → `task_source`. */
const snakeCase = (key: string) => key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/**
 * A value for `--json` output with every key in snake_case, as the HTTP API and the Hub write them. The objects
 * under `dataKeys` (after conversion) are maps whose keys are data — output names, package names — and keep them.
 */
export function snakeCaseKeys(value: unknown, dataKeys: readonly string[] = []): unknown {
  if (Array.isArray(value)) return value.map((item) => snakeCaseKeys(item, dataKeys));
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => {
      const name = snakeCase(key);
      return [name, dataKeys.includes(name) ? child : snakeCaseKeys(child, dataKeys)];
    }),
  );
}
