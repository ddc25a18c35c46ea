import { envSettings } from "../util/settings.js";

/** gpux's own folder: $GPUX_HOME, default ~/.gpux. */
export const gpuxHome = envSettings.gpuxHome;
