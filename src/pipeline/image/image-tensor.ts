import sharp from "sharp";
import type { RgbImage } from "./decode-image.js";
import type { ImageSettings } from "./image-settings.js";

async function resizeTo(
  image: RgbImage,
  width: number,
  height: number,
  kernel: ImageSettings["kernel"],
): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: "fill", kernel })
    .raw()
    .toBuffer();
  return { data, width, height };
}

/** Resize as the settings say; returns the image and the width it fills (fixed_height pads the rest). */
async function resized(
  image: RgbImage,
  settings: ImageSettings,
): Promise<{ image: RgbImage; filled: number }> {
  const target = settings.resize;
  if (!target) return { image, filled: image.width };
  if ("shortestEdge" in target) {
    const short = Math.min(image.width, image.height);
    const scale = target.shortestEdge / short;
    const width = image.width <= image.height ? target.shortestEdge : Math.floor(image.width * scale);
    const height = image.height < image.width ? target.shortestEdge : Math.floor(image.height * scale);
    return { image: await resizeTo(image, width, height, settings.kernel), filled: width };
  }
  if (target.mode === "fixed_height") {
    // PaddleOCR: scale to the target height keeping the aspect ratio, at most the target width.
    const width = Math.min(target.width, Math.ceil((target.height * image.width) / image.height));
    return { image: await resizeTo(image, width, target.height, settings.kernel), filled: width };
  }
  return { image: await resizeTo(image, target.width, target.height, settings.kernel), filled: target.width };
}

/**
 * One image as model input values (length channels × height × width, in the model's layout): resize,
 * centre crop, rescale, normalise, channel order. Pixels beyond a fixed_height image's width are 0.
 */
export async function imageToTensorData(
  source: RgbImage,
  settings: ImageSettings,
): Promise<Float32Array | Uint8Array> {
  const { image, filled } = await resized(source, settings);
  const { width, height, channels } = settings;
  const left = settings.crop ? Math.floor((image.width - width) / 2) : 0;
  const top = settings.crop ? Math.floor((image.height - height) / 2) : 0;
  const out =
    settings.dtype === "uint8"
      ? new Uint8Array(channels * width * height)
      : new Float32Array(channels * width * height);
  const plane = width * height;
  const usable = Math.min(width, filled - left);
  for (let y = 0; y < height; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= image.height) continue;
    for (let x = 0; x < usable; x++) {
      const sx = x + left;
      if (sx < 0 || sx >= image.width) continue;
      const pixel = (sy * image.width + sx) * 3;
      for (let c = 0; c < channels; c++) {
        const sourceChannel = channels === 1 ? -1 : settings.bgr ? 2 - c : c;
        const raw =
          sourceChannel < 0
            ? 0.299 * (image.data[pixel] as number) +
              0.587 * (image.data[pixel + 1] as number) +
              0.114 * (image.data[pixel + 2] as number)
            : (image.data[pixel + sourceChannel] as number);
        const value = (raw * settings.rescale - (settings.mean[c] ?? 0)) / (settings.std[c] ?? 1);
        const index = settings.layout === "nchw" ? c * plane + y * width + x : (y * width + x) * channels + c;
        out[index] = value;
      }
    }
  }
  return out;
}
