/** What `gpux serve` prints once its models are ready: every URL a client needs, each one answered as printed. */
export interface BannerModel {
  name: string;
  provider: string;
  options: { workers: number };
}

export function serveBanner(url: string, models: readonly BannerModel[]): string {
  const names = models.map(
    (m) => `${m.name} (${m.provider}, ${m.options.workers} worker${m.options.workers > 1 ? "s" : ""})`,
  );
  // one model answers /predict; with several, each has its own path (/predict alone asks which)
  const predict = models.length === 1 ? [`${url}predict`] : models.map((m) => `${url}predict/${m.name}`);
  const oip = models.map((m) => `${url}v2/models/${m.name}/infer`);
  const column = " ".repeat(14);
  return (
    `gpux serving ${names.join(", ")}\n` +
    `  playground  ${url}\n` +
    `  gpux API    ${[...predict, `${url}info`, `${url}health`].join("  ")}\n` +
    `  OIP v2      ${oip.join(`\n${column}`)}\n` +
    `  OpenAI      ${url}v1  (base URL for openai clients)\n` +
    `  metrics     ${url}metrics\n`
  );
}
