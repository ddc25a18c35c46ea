import * as ort from "onnxruntime-node";
import { UserError } from "../../util/errors.js";
import { decodeImage, imageBytes } from "../image/decode-image.js";
import { imageSettings } from "../image/image-settings.js";
import { imageToTensorData } from "../image/image-tensor.js";
import type { Pipeline } from "../pipeline.js";
import { classifyRows } from "../postprocess/classify.js";
import { maxBatchItems, readTopK } from "../text/read-text-request.js";

interface ImageState {
  batched: boolean;
  count: number;
  body: Record<string, unknown>;
}

/**
 * image-classification: `{"image": base64 | data URL | path (CLI)[, "top_k": n]}` → the top_k (default 5)
 * `{"label", "score"}`, best first; `{"image": [...]}` gives one such list per image.
 */
export const imageClassificationPipeline: Pipeline<ImageState> = {
  task: "image-classification",
  load(context) {
    imageSettings(context);
    context.files.json("config.json");
  },
  async preprocess(request, context) {
    if (!request || typeof request !== "object" || Array.isArray(request) || !("image" in request)) {
      throw new UserError("Missing 'image' in the request.", {
        hint:
          context.origin === "cli"
            ? "Pass --image path/to/picture.png."
            : 'Send {"image": "data:image/png;base64,…"}.',
      });
    }
    const body = request as Record<string, unknown>;
    const unknown = Object.keys(body).filter((key) => key !== "image" && key !== "top_k");
    if (unknown.length > 0) {
      throw new UserError(`Unknown field ${unknown.map((k) => `'${k}'`).join(", ")} in the request.`, {
        hint: "This model accepts 'image' and 'top_k', or raw tensors named after its inputs.",
      });
    }
    readTopK(body, undefined);
    const batched = Array.isArray(body.image);
    const values = batched ? (body.image as unknown[]) : [body.image];
    if (values.length === 0 || values.length > maxBatchItems) {
      throw new UserError(`'image' must hold 1 to ${maxBatchItems} images, got ${values.length}.`, {
        hint: "Send one image, or a list of images of at most that length.",
      });
    }
    const settings = imageSettings(context);
    const size = settings.channels * settings.width * settings.height;
    const data =
      settings.dtype === "uint8"
        ? new Uint8Array(size * values.length)
        : new Float32Array(size * values.length);
    for (let i = 0; i < values.length; i++) {
      const field = batched ? `image[${i}]` : "image";
      const image = await decodeImage(await imageBytes(values[i], context.origin, field), field);
      data.set(await imageToTensorData(image, settings), i * size);
    }
    const dims =
      settings.layout === "nchw"
        ? [values.length, settings.channels, settings.height, settings.width]
        : [values.length, settings.height, settings.width, settings.channels];
    const tensor = new ort.Tensor(settings.dtype, data, dims);
    return { feeds: { [settings.inputName]: tensor }, state: { batched, count: values.length, body } };
  },
  postprocess(outputs, prepared, context) {
    const topK = readTopK(prepared.state.body, context.config.postprocessing?.top_k ?? 5) as number;
    const rows = classifyRows(outputs, context, prepared.state.count).map((scores) => scores.slice(0, topK));
    return prepared.state.batched ? rows : rows[0];
  },
};
