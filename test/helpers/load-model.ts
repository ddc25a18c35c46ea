import { loadConfig } from "../../src/config/load-config.js";
import { Model } from "../../src/engine/model.js";

/** Open the model of a folder holding gpux.yml, as `gpux run` does. */
export async function loadModel(dir: string, origin: "cli" | "http" = "http"): Promise<Model> {
  return Model.load(await loadConfig(`${dir}/gpux.yml`), { origin });
}
