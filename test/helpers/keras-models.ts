import { join } from "node:path";
import { repoRoot } from "./cli.js";
import { generatedFixtureDir } from "./generated-fixture.js";

const script = join(repoRoot, "test", "fixtures", "make_keras_models.py");

/** The folders make_keras_models.py writes: one Keras model saved as .keras and as Keras .h5. */
export const kerasModelNames = ["keras-file", "keras-h5"] as const;

/** Where the tiny Keras models are, generated once per version of the script (test-output/keras-models-<hash>/). */
export function kerasModelsDir(): string {
  return generatedFixtureDir("keras-models", script);
}
