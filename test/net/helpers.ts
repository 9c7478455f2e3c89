import { parseConfig } from '../../src/config/load.ts';
import type { RemoteWriteConfig } from '../../src/config/types.ts';
import { at } from '../helpers/defined.ts';

/** The first remote_write entry of a config made of `entry` (YAML lines of one remote_write item, indented by 4). */
export function rwConfig(entry: string): RemoteWriteConfig {
  return at(parseConfig(`remote_write:\n  - ${entry.trimStart()}\n`, 'test.yml').remoteWrite, 0, 'remote_write');
}
