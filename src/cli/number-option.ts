import { Option } from "commander";
import { type NumberRule, parseNumberSetting } from "../util/settings.js";

export interface NumberOptionSpec extends NumberRule {
  /** The default, shown in --help as "(default: …)" and handed to the action when the flag is absent. */
  default?: number;
  /** How the default reads in --help when the number alone would not say it (e.g. "16 MiB"). */
  defaultText?: string;
  /** The advice when the value is refused; default: what the flag accepts. */
  hint?: string;
}

/**
 * A numeric flag, parsed and checked when commander reads it: every command's numbers go through this one
 * parser, so `--port abc` and `--runs 0` fail the same way (message and hint, exit 1) before any work starts.
 */
export function numberOption(flags: string, description: string, spec: NumberOptionSpec): Option {
  const option = new Option(flags, description);
  const name = option.long ?? flags;
  option.argParser((value: string) => parseNumberSetting(value, name, spec, spec.hint));
  if (spec.default !== undefined) option.default(spec.default, spec.defaultText);
  return option;
}
