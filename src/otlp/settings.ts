import type { OtlpConfig } from '../config/types.ts';
import type { OtlpSettings } from './translate.ts';

/** Prometheus' default --query.lookback-delta, which 3.x uses to space target_info samples. */
const LOOKBACK_DELTA_MS = 5 * 60_000;

/** The translation settings for the `otlp:` block in force and the delta feature flag. */
export function otlpSettings(cfg: OtlpConfig, nativeDelta: boolean): OtlpSettings {
  return { ...cfg, allowDeltaTemporality: nativeDelta, lookbackDeltaMs: LOOKBACK_DELTA_MS };
}
