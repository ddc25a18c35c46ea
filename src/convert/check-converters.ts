import { GpuxError } from "../util/errors.js";
import { pipCommand, pythonCommand, runBridge } from "./python-bridge.js";

export interface ConverterStatus {
  name: string;
  usable: boolean;
  /** pip names of the packages it lacks. */
  missing: string[];
  /** Installed versions of what it needs. */
  versions: Record<string, string>;
  /** The command that makes it usable; absent when it already is. */
  fix?: string;
  note?: string;
}

export interface ConverterHealth {
  /** The interpreter asked (GPUX_PYTHON, else python3). */
  pythonCommand: string;
  python?: { executable: string; version: string };
  /** Why Python could not be asked, when it could not. */
  pythonError?: string;
  converters: ConverterStatus[];
}

interface DoctorAnswer {
  python: string;
  python_version: string;
  /** PEP 668: pip refuses system-wide installs into this interpreter. */
  externally_managed?: boolean;
  converters: Record<string, { available: Record<string, string>; missing: string[] }>;
}

const notes: Record<string, string> = {
  pytorch: "transformers checkpoints (safetensors, pytorch_model.bin)",
  keras: "Keras .keras and Keras .h5 files, with Keras 3 on torch (no TensorFlow needed)",
  tensorflow: "SavedModel and transformers' tf_model.h5 (needs tensorflow and tf2onnx)",
};

/** Model formats no converter reads (docs/guides/conversion.md says the same). */
export const unsupportedFormats =
  "TensorFlow Lite (.tflite), TensorFlow.js, JAX/Flax (flax_model.msgpack), " +
  "subclassed Keras models without declared inputs";

/** Which converters work with this machine's Python, and the pip command for those that do not. */
export async function checkConverters(): Promise<ConverterHealth> {
  const passthrough: ConverterStatus = {
    name: "passthrough",
    usable: true,
    missing: [],
    versions: {},
    note: "repos that already ship ONNX (no Python needed)",
  };
  let answer: DoctorAnswer;
  try {
    answer = (await runBridge("doctor", {})) as unknown as DoctorAnswer;
  } catch (error) {
    const reason = error instanceof GpuxError ? error.message : String(error);
    return {
      pythonCommand: pythonCommand(),
      pythonError: reason,
      converters: [
        passthrough,
        ...Object.keys(notes).map((name) => ({
          name,
          usable: false,
          missing: ["python3"],
          versions: {},
          fix: "install Python 3, or set GPUX_PYTHON to one",
          note: notes[name],
        })),
      ],
    };
  }
  const converters = Object.entries(answer.converters).map(([name, status]) => ({
    name,
    usable: status.missing.length === 0,
    missing: status.missing,
    versions: status.available,
    ...(status.missing.length > 0 ? { fix: pipCommand(status.missing, answer.externally_managed) } : {}),
    note: notes[name],
  }));
  return {
    pythonCommand: pythonCommand(),
    python: { executable: answer.python, version: answer.python_version },
    converters: [passthrough, ...converters],
  };
}
