/**
 * GPT-2's byte-level alphabet: every byte is shown as a printable character (printable ASCII and Latin-1
 * map to themselves, the rest to U+0100 onwards). Byte-level BPE tokens are strings in this alphabet.
 */
const charToByte = new Map<string, number>();
{
  let extra = 0;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || byte >= 174;
    charToByte.set(String.fromCodePoint(printable ? byte : 256 + extra++), byte);
  }
}

/** The byte a byte-level character stands for (undefined for characters outside the alphabet). */
export function byteOfChar(char: string): number | undefined {
  return charToByte.get(char);
}

/** Decode a byte-level string back to text (invalid UTF-8 becomes U+FFFD). */
export function decodeByteLevel(text: string): string {
  const bytes: number[] = [];
  for (const char of text) {
    const byte = charToByte.get(char);
    if (byte !== undefined) bytes.push(byte);
  }
  return Buffer.from(bytes).toString("utf8");
}

/** UTF-8 length of one code point. */
export function utf8Length(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
}
