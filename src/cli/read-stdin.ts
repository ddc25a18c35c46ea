/** Everything piped to stdin, as UTF-8 text (waits for its end: `gpux run m --input - < request.json`). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
