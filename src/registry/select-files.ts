import picomatch from "picomatch";
import { findOnnxFile, listOnnxVariants } from "../convert/onnx-variants.js";
import { NotFoundError, UserError } from "../util/errors.js";

/** Small files every pull takes when the repo has them (root of the repo only). */
export const companionFiles = [
  "config.json",
  "generation_config.json",
  "genai_config.json",
  "chat_template.jinja",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
  "vocab.txt",
  "vocab.json",
  "merges.txt",
  "tokenizer.model",
  "spiece.model",
  "sentencepiece.bpe.model",
  "preprocessor_config.json",
  "processor_config.json",
  "modules.json",
  "sentence_bert_config.json",
  "config_sentence_transformers.json",
  "README.md",
];

export interface FileSelection {
  /** Repo paths to fetch. */
  files: string[];
  /** What the model is: the ONNX variant taken, or the checkpoint format the converter will read. */
  format: "onnx" | "safetensors" | "pytorch" | "keras" | "tensorflow" | "none";
  /** The ONNX file chosen, when format is onnx. */
  onnxFile?: string;
}

export interface SelectFilesOptions {
  /** ONNX variant; default fp32. Asking for one the repo lacks is an error when it has other ONNX files. */
  variant?: string;
  /** Globs (picomatch) of extra files to take. */
  include?: string[];
  /** Globs of files never to take (wins over everything else). */
  exclude?: string[];
}

/** External data beside an ONNX file: `model.onnx_data`, `model.onnx.data`, `model.onnx_data_1` … */
export function externalDataOf(onnxFile: string, paths: readonly string[]): string[] {
  return paths.filter((p) => p.startsWith(`${onnxFile}_data`) || p.startsWith(`${onnxFile}.data`));
}

const atRoot = (path: string) => !path.includes("/");

function weights(paths: readonly string[]): Pick<FileSelection, "files" | "format"> {
  const safetensors = paths.filter((p) => atRoot(p) && p.endsWith(".safetensors"));
  if (safetensors.length > 0)
    return {
      format: "safetensors",
      files: [...safetensors, ...paths.filter((p) => p === "model.safetensors.index.json")],
    };
  const bin = paths.filter((p) => atRoot(p) && /^pytorch_model.*\.bin$/.test(p));
  if (bin.length > 0)
    return {
      format: "pytorch",
      files: [...bin, ...paths.filter((p) => p === "pytorch_model.bin.index.json")],
    };
  const keras = kerasFile(paths);
  if (keras) return { format: "keras", files: [keras] };
  if (paths.includes("tf_model.h5")) return { format: "tensorflow", files: ["tf_model.h5"] };
  return { format: "none", files: [] };
}

/**
 * The one Keras model file to convert: a `.keras` at the root, else a Keras `.h5` (not transformers'
 * tf_model.h5, which is TensorFlow's; not a Keras 3 `*.weights.h5`, which holds weights without the model).
 * One file, so the converter has no choice to make. Before tf_model.h5: Keras converts with Keras 3 on
 * torch, while TensorFlow's formats need tf2onnx.
 */
function kerasFile(paths: readonly string[]): string | undefined {
  const atTop = paths.filter(atRoot).sort();
  return (
    atTop.find((p) => p.endsWith(".keras")) ??
    atTop.find((p) => p.endsWith(".h5") && p !== "tf_model.h5" && !p.endsWith(".weights.h5"))
  );
}

/**
 * Choose the files of a repo that gpux needs, not the whole repo: a ready ONNX model (the asked variant plus
 * its external data) when there is one, else the checkpoint a converter reads (safetensors over
 * pytorch_model.bin over a Keras .keras/.h5 over tf_model.h5), plus config, tokenizer, preprocessor files
 * and the model card.
 */
export function selectFiles(paths: readonly string[], options: SelectFilesOptions = {}): FileSelection {
  const variant = options.variant ?? "fp32";
  const onnxFile = findOnnxFile(paths, variant);
  const offered = listOnnxVariants(paths);
  if (!onnxFile && options.variant && offered.length > 0) {
    throw new NotFoundError(
      `The repo has no ONNX model for variant '${variant}' (it offers ${offered.join(", ")}).`,
      {
        hint: "Pass one of those with --variant.",
      },
    );
  }
  // a converted checkpoint is fp32: any other variant would be silently ignored, so it is refused
  if (!onnxFile && options.variant && variant !== "fp32" && offered.length === 0) {
    throw new UserError(
      `--variant ${variant} picks one of a repo's ONNX files, and this repo has none: gpux converts its checkpoint, in fp32.`,
      { hint: "Leave out --variant (or pass --variant fp32)." },
    );
  }
  const model: Pick<FileSelection, "files" | "format"> = onnxFile
    ? { format: "onnx", files: [onnxFile, ...externalDataOf(onnxFile, paths)] }
    : weights(paths);
  const companions = paths.filter(
    (p) => companionFiles.includes(p) || /^\d+_[A-Za-z]+\/config\.json$/.test(p),
  );
  const isIncluded = options.include?.length ? picomatch(options.include, { dot: true }) : undefined;
  const included = isIncluded ? paths.filter((p) => isIncluded(p)) : [];
  const excluded = options.exclude?.length ? picomatch(options.exclude, { dot: true }) : () => false;
  const files = [...new Set([...model.files, ...companions, ...included])].filter((p) => !excluded(p));
  return {
    files,
    format: model.format,
    onnxFile: onnxFile && files.includes(onnxFile) ? onnxFile : undefined,
  };
}
