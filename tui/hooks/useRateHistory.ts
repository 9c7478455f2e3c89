import { useRef } from 'react';
import type { StatusSnapshot } from '../../src/status/types.ts';
import { RateHistory } from '../history.ts';

export function useRateHistory(snapshot: StatusSnapshot): RateHistory {
  const ref = useRef<RateHistory | null>(null);
  ref.current ??= new RateHistory();
  ref.current.observe(snapshot);
  return ref.current;
}
