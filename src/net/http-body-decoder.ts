/** Longest chunk-size or trailer line accepted in a chunked body. */
const maxLineBytes = 4096;

type Framing =
  | { kind: "length"; remaining: number }
  | { kind: "close" }
  | { kind: "chunked"; state: "size" | "data" | "data-end" | "trailer"; remaining: number; line: string };

/**
 * Cuts an HTTP/1.1 response body out of the bytes read from the connection: `content-length`, chunked
 * transfer coding, or everything until the server closes. Pieces are views of the input, never copies.
 */
export class BodyDecoder {
  private framing: Framing;
  private received = 0;
  /** Bytes seen after the end of the body (a confused server): the connection must not be reused. */
  overran = false;
  private readonly declared?: number;

  constructor(headers: Record<string, string>) {
    const coding = headers["transfer-encoding"]?.toLowerCase();
    const length = headers["content-length"];
    if (coding !== undefined && coding !== "identity") {
      if (!/(^|,)\s*chunked\s*$/.test(coding))
        throw new Error(`unsupported transfer-encoding ${JSON.stringify(coding)}`);
      this.framing = { kind: "chunked", state: "size", remaining: 0, line: "" };
    } else if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw new Error(`invalid content-length ${JSON.stringify(length)}`);
      this.declared = Number(length);
      this.framing = { kind: "length", remaining: this.declared };
    } else {
      this.framing = { kind: "close" };
    }
  }

  /** True once the whole body has been seen (never for a body that ends when the connection closes). */
  get complete(): boolean {
    const framing = this.framing;
    return framing.kind === "length" ? framing.remaining === 0 : false;
  }

  /** A body delimited by the connection's close: a clean close completes it. */
  get endsAtClose(): boolean {
    return this.framing.kind === "close";
  }

  /** For the error when the connection ends early: "after 10 of 20 body bytes". */
  describeProgress(): string {
    return this.declared === undefined
      ? `after ${this.received} body bytes, mid-chunk`
      : `after ${this.received} of ${this.declared} body bytes`;
  }

  /** The body bytes in `data`, in order; bytes past the end of the body are ignored. */
  *decode(data: Buffer): Generator<Buffer> {
    const framing = this.framing;
    if (framing.kind === "close") {
      if (data.length > 0) yield this.count(data);
      return;
    }
    if (framing.kind === "length") {
      const take = Math.min(framing.remaining, data.length);
      framing.remaining -= take;
      if (take < data.length) this.overran = true;
      if (take > 0) yield this.count(data.subarray(0, take));
      return;
    }
    let at = 0;
    while (at < data.length && this.framing.kind === "chunked") {
      if (framing.state === "data") {
        const take = Math.min(framing.remaining, data.length - at);
        framing.remaining -= take;
        yield this.count(data.subarray(at, at + take));
        at += take;
        if (framing.remaining === 0) framing.state = "data-end";
        continue;
      }
      const newline = data.indexOf(10, at);
      const end = newline < 0 ? data.length : newline;
      framing.line += data.toString("latin1", at, end);
      at = end + (newline < 0 ? 0 : 1);
      if (framing.line.length > maxLineBytes) throw new Error("a chunked-body line is too long");
      if (newline < 0) break;
      const line = framing.line.replace(/\r$/, "");
      framing.line = "";
      if (framing.state === "data-end") {
        if (line !== "") throw new Error("a chunk is longer than its declared size");
        framing.state = "size";
      } else if (framing.state === "size") {
        const size = /^([0-9a-fA-F]+)\s*(;.*)?$/.exec(line);
        if (!size) throw new Error(`invalid chunk size ${JSON.stringify(line.slice(0, 40))}`);
        framing.remaining = Number.parseInt(size[1] as string, 16);
        framing.state = framing.remaining === 0 ? "trailer" : "data";
      } else if (line === "") {
        this.framing = { kind: "length", remaining: 0 };
      }
    }
    if (at < data.length) this.overran = true;
  }

  private count(piece: Buffer): Buffer {
    this.received += piece.length;
    return piece;
  }
}
