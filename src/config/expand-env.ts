/** `${VAR}` and `${VAR:-default}` in a string; `$${` escapes a literal `${`. Returns the names left unset. */
export function expandEnv(
  text: string,
  env: NodeJS.ProcessEnv = process.env,
): { value: string; missing: string[] } {
  const missing: string[] = [];
  const value = text.replace(
    /\$?\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (match, name: string, fallback?: string) => {
      if (match.startsWith("$$")) return match.slice(1);
      const set = env[name];
      if (set !== undefined && set !== "") return set;
      if (fallback !== undefined) return fallback;
      missing.push(name);
      return match;
    },
  );
  return { value, missing };
}
