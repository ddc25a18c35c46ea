import { UserError } from "../../util/errors.js";
import type { PipelineContext } from "../pipeline.js";

export type ResizeMode = "exact" | "shortest_edge" | "fixed_height";

/** Everything that turns decoded pixels into the model's input tensor. */
export interface ImageSettings {
  /** Target of the resize, in pixels; undefined: no resize. */
  resize?:
    | { width: number; height: number; mode: ResizeMode }
    | { shortestEdge: number; mode: "shortest_edge" };
  /** Sharp kernel (from preprocessor_config.json `resample`). */
  kernel: "nearest" | "linear" | "cubic" | "lanczos3";
  crop?: { width: number; height: number };
  rescale: number;
  mean: number[];
  std: number[];
  bgr: boolean;
  layout: "nchw" | "nhwc";
  channels: number;
  /** Final width and height of the tensor. */
  width: number;
  height: number;
  dtype: "float32" | "uint8";
}

const presets: Record<string, { mean: number[]; std: number[] }> = {
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  clip: { mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] },
  inception: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  none: { mean: [0, 0, 0], std: [1, 1, 1] },
};

type Json = Record<string, unknown>;

function sizeOf(value: unknown): { width: number; height: number } | undefined {
  if (typeof value === "number") return { width: value, height: value };
  if (value && typeof value === "object") {
    const v = value as Json;
    if (typeof v.height === "number" && typeof v.width === "number")
      return { width: v.width, height: v.height };
  }
  return undefined;
}

/** [width, height] or a single number, as gpux.yml writes sizes. */
function ymlSize(value: number | [number, number]): { width: number; height: number } {
  return typeof value === "number" ? { width: value, height: value } : { width: value[0], height: value[1] };
}

/** Layout, channels and fixed size from the model's image input ([N,C,H,W] or [N,H,W,C]). */
function inputLayout(context: PipelineContext) {
  const input = context.inputs[0];
  const shape = input?.shape ?? [];
  if (!input || shape.length !== 4) {
    throw new UserError(
      `An image model needs one input of rank 4 ([batch, 3, height, width]); got ${input?.name ?? "none"}.`,
      {
        hint: "Send raw tensors instead, or fix `task:` in gpux.yml.",
      },
    );
  }
  const dim = (i: number) =>
    typeof shape[i] === "number" && (shape[i] as number) > 0 ? (shape[i] as number) : undefined;
  const nhwc = (dim(3) === 3 || dim(3) === 1) && dim(1) !== 3 && dim(1) !== 1;
  const channels = (nhwc ? dim(3) : dim(1)) ?? 3;
  const height = nhwc ? dim(1) : dim(2);
  const width = nhwc ? dim(2) : dim(3);
  if (input.dtype !== "float32" && input.dtype !== "uint8") {
    throw new UserError(`Image input '${input.name}' is ${input.dtype}; gpux feeds float32 or uint8 images.`);
  }
  return {
    name: input.name,
    layout: nhwc ? ("nhwc" as const) : ("nchw" as const),
    channels,
    width,
    height,
    dtype: input.dtype,
  };
}

/** Merge preprocessor_config.json (transformers' image processor) with gpux.yml `preprocessing` (wins). */
export function imageSettings(context: PipelineContext): ImageSettings & { inputName: string } {
  return context.files.once("image", () => readImageSettings(context));
}

function readImageSettings(context: PipelineContext): ImageSettings & { inputName: string } {
  const layout = inputLayout(context);
  const processor = context.files.json("preprocessor_config.json") ?? {};
  const yml = context.config.preprocessing ?? {};
  let resize: ImageSettings["resize"];
  const size = processor.size as Json | number | undefined;
  if (processor.do_resize !== false && size !== undefined) {
    const shortest = typeof size === "object" ? size.shortest_edge : undefined;
    if (typeof shortest === "number") resize = { shortestEdge: shortest, mode: "shortest_edge" };
    else {
      const exact = sizeOf(size);
      if (exact) resize = { ...exact, mode: "exact" };
    }
  }
  if (yml.resize !== undefined) {
    const mode = yml.resize_mode ?? (typeof yml.resize === "number" ? "shortest_edge" : "exact");
    const target = ymlSize(yml.resize);
    resize = mode === "shortest_edge" ? { shortestEdge: target.width, mode } : { ...target, mode };
  }
  let crop = processor.do_center_crop === true ? sizeOf(processor.crop_size) : undefined;
  if (yml.center_crop !== undefined) crop = ymlSize(yml.center_crop);
  if (!resize && layout.width && layout.height)
    resize = { width: layout.width, height: layout.height, mode: "exact" };
  const width = crop?.width ?? (resize && "width" in resize ? resize.width : layout.width);
  const height = crop?.height ?? (resize && "height" in resize ? resize.height : layout.height);
  if (!width || !height) {
    throw new UserError("The image size is unknown: the model's input has no fixed height and width.", {
      hint: "Set preprocessing.resize: [width, height] in gpux.yml.",
    });
  }
  let norm = presets.none as { mean: number[]; std: number[] };
  if (
    processor.do_normalize === true &&
    Array.isArray(processor.image_mean) &&
    Array.isArray(processor.image_std)
  ) {
    norm = { mean: processor.image_mean as number[], std: processor.image_std as number[] };
  }
  const normalize = yml.normalize;
  if (normalize === true) norm = presets.imagenet as typeof norm;
  else if (normalize === false) norm = presets.none as typeof norm;
  else if (typeof normalize === "string") norm = presets[normalize] as typeof norm;
  else if (normalize) norm = normalize;
  const resample = processor.resample;
  const kernel =
    resample === 0 ? "nearest" : resample === 2 ? "linear" : resample === 1 ? "lanczos3" : "cubic";
  const rescale =
    yml.rescale ??
    (processor.do_rescale === false
      ? 1
      : typeof processor.rescale_factor === "number"
        ? processor.rescale_factor
        : 1 / 255);
  return {
    inputName: layout.name,
    resize,
    kernel,
    crop,
    rescale: layout.dtype === "uint8" ? 1 : rescale,
    mean: layout.dtype === "uint8" ? [0, 0, 0] : norm.mean,
    std: layout.dtype === "uint8" ? [1, 1, 1] : norm.std,
    bgr: yml.channels === "bgr",
    layout: layout.layout,
    channels: layout.channels,
    width,
    height,
    dtype: layout.dtype,
  };
}
