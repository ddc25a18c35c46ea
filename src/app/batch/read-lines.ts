import { open } from "node:fs/promises";

/** One line of a batch file: its number (from 1), its text without the newline, and where it ends. */
export interface NumberedLine {
  number: number;
  text: string;
  /** Byte offset just past this line's newline: how far into the file the work has come. */
  end: number;
}

export interface ReadLinesOptions {
  /** Bytes read per call; memory holds this much plus the longest line. Default 1 MiB. */
  chunkBytes?: number;
}

/**
 * The lines of a file, read on demand: nothing is read ahead of the consumer beyond one chunk, so a file larger
 * than memory streams through (readline's async iterator buffers lines while its consumer waits). A last line
 * without a newline is still a line; "\r\n" endings lose their "\r".
 */
export async function* readLines(path: string, options: ReadLinesOptions = {}): AsyncGenerator<NumberedLine> {
  const chunkBytes = options.chunkBytes ?? 1024 * 1024;
  const file = await open(path, "r");
  try {
    const chunk = Buffer.allocUnsafe(chunkBytes);
    // bytes of the line being read that came in earlier chunks (a line longer than a chunk)
    let partial: Buffer[] = [];
    let offset = 0;
    let number = 0;
    const text = (tail: Buffer) => {
      const whole = partial.length > 0 ? Buffer.concat([...partial, tail]) : tail;
      partial = [];
      const end = whole.length > 0 && whole[whole.length - 1] === 0x0d ? whole.length - 1 : whole.length;
      return whole.toString("utf8", 0, end);
    };
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, chunkBytes, offset);
      if (bytesRead === 0) break;
      let start = 0;
      for (let newline = chunk.indexOf(0x0a, start); newline >= 0 && newline < bytesRead; ) {
        const line = text(chunk.subarray(start, newline));
        number++;
        yield { number, text: line, end: offset + newline + 1 };
        start = newline + 1;
        newline = chunk.indexOf(0x0a, start);
      }
      // copied: the chunk's buffer is reused by the next read
      if (start < bytesRead) partial.push(Buffer.from(chunk.subarray(start, bytesRead)));
      offset += bytesRead;
    }
    if (partial.length > 0) {
      number++;
      yield { number, text: text(Buffer.alloc(0)), end: offset };
    }
  } finally {
    await file.close();
  }
}
