import type { ConfigValue } from '../core/profileModel';

export type ConfigurationCategory = 'Logging' | 'Trading' | 'API' | 'System';

/** Which category a configuration key belongs to, by what its name says. */
export function categoryOf(key: string): ConfigurationCategory {
  const k = key.toLowerCase();
  if (/log|trace|debug|verbose/.test(k)) return 'Logging';
  if (/api|endpoint|url|key|secret|token|credential|sandbox/.test(k)) return 'API';
  if (/trad|order|position|strateg|risk|symbol|leverage|stop|profit|exchange|market|drawdown/.test(k)) return 'Trading';
  return 'System';
}

/** The configuration grouped by category, in a fixed order, keys sorted. */
export function groupConfiguration(configurations: Record<string, ConfigValue>): [ConfigurationCategory, [string, ConfigValue][]][] {
  const order: ConfigurationCategory[] = ['Logging', 'Trading', 'API', 'System'];
  const groups = new Map<ConfigurationCategory, [string, ConfigValue][]>();
  for (const entry of Object.entries(configurations).sort(([a], [b]) => a.localeCompare(b))) {
    const category = categoryOf(entry[0]);
    groups.set(category, [...(groups.get(category) ?? []), entry]);
  }
  return order.filter((c) => groups.has(c)).map((c) => [c, groups.get(c) as [string, ConfigValue][]]);
}
