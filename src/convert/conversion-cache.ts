import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../util/fs-atomic.js";
import type { ConversionReport, ConvertResult, Snapshot } from "./converter.js";

/** Bump when the bridge's output changes so older conversions are redone. */
const conversionFormat = 1;

/** What a conversion depends on: the source (commit, or file sizes and dates for a folder) and the options. */
export async function conversionKey(
  snapshot: Snapshot,
  converter: string,
  options: { task: string; opset: number; atol: number; optimize: boolean },
): Promise<string> {
  const source = snapshot.commit
    ? { repo: snapshot.repoId, commit: snapshot.commit }
    : await Promise.all(
        snapshot.files.map(async (file) => {
          const info = await stat(join(snapshot.dir, file));
          return [file, info.size, info.mtimeMs];
        }),
      );
  const material = JSON.stringify({ conversionFormat, converter, source, ...options });
  return createHash("sha256").update(material).digest("hex");
}

/** Name of the record kept beside the converted model. */
export const conversionRecordName = "conversion.json";

interface ConversionRecord {
  key: string;
  onnx: string;
  report: ConversionReport;
}

/** Where `gpux convert FOLDER` writes by default, and where `gpux run FOLDER` finds what it wrote. */
export const defaultConversionDir = (folder: string) => join(folder, ".gpux", "onnx");

/** The last conversion written into outDir (whatever its options), if its record and model are still there. */
export async function readConversion(outDir: string): Promise<(ConvertResult & { key: string }) | undefined> {
  let record: ConversionRecord;
  try {
    record = JSON.parse(await readFile(join(outDir, conversionRecordName), "utf8")) as ConversionRecord;
  } catch {
    return undefined;
  }
  const onnxPath = join(outDir, record.onnx);
  const present = await stat(onnxPath).then(
    (info) => info.isFile(),
    () => false,
  );
  return present ? { key: record.key, onnxPath, report: record.report } : undefined;
}

/** The earlier result for this key, if its record and model are still in outDir. */
export async function readCachedConversion(outDir: string, key: string): Promise<ConvertResult | undefined> {
  const found = await readConversion(outDir);
  if (found?.key !== key) return undefined;
  return { onnxPath: found.onnxPath, report: { ...found.report, cached: true } };
}

export async function writeConversionRecord(
  outDir: string,
  key: string,
  result: ConvertResult,
): Promise<void> {
  const record: ConversionRecord = {
    key,
    onnx: result.onnxPath.slice(outDir.length + 1),
    report: result.report,
  };
  await writeFileAtomic(join(outDir, conversionRecordName), `${JSON.stringify(record, null, 2)}\n`);
}
