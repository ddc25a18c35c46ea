import type { ConversionReport } from "../convert/converter.js";
import type { Manifest } from "../store/manifest.js";
import { ModelStore, type StoreEntry } from "../store/model-store.js";

/** A store entry as the use cases write it: its conversion record is the converter's report. */
export type PulledEntry = StoreEntry<ConversionReport>;
export type PulledManifest = Manifest<ConversionReport>;

/** gpux's store holding pulled models, at `home`. */
export const pulledStore = (home: string) => new ModelStore<ConversionReport>(home);
