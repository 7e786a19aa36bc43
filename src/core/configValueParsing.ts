import type { ConfigValue } from './profileModel';

/** Reads a `--set KEY=VALUE` value the way YAML would: true/false and plain numbers keep their type. */
export function parseConfigValue(text: string): ConfigValue {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(text) && Number.isSafeInteger(Math.trunc(Number(text)))) return Number(text);
  return text;
}
