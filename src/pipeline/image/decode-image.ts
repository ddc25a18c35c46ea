import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { errorMessage, NotFoundError, UserError } from "../../util/errors.js";

/** Largest encoded image accepted (bytes). */
export const maxImageBytes = 20 * 1024 * 1024;
/** Largest decoded image (width × height): bounds memory whatever the file claims. */
export const maxImagePixels = 40_000_000;
/** Smallest side, in pixels: smaller images carry nothing a model can classify. */
export const minImageSide = 8;
const formats = new Set(["jpeg", "png", "webp", "gif", "tiff", "avif", "heif"]);

/** Decoded RGB pixels, row-major, 3 bytes per pixel. */
export interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
}

/** The bytes of `{"image": …}`: base64, a data URL, or (CLI only) a file path; URLs are refused. */
export async function imageBytes(
  value: unknown,
  origin: "cli" | "http" | undefined,
  field = "image",
): Promise<Buffer> {
  if (typeof value !== "string" || value.length === 0) {
    throw new UserError(`'${field}' must be a non-empty string: base64 image data or a data URL.`, {
      hint:
        origin === "cli" ? "Pass --image path/to/picture.png." : 'Send {"image": "data:image/png;base64,…"}.',
    });
  }
  if (/^https?:\/\//i.test(value)) {
    throw new UserError(`'${field}' is a URL; gpux does not fetch images from the network.`, {
      hint: "Download the image and send its bytes as base64 or a data URL.",
    });
  }
  if (value.length > (maxImageBytes * 4) / 3 + 1024) {
    throw new UserError(`'${field}' is larger than ${maxImageBytes / 1024 / 1024} MiB.`, {
      hint: "Resize or compress the image before sending it.",
    });
  }
  // Base64 has no '.', '\\' or '~', and real images are longer than 100 characters.
  const looksLikePath =
    value.length < 4096 && (/[.\\~]/.test(value) || (value.startsWith("/") && value.length < 100));
  const dataUrl = /^data:([^;,]*)(;base64)?,/i.exec(value);
  if (!dataUrl && looksLikePath) {
    if (origin !== "cli") {
      throw new UserError(`'${field}' looks like a file path; over HTTP gpux reads no files.`, {
        hint: 'Send the image bytes: {"image": "data:image/png;base64,…"}.',
      });
    }
    try {
      return await readFile(value);
    } catch (error) {
      throw new NotFoundError(`Cannot read image '${value}': ${errorMessage(error)}`, {
        hint: "Check the path.",
      });
    }
  }
  let base64 = value;
  if (dataUrl) {
    if (!dataUrl[2])
      throw new UserError(`'${field}' is a data URL without ;base64.`, {
        hint: "Encode the image as base64.",
      });
    base64 = value.slice(dataUrl[0].length);
  }
  const compact = base64.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact) || compact.length === 0) {
    throw new UserError(`'${field}' is neither base64 image data nor a data URL.`, {
      hint: origin === "cli" ? "Pass an existing file path." : 'Send {"image": "data:image/png;base64,…"}.',
    });
  }
  return Buffer.from(compact, "base64");
}

/** Decode any supported image to RGB (alpha dropped, as PIL's convert("RGB")), within the size limits. */
export async function decodeImage(bytes: Buffer, field = "image"): Promise<RgbImage> {
  let format: string | undefined;
  let width = 0;
  let height = 0;
  try {
    // Read the header without a pixel limit so that an oversized image is named with its size.
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    format = meta.format;
    width = meta.width ?? 0;
    height = meta.height ?? 0;
  } catch (error) {
    throw new UserError(`'${field}' is not an image gpux can decode (${errorMessage(error)}).`, {
      hint: "Send a PNG, JPEG, WebP, GIF, TIFF or AVIF file.",
    });
  }
  if (!format || !formats.has(format)) {
    throw new UserError(
      `'${field}' is a ${format ?? "unknown"} image; gpux reads PNG, JPEG, WebP, GIF, TIFF and AVIF.`,
      {
        hint: "Convert the image to PNG or JPEG.",
      },
    );
  }
  if (width * height > maxImagePixels) {
    throw new UserError(
      `'${field}' is ${width}×${height} px; gpux accepts at most ${maxImagePixels} pixels.`,
      {
        hint: "Downscale the image before sending it.",
      },
    );
  }
  if (width < minImageSide || height < minImageSide) {
    throw new UserError(
      `'${field}' is ${width}×${height} px; gpux needs at least ${minImageSide}×${minImageSide}.`,
      {
        hint: "Send a larger image.",
      },
    );
  }
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxImagePixels, failOn: "error" })
      .removeAlpha()
      .toColourspace("srgb")
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (error) {
    throw new UserError(`'${field}' could not be decoded: ${errorMessage(error)}`, {
      hint: "The file may be truncated or damaged; send it again.",
    });
  }
}
